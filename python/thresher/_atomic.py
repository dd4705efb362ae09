"""Atomic file replacement for everything the Python side writes (models, runs, exports).

The Rust core writes indexes the same way (temp file, fsync, rename): a crash or an error in
the middle of a write leaves the previous file whole, never a truncated one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def _fsync(path: str | os.PathLike[str], flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a temporary path beside ``path`` to write to; on success the temporary file is
    flushed to disk and renamed over ``path`` (and the folder synced), on error it is removed
    and ``path`` is left as it was."""
    p = Path(path)
    # Unique per writer (as the Rust side's): two processes writing one path at once must not
    # write into the same temporary file.
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}-{time.time_ns()}")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if str(tmp) in (e.filename, e.filename2):
            # Name the file the caller asked for, not our temporary one.
            raise type(e)(e.errno, e.strerror, str(p)) from e
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Some file systems cannot sync a folder; the rename is done anyway.
    with suppress(OSError):
        _fsync(p.parent)

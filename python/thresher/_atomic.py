"""Atomic file replacement for everything the Python side writes (models, runs, exports).

The Rust core writes indexes the same way (temp file, fsync, rename): a crash or an error in
the middle of a write leaves the previous file whole, never a truncated one.
"""

from __future__ import annotations

import os
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
    tmp = p.with_name(p.name + ".tmp")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Some file systems cannot sync a folder; the rename is done anyway.
    with suppress(OSError):
        _fsync(p.parent)

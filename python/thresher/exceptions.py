"""thresher's exceptions.

``ThresherError`` is the base of thresher's own errors:

- ``IndexCorruptedError``: an index file is damaged (bad magic number, checksum mismatch,
  truncation, inconsistent content).
- ``IncompatibleIndexError``: the index was written in a format version this thresher cannot
  read (for example by a newer thresher).

Bad arguments raise the built-in ``ValueError`` / ``TypeError``; I/O problems raise
``FileNotFoundError``, ``PermissionError`` or ``OSError``.
"""

from thresher._core import IncompatibleIndexError, IndexCorruptedError, ThresherError

__all__ = ["IncompatibleIndexError", "IndexCorruptedError", "ThresherError"]

"""What reading a damaged ``.npz`` (a zip of ``.npy`` members) can raise, for the model
loaders that turn it into their own "not a readable model file" error."""

from __future__ import annotations

import zipfile
import zlib

#: Errors of ``np.load`` and of reading its members on a damaged or foreign file.
NPZ_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,  # a damaged compressed member
    NotImplementedError,  # a damaged compression-method field
    RuntimeError,  # a damaged flag field ("encrypted")
    OSError,
    ValueError,
    EOFError,
    KeyError,
)


def error_name(e: BaseException) -> str:
    """``zlib.error`` for zlib's error class (its own name is just ``error``)."""
    return "zlib.error" if isinstance(e, zlib.error) else type(e).__name__

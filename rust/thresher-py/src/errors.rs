//! The Python exception hierarchy and the one mapping from core errors to it.
//!
//! ```text
//! ThresherError(Exception)
//! ├── IndexCorruptedError        damaged file: bad magic, checksum, truncation, inconsistency
//! └── IncompatibleIndexError     written in a format version this build cannot read
//! ```
//! Argument problems map to `ValueError`, I/O problems by `ErrorKind` to `FileNotFoundError`,
//! `PermissionError` or `OSError`. The `match` below is exhaustive, so a new core variant does
//! not compile until it is mapped.

use pyo3::exceptions::{
    PyException, PyFileNotFoundError, PyOSError, PyPermissionError, PyValueError,
};
use pyo3::prelude::*;
use thresher_core::Error;

pyo3::create_exception!(
    thresher._core,
    ThresherError,
    PyException,
    "Base class of thresher's own errors."
);
pyo3::create_exception!(
    thresher._core,
    IndexCorruptedError,
    ThresherError,
    "An index file is damaged (bad magic number, checksum mismatch, truncation, inconsistent content)."
);
pyo3::create_exception!(
    thresher._core,
    IncompatibleIndexError,
    ThresherError,
    "The index was written in a format version this thresher cannot read."
);

/// Wrapper so core errors convert with `?` in binding code.
pub struct CoreError(pub Error);

impl From<Error> for CoreError {
    fn from(e: Error) -> Self {
        CoreError(e)
    }
}

impl From<CoreError> for PyErr {
    fn from(CoreError(e): CoreError) -> PyErr {
        let msg = e.to_string();
        match e {
            Error::Io { path, source } => {
                // Python's (errno, strerror, filename) form, so str(e) reads
                // "[Errno 2] No such file or directory: '/path'".
                let errno = source.raw_os_error().unwrap_or(match source.kind() {
                    std::io::ErrorKind::NotFound => 2,
                    std::io::ErrorKind::PermissionDenied => 13,
                    // EAGAIN (Linux; macOS 35): Python raises BlockingIOError for it.
                    std::io::ErrorKind::WouldBlock => {
                        if cfg!(target_os = "macos") {
                            35
                        } else {
                            11
                        }
                    }
                    _ => 0,
                });
                let text = source.to_string();
                let strerror = match text.rfind(" (os error ") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                let args = (errno, strerror, path.display().to_string());
                match source.kind() {
                    std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
                    std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
                    _ => PyOSError::new_err(args),
                }
            }
            Error::Corrupted { .. } => IndexCorruptedError::new_err(msg),
            Error::IncompatibleFormat { .. } => IncompatibleIndexError::new_err(msg),
            Error::InvalidArgument(_) | Error::InvalidData(_) => PyValueError::new_err(msg),
        }
    }
}

/// Result alias for binding code.
pub type CoreResult<T> = Result<T, CoreError>;

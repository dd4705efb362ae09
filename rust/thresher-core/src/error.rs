//! The one error type of thresher-core.
//!
//! Every fallible function in the crate returns [`Result`]. The binding crate maps each
//! variant to one Python exception class (see `rust/thresher-py/src/errors.rs`), so adding a
//! variant here fails to compile there until it is mapped.

use std::ops::RangeInclusive;
use std::path::PathBuf;

/// Result alias used throughout thresher-core.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in thresher-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system I/O error on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error (its `kind()` decides the Python exception).
        #[source]
        source: std::io::Error,
    },
    /// A file of an index is damaged: bad magic, checksum mismatch, truncation, or
    /// inconsistent content.
    #[error("index file {path} is corrupted: {detail}")]
    Corrupted {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The index was written in a format version this library cannot read.
    #[error(
        "index at {path} has format version {found}, but this thresher reads versions {}..={}; {hint}",
        supported.start(), supported.end()
    )]
    IncompatibleFormat {
        /// The index directory or file.
        path: PathBuf,
        /// The version found on disk.
        found: u32,
        /// The versions this build can read.
        supported: RangeInclusive<u32>,
        /// What to do about it.
        hint: String,
    },
    /// A caller passed an argument that cannot be used (bad value, empty corpus, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// Input data (a corpus file, a JSON line, ...) is malformed.
    #[error("{0}")]
    InvalidData(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid_argument(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Shorthand for [`Error::Corrupted`].
    pub fn corrupted(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Corrupted {
            path: path.into(),
            detail: detail.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Extension to attach a path to `std::io::Result`s.
pub(crate) trait IoContext<T> {
    /// Converts the error into [`Error::Io`] naming `path`.
    fn with_path(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn with_path(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

//! thresher-core: text analysis, immutable inverted-index segments, BM25-family scoring and
//! exact top-k retrieval. Pure Rust; the Python binding lives in `rust/thresher-py`.
//!
//! Map of the crate:
//! - [`analysis`]: text -> terms (Lucene-compatible English analyzer).
//! - [`error`]: the one error enum.

pub mod analysis;
pub mod error;
pub mod types;

pub use error::{Error, Result};

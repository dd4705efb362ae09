//! thresher-core: text analysis, immutable inverted-index segments, BM25-family scoring and
//! exact top-k retrieval. Pure Rust; the Python binding lives in `rust/thresher-py`.
//!
//! Map of the crate:
//! - [`analysis`]: text -> terms (Lucene-compatible English analyzer).
//! - [`corpus`]: reading BEIR / JSONL corpora.
//! - [`index`]: building, saving, loading and searching an [`Index`] of immutable segments.
//! - [`postings`]: compressed posting lists (128-posting SIMD bit-packed blocks with skip
//!   data and block-max frontiers) and the cursor traits the query algorithms walk.
//! - [`score`]: BM25 variants, TF-IDF, learned term weights and impact scoring.
//! - [`query`]: query representation, [`query::TopK`] and the query algorithms.
//! - [`format`]: the on-disk container (header, footer, CRC32, atomic writes).
//! - [`error`]: the one error enum.
//! - [`cpu`]: runtime dispatch of the query algorithms to AVX2 / AVX-512 builds.

pub mod analysis;
pub mod corpus;
pub mod cpu;
pub mod error;
pub mod format;
mod hash;
pub mod index;
mod memo;
pub mod pool;
pub mod postings;
mod prefetch;
pub mod query;
pub mod score;
pub mod types;

pub use analysis::{Analyzer, AnalyzerConfig, StemmerKind};
pub use error::{Error, Result};
pub use index::{DocInput, ImpactBuilder, Index, IndexBuilder, LoadOptions};
pub use query::{Algorithm, DocFilter, Query, QueryInput, SearchOptions};
pub use score::{ImpactQuantization, ScoringConfig, ScoringKind};

/// Version of this library (written into every index's `meta.json`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

//! Query representation and query processing.
//!
//! A [`Query`] is a list of unique terms with weights, sorted by term bytes: that order is the
//! canonical summation order of per-term scores, so every algorithm adds the same floats in the
//! same order and returns identical scores. Repeated terms are merged by adding weights, as
//! Anserini's bag-of-words query (a `BoostQuery` per unique term, boost = count) does.

pub mod bmw;
pub mod exhaustive;
pub mod filter;
pub mod maxscore;
pub mod prepared;
pub mod topk;

pub use filter::DocFilter;
pub use prepared::Prepared;
pub use topk::TopK;

use crate::analysis::Analyzer;
use crate::error::{Error, Result};

/// How a query arrives.
#[derive(Debug, Clone, Copy)]
pub enum QueryInput<'a> {
    /// Text, analysed by the index's analyzer.
    Text(&'a str),
    /// Pre-analysed terms (each occurrence weighs 1).
    Tokens(&'a [String]),
    /// Terms with explicit weights.
    Weighted(&'a [(String, f32)]),
}

/// Unique weighted terms in canonical order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    terms: Vec<(String, f32)>,
}

impl Query {
    /// Builds a query from input.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a NaN, infinite or negative weight.
    pub fn new(input: QueryInput<'_>, analyzer: &Analyzer) -> Result<Self> {
        let mut terms: Vec<(String, f32)> = match input {
            QueryInput::Text(t) => analyzer.analyze(t).into_iter().map(|t| (t, 1.0)).collect(),
            QueryInput::Tokens(ts) => ts.iter().map(|t| (t.clone(), 1.0)).collect(),
            QueryInput::Weighted(ws) => {
                for (t, w) in ws {
                    if !w.is_finite() || *w < 0.0 {
                        return Err(Error::invalid_argument(format!(
                            "query term {t:?} has weight {w}; weights must be finite and >= 0"
                        )));
                    }
                }
                ws.to_vec()
            }
        };
        terms.retain(|(t, w)| !t.is_empty() && *w > 0.0);
        terms.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut merged: Vec<(String, f32)> = Vec::with_capacity(terms.len());
        for (t, w) in terms {
            match merged.last_mut() {
                Some((last, lw)) if *last == t => *lw += w,
                _ => merged.push((t, w)),
            }
        }
        Ok(Self { terms: merged })
    }

    /// The terms and weights in canonical order.
    pub fn terms(&self) -> &[(String, f32)] {
        &self.terms
    }

    /// True when no term is left (the query matches nothing).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// The top-k algorithms. All return exactly the same hits and scores (ties included); they
/// differ only in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Picks one of the others per query ([`Algorithm::resolve`]).
    #[default]
    Auto,
    /// Block-max MaxScore ([`maxscore`]).
    MaxScore,
    /// Block-max WAND ([`bmw`]).
    Bmw,
    /// Exhaustive term-at-a-time scoring ([`exhaustive`]).
    Exhaustive,
}

impl Algorithm {
    /// Names accepted by [`Algorithm::from_name`].
    pub const NAMES: [&'static str; 4] = ["auto", "maxscore", "bmw", "exhaustive"];

    /// Parses an algorithm name.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] listing the valid names.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "auto" => Self::Auto,
            "maxscore" => Self::MaxScore,
            "bmw" => Self::Bmw,
            "exhaustive" => Self::Exhaustive,
            other => {
                return Err(Error::invalid_argument(format!(
                    "unknown algorithm {other:?}; valid algorithms: {}",
                    Self::NAMES.join(", ")
                )))
            }
        })
    }

    /// Canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::MaxScore => "maxscore",
            Self::Bmw => "bmw",
            Self::Exhaustive => "exhaustive",
        }
    }

    /// The algorithm that runs `prep` for `k` hits.
    ///
    /// `Auto` runs exhaustive when the query's terms have at most
    /// [`AUTO_EXHAUSTIVE_POSTINGS`] postings in all, or at most [`AUTO_POSTINGS_PER_HIT`]
    /// postings per requested hit (`P <= max(20_000, 1_000 * k)`), or at most
    /// [`AUTO_SPREAD_POSTINGS`] postings of which no single term holds more than
    /// [`AUTO_SPREAD_SHARE`] (`P <= 150_000` and `max_df <= 0.7 * P`); block-max MaxScore
    /// otherwise (which itself switches to block-max WAND's block skipping for a single-term
    /// query); and always MaxScore when a segment holds more than [`AUTO_EXHAUSTIVE_MAX_DOCS`]
    /// documents. Measured per query with `examples/qps.rs --per-query` on SciFact, a 409k-passage
    /// prose collection and a 1M-document synthetic Zipf collection at k = 10, 100, 1000 (see
    /// ARCHITECTURE.md): below those sizes exhaustive's vectorised term-at-a-time pass beats the
    /// per-candidate cost of pruning. MaxScore wins when one frequent term holds most of the
    /// postings, as its list soon becomes non-essential and is only probed; when the postings
    /// are spread over several terms, few lists can be set aside and exhaustive stays faster up
    /// to a larger size. MaxScore beats block-max WAND on the 2-6-term queries measured.
    ///
    /// On impact indexes `Auto` always runs exhaustive: measured with
    /// `benches/impact_compare.py` data (SciFact expanded by `thresher.expand`, 300 queries, and
    /// a 1M-document synthetic impact corpus whose weights fall with term frequency, 2-6-term
    /// queries), exhaustive beat block-max MaxScore and block-max WAND at k = 10 and 1000 on
    /// both (1.4x to 4x; see ARCHITECTURE.md): learned weights leave common terms with block
    /// maxima close to the rare terms' typical weights, so little can be skipped.
    ///
    /// Pruning algorithms need non-negative scores, so a query with a negative-weight term
    /// (Robertson BM25, a term in more than half the documents) always runs exhaustively,
    /// whatever was asked: the results are identical by construction.
    pub fn resolve(self, prep: &Prepared<'_>, k: usize) -> Self {
        if !prep.prunable() {
            return Self::Exhaustive;
        }
        match self {
            Self::Auto if prep.impact => Self::Exhaustive,
            Self::Auto => {
                let budget =
                    AUTO_EXHAUSTIVE_POSTINGS.max((k as u64).saturating_mul(AUTO_POSTINGS_PER_HIT));
                let p = prep.total_postings;
                let spread = p <= AUTO_SPREAD_POSTINGS
                    && prep.max_term_postings as f64 <= AUTO_SPREAD_SHARE * p as f64;
                if prep.max_segment_docs <= AUTO_EXHAUSTIVE_MAX_DOCS && (p <= budget || spread) {
                    Self::Exhaustive
                } else {
                    Self::MaxScore
                }
            }
            other => other,
        }
    }
}

/// `auto` runs exhaustive for queries with at most this many postings ([`Algorithm::resolve`]).
pub const AUTO_EXHAUSTIVE_POSTINGS: u64 = 20_000;
/// ... or at most this many postings per requested hit ([`Algorithm::resolve`]).
pub const AUTO_POSTINGS_PER_HIT: u64 = 1_000;
/// ... or at most this many postings when no term holds more than [`AUTO_SPREAD_SHARE`] of
/// them ([`Algorithm::resolve`]).
pub const AUTO_SPREAD_POSTINGS: u64 = 150_000;
/// See [`AUTO_SPREAD_POSTINGS`].
pub const AUTO_SPREAD_SHARE: f64 = 0.7;
/// `auto` never runs exhaustive on a BM25-family index whose largest segment holds more
/// documents than this ([`Algorithm::resolve`]): its accumulators (4 bytes per document) no
/// longer fit in cache and every posting costs a cache miss. Measured per query with
/// `examples/qps.rs --per-query` on the 5M-document synthetic Zipf collection (1,000 queries,
/// k = 10 and 1000): MaxScore was faster than exhaustive in every band of query postings, from
/// under 1,000 (about 8x: the bitmap scan alone is 78k words) to over 100,000 (1.3x at
/// k = 1000). At 1M documents the rules above were measured to hold; the limit sits between.
pub const AUTO_EXHAUSTIVE_MAX_DOCS: u64 = 2_000_000;

/// How a search runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchOptions<'a> {
    /// Which algorithm (default: [`Algorithm::Auto`]).
    pub algorithm: Algorithm,
    /// Only these documents may be returned (default: all).
    pub allow: Option<&'a DocFilter>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::prepared::Prepared;

    fn prep(q: &Query, postings: u64, max_df: u64, docs: u64, impact: bool) -> Prepared<'_> {
        Prepared {
            query: q,
            scorers: Vec::new(),
            infos: Vec::new(),
            total_postings: postings,
            impact,
            max_term_postings: max_df,
            max_segment_docs: docs,
        }
    }

    #[test]
    fn auto_rule() {
        let q = Query::default();
        let auto =
            |p, max_df, docs, k| Algorithm::Auto.resolve(&prep(&q, p, max_df, docs, false), k);
        // Few postings, or few per requested hit: exhaustive...
        assert_eq!(auto(10_000, 9_000, 1_000_000, 10), Algorithm::Exhaustive);
        assert_eq!(
            auto(900_000, 800_000, 1_000_000, 1000),
            Algorithm::Exhaustive
        );
        // ... postings spread over several terms: exhaustive up to a larger size ...
        assert_eq!(auto(100_000, 40_000, 1_000_000, 10), Algorithm::Exhaustive);
        assert_eq!(auto(100_000, 90_000, 1_000_000, 10), Algorithm::MaxScore);
        assert_eq!(auto(500_000, 200_000, 1_000_000, 10), Algorithm::MaxScore);
        // ... but never on a segment beyond AUTO_EXHAUSTIVE_MAX_DOCS.
        assert_eq!(
            auto(10_000, 9_000, AUTO_EXHAUSTIVE_MAX_DOCS, 10),
            Algorithm::Exhaustive
        );
        assert_eq!(
            auto(10_000, 9_000, AUTO_EXHAUSTIVE_MAX_DOCS + 1, 10),
            Algorithm::MaxScore
        );
        assert_eq!(auto(900_000, 800_000, 5_000_000, 1000), Algorithm::MaxScore);
        // Impact indexes always run exhaustive; an explicit choice is kept.
        let big_impact = prep(&q, 10, 10, 5_000_000, true);
        assert_eq!(
            Algorithm::Auto.resolve(&big_impact, 10),
            Algorithm::Exhaustive
        );
        assert_eq!(Algorithm::Bmw.resolve(&big_impact, 10), Algorithm::Bmw);
    }
}

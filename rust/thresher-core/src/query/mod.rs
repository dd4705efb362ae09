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
    /// `Auto` chooses exhaustive when `k` is large relative to the postings to score
    /// (`k * 64 >= postings`: pruning then saves little and costs bookkeeping per candidate),
    /// else MaxScore. Pruning algorithms need non-negative scores, so a query with a
    /// negative-weight term (Robertson BM25, a term in more than half the documents) always
    /// runs exhaustively, whatever was asked: the results are identical by construction.
    pub fn resolve(self, prep: &Prepared<'_>, k: usize) -> Self {
        if !prep.prunable() {
            return Self::Exhaustive;
        }
        match self {
            Self::Auto => {
                if (k as u64).saturating_mul(64) >= prep.total_postings {
                    Self::Exhaustive
                } else {
                    Self::MaxScore
                }
            }
            other => other,
        }
    }
}

/// How a search runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchOptions<'a> {
    /// Which algorithm (default: [`Algorithm::Auto`]).
    pub algorithm: Algorithm,
    /// Only these documents may be returned (default: all).
    pub allow: Option<&'a DocFilter>,
}

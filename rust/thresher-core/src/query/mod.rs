//! Query representation and query processing.
//!
//! A [`Query`] is a list of unique terms with weights, sorted by term bytes: that order is the
//! canonical summation order of per-term scores, so every algorithm adds the same floats in the
//! same order and returns identical scores. Repeated terms are merged by adding weights, as
//! Anserini's bag-of-words query (a `BoostQuery` per unique term, boost = count) does.

pub mod exhaustive;
pub mod filter;
pub mod topk;

pub use filter::DocFilter;
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

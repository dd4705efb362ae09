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
use crate::index::terms::prefix_key;

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
///
/// The terms live back to back in one buffer: building a query allocates twice, not once per
/// term.
#[derive(Clone, Default)]
pub struct Query {
    /// The terms' bytes, back to back.
    text: String,
    /// Per unique term, in canonical order: its first 8 bytes as a big-endian integer
    /// ([`prefix_key`], which orders terms as their bytes do unless equal), its byte range in
    /// `text` and its weight.
    terms: Vec<(u64, usize, usize, f32)>,
}

impl Query {
    /// Builds a query from input.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a NaN, infinite or negative weight.
    pub fn new(input: QueryInput<'_>, analyzer: &Analyzer) -> Result<Self> {
        if let QueryInput::Weighted(ws) = input {
            if let Some((t, w)) = ws.iter().find(|(_, w)| !w.is_finite() || *w < 0.0) {
                return Err(Error::invalid_argument(format!(
                    "query term {t:?} has weight {w}; weights must be finite and >= 0"
                )));
            }
        }
        // Analysis seldom lengthens text (lowercasing a few non-ASCII letters can).
        let mut text = String::with_capacity(match input {
            QueryInput::Text(t) => t.len(),
            QueryInput::Tokens(ts) => ts.iter().map(String::len).sum(),
            QueryInput::Weighted(ws) => ws.iter().map(|(t, _)| t.len()).sum(),
        });
        let mut terms: Vec<(u64, usize, usize, f32)> = Vec::with_capacity(16);
        let mut push = |term: &str, w: f32| {
            if !term.is_empty() && w > 0.0 {
                let start = text.len();
                text.push_str(term);
                terms.push((prefix_key(term.as_bytes()), start, text.len(), w));
            }
        };
        match input {
            QueryInput::Text(t) => analyzer.analyze_each(t, |term| push(term, 1.0)),
            QueryInput::Tokens(ts) => ts.iter().for_each(|t| push(t, 1.0)),
            QueryInput::Weighted(ws) => ws.iter().for_each(|(t, w)| push(t, *w)),
        }
        let bytes = text.as_bytes();
        // Stable, so a repeated term's weights are added in input order; the prefix integer
        // decides most comparisons without comparing slices.
        terms.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| bytes[a.1..a.2].cmp(&bytes[b.1..b.2]))
        });
        terms.dedup_by(|(p, s, e, w), (kp, ks, ke, kw)| {
            let same = p == kp && bytes[*s..*e] == bytes[*ks..*ke];
            if same {
                *kw += *w;
            }
            same
        });
        Ok(Self { text, terms })
    }

    /// The terms and weights in canonical order.
    pub fn terms(&self) -> impl ExactSizeIterator<Item = (&str, f32)> + Clone + '_ {
        self.terms.iter().map(|&(_, s, e, w)| (&self.text[s..e], w))
    }

    /// Number of unique terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// True when no term is left (the query matches nothing).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

impl PartialEq for Query {
    fn eq(&self, other: &Self) -> bool {
        self.terms().eq(other.terms())
    }
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.terms()).finish()
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
    /// [`AutoRule::exhaustive_postings`] postings in all, or at most
    /// [`AutoRule::postings_per_hit`] postings per requested hit, or at most
    /// [`AutoRule::spread_postings`] postings of which no single term holds more than
    /// [`AutoRule::spread_share`] ([`AutoRule::spread_share_small_k`] for `k <= 10`); block-max
    /// MaxScore otherwise (which itself switches to
    /// block-max WAND's block skipping for a single-term query); and always MaxScore when a
    /// segment holds more than [`AUTO_EXHAUSTIVE_MAX_DOCS`] documents. The rule's numbers are
    /// [`AUTO_RULE`] for the BM25 family and [`AUTO_RULE_IMPACT`] for impact indexes.
    ///
    /// Measured per query with `examples/qps.rs --per-query` (thread CPU time, best of 3-5):
    /// BM25 on SciFact, a 409k-passage prose collection and a 1M-document synthetic Zipf
    /// collection at k = 10, 100, 1000; impacts on SciFact expanded by `thresher.expand` and a
    /// 1M-document synthetic impact corpus (weights falling with term frequency) at the same k.
    /// The numbers were picked from a small grid by the geometric mean, over corpora and k, of
    /// the rule's total time over the per-query oracle's (BM25 1.04, impacts 1.07; see
    /// ARCHITECTURE.md). Below those sizes exhaustive's vectorised term-at-a-time pass beats the
    /// per-candidate cost of pruning. MaxScore wins when one frequent term holds most of the
    /// postings, as its list soon becomes non-essential and is only probed; when the postings
    /// are spread over several terms, few lists can be set aside and exhaustive stays faster up
    /// to a larger size. Impacts prune less per hit (learned weights leave common terms with
    /// block maxima close to the rare terms' typical weights), so exhaustive keeps more of
    /// them, most of all for large k. MaxScore beats block-max WAND on the queries measured.
    ///
    /// Pruning algorithms need non-negative scores, so a query with a negative-weight term
    /// (Robertson BM25, a term in more than half the documents) always runs exhaustively,
    /// whatever was asked: the results are identical by construction.
    pub fn resolve(self, prep: &Prepared<'_>, k: usize) -> Self {
        if !prep.prunable() {
            return Self::Exhaustive;
        }
        match self {
            Self::Auto => {
                let rule = if prep.impact {
                    &AUTO_RULE_IMPACT
                } else {
                    &AUTO_RULE
                };
                let budget = rule
                    .exhaustive_postings
                    .max((k as u64).saturating_mul(rule.postings_per_hit));
                let p = prep.total_postings;
                let spread = p <= rule.spread_postings
                    && prep.max_term_postings as f64 <= rule.spread_share_for(k) * p as f64;
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

/// When `auto` runs exhaustive ([`Algorithm::resolve`]).
#[derive(Debug, Clone, Copy)]
pub struct AutoRule {
    /// Exhaustive for queries with at most this many postings ...
    pub exhaustive_postings: u64,
    /// ... or at most this many postings per requested hit ...
    pub postings_per_hit: u64,
    /// ... or at most this many postings when no term holds more than `spread_share` of them
    /// (`spread_share_small_k` when `k <= SMALL_K`).
    pub spread_postings: u64,
    /// See `spread_postings`.
    pub spread_share: f64,
    /// See `spread_postings`: at small k MaxScore's threshold is higher, so it wins with a
    /// less dominant frequent term.
    pub spread_share_small_k: f64,
}

impl AutoRule {
    /// The largest k that uses [`AutoRule::spread_share_small_k`].
    pub const SMALL_K: usize = 10;

    /// The spread share for `k` hits.
    pub fn spread_share_for(&self, k: usize) -> f64 {
        if k <= Self::SMALL_K {
            self.spread_share_small_k
        } else {
            self.spread_share
        }
    }
}

/// `auto` on BM25-family indexes.
pub const AUTO_RULE: AutoRule = AutoRule {
    exhaustive_postings: 10_000,
    postings_per_hit: 300,
    spread_postings: 150_000,
    spread_share: 0.7,
    spread_share_small_k: 0.5,
};

/// `auto` on impact indexes.
pub const AUTO_RULE_IMPACT: AutoRule = AutoRule {
    exhaustive_postings: 10_000,
    postings_per_hit: 3_000,
    spread_postings: 1_500_000,
    spread_share: 0.5,
    spread_share_small_k: 0.5,
};

/// `auto` never runs exhaustive on an index whose largest segment holds more documents than
/// this ([`Algorithm::resolve`]): its accumulators (4 bytes per document) no
/// longer fit in cache and every posting costs a cache miss. Measured per query with
/// `examples/qps.rs --per-query` on the 5M-document synthetic Zipf collection (1,000 queries,
/// k = 10 and 1000): MaxScore was faster than exhaustive in every band of query postings, from
/// under 1,000 (about 8x: the bitmap scan alone is 78k words) to over 100,000 (1.3x at
/// k = 1000) (BM25; impact indexes of that size were not measured, the accumulator argument is
/// the same). At 1M documents the rules above were measured to hold; the limit sits between.
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
        let auto = |p, max_df, docs, k, impact| {
            Algorithm::Auto.resolve(&prep(&q, p, max_df, docs, impact), k)
        };
        let bm25 = |p, max_df, docs, k| auto(p, max_df, docs, k, false);
        // Few postings, or few per requested hit: exhaustive...
        assert_eq!(bm25(10_000, 9_000, 1_000_000, 10), Algorithm::Exhaustive);
        assert_eq!(
            bm25(290_000, 280_000, 1_000_000, 1000),
            Algorithm::Exhaustive
        );
        assert_eq!(bm25(310_000, 280_000, 1_000_000, 1000), Algorithm::MaxScore);
        // ... postings spread over several terms: exhaustive up to a larger size ...
        assert_eq!(bm25(100_000, 40_000, 1_000_000, 10), Algorithm::Exhaustive);
        assert_eq!(bm25(100_000, 90_000, 1_000_000, 10), Algorithm::MaxScore);
        assert_eq!(bm25(500_000, 200_000, 1_000_000, 10), Algorithm::MaxScore);
        // ... where, at k <= 10, one term may hold less of them before MaxScore takes over.
        assert_eq!(bm25(100_000, 65_000, 1_000_000, 10), Algorithm::MaxScore);
        assert_eq!(bm25(100_000, 65_000, 1_000_000, 11), Algorithm::Exhaustive);
        assert_eq!(bm25(100_000, 55_000, 1_000_000, 10), Algorithm::MaxScore);
        assert_eq!(bm25(100_000, 45_000, 1_000_000, 10), Algorithm::Exhaustive);
        // ... but never on a segment beyond AUTO_EXHAUSTIVE_MAX_DOCS.
        assert_eq!(
            bm25(10_000, 9_000, AUTO_EXHAUSTIVE_MAX_DOCS, 10),
            Algorithm::Exhaustive
        );
        assert_eq!(
            bm25(10_000, 9_000, AUTO_EXHAUSTIVE_MAX_DOCS + 1, 10),
            Algorithm::MaxScore
        );
        assert_eq!(bm25(900_000, 800_000, 5_000_000, 1000), Algorithm::MaxScore);
        // Impact indexes keep exhaustive for more postings per hit and when spread ...
        assert_eq!(
            auto(900_000, 800_000, 1_000_000, 1000, true),
            Algorithm::Exhaustive
        );
        assert_eq!(
            auto(1_000_000, 450_000, 1_000_000, 10, true),
            Algorithm::Exhaustive
        );
        assert_eq!(
            auto(1_000_000, 600_000, 1_000_000, 10, true),
            Algorithm::MaxScore
        );
        // ... and the same segment-size limit; an explicit choice is kept.
        let big_impact = prep(&q, 10, 10, 5_000_000, true);
        assert_eq!(
            Algorithm::Auto.resolve(&big_impact, 10),
            Algorithm::MaxScore
        );
        assert_eq!(Algorithm::Bmw.resolve(&big_impact, 10), Algorithm::Bmw);
    }

    proptest::proptest! {
        /// Terms come out unique, in byte order, with a repeated term's weights added in input
        /// order, whatever prefixes they share (the sort compares 8-byte prefixes first).
        #[test]
        fn weighted_terms_are_sorted_and_merged(
            raw in proptest::collection::vec(
                (proptest::sample::select(vec![
                    "", "a", "ab", "abcdefgh", "abcdefghi", "abcdefgg", "abcdefgh\0",
                    "\u{e9}t\u{e9}", "z", "abcdefghij", "b",
                ]), 0u8..4),
                0..24,
            )
        ) {
            let input: Vec<(String, f32)> =
                raw.iter().map(|&(t, w)| (t.to_string(), f32::from(w) * 0.3)).collect();
            let q = Query::new(QueryInput::Weighted(&input), &Analyzer::default()).unwrap();
            let mut want: std::collections::BTreeMap<Vec<u8>, f32> = Default::default();
            for (t, w) in &input {
                if !t.is_empty() && *w > 0.0 {
                    *want.entry(t.as_bytes().to_vec()).or_insert(0.0) += *w;
                }
            }
            let got: Vec<(Vec<u8>, u32)> =
                q.terms().map(|(t, w)| (t.as_bytes().to_vec(), w.to_bits())).collect();
            let want: Vec<(Vec<u8>, u32)> = want.into_iter().map(|(t, w)| (t, w.to_bits())).collect();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(q.len(), q.terms().len());
        }
    }
}

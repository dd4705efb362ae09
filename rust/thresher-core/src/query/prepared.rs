//! [`Prepared`]: a query resolved against an index once (dictionary lookups, per-term scorers),
//! shared by every algorithm; and [`Pruner`], which turns heap thresholds into thresholds for
//! f32 upper-bound estimates that absorb rounding, so pruning never drops a true top-k hit.

use std::sync::Arc;

use crate::index::bounds::block_keys;
use crate::index::{Index, SegmentView};
use crate::postings::{TermCursor, BLOCK_LEN};
use crate::query::Query;
use crate::score::TermScorer;
use crate::types::Score;

/// A query with its dictionary entries in every segment and its term scorers.
pub struct Prepared<'q> {
    /// The query.
    pub query: &'q Query,
    /// One scorer per query term, in canonical order (global document frequencies).
    pub scorers: Vec<TermScorer>,
    /// Per segment, per query term: the term's postings in that segment, if any, and its
    /// learned weight there (1 for unweighted segments).
    pub(crate) infos: Vec<Vec<Option<(crate::index::terms::TermInfo, f32)>>>,
    /// Postings of all query terms over all segments.
    pub total_postings: u64,
    /// True for an impact index ([`crate::ScoringKind::Impact`]), whose `auto` rule differs.
    pub impact: bool,
    /// Postings of the query term with the most postings (its global document frequency).
    pub max_term_postings: u64,
    /// Documents of the largest segment (the size of exhaustive search's accumulators).
    pub max_segment_docs: u64,
}

impl<'q> Prepared<'q> {
    /// Looks the query's terms up in every segment and builds their scorers.
    pub fn new(index: &Index, query: &'q Query) -> Self {
        let views = index.segment_views();
        let infos: Vec<Vec<_>> = views
            .iter()
            .map(|v| {
                query
                    .terms()
                    .map(|(t, _)| {
                        let (id, info) = v.segment.lookup(t)?;
                        Some((info, v.segment.term_weight(id)))
                    })
                    .collect()
            })
            .collect();
        let (mut total_postings, mut max_term_postings) = (0, 0);
        let scorers = query
            .terms()
            .enumerate()
            .map(|(i, (_, w))| {
                let df: u64 = infos
                    .iter()
                    .map(|s| s[i].map_or(0, |x| u64::from(x.0.df)))
                    .sum();
                total_postings += df;
                max_term_postings = max_term_postings.max(df);
                index.term_scorer(df, w)
            })
            .collect();
        Self {
            query,
            scorers,
            infos,
            total_postings,
            impact: index.meta().scoring.kind == crate::ScoringKind::Impact,
            max_term_postings,
            max_segment_docs: views
                .iter()
                .map(|v| v.segment.num_docs() as u64)
                .max()
                .unwrap_or(0),
        }
    }

    /// The scorer of query term `term` in segment `seg`, with the term's weight there.
    #[inline]
    pub fn scorer(&self, seg: usize, term: usize) -> TermScorer {
        let w = self.infos[seg][term].map_or(1.0, |x| x.1);
        self.scorers[term].with_term_weight(w)
    }

    /// Checks that no score of this query can overflow float32 (the sum over its terms of
    /// [`TermScorer::magnitude_bound`], each term at its largest learned weight over the
    /// segments that hold it, is at most `f32::MAX`): a huge query weight, `k1` or impact
    /// scale would otherwise give inf or NaN scores and a wrong ranking.
    ///
    /// Also refuses a positive query weight so small that the term's factor underflows float32.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the term with the largest bound, or the term whose
    /// factor underflows.
    pub fn check_range(&self, index: &Index) -> crate::Result<()> {
        // A positive query weight so small that the term's per-posting factor underflows
        // (to 0 or a subnormal) would flatten or coarsen its scores without a word.
        for (t, (term, weight)) in self.query.terms().enumerate() {
            let factor = self.scorers[t].weight().abs();
            if weight > 0.0 && factor < f32::MIN_POSITIVE {
                let df: u64 = self
                    .infos
                    .iter()
                    .map(|s| s[t].map_or(0, |x| u64::from(x.0.df)))
                    .sum();
                let unit = index.term_scorer(df, 1.0).weight().abs();
                if df > 0 && unit >= f32::MIN_POSITIVE {
                    return Err(crate::Error::invalid_argument(format!(
                        "query term {term:?} has weight {weight:e}, too small for float32 scores: \
                         its per-posting factor under {} ({:e}) underflows; scale the query \
                         weights up",
                        index.meta().scoring.kind.name(),
                        f64::from(unit) * f64::from(weight),
                    )));
                }
            }
        }
        let norm = index.length_norm();
        let mut total = 0f64;
        let mut worst = (0usize, 0f64);
        for (t, scorer) in self.scorers.iter().enumerate() {
            let bound = self
                .infos
                .iter()
                .filter_map(|seg| seg[t])
                .map(|(_, w)| scorer.with_term_weight(w).magnitude_bound(norm))
                .fold(0f64, |a, b| if b.is_nan() || b > a { b } else { a });
            if bound.is_nan() || bound > worst.1 {
                worst = (t, bound);
            }
            total += bound;
        }
        if total <= f64::from(f32::MAX) {
            return Ok(());
        }
        let (term, weight) = self.query.terms().nth(worst.0).unwrap_or(("", 0.0));
        Err(crate::Error::invalid_argument(format!(
            "scores of this query could overflow float32 (the scores are float32, as \
             Lucene's): term {term:?} with query weight {weight:e} has a per-posting factor \
             of {:e} under {}; use smaller query weights (or a smaller k1 or impact scale)",
            self.scorers[worst.0].weight(),
            index.meta().scoring.kind.name(),
        )))
    }

    /// Number of query terms.
    pub fn num_terms(&self) -> usize {
        self.scorers.len()
    }

    /// True when every term's scores are >= 0, which pruning algorithms require (only Robertson
    /// BM25 has negative weights, for terms in more than half the documents).
    pub fn prunable(&self) -> bool {
        self.scorers
            .iter()
            .all(|s| s.weight() >= 0.0 && s.weight().is_finite())
    }

    /// A score that at least `k` documents of segment `seg` allowed by `allow` reach or beat
    /// (`-inf` when none is found cheaply): the `k`-th best score of one query term's postings
    /// there. A document's full score is at least any one of its contributions (an f32 sum of
    /// non-negative scores never falls below an addend), so at least `k` documents score that
    /// much. The term is the shortest list with at least `k` postings, if it holds at most
    /// [`PRIME_MAX_POSTINGS`] and at most 1/[`PRIME_SHARE`] of the query's postings; fewer than
    /// `k` of them allowed by `allow` give no floor.
    ///
    /// Pruning algorithms start from this floor ([`Pruner::with_floor`]) instead of an empty
    /// heap's `-inf` (threshold priming, as in the threshold-estimation literature, computed
    /// here at query time). Without it, a query mixing a rare term with frequent ones prunes
    /// little until the heap holds documents of the rare term, which come in doc order.
    #[inline(always)]
    pub fn prime_floor(
        &self,
        index: &Index,
        seg: usize,
        view: &SegmentView,
        k: usize,
        allow: Option<&crate::query::DocFilter>,
    ) -> Score {
        let s = &view.segment;
        let Some((term, info)) = self.infos[seg]
            .iter()
            .enumerate()
            .filter_map(|(t, i)| Some((t, (*i)?.0)))
            .filter(|(_, i)| {
                i.df as usize >= k
                    && u64::from(i.df) <= PRIME_MAX_POSTINGS.min(self.total_postings / PRIME_SHARE)
            })
            .min_by_key(|(_, i)| i.df)
        else {
            return Score::NEG_INFINITY;
        };
        let Some(list) = s.postings(info) else {
            return Score::NEG_INFINITY;
        };
        let (n, keys, norm) = (s.num_docs() as u32, s.doc_keys(), index.length_norm());
        let scorer = self.scorer(seg, term);
        // The best scores of the allowed postings so far: at least the `k` best, cut back to
        // them whenever the buffer fills.
        let desc = |a: &Score, b: &Score| b.total_cmp(a);
        let cap = 2 * k + 1024;
        let mut best: Vec<Score> = Vec::with_capacity(cap + BLOCK_LEN);
        let (mut seen, mut nan) = (0usize, false);
        let mut factors = [0f32; BLOCK_LEN];
        let mut scores = [0f32; BLOCK_LEN];
        // A plain loop, so that it runs at the caller's CPU level
        // ([`crate::postings::PostingList::decode_block`]).
        let (mut docs, mut vals) = ([0u32; BLOCK_LEN], [0u32; BLOCK_LEN]);
        let mut complete = Some(());
        for b in 0..list.num_blocks() {
            let Some(m) = list.decode_block(b, n, &mut docs, &mut vals) else {
                complete = None;
                break;
            };
            let (docs, vals) = (&docs[..m], &vals[..m]);
            keys.factors(norm, docs, &mut factors[..m]);
            scorer.score_many(vals, &factors[..m], &mut scores[..m]);
            for (&d, &sc) in docs.iter().zip(&scores[..m]) {
                if allow.is_none_or(|a| a.contains(view.base + d)) {
                    nan |= sc.is_nan();
                    best.push(sc);
                    seen += 1;
                }
            }
            if best.len() >= cap {
                best.select_nth_unstable_by(k - 1, desc);
                best.truncate(k);
            }
        }
        // A damaged list (index opened without verification) gives no floor.
        if complete.is_none() || seen < k || nan {
            return Score::NEG_INFINITY;
        }
        *best.select_nth_unstable_by(k - 1, desc).1
    }

    /// Cursors (with score bounds) over the query terms present in segment `seg`.
    pub fn cursors<'a>(
        &self,
        index: &'a Index,
        seg: usize,
        view: &'a SegmentView,
    ) -> Vec<TermCursor<'a>> {
        let s = &view.segment;
        let (n, keys, norm) = (s.num_docs() as u32, s.doc_keys(), index.length_norm());
        let kind = index.meta().scoring.kind;
        // Models whose block bounds have query-free keys share them through the index.
        let keyed = TermScorer::query_free_key(kind, 1, 1.0).is_some();
        self.infos[seg]
            .iter()
            .zip(&self.scorers)
            .enumerate()
            .filter_map(|(term, (info, scorer))| {
                let (info, w) = (*info)?;
                let list = s.postings(info)?;
                let scorer = scorer.with_term_weight(w);
                let mut c = TermCursor::new(list, n, keys, norm, scorer, term, true);
                if keyed && list.has_skips() {
                    // `block_keys` is `Some` here (keyed model, list with skips); an empty
                    // array would only be ignored by `set_block_keys`.
                    let cached = view.block_keys.get_or_compute(info.postings.0, || {
                        block_keys(&list, norm, kind).unwrap_or_else(|| Arc::from(Vec::new()))
                    });
                    c.set_block_keys(cached);
                }
                Some(c)
            })
            .collect()
    }
}

/// Longest list [`Prepared::prime_floor`] scores ...
pub const PRIME_MAX_POSTINGS: u64 = 1 << 16;

/// ... and at most this fraction (1 / `PRIME_SHARE`) of the query's postings, so that its cost
/// stays a small part of a query that needs pruning.
pub const PRIME_SHARE: u64 = 16;

/// Converts heap thresholds into safe thresholds for upper-bound *estimates*.
///
/// An estimate `E` is an f32 sum (any order, any grouping) of at most `n` non-negative leaves,
/// one per query term, each at least that term's true contribution to a candidate (its exact
/// score, or a bound). The candidate's real score `S` is the f32 sum of its contributions in
/// canonical order. With `u = 2^-24` and `g = n·u / (1 - n·u)` (Higham's γ_n), any f32 sum of
/// `n` non-negative terms is within a factor `[1 - g, 1 + g]` of the exact sum, so
/// `S <= (1 + g)·Σ contributions <= (1 + g) / (1 - g)·E`. A candidate is therefore hopeless
/// when `E <= θ·(1 - g) / (1 + g)`, where `θ` is the heap threshold: its score is then at most
/// `θ`, and since candidates come in increasing doc-id order a tie with `θ` loses to the kept
/// hits (equal scores rank the smaller doc id first). [`Pruner::safe`] returns that product
/// rounded down, so every algorithm prunes with `E <= safe(θ)` and no true top-k hit is lost.
#[derive(Debug, Clone, Copy)]
pub struct Pruner {
    scale: f64,
    /// A threshold known before any hit: [`Pruner::with_floor`].
    floor: Score,
}

impl Pruner {
    /// For estimates with at most `n` leaves.
    pub fn new(n: usize) -> Self {
        let u = f64::powi(2.0, -24);
        let nu = n.max(1) as f64 * u;
        let g = nu / (1.0 - nu);
        // The f64 arithmetic itself is accurate to ~1e-16; shave a little more off.
        Self {
            scale: ((1.0 - g) / (1.0 + g)) * (1.0 - 1e-12),
            floor: Score::NEG_INFINITY,
        }
    }

    /// This pruner, also knowing that at least `k` documents score `>= at_least` (`k` the
    /// heap's size; [`Prepared::prime_floor`]). [`Pruner::safe`] then never returns less than
    /// for the threshold just below `at_least`: a candidate it prunes scores `< at_least`, so
    /// it ranks below those `k` documents whatever its doc id.
    pub fn with_floor(mut self, at_least: Score) -> Self {
        if at_least.is_finite() && at_least > self.floor {
            self.floor = next_down(at_least);
        }
        self
    }

    /// The largest estimate that proves a candidate cannot enter a full heap whose threshold
    /// is `theta` (`-inf` when the heap is not full and there is no floor: nothing can be
    /// pruned yet).
    #[inline]
    pub fn safe(&self, theta: Score) -> Score {
        if theta.is_nan() {
            return Score::NEG_INFINITY;
        }
        let theta = theta.max(self.floor);
        if theta == Score::NEG_INFINITY {
            return Score::NEG_INFINITY;
        }
        let t = f64::from(theta) * self.scale;
        let r = t as f32;
        if f64::from(r) > t {
            next_down(r)
        } else {
            r
        }
    }
}

/// The largest f32 below `x` (finite, non-NaN `x`).
fn next_down(x: f32) -> f32 {
    if x == 0.0 {
        return -f32::from_bits(1);
    }
    let b = x.to_bits();
    f32::from_bits(if x > 0.0 { b - 1 } else { b + 1 })
}

/// The canonical-order sum of per-term contributions (the terms a document lacks hold 0.0,
/// which leaves the sum unchanged), i.e. exactly what exhaustive computes.
#[inline]
pub fn canonical_sum(contrib: &[Score]) -> Score {
    contrib.iter().fold(0.0, |a, &s| a + s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The bound the pruning rule relies on, checked on adversarial-ish sums: any summation
        /// order of values >= the true contributions, once below `safe(θ)`, implies the
        /// canonical sum is <= θ.
        #[test]
        fn safe_threshold_absorbs_any_summation_order(
            vals in proptest::collection::vec(0f32..10.0, 1..12),
            slack in proptest::collection::vec(0f32..0.001, 12),
            perm_seed in any::<u64>(),
        ) {
            let n = vals.len();
            let pruner = Pruner::new(n);
            let exact = canonical_sum(&vals);
            // An estimate from upper bounds, summed in another order.
            let mut ub: Vec<f32> = vals.iter().zip(&slack).map(|(v, s)| v + s).collect();
            let mut seed = perm_seed;
            for i in (1..n).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                ub.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let est = ub.iter().fold(0f32, |a, &b| a + b);
            // The smallest θ for which the rule would prune this estimate.
            let mut theta = est;
            while pruner.safe(theta) < est {
                theta = f32::from_bits(theta.to_bits() + 1);
            }
            prop_assert!(exact <= theta, "exact {exact} > θ {theta} (est {est})");
        }
    }

    #[test]
    fn safe_is_below_theta_and_monotone() {
        let p = Pruner::new(10);
        assert_eq!(p.safe(Score::NEG_INFINITY), Score::NEG_INFINITY);
        let mut prev = Score::NEG_INFINITY;
        for i in 0..1000 {
            let t = i as f32 * 0.37;
            let s = p.safe(t);
            assert!(s <= t && s >= prev);
            prev = s;
        }
    }
}

//! Exhaustive term-at-a-time scoring: the reference every faster algorithm is tested against
//! (PISA's `ranked_or_query`), and the fastest path when most postings must be scored anyway
//! (large k, long weighted queries, small collections).
//!
//! For each segment, the postings of every query term, taken in the query's canonical order,
//! are decoded block by block; a block's scores are computed in one vectorisable loop
//! ([`crate::score::TermScorer::score_many`]) and added to a dense per-document accumulator,
//! while a bitmap records which documents were touched. The touched documents are then offered
//! to a [`TopK`] in batches. Cost is linear in the postings of the query terms.

use std::cell::RefCell;

use crate::index::Index;
use crate::postings::BLOCK_LEN;
use crate::query::prepared::Prepared;
use crate::query::{topk, DocFilter, TopK};
use crate::types::{DocId, Score};

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch {
    acc: Vec<Score>,
    seen: Vec<u64>,
    /// Keys of hits waiting to be offered to the `TopK` ([`crate::query::topk::key`]).
    cand: Vec<u64>,
}

/// Hits offered to the `TopK` per batch, beyond `k` (small enough to stay in cache).
const BATCH: usize = 512;

/// Dense mode ([`search`]) when the query's postings in a segment times this reach the
/// segment's document count.
const DENSE_RATIO: u64 = 1;

/// Accumulators tested at once in dense mode.
const DENSE_CHUNK: usize = 32;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Offers every document containing at least one query term, and allowed by `allow`, to
/// `top` (global doc ids).
pub fn search(index: &Index, prep: &Prepared<'_>, top: &mut TopK, allow: Option<&DocFilter>) {
    let norm = index.length_norm();
    let positive = prep.impact && prep.scorers.iter().all(|s| s.weight() > 0.0);
    SCRATCH.with(|s| {
        let s = &mut *s.borrow_mut();
        for (si, view) in index.segment_views().iter().enumerate() {
            let seg = &view.segment;
            let n = seg.num_docs();
            if s.acc.len() < n {
                s.acc.resize(n, 0.0);
                s.seen.resize(n.div_ceil(64), 0);
            }
            let keys = seg.doc_keys();
            let (acc, seen) = (&mut s.acc[..n], &mut s.seen[..n.div_ceil(64)]);
            // Dense mode: when every posting's score is > 0 (impact scoring with positive query
            // weights: a positive weight times a quantised impact >= 1), a document was touched
            // exactly when its accumulator is > 0. When the query's postings are many for the
            // segment, scanning the accumulators costs less than recording every touch (a
            // read-modify-write of the bitmap word, chained through memory when consecutive
            // postings share a word).
            let seg_postings: u64 = prep.infos[si]
                .iter()
                .map(|i| i.map_or(0, |x| u64::from(x.0.df)))
                .sum();
            let dense = positive && seg_postings.saturating_mul(DENSE_RATIO) >= n as u64;
            let mut factors = [0f32; BLOCK_LEN];
            let mut scores = [0f32; BLOCK_LEN];
            for (term, info) in prep.infos[si].iter().enumerate() {
                let Some(list) = info.and_then(|i| seg.postings(i.0)) else {
                    continue;
                };
                let scorer = prep.scorer(si, term);
                // A damaged block (index opened without verification) ends the list.
                let _ = list.for_each_block(n as u32, |docs, vals| {
                    let m = docs.len();
                    keys.factors(norm, docs, &mut factors[..m]);
                    scorer.score_many(vals, &factors[..m], &mut scores[..m]);
                    for (&d, &sc) in docs.iter().zip(&scores[..m]) {
                        let du = d as usize;
                        if let Some(a) = acc.get_mut(du) {
                            *a += sc;
                            if !dense {
                                seen[du / 64] |= 1 << (du % 64);
                            }
                        }
                    }
                });
            }
            // Touched documents are offered in batches (`TopK::absorb`: a selection per batch
            // instead of a heap update per hit, which dominated at large k). A hit whose key is
            // at or below the queue's floor cannot enter; most documents already fail the float
            // test against the floor's score (ties with it and NaN are decided by the key).
            let cap = top.capacity() + top.capacity().max(BATCH);
            let mut floor = top.floor();
            let mut floor_score = top.threshold();
            let cand = &mut s.cand;
            // Queues a hit that can still enter the queue and `allow` admits; hands the queue
            // to `top` once full (a macro, not a closure or method, so that the floor stays
            // in registers: a method on a struct measured 2-4% slower).
            macro_rules! offer {
                ($doc:expr, $score:expr) => {{
                    let doc: DocId = $doc;
                    let key = topk::key(doc, $score);
                    if key > floor && allow.is_none_or(|a| a.contains(doc)) {
                        cand.push(key);
                        if cand.len() >= cap {
                            top.absorb(cand);
                            floor = top.floor();
                            floor_score = top.threshold();
                        }
                    }
                }};
            }
            if dense {
                // Chunks with no accumulator at or above the bar are skipped with one
                // vectorised test; every accumulator is reset afterwards in one pass.
                let mut d0 = 0;
                for chunk in acc.chunks(DENSE_CHUNK) {
                    // Scores are > 0, so the bar is at least the smallest positive f32.
                    let bar = floor_score.max(f32::from_bits(1));
                    if chunk.iter().fold(false, |any, &x| any | (x >= bar)) {
                        for (i, &score) in chunk.iter().enumerate() {
                            if score >= floor_score.max(f32::from_bits(1)) {
                                offer!(view.base + (d0 + i) as DocId, score);
                            }
                        }
                    }
                    d0 += chunk.len();
                }
                acc.fill(0.0);
            }
            for (w, word) in seen.iter_mut().enumerate() {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    let d = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let score = std::mem::take(&mut acc[d]);
                    #[allow(clippy::neg_cmp_op_on_partial_ord)]
                    if !(score < floor_score) {
                        offer!(view.base + d as DocId, score);
                    }
                }
            }
            top.absorb(cand);
        }
    });
}

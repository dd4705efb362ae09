//! Exhaustive term-at-a-time scoring: the reference every faster algorithm is tested against
//! (PISA's `ranked_or_query`), and the fastest path when most postings must be scored anyway
//! (large k, long weighted queries, small collections).
//!
//! For each segment, the postings of every query term, taken in the query's canonical order,
//! are decoded block by block; a block's scores are computed in one vectorisable loop
//! ([`crate::score::TermScorer::score_many`]) and added to a dense per-document accumulator.
//! The touched documents are then offered to a [`TopK`] in batches. Cost is linear in the
//! postings of the query terms.
//!
//! Which documents were touched: when the query's postings are few for the segment (fewer
//! than a quarter of its documents), a bitmap records every posting's document. Otherwise
//! (dense mode) only blocks holding a score that is not > 0 mark their documents; a document
//! that received only positive scores has a positive sum, so the touched documents are those
//! whose accumulator is > 0 plus the marked ones, found 64 at a time with vectorised compares.
//! Every model scores a posting > 0 unless its query weight or idf is <= 0, so dense mode
//! usually skips the bitmap's read-modify-write per posting.
//!
//! The work runs at the best CPU level available ([`crate::cpu`]: AVX-512, AVX2 or portable),
//! with bit-identical results at every level.

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
    /// Per word of 64 documents, its largest accumulator ([`dense_bar`]).
    maxima: Vec<f32>,
}

/// Hits offered to the `TopK` per batch, beyond `k` (at least `k`; small enough to stay in
/// cache). Small, so that at small k the floor rises early: a selection over k + 512 keys cost
/// ~1.1 us (k=10), over k + 64 0.17 us, and fewer hits are queued before the floor rejects
/// them. 512 -> 64, `qps`, thread CPU, best of 3 alternated runs, k=10: Cranfield BM25 106.0k ->
/// 115.9k QPS, TDV 155.8k -> 180.3k; SciFact 58.9k -> 61.9k, TDV 88.5k -> 92.7k; Zipf 1M
/// exhaustive and auto equal. (Tried before the dense mode, when the selection was a smaller
/// share of the time, it measured no gain.)
const BATCH: usize = 64;

/// Dense mode ([`search`]) when the query's postings in a segment times this reach the
/// segment's document count. Measured (`qps`, thread CPU, best of 2-3 alternated runs): 4 beat
/// 1 on SciFact (k=10 59.3k vs 54.9k QPS, TDV 87.6k vs 82.0k) and equalled it on Cranfield;
/// 4 against 16 was mixed within the noise (SciFact k=10 55.9k vs 57.6k, Cranfield k=1000
/// 55.1k vs 51.6k), and 4 scans less memory on large segments. On the 1M-document Zipf index
/// exhaustive search went from 318-320 to 433-438 QPS at k=10 and from 269-315 to 424-452 at
/// k=1000 (against the bitmap-only code).
const DENSE_RATIO: u64 = 4;

/// Dense mode starts its floor at [`dense_bar`] only on segments of at most this many documents:
/// the bar costs a pass over the accumulators before the offering pass, which is free while
/// they sit in cache (1 MiB of accumulators here) and not beyond. `qps`, exhaustive, thread
/// CPU, best of 3, two alternated rounds, without this bound (bar everywhere) against no bar:
/// Zipf 1M k=10 662 / 655 -> 595 / 611 QPS, k=1000 606 / 607 -> 587 / 590; real prose (406k)
/// k=10 within 1%, k=1000 +2%; Cranfield and SciFact k=10 +5-8% (see `dense_bar`).
const DENSE_BAR_MAX_DOCS: usize = 1 << 18;

/// Bit `i` set when `chunk[i] >= bar` (`chunk.len() <= 64`); groups of 8 compile to vector
/// compares and a mask extraction.
#[inline(always)]
fn above(chunk: &[f32], bar: f32) -> u64 {
    let mut mask = 0u64;
    let mut groups = chunk.chunks_exact(8);
    for (j, g) in groups.by_ref().enumerate() {
        let mut b = 0u8;
        for (i, &x) in g.iter().enumerate() {
            b |= u8::from(x >= bar) << i;
        }
        mask |= u64::from(b) << (8 * j);
    }
    let done = chunk.len() - groups.remainder().len();
    for (i, &x) in groups.remainder().iter().enumerate() {
        mask |= u64::from(x >= bar) << (done + i);
    }
    mask
}

/// The largest value of `chunk` whose bit is set in `allowed` and 0, or 0 when no such value
/// exceeds 0 (a value of `chunk` otherwise; NaN is passed over). Lanes of 16 compile to vector
/// max instructions (masked ones with a filter).
#[inline(always)]
fn chunk_max(chunk: &[f32], allowed: u64) -> f32 {
    let mut lanes = [0f32; 16];
    let mut groups = chunk.chunks_exact(16);
    for (g, group) in groups.by_ref().enumerate() {
        let bits = allowed >> (16 * g);
        for (i, (m, &x)) in lanes.iter_mut().zip(group).enumerate() {
            let x = if bits >> i & 1 == 1 { x } else { 0.0 };
            *m = if x > *m { x } else { *m };
        }
    }
    let done = chunk.len() - groups.remainder().len();
    let mut m = 0f32;
    for &x in &lanes {
        m = if x > m { x } else { m };
    }
    for (i, &x) in groups.remainder().iter().enumerate() {
        if allowed >> (done + i) & 1 == 1 && x > m {
            m = x;
        }
    }
    m
}

/// A score every top-`k` hit of the segment whose accumulators are `acc` reaches, among the
/// documents `allowed` admits (its argument: the first document of a word of 64; its value: the
/// word's mask): the `k`-th largest of the per-word maxima over the allowed documents, when
/// there are at least `k` words and that maximum is a positive number (else `None`). At least
/// `k` allowed documents score at or above it (one per word), so a document below it cannot
/// enter the top `k`, and only documents at or above it need be offered: at small k that
/// replaces most of the selections that otherwise raise the floor batch by batch as documents
/// are offered in id order.
#[inline(always)]
fn dense_bar(
    acc: &[f32],
    k: usize,
    maxima: &mut Vec<f32>,
    allowed: impl Fn(usize) -> u64,
) -> Option<f32> {
    if k == 0 || acc.len().div_ceil(64) < k {
        return None;
    }
    maxima.clear();
    maxima.extend(
        acc.chunks(64)
            .enumerate()
            .map(|(w, chunk)| chunk_max(chunk, allowed(64 * w))),
    );
    let (_, &mut bar, _) = maxima.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    (bar > 0.0 && bar.is_finite()).then_some(bar)
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Offers every document containing at least one query term, and allowed by `allow`, to
/// `top` (global doc ids).
pub fn search(index: &Index, prep: &Prepared<'_>, top: &mut TopK, allow: Option<&DocFilter>) {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => search_in(index, prep, top, allow, &mut s),
        Err(_) => search_in(index, prep, top, allow, &mut Scratch::default()),
    });
}

crate::cpu::multiversion!(
    /// [`search`] with the scratch buffers borrowed, compiled for the CPU level in force.
    fn search_in(
        index: &Index,
        prep: &Prepared<'_>,
        top: &mut TopK,
        allow: Option<&DocFilter>,
        s: &mut Scratch,
    ) => search_in_at_level
);

#[inline(always)]
fn search_in_at_level(
    index: &Index,
    prep: &Prepared<'_>,
    top: &mut TopK,
    allow: Option<&DocFilter>,
    s: &mut Scratch,
) {
    let norm = index.length_norm();
    for (si, view) in index.segment_views().iter().enumerate() {
        let seg = &view.segment;
        let n = seg.num_docs();
        if s.acc.len() < n {
            s.acc.resize(n, 0.0);
            s.seen.resize(n.div_ceil(64), 0);
        }
        let keys = seg.doc_keys();
        let (acc, seen) = (&mut s.acc[..n], &mut s.seen[..n.div_ceil(64)]);
        // Dense mode or bitmap (see the module documentation).
        let seg_postings: u64 = prep.infos[si]
            .iter()
            .map(|i| i.map_or(0, |x| u64::from(x.0.df)))
            .sum();
        if seg_postings == 0 {
            // Nothing to score; the bitmap scan below would still cost a word per 64
            // documents (an unknown-term query: 5.8 us on 406k documents, 65 us on 5M).
            continue;
        }
        let dense = seg_postings.saturating_mul(DENSE_RATIO) >= n as u64;
        let mut flagged = false;
        let mut factors = [0f32; BLOCK_LEN];
        let mut scores = [0f32; BLOCK_LEN];
        for (term, info) in prep.infos[si].iter().enumerate() {
            let Some(list) = info.and_then(|i| seg.postings(i.0)) else {
                continue;
            };
            let scorer = prep.scorer(si, term);
            // A damaged block (index opened without verification) ends the list.
            let (mut docs, mut vals) = ([0u32; BLOCK_LEN], [0u32; BLOCK_LEN]);
            for b in 0..list.num_blocks() {
                let Some(m) = list.decode_block(b, n as u32, &mut docs, &mut vals) else {
                    break;
                };
                let (docs, vals) = (&docs[..m], &vals[..m]);
                keys.factors(norm, docs, &mut factors[..m]);
                scorer.score_many(vals, &factors[..m], &mut scores[..m]);
                let mark = !dense || !scores[..m].iter().fold(true, |all, &x| all & (x > 0.0));
                if mark {
                    flagged = true;
                    for (&d, &sc) in docs.iter().zip(&scores[..m]) {
                        let du = d as usize;
                        if let Some(a) = acc.get_mut(du) {
                            *a += sc;
                            seen[du / 64] |= 1 << (du % 64);
                        }
                    }
                } else {
                    for (&d, &sc) in docs.iter().zip(&scores[..m]) {
                        if let Some(a) = acc.get_mut(d as usize) {
                            *a += sc;
                        }
                    }
                }
            }
        }
        // Touched documents are offered in batches (`TopK::absorb`: a selection per batch
        // instead of a heap update per hit, which dominated at large k). A hit whose key is
        // at or below the queue's floor cannot enter; most documents already fail the float
        // test against the floor's score (ties with it and NaN are decided by the key).
        let cap = top.capacity() + top.capacity().max(BATCH);
        let mut floor = top.floor();
        // A lower bound of the scores that can still enter, over the floor (dense mode on a
        // cache-sized segment: the bar of `dense_bar`, over the documents the filter admits).
        let base = view.base as usize;
        let least = match allow {
            _ if !dense || n > DENSE_BAR_MAX_DOCS => None,
            None => dense_bar(acc, top.capacity(), &mut s.maxima, |_| !0),
            Some(a) => dense_bar(acc, top.capacity(), &mut s.maxima, |d| a.word_at(base + d)),
        }
        .unwrap_or(Score::NEG_INFINITY);
        let mut floor_score = top.threshold().max(least);
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
                        floor_score = top.threshold().max(least);
                    }
                }
            }};
        }
        if dense {
            // Per word of 64 documents: a mask of the accumulators > 0 at or above the bar
            // (vectorised compares), or-ed with the flagged documents; its bits are offered
            // as the bitmap's are. Every accumulator is reset afterwards in one pass.
            for (w, chunk) in acc.chunks(64).enumerate() {
                // Scores are > 0 here unless flagged, so the bar is at least the smallest
                // positive f32.
                let bar = floor_score.max(f32::from_bits(1));
                let mut bits = above(chunk, bar);
                if flagged {
                    // Flagged documents not below the floor (NaN included), whatever the
                    // sign of their sum.
                    let mut marked = std::mem::take(&mut seen[w]);
                    while marked != 0 {
                        let i = marked.trailing_zeros() as usize;
                        marked &= marked - 1;
                        #[allow(clippy::neg_cmp_op_on_partial_ord)]
                        if !(chunk[i] < floor_score) {
                            bits |= 1 << i;
                        }
                    }
                }
                while bits != 0 {
                    let i = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    offer!(view.base + (w * 64 + i) as DocId, chunk[i]);
                }
            }
            acc.fill(0.0);
        } else {
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
        }
        top.absorb(cand);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_max_is_a_value_above_zero_or_zero() {
        assert_eq!(chunk_max(&[], !0), 0.0);
        assert_eq!(chunk_max(&[-1.0, -0.5], !0), 0.0);
        let mut v: Vec<f32> = (0..37).map(|i| (i % 7) as f32).collect();
        v[20] = 9.5;
        v[3] = f32::NAN;
        assert_eq!(chunk_max(&v, !0), 9.5);
        v[36] = 11.0; // in the remainder after the lanes of 16
        assert_eq!(chunk_max(&v, !0), 11.0);
        // Documents the mask leaves out do not count, in the lanes and in the remainder.
        assert_eq!(chunk_max(&v, !(1 << 36)), 9.5);
        assert_eq!(chunk_max(&v, !(1 << 36 | 1 << 20)), 6.0);
        assert_eq!(chunk_max(&v, 0), 0.0);
    }

    #[test]
    fn dense_bar_is_the_kth_largest_word_maximum() {
        let all = |_| !0u64;
        let mut maxima = Vec::new();
        // 5 words of 64 (the last one short); word w's largest value is 10 * w + 1.
        let acc: Vec<f32> = (0..300)
            .map(|d| {
                if d % 64 == 5 {
                    (10 * (d / 64) + 1) as f32
                } else {
                    0.5
                }
            })
            .collect();
        assert_eq!(dense_bar(&acc, 1, &mut maxima, all), Some(41.0));
        assert_eq!(dense_bar(&acc, 2, &mut maxima, all), Some(31.0));
        assert_eq!(dense_bar(&acc, 5, &mut maxima, all), Some(1.0));
        // Fewer words than k: no bar.
        assert_eq!(dense_bar(&acc, 6, &mut maxima, all), None);
        // At least k documents reach the bar: here exactly k, one per word.
        let bar = dense_bar(&acc, 3, &mut maxima, all).unwrap();
        assert_eq!(acc.iter().filter(|&&x| x >= bar).count(), 3);
        // A bar that is not a positive number is no bar (untouched documents hold 0).
        let zeros = vec![0f32; 640];
        assert_eq!(dense_bar(&zeros, 3, &mut maxima, all), None);
        let mut inf = vec![1f32; 640];
        inf.iter_mut().step_by(64).for_each(|x| *x = f32::INFINITY);
        assert_eq!(dense_bar(&inf, 3, &mut maxima, all), None);
        // With a filter: word w's maximum is left out when its document is not allowed, and
        // the word's next best allowed value (0.5) counts instead.
        let no_top_of_word_4 = |d: usize| if d == 256 { !(1u64 << 5) } else { !0 };
        assert_eq!(
            dense_bar(&acc, 1, &mut maxima, no_top_of_word_4),
            Some(31.0)
        );
        assert_eq!(dense_bar(&acc, 5, &mut maxima, no_top_of_word_4), Some(0.5));
    }
}

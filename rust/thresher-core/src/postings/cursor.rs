//! Cursor traits (after PISA's posting-cursor concepts) and [`TermCursor`], the cursor over one
//! term's compressed postings that every document-at-a-time algorithm walks.
//!
//! Contracts, one sentence each:
//! - [`PostingCursor`]: `doc()` is the current doc id ([`END`] once exhausted) and `advance()`
//!   moves to the next posting.
//! - [`SeekCursor`]: `seek(t)` moves to the first posting with doc id >= `t`; it stays if already
//!   there and never moves backwards.
//! - [`ScoredCursor`]: `score()` is the score of the current posting (not called at [`END`]).
//! - [`MaxScoreCursor`]: `max_score()` is >= every `score()` the list can produce.
//! - [`BlockMaxCursor`]: `shallow_seek(t)` moves only the *block pointer* to the first block whose
//!   last doc is >= `t` (never backwards, without decoding), and `block_max_score()` /
//!   `block_end()` are a bound of the scores in that block and its last doc id (`0` / [`END`]
//!   past the last block).

use std::sync::Arc;

use crate::postings::list::{PackedValues, PostingList};
use crate::postings::BLOCK_LEN;
use crate::score::{DocKeys, LengthNorm, TermScorer};
use crate::types::{DocId, Score};

/// The doc id of an exhausted cursor (larger than every real doc id).
pub const END: DocId = DocId::MAX;

/// A cursor over postings in increasing doc-id order.
pub trait PostingCursor {
    /// The current doc id, or [`END`] once the list is exhausted.
    fn doc(&self) -> DocId;
    /// Moves to the next posting ([`END`] after the last one).
    fn advance(&mut self);
}

/// A cursor that can jump forward.
pub trait SeekCursor: PostingCursor {
    /// Moves to the first posting whose doc id is >= `target`; stays if the current one already
    /// is, and never moves backwards.
    fn seek(&mut self, target: DocId);
}

/// A cursor that scores its current posting.
pub trait ScoredCursor: PostingCursor {
    /// Score of the current posting; only meaningful when `doc() != END`.
    fn score(&mut self) -> Score;
}

/// A scored cursor that knows a bound of all its scores.
pub trait MaxScoreCursor: ScoredCursor {
    /// An upper bound of every score the list produces.
    fn max_score(&self) -> Score;
}

/// A cursor with per-block score bounds.
pub trait BlockMaxCursor: MaxScoreCursor + SeekCursor {
    /// Moves the block pointer (not the cursor) to the first block whose last doc id is >=
    /// `target`, never backwards and never before the cursor's own block.
    fn shallow_seek(&mut self, target: DocId);
    /// Upper bound of the scores in the block under the block pointer (0 past the last block).
    fn block_max_score(&mut self) -> Score;
    /// Last doc id of the block under the block pointer ([`END`] past the last block).
    fn block_end(&self) -> DocId;
}

/// The cursor over one term's postings in one segment, scoring with one query term's scorer.
pub struct TermCursor<'a> {
    list: PostingList<'a>,
    num_docs: u32,
    keys: DocKeys<'a>,
    norm: &'a LengthNorm,
    scorer: TermScorer,
    /// Block whose doc ids are in `docs` (`nblocks` once exhausted).
    block: u32,
    pos: usize,
    len: usize,
    doc: DocId,
    packed: Option<PackedValues<'a>>,
    vals_ready: bool,
    max_score: Score,
    /// Last doc of a single-block list (it has no skip table).
    single_last: DocId,
    /// Block pointer of the block-max interface, and its cached bound (`NAN` = not computed).
    sblock: u32,
    sblock_max: Score,
    /// Which query term this is, in the query's canonical order.
    term: usize,
    docs: [u32; BLOCK_LEN],
    vals: [u32; BLOCK_LEN],
    /// Scores of the current block from `scored_from` on ([`TermCursor::rest_of_block`]);
    /// `scored_from == BLOCK_LEN` when not computed for this block.
    scores: [Score; BLOCK_LEN],
    scored_from: usize,
    /// Prefetch the length key [`PREFETCH_AHEAD`] postings ahead of the cursor
    /// ([`DocKeys::prefetch`]): only when the keys outgrow the caches
    /// ([`PREFETCH_MIN_KEY_BYTES`]).
    prefetch: bool,
    /// The largest query-free key of each block, when the index has them
    /// ([`crate::index::bounds`]): block bounds without decoding frontiers.
    block_keys: Option<Arc<[f32]>>,
}

/// Length keys of at least this many bytes are prefetched: document-at-a-time scoring reads
/// them one candidate at a time, and from a 5M-document collection's 5 MB of norm bytes each
/// read was a cache miss (MaxScore k=10 on synthetic 5M: 1.33x QPS with prefetching). Below
/// this size they stay in cache and prefetching is overhead.
pub const PREFETCH_MIN_KEY_BYTES: usize = 1 << 20;

/// How many postings ahead of the cursor [`TermCursor::advance`] prefetches a length key.
const PREFETCH_AHEAD: usize = 8;

impl<'a> TermCursor<'a> {
    /// A cursor at the first posting of `list`. `num_docs` bounds the doc ids (a damaged block
    /// ends the list), `keys` and `norm` give each document's length factor, `scorer` is the
    /// query term's, and `term` its position in the query. When `bounds`, `max_score()` is
    /// computed (from the stored frontier, or by scoring a single-block list).
    pub fn new(
        list: PostingList<'a>,
        num_docs: u32,
        keys: DocKeys<'a>,
        norm: &'a LengthNorm,
        scorer: TermScorer,
        term: usize,
        bounds: bool,
    ) -> Self {
        let mut c = Self {
            list,
            num_docs,
            keys,
            norm,
            scorer,
            block: 0,
            pos: 0,
            len: 0,
            doc: END,
            packed: None,
            vals_ready: false,
            max_score: Score::INFINITY,
            single_last: END,
            sblock: 0,
            sblock_max: Score::NAN,
            term,
            docs: [0; BLOCK_LEN],
            vals: [0; BLOCK_LEN],
            scores: [0.0; BLOCK_LEN],
            scored_from: BLOCK_LEN,
            prefetch: keys.byte_len() >= PREFETCH_MIN_KEY_BYTES,
            block_keys: None,
        };
        c.load_block(0);
        if !list.has_skips() && c.len > 0 {
            c.single_last = c.docs[c.len - 1];
        }
        if bounds {
            c.max_score = c.compute_max_score();
        }
        c
    }

    /// Bounds blocks with `keys` (one per block, from [`crate::index::bounds::block_keys`] of
    /// this list and this index's length norm) instead of their frontiers. Keys of the wrong
    /// length are ignored.
    pub fn set_block_keys(&mut self, keys: Arc<[f32]>) {
        if keys.len() == self.list.num_blocks() as usize {
            self.block_keys = Some(keys);
            self.sblock_max = Score::NAN;
        }
    }

    /// Upper bound of the scores of block `b` of a list with skips (`INFINITY` when its
    /// frontier is damaged).
    fn bound_of(&self, b: u32) -> Score {
        if let Some(&key) = self.block_keys.as_ref().and_then(|k| k.get(b as usize)) {
            return self.scorer.bound_of_key(key);
        }
        let (norm, scorer) = (self.norm, &self.scorer);
        let mut m: Score = 0.0;
        match self.list.for_each_block_frontier_pair(b, |v, k| {
            m = m.max(scorer.bound(v, norm.factor(k)));
        }) {
            Some(()) => m,
            None => Score::INFINITY,
        }
    }

    fn compute_max_score(&mut self) -> Score {
        if self.list.has_skips() {
            // Once per query term: the list frontier may be long, collect it.
            let mut pairs = Vec::new();
            let norm = self.norm;
            match self
                .list
                .for_each_frontier_pair(|v, k| pairs.push((v, norm.factor(k))))
            {
                Some(()) => self.scorer.max_bound(pairs.into_iter()),
                None => Score::INFINITY,
            }
        } else if self.len == 0 {
            0.0
        } else {
            // A single block: the exact maximum of its scores.
            self.ensure_values();
            let mut m: Score = 0.0;
            for i in 0..self.len {
                let f = self.keys.factor(self.norm, self.docs[i]);
                m = m.max(self.scorer.score(self.vals[i], f));
            }
            m
        }
    }

    /// Position of this cursor's term in the query's canonical order.
    #[inline]
    pub fn term(&self) -> usize {
        self.term
    }

    /// Number of postings of the list.
    pub fn len(&self) -> u32 {
        self.list.len()
    }

    /// Never true (a list has at least one posting).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Decodes block `b` (or marks the cursor exhausted past the last / at a damaged block).
    #[cold]
    fn load_block(&mut self, b: u32) {
        self.vals_ready = false;
        self.scored_from = BLOCK_LEN;
        if b < self.list.num_blocks() {
            if let Some((n, packed)) = self.list.decode_docs(b, self.num_docs, &mut self.docs) {
                self.block = b;
                self.pos = 0;
                self.len = n;
                self.doc = self.docs[0];
                self.packed = Some(packed);
                if self.prefetch {
                    self.keys.prefetch(&self.docs[..n.min(PREFETCH_AHEAD)]);
                }
                return;
            }
        }
        self.block = self.list.num_blocks();
        self.pos = 0;
        self.len = 0;
        self.doc = END;
        self.packed = None;
    }

    #[inline]
    fn ensure_values(&mut self) {
        if !self.vals_ready {
            self.vals_ready = true;
            let ok = self.packed.and_then(|p| p.decode(&mut self.vals));
            if ok.is_none() {
                self.vals.fill(0);
            }
        }
    }

    /// The doc ids and scores of the current block's postings from the cursor on (empty at
    /// [`END`]); each score is bit for bit what [`ScoredCursor::score`] gives there, computed
    /// for all of them at once (length factors gathered, then one vectorisable loop). The
    /// cursor does not move: [`TermCursor::skip_in_block`] does.
    pub fn rest_of_block(&mut self) -> (&[DocId], &[Score]) {
        if self.doc == END {
            return (&[], &[]);
        }
        let (pos, len) = (self.pos, self.len);
        if self.scored_from > pos {
            self.ensure_values();
            let mut factors = [0f32; BLOCK_LEN];
            let m = len - pos;
            self.keys
                .factors(self.norm, &self.docs[pos..len], &mut factors[..m]);
            self.scorer.score_many(
                &self.vals[pos..len],
                &factors[..m],
                &mut self.scores[pos..len],
            );
            self.scored_from = pos;
        }
        (&self.docs[pos..len], &self.scores[pos..len])
    }

    /// Position of the cursor in its current block.
    #[inline]
    pub fn block_pos(&self) -> usize {
        self.pos
    }

    /// Doc id of posting `i` of the current block (`i` below the block's length).
    #[inline]
    pub fn block_doc(&self, i: usize) -> DocId {
        self.docs[i]
    }

    /// Score of posting `i` of the current block, for `i` from the position of the last
    /// [`TermCursor::rest_of_block`] call on (0.0 before such a call).
    #[inline]
    pub fn block_score(&self, i: usize) -> Score {
        debug_assert!(i >= self.scored_from && i < self.len);
        self.scores[i]
    }

    /// An upper bound of the scores of the postings from the shallow position's block up to
    /// doc `end`: the largest block bound over the blocks that can hold such postings, or the
    /// list maximum when they are more than `max_blocks` (the shallow position does not
    /// move; call [`BlockMaxCursor::shallow_seek`] first).
    pub fn max_score_upto(&mut self, end: DocId, max_blocks: u32) -> Score {
        let nblocks = self.list.num_blocks();
        if !self.list.has_skips() || self.sblock >= nblocks {
            return self.block_max_score();
        }
        let mut m = self.block_max_score();
        let (mut b, mut n) = (self.sblock, 1);
        while self.last_of(b) < end && b + 1 < nblocks {
            if n == max_blocks {
                return self.max_score;
            }
            b += 1;
            n += 1;
            m = m.max(self.bound_of(b));
        }
        m
    }

    /// Moves `k` postings forward within the current block (`k` at most what
    /// [`TermCursor::rest_of_block`] returned); to the next block when that reaches its end.
    pub fn skip_in_block(&mut self, k: usize) {
        if self.doc == END || k == 0 {
            return;
        }
        self.pos += k;
        if self.pos < self.len {
            self.doc = self.docs[self.pos];
        } else {
            self.load_block(self.block + 1);
        }
    }

    /// Last doc id of block `b` (`END` when unknown or past the end).
    #[inline]
    fn last_of(&self, b: u32) -> DocId {
        if self.list.has_skips() {
            self.list.last_doc(b).unwrap_or(END)
        } else if b == 0 {
            self.single_last
        } else {
            END
        }
    }
}

impl PostingCursor for TermCursor<'_> {
    #[inline]
    fn doc(&self) -> DocId {
        self.doc
    }

    #[inline]
    fn advance(&mut self) {
        self.pos += 1;
        if self.pos < self.len {
            self.doc = self.docs[self.pos];
            if self.prefetch && self.pos + PREFETCH_AHEAD < self.len {
                self.keys
                    .prefetch(std::slice::from_ref(&self.docs[self.pos + PREFETCH_AHEAD]));
            }
        } else if self.doc != END {
            self.load_block(self.block + 1);
        }
    }
}

impl SeekCursor for TermCursor<'_> {
    #[inline]
    fn seek(&mut self, target: DocId) {
        if target <= self.doc {
            return;
        }
        if self.docs[self.len - 1] < target {
            // Past the current block: find the first block that can hold `target`.
            let nblocks = self.list.num_blocks();
            let mut b = self.block + 1;
            if self.list.has_skips() {
                if self.sblock > b && self.last_of(self.sblock - 1) < target {
                    b = self.sblock;
                }
                while b < nblocks && self.last_of(b) < target {
                    b += 1;
                }
            }
            self.load_block(b);
            if self.doc >= target {
                return;
            }
            if self.docs[self.len - 1] < target {
                // Only a damaged skip table gets here.
                self.load_block(nblocks);
                return;
            }
        }
        let mut p = self.pos + 1;
        while self.docs[p] < target {
            p += 1;
        }
        self.pos = p;
        self.doc = self.docs[p];
    }
}

impl ScoredCursor for TermCursor<'_> {
    #[inline]
    fn score(&mut self) -> Score {
        self.ensure_values();
        let f = self.keys.factor(self.norm, self.doc);
        self.scorer.score(self.vals[self.pos], f)
    }
}

impl MaxScoreCursor for TermCursor<'_> {
    #[inline]
    fn max_score(&self) -> Score {
        self.max_score
    }
}

impl BlockMaxCursor for TermCursor<'_> {
    #[inline]
    fn shallow_seek(&mut self, target: DocId) {
        let nblocks = self.list.num_blocks();
        let mut b = self.sblock.max(self.block);
        while b < nblocks && self.last_of(b) < target {
            b += 1;
        }
        if b != self.sblock {
            self.sblock = b;
            self.sblock_max = Score::NAN;
        }
    }

    #[inline]
    fn block_max_score(&mut self) -> Score {
        if self.sblock >= self.list.num_blocks() {
            return 0.0;
        }
        if !self.list.has_skips() {
            return self.max_score;
        }
        if self.sblock_max.is_nan() {
            self.sblock_max = self.bound_of(self.sblock);
        }
        self.sblock_max
    }

    #[inline]
    fn block_end(&self) -> DocId {
        if self.sblock >= self.list.num_blocks() {
            END
        } else {
            self.last_of(self.sblock)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postings::encode_postings;
    use crate::score::{CollectionStats, ScoringConfig};

    /// The encoded list of `docs` / `vals` (length keys `keys32`) and default BM25 scoring for
    /// a collection of `keys32.len()` documents of mean length `avg_len`.
    fn list_and_scoring(
        docs: &[u32],
        vals: &[u32],
        keys32: &[u32],
        avg_len: f64,
    ) -> (Vec<u8>, LengthNorm, TermScorer) {
        let mut buf = Vec::new();
        encode_postings(docs, vals, keys32, &mut buf).unwrap();
        let config = ScoringConfig::default();
        let n = keys32.len() as f64;
        let stats = CollectionStats {
            num_docs: keys32.len() as u64,
            total_length: avg_len * n,
        };
        let norm = LengthNorm::new(&config, &stats);
        let scorer = TermScorer::new(&config, &stats, docs.len() as u64, 1.0);
        (buf, norm, scorer)
    }

    /// Every posting the cursor reaches, with its score's bits: advancing, and every
    /// `seek_every`-th step seeking 5,000 docs ahead instead.
    fn walk(c: &mut TermCursor<'_>, seek_every: usize) -> Vec<(DocId, u32)> {
        let mut out = Vec::new();
        while c.doc() != END {
            out.push((c.doc(), c.score().to_bits()));
            if out.len() % seek_every == 0 {
                c.seek(c.doc() + 5_000);
            } else {
                c.advance();
            }
        }
        out
    }

    /// With length keys large enough to be prefetched, a cursor reads every posting, in order,
    /// with the scores of a cursor that does not prefetch; out-of-range ids are never read.
    #[test]
    fn prefetching_cursor_reads_the_same_postings() {
        let n = (PREFETCH_MIN_KEY_BYTES + 4_321) as u32;
        let norms: Vec<u8> = (0..n).map(|d| (d % 251) as u8).collect();
        let keys32: Vec<u32> = norms.iter().map(|&b| u32::from(b)).collect();
        let docs: Vec<u32> = (0..n).step_by(997).chain([n - 1]).collect();
        let vals: Vec<u32> = docs.iter().map(|d| 1 + d % 7).collect();
        let (buf, norm, scorer) = list_and_scoring(&docs, &vals, &keys32, 100.0);
        let keys = DocKeys::NormBytes(&norms);
        assert!(keys.byte_len() >= PREFETCH_MIN_KEY_BYTES);
        let cursor = |prefetch: bool| {
            let list = PostingList::new(&buf, docs.len() as u32).unwrap();
            let mut c = TermCursor::new(list, n, keys, &norm, scorer, 0, true);
            assert!(c.prefetch);
            c.prefetch = prefetch;
            c
        };
        for seek_every in [usize::MAX, 3] {
            let with = walk(&mut cursor(true), seek_every);
            assert_eq!(with, walk(&mut cursor(false), seek_every));
            if seek_every == usize::MAX {
                assert_eq!(with.iter().map(|p| p.0).collect::<Vec<_>>(), docs);
            }
        }
        keys.prefetch(&[0, n - 1, n, u32::MAX]);
        DocKeys::None.prefetch(&[7]);
    }

    /// `max_score_upto` bounds every score from the shallow position up to `end`, is the
    /// largest block bound over those blocks when they are at most `max_blocks`, and does not
    /// move the shallow position.
    #[test]
    fn max_score_upto_bounds_the_window() {
        let n = 40_000u32;
        let norms: Vec<u8> = (0..n).map(|d| (d % 13) as u8).collect();
        let keys32: Vec<u32> = norms.iter().map(|&b| u32::from(b)).collect();
        let docs: Vec<u32> = (0..n).step_by(7).collect();
        // Frequencies that vary a lot from block to block: one block in five holds large ones.
        let vals: Vec<u32> = (0..docs.len() as u32)
            .map(|i| {
                if (i / 128) % 5 == 3 {
                    1 + (i * 37) % 50
                } else {
                    1 + i % 3
                }
            })
            .collect();
        let (buf, norm, scorer) = list_and_scoring(&docs, &vals, &keys32, 8.0);
        let keys = DocKeys::NormBytes(&norms);
        let list = PostingList::new(&buf, docs.len() as u32).unwrap();
        assert!(list.num_blocks() > 20);
        // Every posting's exact score.
        let mut exact = Vec::new();
        let mut c = TermCursor::new(list, n, keys, &norm, scorer, 0, false);
        while c.doc() != END {
            exact.push((c.doc(), c.score()));
            c.advance();
        }
        let mut checked_tight = 0;
        for start in (0..n).step_by(997) {
            for span in [1u32, 100, 900, 2_000, 7_000, 30_000] {
                let end = start.saturating_add(span);
                let mut c = TermCursor::new(list, n, keys, &norm, scorer, 0, false);
                c.shallow_seek(start);
                let (sb, before) = (c.sblock, c.block_max_score());
                let bound = c.max_score_upto(end, 8);
                assert_eq!(c.sblock, sb, "shallow position moved");
                assert_eq!(c.block_max_score(), before);
                let truth = exact
                    .iter()
                    .filter(|(d, _)| (start..=end).contains(d))
                    .map(|p| p.1)
                    .fold(0.0, Score::max);
                assert!(bound >= truth, "start {start} end {end}: {bound} < {truth}");
                assert!(bound <= c.max_score());
                // The blocks that can hold postings in start..=end.
                let last = (sb..list.num_blocks())
                    .find(|&b| c.last_of(b) >= end)
                    .unwrap_or(list.num_blocks() - 1);
                if last - sb < 8 {
                    let want = (sb..=last).map(|b| c.bound_of(b)).fold(0.0, Score::max);
                    assert_eq!(bound, want, "start {start} end {end}");
                    checked_tight += 1;
                } else {
                    assert_eq!(bound, c.max_score());
                }
            }
        }
        assert!(checked_tight > 50);
    }
}

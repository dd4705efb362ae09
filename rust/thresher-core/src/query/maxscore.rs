//! Block-max MaxScore (Turtle & Flood, "Query evaluation: strategies and optimizations", IP&M
//! 1995; with block-max refinement as in Chakrabarti et al., WSDM 2011, and Mallia et al., "An
//! Experimental Study of Index Compression and DAAT Query Processing Methods", ECIR 2019 —
//! PISA's `block_max_maxscore_query`).
//!
//! Terms are sorted by their maximum score. The shortest prefix whose maximum scores add up to
//! no more than the threshold holds the *non-essential* lists: a document found only there
//! cannot enter the top-k, so candidates are taken from the essential lists alone. A candidate's
//! essential scores are computed first; then the window's candidates are finished together,
//! one non-essential list at a time from the largest down (Lucene's MaxScoreBulkScorer): a
//! candidate is dropped as soon as its partial score plus the list's block maximum and the
//! smaller lists' window bounds cannot beat the threshold, otherwise the list is sought and
//! scored, and the candidate dropped if that score (or its absence) leaves it unable to. A
//! surviving candidate is scored in canonical term order, so its score is bit-identical to
//! exhaustive's.
//!
//! Documents are taken in windows: from the next essential posting to the end of the shortest
//! current block of the essential lists. A window is skipped whole when the essential lists'
//! block maxima plus the non-essential lists' largest block bounds over the window (at most
//! [`WINDOW_BOUND_BLOCKS`] blocks each, else their maxima) cannot beat the threshold; the same
//! window bound filters the window's candidates. Inside a window, the essential lists'
//! postings are scored a block at a time ([`TermCursor::rest_of_block`]): with one essential
//! list its scores are the candidates; with several, a window shorter than [`DENSE_SPAN`]
//! documents is summed into a dense array and scanned in doc order (Lucene's
//! MaxScoreBulkScorer); a longer one (sparse lists) is merged from the block arrays. All
//! comparisons go through [`Pruner`] (rounding-safe thresholds), which starts each segment from
//! the floor of [`Prepared::prime_floor`] rather than from an empty heap's `-inf`.

use crate::index::Index;
use crate::postings::{
    BlockMaxCursor, MaxScoreCursor, PostingCursor, ScoredCursor, SeekCursor, TermCursor, END,
};
use crate::query::bmw;
use crate::query::prepared::{canonical_sum, Prepared, Pruner};
use crate::query::{DocFilter, TopK};
use crate::types::{DocId, Score};
use std::cell::RefCell;

/// Adds the top-k documents for `prep` to `top` (the query's weights must be non-negative:
/// see [`Prepared::prunable`]).
pub fn search(index: &Index, prep: &Prepared<'_>, top: &mut TopK, allow: Option<&DocFilter>) {
    DENSE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut dense) => search_with(index, prep, top, allow, &mut dense),
        Err(_) => search_with(index, prep, top, allow, &mut Dense::default()),
    });
}

thread_local! {
    /// The dense window's arrays, per thread and reused across queries (allocating and zeroing
    /// them for every query was ~2% of a real-prose run's instructions).
    static DENSE: RefCell<Dense> = RefCell::new(Dense::default());
}

fn search_with(
    index: &Index,
    prep: &Prepared<'_>,
    top: &mut TopK,
    allow: Option<&DocFilter>,
    dense: &mut Dense,
) {
    let mut pruner = Pruner::new(prep.num_terms());
    let mut contrib = vec![0.0; prep.num_terms()];
    for (seg, view) in index.segment_views().iter().enumerate() {
        pruner = pruner.with_floor(prep.prime_floor(index, seg, view, top.capacity(), allow));
        let mut cursors = prep.cursors(index, seg, view);
        match cursors.len() {
            0 => {}
            // With one list MaxScore cannot skip anything (the list is always essential);
            // block-max WAND's block skipping is the same algorithm done right for that case.
            1 => bmw::segment(&mut cursors, view.base, top, allow, &pruner, &mut contrib),
            _ => segment(
                &mut cursors,
                view.base,
                top,
                allow,
                &pruner,
                &mut contrib,
                dense,
            ),
        }
    }
}

fn segment(
    cs: &mut [TermCursor<'_>],
    base: DocId,
    top: &mut TopK,
    allow: Option<&DocFilter>,
    pruner: &Pruner,
    contrib: &mut [Score],
    dense: &mut Dense,
) {
    cs.sort_by(|a, b| {
        a.max_score()
            .total_cmp(&b.max_score())
            .then(a.term().cmp(&b.term()))
    });
    let n = cs.len();
    // ub[i]: sum of the maximum scores of lists 0..=i.
    let mut ub = Vec::with_capacity(n);
    let mut acc: Score = 0.0;
    for c in cs.iter() {
        acc += c.max_score();
        ub.push(acc);
    }
    let mut theta = pruner.safe(top.threshold());
    let mut ne = 0;
    while ne < n && ub[ne] <= theta {
        ne += 1;
    }
    let mut cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
    // Per essential list in the current window: next and end position in its block (the
    // cursors stay at the window's start until the merge is over).
    let (mut pos, mut lim) = (Vec::new(), Vec::new());
    // wbp[j]: the sum of the window bounds of non-essential lists 0..=j.
    let mut wbp: Vec<Score> = Vec::with_capacity(n);
    let batch = &mut Batch::default();
    // One window per iteration: every path below leaves the essential cursors past its end.
    while ne < n && cur != END {
        // A new window: from `cur` to the end of the shortest current block of the essential
        // lists. If their block maxima plus the non-essential lists' bound over the window
        // cannot beat the threshold, no document in it can: skip it whole (Lucene's
        // MaxScoreBulkScorer does this per window; for a single essential list it is
        // block-max WAND's block skipping).
        // A list whose next posting lies beyond the window has nothing in it and adds nothing
        // to the bound (a rare essential term, whose one block spans the whole segment, would
        // otherwise keep every window of a frequent one open).
        let mut w_end = END;
        for c in cs[ne..].iter_mut() {
            c.shallow_seek(cur);
            w_end = w_end.min(c.block_end());
        }
        let mut bsum: Score = 0.0;
        for c in cs[ne..].iter_mut() {
            if c.doc() <= w_end {
                bsum += c.block_max_score();
            }
        }
        let mut rest = if ne > 0 { ub[ne - 1] } else { 0.0 };
        if bsum + rest > theta && ne > 0 {
            // Tighter: the non-essential lists' largest block bounds over the window.
            rest = 0.0;
            wbp.clear();
            for c in cs[..ne].iter_mut() {
                c.shallow_seek(cur);
                rest += c.max_score_upto(w_end, WINDOW_BOUND_BLOCKS);
                wbp.push(rest);
            }
        }
        if bsum + rest <= theta {
            let target = w_end.saturating_add(1);
            for c in cs[ne..].iter_mut() {
                c.seek(target);
            }
            cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
            continue;
        }
        // The window's candidates: documents of the essential lists whose essential scores
        // plus `rest` can beat the threshold, with their per-term scores.
        let (non, ess) = cs.split_at_mut(ne);
        batch.start(contrib.len());
        if ess.len() == 1 {
            // One essential list: score the rest of its block at once and take as candidates
            // only the postings that, with the window's non-essential bound, can beat the
            // threshold (Lucene's single-essential-clause window). Same candidates, same
            // scores, no per-posting merge.
            let term = ess[0].term();
            let (docs, scores) = ess[0].rest_of_block();
            let used = docs.partition_point(|&d| d <= w_end);
            for (&doc, &s) in docs[..used].iter().zip(scores) {
                if s + rest <= theta || allow.is_some_and(|a| !a.contains(base + doc)) {
                    continue;
                }
                batch.push(doc, s)[term] = s;
            }
            ess[0].skip_in_block(used);
        } else if u64::from(w_end) - u64::from(cur) < DENSE_SPAN as u64 && ess.len() <= 64 {
            // A short window (the essential lists are dense here): accumulate their
            // block-scored postings into an array indexed by doc id (Lucene's
            // MaxScoreBulkScorer does this for windows of several essential clauses).
            dense_window(ess, cur, w_end, rest, theta, allow, base, batch, dense);
        } else {
            // Several essential lists: merge the parts of their current blocks up to the
            // window's end (all of them lie in the current block of every essential list),
            // each block scored at once.
            let m = ess.len();
            pos.clear();
            lim.clear();
            let mut doc = END;
            for e in ess.iter_mut() {
                let p = e.block_pos();
                let mut c = 0;
                if e.doc() <= w_end {
                    let (docs, _) = e.rest_of_block();
                    c = docs.partition_point(|&d| d <= w_end);
                    if let Some(&d) = docs.first() {
                        doc = doc.min(d);
                    }
                }
                pos.push(p);
                lim.push(p + c);
            }
            while doc != END {
                let allowed = allow.is_none_or(|a| a.contains(base + doc));
                let mut next = END;
                let mut partial: Score = 0.0;
                for i in 0..m {
                    if pos[i] < lim[i] {
                        let e = &ess[i];
                        if e.block_doc(pos[i]) == doc {
                            if allowed {
                                let s = e.block_score(pos[i]);
                                contrib[e.term()] = s;
                                partial += s;
                            }
                            pos[i] += 1;
                        }
                        if pos[i] < lim[i] {
                            next = next.min(e.block_doc(pos[i]));
                        }
                    }
                }
                if allowed {
                    if partial + rest > theta {
                        let row = batch.push(doc, partial);
                        for e in ess.iter() {
                            row[e.term()] = contrib[e.term()];
                        }
                    }
                    for e in ess.iter() {
                        contrib[e.term()] = 0.0;
                    }
                }
                doc = next;
            }
            for (e, &p) in ess.iter_mut().zip(&pos) {
                e.skip_in_block(p - e.block_pos());
            }
        }
        if !batch.cands.is_empty() {
            finish_batch(non, &wbp, theta, batch);
            if insert_batch(batch, top, base) {
                theta = pruner.safe(top.threshold());
                // The smallest essential lists may have become non-essential (all of them:
                // then nothing left can beat the threshold and the loop ends).
                while ne < n && ub[ne] <= theta {
                    ne += 1;
                }
            }
        }
        cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
    }
}

/// Windows spanning fewer documents than this (and with several essential lists) are scored
/// into a dense array; longer ones (sparse lists) are merged.
const DENSE_SPAN: usize = 4096;

/// A window's bound for a non-essential list is the largest bound of at most this many of its
/// blocks (the list maximum when the window spans more).
const WINDOW_BOUND_BLOCKS: u32 = 8;

/// Scratch space of [`dense_window`] (kept per thread across queries: `acc`, `bits` and
/// `lists` are all zero between windows).
#[derive(Default)]
struct Dense {
    /// Sum of the essential scores per document of the window (zero outside `bits`).
    acc: Vec<Score>,
    /// Documents of the window with at least one essential posting.
    bits: Vec<u64>,
    /// Per document of the window: which essential lists (bit `i` for `ess[i]`) have it.
    lists: Vec<u64>,
    /// Per essential list: next and end position in its current block.
    ptr: Vec<usize>,
    lim: Vec<usize>,
    /// A window is in progress (a panic inside one would leave the arrays dirty for the next
    /// query on this thread: [`Dense::ensure`] then zeroes them).
    busy: bool,
}

impl Dense {
    /// Allocated by the first dense window (most queries never have one: short lists, one
    /// essential list); zeroed again if the last window did not finish.
    fn ensure(&mut self) {
        if self.acc.is_empty() {
            self.acc = vec![0.0; DENSE_SPAN];
            self.bits = vec![0; DENSE_SPAN / 64];
            self.lists = vec![0; DENSE_SPAN];
        } else if self.busy {
            self.acc.fill(0.0);
            self.bits.fill(0);
            self.lists.fill(0);
        }
        self.busy = true;
    }
}

/// Collects the candidates of the window `cur..=w_end` (fewer than [`DENSE_SPAN`] documents,
/// all within the current block of every essential list in `ess`) into `batch`: the essential
/// lists' block-scored postings are summed per document into `d.acc`, then the documents whose
/// sum plus the non-essential window bound `rest` can beat `theta` are taken in doc order, their
/// per-term scores picked up through the per-document list bitmask and one forward pointer per
/// list. The cursors end past the window.
#[allow(clippy::too_many_arguments)]
fn dense_window(
    ess: &mut [TermCursor<'_>],
    cur: DocId,
    w_end: DocId,
    rest: Score,
    theta: Score,
    allow: Option<&DocFilter>,
    base: DocId,
    batch: &mut Batch,
    d: &mut Dense,
) {
    d.ensure();
    d.ptr.clear();
    d.lim.clear();
    for (i, e) in ess.iter_mut().enumerate() {
        let p = e.block_pos();
        let mut c = 0;
        if e.doc() <= w_end {
            let (docs, scores) = e.rest_of_block();
            c = docs.partition_point(|&x| x <= w_end);
            for (&doc, &s) in docs[..c].iter().zip(&scores[..c]) {
                let o = (doc - cur) as usize;
                d.acc[o] += s;
                d.bits[o >> 6] |= 1u64 << (o & 63);
                d.lists[o] |= 1u64 << i;
            }
        }
        d.ptr.push(p);
        d.lim.push(p + c);
    }
    let words = (w_end - cur) as usize / 64 + 1;
    for w in 0..words {
        let mut word = std::mem::take(&mut d.bits[w]);
        while word != 0 {
            let o = w * 64 + word.trailing_zeros() as usize;
            word &= word - 1;
            let partial = std::mem::take(&mut d.acc[o]);
            let mut lists = std::mem::take(&mut d.lists[o]);
            if partial + rest <= theta {
                continue;
            }
            let doc = cur + o as DocId;
            if allow.is_some_and(|a| !a.contains(base + doc)) {
                continue;
            }
            let row = batch.push(doc, partial);
            while lists != 0 {
                let i = lists.trailing_zeros() as usize;
                lists &= lists - 1;
                let (e, p) = (&ess[i], &mut d.ptr[i]);
                while e.block_doc(*p) < doc {
                    *p += 1;
                }
                row[e.term()] = e.block_score(*p);
            }
        }
    }
    for (e, &l) in ess.iter_mut().zip(&d.lim) {
        e.skip_in_block(l - e.block_pos());
    }
    d.busy = false;
}

/// A window's candidates ([`finish_batch`]).
#[derive(Default)]
struct Batch {
    cands: Vec<Cand>,
    /// Per candidate, a row of `width` per-term contributions (query term order; 0.0 where
    /// the document lacks the term or the list was not scored). Zero past the first `pushed`
    /// rows.
    rows: Vec<Score>,
    width: usize,
    /// Candidates pushed since [`Batch::start`] (survivors are fewer).
    pushed: usize,
}

/// A candidate of a window.
#[derive(Clone, Copy)]
struct Cand {
    /// Segment-local doc id.
    doc: DocId,
    /// Its scores summed so far: the essential lists', then the non-essential lists' scored.
    partial: Score,
    /// Its row in [`Batch::rows`].
    row: u32,
}

impl Batch {
    /// Empties the batch for queries of `width` terms: the rows used are zeroed in one pass
    /// (zeroing each row as it is pushed cost a `memset` call per candidate, ~5% of a real
    /// prose run's instructions). The whole array is then zero, so any width can reuse it.
    fn start(&mut self, width: usize) {
        let used = (self.pushed * self.width).min(self.rows.len());
        self.rows[..used].fill(0.0);
        self.width = width;
        self.cands.clear();
        self.pushed = 0;
    }

    /// Adds a candidate; returns its (zeroed) row of contributions to fill.
    #[inline]
    fn push(&mut self, doc: DocId, partial: Score) -> &mut [Score] {
        let row = self.pushed;
        self.pushed += 1;
        self.cands.push(Cand {
            doc,
            partial,
            row: row as u32,
        });
        let (at, w) = (row * self.width, self.width);
        if self.rows.len() < at + w {
            self.rows.resize((at + w).max(2 * self.rows.len()), 0.0);
        }
        &mut self.rows[at..at + w]
    }
}

/// Finishes a window's candidates (in doc order) against the non-essential lists `non`, one
/// list at a time from the largest down, as Lucene's MaxScoreBulkScorer scores its
/// non-essential clauses: a candidate is dropped as soon as its partial score plus list `j`'s
/// block maximum at the candidate plus the window bounds of lists `0..j` (`wbp[j - 1]`) cannot
/// beat `theta`; otherwise list `j` is sought and its score added, and the candidate is dropped
/// if its partial score plus those window bounds no longer can (a miss, or a low score: Lucene's
/// required-clause test, and before the heap for the last list). Each list's cursor moves
/// forward through the window once, instead of every list being visited per candidate. Each
/// estimate is a sum of non-negative leaves, at most one per query term, as [`Pruner`]
/// requires. Keeps the survivors in `b.cands`.
fn finish_batch(non: &mut [TermCursor<'_>], wbp: &[Score], theta: Score, b: &mut Batch) {
    let w = b.width;
    for j in (0..non.len()).rev() {
        let below = if j > 0 { wbp[j - 1] } else { 0.0 };
        let c = &mut non[j];
        let term = c.term();
        let mut kept = 0;
        for i in 0..b.cands.len() {
            let mut cand = b.cands[i];
            c.shallow_seek(cand.doc);
            if cand.partial + (c.block_max_score() + below) <= theta {
                continue;
            }
            c.seek(cand.doc);
            if c.doc() == cand.doc {
                let s = c.score();
                b.rows[cand.row as usize * w + term] = s;
                cand.partial += s;
            }
            if cand.partial + below <= theta {
                continue;
            }
            b.cands[kept] = cand;
            kept += 1;
        }
        b.cands.truncate(kept);
        if kept == 0 {
            return;
        }
    }
}

/// Offers the survivors of [`finish_batch`] to `top` with their canonical scores. Returns
/// whether any entered.
fn insert_batch(b: &Batch, top: &mut TopK, base: DocId) -> bool {
    let w = b.width;
    let mut inserted = false;
    for cand in &b.cands {
        let row = &b.rows[cand.row as usize * w..][..w];
        inserted |= top.insert(base + cand.doc, canonical_sum(row));
    }
    inserted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rows_are_zero_when_pushed_again() {
        let mut b = Batch::default();
        b.start(3);
        for doc in 0..5 {
            let row = b.push(doc, 1.0);
            assert_eq!(row, &[0.0; 3]);
            row.fill(doc as Score + 1.0);
        }
        // The next window reuses the rows: each must come back zeroed.
        b.start(3);
        assert!(b.cands.is_empty());
        for doc in 0..7 {
            assert_eq!(b.push(doc, 0.0), &[0.0; 3], "row {doc}");
        }
        // A different width starts afresh.
        b.start(2);
        assert_eq!(b.push(9, 0.0), &[0.0; 2]);
        assert_eq!(b.cands.len(), 1);
        assert_eq!(b.cands[0].row, 0);
    }

    #[test]
    fn dense_scratch_is_zeroed_after_an_unfinished_window() {
        let mut d = Dense::default();
        d.ensure();
        assert!(d.acc.iter().all(|&x| x == 0.0));
        // A window that stopped half-way (a panic) leaves values behind.
        d.acc[5] = 2.5;
        d.bits[0] = 1 << 5;
        d.lists[5] = 3;
        d.ensure();
        assert!(d.acc.iter().all(|&x| x == 0.0));
        assert!(d.bits.iter().all(|&x| x == 0));
        assert!(d.lists.iter().all(|&x| x == 0));
        // A finished window's arrays are trusted as they are (all zero by construction).
        d.busy = false;
        d.acc[1] = 1.0;
        d.ensure();
        assert_eq!(d.acc[1], 1.0);
    }
}

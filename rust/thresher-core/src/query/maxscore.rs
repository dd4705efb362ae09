//! Block-max MaxScore (Turtle & Flood, "Query evaluation: strategies and optimizations", IP&M
//! 1995; with block-max refinement as in Chakrabarti et al., WSDM 2011, and Mallia et al., "An
//! Experimental Study of Index Compression and DAAT Query Processing Methods", ECIR 2019 —
//! PISA's `block_max_maxscore_query`).
//!
//! Terms are sorted by their maximum score. The shortest prefix whose maximum scores add up to
//! no more than the threshold holds the *non-essential* lists: a document found only there
//! cannot enter the top-k, so candidates are taken from the essential lists alone. A candidate's
//! essential scores are computed first; then, from the largest non-essential list down, the
//! candidate is dropped as soon as its partial score plus the remaining lists' maximum (then
//! block-maximum) scores cannot beat the threshold, otherwise the list is sought and scored.
//! A surviving candidate is scored in canonical term order, so its score is bit-identical to
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
use crate::query::prepared::{canonical_sum, Prepared, Pruner};
use crate::query::{DocFilter, TopK};
use crate::types::{DocId, Score};

/// Adds the top-k documents for `prep` to `top` (the query's weights must be non-negative:
/// see [`Prepared::prunable`]).
pub fn search(index: &Index, prep: &Prepared<'_>, top: &mut TopK, allow: Option<&DocFilter>) {
    let mut pruner = Pruner::new(prep.num_terms());
    let mut contrib = vec![0.0; prep.num_terms()];
    for (seg, view) in index.segment_views().iter().enumerate() {
        pruner = pruner.with_floor(prep.prime_floor(index, seg, view, top.capacity(), allow));
        let mut cursors = prep.cursors(index, seg, view);
        match cursors.len() {
            0 => {}
            // With one list MaxScore cannot skip anything (the list is always essential);
            // block-max WAND's block skipping is the same algorithm done right for that case.
            1 => crate::query::bmw::segment(
                &mut cursors,
                view.base,
                top,
                allow,
                &pruner,
                &mut contrib,
            ),
            _ => segment(&mut cursors, view.base, top, allow, &pruner, &mut contrib),
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
    let mut bm = vec![0.0; n];
    let mut theta = pruner.safe(top.threshold());
    let mut ne = 0;
    while ne < n && ub[ne] <= theta {
        ne += 1;
    }
    let mut cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
    // Per essential list in the current window: next and end position in its block (the
    // cursors stay at the window's start until the merge is over).
    let (mut pos, mut lim) = (Vec::new(), Vec::new());
    let mut dense = Dense::new();
    // Candidates up to `window_end` passed the window check below.
    let mut window_end: Option<DocId> = None;
    // A bound of the non-essential lists' scores within the window.
    let mut window_rest: Score = 0.0;
    while ne < n && cur != END {
        if window_end.is_none_or(|w| cur > w) {
            // A new window: from `cur` to the end of the shortest current block of the
            // essential lists. If their block maxima plus the non-essential lists' bound over
            // the window cannot beat the threshold, no document in it can: skip it whole (Lucene's
            // MaxScoreBulkScorer does this per window; for a single essential list it is
            // block-max WAND's block skipping).
            // A list whose next posting lies beyond the window has nothing in it and adds
            // nothing to the bound (a rare essential term, whose one block spans the whole
            // segment, would otherwise keep every window of a frequent one open).
            let mut end = END;
            for c in cs[ne..].iter_mut() {
                c.shallow_seek(cur);
                end = end.min(c.block_end());
            }
            let mut bsum: Score = 0.0;
            for c in cs[ne..].iter_mut() {
                if c.doc() <= end {
                    bsum += c.block_max_score();
                }
            }
            let mut rest = if ne > 0 { ub[ne - 1] } else { 0.0 };
            if bsum + rest > theta && ne > 0 {
                // Tighter: the non-essential lists' largest block bounds over the window.
                rest = 0.0;
                for c in cs[..ne].iter_mut() {
                    c.shallow_seek(cur);
                    rest += c.max_score_upto(end, WINDOW_BOUND_BLOCKS);
                }
            }
            if bsum + rest <= theta {
                let target = end.saturating_add(1);
                for c in cs[ne..].iter_mut() {
                    c.seek(target);
                }
                cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
                window_end = None;
                continue;
            }
            window_end = Some(end);
            window_rest = rest;
        }
        if n - ne == 1 {
            // One essential list: score the rest of its block at once and take as candidates
            // only the postings that, with the window's non-essential bound, can beat the threshold
            // (Lucene's single-essential-clause window). Same candidates, same scores, no
            // per-posting merge.
            let w_end = window_end.unwrap_or(END);
            let (non, ess) = cs.split_at_mut(ne);
            let e = &mut ess[0];
            let term = e.term();
            let rest = window_rest;
            let (docs, scores) = e.rest_of_block();
            let mut used = docs.len();
            let mut done = false;
            for (i, (&doc, &s)) in docs.iter().zip(scores).enumerate() {
                if doc > w_end {
                    used = i;
                    break;
                }
                if s + rest <= theta || allow.is_some_and(|a| !a.contains(base + doc)) {
                    continue;
                }
                contrib[term] = s;
                let inserted = finish(non, &ub, &mut bm, doc, s, theta, contrib, top, base);
                contrib[term] = 0.0;
                for c in non.iter() {
                    contrib[c.term()] = 0.0;
                }
                if inserted {
                    theta = pruner.safe(top.threshold());
                    if ub[ne] <= theta {
                        // Not even all lists together can beat the threshold any more.
                        used = i + 1;
                        done = true;
                        break;
                    }
                }
            }
            e.skip_in_block(used);
            if done {
                break;
            }
            cur = e.doc();
            continue;
        }
        let w_end = window_end.unwrap_or(END);
        if u64::from(w_end) - u64::from(cur) < DENSE_SPAN as u64 && n - ne <= 64 {
            // A short window (the essential lists are dense here): accumulate their
            // block-scored postings into an array indexed by doc id (Lucene's
            // MaxScoreBulkScorer does this for windows of several essential clauses).
            let (non, ess) = cs.split_at_mut(ne);
            let theta_before = theta;
            dense_window(
                non,
                ess,
                &ub,
                &mut bm,
                cur,
                w_end,
                window_rest,
                &mut theta,
                pruner,
                top,
                allow,
                base,
                contrib,
                &mut dense,
            );
            if theta != theta_before {
                while ne < n && ub[ne] <= theta {
                    ne += 1;
                }
            }
            cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
            continue;
        }
        // Several essential lists: merge the parts of their current blocks up to the window's
        // end (all of them lie in the current block of every essential list), each block
        // scored at once.
        let (non, ess) = cs.split_at_mut(ne);
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
        let mut changed = false;
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
                let inserted = finish(non, &ub, &mut bm, doc, partial, theta, contrib, top, base);
                for c in non.iter().chain(ess.iter()) {
                    contrib[c.term()] = 0.0;
                }
                if inserted {
                    theta = pruner.safe(top.threshold());
                    if ub[ne] <= theta {
                        // The smallest essential list became non-essential: re-partition.
                        changed = true;
                        break;
                    }
                }
            }
            doc = next;
        }
        for (e, &p) in ess.iter_mut().zip(&pos) {
            e.skip_in_block(p - e.block_pos());
        }
        if changed {
            while ne < n && ub[ne] <= theta {
                ne += 1;
            }
            window_end = None;
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

/// Scratch space of [`dense_window`].
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
}

impl Dense {
    /// Empty: most queries never have a dense window (short lists, one essential list), so
    /// the arrays are allocated by the first one ([`Dense::ensure`]).
    fn new() -> Self {
        Self {
            acc: Vec::new(),
            bits: Vec::new(),
            lists: Vec::new(),
            ptr: Vec::new(),
            lim: Vec::new(),
        }
    }

    fn ensure(&mut self) {
        if self.acc.is_empty() {
            self.acc = vec![0.0; DENSE_SPAN];
            self.bits = vec![0; DENSE_SPAN / 64];
            self.lists = vec![0; DENSE_SPAN];
        }
    }
}

/// Scores the window `cur..=w_end` (fewer than [`DENSE_SPAN`] documents, all within the
/// current block of every essential list in `ess`): the essential lists' block-scored postings
/// are summed per document into `d.acc`, then the documents are visited in order and those
/// whose sum plus the non-essential maxima can beat the threshold are finished. A candidate's
/// per-term contributions are picked up from the blocks by one forward pointer per list, so
/// its final score is the canonical sum as everywhere else. Updates `theta` after insertions;
/// the cursors end past the window.
#[allow(clippy::too_many_arguments)]
fn dense_window(
    non: &mut [TermCursor<'_>],
    ess: &mut [TermCursor<'_>],
    ub: &[Score],
    bm: &mut [Score],
    cur: DocId,
    w_end: DocId,
    rest: Score,
    theta: &mut Score,
    pruner: &Pruner,
    top: &mut TopK,
    allow: Option<&DocFilter>,
    base: DocId,
    contrib: &mut [Score],
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
            if partial + rest <= *theta {
                continue;
            }
            let doc = cur + o as DocId;
            if allow.is_some_and(|a| !a.contains(base + doc)) {
                continue;
            }
            while lists != 0 {
                let i = lists.trailing_zeros() as usize;
                lists &= lists - 1;
                let (e, p) = (&ess[i], &mut d.ptr[i]);
                while e.block_doc(*p) < doc {
                    *p += 1;
                }
                contrib[e.term()] = e.block_score(*p);
            }
            let inserted = finish(non, ub, bm, doc, partial, *theta, contrib, top, base);
            for c in non.iter().chain(ess.iter()) {
                contrib[c.term()] = 0.0;
            }
            if inserted {
                *theta = pruner.safe(top.threshold());
            }
        }
    }
    for (e, &l) in ess.iter_mut().zip(&d.lim) {
        e.skip_in_block(l - e.block_pos());
    }
}

/// Finishes candidate `doc`, whose essential contributions are in `contrib` and sum to
/// `partial`, against the non-essential lists `non` (`ub[j]`: the sum of the maximum scores of
/// `non[0..=j]`): from the largest list down, drops it as soon as `partial` plus the remaining
/// lists' maximum (then block-maximum) scores cannot beat `theta`, otherwise seeks and scores
/// the list. Returns whether the candidate entered `top`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn finish(
    non: &mut [TermCursor<'_>],
    ub: &[Score],
    bm: &mut [Score],
    doc: DocId,
    mut partial: Score,
    theta: Score,
    contrib: &mut [Score],
    top: &mut TopK,
    base: DocId,
) -> bool {
    let ne = non.len();
    if ne > 0 {
        if partial + ub[ne - 1] <= theta {
            return false;
        }
        // Replace maximum scores by block-maximum scores from the largest list down, stopping
        // as soon as the bound proves the candidate hopeless. Each estimate is a fresh sum of
        // non-negative leaves (no subtraction), as Pruner requires.
        let mut bms: Score = 0.0;
        for j in (0..ne).rev() {
            non[j].shallow_seek(doc);
            bm[j] = non[j].block_max_score();
            bms += bm[j];
            let rest = if j > 0 { ub[j - 1] } else { 0.0 };
            if partial + (bms + rest) <= theta {
                return false;
            }
        }
        // bm[j] becomes the sum of the block maxima of lists 0..=j.
        for j in 1..ne {
            bm[j] += bm[j - 1];
        }
        for j in (0..ne).rev() {
            if partial + bm[j] <= theta {
                return false;
            }
            let c = &mut non[j];
            c.seek(doc);
            if c.doc() == doc {
                let s = c.score();
                contrib[c.term()] = s;
                partial += s;
            }
        }
    }
    top.insert(base + doc, canonical_sum(contrib))
}

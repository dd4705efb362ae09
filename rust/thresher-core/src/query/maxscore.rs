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
//! exhaustive's. Within a window, the essential lists' postings are scored a block at a time
//! ([`TermCursor::rest_of_block`]) and merged from those arrays (Lucene's bulk scoring of
//! essential clauses); with many essential lists, windows are short and the per-posting merge
//! of the cursors is kept. All comparisons go through [`Pruner`] (rounding-safe thresholds).

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
    let pruner = Pruner::new(prep.num_terms());
    let mut contrib = vec![0.0; prep.num_terms()];
    for (seg, view) in index.segment_views().iter().enumerate() {
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

/// Windows with at most this many essential lists merge block-scored postings; with more, the
/// windows are short and scoring each list's block ahead costs more than it saves (SciFact's
/// long queries: 12-15% slower with every window in bulk).
const BULK_MAX_ESSENTIAL: usize = 4;

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
    // Candidates up to `window_end` passed the window check below.
    let mut window_end: Option<DocId> = None;
    while ne < n && cur != END {
        if window_end.is_none_or(|w| cur > w) {
            // A new window: from `cur` to the end of the shortest current block of the
            // essential lists. If their block maxima plus the non-essential maxima cannot beat
            // the threshold, no document in the window can: skip it whole (Lucene's
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
            let rest = if ne > 0 { ub[ne - 1] } else { 0.0 };
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
        }
        if n - ne == 1 {
            // One essential list: score the rest of its block at once and take as candidates
            // only the postings that, with the non-essential maxima, can beat the threshold
            // (Lucene's single-essential-clause window). Same candidates, same scores, no
            // per-posting merge.
            let w_end = window_end.unwrap_or(END);
            let (non, ess) = cs.split_at_mut(ne);
            let e = &mut ess[0];
            let term = e.term();
            let rest = ub[ne - 1];
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
        if n - ne > BULK_MAX_ESSENTIAL {
            let doc = cur;
            let allowed = allow.is_none_or(|a| a.contains(base + doc));
            let mut next = END;
            let mut partial: Score = 0.0;
            for c in cs[ne..].iter_mut() {
                if c.doc() == doc {
                    if allowed {
                        let s = c.score();
                        contrib[c.term()] = s;
                        partial += s;
                    }
                    c.advance();
                }
                next = next.min(c.doc());
            }
            if allowed {
                let (non, _) = cs.split_at_mut(ne);
                if finish(non, &ub, &mut bm, doc, partial, theta, contrib, top, base) {
                    theta = pruner.safe(top.threshold());
                    let before = ne;
                    while ne < n && ub[ne] <= theta {
                        ne += 1;
                    }
                    if ne != before {
                        next = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
                    }
                }
                for c in cs.iter() {
                    contrib[c.term()] = 0.0;
                }
            }
            cur = next;
            continue;
        }
        // Several essential lists: merge the parts of their current blocks up to the window's
        // end (all of them lie in the current block of every essential list), each block
        // scored at once.
        let w_end = window_end.unwrap_or(END);
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
        }
        cur = cs[ne..].iter().map(|c| c.doc()).min().unwrap_or(END);
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

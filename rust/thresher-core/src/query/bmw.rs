//! Block-Max WAND (Ding & Suel, "Faster top-k document retrieval using block-max indexes",
//! SIGIR 2011; PISA's `block_max_wand_query`).
//!
//! Cursors are kept sorted by current doc id. The *pivot* is the first cursor at which the
//! maximum scores of it and all cursors before it exceed the threshold: no document before the
//! pivot's can enter the top-k. The block-maximum scores of the blocks holding the pivot doc
//! then either confirm it (it is scored when every cursor before the pivot is on it, otherwise
//! one lagging cursor is moved up to it) or rule out every document up to the end of the
//! shortest of those blocks, which is skipped. Survivors are scored in canonical term order
//! (bit-identical to exhaustive). All comparisons go through [`Pruner`], which starts each
//! segment from the floor of [`Prepared::prime_floor`] rather than from an empty heap's `-inf`.

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
        if !cursors.is_empty() {
            segment(&mut cursors, view.base, top, allow, &pruner, &mut contrib);
        }
    }
}

/// Moves `order[from]` down the doc-sorted order after its cursor advanced.
#[inline]
fn bubble(order: &mut [usize], cs: &[TermCursor<'_>], from: usize) {
    let mut i = from;
    while i + 1 < order.len() && cs[order[i + 1]].doc() < cs[order[i]].doc() {
        order.swap(i, i + 1);
        i += 1;
    }
}

/// Block-max WAND over one segment's cursors (also MaxScore's single-list case).
pub(crate) fn segment(
    cs: &mut [TermCursor<'_>],
    base: DocId,
    top: &mut TopK,
    allow: Option<&DocFilter>,
    pruner: &Pruner,
    contrib: &mut [Score],
) {
    let n = cs.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| cs[i].doc());
    let mut theta = pruner.safe(top.threshold());
    loop {
        // Pivot: first position where the running sum of maximum scores beats the threshold.
        let mut ub: Score = 0.0;
        let mut pivot = None;
        for (p, &i) in order.iter().enumerate() {
            if cs[i].doc() == END {
                break;
            }
            ub += cs[i].max_score();
            if ub > theta {
                pivot = Some(p);
                break;
            }
        }
        let Some(mut p) = pivot else { break };
        let pivot_doc = cs[order[p]].doc();
        while p + 1 < n && cs[order[p + 1]].doc() == pivot_doc {
            p += 1;
        }
        let mut block_ub: Score = 0.0;
        for &i in &order[..=p] {
            cs[i].shallow_seek(pivot_doc);
            block_ub += cs[i].block_max_score();
        }
        if block_ub > theta {
            if cs[order[0]].doc() == pivot_doc {
                // Every cursor up to the pivot is on the pivot doc.
                if allow.is_none_or(|a| a.contains(base + pivot_doc)) {
                    for &i in &order[..=p] {
                        contrib[cs[i].term()] = cs[i].score();
                    }
                    if top.insert(base + pivot_doc, canonical_sum(contrib)) {
                        theta = pruner.safe(top.threshold());
                    }
                    for &i in &order[..=p] {
                        contrib[cs[i].term()] = 0.0;
                    }
                }
                for &i in &order[..=p] {
                    cs[i].advance();
                }
                order.sort_by_key(|&i| cs[i].doc());
            } else {
                // Move the last cursor still before the pivot doc up to it.
                let mut j = p;
                while cs[order[j]].doc() == pivot_doc {
                    j -= 1;
                }
                cs[order[j]].seek(pivot_doc);
                bubble(&mut order, cs, j);
            }
        } else {
            // No document up to the end of the shortest pivot block can qualify: skip past it,
            // moving the cursor with the largest maximum score.
            let mut j = p;
            let mut next = END;
            for (q, &i) in order[..=p].iter().enumerate() {
                if cs[i].max_score() > cs[order[j]].max_score() {
                    j = q;
                }
                next = next.min(cs[i].block_end());
            }
            next = next.saturating_add(1);
            if p + 1 < n && cs[order[p + 1]].doc() < next {
                next = cs[order[p + 1]].doc();
            }
            if next <= pivot_doc {
                next = pivot_doc + 1;
            }
            cs[order[j]].seek(next);
            bubble(&mut order, cs, j);
        }
    }
}

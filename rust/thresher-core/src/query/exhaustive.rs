//! Exhaustive term-at-a-time scoring: the reference every faster algorithm is tested against
//! (PISA's `ranked_or_query`).
//!
//! For each segment, every posting of every query term adds its score to a dense per-document
//! accumulator, terms taken in the query's canonical order; the documents touched are then
//! offered to a [`TopK`]. Cost is linear in the postings of the query terms.

use std::cell::RefCell;

use crate::index::Index;
use crate::query::{Query, TopK};
use crate::types::{DocId, Score};

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch {
    acc: Vec<Score>,
    touched: Vec<DocId>,
    seen: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The `k` best documents for `query` (global doc ids, best first, ties by smaller id).
/// Only documents containing at least one query term are returned.
pub fn search(index: &Index, query: &Query, k: usize) -> Vec<(DocId, Score)> {
    let mut top = TopK::new(k.max(1));
    let scorers = index.term_scorers(query);
    SCRATCH.with(|s| {
        let s = &mut *s.borrow_mut();
        for view in index.segment_views() {
            let n = view.segment.num_docs();
            if s.acc.len() < n {
                s.acc.resize(n, 0.0);
                s.seen.resize(n.div_ceil(64), 0);
            }
            let norms = view.norms.as_slice();
            for ((term, _), scorer) in query.terms().iter().zip(&scorers) {
                let Some(tid) = view.segment.term_id(term) else {
                    continue;
                };
                let (docs, tfs) = view.segment.postings(tid);
                for (&d, &tf) in docs.iter().zip(tfs) {
                    let du = d as usize;
                    // Checked access: a damaged index opened without verification must not
                    // panic; out-of-range postings are ignored.
                    let (Some(a), Some(&norm)) = (s.acc.get_mut(du), norms.get(du)) else {
                        continue;
                    };
                    *a += scorer.score(tf, norm);
                    let (w, bit) = (du / 64, 1u64 << (du % 64));
                    if s.seen[w] & bit == 0 {
                        s.seen[w] |= bit;
                        s.touched.push(d);
                    }
                }
            }
            for &d in &s.touched {
                let du = d as usize;
                top.insert(view.base + d, s.acc[du]);
                s.acc[du] = 0.0;
                s.seen[du / 64] = 0;
            }
            s.touched.clear();
        }
    });
    let mut hits = top.into_sorted();
    hits.truncate(k);
    hits
}

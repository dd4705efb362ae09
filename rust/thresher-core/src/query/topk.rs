//! [`TopK`]: the one result sink of every query algorithm (after PISA's `topk_queue`).
//!
//! Order: higher score first; equal scores -> smaller doc id first. Because the order is total
//! and independent of insertion order, every algorithm that offers the same (doc, score)
//! candidates returns the same list, ties included.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::types::{DocId, Score};

/// A (doc, score) pair ordered so that the *worse* hit is the greater one, which puts the
/// worst kept hit at the top of std's max-heap.
#[derive(Debug, Clone, Copy)]
struct Entry {
    score: Score,
    doc: DocId,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        // Worse = lower score, or equal score and larger doc id.
        o.score.total_cmp(&self.score).then(self.doc.cmp(&o.doc))
    }
}

/// Keeps the `k` best hits seen.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Entry>,
}

impl TopK {
    /// An empty queue keeping at most `k` hits (`k >= 1`).
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
        }
    }

    /// The score a new hit must beat (`-inf` until `k` hits are held). A hit with exactly this
    /// score can still enter when its doc id is smaller than the worst kept one.
    #[inline]
    pub fn threshold(&self) -> Score {
        if self.heap.len() < self.k {
            Score::NEG_INFINITY
        } else {
            self.heap.peek().map_or(Score::NEG_INFINITY, |e| e.score)
        }
    }

    /// Offers a hit. Returns `true` when it was kept. If the queue is full, the worst hit is
    /// dropped so the queue keeps its size.
    #[inline]
    pub fn insert(&mut self, doc: DocId, score: Score) -> bool {
        let e = Entry { score, doc };
        if self.heap.len() < self.k {
            self.heap.push(e);
            return true;
        }
        let mut worst = self
            .heap
            .peek_mut()
            .expect("k >= 1 so a full heap is non-empty");
        if e < *worst {
            *worst = e;
            true
        } else {
            false
        }
    }

    /// Number of hits held.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no hit is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The hits, best first.
    pub fn into_sorted(self) -> Vec<(DocId, Score)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|e| (e.doc, e.score))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn equals_sort_and_truncate(scores in proptest::collection::vec(0u8..6, 0..300), k in 1usize..50) {
            let mut q = TopK::new(k);
            for (d, &s) in scores.iter().enumerate() {
                q.insert(d as DocId, s as Score);
            }
            let mut want: Vec<(DocId, Score)> = scores.iter().enumerate().map(|(d, &s)| (d as DocId, s as Score)).collect();
            want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            want.truncate(k);
            prop_assert_eq!(q.into_sorted(), want);
        }
    }
}

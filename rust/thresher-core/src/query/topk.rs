//! [`TopK`]: the one result sink of every query algorithm (after PISA's `topk_queue`).
//!
//! Order: higher score first; equal scores -> smaller doc id first. Because the order is total
//! and independent of insertion order, every algorithm that offers the same (doc, score)
//! candidates returns the same list, ties included.
//!
//! A hit is kept as one `u64` *key* whose integer order is that order: the score's bits mapped
//! so that unsigned comparison follows [`f32::total_cmp`] in the high half, the complemented doc
//! id in the low half (a smaller doc ranks higher). The queue is a binary min-heap of keys (the
//! worst kept hit on top), so every comparison is one integer compare. Exhaustive search offers
//! many hits at once ([`TopK::absorb`]): they are filtered against [`TopK::floor`] and merged by
//! selection instead of one heap update each.

use crate::types::{DocId, Score};

/// The key of a hit: greater key = better hit.
#[inline(always)]
pub(crate) fn key(doc: DocId, score: Score) -> u64 {
    let b = score.to_bits();
    // total_cmp order as unsigned: negative floats flip all bits, positive ones the sign bit.
    let ord = b ^ ((((b as i32) >> 31) as u32) | 0x8000_0000);
    (u64::from(ord) << 32) | u64::from(!doc)
}

#[inline(always)]
fn unkey(key: u64) -> (DocId, Score) {
    let ord = (key >> 32) as u32;
    let b = if ord & 0x8000_0000 != 0 {
        ord ^ 0x8000_0000
    } else {
        !ord
    };
    (!(key as u32), Score::from_bits(b))
}

/// Keeps the `k` best hits seen.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    /// The kept keys. `heap[0]` is always the worst of them; the rest is a binary min-heap
    /// only when `heap_ok` ([`TopK::absorb`] leaves it unordered, since another batch or the
    /// final sort needs no order, and [`TopK::insert`] restores the heap first).
    heap: Vec<u64>,
    heap_ok: bool,
}

impl TopK {
    /// An empty queue keeping at most `k` hits (`k >= 1`).
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: Vec::with_capacity(k.min(1 << 16)),
            heap_ok: true,
        }
    }

    /// The score a new hit must beat (`-inf` until `k` hits are held). A hit with exactly this
    /// score can still enter when its doc id is smaller than the worst kept one.
    #[inline]
    pub fn threshold(&self) -> Score {
        if self.heap.len() < self.k {
            Score::NEG_INFINITY
        } else {
            self.heap
                .first()
                .map_or(Score::NEG_INFINITY, |&e| unkey(e).1)
        }
    }

    /// The key a hit's [`key`] must exceed to enter (0, below every real hit's key, until `k`
    /// hits are held: doc ids are below [`DocId::MAX`], so a key's low half is never 0).
    #[inline]
    pub(crate) fn floor(&self) -> u64 {
        if self.heap.len() < self.k {
            0
        } else {
            self.heap[0]
        }
    }

    /// Offers a hit. Returns `true` when it was kept. If the queue is full, the worst hit is
    /// dropped so the queue keeps its size.
    #[inline]
    pub fn insert(&mut self, doc: DocId, score: Score) -> bool {
        let e = key(doc, score);
        if !self.heap_ok {
            for i in (0..self.heap.len() / 2).rev() {
                self.sift_down(i);
            }
            self.heap_ok = true;
        }
        if self.heap.len() < self.k {
            self.heap.push(e);
            self.sift_up(self.heap.len() - 1);
            return true;
        }
        if e > self.heap[0] {
            self.heap[0] = e;
            self.sift_down(0);
            true
        } else {
            false
        }
    }

    /// Offers every hit of `keys` (built by [`key`]) at once and empties `keys`: the same kept
    /// set as inserting them one by one, in linear time (a selection of the `k` best). Only the
    /// worst kept hit is put in place (`heap[0]`, the floor); the heap is rebuilt lazily by the
    /// next [`TopK::insert`], so exhaustive search, which only absorbs, never builds it.
    pub(crate) fn absorb(&mut self, keys: &mut Vec<u64>) {
        if keys.is_empty() {
            return;
        }
        keys.extend_from_slice(&self.heap);
        if keys.len() > self.k {
            keys.select_nth_unstable_by(self.k - 1, |a, b| b.cmp(a));
            keys.truncate(self.k);
            // The selection leaves the k-th best last.
            let last = keys.len() - 1;
            keys.swap(0, last);
        } else if keys.len() == self.k {
            // Full without a selection: the floor is the smallest key.
            if let Some((i, _)) = keys.iter().enumerate().min_by_key(|&(_, &e)| e) {
                keys.swap(0, i);
            }
        }
        std::mem::swap(&mut self.heap, keys);
        keys.clear();
        self.heap_ok = self.heap.len() <= 1;
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) {
        let h = &mut self.heap;
        let e = h[i];
        while i > 0 {
            let p = (i - 1) / 2;
            if h[p] <= e {
                break;
            }
            h[i] = h[p];
            i = p;
        }
        h[i] = e;
    }

    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let h = &mut self.heap;
        let n = h.len();
        let e = h[i];
        // Branch-free choice of the smaller child while both exist (as std's `BinaryHeap`).
        let mut c = 2 * i + 1;
        while c + 1 < n {
            c += usize::from(h[c + 1] < h[c]);
            if h[c] >= e {
                h[i] = e;
                return;
            }
            h[i] = h[c];
            i = c;
            c = 2 * i + 1;
        }
        if c + 1 == n && h[c] < e {
            h[i] = h[c];
            i = c;
        }
        h[i] = e;
    }

    /// The `k` hits the queue keeps at most.
    pub fn capacity(&self) -> usize {
        self.k
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
    pub fn into_sorted(mut self) -> Vec<(DocId, Score)> {
        self.heap.sort_unstable_by(|a, b| b.cmp(a));
        self.heap.into_iter().map(unkey).collect()
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

        /// Any scores (negative, zeros of both signs, infinities, NaN), any doc order, offered
        /// one by one or in batches of any size: the same list as sorting everything.
        #[test]
        fn insert_and_absorb_equal_sort(
            hits in proptest::collection::vec((0u32..500, prop_oneof![
                (0u8..6).prop_map(|s| s as Score),
                any::<u32>().prop_map(Score::from_bits),
                Just(-0.0f32), Just(0.0f32), Just(Score::NAN), Just(Score::NEG_INFINITY),
            ]), 0..300),
            k in 1usize..50,
            cuts in proptest::collection::vec(1usize..80, 1..10),
        ) {
            // Unique docs (a document is offered once), in the given order.
            let mut seen = std::collections::HashSet::new();
            let hits: Vec<(DocId, Score)> = hits.into_iter().filter(|h| seen.insert(h.0)).collect();
            let mut want = hits.clone();
            want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            want.truncate(k);
            let bits = |v: Vec<(DocId, Score)>| v.into_iter().map(|(d, s)| (d, s.to_bits())).collect::<Vec<_>>();
            let want = bits(want);
            let mut one = TopK::new(k);
            let mut batched = TopK::new(k);
            let (mut buf, mut i, mut c) = (Vec::new(), 0, 0);
            for &(d, s) in &hits {
                one.insert(d, s);
                prop_assert_eq!(unkey(key(d, s)).0, d);
                prop_assert_eq!(unkey(key(d, s)).1.to_bits(), s.to_bits());
                if key(d, s) > batched.floor() {
                    buf.push(key(d, s));
                }
                i += 1;
                if i == cuts[c % cuts.len()] {
                    batched.absorb(&mut buf);
                    prop_assert!(buf.is_empty());
                    prop_assert_eq!(batched.threshold().to_bits(), {
                        let mut t = TopK::new(k);
                        for &(d, s) in &hits[..hits.iter().position(|h| h.0 == d).unwrap() + 1] {
                            t.insert(d, s);
                        }
                        t.threshold().to_bits()
                    });
                    i = 0;
                    c += 1;
                }
            }
            batched.absorb(&mut buf);
            prop_assert_eq!(bits(one.into_sorted()), want.clone());
            prop_assert_eq!(bits(batched.into_sorted()), want);
        }

        /// One queue fed alternately in batches and one hit at a time (MaxScore mixes both):
        /// after every step its floor is the worst of the `k` best so far, and the final list
        /// is the sorted top `k`.
        #[test]
        fn absorb_then_insert_keeps_the_floor(
            scores in proptest::collection::vec(0u16..40, 0..300),
            k in 1usize..40,
            runs in proptest::collection::vec((any::<bool>(), 1usize..60), 1..12),
        ) {
            let hits: Vec<(DocId, Score)> =
                scores.iter().enumerate().map(|(d, &s)| (d as DocId, Score::from(s))).collect();
            let mut q = TopK::new(k);
            let (mut at, mut r) = (0, 0);
            while at < hits.len() {
                let (batch, len) = runs[r % runs.len()];
                let end = (at + len).min(hits.len());
                if batch {
                    let mut buf: Vec<u64> = hits[at..end]
                        .iter()
                        .map(|&(d, s)| key(d, s))
                        .filter(|&e| e > q.floor())
                        .collect();
                    q.absorb(&mut buf);
                } else {
                    for &(d, s) in &hits[at..end] {
                        q.insert(d, s);
                    }
                }
                let mut so_far: Vec<u64> = hits[..end].iter().map(|&(d, s)| key(d, s)).collect();
                so_far.sort_unstable_by(|a, b| b.cmp(a));
                let want_floor = if so_far.len() >= k { so_far[k - 1] } else { 0 };
                prop_assert_eq!(q.floor(), want_floor);
                at = end;
                r += 1;
            }
            let mut want = hits.clone();
            want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            want.truncate(k);
            prop_assert_eq!(q.into_sorted(), want);
        }
    }
}

//! Block bound keys computed once per index and shared by every query.
//!
//! For the scoring models whose block bound is a non-decreasing function of one query-free
//! number ([`TermScorer::query_free_key`]: `lucene`, `impact`), the largest key of each block's
//! frontier pairs does not depend on the query. [`BlockKeyCache`] keeps, per posting list, one
//! `f32` per block, computed from the stored frontiers the first time a pruning algorithm opens
//! the list. A query then bounds a block with one array read and [`TermScorer::bound_of_key`]
//! instead of decoding the block's frontier (on a 5M-document collection, the varint decoding
//! and per-pair scoring of frontiers took about a fifth of MaxScore's time, each frontier a
//! cache miss away). The keys live as long as the index; they take at most 4 bytes per 128
//! postings of the lists that were queried.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::postings::PostingList;
use crate::score::{LengthNorm, ScoringKind, TermScorer};

/// Per-segment cache of block bound keys, by posting-list offset.
#[derive(Default)]
pub struct BlockKeyCache {
    map: RwLock<HashMap<usize, Arc<[f32]>>>,
}

impl BlockKeyCache {
    /// The keys of the list at byte offset `at` (computed by `compute` on first use).
    pub fn get_or_compute(&self, at: usize, compute: impl FnOnce() -> Arc<[f32]>) -> Arc<[f32]> {
        if let Some(v) = self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&at)
        {
            return Arc::clone(v);
        }
        let v = compute();
        Arc::clone(
            self.map
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(at)
                .or_insert(v),
        )
    }

    /// Number of lists cached.
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The largest query-free key of each block of `list` (a list with skips, and a model with
/// keys: `None` otherwise). A damaged frontier gets `INFINITY`, whose bound is still an upper
/// bound (`w` for `lucene`, infinity for `impact`).
pub fn block_keys(
    list: &PostingList<'_>,
    norm: &LengthNorm,
    kind: ScoringKind,
) -> Option<Arc<[f32]>> {
    TermScorer::query_free_key(kind, 1, 1.0)?;
    if !list.has_skips() {
        return None;
    }
    let keys: Vec<f32> = (0..list.num_blocks())
        .map(|b| {
            let mut key = f32::NEG_INFINITY;
            let ok = list.for_each_block_frontier_pair(b, |v, k| {
                if let Some(x) = TermScorer::query_free_key(kind, v, norm.factor(k)) {
                    key = key.max(x);
                }
            });
            if ok.is_some() && key > f32::NEG_INFINITY {
                key
            } else {
                f32::INFINITY
            }
        })
        .collect();
    Some(keys.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postings::{encode_postings, BlockMaxCursor, MaxScoreCursor, TermCursor, END};
    use crate::score::{CollectionStats, DocKeys, ScoringConfig};

    /// For `lucene` and `impact`, bounding blocks with the cached keys gives every block the
    /// same bound, bit for bit, as decoding its frontier; other models have no keys.
    #[test]
    fn cached_keys_give_the_frontier_bounds() {
        let n = 20_000u32;
        let norms: Vec<u8> = (0..n).map(|d| ((d * 37) % 256) as u8).collect();
        let keys32: Vec<u32> = norms.iter().map(|&b| u32::from(b)).collect();
        let docs: Vec<u32> = (0..n).step_by(7).collect();
        let vals: Vec<u32> = docs.iter().map(|d| 1 + (d * 13) % 41).collect();
        let stats = CollectionStats {
            num_docs: u64::from(n),
            total_length: 50.0 * f64::from(n),
        };
        for kind in [
            ScoringKind::Lucene,
            ScoringKind::Impact,
            ScoringKind::Robertson,
        ] {
            let config = ScoringConfig {
                kind,
                ..ScoringConfig::default()
            };
            let impact = kind == ScoringKind::Impact;
            let zeros = vec![0u32; n as usize];
            let mut buf = Vec::new();
            encode_postings(
                &docs,
                &vals,
                if impact { &zeros } else { &keys32 },
                &mut buf,
            )
            .unwrap();
            let list = PostingList::new(&buf, docs.len() as u32).unwrap();
            assert!(list.num_blocks() > 10);
            let norm = LengthNorm::new(&config, &stats);
            let cached = block_keys(&list, &norm, kind);
            assert_eq!(cached.is_some(), kind != ScoringKind::Robertson, "{kind:?}");
            let Some(cached) = cached else { continue };
            assert_eq!(cached.len(), list.num_blocks() as usize);
            let dk = if impact {
                DocKeys::None
            } else {
                DocKeys::NormBytes(&norms)
            };
            for boost in [0.3f32, 1.0, 7.5] {
                let scorer = TermScorer::new(&config, &stats, docs.len() as u64, boost);
                let mut plain = TermCursor::new(list, n, dk, &norm, scorer, 0, true);
                let mut fast = TermCursor::new(list, n, dk, &norm, scorer, 0, true);
                fast.set_block_keys(Arc::clone(&cached));
                assert_eq!(plain.max_score().to_bits(), fast.max_score().to_bits());
                let mut target = 0;
                while plain.block_end() != END {
                    plain.shallow_seek(target);
                    fast.shallow_seek(target);
                    assert_eq!(plain.block_end(), fast.block_end());
                    let (a, b) = (plain.block_max_score(), fast.block_max_score());
                    assert_eq!(a.to_bits(), b.to_bits(), "{kind:?} block at {target}");
                    assert!(a <= plain.max_score());
                    target = plain.block_end().saturating_add(1);
                }
            }
        }
    }

    #[test]
    fn the_cache_computes_once_per_list() {
        let cache = BlockKeyCache::default();
        assert!(cache.is_empty());
        let mut calls = 0;
        let a = cache.get_or_compute(10, || {
            calls += 1;
            Arc::from(vec![1.0f32, 2.0])
        });
        let b = cache.get_or_compute(10, || {
            calls += 1;
            Arc::from(vec![9.0f32])
        });
        assert_eq!(
            (calls, &*a, &*b),
            (1, &[1.0f32, 2.0][..], &[1.0f32, 2.0][..])
        );
        assert_eq!(cache.len(), 1);
    }
}

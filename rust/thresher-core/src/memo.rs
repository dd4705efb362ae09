//! [`Memo`]: a bounded per-thread table of results keyed by (owner id, key bytes), shared by
//! the analysis memo (owner: an analyzer's configuration, key: a token) and the dictionary
//! lookup memo (owner: a segment, key: a term).
//!
//! Owners take their ids from [`next_owner_id`], a process-wide counter that never reuses a
//! value, so an entry of a dropped owner can never answer for another one; it just waits for
//! the table to be emptied. The table holds at most [`MEMO_LIMIT`] entries and is emptied when
//! full.

use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::hash::Fnv;

/// Entries a [`Memo`] holds before it is emptied.
pub(crate) const MEMO_LIMIT: usize = 1 << 15;

static NEXT_OWNER_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh owner id (never returned twice in a process).
pub(crate) fn next_owner_id() -> u64 {
    NEXT_OWNER_ID.fetch_add(1, Ordering::Relaxed)
}

struct Slot<V> {
    owner: u64,
    key: Box<[u8]>,
    value: V,
}

fn slot_hash(owner: u64, key: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write_u64(owner);
    h.write(key);
    h.finish()
}

/// Values of a pure function of (owner, key), memoised.
pub(crate) struct Memo<V> {
    table: hashbrown::HashTable<Slot<V>>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self {
            table: hashbrown::HashTable::new(),
        }
    }
}

impl<V> Memo<V> {
    /// The value of (`owner`, `key`), computed by `make` the first time (and again after the
    /// table was emptied).
    #[inline]
    pub(crate) fn get_or_insert_with(
        &mut self,
        owner: u64,
        key: &[u8],
        make: impl FnOnce() -> V,
    ) -> &V {
        if self.table.len() >= MEMO_LIMIT {
            self.table.clear();
        }
        let hash = slot_hash(owner, key);
        let eq = |s: &Slot<V>| s.owner == owner && *s.key == *key;
        // `find_entry`, not `entry`: `entry` reserves room before probing, and hits are the
        // common case.
        match self.table.find_entry(hash, eq) {
            Ok(hit) => &hit.into_mut().value,
            Err(absent) => {
                let slot = Slot {
                    owner,
                    key: key.into(),
                    value: make(),
                };
                let table = absent.into_table();
                &table
                    .insert_unique(hash, slot, |s| slot_hash(s.owner, &s.key))
                    .into_mut()
                    .value
            }
        }
    }

    /// Number of entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

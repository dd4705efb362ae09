//! [`PostingList`]: a read-only view of one term's postings (layout in [`crate::postings`]).
//!
//! Decoding checks what a damaged index could get wrong (lengths, bit widths, doc ids in range
//! and increasing, skip-table agreement) and answers `None` instead of panicking; the callers
//! then treat the list as ending there.

use crate::postings::codec::{
    for_each_frontier_pair, get_widths, skip_frontier, unpack_docs_full, unpack_docs_tail,
    unpack_values, ValueWidth, BLOCK_LEN,
};

/// Bytes per skip-table entry: last doc, block end, frontier end (u32 each).
pub const SKIP_ENTRY: usize = 12;

/// One term's postings in a segment.
#[derive(Debug, Clone, Copy)]
pub struct PostingList<'a> {
    df: u32,
    nblocks: u32,
    frontier: &'a [u8],
    skip: &'a [u8],
    frontiers: &'a [u8],
    blocks: &'a [u8],
}

/// The still-packed values of a block whose doc ids were decoded (values are decoded lazily:
/// many visited postings are never scored).
#[derive(Debug, Clone, Copy)]
pub struct PackedValues<'a> {
    bytes: &'a [u8],
    width: ValueWidth,
    n: usize,
}

impl PackedValues<'_> {
    /// Decodes the values into `out[..n]`. `None` when damaged.
    #[inline(always)]
    pub fn decode(&self, out: &mut [u32; BLOCK_LEN]) -> Option<()> {
        unpack_values(self.bytes, self.width, out.get_mut(..self.n)?).map(|_| ())
    }
}

impl<'a> PostingList<'a> {
    /// Interprets `data` as the postings of a term with document frequency `df`. `None` when
    /// `df == 0` or the header does not fit.
    pub fn new(data: &'a [u8], df: u32) -> Option<Self> {
        if df == 0 {
            return None;
        }
        let nblocks = df.div_ceil(BLOCK_LEN as u32);
        if nblocks == 1 {
            return Some(Self {
                df,
                nblocks,
                frontier: &[],
                skip: &[],
                frontiers: &[],
                blocks: data,
            });
        }
        let mut pos = 0;
        skip_frontier(data, &mut pos)?;
        let skip_end = pos.checked_add(SKIP_ENTRY * nblocks as usize)?;
        let skip = data.get(pos..skip_end)?;
        let at = SKIP_ENTRY * (nblocks as usize - 1) + 8;
        let frontiers_len = u32::from_le_bytes(skip.get(at..at + 4)?.try_into().ok()?) as usize;
        let blocks_start = skip_end.checked_add(frontiers_len)?;
        Some(Self {
            df,
            nblocks,
            frontier: &data[..pos],
            skip,
            frontiers: data.get(skip_end..blocks_start)?,
            blocks: data.get(blocks_start..)?,
        })
    }

    /// Number of postings (the document frequency).
    pub fn len(&self) -> u32 {
        self.df
    }

    /// Never true (a list has at least one posting).
    pub fn is_empty(&self) -> bool {
        self.df == 0
    }

    /// Number of blocks.
    #[inline]
    pub fn num_blocks(&self) -> u32 {
        self.nblocks
    }

    /// True when the list has a skip table and per-block frontiers (two blocks or more).
    #[inline]
    pub fn has_skips(&self) -> bool {
        self.nblocks > 1
    }

    /// Postings in block `i`.
    #[inline]
    pub fn block_len(&self, i: u32) -> usize {
        if i + 1 < self.nblocks {
            BLOCK_LEN
        } else {
            (self.df - BLOCK_LEN as u32 * (self.nblocks - 1)) as usize
        }
    }

    #[inline]
    fn skip_entry(&self, i: u32, field: usize) -> Option<u32> {
        let at = SKIP_ENTRY * i as usize + 4 * field;
        let b = self.skip.get(at..at + 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// Last doc id of block `i`, from the skip table (`None` for a single-block list, which has
    /// none, or when out of range).
    #[inline]
    pub fn last_doc(&self, i: u32) -> Option<u32> {
        self.skip_entry(i, 0)
    }

    fn block_bytes(&self, i: u32) -> Option<&'a [u8]> {
        if !self.has_skips() {
            return (i == 0).then_some(self.blocks);
        }
        let start = if i == 0 {
            0
        } else {
            self.skip_entry(i - 1, 1)? as usize
        };
        let end = self.skip_entry(i, 1)? as usize;
        self.blocks.get(start..end)
    }

    /// Decodes the doc ids of block `i` into `out[..n]` and returns `n` with the block's packed
    /// values. Checks that the ids increase, stay below `num_docs`, and end at the skip table's
    /// last doc; `None` otherwise.
    #[inline(always)]
    pub fn decode_docs(
        &self,
        i: u32,
        num_docs: u32,
        out: &mut [u32; BLOCK_LEN],
    ) -> Option<(usize, PackedValues<'a>)> {
        let bytes = self.block_bytes(i)?;
        let mut head = 0;
        let (db, vb) = get_widths(bytes, &mut head)?;
        let n = self.block_len(i);
        let prev = if i == 0 {
            None
        } else {
            Some(self.last_doc(i - 1)?)
        };
        let data = &bytes[head..];
        let used = if n == BLOCK_LEN {
            let used = unpack_docs_full(data, db, prev, out)?;
            // Each step adds gap + 1 >= 1; ids can only go backwards if the sum wrapped, which
            // needs start + 128 * 2^bits > 2^32. Check the order only when that is possible.
            let start = prev.map_or(0u64, |p| u64::from(p) + 1);
            if start + ((BLOCK_LEN as u64) << db.min(32)) > 1u64 << 32
                && (prev.is_some_and(|p| out[0] <= p) || out.windows(2).any(|w| w[0] >= w[1]))
            {
                return None;
            }
            used
        } else {
            unpack_docs_tail(data, db, prev, &mut out[..n])?
        };
        let last = out[n - 1];
        if last >= num_docs || (self.has_skips() && self.last_doc(i) != Some(last)) {
            return None;
        }
        let vals = data.get(used..)?;
        Some((
            n,
            PackedValues {
                bytes: vals,
                width: vb,
                n,
            },
        ))
    }

    /// Calls `each(value, key)` for the frontier pairs of block `i` (lists with skips only).
    /// `None` when damaged or the list has a single block. The frontiers of a list are stored
    /// together, apart from the blocks, so walking block bounds reads a small dense area.
    #[inline]
    pub fn for_each_block_frontier_pair(&self, i: u32, each: impl FnMut(u32, u32)) -> Option<()> {
        if !self.has_skips() {
            return None;
        }
        let start = if i == 0 {
            0
        } else {
            self.skip_entry(i - 1, 2)? as usize
        };
        let end = self.skip_entry(i, 2)? as usize;
        let bytes = self.frontiers.get(start..end)?;
        let mut pos = 0;
        for_each_frontier_pair(bytes, &mut pos, each)
    }

    /// Calls `each(value, key)` for the list's frontier pairs (lists with skips only).
    pub fn for_each_frontier_pair(&self, each: impl FnMut(u32, u32)) -> Option<()> {
        if !self.has_skips() {
            return None;
        }
        for_each_frontier_pair(self.frontier, &mut 0, each)
    }

    /// Decodes block `i` whole: its doc ids into `docs[..n]` and values into `vals[..n]`;
    /// returns `n`, or `None` when the block is damaged ([`PostingList::decode_docs`]).
    /// Hot loops call this in a plain loop rather than [`PostingList::for_each_block`] with a
    /// closure: a closure is compiled apart, so it would miss the caller's CPU level
    /// ([`crate::cpu`]).
    #[inline(always)]
    pub fn decode_block(
        &self,
        i: u32,
        num_docs: u32,
        docs: &mut [u32; BLOCK_LEN],
        vals: &mut [u32; BLOCK_LEN],
    ) -> Option<usize> {
        let (n, packed) = self.decode_docs(i, num_docs, docs)?;
        packed.decode(vals)?;
        Some(n)
    }

    /// Decodes every posting, calling `each(docs, values)` per block. Stops early and returns
    /// `None` at the first damaged block.
    pub fn for_each_block(
        &self,
        num_docs: u32,
        mut each: impl FnMut(&[u32], &[u32]),
    ) -> Option<()> {
        let mut docs = [0u32; BLOCK_LEN];
        let mut vals = [0u32; BLOCK_LEN];
        for i in 0..self.nblocks {
            let n = self.decode_block(i, num_docs, &mut docs, &mut vals)?;
            each(&docs[..n], &vals[..n]);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postings::encode_postings;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encode_then_decode(
            gaps in proptest::collection::vec(0u32..40, 1..700),
            vals in proptest::collection::vec(1u32..20, 700),
        ) {
            let mut d = 0u32;
            let docs: Vec<u32> = gaps.iter().map(|g| { d += g + 1; d - 1 }).collect();
            let vals = &vals[..docs.len()];
            let num_docs = docs.last().unwrap() + 1;
            let keys: Vec<u32> = (0..num_docs).map(|d| d % 13).collect();
            let mut buf = Vec::new();
            encode_postings(&docs, vals, &keys, &mut buf).unwrap();
            let list = PostingList::new(&buf, docs.len() as u32).unwrap();
            let (mut gd, mut gv) = (Vec::new(), Vec::new());
            list.for_each_block(num_docs, |d, v| { gd.extend_from_slice(d); gv.extend_from_slice(v); }).unwrap();
            prop_assert_eq!(&gd, &docs);
            prop_assert_eq!(&gv[..], vals);
            let short = list.for_each_block(num_docs - 1, |_, _| ());
            prop_assert!(short.is_none());
            if list.has_skips() {
                for i in 0..list.num_blocks() {
                    let lo = i as usize * BLOCK_LEN;
                    let hi = (lo + BLOCK_LEN).min(docs.len());
                    prop_assert_eq!(list.last_doc(i), Some(docs[hi - 1]));
                    let mut f = Vec::new();
                    list.for_each_block_frontier_pair(i, |v, k| f.push((v, k))).unwrap();
                    for j in lo..hi {
                        let k = keys[docs[j] as usize];
                        prop_assert!(f.iter().any(|&(fv, fk)| fv >= vals[j] && fk <= k));
                    }
                }
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000), df in 1u32..1000) {
            if let Some(list) = PostingList::new(&bytes, df) {
                let _ = list.for_each_block(5000, |_, _| {});
                for i in 0..list.num_blocks() + 1 {
                    let _ = list.for_each_block_frontier_pair(i, |_, _| {});
                    let _ = list.last_doc(i);
                }
                let _ = list.for_each_frontier_pair(|_, _| {});
            }
        }
    }
}

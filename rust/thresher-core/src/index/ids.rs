//! Front-coded external ids (format version 6): ids in doc order, in blocks of [`BLOCK`]; the
//! first id of a block is stored whole (`len varint | bytes`), each other one as
//! `shared prefix len varint | suffix len varint | suffix bytes` against the previous id of its
//! block. One offset per block (plus the end) locates a block; the id of doc `d` is found by
//! decoding block `d / 16` up to position `d % 16`. Prefixes are shared byte-wise (an id's
//! UTF-8 is checked once it is rebuilt).

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::hash::FnvBuild;
use crate::postings::codec::{get_varint, put_varint};

/// Checks a batch of `n` new document ids for a segment that already holds `before` ids, of
/// which `known` tells the ones taken: none empty, none repeated (in the batch or with an
/// earlier one), at most 2^32 - 1 documents in all.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the problem (and the repeated id).
pub(crate) fn check_new_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    n: usize,
    before: usize,
    known: impl Fn(&str) -> bool,
) -> Result<()> {
    let mut batch: HashSet<&str, FnvBuild> =
        HashSet::with_capacity_and_hasher(n, FnvBuild::default());
    for id in ids {
        if id.is_empty() {
            return Err(Error::invalid_argument(
                "an empty document id (it could not be written to a TREC run or told apart)",
            ));
        }
        if known(id) || !batch.insert(id) {
            return Err(Error::invalid_argument(format!(
                "duplicate document id {id:?}"
            )));
        }
    }
    if before + n > u32::MAX as usize {
        return Err(Error::invalid_argument(
            "a segment holds at most 2^32 - 1 documents",
        ));
    }
    Ok(())
}

/// Ids per block.
pub(crate) const BLOCK: usize = 16;

/// Encodes `ids`: the block offsets (`ceil(n / 16) + 1` of them, the last one the data's
/// length) and the data.
pub(crate) fn encode<'a>(ids: impl Iterator<Item = &'a str>) -> (Vec<u64>, Vec<u8>) {
    let mut offsets = Vec::new();
    let mut data = Vec::new();
    let mut prev: &[u8] = &[];
    for (i, id) in ids.enumerate() {
        let id = id.as_bytes();
        if i % BLOCK == 0 {
            offsets.push(data.len() as u64);
            put_varint(&mut data, id.len() as u64);
            data.extend_from_slice(id);
        } else {
            let shared = prev.iter().zip(id).take_while(|(a, b)| a == b).count();
            put_varint(&mut data, shared as u64);
            put_varint(&mut data, (id.len() - shared) as u64);
            data.extend_from_slice(&id[shared..]);
        }
        prev = id;
    }
    offsets.push(data.len() as u64);
    (offsets, data)
}

fn get_len(block: &[u8], pos: &mut usize) -> Option<usize> {
    get_varint(block, pos).and_then(|v| usize::try_from(v).ok())
}

/// Decodes the ids of one block one at a time, each into the buffer holding the previous one.
pub(crate) struct BlockReader<'a> {
    block: &'a [u8],
    pos: usize,
    /// Ids decoded so far; the buffer holds id `decoded - 1`.
    decoded: usize,
}

impl<'a> BlockReader<'a> {
    pub(crate) fn new(block: &'a [u8]) -> Self {
        Self {
            block,
            pos: 0,
            decoded: 0,
        }
    }

    /// Ids decoded so far (the buffer holds the last of them).
    pub(crate) fn decoded(&self) -> usize {
        self.decoded
    }

    /// Bytes of the block read so far.
    pub(crate) fn bytes_read(&self) -> usize {
        self.pos
    }

    /// Decodes the next id into `buf` (which holds the previous one). `None` when the block
    /// is damaged (an entry runs past the block or shares more bytes than the previous id has).
    pub(crate) fn advance(&mut self, buf: &mut Vec<u8>) -> Option<()> {
        if self.decoded == 0 {
            buf.clear();
        } else {
            let shared = get_len(self.block, &mut self.pos)?;
            if shared > buf.len() {
                return None;
            }
            buf.truncate(shared);
        }
        let len = get_len(self.block, &mut self.pos)?;
        let end = self.pos.checked_add(len)?;
        buf.extend_from_slice(self.block.get(self.pos..end)?);
        self.pos = end;
        self.decoded += 1;
        Some(())
    }
}

/// Decodes the first `n` ids of `block` into `buf` one after the other, calling `f` with each
/// (as bytes); returns the number of bytes read. `None` when the block is damaged.
pub(crate) fn decode_block(
    block: &[u8],
    n: usize,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(&[u8]),
) -> Option<usize> {
    let mut r = BlockReader::new(block);
    for _ in 0..n {
        r.advance(buf)?;
        f(buf);
    }
    Some(r.bytes_read())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(ids: &[String]) {
        let (offsets, data) = encode(ids.iter().map(String::as_str));
        assert_eq!(offsets.len(), ids.len().div_ceil(BLOCK) + 1);
        assert_eq!(*offsets.last().unwrap(), data.len() as u64);
        let mut buf = Vec::new();
        for (d, id) in ids.iter().enumerate() {
            let b = d / BLOCK;
            let block = &data[offsets[b] as usize..offsets[b + 1] as usize];
            decode_block(block, d % BLOCK + 1, &mut buf, |_| {}).unwrap();
            assert_eq!(buf, id.as_bytes());
        }
    }

    #[test]
    fn shares_prefixes() {
        let ids: Vec<String> = (0..40).map(|i| format!("gcide-{i:07}")).collect();
        roundtrip(&ids);
        let (_, data) = encode(ids.iter().map(String::as_str));
        // 3 whole ids of 13 bytes, 37 entries of 3 bytes, one more suffix byte at 9 -> 10,
        // 19 -> 20 and 29 -> 30.
        assert_eq!(data.len(), 3 * 14 + 37 * 3 + 3);
    }

    proptest! {
        #[test]
        fn random_ids_roundtrip(
            prefix in "\\PC{0,40}",
            ids in proptest::collection::vec("\\PC{1,12}", 0..70),
        ) {
            let ids: Vec<String> = ids.into_iter().map(|s| format!("{prefix}{s}")).collect();
            roundtrip(&ids);
        }
    }
}

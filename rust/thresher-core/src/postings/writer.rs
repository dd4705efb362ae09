//! Serialises one term's postings (see the layout in [`crate::postings`]).

use crate::error::{Error, Result};
use crate::postings::codec::{
    frontier, pack_docs_full, pack_docs_tail, pack_values, put_frontier, put_widths, BLOCK_LEN,
};
use crate::postings::list::SKIP_ENTRY;

/// Appends the postings of one term to `out`.
///
/// `docs` strictly increasing, `values[i] >= 1`, `doc_keys[doc]` the length key of each
/// document.
///
/// # Errors
/// [`Error::InvalidArgument`] when the encoded list would exceed 4 GiB (skip-table offsets are
/// 32-bit), or the inputs are inconsistent.
pub fn encode_postings(
    docs: &[u32],
    values: &[u32],
    doc_keys: &[u32],
    out: &mut Vec<u8>,
) -> Result<()> {
    if docs.is_empty() || docs.len() != values.len() {
        return Err(Error::invalid_argument(
            "a posting list needs as many values as docs, and at least one",
        ));
    }
    let key = |d: u32| doc_keys.get(d as usize).copied().unwrap_or(0);
    let nblocks = docs.len().div_ceil(BLOCK_LEN);
    if nblocks == 1 {
        write_block(docs, values, None, out);
        return Ok(());
    }
    let all = frontier(docs.iter().zip(values).map(|(&d, &v)| (v, key(d))));
    put_frontier(out, &all);
    let mut skip = Vec::with_capacity(SKIP_ENTRY * nblocks);
    let mut frontiers = Vec::new();
    let mut blocks = Vec::new();
    let mut prev = None;
    let too_large = || Error::invalid_argument("a posting list exceeds 4 GiB once compressed");
    for (d, v) in docs.chunks(BLOCK_LEN).zip(values.chunks(BLOCK_LEN)) {
        write_block(d, v, prev, &mut blocks);
        put_frontier(
            &mut frontiers,
            &frontier(d.iter().zip(v).map(|(&d, &v)| (v, key(d)))),
        );
        let last = *d.last().expect("chunks are non-empty");
        let block_end = u32::try_from(blocks.len()).map_err(|_| too_large())?;
        let frontier_end = u32::try_from(frontiers.len()).map_err(|_| too_large())?;
        skip.extend_from_slice(&last.to_le_bytes());
        skip.extend_from_slice(&block_end.to_le_bytes());
        skip.extend_from_slice(&frontier_end.to_le_bytes());
        prev = Some(last);
    }
    out.extend_from_slice(&skip);
    out.extend_from_slice(&frontiers);
    out.extend_from_slice(&blocks);
    Ok(())
}

/// Writes the bit widths and packed docs and values of one block.
fn write_block(docs: &[u32], values: &[u32], prev: Option<u32>, out: &mut Vec<u8>) {
    let mut packed = Vec::with_capacity(8 * BLOCK_LEN);
    let db = if docs.len() == BLOCK_LEN {
        pack_docs_full(docs, prev, &mut packed)
    } else {
        pack_docs_tail(docs, prev, &mut packed)
    };
    let vb = pack_values(values, &mut packed);
    put_widths(out, db, vb);
    out.extend_from_slice(&packed);
}

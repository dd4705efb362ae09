//! Serialises one term's postings (see the layout in [`crate::postings`]).

use crate::error::{Error, Result};
use crate::postings::codec::{
    frontier, pack_docs_full, pack_docs_tail, pack_values_full, pack_values_tail, put_frontier,
    put_widths, BLOCK_LEN,
};

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
    let skip_at = out.len();
    out.resize(skip_at + 8 * nblocks, 0);
    let blocks_at = out.len();
    let mut prev = None;
    for (i, (d, v)) in docs
        .chunks(BLOCK_LEN)
        .zip(values.chunks(BLOCK_LEN))
        .enumerate()
    {
        write_block(d, v, prev, out);
        put_frontier(out, &frontier(d.iter().zip(v).map(|(&d, &v)| (v, key(d)))));
        let last = *d.last().expect("chunks are non-empty");
        let end = u32::try_from(out.len() - blocks_at)
            .map_err(|_| Error::invalid_argument("a posting list exceeds 4 GiB once compressed"))?;
        out[skip_at + 8 * i..skip_at + 8 * i + 4].copy_from_slice(&last.to_le_bytes());
        out[skip_at + 8 * i + 4..skip_at + 8 * i + 8].copy_from_slice(&end.to_le_bytes());
        prev = Some(last);
    }
    Ok(())
}

/// Writes the bit widths and packed docs and values of one block.
fn write_block(docs: &[u32], values: &[u32], prev: Option<u32>, out: &mut Vec<u8>) {
    let mut packed = Vec::with_capacity(8 * BLOCK_LEN);
    let (db, vb) = if docs.len() == BLOCK_LEN {
        (
            pack_docs_full(docs, prev, &mut packed),
            pack_values_full(values, &mut packed),
        )
    } else {
        (
            pack_docs_tail(docs, prev, &mut packed),
            pack_values_tail(values, &mut packed),
        )
    };
    put_widths(out, db, vb);
    out.extend_from_slice(&packed);
}

//! Integer codecs of the posting lists: LEB128 varints, 128-integer blocks bit-packed with SIMD
//! (the `bitpacking` crate's `BitPacker4x`, which picks SSE3, NEON or its scalar kernel at
//! runtime), a scalar bit packer for the shorter tail block, and the (value, length key)
//! frontier that block-max bounds are computed from.
//!
//! Every decoder is total: malformed input yields `None`, never a panic, so a damaged index
//! opened without verification cannot crash a search.

use bitpacking::{BitPacker, BitPacker4x};

/// Postings per full block.
pub const BLOCK_LEN: usize = 128;

/// The SIMD bit packer, selected once per process (CPU detection is cached by the crate's
/// constructor; the value is a one-byte enum).
#[inline]
pub(crate) fn packer() -> BitPacker4x {
    use std::sync::OnceLock;
    static PACKER: OnceLock<BitPacker4x> = OnceLock::new();
    *PACKER.get_or_init(BitPacker4x::new)
}

/// Appends `v` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*pos`, advancing it. `None` when truncated or longer than 64 bits.
///
/// Always inlined. In the Python extension (`search_batch(threads=1)`, best of 3 calls, 3
/// alternated rounds) that made real prose 3% faster and left Zipf 1M equal; on Cranfield the
/// dictionary's entry scans gain most (an extension built without it measured 85-86k QPS at
/// k=10 where the inlined build had measured 93k, in separate runs). In the `examples/qps.rs`
/// binary it cost real prose k=1000 3-10%, so code layout decides the last few percent.
#[inline(always)]
pub fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    // Fast path: most varints (frontier deltas, widths, small dfs) fit one byte.
    let first = *buf.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(u64::from(first));
    }
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// [`get_varint`] restricted to `u32`.
#[inline]
pub fn get_varint_u32(buf: &[u8], pos: &mut usize) -> Option<u32> {
    get_varint(buf, pos).and_then(|v| u32::try_from(v).ok())
}

/// How a block's values are packed: `bits` bits each, plus, when `exceptions`, a list of the
/// few values that need more (patched frame of reference: one large term frequency no longer
/// widens the whole block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueWidth {
    /// Bits per packed value (0..=32).
    pub bits: u8,
    /// Whether an exception list follows the packed values.
    pub exceptions: bool,
}

/// Writes a block's doc bit width and value width as one varint,
/// `doc_bits + 33 * (value_bits + 33 * exceptions)`: one byte for the common case of values
/// needing at most 2 bits and no exceptions.
pub fn put_widths(out: &mut Vec<u8>, doc_bits: u8, values: ValueWidth) {
    let v = u64::from(values.bits) + 33 * u64::from(values.exceptions);
    put_varint(out, u64::from(doc_bits) + 33 * v);
}

/// Reads the widths written by [`put_widths`]; `None` when malformed or a width exceeds 32.
#[inline]
pub fn get_widths(buf: &[u8], pos: &mut usize) -> Option<(u8, ValueWidth)> {
    let v = get_varint(buf, pos)?;
    let (d, rest) = (v % 33, v / 33);
    let (b, e) = (rest % 33, rest / 33);
    (e <= 1).then_some((
        d as u8,
        ValueWidth {
            bits: b as u8,
            exceptions: e == 1,
        },
    ))
}

/// Bits needed to store `max` (0 for 0).
#[inline]
pub fn bits_for(max: u32) -> u8 {
    (32 - max.leading_zeros()) as u8
}

/// Bytes taken by `n` values of `bits` bits packed by [`pack_tail`].
#[inline]
pub fn tail_bytes(n: usize, bits: u8) -> usize {
    (n * bits as usize).div_ceil(8)
}

/// Packs `values` (each `< 2^bits`) LSB-first into `tail_bytes(values.len(), bits)` bytes.
pub fn pack_tail(values: &[u32], bits: u8, out: &mut Vec<u8>) {
    let mut acc = 0u64;
    let mut filled = 0u32;
    for &v in values {
        debug_assert!(bits == 32 || v >> bits == 0);
        acc |= u64::from(v) << filled;
        filled += u32::from(bits);
        while filled >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        out.push(acc as u8);
    }
}

/// Unpacks `out.len()` values of `bits` bits written by [`pack_tail`]. Returns the bytes read,
/// `None` when `src` is too short or `bits > 32`.
#[inline(always)]
pub fn unpack_tail(src: &[u8], bits: u8, out: &mut [u32]) -> Option<usize> {
    if bits > 32 {
        return None;
    }
    let nbytes = tail_bytes(out.len(), bits);
    let src = src.get(..nbytes)?;
    if bits == 0 {
        out.fill(0);
        return Some(0);
    }
    let mask = if bits == 32 {
        u64::from(u32::MAX)
    } else {
        (1u64 << bits) - 1
    };
    // Fast path: copy into a zero-padded buffer, then read each value with one unaligned 8-byte
    // load at its bit offset (a value spans at most 5 bytes), no carried state between values.
    let mut padded = [0u8; 4 * BLOCK_LEN + 8];
    if nbytes + 8 <= padded.len() {
        padded[..nbytes].copy_from_slice(src);
        let b = bits as usize;
        for (i, o) in out.iter_mut().enumerate() {
            let bit = i * b;
            let at = bit / 8;
            let word = u64::from_le_bytes(padded[at..at + 8].try_into().expect("an 8-byte slice"));
            *o = ((word >> (bit % 8)) & mask) as u32;
        }
        return Some(nbytes);
    }
    let mut acc = 0u64;
    let mut filled = 0u32;
    let mut bytes = src.iter();
    for o in out.iter_mut() {
        while filled < u32::from(bits) {
            // Cannot run out: nbytes covers out.len() * bits bits.
            acc |= u64::from(*bytes.next().unwrap_or(&0)) << filled;
            filled += 8;
        }
        *o = (acc & mask) as u32;
        acc >>= bits;
        filled -= u32::from(bits);
    }
    Some(nbytes)
}

/// Packs a full block of doc ids (strictly increasing, all > `prev` when given) as gaps minus one.
/// Returns the bit width (written by the caller).
pub fn pack_docs_full(docs: &[u32], prev: Option<u32>, out: &mut Vec<u8>) -> u8 {
    debug_assert_eq!(docs.len(), BLOCK_LEN);
    let p = packer();
    let bits = p.num_bits_strictly_sorted(prev, docs);
    let at = out.len();
    out.resize(at + BitPacker4x::compressed_block_size(bits), 0);
    p.compress_strictly_sorted(prev, docs, &mut out[at..], bits);
    bits
}

/// Unpacks a full block of doc ids packed by [`pack_docs_full`]. `None` when `src` is short or
/// `bits > 32`. The ids are increasing unless the data is damaged (the caller checks).
#[inline(always)]
pub fn unpack_docs_full(
    src: &[u8],
    bits: u8,
    prev: Option<u32>,
    out: &mut [u32; BLOCK_LEN],
) -> Option<usize> {
    if bits > 32 || src.len() < BitPacker4x::compressed_block_size(bits) {
        return None;
    }
    Some(packer().decompress_strictly_sorted(prev, src, out, bits))
}

/// Packs a short run of doc ids (strictly increasing, all > `prev` when given) as gaps minus one.
/// Returns the bit width.
pub fn pack_docs_tail(docs: &[u32], prev: Option<u32>, out: &mut Vec<u8>) -> u8 {
    let mut gaps = Vec::with_capacity(docs.len());
    let mut last = prev.map_or(-1i64, i64::from);
    for &d in docs {
        gaps.push((i64::from(d) - last - 1) as u32);
        last = i64::from(d);
    }
    let bits = bits_for(gaps.iter().copied().max().unwrap_or(0));
    pack_tail(&gaps, bits, out);
    bits
}

/// Unpacks a short run of doc ids packed by [`pack_docs_tail`]; `None` on short input or when an
/// id would not fit in 32 bits. The ids come out strictly increasing.
#[inline(always)]
pub fn unpack_docs_tail(src: &[u8], bits: u8, prev: Option<u32>, out: &mut [u32]) -> Option<usize> {
    let n = unpack_tail(src, bits, out)?;
    // `next` is the smallest id the next posting may have; ids only grow, so checking the last
    // one against u32 covers them all.
    let mut next = prev.map_or(0u64, |p| u64::from(p) + 1);
    for o in out.iter_mut() {
        let d = next + u64::from(*o);
        *o = d as u32;
        next = d + 1;
    }
    (next <= 1 << 32).then_some(n)
}

/// Bytes of `n` values packed with `bits` bits (SIMD layout for a full block).
#[inline]
pub fn packed_len(n: usize, bits: u8) -> usize {
    if n == BLOCK_LEN {
        16 * bits as usize
    } else {
        tail_bytes(n, bits)
    }
}

fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(7).max(1)
}

/// Packs values (each >= 1) as value minus one: bit-packed at the width that minimises the size
/// once the values that do not fit are listed as exceptions (count, then per exception its
/// position u8 and its high bits as a varint). A full block (128 values) uses the SIMD packer.
pub fn pack_values(values: &[u32], out: &mut Vec<u8>) -> ValueWidth {
    let n = values.len();
    debug_assert!(n <= BLOCK_LEN);
    let minus: Vec<u32> = values.iter().map(|&v| v - 1).collect();
    let max_bits = bits_for(minus.iter().copied().max().unwrap_or(0));
    let mut best = (packed_len(n, max_bits), max_bits);
    for b in 0..max_bits {
        let mut cost = packed_len(n, b) + 2; // + count + the wider widths varint
        for &m in &minus {
            if bits_for(m) > b {
                cost += 1 + varint_len(u64::from(m >> b));
            }
        }
        if cost < best.0 {
            best = (cost, b);
        }
    }
    let bits = best.1;
    let mask = if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    let low: Vec<u32> = minus.iter().map(|&m| m & mask).collect();
    if n == BLOCK_LEN {
        let at = out.len();
        out.resize(at + BitPacker4x::compressed_block_size(bits), 0);
        packer().compress(&low, &mut out[at..], bits);
    } else {
        pack_tail(&low, bits, out);
    }
    let exceptions = bits < max_bits;
    if exceptions {
        let list: Vec<(usize, u32)> = minus
            .iter()
            .enumerate()
            .filter(|(_, &m)| bits_for(m) > bits)
            .map(|(i, &m)| (i, m >> bits))
            .collect();
        put_varint(out, list.len() as u64);
        for (i, high) in list {
            out.push(i as u8);
            put_varint(out, u64::from(high));
        }
    }
    ValueWidth { bits, exceptions }
}

/// Unpacks `out.len()` values (128 = a full SIMD block) written by [`pack_values`]. Returns the
/// bytes read; `None` when damaged.
#[inline(always)]
pub fn unpack_values(src: &[u8], width: ValueWidth, out: &mut [u32]) -> Option<usize> {
    let n = out.len();
    let bits = width.bits;
    let mut used = if n == BLOCK_LEN {
        if bits > 32 || src.len() < BitPacker4x::compressed_block_size(bits) {
            return None;
        }
        packer().decompress(src, out, bits)
    } else {
        unpack_tail(src, bits, out)?
    };
    if width.exceptions {
        let count = get_varint(src, &mut used)?;
        for _ in 0..count {
            let pos = *src.get(used)? as usize;
            used += 1;
            let high = get_varint_u32(src, &mut used)?;
            let slot = out.get_mut(pos)?;
            *slot |= high.checked_shl(u32::from(bits)).unwrap_or(0);
        }
    }
    for v in out.iter_mut() {
        *v = v.wrapping_add(1);
    }
    Some(used)
}

/// The Pareto frontier of `(value, key)` pairs: the pairs no other pair beats on both a larger
/// (or equal) value and a smaller (or equal) key. Every input pair is dominated by one frontier
/// pair (value >= and key <=), which is what makes `max over frontier of bound(value, key)` an
/// upper bound of every input's score. Returned with keys and values strictly increasing.
pub fn frontier(pairs: impl IntoIterator<Item = (u32, u32)>) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = pairs.into_iter().collect();
    // Key ascending; for equal keys the largest value first.
    v.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (value, key) in v {
        if out.last().is_none_or(|&(best, _)| value > best) {
            out.push((value, key));
        }
    }
    out
}

/// Writes a frontier (as returned by [`frontier`], non-empty): count, then the first pair's
/// key and value minus one, then each further pair's increments minus one.
pub fn put_frontier(out: &mut Vec<u8>, f: &[(u32, u32)]) {
    put_varint(out, f.len() as u64);
    let mut prev: Option<(u32, u32)> = None;
    for &(value, key) in f {
        match prev {
            None => {
                put_varint(out, u64::from(key));
                put_varint(out, u64::from(value.saturating_sub(1)));
            }
            Some((pv, pk)) => {
                put_varint(out, u64::from(key - pk - 1));
                put_varint(out, u64::from(value - pv - 1));
            }
        }
        prev = Some((value, key));
    }
}

/// Reads a frontier written by [`put_frontier`] at `*pos`, calling `each(value, key)` per pair.
/// `None` when malformed (truncated, empty, or overflowing).
#[inline]
pub fn for_each_frontier_pair(
    buf: &[u8],
    pos: &mut usize,
    mut each: impl FnMut(u32, u32),
) -> Option<()> {
    let n = get_varint(buf, pos)?;
    if n == 0 {
        return None;
    }
    let mut key = get_varint_u32(buf, pos)?;
    let mut value = get_varint_u32(buf, pos)?.checked_add(1)?;
    each(value, key);
    for _ in 1..n {
        key = key.checked_add(get_varint_u32(buf, pos)?)?.checked_add(1)?;
        value = value
            .checked_add(get_varint_u32(buf, pos)?)?
            .checked_add(1)?;
        each(value, key);
    }
    Some(())
}

/// Skips a frontier at `*pos`.
pub fn skip_frontier(buf: &[u8], pos: &mut usize) -> Option<()> {
    for_each_frontier_pair(buf, pos, |_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted_docs(gaps: &[u32], start: u32) -> Vec<u32> {
        let mut d = start;
        gaps.iter()
            .map(|&g| {
                d = d.saturating_add(g).saturating_add(1);
                d
            })
            .collect()
    }

    proptest! {
        #[test]
        fn varints_roundtrip(vals in proptest::collection::vec(any::<u64>(), 0..50)) {
            let mut buf = Vec::new();
            for &v in &vals { put_varint(&mut buf, v); }
            let mut pos = 0;
            for &v in &vals { prop_assert_eq!(get_varint(&buf, &mut pos), Some(v)); }
            prop_assert_eq!(pos, buf.len());
            prop_assert_eq!(get_varint(&buf, &mut pos), None);
        }

        #[test]
        fn tail_packing_roundtrips(vals in proptest::collection::vec(any::<u32>(), 0..130), bits in 0u8..=32) {
            let vals: Vec<u32> = vals.iter().map(|&v| if bits == 32 { v } else { v & ((1u32 << bits) - 1) }).collect();
            let mut buf = Vec::new();
            pack_tail(&vals, bits, &mut buf);
            prop_assert_eq!(buf.len(), tail_bytes(vals.len(), bits));
            let mut out = vec![0; vals.len()];
            prop_assert_eq!(unpack_tail(&buf, bits, &mut out), Some(buf.len()));
            prop_assert_eq!(&out, &vals);
            if !buf.is_empty() {
                prop_assert_eq!(unpack_tail(&buf[..buf.len() - 1], bits, &mut out), None);
            }
        }

        #[test]
        fn full_blocks_roundtrip(
            gaps in proptest::collection::vec(0u32..5000, BLOCK_LEN),
            vals in proptest::collection::vec(prop_oneof![8 => 1u32..4, 1 => 1u32..100_000, 1 => Just(u32::MAX)], BLOCK_LEN),
            prev in proptest::option::of(0u32..1_000_000),
        ) {
            let docs = sorted_docs(&gaps, prev.unwrap_or(0));
            let docs: Vec<u32> = if prev.is_none() { docs.iter().map(|d| d - 1).collect() } else { docs };
            let mut buf = Vec::new();
            let db = pack_docs_full(&docs, prev, &mut buf);
            let at = buf.len();
            let vb = pack_values(&vals, &mut buf);
            let mut d = [0u32; BLOCK_LEN];
            let mut v = [0u32; BLOCK_LEN];
            let n = unpack_docs_full(&buf, db, prev, &mut d).unwrap();
            prop_assert_eq!(n, at);
            prop_assert_eq!(unpack_values(&buf[n..], vb, &mut v), Some(buf.len() - at));
            prop_assert_eq!(&d[..], &docs[..]);
            prop_assert_eq!(&v[..], &vals[..]);
        }

        #[test]
        fn tail_blocks_roundtrip(
            gaps in proptest::collection::vec(0u32..100_000, 1..BLOCK_LEN),
            prev in proptest::option::of(0u32..1_000_000),
        ) {
            let docs = sorted_docs(&gaps, prev.unwrap_or(0));
            let docs: Vec<u32> = if prev.is_none() { docs.iter().map(|d| d - 1).collect() } else { docs };
            let vals: Vec<u32> = gaps.iter().map(|g| if g % 23 == 0 { g * 977 + 1 } else { g % 7 + 1 }).collect();
            let mut buf = Vec::new();
            let db = pack_docs_tail(&docs, prev, &mut buf);
            let at = buf.len();
            let vb = pack_values(&vals, &mut buf);
            let mut d = vec![0u32; docs.len()];
            let mut v = vec![0u32; docs.len()];
            let n = unpack_docs_tail(&buf, db, prev, &mut d).unwrap();
            prop_assert_eq!(n, at);
            prop_assert_eq!(unpack_values(&buf[n..], vb, &mut v), Some(buf.len() - at));
            prop_assert_eq!(d, docs);
            prop_assert_eq!(v, vals);
        }

        #[test]
        fn widths_roundtrip(d in 0u8..=32, b in 0u8..=32, e in any::<bool>()) {
            let mut buf = Vec::new();
            let w = ValueWidth { bits: b, exceptions: e };
            put_widths(&mut buf, d, w);
            prop_assert_eq!(get_widths(&buf, &mut 0), Some((d, w)));
        }

        #[test]
        fn frontier_dominates_and_roundtrips(pairs in proptest::collection::vec((1u32..50, 0u32..300), 1..200)) {
            let f = frontier(pairs.iter().copied());
            for w in f.windows(2) {
                prop_assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1);
            }
            for &(v, k) in &pairs {
                prop_assert!(f.iter().any(|&(fv, fk)| fv >= v && fk <= k));
            }
            for &p in &f {
                prop_assert!(pairs.contains(&p));
            }
            let mut buf = Vec::new();
            put_frontier(&mut buf, &f);
            let mut got = Vec::new();
            let mut pos = 0;
            for_each_frontier_pair(&buf, &mut pos, |v, k| got.push((v, k))).unwrap();
            prop_assert_eq!(pos, buf.len());
            prop_assert_eq!(got, f);
        }

        #[test]
        fn decoders_never_panic_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..700), bits in any::<u8>(), prev in proptest::option::of(any::<u32>())) {
            let mut d = [0u32; BLOCK_LEN];
            let _ = unpack_docs_full(&bytes, bits, prev, &mut d);
            let w = ValueWidth { bits, exceptions: prev.is_some() };
            let _ = unpack_values(&bytes, w, &mut d);
            let mut t = vec![0u32; 77];
            let _ = unpack_docs_tail(&bytes, bits, prev, &mut t);
            let _ = unpack_values(&bytes, w, &mut t);
            let mut pos = 0;
            let _ = for_each_frontier_pair(&bytes, &mut pos, |_, _| {});
        }
    }
}

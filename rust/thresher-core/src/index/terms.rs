//! The term dictionary of a segment: sorted terms, front-coded in blocks of
//! [`TERMS_PER_BLOCK`], each with its document frequency and the byte range of its postings.
//!
//! Payload layout (little-endian; varints LEB128):
//!
//! ```text
//! num_terms u64 | num_blocks u64
//! | block index: num_blocks x (entries offset u64, postings offset u64, first-term key u64)
//! | entries: per term: shared prefix len, suffix len, suffix bytes, df, postings byte len
//! ```
//!
//! The first entry of a block shares no prefix, so a lookup binary-searches the blocks by
//! their first term, then scans at most [`TERMS_PER_BLOCK`] entries. The binary search reads
//! the *first-term key* ([`prefix_key`]: the first term's first 8 bytes, big-endian,
//! zero-padded), which orders blocks as their first terms do except between equal keys, where
//! it falls back to decoding the first term: a probe is one load from a dense array instead of
//! a varint-decoded entry. Entry offsets are relative
//! to the entries area, postings offsets to the postings data; a term's postings start at its
//! block's postings offset plus the lengths of the entries before it. A term id is its rank.

use std::ops::Range;

use crate::postings::codec::{get_varint, put_varint};
use crate::types::TermId;

/// Terms per front-coded block.
pub const TERMS_PER_BLOCK: usize = 16;

/// Bytes per block-index entry (entries offset, postings offset, first-term key).
const INDEX_ENTRY: usize = 24;

/// The first 8 bytes of `term`, big-endian, zero-padded: `a <= b` implies
/// `prefix_key(a) <= prefix_key(b)` (byte order), so unequal keys order terms.
#[inline]
pub(crate) fn prefix_key(term: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = term.len().min(8);
    b[..n].copy_from_slice(&term[..n]);
    u64::from_be_bytes(b)
}

/// Where one term's postings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermInfo {
    /// Document frequency in the segment.
    pub df: u32,
    /// Byte range of the postings inside the postings data.
    pub postings: (usize, usize),
}

/// Builds a dictionary payload from terms in strictly increasing byte order.
#[derive(Default)]
pub(crate) struct TermsWriter {
    index: Vec<(u64, u64, u64)>,
    entries: Vec<u8>,
    prev: Vec<u8>,
    num_terms: u64,
    postings_end: u64,
}

impl TermsWriter {
    /// Appends the next term, whose postings take `postings_len` bytes after the previous ones.
    pub(crate) fn push(&mut self, term: &[u8], df: u32, postings_len: u64) {
        let first = (self.num_terms as usize).is_multiple_of(TERMS_PER_BLOCK);
        if first {
            self.index.push((
                self.entries.len() as u64,
                self.postings_end,
                prefix_key(term),
            ));
        }
        let shared = if first {
            0
        } else {
            self.prev
                .iter()
                .zip(term)
                .take_while(|(a, b)| a == b)
                .count()
        };
        put_varint(&mut self.entries, shared as u64);
        put_varint(&mut self.entries, (term.len() - shared) as u64);
        self.entries.extend_from_slice(&term[shared..]);
        put_varint(&mut self.entries, u64::from(df));
        put_varint(&mut self.entries, postings_len);
        self.prev.clear();
        self.prev.extend_from_slice(term);
        self.num_terms += 1;
        self.postings_end += postings_len;
    }

    /// Writes the payload.
    pub(crate) fn finish(self, out: &mut crate::format::PayloadWriter) {
        out.put_u64(self.num_terms);
        out.put_u64(self.index.len() as u64);
        for (e, p, k) in &self.index {
            out.put_u64(*e);
            out.put_u64(*p);
            out.put_u64(*k);
        }
        out.put_bytes(&self.entries);
    }
}

/// A decoded dictionary entry.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    shared: usize,
    suffix: &'a [u8],
    df: u32,
    postings_len: usize,
}

/// Reads one entry at `*pos`.
#[inline(always)]
fn read_entry<'a>(buf: &'a [u8], pos: &mut usize) -> Option<Entry<'a>> {
    let shared = usize::try_from(get_varint(buf, pos)?).ok()?;
    let len = usize::try_from(get_varint(buf, pos)?).ok()?;
    let end = pos.checked_add(len)?;
    let suffix = buf.get(*pos..end)?;
    *pos = end;
    let df = u32::try_from(get_varint(buf, pos)?).ok()?;
    let postings_len = usize::try_from(get_varint(buf, pos)?).ok()?;
    Some(Entry {
        shared,
        suffix,
        df,
        postings_len,
    })
}

/// A read-only view of a dictionary payload (the caller keeps the bytes).
#[derive(Debug, Clone)]
pub(crate) struct TermDict {
    pub(crate) num_terms: usize,
    num_blocks: usize,
    index: Range<usize>,
    entries: Range<usize>,
}

impl TermDict {
    /// Interprets a payload; O(1) checks only. `None` when the header does not fit.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Self> {
        let u64_at = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        let num_terms = usize::try_from(u64_at(0)?).ok()?;
        let num_blocks = usize::try_from(u64_at(8)?).ok()?;
        if num_blocks != num_terms.div_ceil(TERMS_PER_BLOCK) {
            return None;
        }
        let index = 16..16usize.checked_add(num_blocks.checked_mul(INDEX_ENTRY)?)?;
        if index.end > bytes.len() {
            return None;
        }
        Some(Self {
            num_terms,
            num_blocks,
            entries: index.end..bytes.len(),
            index,
        })
    }

    fn block_offsets(&self, bytes: &[u8], b: usize) -> Option<(usize, usize)> {
        let at = self.index.start + INDEX_ENTRY * b;
        let e = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        let p = u64::from_le_bytes(bytes.get(at + 8..at + 16)?.try_into().ok()?);
        Some((usize::try_from(e).ok()?, usize::try_from(p).ok()?))
    }

    /// The first-term key of block `b` ([`prefix_key`]).
    #[inline]
    fn block_key(&self, bytes: &[u8], b: usize) -> Option<u64> {
        let at = self.index.start + INDEX_ENTRY * b + 16;
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    }

    /// The first term of block `b`.
    fn first_term<'a>(&self, bytes: &'a [u8], b: usize) -> Option<&'a [u8]> {
        let (e, _) = self.block_offsets(bytes, b)?;
        let entries = bytes.get(self.entries.clone())?;
        let mut pos = e;
        let entry = read_entry(entries, &mut pos)?;
        (entry.shared == 0).then_some(entry.suffix)
    }

    /// Walks the entries of block `b`, calling `f(term id, term, info)` until it returns false.
    /// `None` when the block is damaged.
    fn scan_block(
        &self,
        bytes: &[u8],
        b: usize,
        mut f: impl FnMut(TermId, &[u8], TermInfo) -> bool,
    ) -> Option<()> {
        let (e, mut p) = self.block_offsets(bytes, b)?;
        let entries = bytes.get(self.entries.clone())?;
        let mut pos = e;
        let mut term: Vec<u8> = Vec::with_capacity(32);
        let n = TERMS_PER_BLOCK.min(self.num_terms - b * TERMS_PER_BLOCK);
        for i in 0..n {
            let entry = read_entry(entries, &mut pos)?;
            if entry.shared > term.len() || (i == 0 && entry.shared != 0) {
                return None;
            }
            term.truncate(entry.shared);
            term.extend_from_slice(entry.suffix);
            let end = p.checked_add(entry.postings_len)?;
            let info = TermInfo {
                df: entry.df,
                postings: (p, end),
            };
            p = end;
            if !f((b * TERMS_PER_BLOCK + i) as TermId, &term, info) {
                break;
            }
        }
        Some(())
    }

    /// Looks `key` up: its id and info, `None` when absent (or the dictionary is damaged).
    pub(crate) fn lookup(&self, bytes: &[u8], key: &[u8]) -> Option<(TermId, TermInfo)> {
        // The last block whose first term is <= key. First the last block whose key is <=
        // the key's (a binary search over the keys alone, each step one load); among blocks
        // with the same key, first terms decide.
        let want = prefix_key(key);
        if self.num_blocks == 0 || self.block_key(bytes, 0)? > want {
            return None;
        }
        let (mut base, mut len) = (0usize, self.num_blocks);
        while len > 1 {
            let half = len / 2;
            // A branch (LLVM's choice): forcing a conditional move with
            // `select_unpredictable` measured slower (39 -> 57 ns per Cranfield query term),
            // as each step then waits for its load.
            if self.block_key(bytes, base + half)? <= want {
                base += half;
            }
            len -= half;
        }
        let mut b = base;
        while self.block_key(bytes, b)? == want && self.first_term(bytes, b)? > key {
            b = b.checked_sub(1)?;
        }
        let (e, mut p) = self.block_offsets(bytes, b)?;
        let entries = bytes.get(self.entries.clone())?;
        let mut pos = e;
        // Scan without rebuilding terms: `m` is how many leading bytes the previous term shares
        // with `key` (the previous term is < key). An entry sharing more than `m` bytes with
        // its predecessor is also < key; one sharing fewer is > key (the list is sorted); only
        // an entry sharing exactly `m` bytes needs its suffix compared with `key[m..]`.
        let mut m = 0usize;
        let n = TERMS_PER_BLOCK.min(self.num_terms - b * TERMS_PER_BLOCK);
        for i in 0..n {
            let entry = read_entry(entries, &mut pos)?;
            let info = TermInfo {
                df: entry.df,
                postings: (p, p.checked_add(entry.postings_len)?),
            };
            p = info.postings.1;
            if entry.shared < m {
                return None;
            }
            if entry.shared > m {
                continue;
            }
            let rest = key.get(m..)?;
            let c = entry
                .suffix
                .iter()
                .zip(rest)
                .take_while(|(a, b)| a == b)
                .count();
            if c == entry.suffix.len() && c == rest.len() {
                return Some(((b * TERMS_PER_BLOCK + i) as TermId, info));
            }
            if c == rest.len() || (c < entry.suffix.len() && entry.suffix[c] > rest[c]) {
                return None; // this term is > key
            }
            m += c;
        }
        None
    }

    /// Calls `f(term id, term, info)` for every term in order. `Err(term id)` names the first
    /// damaged block's first term.
    pub(crate) fn for_each(
        &self,
        bytes: &[u8],
        mut f: impl FnMut(TermId, &[u8], TermInfo),
    ) -> Result<(), TermId> {
        for b in 0..self.num_blocks {
            self.scan_block(bytes, b, |id, t, i| {
                f(id, t, i);
                true
            })
            .ok_or((b * TERMS_PER_BLOCK) as TermId)?;
        }
        Ok(())
    }

    /// The entries-area and postings offsets each block records, for verification.
    pub(crate) fn block_starts(&self, bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
        (0..self.num_blocks)
            .map(|b| self.block_offsets(bytes, b))
            .collect()
    }

    /// True when every block's first-term key is [`prefix_key`] of its first term (checked
    /// when verifying: a wrong key would misdirect lookups).
    pub(crate) fn keys_agree(&self, bytes: &[u8]) -> bool {
        (0..self.num_blocks).all(
            |b| match (self.block_key(bytes, b), self.first_term(bytes, b)) {
                (Some(k), Some(t)) => k == prefix_key(t),
                _ => false,
            },
        )
    }

    /// Bytes of the entries area.
    pub(crate) fn entries_len(&self) -> usize {
        self.entries.len()
    }

    /// Offset within an entries block where block `b + 1` should start, by scanning block `b`.
    pub(crate) fn block_end(&self, bytes: &[u8], b: usize) -> Option<usize> {
        let (e, _) = self.block_offsets(bytes, b)?;
        let entries = bytes.get(self.entries.clone())?;
        let mut pos = e;
        let n = TERMS_PER_BLOCK.min(self.num_terms - b * TERMS_PER_BLOCK);
        for _ in 0..n {
            read_entry(entries, &mut pos)?;
        }
        Some(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::PayloadWriter;

    #[test]
    fn lookup_finds_every_term_and_nothing_else() {
        let mut terms: Vec<String> = (0..300).map(|i| format!("t{:04}", i * 7)).collect();
        terms.push("zzz".into());
        terms.insert(0, "a".into());
        // Terms sharing their first 8 bytes (equal block keys), and a NUL byte.
        terms.extend((0..100).map(|i| format!("longprefix{i:03}")));
        terms.extend(["longpref".into(), "longpref\0".into(), "a\0".into()]);
        terms.sort();
        let mut w = TermsWriter::default();
        for (i, t) in terms.iter().enumerate() {
            w.push(t.as_bytes(), i as u32 + 1, 3 * i as u64 + 1);
        }
        let mut p = PayloadWriter::new();
        w.finish(&mut p);
        let bytes = p.finish();
        let b = bytes.as_slice();
        let d = TermDict::parse(b).unwrap();
        let mut off = 0;
        for (i, t) in terms.iter().enumerate() {
            let (id, info) = d.lookup(b, t.as_bytes()).unwrap();
            assert_eq!(id as usize, i);
            assert_eq!(info.df, i as u32 + 1);
            assert_eq!(info.postings, (off, off + 3 * i + 1));
            off += 3 * i + 1;
        }
        assert!(d.keys_agree(b));
        for miss in [
            "",
            "0",
            "b",
            "t0001",
            "t9999",
            "zzzz",
            "t0007x",
            "longprefix",
            "a\0\0",
        ] {
            assert!(d.lookup(b, miss.as_bytes()).is_none(), "{miss}");
        }
        let mut seen = Vec::new();
        d.for_each(b, |_, t, _| {
            seen.push(String::from_utf8(t.to_vec()).unwrap())
        })
        .unwrap();
        assert_eq!(seen, terms);
    }
}

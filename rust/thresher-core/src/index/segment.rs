//! [`Segment`]: the immutable unit of an index (after Lucene/tantivy), read from three
//! component payloads that are either memory-mapped files or in-memory buffers.
//!
//! Payload layouts (little-endian; `align8` = zero padding to a multiple of 8):
//!
//! ```text
//! terms:    num_terms u64 | offsets u64[num_terms + 1] | term bytes (UTF-8, sorted, unique)
//! postings: num_terms u64 | num_postings u64 | offsets u64[num_terms + 1]
//!           | doc ids u32[num_postings] | align8 | term frequencies u32[num_postings] | align8
//! docs:     num_docs u64 | total_terms u64 | lengths u32[num_docs] | align8
//!           | norms u8[num_docs] | align8 | id offsets u64[num_docs + 1] | id bytes (UTF-8)
//! ```
//!
//! A term's id is its rank in byte order, so lookups are a binary search over the mapped
//! dictionary and opening a segment costs O(1) reads beyond validation. Within a posting list
//! doc ids strictly increase and term frequencies are >= 1. `norms` holds Lucene's one-byte
//! length code ([`crate::score::smallfloat`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{read_component, Bytes, Component, PayloadWriter};
use crate::types::{DocId, TermId};

use crate::format::bytes_cast as cast;

/// One immutable segment.
#[derive(Debug, Clone)]
pub struct Segment {
    name: String,
    terms: Bytes,
    postings: Bytes,
    docs: Bytes,
    num_terms: usize,
    num_postings: usize,
    num_docs: usize,
    total_terms: u64,
    term_offsets: Range<usize>,
    term_blob: Range<usize>,
    posting_offsets: Range<usize>,
    posting_docs: Range<usize>,
    posting_tfs: Range<usize>,
    doc_lengths: Range<usize>,
    doc_norms: Range<usize>,
    id_offsets: Range<usize>,
    id_blob: Range<usize>,
}

fn u64_at(bytes: &[u8], at: usize, path: &Path, what: &str) -> Result<u64> {
    let b = bytes
        .get(at..at + 8)
        .ok_or_else(|| Error::corrupted(path, format!("{what} lies outside the file")))?;
    Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

fn count(v: u64, path: &Path, what: &str) -> Result<usize> {
    usize::try_from(v)
        .ok()
        .filter(|&n| n < (1usize << 40))
        .ok_or_else(|| Error::corrupted(path, format!("implausible {what}: {v}")))
}

/// Checks that `offsets` starts at 0, never decreases and ends at `end`.
fn check_offsets(offsets: &[u64], end: usize, path: &Path, what: &str) -> Result<()> {
    if offsets.first() != Some(&0) || offsets.last() != Some(&(end as u64)) {
        return Err(Error::corrupted(
            path,
            format!("{what} do not span their data"),
        ));
    }
    if offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::corrupted(path, format!("{what} decrease")));
    }
    Ok(())
}

impl Segment {
    /// The file name of one component of segment `name`.
    pub fn file_name(name: &str, component: Component) -> String {
        format!("{name}.{}", component.extension())
    }

    /// Opens the three component files of segment `name` in `dir`.
    ///
    /// `verify` checks CRCs and every posting (doc ids in range and increasing); without it
    /// only the cheap structural checks run.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Corrupted`] or [`Error::IncompatibleFormat`].
    pub fn open(dir: &Path, name: &str, mmap: bool, verify: bool) -> Result<Self> {
        let read = |c| read_component(&dir.join(Self::file_name(name, c)), c, mmap, verify);
        let seg = Self::from_parts(
            name,
            read(Component::Terms)?,
            read(Component::Postings)?,
            read(Component::Docs)?,
            dir,
        )?;
        if verify {
            seg.verify_postings(dir)?;
        }
        Ok(seg)
    }

    /// Interprets three payloads (validating structure). `dir` is only used in error messages.
    pub(crate) fn from_parts(
        name: &str,
        terms: Bytes,
        postings: Bytes,
        docs: Bytes,
        dir: &Path,
    ) -> Result<Self> {
        let tp = dir.join(Self::file_name(name, Component::Terms));
        let pp = dir.join(Self::file_name(name, Component::Postings));
        let dp = dir.join(Self::file_name(name, Component::Docs));

        // terms
        let t = terms.as_slice();
        let num_terms = count(u64_at(t, 0, &tp, "term count")?, &tp, "term count")?;
        let term_offsets = 8..8 + 8 * (num_terms + 1);
        let offs: &[u64] = cast(t, term_offsets.clone(), &tp, "term offsets")?;
        let term_blob = term_offsets.end..t.len();
        check_offsets(offs, term_blob.len(), &tp, "term offsets")?;

        // postings
        let p = postings.as_slice();
        let pn_terms = count(u64_at(p, 0, &pp, "term count")?, &pp, "term count")?;
        if pn_terms != num_terms {
            return Err(Error::corrupted(
                &pp,
                format!("{pn_terms} posting lists for {num_terms} terms"),
            ));
        }
        let num_postings = count(u64_at(p, 8, &pp, "posting count")?, &pp, "posting count")?;
        let posting_offsets = 16..16 + 8 * (num_terms + 1);
        let poffs: &[u64] = cast(p, posting_offsets.clone(), &pp, "posting offsets")?;
        check_offsets(poffs, num_postings, &pp, "posting offsets")?;
        let posting_docs = posting_offsets.end..posting_offsets.end + 4 * num_postings;
        let tfs_start = posting_docs.end.next_multiple_of(8);
        let posting_tfs = tfs_start..tfs_start + 4 * num_postings;
        let _: &[u32] = cast(p, posting_docs.clone(), &pp, "doc ids")?;
        let _: &[u32] = cast(p, posting_tfs.clone(), &pp, "term frequencies")?;
        if posting_tfs.end.next_multiple_of(8) != p.len() {
            return Err(Error::corrupted(
                &pp,
                "trailing bytes after the posting lists",
            ));
        }

        // docs
        let d = docs.as_slice();
        let num_docs = count(u64_at(d, 0, &dp, "document count")?, &dp, "document count")?;
        if num_docs > u32::MAX as usize {
            return Err(Error::corrupted(
                &dp,
                "more documents than a segment can hold",
            ));
        }
        let total_terms = u64_at(d, 8, &dp, "total term count")?;
        let doc_lengths = 16..16 + 4 * num_docs;
        let lengths: &[u32] = cast(d, doc_lengths.clone(), &dp, "document lengths")?;
        let norms_start = doc_lengths.end.next_multiple_of(8);
        let doc_norms = norms_start..norms_start + num_docs;
        let _: &[u8] = cast(d, doc_norms.clone(), &dp, "norms")?;
        let ids_start = doc_norms.end.next_multiple_of(8);
        let id_offsets = ids_start..ids_start + 8 * (num_docs + 1);
        let ioffs: &[u64] = cast(d, id_offsets.clone(), &dp, "id offsets")?;
        let id_blob = id_offsets.end..d.len();
        check_offsets(ioffs, id_blob.len(), &dp, "id offsets")?;
        if lengths.iter().map(|&l| u64::from(l)).sum::<u64>() != total_terms {
            return Err(Error::corrupted(
                &dp,
                "document lengths do not add up to the total term count",
            ));
        }

        let seg = Self {
            name: name.to_string(),
            terms,
            postings,
            docs,
            num_terms,
            num_postings,
            num_docs,
            total_terms,
            term_offsets,
            term_blob,
            posting_offsets,
            posting_docs,
            posting_tfs,
            doc_lengths,
            doc_norms,
            id_offsets,
            id_blob,
        };
        // Binary search needs a strictly sorted dictionary.
        for t in 1..num_terms as TermId {
            if seg.term(t - 1) >= seg.term(t) {
                return Err(Error::corrupted(
                    &tp,
                    "term dictionary is not strictly sorted",
                ));
            }
        }
        Ok(seg)
    }

    /// Full check of every posting list: doc ids strictly increasing and < num_docs, tf >= 1.
    fn verify_postings(&self, dir: &Path) -> Result<()> {
        let pp = dir.join(Self::file_name(&self.name, Component::Postings));
        for t in 0..self.num_terms as TermId {
            let (docs, tfs) = self.postings(t);
            if docs.is_empty() {
                return Err(Error::corrupted(
                    &pp,
                    format!("term {t} has an empty posting list"),
                ));
            }
            if docs.windows(2).any(|w| w[0] >= w[1])
                || *docs.last().expect("non-empty") as usize >= self.num_docs
            {
                return Err(Error::corrupted(
                    &pp,
                    format!("posting list of term {t} is out of order or range"),
                ));
            }
            if tfs.contains(&0) {
                return Err(Error::corrupted(
                    &pp,
                    format!("posting list of term {t} has a zero frequency"),
                ));
            }
        }
        Ok(())
    }

    /// The segment's name (file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of documents.
    pub fn num_docs(&self) -> usize {
        self.num_docs
    }

    /// Number of distinct terms.
    pub fn num_terms(&self) -> usize {
        self.num_terms
    }

    /// Number of postings.
    pub fn num_postings(&self) -> usize {
        self.num_postings
    }

    /// Sum of document lengths.
    pub fn total_terms(&self) -> u64 {
        self.total_terms
    }

    /// The three payloads (terms, postings, docs), for saving.
    pub(crate) fn payloads(&self) -> [(Component, &Bytes); 3] {
        [
            (Component::Terms, &self.terms),
            (Component::Postings, &self.postings),
            (Component::Docs, &self.docs),
        ]
    }

    /// True when the payloads are memory-mapped.
    pub fn is_mmap(&self) -> bool {
        self.postings.is_mmap()
    }

    fn term_offsets(&self) -> &[u64] {
        bytemuck::cast_slice(&self.terms.as_slice()[self.term_offsets.clone()])
    }

    /// Bytes of term `id` (must be < num_terms).
    pub fn term(&self, id: TermId) -> &[u8] {
        let offs = self.term_offsets();
        let (a, b) = (offs[id as usize] as usize, offs[id as usize + 1] as usize);
        &self.terms.as_slice()[self.term_blob.clone()][a..b]
    }

    /// The id of `term`, by binary search over the sorted dictionary.
    pub fn term_id(&self, term: &str) -> Option<TermId> {
        let key = term.as_bytes();
        let (mut lo, mut hi) = (0usize, self.num_terms);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.term(mid as TermId).cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as TermId),
            }
        }
        None
    }

    /// Doc ids and term frequencies of term `id` (must be < num_terms).
    pub fn postings(&self, id: TermId) -> (&[u32], &[u32]) {
        let p = self.postings.as_slice();
        let offs: &[u64] = bytemuck::cast_slice(&p[self.posting_offsets.clone()]);
        let (a, b) = (offs[id as usize] as usize, offs[id as usize + 1] as usize);
        let docs: &[u32] = bytemuck::cast_slice(&p[self.posting_docs.clone()]);
        let tfs: &[u32] = bytemuck::cast_slice(&p[self.posting_tfs.clone()]);
        (&docs[a..b], &tfs[a..b])
    }

    /// Document frequency of term `id`.
    pub fn doc_freq(&self, id: TermId) -> u64 {
        self.postings(id).0.len() as u64
    }

    /// Document lengths (number of terms), indexed by local doc id.
    pub fn lengths(&self) -> &[u32] {
        bytemuck::cast_slice(&self.docs.as_slice()[self.doc_lengths.clone()])
    }

    /// Lucene norm bytes, indexed by local doc id.
    pub fn norms(&self) -> &[u8] {
        &self.docs.as_slice()[self.doc_norms.clone()]
    }

    /// External id of local document `doc`.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when the stored id is not UTF-8 or `doc` is out of range.
    pub fn doc_id(&self, doc: DocId) -> Result<&str> {
        let d = self.docs.as_slice();
        let offs: &[u64] = bytemuck::cast_slice(&d[self.id_offsets.clone()]);
        let (a, b) = match (offs.get(doc as usize), offs.get(doc as usize + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => {
                return Err(Error::invalid_argument(format!(
                    "document number {doc} out of range"
                )))
            }
        };
        std::str::from_utf8(&d[self.id_blob.clone()][a..b]).map_err(|_| {
            Error::corrupted(
                PathBuf::from(&self.name),
                format!("id of document {doc} is not UTF-8"),
            )
        })
    }
}

/// Serialises one segment's payloads from in-memory parts (used by the builder).
pub(crate) struct SegmentParts<'a> {
    /// Sorted unique terms.
    pub terms: &'a [&'a str],
    /// Posting offsets, len = terms + 1.
    pub posting_offsets: &'a [u64],
    /// All doc ids, term after term.
    pub docs: &'a [u32],
    /// All term frequencies, aligned with `docs`.
    pub tfs: &'a [u32],
    /// Document lengths.
    pub lengths: &'a [u32],
    /// External ids.
    pub ids: &'a [String],
}

impl SegmentParts<'_> {
    /// Encodes the three payloads.
    pub(crate) fn encode(&self) -> (Bytes, Bytes, Bytes) {
        let mut t = PayloadWriter::new();
        t.put_u64(self.terms.len() as u64);
        let mut off = 0u64;
        let mut offs = Vec::with_capacity(self.terms.len() + 1);
        offs.push(0u64);
        for term in self.terms {
            off += term.len() as u64;
            offs.push(off);
        }
        t.put_slice(&offs);
        for term in self.terms {
            t.put_bytes(term.as_bytes());
        }

        let mut p = PayloadWriter::new();
        p.put_u64(self.terms.len() as u64);
        p.put_u64(self.docs.len() as u64);
        p.put_slice(self.posting_offsets);
        p.put_slice(self.docs);
        p.put_slice(self.tfs);
        p.align(8);

        let mut d = PayloadWriter::new();
        d.put_u64(self.lengths.len() as u64);
        d.put_u64(self.lengths.iter().map(|&l| u64::from(l)).sum());
        d.put_slice(self.lengths);
        d.align(8);
        let norms: Vec<u8> = self
            .lengths
            .iter()
            .map(|&l| crate::score::smallfloat::int_to_byte4(l))
            .collect();
        d.put_bytes(&norms);
        d.align(8);
        let mut off = 0u64;
        let mut ioffs = Vec::with_capacity(self.ids.len() + 1);
        ioffs.push(0u64);
        for id in self.ids {
            off += id.len() as u64;
            ioffs.push(off);
        }
        d.put_slice(&ioffs);
        for id in self.ids {
            d.put_bytes(id.as_bytes());
        }
        (t.finish(), p.finish(), d.finish())
    }
}

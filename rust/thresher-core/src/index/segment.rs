//! [`Segment`]: the immutable unit of an index (after Lucene/tantivy), read from three
//! component payloads that are either memory-mapped files or in-memory buffers.
//!
//! Payload layouts (little-endian; `align8` = zero padding to a multiple of 8):
//!
//! ```text
//! terms:    the front-coded dictionary (see `index::terms`)
//! postings: num_terms u64 | num_postings u64 | length key u64 (0 norm byte, 1 length)
//!           | posting lists, back to back (see `postings`)
//! docs:     num_docs u64 | total_terms u64 | id offset width u64 (4 or 8)
//!           | lengths u32[num_docs] | align8 | norms u8[num_docs] | align8
//!           | id offsets (u32 or u64)[num_docs + 1] | id bytes (UTF-8)
//! ```
//!
//! Opening a segment does O(1) work beyond the optional verification: the dictionary is
//! binary-searched in place, postings are decoded block by block while searching, and length
//! factors are computed from the mapped lengths or norm bytes per posting. `norms` holds Lucene's
//! one-byte length code ([`crate::score::smallfloat`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{read_component, Bytes, Component, PayloadWriter};
use crate::index::terms::{TermDict, TermInfo, TermsWriter};
use crate::postings::{encode_postings, PostingList};
use crate::score::{DocKeys, LengthKey};
use crate::types::DocId;

use crate::format::bytes_cast as cast;

/// Offset of the posting lists inside the postings payload.
const POSTINGS_DATA: usize = 24;

/// One immutable segment.
#[derive(Debug, Clone)]
pub struct Segment {
    name: String,
    terms: Bytes,
    postings: Bytes,
    docs: Bytes,
    dict: TermDict,
    num_postings: usize,
    num_docs: usize,
    total_terms: u64,
    length_key: LengthKey,
    doc_lengths: Range<usize>,
    doc_norms: Range<usize>,
    id_offsets: Range<usize>,
    wide_ids: bool,
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

impl Segment {
    /// The file name of one component of segment `name`.
    pub fn file_name(name: &str, component: Component) -> String {
        format!("{name}.{}", component.extension())
    }

    /// Opens the three component files of segment `name` in `dir`.
    ///
    /// `verify` checks CRCs and the whole content (dictionary order, every posting list, block
    /// bounds, lengths); without it only O(1) structural checks run, and damage found while
    /// searching ends the damaged posting list instead of failing.
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
            seg.verify(dir)?;
        }
        Ok(seg)
    }

    /// Interprets three payloads with O(1) structural checks. `dir` is only used in error
    /// messages.
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

        let dict = TermDict::parse(terms.as_slice())
            .ok_or_else(|| Error::corrupted(&tp, "dictionary header is damaged"))?;

        let p = postings.as_slice();
        let pn_terms = count(u64_at(p, 0, &pp, "term count")?, &pp, "term count")?;
        if pn_terms != dict.num_terms {
            return Err(Error::corrupted(
                &pp,
                format!("{pn_terms} posting lists for {} terms", dict.num_terms),
            ));
        }
        let num_postings = count(u64_at(p, 8, &pp, "posting count")?, &pp, "posting count")?;
        let length_key = match u64_at(p, 16, &pp, "length key")? {
            0 => LengthKey::NormByte,
            1 => LengthKey::Length,
            k => return Err(Error::corrupted(&pp, format!("unknown length key {k}"))),
        };

        let d = docs.as_slice();
        let num_docs = count(u64_at(d, 0, &dp, "document count")?, &dp, "document count")?;
        if num_docs >= u32::MAX as usize {
            return Err(Error::corrupted(
                &dp,
                "more documents than a segment can hold",
            ));
        }
        let total_terms = u64_at(d, 8, &dp, "total term count")?;
        let wide_ids = match u64_at(d, 16, &dp, "id offset width")? {
            4 => false,
            8 => true,
            w => return Err(Error::corrupted(&dp, format!("id offset width {w}"))),
        };
        let doc_lengths = 24..24 + 4 * num_docs;
        let _: &[u32] = cast(d, doc_lengths.clone(), &dp, "document lengths")?;
        let norms_start = doc_lengths.end.next_multiple_of(8);
        let doc_norms = norms_start..norms_start + num_docs;
        let _: &[u8] = cast(d, doc_norms.clone(), &dp, "norms")?;
        let ids_start = doc_norms.end.next_multiple_of(8);
        let width = if wide_ids { 8 } else { 4 };
        let id_offsets = ids_start..ids_start + width * (num_docs + 1);
        let (first, last) = if wide_ids {
            let o: &[u64] = cast(d, id_offsets.clone(), &dp, "id offsets")?;
            (o.first().copied(), o.last().copied())
        } else {
            let o: &[u32] = cast(d, id_offsets.clone(), &dp, "id offsets")?;
            (o.first().map(|&x| x.into()), o.last().map(|&x| x.into()))
        };
        let id_blob = id_offsets.end..d.len();
        if first != Some(0) || last != Some(id_blob.len() as u64) {
            return Err(Error::corrupted(&dp, "id offsets do not span their data"));
        }
        Ok(Self {
            name: name.to_string(),
            terms,
            postings,
            docs,
            dict,
            num_postings,
            num_docs,
            total_terms,
            length_key,
            doc_lengths,
            doc_norms,
            id_offsets,
            wide_ids,
            id_blob,
        })
    }

    /// Full check of the content; O(size of the segment).
    fn verify(&self, dir: &Path) -> Result<()> {
        let tp = dir.join(Self::file_name(&self.name, Component::Terms));
        let pp = dir.join(Self::file_name(&self.name, Component::Postings));
        let dp = dir.join(Self::file_name(&self.name, Component::Docs));
        let tb = self.terms.as_slice();

        // Dictionary: block offsets chain, terms strictly sorted, postings contiguous.
        let starts = self
            .dict
            .block_starts(tb)
            .ok_or_else(|| Error::corrupted(&tp, "block index is damaged"))?;
        let mut entries_end = 0;
        for (b, &(e, _)) in starts.iter().enumerate() {
            if e != entries_end {
                return Err(Error::corrupted(&tp, format!("block {b} is misplaced")));
            }
            entries_end = self
                .dict
                .block_end(tb, b)
                .ok_or_else(|| Error::corrupted(&tp, format!("block {b} is damaged")))?;
        }
        if entries_end != self.dict.entries_len() {
            return Err(Error::corrupted(&tp, "trailing bytes after the dictionary"));
        }
        let mut prev: Vec<u8> = Vec::new();
        let mut problem: Option<(PathBuf, String)> = None;
        let (mut expect_at, mut dfs) = (0usize, 0u64);
        let data_len = self.postings_data().len();
        let keys = self.doc_keys();
        let num_docs = self.num_docs as u32;
        let walked = self.dict.for_each(tb, |id, term, info| {
            if problem.is_some() {
                return;
            }
            if id > 0 && term <= prev.as_slice() {
                problem = Some((tp.clone(), "dictionary is not strictly sorted".into()));
            } else if std::str::from_utf8(term).is_err() {
                problem = Some((tp.clone(), format!("term {id} is not UTF-8")));
            } else if info.df == 0 || info.postings.0 != expect_at || info.postings.1 > data_len {
                problem = Some((pp.clone(), format!("postings of term {id} are misplaced")));
            } else if let Err(detail) = self.verify_list(info, keys, num_docs) {
                problem = Some((pp.clone(), format!("posting list of term {id}: {detail}")));
            }
            prev.clear();
            prev.extend_from_slice(term);
            expect_at = info.postings.1;
            dfs += u64::from(info.df);
        });
        if let Err(id) = walked {
            return Err(Error::corrupted(
                &tp,
                format!("dictionary block of term {id} is damaged"),
            ));
        }
        if let Some((path, detail)) = problem {
            return Err(Error::corrupted(path, detail));
        }
        if expect_at != data_len || dfs != self.num_postings as u64 {
            return Err(Error::corrupted(
                &pp,
                "posting lists do not add up to the recorded totals",
            ));
        }

        // Documents: lengths add up, norms agree with lengths, id offsets never decrease.
        let lengths = self.lengths();
        if lengths.iter().map(|&l| u64::from(l)).sum::<u64>() != self.total_terms {
            return Err(Error::corrupted(
                &dp,
                "document lengths do not add up to the total term count",
            ));
        }
        if lengths
            .iter()
            .zip(self.norms())
            .any(|(&l, &n)| crate::score::smallfloat::int_to_byte4(l) != n)
        {
            return Err(Error::corrupted(&dp, "norms disagree with lengths"));
        }
        let decreasing = (0..self.num_docs as DocId).any(|d| self.id_range(d).is_none());
        if decreasing {
            return Err(Error::corrupted(&dp, "id offsets decrease"));
        }
        Ok(())
    }

    /// Decodes one list completely: ids increasing and in range, values >= 1, and every
    /// posting dominated by its block's and its list's frontier (so bounds are true bounds).
    fn verify_list(
        &self,
        info: TermInfo,
        keys: DocKeys<'_>,
        num_docs: u32,
    ) -> std::result::Result<(), String> {
        let list = self.postings(info).ok_or("header is damaged")?;
        let mut list_frontier = Vec::new();
        if list.has_skips() {
            list.for_each_frontier_pair(|v, k| list_frontier.push((v, k)))
                .ok_or("frontier is damaged")?;
        }
        let dominated =
            |f: &[(u32, u32)], v: u32, k: u32| f.iter().any(|&(fv, fk)| fv >= v && fk <= k);
        let (mut last, mut count, mut block) = (None::<u32>, 0u64, 0u32);
        let mut bad: Option<String> = None;
        let mut block_frontier = Vec::new();
        list.for_each_block(num_docs, |docs, vals| {
            if bad.is_some() {
                return;
            }
            block_frontier.clear();
            if list.has_skips()
                && list
                    .for_each_block_frontier_pair(block, |v, k| block_frontier.push((v, k)))
                    .is_none()
            {
                bad = Some(format!("frontier of block {block} is damaged"));
                return;
            }
            for (&d, &v) in docs.iter().zip(vals) {
                if last.is_some_and(|l| d <= l) {
                    bad = Some("doc ids do not increase".into());
                } else if v == 0 {
                    bad = Some("a zero value".into());
                } else if list.has_skips()
                    && !(dominated(&block_frontier, v, keys.get(d))
                        && dominated(&list_frontier, v, keys.get(d)))
                {
                    bad = Some(format!("a posting of block {block} exceeds its bound"));
                }
                last = Some(d);
            }
            count += docs.len() as u64;
            block += 1;
        })
        .ok_or("a block is damaged")?;
        if let Some(b) = bad {
            return Err(b);
        }
        if count != u64::from(info.df) {
            return Err("fewer postings than its document frequency".into());
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
        self.dict.num_terms
    }

    /// Number of postings.
    pub fn num_postings(&self) -> usize {
        self.num_postings
    }

    /// Sum of document lengths.
    pub fn total_terms(&self) -> u64 {
        self.total_terms
    }

    /// Which length key the postings' block bounds were computed with.
    pub fn length_key(&self) -> LengthKey {
        self.length_key
    }

    /// The three payloads (terms, postings, docs), for saving.
    pub(crate) fn payloads(&self) -> [(Component, &Bytes); 3] {
        [
            (Component::Terms, &self.terms),
            (Component::Postings, &self.postings),
            (Component::Docs, &self.docs),
        ]
    }

    /// Bytes of the three payloads.
    pub fn size_bytes(&self) -> usize {
        self.terms.len() + self.postings.len() + self.docs.len()
    }

    /// True when the payloads are memory-mapped.
    pub fn is_mmap(&self) -> bool {
        self.postings.is_mmap()
    }

    fn postings_data(&self) -> &[u8] {
        self.postings.as_slice().get(POSTINGS_DATA..).unwrap_or(&[])
    }

    /// Dictionary entry of `term`, `None` when the segment does not contain it.
    pub fn term_info(&self, term: &str) -> Option<TermInfo> {
        self.dict
            .lookup(self.terms.as_slice(), term.as_bytes())
            .map(|(_, info)| info)
    }

    /// The postings of a term (`None` when the entry points outside the file or the list header
    /// is damaged).
    #[inline]
    pub fn postings(&self, info: TermInfo) -> Option<PostingList<'_>> {
        let data = self.postings_data().get(info.postings.0..info.postings.1)?;
        PostingList::new(data, info.df)
    }

    /// Document frequency of `term` (0 when absent).
    pub fn doc_freq(&self, term: &str) -> u64 {
        self.term_info(term).map_or(0, |i| u64::from(i.df))
    }

    /// Document lengths (number of terms), indexed by local doc id.
    pub fn lengths(&self) -> &[u32] {
        bytemuck::cast_slice(&self.docs.as_slice()[self.doc_lengths.clone()])
    }

    /// Lucene norm bytes, indexed by local doc id.
    pub fn norms(&self) -> &[u8] {
        &self.docs.as_slice()[self.doc_norms.clone()]
    }

    /// Each document's length key, as the postings' bounds use it.
    #[inline]
    pub fn doc_keys(&self) -> DocKeys<'_> {
        match self.length_key {
            LengthKey::NormByte => DocKeys::NormBytes(self.norms()),
            LengthKey::Length => DocKeys::Lengths(self.lengths()),
        }
    }

    /// Byte range of document `doc`'s id in the id blob (`None` out of range or damaged).
    fn id_range(&self, doc: DocId) -> Option<(usize, usize)> {
        let raw = &self.docs.as_slice()[self.id_offsets.clone()];
        let d = doc as usize;
        let (a, b) = if self.wide_ids {
            let o: &[u64] = bytemuck::cast_slice(raw);
            (*o.get(d)?, *o.get(d + 1)?)
        } else {
            let o: &[u32] = bytemuck::cast_slice(raw);
            (u64::from(*o.get(d)?), u64::from(*o.get(d + 1)?))
        };
        (a <= b).then_some((usize::try_from(a).ok()?, usize::try_from(b).ok()?))
    }

    /// External id of local document `doc`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `doc` is out of range; [`Error::Corrupted`] when the stored
    /// id is damaged or not UTF-8.
    pub fn doc_id(&self, doc: DocId) -> Result<&str> {
        if doc as usize >= self.num_docs {
            return Err(Error::invalid_argument(format!(
                "document number {doc} out of range"
            )));
        }
        let blob = &self.docs.as_slice()[self.id_blob.clone()];
        let damaged = || {
            Error::corrupted(
                PathBuf::from(&self.name),
                format!("id of document {doc} is damaged"),
            )
        };
        let (a, b) = self.id_range(doc).ok_or_else(damaged)?;
        std::str::from_utf8(blob.get(a..b).ok_or_else(damaged)?).map_err(|_| damaged())
    }
}

/// Serialises one segment's payloads from in-memory parts (used by the builder).
pub(crate) struct SegmentParts<'a> {
    /// Sorted unique terms with their postings: (doc, value) pairs in increasing doc order.
    pub terms: Vec<(&'a str, &'a [(u32, u32)])>,
    /// Document lengths.
    pub lengths: &'a [u32],
    /// External ids.
    pub ids: &'a [String],
    /// The length key block bounds are computed with.
    pub length_key: LengthKey,
}

impl SegmentParts<'_> {
    /// Encodes the three payloads.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a posting list is too large to encode.
    pub(crate) fn encode(&self) -> Result<(Bytes, Bytes, Bytes)> {
        let norms: Vec<u8> = self
            .lengths
            .iter()
            .map(|&l| crate::score::smallfloat::int_to_byte4(l))
            .collect();
        let keys: Vec<u32> = match self.length_key {
            LengthKey::NormByte => norms.iter().map(|&n| u32::from(n)).collect(),
            LengthKey::Length => self.lengths.to_vec(),
        };

        let mut dict = TermsWriter::default();
        let mut data: Vec<u8> = Vec::new();
        let mut num_postings = 0u64;
        let (mut docs, mut vals) = (Vec::new(), Vec::new());
        for (term, postings) in &self.terms {
            docs.clear();
            vals.clear();
            docs.extend(postings.iter().map(|p| p.0));
            vals.extend(postings.iter().map(|p| p.1));
            let at = data.len();
            encode_postings(&docs, &vals, &keys, &mut data)?;
            let df = u32::try_from(docs.len()).expect("a segment holds < 2^32 documents");
            dict.push(term.as_bytes(), df, (data.len() - at) as u64);
            num_postings += docs.len() as u64;
        }
        let mut t = PayloadWriter::new();
        dict.finish(&mut t);

        let mut p = PayloadWriter::new();
        p.put_u64(self.terms.len() as u64);
        p.put_u64(num_postings);
        p.put_u64(match self.length_key {
            LengthKey::NormByte => 0,
            LengthKey::Length => 1,
        });
        debug_assert_eq!(p.len(), POSTINGS_DATA);
        p.put_bytes(&data);

        let blob_len: usize = self.ids.iter().map(String::len).sum();
        let wide = blob_len > u32::MAX as usize;
        let mut d = PayloadWriter::new();
        d.put_u64(self.lengths.len() as u64);
        d.put_u64(self.lengths.iter().map(|&l| u64::from(l)).sum());
        d.put_u64(if wide { 8 } else { 4 });
        d.put_slice(self.lengths);
        d.align(8);
        d.put_bytes(&norms);
        d.align(8);
        let mut off = 0u64;
        let mut ioffs = Vec::with_capacity(self.ids.len() + 1);
        ioffs.push(0u64);
        for id in self.ids {
            off += id.len() as u64;
            ioffs.push(off);
        }
        if wide {
            d.put_slice(&ioffs);
        } else {
            let narrow: Vec<u32> = ioffs.iter().map(|&o| o as u32).collect();
            d.put_slice(&narrow);
        }
        for id in self.ids {
            d.put_bytes(id.as_bytes());
        }
        Ok((t.finish(), p.finish(), d.finish()))
    }
}

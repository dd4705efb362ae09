//! [`Segment`]: the immutable unit of an index (after Lucene/tantivy), read from three
//! component payloads that are either memory-mapped files or in-memory buffers.
//!
//! Payload layouts (little-endian; `align8` = zero padding to a multiple of 8):
//!
//! ```text
//! terms:    the front-coded dictionary (see `index::terms`)
//! postings: num_terms u64 | num_postings u64
//!           | length key u64 (0 norm byte, 1 length, 2 weighted length, 3 none)
//!           | term weights u64 (0 none, 1 present)
//!           | [weights f32[num_terms] | align8]         (weighted segments, by term id)
//!           | posting lists, back to back (see `postings`)
//! docs:     num_docs u64 | total_terms u64 | id layout u64 (FRONT_CODED | 4 or 8)
//!           | lengths u64 (0 integer, 1 real) | total length f64
//!           | lengths (u32 or f32)[num_docs] | align8
//!           | [norms u8[num_docs] | align8]              (integer lengths only)
//!           | id block offsets (u32 or u64)[ceil(num_docs / 16) + 1]
//!           | front-coded id blocks (see `index::ids`)
//! ```
//!
//! Versions 4 and 5 store the id layout 4 or 8 (the width of flat offsets): id offsets
//! (u32 or u64)[num_docs + 1] | id bytes (UTF-8) back to back; such segments are still read.
//!
//! A *weighted* segment (the `tdv-*` models) stores a weight `w_t > 0` per term and real
//! document lengths `L = sum_t w_t * tf` as f32 (the sum taken in f64 in term order, then
//! rounded; a document with postings has a length of at least the smallest positive normal
//! f32); its postings hold the raw integer term frequencies. `total_terms` is the number of
//! indexed tokens (the sum of the postings' values), `total length` the f64 sum of the lengths
//! in doc order (for integer lengths, `total_terms`).
//!
//! Opening a segment does O(1) work beyond the optional verification: the dictionary is
//! binary-searched in place, postings are decoded block by block while searching, and length
//! factors are computed from the mapped lengths or norm bytes per posting. `norms` holds Lucene's
//! one-byte length code ([`crate::score::smallfloat`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{read_component, Bytes, Component, PayloadWriter};
use crate::index::ids;
use crate::index::terms::{TermDict, TermInfo, TermsWriter};
use crate::postings::{encode_postings, PostingList};
use crate::score::{weighted_key, DocKeys, LengthKey};
use crate::types::{DocId, TermId};

use crate::format::bytes_cast as cast;

/// Size of the postings payload's fixed header.
const POSTINGS_HEADER: usize = 32;
/// Size of the docs payload's fixed header.
const DOCS_HEADER: usize = 40;
/// Flag of the docs header's id layout field: front-coded ids (version 6 on), ORed with the
/// width of the block offsets (4 or 8).
const FRONT_CODED: u64 = 0x100;

/// The document lengths of a segment.
#[derive(Debug, Clone, Copy)]
pub enum Lengths<'a> {
    /// Numbers of tokens (BM25 family, TF-IDF).
    Integer(&'a [u32]),
    /// Weighted lengths `sum_t w_t * tf` (the `tdv-*` models).
    Real(&'a [f32]),
}

impl Lengths<'_> {
    /// Number of documents with a positive length (i.e. with at least one posting).
    pub fn num_nonempty(&self) -> u64 {
        match self {
            Lengths::Integer(l) => l.iter().filter(|&&x| x > 0).count() as u64,
            Lengths::Real(l) => l.iter().filter(|&&x| x > 0.0).count() as u64,
        }
    }
}

/// The stored f32 length of a weighted document from its f64 sum: rounded, and at least the
/// smallest positive normal f32 when the document has postings (so that "length > 0" and "has
/// a posting" agree even for absurdly small weights).
pub(crate) fn weighted_length(sum: f64, has_postings: bool) -> f32 {
    let l = sum as f32;
    if has_postings {
        l.max(f32::MIN_POSITIVE)
    } else {
        l
    }
}

thread_local! {
    /// Per-thread memo of [`Segment::lookup`], keyed by (segment uid, term): a term's id and
    /// entry, `None` when absent. Segments are immutable, so an entry never goes stale.
    static LOOKUP_CACHE: std::cell::RefCell<crate::memo::Memo<Option<(TermId, TermInfo)>>> =
        std::cell::RefCell::new(crate::memo::Memo::default());
}

/// One immutable segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Process-unique id of this segment's content (clones share it: their content is the
    /// same), the key of the per-thread lookup memo.
    uid: u64,
    name: String,
    terms: Bytes,
    postings: Bytes,
    docs: Bytes,
    dict: TermDict,
    num_postings: usize,
    num_docs: usize,
    total_terms: u64,
    total_length: f64,
    length_key: LengthKey,
    /// Byte range of the term weights in the postings payload (weighted segments).
    term_weights: Option<Range<usize>>,
    /// Offset of the posting lists in the postings payload.
    postings_start: usize,
    real_lengths: bool,
    doc_lengths: Range<usize>,
    doc_norms: Range<usize>,
    id_offsets: Range<usize>,
    wide_ids: bool,
    /// Ids front-coded in blocks of 16 (`id_offsets` has one entry per block plus the end).
    front_ids: bool,
    id_blob: Range<usize>,
    /// False when opened without verification: its bytes were never checked against their
    /// CRC32 ([`crate::index::Index::save`] checks them before copying the segment).
    verified: bool,
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
        Ok(Self {
            verified: verify,
            ..seg
        })
    }

    /// False for a segment opened without verification.
    pub(crate) fn verified(&self) -> bool {
        self.verified
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
            2 => LengthKey::Weighted,
            3 => LengthKey::None,
            k => return Err(Error::corrupted(&pp, format!("unknown length key {k}"))),
        };
        let (term_weights, postings_start) = match u64_at(p, 24, &pp, "term weights flag")? {
            0 => (None, POSTINGS_HEADER),
            1 => {
                let r = POSTINGS_HEADER..POSTINGS_HEADER + 4 * pn_terms;
                let _: &[f32] = cast(p, r.clone(), &pp, "term weights")?;
                let end = r.end.next_multiple_of(8);
                (Some(r), end)
            }
            f => {
                return Err(Error::corrupted(
                    &pp,
                    format!("unknown term weights flag {f}"),
                ))
            }
        };
        if postings_start > p.len() {
            return Err(Error::corrupted(&pp, "posting lists lie outside the file"));
        }

        let d = docs.as_slice();
        let num_docs = count(u64_at(d, 0, &dp, "document count")?, &dp, "document count")?;
        if num_docs >= u32::MAX as usize {
            return Err(Error::corrupted(
                &dp,
                "more documents than a segment can hold",
            ));
        }
        let total_terms = u64_at(d, 8, &dp, "total term count")?;
        let layout = u64_at(d, 16, &dp, "id layout")?;
        let front_ids = layout & FRONT_CODED != 0;
        let wide_ids = match layout & !FRONT_CODED {
            4 => false,
            8 => true,
            _ => return Err(Error::corrupted(&dp, format!("unknown id layout {layout}"))),
        };
        let real_lengths = match u64_at(d, 24, &dp, "length kind")? {
            0 => false,
            1 => true,
            k => return Err(Error::corrupted(&dp, format!("unknown length kind {k}"))),
        };
        let total_length = f64::from_bits(u64_at(d, 32, &dp, "total length")?);
        if !total_length.is_finite() || total_length < 0.0 {
            return Err(Error::corrupted(
                &dp,
                "total length is not a finite number >= 0",
            ));
        }
        let consistent = match length_key {
            LengthKey::NormByte | LengthKey::Length => !real_lengths,
            LengthKey::Weighted => real_lengths,
            LengthKey::None => true,
        } && real_lengths == term_weights.is_some();
        if !consistent {
            return Err(Error::corrupted(
                &pp,
                "length key, term weights and length kind disagree",
            ));
        }
        let doc_lengths = DOCS_HEADER..DOCS_HEADER + 4 * num_docs;
        let _: &[u32] = cast(d, doc_lengths.clone(), &dp, "document lengths")?;
        let norms_start = doc_lengths.end.next_multiple_of(8);
        let doc_norms = if real_lengths {
            norms_start..norms_start
        } else {
            norms_start..norms_start + num_docs
        };
        let _: &[u8] = cast(d, doc_norms.clone(), &dp, "norms")?;
        let ids_start = doc_norms.end.next_multiple_of(8);
        let width = if wide_ids { 8 } else { 4 };
        let num_offsets = if front_ids {
            num_docs.div_ceil(ids::BLOCK) + 1
        } else {
            num_docs + 1
        };
        let id_offsets = ids_start..ids_start + width * num_offsets;
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
            verified: true,
            uid: crate::memo::next_owner_id(),
            name: name.to_string(),
            terms,
            postings,
            docs,
            dict,
            num_postings,
            num_docs,
            total_terms,
            total_length,
            length_key,
            term_weights,
            postings_start,
            real_lengths,
            doc_lengths,
            doc_norms,
            id_offsets,
            wide_ids,
            front_ids,
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
        if !self.dict.keys_agree(tb) {
            return Err(Error::corrupted(&tp, "block keys disagree with the terms"));
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
        match self.lengths() {
            Lengths::Integer(lengths) => {
                if lengths.iter().map(|&l| u64::from(l)).sum::<u64>() != self.total_terms
                    || self.total_length != self.total_terms as f64
                {
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
            }
            Lengths::Real(lengths) => {
                // Lengths are recomputed from the postings exactly as they were written.
                let weights = self.term_weights_slice();
                if weights.iter().any(|w| !w.is_finite() || *w <= 0.0) {
                    return Err(Error::corrupted(&pp, "a term weight is not finite and > 0"));
                }
                let mut sums = vec![0f64; self.num_docs];
                let mut has = vec![false; self.num_docs];
                let mut tokens = 0u64;
                let mut damaged = false;
                let walked = self.dict.for_each(tb, |id, _, info| {
                    let w = f64::from(weights.get(id as usize).copied().unwrap_or(0.0));
                    let ok = self.postings(info).and_then(|list| {
                        list.for_each_block(num_docs, |docs, vals| {
                            for (&d, &v) in docs.iter().zip(vals) {
                                sums[d as usize] += w * f64::from(v);
                                has[d as usize] = true;
                                tokens += u64::from(v);
                            }
                        })
                    });
                    damaged |= ok.is_none();
                });
                if walked.is_err() || damaged {
                    return Err(Error::corrupted(&pp, "a posting list is damaged"));
                }
                let want = sums.iter().zip(&has).map(|(&s, &h)| weighted_length(s, h));
                if lengths
                    .iter()
                    .zip(want)
                    .any(|(&l, w)| l.to_bits() != w.to_bits())
                    || tokens != self.total_terms
                    || lengths.iter().map(|&l| f64::from(l)).sum::<f64>() != self.total_length
                {
                    return Err(Error::corrupted(
                        &dp,
                        "weighted document lengths disagree with the postings",
                    ));
                }
            }
        }
        self.for_each_doc_id(|_| {})
            .map_err(|_| Error::corrupted(&dp, "external ids are damaged"))
    }

    /// Calls `f` with every external id in doc order (decoding each id block once).
    ///
    /// # Errors
    /// [`Error::Corrupted`] when an id is damaged or not UTF-8, or an id block has trailing
    /// bytes.
    pub fn for_each_doc_id(&self, mut f: impl FnMut(&str)) -> Result<()> {
        let damaged = |doc: usize| {
            Error::corrupted(
                PathBuf::from(&self.name),
                format!("id of document {doc} is damaged"),
            )
        };
        if !self.front_ids {
            for d in 0..self.num_docs as DocId {
                f(self.flat_id(d)?);
            }
            return Ok(());
        }
        let blob = &self.docs.as_slice()[self.id_blob.clone()];
        let mut buf = Vec::new();
        for (b, start) in (0..self.num_docs).step_by(ids::BLOCK).enumerate() {
            let n = ids::BLOCK.min(self.num_docs - start);
            let block = self
                .id_range(b)
                .and_then(|(a, e)| blob.get(a..e))
                .ok_or_else(|| damaged(start))?;
            let mut bad = None;
            let mut i = start;
            let used = ids::decode_block(block, n, &mut buf, |id| {
                match std::str::from_utf8(id) {
                    Ok(id) if bad.is_none() => f(id),
                    Ok(_) => {}
                    Err(_) => bad = bad.or(Some(i)),
                }
                i += 1;
            });
            if let Some(doc) = bad {
                return Err(damaged(doc));
            }
            if used != Some(block.len()) {
                return Err(damaged(start));
            }
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

    /// Number of indexed tokens (sum of document lengths for integer lengths; sum of the
    /// postings' term frequencies for weighted segments).
    pub fn total_terms(&self) -> u64 {
        self.total_terms
    }

    /// Sum of document lengths (real-valued for weighted segments), as stored.
    pub fn total_length(&self) -> f64 {
        self.total_length
    }

    /// True for a weighted segment (a weight per term, real lengths).
    pub fn is_weighted(&self) -> bool {
        self.term_weights.is_some()
    }

    fn term_weights_slice(&self) -> &[f32] {
        match &self.term_weights {
            Some(r) => bytemuck::cast_slice(&self.postings.as_slice()[r.clone()]),
            None => &[],
        }
    }

    /// The learned weight of term `id` (1 for unweighted segments; 0 for an out-of-range id,
    /// which only a damaged dictionary produces).
    #[inline]
    pub fn term_weight(&self, id: TermId) -> f32 {
        if self.term_weights.is_none() {
            return 1.0;
        }
        self.term_weights_slice()
            .get(id as usize)
            .copied()
            .unwrap_or(0.0)
    }

    /// Calls `f(term id, term, info)` for every term in byte order.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when the dictionary is damaged.
    pub fn for_each_term(&self, f: impl FnMut(TermId, &[u8], TermInfo)) -> Result<()> {
        self.dict.for_each(self.terms.as_slice(), f).map_err(|id| {
            Error::corrupted(
                PathBuf::from(&self.name),
                format!("dictionary block of term {id} is damaged"),
            )
        })
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
        self.postings
            .as_slice()
            .get(self.postings_start..)
            .unwrap_or(&[])
    }

    /// Dictionary entry of `term`, `None` when the segment does not contain it.
    pub fn term_info(&self, term: &str) -> Option<TermInfo> {
        self.lookup(term).map(|(_, info)| info)
    }

    /// Term id and dictionary entry of `term`, `None` when the segment does not contain it.
    ///
    /// Memoised per thread ([`LOOKUP_CACHE`]): query terms recur, and a hash probe costs less
    /// than the dictionary's block search and scan.
    pub fn lookup(&self, term: &str) -> Option<(TermId, TermInfo)> {
        let key = term.as_bytes();
        LOOKUP_CACHE.with(|cache| match cache.try_borrow_mut() {
            Ok(mut memo) => *memo.get_or_insert_with(self.uid, key, || {
                self.dict.lookup(self.terms.as_slice(), key)
            }),
            // Busy (a re-entrant call): the dictionary itself.
            Err(_) => self.dict.lookup(self.terms.as_slice(), key),
        })
    }

    /// [`Segment::lookup`] without the memo (the dictionary itself).
    #[cfg(test)]
    pub(crate) fn lookup_uncached(&self, term: &str) -> Option<(TermId, TermInfo)> {
        self.dict.lookup(self.terms.as_slice(), term.as_bytes())
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

    /// Document lengths, indexed by local doc id.
    pub fn lengths(&self) -> Lengths<'_> {
        let raw = &self.docs.as_slice()[self.doc_lengths.clone()];
        if self.real_lengths {
            Lengths::Real(bytemuck::cast_slice(raw))
        } else {
            Lengths::Integer(bytemuck::cast_slice(raw))
        }
    }

    /// Lucene norm bytes, indexed by local doc id (empty for real lengths).
    pub fn norms(&self) -> &[u8] {
        &self.docs.as_slice()[self.doc_norms.clone()]
    }

    /// Each document's length key, as the postings' bounds use it.
    #[inline]
    pub fn doc_keys(&self) -> DocKeys<'_> {
        match (self.length_key, self.lengths()) {
            (LengthKey::NormByte, _) => DocKeys::NormBytes(self.norms()),
            (LengthKey::Length, Lengths::Integer(l)) => DocKeys::Lengths(l),
            (LengthKey::Weighted, Lengths::Real(l)) => DocKeys::Weighted(l),
            // `from_parts` rejects the other combinations.
            _ => DocKeys::None,
        }
    }

    /// Byte range of entry `d` of the id offsets (a document's id for flat ids, an id block for
    /// front-coded ones) in the id blob (`None` out of range or damaged).
    fn id_range(&self, d: usize) -> Option<(usize, usize)> {
        let raw = &self.docs.as_slice()[self.id_offsets.clone()];
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
    pub fn doc_id(&self, doc: DocId) -> Result<String> {
        let mut id = String::new();
        self.visit_doc_ids(&[(doc, 0)], |_, s| id.push_str(s))?;
        Ok(id)
    }

    /// The id of `doc` (in range) stored flat (versions 4 and 5).
    /// Calls `f(i, id)` with the external id of local document `doc` for every `(doc, i)` of
    /// `docs`, which is sorted by document: each block of ids is decoded at most once (looking
    /// ids up one by one decodes half a block per id on average).
    ///
    /// # Errors
    /// As [`Segment::doc_id`].
    pub fn visit_doc_ids(
        &self,
        docs: &[(DocId, usize)],
        mut f: impl FnMut(usize, &str),
    ) -> Result<()> {
        let damaged = |doc: DocId| {
            Error::corrupted(
                PathBuf::from(&self.name),
                format!("id of document {doc} is damaged"),
            )
        };
        let blob = &self.docs.as_slice()[self.id_blob.clone()];
        let offsets = &self.docs.as_slice()[self.id_offsets.clone()];
        let width = if self.wide_ids { 8 } else { 4 };
        // Hits spread over a large segment's ids each miss the cache twice (block offset, then
        // block): fetch the offset 2 * ID_AHEAD hits ahead and the block ID_AHEAD hits ahead.
        let ahead = self.front_ids && blob.len() >= PREFETCH_MIN_ID_BYTES;
        let mut buf = Vec::new();
        let mut cur: Option<(usize, ids::BlockReader<'_>)> = None;
        for (j, &(doc, i)) in docs.iter().enumerate() {
            if ahead {
                if let Some(&(d, _)) = docs.get(j + 2 * ID_AHEAD) {
                    crate::prefetch::prefetch(offsets, d as usize / ids::BLOCK * width);
                }
                if let Some(&(d, _)) = docs.get(j + ID_AHEAD) {
                    if let Some((a, _)) = self.id_range(d as usize / ids::BLOCK) {
                        crate::prefetch::prefetch(blob, a);
                    }
                }
            }
            if doc as usize >= self.num_docs {
                return Err(Error::invalid_argument(format!(
                    "document number {doc} out of range"
                )));
            }
            if !self.front_ids {
                f(i, self.flat_id(doc)?);
                continue;
            }
            let (b, p) = (doc as usize / ids::BLOCK, doc as usize % ids::BLOCK);
            let reader = match &mut cur {
                // The buffer holds this id already, or a later id of the block is wanted.
                Some((cb, r)) if *cb == b && r.decoded() <= p + 1 => r,
                _ => {
                    let block = self
                        .id_range(b)
                        .and_then(|(a, e)| blob.get(a..e))
                        .ok_or_else(|| damaged(doc))?;
                    &mut cur.insert((b, ids::BlockReader::new(block))).1
                }
            };
            while reader.decoded() <= p {
                reader.advance(&mut buf).ok_or_else(|| damaged(doc))?;
            }
            f(i, std::str::from_utf8(&buf).map_err(|_| damaged(doc))?);
        }
        Ok(())
    }

    fn flat_id(&self, doc: DocId) -> Result<&str> {
        let blob = &self.docs.as_slice()[self.id_blob.clone()];
        let damaged = || {
            Error::corrupted(
                PathBuf::from(&self.name),
                format!("id of document {doc} is damaged"),
            )
        };
        let (a, b) = self.id_range(doc as usize).ok_or_else(damaged)?;
        std::str::from_utf8(blob.get(a..b).ok_or_else(damaged)?).map_err(|_| damaged())
    }
}

/// Segments whose id data is at least this large prefetch ids in
/// [`Segment::visit_doc_ids`] (smaller ones stay in cache).
const PREFETCH_MIN_ID_BYTES: usize = 1 << 20;

/// How many hits ahead [`Segment::visit_doc_ids`] prefetches an id block.
const ID_AHEAD: usize = 8;

/// The document lengths a [`SegmentWriter`] records.
pub(crate) enum DocLengths {
    /// Numbers of tokens; norms are derived.
    Integer(Vec<u32>),
    /// Weighted lengths (see [`weighted_length`]).
    Real(Vec<f32>),
}

/// Serialises one segment's payloads, term by term in byte order (used by the builder and by
/// reweighting).
pub(crate) struct SegmentWriter {
    lengths: DocLengths,
    length_key: LengthKey,
    keys: Vec<u32>,
    dict: TermsWriter,
    data: PayloadWriter,
    weights: Option<Vec<f32>>,
    num_terms: u64,
    num_postings: u64,
    tokens: u64,
}

impl SegmentWriter {
    /// A writer for documents of these lengths whose block bounds use `length_key`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the length kind does not suit the key, or a real length
    /// is not a finite number >= 0.
    pub(crate) fn new(lengths: DocLengths, length_key: LengthKey) -> Result<Self> {
        let keys: Vec<u32> = match (&lengths, length_key) {
            (DocLengths::Integer(l), LengthKey::NormByte) => l
                .iter()
                .map(|&x| u32::from(crate::score::smallfloat::int_to_byte4(x)))
                .collect(),
            (DocLengths::Integer(l), LengthKey::Length) => l.clone(),
            (DocLengths::Real(l), LengthKey::Weighted) => {
                l.iter().map(|&x| weighted_key(x)).collect()
            }
            (_, LengthKey::None) => Vec::new(),
            _ => {
                return Err(Error::invalid_argument(
                    "the document lengths do not suit the scoring model",
                ))
            }
        };
        let weights = match &lengths {
            DocLengths::Real(l) => {
                if l.iter().any(|x| !x.is_finite() || *x < 0.0) {
                    return Err(Error::invalid_argument(
                        "document lengths overflow f32: the term weights are too large",
                    ));
                }
                Some(Vec::new())
            }
            DocLengths::Integer(_) => None,
        };
        Ok(Self {
            lengths,
            length_key,
            keys,
            dict: TermsWriter::default(),
            data: PayloadWriter::new(),
            weights,
            num_terms: 0,
            num_postings: 0,
            tokens: 0,
        })
    }

    /// Appends the next term (strictly after the previous one in byte order) with its
    /// postings: `docs` strictly increasing, `values >= 1`, and its weight (`Some` exactly when
    /// the lengths are real).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the list is too large to encode or the weight is missing.
    pub(crate) fn push(
        &mut self,
        term: &[u8],
        weight: Option<f32>,
        docs: &[u32],
        values: &[u32],
    ) -> Result<()> {
        let mut bytes = Vec::new();
        encode_postings(docs, values, &self.keys, &mut bytes)?;
        let tokens = values.iter().map(|&v| u64::from(v)).sum::<u64>();
        self.push_encoded(term, weight, docs.len(), tokens, &bytes)
    }

    /// Appends many terms, as [`SegmentWriter::push`] would one by one, encoding their
    /// postings in parallel (in the current rayon pool; the result does not depend on the
    /// thread count). `fill(item, docs, values)` writes an item's postings into the two
    /// (cleared) buffers and returns its term and weight; it may free the item's own copy of
    /// the postings.
    ///
    /// # Errors
    /// As [`SegmentWriter::push`].
    pub(crate) fn push_all<'t, T: Send>(
        &mut self,
        items: &mut [T],
        fill: impl Fn(&mut T, &mut Vec<u32>, &mut Vec<u32>) -> (&'t [u8], Option<f32>) + Sync,
    ) -> Result<()> {
        use rayon::prelude::*;
        /// Terms per parallel task.
        const TASK: usize = 512;
        /// Terms encoded before their bytes are appended: waves bound the memory of encoded
        /// lists waiting for their turn (all at once, they doubled the encoded postings).
        const WAVE: usize = 32 * TASK;
        /// One encoded term: term, weight, df, tokens, end of its bytes in the task's buffer.
        type Entry<'a> = (&'a [u8], Option<f32>, usize, u64, usize);
        for wave in items.chunks_mut(WAVE) {
            let keys = &self.keys;
            let tasks: Vec<(Vec<u8>, Vec<Entry<'t>>)> = wave
                .par_chunks_mut(TASK)
                .map(|chunk| {
                    let (mut docs, mut values) = (Vec::new(), Vec::new());
                    let mut data = Vec::new();
                    let mut entries = Vec::with_capacity(chunk.len());
                    for item in chunk {
                        docs.clear();
                        values.clear();
                        let (term, weight) = fill(item, &mut docs, &mut values);
                        encode_postings(&docs, &values, keys, &mut data)?;
                        let tokens = values.iter().map(|&v| u64::from(v)).sum::<u64>();
                        entries.push((term, weight, docs.len(), tokens, data.len()));
                    }
                    Ok((data, entries))
                })
                .collect::<Result<_>>()?;
            for (data, entries) in tasks {
                let mut start = 0;
                for (term, weight, df, tokens, end) in entries {
                    self.push_encoded(term, weight, df, tokens, &data[start..end])?;
                    start = end;
                }
            }
        }
        Ok(())
    }

    /// Appends a term whose postings `bytes` were encoded by `encode_postings` with this
    /// writer's keys.
    fn push_encoded(
        &mut self,
        term: &[u8],
        weight: Option<f32>,
        df: usize,
        tokens: u64,
        bytes: &[u8],
    ) -> Result<()> {
        match (&mut self.weights, weight) {
            (Some(ws), Some(w)) => ws.push(w),
            (None, None) => {}
            _ => {
                return Err(Error::invalid_argument(
                    "term weights are given exactly for weighted segments",
                ))
            }
        }
        self.data.put_bytes(bytes);
        let df = u32::try_from(df).expect("a segment holds < 2^32 documents");
        self.dict.push(term, df, bytes.len() as u64);
        self.num_terms += 1;
        self.num_postings += df as u64;
        self.tokens += tokens;
        Ok(())
    }

    /// Encodes the three payloads (terms, postings, docs) with the documents' external ids.
    pub(crate) fn finish<'i>(
        self,
        doc_ids: impl ExactSizeIterator<Item = &'i str>,
    ) -> (Bytes, Bytes, Bytes) {
        let mut t = PayloadWriter::new();
        self.dict.finish(&mut t);

        let mut head = PayloadWriter::new();
        head.put_u64(self.num_terms);
        head.put_u64(self.num_postings);
        head.put_u64(match self.length_key {
            LengthKey::NormByte => 0,
            LengthKey::Length => 1,
            LengthKey::Weighted => 2,
            LengthKey::None => 3,
        });
        head.put_u64(u64::from(self.weights.is_some()));
        debug_assert_eq!(head.len(), POSTINGS_HEADER);
        if let Some(ws) = &self.weights {
            head.put_slice(ws);
            head.align(8);
        }
        // The posting lists stay where they were encoded; the header goes in front.
        let mut p = self.data;
        p.prepend(head.as_bytes());

        let num_docs = doc_ids.len();
        let (ioffs, blob) = ids::encode(doc_ids);
        let wide = blob.len() > u32::MAX as usize;
        let layout = FRONT_CODED | if wide { 8 } else { 4 };
        let mut d = PayloadWriter::new();
        d.put_u64(num_docs as u64);
        match &self.lengths {
            DocLengths::Integer(l) => {
                let total = l.iter().map(|&x| u64::from(x)).sum::<u64>();
                d.put_u64(total);
                d.put_u64(layout);
                d.put_u64(0);
                d.put_u64((total as f64).to_bits());
                d.put_slice(l);
                d.align(8);
                let norms: Vec<u8> = l
                    .iter()
                    .map(|&x| crate::score::smallfloat::int_to_byte4(x))
                    .collect();
                d.put_bytes(&norms);
                d.align(8);
            }
            DocLengths::Real(l) => {
                d.put_u64(self.tokens);
                d.put_u64(layout);
                d.put_u64(1);
                d.put_u64(l.iter().map(|&x| f64::from(x)).sum::<f64>().to_bits());
                d.put_slice(l);
                d.align(8);
            }
        }
        if wide {
            d.put_slice(&ioffs);
        } else {
            let narrow: Vec<u32> = ioffs.iter().map(|&o| o as u32).collect();
            d.put_slice(&narrow);
        }
        d.put_bytes(&blob);
        (t.finish(), p.finish(), d.finish())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Analyzer, DocInput, Index, IndexBuilder, ScoringConfig};

    fn index(words: &[&str], docs: usize) -> Index {
        let docs: Vec<(String, DocInput)> = (0..docs)
            .map(|i| {
                let terms = (0..1 + i % 5)
                    .map(|j| words[(i * 3 + j * j) % words.len()].to_string())
                    .collect();
                (format!("d{i}"), DocInput::Tokens(terms))
            })
            .collect();
        let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1))
            .expect("builder");
        b.add_batch(docs).expect("batch");
        b.finish().expect("index")
    }

    /// Two segments with overlapping vocabularies and different entries, looked up alternately
    /// (warm and cold, terms and misses, past the memo's bound): the memo answers as the
    /// dictionary does, for each segment its own entry.
    #[test]
    fn memoised_lookup_equals_the_dictionary_per_segment() {
        let a = index(&["alpha", "beta", "gamma", "delta"], 50);
        let b = index(&["beta", "gamma", "omega", "alphabet", "alpha\0"], 70);
        let (sa, sb) = (&a.segment_views()[0].segment, &b.segment_views()[0].segment);
        assert_ne!(sa.uid, sb.uid);
        let probes = [
            "alpha", "beta", "gamma", "delta", "omega", "alphabet", "alpha\0", "", "zzz", "alph",
        ];
        for _ in 0..3 {
            for t in probes {
                assert_eq!(sa.lookup(t), sa.lookup_uncached(t), "{t:?}");
                assert_eq!(sb.lookup(t), sb.lookup_uncached(t), "{t:?}");
            }
        }
        assert_ne!(sa.lookup("beta"), sb.lookup("beta"));
        // A clone shares the uid (same content) and the answers.
        let c = sa.clone();
        assert_eq!(c.uid, sa.uid);
        assert_eq!(c.lookup("gamma"), sa.lookup_uncached("gamma"));
        // Past the bound the table is emptied and refilled; answers stay right.
        for i in 0..crate::memo::MEMO_LIMIT + 10 {
            let miss = format!("miss{i}");
            assert_eq!(sa.lookup(&miss), None);
        }
        super::LOOKUP_CACHE.with(|c| {
            assert!(c.borrow().len() <= crate::memo::MEMO_LIMIT);
        });
        for t in probes {
            assert_eq!(sa.lookup(t), sa.lookup_uncached(t), "{t:?}");
            assert_eq!(sb.lookup(t), sb.lookup_uncached(t), "{t:?}");
        }
    }
}

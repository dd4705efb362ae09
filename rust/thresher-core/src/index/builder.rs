//! [`IndexBuilder`]: turns documents into one immutable in-memory segment.
//!
//! Documents arrive in batches. Each batch is analysed and term-counted in parallel (rayon,
//! in the builder's pool). Doc ids are dense and follow insertion order whatever the thread
//! count. The dictionary is split into [`SHARDS`] shards by a hash of the term; a batch's
//! postings are bucketed by shard (in parallel, by chunks of documents) and then appended to
//! every shard in parallel, each shard in doc order. (Appending them on one thread, one
//! dictionary lookup per posting, took over half of a 1M-document build: each lookup is a
//! cache miss on the stored term.) `finish` sorts the dictionary and encodes the segment.

use std::collections::HashMap;
use std::hash::Hasher;
use std::path::Path;

use rayon::prelude::*;

use crate::analysis::Analyzer;
use crate::error::{Error, Result};
use crate::hash::{Fnv, FnvBuild};
use crate::index::segment::{DocLengths, Segment, SegmentWriter};
use crate::index::{new_segment_name, Index, IndexMeta};
use crate::pool::ThreadPools;
use crate::postings::codec::{get_varint_u32, put_varint};
use crate::score::ScoringConfig;

/// The content of one document: raw text to analyse, or terms given verbatim.
#[derive(Debug, Clone)]
pub enum DocInput {
    /// Text, analysed by the index's analyzer.
    Text(String),
    /// Pre-analysed terms, indexed as given (empty strings are skipped).
    Tokens(Vec<String>),
}

/// Accumulates documents into postings.
pub struct IndexBuilder {
    analyzer: Analyzer,
    scoring: ScoringConfig,
    threads: Option<usize>,
    ids: IdList,
    lengths: Vec<u32>,
    shards: Vec<Shard>,
}

/// The external ids of the documents added so far, in doc-id order, and a hash table over
/// them that refuses repeats. One string holds them all: a `String` each, plus a second copy
/// in a hash set, took about 600 MB of a 5M-document build.
#[derive(Default)]
struct IdList {
    text: String,
    /// The end of each id in `text`.
    ends: Vec<usize>,
    /// Doc ids, hashed by their external id.
    table: hashbrown::HashTable<u32>,
}

impl IdList {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id of document `i`.
    fn get(&self, i: usize) -> &str {
        id_at(&self.text, &self.ends, i)
    }

    fn contains(&self, id: &str) -> bool {
        self.table
            .find(fnv_hash(id), |&i| self.get(i as usize) == id)
            .is_some()
    }

    /// Appends an id (the caller has checked that it is new).
    fn push(&mut self, id: &str) {
        let doc = u32::try_from(self.ends.len()).expect("a segment holds < 2^32 documents");
        self.text.push_str(id);
        self.ends.push(self.text.len());
        let (text, ends) = (&self.text, &self.ends);
        self.table.insert_unique(fnv_hash(id), doc, |&i| {
            fnv_hash(id_at(text, ends, i as usize))
        });
    }

    /// The ids in doc-id order.
    fn iter(&self) -> impl ExactSizeIterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Id `i` of an [`IdList`]'s `text` and `ends`.
fn id_at<'t>(text: &'t str, ends: &[usize], i: usize) -> &'t str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

/// The finalised [`Fnv`] hash of a string.
fn fnv_hash(s: &str) -> u64 {
    let mut h = Fnv::default();
    h.write(s.as_bytes());
    h.finish()
}

/// Dictionary shards ([`shard_of`]).
const SHARDS: usize = 64;

/// Documents per counting and bucketing chunk in [`IndexBuilder::add_batch`].
const CHUNK: usize = 1024;

/// The terms of one dictionary shard and their postings.
#[derive(Default)]
struct Shard {
    term_ids: HashMap<String, u32, FnvBuild>,
    postings: Vec<BuildPostings>,
}

/// The postings of one term while the segment is built: doc-id gaps and term frequencies as
/// LEB128 varints (one byte each when below 128), where `(u32, u32)` pairs took 8 bytes a
/// posting (the pairs were most of the peak memory of a large build).
#[derive(Default)]
struct BuildPostings {
    bytes: Vec<u8>,
    last: u32,
    df: u32,
}

impl BuildPostings {
    /// Appends a posting; `doc` is above every doc already here.
    fn push(&mut self, doc: u32, tf: u32) {
        debug_assert!(self.df == 0 || doc > self.last);
        let gap = if self.df == 0 { doc } else { doc - self.last };
        put_varint(&mut self.bytes, u64::from(gap));
        put_varint(&mut self.bytes, u64::from(tf));
        self.last = doc;
        self.df += 1;
    }

    /// Appends the doc ids and term frequencies to `docs` and `tfs`.
    fn decode_into(&self, docs: &mut Vec<u32>, tfs: &mut Vec<u32>) {
        docs.reserve(self.df as usize);
        tfs.reserve(self.df as usize);
        let next = |at: &mut usize| {
            get_varint_u32(&self.bytes, at).expect("varints written by BuildPostings::push")
        };
        // The first gap is the first doc id itself.
        let (mut at, mut doc) = (0, 0u32);
        while at < self.bytes.len() {
            doc += next(&mut at);
            docs.push(doc);
            tfs.push(next(&mut at));
        }
    }
}

/// The shard of a term: bits 40.. of its raw FNV-1a hash (the maps inside a shard use the
/// finalised hash, so the split does not bias their buckets).
fn shard_of(term: &str) -> usize {
    let mut h = Fnv::default();
    h.write(term.as_bytes());
    ((h.0 >> 40) % SHARDS as u64) as usize
}

/// One posting on its way to a shard: doc id, term, term frequency.
type Routed<'a> = (u32, &'a str, u32);

/// The counted terms of a chunk of consecutive documents. Terms are stored one after another
/// in one string rather than as a `String` each: with a `String` per token, the allocator
/// (and its locks, shared by the threads) took about a third of a 1M-document build.
#[derive(Default)]
struct CountedChunk {
    /// The distinct terms of each document, in byte order, documents one after another.
    text: String,
    /// One entry per (document, distinct term): the end of the term in `text`, and its
    /// frequency. The term starts where the previous entry's ends.
    terms: Vec<(usize, u32)>,
    /// For each document, the end of its entries in `terms`.
    doc_ends: Vec<usize>,
    /// For each document, its length in tokens.
    lengths: Vec<u32>,
}

/// The first 8 bytes of a term as a big-endian number, zero-padded.
fn sort_key(term: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    let n = term.len().min(8);
    k[..n].copy_from_slice(&term[..n]);
    u64::from_be_bytes(k)
}

impl CountedChunk {
    /// Counts the inputs of one chunk of documents (empty terms are skipped).
    fn count(analyzer: &Analyzer, inputs: Vec<DocInput>) -> Self {
        let mut out = Self::default();
        let mut buf = String::new();
        let mut spans: Vec<(u64, usize, usize)> = Vec::new();
        for input in inputs {
            buf.clear();
            spans.clear();
            let mut push = |t: &str| {
                if !t.is_empty() {
                    let start = buf.len();
                    buf.push_str(t);
                    spans.push((sort_key(t.as_bytes()), start, buf.len()));
                }
            };
            match input {
                DocInput::Text(text) => analyzer.analyze_each_uncached(&text, &mut push),
                DocInput::Tokens(tokens) => tokens.iter().for_each(|t| push(t)),
            }
            out.push_doc(&buf, &mut spans);
        }
        out
    }

    /// Appends one document whose tokens are the `spans` of `buf`.
    fn push_doc(&mut self, buf: &str, spans: &mut [(u64, usize, usize)]) {
        let bytes = buf.as_bytes();
        // Spans carry their first 8 bytes as a big-endian key (zero-padded, so key order
        // agrees with byte order): most comparisons then need no memcmp call.
        // Two terms of at most 8 bytes with equal keys differ at most by trailing zero bytes.
        let short =
            |a: &(u64, usize, usize), b: &(u64, usize, usize)| a.2 - a.1 <= 8 && b.2 - b.1 <= 8;
        spans.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                if short(a, b) {
                    (a.2 - a.1).cmp(&(b.2 - b.1))
                } else {
                    bytes[a.1..a.2].cmp(&bytes[b.1..b.2])
                }
            })
        });
        let same = |a: &(u64, usize, usize), b: &(u64, usize, usize)| {
            a.0 == b.0
                && a.2 - a.1 == b.2 - b.1
                && (short(a, b) || bytes[a.1..a.2] == bytes[b.1..b.2])
        };
        let mut prev: Option<&(u64, usize, usize)> = None;
        for span in spans.iter() {
            match self.terms.last_mut() {
                Some(last) if prev.is_some_and(|p| same(p, span)) => {
                    last.1 = last.1.saturating_add(1)
                }
                _ => {
                    self.text.push_str(&buf[span.1..span.2]);
                    self.terms.push((self.text.len(), 1));
                    prev = Some(span);
                }
            }
        }
        self.doc_ends.push(self.terms.len());
        self.lengths
            .push(u32::try_from(spans.len()).unwrap_or(u32::MAX));
    }

    /// The documents of the chunk, in order, each as its (term, frequency) pairs in byte order.
    fn docs(&self) -> impl Iterator<Item = impl Iterator<Item = (&str, u32)>> {
        let mut term_start = 0;
        self.doc_ends.iter().map(move |&end| {
            let entries = &self.terms[term_start..end];
            let mut text_start = if term_start == 0 {
                0
            } else {
                self.terms[term_start - 1].0
            };
            term_start = end;
            entries.iter().map(move |&(text_end, tf)| {
                let term = &self.text[text_start..text_end];
                text_start = text_end;
                (term, tf)
            })
        })
    }
}

impl IndexBuilder {
    /// A builder that analyses text with `analyzer` and records `scoring` in the index.
    ///
    /// `threads = None` uses `THRESHER_NUM_THREADS` or all cores.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid scoring parameters or `threads == Some(0)`.
    pub fn new(analyzer: Analyzer, scoring: ScoringConfig, threads: Option<usize>) -> Result<Self> {
        scoring.validate()?;
        crate::pool::resolve_threads(threads)?;
        Ok(Self {
            analyzer,
            scoring,
            threads,
            ids: IdList::default(),
            lengths: Vec::new(),
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        })
    }

    /// Number of documents added so far.
    pub fn num_docs(&self) -> usize {
        self.ids.len()
    }

    /// Adds a batch of documents.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the id when a document id repeats (within the batch
    /// or with an earlier one), or for an empty id; the batch is then not added.
    pub fn add_batch(&mut self, docs: Vec<(String, DocInput)>) -> Result<()> {
        let ids = docs.iter().map(|(id, _)| id.as_str());
        super::ids::check_new_ids(ids, docs.len(), self.ids.len(), |id| self.ids.contains(id))?;
        let analyzer = &self.analyzer;
        let base = self.ids.len();
        let (ids, inputs): (Vec<String>, Vec<DocInput>) = docs.into_iter().unzip();
        let chunks: Vec<CountedChunk> = ThreadPools::install(self.threads, || {
            inputs
                .into_par_iter()
                .chunks(CHUNK)
                .map(|inputs| CountedChunk::count(analyzer, inputs))
                .collect()
        })?;
        for c in &chunks {
            self.lengths.extend_from_slice(&c.lengths);
        }
        for id in &ids {
            self.ids.push(id);
        }
        let shards = &mut self.shards;
        ThreadPools::install(self.threads, || {
            // Buckets borrow the terms: a posting of a known term allocates and frees nothing
            // in the shard pass. Each chunk of documents becomes one bucket per shard.
            let routed: Vec<Vec<Vec<Routed<'_>>>> = chunks
                .par_iter()
                .enumerate()
                .map(|(c, chunk)| {
                    let mut buckets: Vec<Vec<Routed<'_>>> =
                        (0..SHARDS).map(|_| Vec::new()).collect();
                    for (i, terms) in chunk.docs().enumerate() {
                        let doc = (base + c * CHUNK + i) as u32;
                        for (term, tf) in terms {
                            buckets[shard_of(term)].push((doc, term, tf));
                        }
                    }
                    buckets
                })
                .collect();
            // by_shard[s]: shard s's buckets, in chunk (so doc) order.
            let mut by_shard: Vec<Vec<Vec<Routed<'_>>>> = (0..SHARDS).map(|_| Vec::new()).collect();
            for buckets in routed {
                for (s, b) in buckets.into_iter().enumerate() {
                    by_shard[s].push(b);
                }
            }
            shards
                .par_iter_mut()
                .zip(by_shard.into_par_iter())
                .for_each(|(shard, buckets)| {
                    for (doc, term, tf) in buckets.into_iter().flatten() {
                        let tid = match shard.term_ids.get(term) {
                            Some(&t) => t,
                            None => {
                                let t = shard.term_ids.len() as u32;
                                shard.term_ids.insert(term.to_owned(), t);
                                shard.postings.push(BuildPostings::default());
                                t
                            }
                        };
                        shard.postings[tid as usize].push(doc, tf);
                    }
                });
        })?;
        Ok(())
    }

    /// Finishes the segment and returns an in-memory [`Index`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no document was added.
    pub fn finish(self) -> Result<Index> {
        if self.ids.is_empty() {
            return Err(Error::invalid_argument(
                "cannot build an index from an empty corpus (no documents)",
            ));
        }
        let Self {
            analyzer,
            scoring,
            threads,
            ids,
            lengths,
            shards,
            ..
        } = self;
        let mut shards = shards;
        let mut terms: Vec<(&str, BuildPostings)> = Vec::new();
        for s in &mut shards {
            let mut postings = std::mem::take(&mut s.postings);
            terms.extend(
                s.term_ids
                    .iter()
                    .map(|(t, &id)| (t.as_str(), std::mem::take(&mut postings[id as usize]))),
            );
        }
        // The weighted models start from weight 1 for every term: lengths are token counts.
        let weighted = scoring.kind.weighted();
        let lengths = if weighted {
            DocLengths::Real(lengths.iter().map(|&l| l as f32).collect())
        } else {
            DocLengths::Integer(lengths)
        };
        let mut w = SegmentWriter::new(lengths, scoring.kind.length_key())?;
        let weight = weighted.then_some(1.0);
        ThreadPools::install(threads, || {
            terms.par_sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            // Each term's build postings are freed once encoded.
            w.push_all(&mut terms, |(term, postings), docs, vals| {
                std::mem::take(postings).decode_into(docs, vals);
                (term.as_bytes(), weight)
            })
        })??;
        drop(terms);
        // One task per shard frees its strings and lists.
        ThreadPools::install(threads, || shards.into_par_iter().for_each(drop))?;
        let (t, p, d) = w.finish(ids.iter());
        let name = new_segment_name();
        let segment = Segment::from_parts(&name, t, p, d, Path::new("<memory>"))?;
        let meta = IndexMeta::new(
            analyzer.config().clone(),
            scoring,
            std::slice::from_ref(&segment),
        );
        Index::from_segments(meta, analyzer, vec![segment], None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(docs: Vec<Vec<&str>>) -> Vec<(Vec<(String, u32)>, u32)> {
        let inputs = docs
            .into_iter()
            .map(|d| DocInput::Tokens(d.into_iter().map(String::from).collect()))
            .collect();
        let chunk = CountedChunk::count(&Analyzer::default(), inputs);
        chunk
            .docs()
            .map(|d| d.map(|(t, tf)| (t.to_string(), tf)).collect())
            .zip(chunk.lengths.iter().copied())
            .collect()
    }

    #[test]
    fn counts_terms_sorted_and_skips_empty() {
        let c = counted(vec![
            vec![
                "abcdefghj",
                "b",
                "abcdefghi",
                "abcdefgh",
                "abcdefgh\0",
                "abcdefgh",
                "ab\0",
                "ab",
                "ab",
            ],
            vec!["b", "a", "", "b"],
            vec![],
            vec!["zz", "é", "a", "zz", "zz"],
            vec![""],
        ]);
        let pairs = |v: &[(&str, u32)]| -> Vec<(String, u32)> {
            v.iter().map(|&(t, n)| (t.to_string(), n)).collect()
        };
        assert_eq!(
            c,
            vec![
                (
                    pairs(&[
                        ("ab", 2),
                        ("ab\0", 1),
                        ("abcdefgh", 2),
                        ("abcdefgh\0", 1),
                        ("abcdefghi", 1),
                        ("abcdefghj", 1),
                        ("b", 1)
                    ]),
                    9
                ),
                (pairs(&[("a", 1), ("b", 2)]), 3),
                (vec![], 0),
                (pairs(&[("a", 1), ("zz", 3), ("é", 1)]), 5),
                (vec![], 0),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn chunk_counts_match_a_sorted_map(
            docs in proptest::collection::vec(
                proptest::collection::vec("(aaaaaaa|abababab|b)?[ab\\x00é]{0,3}", 0..40),
                0..6,
            ),
        ) {
            let want: Vec<(Vec<(String, u32)>, u32)> = docs
                .iter()
                .map(|d| {
                    let mut m = std::collections::BTreeMap::<&[u8], u32>::new();
                    for t in d.iter().filter(|t| !t.is_empty()) {
                        *m.entry(t.as_bytes()).or_default() += 1;
                    }
                    let len = m.values().sum();
                    let terms = m
                        .into_iter()
                        .map(|(t, n)| (String::from_utf8(t.to_vec()).unwrap(), n))
                        .collect();
                    (terms, len)
                })
                .collect();
            let got = counted(docs.iter().map(|d| d.iter().map(String::as_str).collect()).collect());
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn build_postings_round_trip(
            gaps in proptest::collection::vec((1u32..=u32::MAX / 4096, 1u32..=u32::MAX), 1..300),
            first in 0u32..1000,
        ) {
            let mut p = BuildPostings::default();
            let (mut want_docs, mut want_tfs) = (Vec::new(), Vec::new());
            let mut doc = first;
            for (i, &(gap, tf)) in gaps.iter().enumerate() {
                if i > 0 {
                    doc += gap;
                }
                p.push(doc, tf);
                want_docs.push(doc);
                want_tfs.push(tf);
            }
            let (mut docs, mut tfs) = (Vec::new(), Vec::new());
            p.decode_into(&mut docs, &mut tfs);
            proptest::prop_assert_eq!(docs, want_docs);
            proptest::prop_assert_eq!(tfs, want_tfs);
            proptest::prop_assert_eq!(p.df as usize, gaps.len());
        }
    }

    #[test]
    fn id_list_finds_and_keeps_order() {
        let mut ids = IdList::default();
        let n = 5000;
        for i in 0..n {
            let id = format!("doc-{}", i * 7 % n);
            assert!(!ids.contains(&id));
            ids.push(&id);
            assert!(ids.contains(&id));
        }
        assert_eq!(ids.len(), n);
        assert!(!ids.contains("doc-5000") && !ids.contains("") && !ids.contains("doc-"));
        let all: Vec<&str> = ids.iter().collect();
        assert_eq!(all[0], "doc-0");
        assert_eq!(all[3], "doc-21");
        assert_eq!(ids.get(n - 1), format!("doc-{}", (n - 1) * 7 % n));
    }

    #[test]
    fn counts_analysed_text() {
        let inputs = vec![DocInput::Text("The cats and the cat ran".into())];
        let chunk = CountedChunk::count(&Analyzer::default(), inputs);
        let doc: Vec<(&str, u32)> = chunk.docs().next().unwrap().collect();
        assert_eq!(doc, vec![("cat", 2), ("ran", 1)]);
        assert_eq!(chunk.lengths, vec![3]);
    }
}

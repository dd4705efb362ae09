//! [`IndexBuilder`]: turns documents into one immutable in-memory segment.
//!
//! Documents arrive in batches. Each batch is analysed and term-counted in parallel (rayon,
//! in the builder's pool). Doc ids are dense and follow insertion order whatever the thread
//! count. The dictionary is split into [`SHARDS`] shards by a hash of the term; a batch's
//! postings are bucketed by shard (in parallel, by chunks of documents) and then appended to
//! every shard in parallel, each shard in doc order. (Appending them on one thread, one
//! dictionary lookup per posting, took over half of a 1M-document build: each lookup is a
//! cache miss on the stored term.) `finish` sorts the dictionary and encodes the segment.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use rayon::prelude::*;

use crate::analysis::Analyzer;
use crate::error::{Error, Result};
use crate::index::segment::{DocLengths, Segment, SegmentWriter};
use crate::index::{new_segment_name, Index, IndexMeta};
use crate::pool::ThreadPools;
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
    ids: Vec<String>,
    seen: HashSet<String, BuildHasherDefault<Fnv>>,
    lengths: Vec<u32>,
    shards: Vec<Shard>,
}

/// Dictionary shards ([`shard_of`]).
const SHARDS: usize = 64;

/// Documents per bucketing chunk in [`IndexBuilder::add_batch`].
const CHUNK: usize = 1024;

/// The terms of one dictionary shard and their postings.
#[derive(Default)]
struct Shard {
    term_ids: HashMap<String, u32, BuildHasherDefault<Fnv>>,
    postings: Vec<Vec<(u32, u32)>>,
}

/// FNV-1a over the bytes written, with a multiplicative finaliser so that every output bit
/// depends on every input byte. The dictionary hashes short terms; SipHash (the std default,
/// resistant to chosen collisions) took 13% of a 1M-document build. A corpus built to collide
/// can only slow its own indexing down.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        (self.0 ^ (self.0 >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
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

/// Sorted (term, tf) pairs of one document.
type DocTerms = Vec<(String, u32)>;

/// Sorted (term, tf) pairs of one document, and its length.
type Counted = (DocTerms, u32);

/// Counts the terms of one document.
fn count_terms(mut terms: Vec<String>) -> Counted {
    terms.retain(|t| !t.is_empty());
    let len = u32::try_from(terms.len()).unwrap_or(u32::MAX);
    terms.sort_unstable();
    let mut out: Vec<(String, u32)> = Vec::new();
    for t in terms {
        match out.last_mut() {
            Some((last, n)) if *last == t => *n += 1,
            _ => out.push((t, 1)),
        }
    }
    (out, len)
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
            ids: Vec::new(),
            seen: HashSet::default(),
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
    /// or with an earlier one); the batch is then not added.
    pub fn add_batch(&mut self, docs: Vec<(String, DocInput)>) -> Result<()> {
        let mut batch_ids: HashSet<&str, BuildHasherDefault<Fnv>> =
            HashSet::with_capacity_and_hasher(docs.len(), BuildHasherDefault::default());
        for (id, _) in &docs {
            if self.seen.contains(id) || !batch_ids.insert(id.as_str()) {
                return Err(Error::invalid_argument(format!(
                    "duplicate document id {id:?}"
                )));
            }
        }
        drop(batch_ids);
        if self.ids.len() + docs.len() > u32::MAX as usize {
            return Err(Error::invalid_argument(
                "a segment holds at most 2^32 - 1 documents",
            ));
        }
        let analyzer = &self.analyzer;
        let base = self.ids.len();
        let counted: Vec<(String, Counted)> = ThreadPools::install(self.threads, || {
            docs.into_par_iter()
                .map(|(id, input)| {
                    let terms = match input {
                        DocInput::Text(text) => analyzer.analyze(&text),
                        DocInput::Tokens(tokens) => tokens,
                    };
                    (id, count_terms(terms))
                })
                .collect()
        })?;
        let mut doc_terms: Vec<DocTerms> = Vec::with_capacity(counted.len());
        for (id, (terms, len)) in counted {
            self.lengths.push(len);
            self.seen.insert(id.clone());
            self.ids.push(id);
            doc_terms.push(terms);
        }
        let shards = &mut self.shards;
        ThreadPools::install(self.threads, || {
            // Buckets borrow the terms: a posting of a known term allocates and frees nothing
            // in the shard pass (freeing another thread's strings there contended for the
            // allocator's arenas).
            // Chunks of documents, in order; each becomes one bucket of postings per shard.
            let routed: Vec<Vec<Vec<Routed<'_>>>> = doc_terms
                .par_chunks(CHUNK)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut buckets: Vec<Vec<Routed<'_>>> =
                        (0..SHARDS).map(|_| Vec::new()).collect();
                    for (i, terms) in chunk.iter().enumerate() {
                        let doc = (base + c * CHUNK + i) as u32;
                        for (term, tf) in terms {
                            buckets[shard_of(term)].push((doc, term.as_str(), *tf));
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
                                shard.postings.push(Vec::new());
                                t
                            }
                        };
                        shard.postings[tid as usize].push((doc, tf));
                    }
                });
            // Each chunk's strings are freed by one thread.
            doc_terms.into_par_iter().with_min_len(CHUNK).for_each(drop);
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
        let mut terms: Vec<(&str, &[(u32, u32)])> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.term_ids
                    .iter()
                    .map(|(t, &id)| (t.as_str(), s.postings[id as usize].as_slice()))
            })
            .collect();
        terms.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        // The weighted models start from weight 1 for every term: lengths are token counts.
        let weighted = self.scoring.kind.weighted();
        let lengths = if weighted {
            DocLengths::Real(self.lengths.iter().map(|&l| l as f32).collect())
        } else {
            DocLengths::Integer(self.lengths.clone())
        };
        let mut w = SegmentWriter::new(lengths, self.scoring.kind.length_key())?;
        let (mut docs, mut vals) = (Vec::new(), Vec::new());
        for (term, postings) in &terms {
            docs.clear();
            vals.clear();
            docs.extend(postings.iter().map(|p| p.0));
            vals.extend(postings.iter().map(|p| p.1));
            w.push(term.as_bytes(), weighted.then_some(1.0), &docs, &vals)?;
        }
        let (t, p, d) = w.finish(self.ids.iter().map(String::as_str));
        let name = new_segment_name();
        let segment = Segment::from_parts(&name, t, p, d, Path::new("<memory>"))?;
        let meta = IndexMeta::new(
            self.analyzer.config().clone(),
            self.scoring,
            std::slice::from_ref(&segment),
        );
        Index::from_segments(meta, self.analyzer, vec![segment], None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_terms_sorted_and_skips_empty() {
        let (c, len) = count_terms(vec!["b".into(), "a".into(), "".into(), "b".into()]);
        assert_eq!(c, vec![("a".to_string(), 1), ("b".to_string(), 2)]);
        assert_eq!(len, 3);
    }
}

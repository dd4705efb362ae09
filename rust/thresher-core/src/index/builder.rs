//! [`IndexBuilder`]: turns documents into one immutable in-memory segment.
//!
//! Documents arrive in batches. Each batch is analysed and term-counted in parallel (rayon,
//! in the builder's pool); the per-document term counts are then appended to the posting
//! lists sequentially, in arrival order, so doc ids are dense and follow insertion order
//! whatever the thread count. `finish` sorts the dictionary and encodes the segment.

use std::collections::{HashMap, HashSet};
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
    seen: HashSet<String>,
    lengths: Vec<u32>,
    term_ids: HashMap<String, u32>,
    postings: Vec<Vec<(u32, u32)>>,
}

/// Sorted (term, tf) pairs of one document, and its length.
type Counted = (Vec<(String, u32)>, u32);

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
            seen: HashSet::new(),
            lengths: Vec::new(),
            term_ids: HashMap::new(),
            postings: Vec::new(),
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
        let mut batch_ids = HashSet::with_capacity(docs.len());
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
        for (id, (terms, len)) in counted {
            let doc = self.ids.len() as u32;
            for (term, tf) in terms {
                let next = self.term_ids.len() as u32;
                let tid = *self.term_ids.entry(term).or_insert(next);
                if tid == next {
                    self.postings.push(Vec::new());
                }
                self.postings[tid as usize].push((doc, tf));
            }
            self.lengths.push(len);
            self.seen.insert(id.clone());
            self.ids.push(id);
        }
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
            .term_ids
            .iter()
            .map(|(t, &id)| (t.as_str(), self.postings[id as usize].as_slice()))
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

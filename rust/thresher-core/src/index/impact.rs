//! [`ImpactBuilder`]: an index of learned sparse vectors (impact scoring, issue 5).
//!
//! A document is a sparse vector `{term: weight}` with weights finite and >= 0 (SPLADE,
//! uniCOIL, DeepImpact, `thresher.expand`, ...). Weights are quantised to `bits`-bit integers
//! with one scale for the whole index ([`ImpactQuantization`]: `scale = max_weight / (2^bits -
//! 1)` unless given; `q = round_half_even(w / scale)`, at least 1), and the integers are
//! stored in the postings' value slot, where BM25 keeps term frequencies: the block codec, the
//! block frontiers and every query algorithm are reused unchanged. A block's bound is its
//! largest integer times the query term's factor, which is exact ([`crate::score::TermScorer`]).
//!
//! Conventions (documented for users in the README):
//! - weights of exactly 0 make no posting; a document whose vector is empty (or all zeros) is
//!   kept, with no postings (it is never returned, as an empty text document);
//! - a term repeated within one document, an empty term, a NaN, infinite or negative weight,
//!   or a weight not representable as f32 is an error naming the document (and, for JSONL,
//!   the file and line);
//! - an empty corpus, or one without any positive weight, is an error.
//!
//! Terms are stored verbatim (no analysis); the index's analyzer is only used for text
//! queries, whose analysed terms weigh 1 each (repeats add).
//!
//! Weights are buffered (8 bytes per posting) until [`ImpactBuilder::finish`], which needs the
//! largest weight for the scale; with a caller-given scale they are still buffered, so that a
//! failing batch leaves the builder unchanged.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::analysis::Analyzer;
use crate::corpus::{CorpusReader, RawLine};
use crate::error::{Error, Result};
use crate::index::segment::{DocLengths, Segment, SegmentWriter};
use crate::index::{new_segment_name, Index, IndexMeta};
use crate::pool::ThreadPools;
use crate::score::{ImpactQuantization, LengthKey, ScoringConfig};

/// One document: its id and its `(term, weight)` pairs.
pub type SparseDoc = (String, Vec<(String, f32)>);

/// Accumulates sparse vectors into an impact index.
pub struct ImpactBuilder {
    analyzer: Analyzer,
    bits: u32,
    scale: Option<f64>,
    threads: Option<usize>,
    ids: Vec<String>,
    seen: HashSet<String>,
    term_ids: HashMap<String, u32>,
    postings: Vec<Vec<(u32, f32)>>,
    max_weight: f32,
}

/// Checks one vector and sorts it by term; the error message names the problem (the caller
/// adds which document).
fn check_vector(v: &mut [(String, f32)]) -> std::result::Result<(), String> {
    for (t, w) in v.iter() {
        if t.is_empty() {
            return Err("has an empty term".into());
        }
        if !w.is_finite() || *w < 0.0 {
            return Err(format!(
                "has weight {w} for term {t:?}; weights must be finite and >= 0"
            ));
        }
    }
    v.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if let Some(p) = v.windows(2).find(|p| p[0].0 == p[1].0) {
        return Err(format!("repeats the term {:?}", p[0].0));
    }
    Ok(())
}

/// An f64 weight (from JSON) as f32, or why not.
fn to_f32(t: &str, w: f64) -> std::result::Result<f32, String> {
    crate::types::narrow_weight(w).ok_or_else(|| {
        format!("has weight {w} for term {t:?}, which is not representable as a 32-bit float")
    })
}

impl ImpactBuilder {
    /// A builder quantising to `bits` bits (1..=16; 8 is Anserini's and the usual choice) with
    /// `scale` (`None`: `max_weight / (2^bits - 1)` over the whole corpus, computed at
    /// [`ImpactBuilder::finish`]). `analyzer` is recorded for text queries.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for bad `bits`, `scale` or `threads`.
    pub fn new(
        analyzer: Analyzer,
        bits: u32,
        scale: Option<f64>,
        threads: Option<usize>,
    ) -> Result<Self> {
        ImpactQuantization::new(bits, scale.unwrap_or(1.0))?;
        crate::pool::resolve_threads(threads)?;
        Ok(Self {
            analyzer,
            bits,
            scale,
            threads,
            ids: Vec::new(),
            seen: HashSet::new(),
            term_ids: HashMap::new(),
            postings: Vec::new(),
            max_weight: 0.0,
        })
    }

    /// Number of documents added so far.
    pub fn num_docs(&self) -> usize {
        self.ids.len()
    }

    fn check_ids<'a>(&self, ids: impl Iterator<Item = &'a str>, n: usize) -> Result<()> {
        super::ids::check_new_ids(ids, n, self.ids.len(), |id| self.seen.contains(id))
    }

    /// Appends checked, term-sorted vectors (the batch is already validated as a whole).
    fn push_checked(&mut self, docs: Vec<SparseDoc>) {
        for (id, vector) in docs {
            let doc = self.ids.len() as u32;
            for (term, w) in vector {
                if w <= 0.0 {
                    continue;
                }
                self.max_weight = self.max_weight.max(w);
                let next = self.term_ids.len() as u32;
                let tid = *self.term_ids.entry(term).or_insert(next);
                if tid == next {
                    self.postings.push(Vec::new());
                }
                self.postings[tid as usize].push((doc, w));
            }
            self.seen.insert(id.clone());
            self.ids.push(id);
        }
    }

    /// Adds a batch of documents (all or nothing).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the document for a duplicate id, an empty or repeated
    /// term, or a NaN, infinite or negative weight.
    pub fn add_batch(&mut self, mut docs: Vec<SparseDoc>) -> Result<()> {
        self.check_ids(docs.iter().map(|d| d.0.as_str()), docs.len())?;
        ThreadPools::install(self.threads, || {
            docs.par_iter_mut().try_for_each(|(id, v)| {
                check_vector(v).map_err(|m| Error::invalid_argument(format!("document {id:?} {m}")))
            })
        })??;
        self.push_checked(docs);
        Ok(())
    }

    /// Adds the rows of a CSR matrix (documents x `vocab`) with ids `ids`. Duplicate column
    /// indices within a row are an error (the Python wrapper sums them first, as scipy does).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for inconsistent arrays (`indptr` not starting at 0, not
    /// non-decreasing, or not ending at `indices.len() == data.len()`; `ids.len() + 1 !=
    /// indptr.len()`), a column index outside the vocabulary, an empty or repeated vocabulary
    /// term, and as [`ImpactBuilder::add_batch`].
    pub fn add_csr(
        &mut self,
        ids: Vec<String>,
        indptr: &[i64],
        indices: &[i64],
        data: &[f32],
        vocab: &[String],
    ) -> Result<()> {
        if indptr.len() != ids.len() + 1 {
            return Err(Error::invalid_argument(format!(
                "{} ids for a matrix of {} rows",
                ids.len(),
                indptr.len().saturating_sub(1)
            )));
        }
        if indices.len() != data.len() {
            return Err(Error::invalid_argument(format!(
                "{} column indices for {} values",
                indices.len(),
                data.len()
            )));
        }
        if indptr.first() != Some(&0)
            || indptr.windows(2).any(|w| w[0] > w[1])
            || indptr.last().copied() != i64::try_from(indices.len()).ok()
        {
            return Err(Error::invalid_argument(
                "indptr must start at 0, never decrease and end at the number of entries",
            ));
        }
        if let Some(&c) = indices
            .iter()
            .find(|&&c| c < 0 || c as u64 >= vocab.len() as u64)
        {
            return Err(Error::invalid_argument(format!(
                "column index {c} is outside the vocabulary of {} terms",
                vocab.len()
            )));
        }
        let mut distinct = HashSet::with_capacity(vocab.len());
        for t in vocab {
            if t.is_empty() {
                return Err(Error::invalid_argument("the vocabulary has an empty term"));
            }
            if !distinct.insert(t.as_str()) {
                return Err(Error::invalid_argument(format!(
                    "the vocabulary repeats the term {t:?}"
                )));
            }
        }
        drop(distinct);
        let docs: Vec<SparseDoc> = ids
            .into_iter()
            .enumerate()
            .map(|(r, id)| {
                let (a, b) = (indptr[r] as usize, indptr[r + 1] as usize);
                let v = indices[a..b]
                    .iter()
                    .zip(&data[a..b])
                    .map(|(&c, &w)| (vocab[c as usize].clone(), w))
                    .collect();
                (id, v)
            })
            .collect();
        self.add_batch(docs)
    }

    /// Reads and adds every record of an Anserini `JsonVectorCollection` file (JSONL, plain or
    /// gzip): `{"id": ..., "vector": {term: weight, ...}}`, with `_id` or `docid` accepted for
    /// the id and any other field (`contents`, ...) ignored. Returns the number of documents.
    ///
    /// # Errors
    /// [`Error::Io`] for a missing or unreadable file; [`Error::InvalidData`] naming the file
    /// and line for invalid UTF-8 or JSON, a missing id or vector, a weight that is not a
    /// number, and as [`ImpactBuilder::add_batch`] (a bad weight, a repeated term; a
    /// duplicate id is [`Error::InvalidArgument`]).
    pub fn add_jsonl(&mut self, path: &Path) -> Result<usize> {
        let mut reader = VectorReader::open(path)?;
        let mut n = 0;
        loop {
            let batch = ThreadPools::install(self.threads, || reader.next_batch(16_384))??;
            if batch.is_empty() {
                return Ok(n);
            }
            n += batch.len();
            self.check_ids(batch.iter().map(|d| d.0.as_str()), batch.len())?;
            self.push_checked(batch);
        }
    }

    /// Quantises, encodes the segment and returns an in-memory [`Index`] (scoring `impact`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty corpus, a corpus without any positive weight,
    /// or (caller-given scale) a weight above `(2^bits - 1) * scale`.
    pub fn finish(self) -> Result<Index> {
        if self.ids.is_empty() {
            return Err(Error::invalid_argument(
                "cannot build an index from an empty corpus (no documents)",
            ));
        }
        if self.max_weight <= 0.0 {
            return Err(Error::invalid_argument(
                "no document has a positive weight: an impact index needs at least one posting",
            ));
        }
        let max_q = f64::from((1u32 << self.bits) - 1);
        let scale = self.scale.unwrap_or(f64::from(self.max_weight) / max_q);
        let quant = ImpactQuantization::new(self.bits, scale)?;
        let mut terms: Vec<(&str, &[(u32, f32)])> = self
            .term_ids
            .iter()
            .map(|(t, &id)| (t.as_str(), self.postings[id as usize].as_slice()))
            .collect();
        terms.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        // Quantise once; a document's length is the sum of its integers (its "token count",
        // > 0 exactly when it has a posting).
        let mut lengths = vec![0u32; self.ids.len()];
        let mut quantised: Vec<Vec<u32>> = Vec::with_capacity(terms.len());
        for (term, postings) in &terms {
            let mut vals = Vec::with_capacity(postings.len());
            for &(d, w) in *postings {
                let q = quant.quantize(w).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "document {:?}: the weight {w} of term {term:?} exceeds the largest \
                         {}-bit impact times the scale {scale} ({})",
                        self.ids[d as usize],
                        self.bits,
                        max_q * scale
                    ))
                })?;
                let len = &mut lengths[d as usize];
                *len = len.checked_add(q).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "document {:?}: its impacts add up to more than 2^32 - 1",
                        self.ids[d as usize]
                    ))
                })?;
                vals.push(q);
            }
            quantised.push(vals);
        }
        let mut w = SegmentWriter::new(DocLengths::Integer(lengths), LengthKey::None)?;
        let mut docs = Vec::new();
        for ((term, postings), vals) in terms.iter().zip(&quantised) {
            docs.clear();
            docs.extend(postings.iter().map(|p| p.0));
            w.push(term.as_bytes(), None, &docs, vals)?;
        }
        let (t, p, d) = w.finish(self.ids.iter().map(String::as_str));
        let name = new_segment_name();
        let segment = Segment::from_parts(&name, t, p, d, Path::new("<memory>"))?;
        let meta = IndexMeta::new(
            self.analyzer.config().clone(),
            ScoringConfig::impact(quant)?,
            std::slice::from_ref(&segment),
        );
        Index::from_segments(meta, self.analyzer, vec![segment], None)
    }
}

/// A JSON object of `term: weight` kept as pairs in file order, so that a repeated key is
/// seen (a map would silently keep the last value).
struct Pairs(Vec<(String, f64)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of term: weight (a number)")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Pairs, A::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some(e) = m.next_entry::<String, f64>()? {
                    v.push(e);
                }
                Ok(Pairs(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// One `JsonVectorCollection` record (other fields, such as `contents`, are ignored).
#[derive(Deserialize)]
struct Record {
    #[serde(alias = "_id", alias = "docid")]
    id: serde_json::Value,
    vector: Pairs,
}

/// Streams `(id, vector)` records of an Anserini `JsonVectorCollection` file in batches,
/// parsed in parallel (in the current rayon pool).
pub struct VectorReader {
    lines: CorpusReader,
    path: PathBuf,
}

impl VectorReader {
    /// Opens a JSONL(.gz) file of vectors.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be opened.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
        let lines = CorpusReader::open(path, &["vector".to_string()])?;
        Ok(Self {
            lines,
            path: path.to_path_buf(),
        })
    }

    /// Bytes of (decompressed) input consumed so far, and the file's size.
    pub fn progress(&self) -> (u64, u64) {
        (self.lines.bytes_read(), self.lines.file_len())
    }

    /// Up to `max` checked, term-sorted records; empty at the end of the file.
    ///
    /// # Errors
    /// As [`ImpactBuilder::add_jsonl`].
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<SparseDoc>> {
        let lines = self.lines.next_lines(max)?;
        let path = &self.path;
        lines.par_iter().map(|l| parse_record(path, l)).collect()
    }
}

fn parse_record(path: &Path, line: &RawLine) -> Result<SparseDoc> {
    let at = || format!("{} line {}", path.display(), line.line_no);
    let text = line.text(path)?;
    let rec: Record = serde_json::from_str(text).map_err(|e| {
        Error::InvalidData(format!(
            "{}: not a JsonVectorCollection record ({{\"id\": ..., \"vector\": {{term: weight}}}}): {e}",
            at()
        ))
    })?;
    let id = match rec.id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(Error::InvalidData(format!(
                "{}: the document id must be a string",
                at()
            )))
        }
    };
    let mut v = Vec::with_capacity(rec.vector.0.len());
    for (t, w) in rec.vector.0 {
        let x = to_f32(&t, w)
            .map_err(|m| Error::InvalidData(format!("{}: document {id:?} {m}", at())))?;
        v.push((t, x));
    }
    check_vector(&mut v)
        .map_err(|m| Error::InvalidData(format!("{}: document {id:?} {m}", at())))?;
    Ok((id, v))
}

impl Index {
    /// The quantisation of an impact index (`None` for the other models).
    pub fn impact_quantization(&self) -> Option<ImpactQuantization> {
        self.meta().scoring.impact
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::QueryInput;
    use crate::{Algorithm, LoadOptions, SearchOptions};

    fn v(pairs: &[(&str, f32)]) -> Vec<(String, f32)> {
        pairs.iter().map(|&(t, w)| (t.to_string(), w)).collect()
    }

    fn corpus() -> Vec<SparseDoc> {
        vec![
            ("a".into(), v(&[("x", 2.0), ("y", 0.5)])),
            ("b".into(), v(&[("y", 4.0)])),
            ("c".into(), v(&[])),
            ("d".into(), v(&[("x", 2.0), ("z", 0.0)])),
        ]
    }

    fn build(bits: u32, scale: Option<f64>) -> Index {
        let mut b = ImpactBuilder::new(Analyzer::default(), bits, scale, Some(1)).unwrap();
        b.add_batch(corpus()).unwrap();
        b.finish().unwrap()
    }

    fn hits(index: &Index, q: &[(&str, f32)]) -> Vec<(u32, f32)> {
        let q = index.query(QueryInput::Weighted(&v(q))).unwrap();
        index.search(&q, 10).unwrap()
    }

    #[test]
    fn scores_are_dot_products_of_dequantised_vectors() {
        // max 4.0, 8 bits: scale 4/255; x=2 -> round(127.5) = 128 (half to even), y=0.5 ->
        // round(31.875) = 32, y=4 -> 255.
        let index = build(8, None);
        let q = index.impact_quantization().unwrap();
        assert_eq!((q.bits, q.scale), (8, 4.0 / 255.0));
        let m = index.doc_term_matrix().unwrap();
        assert_eq!(index.vocabulary().unwrap(), ["x", "y"]);
        assert_eq!(m.indptr, [0, 2, 3, 3, 4]);
        assert_eq!(m.data, [128, 32, 255, 128]);
        let f = |w: f32| (f64::from(w) * q.scale) as f32;
        let got = hits(&index, &[("x", 1.0), ("y", 2.0)]);
        let a = f(1.0) * 128.0 + f(2.0) * 32.0;
        assert_eq!(got, vec![(1, f(2.0) * 255.0), (0, a), (3, f(1.0) * 128.0)]);
        // The empty document and the zero weight made no posting; "c" counts as empty.
        assert_eq!(index.meta().num_nonempty_docs, 3);
        assert_eq!(index.doc_freq("z"), 0);
        // Unknown terms are ignored; an all-unknown query returns nothing.
        assert_eq!(hits(&index, &[("nope", 1.0), ("y", 1.0)]).len(), 2);
        assert!(hits(&index, &[("nope", 1.0)]).is_empty());
    }

    #[test]
    fn a_given_scale_keeps_integer_weights_and_ties_break_by_doc() {
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, Some(1.0), Some(1)).unwrap();
        b.add_batch(vec![
            ("p".into(), v(&[("x", 3.0)])),
            ("q".into(), v(&[("x", 1.0), ("y", 2.0)])),
            ("r".into(), v(&[("y", 3.0)])),
        ])
        .unwrap();
        let index = b.finish().unwrap();
        // All three score exactly 3: doc order decides.
        let got = hits(&index, &[("x", 1.0), ("y", 1.0)]);
        assert_eq!(got, vec![(0, 3.0), (1, 3.0), (2, 3.0)]);
        let mut b = ImpactBuilder::new(Analyzer::default(), 2, Some(1.0), Some(1)).unwrap();
        b.add_batch(vec![("p".into(), v(&[("x", 3.6)]))]).unwrap();
        let e = b.finish().unwrap_err().to_string();
        assert!(e.contains("exceeds") && e.contains("\"p\""), "{e}");
    }

    #[test]
    fn bad_input_is_rejected_with_the_document_named() {
        let cases: Vec<(Vec<SparseDoc>, &str)> = vec![
            (vec![("a".into(), v(&[("x", f32::NAN)]))], "finite"),
            (vec![("a".into(), v(&[("x", f32::INFINITY)]))], "finite"),
            (vec![("a".into(), v(&[("x", -1.0)]))], ">= 0"),
            (vec![("a".into(), v(&[("", 1.0)]))], "empty term"),
            (vec![("a".into(), v(&[("x", 1.0), ("x", 2.0)]))], "repeats"),
            (
                vec![("a".into(), v(&[("x", 1.0)])), ("a".into(), v(&[]))],
                "duplicate document id",
            ),
        ];
        for (docs, want) in cases {
            let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
            let e = b.add_batch(docs).unwrap_err();
            assert!(
                matches!(e, Error::InvalidArgument(ref m) if m.contains(want) && m.contains("\"a\"")),
                "{e}"
            );
            assert_eq!(b.num_docs(), 0, "a failed batch adds nothing");
        }
        let b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
        assert!(b.finish().unwrap_err().to_string().contains("empty corpus"));
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
        b.add_batch(vec![("a".into(), v(&[("x", 0.0)]))]).unwrap();
        assert!(b
            .finish()
            .unwrap_err()
            .to_string()
            .contains("positive weight"));
        for bits in [0, 17] {
            assert!(ImpactBuilder::new(Analyzer::default(), bits, None, None).is_err());
        }
        assert!(ImpactBuilder::new(Analyzer::default(), 8, Some(0.0), None).is_err());
        // CSR shape problems.
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
        let vocab = vec!["x".to_string(), "y".to_string()];
        let ids = || vec!["a".to_string()];
        for (ip, ix, d, voc, want) in [
            (
                vec![0, 1, 1],
                vec![0],
                vec![1.0],
                vocab.clone(),
                "1 ids for a matrix of 2 rows",
            ),
            (
                vec![0, 1],
                vec![2],
                vec![1.0],
                vocab.clone(),
                "outside the vocabulary of 2",
            ),
            (
                vec![0, 2],
                vec![0, 1],
                vec![1.0],
                vocab.clone(),
                "2 column indices for 1 values",
            ),
            (
                vec![0, 1],
                vec![0],
                vec![1.0],
                vec!["x".into(), "x".into()],
                "repeats the term",
            ),
            (
                vec![0, 2],
                vec![1, 1],
                vec![1.0, 1.0],
                vocab.clone(),
                "repeats the term \"y\"",
            ),
        ] {
            let e = b
                .add_csr(ids(), &ip, &ix, &d, &voc)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e} (wanted {want})");
        }
    }

    #[test]
    fn jsonl_records_and_errors_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.jsonl");
        std::fs::write(
            &p,
            "{\"id\": \"a\", \"contents\": \"\", \"vector\": {\"x\": 3, \"y\": 1.5}}\n\n\
             {\"docid\": 7, \"vector\": {}}\n",
        )
        .unwrap();
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, Some(0.5), Some(1)).unwrap();
        assert_eq!(b.add_jsonl(&p).unwrap(), 2);
        let index = b.finish().unwrap();
        assert_eq!(index.doc_ids().unwrap(), ["a", "7"]);
        assert_eq!(index.doc_term_matrix().unwrap().data, [6, 3]);
        for (body, want) in [
            ("{\"id\": \"a\", \"vector\": {\"x\": 1}}\n{oops\n", "line 2"),
            ("{\"id\": \"a\"}\n", "missing field `vector`"),
            ("{\"id\": \"a\", \"vector\": {\"x\": \"1\"}}\n", "line 1"),
            ("{\"id\": \"a\", \"vector\": {\"x\": -1}}\n", ">= 0"),
            (
                "{\"id\": \"a\", \"vector\": {\"x\": 1e300}}\n",
                "not representable",
            ),
            (
                "{\"id\": \"a\", \"vector\": {\"x\": 1e-300}}\n",
                "not representable",
            ),
            (
                "{\"id\": \"a\", \"vector\": {\"x\": 1, \"x\": 2}}\n",
                "repeats the term",
            ),
            ("{\"id\": [1], \"vector\": {}}\n", "id must be a string"),
        ] {
            std::fs::write(&p, body).unwrap();
            let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
            let e = b.add_jsonl(&p).unwrap_err();
            assert!(
                matches!(e, Error::InvalidData(ref m) if m.contains(want) && m.contains("line")),
                "{e} (wanted {want})"
            );
        }
        std::fs::write(&p, "{\"id\": \"\", \"vector\": {\"x\": 1}}\n").unwrap();
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
        let e = b.add_jsonl(&p).unwrap_err();
        assert!(e.to_string().contains("an empty document id"), "{e}");
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
        assert!(matches!(
            b.add_jsonl(&dir.path().join("missing.jsonl")),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn saved_impact_indexes_load_and_search_identically() {
        let mut index = build(8, None);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = Index::load(dir.path(), LoadOptions::default()).unwrap();
        assert_eq!(loaded.meta().scoring, index.meta().scoring);
        for algorithm in [Algorithm::Exhaustive, Algorithm::MaxScore, Algorithm::Bmw] {
            let q = loaded
                .query(QueryInput::Weighted(&v(&[("x", 1.0), ("y", 0.3)])))
                .unwrap();
            let opts = SearchOptions {
                algorithm,
                allow: None,
            };
            assert_eq!(
                loaded.search_with(&q, 3, &opts).unwrap(),
                index.search_with(&q, 3, &opts).unwrap()
            );
        }
        // Appending needs the same quantisation.
        let mut a = build(8, None);
        assert!(a.append(build(4, None)).is_err());
    }
}

//! `thresher._core.Index` and `thresher._core.IndexBuilder`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use thresher_core::corpus::CorpusReader;
use thresher_core::{
    Algorithm, DocFilter, DocInput, Error, Index, IndexBuilder, LoadOptions, Query, QueryInput,
    ScoringConfig, ScoringKind, SearchOptions,
};

use crate::analyzer::PyAnalyzer;
use crate::builder::{check_threads, BuilderSlot};
use crate::errors::{CoreError, CoreResult};
use crate::gil::{self, HOLD_GIL_BATCH, HOLD_GIL_INPUT, HOLD_GIL_POSTINGS};

/// A query as Python passes it: text, pre-analysed terms, or weighted terms.
enum PyQuery {
    Text(String),
    Tokens(Vec<String>),
    Weighted(HashMap<String, f32>),
}

impl PyQuery {
    /// Bytes of the input (text, or the terms).
    fn input_len(&self) -> usize {
        match self {
            PyQuery::Text(t) => t.len(),
            PyQuery::Tokens(ts) => ts.iter().map(String::len).sum(),
            PyQuery::Weighted(w) => w.keys().map(String::len).sum(),
        }
    }

    fn to_query(&self, index: &Index) -> CoreResult<Query> {
        Ok(match self {
            PyQuery::Text(t) => index.query(QueryInput::Text(t))?,
            PyQuery::Tokens(t) => index.query(QueryInput::Tokens(t))?,
            PyQuery::Weighted(w) => {
                let v: Vec<(String, f32)> = w.iter().map(|(t, &x)| (t.clone(), x)).collect();
                index.query(QueryInput::Weighted(&v))?
            }
        })
    }
}

/// Reads a query. The type is checked before anything is extracted: a failed extraction
/// builds a Python exception, and PyO3 releases the GIL while it normalises one. Token-list
/// queries were first tried as `str`, so beside a thread busy in Python every such query
/// waited for the GIL (up to the 5 ms switch interval, twice): 64 queries in one
/// `search_batch` took 32 ms instead of 6 ms.
fn extract_query(obj: &Bound<'_, PyAny>) -> PyResult<PyQuery> {
    use crate::pystr::type_name;
    // A lone surrogate cannot become UTF-8: name the part that holds it.
    let text = |s: &Bound<'_, PyString>, what: &str| -> PyResult<String> {
        s.to_str()
            .map(str::to_owned)
            .map_err(|e| PyValueError::new_err(format!("{what} is not valid text: {e}")))
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(PyQuery::Text(text(s, "the query")?));
    }
    if let Ok(d) = obj.cast::<pyo3::types::PyDict>() {
        let mut terms = HashMap::with_capacity(d.len());
        for (t, w) in d.iter() {
            let Ok(ts) = t.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "a query term must be a str, not {}",
                    type_name(&t)
                )));
            };
            let term = text(ts, "a query term")?;
            // Extraction to f32 takes True as 1.0 and a float beyond f32 as inf; name both.
            if w.is_instance_of::<pyo3::types::PyBool>() {
                return Err(PyTypeError::new_err(format!(
                    "the weight of query term {} is a bool, not a number",
                    t.repr()?
                )));
            }
            let Ok(x) = w.extract::<f64>() else {
                if w.is_instance_of::<pyo3::types::PyInt>() {
                    // An int beyond float64's range.
                    return Err(PyValueError::new_err(format!(
                        "the weight of query term {} (an int of {} bits) is too large for a \
                         32-bit float",
                        t.repr()?,
                        w.call_method0("bit_length")?
                    )));
                }
                return Err(PyTypeError::new_err(format!(
                    "the weight of query term {term:?} must be a number, not {}",
                    type_name(&w)
                )));
            };
            if x.is_finite() && x.abs() > f64::from(f32::MAX) {
                return Err(PyValueError::new_err(format!(
                    "the weight {} of query term {} is too large for a 32-bit float",
                    w.call_method1("__format__", ("g",))?,
                    t.repr()?
                )));
            }
            // Too large was refused above: what f32 loses now is a weight rounding to 0.
            let Some(x) = thresher_core::types::narrow_weight(x) else {
                return Err(PyValueError::new_err(format!(
                    "the weight {} of query term {} rounds to 0 as a 32-bit float (the \
                     smallest positive one is about 1.4e-45)",
                    w.call_method1("__format__", ("g",))?,
                    t.repr()?
                )));
            };
            terms.insert(term, x);
        }
        return Ok(PyQuery::Weighted(terms));
    }
    if let Ok(l) = obj.cast::<pyo3::types::PyList>() {
        let mut terms = Vec::with_capacity(l.len());
        for t in l.iter() {
            let Ok(ts) = t.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "a query's terms must be str, not {}",
                    type_name(&t)
                )));
            };
            terms.push(text(ts, "a query term")?);
        }
        return Ok(PyQuery::Tokens(terms));
    }
    // Other sequences of str (tuples, ...), the slow way.
    obj.extract::<Vec<String>>().map(PyQuery::Tokens).map_err(|_| {
        PyTypeError::new_err(format!(
            "a query must be a str, a list of str (pre-analysed terms) or a dict of str to float, not {}",
            type_name(obj)
        ))
    })
}

fn check_k(k: i64) -> PyResult<usize> {
    if k <= 0 {
        return Err(PyValueError::new_err(format!(
            "k must be a positive integer, got {k}"
        )));
    }
    Ok(usize::try_from(k).unwrap_or(usize::MAX))
}

/// Builds the filter from what the Python wrapper passes: a bool mask over the index, or
/// internal document numbers (int64; the wrapper maps external ids to numbers). With the GIL
/// held (the arrays are borrowed from Python); the dtype is checked before extracting, as for
/// queries ([`extract_query`]: a failed extraction releases the GIL).
fn doc_filter(allow: Option<&Bound<'_, PyAny>>, num_docs: usize) -> PyResult<Option<DocFilter>> {
    let Some(obj) = allow else { return Ok(None) };
    // `try_readonly`: an array mutably borrowed elsewhere is an error, not a panic.
    let borrowed = |e: numpy::BorrowError| PyValueError::new_err(format!("allow: {e}"));
    let filter = if let Ok(m) = obj.cast::<PyArray1<bool>>() {
        DocFilter::from_mask(m.try_readonly().map_err(borrowed)?.as_slice()?, num_docs)
    } else if let Ok(d) = obj.cast::<PyArray1<i64>>() {
        let d = d.try_readonly().map_err(borrowed)?;
        let d = d.as_slice()?;
        if let Some(&bad) = d.iter().find(|&&x| x < 0) {
            return Err(PyValueError::new_err(format!(
                "document number {bad} in allow is out of range (the index has {num_docs} documents)"
            )));
        }
        let d: Vec<u64> = d.iter().map(|&x| x as u64).collect();
        DocFilter::from_docs(&d, num_docs)
    } else {
        return Err(PyTypeError::new_err(
            "allow must be a 1-D numpy array of bool (a mask over the index) or of int64 \
             (internal document numbers)",
        ));
    };
    Ok(Some(filter.map_err(CoreError)?))
}

/// Runs `queries` (made into [`Query`]s by `make`, on the thread that runs each) and writes
/// query `i`'s hits to row `i` of `docs` and `scores` (`k_eff` columns, padded with -1 and
/// -inf).
#[allow(clippy::too_many_arguments)]
fn run_rows<T: Sync>(
    index: &Index,
    queries: &[T],
    make: impl Fn(&T) -> thresher_core::Result<Query> + Sync,
    docs: &mut [i64],
    scores: &mut [f32],
    k_eff: usize,
    threads: Option<usize>,
    options: &SearchOptions<'_>,
) -> thresher_core::Result<()> {
    type Job<'a, T> = (&'a T, &'a mut [i64], &'a mut [f32]);
    let mut jobs: Vec<Job<'_, T>> = queries
        .iter()
        .zip(docs.chunks_mut(k_eff).zip(scores.chunks_mut(k_eff)))
        .map(|(q, (d, s))| (q, d, s))
        .collect();
    let write = |(_, d_row, s_row): &mut Job<'_, T>, hits: &[(u32, f32)]| {
        for (j, (d, s)) in d_row.iter_mut().zip(s_row.iter_mut()).enumerate() {
            (*d, *s) = hits
                .get(j)
                .map_or((-1, f32::NEG_INFINITY), |&(d, s)| (i64::from(d), s));
        }
    };
    index.search_batch_into(&mut jobs, |job| make(job.0), write, k_eff, threads, options)
}

fn parse_algorithm(name: &str) -> PyResult<Algorithm> {
    Ok(Algorithm::from_name(name).map_err(CoreError)?)
}

/// `(docs, scores)` arrays of a batch search.
type BatchHits<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray2<f32>>);

/// A CSR matrix as numpy arrays `(indptr, indices, data, (rows, cols))`: indices int32 when
/// they fit (as scipy would pick), else int64; data int32.
type CsrArrays<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyArray1<i32>>,
    (usize, usize),
);

/// A searchable index (see `_core.pyi`).
///
/// Locking: the lock guards only which [`Index`] is current and is held just long enough to
/// clone or replace an `Arc` - never while waiting for the GIL or doing work. Every method
/// works on a snapshot; `save` saves a (cheap) clone and then makes it current. Holding an
/// `RwLock` guard across `py.detach` deadlocked: a thread holding the GIL waited for the read
/// lock behind a queued writer, the writer waited for a reader, and that reader waited for
/// the GIL.
#[pyclass(name = "Index", module = "thresher._core", frozen)]
pub struct PyIndex {
    inner: RwLock<Arc<Index>>,
}

impl PyIndex {
    /// Wraps a core index (for the other builders of this crate).
    pub(crate) fn from_index(index: Index) -> Self {
        Self {
            inner: RwLock::new(Arc::new(index)),
        }
    }

    /// The current index.
    fn read(&self) -> Arc<Index> {
        Arc::clone(&self.inner.read().unwrap_or_else(|e| e.into_inner()))
    }
}

#[pymethods]
impl PyIndex {
    /// Loads a saved index.
    #[staticmethod]
    #[pyo3(signature = (path, *, mmap = true, verify = true))]
    fn load(py: Python<'_>, path: PathBuf, mmap: bool, verify: bool) -> CoreResult<Self> {
        let index = py.detach(|| Index::load(&path, LoadOptions { mmap, verify }))?;
        Ok(Self::from_index(index))
    }

    /// Saves the index to a directory (atomically). Searches meanwhile use the index as it
    /// was; afterwards the saved clone (which knows its directory) becomes current.
    fn save(&self, py: Python<'_>, path: PathBuf) -> CoreResult<()> {
        let current = self.read();
        let saved = py.detach(move || -> thresher_core::Result<Index> {
            let mut copy = (*current).clone();
            copy.save(&path)?;
            Ok(copy)
        })?;
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(saved);
        Ok(())
    }

    /// Top-k hits of one query as `[(external id, score), ...]`: ids are looked up in Rust for
    /// the hits only, so no per-document id table is ever built in Python.
    #[pyo3(signature = (query, k = 10, *, algorithm = "auto", allow = None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        query: &Bound<'py, PyAny>,
        k: i64,
        algorithm: &str,
        allow: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Vec<(Bound<'py, PyString>, f32)>> {
        let k = check_k(k)?;
        let algorithm = parse_algorithm(algorithm)?;
        let q = extract_query(query)?;
        let index = self.read();
        let filter = doc_filter(allow, index.num_docs())?;
        let options = SearchOptions {
            algorithm,
            allow: filter.as_ref(),
        };
        let hits = if q.input_len() <= HOLD_GIL_INPUT && gil::sole_caller() {
            let q = q.to_query(&index)?;
            if index.query_postings(&q) <= HOLD_GIL_POSTINGS {
                index.search_with(&q, k, &options).map_err(CoreError)?
            } else {
                py.detach(|| index.search_with(&q, k, &options))
                    .map_err(CoreError)?
            }
        } else {
            py.detach(|| -> CoreResult<Vec<(u32, f32)>> {
                let q = q.to_query(&index)?;
                Ok(index.search_with(&q, k, &options)?)
            })?
        };
        let docs: Vec<u32> = hits.iter().map(|h| h.0).collect();
        let mut ids: Vec<Option<Bound<'py, PyString>>> = vec![None; hits.len()];
        index
            .visit_doc_ids(&docs, |i, id| ids[i] = Some(PyString::new(py, id)))
            .map_err(CoreError)?;
        Ok(ids
            .into_iter()
            .zip(hits)
            .map(|(id, (_, s))| (id.expect("every hit's id was visited"), s))
            .collect())
    }

    /// Top-k of many queries: (docs int64 (n, k), scores float32 (n, k)), padded with -1 / -inf.
    #[pyo3(signature = (queries, k = 10, threads = None, *, algorithm = "auto", allow = None))]
    fn search_batch<'py>(
        &self,
        py: Python<'py>,
        queries: &Bound<'py, PyAny>,
        k: i64,
        threads: Option<i64>,
        algorithm: &str,
        allow: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<BatchHits<'py>> {
        let k = check_k(k)?;
        let threads = check_threads(threads)?;
        let algorithm = parse_algorithm(algorithm)?;
        if queries.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "queries must be a sequence of queries, not a single str",
            ));
        }
        let qs: Vec<PyQuery> = queries
            .try_iter()?
            .map(|q| extract_query(&q?))
            .collect::<PyResult<_>>()?;
        let index = self.read();
        let n = qs.len();
        // Never more columns than documents: k larger than the index returns everything.
        let k_eff = k.min(index.num_docs().max(1));
        let filter = doc_filter(allow, index.num_docs())?;
        // Each worker writes its queries' rows, padding included: filling the arrays
        // afterwards on one thread capped the speed-up of threads at large k. Zeroed buffers
        // come from the allocator as untouched pages, so the first writes (and their page
        // faults) happen in the workers too.
        let mut docs = vec![0i64; n * k_eff];
        let mut scores = vec![0f32; n * k_eff];
        let options = SearchOptions {
            algorithm,
            allow: filter.as_ref(),
        };
        // A small batch of short queries from a sole caller is analysed here, and runs with the
        // GIL held when its work is small, released otherwise (see `crate::gil`).
        let built = if n <= HOLD_GIL_BATCH
            && qs.iter().all(|q| q.input_len() <= HOLD_GIL_INPUT)
            && gil::sole_caller()
        {
            Some(
                qs.iter()
                    .map(|q| q.to_query(&index))
                    .collect::<CoreResult<Vec<Query>>>()?,
            )
        } else {
            None
        };
        if let Some(built) = built {
            let work: u64 = built.iter().map(|q| index.query_postings(q)).sum();
            let make = |q: &Query| Ok(q.clone());
            let (d_all, s_all) = (&mut docs[..], &mut scores[..]);
            let (index, built, options) = (&index, &built, &options);
            let mut run =
                move || run_rows(index, built, make, d_all, s_all, k_eff, threads, options);
            if work <= HOLD_GIL_POSTINGS {
                run()
            } else {
                py.detach(run)
            }
            .map_err(CoreError)?;
        } else {
            // The queries run in chunks, with a check for Python signals (Ctrl-C) between
            // them: one call over millions of queries must stay interruptible. A chunk doubles
            // while it takes under 50 ms, so a batch re-takes the GIL only O(log n) times.
            let (mut start, mut chunk) = (0, 64usize);
            while start < n {
                let end = (start + chunk).min(n);
                let t0 = std::time::Instant::now();
                let (d_all, s_all) = (
                    &mut docs[start * k_eff..end * k_eff],
                    &mut scores[start * k_eff..end * k_eff],
                );
                let part = &qs[start..end];
                let make = |q: &PyQuery| q.to_query(&index).map_err(|e| e.0);
                py.detach(|| run_rows(&index, part, make, d_all, s_all, k_eff, threads, &options))
                    .map_err(CoreError)?;
                start = end;
                if start < n {
                    py.check_signals()?;
                    if t0.elapsed() < std::time::Duration::from_millis(50) {
                        chunk = chunk.saturating_mul(2);
                    }
                }
            }
        }
        let docs = numpy::ndarray::Array2::from_shape_vec((n, k_eff), docs).expect("n * k values");
        let scores =
            numpy::ndarray::Array2::from_shape_vec((n, k_eff), scores).expect("n * k values");
        Ok((docs.into_pyarray(py), scores.into_pyarray(py)))
    }

    /// Terms in byte order (the union of the segments' dictionaries).
    fn vocabulary(&self, py: Python<'_>) -> CoreResult<Vec<String>> {
        let index = self.read();
        Ok(py.detach(move || index.vocabulary())?)
    }

    /// Learned weight of each vocabulary term (float32; 1 for an unweighted index).
    fn term_weights<'py>(&self, py: Python<'py>) -> CoreResult<Bound<'py, PyArray1<f32>>> {
        let index = self.read();
        let w = py.detach(move || index.term_weights())?;
        Ok(w.into_pyarray(py))
    }

    /// The documents x vocabulary term-frequency matrix as CSR arrays, built in Rust.
    fn doc_term_matrix<'py>(&self, py: Python<'py>) -> CoreResult<CsrArrays<'py>> {
        let index = self.read();
        let m = py.detach(move || index.doc_term_matrix())?;
        let narrow = m.indptr.last().copied().unwrap_or(0) <= i64::from(i32::MAX)
            && m.shape.1 <= i32::MAX as usize;
        let data: Vec<i32> = m
            .data
            .iter()
            .map(|&v| v.min(i32::MAX as u32) as i32)
            .collect();
        let (indptr, indices) = if narrow {
            let p: Vec<i32> = m.indptr.iter().map(|&x| x as i32).collect();
            let i: Vec<i32> = m.indices.iter().map(|&x| x as i32).collect();
            (p.into_pyarray(py).into_any(), i.into_pyarray(py).into_any())
        } else {
            (
                m.indptr.into_pyarray(py).into_any(),
                m.indices.into_pyarray(py).into_any(),
            )
        };
        Ok((indptr, indices, data.into_pyarray(py), m.shape))
    }

    /// A new index scored over learned term weights (see `_core.pyi`).
    #[pyo3(signature = (weights, *, scoring = "tdv-bm25", k1 = 0.9, b = 0.4))]
    fn reweight(
        &self,
        py: Python<'_>,
        weights: PyReadonlyArray1<'_, f32>,
        scoring: &str,
        k1: f32,
        b: f32,
    ) -> PyResult<Self> {
        let config = ScoringConfig::new(
            ScoringKind::from_name(scoring).map_err(CoreError)?,
            k1,
            b,
            None,
        )
        .map_err(CoreError)?;
        let w = weights.as_slice()?;
        let index = self.read();
        // The array is borrowed (no copy) while the GIL is released: the caller must not
        // mutate it during the call (documented in the stub).
        let out = py.detach(|| index.reweight(w, config)).map_err(CoreError)?;
        Ok(Self::from_index(out))
    }

    /// External ids in internal doc-number order.
    fn doc_ids(&self, py: Python<'_>) -> CoreResult<Vec<String>> {
        let index = self.read();
        py.detach(move || Ok(index.doc_ids()?))
    }

    /// External id of one internal doc number.
    fn doc_id(&self, doc: i64) -> CoreResult<String> {
        let d = u32::try_from(doc)
            .map_err(|_| Error::invalid_argument(format!("document number {doc} out of range")))?;
        Ok(self.read().doc_id(d)?)
    }

    /// Number of documents containing `term` (a term as stored, i.e. already analysed).
    fn doc_freq(&self, term: &str) -> u64 {
        self.read().doc_freq(term)
    }

    /// The content of meta.json (statistics, analyzer, scoring, segments) as a JSON string.
    fn meta_json(&self) -> String {
        serde_json::to_string(self.read().meta()).expect("meta serialises")
    }

    /// The analyzer used for text queries.
    #[getter]
    fn analyzer(&self) -> PyAnalyzer {
        PyAnalyzer {
            inner: Arc::new(self.read().analyzer().clone()),
        }
    }

    /// Directory the index was loaded from or last saved to.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.read().dir().map(PathBuf::from)
    }

    fn __len__(&self) -> usize {
        self.read().num_docs()
    }
}

/// Accumulates documents (see `_core.pyi`).
#[pyclass(name = "IndexBuilder", module = "thresher._core", frozen)]
pub struct PyIndexBuilder {
    slot: BuilderSlot<IndexBuilder, CorpusReader>,
}

fn doc_input(id: &str, obj: &Bound<'_, PyAny>) -> PyResult<DocInput> {
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_str() {
            Ok(t) => Ok(DocInput::Text(t.to_owned())),
            Err(_) => Err(PyValueError::new_err(format!(
                "document {id:?}: its text holds a lone surrogate, which UTF-8 cannot encode"
            ))),
        };
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return match std::str::from_utf8(b.as_bytes()) {
            Ok(s) => Ok(DocInput::Text(s.to_owned())),
            Err(e) => Err(PyValueError::new_err(format!(
                "document {id:?} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))),
        };
    }
    if let Ok(tokens) = obj.extract::<Vec<String>>() {
        return Ok(DocInput::Tokens(tokens));
    }
    if let Ok(list) = obj.cast::<pyo3::types::PyList>() {
        // A list that is not all str: name the term at fault.
        for (i, t) in list.iter().enumerate() {
            crate::pystr::str_of(&t, || format!("document {id:?}: term {i} of its list"))?;
        }
    }
    Err(PyTypeError::new_err(format!(
        "document {id:?}: expected str, bytes or a list of str (pre-analysed terms), not {}",
        crate::pystr::type_name(obj)
    )))
}

#[pymethods]
impl PyIndexBuilder {
    #[new]
    #[pyo3(signature = (*, analyzer = None, scoring = "lucene", k1 = 0.9, b = 0.4, delta = None, threads = None))]
    fn new(
        analyzer: Option<&PyAnalyzer>,
        scoring: &str,
        k1: f32,
        b: f32,
        delta: Option<f32>,
        threads: Option<i64>,
    ) -> PyResult<Self> {
        let threads = check_threads(threads)?;
        let config = ScoringConfig::new(
            ScoringKind::from_name(scoring).map_err(CoreError)?,
            k1,
            b,
            delta,
        )
        .map_err(CoreError)?;
        let analyzer =
            analyzer.map_or_else(thresher_core::Analyzer::default, |a| (*a.inner).clone());
        let builder = IndexBuilder::new(analyzer, config, threads).map_err(CoreError)?;
        Ok(Self {
            slot: BuilderSlot::new("IndexBuilder", builder, threads),
        })
    }

    /// Adds documents: `ids` (str) and `docs` (str, bytes or list of str), same length.
    fn add(&self, py: Python<'_>, ids: &Bound<'_, PyAny>, docs: &Bound<'_, PyAny>) -> PyResult<()> {
        let ids = crate::pystr::ids_of(ids)?;
        let docs: Vec<Bound<'_, PyAny>> = docs.try_iter()?.collect::<PyResult<_>>()?;
        if ids.len() != docs.len() {
            return Err(PyValueError::new_err(format!(
                "{} ids for {} documents",
                ids.len(),
                docs.len()
            )));
        }
        let batch: Vec<(String, DocInput)> = ids
            .into_iter()
            .zip(&docs)
            .map(|(id, d)| doc_input(&id, d).map(|d| (id, d)))
            .collect::<PyResult<_>>()?;
        py.detach(|| self.slot.with_builder(|b| b.add_batch(batch)))?
            .map_err(CoreError)?;
        Ok(())
    }

    /// Opens a JSONL(.gz) corpus or BEIR folder to be read by `add_from_corpus`.
    #[pyo3(signature = (path, fields))]
    fn open_corpus(&self, py: Python<'_>, path: PathBuf, fields: Vec<String>) -> CoreResult<u64> {
        let r = py.detach(|| CorpusReader::open(&path, &fields))?;
        let len = r.file_len();
        self.slot.open(r);
        Ok(len)
    }

    /// Reads and indexes up to `max_docs` documents of the open corpus; returns
    /// (documents added, bytes read so far). (0, _) means the corpus is exhausted.
    fn add_from_corpus(&self, py: Python<'_>, max_docs: usize) -> PyResult<(usize, u64)> {
        py.detach(|| {
            self.slot.read_batch(
                "no corpus is open (call open_corpus first)",
                |r| r.next_batch(max_docs.max(1)),
                CorpusReader::bytes_read,
                |b, docs| {
                    let batch = docs
                        .into_iter()
                        .map(|(id, t)| (id, DocInput::Text(t)))
                        .collect();
                    b.add_batch(batch)
                },
            )
        })
    }

    /// Documents added so far.
    fn __len__(&self) -> PyResult<usize> {
        self.slot.with_builder(|b| b.num_docs())
    }

    /// Finishes the index. The builder cannot be used afterwards.
    fn finish(&self, py: Python<'_>) -> PyResult<PyIndex> {
        let builder = self.slot.take()?;
        let index = py.detach(|| builder.finish()).map_err(CoreError)?;
        Ok(PyIndex::from_index(index))
    }
}

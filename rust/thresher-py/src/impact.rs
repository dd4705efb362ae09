//! `thresher._core.ImpactBuilder`: learned sparse vectors into an impact index (see `_core.pyi`).

use std::path::PathBuf;

use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use thresher_core::index::{SparseDoc, VectorReader};
use thresher_core::ImpactBuilder;

use crate::analyzer::PyAnalyzer;
use crate::builder::{check_threads, BuilderSlot};
use crate::errors::CoreError;
use crate::index::PyIndex;

/// Accumulates sparse vectors (see `_core.pyi`).
#[pyclass(name = "ImpactBuilder", module = "thresher._core", frozen)]
pub struct PyImpactBuilder {
    slot: BuilderSlot<ImpactBuilder, VectorReader>,
}

use crate::pystr::type_name;

/// One weight: a Python number, narrowed to f32 (a finite number too large for f32 is an
/// error here; NaN, infinities and negatives are left to the core's checks, which name them).
fn weight(id: &str, term: &str, obj: &Bound<'_, PyAny>) -> PyResult<f32> {
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "document {id:?}: the weight of {term:?} is a bool, not a number"
        )));
    }
    let Ok(w) = obj.extract::<f64>() else {
        if obj.is_instance_of::<pyo3::types::PyInt>() {
            // An int beyond float64's range.
            return Err(PyValueError::new_err(format!(
                "document {id:?}: the weight of {term:?} (an int of {} bits) is not representable \
                 as a 32-bit float",
                obj.call_method0("bit_length")?
            )));
        }
        return Err(PyTypeError::new_err(format!(
            "document {id:?}: the weight of {term:?} must be a number, not {}",
            type_name(obj)
        )));
    };
    thresher_core::types::narrow_weight(w).ok_or_else(|| {
        PyValueError::new_err(format!(
            "document {id:?}: the weight {w:?} of {term:?} is not representable as a 32-bit float"
        ))
    })
}

/// A vector as Python passes it: a dict `{term: weight}` or an iterable of `(term, weight)`.
fn vector(id: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, f32)>> {
    let bad = || {
        PyTypeError::new_err(format!(
            "document {id:?}: a vector must be a dict of str to float or an iterable of \
             (term, weight) pairs, not {}",
            type_name(obj)
        ))
    };
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut v = Vec::with_capacity(d.len());
        for (t, w) in d.iter() {
            let t = crate::pystr::str_of(&t, || format!("document {id:?}: a vector's term"))?;
            let w = weight(id, &t, &w)?;
            v.push((t, w));
        }
        return Ok(v);
    }
    if obj.is_instance_of::<PyString>() {
        return Err(bad());
    }
    let mut v = Vec::new();
    for item in obj.try_iter().map_err(|_| bad())? {
        let item = item?;
        let (t, w): (String, Bound<'_, PyAny>) = item.extract().map_err(|_| bad())?;
        let w = weight(id, &t, &w)?;
        v.push((t, w));
    }
    Ok(v)
}

#[pymethods]
impl PyImpactBuilder {
    #[new]
    #[pyo3(signature = (*, analyzer = None, bits = 8, scale = None, threads = None))]
    fn new(
        analyzer: Option<&PyAnalyzer>,
        #[pyo3(from_py_with = crate::pystr::bits_arg)] bits: i64,
        #[pyo3(from_py_with = crate::pystr::scale_arg)] scale: Option<f64>,
        threads: Option<i64>,
    ) -> PyResult<Self> {
        let threads = check_threads(threads)?;
        let Ok(bits) = u32::try_from(bits) else {
            return Err(PyValueError::new_err(format!(
                "bits must be an integer in [1, {}], got {bits}",
                thresher_core::ImpactQuantization::MAX_BITS
            )));
        };
        let analyzer =
            analyzer.map_or_else(thresher_core::Analyzer::default, |a| (*a.inner).clone());
        let builder = ImpactBuilder::new(analyzer, bits, scale, threads).map_err(CoreError)?;
        Ok(Self {
            slot: BuilderSlot::new("ImpactBuilder", builder, threads),
        })
    }

    /// Adds documents: `ids` (str) and `vectors` (dicts or iterables of pairs), same length.
    fn add(
        &self,
        py: Python<'_>,
        ids: &Bound<'_, PyAny>,
        vectors: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let ids = crate::pystr::ids_of(ids)?;
        let vs: Vec<Bound<'_, PyAny>> = vectors.try_iter()?.collect::<PyResult<_>>()?;
        if ids.len() != vs.len() {
            return Err(PyValueError::new_err(format!(
                "{} ids for {} vectors",
                ids.len(),
                vs.len()
            )));
        }
        let batch: Vec<SparseDoc> = ids
            .into_iter()
            .zip(&vs)
            .map(|(id, v)| vector(&id, v).map(|v| (id, v)))
            .collect::<PyResult<_>>()?;
        py.detach(|| self.slot.with_builder(|b| b.add_batch(batch)))?
            .map_err(CoreError)?;
        Ok(())
    }

    /// Adds the rows of a CSR matrix over `vocab` (arrays borrowed during the call).
    fn add_csr(
        &self,
        py: Python<'_>,
        ids: Vec<String>,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        data: PyReadonlyArray1<'_, f32>,
        vocab: Vec<String>,
    ) -> PyResult<()> {
        let (p, i, d) = (indptr.as_slice()?, indices.as_slice()?, data.as_slice()?);
        py.detach(|| self.slot.with_builder(|b| b.add_csr(ids, p, i, d, &vocab)))?
            .map_err(CoreError)?;
        Ok(())
    }

    /// Opens an Anserini JsonVectorCollection file (JSONL, plain or gzip); returns its size.
    fn open_jsonl(&self, py: Python<'_>, path: PathBuf) -> PyResult<u64> {
        let r = py.detach(|| VectorReader::open(&path)).map_err(CoreError)?;
        let len = r.progress().1;
        self.slot.open(r);
        Ok(len)
    }

    /// Reads and adds up to `max_docs` records of the open file; returns (documents added,
    /// bytes read so far). (0, _) means the file is exhausted.
    fn add_from_jsonl(&self, py: Python<'_>, max_docs: usize) -> PyResult<(usize, u64)> {
        py.detach(|| {
            self.slot.read_batch(
                "no vector file is open (call open_jsonl first)",
                |r| r.next_batch(max_docs.max(1)),
                |r| r.progress().0,
                |b, docs| b.add_batch(docs),
            )
        })
    }

    /// Documents added so far.
    fn __len__(&self) -> PyResult<usize> {
        self.slot.with_builder(|b| b.num_docs())
    }

    /// Quantises and finishes the index. The builder cannot be used afterwards.
    fn finish(&self, py: Python<'_>) -> PyResult<PyIndex> {
        let builder = self.slot.take()?;
        let index = py.detach(|| builder.finish()).map_err(CoreError)?;
        Ok(PyIndex::from_index(index))
    }
}

//! `thresher._core.Analyzer`.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;
use thresher_core::{Analyzer, AnalyzerConfig, StemmerKind};

use crate::errors::CoreError;
use crate::gil::{self, HOLD_GIL_INPUT};

/// Text -> terms. See `_core.pyi` for the Python-facing documentation.
#[pyclass(name = "Analyzer", module = "thresher._core", frozen)]
pub struct PyAnalyzer {
    pub(crate) inner: Arc<Analyzer>,
}

#[pymethods]
impl PyAnalyzer {
    #[new]
    #[pyo3(signature = (*, stemmer = "porter", stopwords = None, lowercase = true, possessive = true, max_token_length = 255))]
    fn new(
        stemmer: &str,
        stopwords: Option<&Bound<'_, PyAny>>,
        lowercase: bool,
        possessive: bool,
        #[pyo3(from_py_with = crate::pystr::max_token_length_arg)] max_token_length: i64,
    ) -> PyResult<Self> {
        let max_token_length = usize::try_from(max_token_length)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "max_token_length must be a positive integer, got {max_token_length}"
                ))
            })?;
        let mut config = AnalyzerConfig {
            lowercase,
            possessive,
            stemmer: StemmerKind::from_name(stemmer).map_err(CoreError)?,
            max_token_length,
            ..AnalyzerConfig::default()
        };
        if let Some(words) = stopwords {
            // Any iterable of str (list, tuple, set...), but not one str.
            if words.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(
                    "stopwords must be a collection of words, not a single str",
                ));
            }
            let mut list = Vec::new();
            for w in words.try_iter()? {
                let w = w?;
                let w = crate::pystr::str_of(&w, || "a stop word".to_string())?;
                // Stop words are matched after lowercasing: "Cats" must stop "cats".
                list.push(if lowercase { w.to_lowercase() } else { w });
            }
            config.stopwords = list;
        }
        Ok(Self {
            inner: Arc::new(Analyzer::new(config).map_err(CoreError)?),
        })
    }

    /// Terms of one text.
    fn tokenize(&self, py: Python<'_>, text: &str) -> Vec<String> {
        if text.len() <= HOLD_GIL_INPUT {
            return self.inner.analyze(text);
        }
        let text = text.to_owned();
        py.detach(|| self.inner.analyze(&text))
    }

    /// Terms of many texts, in parallel.
    #[pyo3(signature = (texts, threads = None))]
    fn tokenize_batch(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        threads: Option<i64>,
    ) -> PyResult<Vec<Vec<String>>> {
        use rayon::prelude::*;
        if texts.is_instance_of::<pyo3::types::PyString>() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "texts must be a sequence of str, not a single str (use tokenize for one text)",
            ));
        }
        let texts: Vec<String> = texts
            .try_iter()?
            .enumerate()
            .map(|(i, t)| crate::pystr::str_of(&t?, || format!("text {i}")))
            .collect::<PyResult<_>>()?;
        let threads = crate::builder::check_threads(threads)?;
        // Checked whatever the path below (too many threads is an error even for one text).
        thresher_core::pool::resolve_threads(threads).map_err(CoreError)?;
        let a = &self.inner;
        // Little text keeps the GIL, as `tokenize` and small searches do (`crate::gil`).
        if texts.iter().map(String::len).sum::<usize>() <= HOLD_GIL_INPUT && gil::sole_caller() {
            return Ok(texts.iter().map(|t| a.analyze(t)).collect());
        }
        let terms = py.detach(|| {
            thresher_core::pool::ThreadPools::install(threads, || {
                texts.par_iter().map(|t| a.analyze(t)).collect()
            })
        });
        Ok(terms.map_err(CoreError)?)
    }

    /// The configuration as a JSON string.
    fn config_json(&self) -> String {
        serde_json::to_string(self.inner.config()).expect("config serialises")
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Analyzer(stemmer={:?}, stopwords=<{} words>, lowercase={}, possessive={}, max_token_length={})",
            c.stemmer.name(),
            c.stopwords.len(),
            if c.lowercase { "True" } else { "False" },
            if c.possessive { "True" } else { "False" },
            c.max_token_length
        )
    }
}

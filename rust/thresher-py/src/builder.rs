//! [`BuilderSlot`]: what `IndexBuilder` and `ImpactBuilder` share - a core builder that
//! `finish` takes away (later calls fail with a clear error), the file reader that feeds it
//! in batches, and the thread count both use.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::CoreError;

/// `threads` as the Python API takes it: a positive integer or None (all cores).
pub(crate) fn check_threads(threads: Option<i64>) -> PyResult<Option<usize>> {
    match threads {
        Some(t) if t <= 0 => Err(PyValueError::new_err(format!(
            "threads must be a positive integer or None, got {t}"
        ))),
        Some(t) => Ok(Some(usize::try_from(t).unwrap_or(usize::MAX))),
        None => Ok(None),
    }
}

/// A builder `B` (until finished) and an open file reader `R`.
pub(crate) struct BuilderSlot<B, R> {
    /// The Python class name, for errors ("this IndexBuilder was already finished").
    class: &'static str,
    builder: Mutex<Option<B>>,
    reader: Mutex<Option<R>>,
    /// Threads for parsing and analysis (None: all cores).
    pub(crate) threads: Option<usize>,
}

impl<B, R> BuilderSlot<B, R> {
    pub(crate) fn new(class: &'static str, builder: B, threads: Option<usize>) -> Self {
        Self {
            class,
            builder: Mutex::new(Some(builder)),
            reader: Mutex::new(None),
            threads,
        }
    }

    fn finished(&self) -> PyErr {
        PyRuntimeError::new_err(format!("this {} was already finished", self.class))
    }

    /// `f` on the builder; an error once it was finished.
    pub(crate) fn with_builder<T>(&self, f: impl FnOnce(&mut B) -> T) -> PyResult<T> {
        let mut guard = self.builder.lock().unwrap_or_else(|e| e.into_inner());
        let b = guard.as_mut().ok_or_else(|| self.finished())?;
        Ok(f(b))
    }

    /// Makes `reader` the open file (replacing any previous one).
    pub(crate) fn open(&self, reader: R) {
        *self.reader.lock().unwrap_or_else(|e| e.into_inner()) = Some(reader);
    }

    /// Reads the open file's next batch with `next` (on the slot's threads), hands it to the
    /// builder with `add`, and returns (documents added, `bytes_read` after the batch). Call
    /// with the GIL released. `missing` is the error when no file is open.
    pub(crate) fn read_batch<D>(
        &self,
        missing: &'static str,
        next: impl FnOnce(&mut R) -> thresher_core::Result<Vec<D>> + Send,
        bytes_read: impl FnOnce(&R) -> u64,
        add: impl FnOnce(&mut B, Vec<D>) -> thresher_core::Result<()>,
    ) -> PyResult<(usize, u64)>
    where
        D: Send,
        R: Send,
    {
        let mut guard = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let reader = guard
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err(missing))?;
        let docs = thresher_core::pool::ThreadPools::install(self.threads, || next(reader))
            .and_then(|r| r)
            .map_err(CoreError)?;
        let n = docs.len();
        self.with_builder(|b| add(b, docs))?.map_err(CoreError)?;
        Ok((n, bytes_read(reader)))
    }

    /// Takes the builder out (and closes the reader); an error when already finished.
    pub(crate) fn take(&self) -> PyResult<B> {
        let builder = self
            .builder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| self.finished())?;
        *self.reader.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(builder)
    }
}

//! The Python module `thresher._core`: conversion, validation, GIL release and error mapping
//! around thresher-core. No retrieval logic lives here.
//!
//! Every heavy method follows one shape: extract Python objects into owned Rust values,
//! validate, release the GIL (`py.detach`) for the core call, convert the result back. Small
//! searches may keep the GIL (see [`gil`]).

mod analyzer;
mod builder;
mod errors;
mod gil;
mod impact;
mod index;
mod pystr;

use pyo3::prelude::*;

/// The compiled part of thresher.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", thresher_core::VERSION)?;
    m.add("FORMAT_VERSION", thresher_core::format::FORMAT_VERSION)?;
    // The instruction-set level searches run at (`THRESHER_CPU` caps it; read once).
    m.add("CPU_LEVEL", thresher_core::cpu::process_level().name())?;
    m.add("ThresherError", py.get_type::<errors::ThresherError>())?;
    m.add(
        "IndexCorruptedError",
        py.get_type::<errors::IndexCorruptedError>(),
    )?;
    m.add(
        "IncompatibleIndexError",
        py.get_type::<errors::IncompatibleIndexError>(),
    )?;
    m.add_class::<analyzer::PyAnalyzer>()?;
    m.add_class::<index::PyIndex>()?;
    m.add_class::<index::PyIndexBuilder>()?;
    m.add_class::<impact::PyImpactBuilder>()?;
    m.add("STEMMERS", thresher_core::StemmerKind::NAMES.to_vec())?;
    m.add("SCORINGS", thresher_core::ScoringKind::NAMES.to_vec())?;
    Ok(())
}

//! The Python module `thresher._core`: conversion, validation, GIL release and error mapping
//! around thresher-core. No retrieval logic lives here.

use pyo3::prelude::*;

/// The compiled part of thresher.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

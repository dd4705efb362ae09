//! Python `str` values as Rust `String`s, with errors that say what is wrong: not a `str`
//! (naming its type), or a `str` that UTF-8 cannot hold (a lone surrogate).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// The Python type name of `obj` (for error messages).
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// `obj` as a `String`; `what` names it in the error ("document \"d1\": term 3").
pub(crate) fn str_of(obj: &Bound<'_, PyAny>, what: impl FnOnce() -> String) -> PyResult<String> {
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{} must be a str, not {}",
            what(),
            type_name(obj)
        )));
    };
    s.to_str().map(str::to_owned).map_err(|_| {
        PyValueError::new_err(format!(
            "{} ({}) is not valid text: it holds a lone surrogate, which UTF-8 cannot encode",
            what(),
            s.repr().map_or_else(|_| "?".to_string(), |r| r.to_string())
        ))
    })
}

/// Document ids from a Python sequence of `str`, each checked as [`str_of`] does.
pub(crate) fn ids_of(ids: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    ids.try_iter()?
        .map(|id| str_of(&id?, || "a document id".to_string()))
        .collect()
}

/// An int argument `name`, refusing a bool (`True` would otherwise pass as 1).
pub(crate) fn int_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<i64> {
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, not bool"
        )));
    }
    obj.extract()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be an int, not {}", type_name(obj))))
}

/// An optional float argument `name` (`None` allowed), refusing a bool.
pub(crate) fn opt_float_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<f64>> {
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a number, not bool"
        )));
    }
    obj.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a number or None, not {}",
            type_name(obj)
        ))
    })
}

/// `bits` (impact quantisation), through [`int_arg`].
pub(crate) fn bits_arg(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    int_arg(obj, "bits")
}

/// `scale` (impact quantisation), through [`opt_float_arg`].
pub(crate) fn scale_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    opt_float_arg(obj, "scale")
}

/// `max_token_length` (analyzer), through [`int_arg`].
pub(crate) fn max_token_length_arg(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    int_arg(obj, "max_token_length")
}

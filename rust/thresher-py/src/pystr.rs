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

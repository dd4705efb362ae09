//! Shared scalar aliases (after PISA's `type_alias.hpp`).

/// Dense internal document number inside an index (0-based, assigned in insertion order).
pub type DocId = u32;
/// Dense term number inside one segment's vocabulary (the rank of the term in byte order).
pub type TermId = u32;
/// A retrieval score.
pub type Score = f32;

/// A weight given as `f64` (JSON, Python) narrowed to `f32`, or `None` when `f32` cannot hold
/// it: a finite weight that overflows to infinity, or a positive one that rounds to 0 (its
/// term would silently vanish). NaN and infinities pass through, for the callers' own checks,
/// which name them.
pub fn narrow_weight(w: f64) -> Option<f32> {
    let x = w as f32;
    let lost = (w.is_finite() && !x.is_finite()) || (w > 0.0 && x == 0.0);
    (!lost).then_some(x)
}

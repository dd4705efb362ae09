//! Shared scalar aliases (after PISA's `type_alias.hpp`).

/// Dense internal document number inside an index (0-based, assigned in insertion order).
pub type DocId = u32;
/// Dense term number inside one segment's vocabulary (the rank of the term in byte order).
pub type TermId = u32;
/// A retrieval score.
pub type Score = f32;

//! [`DocFilter`]: the set of documents a search may return (`allow=` in Python).
//!
//! Algorithms test candidates against it before scoring them or offering them to the
//! [`crate::query::TopK`], so the `k` results come from the allowed set whenever `k` allowed
//! documents match; pruning stays exact because bounds only ever compare against scores of
//! allowed documents.

use crate::error::{Error, Result};
use crate::types::DocId;

/// A set of global doc ids, as a bitmap over the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocFilter {
    bits: Vec<u64>,
    num_docs: usize,
}

impl DocFilter {
    /// The documents whose `mask` entry is true; `mask.len()` must equal the index's size.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the length differs from `num_docs`.
    pub fn from_mask(mask: &[bool], num_docs: usize) -> Result<Self> {
        if mask.len() != num_docs {
            return Err(Error::invalid_argument(format!(
                "the allow mask has {} entries but the index has {num_docs} documents",
                mask.len()
            )));
        }
        let mut bits = vec![0u64; num_docs.div_ceil(64)];
        for (w, chunk) in bits.iter_mut().zip(mask.chunks(64)) {
            for (i, &m) in chunk.iter().enumerate() {
                *w |= u64::from(m) << i;
            }
        }
        Ok(Self { bits, num_docs })
    }

    /// The listed documents (repeats allowed).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first number outside `0..num_docs`.
    pub fn from_docs(docs: &[u64], num_docs: usize) -> Result<Self> {
        let mut bits = vec![0u64; num_docs.div_ceil(64)];
        for &d in docs {
            if d >= num_docs as u64 {
                return Err(Error::invalid_argument(format!(
                    "document number {d} in allow is out of range (the index has {num_docs} documents)"
                )));
            }
            bits[(d / 64) as usize] |= 1 << (d % 64);
        }
        Ok(Self { bits, num_docs })
    }

    /// The 64 bits of documents `start .. start + 64` (bit `i` = document `start + i`; 0
    /// past the end).
    #[inline(always)]
    pub(crate) fn word_at(&self, start: usize) -> u64 {
        let (w, shift) = (start / 64, start % 64);
        let lo = self.bits.get(w).copied().unwrap_or(0) >> shift;
        if shift == 0 {
            lo
        } else {
            lo | self.bits.get(w + 1).copied().unwrap_or(0) << (64 - shift)
        }
    }

    /// True when `doc` is allowed.
    #[inline(always)]
    pub fn contains(&self, doc: DocId) -> bool {
        self.bits
            .get((doc / 64) as usize)
            .is_some_and(|w| w >> (doc % 64) & 1 == 1)
    }

    /// Number of allowed documents.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// Size of the index the filter was made for.
    pub fn num_docs(&self) -> usize {
        self.num_docs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_and_list_agree() {
        let mask: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
        let docs: Vec<u64> = (0..200).filter(|i| i % 3 == 0).collect();
        let a = DocFilter::from_mask(&mask, 200).unwrap();
        let b = DocFilter::from_docs(&docs, 200).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 67);
        assert!(a.contains(0) && !a.contains(1) && a.contains(198) && !a.contains(5000));
        assert!(DocFilter::from_mask(&mask, 201).is_err());
        assert!(DocFilter::from_docs(&[200], 200).is_err());
    }

    #[test]
    fn word_at_is_the_mask_from_any_document() {
        let mask: Vec<bool> = (0..200).map(|i| i % 3 == 0 || i % 7 == 0).collect();
        let f = DocFilter::from_mask(&mask, 200).unwrap();
        for start in 0..220 {
            let want = (0..64)
                .filter(|i| mask.get(start + i).copied().unwrap_or(false))
                .fold(0u64, |w, i| w | 1 << i);
            assert_eq!(f.word_at(start), want, "start {start}");
        }
    }
}

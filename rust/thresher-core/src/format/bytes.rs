//! [`Bytes`]: a cheaply clonable, immutable byte buffer backed by a memory map or by an
//! 8-byte-aligned heap allocation.
//!
//! Invariant: the start of the backing buffer is 8-byte aligned (page-aligned for a map), so a
//! payload at an 8-aligned offset can be viewed as `&[u32]`/`&[u64]`/`&[f32]` in place.

use std::sync::Arc;

use crate::error::{Error, Result};

enum Backing {
    Mmap(memmap2::Mmap),
    Heap { words: Vec<u64>, len: usize },
}

impl Backing {
    fn as_slice(&self) -> &[u8] {
        match self {
            Backing::Mmap(m) => m,
            Backing::Heap { words, len } => &bytemuck::cast_slice(words)[..*len],
        }
    }
}

/// An immutable byte range over shared storage.
#[derive(Clone)]
pub struct Bytes {
    backing: Arc<Backing>,
    start: usize,
    len: usize,
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.backing {
            Backing::Mmap(_) => "mmap",
            Backing::Heap { .. } => "heap",
        };
        write!(
            f,
            "Bytes({kind}, {}..{})",
            self.start,
            self.start + self.len
        )
    }
}

impl Bytes {
    /// Copies `data` into a new aligned heap buffer.
    pub fn from_vec(data: Vec<u8>) -> Self {
        let len = data.len();
        let mut words = vec![0u64; len.div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..len].copy_from_slice(&data);
        Self {
            backing: Arc::new(Backing::Heap { words, len }),
            start: 0,
            len,
        }
    }

    /// Wraps an aligned word buffer of which the first `len` bytes are used.
    pub(crate) fn from_words(words: Vec<u64>, len: usize) -> Self {
        debug_assert!(len <= words.len() * 8);
        Self {
            backing: Arc::new(Backing::Heap { words, len }),
            start: 0,
            len,
        }
    }

    /// Maps a file read-only.
    pub(crate) fn from_mmap(map: memmap2::Mmap) -> Self {
        let len = map.len();
        Self {
            backing: Arc::new(Backing::Mmap(map)),
            start: 0,
            len,
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.backing.as_slice()[self.start..self.start + self.len]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when backed by a memory map.
    pub fn is_mmap(&self) -> bool {
        matches!(*self.backing, Backing::Mmap(_))
    }

    /// A sub-range sharing the same storage. `None` when out of bounds.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Option<Bytes> {
        if range.start > range.end || range.end > self.len {
            return None;
        }
        Some(Bytes {
            backing: self.backing.clone(),
            start: self.start + range.start,
            len: range.len(),
        })
    }
}

/// Views `bytes[range]` as a slice of `T`, checking bounds and alignment.
///
/// # Errors
/// [`Error::Corrupted`] naming `what` when the range is out of bounds or misaligned.
pub(crate) fn cast<'a, T: bytemuck::Pod>(
    bytes: &'a [u8],
    range: std::ops::Range<usize>,
    path: &std::path::Path,
    what: &str,
) -> Result<&'a [T]> {
    let sub = bytes.get(range.clone()).ok_or_else(|| {
        Error::corrupted(path, format!("{what} ({range:?}) lies outside the file"))
    })?;
    bytemuck::try_cast_slice(sub)
        .map_err(|e| Error::corrupted(path, format!("{what} is misaligned or ragged: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_bytes_are_aligned_and_sliceable() {
        let b = Bytes::from_vec((0u8..20).collect());
        assert_eq!(b.len(), 20);
        assert_eq!(b.as_slice().as_ptr() as usize % 8, 0);
        let s = b.slice(8..16).unwrap();
        assert_eq!(s.as_slice(), &[8, 9, 10, 11, 12, 13, 14, 15]);
        assert!(b.slice(10..21).is_none());
        let v: &[u32] = cast(b.as_slice(), 0..8, std::path::Path::new("x"), "t").unwrap();
        assert_eq!(v.len(), 2);
        assert!(cast::<u32>(b.as_slice(), 1..5, std::path::Path::new("x"), "t").is_err());
        assert!(cast::<u32>(b.as_slice(), 16..24, std::path::Path::new("x"), "t").is_err());
    }
}

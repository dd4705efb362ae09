//! The on-disk container shared by every binary component of an index.
//!
//! Layout of one file (all integers little-endian):
//!
//! ```text
//! offset 0   magic  b"THRESHER"                      8 bytes
//! offset 8   format_version u32                      (FORMAT_VERSION when written)
//! offset 12  component u32                           (Component as u32)
//! offset 16  zero padding up to 64                   so payload arrays are 64-byte aligned
//! offset 64  payload                                 payload_len bytes
//! end - 16   payload_len u64 | crc32 u32 | FOOTER_MAGIC u32
//! ```
//!
//! The CRC32 covers header and payload. Readers check magic, version range, component kind,
//! length and footer cheaply on open, and the CRC when asked to verify (the default).
//! Payloads are read through [`Bytes`], which is either a memory map or an 8-byte-aligned heap
//! buffer, so in-memory and mmap indexes go through one code path.

mod bytes;
mod file;

pub(crate) use bytes::cast as bytes_cast;
pub use bytes::Bytes;
pub(crate) use file::component_checksum;
pub use file::{
    lock_dir, read_component, write_atomic, write_component, Component, DirLock, PayloadWriter,
    LOCK_FILE,
};

/// Current on-disk format version. Bump on any layout change (with a CHANGELOG line and a
/// compatibility fixture). 5: impact indexes (`meta.json` scoring `impact` with its
/// quantisation; segment layout unchanged, so version 4 files are still read). 6: external ids
/// front-coded in blocks of 16 (`index::ids`); version 4 and 5 segments (flat ids) are still read.
pub const FORMAT_VERSION: u32 = 6;
/// Oldest format version this build still reads.
pub const OLDEST_SUPPORTED_FORMAT_VERSION: u32 = 4;
/// First eight bytes of every component file.
pub const MAGIC: [u8; 8] = *b"THRESHER";
/// Last four bytes of every component file ("THRF" little-endian).
pub const FOOTER_MAGIC: u32 = u32::from_le_bytes(*b"THRF");
/// Size of the header; the payload starts here.
pub const HEADER_LEN: usize = 64;
/// Size of the footer.
pub const FOOTER_LEN: usize = 16;

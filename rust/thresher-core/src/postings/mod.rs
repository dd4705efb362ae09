//! Posting lists: how one term's (doc id, value) pairs are stored, read and walked.
//!
//! A posting's *value* is a generic `u32` >= 1: the term frequency for BM25-family indexes,
//! a quantised impact for impact indexes. Its *length key* is the document's norm byte or
//! length (see [`crate::score::LengthKey`]).
//!
//! Layout of one term's postings (`df` postings, `nblocks = ceil(df / 128)` blocks; all
//! integers little-endian, varints LEB128):
//!
//! ```text
//! nblocks == 1:   block
//! nblocks >= 2:   term frontier
//!                 | skip table: nblocks x (last doc u32, block end u32, frontier end u32)
//!                 | block frontiers | blocks
//! block:          widths varint (doc bits + 33 x value bits) | doc gaps - 1 | values - 1
//! ```
//!
//! Blocks hold 128 postings except the last, which holds the rest. A full block's doc gaps
//! (relative to the previous block's last doc; the first block's first doc is stored as is)
//! and values are bit-packed with SIMD (`bitpacking`'s `BitPacker4x`, 16 x bits bytes each);
//! a shorter last block is bit-packed LSB-first into `ceil(n x bits / 8)` bytes. The *block
//! end* is the block's end offset relative to the first block, so block `i` spans
//! `[end(i - 1), end(i))`; likewise the *frontier end* within the block frontiers, which are
//! kept together ahead of the blocks so that walking block bounds (block-max algorithms look
//! at many blocks they never decode) reads a small dense area instead of touching every block. A *frontier* ([`codec::frontier`]) is the Pareto set of the block's
//! (value, length key) pairs: every posting is dominated by one of them, so the largest
//! [`crate::score::TermScorer::bound`] over the frontier is a true upper bound of the block's
//! scores for any query weight and collection statistics. A single-block term stores no
//! frontier: its bound is computed from the decoded block itself.

pub mod codec;
pub mod cursor;
pub mod list;
pub mod writer;

pub use codec::BLOCK_LEN;
pub use cursor::{
    BlockMaxCursor, MaxScoreCursor, PostingCursor, ScoredCursor, SeekCursor, TermCursor, END,
};
pub use list::PostingList;
pub use writer::encode_postings;

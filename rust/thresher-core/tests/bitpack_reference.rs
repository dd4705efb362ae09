//! The SIMD bit-packing kernel against an independent scalar reference.
//!
//! Postings are packed with the `bitpacking` crate's `BitPacker4x`, which picks SSE3 (x86-64),
//! NEON (aarch64) or its scalar kernel at run time (and a simple scalar implementation in debug
//! builds). This test re-implements the `BitPacker4x` block layout from its definition — 128
//! integers as 4 interleaved lanes (integer `i` in lane `i % 4`), each lane's 32 values packed
//! LSB-first into `num_bits` 32-bit words, the lanes' words interleaved word by word — and checks
//! that whatever kernel this machine and build use produces exactly those bytes and decodes them
//! back, for every bit width. `make test` runs it in release (SIMD kernel); `cargo test` in debug
//! exercises the crate's simple scalar kernel against the same reference.

use bitpacking::{BitPacker, BitPacker4x};
use proptest::prelude::*;

const BLOCK: usize = 128;

/// Reference encoder of the BitPacker4x layout, written from its definition.
fn reference_pack(values: &[u32; BLOCK], bits: u8) -> Vec<u8> {
    let bits = bits as usize;
    if bits == 0 {
        return Vec::new();
    }
    let mut words = vec![0u32; 4 * bits];
    for lane in 0..4 {
        for pos in 0..32 {
            let v = u64::from(values[pos * 4 + lane]);
            let bit = pos * bits;
            let (w, off) = (bit / 32, bit % 32);
            let lo = (v << off) as u32;
            words[w * 4 + lane] |= lo;
            if off + bits > 32 {
                words[(w + 1) * 4 + lane] |= (v >> (32 - off)) as u32;
            }
        }
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn mask(bits: u8) -> u32 {
    if bits == 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

proptest! {
    #[test]
    fn kernel_matches_reference_layout(raw in proptest::collection::vec(any::<u32>(), BLOCK), bits in 0u8..=32) {
        let mut values = [0u32; BLOCK];
        for (v, r) in values.iter_mut().zip(&raw) {
            *v = r & mask(bits);
        }
        let packer = BitPacker4x::new();
        let mut packed = vec![0u8; BitPacker4x::compressed_block_size(bits)];
        let n = packer.compress(&values, &mut packed, bits);
        prop_assert_eq!(n, 16 * bits as usize);
        prop_assert_eq!(&packed[..n], &reference_pack(&values, bits)[..]);
        let mut back = [0u32; BLOCK];
        packer.decompress(&packed, &mut back, bits);
        prop_assert_eq!(back, values);
    }

    #[test]
    fn sorted_kernel_packs_the_deltas(start in 0u32..1_000_000, gaps in proptest::collection::vec(0u32..70_000, BLOCK)) {
        let mut docs = [0u32; BLOCK];
        let mut deltas = [0u32; BLOCK];
        let mut prev = start;
        for i in 0..BLOCK {
            docs[i] = prev + gaps[i];
            deltas[i] = gaps[i];
            prev = docs[i];
        }
        let packer = BitPacker4x::new();
        let bits = packer.num_bits_sorted(start, &docs);
        let mut packed = vec![0u8; BitPacker4x::compressed_block_size(bits)];
        let n = packer.compress_sorted(start, &docs, &mut packed, bits);
        prop_assert_eq!(&packed[..n], &reference_pack(&deltas, bits)[..]);
        let mut back = [0u32; BLOCK];
        packer.decompress_sorted(start, &packed, &mut back, bits);
        prop_assert_eq!(back, docs);
    }
}

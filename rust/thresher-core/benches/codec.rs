//! Block decoding speed.
//!
//! What is measured: decoding 128-posting blocks of a posting list — doc ids (SIMD bit-unpacking
//! of gaps plus prefix sum, `BitPacker4x` through `PostingList::decode_docs` with its damage
//! checks) and values (term frequencies) — reported as integers per second (criterion's
//! "elem/s"; divide by 1e9 for G ints/s). Also the raw `bitpacking` kernel alone, and the
//! scalar tail decoder.
//!
//! Corpus model: one posting list of 128 x 4096 postings whose gaps are geometric with mean 8
//! (about 4-5 bits per gap after packing) and term frequencies 1 + geometric(0.3), the shape
//! of a mid-frequency term.
//!
//! How to run: `cargo bench -p thresher-core --bench codec` (add `-- --quick` for a fast pass).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use thresher_core::postings::codec::{pack_docs_tail, unpack_docs_tail};
use thresher_core::postings::{encode_postings, PostingList, BLOCK_LEN};

mod common;

fn list(blocks: usize) -> (Vec<u32>, Vec<u32>) {
    let mut rng = common::Rng::new(7);
    let mut d = 0u32;
    let mut docs = Vec::new();
    let mut vals = Vec::new();
    for _ in 0..blocks * BLOCK_LEN {
        // geometric gaps, mean ~8
        let mut g = 1;
        while rng.unit() > 0.125 {
            g += 1;
        }
        d += g;
        docs.push(d);
        let mut v = 1;
        while rng.unit() < 0.3 {
            v += 1;
        }
        vals.push(v);
    }
    (docs, vals)
}

fn decode(c: &mut Criterion) {
    let blocks = 4096;
    let (docs, vals) = list(blocks);
    let num_docs = docs.last().unwrap() + 1;
    let keys = vec![1u32; num_docs as usize];
    let mut bytes = Vec::new();
    encode_postings(&docs, &vals, &keys, &mut bytes).unwrap();
    let list = PostingList::new(&bytes, docs.len() as u32).unwrap();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(docs.len() as u64));
    g.bench_function("docs", |b| {
        let mut out = [0u32; BLOCK_LEN];
        b.iter(|| {
            let mut sum = 0u32;
            for i in 0..list.num_blocks() {
                let (n, _) = list.decode_docs(i, num_docs, &mut out).unwrap();
                sum = sum.wrapping_add(out[n - 1]);
            }
            black_box(sum)
        })
    });
    g.bench_function("docs+values", |b| {
        let mut out = [0u32; BLOCK_LEN];
        let mut v = [0u32; BLOCK_LEN];
        b.iter(|| {
            let mut sum = 0u32;
            for i in 0..list.num_blocks() {
                let (n, packed) = list.decode_docs(i, num_docs, &mut out).unwrap();
                packed.decode(&mut v).unwrap();
                sum = sum.wrapping_add(out[n - 1]).wrapping_add(v[0]);
            }
            black_box(sum)
        })
    });
    g.bench_function("bitpacking kernel (docs)", |b| {
        use bitpacking::{BitPacker, BitPacker4x};
        let p = BitPacker4x::new();
        let mut packed = Vec::new();
        let mut widths = Vec::new();
        for (i, chunk) in docs.chunks(BLOCK_LEN).enumerate() {
            let prev = (i > 0).then(|| docs[i * BLOCK_LEN - 1]);
            let w = p.num_bits_strictly_sorted(prev, chunk);
            let at = packed.len();
            packed.resize(at + BitPacker4x::compressed_block_size(w), 0);
            p.compress_strictly_sorted(prev, chunk, &mut packed[at..], w);
            widths.push((at, w, prev));
        }
        let mut out = [0u32; BLOCK_LEN];
        b.iter(|| {
            let mut sum = 0u32;
            for &(at, w, prev) in &widths {
                p.decompress_strictly_sorted(prev, &packed[at..], &mut out, w);
                sum = sum.wrapping_add(out[BLOCK_LEN - 1]);
            }
            black_box(sum)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode tail");
    let tail = &docs[..100];
    let mut packed = Vec::new();
    let bits = pack_docs_tail(tail, None, &mut packed);
    g.throughput(Throughput::Elements(tail.len() as u64));
    g.bench_function("scalar tail (100 docs)", |b| {
        let mut out = [0u32; 100];
        b.iter(|| {
            unpack_docs_tail(black_box(&packed), bits, None, &mut out).unwrap();
            black_box(out[99])
        })
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

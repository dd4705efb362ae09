//! Fixed cost of one search: the Rust side of `benches/ffi_overhead.py`.
//!
//! What is measured: `Index::search` of a one-term query (text, so analysis is included) for
//! k = 10 against a tiny index, i.e. everything a query costs besides scoring postings: analysis,
//! dictionary lookup, scorer setup, cursor/accumulator setup, the top-k heap. The Python twin
//! times `thresher.Index.search` and `_core.Index.search` on the same index and query; the
//! difference is the FFI and wrapper overhead.
//!
//! Corpus model: 100 documents "doc<i> common word<i % 7>", Lucene BM25; the query is the
//! one-document term "doc7", so postings cost nothing and the fixed cost shows.
//!
//! How to run: `cargo bench -p thresher-core --bench search`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use thresher_core::{Analyzer, DocInput, IndexBuilder, QueryInput, ScoringConfig};

fn tiny_index() -> thresher_core::Index {
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    b.add_batch(
        (0..100)
            .map(|i| {
                (
                    format!("d{i}"),
                    DocInput::Text(format!("doc{i} common word{}", i % 7)),
                )
            })
            .collect(),
    )
    .unwrap();
    b.finish().unwrap()
}

fn search(c: &mut Criterion) {
    let index = tiny_index();
    c.bench_function("search/1-term text query/tiny index/k=10", |b| {
        b.iter(|| {
            let q = index.query(QueryInput::Text(black_box("doc7"))).unwrap();
            black_box(index.search(&q, 10).unwrap())
        })
    });
    let q = index.query(QueryInput::Text("doc7")).unwrap();
    c.bench_function("search/1-term parsed query/tiny index/k=10", |b| {
        b.iter(|| black_box(index.search(black_box(&q), 10).unwrap()))
    });
}

criterion_group!(benches, search);
criterion_main!(benches);

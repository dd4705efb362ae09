//! Top-k algorithms on a synthetic collection.
//!
//! What is measured: the time to answer a fixed set of queries (all of them, one after the
//! other, single thread) with each algorithm (exhaustive, block-max MaxScore, block-max WAND,
//! auto) at k = 10 and k = 1000, through `Index::search_with` (query terms already analysed;
//! dictionary lookups, scoring and the top-k heap included). Throughput is in queries.
//!
//! Corpus model: the anchors' synthetic Zipf collection (`benches/common`): tokens `w<rank>`
//! from Zipf(1.0) over 500k words, Poisson(60) lengths, queries of 2..=6 terms from the same
//! law; `THRESHER_BENCH_DOCS` documents (default 100,000; the README figures use 1,000,000 via
//! `examples/qps.rs`), 200 queries, Lucene BM25 (k1 = 0.9, b = 0.4), one in-memory segment.
//!
//! How to run: `cargo bench -p thresher-core --bench topk` (building the collection takes a
//! few seconds per 100k documents; add `-- --quick` for a fast pass).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thresher_core::{Algorithm, QueryInput, SearchOptions};

mod common;

fn topk(c: &mut Criterion) {
    let docs = std::env::var("THRESHER_BENCH_DOCS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(100_000);
    let syn = common::Synthetic::anchors(docs);
    let index = syn.build(None);
    let queries: Vec<_> = syn
        .queries(200)
        .iter()
        .map(|q| index.query(QueryInput::Tokens(q)).unwrap())
        .collect();
    for k in [10usize, 1000] {
        let mut g = c.benchmark_group(format!("topk/{docs} docs/k={k}"));
        g.throughput(Throughput::Elements(queries.len() as u64));
        g.sample_size(10);
        for algorithm in [
            Algorithm::Exhaustive,
            Algorithm::MaxScore,
            Algorithm::Bmw,
            Algorithm::Auto,
        ] {
            let options = SearchOptions {
                algorithm,
                allow: None,
            };
            g.bench_function(algorithm.name(), |b| {
                b.iter(|| {
                    for q in &queries {
                        black_box(index.search_with(q, k, &options).unwrap());
                    }
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, topk);
criterion_main!(benches);

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
//! Two of those pieces alone, as they weigh on small collections with long queries: building a
//! `Query` from a 16-word English text (analysis, sort, merge), and dictionary lookups in a
//! 30,000-term dictionary (300 documents of 100 distinct terms; 10 present terms and 2 absent
//! ones per iteration).
//!
//! How to run: `cargo bench -p thresher-core --bench search`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use thresher_core::{Analyzer, DocInput, IndexBuilder, QueryInput, ScoringConfig};

/// An index of `docs` (id, text), Lucene BM25, one thread.
fn index_of(docs: impl Iterator<Item = (String, String)>) -> thresher_core::Index {
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    b.add_batch(docs.map(|(id, text)| (id, DocInput::Text(text))).collect())
        .unwrap();
    b.finish().unwrap()
}

fn tiny_index() -> thresher_core::Index {
    index_of((0..100).map(|i| (format!("d{i}"), format!("doc{i} common word{}", i % 7))))
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

/// 300 documents of 100 distinct terms each: a 30,000-term dictionary.
fn wide_index() -> thresher_core::Index {
    index_of((0..300).map(|i| {
        let text: Vec<String> = (0..100).map(|j| format!("t{:05}", i * 100 + j)).collect();
        (format!("d{i}"), text.join(" "))
    }))
}

fn fixed_costs(c: &mut Criterion) {
    let index = tiny_index();
    let text = "what are the effects of the boundary layer on heat transfer in supersonic flow \
                over swept wings";
    c.bench_function("query/16-word text -> Query", |b| {
        b.iter(|| black_box(index.query(QueryInput::Text(black_box(text))).unwrap()))
    });
    let wide = wide_index();
    let seg = &wide.segment_views()[0].segment;
    let terms: Vec<String> = [
        7, 2_345, 9_999, 10_000, 15_151, 20_202, 24_680, 27_000, 29_998, 123,
    ]
    .iter()
    .map(|i| format!("t{i:05}"))
    .chain(["t99999".to_string(), "s12345".to_string()])
    .collect();
    assert_eq!(terms.iter().filter(|t| seg.lookup(t).is_some()).count(), 10);
    c.bench_function("lookup/30k-term dictionary/12 terms (2 absent)", |b| {
        b.iter(|| {
            for t in &terms {
                black_box(seg.lookup(black_box(t)));
            }
        })
    });
}

criterion_group!(benches, search, fixed_costs);
criterion_main!(benches);

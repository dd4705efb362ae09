//! Batch search: every query's row equals its single search, on one thread and in a pool, and
//! bad inputs fail cleanly.

use thresher_core::{
    Analyzer, DocInput, Error, Index, IndexBuilder, Query, QueryInput, ScoringConfig, SearchOptions,
};

fn index() -> Index {
    let words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"];
    let docs: Vec<(String, DocInput)> = (0..300usize)
        .map(|i| {
            let terms: Vec<String> = (0..1 + i % 9)
                .map(|j| words[(i * 7 + j * j * 3) % words.len()].to_string())
                .collect();
            (format!("d{i}"), DocInput::Tokens(terms))
        })
        .collect();
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    b.add_batch(docs).unwrap();
    b.finish().unwrap()
}

fn texts() -> Vec<String> {
    [
        "alpha beta",
        "gamma",
        "omega sigma kappa delta",
        "nothing matches",
        "",
        "beta beta alpha",
    ]
    .iter()
    .cycle()
    .take(60)
    .map(|s| s.to_string())
    .collect()
}

type Row = Vec<(u32, f32)>;
type Job = (String, Row);

fn jobs(texts: &[String]) -> Vec<Job> {
    texts.iter().map(|t| (t.clone(), Vec::new())).collect()
}

fn run_into(index: &Index, texts: &[String], k: usize, threads: Option<usize>) -> Vec<Row> {
    let mut jobs = jobs(texts);
    index
        .search_batch_into(
            &mut jobs,
            |j: &Job| index.query(QueryInput::Text(&j.0)),
            |j: &mut Job, hits: &[(u32, f32)]| j.1.extend_from_slice(hits),
            k,
            threads,
            &SearchOptions::default(),
        )
        .unwrap();
    jobs.into_iter().map(|j| j.1).collect()
}

#[test]
fn rows_equal_single_searches_on_one_thread_and_two() {
    let index = index();
    let texts = texts();
    for k in [1, 10, 1000] {
        let want: Vec<Row> = texts
            .iter()
            .map(|t| {
                let q: Query = index.query(QueryInput::Text(t)).unwrap();
                index.search(&q, k).unwrap()
            })
            .collect();
        assert!(want.iter().any(|r| !r.is_empty()));
        assert!(want.iter().any(|r| r.is_empty()));
        for threads in [Some(1), Some(2)] {
            let got = run_into(&index, &texts, k, threads);
            let bits = |rows: &[Row]| -> Vec<Vec<(u32, u32)>> {
                rows.iter()
                    .map(|r| r.iter().map(|&(d, s)| (d, s.to_bits())).collect())
                    .collect()
            };
            assert_eq!(bits(&got), bits(&want), "k={k} threads={threads:?}");
            // The batch API over ready-made queries shares the same dispatch.
            let queries: Vec<Query> = texts
                .iter()
                .map(|t| index.query(QueryInput::Text(t)).unwrap())
                .collect();
            let ready = index.search_batch(&queries, k, threads).unwrap();
            assert_eq!(bits(&ready), bits(&want), "k={k} threads={threads:?}");
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let index = index();
    let texts = texts();
    let opts = SearchOptions::default();
    let make = |j: &Job| index.query(QueryInput::Text(&j.0));
    let write = |j: &mut Job, hits: &[(u32, f32)]| j.1.extend_from_slice(hits);
    let mut all = jobs(&texts);
    // k = 0 and zero threads.
    for (k, threads) in [(0, Some(2)), (10, Some(0))] {
        let e = index
            .search_batch_into(&mut all, make, write, k, threads, &opts)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    }
    // An error of `make` reaches the caller, on one thread and in the pool.
    for threads in [Some(1), Some(2)] {
        let failing = |j: &Job| {
            if j.0.is_empty() {
                Err(Error::invalid_argument("empty"))
            } else {
                index.query(QueryInput::Text(&j.0))
            }
        };
        let e = index
            .search_batch_into(&mut all, failing, write, 10, threads, &opts)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    }
}

/// `query_postings` is the sum of the query terms' document frequencies over every segment
/// (unknown terms count 0, a repeated term once).
#[test]
fn query_postings_sums_document_frequencies_over_segments() {
    let mut idx = index();
    let mut other =
        IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    other
        .add_batch(vec![
            ("x1".to_string(), DocInput::Text("alpha zeta".to_string())),
            ("x2".to_string(), DocInput::Text("alpha alpha".to_string())),
        ])
        .unwrap();
    idx.append(other.finish().unwrap()).unwrap();
    assert_eq!(idx.segment_views().len(), 2);
    for text in [
        "alpha beta",
        "alpha alpha zeta",
        "nothing matches",
        "",
        "omega sigma",
    ] {
        let q = idx.query(QueryInput::Text(text)).unwrap();
        let want: u64 = q.terms().map(|(t, _)| idx.doc_freq(t)).sum();
        assert_eq!(idx.query_postings(&q), want, "{text}");
    }
    let q = idx.query(QueryInput::Text("alpha zeta")).unwrap();
    assert!(idx.doc_freq("alpha") > 2 && idx.doc_freq("zeta") == 1);
    assert_eq!(idx.query_postings(&q), idx.doc_freq("alpha") + 1);
}

//! Every released on-disk format stays readable: each `tests/data/v<N>/index` fixture opens
//! (memory-mapped or not, verified) and answers its recorded queries with the recorded hits,
//! bit for bit (tantivy's `compat_tests_data`). `expected.json` beside each index holds, per
//! query, the top-10 as `[doc, score bits]` pairs. From version 5 on, `tests/data/v<N>/impact`
//! holds an impact index (learned sparse vectors, 8-bit) with its own `expected.json`, answered
//! for weighted queries the same way.
//!
//! The fixture of the current version is written by
//! `THRESHER_WRITE_FIXTURE=1 cargo test -p thresher-core --test compat -- --ignored`; a format
//! change must bump `FORMAT_VERSION` and add a new directory, never rewrite an old one.

use std::path::{Path, PathBuf};

use thresher_core::format::FORMAT_VERSION;
use thresher_core::{
    Algorithm, Analyzer, DocInput, ImpactBuilder, Index, IndexBuilder, LoadOptions, QueryInput,
    ScoringConfig, SearchOptions,
};

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::Exhaustive,
    Algorithm::MaxScore,
    Algorithm::Bmw,
    Algorithm::Auto,
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A small corpus with a few terms frequent enough for multi-block lists (skips, frontiers).
fn corpus() -> Vec<(String, DocInput)> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..700)
        .map(|i| {
            let len = 1 + next() % 30;
            let words = (0..len)
                .map(|_| {
                    // Roughly Zipfian over 60 words: w0 is in most documents.
                    let r = (next() % 1000) as f64 / 1000.0;
                    format!("w{}", (60f64.powf(r * r) as u64).clamp(1, 60) - 1)
                })
                .collect();
            (format!("doc-{i}"), DocInput::Tokens(words))
        })
        .collect()
}

/// Sparse vectors over the same kind of skewed vocabulary, with real weights (quantised to 8
/// bits by the builder, scale from the largest weight).
fn impact_corpus() -> Vec<(String, Vec<(String, f32)>)> {
    corpus()
        .into_iter()
        .enumerate()
        .map(|(i, (id, doc))| {
            let DocInput::Tokens(words) = doc else {
                unreachable!()
            };
            let mut v: Vec<(String, f32)> = Vec::new();
            for (j, w) in words.into_iter().enumerate() {
                let x = ((i * 31 + j * 17) % 97) as f32 / 7.0 + 0.01;
                match v.iter_mut().find(|p| p.0 == w) {
                    Some(p) => p.1 += x,
                    None => v.push((w, x)),
                }
            }
            (id, v)
        })
        .collect()
}

fn build_impact() -> Index {
    let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
    b.add_batch(impact_corpus()).unwrap();
    b.finish().unwrap()
}

/// Top-10 of weighted versions of [`queries`] (weights 0.5, 1, 1.5, ... by position).
fn impact_top10(index: &Index, algorithm: Algorithm) -> Vec<Vec<(u32, u32)>> {
    let options = SearchOptions {
        algorithm,
        allow: None,
    };
    queries()
        .iter()
        .map(|q| {
            let w: Vec<(String, f32)> = q
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), 0.5 * (i + 1) as f32))
                .collect();
            let q = index.query(QueryInput::Weighted(&w)).unwrap();
            index
                .search_with(&q, 10, &options)
                .unwrap()
                .into_iter()
                .map(|(d, s)| (d, s.to_bits()))
                .collect()
        })
        .collect()
}

fn queries() -> Vec<Vec<String>> {
    [
        &["w0"][..],
        &["w1", "w2"],
        &["w0", "w1", "w3", "w3"],
        &["w7", "w12", "w30", "w59", "nope"],
        &["w2", "w5", "w0", "w9", "w4", "w11"],
    ]
    .iter()
    .map(|q| q.iter().map(|s| s.to_string()).collect())
    .collect()
}

fn top10(index: &Index, algorithm: Algorithm) -> Vec<Vec<(u32, u32)>> {
    let options = SearchOptions {
        algorithm,
        allow: None,
    };
    queries()
        .iter()
        .map(|q| {
            let q = index.query(QueryInput::Tokens(q)).unwrap();
            index
                .search_with(&q, 10, &options)
                .unwrap()
                .into_iter()
                .map(|(d, s)| (d, s.to_bits()))
                .collect()
        })
        .collect()
}

fn check(dir: &Path) {
    let expected: Vec<Vec<(u32, u32)>> =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    for mmap in [true, false] {
        let index = Index::load(&dir.join("index"), LoadOptions { mmap, verify: true })
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(index.num_docs(), 700);
        let ids: Vec<String> = corpus().into_iter().map(|(id, _)| id).collect();
        assert_eq!(index.doc_ids().unwrap(), ids, "{}", dir.display());
        for (d, id) in ids.iter().enumerate() {
            assert_eq!(&index.doc_id(d as u32).unwrap(), id);
        }
        for algorithm in ALGORITHMS {
            assert_eq!(
                top10(&index, algorithm),
                expected,
                "{} {algorithm:?}",
                dir.display()
            );
        }
        let impact = dir.join("impact");
        if !impact.exists() {
            continue;
        }
        let expected: Vec<Vec<(u32, u32)>> =
            serde_json::from_slice(&std::fs::read(impact.join("expected.json")).unwrap()).unwrap();
        let index = Index::load(&impact.join("index"), LoadOptions { mmap, verify: true })
            .unwrap_or_else(|e| panic!("{}: {e}", impact.display()));
        assert!(index.impact_quantization().is_some());
        for algorithm in ALGORITHMS {
            assert_eq!(
                impact_top10(&index, algorithm),
                expected,
                "{} {algorithm:?}",
                impact.display()
            );
        }
    }
}

#[test]
fn every_fixture_opens_and_answers_as_recorded() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(version) = name.strip_prefix('v').and_then(|v| v.parse::<u32>().ok()) else {
            continue;
        };
        check(&dir);
        seen.push(version);
    }
    assert!(
        seen.contains(&FORMAT_VERSION),
        "no fixture for the current format version {FORMAT_VERSION} (see this file's header)"
    );
}

#[test]
fn a_fresh_build_matches_the_current_fixture() {
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    b.add_batch(corpus()).unwrap();
    let index = b.finish().unwrap();
    let dir = data_dir().join(format!("v{FORMAT_VERSION}"));
    let expected: Vec<Vec<(u32, u32)>> =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    for algorithm in ALGORITHMS {
        assert_eq!(top10(&index, algorithm), expected, "{algorithm:?}");
    }
    let impact = dir.join("impact");
    let expected: Vec<Vec<(u32, u32)>> =
        serde_json::from_slice(&std::fs::read(impact.join("expected.json")).unwrap()).unwrap();
    let index = build_impact();
    for algorithm in ALGORITHMS {
        assert_eq!(impact_top10(&index, algorithm), expected, "{algorithm:?}");
    }
}

#[test]
#[ignore = "writes the fixture of the current format version"]
fn write_current_fixture() {
    if std::env::var_os("THRESHER_WRITE_FIXTURE").is_none() {
        return;
    }
    let dir = data_dir().join(format!("v{FORMAT_VERSION}"));
    assert!(
        !dir.exists(),
        "{} exists: fixtures are never rewritten",
        dir.display()
    );
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    b.add_batch(corpus()).unwrap();
    let mut index = b.finish().unwrap();
    index.save(&dir.join("index")).unwrap();
    let json = serde_json::to_string(&top10(&index, Algorithm::Exhaustive)).unwrap();
    std::fs::write(dir.join("expected.json"), json).unwrap();
    let mut index = build_impact();
    index.save(&dir.join("impact/index")).unwrap();
    let json = serde_json::to_string(&impact_top10(&index, Algorithm::Exhaustive)).unwrap();
    std::fs::write(dir.join("impact/expected.json"), json).unwrap();
}

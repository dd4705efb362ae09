//! A damaged index opened without verification never panics: searching it with any algorithm
//! returns hits or an error, whatever bytes were flipped (errors surface as `Err`, damaged
//! posting lists end early). With verification the same damage is reported at open, and saving
//! an index opened without it, or reweighting it, refuses to carry the damage over under fresh
//! checksums. Covers BM25 (norm bytes, lengths), weighted (`tdv-bm25`) and impact indexes.

use proptest::prelude::*;
use thresher_core::{
    Algorithm, Analyzer, DocFilter, DocInput, ImpactBuilder, Index, IndexBuilder, LoadOptions,
    QueryInput, ScoringConfig, ScoringKind, SearchOptions,
};

fn saved_index(dir: &std::path::Path, kind: ScoringKind) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let docs = (0..1500)
        .map(|i| {
            let len = 1 + next() % 25;
            let words = (0..len)
                .map(|_| format!("w{}", (next() % 40).min(next() % 40)))
                .collect();
            (format!("doc-{i}"), DocInput::Tokens(words))
        })
        .collect::<Vec<_>>();
    if kind == ScoringKind::Impact {
        // Term counts times a term-dependent factor as weights, quantised to 8 bits.
        let vectors = docs
            .into_iter()
            .map(|(id, doc)| {
                let DocInput::Tokens(words) = doc else {
                    unreachable!()
                };
                let mut v: Vec<(String, f32)> = Vec::new();
                for w in words {
                    let x = 0.3 + w.len() as f32 * 0.7;
                    match v.iter_mut().find(|p| p.0 == w) {
                        Some(p) => p.1 += x,
                        None => v.push((w, x)),
                    }
                }
                (id, v)
            })
            .collect();
        let mut b = ImpactBuilder::new(Analyzer::default(), 8, None, Some(1)).unwrap();
        b.add_batch(vectors).unwrap();
        b.finish().unwrap().save(dir).unwrap();
        return;
    }
    let scoring = ScoringConfig::new(kind, 0.9, 0.4, None).unwrap();
    let built = if kind.weighted() {
        ScoringConfig::default()
    } else {
        scoring
    };
    let mut b = IndexBuilder::new(Analyzer::default(), built, Some(1)).unwrap();
    b.add_batch(docs).unwrap();
    let mut index = b.finish().unwrap();
    if kind.weighted() {
        // A weighted segment: term weights (some zero) and real lengths.
        let n = index.vocabulary().unwrap().len();
        let w: Vec<f32> = (0..n)
            .map(|i| {
                if i % 7 == 3 {
                    0.0
                } else {
                    0.2 + i as f32 * 0.1
                }
            })
            .collect();
        index = index.reweight(&w, scoring).unwrap();
    }
    index.save(dir).unwrap();
}

fn search_everything(index: &Index) {
    // The whole-index reads behind learned weights return a value or an error, never panic
    // (`reweight`, which refuses damage, is checked by the property below).
    let _ = index.vocabulary();
    let _ = index.term_weights();
    let _ = index.doc_term_matrix();
    let n = index.num_docs();
    let mask: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
    let filter = DocFilter::from_mask(&mask, n).unwrap();
    for terms in [
        &["w0"][..],
        &["w0", "w1", "w2"],
        &["w5", "w17", "w33", "w39"],
        &["w0", "w0", "w38"],
    ] {
        let terms: Vec<String> = terms.iter().map(|s| s.to_string()).collect();
        let Ok(q) = index.query(QueryInput::Tokens(&terms)) else {
            continue;
        };
        for algorithm in [
            Algorithm::Exhaustive,
            Algorithm::MaxScore,
            Algorithm::Bmw,
            Algorithm::Auto,
        ] {
            for allow in [None, Some(&filter)] {
                for k in [1, 10, n + 1] {
                    if let Ok(hits) = index.search_with(&q, k, &SearchOptions { algorithm, allow })
                    {
                        for (d, _) in hits {
                            let _ = index.doc_id(d);
                        }
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn flipped_bytes_never_panic(
        file in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
        kind in 0usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let kind = [ScoringKind::Lucene, ScoringKind::Bm25Plus, ScoringKind::TdvBm25, ScoringKind::Impact][kind];
        saved_index(dir.path(), kind);
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            // The segment files (not meta.json, not the writers' lock file).
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seg-")))
            .collect();
        files.sort();
        let path = &files[file % files.len()];
        let mut bytes = std::fs::read(path).unwrap();
        // Damage the payload (the header and footer are checked even without verification).
        let payload = 64..bytes.len() - 16;
        for (at, x) in &flips {
            let i = payload.start + at.index(payload.len());
            bytes[i] ^= x;
        }
        std::fs::write(path, &bytes).unwrap();
        for mmap in [true, false] {
            if let Ok(mut index) = Index::load(dir.path(), LoadOptions { mmap, verify: false }) {
                search_everything(&index);
                // Saving a copy must not give the damage fresh checksums.
                let copy = tempfile::tempdir().unwrap();
                prop_assert!(index.save(&copy.path().join("copy")).is_err(), "damage laundered by save");
                // Nor must an index derived from it (reweight builds new, checksummed segments).
                let n = index.vocabulary().map_or(0, |v| v.len());
                let tdv = ScoringConfig::new(ScoringKind::TdvBm25, 0.9, 0.4, None).unwrap();
                prop_assert!(index.reweight(&vec![1.0; n], tdv).is_err(), "damage laundered by reweight");
            }
        }
        let verified = Index::load(dir.path(), LoadOptions { mmap: true, verify: true });
        prop_assert!(verified.is_err(), "damage went unnoticed by verification");
    }
}

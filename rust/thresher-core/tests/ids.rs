//! External ids round-trip through the segment writer and reader (front-coded in blocks of 16
//! since format version 6): random unique ids (unicode, long shared prefixes, counts around
//! block boundaries) come back by doc number and all at once, saved and loaded (mmap or not,
//! verified), and a duplicate id is still refused.

use proptest::prelude::*;
use thresher_core::{Analyzer, DocInput, Index, IndexBuilder, LoadOptions, ScoringConfig};

fn build(ids: &[String]) -> Index {
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    let docs = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let words = vec![format!("w{}", i % 7), "common".to_string()];
            (id.clone(), DocInput::Tokens(words))
        })
        .collect();
    b.add_batch(docs).unwrap();
    b.finish().unwrap()
}

fn check(index: &Index, ids: &[String]) {
    assert_eq!(index.doc_ids().unwrap(), ids);
    for (d, id) in ids.iter().enumerate() {
        assert_eq!(&index.doc_id(d as u32).unwrap(), id);
    }
    assert!(index.doc_id(ids.len() as u32).is_err());
}

fn id_lists() -> impl Strategy<Value = Vec<String>> {
    (
        prop_oneof![
            Just(String::new()),
            "\\PC{1,8}",
            "[a-z]{60,300}",
            "é€😀{1,3}"
        ],
        proptest::collection::vec(
            prop_oneof!["[0-9]{1,8}", "\\PC{1,10}", "[ab]{0,3}é{0,2}[0-9]?"],
            1..60,
        ),
        prop_oneof![
            Just(0usize),
            Just(15),
            Just(16),
            Just(17),
            Just(31),
            Just(32),
            Just(33)
        ],
    )
        .prop_map(|(prefix, suffixes, extra)| {
            let mut ids: Vec<String> = suffixes.iter().map(|s| format!("{prefix}{s}")).collect();
            ids.extend((0..extra).map(|i| format!("{prefix}-{i:04}")));
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| !id.is_empty() && seen.insert(id.clone()));
            ids
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ids_round_trip(ids in id_lists()) {
        let mut index = build(&ids);
        check(&index, &ids);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        for mmap in [true, false] {
            let loaded = Index::load(dir.path(), LoadOptions { mmap, verify: true }).unwrap();
            check(&loaded, &ids);
        }
    }
}

#[test]
fn block_boundaries() {
    for n in [1usize, 15, 16, 17, 32, 33, 100] {
        let ids: Vec<String> = (0..n).map(|i| format!("gcide-{i:07}")).collect();
        let mut index = build(&ids);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = Index::load(
            dir.path(),
            LoadOptions {
                mmap: true,
                verify: true,
            },
        )
        .unwrap();
        check(&loaded, &ids);
    }
}

#[test]
fn duplicate_ids_are_refused() {
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    let docs = ["a-1", "a-2", "a-1"]
        .iter()
        .map(|id| (id.to_string(), DocInput::Tokens(vec!["x".to_string()])))
        .collect();
    let refused = b.add_batch(docs).is_err() || b.finish().is_err();
    assert!(refused);
}

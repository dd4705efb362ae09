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
    check_visit(index, ids);
}

/// `visit_doc_ids` over an order that goes back and forth within and across blocks, with
/// repeats, gives every position its document's id; a number out of range is an error.
fn check_visit(index: &Index, ids: &[String]) {
    let n = ids.len() as u32;
    let mut docs: Vec<u32> = (0..n).rev().collect();
    docs.extend((0..n).step_by(3));
    docs.extend((0..n).filter(|d| d % 16 == 15 || d % 16 == 0));
    docs.push(n / 2);
    let mut got: Vec<Option<String>> = vec![None; docs.len()];
    index
        .visit_doc_ids(&docs, |i, id| {
            assert!(got[i].is_none(), "position {i} visited twice");
            got[i] = Some(id.to_string());
        })
        .unwrap();
    for (i, &d) in docs.iter().enumerate() {
        assert_eq!(got[i].as_deref(), Some(ids[d as usize].as_str()), "doc {d}");
    }
    assert!(index.visit_doc_ids(&[0, n], |_, _| {}).is_err());
    index
        .visit_doc_ids(&[], |_, _| panic!("nothing to visit"))
        .unwrap();
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
fn visiting_ids_across_appended_segments() {
    let ids: Vec<String> = (0..70)
        .map(|i| format!("doc/{:03}", (i * 37) % 101))
        .collect();
    let mut index = build(&ids[..23]);
    index.append(build(&ids[23..40])).unwrap();
    index.append(build(&ids[40..])).unwrap();
    assert_eq!(index.segment_views().len(), 3);
    check(&index, &ids);
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

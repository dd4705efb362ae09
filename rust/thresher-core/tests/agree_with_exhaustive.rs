//! Every top-k algorithm returns exactly what exhaustive returns — the same documents in the
//! same order with bit-identical scores, ties included — on random small collections: every
//! scoring model (the weighted `tdv-*` models over random, heavy-tailed term weights with zeros,
//! reweighted per segment so one term may weigh differently in two segments; `impact` over
//! random sparse vectors quantised to 1 to 16 bits, or integer weights with many ties), one or two
//! segments, text-like and weighted queries with repeated and missing terms, with and without a
//! filter, k from 1 to more than the number of documents (PISA's `test_ranked_queries.cpp`);
//! and at every CPU level the machine supports.

use proptest::prelude::*;
use thresher_core::cpu::{self, Level};
use thresher_core::{
    Algorithm, Analyzer, DocFilter, DocInput, ImpactBuilder, Index, IndexBuilder, QueryInput,
    ScoringConfig, ScoringKind, SearchOptions,
};

/// xorshift64*: a deterministic stream from a proptest seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// A skewed term index: small indexes are much more frequent (common terms get long,
    /// multi-block lists; rare ones short lists).
    fn term(&mut self, vocab: u64) -> String {
        let r = (self.below(1 << 20) as f64) / f64::from(1 << 20);
        format!(
            "t{}",
            ((vocab as f64).powf(r * r) as u64).clamp(1, vocab) - 1
        )
    }
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    num_docs: usize,
    vocab: u64,
    max_len: u64,
    kind: usize,
    params: usize,
    split: bool,
    filter: bool,
    /// Queries of up to 14 terms instead of 7.
    long_queries: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        1usize..420,
        2u64..80,
        1u64..60,
        0usize..ScoringKind::NAMES.len(),
        0usize..4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(seed, num_docs, vocab, max_len, kind, params, split, filter, long_queries)| Case {
                seed,
                num_docs,
                vocab,
                max_len,
                kind,
                params,
                split,
                filter,
                long_queries,
            },
        )
}

/// An impact index over random sparse vectors: heavy-tailed weights with zeros and empty
/// documents, `bits` from `c.params` (1, 4, 8 or 16), or (`params == 3`, half the time)
/// small integer weights with scale 1 (many exact ties). Both parts of a split share one
/// scale, as an appended index must.
fn build_impact(c: &Case, rng: &mut Rng) -> Index {
    let bits = [1, 4, 8, 16][c.params];
    let integers = c.params == 3 && rng.below(2) == 0;
    let docs: Vec<(String, Vec<(String, f32)>)> = (0..c.num_docs)
        .map(|i| {
            let len = if rng.below(20) == 0 {
                0
            } else {
                1 + rng.below(c.max_len)
            };
            let mut v: Vec<(String, f32)> = Vec::new();
            for _ in 0..len {
                let t = rng.term(c.vocab);
                if v.iter().any(|(u, _)| *u == t) {
                    continue;
                }
                let w = if rng.below(8) == 0 {
                    0.0
                } else if integers {
                    (1 + rng.below(4)) as f32
                } else {
                    let z = (0..4).map(|_| rng.below(1000) as f64 / 1000.0).sum::<f64>() - 2.0;
                    (2.0 * z).exp() as f32
                };
                v.push((t, w));
            }
            (format!("d{i}"), v)
        })
        .collect();
    let max = docs
        .iter()
        .flat_map(|d| d.1.iter().map(|p| p.1))
        .fold(0f32, f32::max)
        .max(1.0);
    let scale = if integers {
        1.0
    } else {
        f64::from(max) / f64::from((1u32 << bits) - 1)
    };
    let cut = if c.split && c.num_docs > 1 {
        1 + rng.below(c.num_docs as u64 - 1) as usize
    } else {
        c.num_docs
    };
    let mut parts = docs.chunks(cut).map(|chunk| {
        let mut b = ImpactBuilder::new(Analyzer::default(), bits, Some(scale), Some(1)).unwrap();
        b.add_batch(chunk.to_vec()).unwrap();
        // A part without any positive weight cannot be built: give it one posting.
        if chunk.iter().all(|d| d.1.iter().all(|p| p.1 == 0.0)) {
            b.add_batch(vec![(
                format!("extra-{}", chunk[0].0),
                vec![("t0".into(), 1.0)],
            )])
            .unwrap();
        }
        b.finish().unwrap()
    });
    let mut index = parts.next().unwrap();
    for p in parts {
        index.append(p).unwrap();
    }
    index
}

fn build(c: &Case, rng: &mut Rng) -> Index {
    let kind = ScoringKind::from_name(ScoringKind::NAMES[c.kind]).unwrap();
    if kind == ScoringKind::Impact {
        return build_impact(c, rng);
    }
    let (k1, b) = [(0.9, 0.4), (1.2, 0.75), (0.5, 1.0), (2.0, 0.0)][c.params];
    let scoring = ScoringConfig::new(kind, k1, b, None).unwrap();
    let docs: Vec<(String, DocInput)> = (0..c.num_docs)
        .map(|i| {
            // Some empty documents; lengths vary a lot so norms and frontiers do too.
            let len = if rng.below(20) == 0 {
                0
            } else {
                1 + rng.below(c.max_len)
            };
            let terms = (0..len).map(|_| rng.term(c.vocab)).collect();
            (format!("d{i}"), DocInput::Tokens(terms))
        })
        .collect();
    let cut = if c.split && c.num_docs > 1 {
        1 + rng.below(c.num_docs as u64 - 1) as usize
    } else {
        c.num_docs
    };
    // Weighted models: half the cases build with weight 1, the others reweight each part
    // with its own random weights (a quarter zero, the rest log-normal: heavy-tailed).
    let reweight = kind.weighted() && rng.below(2) == 0;
    let mut parts = docs.chunks(cut).map(|chunk| {
        let built = if reweight {
            ScoringConfig::default()
        } else {
            scoring
        };
        let mut b = IndexBuilder::new(Analyzer::default(), built, Some(1)).unwrap();
        b.add_batch(chunk.to_vec()).unwrap();
        let index = b.finish().unwrap();
        if !reweight {
            return index;
        }
        let vocab = index.vocabulary().unwrap();
        let weights: Vec<f32> = vocab
            .iter()
            .map(|_| {
                if rng.below(4) == 0 {
                    0.0
                } else {
                    // Sum of uniforms ~ normal; exp of it ~ log-normal over several decades.
                    let z = (0..4).map(|_| rng.below(1000) as f64 / 1000.0).sum::<f64>() - 2.0;
                    (3.0 * z).exp() as f32
                }
            })
            .collect();
        index.reweight(&weights, scoring).unwrap()
    });
    let mut index = parts.next().unwrap();
    for p in parts {
        index.append(p).unwrap();
    }
    index
}

/// The top `k` by scoring every posting one at a time (no blocks, no accumulator array, no
/// bitmap): each document's contributions added in the query's canonical order from 0, every
/// document holding a query term kept whatever its score (0, negative, NaN), sorted by score
/// (`total_cmp`, higher first) then doc id.
fn brute_force(
    index: &Index,
    query: &thresher_core::Query,
    k: usize,
    allow: Option<&DocFilter>,
) -> Vec<(u32, u32)> {
    let norm = index.length_norm();
    let terms: Vec<(&str, f32)> = query.terms().collect();
    let mut hits: Vec<(u32, f32)> = Vec::new();
    for view in index.segment_views() {
        let seg = &view.segment;
        let keys = seg.doc_keys();
        let mut acc: std::collections::BTreeMap<u32, f32> = Default::default();
        for &(t, w) in &terms {
            let df: u64 = index
                .segment_views()
                .iter()
                .map(|v| v.segment.lookup(t).map_or(0, |(_, i)| u64::from(i.df)))
                .sum();
            let Some((id, info)) = seg.lookup(t) else {
                continue;
            };
            let scorer = index
                .term_scorer(df, w)
                .with_term_weight(seg.term_weight(id));
            let list = seg.postings(info).unwrap();
            list.for_each_block(seg.num_docs() as u32, |docs, vals| {
                for (&d, &v) in docs.iter().zip(vals) {
                    let s = scorer.score(v, keys.factor(norm, d));
                    *acc.entry(d).or_insert(0.0) += s;
                }
            })
            .unwrap();
        }
        hits.extend(acc.into_iter().map(|(d, s)| (view.base + d, s)));
    }
    hits.retain(|&(d, _)| allow.is_none_or(|a| a.contains(d)));
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(k);
    hits.into_iter().map(|(d, s)| (d, s.to_bits())).collect()
}

fn check(c: Case) -> Result<(), TestCaseError> {
    let mut rng = Rng(c.seed | 1);
    let index = build(&c, &mut rng);
    let n = index.num_docs();
    let mask: Vec<bool> = (0..n).map(|_| rng.below(3) != 0).collect();
    let filter = DocFilter::from_mask(&mask, n).unwrap();
    let allow = c.filter.then_some(&filter);
    for _ in 0..6 {
        let len = 1 + rng.below(if c.long_queries { 14 } else { 7 }) as usize;
        let mut terms: Vec<String> = (0..len).map(|_| rng.term(c.vocab + 3)).collect();
        if rng.below(4) == 0 {
            terms.push(terms[0].clone());
        }
        let weighted: Vec<(String, f32)> = terms
            .iter()
            .map(|t| (t.clone(), [0.0, 0.25, 1.0, 1.7, 3.0][rng.below(5) as usize]))
            .collect();
        let query = if rng.below(2) == 0 {
            index.query(QueryInput::Tokens(&terms)).unwrap()
        } else {
            index.query(QueryInput::Weighted(&weighted)).unwrap()
        };
        let k = [1, 2, 3, 10, n, n + 7][rng.below(6) as usize].max(1);
        let run = |algorithm| {
            index
                .search_with(&query, k, &SearchOptions { algorithm, allow })
                .unwrap()
                .into_iter()
                .map(|(d, s)| (d, s.to_bits()))
                .collect::<Vec<_>>()
        };
        let want = run(Algorithm::Exhaustive);
        prop_assert_eq!(
            &want,
            &brute_force(&index, &query, k, allow),
            "exhaustive differs from brute force; query {:?}, k {}",
            query,
            k
        );
        if let Some(a) = allow {
            prop_assert!(want.iter().all(|&(d, _)| a.contains(d)));
        }
        // Every CPU level the machine has ([`thresher_core::cpu`]) gives the same bits.
        for level in [Level::Portable, Level::V3, Level::V4] {
            if level <= cpu::supported() {
                for algorithm in [Algorithm::Exhaustive, Algorithm::Auto] {
                    let got = cpu::with_level(level, || run(algorithm));
                    prop_assert_eq!(
                        &got,
                        &want,
                        "{:?} at level {:?} differs; query {:?}, k {}",
                        algorithm,
                        level,
                        query,
                        k
                    );
                }
            }
        }
        for algorithm in [Algorithm::MaxScore, Algorithm::Bmw, Algorithm::Auto] {
            let got = run(algorithm);
            prop_assert_eq!(
                &got,
                &want,
                "{:?} differs from exhaustive; query {:?}, k {}",
                algorithm,
                query,
                k
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn every_algorithm_agrees_with_exhaustive(c in case()) {
        check(c)?;
    }
}

/// Long lists (many full blocks) with many ties: Lucene scores of a term depend only on the
/// (tf, norm byte) pair, so equal scores are everywhere.
#[test]
fn long_lists_and_ties() {
    for seed in 0..20 {
        check(Case {
            seed,
            num_docs: 3000,
            vocab: 12,
            max_len: 8,
            kind: (seed as usize) % ScoringKind::NAMES.len(),
            params: (seed % 4) as usize,
            split: seed % 3 == 0,
            filter: seed % 2 == 0,
            long_queries: false,
        })
        .unwrap();
    }
}

/// Long lists over a larger vocabulary and long queries: windows of MaxScore with many
/// essential lists, dense and merged, and partitions that change inside a window.
#[test]
fn long_queries_over_many_blocks() {
    for seed in 0..64 {
        check(Case {
            seed,
            num_docs: 5_000 + 1000 * (seed as usize % 7),
            vocab: 60 + 40 * (seed % 6),
            max_len: 20 + 10 * (seed % 3),
            kind: (seed as usize) % ScoringKind::NAMES.len(),
            params: (seed % 4) as usize,
            split: seed % 5 == 0,
            filter: seed % 3 == 0,
            long_queries: true,
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

/// Threshold priming ([`thresher_core::query::prepared::Prepared::prime_floor`]): a query with
/// one rare term (at least k postings, at most 1/16 of the query's) among frequent ones. The
/// floor is the k-th best score of the rare term's postings among the allowed documents (what
/// the one-term query returns last), and every algorithm, started from it, returns exactly
/// what exhaustive returns, with and without a filter.
#[test]
fn primed_floor_is_the_kth_best_score_of_the_short_list() {
    use thresher_core::query::prepared::Prepared;
    let mut rng = Rng(11);
    let n = 3000;
    let docs: Vec<(String, DocInput)> = (0..n)
        .map(|i| {
            let mut terms: Vec<String> = (0..1 + rng.below(40))
                .map(|_| ["common", "often", "filler"][rng.below(3) as usize].to_string())
                .collect();
            if i % 40 == 7 {
                // Rare documents hold the rare term only: the top hits, their full score is
                // the rare term's, so the floor is the final threshold (a floor set any
                // higher loses hits).
                terms = (0..1 + rng.below(4)).map(|_| "rare".to_string()).collect();
            }
            (format!("d{i}"), DocInput::Tokens(terms))
        })
        .collect();
    let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
    b.add_batch(docs).unwrap();
    let index = b.finish().unwrap();
    let view = &index.segment_views()[0];
    let mask: Vec<bool> = (0..n).map(|d| d % 3 != 0).collect();
    let filter = DocFilter::from_mask(&mask, n).unwrap();
    let rare = index.query(QueryInput::Text("rare")).unwrap();
    let full = index.query(QueryInput::Text("rare common often")).unwrap();
    let prep = Prepared::new(&index, &full);
    for allow in [None, Some(&filter)] {
        for k in [1, 10, 40] {
            let floor = prep.prime_floor(&index, 0, view, k, allow);
            let one = index
                .search_with(
                    &rare,
                    k,
                    &SearchOptions {
                        algorithm: Algorithm::Exhaustive,
                        allow,
                    },
                )
                .unwrap();
            assert_eq!(one.len(), k);
            assert_eq!(floor.to_bits(), one[k - 1].1.to_bits(), "k={k}");
            let want = index
                .search_with(
                    &full,
                    k,
                    &SearchOptions {
                        algorithm: Algorithm::Exhaustive,
                        allow,
                    },
                )
                .unwrap();
            for algorithm in [Algorithm::MaxScore, Algorithm::Bmw, Algorithm::Auto] {
                let got = index
                    .search_with(&full, k, &SearchOptions { algorithm, allow })
                    .unwrap();
                assert_eq!(got, want, "{algorithm:?} k={k}");
            }
        }
        // More hits than the rare list has: no floor.
        assert_eq!(
            prep.prime_floor(&index, 0, view, 100, allow),
            f32::NEG_INFINITY
        );
    }
}

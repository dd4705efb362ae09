//! Synthetic Zipf collections shared by the benchmarks and the `qps` example: the corpus model of
//! `shared/anchors/run_anchors.py --synthetic` — tokens `w<rank>` drawn from a Zipf(s) law over
//! a fixed vocabulary, Poisson(mean) document lengths (at least 1), queries of 2..=6 terms from
//! the same law. Deterministic for a seed (its own generator, not numpy's stream).

#![allow(dead_code)]

use thresher_core::{Analyzer, DocInput, Index, IndexBuilder, ScoringConfig};

/// splitmix64: small, fast, good enough for workload generation.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Poisson(lambda) by inversion of the CDF.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        let u = self.unit();
        let (mut k, mut p) = (0u64, (-lambda).exp());
        let mut cdf = p;
        while u > cdf && k < 10_000 {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
        }
        k
    }
}

/// The Zipf law as a cumulative table.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(vocab: usize, s: f64) -> Self {
        let mut cdf: Vec<f64> = (1..=vocab).map(|r| 1.0 / (r as f64).powf(s)).collect();
        let mut acc = 0.0;
        for c in cdf.iter_mut() {
            acc += *c;
            *c = acc;
        }
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Self { cdf }
    }
    /// A rank in 0..vocab.
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }
}

/// Parameters of a synthetic collection.
#[derive(Debug, Clone, Copy)]
pub struct Synthetic {
    pub docs: usize,
    pub vocab: usize,
    pub mean_len: f64,
    pub zipf: f64,
    pub seed: u64,
}

impl Synthetic {
    /// The anchors' model at `docs` documents (vocab 500k, Zipf 1.0, mean length 60).
    pub fn anchors(docs: usize) -> Self {
        Self {
            docs,
            vocab: 500_000,
            mean_len: 60.0,
            zipf: 1.0,
            seed: 20240601,
        }
    }

    /// Builds the index in memory (single segment).
    pub fn build(&self, threads: Option<usize>) -> Index {
        let zipf = Zipf::new(self.vocab, self.zipf);
        let mut rng = Rng::new(self.seed);
        let names: Vec<String> = (0..self.vocab).map(|i| format!("w{i}")).collect();
        let mut b = IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), threads)
            .expect("valid builder");
        let batch = 50_000;
        let mut start = 0;
        while start < self.docs {
            let n = batch.min(self.docs - start);
            let docs = (start..start + n)
                .map(|i| {
                    let len = rng.poisson(self.mean_len).max(1);
                    let toks = (0..len)
                        .map(|_| names[zipf.sample(&mut rng)].clone())
                        .collect();
                    (format!("d{i}"), DocInput::Tokens(toks))
                })
                .collect();
            b.add_batch(docs).expect("unique ids");
            start += n;
        }
        b.finish().expect("non-empty corpus")
    }

    /// `n` queries of 2..=6 terms from the same law (seeded apart from the corpus).
    pub fn queries(&self, n: usize) -> Vec<Vec<String>> {
        let zipf = Zipf::new(self.vocab, self.zipf);
        let mut rng = Rng::new(self.seed ^ 0x5151_5151);
        (0..n)
            .map(|_| {
                let len = 2 + (rng.next_u64() % 5) as usize;
                (0..len)
                    .map(|_| format!("w{}", zipf.sample(&mut rng)))
                    .collect()
            })
            .collect()
    }
}

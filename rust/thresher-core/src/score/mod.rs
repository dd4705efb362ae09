//! Scoring models: the BM25 family, TF-IDF, BM25 / TF-IDF over learned term weights, and
//! impact scoring of learned sparse vectors (an exact dot product of quantised weights).
//!
//! A model is chosen by name ([`ScoringKind`]) with explicit parameters ([`ScoringConfig`]);
//! nothing is a silent default except the documented ones (`lucene`, k1 = 0.9, b = 0.4, as
//! Anserini). Variant formulas follow Kamphuis, de Vries, Boytsov, Lin, "Which BM25 Do You
//! Mean? A Large-Scale Reproducibility Study of Scoring Variants" (ECIR 2020), as bm25s does.
//!
//! Scoring is split in two so that every query algorithm uses the same arithmetic:
//! [`LengthNorm`] turns a document's length key (norm byte or length) into its length factor
//! (query independent), and [`TermScorer`] holds the per-query-term constants (idf × query
//! weight). `TermScorer::score(tf, factor)` is then a few float operations, and
//! [`TermScorer::bound`] turns a (tf, factor) pair that dominates a set of postings into a true
//! upper bound of their f32 scores (block-max and max-score bounds).

pub mod smallfloat;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The scoring models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoringKind {
    /// Lucene's `BM25Similarity` (Lucene >= 8), bit for bit:
    /// `idf = ln(1 + (N - df + 0.5) / (df + 0.5))`,
    /// `score = w - w / (1 + tf * cache[norm])` with `w = boost * idf` and
    /// `cache[norm] = 1 / (k1 * ((1 - b) + b * len(norm) / avgdl))`, where `len(norm)` is the
    /// document length after Lucene's one-byte quantisation ([`smallfloat`]), `N` the number of
    /// non-empty documents and `avgdl = total terms / N`. Algebraically
    /// `idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))`: note there is no `(k1 + 1)` factor.
    Lucene,
    /// Robertson et al. (TREC-3) BM25: `idf = ln((N - df + 0.5) / (df + 0.5))` (negative for
    /// terms in more than half the documents), `tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`, exact lengths.
    Robertson,
    /// ATIRE (Trotman et al., 2014): `idf = ln(N / df)`,
    /// `tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`.
    Atire,
    /// BM25L (Lv & Zhai, 2011): `idf = ln((N + 1) / (df + 0.5))`, `c = tf / (1 - b + b * dl / avgdl)`,
    /// `(k1 + 1) * (c + delta) / (k1 + c + delta)`; `delta` defaults to 0.5.
    Bm25l,
    /// BM25+ (Lv & Zhai, 2011): `idf = ln((N + 1) / df)`,
    /// `tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)) + delta`; `delta` defaults to 1.
    #[serde(rename = "bm25+")]
    Bm25Plus,
    /// TF-IDF as Lucene's `ClassicSimilarity` (Lucene 8 and later, `TFIDFSimilarity`'s
    /// scorer): `sqrt(tf) * (boost * idf) * norm` with `idf = 1 + ln((N + 1) / (df + 1))` and
    /// `norm = 1 / sqrt(dl)` of the length decoded from Lucene's one-byte norm (as for
    /// [`ScoringKind::Lucene`]); k1 and b unused. (Lucene 7 and earlier squared the idf and
    /// multiplied a query norm and coordination factor in.)
    Tfidf,
    /// BM25 over learned term weights (term discrimination values, Frej et al., "Learning Term
    /// Discrimination", SIGIR 2020), as `thresher.tdv.scoring` with `model="bm25", idf="df"`:
    /// each term `t` of a segment carries a weight `w_t > 0` (terms of weight 0 are not
    /// indexed), a posting's effective frequency is `x = w_t * tf` (real), a document's length
    /// is `L = sum_t w_t * tf` over its indexed terms (exact, stored as f32: no one-byte
    /// quantisation), `avgdl = sum L / N` over the `N` documents with at least one posting, and
    /// `score = boost * idf * x / (x + k1 * (1 - b + b * L / avgdl))` with Lucene's
    /// `idf = ln(1 + (N - df + 0.5) / (df + 0.5))`, `df` = documents holding a posting of `t`.
    /// With every weight 1 this is BM25 in Lucene's form with exact lengths, which differs from
    /// [`ScoringKind::Lucene`] only through Lucene's quantised norms: it is its own model.
    #[serde(rename = "tdv-bm25")]
    TdvBm25,
    /// TF-IDF over learned term weights, as `thresher.tdv.scoring` with `model="tfidf"`:
    /// `score = boost * idf * x` with `x = w_t * tf` and the same Lucene `idf` as
    /// [`ScoringKind::TdvBm25`] (no length normalisation; k1 and b unused).
    #[serde(rename = "tdv-tfidf")]
    TdvTfidf,
    /// Learned sparse vectors (impact indexes, issue 5; Anserini's `-impact`): each posting's
    /// value is a quantised weight `q >= 1` ([`ImpactQuantization`]) and the score is the dot
    /// product of the query weights with the dequantised document vector,
    /// `score = sum_t f32(f64(boost_t) * scale) * q_t`: the per-term factor is rounded to f32
    /// once per query term, each contribution is one f32 product, and contributions are added
    /// in the query's canonical order as for every model. No idf, no length normalisation; k1,
    /// b and delta are unused. With `scale = 1` and integer query weights, scores are exact
    /// integers (below 2^24), as Lucene's impact scores of the same integers.
    Impact,
}

impl ScoringKind {
    /// Names accepted by [`ScoringKind::from_name`].
    pub const NAMES: [&'static str; 9] = [
        "lucene",
        "robertson",
        "atire",
        "bm25l",
        "bm25+",
        "tfidf",
        "tdv-bm25",
        "tdv-tfidf",
        "impact",
    ];

    /// Parses a scoring name (`bm25` is an alias of `lucene`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] listing the valid names.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "lucene" | "bm25" => Self::Lucene,
            "robertson" => Self::Robertson,
            "atire" => Self::Atire,
            "bm25l" => Self::Bm25l,
            "bm25+" | "bm25plus" => Self::Bm25Plus,
            "tfidf" => Self::Tfidf,
            "tdv-bm25" => Self::TdvBm25,
            "tdv-tfidf" => Self::TdvTfidf,
            "impact" => Self::Impact,
            other => {
                return Err(Error::invalid_argument(format!(
                    "unknown scoring {other:?}; valid scorings: {}",
                    Self::NAMES.join(", ")
                )))
            }
        })
    }

    /// Canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lucene => "lucene",
            Self::Robertson => "robertson",
            Self::Atire => "atire",
            Self::Bm25l => "bm25l",
            Self::Bm25Plus => "bm25+",
            Self::Tfidf => "tfidf",
            Self::TdvBm25 => "tdv-bm25",
            Self::TdvTfidf => "tdv-tfidf",
            Self::Impact => "impact",
        }
    }

    /// True for the models over learned term weights: their segments store a weight per term
    /// and real-valued (f32) document lengths `sum_t w_t * tf`.
    pub fn weighted(self) -> bool {
        matches!(self, Self::TdvBm25 | Self::TdvTfidf)
    }

    /// The `delta` used when none is given.
    pub fn default_delta(self) -> f32 {
        match self {
            Self::Bm25l => 0.5,
            Self::Bm25Plus => 1.0,
            _ => 0.0,
        }
    }
}

/// How the weights of an impact index were quantised (stored in `meta.json` as
/// `scoring.impact`).
///
/// Rule: `scale = max_weight / (2^bits - 1)` over every weight of the corpus (f64; or a scale
/// given by the caller), and a weight `w > 0` becomes
/// `q = clamp(round_half_even(w / scale), 1, 2^bits - 1)` (f64 arithmetic; numpy's `rint`,
/// as `thresher.expand.export.quantize`): a positive weight never rounds to 0, so every
/// posting is kept; weights of 0 make no posting. The dequantised weight is `q * scale`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactQuantization {
    /// Width of the integers, 1..=16.
    pub bits: u32,
    /// The weight of one quantisation step (finite, > 0).
    pub scale: f64,
}

impl ImpactQuantization {
    /// Largest bit width (postings hold any `u32`, but 16 bits is already finer than any
    /// learned sparse model needs and keeps block bounds tight).
    pub const MAX_BITS: u32 = 16;

    /// Checks `bits` (1..=16) and `scale` (finite, > 0).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the bad value.
    pub fn new(bits: u32, scale: f64) -> Result<Self> {
        let q = Self { bits, scale };
        q.validate()?;
        Ok(q)
    }

    /// See [`ImpactQuantization::new`].
    ///
    /// # Errors
    /// As [`ImpactQuantization::new`].
    pub fn validate(&self) -> Result<()> {
        if !(1..=Self::MAX_BITS).contains(&self.bits) {
            return Err(Error::invalid_argument(format!(
                "bits must be an integer in [1, {}], got {}",
                Self::MAX_BITS,
                self.bits
            )));
        }
        // As f32 (the scale of every product): NaN, <= 0, under- or overflow all fail this.
        let scale = self.scale as f32;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "the impact scale must be a finite number > 0 that float32 represents (about 1.4e-45 \
                 to 3.4e38), got {:e}",
                self.scale
            )));
        }
        Ok(())
    }

    /// The largest quantised value, `2^bits - 1`.
    pub fn max_value(&self) -> u32 {
        (1u32 << self.bits) - 1
    }

    /// The integer of a weight `w` (finite, >= 0): 0 for `w == 0` (no posting), else
    /// `round_half_even(w / scale)` at least 1. `None` when it exceeds `2^bits - 1` (a weight
    /// above `max_value * scale`, possible only with a caller-given scale).
    #[inline]
    pub fn quantize(&self, w: f32) -> Option<u32> {
        if w <= 0.0 {
            return Some(0);
        }
        let q = (f64::from(w) / self.scale).round_ties_even().max(1.0);
        (q <= f64::from(self.max_value())).then_some(q as u32)
    }
}

/// A scoring model with its parameters; stored in `meta.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    /// Which model.
    pub kind: ScoringKind,
    /// Term-frequency saturation (BM25 family).
    pub k1: f32,
    /// Length normalisation strength in [0, 1] (BM25 family).
    pub b: f32,
    /// Lower-bound shift of BM25L / BM25+.
    pub delta: f32,
    /// The quantisation of an impact index (`Some` exactly for [`ScoringKind::Impact`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<ImpactQuantization>,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            kind: ScoringKind::Lucene,
            k1: 0.9,
            b: 0.4,
            delta: 0.0,
            impact: None,
        }
    }
}

impl ScoringConfig {
    /// Builds and validates a config; `delta = None` takes the variant's default.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for NaN, infinite or negative `k1`/`delta`, `b` outside
    /// [0, 1], or a `delta` for a model without one (it would be recorded and ignored).
    pub fn new(kind: ScoringKind, k1: f32, b: f32, delta: Option<f32>) -> Result<Self> {
        if let (Some(d), false) = (
            delta,
            matches!(kind, ScoringKind::Bm25l | ScoringKind::Bm25Plus),
        ) {
            return Err(Error::invalid_argument(format!(
                "delta ({d}) applies to bm25l and bm25+ only, not to {}",
                kind.name()
            )));
        }
        let c = Self {
            kind,
            k1,
            b,
            delta: delta.unwrap_or_else(|| kind.default_delta()),
            impact: None,
        };
        c.validate()?;
        Ok(c)
    }

    /// The config of an impact index quantised with `quantization` (k1, b, delta are recorded
    /// at their defaults and unused).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for bad bits or scale ([`ImpactQuantization::new`]).
    pub fn impact(quantization: ImpactQuantization) -> Result<Self> {
        let c = Self {
            kind: ScoringKind::Impact,
            impact: Some(quantization),
            ..Self::default()
        };
        c.validate()?;
        Ok(c)
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// See [`ScoringConfig::new`].
    pub fn validate(&self) -> Result<()> {
        if !self.k1.is_finite() || self.k1 < 0.0 {
            return Err(Error::invalid_argument(format!(
                "k1 must be a finite number >= 0, got {}",
                self.k1
            )));
        }
        if !self.b.is_finite() || !(0.0..=1.0).contains(&self.b) {
            return Err(Error::invalid_argument(format!(
                "b must be a finite number in [0, 1], got {}",
                self.b
            )));
        }
        if !self.delta.is_finite() || self.delta < 0.0 {
            return Err(Error::invalid_argument(format!(
                "delta must be a finite number >= 0, got {}",
                self.delta
            )));
        }
        match (self.kind, &self.impact) {
            (ScoringKind::Impact, Some(q)) => q.validate()?,
            (ScoringKind::Impact, None) => {
                return Err(Error::invalid_argument(
                    "impact scoring needs a quantisation (bits and scale): impact indexes \
                     are built from vectors (ImpactBuilder; in Python Index.from_vectors, \
                     from_csr or from_impact_jsonl)",
                ))
            }
            (_, Some(_)) => {
                return Err(Error::invalid_argument(format!(
                    "a quantisation is only meaningful for impact scoring, not {}",
                    self.kind.name()
                )))
            }
            (_, None) => {}
        }
        Ok(())
    }
}

/// Collection statistics that scores depend on (over all segments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollectionStats {
    /// Number of documents with at least one term (Lucene's `docCount`).
    pub num_docs: u64,
    /// Sum of all document lengths (Lucene's `sumTotalTermFreq`; for the weighted models the
    /// sum of the f32 lengths `sum_t w_t * tf`, added in f64).
    pub total_length: f64,
}

impl CollectionStats {
    /// Average document length as Lucene computes it (`(float) (sumTTF / (double) docCount)`);
    /// 1 for an empty collection so the length factor stays finite.
    pub fn avgdl(&self) -> f32 {
        if self.num_docs == 0 {
            1.0
        } else {
            (self.total_length / self.num_docs as f64) as f32
        }
    }
}

/// Which per-document quantity block bounds are computed from: Lucene's one-byte norm, the
/// exact integer length, a coarse key of a real-valued length, or nothing. A posting's *length
/// key* is this quantity for its document; a larger key never yields a larger score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthKey {
    /// The Lucene norm byte ([`smallfloat::int_to_byte4`] of the length), 0..=255.
    NormByte,
    /// The exact document length.
    Length,
    /// The top 16 bits of the f32 length `sum_t w_t * tf` of a weighted segment
    /// ([`weighted_key`]): monotone in the length, because the bit patterns of non-negative
    /// floats order as the floats do. Scores read the exact f32 length; a bound computed from
    /// the smallest length with a given key ([`key_floor`]) therefore bounds every document
    /// with that key. 16 bits (a relative resolution of 2^-7) keep frontiers as short as
    /// Lucene's norm bytes do.
    Weighted,
    /// No length dependence (TF-IDF over weights): every key is 0, a block's frontier is its
    /// largest value.
    None,
}

/// The [`LengthKey::Weighted`] key of an f32 length (>= 0).
#[inline(always)]
pub fn weighted_key(len: f32) -> u32 {
    len.to_bits() >> 16
}

/// The smallest f32 length whose [`weighted_key`] is `key` (every length with that key is at
/// least this).
#[inline(always)]
pub fn key_floor(key: u32) -> f32 {
    f32::from_bits(key << 16)
}

impl ScoringKind {
    /// The per-document quantity this model's block bounds are a function of.
    pub fn length_key(self) -> LengthKey {
        match self {
            ScoringKind::Lucene | ScoringKind::Tfidf => LengthKey::NormByte,
            ScoringKind::TdvBm25 => LengthKey::Weighted,
            ScoringKind::TdvTfidf | ScoringKind::Impact => LengthKey::None,
            _ => LengthKey::Length,
        }
    }
}

/// Each document's length in one segment, as scores and bounds read it: a view of the
/// memory-mapped norm bytes or lengths.
#[derive(Debug, Clone, Copy)]
pub enum DocKeys<'a> {
    /// Norm bytes by local doc id.
    NormBytes(&'a [u8]),
    /// Lengths by local doc id.
    Lengths(&'a [u32]),
    /// Real-valued lengths of a weighted segment by local doc id ([`LengthKey::Weighted`]).
    Weighted(&'a [f32]),
    /// No length dependence ([`LengthKey::None`]).
    None,
}

impl DocKeys<'_> {
    /// Bytes of the length keys.
    #[inline]
    pub fn byte_len(&self) -> usize {
        match self {
            DocKeys::NormBytes(n) => n.len(),
            DocKeys::Lengths(l) => 4 * l.len(),
            DocKeys::Weighted(l) => 4 * l.len(),
            DocKeys::None => 0,
        }
    }

    /// Asks the CPU to fetch the length keys of `docs` into cache (one request per cache line;
    /// no effect off x86-64). Cursors call it a few postings ahead so that the keys of a large
    /// collection, read one candidate at a time by the pruning algorithms, arrive in time.
    #[inline]
    pub fn prefetch(&self, docs: &[u32]) {
        #[cfg(target_arch = "x86_64")]
        {
            let (bytes, shift): (&[u8], u32) = match self {
                DocKeys::NormBytes(n) => (n, 0),
                DocKeys::Lengths(l) => (bytemuck::cast_slice(l), 2),
                DocKeys::Weighted(l) => (bytemuck::cast_slice(l), 2),
                DocKeys::None => return,
            };
            let mut last = usize::MAX;
            for &d in docs {
                let at = (d as usize) << shift;
                if at >> 6 != last {
                    last = at >> 6;
                    crate::prefetch::prefetch(bytes, at);
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = docs;
    }

    /// Length key of local document `doc` (0 for an out-of-range id, which only a damaged index
    /// opened without verification can produce).
    #[inline(always)]
    pub fn get(&self, doc: u32) -> u32 {
        match self {
            DocKeys::NormBytes(n) => n.get(doc as usize).map_or(0, |&b| u32::from(b)),
            DocKeys::Lengths(l) => l.get(doc as usize).copied().unwrap_or(0),
            DocKeys::Weighted(l) => l.get(doc as usize).map_or(0, |&x| weighted_key(x)),
            DocKeys::None => 0,
        }
    }

    /// The length factor a score of local document `doc` uses: [`LengthNorm::factor`] of its
    /// key, except for weighted lengths, whose factor is computed from the exact length.
    #[inline(always)]
    pub fn factor(&self, norm: &LengthNorm, doc: u32) -> f32 {
        match self {
            DocKeys::Weighted(l) => norm.length_factor(l.get(doc as usize).copied().unwrap_or(0.0)),
            _ => norm.factor(self.get(doc)),
        }
    }

    /// Length factors of `docs` into `out` (same length), with the dispatch out of the loop;
    /// `out[i] == self.factor(norm, docs[i])` bit for bit.
    #[inline(always)]
    pub fn factors(&self, norm: &LengthNorm, docs: &[u32], out: &mut [f32]) {
        match self {
            DocKeys::NormBytes(n) if norm.kind == ScoringKind::Lucene => {
                let table = norm.table();
                for (o, &d) in out.iter_mut().zip(docs) {
                    *o = table[n.get(d as usize).map_or(0, |&b| b as usize)];
                }
            }
            DocKeys::Weighted(l) => {
                for (o, &d) in out.iter_mut().zip(docs) {
                    *o = norm.length_factor(l.get(d as usize).copied().unwrap_or(0.0));
                }
            }
            DocKeys::None => out.fill(0.0),
            _ => {
                for (o, &d) in out.iter_mut().zip(docs) {
                    *o = norm.factor(self.get(d));
                }
            }
        }
    }
}

/// Maps a document's length key to the length factor [`TermScorer::score`] takes.
///
/// For `lucene` this is `cache[norm]`, the inverse length factor Lucene computes per norm
/// byte (a 256-entry table, built once per index); for the other BM25 variants it is
/// `k1 * (1 - b + b * dl / avgdl)` (BM25L: `1 - b + b * dl / avgdl`); for TF-IDF `1 / sqrt(dl)`;
/// for `tdv-bm25` the `K = k1 * (1 - b) + (k1 * b / avgdl) * L` of the real length `L`
/// ([`LengthNorm::length_factor`]; [`LengthNorm::factor`] of a key is that of the key's
/// smallest length, [`key_floor`]); `tdv-tfidf` has none (0).
/// Factors are computed on the fly from the memory-mapped lengths, so opening an index does no
/// per-document work.
///
/// Monotonicity (used by block-max bounds): as a function of the key, every factor is computed
/// by a chain of correctly rounded, monotone f32 operations, so it is exactly monotone: the
/// Lucene and TF-IDF factors never increase with the key, the others never decrease; in every
/// model a larger key never yields a larger score. For `tdv-bm25`, every length `L` with key
/// `k` is `>= key_floor(k)`, so `factor(k) <= length_factor(L)`.
#[derive(Debug, Clone)]
pub struct LengthNorm {
    kind: ScoringKind,
    k1: f32,
    b: f32,
    avgdl: f32,
    /// `tdv-bm25`: `K = c0 + c1 * L` with `c0 = k1 * (1 - b)`, `c1 = k1 * b / avgdl`.
    c0: f32,
    c1: f32,
    table: Box<[f32; 256]>,
}

impl LengthNorm {
    /// The factors for `config` over a collection with `stats`.
    pub fn new(config: &ScoringConfig, stats: &CollectionStats) -> Self {
        let avgdl = stats.avgdl();
        let (k1, b) = (config.k1, config.b);
        let mut table = Box::new([0f32; 256]);
        if config.kind == ScoringKind::Lucene {
            for (i, c) in table.iter_mut().enumerate() {
                let len = smallfloat::byte4_to_int(i as u8) as f32;
                *c = 1.0 / (k1 * ((1.0 - b) + b * len / avgdl));
            }
        }
        if config.kind == ScoringKind::Tfidf {
            // ClassicSimilarity.lengthNorm, `(float) (1.0 / Math.sqrt(length))`, of each
            // byte's length; byte 0 (an empty field) as TFIDFSimilarity sets it.
            for (i, c) in table.iter_mut().enumerate().skip(1) {
                *c = (1.0 / f64::from(smallfloat::byte4_to_int(i as u8)).sqrt()) as f32;
            }
            table[0] = 1.0 / table[255];
        }
        Self {
            kind: config.kind,
            k1,
            b,
            avgdl,
            c0: k1 * (1.0 - b),
            c1: k1 * b / avgdl,
            table,
        }
    }

    /// The quantity [`LengthNorm::factor`] takes.
    pub fn key(&self) -> LengthKey {
        self.kind.length_key()
    }

    /// The length factor of a document whose length key is `key` (for `tdv-bm25`: the `K` of
    /// the smallest length with that key, the smallest `K` of those lengths).
    #[inline(always)]
    pub fn factor(&self, key: u32) -> f32 {
        let (k1, b, avgdl) = (self.k1, self.b, self.avgdl);
        match self.kind {
            ScoringKind::Lucene => self.table[(key & 0xff) as usize],
            ScoringKind::TdvBm25 => self.length_factor(key_floor(key)),
            ScoringKind::TdvTfidf | ScoringKind::Impact => 0.0,
            ScoringKind::Robertson | ScoringKind::Atire | ScoringKind::Bm25Plus => {
                k1 * (1.0 - b + b * key as f32 / avgdl)
            }
            ScoringKind::Bm25l => 1.0 - b + b * key as f32 / avgdl,
            ScoringKind::Tfidf => self.table[(key & 0xff) as usize],
        }
    }

    /// The `tdv-bm25` factor of a real length: `K = k1 * (1 - b) + (k1 * b / avgdl) * len`, the
    /// `K` of `thresher.tdv.scoring` (one multiplication and one addition per posting, no
    /// division; each monotone, so `K` never decreases with `len`).
    #[inline(always)]
    pub fn length_factor(&self, len: f32) -> f32 {
        self.c0 + self.c1 * len
    }

    /// The Lucene cache table (all zeros for the other models).
    #[inline(always)]
    pub fn table(&self) -> &[f32; 256] {
        &self.table
    }
}

/// Constants for scoring one query term; see [`ScoringKind`] for the formulas.
#[derive(Debug, Clone, Copy)]
pub struct TermScorer {
    kind: ScoringKind,
    /// idf × query weight (× (k1 + 1) where the variant has it).
    weight: f32,
    k1: f32,
    delta: f32,
    /// The term's learned weight `w_t` in the segment being searched (weighted models; 1
    /// otherwise): the effective frequency is `x = tf * term_weight`.
    term_weight: f32,
}

impl TermScorer {
    /// Precomputes the constants of a term with document frequency `df` and query weight `boost`.
    pub fn new(config: &ScoringConfig, stats: &CollectionStats, df: u64, boost: f32) -> Self {
        let n = stats.num_docs as f64;
        let dff = df as f64;
        let idf: f64 = match config.kind {
            ScoringKind::Lucene => (1.0 + (n - dff + 0.5) / (dff + 0.5)).ln(),
            ScoringKind::Robertson => ((n - dff + 0.5) / (dff + 0.5)).ln(),
            ScoringKind::Atire => (n / dff.max(1.0)).ln(),
            ScoringKind::Bm25l => ((n + 1.0) / (dff + 0.5)).ln(),
            ScoringKind::Bm25Plus => ((n + 1.0) / dff.max(1.0)).ln(),
            ScoringKind::Tfidf => 1.0 + ((n + 1.0) / (dff + 1.0)).ln(),
            ScoringKind::TdvBm25 | ScoringKind::TdvTfidf => {
                (1.0 + (n - dff + 0.5) / (dff + 0.5)).ln()
            }
            ScoringKind::Impact => 1.0,
        };
        let idf = idf as f32;
        let k1 = config.k1;
        let weight = match config.kind {
            // Lucene: weight = boost * idf, both floats.
            ScoringKind::Lucene | ScoringKind::TdvBm25 | ScoringKind::TdvTfidf => boost * idf,
            ScoringKind::Robertson
            | ScoringKind::Atire
            | ScoringKind::Bm25l
            | ScoringKind::Bm25Plus => boost * idf * (k1 + 1.0),
            ScoringKind::Tfidf => boost * idf,
            // One rounding of the exact product: the per-term factor of the dot product.
            ScoringKind::Impact => {
                let scale = config.impact.map_or(1.0, |q| q.scale);
                (f64::from(boost) * scale) as f32
            }
        };
        Self {
            kind: config.kind,
            weight,
            k1,
            delta: config.delta,
            term_weight: 1.0,
        }
    }

    /// This scorer for a segment where the term's learned weight is `w` (weighted models; the
    /// other models ignore it). `w` must be finite and > 0.
    #[inline]
    pub fn with_term_weight(mut self, w: f32) -> Self {
        self.term_weight = w;
        self
    }

    /// The score of a posting with term frequency `tf` in a document whose [`LengthNorm`]
    /// factor is `norm`. Zero when `tf == 0`.
    #[inline(always)]
    pub fn score(&self, tf: u32, norm: f32) -> f32 {
        let tf = tf as f32;
        let w = self.weight;
        match self.kind {
            ScoringKind::Lucene => w - w / (1.0 + tf * norm),
            ScoringKind::TdvBm25 => {
                let x = tf * self.term_weight;
                w * x / (x + norm)
            }
            ScoringKind::TdvTfidf => w * (tf * self.term_weight),
            ScoringKind::Impact => w * tf,
            ScoringKind::Robertson | ScoringKind::Atire => w * tf / (tf + norm),
            ScoringKind::Bm25Plus => w * tf / (tf + norm) + w / (self.k1 + 1.0) * self.delta,
            ScoringKind::Bm25l => {
                let c = tf / norm + self.delta;
                w * c / (self.k1 + c)
            }
            ScoringKind::Tfidf => w * tf.sqrt() * norm,
        }
    }

    /// Scores a run of postings: `out[i] = self.score(tfs[i], norms[i])`, bit for bit, with the
    /// model dispatch hoisted out of the loop so the loop vectorises.
    ///
    /// # Panics
    /// Never for equal lengths; only the common prefix is scored otherwise.
    #[inline(always)]
    pub fn score_many(&self, tfs: &[u32], norms: &[f32], out: &mut [f32]) {
        let n = tfs.len().min(norms.len()).min(out.len());
        let (tfs, norms, out) = (&tfs[..n], &norms[..n], &mut out[..n]);
        let w = self.weight;
        macro_rules! each {
            (|$tf:ident, $nm:ident| $e:expr) => {
                for ((o, &t), &$nm) in out.iter_mut().zip(tfs).zip(norms) {
                    let $tf = t as f32;
                    *o = $e;
                }
            };
        }
        let tw = self.term_weight;
        match self.kind {
            ScoringKind::Lucene => each!(|tf, nm| w - w / (1.0 + tf * nm)),
            ScoringKind::TdvBm25 => each!(|tf, nm| {
                let x = tf * tw;
                w * x / (x + nm)
            }),
            ScoringKind::TdvTfidf => each!(|tf, _nm| w * (tf * tw)),
            ScoringKind::Impact => each!(|tf, _nm| w * tf),
            ScoringKind::Robertson | ScoringKind::Atire => each!(|tf, nm| w * tf / (tf + nm)),
            ScoringKind::Bm25Plus => {
                let c = w / (self.k1 + 1.0) * self.delta;
                each!(|tf, nm| w * tf / (tf + nm) + c)
            }
            ScoringKind::Bm25l => {
                let (k1, delta) = (self.k1, self.delta);
                each!(|tf, nm| {
                    let c = tf / nm + delta;
                    w * c / (k1 + c)
                })
            }
            ScoringKind::Tfidf => each!(|tf, nm| w * tf.sqrt() * nm),
        }
    }

    /// An upper bound of `score(t, f)` over every posting whose `t <= tf` and whose length
    /// factor is no better than `norm` (i.e. its document's length key is >= the key `norm`
    /// was computed from), for a non-negative weight.
    ///
    /// Why this is a true bound of the *f32* scores: for `lucene`, `tfidf`, `tdv-tfidf` and
    /// `impact` (`w * q`, one correctly rounded product of non-negatives),
    /// `score` is a chain of correctly rounded operations each monotone in its operands
    /// (`tf * norm`, `1 + x`, `w / y`, `w - z`; `sqrt`, products of non-negatives), so the
    /// computed score is itself monotone and `score(tf, norm)` bounds it exactly. `tdv-bm25`
    /// computes `x = tf * w_t` (monotone, so a larger `tf` gives an `x` at least as large) and
    /// then `w * x / (x + K)`, which is the Robertson case below with `x` for `tf`. The other variants divide two
    /// quantities that both grow with `tf` (`w * tf / (tf + norm)`), which is monotone in real
    /// arithmetic but may wobble by an ulp in f32. Their computed value lies within a relative
    /// `(1 ± 3u)` of the real one (three roundings; BM25+ adds a constant with one more rounding,
    /// BM25L's `c = tf / norm + delta` is itself monotone), so any dominated posting's computed
    /// score is at most `score(tf, norm) * (1 + 6.1u) / (1 - u)` (< `1 + 9u`, u = 2^-24). We
    /// multiply by `1 + 2^-20` (= `1 + 16u`), which after its own rounding still exceeds that.
    #[inline]
    pub fn bound(&self, tf: u32, norm: f32) -> f32 {
        let s = self.score(tf, norm);
        match self.kind {
            ScoringKind::Lucene
            | ScoringKind::Tfidf
            | ScoringKind::TdvTfidf
            | ScoringKind::Impact => s,
            _ => s * (1.0 + 1.0 / 1_048_576.0),
        }
    }

    /// The largest [`TermScorer::bound`] over `(tf, norm)` pairs (0 for none). For `lucene` the
    /// score depends on the pair only through `x = tf * norm` and never decreases with it, so the
    /// maximum is `score` at the largest `x`: one division per set instead of one per pair.
    #[inline]
    pub fn max_bound(&self, pairs: impl Iterator<Item = (u32, f32)>) -> f32 {
        if self.kind == ScoringKind::Lucene {
            let mut x_max: Option<f32> = None;
            for (tf, norm) in pairs {
                let x = tf as f32 * norm;
                x_max = Some(x_max.map_or(x, |m| m.max(x)));
            }
            let w = self.weight;
            return x_max.map_or(0.0, |x| w - w / (1.0 + x));
        }
        pairs.fold(0.0, |m, (tf, norm)| m.max(self.bound(tf, norm)))
    }

    /// A key of `(tf, norm)` that does not depend on the query, for the models whose score
    /// bound is a non-decreasing function of it times nothing but query constants: `lucene`
    /// (`tf * norm`) and `impact` (`tf`). `None` for the others. A block's bound is then
    /// [`TermScorer::bound_of_key`] of the largest key of its frontier pairs, bit for bit
    /// what [`TermScorer::max_bound`] gives, so the largest key per block can be computed once
    /// per index and reused by every query.
    #[inline]
    pub fn query_free_key(kind: ScoringKind, tf: u32, norm: f32) -> Option<f32> {
        match kind {
            ScoringKind::Lucene => Some(tf as f32 * norm),
            ScoringKind::Impact => Some(tf as f32),
            _ => None,
        }
    }

    /// The bound of pairs whose largest [`TermScorer::query_free_key`] is `key` (only for the
    /// models that have one).
    #[inline]
    pub fn bound_of_key(&self, key: f32) -> f32 {
        let w = self.weight;
        match self.kind {
            ScoringKind::Lucene => w - w / (1.0 + key),
            _ => w * key,
        }
    }

    /// The query-side weight (idf × boost, and the variant's constant factor).
    pub fn weight(&self) -> f32 {
        self.weight
    }

    /// A bound (in f64) on the magnitude of every value [`TermScorer::score`] computes for
    /// this term, intermediate products included, for any posting (`tf <= u32::MAX`) of a
    /// collection normalised by `norm`. When a query's bounds sum to at most `f32::MAX`, no
    /// score of it, nor any sum of its terms' scores, overflows float32 (and so none is inf
    /// or NaN); `inf` or NaN here (a non-finite weight) means it would.
    pub fn magnitude_bound(&self, norm: &LengthNorm) -> f64 {
        const TF: f64 = u32::MAX as f64;
        let w = f64::from(self.weight).abs();
        let (k1, delta) = (f64::from(self.k1), f64::from(self.delta));
        let tw = f64::from(self.term_weight);
        match self.kind {
            // w - w / (1 + tf * norm): both parts within [0, w].
            ScoringKind::Lucene => w,
            // w * x with x = tf * term_weight (x / (x + K) <= 1 after it).
            ScoringKind::TdvBm25 | ScoringKind::TdvTfidf => w * TF * tw.max(1.0),
            // w * tf (the impact or raw frequency), then a division by at least tf.
            ScoringKind::Impact | ScoringKind::Robertson | ScoringKind::Atire => w * TF,
            ScoringKind::Bm25Plus => w * TF + w / (k1 + 1.0) * delta,
            // w * sqrt(tf) (<= 2^16), then times a length factor: the largest is byte 0's,
            // 1 / table[255] (about 4.6e4).
            ScoringKind::Tfidf => w * TF.sqrt() * f64::from(norm.table[0].max(1.0)),
            // c = tf / (1 - b + b * len / avgdl) + delta, then w * c (c / (k1 + c) <= 1):
            // len >= tf bounds tf / norm by avgdl / b, and tf / (1 - b) bounds it too.
            ScoringKind::Bm25l => {
                let (b, avgdl) = (f64::from(norm.b), f64::from(norm.avgdl));
                let by_len = if b > 0.0 { avgdl / b } else { f64::INFINITY };
                let by_tf = if b < 1.0 {
                    TF / (1.0 - b)
                } else {
                    f64::INFINITY
                };
                w * (by_len.min(by_tf) + delta)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> CollectionStats {
        CollectionStats {
            num_docs: 1000,
            total_length: 100_000.0,
        }
    }

    /// A config of `kind` (impact: 8 bits, scale 1, so scores are the reference's `tf`).
    fn config(kind: ScoringKind, k1: f32, b: f32) -> ScoringConfig {
        if kind == ScoringKind::Impact {
            return ScoringConfig::impact(ImpactQuantization::new(8, 1.0).unwrap()).unwrap();
        }
        ScoringConfig::new(kind, k1, b, None).unwrap()
    }

    /// Straightforward f64 reference of each formula, written from the papers' notation.
    fn reference(kind: ScoringKind, tf: f64, dl: f64, df: f64, k1: f64, b: f64, delta: f64) -> f64 {
        let (n, avgdl) = (1000.0f64, 100.0f64);
        let k = 1.0 - b + b * dl / avgdl;
        match kind {
            ScoringKind::Lucene => (1.0 + (n - df + 0.5) / (df + 0.5)).ln() * tf / (tf + k1 * k),
            ScoringKind::Robertson => {
                ((n - df + 0.5) / (df + 0.5)).ln() * tf * (k1 + 1.0) / (tf + k1 * k)
            }
            ScoringKind::Atire => (n / df).ln() * tf * (k1 + 1.0) / (tf + k1 * k),
            ScoringKind::Bm25l => {
                let c = tf / k;
                ((n + 1.0) / (df + 0.5)).ln() * (k1 + 1.0) * (c + delta) / (k1 + c + delta)
            }
            ScoringKind::Bm25Plus => {
                ((n + 1.0) / df).ln() * ((k1 + 1.0) * tf / (k1 * k + tf) + delta)
            }
            ScoringKind::Tfidf => {
                let idf = 1.0 + ((n + 1.0) / (df + 1.0)).ln();
                tf.sqrt() * idf / dl.sqrt()
            }
            // `thresher.tdv.scoring` with weight 1: x = tf.
            ScoringKind::TdvBm25 => (1.0 + (n - df + 0.5) / (df + 0.5)).ln() * tf / (tf + k1 * k),
            ScoringKind::TdvTfidf => (1.0 + (n - df + 0.5) / (df + 0.5)).ln() * tf,
            ScoringKind::Impact => tf,
        }
    }

    /// A document of (integer) length `len`: its key, and the factor a score uses. Weighted
    /// models see the real length `len * 0.37` (so keys are coarser than lengths).
    fn doc(cfg: &ScoringConfig, norm: &LengthNorm, len: u32) -> (u32, f32) {
        match cfg.kind.length_key() {
            LengthKey::NormByte => {
                let k = u32::from(smallfloat::int_to_byte4(len));
                (k, norm.factor(k))
            }
            LengthKey::Length => (len, norm.factor(len)),
            LengthKey::Weighted => {
                let l = len as f32 * 0.37;
                (weighted_key(l), norm.length_factor(l))
            }
            LengthKey::None => (0, norm.factor(0)),
        }
    }

    proptest::proptest! {
        /// Every posting dominated by a pair scores at most `bound`, `max_bound` equals the
        /// largest `bound`, and `score_many` equals `score` bit for bit.
        #[test]
        fn bounds_bound_and_batch_scoring_is_exact(
            kind_i in 0usize..9, k1 in 0.0f32..3.0, b in 0.0f32..1.0, df in 1u64..1000,
            boost in 0.01f32..5.0, tw in proptest::prop_oneof![proptest::strategy::Just(1.0f32), 1e-3f32..50.0],
            pairs in proptest::collection::vec((1u32..200, 1u32..5000), 1..20),
            slack in proptest::collection::vec((0u32..50, 0u32..300), 20),
        ) {
            let kind = ScoringKind::from_name(ScoringKind::NAMES[kind_i]).unwrap();
            let cfg = config(kind, k1, b);
            let st = stats();
            let norm = LengthNorm::new(&cfg, &st);
            let s = TermScorer::new(&cfg, &st, df, boost).with_term_weight(tw);
            proptest::prop_assume!(s.weight() >= 0.0);
            let mut all = Vec::new();
            for (&(tf, len), &(dt, dl)) in pairs.iter().zip(&slack) {
                // The bound of a dominating pair: its value, and its key's factor.
                let (k, _) = doc(&cfg, &norm, len);
                let bound = s.bound(tf + dt, norm.factor(k));
                let got = s.score(tf, doc(&cfg, &norm, len + dl).1);
                proptest::prop_assert!(got <= bound, "{kind:?} {got} > {bound}");
                // A posting scores at most the bound of its own key.
                let own = s.score(tf, doc(&cfg, &norm, len).1);
                proptest::prop_assert!(own <= s.bound(tf, norm.factor(k)), "{kind:?}");
                all.push((tf + dt, norm.factor(k)));
            }
            let want = all.iter().fold(0f32, |m, &(t, n)| m.max(s.bound(t, n)));
            proptest::prop_assert_eq!(s.max_bound(all.iter().copied()).to_bits(), want.to_bits());
            // The query-free key route gives the same bits.
            let keys: Option<Vec<f32>> = all
                .iter()
                .map(|&(t, n)| TermScorer::query_free_key(kind, t, n))
                .collect();
            if let Some(keys) = keys {
                let key = keys.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                proptest::prop_assert_eq!(s.bound_of_key(key).to_bits(), want.to_bits(), "{:?}", kind);
            }
            let tfs: Vec<u32> = pairs.iter().map(|p| p.0).collect();
            let ns: Vec<f32> = pairs.iter().map(|p| doc(&cfg, &norm, p.1).1).collect();
            let mut out = vec![0f32; tfs.len()];
            s.score_many(&tfs, &ns, &mut out);
            for ((&t, &n), &o) in tfs.iter().zip(&ns).zip(&out) {
                proptest::prop_assert_eq!(s.score(t, n).to_bits(), o.to_bits());
            }
        }

        /// A term whose `magnitude_bound` is at most `f32::MAX` scores every posting to a
        /// finite value within the bound, however large the weights, `k1`, tf and length.
        #[test]
        fn scores_within_the_magnitude_bound_are_finite(
            kind_i in 0usize..9, k1_exp in -3.0f64..38.5, b in 0.0f32..=1.0, df in 1u64..1000,
            boost_exp in -3.0f64..38.5, tw_exp in -3.0f64..3.0, tf_exp in 0.0f64..32.0,
            extra in 0u32..1_000_000,
        ) {
            let kind = ScoringKind::from_name(ScoringKind::NAMES[kind_i]).unwrap();
            let k1 = (10f64.powf(k1_exp) as f32).min(f32::MAX);
            let cfg = config(kind, k1, b);
            let st = stats();
            let norm = LengthNorm::new(&cfg, &st);
            let boost = (10f64.powf(boost_exp) as f32).min(f32::MAX);
            let s = TermScorer::new(&cfg, &st, df, boost)
                .with_term_weight(10f64.powf(tw_exp) as f32);
            let bound = s.magnitude_bound(&norm);
            if bound > f64::from(f32::MAX) {
                return Ok(()); // a query with this term is refused (`Prepared::check_range`)
            }
            let tf = 2f64.powf(tf_exp).min(f64::from(u32::MAX)) as u32;
            let got = s.score(tf, doc(&cfg, &norm, tf.saturating_add(extra)).1);
            proptest::prop_assert!(got.is_finite(), "{kind:?} {got} (bound {bound:e})");
            proptest::prop_assert!(f64::from(got.abs()) <= bound * (1.0 + 1e-6), "{kind:?}");
        }

        #[test]
        fn every_variant_matches_its_formula(
            kind_i in 0usize..9, tf in 1u32..50, dl in 1u32..39, df in 1u64..1000,
            k1 in 0.1f32..3.0, b in 0.0f32..1.0,
        ) {
            // dl < 40 so Lucene's norm byte is exact and all variants see the true length.
            let kind = ScoringKind::from_name(ScoringKind::NAMES[kind_i]).unwrap();
            let cfg = config(kind, k1, b);
            let norm = LengthNorm::new(&cfg, &stats());
            let factor = match cfg.kind.length_key() {
                LengthKey::NormByte => norm.factor(u32::from(smallfloat::int_to_byte4(dl))),
                LengthKey::Length => norm.factor(dl),
                LengthKey::Weighted => norm.length_factor(dl as f32),
                LengthKey::None => 0.0,
            };
            let got = TermScorer::new(&cfg, &stats(), df, 1.0).score(tf, factor) as f64;
            let want = reference(kind, tf as f64, dl as f64, df as f64, k1 as f64, b as f64, cfg.delta as f64);
            proptest::prop_assert!((got - want).abs() <= 1e-4 * want.abs().max(1e-3), "{kind:?}: {got} vs {want}");
        }
    }

    #[test]
    fn bad_parameters_are_rejected() {
        for (k1, b) in [
            (f32::NAN, 0.4),
            (0.9, f32::NAN),
            (f32::INFINITY, 0.4),
            (-1.0, 0.4),
            (0.9, -0.1),
            (0.9, 1.5),
        ] {
            assert!(
                ScoringConfig::new(ScoringKind::Lucene, k1, b, None).is_err(),
                "{k1} {b}"
            );
        }
        assert!(ScoringConfig::new(ScoringKind::Bm25Plus, 0.9, 0.4, Some(f32::NAN)).is_err());
        let e = ScoringConfig::new(ScoringKind::Lucene, 0.9, 0.4, Some(0.5)).unwrap_err();
        assert!(
            e.to_string().contains("applies to bm25l and bm25+ only"),
            "{e}"
        );
        assert!(ScoringConfig::new(ScoringKind::Bm25l, 0.9, 0.4, Some(0.5)).is_ok());
        let e = ScoringKind::from_name("okapi").unwrap_err().to_string();
        assert!(e.contains("lucene") && e.contains("tfidf"), "{e}");
    }

    #[test]
    fn weighted_keys_are_monotone_floors() {
        let mut prev = 0;
        for i in 0..100_000u32 {
            let len = i as f32 * 0.731;
            let k = weighted_key(len);
            assert!(k >= prev && key_floor(k) <= len);
            assert!(len - key_floor(k) <= len / 128.0);
            prev = k;
        }
    }

    #[test]
    fn impact_quantisation_rule() {
        let q = ImpactQuantization::new(8, 0.5).unwrap();
        assert_eq!(q.max_value(), 255);
        // 0 -> no posting; tiny -> 1; halves round to even; the top is 2^bits - 1.
        assert_eq!(q.quantize(0.0), Some(0));
        assert_eq!(q.quantize(1e-9), Some(1));
        assert_eq!(q.quantize(1.25), Some(2)); // 2.5 -> 2
        assert_eq!(q.quantize(1.75), Some(4)); // 3.5 -> 4
        assert_eq!(q.quantize(127.5), Some(255));
        assert_eq!(q.quantize(127.8), None);
        for (bits, scale) in [
            (0, 1.0),
            (17, 1.0),
            (8, 0.0),
            (8, -1.0),
            (8, f64::NAN),
            (8, 1e-300),
        ] {
            assert!(
                ImpactQuantization::new(bits, scale).is_err(),
                "{bits} {scale}"
            );
        }
        // The config needs a quantisation exactly for impact scoring.
        assert!(ScoringConfig::new(ScoringKind::Impact, 0.9, 0.4, None).is_err());
        let c = ScoringConfig {
            impact: Some(q),
            ..ScoringConfig::default()
        };
        assert!(c.validate().is_err());
        // Scores: f32(boost * scale) * q, one rounding each.
        let c = ScoringConfig::impact(ImpactQuantization::new(8, 0.1).unwrap()).unwrap();
        let st = stats();
        let s = TermScorer::new(&c, &st, 3, 3.0);
        assert_eq!(s.weight(), (3.0f64 * 0.1) as f32);
        assert_eq!(s.score(7, 0.0), (3.0f64 * 0.1) as f32 * 7.0);
        // Old meta.json configs (no `impact` field) still parse, and are written unchanged.
        let old = r#"{"kind":"lucene","k1":0.9,"b":0.4,"delta":0.0}"#;
        let parsed: ScoringConfig = serde_json::from_str(old).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), old);
    }
}

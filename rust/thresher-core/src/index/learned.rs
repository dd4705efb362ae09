//! Learned term weights on an [`Index`]: its vocabulary, its document-term matrix, and
//! [`Index::reweight`], which turns an index into one scored over term weights (the `tdv-*`
//! models, after Frej et al., "Learning Term Discrimination", SIGIR 2020).
//!
//! The vocabulary of an index is the union of its segments' terms in byte order (for one
//! segment, term-id order); weights and matrix columns are aligned with it. Reweighting
//! re-encodes every segment: terms of weight 0 are left out, the others keep their raw term
//! frequencies and gain their weight, and document lengths become `sum_t w_t * tf` (see
//! [`crate::index::segment`]); segments are immutable, so the result is a new in-memory index.

use crate::error::{Error, Result};
use crate::index::segment::{weighted_length, DocLengths, Segment, SegmentWriter};
use crate::index::terms::TermInfo;
use crate::index::{new_segment_name, Index, IndexMeta};
use crate::score::{ScoringConfig, ScoringKind};

/// A compressed-sparse-row matrix (documents x vocabulary) of term frequencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrMatrix {
    /// Rows (documents) and columns (vocabulary terms).
    pub shape: (usize, usize),
    /// Row `r`'s entries are `indptr[r]..indptr[r + 1]`.
    pub indptr: Vec<i64>,
    /// Column of each entry, increasing within a row.
    pub indices: Vec<i64>,
    /// Term frequency of each entry (>= 1).
    pub data: Vec<u32>,
}

/// The terms of one segment with their dictionary entries, in byte order.
fn segment_terms(seg: &Segment) -> Result<Vec<(String, TermInfo)>> {
    let mut out = Vec::with_capacity(seg.num_terms());
    let mut bad = None;
    seg.for_each_term(|id, t, info| match std::str::from_utf8(t) {
        Ok(t) => out.push((t.to_string(), info)),
        Err(_) => bad = bad.or(Some(id)),
    })?;
    if let Some(id) = bad {
        return Err(Error::corrupted(
            seg.name(),
            format!("term {id} is not UTF-8"),
        ));
    }
    // The dictionary is searched by bisection: an index opened without verification can hold
    // one out of order (verification checks the same).
    if let Some(i) = out
        .windows(2)
        .position(|w| w[0].0.as_bytes() >= w[1].0.as_bytes())
    {
        return Err(Error::corrupted(
            seg.name(),
            format!("the dictionary is not strictly sorted (term {})", i + 1),
        ));
    }
    Ok(out)
}

/// Decodes one term's postings of `seg` into `docs` / `vals` (cleared first).
fn decode(seg: &Segment, info: TermInfo, docs: &mut Vec<u32>, vals: &mut Vec<u32>) -> Result<()> {
    docs.clear();
    vals.clear();
    let damaged = || Error::corrupted(seg.name(), "a posting list is damaged");
    let list = seg.postings(info).ok_or_else(damaged)?;
    list.for_each_block(seg.num_docs() as u32, |d, v| {
        docs.extend_from_slice(d);
        vals.extend_from_slice(v);
    })
    .ok_or_else(damaged)
}

/// Position of `term` (a term of `seg`) in the sorted `vocab`; an error only for a damaged
/// dictionary.
fn column(vocab: &[String], term: &[u8], seg: &Segment) -> Result<usize> {
    vocab
        .binary_search_by(|v| v.as_bytes().cmp(term))
        .map_err(|_| {
            Error::corrupted(
                seg.name(),
                "a term is missing from the vocabulary (damaged dictionary)",
            )
        })
}

impl Index {
    /// The index's terms in byte order: the union of its segments' dictionaries (for a single
    /// segment, the terms in term-id order). Term weights ([`Index::reweight`]) and the columns
    /// of [`Index::doc_term_matrix`] are aligned with it.
    ///
    /// # Errors
    /// [`Error::Corrupted`] for a damaged dictionary.
    pub fn vocabulary(&self) -> Result<Vec<String>> {
        let mut all: Vec<String> = Vec::new();
        for v in self.segment_views() {
            all.extend(segment_terms(&v.segment)?.into_iter().map(|(t, _)| t));
        }
        if self.segment_views().len() > 1 {
            all.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            all.dedup();
        }
        Ok(all)
    }

    /// The learned weight of every vocabulary term (1 for an unweighted index), aligned with
    /// [`Index::vocabulary`]. In a multi-segment index a term takes its weight in the first
    /// segment that holds it.
    ///
    /// # Errors
    /// [`Error::Corrupted`] for a damaged dictionary.
    pub fn term_weights(&self) -> Result<Vec<f32>> {
        let vocab = self.vocabulary()?;
        let mut out = vec![f32::NAN; vocab.len()];
        for v in self.segment_views() {
            let seg = &v.segment;
            let mut cols = Vec::new();
            seg.for_each_term(|id, t, _| cols.push((id, t.to_vec())))?;
            for (id, t) in cols {
                let c = column(&vocab, &t, seg)?;
                if out[c].is_nan() {
                    out[c] = seg.term_weight(id);
                }
            }
        }
        Ok(out)
    }

    /// The documents x vocabulary matrix of raw term frequencies (rows in doc-id order,
    /// columns aligned with [`Index::vocabulary`]); for a weighted index, of the indexed terms.
    ///
    /// # Errors
    /// [`Error::Corrupted`] for a damaged dictionary or posting list.
    pub fn doc_term_matrix(&self) -> Result<CsrMatrix> {
        let vocab = self.vocabulary()?;
        let n = self.num_docs();
        let per_seg: Vec<Vec<(usize, TermInfo)>> = self
            .segment_views()
            .iter()
            .map(|v| {
                segment_terms(&v.segment)?
                    .into_iter()
                    .map(|(t, info)| Ok((column(&vocab, t.as_bytes(), &v.segment)?, info)))
                    .collect()
            })
            .collect::<Result<_>>()?;
        let (mut docs, mut vals) = (Vec::new(), Vec::new());
        // Pass 1: entries per row.
        let mut indptr = vec![0i64; n + 1];
        for (view, terms) in self.segment_views().iter().zip(&per_seg) {
            for &(_, info) in terms {
                decode(&view.segment, info, &mut docs, &mut vals)?;
                for &d in &docs {
                    indptr[(view.base + d) as usize + 1] += 1;
                }
            }
        }
        for r in 0..n {
            indptr[r + 1] += indptr[r];
        }
        let nnz = indptr[n] as usize;
        // Pass 2: fill. A document lives in one segment whose terms come in column order, so
        // each row's columns come out increasing.
        let mut next: Vec<i64> = indptr[..n].to_vec();
        let mut indices = vec![0i64; nnz];
        let mut data = vec![0u32; nnz];
        for (view, terms) in self.segment_views().iter().zip(&per_seg) {
            for &(col, info) in terms {
                decode(&view.segment, info, &mut docs, &mut vals)?;
                for (&d, &v) in docs.iter().zip(&vals) {
                    let slot = &mut next[(view.base + d) as usize];
                    indices[*slot as usize] = col as i64;
                    data[*slot as usize] = v;
                    *slot += 1;
                }
            }
        }
        Ok(CsrMatrix {
            shape: (n, vocab.len()),
            indptr,
            indices,
            data,
        })
    }

    /// A new index scored with `scoring` (a weighted model, `tdv-bm25` or `tdv-tfidf`) over
    /// the term weights `weights`, aligned with [`Index::vocabulary`].
    ///
    /// Terms of weight 0 leave the index; the others keep their postings (raw term
    /// frequencies) and gain their weight; document lengths become `sum_t w_t * tf` over the
    /// kept terms (summed in f64 in term order, stored as f32), and `N` counts the documents
    /// left with a posting. Weights replace any earlier ones (reweighting a weighted index
    /// starts again from the raw term frequencies). The analyzer and the document ids are kept.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `scoring` is not a weighted model, `weights` has another
    /// length than the vocabulary, a weight is NaN, infinite or negative, or the weighted
    /// lengths overflow f32; [`Error::Corrupted`] for damaged postings.
    pub fn reweight(&self, weights: &[f32], scoring: ScoringConfig) -> Result<Index> {
        scoring.validate()?;
        if !scoring.kind.weighted() {
            return Err(Error::invalid_argument(format!(
                "reweighting needs a weighted scoring model (tdv-bm25 or tdv-tfidf), not {}",
                scoring.kind.name()
            )));
        }
        if self.meta.scoring.kind == ScoringKind::Impact {
            return Err(Error::invalid_argument(
                "an impact index holds learned weights already; reweight applies to text \
                 indexes (its postings would be read as term frequencies)",
            ));
        }
        // The new index gets fresh checksums: damage in a segment loaded without verification
        // must be found now, not laundered into it.
        for view in self.segment_views() {
            for (component, _) in view.segment.payloads() {
                self.check_source(&view.segment, component, "reweight")?;
            }
        }
        let vocab = self.vocabulary()?;
        if weights.len() != vocab.len() {
            return Err(Error::invalid_argument(format!(
                "{} term weights for a vocabulary of {} terms",
                weights.len(),
                vocab.len()
            )));
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !w.is_finite() || **w < 0.0)
        {
            return Err(Error::invalid_argument(format!(
                "the weight of term {:?} (position {i}) is {w}; weights must be finite and >= 0",
                vocab[i]
            )));
        }
        let mut segments = Vec::with_capacity(self.segment_views().len());
        let (mut docs, mut vals) = (Vec::new(), Vec::new());
        for view in self.segment_views() {
            let seg = &view.segment;
            let mut kept: Vec<(String, TermInfo, f32)> = Vec::new();
            for (t, info) in segment_terms(seg)? {
                let w = weights[column(&vocab, t.as_bytes(), seg)?];
                if w > 0.0 {
                    kept.push((t, info, w));
                }
            }
            // Lengths first (block bounds need them), in term order as verification recomputes.
            let nd = seg.num_docs();
            let mut sums = vec![0f64; nd];
            let mut has = vec![false; nd];
            for (_, info, w) in &kept {
                decode(seg, *info, &mut docs, &mut vals)?;
                for (&d, &v) in docs.iter().zip(&vals) {
                    sums[d as usize] += f64::from(*w) * f64::from(v);
                    has[d as usize] = true;
                }
            }
            let lengths: Vec<f32> = sums
                .iter()
                .zip(&has)
                .map(|(&s, &h)| weighted_length(s, h))
                .collect();
            let mut writer =
                SegmentWriter::new(DocLengths::Real(lengths), scoring.kind.length_key())?;
            for (t, info, w) in &kept {
                decode(seg, *info, &mut docs, &mut vals)?;
                writer.push(t.as_bytes(), Some(*w), &docs, &vals)?;
            }
            let mut ids: Vec<String> = Vec::with_capacity(nd);
            seg.for_each_doc_id(|id| ids.push(id.to_owned()))?;
            let (t, p, d) = writer.finish(ids.iter().map(String::as_str));
            let name = new_segment_name();
            segments.push(Segment::from_parts(
                &name,
                t,
                p,
                d,
                std::path::Path::new("<memory>"),
            )?);
        }
        let meta = IndexMeta::new(self.meta().analyzer.clone(), scoring, &segments);
        Index::from_segments(meta, self.analyzer().clone(), segments, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::QueryInput;
    use crate::{Analyzer, DocInput, IndexBuilder, LoadOptions, ScoringKind};

    fn docs() -> Vec<(String, DocInput)> {
        let texts: [&[&str]; 5] = [
            &["a", "b", "b", "c"],
            &["b", "d"],
            &["a", "a", "a", "e"],
            &["c"],
            &[],
        ];
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let terms = t.iter().map(|s| s.to_string()).collect();
                (format!("d{i}"), DocInput::Tokens(terms))
            })
            .collect()
    }

    fn build(kind: ScoringKind, docs: Vec<(String, DocInput)>) -> Index {
        let cfg = ScoringConfig::new(kind, 0.9, 0.4, None).unwrap();
        let mut b = IndexBuilder::new(Analyzer::default(), cfg, Some(1)).unwrap();
        b.add_batch(docs).unwrap();
        b.finish().unwrap()
    }

    fn tdv() -> ScoringConfig {
        ScoringConfig::new(ScoringKind::TdvBm25, 0.9, 0.4, None).unwrap()
    }

    fn hits(index: &Index, q: &[&str]) -> Vec<(u32, u32)> {
        let q: Vec<String> = q.iter().map(|s| s.to_string()).collect();
        let q = index.query(QueryInput::Tokens(&q)).unwrap();
        let h = index.search(&q, 10).unwrap();
        h.into_iter().map(|(d, s)| (d, s.to_bits())).collect()
    }

    #[test]
    fn vocabulary_and_matrix_cover_every_segment() {
        let mut index = build(ScoringKind::Lucene, docs()[..3].to_vec());
        index
            .append(build(ScoringKind::Lucene, docs()[3..].to_vec()))
            .unwrap();
        assert_eq!(index.vocabulary().unwrap(), ["a", "b", "c", "d", "e"]);
        let m = index.doc_term_matrix().unwrap();
        assert_eq!(m.shape, (5, 5));
        assert_eq!(m.indptr, [0, 3, 5, 7, 8, 8]);
        assert_eq!(m.indices, [0, 1, 2, 1, 3, 0, 4, 2]);
        assert_eq!(m.data, [1, 2, 1, 1, 1, 3, 1, 1]);
        assert_eq!(index.term_weights().unwrap(), [1.0; 5]);
    }

    #[test]
    fn unit_weights_equal_a_weighted_build_and_zero_weights_prune() {
        let plain = build(ScoringKind::Lucene, docs());
        let direct = build(ScoringKind::TdvBm25, docs());
        let ones = plain.reweight(&[1.0; 5], tdv()).unwrap();
        for q in [&["a"][..], &["b", "c"], &["a", "d", "e", "c"]] {
            assert_eq!(hits(&ones, q), hits(&direct, q));
        }
        // Drop "a" and "c": d3 loses its only term, N drops from 4 to 3.
        let w = [0.0, 2.0, 0.0, 0.5, 1.5];
        let r = plain.reweight(&w, tdv()).unwrap();
        assert_eq!(r.vocabulary().unwrap(), ["b", "d", "e"]);
        assert_eq!(r.term_weights().unwrap(), [2.0, 0.5, 1.5]);
        assert_eq!(r.meta().num_nonempty_docs, 3);
        assert_eq!(r.meta().total_terms, 5);
        assert_eq!(r.meta().total_length, 4.0 + 2.5 + 1.5);
        assert!(hits(&r, &["a", "c"]).is_empty());
        // Score of "b" in d0: x = 2 * 2, L = 4, avgdl = 8 / 3, df = 2, N = 3.
        let idf = (1.0f64 + (3.0 - 2.0 + 0.5) / (2.0 + 0.5)).ln();
        let k = 0.9 * (1.0 - 0.4 + 0.4 * 4.0 / (8.0 / 3.0));
        let want = idf * 4.0 / (4.0 + k);
        let got = f32::from_bits(hits(&r, &["b"])[0].1);
        assert!((f64::from(got) - want).abs() < 1e-6, "{got} vs {want}");
        // Reweighting a weighted index starts again from raw tf.
        let again = r.reweight(&[1.0; 3], tdv()).unwrap();
        assert_eq!(again.meta().total_length, 5.0);
        // Save and load keep everything.
        let dir = tempfile::tempdir().unwrap();
        let mut r2 = plain.reweight(&w, tdv()).unwrap();
        r2.save(dir.path()).unwrap();
        let loaded = Index::load(dir.path(), LoadOptions::default()).unwrap();
        assert_eq!(loaded.meta().scoring.kind, ScoringKind::TdvBm25);
        for q in [&["b"][..], &["b", "d", "e"]] {
            assert_eq!(hits(&loaded, q), hits(&r, q));
        }
    }

    #[test]
    fn bad_weights_are_rejected() {
        let plain = build(ScoringKind::Lucene, docs());
        for (w, want) in [
            (vec![1.0; 4], "4 term weights for a vocabulary of 5"),
            (vec![1.0, f32::NAN, 1.0, 1.0, 1.0], "\"b\""),
            (vec![1.0, 1.0, f32::INFINITY, 1.0, 1.0], "\"c\""),
            (vec![1.0, 1.0, 1.0, -0.5, 1.0], "must be finite and >= 0"),
            (vec![3e38, 3e38, 1.0, 1.0, 1.0], "overflow"),
        ] {
            let e = plain.reweight(&w, tdv()).unwrap_err();
            assert!(
                matches!(e, Error::InvalidArgument(ref m) if m.contains(want)),
                "{e}"
            );
        }
        let lucene = ScoringConfig::default();
        assert!(plain.reweight(&[1.0; 5], lucene).is_err());
    }
}

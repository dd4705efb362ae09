"""``ExpansionModel``: SparTerm-style document expansion without a transformer.

A document ``d`` becomes a sparse vector over the analyzer's vocabulary,
``w(d) = G(d) ⊙ I(d)`` (Bai et al., "SparTerm: Learning Term-based Sparse Representation for
Fast Text Retrieval", 2020), with

* the **importance predictor** ``I(d) = I_lit(d) + I_lit(d) T``: ``I_lit`` holds the literal
  terms' Lucene BM25 impacts (k1 = 0.9, b = 0.4; or ``TDV(t) * tf`` when term weights are
  supplied), and ``T`` is a learned non-negative term-to-term matrix with at most ``m``
  non-zeros per row, initialised from document-level PPMI (:mod:`.cooc`) and refined with a
  softmax ranking loss on training queries (:mod:`.train`);
* the **gating controller** ``G(d)``: the literal terms, plus the expansion candidates whose
  gate probability exceeds ``tau`` (at most ``max_expansion`` per document), the gate being a
  logistic model over candidate features trained with binary cross-entropy towards the
  terms of the queries the document is relevant to (:mod:`.gate`).

Queries are bags of analysed terms (weight = count) and the score is the dot product, so the
query side needs only the analyzer. With the gate closed and ``reweight_literal=False`` the
representation is exactly the BM25 impact vector and the ranking is BM25's.

Training (:meth:`ExpansionModel.fit`), in order:

1. vocabulary = corpus terms plus training-query terms; ``I_lit`` = BM25 impacts;
2. ``P`` = PPMI top-``m`` per row (document-level co-occurrence, context-distribution
   smoothing ``cds``); ``T0 = alpha * P / rowsum(P)``: each source term spreads ``alpha``
   times its impact over its associates, so with ``alpha = 1`` (default, no tuning) the
   expansion mass of a document equals its literal mass and an expansion weight is on the
   scale of a literal one. With several ``alphas`` the dev queries choose (ungated top-M);
3. gate fitted on the training queries' relevant documents;
4. ``T`` refined with the gate fixed (the dev objective picks the epoch);
5. gate refitted on the refined ``T``; ``tau`` and ``max_expansion`` chosen on the dev
   queries among the settings within the postings budget (``max_postings_ratio`` times the
   literal postings) and the query-cost budget (``max_query_cost_ratio`` times the literal
   index's query cost, the postings the training queries' terms hold): for each ``tau``,
   the caps of ``max_expansion_grid`` plus the largest caps that still fit each budget.

The expansion source of document ``d`` is ``sigma_d I_lit(d)`` with
``sigma_d = (mean mass / mass of d) ** source_norm`` (default 1): without it a long document
gathers support from more terms and every expansion weight grows with its length, a bias
that ``T`` (shared by all documents) cannot undo. The dev objective is
``nDCG@10 + R@100 / 2 + R@1000 / 2`` over a seeded random ``dev_fraction`` (20 %) of the
training queries (or given explicitly); they never contribute gradients. Dev sets of a few
dozen queries cannot resolve recall at depth 1000 (one document moves R@1000 by 1/|rel|), so
settings within ``tie`` (0.002) of the best objective count as tied and the one with the
most expansion postings wins (within the budget): expansion terms only add to scores, and
their effect on the top ranks is what the objective does measure.

Defaults and why (measured with ``benches/expand_report.py``; the Cranfield CV figures
informed ``m``, ``cds``, ``source_norm`` and ``alpha``, SciFact's test split did not):

* ``m = 128`` targets per source term: with 64, most relevant documents that no query term
  reaches had no query term among their candidates at all (coverage, not gating, limited
  recall);
* ``cds = 0.75``: the smoothing exponent Levy, Goldberg & Dagan (TACL 2015) recommend; plain
  PMI prefers rare targets, which few queries use;
* 20 epochs of Adam with ``lr = 0.05`` times the mean initial entry, ``l2 = 1e-4`` towards
  ``T0``, 15 hard negatives out of the top 50 per (query, relevant document) pair (the SciFact
  dev objective still rose at epoch 12; the best epoch on dev is kept);
* the budget ``max_postings_ratio = 2``: the issue's size target (expanded index <= 2x BM25).
* the budget ``max_query_cost_ratio = 2.5``: the issue's speed target (single-thread QPS
  >= 0.7x BM25's). Search reads the postings of the query terms, and expansion terms are
  picked *for* queries: without this budget the chosen SciFact model (2.0x BM25's postings)
  gave the test queries 3.0x BM25's postings and 0.59x its QPS. With it: 1.48x the postings,
  2.42x the test queries' postings, QPS 0.80x (k=10) and 0.75x (k=1000), nDCG@10 +0.0599
  instead of +0.0605, the same R@1000 (``benches/EXPAND_RESULTS.md``).
"""

# Matrix names follow the maths.
# ruff: noqa: N803, N806

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from thresher._atomic import atomic_path
from thresher._npz import NPZ_READ_ERRORS, error_name
from thresher._training import warn_no_pairs
from thresher.exceptions import ThresherError
from thresher.expand.cooc import ppmi_topm
from thresher.expand.gate import Candidates, Gate, TermContext, candidates
from thresher.expand.impacts import CollectionStats, bm25_impacts
from thresher.expand.retrieval import search, to_run
from thresher.expand.train import Examples, Pattern, refine
from thresher.expand.vocab import Vocabulary, bag_matrix

__all__ = [
    "FORMAT_VERSION",
    "ExpandedDocs",
    "ExpansionConfig",
    "ExpansionModel",
    "ExpansionModelError",
    "IncompatibleExpansionModelError",
]

FORMAT_VERSION = 1
"""Version of the ``.npz`` layout written by :meth:`ExpansionModel.save`."""


class ExpansionModelError(ThresherError, ValueError):
    """An expansion model file is damaged or is not an expansion model."""


class IncompatibleExpansionModelError(ExpansionModelError):
    """An expansion model file was written in a format this thresher cannot read."""


@dataclass(frozen=True)
class ExpansionConfig:
    """Hyper-parameters of :meth:`ExpansionModel.fit` (defaults justified in the docs).

    Attributes:
        k1, b: BM25 parameters of the literal impacts (Anserini's defaults).
        m: non-zeros per row of ``T`` (targets per source term).
        min_df, min_count: PPMI filters (document frequency of both terms; documents
            holding the pair).
        cds: context-distribution smoothing of the PPMI (1 = none).
        alphas: candidate scales of ``T0``; the best on dev is kept.
        candidates: expansion candidates scored by the gate per document.
        max_expansion: at most this many expansion terms per document (``M``); tuned on dev
            among ``max_expansion_grid`` when ``tune`` is on.
        tau: gate threshold; tuned on dev among ``tau_grid`` when ``tune`` is on.
        reweight_literal: literal terms also receive their expansion mass ``(I_lit T)_j``.
        diagonal: ``T`` may also learn ``T_jj`` (starting at 0): a literal term's own impact
            is then scaled by ``1 + T_jj`` (needs ``reweight_literal``).
        source_norm: ``gamma`` of the expansion source scale ``sigma_d = (mean_d' |I_lit(d')|_1
            / |I_lit(d)|_1) ** gamma``: 0 lets long documents (more supporting terms) earn
            larger expansion weights, 1 makes ``I_lit(d) T`` a length-free mixture.
        graded: weight each training pair by the gain ``2^grade - 1`` of its judgement.
        objective: dev objective, a weighted sum of ir-measures (model selection only).
        tie: dev objectives within ``tie`` of the best count as tied; the tied setting with
            the most expansion postings (within the budget) is chosen.
        epochs, batch_size, negatives, negative_pool, lr, l2: refinement of ``T``
            (``lr`` is relative to the mean initial entry of ``T``).
        gate_l2: L2 penalty of the gate's logistic regression.
        dev_fraction: share of training queries held out for model selection.
        max_postings_ratio: tuning only considers settings whose postings stay within this
            multiple of the literal (BM25) postings.
        max_query_cost_ratio: ... and whose query cost stays within this multiple of the
            literal index's (0: no limit). The query cost of an index is the number of
            postings the training queries' terms hold, ``sum_t qfreq_t * df_t`` (``qfreq_t``:
            training queries containing ``t``): the work exhaustive search does, as the FLOPS
            regulariser of SPLADE (Paria et al., 2020) counts it. Expansion terms are chosen
            for the queries, so their lists grow faster than the index: the cost, not the
            size, sets the speed.
        tune: choose ``tau``/``max_expansion``/``alpha`` on dev (else use the given values).
        seed: seeds the dev split, negative sampling and shuffling.
    """

    k1: float = 0.9
    b: float = 0.4
    m: int = 128
    min_df: int = 2
    min_count: int = 2
    cds: float = 0.75
    alphas: tuple[float, ...] = (1.0,)
    candidates: int = 300
    max_expansion: int = 64
    tau: float = 0.5
    max_expansion_grid: tuple[int, ...] = (16, 32, 64, 96, 128)
    tau_grid: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
    reweight_literal: bool = True
    diagonal: bool = False
    source_norm: float = 1.0
    graded: bool = True
    objective: tuple[tuple[str, float], ...] = (("nDCG@10", 1.0), ("R@100", 0.5), ("R@1000", 0.5))
    tie: float = 0.002
    epochs: int = 20
    batch_size: int = 32
    negatives: int = 15
    negative_pool: int = 50
    lr: float = 0.05
    l2: float = 1e-4
    gate_l2: float = 1e-3
    dev_fraction: float = 0.2
    max_postings_ratio: float = 2.0
    max_query_cost_ratio: float = 2.5
    tune: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        def whole(v: object) -> bool:
            return not isinstance(v, bool) and isinstance(v, (int, np.integer))

        # name -> smallest value allowed
        ints = {
            "m": 1,
            "min_df": 1,
            "min_count": 1,
            "candidates": 1,
            "epochs": 0,
            "batch_size": 1,
            "negatives": 1,
            "negative_pool": 1,
            "max_expansion": 0,
            "seed": 0,
        }
        for name, low in ints.items():
            v = getattr(self, name)
            if not whole(v) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if not self.max_expansion_grid or any(
            not whole(m) or m < 0 for m in self.max_expansion_grid
        ):
            raise ValueError(
                "max_expansion_grid must be a non-empty tuple of integers >= 0, "
                f"got {self.max_expansion_grid!r}"
            )
        if not self.tau_grid:
            raise ValueError("tau_grid must not be empty")
        weights = [w for _, w in self.objective]
        if (
            not weights
            or any(not isinstance(w, (int, float)) or not np.isfinite(w) or w < 0 for w in weights)
            or not any(w > 0 for w in weights)
        ):
            raise ValueError(
                "objective must be (measure, weight) pairs with finite weights >= 0, at least "
                f"one > 0; got {self.objective!r}"
            )
        import ir_measures

        for name, _ in self.objective:
            try:
                ir_measures.parse_measure(name)
            except Exception:  # ir-measures raises NameError / ValueError / others
                raise ValueError(
                    f"objective measure {name!r} is not an ir-measures name (e.g. nDCG@10)"
                ) from None
        if self.negatives > self.negative_pool:
            raise ValueError("negatives must not exceed negative_pool")
        for name in ("k1", "lr", "l2", "gate_l2", "max_postings_ratio", "max_query_cost_ratio"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v}")
        if not 0 <= self.b <= 1:
            raise ValueError(f"b must be in [0, 1], got {self.b}")
        if not 0 <= self.tau <= 1 or any(not 0 <= t <= 1 for t in self.tau_grid):
            raise ValueError("tau (and tau_grid) must be in [0, 1]")
        if not self.alphas or any(not np.isfinite(a) or a < 0 for a in self.alphas):
            raise ValueError("alphas must be a non-empty tuple of finite numbers >= 0")
        if not np.isfinite(self.source_norm) or not 0 <= self.source_norm <= 1:
            raise ValueError(f"source_norm must be in [0, 1], got {self.source_norm}")
        if not np.isfinite(self.tie) or self.tie < 0:
            raise ValueError(f"tie must be a finite number >= 0, got {self.tie}")
        if not np.isfinite(self.cds) or not 0 < self.cds <= 1:
            raise ValueError(f"cds must be in (0, 1], got {self.cds}")
        if not 0 <= self.dev_fraction < 1:
            raise ValueError(f"dev_fraction must be in [0, 1), got {self.dev_fraction}")


@dataclass
class ExpandedDocs:
    """Expanded documents: a CSR matrix over a vocabulary.

    Attributes:
        matrix: ``float32`` CSR, documents x ``len(vocab)``, weights ``>= 0``.
        vocab: column terms (the model's vocabulary, then any new literal terms).
        num_literal: per document, the number of literal terms (the rest are expansions).
    """

    matrix: sp.csr_matrix
    vocab: list[str]
    num_literal: np.ndarray

    @property
    def num_expansion(self) -> np.ndarray:
        """Expansion terms per document."""
        return np.diff(self.matrix.indptr) - self.num_literal

    def queries(
        self, queries: Sequence[Sequence[str]] | Sequence[Mapping[str, float]]
    ) -> sp.csr_matrix:
        """Query matrix over this vocabulary: term counts, or the weights of
        ``{term: weight}`` queries; terms unknown to the vocabulary are dropped (a query of
        unknown terms matches nothing).

        Raises:
            ValueError: a NaN, infinite or negative query weight.
        """
        return bag_matrix(queries, Vocabulary(self.vocab), what="query")

    def search(
        self, queries: Sequence[Sequence[str]] | Sequence[Mapping[str, float]], k: int = 1000
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` by dot product (see :func:`thresher.expand.retrieval.search`)."""
        return search(self.matrix, self.queries(queries), k)

    def to_index(
        self,
        doc_ids: Sequence[str] | None = None,
        *,
        bits: int = 8,
        scale: float | None = None,
        analyzer: Any = None,
        threads: int | None = None,
    ) -> Any:
        """These vectors as a Rust impact index (:meth:`thresher.Index.from_csr`): exact
        top-``k`` by the dot product of the ``bits``-bit quantised weights (the same
        quantisation as :func:`thresher.expand.export.quantize`), with every algorithm, filters
        and batch search.

        Args:
            doc_ids: one id per row (default ``"0"``, ``"1"``, ...).
            bits, scale: quantisation (see :meth:`thresher.Index.from_vectors`).
            analyzer: a ``thresher.Analyzer`` for text queries; it should be the one the
                documents were analysed with (default ``Analyzer()``).
            threads: build threads.

        Returns:
            ``thresher.Index`` with ``scoring="impact"``.
        """
        from thresher.index import Index

        return Index.from_csr(
            self.matrix, self.vocab, doc_ids, bits=bits, scale=scale, analyzer=analyzer,
            threads=threads,
        )  # fmt: skip


def _validate_docs(docs: Sequence[Sequence[str]], what: str = "document") -> None:
    if isinstance(docs, (str, bytes)):
        raise TypeError(f"expected a sequence of {what}s (lists of terms), not a str")
    for i, d in enumerate(docs):
        if isinstance(d, (str, bytes)):
            raise TypeError(f"{what} #{i} is a str; pass its analysed terms (Analyzer.tokenize)")
        for j, t in enumerate(d):
            if not isinstance(t, str) or not t:
                raise ValueError(f"{what} #{i}: term #{j} must be a non-empty str, got {t!r}")


@dataclass
class ExpansionModel:
    """A trained expansion model (see the module documentation for the method).

    Attributes:
        vocab: the model vocabulary (analysed terms).
        T: learned term-to-term matrix, ``V x V`` CSR ``float32`` (``<= m`` per row).
        P: PPMI at the same sparsity as ``T`` (a gate feature).
        gate: the gating controller.
        qfreq: training queries containing each term (a gate feature).
        config: training configuration (``tau``/``max_expansion`` hold the chosen values).
        term_weights: optional TDV per term: literal weights are then ``TDV * tf``.
        info: training record (timings, dev curves, chosen values), saved with the model.
    """

    vocab: Vocabulary
    T: sp.csr_matrix
    P: sp.csr_matrix
    gate: Gate | None
    qfreq: np.ndarray
    config: ExpansionConfig = field(default_factory=ExpansionConfig)
    term_weights: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ representation
    def literal(self, X: sp.csr_matrix, stats: CollectionStats | None = None) -> sp.csr_matrix:
        """Literal importance ``I_lit`` of term-count rows ``X`` (over the model vocabulary or
        an extension of it): BM25 impacts, or ``TDV * tf`` with term weights."""
        if self.term_weights is None:
            return bm25_impacts(X, stats, self.config.k1, self.config.b)
        tw = np.ones(X.shape[1], dtype=np.float32)
        tw[: len(self.term_weights)] = self.term_weights
        L = sp.csr_matrix(X @ sp.diags(tw), dtype=np.float32)
        L.eliminate_zeros()
        L.sort_indices()
        return L

    def sigma(self, B: sp.csr_matrix) -> np.ndarray:
        """Per-document scale of the expansion source (``source_norm``; 0 for empty rows)."""
        mass = np.asarray(B.sum(axis=1), dtype=np.float64).ravel()
        out = np.zeros(len(mass))
        nz = mass > 0
        if nz.any():
            out[nz] = (mass[nz].mean() / mass[nz]) ** self.config.source_norm
        return out

    def _context(self, idf: np.ndarray) -> TermContext:
        V = len(self.vocab)
        tdv = None if self.term_weights is None else self.term_weights[:V]
        return TermContext(idf[:V], self.qfreq, tdv)

    def _score_blocks(
        self, B: sp.csr_matrix, idf: np.ndarray, T: sp.csr_matrix | None = None, block: int = 1024
    ) -> list[tuple[int, Candidates, np.ndarray]]:
        """Candidates and gate probabilities per block of documents: ``(start, cand, p)``.

        Without a gate, ``p`` is 1 for every candidate (ranking then falls to the score)."""
        T = self.T if T is None else T
        V = len(self.vocab)
        Bv = B[:, :V] if B.shape[1] > V else B
        Bs = sp.csr_matrix(sp.diags(self.sigma(B)) @ Bv, dtype=np.float32)
        ctx = self._context(idf)
        out = []
        for lo in range(0, B.shape[0], block):
            cand = candidates(Bs[lo : lo + block], T, self.P, ctx, self.config.candidates)
            if self.gate is None or not len(cand.rows):
                p = np.ones(len(cand.rows))
            else:
                p = self.gate.probability(cand.features)
            out.append((lo, cand, p))
        return out

    def _assemble(
        self,
        B: sp.csr_matrix,
        scored: list[tuple[int, Candidates, np.ndarray]],
        tau: float,
        max_expansion: int,
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(W, Zmask)`` from scored candidates: ``W = I_lit (+ literal E) + gated E``;
        ``Zmask`` marks the terms that receive ``(I_lit T)`` mass (the ``Z`` of training)."""
        V = len(self.vocab)
        n_docs, n_cols = B.shape
        M = max_expansion
        rows, cols, vals, lrows, lcols, lvals = [], [], [], [], [], []
        for lo, cand, p in scored:
            if M > 0 and len(cand.rows):
                ok = p > tau if self.gate is not None else np.ones(len(p), dtype=bool)
                r, c, s, pk = cand.rows[ok], cand.cols[ok], cand.score[ok], p[ok]
                # Within each document: probability descending, then score, then term id.
                order = np.lexsort((c, -s, -pk, r))
                r, c, s = r[order], c[order], s[order]
                first = np.searchsorted(r, np.arange(r.max(initial=-1) + 1))
                keep = (np.arange(len(r)) - first[r]) < M
                rows.append(r[keep] + lo)
                cols.append(c[keep])
                vals.append(s[keep])
            if self.config.reweight_literal:
                lit = cand.literal_e.tocoo()
                lrows.append(lit.row + lo)
                lcols.append(lit.col)
                lvals.append(lit.data)

        def coo(rr: list, cc: list, vv: list, ones: bool = False) -> sp.csr_matrix:
            r = np.concatenate(rr) if rr else np.zeros(0, dtype=np.int64)
            c = np.concatenate(cc) if cc else np.zeros(0, dtype=np.int64)
            v = np.ones(len(r)) if ones else (np.concatenate(vv) if vv else np.zeros(0))
            return sp.csr_matrix((v.astype(np.float32), (r, c)), shape=(n_docs, n_cols))

        W = sp.csr_matrix(B, dtype=np.float32) + coo(rows, cols, vals)
        Z = coo(rows, cols, vals, ones=True)
        if self.config.reweight_literal:
            W = W + coo(lrows, lcols, lvals)
            Lb = sp.csr_matrix(B[:, :V] if n_cols > V else B).astype(bool).astype(np.float32)
            if n_cols > V:
                Lb = sp.hstack([Lb, sp.csr_matrix((n_docs, n_cols - V))], format="csr")
            Z = Z + Lb
        W = sp.csr_matrix(W, dtype=np.float32)
        Z = sp.csr_matrix(Z, dtype=np.float32)
        W.sort_indices()
        Z.sort_indices()
        return W, Z

    def _represent(
        self,
        B: sp.csr_matrix,
        idf: np.ndarray,
        *,
        T: sp.csr_matrix | None = None,
        tau: float | None = None,
        max_expansion: int | None = None,
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(W, Zmask)`` for literal importance rows ``B`` (columns: model vocabulary, then
        any extra literal terms)."""
        tau = self.config.tau if tau is None else tau
        M = self.config.max_expansion if max_expansion is None else max_expansion
        return self._assemble(B, self._score_blocks(B, idf, T), tau, M)

    def expand(
        self,
        docs: Sequence[Sequence[str]],
        *,
        tau: float | None = None,
        max_expansion: int | None = None,
    ) -> ExpandedDocs:
        """Expanded representations of analysed documents.

        BM25 statistics (df, average length) are those of ``docs``: pass the whole collection
        you will index, as an index builder would. Terms unknown to the model keep their
        literal weight (new columns after the model vocabulary); they are never expanded.

        Args:
            docs: the analysed terms of each document.
            tau, max_expansion: override the trained gate threshold and expansion cap
                (``max_expansion=0`` closes the gate: literal terms only).

        Returns:
            :class:`ExpandedDocs` (matrix over the model vocabulary plus new literal terms).

        Raises:
            TypeError: a document given as a ``str``.
            ValueError: ``tau`` outside [0, 1] or negative ``max_expansion``.
        """
        _validate_docs(docs)
        if tau is not None and not 0 <= tau <= 1:
            raise ValueError(f"tau must be in [0, 1], got {tau}")
        if max_expansion is not None and max_expansion < 0:
            raise ValueError(f"max_expansion must be >= 0, got {max_expansion}")
        vocab = self.vocab.extended(docs)
        if self.term_weights is not None and len(vocab) > len(self.vocab):
            extra = vocab.terms[len(self.vocab) : len(self.vocab) + 3]
            raise ValueError(
                f"{len(vocab) - len(self.vocab)} document terms have no term weight "
                f"(e.g. {', '.join(map(repr, extra))}); the TDV term weights must cover them"
            )
        X = bag_matrix(docs, vocab)
        stats = CollectionStats.from_tf(X)
        B = self.literal(X, stats)
        W, _ = self._represent(B, stats.idf(), tau=tau, max_expansion=max_expansion)
        return ExpandedDocs(W, list(vocab.terms), np.diff(B.indptr).astype(np.int64))

    def to_index(
        self,
        docs: Sequence[Sequence[str]],
        doc_ids: Sequence[str] | None = None,
        *,
        bits: int = 8,
        analyzer: Any = None,
        threads: int | None = None,
    ) -> Any:
        """Expands analysed ``docs`` (:meth:`expand`) and indexes them as a Rust impact index
        (:meth:`ExpandedDocs.to_index`)."""
        return self.expand(docs).to_index(doc_ids, bits=bits, analyzer=analyzer, threads=threads)

    # ------------------------------------------------------------------ training
    @classmethod
    def fit(
        cls,
        docs: Sequence[Sequence[str]],
        queries: Mapping[str, Sequence[str]],
        qrels: Mapping[str, Mapping[str, int]],
        doc_ids: Sequence[str],
        *,
        config: ExpansionConfig | None = None,
        dev_qrels: Mapping[str, Mapping[str, int]] | None = None,
        term_weights: Mapping[str, float] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> ExpansionModel:
        """Trains a model on a corpus and training queries.

        Args:
            docs: analysed terms of every document of the training collection.
            queries: ``{query id: analysed terms}`` (may hold more queries than ``qrels``).
            qrels: ``{query id: {doc id: grade}}``, training judgements (grade > 0 =
                relevant). Judgements of unknown queries or documents are ignored (unknown
                relevant documents with a warning).
            doc_ids: the id of each document of ``docs``.
            config: hyper-parameters (default :class:`ExpansionConfig`).
            dev_qrels: judgements for model selection; default: a seeded
                ``config.dev_fraction`` of ``qrels``' queries. With no dev queries at all
                (``dev_fraction=0``), the last epoch is kept and tuning falls back to the
                setting with the most expansion postings within the budget.
            term_weights: optional ``{term: TDV}``; literal weights become ``TDV * tf``.
            log: receives progress messages.

        Raises:
            ValueError: mismatched ``docs``/``doc_ids``, duplicate ids, no usable training
                pair, empty corpus, bad term weights or configuration.
            TypeError: a document or query given as a ``str``.
        """
        cfg = config or ExpansionConfig()
        say = log or (lambda _msg: None)
        t_start = time.perf_counter()
        _validate_docs(docs)
        if len(docs) != len(doc_ids):
            raise ValueError(f"{len(docs)} documents but {len(doc_ids)} ids")
        if len(docs) == 0:
            raise ValueError("the corpus is empty")
        pos = {d: i for i, d in enumerate(doc_ids)}
        if len(pos) != len(doc_ids):
            raise ValueError("document ids must be unique")
        for q, t in queries.items():
            if isinstance(t, (str, bytes)):
                raise TypeError(f"query {q!r} is a str; pass its analysed terms")

        def pairs_of(qr: Mapping[str, Mapping[str, int]]) -> dict[str, dict[int, int]]:
            out: dict[str, dict[int, int]] = {}
            for q, judged in qr.items():
                if q not in queries:
                    continue
                rel = {pos[d]: int(g) for d, g in judged.items() if g > 0 and d in pos}
                if rel and queries[q]:
                    out[q] = dict(sorted(rel.items()))
            return out

        unknown = sorted(
            {d for judged in qrels.values() for d, g in judged.items() if g > 0} - pos.keys()
        )
        if unknown:
            warnings.warn(
                f"the training qrels judge {len(unknown)} relevant document id(s) absent from "
                f"the corpus, ignored, e.g. {unknown[:5]}",
                stacklevel=2,
            )
        train_rel = pairs_of(qrels)
        if not train_rel:
            raise ValueError(
                "no training pairs: no query of qrels has known terms and a relevant document "
                "of this corpus"
            )
        rng = np.random.default_rng(cfg.seed)
        if dev_qrels is not None:
            dev_rel = pairs_of(dev_qrels)
            dev_judged = {q: dict(dev_qrels[q]) for q in dev_rel}
        else:
            qs = sorted(train_rel)
            n_dev = round(cfg.dev_fraction * len(qs))
            n_dev = min(n_dev, len(qs) - 1)
            dev_q = set(rng.permutation(len(qs))[:n_dev].tolist())
            dev_rel = {qs[i]: train_rel[qs[i]] for i in sorted(dev_q)}
            train_rel = {qs[i]: train_rel[qs[i]] for i in range(len(qs)) if i not in dev_q}
            dev_judged = {q: dict(qrels[q]) for q in dev_rel}
        train_q = sorted(train_rel)
        dev_q_list = sorted(dev_rel)
        say(f"{len(train_q)} training queries, {len(dev_q_list)} dev queries")

        # 1. vocabulary, literal importance.
        vocab = Vocabulary.from_documents(docs, (queries[q] for q in train_q))
        X = bag_matrix(docs, vocab)
        stats = CollectionStats.from_tf(X)
        tw = None
        if term_weights is not None:
            tw = np.zeros(len(vocab), dtype=np.float32)
            missing = []
            for i, t in enumerate(vocab.terms):
                w = term_weights.get(t)
                if w is None:
                    missing.append(t)
                    continue
                wf = float(w)
                if not np.isfinite(wf) or wf < 0:
                    raise ValueError(f"term weight of {t!r} must be finite and >= 0, got {w}")
                tw[i] = wf
            if missing:
                raise ValueError(
                    f"{len(missing)} vocabulary terms have no term weight "
                    f"(e.g. {', '.join(map(repr, missing[:3]))})"
                )
        Qtr = bag_matrix([queries[q] for q in train_q], vocab, what="query")
        # A training query with no term in any document scores 0 against every document,
        # expanded or not (expansion targets are document terms): its pairs have a constant
        # loss and no gradient. They are left out (the vocabulary keeps their terms, unused).
        in_docs = X.getnnz(axis=0) > 0
        matched = np.array(
            [in_docs[Qtr.indices[a:b]].any() for a, b in zip(Qtr.indptr[:-1], Qtr.indptr[1:])],
            dtype=bool,
        )
        lost = [q for q, ok in zip(train_q, matched) if not ok]
        train_q, train_rel, Qtr = _leave_out(
            train_q,
            train_rel,
            Qtr,
            matched,
            ("query has", "queries have"),
            "no term of the corpus documents",
            "no training query has a term of the corpus documents (were the queries analysed "
            "with the corpus's analyzer?)",
        )
        # A query that judges every document relevant has no negative to rank below them.
        everything = [q for q in train_q if len(train_rel[q]) == len(docs)]
        train_q, train_rel, Qtr = _leave_out(
            train_q,
            train_rel,
            Qtr,
            np.array([len(train_rel[q]) < len(docs) for q in train_q], dtype=bool),
            ("query judges", "queries judge"),
            "every document relevant",
            "every training query judges every document relevant (there is no non-relevant "
            "document to rank below them)",
        )
        qfreq = np.bincount(Qtr.indices, minlength=len(vocab)).astype(np.int64)

        # 2. PPMI initialisation.
        t0 = time.perf_counter()
        P, _ = ppmi_topm(X, cfg.m, min_df=cfg.min_df, min_count=cfg.min_count, cds=cfg.cds)
        rs = np.asarray(P.sum(axis=1)).ravel()
        rs[rs == 0] = 1.0
        T_unit = sp.csr_matrix(sp.diags(1.0 / rs) @ P, dtype=np.float32)
        T_unit.sort_indices()
        if cfg.diagonal:
            T_unit = _with_diagonal(T_unit)
        say(f"PPMI: {P.nnz} pairs ({time.perf_counter() - t0:.1f}s)")
        model = cls(vocab, T_unit, P, None, qfreq, cfg, tw, {})
        B = model.literal(X, stats)
        idf = stats.idf()
        Qdev = bag_matrix([queries[q] for q in dev_q_list], vocab, what="query")
        lit_postings = B.nnz
        budget = cfg.max_postings_ratio * lit_postings
        lit_cost = max(_query_cost(B, qfreq), 1.0)

        def dev_metric(W: sp.csr_matrix) -> float:
            if not dev_q_list:
                return 0.0
            from thresher.evaluate import evaluate

            d, s = search(W, Qdev, depth)
            run = to_run(dev_q_list, list(doc_ids), d, s)
            r = evaluate(run, dev_judged, [name for name, _ in cfg.objective])
            return float(sum(w * r[name] for name, w in cfg.objective))

        depth = max(int(name.split("@")[1]) if "@" in name else 1000 for name, _ in cfg.objective)

        # alpha: the scale of T0, chosen with the ungated top-M representation.
        alpha = cfg.alphas[0]
        if cfg.tune and len(cfg.alphas) > 1 and dev_q_list:
            best = -np.inf
            for a in cfg.alphas:
                W, _ = model._represent(B, idf, T=T_unit * np.float32(a))
                sc = dev_metric(W)
                say(f"alpha {a:g}: dev {sc:.4f}")
                if sc > best:
                    best, alpha = sc, a
        model.T = sp.csr_matrix(T_unit * np.float32(alpha))
        info: dict[str, Any] = {"alpha": alpha, "literal_postings": int(lit_postings)}

        # 3. gate on the initial T.
        rel_docs: dict[int, set[int]] = {}
        for qi, q in enumerate(train_q):
            for d in train_rel[q]:
                rel_docs.setdefault(d, set()).add(qi)
        sigma = model.sigma(B)
        model.gate = _fit_gate(model, B, sigma, idf, rel_docs, Qtr)
        say("gate fitted")

        # 4. refine T with the gate fixed.
        t0 = time.perf_counter()
        W, Z = model._represent(B, idf)
        examples = _examples(W, Qtr, train_q, train_rel, cfg.negative_pool, cfg.graded)
        Bs = sp.csr_matrix(sp.diags(sigma) @ B, dtype=np.float32)
        pattern = Pattern(model.T)
        theta0 = model.T.data.astype(np.float64)
        lr = cfg.lr * float(theta0.mean()) if len(theta0) else 0.0

        def evaluate_theta(theta: np.ndarray) -> float:
            Tm = pattern.matrix(theta.astype(np.float32))
            Wt = B + sp.csr_matrix((Bs @ Tm).multiply(Z))
            return dev_metric(Wt)

        if cfg.epochs > 0 and len(examples):
            theta, history = refine(
                theta0,
                pattern,
                B,
                Z,
                Qtr,
                examples,
                negatives=cfg.negatives,
                epochs=cfg.epochs,
                batch_size=cfg.batch_size,
                lr=lr,
                l2=cfg.l2,
                seed=cfg.seed,
                sigma=sigma,
                evaluate=evaluate_theta if dev_q_list else None,
                log=say,
            )
            T = pattern.matrix(theta.astype(np.float32))
            T.eliminate_zeros()
            model.T = T
            model.P = sp.csr_matrix(P.multiply(T.astype(bool)), dtype=np.float32)
            model.P.sort_indices()
            info["dev_curve"] = history
        info["refine_seconds"] = time.perf_counter() - t0

        # 5. gate again, then tau / M within the postings budget.
        model.gate = _fit_gate(model, B, sigma, idf, rel_docs, Qtr)
        tau, M = cfg.tau, cfg.max_expansion
        if cfg.tune and dev_q_list:
            grid: list[tuple[float, int, float, float, float]] = []
            scored = model._score_blocks(B, idf)
            for tg in cfg.tau_grid:
                # The grid's caps, plus the largest cap that fills the postings budget.
                caps = set(cfg.max_expansion_grid)
                fill = _budget_cap(scored, B.shape[0], tg, budget - lit_postings)
                if 0 < fill < max(caps):  # only when it binds below the largest cap
                    caps.add(fill)
                if cfg.max_query_cost_ratio:
                    # ... and the largest cap within the query-cost budget, when it binds.
                    room = (cfg.max_query_cost_ratio - 1.0) * lit_cost
                    cost_fill = _cost_cap(scored, tg, qfreq, room, self_gate=model.gate is not None)
                    if cost_fill is not None and cost_fill < max(caps):
                        caps.add(cost_fill)
                for mm in sorted(caps):
                    W, _ = model._assemble(B, scored, tg, mm)
                    cost = _query_cost(W, qfreq) / lit_cost
                    grid.append((tg, mm, dev_metric(W), W.nnz / lit_postings, cost))
            max_cost = cfg.max_query_cost_ratio or np.inf
            within = [g for g in grid if g[3] * lit_postings <= budget and g[4] <= max_cost] or [
                min(grid, key=lambda g: g[4])
            ]
            best = max(g[2] for g in within)
            # Ties (small dev sets): the most postings wins; then grid order.
            tied = [g for g in within if g[2] >= best - cfg.tie]
            tau, M, best, _, _ = max(tied, key=lambda g: g[3])
            info["grid"] = grid
            say(f"chosen tau={tau:g}, max_expansion={M}: dev {best:.4f}")
        model.config = replace(cfg, tau=float(tau), max_expansion=int(M))
        info["seconds"] = time.perf_counter() - t_start
        info["train_queries"] = len(train_q)
        info["train_queries_without_terms"] = len(lost)
        info["train_queries_judging_everything"] = len(everything)
        info["dev_queries"] = len(dev_q_list)
        model.info = info
        return model

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the model to a ``.npz`` file (atomically: temp file, then rename).

        The file holds ``format_version``, the vocabulary, ``T`` and ``P`` (CSR arrays), the
        gate, the query-term frequencies, optional term weights, the configuration and the
        training record (JSON). It loads without pickle.
        """
        p = Path(path)
        gate = self.gate
        arrays: dict[str, Any] = {
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "vocab": np.array(self.vocab.terms, dtype=str),
            "T_indptr": self.T.indptr.astype(np.int64),
            "T_indices": self.T.indices.astype(np.int32),
            "T_data": self.T.data.astype(np.float32),
            "P_indptr": self.P.indptr.astype(np.int64),
            "P_indices": self.P.indices.astype(np.int32),
            "P_data": self.P.data.astype(np.float32),
            "qfreq": self.qfreq.astype(np.int64),
            "config": np.array(json.dumps(asdict(self.config))),
            "info": np.array(json.dumps(self.info, default=float)),
        }
        if gate is not None:
            arrays["gate"] = np.concatenate([gate.weights, [gate.bias]])
            arrays["gate_mean"] = gate.mean
            arrays["gate_scale"] = gate.scale
        if self.term_weights is not None:
            arrays["term_weights"] = self.term_weights.astype(np.float32)
        with atomic_path(p) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ExpansionModel:
        """Reads a model written by :meth:`save`.

        Raises:
            FileNotFoundError: no such file.
            IncompatibleExpansionModelError: written in a newer (or unknown) format version.
            ExpansionModelError: not an expansion model, or damaged (zip CRC, missing or
                inconsistent arrays, non-finite or negative values).
        """
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no expansion model at {p}")
        try:
            # Our own handle: np.load leaks the file it opened when the zip is unreadable.
            with open(p, "rb") as f, np.load(f, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except NPZ_READ_ERRORS as e:
            raise ExpansionModelError(
                f"{p}: not a readable expansion model (.npz): {error_name(e)}: {e}"
            ) from e
        except (AttributeError, TypeError) as e:  # np.load of a .npy gives an array
            raise ExpansionModelError(f"{p}: not an expansion model (.npz)") from e
        if "w" in arrays and "meta" in arrays and "T_indptr" not in arrays:
            raise ExpansionModelError(
                f"{p}: a TDV model (load it with thresher.tdv.TDVModel; index with --tdv)"
            )
        if "format_version" not in arrays:
            raise ExpansionModelError(f"{p}: not an expansion model (no format_version)")
        try:
            version = int(arrays["format_version"])
        except (TypeError, ValueError):
            raise ExpansionModelError(f"{p}: not an expansion model (bad format_version)") from None
        if version != FORMAT_VERSION:
            raise IncompatibleExpansionModelError(
                f"{p}: expansion model format version {version}, this thresher reads version "
                f"{FORMAT_VERSION}" + ("; upgrade thresher" if version > FORMAT_VERSION else "")
            )
        try:
            return cls._from_arrays(arrays)
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            raise ExpansionModelError(f"{p}: damaged expansion model ({e})") from e

    @classmethod
    def _from_arrays(cls, a: dict[str, np.ndarray]) -> ExpansionModel:
        vocab = Vocabulary(str(t) for t in a["vocab"])
        V = len(vocab)

        def csr(prefix: str) -> sp.csr_matrix:
            indptr, indices = a[f"{prefix}_indptr"], a[f"{prefix}_indices"]
            data = a[f"{prefix}_data"]
            if (
                indptr.shape != (V + 1,)
                or indptr[0] != 0
                or np.any(np.diff(indptr) < 0)
                or indptr[-1] != len(indices)
                or len(indices) != len(data)
                or (len(indices) and (indices.min() < 0 or indices.max() >= V))
            ):
                raise ValueError(f"{prefix}: inconsistent sparse arrays")
            if not np.all(np.isfinite(data)) or np.any(data < 0):
                raise ValueError(f"{prefix}: non-finite or negative values")
            return sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=(V, V))

        T, P = csr("T"), csr("P")
        cfg_raw = json.loads(str(a["config"]))
        for k in ("alphas", "max_expansion_grid", "tau_grid"):
            cfg_raw[k] = tuple(cfg_raw[k])
        cfg_raw["objective"] = tuple((str(n), float(w)) for n, w in cfg_raw["objective"])
        cfg = ExpansionConfig(**cfg_raw)
        gate = None
        if "gate" in a:
            g, mean, scale = a["gate"], a["gate_mean"], a["gate_scale"]
            if len(mean) != len(g) - 1 or len(scale) != len(mean):
                raise ValueError("gate arrays of inconsistent lengths")
            if not (
                np.all(np.isfinite(g))
                and np.all(np.isfinite(mean))
                and np.all(np.isfinite(scale))
                and np.all(scale > 0)
            ):
                raise ValueError("non-finite gate parameters or a gate scale <= 0")
            gate = Gate(g[:-1].astype(np.float64), float(g[-1]), mean, scale)
        qfreq = a["qfreq"]
        if qfreq.shape != (V,):
            raise ValueError("qfreq has the wrong length")
        if not (np.all(np.isfinite(qfreq)) and np.all(qfreq >= 0)):
            raise ValueError("qfreq: non-finite or negative values")
        tw = a.get("term_weights")
        if tw is not None and (tw.shape != (V,) or not np.all(np.isfinite(tw)) or np.any(tw < 0)):
            raise ValueError("term_weights: wrong length, non-finite or negative")
        if gate is not None:
            n_feat = len(gate.weights)
            want = 11 if tw is not None else 10
            if n_feat != want:
                raise ValueError(f"gate has {n_feat} weights, expected {want}")
        return cls(vocab, T, P, gate, qfreq, cfg, tw, json.loads(str(a["info"])))


def _query_cost(W: sp.csr_matrix, qfreq: np.ndarray) -> float:
    """Postings the training queries' terms hold in the documents ``W`` (documents x
    vocabulary, extra columns ignored): ``sum_t qfreq_t * df_t``."""
    df = np.bincount(W.indices, minlength=W.shape[1])[: len(qfreq)]
    return float(qfreq[: len(df)] @ df)


def _cost_cap(
    scored: list[tuple[int, Candidates, np.ndarray]],
    tau: float,
    qfreq: np.ndarray,
    room: float,
    *,
    self_gate: bool = True,
) -> int | None:
    """Largest per-document cap ``M`` whose expansion terms at threshold ``tau`` add at most
    ``room`` to the query cost (:func:`_query_cost`: each kept candidate of term ``j`` adds
    ``qfreq_j``), keeping per document the candidates :meth:`ExpansionModel._assemble` keeps;
    ``None`` when no cap binds (every candidate above ``tau`` fits), 0 when none fits."""
    ranks, costs = [], []
    for _, cand, p in scored:
        if not len(cand.rows):
            continue
        ok = p > tau if self_gate else np.ones(len(p), dtype=bool)
        r, c, sc, pk = cand.rows[ok], cand.cols[ok], cand.score[ok], p[ok]
        order = np.lexsort((c, -sc, -pk, r))
        r, c = r[order], c[order]
        first = np.searchsorted(r, np.arange(r.max(initial=-1) + 1))
        ranks.append(np.arange(len(r)) - first[r])
        costs.append(qfreq[c].astype(np.float64))
    if not ranks:
        return None
    rank, cost = np.concatenate(ranks), np.concatenate(costs)
    per_rank = np.cumsum(np.bincount(rank, weights=cost))  # cost of caps 1, 2, ...
    if per_rank[-1] <= room:
        return None
    return int(np.searchsorted(per_rank, room, side="right"))


def _budget_cap(
    scored: list[tuple[int, Candidates, np.ndarray]], n_docs: int, tau: float, room: float
) -> int:
    """Largest per-document cap ``M`` whose expansion postings at threshold ``tau`` stay
    within ``room`` (``sum_d min(M, n_d) <= room``, ``n_d`` = candidates of ``d`` above
    ``tau``); 0 when no cap binds (all candidates above ``tau`` fit) or none fits."""
    n = np.zeros(n_docs, dtype=np.int64)
    for lo, cand, p in scored:
        ok = p > tau
        n[lo : lo + cand.literal_e.shape[0]] = np.bincount(
            cand.rows[ok], minlength=cand.literal_e.shape[0]
        )
    lo_m, hi_m = 0, int(n.max(initial=0))
    if n.sum() <= room:
        return 0  # everything above tau fits: no cap binds
    while lo_m < hi_m:  # postings(M) = sum(min(M, n)) is non-decreasing in M
        mid = (lo_m + hi_m + 1) // 2
        if np.minimum(n, mid).sum() <= room:
            lo_m = mid
        else:
            hi_m = mid - 1
    return lo_m


def _with_diagonal(T: sp.csr_matrix) -> sp.csr_matrix:
    """``T`` plus explicit zero entries on the diagonal (learnable self-weights)."""
    V = T.shape[0]
    coo = T.tocoo()
    off = coo.row != coo.col
    r = np.concatenate([coo.row[off], np.arange(V)])
    c = np.concatenate([coo.col[off], np.arange(V)])
    v = np.concatenate([coo.data[off], T.diagonal().astype(np.float32)])
    order = np.lexsort((c, r))
    r, c, v = r[order], c[order], v[order]
    indptr = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=V), out=indptr[1:])
    return sp.csr_matrix((v.astype(np.float32), c.astype(np.int32), indptr), shape=T.shape)


def _leave_out(
    train_q: list[str],
    train_rel: dict[str, dict[int, int]],
    Qtr: sp.csr_matrix,
    keep: np.ndarray,
    verb: tuple[str, str],
    what: str,
    none_left: str,
) -> tuple[list[str], dict[str, dict[int, int]], sp.csr_matrix]:
    """The training queries (ids, judgements, matrix rows) where ``keep``; the others are
    named in a warning ("3 training queries have <what> and give no training pair"), and
    leaving out all of them is an error ("no training pairs: <none_left>")."""
    gone = [q for q, k in zip(train_q, keep) if not k]
    if not gone:
        return train_q, train_rel, Qtr
    if len(gone) == len(train_q):
        raise ValueError(f"no training pairs: {none_left}")
    warn_no_pairs(gone, verb, what, stacklevel=3)
    kept = [q for q, k in zip(train_q, keep) if k]
    return kept, {q: train_rel[q] for q in kept}, Qtr[np.flatnonzero(keep)]


def _fit_gate(
    model: ExpansionModel,
    B: sp.csr_matrix,
    sigma: np.ndarray,
    idf: np.ndarray,
    rel_docs: Mapping[int, set[int]],
    Qtr: sp.csr_matrix,
) -> Gate:
    """BCE gate towards the terms of the training queries each relevant document answers."""
    docs = np.array(sorted(rel_docs), dtype=np.int64)
    Bd = sp.csr_matrix(sp.diags(sigma[docs]) @ B[docs], dtype=np.float32)
    cand = candidates(Bd, model.T, model.P, model._context(idf), model.config.candidates)
    # Target terms per document: union of its relevant training queries' terms.
    target = sp.lil_matrix((len(docs), B.shape[1]), dtype=np.float32)
    for r, d in enumerate(docs):
        for qi in rel_docs[int(d)]:
            row = Qtr.indices[Qtr.indptr[qi] : Qtr.indptr[qi + 1]]
            target[r, row] = 1.0
    if len(cand.rows) == 0:
        cfg = model.config
        raise ValueError(
            "cannot train the gate: the relevant documents of the training pairs have no "
            f"expansion candidate (co-occurrence pairs: {model.P.nnz}); the corpus may be too "
            f"small for min_df={cfg.min_df}, min_count={cfg.min_count}"
        )
    tgt = sp.csr_matrix(target)
    y = np.asarray(tgt[cand.rows, cand.cols]).ravel() > 0
    return Gate.fit(cand.features, y, model.config.gate_l2)


def _examples(
    W: sp.csr_matrix,
    Qtr: sp.csr_matrix,
    train_q: Sequence[str],
    train_rel: Mapping[str, Mapping[int, int]],
    pool: int,
    graded: bool,
) -> Examples:
    """(query, relevant document, hard-negative pool) tuples from a first-stage ranking."""
    docs, _ = search(W, Qtr, pool + max(len(v) for v in train_rel.values()))
    n_docs = W.shape[0]
    rng = np.random.default_rng(12345)
    qs, ps, negs, ws = [], [], [], []
    for qi, q in enumerate(train_q):
        rel = set(train_rel[q])
        hard = [d for d in docs[qi] if d >= 0 and d not in rel][:pool]
        if len(hard) < pool and 2 * len(rel) > n_docs:
            # Few non-relevant documents: fill from them (none: the caller left the query out).
            others = np.setdiff1d(np.arange(n_docs), np.fromiter(rel, dtype=np.int64))
            hard += rng.choice(others, pool - len(hard)).tolist()
        while len(hard) < pool:  # too few matching documents: random fill
            d = int(rng.integers(n_docs))
            if d not in rel:
                hard.append(d)
        for d, g in train_rel[q].items():
            qs.append(qi)
            ps.append(d)
            negs.append(hard)
            ws.append(2.0**g - 1.0 if graded else 1.0)
    return Examples(
        np.asarray(qs, dtype=np.int64),
        np.asarray(ps, dtype=np.int64),
        np.asarray(negs, dtype=np.int64).reshape(len(qs), pool),
        np.asarray(ws, dtype=np.float64),
    )

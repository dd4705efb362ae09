"""Expansion candidates, their features, and the gating controller G(d).

For each document the **candidates** are the non-literal terms with the largest expansion
score ``E[d, j] = sum_i I_lit[d, i] T[i, j]`` (the importance predictor's value; at most
``candidates`` per document). The gate is a logistic model ``p = sigmoid(w . f + c)`` over
standardised candidate features ``f``:

========  ==============================================================================
feature   meaning (why it can predict that a query about ``d`` uses term ``j``)
========  ==============================================================================
log_e     ``ln E[d, j]``: the importance predictor's own score
rel_e     ``ln(E[d, j] / max_i I_lit[d, i])``: score relative to the document's top term
rank      ``ln(1 + rank of j among d's candidates)``
idf       Lucene idf of ``j`` (rare targets discriminate, common ones are safe bets)
support   ``ln(1 + #{i in d : T[i, j] > 0})``: how many literal terms point to ``j``
coverage  support / number of distinct literal terms (literal-overlap statistic)
ppmi      mean PPMI(i, j) over the supporting literal terms (co-occurrence strength)
length    ``ln(1 + number of distinct literal terms)``
qprior    ``ln(1 + number of training queries containing j)``
qseen     1 if ``j`` occurs in some training query
tdv       the term's TDV, only when a TDV model supplied term weights
========  ==============================================================================

Training follows SparTerm's gate: binary cross-entropy towards the **terms of the queries
the document is relevant to** (label 1 when the candidate is one of them). Positives are
rare (a few per relevant document among hundreds of candidates), so the two classes are
weighted to equal total mass; ``p > 0.5`` then means "more likely than the base rate
suggests", and the threshold ``tau`` is tuned on held-out queries. L2-regularised, fitted
with L-BFGS (deterministic, a fraction of a second).
"""

# Matrix names follow the maths.
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from thresher.expand.cooc import top_per_row

__all__ = ["FEATURES", "Candidates", "Gate", "TermContext", "candidates"]

FEATURES = (
    "log_e",
    "rel_e",
    "rank",
    "idf",
    "support",
    "coverage",
    "ppmi",
    "length",
    "qprior",
    "qseen",
)


@dataclass
class TermContext:
    """Per-term quantities the gate features read (over the model vocabulary).

    Attributes:
        idf: Lucene idf in the collection being expanded.
        qfreq: number of training queries containing each term.
        tdv: optional TDV per term (adds the ``tdv`` feature).
    """

    idf: np.ndarray
    qfreq: np.ndarray
    tdv: np.ndarray | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return (*FEATURES, "tdv") if self.tdv is not None else FEATURES


@dataclass
class Candidates:
    """Expansion candidates of a block of documents (row-major, score-descending per row).

    Attributes:
        rows: document (row of the block) of each candidate.
        cols: term id of each candidate.
        score: ``E[d, j]``.
        features: ``(n, F)`` raw (unstandardised) features.
        literal_e: ``E`` restricted to the literal terms (CSR over the block).
    """

    rows: np.ndarray
    cols: np.ndarray
    score: np.ndarray
    features: np.ndarray
    literal_e: sp.csr_matrix


def candidates(
    B: sp.csr_matrix,
    T: sp.csr_matrix,
    P: sp.csr_matrix,
    ctx: TermContext,
    k: int,
) -> Candidates:
    """Candidates and features for the documents (rows) of ``B``.

    Args:
        B: literal importance ``I_lit`` (documents x V).
        T: term-to-term matrix (V x V).
        P: PPMI over the same sparsity as ``T`` (V x V) for the ``ppmi`` feature.
        ctx: per-term quantities.
        k: candidates kept per document.
    """
    Lb = B.astype(bool).astype(np.float32)
    E = sp.csr_matrix(B @ T)
    E.sort_indices()
    lit = E.multiply(Lb).tocsr()
    lit.eliminate_zeros()
    Ex = E - lit
    Ex.eliminate_zeros()
    top = top_per_row(Ex, k)
    n = np.diff(top.indptr)
    rows = np.repeat(np.arange(top.shape[0]), n)
    order = np.lexsort((top.indices, -top.data, rows))
    rows, cols, score = rows[order], top.indices[order], top.data[order].astype(np.float64)
    rank = np.arange(len(rows)) - np.repeat(top.indptr[:-1], n)
    Tpat = T.astype(bool).astype(np.float32)
    if len(rows):
        support = np.asarray(sp.csr_matrix(Lb @ Tpat)[rows, cols]).ravel().astype(np.float64)
        psum = np.asarray(sp.csr_matrix(Lb @ P)[rows, cols]).ravel().astype(np.float64)
    else:  # no document of the block has a candidate (scipy cannot index with empty arrays)
        support = psum = np.zeros(0)
    nlit = np.diff(B.indptr).astype(np.float64)
    bmax = np.zeros(B.shape[0])
    nz = nlit > 0
    bmax[nz] = np.maximum.reduceat(B.data, B.indptr[:-1][nz]).astype(np.float64)
    tiny = 1e-12
    cols_f = [
        np.log(score + tiny),
        np.log(score + tiny) - np.log(bmax[rows] + tiny),
        np.log1p(rank),
        ctx.idf[cols].astype(np.float64),
        np.log1p(support),
        support / np.maximum(nlit[rows], 1.0),
        psum / np.maximum(support, 1.0),
        np.log1p(nlit[rows]),
        np.log1p(ctx.qfreq[cols].astype(np.float64)),
        (ctx.qfreq[cols] > 0).astype(np.float64),
    ]
    if ctx.tdv is not None:
        cols_f.append(ctx.tdv[cols].astype(np.float64))
    F = np.stack(cols_f, axis=1) if len(rows) else np.zeros((0, len(cols_f)))
    return Candidates(rows, cols, score, F, lit)


@dataclass
class Gate:
    """Logistic gate over standardised candidate features.

    Attributes:
        weights: one per feature.
        bias: intercept.
        mean, scale: feature standardisation fitted on the training candidates.
    """

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def probability(self, F: np.ndarray) -> np.ndarray:
        """Gate probability of each candidate (rows of ``F``)."""
        z = ((F - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    @classmethod
    def fit(cls, F: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> Gate:
        """Class-balanced, L2-regularised logistic regression (L-BFGS).

        Raises:
            ValueError: no positive or no negative example.
        """
        y = np.asarray(y, dtype=np.float64)
        npos, nneg = float(y.sum()), float(len(y) - y.sum())
        if npos == 0 or nneg == 0:
            raise ValueError(
                "cannot train the gate: the training candidates hold "
                f"{int(npos)} positive and {int(nneg)} negative examples (need both); "
                "are there training queries whose terms a relevant document lacks?"
            )
        mean = F.mean(axis=0)
        scale = F.std(axis=0)
        scale[scale < 1e-9] = 1.0
        Z = (F - mean) / scale
        sw = np.where(y > 0, 0.5 / npos, 0.5 / nneg)

        def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, c = theta[:-1], theta[-1]
            z = Z @ w + c
            # BCE with logits: log(1 + e^z) - y z, stable.
            loss = np.sum(sw * (np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * w @ w
            g = sw * (1.0 / (1.0 + np.exp(-z)) - y)
            return float(loss), np.append(Z.T @ g + l2 * w, g.sum())

        res = scipy.optimize.minimize(
            f, np.zeros(Z.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500}
        )
        return cls(res.x[:-1].copy(), float(res.x[-1]), mean, scale)

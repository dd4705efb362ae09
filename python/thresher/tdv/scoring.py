"""BM25 / TF-IDF scoring with scipy.sparse: inference and the differentiable batch loss.

Notation (one collection, ``D`` documents, ``V`` terms):

* ``X``: document-term CSR of raw term frequencies ``tf[d, t]``.
* ``tau``: the term discrimination values, ``tau[t] = relu(e_t . w + beta)``.
* weighted entries ``x[d, t] = tau[t] * tf[d, t]``; weighted length
  ``L[d] = sum_t x[d, t] = (X @ tau)[d]``; ``avgdl = sum_d L[d] / N`` where
  ``N`` counts the non-empty documents (Lucene's ``docCount``).

Scores (query weights ``qw[t]`` are query-term counts, as Anserini's
bag-of-words query boosts a repeated term by its count):

* ``bm25``: ``s(q, d) = sum_t qw[t] * idf[t] * x / (x + k1 * (1 - b + b * L[d] / avgdl))``.
  This is exactly Lucene's BM25 (Lucene >= 8 drops the constant ``(k1 + 1)`` of
  the paper's formula; a constant factor changes neither the ranking nor the
  training problem beyond a rescaling of the hinge margin, and we keep the
  Lucene form so that scores can be compared with Lucene/Anserini runs).
* ``tfidf``: ``s(q, d) = sum_t qw[t] * idf[t] * x`` (the paper's TF-IDF variant).

idf, recomputed from the *weighted* postings after training:

* ``"df"`` (default): Lucene's ``idf = ln(1 + (N - n + 0.5) / (n + 0.5))`` with
  ``n`` the number of documents holding a posting of ``t``. A term keeps all
  its postings or none, so for kept terms ``n`` is the plain document
  frequency; the weights act through ``x`` and the lengths. At ``tau = 1``
  this is plain Lucene BM25, and any standard index fed ``tau * tf``
  postings computes it unchanged.
* ``"frej"``: the public reproduction's ``idf = ln((m + 1) / (1 + S[t]))`` with
  ``S[t] = sum_d x[d, t] = tau[t] * cf[t]`` and ``m = max_t S[t]``; the idf
  then moves with ``tau`` during training (differentiable, including the
  ``max``). An index must compute ``S`` from the weighted postings.

Differences from Lucene that remain: Lucene stores document lengths in one
byte (``SmallFloat.intToByte4``); we use exact lengths.
"""

# Matrix names follow the maths (X = doc-term tf, Q = queries, E = features, ...).
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CollectionConstants",
    "ScoringConfig",
    "batch_loss_and_grad",
    "score_matrix",
    "search",
]

_MODELS = ("bm25", "tfidf")
_IDFS = ("df", "frej")


@dataclass(frozen=True)
class ScoringConfig:
    """Retrieval function the TDVs are trained for (and evaluated with)."""

    model: str = "bm25"
    k1: float = 0.9
    b: float = 0.4
    idf: str = "df"

    def __post_init__(self) -> None:
        if self.model not in _MODELS:
            raise ValueError(f"scoring model must be one of {_MODELS}, got {self.model!r}")
        if self.idf not in _IDFS:
            raise ValueError(f"idf must be one of {_IDFS}, got {self.idf!r}")
        if not (self.k1 > 0 and np.isfinite(self.k1)) or not 0 <= self.b <= 1:
            raise ValueError(f"need a finite k1 > 0 and 0 <= b <= 1, got k1={self.k1}, b={self.b}")

    def to_dict(self) -> dict:
        return asdict(self)


def _idf_df(n: np.ndarray, n_docs: float) -> np.ndarray:
    return np.log1p((n_docs - n + 0.5) / (n + 0.5))


def _n_docs(X: sp.csr_matrix) -> int:
    return int(np.count_nonzero(np.diff(X.indptr)))


# --------------------------------------------------------------------------- inference


def score_matrix(Xw: sp.csr_matrix, cfg: ScoringConfig) -> sp.csr_matrix:
    """Per-posting scores ``idf[t] * f(x[d, t], L[d])`` of a (weighted) doc-term matrix.

    ``Xw`` holds ``tau * tf`` (or raw ``tf`` for plain BM25); zero entries are
    not postings. Returns a CSR matrix with the same sparsity pattern; query
    scores are ``Q @ result.T``.
    """
    Xw = sp.csr_matrix(Xw, dtype=np.float64)
    Xw.eliminate_zeros()
    Xw.sort_indices()
    n_docs = max(_n_docs(Xw), 1)
    cols = Xw.indices
    if cfg.idf == "df":
        n = np.bincount(cols, minlength=Xw.shape[1]).astype(np.float64)
        idf = _idf_df(n, n_docs)
    else:
        S = np.bincount(cols, weights=Xw.data, minlength=Xw.shape[1])
        idf = np.log((S.max(initial=0.0) + 1.0) / (1.0 + S))
    x = Xw.data
    if cfg.model == "bm25":
        L = np.asarray(Xw.sum(axis=1)).ravel()
        avgdl = L.sum() / n_docs
        rows = np.repeat(np.arange(Xw.shape[0]), np.diff(Xw.indptr))
        K = cfg.k1 * (1.0 - cfg.b + cfg.b * L[rows] / avgdl)
        val = idf[cols] * x / (x + K)
    else:
        val = idf[cols] * x
    out = sp.csr_matrix((val, cols.copy(), Xw.indptr.copy()), shape=Xw.shape)
    return out


def search(
    S: sp.csr_matrix, Q: sp.csr_matrix, k: int = 1000, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` documents for each query row of ``Q`` given posting scores ``S``.

    Returns ``(doc_indices, scores)``, both ``n_queries x k'`` with
    ``k' = min(k, n_docs)``, best first; documents matching no query term get
    score 0 and sort after matching ones (ties broken by document index).
    """
    Q = sp.csr_matrix(Q, dtype=np.float64)
    k = min(k, S.shape[0])
    St = S.T.tocsc()
    idx_out = np.empty((Q.shape[0], k), dtype=np.int64)
    sc_out = np.empty((Q.shape[0], k), dtype=np.float64)
    for lo in range(0, Q.shape[0], chunk):
        scores = (Q[lo : lo + chunk] @ St).toarray()
        if k < scores.shape[1]:
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
        ps = np.take_along_axis(scores, part, axis=1)
        order = np.lexsort((part, -ps), axis=1)
        idx_out[lo : lo + chunk] = np.take_along_axis(part, order, axis=1)
        sc_out[lo : lo + chunk] = np.take_along_axis(ps, order, axis=1)
    return idx_out, sc_out


# --------------------------------------------------------------------------- training


@dataclass
class CollectionConstants:
    """Quantities of the raw collection that the differentiable scorer reuses."""

    X: sp.csr_matrix  # D x V tf
    XT: sp.csr_matrix  # V x D (for X^T @ v)
    cf: np.ndarray  # V collection frequency
    df: np.ndarray  # V document frequency
    n_docs: int  # non-empty documents
    idf_df: np.ndarray  # Lucene idf from df

    @classmethod
    def from_tf(cls, X: sp.csr_matrix) -> CollectionConstants:
        X = sp.csr_matrix(X, dtype=np.float64)
        X.eliminate_zeros()
        X.sort_indices()
        n_docs = max(_n_docs(X), 1)
        df = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
        cf = np.bincount(X.indices, weights=X.data, minlength=X.shape[1])
        return cls(X, X.T.tocsr(), cf, df, n_docs, _idf_df(df, n_docs))


def _match(Qb: sp.csr_matrix, Xb: sp.csr_matrix):
    """Entries (row, term, tf, qw) where query row r and doc row r share a term."""
    V = Xb.shape[1]
    qrows = np.repeat(np.arange(Qb.shape[0]), np.diff(Qb.indptr))
    qkeys = qrows.astype(np.int64) * V + Qb.indices
    drows = np.repeat(np.arange(Xb.shape[0]), np.diff(Xb.indptr))
    dkeys = drows.astype(np.int64) * V + Xb.indices
    pos = np.searchsorted(qkeys, dkeys)
    pos[pos >= len(qkeys)] = 0
    hit = (qkeys[pos] == dkeys) if len(qkeys) else np.zeros(len(dkeys), bool)
    return drows[hit], Xb.indices[hit], Xb.data[hit], Qb.data[pos[hit]]


def _scores_fwd_bwd(tau, idf, L, avgdl, cst, Qb, docs, cfg, ds=None):
    """Scores of (query row i, document docs[i]); with ``ds`` also backprop.

    Returns scores, or (dtau, didf, dL_docs, davgdl) contributions when ``ds``
    is given.
    """
    B = len(docs)
    Xb = cst.X[docs]
    r, c, tf, qw = _match(Qb, Xb)
    x = tau[c] * tf
    if cfg.model == "bm25":
        Ld = L[docs][r]
        K = cfg.k1 * (1.0 - cfg.b + cfg.b * Ld / avgdl)
        den = x + K
        g = x / den
    else:
        g = x
    contrib = qw * idf[c] * g
    if ds is None:
        return np.bincount(r, weights=contrib, minlength=B)
    dcon = ds[r]
    didf = np.bincount(c, weights=dcon * qw * g, minlength=len(tau))
    dg = dcon * qw * idf[c]
    if cfg.model == "bm25":
        dx = dg * K / den**2
        dK = -dg * x / den**2
        dLd = dK * cfg.k1 * cfg.b / avgdl
        dL_docs = np.bincount(r, weights=dLd, minlength=B)
        davgdl = float(np.sum(dK * (-cfg.k1 * cfg.b * Ld / avgdl**2)))
    else:
        dx = dg
        dL_docs = np.zeros(B)
        davgdl = 0.0
    dtau = np.bincount(c, weights=dx * tf, minlength=len(tau))
    return dtau, didf, dL_docs, davgdl


def batch_loss_and_grad(
    tau: np.ndarray,
    cst: CollectionConstants,
    Qb: sp.csr_matrix,
    pos: np.ndarray,
    neg: np.ndarray,
    cfg: ScoringConfig,
    l1: float,
    margin: float = 1.0,
    scale: float = 1.0,
) -> tuple[float, np.ndarray, dict]:
    """Loss of a batch of (query, positive, negative) triples and its gradient in ``tau``.

    ``loss = (1 - l1) * mean_i max(0, margin - (s(q_i, d+_i) - s(q_i, d-_i)))
    + l1 * sum_i (L[d+_i] + L[d-_i])`` -- the paper's hinge plus the L1 norm of
    the batch's weighted document vectors (``||d+ + d-||_1`` summed over the
    batch, as the reference implementation does; entries are non-negative so
    it equals the sum of weighted lengths). ``Qb`` row ``i`` is query ``i``.

    With ``scale != 1`` the hinge sees ``scale * s`` (a ranking-neutral score
    scale; ``hinge(margin - scale * gap) = scale * hinge(margin / scale - gap)``,
    i.e. an effective margin of ``margin / scale``); ``info["dscale"]`` is the
    loss gradient in ``scale``.
    """
    Qb = sp.csr_matrix(Qb, dtype=np.float64)
    Qb.sort_indices()
    pos = np.asarray(pos, dtype=np.int64)
    neg = np.asarray(neg, dtype=np.int64)
    B = len(pos)
    X = cst.X
    L = X @ tau
    avgdl = L.sum() / cst.n_docs
    if cfg.idf == "df":
        idf = cst.idf_df
    else:
        S = tau * cst.cf
        jmax = int(np.argmax(S))
        m = S[jmax]
        idf = np.log(m + 1.0) - np.log1p(S)
    s_pos = _scores_fwd_bwd(tau, idf, L, avgdl, cst, Qb, pos, cfg)
    s_neg = _scores_fwd_bwd(tau, idf, L, avgdl, cst, Qb, neg, cfg)
    gap = s_pos - s_neg
    h = np.maximum(0.0, margin - scale * gap)
    l1_term = float(L[pos].sum() + L[neg].sum())
    hinge = float(h.mean())
    loss = (1.0 - l1) * hinge + l1 * l1_term

    active = (h > 0).astype(np.float64) * (1.0 - l1) / B
    dscale = -float(np.sum(active * gap))
    active = active * scale
    dtau = np.zeros_like(tau)
    didf = np.zeros_like(tau)
    dL = np.zeros(X.shape[0])
    davgdl = 0.0
    for docs, ds in ((pos, -active), (neg, active)):
        a, bidf, dLd, dav = _scores_fwd_bwd(tau, idf, L, avgdl, cst, Qb, docs, cfg, ds)
        dtau += a
        didf += bidf
        np.add.at(dL, docs, dLd)
        davgdl += dav
    np.add.at(dL, pos, l1)
    np.add.at(dL, neg, l1)
    nonempty = np.diff(X.indptr) > 0
    dL += davgdl / cst.n_docs * nonempty
    dtau += cst.XT @ dL
    if cfg.idf == "frej":
        dtau += didf * (-cst.cf / (1.0 + S))
        dtau[jmax] += didf.sum() * cst.cf[jmax] / (m + 1.0)
    info = {
        "hinge": hinge,
        "l1": l1_term,
        "s_pos": s_pos,
        "s_neg": s_neg,
        "dscale": dscale,
    }
    return loss, dtau, info

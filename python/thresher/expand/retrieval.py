"""Exact retrieval over sparse document vectors: ``score = q . w_d`` with scipy.

Reference scorer for expanded representations (float or dequantised weights); the Rust impact
index serves the quantised vectors exactly and faster (``ExpandedDocs.to_index``).
Ranking: score descending, ties broken by smaller document number (thresher's ``TopK``
convention); only documents with a positive score are returned, as an inverted index would.
"""

# Matrix names follow the maths.
# ruff: noqa: N803, N806

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["search", "to_run"]


def search(
    W: sp.csr_matrix, Q: sp.csr_matrix, k: int, block: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` documents of every query by exact sparse dot product.

    Args:
        W: documents x V weights.
        Q: queries x V weights.
        k: hits per query.
        block: queries scored at a time (bounds the dense score block).

    Returns:
        ``(docs, scores)`` of shape ``(n_queries, min(k, n_docs))``: ``int64`` document
        numbers (``-1`` padding) and ``float32`` scores (``-inf`` padding).
    """
    if k <= 0:
        raise ValueError(f"k must be a positive integer, got {k}")
    if W.shape[1] != Q.shape[1]:
        raise ValueError(
            f"queries have {Q.shape[1]} columns but documents have {W.shape[1]}: "
            "they must share one vocabulary"
        )
    n_docs = W.shape[0]
    kk = min(k, n_docs)
    docs = np.full((Q.shape[0], kk), -1, dtype=np.int64)
    scores = np.full((Q.shape[0], kk), -np.inf, dtype=np.float32)
    Wt = sp.csc_matrix(W.T.astype(np.float32))
    for lo in range(0, Q.shape[0], block):
        S = np.asarray((Q[lo : lo + block].astype(np.float32) @ Wt).todense())
        for r in range(S.shape[0]):
            s = S[r]
            cand = np.flatnonzero(s > 0)
            if len(cand) > kk:
                part = np.argpartition(-s[cand], kk - 1)[:kk]
                thr = s[cand[part]].min()
                cand = cand[s[cand] >= thr]  # keep all ties at the threshold
            order = np.lexsort((cand, -s[cand]))[:kk]
            hit = cand[order]
            docs[lo + r, : len(hit)] = hit
            scores[lo + r, : len(hit)] = s[hit]
    return docs, scores


def to_run(
    qids: Sequence[str], doc_ids: Sequence[str], docs: np.ndarray, scores: np.ndarray
) -> dict[str, dict[str, float]]:
    """``search`` output -> ``{qid: {doc_id: score}}`` for ``thresher.evaluate``."""
    run: dict[str, dict[str, float]] = {}
    for q, row, srow in zip(qids, docs, scores):
        run[q] = {doc_ids[d]: float(s) for d, s in zip(row, srow) if d >= 0}
    return run

"""Lucene BM25 per-term impacts of documents, in numpy (the literal part of I(d)).

The literal weight of term ``t`` in document ``d`` is the score Lucene's ``BM25Similarity``
(Lucene >= 8) gives to a one-word query ``t`` against ``d``:

    impact(t, d) = w - w / (1 + tf * cache[norm(d)])          (float32, Lucene's arithmetic)
    w            = ln(1 + (N - df + 0.5) / (df + 0.5))         (computed in float64, cast)
    cache[n]     = 1 / (k1 * ((1 - b) + b * byte4ToInt(n) / avgdl))

where ``norm(d) = SmallFloat.intToByte4(|d|)`` is Lucene's one-byte length, ``N`` the number
of non-empty documents and ``avgdl = float32(total terms / N)``. This mirrors
``rust/thresher-core/src/score`` operation for operation, so ``q . impacts(d)`` with ``q`` the
query-term counts equals thresher's (and Lucene's) BM25 score up to float rounding (Lucene
multiplies the query-term count into ``w`` before the division; here it multiplies the
impact, a difference of at most one float32 ulp per term).
"""

# Matrix names follow the maths (X = doc-term tf, B = impacts).
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["CollectionStats", "bm25_impacts", "byte4_to_int", "int_to_byte4"]

_NUM_FREE_VALUES = 24  # 255 - SmallFloat.longToInt4(Integer.MAX_VALUE)


def _long_to_int4(i: np.ndarray) -> np.ndarray:
    i = i.astype(np.int64)
    # Bit length, exact for integers below 2**53: i = m * 2**e with m in [0.5, 1).
    num_bits = np.frexp(i.astype(np.float64))[1].astype(np.int64)
    shift = np.maximum(num_bits - 4, 0)
    enc = ((i >> shift) & 0x07) | ((shift + 1) << 3)
    return np.where(num_bits < 4, i, enc)


def int_to_byte4(lengths: np.ndarray) -> np.ndarray:
    """Lucene's ``SmallFloat.intToByte4``: document lengths -> norm bytes (``uint8``)."""
    n = np.minimum(np.asarray(lengths, dtype=np.int64), 2**31 - 1)
    out = np.where(
        n < _NUM_FREE_VALUES,
        n,
        _NUM_FREE_VALUES + _long_to_int4(np.maximum(n - _NUM_FREE_VALUES, 0)),
    )
    return out.astype(np.uint8)


def byte4_to_int(codes: np.ndarray) -> np.ndarray:
    """Lucene's ``SmallFloat.byte4ToInt``: norm bytes -> the (rounded-down) length BM25 uses."""
    i = np.asarray(codes, dtype=np.int64)
    j = i - _NUM_FREE_VALUES
    bits = j & 0x07
    shift = (j >> 3) - 1
    dec = np.where(shift < 0, bits, (bits | 0x08) << np.maximum(shift, 0))
    return np.where(i < _NUM_FREE_VALUES, i, _NUM_FREE_VALUES + dec)


@dataclass(frozen=True)
class CollectionStats:
    """The collection statistics BM25 depends on.

    Attributes:
        num_docs: documents with at least one term (Lucene's ``docCount``).
        total_terms: sum of document lengths (Lucene's ``sumTotalTermFreq``).
        df: document frequency of every vocabulary term (``int64``).
    """

    num_docs: int
    total_terms: int
    df: np.ndarray

    @classmethod
    def from_tf(cls, X: sp.csr_matrix) -> CollectionStats:
        """Statistics of a document-term frequency matrix."""
        lengths = np.asarray(X.sum(axis=1)).ravel()
        df = np.bincount(X.indices, minlength=X.shape[1]).astype(np.int64)
        return cls(int((lengths > 0).sum()), int(lengths.sum()), df)

    @property
    def avgdl(self) -> np.float32:
        """``float32(total_terms / num_docs)`` as Lucene computes it (1 when empty)."""
        if self.num_docs == 0:
            return np.float32(1.0)
        return np.float32(self.total_terms / self.num_docs)

    def idf(self) -> np.ndarray:
        """Lucene's idf per term, ``float32`` (computed in float64, as thresher)."""
        n = float(self.num_docs)
        df = self.df.astype(np.float64)
        return np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)


def bm25_impacts(
    X: sp.csr_matrix,
    stats: CollectionStats | None = None,
    k1: float = 0.9,
    b: float = 0.4,
) -> sp.csr_matrix:
    """Lucene BM25 impact of every (document, term) posting.

    Args:
        X: document-term frequencies (CSR, non-negative integers).
        stats: collection statistics (default: those of ``X``).
        k1, b: BM25 parameters (Anserini's defaults 0.9 and 0.4).

    Returns:
        ``float32`` CSR of the same shape and sparsity (sorted indices), impacts >= 0.
    """
    X = sp.csr_matrix(X, dtype=np.float64)
    X.sort_indices()
    if stats is None:
        stats = CollectionStats.from_tf(X)
    lengths = np.asarray(X.sum(axis=1)).ravel().astype(np.int64)
    k1f, bf = np.float32(k1), np.float32(b)
    lens = byte4_to_int(np.arange(256)).astype(np.float32)
    cache = np.float32(1.0) / (k1f * ((np.float32(1.0) - bf) + bf * lens / stats.avgdl))
    norm = cache[int_to_byte4(lengths)]
    w = stats.idf()[X.indices]
    tf = X.data.astype(np.float32)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    one = np.float32(1.0)
    data = (w - w / (one + tf * norm[rows])).astype(np.float32)
    out = sp.csr_matrix((data, X.indices.copy(), X.indptr.copy()), shape=X.shape)
    return out

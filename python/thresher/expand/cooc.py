"""Document-level co-occurrence statistics and the PPMI initialisation of ``T``.

Choice: **document-level** co-occurrence (two terms co-occur when they appear in the same
document), not a sliding window. The targets of document expansion are the words a *query*
about the document would use; those are topical associates of the document's words, not
their syntactic neighbours, and BEIR documents (abstracts, Cranfield reports) are short and
on one topic. Document-level counts are also one sparse product, ``C = Xb^T Xb`` over the
binary document-term matrix, with no window parameter to tune.

``PMI(i, j) = ln(C_ij N / (df_i df_j))`` (optionally with context-distribution smoothing,
``df_j`` replaced by a rescaled ``df_j ** cds``); the positive part (PPMI) scores the association of
target ``j`` with source ``i``. PMI overrates rare pairs, so only pairs seen in at least
``min_count`` documents are kept, and both terms need ``df >= min_df``. Each row (source
term) keeps its ``m`` strongest targets; the diagonal is excluded (expansion adds *other*
terms; the literal term's own weight is BM25's). The product is computed in blocks of rows
so memory stays bounded on larger corpora.
"""

# Matrix names follow the maths.
# ruff: noqa: N803, N806

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["ppmi_topm", "top_per_row"]


def top_per_row(M: sp.csr_matrix, m: int) -> sp.csr_matrix:
    """Keeps the ``m`` largest entries of every row (ties: smaller column first).

    Returns:
        CSR with sorted indices and at most ``m`` non-zeros per row.
    """
    M = sp.csr_matrix(M)
    M.sum_duplicates()
    counts = np.diff(M.indptr)
    if counts.max(initial=0) <= m:
        M.sort_indices()
        return M
    rows = np.repeat(np.arange(M.shape[0]), counts)
    # Sort by row, then value descending, then column ascending (deterministic ties).
    order = np.lexsort((M.indices, -M.data, rows))
    start = np.repeat(M.indptr[:-1], counts)
    rank = np.arange(M.nnz) - start
    keep = order[rank < m]
    out = sp.csr_matrix((M.data[keep], (rows[keep], M.indices[keep])), shape=M.shape)
    out.sort_indices()
    return out


def ppmi_topm(
    X: sp.csr_matrix,
    m: int,
    *,
    min_df: int = 2,
    min_count: int = 2,
    cds: float = 1.0,
    block: int = 2048,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """PPMI of document-level co-occurrence, the ``m`` best targets per source term.

    Args:
        X: document-term counts (CSR); only presence matters.
        m: targets kept per source term.
        min_df: both terms need at least this document frequency.
        min_count: pairs seen in fewer documents are dropped.
        cds: context-distribution smoothing exponent (Levy, Goldberg & Dagan, TACL 2015):
            the target's probability is taken proportional to ``df_j ** cds`` (1 = plain
            PMI; 0.75 damps PMI's preference for rare targets).
        block: source terms per sparse product (memory bound).

    Returns:
        ``(P, C)``: PPMI (``float32``) and the co-occurrence counts (``float32``) of the kept
        pairs, both ``V x V`` CSR with the same sparsity, at most ``m`` entries per row.
    """
    Xb = sp.csr_matrix(X, copy=True)
    Xb.data[:] = 1.0
    Xb.eliminate_zeros()
    N = Xb.shape[0]
    V = Xb.shape[1]
    df = np.bincount(Xb.indices, minlength=V).astype(np.float64)
    ok = df >= max(min_df, 1)
    Xb = sp.csr_matrix(Xb @ sp.diags(ok.astype(np.float64)))
    Xb.eliminate_zeros()
    Xt = sp.csr_matrix(Xb.T)
    # Smoothed target "document frequency": df_j ** cds rescaled to the same total mass.
    df_t = np.zeros(V)
    df_t[ok] = df[ok] ** cds
    if ok.any():
        df_t *= df[ok].sum() / df_t[ok].sum()
    rows_p: list[sp.csr_matrix] = []
    rows_c: list[sp.csr_matrix] = []
    for lo in range(0, V, block):
        hi = min(V, lo + block)
        C = sp.csr_matrix(Xt[lo:hi] @ Xb)  # (hi-lo) x V co-occurrence counts
        C.setdiag(0, k=lo)  # row r of the block is term lo + r: drop (i, i)
        C.data[C.data < min_count] = 0
        C.eliminate_zeros()
        r = np.repeat(np.arange(lo, hi), np.diff(C.indptr))
        pmi = np.log(C.data * N / (df[r] * df_t[C.indices]))
        P = sp.csr_matrix((np.maximum(pmi, 0.0), C.indices, C.indptr), shape=C.shape)
        P.eliminate_zeros()
        P = top_per_row(P, m)
        # Counts at the kept positions.
        Ck = C.multiply(P.astype(bool)).tocsr()
        Ck.sort_indices()
        rows_p.append(P)
        rows_c.append(Ck)
    P = sp.vstack(rows_p, format="csr").astype(np.float32)
    C = sp.vstack(rows_c, format="csr").astype(np.float32)
    P.sort_indices()
    C.sort_indices()
    return P, C

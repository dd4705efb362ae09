"""Refining the term-to-term matrix ``T`` on training queries (a ranking loss, projected Adam).

Score of query ``q`` (term counts) against document ``d``:

    s(q, d) = q . (G(d) ⊙ I(d)),   I(d) = I_lit(d) + I_lit(d) T

where ``I_lit`` is the literal importance (BM25 impacts), ``G(d)`` the 0/1 gate (literal
terms, plus the gated expansion terms). With ``reweight_literal`` the literal terms also
receive their expansion mass ``(I_lit(d) T)_j`` (context-dependent term weighting, as
SparTerm's importance predictor re-weights literal tokens); without it only expansion terms
do. Writing ``Z = q ⊙ (G_exp(d) + rho L(d))`` (``L`` the literal mask, ``rho`` 0 or 1):

    s(q, d) = q . I_lit(d) + sum_j Z_j sum_i I_lit(d)_i T_ij
    ds / dT_ij = I_lit(d)_i Z_j                       (only at the non-zeros of T)

Loss: listwise softmax cross-entropy over one relevant document and ``n`` negatives per
(query, relevant document) pair, ``log sum_k exp(s_k) - s_+``, averaged with weights (the
gain ``2^grade - 1`` of the relevant document, so graded collections train towards
nDCG's priorities; all 1 on binary judgements), plus ``l2 / 2 ||T - T0||^2``
(pulls entries towards the PPMI initialisation, the only evidence for targets no training
query uses). For a batch the gradient at the non-zeros of ``T`` is
``(I_lit[rows]^T diag(c) Z)`` sampled at ``T``'s pattern, with ``c = softmax - onehot``: two
sparse products restricted to the columns the batch's queries touch. Why a gradient method
and not a closed form: the softmax ranking loss is what retrieval measures; least squares
towards query-term indicators ignores negatives and the competition between documents.

The gate ``G`` is held fixed during one refinement (it is 0/1, so there is no gradient
through it; SparTerm also lets the ranking loss flow only through the importance values of
gated terms). Entries are kept ``>= 0`` by projection, so ``T`` may also prune itself.
Negatives are drawn (seeded) from each query's top-ranked non-relevant documents under the
initial representation (hard negatives).
"""

# Matrix names follow the maths.
# ruff: noqa: N803, N806

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Examples", "Pattern", "batch_loss_and_grad", "refine"]


class Pattern:
    """The fixed sparsity of ``T`` (CSR order), with a column-major view for slicing.

    ``T.data`` is the parameter vector ``theta``; ``columns(J)`` gives, for target terms
    ``J``, the (row, local column, position in theta) of every non-zero.
    """

    def __init__(self, T: sp.csr_matrix) -> None:
        T = sp.csr_matrix(T)
        T.sort_indices()
        self.shape = T.shape
        self.indptr = T.indptr.astype(np.int64)
        self.indices = T.indices.astype(np.int32)
        rows = np.repeat(np.arange(T.shape[0], dtype=np.int32), np.diff(T.indptr))
        order = np.lexsort((rows, self.indices))  # by column, then row
        self.csc_rows = rows[order]
        self.csc_pos = order.astype(np.int64)
        self.csc_ptr = np.zeros(T.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.indices, minlength=T.shape[1]), out=self.csc_ptr[1:])

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def matrix(self, theta: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((theta, self.indices, self.indptr), shape=self.shape)

    def columns(self, J: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts, ends = self.csc_ptr[J], self.csc_ptr[J + 1]
        counts = ends - starts
        local = np.repeat(np.arange(len(J)), counts)
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        idx = np.repeat(starts, counts) + offs
        return self.csc_rows[idx], local, self.csc_pos[idx]


@dataclass
class Examples:
    """Training tuples: query row, relevant document, pool of negatives.

    Attributes:
        query: row of ``Q`` per example.
        positive: relevant document per example.
        negatives: ``(n_examples, pool)`` candidate negatives (hard negatives first).
        weight: optional weight of each example's loss (e.g. the gain of its grade).
    """

    query: np.ndarray
    positive: np.ndarray
    negatives: np.ndarray
    weight: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.query)


def batch_loss_and_grad(
    theta: np.ndarray,
    pattern: Pattern,
    B: sp.csr_matrix,
    Zmask: sp.csr_matrix,
    Q: sp.csr_matrix,
    qrows: np.ndarray,
    docs: np.ndarray,
    weights: np.ndarray | None = None,
    sigma: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax ranking loss of a batch and its gradient at the non-zeros of ``T``.

    Args:
        theta: values of ``T`` (``pattern`` order).
        pattern: sparsity of ``T``.
        B: literal importance, documents x V.
        Zmask: documents x V, the terms whose importance includes ``(B T)``: gated
            expansion terms, plus the literal terms when re-weighting them (values 1).
        Q: query term counts, queries x V.
        qrows: ``(E,)`` query row of each example.
        docs: ``(E, 1 + n)`` documents of each example, the relevant one first.
        weights: ``(E,)`` example weights (default 1); the loss is their weighted mean.
        sigma: per-document scale of the expansion source, ``E(d) = sigma_d I_lit(d) T``
            (default 1).

    Returns:
        ``(loss, positions, grad)``: the mean loss over examples, and the gradient as values
        at ``positions`` of ``theta`` (all other entries have zero gradient).
    """
    n_ex, width = docs.shape
    d = docs.ravel()
    qi = np.repeat(qrows, width)
    Qr = Q[qi]
    Br = B[d]
    Z = Qr.multiply(Zmask[d]).tocsr()
    s = np.asarray(Qr.multiply(Br).sum(axis=1)).ravel()
    sig = np.ones(len(d)) if sigma is None else np.asarray(sigma, dtype=np.float64)[d]
    J = np.unique(Z.indices)
    if len(J):
        prow, pcol, ppos = pattern.columns(J)
        TJ = sp.csr_matrix((theta[ppos], (prow, pcol)), shape=(pattern.shape[0], len(J)))
        ZJ = Z[:, J]
        s = s + sig * np.asarray(ZJ.multiply(Br @ TJ).sum(axis=1)).ravel()
    S = s.reshape(n_ex, width)
    w = np.ones(n_ex) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mx = S.max(axis=1, keepdims=True)
    ex = np.exp(S - mx)
    lse = np.log(ex.sum(axis=1)) + mx[:, 0]
    loss = float(np.sum(w * (lse - S[:, 0])))
    C = ex / ex.sum(axis=1, keepdims=True)
    C[:, 0] -= 1.0
    C *= w[:, None]
    if not len(J) or not len(ppos):
        return loss, np.zeros(0, dtype=np.int64), np.zeros(0)
    G = sp.csr_matrix(Br.T @ (sp.diags(C.ravel() * sig) @ ZJ))
    g = np.asarray(G[prow, pcol]).ravel()
    return loss, ppos, g


def refine(
    theta0: np.ndarray,
    pattern: Pattern,
    B: sp.csr_matrix,
    Zmask: sp.csr_matrix,
    Q: sp.csr_matrix,
    examples: Examples,
    *,
    negatives: int,
    epochs: int,
    batch_size: int,
    lr: float,
    l2: float,
    seed: int,
    sigma: np.ndarray | None = None,
    evaluate: Callable[[np.ndarray], float] | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, list[float]]:
    """Projected Adam on ``theta`` (``>= 0``), keeping the epoch best on ``evaluate``.

    Args:
        theta0: initial values (also the L2 anchor).
        negatives: negatives sampled per example and epoch from its pool.
        epochs, batch_size, lr, l2: optimisation settings (``lr`` in units of ``theta``).
        seed: seeds the shuffling and the negative sampling.
        sigma: per-document scale of the expansion source (see :func:`batch_loss_and_grad`).
        evaluate: dev metric of a ``theta`` (higher is better); epoch 0 is ``theta0``.
        log: progress messages.

    Returns:
        ``(theta, history)``: the best values and the dev metric per epoch (or the train loss
        when ``evaluate`` is None, in which case the last epoch is returned).
    """
    rng = np.random.default_rng(seed)
    theta = theta0.astype(np.float64).copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-12
    step = 0
    best = theta.copy()
    history: list[float] = []
    best_score = -np.inf
    if evaluate is not None:
        best_score = evaluate(theta)
        history.append(best_score)
        if log:
            log(f"epoch 0: dev {best_score:.4f}")
    pool = examples.negatives.shape[1]
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(examples))
        total = 0.0
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            pick = np.argsort(rng.random((len(idx), pool)), axis=1)[:, :negatives]
            negs = np.take_along_axis(examples.negatives[idx], pick, axis=1)
            docs = np.concatenate([examples.positive[idx, None], negs], axis=1)
            loss, pos, g = batch_loss_and_grad(
                theta.astype(np.float32),
                pattern,
                B,
                Zmask,
                Q,
                examples.query[idx],
                docs,
                None if examples.weight is None else examples.weight[idx],
                sigma,
            )
            total += loss * len(idx)
            grad = l2 * (theta - theta0)
            np.add.at(grad, pos, g)
            step += 1
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad * grad
            mh = m / (1 - b1**step)
            vh = v / (1 - b2**step)
            theta -= lr * mh / (np.sqrt(vh) + eps)
            np.maximum(theta, 0.0, out=theta)
        msg = f"epoch {epoch}: train loss {total / len(order):.4f}"
        if evaluate is not None:
            score = evaluate(theta)
            history.append(score)
            msg += f", dev {score:.4f}"
            if score > best_score:
                best_score, best = score, theta.copy()
        else:
            history.append(total / len(order))
            best = theta.copy()
        if log:
            log(msg)
    return best, history

"""Evaluation helpers: a fast nDCG@k for early stopping, ir-measures for reports.

:func:`ndcg` follows trec_eval's definition (gain = graded relevance,
discount ``1 / log2(rank + 1)``, ideal ranking from the qrels; grades <= 0
count as non-relevant). It is used on the dev split after every epoch; the
figures we report come from ``ir-measures`` (:func:`evaluate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["evaluate", "ndcg", "run_dict"]


def ndcg(
    ranked: np.ndarray,
    qrels: Sequence[Mapping[int, int]],
    k: int = 10,
    scores: np.ndarray | None = None,
) -> np.ndarray:
    """Per-query nDCG@k. ``ranked[i]`` holds document indices best first;
    ``qrels[i]`` maps document index to grade for query ``i``. With ``scores`` (aligned with
    ``ranked``), entries scoring 0 or less gain nothing: an inverted index would not return
    them (:func:`thresher.tdv.scoring.search` pads with them)."""
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    out = np.zeros(len(qrels))
    for i, rel in enumerate(qrels):
        gains = sorted((g for g in rel.values() if g > 0), reverse=True)[:k]
        if not gains:
            continue
        idcg = float(np.dot(gains, disc[: len(gains)]))
        row = ranked[i, :k]
        g = np.array([max(rel.get(int(d), 0), 0) for d in row], dtype=np.float64)
        if scores is not None:
            g[scores[i, : len(row)] <= 0] = 0.0
        out[i] = float(np.dot(g, disc[: len(g)])) / idcg
    return out


def run_dict(
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    ranked: np.ndarray,
    scores: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Turn :func:`thresher.tdv.scoring.search` output into ``{qid: {docid: score}}``.

    Documents with score 0 (no query term matched) are left out, as an
    inverted index would not return them.
    """
    run: dict[str, dict[str, float]] = {}
    for qi, q in enumerate(query_ids):
        row = {}
        for d, s in zip(ranked[qi], scores[qi]):
            if s > 0:
                row[doc_ids[int(d)]] = float(s)
        run[q] = row
    return run


def evaluate(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    measures: Sequence[str] = ("nDCG@10", "R@100", "R@1000"),
) -> dict[str, float]:
    """Mean of each measure over the queries of ``qrels`` (ir-measures).

    Queries in ``qrels`` with no entry in ``run`` count as zero.
    """
    import ir_measures

    parsed = [ir_measures.parse_measure(m) for m in measures]
    qrels = {q: {d: int(g) for d, g in rel.items()} for q, rel in qrels.items()}
    run = {q: {d: float(s) for d, s in run.get(q, {}).items()} for q in qrels}
    totals = {str(p): 0.0 for p in parsed}
    for res in ir_measures.iter_calc(parsed, qrels, run):
        totals[str(res.measure)] += res.value
    n_q = len(qrels)
    return {m: (totals[str(p)] / n_q if n_q else 0.0) for m, p in zip(measures, parsed)}

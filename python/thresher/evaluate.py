"""Effectiveness metrics, computed by ``ir-measures`` (pytrec_eval backend; ``RR@k`` here, with
trec_eval's order: score descending, ties by document id descending, as for every measure).

Conventions (the same as the team's anchor harness and BEIR): averages are over every judged
query (a query with at least one relevant document); a judged query missing from the run
scores 0; hits whose document id equals the query id are dropped (matters for Quora/ArguAna).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

DEFAULT_MEASURES = ("nDCG@10", "R@100", "R@1000", "RR@10")


def to_run(
    results: Mapping[str, Iterable[tuple[str, float]]], drop_self: bool = True
) -> dict[str, dict[str, float]]:
    """``{qid: [(doc, score), ...]}`` -> ``{qid: {doc: score}}`` (first occurrence kept)."""
    run: dict[str, dict[str, float]] = {}
    for qid, hits in results.items():
        d: dict[str, float] = {}
        for did, score in hits:
            if drop_self and did == qid:
                continue
            d.setdefault(str(did), float(score))
        run[qid] = d
    return run


def evaluate(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    measures: Iterable[str] = DEFAULT_MEASURES,
) -> dict[str, float]:
    """Mean of each measure over the judged queries of ``qrels``.

    Args:
        run: ``{qid: {doc_id: score}}``.
        qrels: ``{qid: {doc_id: grade}}``.
        measures: ir-measures names, e.g. ``"nDCG@10"``, ``"R@1000"``, ``"RR@10"``.

    Returns:
        ``{measure name: mean value}``, in the order given.

    Raises:
        ValueError: an unknown measure, a NaN or infinite score in the run, or qrels with no
            relevant document.
    """
    import ir_measures

    if isinstance(measures, str):  # one measure, not its characters
        measures = [measures]
    parsed = []
    for m in measures:
        try:
            parsed.append(ir_measures.parse_measure(m))
        except (NameError, ValueError, TypeError, SyntaxError) as e:
            raise ValueError(
                f"unknown measure {m!r} (ir-measures names such as nDCG@10, R@1000, RR@10): {e}"
            ) from None
    for q, hits in run.items():
        if not all(map(math.isfinite, hits.values())):  # a C loop: the run may be large
            d, score = next((d, s) for d, s in hits.items() if not math.isfinite(s))
            raise ValueError(
                f"the run's score of document {d!r} for query {q!r} is {score}: scores must "
                "be finite to rank by"
            )
    judged = [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]
    if not judged:
        raise ValueError("the qrels hold no relevant document")
    per_q: dict[str, dict[str, float]] = {str(m): {} for m in parsed}
    run_judged = {q: dict(run[q]) for q in judged if run.get(q)}
    # RR@k: ir-measures sends it to its msmarco provider, which breaks score ties the other
    # way from trec_eval (pytrec_eval has no cut-off RR); computed here with trec_eval's order.
    cuts = {str(m): _rr_cutoff(m) for m in parsed}
    rest = [m for m in parsed if cuts[str(m)] is None]
    if run_judged and rest:
        for r in ir_measures.iter_calc(rest, {q: dict(qrels[q]) for q in judged}, run_judged):
            per_q[str(r.measure)][r.query_id] = r.value
    for name, k in cuts.items():
        if k is not None:
            for q, hits in run_judged.items():
                per_q[name][q] = _reciprocal_rank(hits, qrels[q], k)
    return {
        name: sum(per_q[str(m)].get(q, 0.0) for q in judged) / len(judged)
        for name, m in zip(measures, parsed)
    }


def _rr_cutoff(measure: object) -> int | None:
    """The cut-off of an ``RR@k`` measure with default parameters, else None."""
    if getattr(measure, "NAME", None) != "RR":
        return None
    params = getattr(measure, "params", {}) or {}
    if set(params) - {"cutoff"} or params.get("cutoff") is None:
        return None
    return int(params["cutoff"])


def _trec_order(hits: Mapping[str, float]) -> list[str]:
    """Document ids in trec_eval's ranking order: score descending, ties by id descending."""
    by_id = sorted(hits.items(), key=lambda h: h[0], reverse=True)
    return [d for d, _ in sorted(by_id, key=lambda h: -h[1])]


def _reciprocal_rank(hits: Mapping[str, float], judged: Mapping[str, int], k: int) -> float:
    for rank, d in enumerate(_trec_order(hits)[:k], 1):
        if judged.get(d, 0) > 0:
            return 1.0 / rank
    return 0.0

"""Effectiveness metrics, computed by ``ir-measures`` (pytrec_eval backend).

Conventions (the same as the team's anchor harness and BEIR): averages are over every judged
query (a query with at least one relevant document); a judged query missing from the run
scores 0; hits whose document id equals the query id are dropped (matters for Quora/ArguAna).
"""

from __future__ import annotations

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
    """
    import ir_measures

    if isinstance(measures, str):  # one measure, not its characters
        measures = [measures]
    parsed = [ir_measures.parse_measure(m) for m in measures]
    judged = [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]
    if not judged:
        raise ValueError("the qrels hold no relevant document")
    per_q: dict[str, dict[str, float]] = {str(m): {} for m in parsed}
    run_judged = {q: dict(run[q]) for q in judged if run.get(q)}
    if run_judged:
        for m in ir_measures.iter_calc(parsed, {q: dict(qrels[q]) for q in judged}, run_judged):
            per_q[str(m.measure)][m.query_id] = m.value
    return {
        name: sum(per_q[str(m)].get(q, 0.0) for q in judged) / len(judged)
        for name, m in zip(measures, parsed)
    }

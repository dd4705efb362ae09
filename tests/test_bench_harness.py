"""The benchmark harness's single-thread pinning (benches/measure.py): single-thread figures
are only single-thread if the threads an engine starts stay on one core."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benches"))
from measure import one_core

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="needs Linux sched_setaffinity"
)


def test_one_core_pins_the_thread_and_its_children_then_restores():
    before = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    with one_core():
        inside = os.sched_getaffinity(0)
        t = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        t.start()
        t.join()
    assert inside == {min(before)}
    assert seen == [inside]
    assert os.sched_getaffinity(0) == before


def test_one_core_restores_after_an_error():
    before = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), one_core():
        raise RuntimeError("engine failed")
    assert os.sched_getaffinity(0) == before


def test_compare_scores_runs_as_thresher_evaluate_does(tmp_path: Path):
    """compare.py's MRR@10 breaks tied scores as trec_eval does (ties by doc id descending),
    like `thresher.evaluate` and `thresher eval`: d2 and d3 tie below d1, so the relevant d2
    comes third, RR 1/3 (ir-measures' own RR@10 would put it second). Hits equal to the query
    id are dropped (BEIR's convention)."""
    import compare

    from thresher.evaluate import evaluate

    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td9\t1\n"
    )
    run = {
        "q1": [("d1", 2.0), ("d2", 1.0), ("d3", 1.0), ("q1", 0.5)],
        "q2": [("q2", 3.0), ("d9", 1.0)],
    }
    cfg = {"config": {}}
    res = {
        "engines": [{"engine": "thresher", "configs": [cfg], "_runs": {compare.cfg_str({}): run}}]
    }
    compare.evaluate(res, tmp_path, 0)
    m = cfg["metrics"]
    assert m["RR@10"] == pytest.approx((1 / 3 + 1) / 2)
    trec = {q: {d: s for d, s in hits if d != q} for q, hits in run.items()}
    qrels = {"q1": {"d2": 1}, "q2": {"d9": 1}}
    assert m == pytest.approx(evaluate(trec, qrels, ("nDCG@10", "R@100", "R@1000", "RR@10")))

"""End to end on real collections: SciFact effectiveness equals Lucene's (Pyserini 1.6,
k1=0.9, b=0.4, flat title+text), and Lucene's own tokens reproduce Lucene's run scores."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import thresher
from thresher.evaluate import evaluate, to_run

# Pyserini 1.6 BM25 flat, k1=0.9, b=0.4 on BEIR SciFact test (see ../shared/anchors/README.md).
LUCENE_SCIFACT = {"nDCG@10": 0.6789, "R@1000": 0.9767}


def run_queries(idx: thresher.Index, queries: dict[str, object], k: int) -> dict:
    qids = list(queries)
    docs, scores = idx.search_batch([queries[q] for q in qids], k=k)
    ids = idx.doc_ids
    return {
        q: [(str(ids[d]), float(s)) for d, s in zip(docs[i], scores[i]) if d >= 0]
        for i, q in enumerate(qids)
    }


@pytest.mark.slow
def test_scifact_matches_lucene_effectiveness(scifact_dir: Path, tmp_path: Path):
    idx = thresher.Index.from_beir(scifact_dir)
    assert len(idx) == 5183
    qrels = thresher.load_qrels(scifact_dir, "test")
    queries = {q: t for q, t in thresher.load_queries(scifact_dir).items() if q in qrels}
    assert len(queries) == 300
    m = evaluate(to_run(run_queries(idx, queries, 1000)), qrels)
    assert abs(m["nDCG@10"] - LUCENE_SCIFACT["nDCG@10"]) <= 0.003, m
    assert abs(m["R@1000"] - LUCENE_SCIFACT["R@1000"]) <= 0.005, m
    # And the same through a save/load cycle.
    idx.save(tmp_path / "sf")
    again = evaluate(
        to_run(run_queries(thresher.Index.load(tmp_path / "sf"), queries, 1000)), qrels
    )
    assert again == m


def _tokens(path: Path) -> list[tuple[str, list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [(r["id"], r["tokens"]) for r in map(json.loads, f)]


@pytest.mark.slow
@pytest.mark.parametrize("collection", ["scifact", "cranfield"])
def test_lucene_tokens_reproduce_lucene_scores(lucene_dir: Path, collection: str):
    ref = lucene_dir / collection
    idx = thresher.Index.build(_tokens(ref / "doc_tokens.jsonl.gz"))
    queries = dict(_tokens(ref / "query_tokens.jsonl"))
    lucene: dict[str, dict[str, float]] = {}
    for line in (ref / "run.bm25.k1_0.9.b_0.4.trec").read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        lucene.setdefault(qid, {})[doc] = float(score)
    ours = run_queries(idx, {q: queries[q] for q in lucene}, len(idx))
    pairs = 0
    for qid, expected in lucene.items():
        mine = dict(ours[qid])
        for doc, score in expected.items():
            assert mine[doc] == pytest.approx(score, rel=1e-4), (qid, doc)
            pairs += 1
    assert pairs > 20_000


def test_cranfield_pipeline_runs(cranfield_dir: Path):
    idx = thresher.Index.from_beir(cranfield_dir, threads=2)
    qrels = thresher.load_qrels(cranfield_dir)
    queries = {q: t for q, t in thresher.load_queries(cranfield_dir).items() if q in qrels}
    m = evaluate(to_run(run_queries(idx, queries, 100)), qrels)
    # BM25 on Cranfield is far from trivial but far from random: a sanity band, not parity.
    assert 0.2 < m["nDCG@10"] < 0.6, m
    single = run_queries(idx, dict(list(queries.items())[:20]), 10)
    for q, hits in single.items():
        assert [h[0] for h in idx.search(queries[q], k=10)] == [h[0] for h in hits]
        assert np.allclose([h[1] for h in idx.search(queries[q], k=10)], [h[1] for h in hits])

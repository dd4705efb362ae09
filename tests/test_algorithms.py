"""Top-k algorithms and filters: every algorithm returns exactly what exhaustive returns (same
documents, same order, bit-identical scores) on the real collections — BM25 as Lucene, and
indexes reweighted with random learned term weights (``tdv-bm25``, ``tdv-tfidf``) — and
``allow=`` restricts the top-k to the allowed documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import thresher

ALGORITHMS = ("maxscore", "bmw", "auto")


@pytest.fixture(
    scope="module",
    params=["scifact", "cranfield", "scifact/tdv-bm25", "cranfield/tdv-bm25", "scifact/tdv-tfidf"],
)
def collection(request: pytest.FixtureRequest) -> tuple[thresher.Index, list[str]]:
    name, _, weighted = request.param.partition("/")
    folder: Path = request.getfixturevalue(f"{name}_dir")
    idx = thresher.Index.from_beir(folder)
    if weighted:
        # Heavy-tailed random weights, a third of the terms dropped.
        rng = np.random.default_rng(11)
        n = len(idx.vocabulary)
        w = np.exp(rng.normal(0.0, 1.5, size=n)).astype(np.float32)
        w[rng.random(n) < 0.33] = 0.0
        idx = idx.reweight(w, scoring=weighted)
    qrels = thresher.load_qrels(folder, "test")
    queries = [t for q, t in thresher.load_queries(folder).items() if q in qrels]
    return idx, queries


@pytest.mark.slow
@pytest.mark.parametrize("k", [10, 100, 1000])
def test_every_algorithm_equals_exhaustive(collection, k: int):
    idx, queries = collection
    want_docs, want_scores = idx.search_batch(queries, k=k, algorithm="exhaustive")
    for algorithm in ALGORITHMS:
        docs, scores = idx.search_batch(queries, k=k, algorithm=algorithm)
        np.testing.assert_array_equal(docs, want_docs, err_msg=algorithm)
        # Bit-identical, not just close.
        np.testing.assert_array_equal(scores.view(np.uint32), want_scores.view(np.uint32))


@pytest.mark.slow
def test_single_search_matches_batch_for_every_algorithm(collection):
    idx, queries = collection
    for q in queries[:40]:
        want = idx.search(q, k=20, algorithm="exhaustive")
        for algorithm in ALGORITHMS:
            assert idx.search(q, k=20, algorithm=algorithm) == want


@pytest.fixture(scope="module")
def small() -> thresher.Index:
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(30)]
    docs = [
        (f"id{i}", list(rng.choice(words, size=rng.integers(1, 20), p=_zipf(30))))
        for i in range(800)
    ]
    return thresher.Index.build(docs)


def _zipf(n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1)
    return p / p.sum()


def _filtered_reference(idx: thresher.Index, query, mask: np.ndarray, k: int):
    everything = idx.search(query, k=len(idx), algorithm="exhaustive")
    ids = idx.doc_ids
    allowed = {str(ids[i]) for i in np.flatnonzero(mask)}
    return [h for h in everything if h[0] in allowed][:k]


@pytest.mark.parametrize("algorithm", ["exhaustive", *ALGORITHMS])
@pytest.mark.parametrize("k", [1, 5, 50, 2000])
def test_allow_returns_the_top_k_of_the_allowed_documents(small, algorithm: str, k: int):
    rng = np.random.default_rng(k)
    for density in (0.01, 0.2, 0.9):
        mask = rng.random(len(small)) < density
        for query in (["w0", "w1"], ["w3", "w17", "w29", "w0"], {"w2": 2.0, "w5": 0.5}):
            want = _filtered_reference(small, query, mask, k)
            got = small.search(query, k=k, algorithm=algorithm, allow=mask)
            assert got == want
            # k results whenever k allowed documents match.
            assert len(got) == min(k, len(_filtered_reference(small, query, mask, 10**6)))


def test_allow_forms_are_equivalent(small):
    mask = np.zeros(len(small), dtype=bool)
    mask[::7] = True
    numbers = np.flatnonzero(mask)
    ids = [str(small.doc_ids[i]) for i in numbers]
    want = small.search("w1 w4", k=30, allow=mask)
    assert want and all(h[0] in set(ids) for h in want)
    for allow in (
        numbers,
        numbers.astype(np.int32),
        list(numbers),
        set(numbers.tolist()),
        ids,
        set(ids),
        numbers.astype(object),  # Python ints in an object array
        np.array([int(x) for x in numbers] + [2**70], dtype=object)[:-1],
        mask.astype(object),  # Python bools in an object array: a mask
    ):
        assert small.search("w1 w4", k=30, allow=allow) == want
    docs, _ = small.search_batch(["w1 w4", "w0"], k=30, allow=ids)
    assert set(docs[docs >= 0].tolist()) <= set(numbers.tolist())
    assert small.search("w1", k=5, allow=[]) == []


def test_batch_filter_applies_to_every_query(small):
    mask = np.zeros(len(small), dtype=bool)
    mask[100:200] = True
    queries = ["w0", "w1 w2", ["w9", "w9"], {"w3": 1.0}]
    for algorithm in ("exhaustive", *ALGORITHMS):
        docs, scores = small.search_batch(queries, k=15, algorithm=algorithm, allow=mask)
        for i, q in enumerate(queries):
            want = _filtered_reference(small, q, mask, 15)
            got = [(str(small.doc_ids[d]), float(s)) for d, s in zip(docs[i], scores[i]) if d >= 0]
            assert got == [(d, float(np.float32(s))) for d, s in want]


@pytest.mark.parametrize(
    ("allow", "error", "match"),
    [
        (np.ones(3, dtype=bool), ValueError, "mask has 3 entries"),
        (np.ones((800, 1), dtype=bool), ValueError, "one-dimensional"),
        ([800], ValueError, "out of range"),
        (np.array([-1]), ValueError, "out of range"),
        (np.array([3, 2**70], dtype=object), ValueError, "document number 1180591620717411303424"),
        (np.array([3, -(2**70)], dtype=object), ValueError, "out of range"),
        (np.array([800], dtype=object), ValueError, "document number 800 in allow is out of range"),
        (["id0", "nope"], ValueError, "unknown document id"),
        ("id0", TypeError, "single str"),
        (np.array([0.5]), TypeError, "bools"),
        (3, TypeError, "allow must be"),
    ],
)
def test_bad_allow_is_rejected(small, allow, error, match):
    with pytest.raises(error, match=match):
        small.search("w1", allow=allow)
    with pytest.raises(error, match=match):
        small.search_batch(["w1"], allow=allow)


def test_unknown_algorithm_is_rejected(small):
    with pytest.raises(ValueError, match="valid algorithms: auto, maxscore, bmw, exhaustive"):
        small.search("w1", algorithm="wand")
    with pytest.raises(TypeError, match="algorithm must be a str"):
        small.search_batch(["w1"], algorithm=None)  # type: ignore[arg-type]


_LEVEL_SCRIPT = """
import hashlib, sys
import numpy as np
import thresher
idx = thresher.Index.from_beir(sys.argv[1])
qs = list(thresher.load_queries(sys.argv[1]).values())
w = np.exp(np.random.default_rng(5).normal(0.0, 1.5, size=len(idx.vocabulary))).astype(np.float32)
h = hashlib.sha256()
for index in (idx, idx.reweight(w, scoring="tdv-bm25")):
    for k in (10, 1000):
        docs, scores = index.search_batch(qs, k=k, algorithm="exhaustive", threads=1)
        h.update(docs.tobytes())
        h.update(scores.tobytes())
print(thresher.CPU_LEVEL, h.hexdigest())
"""


@pytest.mark.slow
def test_every_cpu_level_gives_the_same_bits(cranfield_dir, tmp_path):
    """Exhaustive search is compiled per CPU level (AVX-512, AVX2, portable; ``THRESHER_CPU``
    caps it): Cranfield's 225 queries, BM25 and TDV-reweighted, k=10 and 1000, hash equal."""
    import os
    import subprocess
    import sys

    script = tmp_path / "levels.py"
    script.write_text(_LEVEL_SCRIPT)
    seen = {}
    for cap in ("portable", "v3", "v4"):
        env = {**os.environ, "THRESHER_CPU": cap}
        out = subprocess.run(
            [sys.executable, str(script), str(cranfield_dir)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        seen[out[0]] = out[1]
    assert "portable" in seen
    assert thresher.CPU_LEVEL in seen
    assert len(set(seen.values())) == 1, seen

"""TDV term weights in the Rust index (``Index.reweight``, ``tdv-bm25`` / ``tdv-tfidf``): the
same rankings and scores as :mod:`thresher.tdv`'s scipy scorer, weight validation, pruning of
zero-weight terms, persistence, every algorithm equal to exhaustive, and the CLI."""

# Matrix names follow the maths (X = doc-term tf, Q = queries).
# ruff: noqa: N803, N806

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import thresher
from thresher.tdv import Corpus, ScoringConfig, TDVModel, make_features, score_matrix
from thresher.tdv import reweight as tdv_reweight
from thresher.tdv import search as tdv_search


def _zipf_docs(seed: int, n_docs: int, vocab: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    words = np.array([f"w{i:03d}" for i in range(vocab)])
    out = []
    for i in range(n_docs):
        n = 0 if i % 37 == 5 else int(rng.integers(1, 60))
        out.append([str(w) for w in rng.choice(words, size=n, p=p)])
    return out


def _index_and_corpus(docs: list[list[str]]) -> tuple[thresher.Index, Corpus]:
    ids = [f"d{i}" for i in range(len(docs))]
    idx = thresher.Index.build(list(zip(ids, docs)), threads=1)
    corpus = Corpus.from_tokens(ids, docs)
    assert idx.vocabulary == corpus.vocab
    return idx, corpus


def _random_weights(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = np.exp(rng.normal(0.0, 1.0, size=n)).astype(np.float32)
    w[rng.random(n) < 0.3] = 0.0
    return w


def _scipy_hits(corpus, weights, cfg, queries, k):
    X = corpus.tf if weights is None else tdv_reweight(corpus.tf, weights)
    docs, scores = tdv_search(score_matrix(X, cfg), corpus.query_matrix(queries), k)
    return [
        [(corpus.doc_ids[d], float(s)) for d, s in zip(dr, sr) if s > 0]
        for dr, sr in zip(docs, scores)
    ]


def _assert_same(engine, reference, k, rtol=2e-6):
    """Same hits and scores up to f32 rounding: score sequences agree rank by rank, and the
    documents agree wherever neighbouring scores are not within rounding of each other.
    ``reference`` lists go deeper than ``k`` so that a near-tie across the cut is seen."""
    swapped = 0
    for got, deeper in zip(engine, reference):
        want = deeper[:k]
        assert len(got) == len(want)
        gs = np.array([s for _, s in got])
        ws = np.array([s for _, s in deeper])
        np.testing.assert_allclose(gs, ws[: len(gs)], rtol=rtol)
        for i, ((gd, _), (wd, _)) in enumerate(zip(got, want)):
            if gd != wd:
                near = np.isclose(ws, ws[i], rtol=4 * rtol)
                assert near.sum() > 1, f"rank {i}: {gd} vs {wd}"
                swapped += 1
    return swapped


@pytest.mark.parametrize("model", ["bm25", "tfidf"])
@pytest.mark.parametrize("unit", [True, False])
def test_rankings_and_scores_equal_the_scipy_scorer(model: str, unit: bool):
    docs = _zipf_docs(1, 900, 300)
    idx, corpus = _index_and_corpus(docs)
    w = np.ones(len(idx.vocabulary), np.float32) if unit else _random_weights(300, 2)
    r = idx.reweight(w, scoring=f"tdv-{model}", k1=0.9, b=0.4)
    rng = np.random.default_rng(3)
    queries = [
        [f"w{int(i):03d}" for i in rng.integers(0, 300, size=rng.integers(1, 6))] for _ in range(60)
    ]
    cfg = ScoringConfig(model=model)
    want = _scipy_hits(corpus, None if unit else w, cfg, queries, 70)
    got = [r.search(q, k=50) for q in queries]
    swapped = _assert_same(got, want, 50)
    # BM25 near-ties are rare; TF-IDF (idf * tf) has exact ties everywhere, and the scipy
    # reference picks arbitrary members of a tie group at the cut (argpartition).
    assert model == "tfidf" or swapped <= 3
    # Batch search and every algorithm agree bit for bit with exhaustive.
    ex_docs, ex_scores = r.search_batch(queries, k=50, algorithm="exhaustive")
    for algorithm in ("maxscore", "bmw", "auto"):
        d, s = r.search_batch(queries, k=50, algorithm=algorithm)
        np.testing.assert_array_equal(d, ex_docs)
        np.testing.assert_array_equal(s.view(np.uint32), ex_scores.view(np.uint32))


def test_weight_one_build_equals_the_scipy_bm25_with_exact_lengths():
    docs = _zipf_docs(4, 600, 200)
    ids = [f"d{i}" for i in range(len(docs))]
    direct = thresher.Index.build(list(zip(ids, docs)), scoring="tdv-bm25")
    corpus = Corpus.from_tokens(ids, docs)
    queries = [["w001", "w050"], ["w000"], ["w010", "w011", "w150", "w199"]]
    want = _scipy_hits(corpus, None, ScoringConfig(), queries, 120)
    _assert_same([direct.search(q, k=100) for q in queries], want, 100)
    # Plain `lucene` scoring reads Lucene's one-byte norms: its own model, other scores.
    lucene = thresher.Index.build(list(zip(ids, docs)))
    assert lucene.search(queries[0], k=5) != direct.search(queries[0], k=5)


def test_cranfield_with_random_weights_matches_scipy(cranfield_dir: Path):
    an = thresher.Analyzer()
    with open(cranfield_dir / "queries.jsonl") as f:
        queries = [an.tokenize(json.loads(line)["text"]) for line in f]
    idx = thresher.Index.from_beir(cranfield_dir)
    ids = [str(d) for d in idx.doc_ids]
    X = idx.doc_term_matrix()
    corpus = Corpus(ids, idx.vocabulary, sp.csr_matrix(X, dtype=np.float64))
    w = _random_weights(len(idx.vocabulary), 5)
    r = idx.reweight(w)
    want = _scipy_hits(corpus, w, ScoringConfig(), queries, 120)
    got = [r.search(q, k=100) if q else [] for q in queries]
    assert _assert_same(got, want, 100) <= 5


def test_doc_term_matrix_and_vocabulary(cranfield_dir: Path):
    idx = thresher.Index.from_beir(cranfield_dir)
    X = idx.doc_term_matrix()
    assert isinstance(X, sp.csr_array) and X.dtype == np.int32
    assert X.shape == (len(idx), len(idx.vocabulary))
    assert X.has_sorted_indices
    vocab = idx.vocabulary
    assert vocab == sorted(vocab)
    df = np.bincount(X.indices, minlength=X.shape[1])
    for t in ("flow", "boundari", "layer"):
        assert df[vocab.index(t)] == idx.doc_freq(t)
    an = thresher.Analyzer()
    first = an.tokenize(next(iter(thresher.data.iter_beir_corpus(cranfield_dir)))[1])
    row = X[[0]]
    assert {vocab[j]: int(c) for j, c in zip(row.indices, row.data)} == {
        t: first.count(t) for t in set(first)
    }


def test_zero_weights_prune_terms_and_postings():
    docs = _zipf_docs(6, 400, 80)
    idx, corpus = _index_and_corpus(docs)
    vocab = idx.vocabulary
    w = np.ones(len(vocab), np.float32)
    dropped = ["w000", "w001", "w013"]
    for t in dropped:
        w[vocab.index(t)] = 0.0
    r = idx.reweight(w)
    assert r.vocabulary == [t for t in vocab if t not in dropped]
    np.testing.assert_array_equal(r.term_weights, w[w > 0])
    for t in dropped:
        assert r.doc_freq(t) == 0 and r.search([t]) == []
    postings = lambda i: sum(s["num_postings"] for s in i.meta["segments"])  # noqa: E731
    df = np.bincount(corpus.tf.indices, minlength=len(vocab))
    assert postings(r) == postings(idx) - sum(df[vocab.index(t)] for t in dropped)
    # The documents left without a posting no longer count in N.
    left = np.diff(tdv_reweight(corpus.tf, w).indptr) > 0
    assert r.meta["num_nonempty_docs"] == int(left.sum())
    assert len(r) == len(idx)
    # All-zero weights: an index that matches nothing.
    empty = idx.reweight(np.zeros(len(vocab), np.float32))
    assert empty.vocabulary == [] and empty.search("w000") == []


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        (np.ones(7, np.float32), ValueError, "7 term weights for a vocabulary of 3"),
        (np.ones((2, 2), np.float32), ValueError, "one-dimensional"),
        ("nan", ValueError, "must be finite"),
        ("inf", ValueError, "must be finite"),
        ("neg", ValueError, "must be finite"),
        ("big", ValueError, "representable as float32"),
        (np.array(["a", "b"]), TypeError, "must be numbers"),
    ],
)
def test_bad_weights_are_rejected(weights, error, match):
    idx = thresher.Index.build([("a", "cats and dogs"), ("b", "more dogs")])
    n = len(idx.vocabulary)
    if isinstance(weights, str):
        arr = np.ones(n, np.float32 if weights != "big" else np.float64)
        arr[1] = {"nan": np.nan, "inf": np.inf, "neg": -1.0, "big": 1e300}[weights]
        weights = arr
    with pytest.raises(error, match=match):
        idx.reweight(weights)
    with pytest.raises(ValueError, match="weighted scoring model"):
        idx.reweight(np.ones(n, np.float32), scoring="lucene")
    with pytest.raises(ValueError, match="unknown scoring"):
        idx.reweight(np.ones(n, np.float32), scoring="tdv")


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (lambda vocab, m: np.ones(len(vocab) + 1), r"term weights for a vocabulary of"),
        (lambda vocab, m: np.full(len(vocab), np.nan), r"position 0 is nan"),
        (lambda vocab, m: -np.ones(len(vocab)), r"position 0 is -1.0"),
    ],
)
def test_build_rejects_bad_weights_from_the_callable(fn, match):
    with pytest.raises(ValueError, match=match):
        thresher.Index.build([("a", "cats and dogs"), ("b", "more dogs")], term_weights=fn)


def test_weights_too_large_for_lengths_are_rejected():
    idx = thresher.Index.build([("a", ["x"] * 5 + ["y"] * 5)])
    with pytest.raises(ValueError, match="overflow"):
        idx.reweight(np.array([3e38, 3e38], np.float32))


def test_save_load_round_trip(tmp_path: Path):
    docs = _zipf_docs(7, 500, 120)
    idx, _ = _index_and_corpus(docs)
    r = idx.reweight(_random_weights(120, 8), scoring="tdv-bm25", k1=1.2, b=0.75)
    r.save(tmp_path / "idx")
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    assert meta["scoring"] == {"kind": "tdv-bm25", "k1": 1.2, "b": 0.75, "delta": 0.0}
    assert meta["format_version"] == thresher.FORMAT_VERSION
    loaded = thresher.Index.load(tmp_path / "idx")
    np.testing.assert_array_equal(loaded.term_weights, r.term_weights)
    assert loaded.vocabulary == r.vocabulary
    for q in (["w000", "w005"], ["w100"], {"w003": 2.0, "w050": 0.5}):
        assert loaded.search(q, k=20) == r.search(q, k=20)
    t = thresher.Index.build([("a", "x y"), ("b", "y z")]).reweight(
        np.array([0.5, 1.0, 2.0], np.float32), scoring="tdv-tfidf"
    )
    t.save(tmp_path / "t")
    assert thresher.Index.load(tmp_path / "t").search("z y") == t.search("z y")


def test_build_with_a_term_weight_callable():
    docs = _zipf_docs(9, 300, 60)
    ids = [f"d{i}" for i in range(len(docs))]
    seen = {}

    def weights(vocab, X):
        seen["shape"] = X.shape
        return np.array([0.0 if t.endswith("0") else 1.5 for t in vocab], np.float32)

    idx = thresher.Index.build(list(zip(ids, docs)), term_weights=weights)
    assert seen["shape"][0] == len(docs)
    assert idx.meta["scoring"]["kind"] == "tdv-bm25"
    assert all(not t.endswith("0") for t in idx.vocabulary)
    with pytest.raises(TypeError, match="callable"):
        thresher.Index.build([("a", "x")], term_weights=[1.0])  # type: ignore[arg-type]


def test_tdv_model_weights_through_the_index(cranfield_dir: Path):
    """``TDVModel.term_weights(index.vocabulary, index.doc_term_matrix())`` is exactly what the
    scipy pipeline computes on the same tokens, and the reweighted index ranks as it does."""
    idx = thresher.Index.from_beir(cranfield_dir)
    X = sp.csr_matrix(idx.doc_term_matrix(), dtype=np.float64)
    corpus = Corpus([str(d) for d in idx.doc_ids], idx.vocabulary, X)
    model = TDVModel(make_features("b").fit(corpus.vocab, corpus.tf), beta=1.0)
    rng = np.random.default_rng(0)
    model.w = rng.normal(0, 1.0, size=model.w.shape)
    w = model.term_weights(idx.vocabulary, idx.doc_term_matrix())
    np.testing.assert_array_equal(w, model.term_weights(corpus.vocab, corpus.tf))
    assert 0 < (w > 0).mean() < 1
    r = idx.reweight(w)
    an = thresher.Analyzer()
    with open(cranfield_dir / "queries.jsonl") as f:
        queries = [an.tokenize(json.loads(line)["text"]) for line in f][:80]
    want = _scipy_hits(corpus, w, ScoringConfig(), queries, 120)
    _assert_same([r.search(q, k=100) if q else [] for q in queries], want, 100)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "thresher.cli", *args], capture_output=True, text=True, check=True
    )


def test_cli_index_with_a_tdv_model(cranfield_dir: Path, tmp_path: Path):
    idx = thresher.Index.from_beir(cranfield_dir)
    X = sp.csr_matrix(idx.doc_term_matrix(), dtype=np.float64)
    model = TDVModel(make_features("b").fit(idx.vocabulary, X), beta=1.0)
    model.w = np.random.default_rng(1).normal(0, 1.0, size=model.w.shape)
    model.save(tmp_path / "tdv.npz")
    out = tmp_path / "idx"
    r = _run("index", str(cranfield_dir), "-o", str(out), "--tdv", str(tmp_path / "tdv.npz"), "-q")
    assert "indexed" in r.stdout
    loaded = thresher.Index.load(out)
    assert loaded.meta["scoring"]["kind"] == "tdv-bm25"
    w = model.term_weights(idx.vocabulary, idx.doc_term_matrix())
    want = idx.reweight(w)
    assert loaded.vocabulary == want.vocabulary
    assert loaded.search("boundary layer flow", k=10) == want.search("boundary layer flow", k=10)
    r = _run("search", str(out), "boundary layer flow", "-k", "3")
    assert r.stdout.count("\n") == 3
    bad = subprocess.run(
        [sys.executable, "-m", "thresher.cli", "index", str(cranfield_dir), "-o",
         str(tmp_path / "x"), "--tdv", str(tmp_path / "missing.npz"), "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 1 and "thresher: error" in bad.stderr
    # A model that records its analyzer (train-tdv does) warns when the index's differs.
    model.meta["analyzer"] = thresher.Analyzer(stemmer="none").config_json()
    model.save(tmp_path / "tdv-none.npz")
    other = str(tmp_path / "tdv-none.npz")
    r = _run("index", str(cranfield_dir), "-o", str(tmp_path / "w"), "--tdv", other, "-q")
    assert 'another analyzer (stemmer: "none" (model) vs "porter" (index))' in r.stderr
    same = ("--tdv", other, "--stemmer", "none", "-q")
    assert (
        "another analyzer"
        not in _run("index", str(cranfield_dir), "-o", str(tmp_path / "w2"), *same).stderr
    )

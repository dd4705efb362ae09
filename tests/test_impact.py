"""Impact indexes (learned sparse vectors): builders, exact dot-product scores, every algorithm
equal to exhaustive, filters, persistence, and the bad-input table."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import thresher
from thresher import Index

ALGORITHMS = ("exhaustive", "maxscore", "bmw", "auto")


def random_vectors(rng: np.random.Generator, n_docs: int, vocab: int, density: float):
    """A documents x vocab CSR of heavy-tailed weights (Zipf-like term popularity)."""
    p = 1.0 / np.arange(1, vocab + 1) ** 0.8
    p /= p.sum()
    rows, cols, vals = [], [], []
    for d in range(n_docs):
        m = rng.poisson(density * vocab)
        terms = np.unique(rng.choice(vocab, size=m, p=p))
        rows += [d] * len(terms)
        cols += terms.tolist()
        vals += rng.lognormal(0.0, 1.0, size=len(terms)).tolist()
    return sp.csr_array((np.array(vals), (rows, cols)), shape=(n_docs, vocab))


def dequantized_scores(idx: Index, queries: list[dict[str, float]]) -> np.ndarray:
    """Scores by numpy: queries (float64) @ dequantised document matrix (float64)."""
    vocab = idx.vocabulary
    col = {t: j for j, t in enumerate(vocab)}
    scale = idx.quantization["scale"]
    w = idx.doc_term_matrix().astype(np.float64) * scale
    q = np.zeros((len(queries), len(vocab)))
    for i, qd in enumerate(queries):
        for t, x in qd.items():
            if t in col:
                q[i, col[t]] += x
    return np.asarray((w @ q.T).T)


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(7)
    m = random_vectors(rng, 3000, 300, 0.03)
    vocab = [f"t{j}" for j in range(300)]
    ids = [f"d{i}" for i in range(m.shape[0])]
    queries = []
    for _ in range(40):
        terms = rng.choice(60, size=rng.integers(1, 6), replace=False)
        queries.append({f"t{j}": float(rng.choice([0.5, 1.0, 2.0, 3.7])) for j in terms})
    return m, vocab, ids, queries


@pytest.fixture(scope="module")
def index(corpus):
    m, vocab, ids, _ = corpus
    return Index.from_csr(m, vocab, ids)


def test_scores_equal_numpy_dot_product_of_dequantized_vectors(index, corpus):
    *_, queries = corpus
    want = dequantized_scores(index, queries)
    docs, scores = index.search_batch(queries, k=50, algorithm="exhaustive")
    for i in range(len(queries)):
        hit = docs[i] >= 0
        np.testing.assert_allclose(scores[i][hit], want[i][docs[i][hit]], rtol=2e-6)
        # The top-k of the dot product (ties by document number), up to float rounding.
        order = np.lexsort((np.arange(want.shape[1]), -want[i]))
        top = [d for d in order if want[i][d] > 0][: hit.sum()]
        assert np.allclose(want[i][top], want[i][docs[i][hit]], rtol=1e-6)


def test_quantization_matches_the_export_rule(index, corpus):
    from thresher.expand.export import quantize

    m, vocab, *_ = corpus
    # The index keeps float32 weights (its documented input precision).
    wq, scale = quantize(sp.csr_matrix(m, dtype=np.float32), bits=8)
    assert index.quantization == {"bits": 8, "scale": scale}
    got = index.doc_term_matrix()
    # The index's vocabulary is byte-ordered; reorder the export's columns to match.
    cols = [vocab.index(t) for t in index.vocabulary]
    assert (got != wq[:, cols]).nnz == 0


@pytest.mark.parametrize("k", [1, 10, 100, 5000])
def test_every_algorithm_equals_exhaustive(index, corpus, k):
    *_, queries = corpus
    want = index.search_batch(queries, k=k, algorithm="exhaustive")
    for algorithm in ALGORITHMS[1:]:
        got = index.search_batch(queries, k=k, algorithm=algorithm)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_allow_filter_returns_top_k_of_allowed(index, corpus):
    *_, queries = corpus
    mask = np.zeros(len(index), dtype=bool)
    mask[::3] = True
    full, full_scores = index.search_batch(queries, k=len(index), algorithm="exhaustive")
    for algorithm in ALGORITHMS:
        docs, scores = index.search_batch(queries, k=10, algorithm=algorithm, allow=mask)
        for i in range(len(queries)):
            keep = [(d, s) for d, s in zip(full[i], full_scores[i]) if d >= 0 and mask[d]][:10]
            assert [d for d in docs[i] if d >= 0] == [d for d, _ in keep]
            assert [s for s in scores[i] if s > -np.inf] == [s for _, s in keep]


def test_integer_weights_with_scale_one_give_integer_scores_and_doc_order_ties():
    idx = Index.from_vectors(
        [("p", {"x": 3}), ("q", {"x": 1, "y": 2}), ("r", {"y": 3}), ("s", {"z": 5})], scale=1
    )
    assert idx.search({"x": 1, "y": 1}) == [("p", 3.0), ("q", 3.0), ("r", 3.0)]
    assert idx.search({"z": 2.0}) == [("s", 10.0)]


def test_builders_agree_and_query_forms(tmp_path: Path, corpus):
    m, vocab, ids, queries = corpus
    sub = sp.csr_array(m[:200])
    rows = [
        (ids[r], {vocab[j]: float(w) for j, w in zip(sub[[r]].indices, sub[[r]].data)})
        for r in range(200)
    ]
    a = Index.from_csr(sub, vocab, ids[:200])
    b = Index.from_vectors(rows)
    c = Index.from_vectors([{"id": d, "contents": "", "vector": v} for d, v in rows])
    path = tmp_path / "v.jsonl.gz"
    with gzip.open(path, "wt") as f:
        for d, v in rows:
            f.write(json.dumps({"id": d, "contents": "", "vector": v}) + "\n")
    d = Index.from_impact_jsonl(path)
    q_csr = sp.csr_array(
        (
            [w for qd in queries for w in qd.values()],
            (
                [i for i, qd in enumerate(queries) for _ in qd],
                [vocab.index(t) for qd in queries for t in qd],
            ),
        ),
        shape=(len(queries), len(vocab)),
    )
    qs = Index.queries_from_csr(q_csr, vocab)
    # Weights are float32 (as the engine takes them).
    assert [{t: np.float32(w) for t, w in q.items()} for q in qs] == [
        {t: np.float32(w) for t, w in q.items()} for q in queries
    ]
    want = a.search_batch(queries, k=20)
    for other in (b, c, d):
        got = other.search_batch(qs, k=20)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    # Text and term-list queries: analysed terms weigh 1 each, repeats add.
    idx = Index.from_vectors([("a", {"cat": 1.0, "dog": 2.0}), ("b", {"dog": 1.0})], scale=1)
    assert idx.search("Cats and dogs, dogs!") == [("a", 5.0), ("b", 2.0)]
    assert idx.search(["dog", "dog"]) == idx.search({"dog": 2.0})


def test_save_load_and_unknown_terms(tmp_path: Path, index, corpus):
    *_, queries = corpus
    index.save(tmp_path / "imp")
    loaded = Index.load(tmp_path / "imp")
    assert loaded.meta["scoring"]["kind"] == "impact"
    assert loaded.meta["format_version"] == thresher.FORMAT_VERSION
    for a, b in zip(loaded.search_batch(queries, k=10), index.search_batch(queries, k=10)):
        np.testing.assert_array_equal(a, b)
    # Unknown terms are ignored; an all-unknown query matches nothing.
    assert loaded.search({"unknown": 1.0}) == []
    assert loaded.search({"unknown": 1.0, "t0": 1.0}) == loaded.search({"t0": 1.0})
    assert "scoring='impact'" in repr(loaded)


def test_empty_vectors_are_kept_without_postings():
    idx = Index.from_vectors([("a", {}), ("b", {"x": 1.0, "y": 0.0}), ("c", [])])
    assert len(idx) == 3 and idx.meta["num_nonempty_docs"] == 1
    assert idx.doc_freq("y") == 0
    assert idx.search({"x": 1.0, "y": 1.0}) == [("b", pytest.approx(1.0))]


BAD = [
    # (builder input, exception, message fragment)
    ("vectors", [("a", {"x": float("nan")})], ValueError, "finite"),
    ("vectors", [("a", {"x": float("inf")})], ValueError, "finite"),
    ("vectors", [("a", {"x": -0.5})], ValueError, ">= 0"),
    ("vectors", [("a", {"x": 1e300})], ValueError, "32-bit float"),
    ("vectors", [("a", {"": 1.0})], ValueError, "empty term"),
    ("vectors", [("a", [("x", 1.0), ("x", 2.0)])], ValueError, "repeats the term"),
    ("vectors", [("a", {"x": "1"})], TypeError, "must be a number"),
    ("vectors", [("a", {"x": True})], TypeError, "bool"),
    ("vectors", [("a", "x y")], TypeError, "a vector must be"),
    ("vectors", [("a", {"x": 1.0}), ("a", {"y": 1.0})], ValueError, "duplicate document id"),
    ("vectors", [{"vector": {"x": 1.0}}], ValueError, "no id field"),
    ("vectors", [{"id": "a"}], ValueError, "no 'vector' field"),
    ("vectors", [], ValueError, "empty corpus"),
    ("vectors", [("a", {}), ("b", {"x": 0.0})], ValueError, "positive weight"),
    ("csr-vocab", None, ValueError, "the vocabulary has 2 terms but the matrix has 3 columns"),
    ("csr-ids", None, ValueError, "1 ids for a matrix of 2 rows"),
    ("csr-nan", None, ValueError, "the matrix entry at position 0 is nan; weights must be finite"),
    ("csr-dup-vocab", None, ValueError, "repeats the term"),
    ("bits", 0, ValueError, "bits must be an integer in [1, 16]"),
    ("bits", 17, ValueError, "bits must be an integer in [1, 16]"),
    ("scale", 0.0, ValueError, "scale must be a finite number > 0"),
    ("scale-too-small", None, ValueError, "exceeds the largest 8-bit impact"),
]


@pytest.mark.parametrize("kind,arg,exc,fragment", BAD, ids=[f"{b[0]}-{b[3]}" for b in BAD])
def test_bad_input_table(kind, arg, exc, fragment):
    m = sp.csr_array(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]))
    with pytest.raises(exc, match=None) as e:
        if kind == "vectors":
            Index.from_vectors(arg)
        elif kind == "csr-vocab":
            Index.from_csr(m, ["a", "b"])
        elif kind == "csr-ids":
            Index.from_csr(m, ["a", "b", "c"], ["only-one"])
        elif kind == "csr-nan":
            Index.from_csr(sp.csr_array(np.array([[np.nan, 1.0]])), ["a", "b"])
        elif kind == "csr-dup-vocab":
            Index.from_csr(m, ["a", "a", "c"])
        elif kind == "bits":
            Index.from_vectors([("a", {"x": 1.0})], bits=arg)
        elif kind == "scale":
            Index.from_vectors([("a", {"x": 1.0})], scale=arg)
        elif kind == "scale-too-small":
            Index.from_vectors([("a", {"x": 300.0})], scale=1.0)
    assert fragment in str(e.value)


@pytest.mark.parametrize(
    "body,fragment",
    [
        ('{"id": "a", "vector": {"x": 1}}\n{oops\n', "line 2"),
        ('{"id": "a"}\n', "missing field `vector`"),
        ('{"id": "a", "vector": {"x": "1"}}\n', "line 1"),
        ('{"id": "a", "vector": {"x": -1}}\n', ">= 0"),
        ('{"id": "a", "vector": {"x": 1, "x": 2}}\n', "repeats the term"),
        ('{"id": "a", "vector": [1, 2]}\n', "line 1"),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path: Path, body: str, fragment: str):
    p = tmp_path / "v.jsonl"
    p.write_text(body)
    with pytest.raises(ValueError) as e:
        Index.from_impact_jsonl(p)
    assert fragment in str(e.value) and "v.jsonl" in str(e.value)


def test_missing_jsonl_is_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        Index.from_impact_jsonl(tmp_path / "nope.jsonl")


def test_expanded_docs_to_index_matches_the_scipy_scorer():
    from thresher.expand.export import dequantize, quantize
    from thresher.expand.model import ExpandedDocs
    from thresher.expand.retrieval import search

    rng = np.random.default_rng(3)
    m = random_vectors(rng, 500, 80, 0.1).astype(np.float32)
    vocab = [f"w{j}" for j in range(80)]
    docs = ExpandedDocs(sp.csr_matrix(m), vocab, np.zeros(500, dtype=np.int64))
    idx = docs.to_index([f"d{i}" for i in range(500)])
    queries = [[f"w{j}" for j in rng.choice(30, size=3, replace=False)] for _ in range(20)]
    wq, scale = quantize(docs.matrix, 8)
    want_docs, want_scores = search(dequantize(wq, scale), docs.queries(queries), 10)
    got_docs, got_scores = idx.search_batch(queries, k=10)
    np.testing.assert_allclose(got_scores, want_scores, rtol=2e-6)
    # Same documents wherever the scipy scores are not tied within rounding.
    for i in range(len(queries)):
        s = want_scores[i]
        distinct = np.diff(s) < -1e-4 * np.abs(s[:-1])
        if distinct.all():
            np.testing.assert_array_equal(got_docs[i], want_docs[i])


def _expected_scores(idx: Index, q: dict[str, float]) -> dict[str, np.float32]:
    """The documented arithmetic, in numpy float32: per query term in byte order,
    ``w = f32(f64(f32(q_t)) * scale)``, contribution ``f32(w * f32(impact))``, added in f32."""
    scale = idx.quantization["scale"]
    m = sp.csr_array(idx.doc_term_matrix())
    col = {t: j for j, t in enumerate(idx.vocabulary)}
    ids = idx.doc_ids
    acc: dict[str, np.float32] = {}
    for t in sorted(q, key=lambda s: s.encode()):
        x = np.float32(q[t])
        if x <= 0 or t not in col:
            continue
        w = np.float32(np.float64(x) * scale)
        c = m[:, [col[t]]].tocoo()
        for d, v in zip(c.row, c.data):
            doc = str(ids[d])
            acc[doc] = np.float32(acc.get(doc, np.float32(0)) + np.float32(w * np.float32(v)))
    return acc


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_scores_are_the_documented_float32_dot_product(data):
    vocab = [f"t{i}" for i in range(data.draw(st.integers(1, 10)))]
    weight = st.one_of(st.just(0.0), st.floats(0.0009765625, 1024.0, width=32))
    n = data.draw(st.integers(1, 30))
    docs = [
        (f"d{i}", data.draw(st.dictionaries(st.sampled_from(vocab), weight, max_size=len(vocab))))
        for i in range(n)
    ]
    assume(any(w > 0 for _, v in docs for w in v.values()))
    bits = data.draw(st.sampled_from([1, 3, 8, 16]))
    idx = Index.from_vectors(docs, bits=bits)
    q = data.draw(
        st.dictionaries(
            st.sampled_from([*vocab, "unknown"]),
            st.one_of(st.just(0.0), st.floats(0.0009765625, 64.0, width=32)),
            min_size=1,
        )
    )
    want = _expected_scores(idx, q)
    for algorithm in ALGORITHMS:
        got = idx.search(q, k=n + 1, algorithm=algorithm)
        assert {d: np.float32(s) for d, s in got} == want
        # Best first, ties by document order.
        order = sorted(want, key=lambda d: (-want[d], int(d[1:])))
        assert [d for d, _ in got] == order

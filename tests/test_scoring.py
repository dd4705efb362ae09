"""BM25 family and TF-IDF against an independent numpy reference, on random corpora
(property-based), and top-k against brute force including ties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thresher

VOCAB = [f"t{i}" for i in range(12)]


def lucene_norm_length(n: int) -> int:
    """Lucene's SmallFloat.intToByte4 followed by byte4ToInt, re-derived independently:
    lengths below 24 are exact; above, 24 + (value with 4 significant bits, rounded down)."""
    if n < 24:
        return n
    v = n - 24
    bits = v.bit_length()
    if bits <= 4:
        return n
    shift = bits - 4
    return 24 + ((v >> shift) << shift)


def reference_scores(docs, query, scoring, k1, b, delta):
    """float64 scores of every document, straight from the formulas."""
    lengths = np.array([len(d) for d in docs], dtype=np.float64)
    n_nonempty = int((lengths > 0).sum())
    avgdl = lengths.sum() / n_nonempty
    weights: dict[str, float] = {}
    for t in query:
        weights[t] = weights.get(t, 0.0) + 1.0
    scores = np.zeros(len(docs))
    matched = np.zeros(len(docs), dtype=bool)
    for t, w in weights.items():
        tf = np.array([d.count(t) for d in docs], dtype=np.float64)
        df = int((tf > 0).sum())
        if df == 0:
            continue
        n = n_nonempty
        if scoring == "lucene":
            dl = np.array([lucene_norm_length(int(x)) for x in lengths], dtype=np.float64)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            with np.errstate(invalid="ignore"):
                # 0/0 where tf = 0 and k1 = 0: documents without the term, masked below.
                s = idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))
        else:
            dl = lengths
            kk = 1 - b + b * dl / avgdl
            if scoring == "robertson":
                s = math.log((n - df + 0.5) / (df + 0.5)) * tf * (k1 + 1) / (tf + k1 * kk)
            elif scoring == "atire":
                s = math.log(n / df) * tf * (k1 + 1) / (tf + k1 * kk)
            elif scoring == "bm25l":
                with np.errstate(divide="ignore", invalid="ignore"):
                    c = tf / kk  # 0/0 for an empty document when b = 1; masked below
                s = math.log((n + 1) / (df + 0.5)) * (k1 + 1) * (c + delta) / (k1 + c + delta)
            elif scoring == "bm25+":
                with np.errstate(invalid="ignore"):
                    # 0/0 where tf = 0 and k1 = 0: documents without the term, masked below.
                    s = math.log((n + 1) / df) * ((k1 + 1) * tf / (k1 * kk + tf) + delta)
            elif scoring == "tfidf":
                # Lucene 8+ ClassicSimilarity: idf once, the length of the one-byte norm.
                idf = 1 + math.log((n + 1) / (df + 1))
                nl = np.array([lucene_norm_length(int(x)) for x in lengths], dtype=np.float64)
                with np.errstate(divide="ignore", invalid="ignore"):
                    s = np.sqrt(tf) * idf / np.sqrt(nl)
            else:
                raise AssertionError(scoring)
        s = np.where(tf > 0, s, 0.0)
        scores += w * s
        matched |= tf > 0
    return scores, matched


DELTAS = {"bm25l": 0.5, "bm25+": 1.0}

corpora = st.lists(
    st.lists(st.sampled_from(VOCAB), min_size=0, max_size=60), min_size=1, max_size=40
)
queries = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=5)


@settings(max_examples=60, deadline=None)
@given(
    docs=corpora,
    query=queries,
    scoring=st.sampled_from(["lucene", "robertson", "atire", "bm25l", "bm25+", "tfidf"]),
    k1=st.floats(0.1, 3.0),
    b=st.floats(0.0, 1.0),
)
def test_scores_match_reference(docs, query, scoring, k1, b):
    if all(len(d) == 0 for d in docs):
        docs = [*docs, ["t0"]]
    idx = thresher.Index.build(
        [(f"d{i}", d) for i, d in enumerate(docs)], scoring=scoring, k1=k1, b=b, threads=1
    )
    ref, matched = reference_scores(docs, query, scoring, k1, b, DELTAS.get(scoring, 0.0))
    hits = idx.search(query, k=len(docs))
    got = {d: s for d, s in hits}
    assert set(got) == {f"d{i}" for i in np.flatnonzero(matched)}
    for i in np.flatnonzero(matched):
        want = ref[i]
        assert got[f"d{i}"] == pytest.approx(want, rel=2e-4, abs=2e-5), (scoring, i)
    # Returned order: score descending, then internal doc number ascending.
    order = [(-s, int(d[1:])) for d, s in hits]
    assert order == sorted(order)


@settings(max_examples=40, deadline=None)
@given(docs=corpora, query=queries, k=st.integers(1, 50))
def test_topk_equals_brute_force_with_ties(docs, query, k):
    # Duplicate every document so exact ties are guaranteed.
    docs = [d for d in docs for _ in range(2)] + [["t0"]]
    idx = thresher.Index.build([(f"d{i}", d) for i, d in enumerate(docs)], threads=1)
    everything = idx.search(query, k=len(docs))
    brute = sorted(everything, key=lambda h: (-h[1], int(h[0][1:])))
    assert everything == brute
    top = idx.search(query, k=k)
    assert top == brute[:k]
    # Identical documents score identically and come out in doc order.
    for i in range(0, len(docs) - 1, 2):
        a, b = dict(everything).get(f"d{i}"), dict(everything).get(f"d{i + 1}")
        assert a == b
    dd, ss = idx.search_batch([query, query], k=k)
    assert [str(idx.doc_ids[d]) for d in dd[0] if d >= 0] == [h[0] for h in top]
    assert np.array_equal(dd[0], dd[1]) and np.array_equal(ss[0], ss[1])


def test_repeated_query_terms_weigh_more():
    idx = thresher.Index.build([("a", ["x", "y"]), ("b", ["y", "z"]), ("c", ["w"])])
    one = dict(idx.search(["x"], k=3))["a"]
    two = dict(idx.search(["x", "x"], k=3))["a"]
    assert two == pytest.approx(2 * one, rel=1e-6)
    weighted = dict(idx.search({"x": 2.0}, k=3))["a"]
    assert weighted == pytest.approx(two, rel=1e-6)

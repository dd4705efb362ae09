"""thresher.expand: impacts, gradient, gate limits, persistence, JSONL export, bad input.

Training tests use the first 300 Cranfield documents and the queries judged on them (fits
take about a second with the small configuration below).
"""

# Matrix names follow the maths.
# ruff: noqa: N806

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import thresher
from thresher.expand import (
    ExpansionConfig,
    ExpansionModel,
    ExpansionModelError,
    IncompatibleExpansionModelError,
)
from thresher.expand.commands import expand_beir, train_expansion
from thresher.expand.data import load_collection
from thresher.expand.export import dequantize, quantize, read_jsonl, write_jsonl
from thresher.expand.gate import Gate
from thresher.expand.impacts import CollectionStats, bm25_impacts, byte4_to_int, int_to_byte4
from thresher.expand.retrieval import search
from thresher.expand.train import Pattern, batch_loss_and_grad
from thresher.expand.vocab import Vocabulary, bag_matrix

SMALL = ExpansionConfig(
    m=16,
    alphas=(0.5,),
    candidates=64,
    max_expansion=8,
    max_expansion_grid=(4, 8),
    tau_grid=(0.2, 0.5),
    epochs=2,
    negatives=4,
    negative_pool=8,
    batch_size=16,
)


@pytest.fixture(scope="module")
def tiny(cranfield_dir: Path):
    col = load_collection(cranfield_dir, ("test",))
    n = 300
    ids = col.doc_ids[:n]
    keep = set(ids)
    qrels = {}
    for q, judged in col.qrels["test"].items():
        rel = {d: g for d, g in judged.items() if d in keep and g > 0}
        if rel:
            qrels[q] = rel
    return ids, col.docs[:n], col.queries, qrels


@pytest.fixture(scope="module")
def model(tiny) -> ExpansionModel:
    ids, docs, queries, qrels = tiny
    return ExpansionModel.fit(docs, queries, qrels, ids, config=SMALL)


# ---------------------------------------------------------------- BM25 impacts


def test_smallfloat_matches_lucene() -> None:
    lengths = np.array([0, 1, 23, 24, 39, 40, 100, 1000, 2**31 - 1])
    decoded = byte4_to_int(int_to_byte4(lengths))
    assert decoded[:6].tolist() == [0, 1, 23, 24, 39, 40]
    assert decoded[6] == 96 and decoded[7] == 984  # values of Lucene's SmallFloat
    codes = np.arange(256)
    assert np.all(np.diff(byte4_to_int(codes)) > 0)
    assert np.array_equal(int_to_byte4(byte4_to_int(codes)), codes)


def test_impact_dot_product_equals_thresher_bm25(tiny) -> None:
    ids, docs, queries, qrels = tiny
    vocab = Vocabulary.from_documents(docs)
    B = bm25_impacts(bag_matrix(docs, vocab))
    idx = thresher.Index.build(list(zip(ids, docs)))
    for q in list(qrels)[:20]:
        want = idx.search(queries[q], k=50)
        Q = bag_matrix([queries[q]], vocab, what="query")
        d, s = search(B, Q, 50)
        got = [(ids[i], float(x)) for i, x in zip(d[0], s[0]) if i >= 0]
        assert len(got) == len(want)
        for (gd, gs), (wd, ws) in zip(got, want):
            assert gs == pytest.approx(ws, rel=1e-5)
            if gd != wd:  # only a float near-tie may order differently
                assert gs == pytest.approx(ws, abs=1e-5)


# ---------------------------------------------------------------- training maths


def _toy_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    V, n_docs, n_q = 12, 10, 4
    B = sp.random(n_docs, V, density=0.4, random_state=seed, format="csr", dtype=np.float64)
    T = sp.random(V, V, density=0.3, random_state=seed + 1, format="csr", dtype=np.float64)
    T.setdiag(0)
    T.eliminate_zeros()
    Zmask = sp.random(n_docs, V, density=0.6, random_state=seed + 2, format="csr")
    Zmask.data[:] = 1.0
    Q = sp.random(n_q, V, density=0.5, random_state=seed + 3, format="csr")
    Q.data = np.ceil(Q.data * 3)
    qrows = np.array([0, 1, 2, 3, 0])
    docs = np.stack([rng.permutation(n_docs)[:4] for _ in qrows])
    return Pattern(T), T.data.copy(), B, Zmask, Q, qrows, docs


@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(weighted: bool) -> None:
    pattern, theta, B, Z, Q, qrows, docs = _toy_problem()
    w = np.array([1.0, 3.0, 7.0, 1.0, 15.0]) if weighted else None
    sigma = np.linspace(0.5, 2.0, B.shape[0]) if weighted else None

    def f(t: np.ndarray):
        return batch_loss_and_grad(t, pattern, B, Z, Q, qrows, docs, w, sigma)

    _, pos, g = f(theta)
    full = np.zeros_like(theta)
    np.add.at(full, pos, g)
    h = 1e-6
    num = np.empty_like(theta)
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = h
        num[k] = (f(theta + e)[0] - f(theta - e)[0]) / (2 * h)
    assert np.abs(full).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(full, num, rtol=1e-4, atol=1e-7)


def test_gate_fit_recovers_a_separable_signal() -> None:
    rng = np.random.default_rng(0)
    F = rng.normal(size=(400, 3))
    y = F[:, 0] + 0.1 * rng.normal(size=400) > 1.0
    gate = Gate.fit(F, y, l2=1e-4)
    p = gate.probability(F)
    assert p[y].mean() > 0.8 and p[~y].mean() < 0.3
    with pytest.raises(ValueError, match="positive"):
        Gate.fit(F, np.zeros(400, dtype=bool))


# ---------------------------------------------------------------- model behaviour


def test_fit_is_reproducible(tiny, model: ExpansionModel) -> None:
    ids, docs, queries, qrels = tiny
    again = ExpansionModel.fit(docs, queries, qrels, ids, config=SMALL)
    assert again.vocab.terms == model.vocab.terms
    assert (again.T != model.T).nnz == 0
    assert np.array_equal(again.gate.weights, model.gate.weights)
    a, b = again.expand(docs[:50]).matrix, model.expand(docs[:50]).matrix
    assert (a != b).nnz == 0


def test_training_changes_t_and_records_curve(model: ExpansionModel) -> None:
    assert model.gate is not None
    assert len(model.info["dev_curve"]) == SMALL.epochs + 1
    assert model.T.nnz > 0 and np.all(model.T.data >= 0)
    assert np.diff(model.T.indptr).max() <= SMALL.m
    assert model.config.tau in SMALL.tau_grid
    assert 0 < model.config.max_expansion <= max(SMALL.max_expansion_grid)


@pytest.mark.parametrize("ratio", [1.02, 1.06])
def test_postings_budget(tiny, ratio: float) -> None:
    ids, docs, queries, qrels = tiny
    cfg = dataclasses.replace(SMALL, max_postings_ratio=ratio, max_expansion_grid=(64,))
    m = ExpansionModel.fit(docs, queries, qrels, ids, config=dataclasses.replace(cfg, epochs=0))
    ex = m.expand(docs)
    assert ex.matrix.nnz <= ratio * ex.num_literal.sum()
    # The budget-filling cap was evaluated: one more expansion per document would overflow.
    lit = ex.num_literal.sum()
    assert any(r <= ratio < r + len(docs) / lit for _, _, _, r, _ in m.info["grid"])


@pytest.mark.parametrize("ratio", [1.02, 1.06])
def test_query_cost_budget(tiny, ratio: float) -> None:
    """Tuning keeps the training queries' postings (sum over their terms of the document
    frequency in the expanded index) within ``max_query_cost_ratio`` times the literal's."""
    ids, docs, queries, qrels = tiny
    cfg = dataclasses.replace(
        SMALL, max_query_cost_ratio=ratio, max_expansion_grid=(4, 8, 32), epochs=0
    )
    m = ExpansionModel.fit(docs, queries, qrels, ids, config=cfg)
    ex = m.expand(docs)
    # Recompute the cost independently: query terms as analysed by the model's vocabulary.
    qfreq = m.qfreq
    df_exp = np.bincount(ex.matrix.indices, minlength=ex.matrix.shape[1])[: len(qfreq)]
    column = {t: i for i, t in enumerate(ex.vocab[: len(qfreq)])}
    df_lit = np.zeros(len(qfreq))
    for d in docs:
        for t in set(d):
            if t in column:
                df_lit[column[t]] += 1
    cost = float(qfreq @ df_exp) / float(qfreq @ df_lit)
    assert cost <= ratio + 1e-9
    costs = [g[4] for g in m.info["grid"]]
    assert min(costs) <= ratio < max(costs), "the budget should bind for this test to mean much"


def test_closed_gate_without_reweighting_is_bm25(tiny, model: ExpansionModel) -> None:
    ids, docs, queries, qrels = tiny
    plain = dataclasses.replace(
        model, config=dataclasses.replace(model.config, reweight_literal=False)
    )
    closed = plain.expand(docs, max_expansion=0)
    X = bag_matrix(docs, Vocabulary(closed.vocab))
    B = bm25_impacts(X)
    assert (closed.matrix != B).nnz == 0
    assert np.all(closed.num_expansion == 0)
    idx = thresher.Index.build(list(zip(ids, docs)))
    qs = list(qrels)[:15]
    d, _ = closed.search([queries[q] for q in qs], k=20)
    for row, q in zip(d, qs):
        want = [doc for doc, _ in idx.search(queries[q], k=20)]
        got = [ids[i] for i in row if i >= 0]
        assert got == want


def test_gate_limits(tiny, model: ExpansionModel) -> None:
    docs = tiny[1]
    for M in (0, 1, 3, 8):
        ex = model.expand(docs, max_expansion=M)
        assert ex.num_expansion.max() <= M
        assert np.all(ex.matrix.data > 0) and np.all(np.isfinite(ex.matrix.data))
    # A higher threshold never adds expansion terms.
    lo = model.expand(docs, tau=0.1, max_expansion=8).num_expansion
    hi = model.expand(docs, tau=0.9, max_expansion=8).num_expansion
    assert np.all(hi <= lo)
    assert model.expand(docs, tau=1.0).num_expansion.sum() == 0
    # Literal terms are always kept.
    lit = model.expand(docs, max_expansion=0).matrix.astype(bool)
    full = model.expand(docs).matrix.astype(bool)
    assert (lit.multiply(full) != lit).nnz == 0


def test_expand_handles_new_terms_and_empty_documents(model: ExpansionModel) -> None:
    ex = model.expand([["zzzunseen", "flow"], [], ["flow", "flow"]])
    assert ex.vocab[: len(model.vocab)] == model.vocab.terms
    assert "zzzunseen" in ex.vocab
    assert ex.matrix.shape == (3, len(model.vocab) + 1)
    assert ex.matrix[1].nnz == 0
    assert ex.num_literal.tolist() == [2, 0, 1]
    # A query of unknown terms matches nothing.
    d, s = ex.search([["neverseenterm"]], k=3)
    assert np.all(d == -1) and np.all(np.isinf(s))


# ---------------------------------------------------------------- persistence


def test_save_load_round_trip(tmp_path: Path, tiny, model: ExpansionModel) -> None:
    docs = tiny[1]
    p = tmp_path / "exp.npz"
    model.save(p)
    back = ExpansionModel.load(p)
    assert back.vocab.terms == model.vocab.terms
    assert back.config == model.config
    assert (back.expand(docs).matrix != model.expand(docs).matrix).nnz == 0
    assert back.info["dev_curve"] == pytest.approx(model.info["dev_curve"])


def test_load_errors(tmp_path: Path, model: ExpansionModel) -> None:
    with pytest.raises(FileNotFoundError):
        ExpansionModel.load(tmp_path / "missing.npz")
    p = tmp_path / "exp.npz"
    model.save(p)
    raw = p.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ExpansionModelError):
        ExpansionModel.load(tmp_path / "trunc.npz")
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    with pytest.raises(ExpansionModelError):
        ExpansionModel.load(tmp_path / "flip.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ExpansionModelError):
        ExpansionModel.load(tmp_path / "text.npz")
    # A newer format version is named as such.
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["format_version"] = np.array(99)
    np.savez(tmp_path / "newer.npz", **arrays)
    with pytest.raises(IncompatibleExpansionModelError, match="upgrade"):
        ExpansionModel.load(tmp_path / "newer.npz")
    # Inconsistent content (a negative weight in T).
    arrays["format_version"] = np.array(1)
    arrays["T_data"] = -np.abs(arrays["T_data"])
    np.savez(tmp_path / "neg.npz", **arrays)
    with pytest.raises(ExpansionModelError, match="negative"):
        ExpansionModel.load(tmp_path / "neg.npz")
    # Parameters that load but would poison expansion later.
    for key, bad in (
        ("qfreq", lambda a: -np.abs(a) - 1),
        ("qfreq", lambda a: np.full_like(a, np.nan, dtype=np.float64)),
        ("gate_scale", lambda a: np.full_like(a, np.inf)),
    ):
        if key not in arrays:
            continue
        damaged = dict(arrays, T_data=np.abs(arrays["T_data"]), **{key: bad(arrays[key])})
        np.savez(tmp_path / "bad.npz", **damaged)
        with pytest.raises(ExpansionModelError, match=key.split("_")[0]):
            ExpansionModel.load(tmp_path / "bad.npz")
    # A damaged zip field (the compression method, flags) of any member is an
    # ExpansionModelError, not zlib.error / NotImplementedError / RuntimeError.
    for field_offset in (8, 10):
        b = bytearray(raw)
        at = 0
        while (at := raw.find(b"PK\x01\x02", at)) >= 0:
            b[at + field_offset] ^= 0x01
            at += 4
        (tmp_path / "field.npz").write_bytes(bytes(b))
        with pytest.raises(ExpansionModelError, match="not a readable expansion model"):
            ExpansionModel.load(tmp_path / "field.npz")
    for off in range(0, len(raw), max(1, len(raw) // 400)):
        b = bytearray(raw)
        b[off] ^= 0x80
        (tmp_path / "flip.npz").write_bytes(bytes(b))
        with contextlib.suppress(ExpansionModelError):
            ExpansionModel.load(tmp_path / "flip.npz")
    # Errors are also ValueErrors and ThresherErrors.
    assert issubclass(ExpansionModelError, ValueError)
    assert issubclass(ExpansionModelError, thresher.ThresherError)
    assert zipfile.is_zipfile(p)


# ---------------------------------------------------------------- export


def test_quantize() -> None:
    W = sp.csr_matrix(np.array([[0.0, 1.0, 1e-9], [2.0, 0.5, 0.0]]))
    Wq, scale = quantize(W, 8)
    assert Wq.dtype == np.int32 and Wq.max() == 255 and Wq.min() == 0
    assert Wq.nnz == 4  # the tiny weight stays a posting (1), zeros are dropped
    assert scale == pytest.approx(2.0 / 255)
    np.testing.assert_allclose(dequantize(Wq, scale).toarray(), W.toarray(), atol=scale)
    for bad in (np.nan, np.inf, -1.0):
        with pytest.raises(ValueError):
            quantize(sp.csr_matrix(np.array([[1.0, bad]])))
    with pytest.raises(ValueError, match="bits"):
        quantize(W, 0)


@pytest.mark.parametrize("bits", [8, None])
@pytest.mark.parametrize("name", ["docs.jsonl", "docs.jsonl.gz"])
def test_jsonl_round_trip(tmp_path: Path, tiny, model: ExpansionModel, bits, name) -> None:
    ids, docs = tiny[0][:40], tiny[1][:40]
    ex = model.expand(docs)
    p = tmp_path / name
    scale = write_jsonl(p, ids, ex.matrix, ex.vocab, bits=bits)
    got_ids, W, vocab, got_scale = read_jsonl(p)
    assert got_ids == ids and got_scale == scale
    opener = gzip.open if name.endswith(".gz") else open
    with opener(p, "rt", encoding="utf-8") as f:
        first = json.loads(f.readline())
    assert set(first) == {"id", "contents", "vector"} and first["contents"] == ""
    assert first["id"] == ids[0]
    assert all(isinstance(w, int if bits else float) for w in first["vector"].values())
    # Same vectors, up to column order.
    order = [ex.vocab.index(t) for t in vocab]
    want = ex.matrix[:, order]
    if bits is None:
        np.testing.assert_allclose(W.toarray(), want.toarray(), rtol=1e-6)
    else:
        assert np.all(W.data == np.rint(W.data))
        np.testing.assert_allclose(W.toarray() * scale, want.toarray(), atol=scale / 2 + 1e-9)
        assert W.nnz == ex.matrix.nnz
    meta = json.loads(Path(str(p) + ".meta.json").read_text())
    assert meta["bits"] == bits and meta["num_docs"] == len(ids)


def test_jsonl_bad_input(tmp_path: Path) -> None:
    W = sp.csr_matrix(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="finite"):
        write_jsonl(tmp_path / "a.jsonl", ["d"], W, ["x", "y"])
    with pytest.raises(ValueError, match="ids"):
        write_jsonl(tmp_path / "a.jsonl", ["d", "e"], sp.csr_matrix((1, 2)), ["x", "y"])
    with pytest.raises(ValueError, match="distinct"):
        write_jsonl(tmp_path / "a.jsonl", ["d"], sp.csr_matrix((1, 2)), ["x", "x"])
    p = tmp_path / "b.jsonl"
    p.write_text('{"id": "d", "contents": "", "vector": {"x": -1}}\n')
    with pytest.raises(ValueError, match="line 1"):
        read_jsonl(p)
    p.write_text('{"id": "d"}\n')
    with pytest.raises(ValueError, match="line 1"):
        read_jsonl(p)


# ---------------------------------------------------------------- bad input


def test_training_queries_without_document_terms_give_no_pairs(tiny) -> None:
    """A training query none of whose terms is in a document scores 0 everywhere, expanded or
    not: it is left out with a warning, and training runs as without it."""
    ids, docs, queries, qrels = tiny
    qs = sorted(qrels)
    train, dev = {q: qrels[q] for q in qs[::2]}, {q: qrels[q] for q in qs[1::2]}
    cfg = dataclasses.replace(SMALL, epochs=1)
    plain = ExpansionModel.fit(docs, queries, train, ids, config=cfg, dev_qrels=dev)
    more_q = {**queries, "lost": ["zzzunknown", "yyyunknown"]}
    more_r = {**train, "lost": {ids[0]: 1, ids[1]: 2}}
    with pytest.warns(UserWarning, match=r"1 training query has no term .*\['lost'\]"):
        more = ExpansionModel.fit(docs, more_q, more_r, ids, config=cfg, dev_qrels=dev)
    assert more.info["train_queries_without_terms"] == 1
    assert plain.info["train_queries_without_terms"] == 0
    assert more.info["train_queries"] == plain.info["train_queries"]
    assert more.info["dev_curve"] == plain.info["dev_curve"]

    # Same document vectors, term by term (the vocabularies differ by the lost query's terms).
    def vectors(m: ExpansionModel) -> list[dict[str, float]]:
        ex = m.expand(docs[:50])
        w = ex.matrix.tocsr()
        return [
            {ex.vocab[j]: float(x) for j, x in zip(w.indices[a:b], w.data[a:b])}
            for a, b in zip(w.indptr[:-1], w.indptr[1:])
        ]

    assert vectors(more) == vectors(plain)
    with pytest.raises(ValueError, match="no training query has a term of the corpus documents"):
        ExpansionModel.fit(docs, more_q, {"lost": more_r["lost"]}, ids, config=cfg, dev_qrels=dev)


def test_queries_judging_every_document_relevant_give_no_pairs(tiny) -> None:
    """Such a query has no negative to rank below its relevant documents: it is left out with
    a warning, as if absent (training used to loop forever looking for a negative); all of
    them like that is an error."""
    ids, docs, queries, qrels = tiny
    qs = sorted(qrels)
    train, dev = {q: qrels[q] for q in qs[::2]}, {q: qrels[q] for q in qs[1::2]}
    cfg = dataclasses.replace(SMALL, epochs=1)
    plain = ExpansionModel.fit(docs, queries, train, ids, config=cfg, dev_qrels=dev)
    more_q = {**queries, "all": queries[qs[0]]}
    everything = dict.fromkeys(ids, 1)
    with pytest.warns(UserWarning, match=r"1 training query judges every document .*\['all'\]"):
        more = ExpansionModel.fit(
            docs, more_q, {**train, "all": everything}, ids, config=cfg, dev_qrels=dev
        )
    assert more.info["train_queries_judging_everything"] == 1
    assert plain.info["train_queries_judging_everything"] == 0
    assert more.info["train_queries"] == plain.info["train_queries"]
    assert more.info["dev_curve"] == plain.info["dev_curve"]
    with pytest.raises(ValueError, match="every training query judges every document relevant"):
        ExpansionModel.fit(docs, more_q, {"all": everything}, ids, config=cfg, dev_qrels=dev)


def test_training_judgements_of_unknown_documents_are_named(tiny) -> None:
    ids, docs, queries, qrels = tiny
    q = sorted(qrels)[0]
    more = {**qrels, q: {**qrels[q], "not-a-doc": 1}}
    cfg = dataclasses.replace(SMALL, epochs=1)
    with pytest.warns(UserWarning, match=r"1 relevant document id\(s\) absent .*not-a-doc"):
        ExpansionModel.fit(docs, queries, more, ids, config=cfg)


def test_a_corpus_too_small_for_expansion_candidates_is_a_clear_error() -> None:
    docs = [["cat"], ["cat", "dog"]]
    with pytest.raises(ValueError, match=r"no expansion candidate .* too small for min_df=2"):
        ExpansionModel.fit(docs, {"q1": ["cat"]}, {"q1": {"d2": 1}}, ["a", "d2"], config=SMALL)


def test_bad_training_input(tiny) -> None:
    ids, docs, queries, qrels = tiny
    with pytest.raises(ValueError, match="no training pairs"):
        ExpansionModel.fit(docs, queries, {"nope": {ids[0]: 1}}, ids, config=SMALL)
    with pytest.raises(ValueError, match="no training pairs"):
        ExpansionModel.fit(docs, queries, {}, ids, config=SMALL)
    with pytest.raises(ValueError, match="ids"):
        ExpansionModel.fit(docs, queries, qrels, ids[:-1], config=SMALL)
    with pytest.raises(ValueError, match="unique"):
        ExpansionModel.fit(docs[:2], queries, qrels, ["a", "a"], config=SMALL)
    with pytest.raises(ValueError, match="empty"):
        ExpansionModel.fit([], queries, qrels, [], config=SMALL)
    with pytest.raises(TypeError, match="analysed"):
        ExpansionModel.fit(["a text"], queries, qrels, ["a"], config=SMALL)
    with pytest.raises(ValueError, match="term weight"):
        ExpansionModel.fit(docs, queries, qrels, ids, config=SMALL, term_weights={"flow": 1.0})
    bad_tw = {t: 1.0 for d in docs for t in d} | {t: 1.0 for q in queries.values() for t in q}
    bad_tw["flow"] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        ExpansionModel.fit(docs, queries, qrels, ids, config=SMALL, term_weights=bad_tw)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"m": 0},
        {"epochs": -1},
        {"tau": 1.5},
        {"b": 2.0},
        {"k1": float("nan")},
        {"alphas": ()},
        {"negatives": 9, "negative_pool": 8},
        {"dev_fraction": 1.0},
        {"max_expansion": -1},
    ],
)
def test_bad_config(kwargs) -> None:
    with pytest.raises(ValueError):
        ExpansionConfig(**kwargs)


def test_bad_expand_and_query_input(model: ExpansionModel) -> None:
    with pytest.raises(TypeError, match="analysed"):
        model.expand(["not tokenised"])
    with pytest.raises(TypeError):
        model.expand("flow")
    # A bad term was named by its index in the model's extended vocabulary ('vocabulary
    # term #28986'), not by the document holding it.
    for bad in (5, "", None):
        with pytest.raises(ValueError, match=r"document #1: term #1 must be a non-empty str"):
            model.expand([["flow"], ["wing", bad]])
    with pytest.raises(ValueError, match="tau"):
        model.expand([["flow"]], tau=2.0)
    with pytest.raises(ValueError, match="max_expansion"):
        model.expand([["flow"]], max_expansion=-1)
    ex = model.expand([["flow", "wing"]])
    with pytest.raises(ValueError, match="finite"):
        ex.queries([{"flow": float("nan")}])
    with pytest.raises(ValueError, match=">= 0"):
        ex.queries([{"flow": -1.0}])
    with pytest.raises(ValueError, match="vocabulary"):
        search(ex.matrix, sp.csr_matrix((1, 3)), 5)
    with pytest.raises(ValueError, match="positive"):
        search(ex.matrix, ex.queries([["flow"]]), 0)
    # Weighted queries and unknown terms: unknown terms are ignored.
    d, s = ex.search([{"flow": 2.0, "unknownterm": 5.0}], k=1)
    assert d[0, 0] == 0 and s[0, 0] > 0


def test_tdv_term_weights_replace_bm25(tiny) -> None:
    ids, docs, queries, qrels = tiny
    terms = {t for d in docs for t in d} | {t for q in queries.values() for t in q}
    tw = {t: 2.0 for t in terms}
    m = ExpansionModel.fit(docs, queries, qrels, ids, config=SMALL, term_weights=tw)
    plain = dataclasses.replace(m, config=dataclasses.replace(m.config, reweight_literal=False))
    closed = plain.expand(docs[:5], max_expansion=0)
    X = bag_matrix(docs[:5], Vocabulary(closed.vocab))
    np.testing.assert_allclose(closed.matrix.toarray(), 2.0 * X.toarray())
    with pytest.raises(ValueError, match="term weight"):
        m.expand([["brandnewterm"]])


# ---------------------------------------------------------------- CLI hooks


def test_command_functions(tmp_path: Path, cranfield_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train"):
        train_expansion(cranfield_dir, tmp_path / "m.npz", split="train", config=SMALL)
    stats = CollectionStats(1, 1, np.ones(1, dtype=np.int64))
    assert stats.avgdl == np.float32(1.0)
    # Full train + expand cycle on a small BEIR folder copy (first 300 documents).
    src = cranfield_dir
    dst = tmp_path / "beir"
    (dst / "qrels").mkdir(parents=True)
    with gzip.open(src / "corpus.jsonl.gz", "rt") as f:
        lines = [next(f) for _ in range(300)]
    (dst / "corpus.jsonl").write_text("".join(lines))
    (dst / "queries.jsonl").write_text((src / "queries.jsonl").read_text())
    (dst / "qrels" / "train.tsv").write_text((src / "qrels" / "test.tsv").read_text())
    # Judged queries without text are named (an empty queries.jsonl used to surface as "no
    # query of qrels has known terms").
    (dst / "queries.jsonl").write_text("")
    with pytest.raises(ValueError, match="225 judged queries of split 'train' have no text"):
        train_expansion(dst, tmp_path / "m.npz", config=SMALL)
    (dst / "queries.jsonl").write_text((src / "queries.jsonl").read_text())
    # The qrels judge documents beyond the 300 copied: named, and ignored.
    with pytest.warns(UserWarning, match="relevant document id.* absent from the corpus"):
        model = train_expansion(dst, tmp_path / "m.npz", config=SMALL)
    assert json.loads(model.info["analyzer"])
    ids, ex = expand_beir(dst, tmp_path / "m.npz", tmp_path / "docs.jsonl")
    assert len(ids) == 300 and ex.matrix.shape[0] == 300
    got_ids, W, _, scale = read_jsonl(tmp_path / "docs.jsonl")
    assert got_ids == ids and scale is not None and W.nnz == ex.matrix.nnz
    # An empty corpus is an error, and the last export stays.
    before = (tmp_path / "docs.jsonl").read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "corpus.jsonl").write_text("")
    with pytest.raises(ValueError, match="the corpus is empty"):
        expand_beir(empty, model, tmp_path / "docs.jsonl")
    assert (tmp_path / "docs.jsonl").read_bytes() == before
    # The model records its analyzer; another one is refused (its terms would not match).
    with pytest.raises(ValueError, match="trained with another analyzer"):
        expand_beir(dst, model, None, analyzer=thresher.Analyzer(stemmer="none"))
    # A TDV model is not an expansion model, and the error says which it is.
    from thresher.tdv import TDVModel, make_features
    from thresher.tdv.data import Corpus

    corpus = Corpus.from_tokens(["a", "b"], [["x", "y"], ["y"]])
    TDVModel(make_features("b").fit(corpus.vocab, corpus.tf)).save(tmp_path / "tdv.npz")
    with pytest.raises(ExpansionModelError, match="a TDV model"):
        ExpansionModel.load(tmp_path / "tdv.npz")
    with pytest.raises(ValueError, match="an expansion model"):
        TDVModel.load(tmp_path / "m.npz")
    np.save(tmp_path / "array.npy", np.arange(3))
    with pytest.raises(ExpansionModelError, match=r"not an expansion model \(\.npz\)"):
        ExpansionModel.load(tmp_path / "array.npy")
    with pytest.raises(ValueError, match=r"not a TDV model file \(\.npz\)"):
        TDVModel.load(tmp_path / "array.npy")


@pytest.mark.parametrize(
    "change",
    [
        {"max_expansion_grid": ()},
        {"tau_grid": ()},
        {"objective": (("nDCG@10", float("nan")),)},
        {"objective": ()},
        {"objective": (("bogus@10", 1.0),)},
        {"max_expansion_grid": (-5,)},
        {"max_expansion": 1.5},
        {"seed": "abc"},
        {"seed": -1},
    ],
)
def test_bad_configs_fail_at_construction(change) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(SMALL, **change)


def test_export_refuses_duplicate_or_empty_ids(tmp_path: Path) -> None:
    W = sp.csr_matrix(np.ones((2, 1), dtype=np.float32))
    for ids in (["d", "d"], ["d", ""]):
        with pytest.raises(ValueError, match="non-empty and distinct"):
            write_jsonl(tmp_path / "a.jsonl", ids, W, ["x"])


# ---------------------------------------------------------------- subword vocabulary


def test_subword_vocabulary(tiny, cranfield_dir: Path) -> None:
    pytest.importorskip("tokenizers")
    from thresher.data import iter_beir_corpus
    from thresher.expand.subword import SubwordAnalyzer, train_wordpiece

    ids, _, _, qrels = tiny
    texts = dict(iter_beir_corpus(cranfield_dir))
    analyzer = train_wordpiece([texts[d] for d in ids], vocab_size=3000)
    assert isinstance(analyzer, SubwordAnalyzer)
    toks = analyzer.tokenize("Slipstream effects [SEP] on a wing")
    assert "[SEP]" not in toks and toks[0].startswith("slip") and toks[-1] == "wing"
    assert json.loads(analyzer.config_json())["subword"]["model"]["type"] == "WordPiece"
    docs = analyzer.tokenize_batch([texts[d] for d in ids])
    qtext = thresher.load_queries(cranfield_dir)
    qids = sorted(qrels)
    queries = dict(zip(qids, analyzer.tokenize_batch([qtext[q] for q in qids])))
    model = ExpansionModel.fit(docs, queries, qrels, ids, config=SMALL)
    assert any(t.startswith("##") for t in model.vocab.terms)
    ex = model.expand(docs)
    assert ex.num_expansion.max() <= model.config.max_expansion


def test_documents_without_known_terms_expand_to_nothing(model: ExpansionModel, tiny) -> None:
    """A block of documents none of which has a term of the model's vocabulary (unknown words,
    empty) gets no expansion (its literal terms stay); the other blocks are expanded."""
    docs = tiny[1]
    ex = model.expand([["zzzq"], []])
    assert ex.matrix.shape[0] == 2 and ex.matrix.nnz == ex.num_literal.sum() == 1
    # The second block of 1,024 documents holds only such a document.
    many = [*(docs * 4)[:1024], ["zzzq"]]
    ex = model.expand(many)
    assert ex.matrix.shape[0] == 1025 and ex.matrix.getrow(1024).nnz == 1
    assert ex.matrix.nnz > ex.num_literal.sum()  # the first block is expanded

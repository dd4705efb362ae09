"""Tests for thresher.tdv (numpy/scipy TDV training)."""

# Matrix names follow the maths (X = doc-term tf, Q = queries, E = features, ...).
# ruff: noqa: N803, N806

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

from thresher.tdv import (
    FORMAT_VERSION,
    Corpus,
    ScoringConfig,
    StatsFeatures,
    TDVModel,
    TrainConfig,
    VecFeatures,
    batch_loss_and_grad,
    evaluate,
    make_features,
    ndcg,
    retrieve,
    reweight,
    score_matrix,
    search,
    standin_analyzer,
    train,
    train_from_texts,
)
from thresher.tdv.features import FeaturePipeline, read_vec
from thresher.tdv.scoring import CollectionConstants
from thresher.tdv.train import _Objective

# The subword features need HF ``tokenizers`` (a dependency of thresher) and the stand-in
# analyzer needs PyStemmer (a dev dependency): `make install` installs both, so nothing skips.

# --------------------------------------------------------------------------- fixtures


def _synthetic(seed: int = 0, n_docs: int = 120, n_queries: int = 40):
    """Topic-structured toy collection: docs mix topic words and common words."""
    rng = np.random.default_rng(seed)
    common = [f"common{i}" for i in range(15)]
    topics = [[f"t{k}w{i}" for i in range(25)] for k in range(8)]
    docs, doc_topic = [], []
    for _ in range(n_docs):
        k = int(rng.integers(len(topics)))
        n = int(rng.integers(15, 40))
        words = list(rng.choice(topics[k], size=n // 2)) + list(rng.choice(common, size=n - n // 2))
        docs.append([str(w) for w in words])
        doc_topic.append(k)
    doc_ids = [f"d{i}" for i in range(n_docs)]
    queries, qrels = {}, {}
    for qi in range(n_queries):
        d = int(rng.integers(n_docs))
        topical = [w for w in docs[d] if not w.startswith("common")]
        q = [str(w) for w in rng.choice(topical, size=2)] + [str(rng.choice(common))]
        queries[f"q{qi}"] = q
        qrels[f"q{qi}"] = {doc_ids[d]: 1}
    return Corpus.from_tokens(doc_ids, docs), queries, qrels


@pytest.fixture(scope="module")
def toy():
    return _synthetic()


def _small_problem(seed=0):
    rng = np.random.default_rng(seed)
    D, V, B = 25, 30, 6
    X = sp.random(
        D,
        V,
        density=0.3,
        random_state=seed,
        data_rvs=lambda n: rng.integers(1, 4, n).astype(float),
    ).tocsr()
    Q = sp.random(
        B,
        V,
        density=0.25,
        random_state=seed + 1,
        data_rvs=lambda n: rng.integers(1, 3, n).astype(float),
    ).tocsr()
    pos = rng.integers(0, D, B)
    neg = rng.integers(0, D, B)
    return X, Q, pos, neg, rng


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("model", ["bm25", "tfidf"])
@pytest.mark.parametrize("idf", ["df", "frej"])
def test_gradient_in_tau_matches_finite_differences(model, idf):
    X, Q, pos, neg, rng = _small_problem()
    cst = CollectionConstants.from_tf(X)
    cfg = ScoringConfig(model=model, idf=idf)
    tau0 = rng.uniform(0.3, 2.0, X.shape[1])

    def f(t):
        # margin large enough that every pair stays on the linear side of the hinge
        return batch_loss_and_grad(t, cst, Q, pos, neg, cfg, l1=0.01, margin=50.0)[0]

    def g(t):
        return batch_loss_and_grad(t, cst, Q, pos, neg, cfg, l1=0.01, margin=50.0)[1]

    err = check_grad(f, g, tau0, epsilon=1e-6)
    assert err < 1e-6 * max(1.0, np.linalg.norm(g(tau0)))


@pytest.mark.parametrize("learn_scale", [False, True])
def test_gradient_in_parameters_matches_finite_differences(learn_scale):
    X, Q, pos, neg, rng = _small_problem(3)
    cst = CollectionConstants.from_tf(X)
    vocab = [f"w{i}" for i in range(X.shape[1])]
    feats = make_features("b").fit(vocab, X)
    E = feats.transform(vocab, X)
    cfg = TrainConfig(l1=0.01, margin=30.0, learn_scale=learn_scale)
    obj = _Objective(E, cst, cfg)
    theta = obj.init()
    theta[:-1] += rng.normal(0, 0.05, len(theta) - 1)  # stays away from relu kinks
    z = E @ theta[: obj.nw] + theta[obj.nw]
    assert np.min(np.abs(z)) > 1e-3

    def f(th):
        return obj(th, Q, pos, neg)[0]

    def g(th):
        return obj(th, Q, pos, neg)[1]

    err = check_grad(f, g, theta, epsilon=1e-7)
    assert err < 1e-5 * max(1.0, np.linalg.norm(g(theta)))


# --------------------------------------------------------------------------- init == BM25


def test_init_equals_plain_bm25_scores(toy):
    corpus, queries, _qrels = toy
    feats = make_features("ab")
    model = TDVModel(feats.fit(corpus.vocab, corpus.tf))  # w = 0, beta = 1
    w = model.term_weights(corpus.vocab, corpus.tf)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, np.ones(corpus.n_terms, dtype=np.float32))
    cfg = ScoringConfig()
    plain = score_matrix(corpus.tf, cfg)
    weighted = score_matrix(model.reweighted(corpus.vocab, corpus.tf), cfg)
    np.testing.assert_allclose(weighted.toarray(), plain.toarray())
    # The differentiable scorer at tau = 1 gives the same scores as the index.
    qids = list(queries)
    Q = corpus.query_matrix([queries[q] for q in qids])
    docs = np.arange(len(qids)) % corpus.n_docs
    cst = CollectionConstants.from_tf(corpus.tf)
    _, _, info = batch_loss_and_grad(np.ones(corpus.n_terms), cst, Q, docs, docs, cfg, 0.0)
    expected = np.asarray((Q @ plain.T).toarray())[np.arange(len(qids)), docs]
    np.testing.assert_allclose(info["s_pos"], expected, rtol=1e-12)


def test_bm25_matches_lucene_formula():
    # one document "a a b", another "b c"; query "a b"
    corpus = Corpus.from_tokens(["x", "y"], [["a", "a", "b"], ["b", "c"]])
    k1, b = 0.9, 0.4
    S = score_matrix(corpus.tf, ScoringConfig(k1=k1, b=b)).toarray()
    N, avgdl = 2, 2.5

    def idf(n):
        return np.log(1 + (N - n + 0.5) / (n + 0.5))

    def bm(tf, dl, n):
        return idf(n) * tf / (tf + k1 * (1 - b + b * dl / avgdl))

    ia, ib = corpus.term_index["a"], corpus.term_index["b"]
    assert S[0, ia] == pytest.approx(bm(2, 3, 1))
    assert S[0, ib] == pytest.approx(bm(1, 3, 2))
    assert S[1, ib] == pytest.approx(bm(1, 2, 2))


# --------------------------------------------------------------------------- training


def _cfg(**kw):
    base = {
        "max_epochs": 6,
        "patience": 100,
        "seed": 7,
        "negatives": "mixed",
        "margin": 3.0,
        "lr": 1e-2,
    }
    base.update(kw)
    return TrainConfig(**base)


def test_training_is_reproducible_with_a_seed(toy):
    corpus, queries, qrels = toy
    r1 = train(corpus, queries, qrels, features="ab", config=_cfg())
    r2 = train(corpus, queries, qrels, features="ab", config=_cfg())
    np.testing.assert_array_equal(r1.model.w, r2.model.w)
    assert r1.model.beta == r2.model.beta
    assert [h["dev_ndcg10"] for h in r1.history] == [h["dev_ndcg10"] for h in r2.history]
    r3 = train(corpus, queries, qrels, features="ab", config=_cfg(seed=8))
    assert r3.dev_queries != r1.dev_queries or not np.array_equal(r3.model.w, r1.model.w)


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
def test_progress_bar_only_on_a_terminal(toy, monkeypatch, tty):
    # A bar redrawn into a log (CI, a pipe) wrote one line per epoch; Index.build's bar was
    # already off there.
    corpus, queries, qrels = toy
    err = _Stream(tty)
    monkeypatch.setattr(sys, "stderr", err)
    train(corpus, queries, qrels, features="b", config=_cfg(max_epochs=2, progress=True))
    assert ("tdv" in err.getvalue()) == tty, err.getvalue()


def test_training_records_history_and_keeps_best_epoch(toy):
    corpus, queries, qrels = toy
    res = train(corpus, queries, qrels, features="b", config=_cfg(max_epochs=4))
    assert res.history[0]["epoch"] == 0
    assert res.history[0]["postings_kept"] == 1.0
    best = max(res.history, key=lambda h: h["dev_ndcg10"])
    assert res.history[res.best_epoch]["dev_ndcg10"] == best["dev_ndcg10"]
    assert {"loss", "hinge", "postings_kept", "vocab_kept", "dev_ndcg10"} <= set(res.history[1])


def test_lbfgs_optimizer_runs(toy):
    corpus, queries, qrels = toy
    res = train(
        corpus,
        queries,
        qrels,
        features="b",
        config=_cfg(optimizer="lbfgs", max_epochs=2),
    )
    assert np.all(np.isfinite(res.model.w))


def test_train_from_texts_with_analyzer():
    analyze = standin_analyzer()
    texts = [
        "The cat's whiskers are long.",
        "Dogs chase cats in the garden.",
        "Gardens grow flowers; flowers attract bees.",
        "Bees make honey from flowers.",
    ]
    queries = {"1": "Which flowers do bees like?", "2": "cats and dogs"}
    qrels = {"1": {"d3": 1}, "2": {"d1": 1}}
    corpus, res = train_from_texts(
        ["d0", "d1", "d2", "d3"],
        texts,
        queries,
        qrels,
        analyze,
        config=_cfg(max_epochs=2),
    )
    assert "flower" in corpus.vocab and "the" not in corpus.vocab
    assert res.model.term_weights(corpus.vocab, corpus.tf).shape == (corpus.n_terms,)


def test_standin_analyzer_matches_lucene_conventions():
    analyze = standin_analyzer()
    assert analyze("The studies' results: 1,000 genomes, e.g. John's.") == [
        "studi",
        "result",
        "1,000",
        "genom",
        "e.g",
        "john",
    ]
    assert analyze("vs us is") == ["vs", "us"]  # short words are not stemmed
    assert analyze("biology technology") == ["biologi", "technolog"]


# --------------------------------------------------------------------------- pruning


def test_pruning_drops_exactly_the_zero_tdv_terms(toy):
    corpus, _queries, _ = toy
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 2.0, corpus.n_terms)
    w[rng.random(corpus.n_terms) < 0.3] = 0.0
    Xw = reweight(corpus.tf, w)
    kept_cols = np.unique(Xw.indices)
    present = np.unique(corpus.tf.indices)
    np.testing.assert_array_equal(kept_cols, present[w[present] > 0])
    assert Xw.nnz == int(np.isin(corpus.tf.indices, np.flatnonzero(w > 0)).sum())
    np.testing.assert_allclose(Xw.toarray(), corpus.tf.toarray() * w[None, :])
    # a query made only of dropped terms retrieves nothing
    dropped = [corpus.vocab[t] for t in present[w[present] == 0][:3]]
    run = retrieve(corpus, {"q": dropped}, w)
    assert run["q"] == {}
    run = retrieve(corpus, {"q": dropped})
    assert len(run["q"]) > 0


def test_reweighted_lengths_and_idf_are_recomputed():
    corpus = Corpus.from_tokens(["x", "y", "z"], [["a", "b", "b"], ["a", "c"], ["c", "c", "d"]])
    w = np.zeros(corpus.n_terms)
    w[corpus.term_index["a"]] = 0.5
    w[corpus.term_index["c"]] = 2.0
    S = score_matrix(reweight(corpus.tf, w), ScoringConfig()).toarray()
    # weighted lengths: x = 0.5, y = 0.5 + 2, z = 4 -> avgdl over 3 docs
    L = np.array([0.5, 2.5, 4.0])
    avgdl = L.mean()
    ic = corpus.term_index["c"]
    idf_c = np.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    x = 4.0
    assert S[2, ic] == pytest.approx(idf_c * x / (x + 0.9 * (0.6 + 0.4 * L[2] / avgdl)))
    assert S[:, corpus.term_index["b"]].sum() == 0


# --------------------------------------------------------------------------- save / load


def test_save_load_round_trip_and_transfer(tmp_path, toy):
    corpus, queries, qrels = toy
    res = train(corpus, queries, qrels, features="abc", config=_cfg(max_epochs=3))
    path = tmp_path / "tdv.npz"
    res.model.save(path)
    loaded = TDVModel.load(path)
    np.testing.assert_array_equal(loaded.w, res.model.w)
    assert loaded.beta == res.model.beta
    assert loaded.scoring == res.model.scoring
    np.testing.assert_array_equal(
        loaded.term_weights(corpus.vocab, corpus.tf),
        res.model.term_weights(corpus.vocab, corpus.tf),
    )
    # another collection, with unseen terms: weights for its own vocabulary
    other, _, _ = _synthetic(seed=5, n_docs=30)
    extra = Corpus.from_tokens(other.doc_ids, [[*toks, "unseenterm"] for toks in _tokens(other)])
    w = loaded.term_weights(extra.vocab, extra.tf)
    assert w.shape == (extra.n_terms,) and np.all(np.isfinite(w)) and np.all(w >= 0)


def _tokens(corpus):
    out = []
    for d in range(corpus.n_docs):
        row = corpus.tf[d]
        out.append([corpus.vocab[t] for t, c in zip(row.indices, row.data) for _ in range(int(c))])
    return out


def _model(toy):
    corpus = toy[0]
    return TDVModel(make_features("b").fit(corpus.vocab, corpus.tf))


def test_load_rejects_newer_format_version(tmp_path, toy):
    path = tmp_path / "m.npz"
    _model(toy).save(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["format_version"] = np.array(FORMAT_VERSION + 1)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="newer"):
        TDVModel.load(path)
    arrays["format_version"] = np.array(0)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="version 0"):
        TDVModel.load(path)


def test_load_rejects_corrupted_files(tmp_path, toy):
    good = tmp_path / "m.npz"
    _model(toy).save(good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.npz"):
        TDVModel.load(bad)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ValueError):
        TDVModel.load(garbage)
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not a TDV model"):
        TDVModel.load(tmp_path / "other.npz")
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["w"] = arrays["w"][:-1]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match="corrupted"):
        TDVModel.load(tmp_path / "short.npz")


# --------------------------------------------------------------------------- bad input


def test_no_training_pairs(toy):
    corpus, queries, _ = toy
    with pytest.raises(ValueError, match="no training pairs"):
        train(corpus, queries, {}, config=_cfg())
    with pytest.raises(ValueError, match="no training pairs"):
        train(corpus, queries, {"q0": {"d0": 0}}, config=_cfg())


def test_qrels_ids_missing(toy):
    corpus, queries, qrels = toy
    with pytest.raises(ValueError, match=r"query id.*absent.*nosuchquery"):
        train(corpus, queries, {**qrels, "nosuchquery": {"d0": 1}}, config=_cfg())
    with pytest.raises(ValueError, match=r"document id.*absent.*nosuchdoc"):
        train(corpus, queries, {"q0": {"nosuchdoc": 1}}, config=_cfg())


def test_nan_in_features():
    with pytest.raises(ValueError, match="NaN"):
        VecFeatures(["a", "b"], np.array([[1.0, np.nan], [0.0, 1.0]]))

    class NaNBlock(StatsFeatures):
        def transform(self, vocab, X):
            m = super().transform(vocab, X).toarray()
            m[0, 0] = np.nan
            return sp.csr_matrix(m)

    corpus, _, _ = _synthetic(n_docs=20, n_queries=2)
    pipe = FeaturePipeline([NaNBlock()]).fit(corpus.vocab, corpus.tf)
    with pytest.raises(ValueError, match="NaN"):
        pipe.transform(corpus.vocab, corpus.tf)


def test_nan_in_vec_file(tmp_path):
    p = tmp_path / "v.vec"
    p.write_text("2 2\nfoo 1 2\nbar nan 1\n")
    with pytest.raises(ValueError, match="NaN"):
        read_vec(p)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"2 2\nfoo 1 2\nfoo 3 4\n", r"v\.vec:3: the word 'foo' appears twice"),
        (b"2 2\nfoo 1 abc\n", r"v\.vec:2: the vector of 'foo' has a non-number"),
        (b"two 2\nfoo 1 2\n", r"v\.vec:1: first line must be"),
        (b"1 0\nfoo\n", "dim >= 1"),
        (b"1 2\nfo\xe9 1 2\n", r"v\.vec:2: not valid UTF-8"),
    ],
)
def test_bad_vec_files_name_file_and_line(tmp_path, body, match):
    p = tmp_path / "v.vec"
    p.write_bytes(body)
    with pytest.raises(ValueError, match=match):
        read_vec(p)


@pytest.mark.parametrize(
    "change",
    [
        {"lr": -1e-3},
        {"lr": float("nan")},
        {"margin": float("nan")},
        {"margin": -5.0},
        {"max_postings": 0.0},
        {"max_postings": 2.0},
        {"patience": 0},
        {"min_postings": float("nan")},
        {"hard_depth": 0},
        {"lbfgs_iters": -1},
        {"lr": "0.001"},
        {"seed": -1},
        {"prune_tolerance": -0.01},
        {"prune_tolerance": float("nan")},
        {"prune_grid": (0.1, 0.05)},
        {"prune_grid": (0.0, 0.1)},
        {"prune_grid": (0.1, float("inf"))},
        {"prune_grid": (0.1, 0.1)},
    ],
)
def test_bad_train_configs_fail_at_construction(change):
    with pytest.raises(ValueError):
        TrainConfig(**change)


def test_non_finite_models_are_refused(tmp_path, toy):
    m = _model(toy)
    with pytest.raises(ValueError, match="finite"):
        TDVModel(m.features, m.w, float("nan"))
    m.w[0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        m.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_weight_array_of_wrong_length(toy):
    corpus = toy[0]
    with pytest.raises(ValueError, match="length"):
        reweight(corpus.tf, np.ones(corpus.n_terms + 1))
    with pytest.raises(ValueError, match="length"):
        retrieve(corpus, {"q": ["common1"]}, np.ones(3))


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_negative_or_non_finite_weights_are_rejected(toy, bad):
    corpus = toy[0]
    w = np.ones(corpus.n_terms)
    w[3] = bad
    with pytest.raises(ValueError, match=rf"non-negative; the weight at position 3 is {bad}"):
        reweight(corpus.tf, w)
    with pytest.raises(ValueError, match="position 3"):
        retrieve(corpus, {"q": ["common1"]}, w)


def test_model_weight_vector_of_wrong_shape(toy):
    corpus = toy[0]
    features = make_features("b").fit(corpus.vocab, corpus.tf)
    with pytest.raises(ValueError, match=r"weight vector has shape \(3,\), expected"):
        TDVModel(features, np.ones(3))


def test_doc_term_matrix_of_wrong_shape(toy):
    corpus = toy[0]
    model = _model(toy)
    with pytest.raises(ValueError, match="columns"):
        model.term_weights(corpus.vocab, corpus.tf[:, :-1])
    with pytest.raises(ValueError, match="tf matrix"):
        model.term_weights(corpus.vocab, None)


def test_bad_config_values():
    with pytest.raises(ValueError, match="negatives"):
        TrainConfig(negatives="nope")
    with pytest.raises(ValueError, match="scoring model"):
        ScoringConfig(model="lm")


# --------------------------------------------------------------------------- features


def test_vec_features_from_file(tmp_path, toy):
    p = tmp_path / "v.vec"
    p.write_text("3 2\nstudies 1 0\nstudy 0 1\nflower 2 2\n")
    analyze = standin_analyzer()
    terms, vecs = read_vec(p, analyze=analyze)
    assert terms == ["studi", "flower"]
    np.testing.assert_allclose(vecs[0], [0.5, 0.5])
    block = VecFeatures(terms, vecs)
    E = block.transform(["flower", "unknown"]).toarray()
    np.testing.assert_allclose(E, [[2, 2, 0], [0, 0, 1]])


def test_subword_features_cover_unseen_terms(toy):
    corpus = toy[0]
    feats = make_features("a").fit(corpus.vocab, corpus.tf)
    E = feats.transform(["t0w1", "t0w123zz"], None)
    assert E[1].nnz > 0
    np.testing.assert_allclose(np.asarray(E.sum(axis=1)).ravel(), [1.0, 1.0])


# --------------------------------------------------------------------------- metrics


def test_ndcg_matches_ir_measures():
    rng = np.random.default_rng(1)
    n_q, n_d = 5, 30
    scores = rng.random((n_q, n_d))
    qrels = {
        f"q{i}": {f"d{j}": int(rng.integers(0, 3)) for j in rng.choice(n_d, 6)} for i in range(n_q)
    }
    S = sp.csr_matrix(np.eye(n_d))
    idx, sc = search(S, sp.csr_matrix(scores), 20)
    rel = [{int(d[1:]): g for d, g in qrels[f"q{i}"].items()} for i in range(n_q)]
    mine = ndcg(idx, rel, 10).mean()
    run = {f"q{i}": {f"d{d}": float(s) for d, s in zip(idx[i], sc[i])} for i in range(n_q)}
    assert mine == pytest.approx(evaluate(run, qrels, ("nDCG@10",))["nDCG@10"], abs=1e-9)


def test_a_failed_save_keeps_the_previous_model(tmp_path, toy, monkeypatch):
    """Saving is atomic (temp file, fsync, rename): an error in the middle of writing leaves
    the previous file whole and no temporary file behind."""
    path = tmp_path / "m.npz"
    _model(toy).save(path)
    before = path.read_bytes()

    def half_then_fail(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        _model(toy).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    monkeypatch.undo()
    TDVModel.load(path)


def test_queries_without_corpus_terms_are_an_error(toy):
    corpus, queries, qrels = toy
    with pytest.raises(ValueError, match="no training query has a term of the corpus"):
        train(corpus, {q: ["zzz-unknown"] for q in queries}, qrels, features="b",
              config=TrainConfig(max_epochs=1))  # fmt: skip


def test_queries_without_corpus_terms_give_no_training_pairs(toy):
    """A query none of whose terms is in the corpus scores 0 everywhere: its pairs would have
    a constant loss and no gradient. They are left out (with a warning), so training equals
    training without that query; the count is recorded in the model's meta."""
    corpus, queries, qrels = toy
    cfg = TrainConfig(max_epochs=3, dev_fraction=0.0, seed=1)
    plain = train(corpus, queries, qrels, features="b", config=cfg)
    extra_q = {**queries, "lost": ["zzz-unknown", "yyy-unknown"]}
    extra_r = {**qrels, "lost": dict.fromkeys(list(corpus.doc_index)[:3], 1)}
    with pytest.warns(UserWarning, match=r"1 training query has no term .*\['lost'\]"):
        more = train(corpus, extra_q, extra_r, features="b", config=cfg)
    assert more.model.meta["train_queries_without_terms"] == 1
    assert plain.model.meta["train_queries_without_terms"] == 0
    assert more.model.meta["train_pairs"] == plain.model.meta["train_pairs"]
    np.testing.assert_array_equal(more.model.w, plain.model.w)
    assert more.model.beta == plain.model.beta


def test_queries_judging_every_document_relevant_give_no_training_pairs(toy):
    """With every document relevant there is no negative to rank below: such a query is left
    out with a warning (training equals training without it), and if every query is like
    that, it is an error, not an endless search for a negative."""
    corpus, queries, qrels = toy
    cfg = TrainConfig(max_epochs=3, dev_fraction=0.0, seed=1, negatives="random")
    plain = train(corpus, queries, qrels, features="b", config=cfg)
    everything = dict.fromkeys(corpus.doc_index, 1)
    q0 = next(iter(queries))
    extra_q = {**queries, "all": queries[q0]}
    with pytest.warns(UserWarning, match=r"1 training query judges every document .*\['all'\]"):
        more = train(corpus, extra_q, {**qrels, "all": everything}, features="b", config=cfg)
    assert more.model.meta["train_queries_judging_everything"] == 1
    assert plain.model.meta["train_queries_judging_everything"] == 0
    assert more.model.meta["train_pairs"] == plain.model.meta["train_pairs"]
    np.testing.assert_array_equal(more.model.w, plain.model.w)
    with pytest.raises(ValueError, match="every training query with a corpus term judges every"):
        train(corpus, extra_q, {"all": everything}, features="b", config=cfg)


def test_load_beir_names_bad_files(tmp_path):
    """`thresher.tdv.load_beir` reads with `thresher.data`'s loaders: repeated ids, a record
    without the text fields, bad JSON and bad qrels lines are errors naming the file."""
    from thresher.tdv import load_beir, read_qrels

    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "cat"}\n')
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "d1", "title": "T", "text": "cat"}\n\n{"_id": "d2", "text": "x"}\n')
    assert load_beir(tmp_path) == (
        {"d1": "T cat", "d2": " x"},
        {"q1": "cat"},
        {"test": {"q1": {"d1": 1}}},
    )
    corpus.write_text('{"_id": "d1", "title": "", "text": "a"}\n{"_id": "d1", "text": "b"}\n')
    with pytest.raises(ValueError, match="document id 'd1' appears twice"):
        load_beir(tmp_path)
    corpus.write_text('{"_id": "d1", "title": "", "text": "a"}\n{"_id": "d2", "body": "b"}\n')
    with pytest.raises(ValueError, match="document 'd2' has none of the fields title, text"):
        load_beir(tmp_path)
    corpus.write_text('{"_id": "d1", "title": "", "text": "a"}\n{"_id": \n')
    with pytest.raises(ValueError, match=r"corpus\.jsonl line 2: invalid JSON"):
        load_beir(tmp_path)
    corpus.write_text('{"_id": "d1", "title": "", "text": "a"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("q1\td1\tyes\n")
    with pytest.raises(ValueError, match=r"test\.tsv line 1: relevance 'yes' is not an integer"):
        read_qrels(tmp_path / "qrels" / "test.tsv")


def test_dev_ndcg_gives_no_credit_to_documents_that_match_no_query_term():
    """`search` pads a ranking with zero-score documents; an inverted index would not return
    them, so model selection must not count them (0.5 here before)."""
    from thresher.tdv.metrics import ndcg
    from thresher.tdv.scoring import ScoringConfig, score_matrix, search

    c = Corpus.from_tokens(["d0", "d1", "d2"], [["cat"], ["dog"], ["fish"]])
    idx, sc = search(score_matrix(c.tf, ScoringConfig()), c.query_matrix([["cat"]]), 10)
    assert ndcg(idx, [{2: 1}], 10).tolist() == [0.5]  # without scores: the old figure
    assert ndcg(idx, [{2: 1}], 10, sc).tolist() == [0.0]
    assert ndcg(idx, [{0: 1}], 10, sc).tolist() == [1.0]
    with pytest.raises(ValueError, match="finite k1"):
        ScoringConfig(k1=float("inf"))


def test_vec_files_must_hold_the_words_their_header_announces(tmp_path):
    p = tmp_path / "v.vec"
    p.write_text("3 2\nfoo 1 2\nbar 3 4\nbaz 5 6\n\n")
    words, m = read_vec(p)
    assert words == ["foo", "bar", "baz"] and m.shape == (3, 2)
    p.write_text("5 2\nfoo 1 2\nbar 3 4\n")
    with pytest.raises(ValueError, match="announces 5 words but the file holds 2"):
        read_vec(p)
    assert read_vec(p, max_words=1)[0] == ["foo"]


def test_a_failed_model_load_closes_its_file(tmp_path):
    """np.load leaks the file it opened when the zip is unreadable; the loaders open it
    themselves (a server retrying a bad path would otherwise run out of descriptors)."""
    import gc
    import warnings

    from thresher.expand import ExpansionModel, ExpansionModelError

    p = tmp_path / "trunc.npz"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(3):
            with pytest.raises(ValueError):
                TDVModel.load(p)
            with pytest.raises(ExpansionModelError):
                ExpansionModel.load(p)
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)]


# --------------------------------------------------------------------------- pruning threshold


def _varied_model(toy, min_tdv=0.0):
    corpus = toy[0]
    features = make_features("b").fit(corpus.vocab, corpus.tf)
    w = np.random.default_rng(3).normal(0, 0.5, features.n_features)
    return TDVModel(features, w, 1.0, min_tdv=min_tdv)


def test_min_tdv_drops_the_terms_below_it_and_is_saved(tmp_path, toy):
    corpus = toy[0]
    raw = _varied_model(toy).term_weights(corpus.vocab, corpus.tf)
    assert np.unique(raw[raw > 0]).size > 10  # TDVs that differ, so a threshold can cut
    cut = float(np.median(raw[raw > 0]))
    m = _varied_model(toy, cut)
    w = m.term_weights(corpus.vocab, corpus.tf)
    np.testing.assert_array_equal(w, np.where(raw < cut, 0, raw))
    assert 0 < (w > 0).sum() < (raw > 0).sum()
    path = tmp_path / "m.npz"
    m.save(path)
    loaded = TDVModel.load(path)
    assert loaded.min_tdv == pytest.approx(cut)
    np.testing.assert_array_equal(loaded.term_weights(corpus.vocab, corpus.tf), w)
    # A version-1 file (before the threshold existed) loads with no threshold.
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "min_tdv"}
    arrays["format_version"] = np.array(1)
    np.savez(path, **arrays)
    old = TDVModel.load(path)
    assert old.min_tdv == 0.0
    np.testing.assert_array_equal(old.term_weights(corpus.vocab, corpus.tf), raw)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_bad_min_tdv_is_refused(toy, bad):
    m = _model(toy)
    with pytest.raises(ValueError, match="min_tdv"):
        TDVModel(m.features, m.w, 1.0, min_tdv=bad)


def test_training_picks_the_pruning_threshold_on_dev(toy):
    """The threshold kept is the last of the grid before dev nDCG@10 falls more than the
    tolerance below the unpruned model's; the sweep records what was tried."""
    corpus, queries, qrels = toy
    grid = (0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.1, 1.5)
    kw = {"max_epochs": 20, "l1": 1e-3}  # trains TDVs spread over ~0.5-0.7 on this toy
    off = train(corpus, queries, qrels, features="b", config=_cfg(prune_tolerance=None, **kw))
    assert off.best_epoch > 0
    assert off.model.min_tdv == 0.0 and off.model.meta["prune_sweep"] == []
    for tol in (0.0, 0.02, 1.0):
        res = train(
            corpus,
            queries,
            qrels,
            features="b",
            config=_cfg(prune_tolerance=tol, prune_grid=grid, **kw),
        )
        # Training itself is unchanged by the threshold.
        np.testing.assert_array_equal(res.model.w, off.model.w)
        base = res.history[res.best_epoch]["dev_ndcg10"]
        sweep = res.model.meta["prune_sweep"]
        assert [r["min_tdv"] for r in sweep] == list(grid[: len(sweep)])
        kept = [r["postings_kept"] for r in sweep]
        assert kept == sorted(kept, reverse=True)
        assert kept[0] < res.history[res.best_epoch]["postings_kept"]  # the grid does cut
        ok = [r["dev_ndcg10"] >= base - tol for r in sweep]
        if tol < 1:
            assert not ok[-1] and res.model.min_tdv > 0  # stopped by dev, after some pruning
        # All pass up to the chosen threshold; the sweep stops at the first failure.
        assert ok == [True] * (len(ok) - 1) + [ok[-1]]
        want = 0.0
        for r, good in zip(sweep, ok):
            if good:
                want = r["min_tdv"]
        assert res.model.min_tdv == want
        assert res.model.meta["min_tdv"] == want
        if not ok[-1]:
            assert len(sweep) < len(grid) or sweep[-1]["min_tdv"] == grid[-1]
        raw = np.maximum(
            res.model.features.transform(corpus.vocab, corpus.tf) @ res.model.w + res.model.beta, 0
        )
        w = res.model.term_weights(corpus.vocab, corpus.tf)
        np.testing.assert_allclose(w, np.where(raw < want, 0, raw).astype(np.float32))
        if tol == 1.0:
            # Nothing can fall more than 1 in nDCG: the whole grid is tried and the top kept.
            assert res.model.min_tdv == grid[-1] and len(sweep) == len(grid)


@pytest.mark.parametrize("bad", [np.array(np.nan), np.array(-1.0), np.array([0.1, 0.2])])
def test_a_bad_stored_threshold_is_a_corrupted_file(tmp_path, toy, bad):
    path = tmp_path / "m.npz"
    _model(toy).save(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["min_tdv"] = bad
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="corrupted TDV model file"):
        TDVModel.load(path)


def _arrays(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_no_flipped_byte_escapes_as_another_error(tmp_path, toy):
    """Every single-byte flip of a model file loads or raises ValueError naming the file:
    never zlib.error or NotImplementedError from the zip reader (a damaged compressed member
    or compression-method field)."""
    good = tmp_path / "m.npz"
    _model(toy).save(good)
    raw = good.read_bytes()
    bad = tmp_path / "flipped.npz"
    refused = 0
    for off in range(len(raw)):
        for mask in (0x01, 0x80):
            b = bytearray(raw)
            b[off] ^= mask
            bad.write_bytes(bytes(b))
            try:
                TDVModel.load(bad)
            except ValueError as e:
                assert "flipped.npz" in str(e)
                refused += 1
    assert refused > len(raw)  # most flips are caught (zip CRCs, headers)
    # The compression-method field of the first member, named in the message.
    b = bytearray(raw)
    b[raw.find(b"PK\x01\x02") + 10] ^= 0x01
    bad.write_bytes(bytes(b))
    with pytest.raises(ValueError, match="not a readable TDV model file"):
        TDVModel.load(bad)


@pytest.mark.parametrize(
    "name, edit",
    [
        ("knots columns", lambda a: a.update({"f0.knots": a["f0.knots"][:, :2]})),
        ("mean length", lambda a: a.update({"f0.mean": a["f0.mean"][:3]})),
        ("std zero", lambda a: a.update({"f0.std": np.zeros_like(a["f0.std"])})),
        ("mean NaN", lambda a: a.update({"f0.mean": np.full_like(a["f0.mean"], np.nan)})),
        ("knots text", lambda a: a.update({"f0.knots": np.array(["x"])})),
        ("knots missing", lambda a: a.pop("f0.knots")),
    ],
)
def test_damaged_feature_arrays_are_a_corrupted_file(tmp_path, toy, name, edit):
    path = tmp_path / "m.npz"
    _model(toy).save(path)
    arrays = _arrays(path)
    edit(arrays)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="corrupted TDV model file"):
        TDVModel.load(path)


def test_damaged_cooccurrence_and_vector_arrays_are_a_corrupted_file(tmp_path, toy):
    corpus = toy[0]
    cooc = make_features("c", c={"dim": 4, "n_context": 10}).fit(corpus.vocab, corpus.tf)
    vec = FeaturePipeline([VecFeatures(["a", "b"], np.ones((2, 3)))])
    for pipe, key, value in (
        (cooc, "f0.basis", lambda a: a[:-1]),
        (cooc, "f0.sv", lambda a: np.full_like(a, np.inf)),
        (vec, "f0.vectors", lambda a: a[:1]),
        (vec, "f0.vectors", lambda a: np.full_like(a, np.nan)),
    ):
        path = tmp_path / "m.npz"
        TDVModel(pipe).save(path)
        TDVModel.load(path)  # the undamaged file loads
        arrays = _arrays(path)
        arrays[key] = value(arrays[key])
        np.savez(path, **arrays)
        with pytest.raises(ValueError, match="corrupted TDV model file"):
            TDVModel.load(path)

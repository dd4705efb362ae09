"""The bad-input table: every case gets its specific exception and a message that names the
problem. Nothing may panic (a Rust panic would surface as pyo3's PanicException, which is not
an Exception subclass, so it would escape these `pytest.raises`)."""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import numpy as np
import pytest

import thresher

DOCS = [("a", "the quick brown fox"), ("b", "lazy dogs sleep"), ("c", "quick dogs run")]


@pytest.fixture(scope="module")
def idx() -> thresher.Index:
    return thresher.Index.build(DOCS)


def build(docs, **kw):
    return thresher.Index.build(docs, **kw)


def _bad_jsonl(tmp: Path, body: bytes) -> Path:
    p = tmp / "c.jsonl"
    p.write_bytes(body)
    return p


CASES = [
    # (name, callable taking (idx, tmp_path), exception, message fragment)
    ("empty corpus", lambda i, t: build([]), ValueError, "empty corpus"),
    (
        "empty jsonl corpus",
        lambda i, t: thresher.Index.from_jsonl(_bad_jsonl(t, b"")),
        ValueError,
        "empty corpus",
    ),
    (
        "invalid utf-8 bytes document",
        lambda i, t: build([("x", b"caf\xe9")]),
        ValueError,
        'document "x" is not valid UTF-8',
    ),
    (
        "invalid utf-8 in jsonl",
        lambda i, t: thresher.Index.from_jsonl(
            _bad_jsonl(t, b'{"_id": "1", "title": "", "text": "\xff"}\n')
        ),
        ValueError,
        "line 1: invalid UTF-8",
    ),
    (
        "invalid json line",
        lambda i, t: thresher.Index.from_jsonl(
            _bad_jsonl(t, b'{"_id": "1", "title": "", "text": "ok"}\n{nope\n')
        ),
        ValueError,
        "line 2: invalid JSON",
    ),
    (
        "unknown field (jsonl)",
        lambda i, t: thresher.Index.from_jsonl(
            _bad_jsonl(t, b'{"_id": "1", "text": "ok"}\n'), fields=("body",)
        ),
        ValueError,
        'unknown field "body"',
    ),
    (
        "unknown field (dicts)",
        lambda i, t: build([{"_id": "1", "text": "x"}], fields=("body",)),
        ValueError,
        "unknown field",
    ),
    (
        "a later jsonl record with none of the fields",
        lambda i, t: thresher.Index.from_jsonl(
            _bad_jsonl(t, b'{"_id": "1", "title": "", "text": "ok"}\n{"_id": "2", "body": "x"}\n')
        ),
        ValueError,
        'line 2: document "2" has none of the fields title, text (it has body)',
    ),
    (
        "a later dict with none of the fields",
        lambda i, t: build([{"_id": "1", "text": "ok"}, {"_id": "2", "body": "x"}]),
        ValueError,
        "document #1 ('2'): unknown field(s) title, text; it has _id, body",
    ),
    (
        "duplicate ids",
        lambda i, t: build([("d1", "x"), ("d2", "y"), ("d1", "z")]),
        ValueError,
        'duplicate document id "d1"',
    ),
    (
        "duplicate ids across batches",
        lambda i, t: build([(f"d{n % 5}", "x") for n in range(10)], batch_size=3),
        ValueError,
        "duplicate document id",
    ),
    ("k = 0", lambda i, t: i.search("fox", k=0), ValueError, "k must be a positive integer"),
    ("k < 0", lambda i, t: i.search("fox", k=-3), ValueError, "k must be a positive integer"),
    ("k float", lambda i, t: i.search("fox", k=2.5), TypeError, "k must be an int"),
    ("k str", lambda i, t: i.search("fox", k="10"), TypeError, "k must be an int"),
    ("k bool", lambda i, t: i.search("fox", k=True), TypeError, "k must be an int"),
    ("k None (batch)", lambda i, t: i.search_batch(["fox"], k=None), TypeError, "k must be an int"),
    (
        "unknown stemmer",
        lambda i, t: thresher.Analyzer(stemmer="lovins"),
        ValueError,
        "porter, snowball, none",
    ),
    (
        "unknown scoring",
        lambda i, t: build(DOCS, scoring="okapi"),
        ValueError,
        "lucene, robertson, atire, bm25l, bm25+, tfidf",
    ),
    ("NaN k1", lambda i, t: build(DOCS, k1=math.nan), ValueError, "k1 must be a finite number"),
    ("inf k1", lambda i, t: build(DOCS, k1=math.inf), ValueError, "k1 must be a finite number"),
    (
        "negative k1",
        lambda i, t: build(DOCS, k1=-0.5),
        ValueError,
        "k1 must be a finite number >= 0",
    ),
    (
        "NaN b",
        lambda i, t: build(DOCS, b=math.nan),
        ValueError,
        "b must be a finite number in [0, 1]",
    ),
    (
        "negative b",
        lambda i, t: build(DOCS, b=-0.1),
        ValueError,
        "b must be a finite number in [0, 1]",
    ),
    ("b > 1", lambda i, t: build(DOCS, b=1.5), ValueError, "b must be a finite number in [0, 1]"),
    ("NaN delta", lambda i, t: build(DOCS, scoring="bm25+", delta=math.nan), ValueError, "delta"),
    (
        "NaN query weight",
        lambda i, t: i.search({"fox": math.nan}),
        ValueError,
        "weights must be finite",
    ),
    (
        "negative query weight",
        lambda i, t: i.search({"fox": -1.0}),
        ValueError,
        "weights must be finite and >= 0",
    ),
    (
        "threads = 0",
        lambda i, t: i.search_batch(["fox"], threads=0),
        ValueError,
        "threads must be a positive integer",
    ),
    (
        "threads < 0 (tokenize_batch)",
        lambda i, t: thresher.Analyzer().tokenize_batch(["fox"], threads=-1),
        ValueError,
        "threads must be a positive integer or None, got -1",
    ),
    (
        "threads = 0 (impact builder)",
        lambda i, t: thresher.Index.from_vectors([("a", {"x": 1.0})], threads=0),
        ValueError,
        "threads must be a positive integer",
    ),
    (
        "huge thread count",
        lambda i, t: i.search_batch(["dogs", "fox"], threads=2**40),
        ValueError,
        "more than the 1024 threads",
    ),
    (
        "lone surrogate in a query",
        lambda i, t: i.search("dogs \ud800"),
        ValueError,
        "the query is not valid text",
    ),
    (
        "lone surrogate in a query term",
        lambda i, t: i.search({"\ud800": 1.0}),
        ValueError,
        "a query term is not valid text",
    ),
    (
        "query weight that is not a number",
        lambda i, t: i.search({"quick": "1"}),
        TypeError,
        'the weight of query term "quick" must be a number, not str',
    ),
    (
        "fields given as one str",
        lambda i, t: build([{"_id": "a", "text": "cat"}], fields="text"),
        TypeError,
        "fields must be a sequence of field names, not a single str",
    ),
    (
        "no fields",
        lambda i, t: build([{"_id": "a", "text": "cat"}], fields=()),
        ValueError,
        "one or more non-empty field names",
    ),
    (
        "fields given as one str (jsonl)",
        lambda i, t: thresher.Index.from_jsonl(_bad_jsonl(t, b"{}"), fields="text"),
        TypeError,
        "not a single str",
    ),
    ("batch_size = 0", lambda i, t: build(DOCS, batch_size=0), ValueError, "batch_size"),
    (
        "batch_size < 0 (jsonl)",
        lambda i, t: thresher.Index.from_jsonl(_bad_jsonl(t, b"{}"), batch_size=-1),
        ValueError,
        "batch_size must be a positive integer, got -1",
    ),
    (
        "delta for a model without one",
        lambda i, t: build(DOCS, scoring="lucene", delta=0.5),
        ValueError,
        "delta (0.5) applies to bm25l and bm25+ only, not to lucene",
    ),
    (
        "weight that underflows float32",
        lambda i, t: i.reweight(np.array([1.0, 1.0, 1e-50] + [1.0] * (len(i.vocabulary) - 3))),
        ValueError,
        "position 2 is 1e-50; weights must be finite, >= 0 and representable as float32",
    ),
    (
        "reweighting an impact index",
        lambda i, t: thresher.Index.from_vectors([("a", {"x": 1.0, "y": 3.0})]).reweight(
            np.ones(2)
        ),
        ValueError,
        "an impact index holds learned weights already",
    ),
    (
        "repeated term in a query vocabulary",
        lambda i, t: thresher.Index.queries_from_csr(np.array([[1.0, 2.0]]), ["a", "a"]),
        ValueError,
        "the vocabulary repeats the term 'a'",
    ),
    (
        "allow mixing ids and numbers",
        lambda i, t: i.search("dogs", allow=["a", 2]),
        TypeError,
        "allow mixes ids",
    ),
    (
        "allow number beyond int64",
        lambda i, t: i.search("dogs", allow=np.array([2**64 - 1], np.uint64)),
        ValueError,
        "document number 18446744073709551615, out of range",
    ),
    (
        "null id",
        lambda i, t: build([{"_id": None, "text": "cat"}]),
        ValueError,
        "document #0: the id field '_id' is null",
    ),
    (
        "negative max_token_length",
        lambda i, t: thresher.Analyzer(max_token_length=-1),
        ValueError,
        "max_token_length must be a positive integer, got -1",
    ),
    (
        "bool query weight",
        lambda i, t: i.search({"quick": True}),
        TypeError,
        "the weight of query term 'quick' is a bool",
    ),
    (
        "query weight too large for float32",
        lambda i, t: i.search({"quick": 1e300}),
        ValueError,
        "the weight 1e+300 of query term 'quick' is too large for a 32-bit float",
    ),
    (
        "missing index path",
        lambda i, t: thresher.Index.load(t / "missing"),
        FileNotFoundError,
        "missing",
    ),
    (
        "missing corpus path",
        lambda i, t: thresher.Index.from_jsonl(t / "nope.jsonl"),
        FileNotFoundError,
        "nope.jsonl",
    ),
    (
        "missing beir folder",
        lambda i, t: thresher.Index.from_beir(t / "nobeir"),
        FileNotFoundError,
        "nobeir",
    ),
    (
        "file is not an index",
        lambda i, t: thresher.Index.load(_bad_jsonl(t, b"x")),
        OSError,
        "c.jsonl",
    ),
    (
        "unwritable save path",
        lambda i, t: i.save("/sys/thresher-test-index"),
        PermissionError,
        "thresher-test-index",
    ),
    ("corpus is a path", lambda i, t: build("docs.jsonl"), TypeError, "from_jsonl"),
    ("corpus not iterable", lambda i, t: build(42), TypeError, "not iterable"),
    (
        "document of wrong type",
        lambda i, t: build([("a", 42)]),
        TypeError,
        "expected str, bytes or a list of str",
    ),
    ("id of wrong type", lambda i, t: build([(7, "x")]), TypeError, "the id must be a str"),
    ("item of wrong type", lambda i, t: build([42]), TypeError, "expected a (doc_id, text) pair"),
    ("query of wrong type", lambda i, t: i.search(42), TypeError, "a query must be a str"),
    ("queries is a str", lambda i, t: i.search_batch("fox"), TypeError, "not a single str"),
    ("stopwords is a str", lambda i, t: thresher.Analyzer(stopwords="the"), TypeError, ""),
    (
        "progress of wrong type",
        lambda i, t: build(DOCS, progress="yes"),
        TypeError,
        "progress must be",
    ),
]


@pytest.mark.parametrize("name,call,exc,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(idx, tmp_path, name, call, exc, fragment):
    with pytest.raises(exc) as info:
        call(idx, tmp_path)
    assert fragment in str(info.value), f"{name}: {info.value!r}"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_index_is_permission_error(idx, tmp_path):
    idx.save(tmp_path / "i")
    os.chmod(tmp_path / "i" / "meta.json", 0)
    with pytest.raises(PermissionError):
        thresher.Index.load(tmp_path / "i")


def test_empty_and_whitespace_documents_are_indexed_with_length_zero():
    idx = build([("e", ""), ("w", "  \n\t "), ("s", "the and of"), ("x", "fox")])
    assert len(idx) == 4
    assert idx.meta["num_nonempty_docs"] == 1
    assert [d for d, _ in idx.search("fox the", k=10)] == ["x"]


@pytest.mark.parametrize("query", ["", "   ", "the of and", [], {}])
def test_empty_queries_have_no_hits(idx, query):
    assert idx.search(query, k=5) == []
    docs, scores = idx.search_batch([query, "fox"], k=2)
    assert (docs[0] == -1).all() and np.isneginf(scores[0]).all()
    assert docs[1][0] >= 0


def test_k_larger_than_corpus_returns_every_match(idx):
    assert len(idx.search("quick dogs", k=10**6)) == 3
    docs, scores = idx.search_batch(["quick dogs", "fox"], k=10**6)
    assert docs.shape == (2, 3)
    assert (docs[1] >= 0).sum() == 1 and docs[1][1] == -1 and np.isneginf(scores[1][1])


def test_gzip_damage_is_bad_data_naming_the_last_good_line(tmp_path):
    p = tmp_path / "corpus.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"_id": "1", "title": "", "text": "x"}\n' * 1000)[:60])
    with pytest.raises(ValueError, match=r"corpus\.jsonl\.gz: damaged gzip data after line \d+"):
        thresher.Index.from_beir(tmp_path)


def test_huge_k_is_clamped_not_an_overflow(idx):
    assert [h[0] for h in idx.search("quick dogs", k=2**63)] == [
        h[0] for h in idx.search("quick dogs", k=10)
    ]
    ids, _ = idx.search_batch(["quick"], k=2**70)
    assert ids.shape[0] == 1


def test_save_keeps_a_users_meta_json(tmp_path, idx):
    """A directory with a meta.json that is not an index's is not overwritten."""
    d = tmp_path / "mine"
    d.mkdir()
    (d / "meta.json").write_text('{"author": "me"}')
    with pytest.raises(ValueError, match="not a thresher index; refusing to overwrite"):
        idx.save(d)
    assert (d / "meta.json").read_text() == '{"author": "me"}'


def test_an_empty_allow_array_of_any_dtype_allows_nothing(idx):
    assert idx.search("dogs", allow=np.array([])) == []
    assert idx.search("dogs", allow=[]) == []


def test_stopwords_take_any_iterable_and_match_after_lowercasing():
    a = thresher.Analyzer(stopwords={"Cats"}, stemmer="none")
    assert a.tokenize("cats and Dogs") == ["and", "dogs"]
    assert thresher.Analyzer(stopwords=("and",), stemmer="none").tokenize("cats and dogs") == [
        "cats",
        "dogs",
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_meta_json_is_an_error_not_a_hang(tmp_path):
    d = tmp_path / "idx"
    d.mkdir()
    os.mkfifo(d / "meta.json")
    with pytest.raises(thresher.IndexCorruptedError, match="not a regular file"):
        thresher.Index.load(d)


def test_scores_that_could_overflow_float32_are_refused_not_nan():
    """Finite but huge query weights, k1 or impact scales used to give inf/NaN scores and
    rank the best document last; such queries are now a ValueError, and large weights that
    cannot overflow still score exactly."""
    docs = [
        ("a", "the cat sat"),
        ("b", "dogs bark loudly"),
        ("c", "cat and dog cat"),
        ("e", "zebra"),
    ]
    idx = thresher.Index.build(docs)
    for q in ({"zebra": 3e38, "cat": 1.0}, {"zebra": 2e38, "cat": 2e38}):
        with pytest.raises(ValueError, match=r'could overflow float32.*term "zebra"'):
            idx.search(q)
        with pytest.raises(ValueError, match="could overflow float32"):
            idx.search_batch([{"cat": 1.0}, q])
    hits = idx.search({"zebra": 1e30, "cat": 1.0})
    assert hits[0][0] == "e" and all(math.isfinite(s) for _, s in hits)
    rob = thresher.Index.build(docs, scoring="robertson", k1=3e38)
    with pytest.raises(ValueError, match=r"could overflow float32.*under robertson"):
        rob.search("zebra")
    with pytest.raises(ValueError, match="that float32 represents"):
        thresher.Index.from_vectors([("d1", {"cat": 1.7})], scale=1e300)
    imp = thresher.Index.from_vectors([("d1", {"cat": 1.7}), ("d2", {"cat": 0.2, "dog": 2.0})])
    with pytest.raises(ValueError, match=r"could overflow float32.*under impact"):
        imp.search({"cat": 3e38})
    assert [d for d, _ in imp.search({"cat": 1.0, "dog": 1.0})] == ["d2", "d1"]


def test_query_weights_whose_factor_underflows_float32_are_refused():
    """A positive query weight so small that the term's per-posting factor underflows float32
    used to give scores of 0 (impact) or subnormals, silently losing the ranking."""
    imp = thresher.Index.from_vectors([("a", {"cat": 1.0}), ("b", {"cat": 0.2})])
    bm25 = thresher.Index.build([("a", "cat"), ("b", "cat dog"), ("c", "dog")])
    for index, name in ((imp, "impact"), (bm25, "lucene")):
        with pytest.raises(
            ValueError, match=rf'term "cat" has weight .*underflows.*{name}|{name}.*underflows'
        ):
            index.search({"cat": 1e-44})
        with pytest.raises(ValueError, match="too small for float32 scores"):
            index.search_batch([{"cat": 1.0}, {"cat": 1e-44}])
        hits = index.search({"cat": 1e-30})  # small but representable: ranked as usual
        assert [d for d, _ in hits] == ["a", "b"] and hits[0][1] > hits[1][1] > 0
        # A tiny weight on a term the index lacks changes nothing.
        assert [d for d, _ in index.search({"cat": 1.0, "zebra": 1e-44})] == ["a", "b"]


def test_doc_ids_stay_small_and_intact_whatever_the_ids():
    """A fixed-width numpy str array stores every id at the longest one's width (20,000 short
    ids and one 20,000-character id took 1.6 GB) and drops trailing NULs (an id returned by
    search was then unknown to allow=)."""
    idx = thresher.Index.build(
        [(f"d{i}", "cat dog") for i in range(20000)] + [("x" * 20000, "cat")]
    )
    ids = idx.doc_ids
    assert ids.dtype == object and ids[20000] == "x" * 20000 and ids[5] == "d5"
    assert idx.search("cat", k=1, allow=["x" * 20000])[0][0] == "x" * 20000
    nul = thresher.Index.build([("a\x00", "cat"), ("b", "dog")])
    assert nul.doc_ids.tolist() == ["a\x00", "b"]
    assert nul.search("cat", allow=["a\x00"])[0][0] == "a\x00"
    plain = thresher.Index.build([("a", "cat"), ("bb", "dog")]).doc_ids
    assert plain.dtype.kind == "U" and plain.tolist() == ["a", "bb"]


def test_empty_ids_and_weights_that_vanish_in_float32_are_refused(tmp_path):
    """An empty id could not be written to a TREC run (eval failed only after the whole run);
    a positive weight below float32's range became 0 and silently dropped its posting or
    query term (from_csr already refused it)."""
    with pytest.raises(ValueError, match="an empty document id"):
        thresher.Index.build([("a", "cat"), ("", "dog")])
    p = tmp_path / "c.jsonl"
    p.write_text(
        '{"_id": "a", "title": "", "text": "cat"}\n{"_id": "", "title": "", "text": "x"}\n'
    )
    with pytest.raises(ValueError, match="an empty document id"):
        thresher.Index.from_jsonl(p)
    with pytest.raises(ValueError, match="an empty document id"):
        thresher.Index.from_vectors([("", {"cat": 1.0})])
    with pytest.raises(ValueError, match="not representable as a 32-bit float"):
        thresher.Index.from_vectors([("a", {"cat": 1e-300}), ("b", {"cat": 1.0})])
    v = tmp_path / "v.jsonl"
    v.write_text('{"id": "a", "vector": {"cat": 1e-300}}\n')
    with pytest.raises(ValueError, match=r"line 1.*not representable"):
        thresher.Index.from_impact_jsonl(v)
    idx = thresher.Index.build([("a", "cat"), ("b", "dog")])
    with pytest.raises(ValueError, match="rounds to 0 as a 32-bit float"):
        idx.search({"cat": 1e-50})
    assert idx.search({"cat": 1e-30})[0][0] == "a"


def test_messages_name_the_actual_problem(tmp_path):
    """Each input was refused (or worse, accepted) with a message about something else:
    'not list' for a list holding an int, '4294967295' for bits=-1, 'not object' for a huge
    number, an IndexError or 'generator has no len()' from queries_from_csr..."""
    import scipy.sparse as sp

    def err(exc, match, f):
        with pytest.raises(exc, match=match):
            f()

    build = thresher.Index.build
    err(
        TypeError,
        r'document "a": term 1 of its list must be a str, not int',
        lambda: build([("a", ["cat", 5])]),
    )
    err(ValueError, r"term 0 of its list .* lone surrogate", lambda: build([("a", ["\ud800"])]))
    # A document's text or id with a lone surrogate: a bare UnicodeEncodeError before.
    err(
        ValueError,
        r'document "a": its text holds a lone surrogate',
        lambda: build([("a", "cat \ud800")]),
    )
    err(ValueError, r"a document id .* lone surrogate", lambda: build([("x\ud800", "cat")]))
    err(
        ValueError,
        r"a document id .* lone surrogate",
        lambda: thresher.Index.from_vectors([("x\ud800", {"cat": 1.0})]),
    )
    # Bools taken as 1, a str taken as its characters, None and ints taken as terms.
    err(
        TypeError,
        "bits must be an int, not bool",
        lambda: thresher.Index.from_vectors([("d", {"a": 1.0})], bits=True),
    )
    err(
        TypeError,
        "scale must be a number, not bool",
        lambda: thresher.Index.from_vectors([("d", {"a": 1.0})], scale=True),
    )
    err(
        TypeError,
        "max_token_length must be an int, not bool",
        lambda: thresher.Analyzer(max_token_length=True),
    )
    err(
        TypeError,
        "texts must be a sequence of str, not a single str",
        lambda: thresher.Analyzer().tokenize_batch("abc"),
    )
    err(
        TypeError,
        "text 1 must be a str, not int",
        lambda: thresher.Analyzer().tokenize_batch(["a", 5]),
    )
    for term in (None, 5, ""):
        err(
            ValueError,
            "vocabulary terms must be non-empty str",
            lambda term=term: thresher.Index.from_csr(sp.csr_matrix(np.ones((1, 2))), [term, "b"]),
        )
    from thresher.tdv import TrainConfig

    err(ValueError, "max_epochs must be >= 0, got -1", lambda: TrainConfig(max_epochs=-1))
    err(ValueError, "batch_size must be >= 1, got 0", lambda: TrainConfig(batch_size=0))
    # An int weight beyond float64: 'must be a number, not int' before.
    err(
        ValueError,
        r"query term 'cat' \(an int of 1031 bits\) is too large",
        lambda: build([("a", "cat")]).search({"cat": 2**1030}),
    )
    err(
        ValueError,
        r'document "a": the weight of "cat" \(an int of 1031 bits\)',
        lambda: thresher.Index.from_vectors([("a", {"cat": 2**1030})]),
    )
    vec = thresher.Index.from_vectors
    err(TypeError, r"a vector's term must be a str, not int", lambda: vec([("d1", {1: 1.0})]))
    err(ValueError, r"a vector's term .* lone surrogate", lambda: vec([("d1", {"\ud800": 1.0})]))
    err(
        ValueError,
        r"a stop word .* lone surrogate",
        lambda: thresher.Analyzer(stopwords=["\ud800"]),
    )
    err(TypeError, r"a stop word must be a str, not int", lambda: thresher.Analyzer(stopwords=[3]))
    err(
        ValueError,
        r"bits must be an integer in \[1, 16\], got -1",
        lambda: vec([("d", {"a": 1.0})], bits=-1),
    )
    idx = build([("a", "cat"), ("b", "cat"), ("c", "cat")])
    err(
        ValueError,
        r"document number 1180591620717411303424, out of range",
        lambda: idx.search("cat", allow=[2**70]),
    )
    err(TypeError, "mixes bools", lambda: idx.search("cat", allow=[True, 2]))
    mask01 = np.array([0, 1, 1], dtype=np.uint8)  # a mask in an integer dtype, not numbers
    err(TypeError, "pass it as bool", lambda: idx.search("cat", allow=mask01))
    assert [d for d, _ in idx.search("cat", allow=mask01.astype(bool))] == ["b", "c"]
    assert len(idx.search("cat", allow=[0, 1, 2])) == 3
    qfc = thresher.Index.queries_from_csr
    err(ValueError, r"2-D .* got shape \(2,\)", lambda: qfc(sp.csr_array([0.0, 1.0]), ["a", "b"]))
    assert qfc(sp.csr_array([[0.0, 1.0]]), (t for t in "ab")) == [{"b": 1.0}]
    err(ValueError, "non-empty str, got ''", lambda: qfc(sp.csr_array([[1.0, 2.0]]), ["", "b"]))
    fcsr = thresher.Index.from_csr
    err(TypeError, "not a single str", lambda: fcsr(sp.csr_array([[1.0], [2.0]]), ["t"], "xy"))
    ones = lambda v, m: np.ones(len(v))  # noqa: E731
    err(
        ValueError,
        r"delta \(0.5\) does not apply to tdv-bm25",
        lambda: build([("a", "cat")], term_weights=ones, delta=0.5),
    )
    err(
        ValueError,
        r"document #0 \('a'\): field 'text' must be a string, got list",
        lambda: build([{"_id": "a", "title": "t", "text": ["x"]}]),
    )
    err(
        ValueError,
        "more than the 1024 threads",
        lambda: thresher.Analyzer().tokenize_batch(["x"], threads=10**6),
    )
    idx.save(tmp_path / "i")
    assert len(thresher.Index.load(os.fsencode(tmp_path / "i"))) == 3

"""`thresher.data` loaders and writers on the edge cases a user's files have: each bad file is a
ValueError naming the file and line; what is written can be read back."""

from __future__ import annotations

import math

import pytest

import thresher
from thresher import evaluate
from thresher.data import iter_beir_corpus, load_qrels, load_queries, read_trec_run, write_trec_run


def test_qrels_without_header_keep_their_first_judgement(tmp_path):
    # A headerless file whose first grade is not an integer is an error, not a skipped line.
    p = tmp_path / "q.tsv"
    p.write_text("q1\td1\tyes\nq1\td2\t1\n")
    with pytest.raises(ValueError, match=r"q\.tsv line 1: relevance 'yes' is not an integer"):
        load_qrels(p)
    p.write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    assert load_qrels(p) == {"q1": {"d1": 2}}
    p.write_text("q1 0 d1 1\nq1 0 d2 0\n")
    assert load_qrels(p) == {"q1": {"d1": 1, "d2": 0}}


def test_queries_files_name_their_problems(tmp_path):
    tsv = tmp_path / "queries.tsv"
    tsv.write_bytes(b"q1\tcaf\xe9\n")
    with pytest.raises(ValueError, match=r"queries\.tsv line 1: not valid UTF-8"):
        load_queries(tsv)
    tsv.write_text("q1\tfirst\nq1\tsecond\n")
    with pytest.raises(ValueError, match=r"line 2: query id 'q1' appears twice"):
        load_queries(tsv)
    tsv.write_text("q1\ttext\textra\n")
    with pytest.raises(ValueError, match="expected 'id<TAB>text', got 3 fields"):
        load_queries(tsv)
    tsv.write_text("q1\tcats\r\nq2\tdogs\r\n")
    assert load_queries(tsv) == {"q1": "cats", "q2": "dogs"}
    jl = tmp_path / "queries.jsonl"
    jl.write_text('{"_id": "q1", "text": "a"}\n{"_id": "q1", "text": "b"}\n')
    with pytest.raises(ValueError, match="line 2: query id 'q1' appears twice"):
        load_queries(jl)


def test_runs_round_trip_in_both_shapes_and_refuse_unreadable_output(tmp_path):
    p = tmp_path / "run.trec"
    write_trec_run({"q1": [("d1", 2.5), ("d2", 1.0)]}, p)
    run = read_trec_run(p)
    assert run == {"q1": {"d1": 2.5, "d2": 1.0}}
    # The dict shape read_trec_run returns is written back ranked by score.
    write_trec_run({"q1": {"d2": 1.0, "d1": 2.5, "d0": 1.0}}, p)
    assert [line.split()[2] for line in p.read_text().splitlines()] == ["d1", "d0", "d2"]
    for bad, match in [
        ({"q 1": [("d1", 1.0)]}, "query id 'q 1'"),
        ({"q1": [("d 1", 1.0)]}, "document id 'd 1'"),
        ({"q1": [("d1", math.nan)]}, "score nan is not finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            write_trec_run(bad, p)
    with pytest.raises(ValueError, match="the tag"):
        write_trec_run({"q1": [("d1", 1.0)]}, p, tag="my run")
    # The failed writes left the last good file.
    assert read_trec_run(p)["q1"]["d1"] == 2.5
    p.write_text("q1 Q0 d1 1 abc run\n")
    with pytest.raises(ValueError, match=r"run\.trec line 1: score 'abc' is not a number"):
        read_trec_run(p)
    p.write_text("q1 Q0 d1 1 nan run\n")
    with pytest.raises(ValueError, match="is not finite"):
        read_trec_run(p)


def test_evaluate_takes_one_measure_as_a_str():
    run = {"q1": {"d1": 2.0, "d2": 1.0}}
    qrels = {"q1": {"d1": 1}}
    assert evaluate(run, qrels, measures="nDCG@10") == evaluate(run, qrels, measures=["nDCG@10"])


def test_evaluate_refuses_unknown_measures_and_non_finite_scores():
    """An unknown measure raised ir-measures' NameError; a NaN score was ranked arbitrarily
    (read_trec_run and write_trec_run refuse it)."""
    qrels = {"q1": {"d1": 1}}
    with pytest.raises(ValueError, match="unknown measure 'zz'"):
        evaluate({"q1": {"d1": 1.0}}, qrels, measures=["nDCG@10", "zz"])
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match=r"score of document 'd2' for query 'q1' is"):
            evaluate({"q1": {"d1": 1.0, "d2": bad}}, qrels)


def test_beir_corpus_reader_checks_fields_as_the_rust_reader_does(tmp_path):
    """`iter_beir_corpus` and `Index.from_jsonl` refuse the same files: a later record with
    none of the fields is an error naming it, not an empty document."""
    p = tmp_path / "corpus.jsonl"
    p.write_text('{"_id": "1", "title": "", "text": "ok"}\n{"_id": "2", "body": "x"}\n')
    with pytest.raises(
        ValueError, match=r"document '2' has none of the fields title, text \(it has _id, body\)"
    ):
        list(iter_beir_corpus(tmp_path))
    with pytest.raises(ValueError, match="has none of the fields"):
        thresher.Index.from_jsonl(p)
    p.write_text('{"_id": "1", "title": "t", "text": "ok"}\n{"_id": "2", "text": "x"}\n')
    assert list(iter_beir_corpus(tmp_path)) == [("1", "t ok"), ("2", " x")]
    with pytest.raises(ValueError, match="one or more non-empty field names"):
        list(iter_beir_corpus(tmp_path, fields=()))
    with pytest.raises(TypeError, match="not a single str"):
        list(iter_beir_corpus(tmp_path, fields="text"))  # type: ignore[arg-type]


def test_python_readers_refuse_what_the_rust_reader_refuses(tmp_path):
    """The Python JSONL reader (trainers, `expand`, queries) and the Rust one (`thresher index`)
    agree: gzip is told by its bytes, and damaged gzip, bad UTF-8, non-string fields and
    ids are errors naming the file and line, never tracebacks or stringified values."""
    import gzip

    good = (
        b'{"_id": "1", "title": "t", "text": "cats"}\n{"_id": 2, "title": null, "text": "dogs"}\n'
    )
    p = tmp_path / "corpus.jsonl"
    # gzip data under a plain name: both read it.
    p.write_bytes(gzip.compress(good))
    assert list(iter_beir_corpus(p)) == [("1", "t cats"), ("2", " dogs")]
    assert thresher.Index.from_jsonl(p).doc_ids.tolist() == ["1", "2"]
    cases = [
        (gzip.compress(good * 50)[:60], r"damaged gzip data after line \d+"),
        (good + b'{"_id": "3", "title": "caf\xe9", "text": "x"}\n', "line 3: not valid UTF-8"),
        (good + b'{"_id": "3", "title": ["a"], "text": "x"}\n', "line 3: field 'title' must be"),
        (good + b'{"_id": "3", "title": "a", "text": true}\n', "line 3: field 'text' must be"),
        (good + b'{"_id": ["3"], "title": "a", "text": "x"}\n', "line 3: the id"),
        (good + b'{"_id": true, "title": "a", "text": "x"}\n', "line 3: the id"),
    ]
    for data, match in cases:
        p.write_bytes(data)
        with pytest.raises(ValueError, match=match):
            list(iter_beir_corpus(p))
        with pytest.raises(ValueError):
            thresher.Index.from_jsonl(p)


def test_queries_need_a_text_field(tmp_path):
    jl = tmp_path / "queries.jsonl"
    jl.write_text('{"_id": "q1", "text": "a"}\n{"_id": "q2", "query": "b"}\n')
    with pytest.raises(
        ValueError, match=r"line 2: no query text \(looked for text, contents, title; it has"
    ):
        load_queries(jl)
    jl.write_text('{"_id": "q1", "text": 5}\n')
    with pytest.raises(ValueError, match="line 1: field 'text' must be a string"):
        load_queries(jl)
    jl.write_text('{"_id": "q1", "text": null}\n{"_id": 7, "contents": "b"}\n')
    assert load_queries(jl) == {"q1": "", "7": "b"}


def test_a_pair_twice_in_qrels_or_a_run_is_an_error(tmp_path):
    """trec_eval refuses a document twice in one ranking; keeping either line silently
    changes ranks (or grades), so both readers refuse, naming both lines."""
    q = tmp_path / "qrels.tsv"
    q.write_text("q1 0 d1 2\nq1 0 d2 1\nq1 0 d1 0\n")
    with pytest.raises(
        ValueError, match=r"line 3: query 'q1', document 'd1' is judged twice \(first on line 1\)"
    ):
        load_qrels(q)
    q.write_text("q1 0 d1 2\nq2 0 d1 0\n")
    assert load_qrels(q) == {"q1": {"d1": 2}, "q2": {"d1": 0}}
    r = tmp_path / "run.trec"
    r.write_text("q1 Q0 d1 1 10 t\nq1 Q0 d2 2 5 t\nq1 Q0 d1 3 1 t\n")
    with pytest.raises(
        ValueError, match=r"line 3: document 'd1' appears twice for query 'q1' \(first on line 1\)"
    ):
        read_trec_run(r)
    r.write_text("q1 Q0 d1 1 10 t\nq2 Q0 d1 1 5 t\n")
    assert read_trec_run(r) == {"q1": {"d1": 10.0}, "q2": {"d1": 5.0}}


def test_rr_at_k_breaks_ties_as_trec_eval_like_the_other_measures():
    """ir-measures computes RR@k with its msmarco provider, which ordered tied documents the
    other way from trec_eval (nDCG@10 in the same table); RR@k now follows trec_eval."""
    qrels = {"q1": {"a": 1, "b": 0}, "q2": {"z": 1}}
    run = {"q1": {"a": 1.0, "b": 1.0, "c": 1.0}, "q2": {"y": 2.0, "z": 2.0, "x": 3.0}}
    r = evaluate(run, qrels, ["nDCG@10", "RR", "RR@10", "RR@2", "RR@1"])
    # trec_eval: score descending, ties by id descending -> q1: c, b, a; q2: x, z, y.
    assert r["RR"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert r["RR@10"] == r["RR"]
    assert r["RR@2"] == pytest.approx((0 + 1 / 2) / 2)
    assert r["RR@1"] == 0.0
    assert r["nDCG@10"] == pytest.approx((0.5 + 1 / math.log2(3)) / 2)
    assert evaluate({"q1": {}}, qrels, "RR@10")["RR@10"] == 0.0

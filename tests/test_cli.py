"""The ``thresher`` command line: index, search, eval, and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import thresher

EXE = [sys.executable, "-m", "thresher.cli"]


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=300)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def test_console_script_is_installed():
    assert shutil.which("thresher") or (Path(sys.executable).parent / "thresher").exists()


def test_index_search_eval(cranfield_dir: Path, tmp_path: Path):
    out = tmp_path / "cran.idx"
    r = run("index", str(cranfield_dir), "-o", str(out), "-q")
    assert "indexed 1,400 documents" in r.stdout
    r = run("search", str(out), "boundary layer flow", "-k", "3", "--json")
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    trec = tmp_path / "run.trec"
    r = run("eval", str(out), str(cranfield_dir), "--run", str(trec), "--json")
    m = json.loads(r.stdout)
    assert set(m) >= {"nDCG@10", "R@100", "R@1000", "MRR@10", "qps"}
    assert trec.read_text().count("\n") > 1000
    r = run("eval", str(out), str(cranfield_dir), "-k", "100")
    assert "| nDCG@10 |" in r.stdout and "| R@100 |" in r.stdout and "queries/s" in r.stdout
    # R@1000 of a 100-deep run would be R@100 under another name: left out, and said so.
    assert "R@1000" not in r.stdout and "R@1000 left out" in r.stderr
    m = json.loads(run("eval", str(out), str(cranfield_dir), "-k", "5", "--json").stdout)
    assert m["nDCG@10"] is None and m["R@100"] is None and m["MRR@10"] is None
    # ... and the same measures at cut-off 5 instead, as an ir-measures run of the same depth.
    assert 0 < m["nDCG@5"] <= 1 and 0 < m["R@5"] <= 1 and 0 < m["MRR@5"] <= 1
    r = run("eval", str(out), str(cranfield_dir), "-k", "5")
    assert "| nDCG@5 |" in r.stdout and "| MRR@5 |" in r.stdout and "nDCG@10" in r.stderr


def test_eval_reports_and_can_keep_self_hits(cranfield_dir: Path, tmp_path: Path):
    """BEIR's convention drops a hit whose document id is the query id. Cranfield's query ids
    (1..225) and document ids (1..1400) are unrelated, so it drops real hits, one of them
    relevant (query 225, document 225): eval says so, and --keep-self-hits scores the raw run
    exactly as `thresher.evaluate` does."""
    out = tmp_path / "cran.idx"
    run("index", str(cranfield_dir), "-o", str(out), "-q")
    r = run("eval", str(out), str(cranfield_dir), "--json")
    beir = json.loads(r.stdout)
    assert beir["self_hits_dropped"] > 100 and beir["relevant_self_hits_dropped"] == 1
    r = run("eval", str(out), str(cranfield_dir))
    assert "dropped" in r.stderr and "1 of them judged relevant" in r.stderr
    trec = tmp_path / "run.trec"
    r = run("eval", str(out), str(cranfield_dir), "--keep-self-hits", "--json", "--run", str(trec))
    kept = json.loads(r.stdout)
    assert kept["self_hits_dropped"] == 0 and kept["relevant_self_hits_dropped"] == 0
    qrels = thresher.load_qrels(cranfield_dir)
    raw = thresher.evaluate(thresher.read_trec_run(trec), qrels)
    assert kept["nDCG@10"] == pytest.approx(raw["nDCG@10"], abs=1e-12)
    assert kept["R@1000"] == pytest.approx(raw["R@1000"], abs=1e-12)
    assert kept["R@1000"] > beir["R@1000"]


def test_eval_names_judged_documents_the_index_lacks(cranfield_dir: Path, tmp_path: Path):
    out = tmp_path / "cran.idx"
    run("index", str(cranfield_dir), "-o", str(out), "-q")
    data = tmp_path / "beir"
    (data / "qrels").mkdir(parents=True)
    shutil.copy(cranfield_dir / "queries.jsonl", data / "queries.jsonl")
    qrels = (cranfield_dir / "qrels" / "test.tsv").read_text()
    (data / "qrels" / "test.tsv").write_text(qrels + "1\tnot-a-doc\t2\n")
    r = run("eval", str(out), str(data), "--json")
    assert json.loads(r.stdout)["relevant_docs_not_in_index"] == 1
    r = run("eval", str(out), str(data))
    assert "1 relevant document(s) that the index does not hold (e.g. 'not-a-doc')" in r.stderr


@pytest.mark.parametrize("cmd", [[], ["index"], ["search"], ["eval"]])
def test_help_everywhere(cmd):
    r = run(*cmd, "--help")
    assert "usage:" in r.stdout


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["search", "/nonexistent/idx", "q"], "no such"),
        (["index", "/nonexistent/corpus.jsonl", "-o", "/tmp/x"], "no such"),
        (["index", "CRAN", "-o", "OUT", "--k1", "nan"], "k1 must be a finite number"),
        (["index", "CRAN", "-o", "OUT", "--fields", "body"], 'unknown field "body"'),
        (["eval", "OUT0", "CRAN", "--split", "train"], "no qrels for split 'train'"),
        (["search", "OUT0", "q", "-k", "0"], "k must be a positive integer"),
        (["index", "CRAN", "-o", "OUT", "--bits", "4"], "--bits applies to impact indexes"),
        (["index", "CRAN", "-o", "OUT", "--scale", "1"], "--scale applies to --impacts"),
        (["index", "CRAN", "-o", "OUT", "--delta", "0.5"], "applies to bm25l and bm25+ only"),
        (
            ["index", "CRAN", "-o", "OUT", "--expansion", "exp.npz", "--k1", "3"],
            "--k1: --expansion indexes use the model's own scoring",
        ),
        (
            ["index", "CRAN", "-o", "OUT", "--tdv", "tdv.npz", "--scoring", "bm25l"],
            "--scoring: --tdv indexes use the model's own scoring",
        ),
        (
            ["train-tdv", "CRAN", "--split", "test", "-o", "OUT.npz", "--fields", "nosuch"],
            'unknown field "nosuch"',
        ),
        (
            ["train-tdv", "CRAN", "--split", "test", "-o", "OUT.npz", "--scoring", "bm25l"],
            "train-tdv trains for BM25",
        ),
        (
            ["train-tdv", "CRAN", "--split", "test", "-o", "/nonexistent/dir/m.npz"],
            "/nonexistent/dir: no such directory",
        ),
        (
            ["train-expansion", "CRAN", "--split", "test", "-o", "/nonexistent/dir/m.npz"],
            "/nonexistent/dir: no such directory",
        ),
        (["train-tdv", "CRAN", "--split", "test", "-o", "CRAN"], "is a directory"),
        # A directory where no file can be made although os.access says yes (root): refused
        # before training, naming the directory (it trained, then named a temporary file).
        (
            ["train-tdv", "CRAN", "--split", "test", "-o", "/proc/m.npz"],
            "/proc: cannot create a file there",
        ),
        (
            ["expand", "CRAN", "--expansion", "exp.npz", "-o", "/proc/x.jsonl"],
            "/proc: cannot create a file there",
        ),
        (
            ["eval", "OUT0", "CRAN", "--run", "/nonexistent/dir/run.trec"],
            "/nonexistent/dir: no such directory",
        ),
    ],
)
def test_errors_are_one_line(cranfield_dir, tmp_path, args, fragment):
    if any(a == "OUT0" for a in args):
        run("index", str(cranfield_dir), "-o", str(tmp_path / "i0"), "-q")
    args = [
        {
            "CRAN": str(cranfield_dir),
            "OUT": str(tmp_path / "i"),
            "OUT0": str(tmp_path / "i0"),
            "OUT.npz": str(tmp_path / "m.npz"),
        }.get(a, a)
        for a in args
    ]
    r = run(*args, ok=False)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("thresher: error:"), r.stderr
    assert fragment.lower() in lines[0].lower()


def test_usage_error_exit_code():
    r = run("index", ok=False)
    assert r.returncode == 2


def _tiny_beir(scifact_dir: Path, out: Path, n_queries: int = 60) -> Path:
    """A small BEIR folder cut from SciFact: the judged documents of some training queries
    plus other documents, with their queries and train qrels."""
    import gzip

    qrels_lines = (scifact_dir / "qrels" / "train.tsv").read_text().splitlines()
    header, rows = qrels_lines[0], [r.split("\t") for r in qrels_lines[1:]]
    qids = list(dict.fromkeys(r[0] for r in rows))[:n_queries]
    keep_docs = {r[1] for r in rows if r[0] in qids}
    docs = []
    with gzip.open(scifact_dir / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            d = json.loads(line)
            if d["_id"] in keep_docs or i < 400:
                docs.append(line)
    (out / "qrels").mkdir(parents=True)
    (out / "corpus.jsonl").write_text("".join(docs))
    (out / "qrels" / "train.tsv").write_text(
        "\n".join([header] + ["\t".join(r) for r in rows if r[0] in qids]) + "\n"
    )
    queries = [
        line
        for line in (scifact_dir / "queries.jsonl").read_text().splitlines()
        if json.loads(line)["_id"] in qids
    ]
    (out / "queries.jsonl").write_text("\n".join(queries) + "\n")
    return out


@pytest.mark.slow
def test_learned_model_commands(scifact_dir: Path, tmp_path: Path):
    data = _tiny_beir(scifact_dir, tmp_path / "tiny")
    tdv = tmp_path / "tdv.npz"
    r = run("train-tdv", str(data), "-o", str(tdv), "--epochs", "3", "-q")
    assert "trained TDVs" in r.stdout and tdv.stat().st_size > 0
    import thresher
    from thresher.tdv import TDVModel

    assert TDVModel.load(tdv).meta["analyzer"] == thresher.Analyzer().config_json()
    # The pruning threshold is tried on dev by default; a negative tolerance turns it off.
    assert TDVModel.load(tdv).meta["prune_sweep"]
    off = tmp_path / "tdv-off.npz"
    run("train-tdv", str(data), "-o", str(off), "--epochs", "3", "-q", "--prune-tolerance", "-1")
    m = TDVModel.load(off)
    assert m.min_tdv == 0.0 and m.meta["prune_sweep"] == []
    exp = tmp_path / "exp.npz"
    r = run("train-expansion", str(data), "-o", str(exp), "-q")
    assert exp.stat().st_size > 0
    out = tmp_path / "docs.jsonl.gz"
    r = run("expand", str(data), "--expansion", str(exp), "-o", str(out))
    assert "expanded" in r.stdout
    import gzip

    with gzip.open(out, "rt") as f:
        first = json.loads(f.readline())
    assert set(first) >= {"id", "vector"} and all(
        isinstance(v, int) for v in first["vector"].values()
    )
    # Impact indexes: from the exported integers (scale 1: the same integers), and straight
    # from the model; search and eval read them like any index.
    imp = tmp_path / "imp.idx"
    r = run("index", "--impacts", str(out), "-o", str(imp), "-q")
    assert "indexed" in r.stdout
    direct = tmp_path / "direct.idx"
    run("index", str(data), "--expansion", str(exp), "-o", str(direct), "-q")
    metas = [json.loads((p / "meta.json").read_text()) for p in (imp, direct)]
    assert [m["scoring"]["kind"] for m in metas] == ["impact", "impact"]
    assert metas[0]["scoring"]["impact"] == {"bits": 8, "scale": 1.0}
    assert metas[0]["num_docs"] == metas[1]["num_docs"]
    hits = [
        json.loads(run("search", str(p), "cancer risk", "--json").stdout) for p in (imp, direct)
    ]
    assert [h["id"] for h in hits[0]] == [h["id"] for h in hits[1]]
    m = json.loads(run("eval", str(direct), str(data), "--split", "train", "--json").stdout)
    assert 0 < m["nDCG@10"] <= 1
    r = run("index", str(data), "--impacts", str(out), "-o", str(tmp_path / "x"), ok=False)
    assert r.returncode == 1 and "either a corpus" in r.stderr


def _beir(root: Path, qrels: str) -> Path:
    """A three-document BEIR folder whose train qrels are ``qrels`` (TSV rows)."""
    root.mkdir()
    docs = [("d1", "boundary layer flow"), ("d2", "heat transfer in gases"), ("d3", "wing lift")]
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in docs)
    )
    (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "layer flow"}) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    return root


@pytest.mark.parametrize(
    ("qrels", "message"),
    [
        ("q1\tnosuchdoc\t1\n", "document id(s) absent from the corpus"),
        ("nosuchquery\td1\t1\n", "judged queries have no text (first: 'nosuchquery')"),
        ("q1\td1\t0\n", "no training pairs"),
    ],
)
def test_train_tdv_bad_qrels_fail_with_one_line(tmp_path: Path, qrels: str, message: str):
    data = _beir(tmp_path / "beir", qrels)
    r = run("train-tdv", str(data), "-o", str(tmp_path / "m.npz"), "-q", ok=False)
    assert r.returncode == 1 and r.stderr.startswith("thresher: error:"), r.stderr
    assert message in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_index_with_a_bad_tdv_model_fails_with_one_line(tmp_path: Path):
    data = _beir(tmp_path / "beir", "q1\td1\t1\n")
    not_a_model = tmp_path / "model.npz"
    not_a_model.write_text("not a model")
    for model, message in ((tmp_path / "missing.npz", "missing.npz"), (not_a_model, "not a")):
        r = run("index", str(data), "-o", str(tmp_path / "x.idx"), "--tdv", str(model), ok=False)
        assert r.returncode == 1 and r.stderr.startswith("thresher: error:"), r.stderr
        assert message in r.stderr and r.stderr.count("\n") == 1

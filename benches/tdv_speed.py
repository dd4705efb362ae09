"""Speed of a TDV index against plain BM25 on a larger collection (transfer setting).

A TDV model is a function of term features, so a model trained on one collection's train
split can index another collection. This script trains (or loads) such a model, indexes
``--corpus`` twice with thresher (plain BM25 ``lucene`` scoring, and the same index
re-weighted with the model's TDVs, ``tdv-bm25``), and measures single-thread QPS of both on
the corpus's queries, alternating the two indexes in every pass (process CPU time of
``search_batch(threads=1)``, query analysis included; best and median of ``--reps``).
Effectiveness is not measured here (the large real-prose corpus has no qrels): see
``benches/tdv_report.py`` for effectiveness on the collections with judgements.

Usage (repository root, after ``make install``)::

    .venv/bin/python benches/tdv_speed.py --corpus /path/to/realprose \\
        [--train ../shared/data/scifact] [--model tdv.npz] [--out benches/results/tdv_speed.md]

``--corpus`` is a BEIR-style folder (``corpus.jsonl[.gz]`` and ``queries.jsonl``), e.g. the
real-prose corpus made by ``../shared/tools/make_scale_corpus.sh``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from thresher import Index
from thresher.tdv import TDVModel

REPO = Path(__file__).resolve().parent.parent


def _queries(folder: Path, limit: int) -> list[str]:
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    return texts[:limit]


def _bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="BEIR-style folder to index and query")
    ap.add_argument("--train", default=str(REPO.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--model", default=None, help="TDV model (.npz); trained when missing")
    ap.add_argument("--max-queries", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", default=str(REPO / "benches" / "out" / "tdv_speed"))
    ap.add_argument("--out", default=None, help="write the markdown table here too")
    a = ap.parse_args()

    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    model_path = Path(a.model) if a.model else work / "tdv.npz"
    train_s = None
    if not model_path.exists():
        cmd = [sys.executable, "-m", "thresher.cli", "train-tdv", a.train, "--split", "train"]
        t = time.perf_counter()
        subprocess.run([*cmd, "-o", str(model_path), "-q"], check=True)
        train_s = time.perf_counter() - t
    model = TDVModel.load(model_path)

    corpus = Path(a.corpus)
    t = time.perf_counter()
    bm25 = Index.from_beir(corpus)
    build_s = time.perf_counter() - t
    dtm = bm25.doc_term_matrix()
    t = time.perf_counter()
    weights = model.term_weights(bm25.vocabulary, dtm)
    tdv = bm25.reweight(weights)
    reweight_s = time.perf_counter() - t
    df = np.diff(dtm.tocsc().indptr)
    kept = weights > 0
    sizes = {}
    for name, ix in (("bm25", bm25), ("tdv", tdv)):
        ix.save(work / f"{name}.idx")
        sizes[name] = _bytes(work / f"{name}.idx")

    texts = _queries(corpus, a.max_queries)
    rows = []
    for k in (10, 1000):
        times: dict[str, list[float]] = {"bm25": [], "tdv": []}
        for ix in (bm25, tdv):  # warm-up
            ix.search_batch(texts, k=k, threads=1)
        for _ in range(a.reps):
            for name, ix in (("bm25", bm25), ("tdv", tdv)):
                t = time.process_time()
                ix.search_batch(texts, k=k, threads=1)
                times[name].append(time.process_time() - t)
        best = {n: len(texts) / min(v) for n, v in times.items()}
        med = {n: len(texts) / statistics.median(v) for n, v in times.items()}
        rows.append((k, best, med))

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"### TDV speed at scale: {corpus.name} ({len(bm25):,} docs, {len(texts)} queries)",
        "",
        f"{now}; `python benches/tdv_speed.py {' '.join(sys.argv[1:])}`; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
        f"load average {load}. Model: `{model_path.name}` trained on `{Path(a.train).name}` "
        f"train split"
        + (f" ({train_s:.1f} s)" if train_s is not None else " (loaded)")
        + f"; BM25 build {build_s:.1f} s, re-weighting {reweight_s:.1f} s.",
        "",
        f"Vocabulary kept {kept.mean():.1%}, postings kept {df[kept].sum() / df.sum():.1%}; "
        f"bytes on disk BM25 {sizes['bm25']:,}, TDV {sizes['tdv']:,} "
        f"({sizes['tdv'] / sizes['bm25']:.0%}).",
        "",
        "| k | BM25 QPS best (median) | TDV QPS best (median) | TDV/BM25 best (median) |",
        "|---|---:|---:|---:|",
    ]
    for k, best, med in rows:
        lines.append(
            f"| {k} | {best['bm25']:,.0f} ({med['bm25']:,.0f}) | {best['tdv']:,.0f} "
            f"({med['tdv']:,.0f}) | {best['tdv'] / best['bm25']:.2f}x "
            f"({med['tdv'] / med['bm25']:.2f}x) |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

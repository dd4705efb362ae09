"""Effectiveness and size report of SparTerm-style document expansion (``thresher.expand``).

What is measured: on SciFact (train on ``qrels/train.tsv`` with a held-out dev part, test on
``qrels/test.tsv``) and Cranfield (5-fold cross-validation over queries: each fold's queries
are tested with a model trained on the other four, and the five test runs are evaluated
together), nDCG@10, R@100, R@1000 and RR@10 of

* BM25 from thresher's Lucene-exact Rust index (the baseline),
* BM25 impacts scored by scipy (sanity check: must equal the baseline),
* ungated PPMI expansion with the untrained ``T0`` (no training signal; the top ``M`` terms
  by score with the ``M`` the trained model chose, not held to the postings budget),
* the trained model with the gate closed (literal terms only, re-weighted by ``T``),
* the trained model (expansion), in float and quantised to 8-bit integers,

plus postings (non-zeros), expansion terms per document, bytes at 8 bits, training time and
the hyper-parameters chosen on the dev queries. On SciFact the 8-bit vectors are also served
by thresher's Rust impact index (``ExpandedDocs.to_index``), whose bytes on disk and
single-thread QPS are reported beside the BM25 index's, measured in the same run. Scoring is the exact sparse dot product
(scipy). Nothing here is hard-coded: every figure comes from the run.

How to run (from the repository root, after ``make install``)::

    .venv/bin/python benches/expand_report.py                  # both collections, ~5 min
    .venv/bin/python benches/expand_report.py --seeds 0 1 2    # + spread over seeds, ~15 min
    .venv/bin/python benches/expand_report.py --collections cranfield --folds 5
    .venv/bin/python benches/expand_report.py --output expand_report.md
    .venv/bin/python benches/expand_report.py --config '{"epochs": 12, "cds": 1.0}'
"""

# Matrix names follow the maths.
# ruff: noqa: N803

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import thresher
from thresher.expand import ExpansionConfig, ExpansionModel
from thresher.expand.cooc import ppmi_topm
from thresher.expand.data import Collection, load_collection
from thresher.expand.export import dequantize, quantize, write_jsonl
from thresher.expand.retrieval import search, to_run
from thresher.expand.vocab import Vocabulary, bag_matrix

MEASURES = ("nDCG@10", "R@100", "R@1000", "RR@10")
REPO = Path(__file__).resolve().parent.parent


def judged(qrels: dict[str, dict[str, int]]) -> list[str]:
    return sorted(q for q, d in qrels.items() if any(g > 0 for g in d.values()))


def bm25_run(index: thresher.Index, col: Collection, qids: list[str]) -> dict:
    docs, scores = index.search_batch([col.queries[q] for q in qids], k=1000)
    ids = index.doc_ids
    return {
        q: {str(ids[d]): float(s) for d, s in zip(dr, sr) if d >= 0}
        for q, dr, sr in zip(qids, docs, scores)
    }


def matrix_run(W, vocab: list[str], col: Collection, qids: list[str]) -> dict:
    Q = bag_matrix([col.queries[q] for q in qids], Vocabulary(vocab), what="query")
    d, s = search(W, Q, 1000)
    return to_run(qids, col.doc_ids, d, s)


def fit_and_runs(
    col: Collection,
    train: dict,
    test_q: list[str],
    config: ExpansionConfig,
    log,
) -> tuple[dict[str, dict], dict]:
    """Trains on ``train`` and returns the runs of every system on ``test_q`` plus stats."""
    t0 = time.perf_counter()
    model = ExpansionModel.fit(col.docs, col.queries, train, col.doc_ids, config=config, log=log)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    ex = model.expand(col.docs)
    expand_seconds = time.perf_counter() - t1
    closed = model.expand(col.docs, max_expansion=0)
    # Untrained reference: T0 (PPMI, the chosen alpha), no gate, top-M by score.
    alpha = model.info["alpha"]
    X = bag_matrix(col.docs, model.vocab)
    P, _ = ppmi_topm(X, config.m, min_df=config.min_df, min_count=config.min_count, cds=config.cds)
    rs = np.asarray(P.sum(axis=1)).ravel()
    rs[rs == 0] = 1.0
    T0 = sp.csr_matrix(sp.diags(alpha / rs) @ P, dtype=np.float32)
    untrained = ExpansionModel(model.vocab, T0, P, None, model.qfreq, model.config)
    ppmi = untrained.expand(col.docs)
    Wq, scale = quantize(ex.matrix, 8)
    runs = {
        "ppmi": matrix_run(ppmi.matrix, ppmi.vocab, col, test_q),
        "closed": matrix_run(closed.matrix, closed.vocab, col, test_q),
        "expanded": matrix_run(ex.matrix, ex.vocab, col, test_q),
        "expanded-8bit": matrix_run(dequantize(Wq, scale), ex.vocab, col, test_q),
    }
    stats = {
        "seconds": seconds,
        "expand_seconds": expand_seconds,
        "postings": {
            "ppmi": ppmi.matrix.nnz,
            "closed": closed.matrix.nnz,
            "expanded": ex.matrix.nnz,
            "expanded-8bit": Wq.nnz,
        },
        "exp_per_doc": {
            "ppmi": float(ppmi.num_expansion.mean()),
            "closed": 0.0,
            "expanded": float(ex.num_expansion.mean()),
            "expanded-8bit": float(ex.num_expansion.mean()),
        },
        "chosen": {
            "alpha": alpha,
            "tau": model.config.tau,
            "max_expansion": model.config.max_expansion,
        },
        "dev_curve": model.info.get("dev_curve", []),
        "T_nnz": int(model.T.nnz),
        "model": model,
        "expanded": ex,
    }
    return runs, stats


def engine_figures(indexes: dict[str, thresher.Index], queries: list, reps: int = 5) -> dict:
    """Bytes on disk and single-thread QPS (``search_batch(threads=1)``, median of ``reps``
    passes after a warm-up pass) of Rust indexes on the same queries, in one run."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, index in indexes.items():
            d = Path(tmp) / name
            index.save(d)
            size = sum(f.stat().st_size for f in d.iterdir())
            qps = {}
            for k in (10, 1000):
                index.search_batch(queries, k=k, threads=1)
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    index.search_batch(queries, k=k, threads=1)
                    times.append(time.perf_counter() - t0)
                qps[k] = len(queries) / float(np.median(times))
            out[name] = {"bytes": size, "qps": qps}
    return out


def fmt_row(name: str, r: dict, base: dict | None, extra: list[str]) -> str:
    cells = []
    for m in MEASURES:
        c = f"{r[m]:.4f}"
        if base is not None:
            c += f" ({r[m] - base[m]:+.4f})"
        cells.append(c)
    return "| " + " | ".join([name, *cells, *extra]) + " |"


def report_collection(
    runs: dict, qrels: dict, stats: dict, bm25_postings: int
) -> tuple[list[str], dict]:
    """The results table and target check, and a summary for the multi-seed section."""
    ev = {k: thresher.evaluate(v, qrels, MEASURES) for k, v in runs.items()}
    base = ev["bm25"]
    lines = [
        "| system | " + " | ".join(MEASURES) + " | postings | x BM25 | exp. terms/doc |",
        "|---" * (len(MEASURES) + 4) + "|",
    ]
    labels = {
        "bm25": "BM25 (thresher Index, Rust)",
        "bm25-scipy": "BM25 impacts (scipy dot product)",
        "ppmi": "untrained PPMI T0, no gate, top-M by score (same M, no budget)",
        "closed": "trained, gate closed (literal re-weighting)",
        "expanded": "trained expansion (float)",
        "expanded-8bit": "trained expansion (8-bit)",
        "expanded-rust": "trained expansion (8-bit, Rust impact index)",
    }
    for k, label in labels.items():
        if k not in ev:
            continue
        post = stats["postings"].get(k, bm25_postings)
        epd = stats["exp_per_doc"].get(k, 0.0)
        extra = [f"{post:,}", f"{post / bm25_postings:.2f}", f"{epd:.1f}"]
        lines.append(fmt_row(label, ev[k], None if k == "bm25" else base, extra))
    e = ev["expanded"]
    lines += [
        "",
        "Targets (issue 5): "
        f"R@1000 {e['R@1000']:.4f} vs BM25 + 0.03 = {base['R@1000'] + 0.03:.4f} "
        f"({'met' if e['R@1000'] >= base['R@1000'] + 0.03 else 'not met'}"
        + (", above 1.0: impossible" if base["R@1000"] + 0.03 > 1.0 else "")
        + "); "
        f"nDCG@10 {e['nDCG@10']:.4f} vs BM25 + 0.02 = {base['nDCG@10'] + 0.02:.4f} "
        f"({'met' if e['nDCG@10'] >= base['nDCG@10'] + 0.02 else 'not met'}); "
        f"size {stats['postings']['expanded'] / bm25_postings:.2f}x BM25 postings "
        f"({'met' if stats['postings']['expanded'] <= 2 * bm25_postings else 'not met'}, <= 2x).",
    ]
    summary = {k: ev[k] for k in ("bm25", "closed", "expanded")}
    summary["size"] = stats["postings"]["expanded"] / bm25_postings
    return lines, summary


def run_scifact(data: Path, config: ExpansionConfig, log) -> tuple[list[str], dict]:
    col = load_collection(data / "scifact")
    test = col.qrels["test"]
    test_q = judged(test)
    index = thresher.Index.from_beir(data / "scifact")
    runs, stats = fit_and_runs(col, col.qrels["train"], test_q, config, log)
    runs["bm25"] = bm25_run(index, col, test_q)
    model = stats["model"]
    lit = model.literal(bag_matrix(col.docs, Vocabulary(stats["expanded"].vocab)))
    runs["bm25-scipy"] = matrix_run(lit, stats["expanded"].vocab, col, test_q)
    bm25_postings = lit.nnz
    with tempfile.TemporaryDirectory() as tmp:
        jl = Path(tmp) / "scifact.jsonl.gz"
        ex = stats["expanded"]
        write_jsonl(jl, col.doc_ids, ex.matrix, ex.vocab, bits=8)
        jsonl_bytes = jl.stat().st_size
    # The 8-bit vectors served by the Rust impact index, beside BM25 on the same engine.
    impact = stats["expanded"].to_index(col.doc_ids, bits=8)
    runs["expanded-rust"] = bm25_run(impact, col, test_q)
    stats["postings"]["expanded-rust"] = sum(s["num_postings"] for s in impact.meta["segments"])
    stats["exp_per_doc"]["expanded-rust"] = stats["exp_per_doc"]["expanded-8bit"]
    fig = engine_figures({"bm25": index, "impact": impact}, [col.queries[q] for q in test_q])
    table, summary = report_collection(runs, test, stats, bm25_postings)
    summary["seconds"] = stats["seconds"]
    lines = [
        "## SciFact",
        "",
        f"Train: qrels/train.tsv ({model.info['train_queries']} queries for gradients, "
        f"{model.info['dev_queries']} held out as dev); test: qrels/test.tsv "
        f"({len(test_q)} queries). {len(col.docs):,} documents, vocabulary {len(model.vocab):,}.",
        "",
        *table,
        "",
        f"Training time {stats['seconds']:.1f}s (one fit, {platform.machine()}, "
        f"{thresher.__version__}); expanding the corpus {stats['expand_seconds']:.1f}s. "
        f"Chosen on dev: {json.dumps(stats['chosen'])}; T non-zeros {stats['T_nnz']:,}. "
        "Dev objective per epoch ("
        + " + ".join(f"{w:g} {n}" for n, w in config.objective)
        + "): "
        + ", ".join(f"{x:.4f}" for x in stats["dev_curve"])
        + ".",
        f"Size: 8-bit postings {stats['postings']['expanded']:,} x (4-byte doc id + 1-byte "
        f"impact) = {stats['postings']['expanded'] * 5 / 2**20:.2f} MiB uncompressed; "
        f"Anserini JSONL (gzip) {jsonl_bytes / 2**20:.2f} MiB.",
        "",
        "Rust indexes (thresher, same run; single-thread `search_batch`, median of 5 passes, "
        f"{len(test_q)} test queries):",
        "",
        "| index | bytes on disk | QPS k=10 | QPS k=1000 |",
        "|---|---|---|---|",
        *(
            f"| {label} | {fig[n]['bytes'] / 2**20:.2f} MiB | {fig[n]['qps'][10]:,.0f} | "
            f"{fig[n]['qps'][1000]:,.0f} |"
            for n, label in (
                ("bm25", "BM25 (text, Lucene scoring)"),
                ("impact", "trained expansion, 8-bit impact index"),
            )
        ),
    ]
    return lines, summary


def run_cranfield(data: Path, config: ExpansionConfig, folds: int, log) -> tuple[list[str], dict]:
    col = load_collection(data / "cranfield", splits=("test",))
    qrels = col.qrels["test"]
    qids = judged(qrels)
    rng = np.random.default_rng(config.seed)
    perm = rng.permutation(len(qids))
    index = thresher.Index.from_beir(data / "cranfield")
    runs: dict[str, dict] = {}
    seconds, chosen, post, epd = [], [], {}, {}
    for f in range(folds):
        test_q = sorted(qids[i] for i in perm[f::folds])
        tq = set(test_q)
        train = {q: qrels[q] for q in qids if q not in tq}
        log(f"fold {f + 1}/{folds}: {len(train)} train, {len(test_q)} test queries")
        fr, st = fit_and_runs(col, train, test_q, config, log)
        fr["bm25"] = bm25_run(index, col, test_q)
        lit = st["model"].literal(bag_matrix(col.docs, Vocabulary(st["expanded"].vocab)))
        fr["bm25-scipy"] = matrix_run(lit, st["expanded"].vocab, col, test_q)
        for k, v in fr.items():
            runs.setdefault(k, {}).update(v)
        seconds.append(st["seconds"])
        chosen.append(st["chosen"])
        for k, v in st["postings"].items():
            post.setdefault(k, []).append(v)
        for k, v in st["exp_per_doc"].items():
            epd.setdefault(k, []).append(v)
        bm25_postings = lit.nnz
    stats = {
        "postings": {k: round(float(np.mean(v))) for k, v in post.items()},
        "exp_per_doc": {k: float(np.mean(v)) for k, v in epd.items()},
    }
    table, summary = report_collection(runs, qrels, stats, bm25_postings)
    summary["seconds"] = float(np.mean(seconds))
    lines = [
        "## Cranfield",
        "",
        f"{folds}-fold cross-validation over the {len(qids)} judged queries (seeded split; "
        "each fold trains on the other folds' queries, a fifth of them held out as dev); the "
        f"{folds} test runs are evaluated together. {len(col.docs):,} documents. Postings "
        "are the mean over folds.",
        "",
        *table,
        "",
        f"Training time per fold: {', '.join(f'{s:.1f}s' for s in seconds)}. "
        f"Chosen on dev per fold: {json.dumps(chosen)}.",
    ]
    return lines, summary


def seed_section(name: str, seeds: list[int], summaries: list[dict]) -> list[str]:
    """Mean, standard deviation and minimum over seeds of the gains over BM25."""
    lines = [
        f"### {name}: {len(seeds)} seeds ({', '.join(map(str, seeds))})",
        "",
        "Gain over BM25, mean ± sd [min] over seeds (the seed sets the dev split, the "
        "negative sampling and, for Cranfield, the folds).",
        "",
        "| system | " + " | ".join(MEASURES) + " | x BM25 postings |",
        "|---" * (len(MEASURES) + 2) + "|",
    ]
    for k, label in (("closed", "gate closed"), ("expanded", "expansion")):
        cells = []
        for m in MEASURES:
            d = np.array([s[k][m] - s["bm25"][m] for s in summaries])
            cells.append(
                f"{d.mean():+.4f} ± {d.std(ddof=1) if len(d) > 1 else 0:.4f} [{d.min():+.4f}]"
            )
        size = [s["size"] if k == "expanded" else 1.0 for s in summaries]
        lines.append("| " + " | ".join([label, *cells, f"{np.mean(size):.2f}"]) + " |")
    n_ndcg = sum(s["expanded"]["nDCG@10"] >= s["bm25"]["nDCG@10"] + 0.02 for s in summaries)
    n_r1k = sum(s["expanded"]["R@1000"] >= s["bm25"]["R@1000"] + 0.03 for s in summaries)
    n_size = sum(s["size"] <= 2.0 for s in summaries)
    lines += [
        "",
        f"Targets met in {n_ndcg}/{len(seeds)} seeds (nDCG@10 + 0.02), {n_r1k}/{len(seeds)} "
        f"(R@1000 + 0.03), {n_size}/{len(seeds)} (size <= 2x). Mean training time per fit "
        f"{np.mean([s['seconds'] for s in summaries]):.1f}s.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--collections", nargs="+", default=["scifact", "cranfield"])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--config", default="{}", help="ExpansionConfig overrides as JSON")
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="seeds to run; the detailed tables are the first seed's, a summary covers all",
    )
    ap.add_argument("--output", type=Path, help="also write the Markdown report here")
    ap.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    args = ap.parse_args(argv)
    overrides = json.loads(args.config)
    for k in ("alphas", "tau_grid", "max_expansion_grid"):
        if k in overrides:
            overrides[k] = tuple(overrides[k])
    if "objective" in overrides:
        overrides["objective"] = tuple((str(n), float(w)) for n, w in overrides["objective"])
    config = ExpansionConfig(**overrides)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    lines = [
        "# thresher.expand report",
        "",
        f"Command: `python benches/expand_report.py {' '.join(argv or sys.argv[1:])}`. "
        f"Configuration: `{json.dumps(config.__dict__)}`.",
        "",
    ]
    for c in args.collections:
        if c not in ("scifact", "cranfield"):
            raise SystemExit(f"unknown collection {c!r} (scifact, cranfield)")
    tail: list[str] = []
    for c in args.collections:
        summaries = []
        for i, seed in enumerate(args.seeds):
            cfg = replace(config, seed=seed)
            log(f"{c}, seed {seed}")
            if c == "scifact":
                body, summary = run_scifact(args.data, cfg, log)
            else:
                body, summary = run_cranfield(args.data, cfg, args.folds, log)
            summaries.append(summary)
            if i == 0:
                lines += [*body, ""]
        if len(args.seeds) > 1:
            tail += seed_section(c.capitalize(), args.seeds, summaries)
    if tail:
        lines += ["## Seeds", "", *tail]
    lines.append(f"Total wall time {time.perf_counter() - t0:.0f}s.")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Regenerate the TDV experiment report (SciFact, Cranfield, feature options, transfer).

Usage (from the repository root)::

    PYTHONPATH=python python benches/tdv_report.py [--out benches/out/tdv] [--quick]

Data: ``shared/data/{scifact,cranfield}`` in BEIR layout (found through
``--data`` or ``$THRESHER_DATA``, default ``/work/shared/data``). Text is
analysed with ``thresher.Analyzer(stemmer="porter").tokenize`` when the Rust
extension is importable, else with the stand-in analyzer of
:mod:`thresher.tdv.data` (identical output on 5,166 of 5,183 SciFact documents).

Protocol:

* BM25 k1 = 0.9, b = 0.4 (Lucene form), scipy scorer, top 1000; metrics from
  ir-measures: nDCG@10, R@100, R@1000.
* SciFact: train on ``qrels/train.tsv`` (a seeded 20% of its queries is the
  dev split for early stopping), report ``qrels/test.tsv``.
* Cranfield: 5-fold cross-validation over the 225 queries (seeded shuffle);
  per fold, train on 4 folds (20% of them dev), run the held-out fold; the
  five held-out runs are concatenated and evaluated once. Vocabulary and
  postings kept are averaged over folds.
* Transfer: the SciFact model applied to all Cranfield queries; a model
  trained on all Cranfield queries applied to the SciFact test queries.
* The training curve records test nDCG@10 and postings kept after every
  epoch (for the plot only; selection uses dev nDCG@10).

Outputs in ``--out``: ``report.md``, ``results.json``, ``curve_*.csv`` and,
when matplotlib is installed, ``ndcg_vs_postings.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from thresher.tdv import (
    Corpus,
    ScoringConfig,
    TDVModel,
    TrainConfig,
    evaluate,
    load_beir,
    retrieve,
    standin_analyzer,
    train,
)

MEASURES = ("nDCG@10", "R@100", "R@1000")

# The configuration chosen on the dev splits (see report.md "Choices").
CHOSEN = {
    "features": "ab",
    "config": {
        "lr": 1e-3,
        "l1": 1e-5,
        "margin": 8.0,
        "negatives": "bm25",
        "batch_size": 64,
        "max_epochs": 150,
        "patience": 30,
        "max_postings": 0.6,
        "seed": 0,
    },
}


# --------------------------------------------------------------------------- data


def analyzer():
    try:
        from thresher import Analyzer  # type: ignore[attr-defined]

        return Analyzer(stemmer="porter").tokenize, "thresher.Analyzer(stemmer='porter')"
    except (ImportError, AttributeError, TypeError):
        return (
            standin_analyzer(),
            "stand-in (regex + possessive + 33 stop words + Porter)",
        )


def load_collection(name: str, data: Path, cache: Path, analyze, analyzer_name: str):
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            obj = pickle.load(f)
        if obj.get("analyzer") == analyzer_name:
            return obj["corpus"], obj["queries"], obj["qrels"]
    docs, queries, qrels = load_beir(data / name)
    ids = list(docs)
    corpus = Corpus.from_texts(ids, [docs[i] for i in ids], analyze)
    q_tokens = {q: analyze(t) for q, t in queries.items()}
    with open(path, "wb") as f:
        pickle.dump(
            {
                "analyzer": analyzer_name,
                "corpus": corpus,
                "queries": q_tokens,
                "qrels": qrels,
            },
            f,
        )
    return corpus, q_tokens, qrels


def kept_stats(corpus: Corpus, w: np.ndarray) -> dict:
    df = np.bincount(corpus.tf.indices, minlength=corpus.n_terms)
    present = df > 0
    return {
        "vocab_kept": float((w[present] > 0).mean()),
        "postings_kept": float(df[w > 0].sum() / df.sum()),
    }


def make_config(overrides: dict | None = None) -> TrainConfig:
    kw = dict(CHOSEN["config"])
    kw.update(overrides or {})
    if isinstance(kw.get("scoring"), dict):
        kw["scoring"] = ScoringConfig(**kw["scoring"])
    return TrainConfig(**kw)


# --------------------------------------------------------------------------- experiments


def scifact_experiment(sf, features, overrides=None, curve=False):
    corpus, queries, qrels = sf
    cfg = make_config(overrides)
    test = qrels["test"]
    tq = {q: queries[q] for q in test}
    trace = []

    def cb(rec, tau):
        if curve:
            m = evaluate(retrieve(corpus, tq, tau, cfg.scoring, k=10), test, ("nDCG@10",))
            trace.append(
                {
                    "epoch": rec["epoch"],
                    "postings_kept": rec["postings_kept"],
                    "dev_ndcg10": rec.get("dev_ndcg10"),
                    "test_ndcg10": m["nDCG@10"],
                }
            )

    res = train(corpus, queries, qrels["train"], features=features, config=cfg, callback=cb)
    w = res.model.term_weights(corpus.vocab, corpus.tf)
    out = evaluate(retrieve(corpus, tq, w, cfg.scoring), test, MEASURES)
    out.update(kept_stats(corpus, w))
    out.update(
        {
            "dev_ndcg10": res.history[res.best_epoch].get("dev_ndcg10"),
            "dev_ndcg10_bm25": res.history[0].get("dev_ndcg10"),
            "best_epoch": res.best_epoch,
            "epochs_run": len(res.history) - 1,
            "train_seconds": res.seconds,
        }
    )
    return out, res, trace


def cranfield_folds(qrels: dict, k: int = 5, seed: int = 0) -> list[list[str]]:
    qids = sorted(qrels, key=lambda q: (len(q), q))
    perm = np.random.default_rng(seed).permutation(len(qids))
    return [[qids[i] for i in perm[f::k]] for f in range(k)]


def cranfield_cv(cr, features, overrides=None, curve_fold: int | None = None):
    corpus, queries, qrels = cr
    cfg = make_config(overrides)
    allq = qrels["test"]
    folds = cranfield_folds(allq)
    run, kept, devs, devs0, secs, best_epochs, trace = {}, [], [], [], 0.0, [], []
    for f, held in enumerate(folds):
        train_q = {q: allq[q] for q in allq if q not in set(held)}
        hq = {q: queries[q] for q in held}
        held_qrels = {q: allq[q] for q in held}

        def cb(rec, tau, f=f, hq=hq, held_qrels=held_qrels):
            if curve_fold == f:
                m = evaluate(
                    retrieve(corpus, hq, tau, cfg.scoring, k=10),
                    held_qrels,
                    ("nDCG@10",),
                )
                trace.append(
                    {
                        "epoch": rec["epoch"],
                        "postings_kept": rec["postings_kept"],
                        "dev_ndcg10": rec.get("dev_ndcg10"),
                        "test_ndcg10": m["nDCG@10"],
                    }
                )

        res = train(corpus, queries, train_q, features=features, config=cfg, callback=cb)
        w = res.model.term_weights(corpus.vocab, corpus.tf)
        run.update(retrieve(corpus, hq, w, cfg.scoring))
        kept.append(kept_stats(corpus, w))
        devs.append(res.history[res.best_epoch].get("dev_ndcg10"))
        devs0.append(res.history[0].get("dev_ndcg10"))
        best_epochs.append(res.best_epoch)
        secs += res.seconds
    out = evaluate(run, allq, MEASURES)
    out["vocab_kept"] = float(np.mean([k["vocab_kept"] for k in kept]))
    out["postings_kept"] = float(np.mean([k["postings_kept"] for k in kept]))
    out["postings_kept_max"] = float(np.max([k["postings_kept"] for k in kept]))
    out["dev_ndcg10"] = float(np.mean(devs))
    out["dev_ndcg10_bm25"] = float(np.mean(devs0))
    out["best_epochs"] = best_epochs
    out["train_seconds"] = secs
    return out, trace


def bm25_scores(sf, cr):
    corpus, queries, qrels = sf
    test = qrels["test"]
    s = evaluate(retrieve(corpus, {q: queries[q] for q in test}), test, MEASURES)
    corpus, queries, qrels = cr
    allq = qrels["test"]
    c = evaluate(retrieve(corpus, {q: queries[q] for q in allq}), allq, MEASURES)
    for d in (s, c):
        d.update({"vocab_kept": 1.0, "postings_kept": 1.0})
    return s, c


def transfer(sf, cr, sf_model: TDVModel, features, overrides=None):
    cfg = make_config(overrides)
    out = {}
    corpus, queries, qrels = cr
    allq = qrels["test"]
    w = sf_model.term_weights(corpus.vocab, corpus.tf)
    r = evaluate(retrieve(corpus, {q: queries[q] for q in allq}, w, cfg.scoring), allq, MEASURES)
    r.update(kept_stats(corpus, w))
    out["scifact->cranfield"] = r
    res = train(corpus, queries, allq, features=features, config=cfg)
    corpus, queries, qrels = sf
    test = qrels["test"]
    w = res.model.term_weights(corpus.vocab, corpus.tf)
    r = evaluate(retrieve(corpus, {q: queries[q] for q in test}, w, cfg.scoring), test, MEASURES)
    r.update(kept_stats(corpus, w))
    out["cranfield->scifact"] = r
    return out


def tfidf_section(sf, cr, features) -> dict:
    """The paper's TF-IDF variant: plain TF-IDF and TF-IDF trained TDVs (chosen config)."""
    scoring = {"model": "tfidf"}
    sc = ScoringConfig(**scoring)
    out = {}
    for name, (corpus, queries, qrels) in (("scifact", sf), ("cranfield", cr)):
        qr = qrels["test"]
        base = evaluate(retrieve(corpus, {q: queries[q] for q in qr}, None, sc), qr, MEASURES)
        base.update({"vocab_kept": 1.0, "postings_kept": 1.0})
        out[name] = {"tfidf": base}
    out["scifact"]["tfidf+tdv"] = scifact_experiment(sf, features, {"scoring": scoring})[0]
    out["cranfield"]["tfidf+tdv"] = cranfield_cv(cr, features, {"scoring": scoring})[0]
    return out


def _tokens(corpus: Corpus, counts) -> list[list[str]]:
    """Token lists (order lost) holding the postings of a doc-term count matrix."""
    out = []
    for d in range(corpus.n_docs):
        lo, hi = counts.indptr[d], counts.indptr[d + 1]
        out.append(
            [
                corpus.vocab[t]
                for t, c in zip(counts.indices[lo:hi], counts.data[lo:hi])
                for _ in range(int(c))
            ]
        )
    return out


def rust_section(sf, cr, weights: dict[str, np.ndarray]) -> dict | None:
    """Figures from the Rust index (``thresher.Index``) when the extension is importable.

    Plain BM25 is indexed from the same token lists as the scipy side. Until
    ``Index.build`` takes ``term_weights``, the TDV figure is "pruning only": the
    zero-TDV terms are left out of the token lists but kept terms keep raw tf.
    """
    try:
        from thresher import Index  # type: ignore[attr-defined]
    except ImportError:
        return None
    import inspect

    import scipy.sparse as sp

    has_weights = "term_weights" in inspect.signature(Index.build).parameters
    out: dict = {"index_has_term_weights": has_weights}
    for name, (corpus, queries, qrels) in (("scifact", sf), ("cranfield", cr)):
        qr = qrels["test"]
        variants = [("bm25", _tokens(corpus, corpus.tf))]
        if name in weights:
            keep = (weights[name] > 0).astype(np.float64)
            pruned = (corpus.tf @ sp.diags(keep)).tocsr()
            variants.append(("tdv_pruning_only", _tokens(corpus, pruned)))
        row = {}
        for label, docs in variants:
            idx = Index.build(list(zip(corpus.doc_ids, docs)), threads=1)
            run = {}
            for q in qr:
                hits = idx.search(queries[q], k=1000) if queries[q] else []
                run[q] = {d: float(sc) for d, sc in hits}
            row[label] = evaluate(run, qr, MEASURES)
        out[name] = row
    return out


# --------------------------------------------------------------------------- report


def fmt_row(name, r, base=None):
    cells = [name]
    for m in MEASURES:
        v = r[m]
        d = f" ({v - base[m]:+.4f})" if base is not None else ""
        cells.append(f"{v:.4f}{d}")
    cells += [f"{100 * r['vocab_kept']:.1f}%", f"{100 * r['postings_kept']:.1f}%"]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| run | nDCG@10 | R@100 | R@1000 | vocab kept | postings kept |\n"
    "| --- | --- | --- | --- | --- | --- |"
)


def write_csv(path: Path, rows: list[dict]):
    if not rows:
        return
    keys = list(rows[0])
    with open(path, "w") as f:
        f.write(",".join(keys) + "\n")
        f.writelines(",".join("" if r[k] is None else f"{r[k]}" for k in keys) + "\n" for r in rows)


def plot(out: Path, curves: dict[str, list[dict]], bm25: dict[str, float]) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4))
    axes = np.atleast_1d(axes)
    for ax, (name, rows) in zip(axes, curves.items()):
        x = [100 * r["postings_kept"] for r in rows]
        y = [r["test_ndcg10"] for r in rows]
        ax.plot(x, y, "-o", ms=3, lw=1, label="TDV (per epoch)")
        for r in rows[:: max(1, len(rows) // 8)]:
            ax.annotate(
                str(r["epoch"]),
                (100 * r["postings_kept"], r["test_ndcg10"]),
                fontsize=7,
            )
        ax.axhline(bm25[name], color="gray", ls="--", lw=1, label="BM25")
        ax.set_xlabel("postings kept (%)")
        ax.set_ylabel("nDCG@10 (held-out)")
        ax.set_title(name)
        ax.invert_xaxis()
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "ndcg_vs_postings.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("THRESHER_DATA", "/work/shared/data"))
    ap.add_argument("--out", default=str(ROOT / "benches" / "out" / "tdv"))
    ap.add_argument("--quick", action="store_true", help="skip the comparisons")
    ap.add_argument(
        "--render-only", action="store_true", help="rewrite report.md from results.json"
    )
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        results = json.loads((out / "results.json").read_text())
        png = "ndcg_vs_postings.png" if (out / "ndcg_vs_postings.png").exists() else None
        (out / "report.md").write_text(render(results, png))
        return
    t0 = time.perf_counter()
    analyze, analyzer_name = analyzer()
    data = Path(args.data)
    sf = load_collection("scifact", data, out / "cache", analyze, analyzer_name)
    cr = load_collection("cranfield", data, out / "cache", analyze, analyzer_name)
    feats = CHOSEN["features"]
    results: dict = {"analyzer": analyzer_name, "chosen": CHOSEN}

    bm_sf, bm_cr = bm25_scores(sf, cr)
    results["bm25"] = {"scifact": bm_sf, "cranfield": bm_cr}
    print("BM25", bm_sf["nDCG@10"], bm_cr["nDCG@10"], flush=True)

    sf_res, sf_train, sf_curve = scifact_experiment(sf, feats, curve=True)
    cr_res, cr_curve = cranfield_cv(cr, feats, curve_fold=0)
    results["tdv"] = {"scifact": sf_res, "cranfield": cr_res}
    print("TDV", sf_res["nDCG@10"], cr_res["nDCG@10"], flush=True)
    sf_train.model.save(out / "tdv_scifact.npz")
    write_csv(out / "curve_scifact.csv", sf_curve)
    write_csv(out / "curve_cranfield_fold0.csv", cr_curve)

    results["transfer"] = transfer(sf, cr, sf_train.model, feats)
    print(
        "transfer",
        {k: v["nDCG@10"] for k, v in results["transfer"].items()},
        flush=True,
    )

    seeds = {"0": {"scifact": sf_res, "cranfield": cr_res}}
    for seed in (1, 2):
        s, _, _ = scifact_experiment(sf, feats, {"seed": seed})
        c, _ = cranfield_cv(cr, feats, {"seed": seed})
        seeds[str(seed)] = {"scifact": s, "cranfield": c}
        print("seed", seed, s["nDCG@10"], c["nDCG@10"], flush=True)
    results["seeds"] = seeds

    sf_w = sf_train.model.term_weights(sf[0].vocab, sf[0].tf)
    results["rust"] = rust_section(sf, cr, {"scifact": sf_w})
    if results["rust"]:
        print("rust", json.dumps(results["rust"]), flush=True)

    if not args.quick:
        comp = {}
        for spec in ("a", "b", "c", "ab", "abc"):
            s, _, _ = scifact_experiment(sf, spec)
            c, _ = cranfield_cv(cr, spec)
            comp[spec] = {"scifact": s, "cranfield": c}
            print("features", spec, s["nDCG@10"], c["nDCG@10"], flush=True)
        results["features"] = comp
        neg = {}
        for n in ("random", "bm25", "mixed"):
            s, _, _ = scifact_experiment(sf, feats, {"negatives": n})
            c, _ = cranfield_cv(cr, feats, {"negatives": n})
            neg[n] = {"scifact": s, "cranfield": c}
            print("negatives", n, s["nDCG@10"], c["nDCG@10"], flush=True)
        results["negatives"] = neg
        mar = {}
        for m in (1.0, 3.0, 5.0, 8.0, 12.0):
            s, _, _ = scifact_experiment(sf, feats, {"margin": m})
            c, _ = cranfield_cv(cr, feats, {"margin": m})
            mar[str(m)] = {"scifact": s, "cranfield": c}
            print("margin", m, s["nDCG@10"], c["nDCG@10"], flush=True)
        results["margin"] = mar
        results["tfidf"] = tfidf_section(sf, cr, feats)
        print("tfidf", json.dumps(results["tfidf"]), flush=True)

    results["seconds_total"] = time.perf_counter() - t0
    png = plot(
        out,
        {"SciFact (test)": sf_curve, "Cranfield (fold 0)": cr_curve},
        {
            "SciFact (test)": bm_sf["nDCG@10"],
            "Cranfield (fold 0)": cr_curve[0]["test_ndcg10"] if cr_curve else 0.0,
        },
    )
    with open(out / "results.json", "w") as f:
        json.dump(results, f, indent=1)
    (out / "report.md").write_text(render(results, png))
    print(f"wrote {out / 'report.md'} in {results['seconds_total']:.0f}s")


def render(r: dict, png: str | None) -> str:
    bm, tdv = r["bm25"], r["tdv"]
    lines = [
        "# TDV report",
        "",
        f"Analyzer: {r['analyzer']}. BM25 k1=0.9, b=0.4 (Lucene form, scipy scorer).",
        f"Chosen: features `{r['chosen']['features']}`, config `{r['chosen']['config']}`.",
        "",
        "## SciFact (train -> test)",
        "",
        HEADER,
        fmt_row("BM25", bm["scifact"]),
        fmt_row("TDV", tdv["scifact"], bm["scifact"]),
        "",
        (
            f"Training: {tdv['scifact']['train_seconds']:.1f}s, best epoch "
            f"{tdv['scifact']['best_epoch']} of {tdv['scifact']['epochs_run']}."
        ),
        "",
        "## Cranfield (5-fold CV over queries)",
        "",
        HEADER,
        fmt_row("BM25", bm["cranfield"]),
        fmt_row("TDV", tdv["cranfield"], bm["cranfield"]),
        "",
        (
            f"Training: {tdv['cranfield']['train_seconds']:.1f}s for 5 folds, best epochs "
            f"{tdv['cranfield']['best_epochs']}; postings kept max over folds "
            f"{100 * tdv['cranfield']['postings_kept_max']:.1f}%."
        ),
        "",
    ]
    d_sf = tdv["scifact"]["nDCG@10"] - bm["scifact"]["nDCG@10"]
    d_cr = tdv["cranfield"]["nDCG@10"] - bm["cranfield"]["nDCG@10"]
    lines += [
        (
            f"Mean nDCG@10 gain over BM25: {(d_sf + d_cr) / 2:+.4f} (SciFact {d_sf:+.4f}, "
            f"Cranfield {d_cr:+.4f})."
        ),
        "",
        "## Transfer",
        "",
        HEADER,
    ]
    for k, v in r["transfer"].items():
        base = bm["cranfield"] if k.endswith("cranfield") else bm["scifact"]
        lines.append(fmt_row(k, v, base))
    for section, title in (
        (
            "features",
            "Feature options (a) subwords, (b) statistics, (c) co-occurrence SVD",
        ),
        ("negatives", "Negatives"),
        ("margin", "Hinge margin"),
    ):
        if section not in r:
            continue
        lines += ["", f"## {title}", "", HEADER]
        for k, v in r[section].items():
            lines.append(fmt_row(f"{k} SciFact", v["scifact"], bm["scifact"]))
            lines.append(fmt_row(f"{k} Cranfield", v["cranfield"], bm["cranfield"]))
    if "tfidf" in r:
        lines += ["", "## TF-IDF variant (same configuration)", "", HEADER]
        for coll in ("scifact", "cranfield"):
            base = r["tfidf"][coll]["tfidf"]
            lines.append(fmt_row(f"TF-IDF {coll}", base))
            lines.append(fmt_row(f"TF-IDF+TDV {coll}", r["tfidf"][coll]["tfidf+tdv"], base))
    if "features" in r:
        lines += [
            "",
            "Rows with 100% postings kept: no epoch kept at most the `max_postings` share of "
            "postings (or none beat epoch 0 on dev), so training returned the initial model, "
            "i.e. plain BM25.",
        ]
    if "seeds" in r:
        lines += ["", "## Seeds (chosen configuration)", "", HEADER]
        gains = []
        for k in sorted(r["seeds"]):
            v = r["seeds"][k]
            lines.append(fmt_row(f"seed {k} SciFact", v["scifact"], bm["scifact"]))
            lines.append(fmt_row(f"seed {k} Cranfield", v["cranfield"], bm["cranfield"]))
            d1 = v["scifact"]["nDCG@10"] - bm["scifact"]["nDCG@10"]
            d2 = v["cranfield"]["nDCG@10"] - bm["cranfield"]["nDCG@10"]
            gains.append((d1 + d2) / 2)
        lines += [
            "",
            f"Mean nDCG@10 gain (average of the two collections) per seed: "
            f"{', '.join(f'{g:+.4f}' for g in gains)}; mean {np.mean(gains):+.4f}.",
        ]
    if r.get("rust"):
        rust = r["rust"]
        lines += [
            "",
            "## Rust index (thresher.Index, same token lists)",
            "",
            f"Index.build has term_weights: {rust['index_has_term_weights']}. "
            "`tdv_pruning_only` drops the zero-TDV terms of the SciFact model but keeps raw tf "
            "(the full method needs term_weights).",
            "",
            "| collection | run | nDCG@10 | R@100 | R@1000 |",
            "| --- | --- | --- | --- | --- |",
        ]
        for coll in ("scifact", "cranfield"):
            for label, m in rust[coll].items():
                cells = " | ".join(f"{m[x]:.4f}" for x in MEASURES)
                lines.append(f"| {coll} | {label} | {cells} |")
    lines += ["", "## Training curve", ""]
    if png:
        lines.append(f"![nDCG@10 vs postings kept]({png})")
    lines.append("Per-epoch data: `curve_scifact.csv`, `curve_cranfield_fold0.csv`.")
    lines += ["", f"Total time: {r['seconds_total']:.0f}s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

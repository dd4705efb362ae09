"""The ``thresher`` command line: ``index``, ``search``, ``eval`` and the learned models.

Examples::

    thresher index ../shared/data/scifact -o scifact.idx
    thresher index ../shared/data/scifact -o scifact-tdv.idx --tdv tdv.npz
    thresher index --impacts vectors.jsonl.gz -o vectors.idx          # learned sparse vectors
    thresher index ../shared/data/scifact -o scifact-exp.idx --expansion exp.npz
    thresher search scifact.idx "coffee reduces cancer risk" -k 5
    thresher eval scifact.idx ../shared/data/scifact --split test --run scifact.trec

Errors print one line on stderr and exit with status 1 (2 for bad command-line usage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from thresher import _core


def _add_analyzer_args(g: argparse._ArgumentGroup) -> None:
    g.add_argument(
        "--stemmer",
        default="porter",
        choices=list(_core.STEMMERS),
        help="stemmer of the English analyzer (default: porter, as Lucene/Anserini)",
    )
    g.add_argument(
        "--no-stopwords", action="store_true", help="keep Lucene's 33 English stop words"
    )


def _add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("analysis and scoring")
    g.add_argument(
        "--scoring",
        default=None,
        # Impact indexes come from vectors (--impacts, --expansion), not from text.
        choices=[*(s for s in _core.SCORINGS if s != "impact"), "bm25"],
        help="scoring model (default: lucene, i.e. BM25 exactly as Lucene)",
    )
    g.add_argument("--k1", type=float, default=None, help="BM25 k1 (default 0.9, as Anserini)")
    g.add_argument("--b", type=float, default=None, help="BM25 b (default 0.4, as Anserini)")
    g.add_argument("--delta", type=float, default=None, help="BM25L/BM25+ delta")
    _add_analyzer_args(g)


def _model_flags(args: argparse.Namespace) -> list[str]:
    """The scoring flags given on the command line."""
    return [f"--{n}" for n in ("scoring", "k1", "b", "delta") if getattr(args, n) is not None]


def _scoring_defaults(args: argparse.Namespace) -> None:
    """Fills the scoring flags not given with their defaults (Anserini's BM25)."""
    for name, default in (("scoring", "lucene"), ("k1", 0.9), ("b", 0.4)):
        if getattr(args, name) is None:
            setattr(args, name, default)


def _output_file(path: str, flag: str = "-o") -> None:
    """Checks, before any work, that a file can be written at ``path``."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{path}: is a directory; {flag} takes a file path")
    parent = p.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"{parent}: no such directory (for {flag} {path})")
    # Try making a file: os.access would say yes to root even where none can be made (/proc).
    probe = parent / f".{p.name}.probe-{os.getpid()}"
    try:
        with open(probe, "x"):
            pass
    except OSError as e:
        raise type(e)(
            f"{parent}: cannot create a file there ({e.strerror}) (for {flag} {path})"
        ) from e
    probe.unlink(missing_ok=True)


def _fields(text: str) -> tuple[str, ...]:
    return tuple(f.strip() for f in text.split(","))


def _analyzer(args: argparse.Namespace) -> _core.Analyzer:
    return _core.Analyzer(stemmer=args.stemmer, stopwords=[] if args.no_stopwords else None)


def _cmd_index(args: argparse.Namespace) -> int:
    from thresher.index import Index

    if (args.corpus is None) == (args.impacts is None):
        raise ValueError("give either a corpus (BEIR folder or JSONL) or --impacts FILE")
    if args.impacts is not None and (args.expansion or args.tdv):
        raise ValueError("--impacts indexes the vectors as given: no --expansion or --tdv")
    if args.expansion and args.tdv:
        raise ValueError("--expansion and --tdv build different models: choose one")
    if args.bits is not None and args.impacts is None and not args.expansion:
        raise ValueError("--bits applies to impact indexes (--impacts, --expansion)")
    if args.scale is not None and args.impacts is None:
        raise ValueError("--scale applies to --impacts")
    if args.bits is None:
        args.bits = 8
    learned = "--impacts" if args.impacts else "--expansion" if args.expansion else "--tdv"
    flags = _model_flags(args)
    if (args.impacts or args.expansion or args.tdv) and flags:
        raise ValueError(f"{', '.join(flags)}: {learned} indexes use the model's own scoring")
    if args.impacts and args.fields is not None:
        raise ValueError("--fields: --impacts reads vectors, not text fields")
    _scoring_defaults(args)
    if args.fields is None:
        args.fields = "title,text"
    t0 = time.perf_counter()
    if args.impacts is not None:
        idx = Index.from_impact_jsonl(
            args.impacts, bits=args.bits, scale=args.scale, analyzer=_analyzer(args),
            threads=args.threads, progress=not args.quiet,
        )  # fmt: skip
    elif args.expansion:
        from thresher.expand.commands import index_beir

        idx = index_beir(
            args.corpus, args.expansion, bits=args.bits, analyzer=_analyzer(args),
            threads=args.threads, fields=_fields(args.fields),
        )  # fmt: skip
    else:
        idx = _index_text(args)
    built = time.perf_counter() - t0
    idx.save(args.output)
    m = idx.meta
    size = sum(f["bytes"] for s in m["segments"] for f in s["files"])
    print(
        f"indexed {m['num_docs']:,} documents, {sum(s['num_terms'] for s in m['segments']):,} "
        f"terms, {sum(s['num_postings'] for s in m['segments']):,} postings in {built:.2f} s; "
        f"saved {size / 1e6:.1f} MB to {args.output}"
    )
    return 0


def _index_text(args: argparse.Namespace):
    from thresher.index import Index

    idx = Index.from_beir(
        args.corpus,
        fields=_fields(args.fields),
        analyzer=_analyzer(args),
        scoring=args.scoring,
        k1=args.k1,
        b=args.b,
        delta=args.delta,
        threads=args.threads,
        progress=not args.quiet,
    )
    if args.tdv:
        idx = _apply_tdv(idx, args.tdv)
    return idx


def _config_difference(model: str, index: str) -> str:
    """The settings in which two analyzer configurations (JSON) differ, as
    ``"stemmer: porter (model) vs none (index)"``."""

    def show(v: object) -> str:
        return f"{len(v)} words" if isinstance(v, list) else json.dumps(v)

    try:
        a, b = json.loads(model), json.loads(index)
    except ValueError:
        return f"model: {model}; index: {index}"
    keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
    return "; ".join(f"{k}: {show(a.get(k))} (model) vs {show(b.get(k))} (index)" for k in keys)


def _apply_tdv(idx, path: str):
    """Reweights an index with a TDV model's weights for its vocabulary (the model's scoring)."""
    import numpy as np

    from thresher.tdv import TDVModel

    model = TDVModel.load(path)
    trained, ours = model.meta.get("analyzer"), idx.analyzer.config_json()
    if trained and trained != ours:
        # Not an error: a TDV model computes weights from the features of any vocabulary (as
        # in the transfer setting), but terms analysed differently are not what it learned on.
        print(
            f"thresher: warning: {path} was trained on terms of another analyzer "
            f"({_config_difference(trained, ours)})",
            file=sys.stderr,
        )
    cfg = model.scoring
    if cfg.idf != "df":
        raise ValueError(
            f"{path}: the model was trained with idf={cfg.idf!r}; the index computes idf from "
            "document frequencies (idf='df') only"
        )
    weights = model.term_weights(idx.vocabulary, idx.doc_term_matrix())
    if not np.any(np.asarray(weights) > 0):
        raise ValueError(
            f"{path}: the model gives every term of this collection weight 0; the index would "
            "match nothing"
        )
    return idx.reweight(weights, scoring=f"tdv-{cfg.model}", k1=cfg.k1, b=cfg.b)


def _cmd_search(args: argparse.Namespace) -> int:
    from thresher.index import Index

    idx = Index.load(args.index)
    hits = idx.search(args.query, k=args.k)
    if args.json:
        print(json.dumps([{"id": d, "score": s} for d, s in hits]))
    elif not hits:
        print("no matching documents")
    else:
        for rank, (doc, score) in enumerate(hits, 1):
            print(f"{rank:>4}  {score:10.4f}  {doc}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from thresher.data import load_qrels, load_queries, write_trec_run
    from thresher.evaluate import DEFAULT_MEASURES, evaluate, to_run
    from thresher.index import Index

    if args.run:
        _output_file(args.run, "--run")
    idx = Index.load(args.index)
    qrels = load_qrels(args.data, args.split)
    queries = load_queries(args.data)
    missing = [q for q in qrels if q not in queries]
    if missing:
        raise ValueError(f"{len(missing)} judged queries have no text (first: {missing[0]!r})")
    qids = [q for q in queries if q in qrels]
    texts = [queries[q] for q in qids]
    known = set(idx.doc_ids.tolist())
    absent = sorted({d for q in qids for d, g in qrels[q].items() if g > 0} - known)
    idx.search_batch(texts[: min(len(texts), 20)], k=args.k, threads=args.threads)  # warm-up
    t0 = time.perf_counter()
    docs, scores = idx.search_batch(texts, k=args.k, threads=args.threads)
    took = time.perf_counter() - t0
    ids = idx.doc_ids
    results = {
        q: [(str(ids[d]), float(s)) for d, s in zip(docs[i], scores[i]) if d >= 0]
        for i, q in enumerate(qids)
    }
    if args.run:
        write_trec_run(results, args.run)
    # BEIR's convention drops a hit whose document id is the query id (in Quora and ArguAna it
    # is the query itself); where the two id spaces are unrelated (Cranfield) it drops real
    # hits, so the count is reported and --keep-self-hits turns it off.
    drop = not args.keep_self_hits
    self_hits = [q for q in qids if drop and any(d == q for d, _ in results[q])]
    dropped, dropped_rel = len(self_hits), sum(qrels[q].get(q, 0) > 0 for q in self_hits)
    # A measure cut off deeper than k would be computed from k hits only (R@1000 of a top-10
    # run): left out, and said so. A run shallower than 10 gets the same measures at cut-off k
    # instead (nDCG@5, R@5, MRR@5), so that it reports something.
    deep = [m for m in DEFAULT_MEASURES if int(m.rsplit("@", 1)[1]) > args.k]
    measures = [m for m in DEFAULT_MEASURES if m not in deep]
    if args.k < 10:
        measures += [f"{m}@{args.k}" for m in ("nDCG", "R", "RR")]
    metrics: dict[str, float | None] = dict.fromkeys(DEFAULT_MEASURES)
    metrics.update(evaluate(to_run(results, drop_self=drop), qrels, measures))
    names = {m: "M" + m for m in metrics if m.startswith("RR@")}
    if args.json:
        out: dict[str, object] = {names.get(k, k): v for k, v in metrics.items()}
        out.update(
            queries=len(qids),
            qps=len(qids) / took,
            self_hits_dropped=dropped,
            relevant_self_hits_dropped=dropped_rel,
            relevant_docs_not_in_index=len(absent),
        )
        print(json.dumps(out))
        return 0
    if dropped:
        print(
            f"note: dropped {dropped} hit(s) whose document id equals the query id (BEIR's "
            f"convention), {dropped_rel} of them judged relevant; --keep-self-hits keeps them",
            file=sys.stderr,
        )
    if absent:
        print(
            f"note: the qrels judge {len(absent)} relevant document(s) that the index does not "
            f"hold (e.g. {', '.join(map(repr, absent[:3]))}); they count as misses",
            file=sys.stderr,
        )
    if deep:
        print(
            f"note: {', '.join(names.get(m, m) for m in deep)} left out: they need at least "
            f"as many hits as their cut-off (-k {args.k})",
            file=sys.stderr,
        )
    print(f"{Path(args.data).name} / {args.split}: {len(qids)} queries, k={args.k}")
    print("| metric | value |\n|---|---|")
    for k, v in metrics.items():
        if v is not None:
            print(f"| {names.get(k, k)} | {v:.4f} |")
    threads = args.threads or "all"
    print(f"| queries/s (batch, threads={threads}) | {len(qids) / took:,.0f} |")
    return 0


def _analyzed_beir(data: str, fields: tuple[str, ...], analyzer: _core.Analyzer):
    """(doc ids, doc terms) of a BEIR corpus, analysed in parallel in Rust."""
    from thresher.data import iter_beir_corpus

    ids, texts = [], []
    for doc_id, text in iter_beir_corpus(data, fields):
        ids.append(doc_id)
        texts.append(text)
    if not ids:
        raise ValueError(f"{data}: the corpus is empty")
    return ids, analyzer.tokenize_batch(texts)


def _cmd_train_tdv(args: argparse.Namespace) -> int:
    from thresher.data import load_qrels, load_queries
    from thresher.tdv import Corpus, ScoringConfig, TrainConfig, train

    _output_file(args.output)
    if args.delta is not None or args.scoring not in (None, "lucene", "bm25", "tfidf"):
        raise ValueError(
            "train-tdv trains for BM25 (--scoring bm25/lucene, the default) or TF-IDF "
            "(--scoring tfidf), without --delta"
        )
    model = "tfidf" if args.scoring == "tfidf" else "bm25"
    _scoring_defaults(args)
    analyzer = _analyzer(args)
    t0 = time.perf_counter()
    ids, docs = _analyzed_beir(args.data, _fields(args.fields), analyzer)
    corpus = Corpus.from_tokens(ids, docs)
    qrels = load_qrels(args.data, args.split)
    queries = load_queries(args.data)
    missing = [q for q in qrels if q not in queries]
    if missing:
        raise ValueError(f"{len(missing)} judged queries have no text (first: {missing[0]!r})")
    q_terms = {q: analyzer.tokenize(queries[q]) for q in qrels}
    config = TrainConfig(
        scoring=ScoringConfig(model=model, k1=args.k1, b=args.b),
        margin=args.margin,
        l1=args.l1,
        max_postings=args.max_postings,
        prune_tolerance=None if args.prune_tolerance < 0 else args.prune_tolerance,
        max_epochs=args.epochs,
        seed=args.seed,
        progress=not args.quiet,
    )
    result = train(corpus, q_terms, qrels, features=args.features, config=config)
    if not result.model.meta.get("max_postings_met", True):
        print(
            f"thresher: warning: no epoch kept at most {args.max_postings:.0%} of the postings; "
            "the saved model is the initial, untrained one",
            file=sys.stderr,
        )
    # Recorded so that `index --tdv` can tell when it applies the model to other terms.
    result.model.meta["analyzer"] = analyzer.config_json()
    result.model.save(args.output)
    best = next((h for h in result.history if h.get("epoch") == result.best_epoch), {})
    kept = best.get("postings_kept", float("nan"))
    # The sweep holds the postings kept at each threshold tried, the chosen one included.
    min_tdv = result.model.min_tdv
    sweep = {r["min_tdv"]: r["postings_kept"] for r in result.model.meta["prune_sweep"]}
    pruned = sweep.get(min_tdv, kept)
    kept_note = f"{kept:.1%}" + (
        f", {pruned:.1%} after dropping TDVs < {min_tdv:g}" if pruned < kept else ""
    )
    print(
        f"trained TDVs on {len(result.train_queries)} queries ({len(result.dev_queries)} held out "
        f"as dev) in {time.perf_counter() - t0:.1f} s; best epoch {result.best_epoch}, "
        f"postings kept {kept_note}; saved {args.output}"
    )
    return 0


def _cmd_train_expansion(args: argparse.Namespace) -> int:
    from thresher.expand.commands import train_expansion

    _output_file(args.output)
    t0 = time.perf_counter()
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    train_expansion(
        args.data, args.output, split=args.split, dev_split=args.dev_split,
        analyzer=_analyzer(args), log=log,
    )  # fmt: skip
    print(f"trained an expansion model in {time.perf_counter() - t0:.1f} s; saved {args.output}")
    return 0


def _cmd_expand(args: argparse.Namespace) -> int:
    from thresher.expand.commands import expand_beir

    _output_file(args.output)
    t0 = time.perf_counter()
    ids, expanded = expand_beir(
        args.data, args.expansion, args.output, bits=args.bits, analyzer=_analyzer(args)
    )
    m = expanded.matrix
    print(
        f"expanded {len(ids):,} documents ({m.nnz / max(1, len(ids)):.1f} terms per document) "
        f"in {time.perf_counter() - t0:.1f} s; wrote {args.output}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="thresher", description="Exact sparse retrieval: index, search, evaluate."
    )
    p.add_argument("--version", action="version", version=f"thresher {_core.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pi = sub.add_parser("index", help="index a BEIR folder or a JSONL(.gz) corpus")
    pi.add_argument("corpus", nargs="?", default=None, help="BEIR folder or corpus.jsonl[.gz]")
    pi.add_argument("-o", "--output", required=True, help="index directory to write")
    pi.add_argument(
        "--fields",
        default=None,
        help="comma-separated text fields joined with a space (default: title,text; "
        "use 'contents' for Anserini JsonCollection files)",
    )
    pi.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    pi.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    pi.add_argument(
        "--tdv",
        default=None,
        metavar="MODEL",
        help="reweight the index with a TDV model (from train-tdv): its weights for this "
        "collection's vocabulary, scored with the model's scoring (tdv-bm25 or tdv-tfidf, "
        "its k1 and b); zero-weight terms are not indexed",
    )
    gi = pi.add_argument_group(
        "impact indexes (learned sparse vectors; text queries go through the analyzer, "
        "each term weighing 1)"
    )
    gi.add_argument(
        "--impacts",
        default=None,
        metavar="FILE",
        help='index Anserini JsonVectorCollection JSONL(.gz) ({"id", "vector": {term: '
        "weight}} per line) as an impact index, instead of a text corpus",
    )
    gi.add_argument(
        "--expansion",
        default=None,
        metavar="MODEL",
        help="expand the corpus with a model from train-expansion and index the expanded "
        "vectors as an impact index",
    )
    gi.add_argument(
        "--bits",
        type=int,
        default=None,
        help="impact width in bits, 1-16 (default 8, as Anserini); impact indexes only",
    )
    gi.add_argument(
        "--scale",
        type=float,
        default=None,
        help="weight of one impact step (default: largest weight / (2^bits - 1); "
        "1 keeps integer weights as they are)",
    )
    _add_model_args(pi)
    pi.set_defaults(func=_cmd_index)

    ps = sub.add_parser("search", help="search an index")
    ps.add_argument("index", help="index directory")
    ps.add_argument("query", help="query text")
    ps.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    ps.add_argument("--json", action="store_true", help="print JSON")
    ps.set_defaults(func=_cmd_search)

    pe = sub.add_parser("eval", help="run a BEIR split's queries and evaluate with ir-measures")
    pe.add_argument("index", help="index directory")
    pe.add_argument("data", help="BEIR folder (queries.jsonl, qrels/<split>.tsv)")
    pe.add_argument("--split", default="test", help="qrels split (default: test)")
    pe.add_argument("-k", type=int, default=1000, help="run depth (default 1000)")
    pe.add_argument("--run", default=None, help="also write the run in TREC format here")
    pe.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    pe.add_argument("--json", action="store_true", help="print JSON")
    pe.add_argument(
        "--keep-self-hits",
        action="store_true",
        help="keep hits whose document id equals the query id (dropped by default, as BEIR "
        "does: in Quora and ArguAna they are the query itself; keep them where query and "
        "document ids are unrelated, e.g. Cranfield)",
    )
    pe.set_defaults(func=_cmd_eval)

    pt = sub.add_parser(
        "train-tdv",
        help="learn term discrimination values (Frej et al., SIGIR 2020) on a BEIR split",
    )
    pt.add_argument("data", help="BEIR folder with qrels/<split>.tsv")
    pt.add_argument("--split", default="train", help="training qrels split (default: train)")
    pt.add_argument("-o", "--output", required=True, help="model file to write (.npz)")
    pt.add_argument(
        "--fields", default="title,text", help="document text fields (default: title,text)"
    )
    pt.add_argument(
        "--features",
        default="ab",
        help="term features: a = hashed subwords, b = collection statistics, "
        "c = PPMI/SVD co-occurrence (default: ab)",
    )
    pt.add_argument("--margin", type=float, default=8.0, help="hinge margin (default 8)")
    pt.add_argument(
        "--l1", type=float, default=3e-5, help="L1 strength on the weighted postings (default 3e-5)"
    )
    pt.add_argument(
        "--max-postings",
        type=float,
        default=0.6,
        help="keep the best dev epoch among those keeping at most this share of postings",
    )
    pt.add_argument(
        "--prune-tolerance",
        type=float,
        default=0.01,
        help="after training, drop terms whose TDV is below a threshold, raised step by step "
        "while dev nDCG@10 stays within this much of the unpruned model's (default 0.01; a "
        "negative value turns it off)",
    )
    pt.add_argument("--epochs", type=int, default=150, help="maximum epochs (default 150)")
    pt.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    pt.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_model_args(pt)
    pt.set_defaults(func=_cmd_train_tdv)

    px = sub.add_parser(
        "train-expansion",
        help="learn SparTerm-style document expansion (term-to-term matrix + gate) on a BEIR split",
    )
    px.add_argument("data", help="BEIR folder with qrels/<split>.tsv")
    px.add_argument("--split", default="train", help="training qrels split (default: train)")
    px.add_argument(
        "--dev-split",
        default=None,
        help="qrels split for model selection (default: hold out part of the training queries)",
    )
    px.add_argument("-o", "--output", required=True, help="model file to write (.npz)")
    px.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    _add_analyzer_args(px.add_argument_group("analysis"))
    px.set_defaults(func=_cmd_train_expansion)

    pw = sub.add_parser(
        "expand",
        help="expand a BEIR corpus with a trained model into Anserini learned-sparse JSONL",
    )
    pw.add_argument("data", help="BEIR folder or corpus.jsonl[.gz]")
    pw.add_argument("--expansion", required=True, help="model written by train-expansion")
    pw.add_argument(
        "-o",
        "--output",
        required=True,
        help='JSONL(.gz) to write: {"id", "contents", "vector": {term: weight}} per document',
    )
    pw.add_argument(
        "--bits", type=int, default=8, help="integer weight width (default 8, as impact indexes)"
    )
    _add_analyzer_args(pw.add_argument_group("analysis"))
    pw.set_defaults(func=_cmd_expand)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("thresher: interrupted", file=sys.stderr)
        return 130
    except (_core.ThresherError, ValueError, TypeError, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"thresher: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

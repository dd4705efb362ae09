"""Checks thresher's ``tfidf`` scoring against Lucene's ClassicSimilarity on a BEIR collection.

Builds (once) a Lucene index with Anserini's IndexCollection (the benchmark's Lucene engine,
``pip install ".[bench]"``), searches it in-process with ``IndexSearcher`` and
``ClassicSimilarity`` for every query (bag of words: a ``TermQuery`` per analysed term, boosted
by its count, as Anserini's query generator), and compares the top 10 with a thresher
``Index.from_beir(..., scoring="tfidf")`` searched with the same terms.

    python benches/tfidf_vs_lucene.py --data ../shared/data/cranfield [--single-term]

``--single-term`` queries only each query's first term (one clause: no summation order).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engines

import thresher


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="../shared/data/cranfield")
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "tfidf_lucene"))
    ap.add_argument("--single-term", action="store_true")
    args = ap.parse_args()
    data, out = Path(args.data), Path(args.out)
    lucene_dir = out / (data.name + ".lucene")
    if not lucene_dir.exists():
        out.mkdir(parents=True, exist_ok=True)
        engines.Lucene({"k1": 0.9, "b": 0.4}).build(None, lucene_dir, data)
    engines.java_setup()
    # pyserini.pyclass first: it puts Anserini's jar on the classpath before jnius starts the JVM.
    from pyserini.pyclass import autoclass  # noqa: I001
    from jnius import cast

    reader = autoclass("org.apache.lucene.index.DirectoryReader").open(
        autoclass("org.apache.lucene.store.FSDirectory").open(
            autoclass("java.nio.file.Paths").get(str(lucene_dir))
        )
    )
    searcher = autoclass("org.apache.lucene.search.IndexSearcher")(
        cast("org.apache.lucene.index.IndexReader", reader)
    )
    searcher.setSimilarity(autoclass("org.apache.lucene.search.similarities.ClassicSimilarity")())
    Term = autoclass("org.apache.lucene.index.Term")
    TermQuery = autoclass("org.apache.lucene.search.TermQuery")
    BoostQuery = autoclass("org.apache.lucene.search.BoostQuery")
    Builder = autoclass("org.apache.lucene.search.BooleanQuery$Builder")
    should = autoclass("org.apache.lucene.search.BooleanClause$Occur").SHOULD
    stored = reader.storedFields()

    idx = thresher.Index.from_beir(data, scoring="tfidf")
    analyzer = thresher.Analyzer()
    queries = thresher.load_queries(data)
    n = same_ids = same_scores = 0
    worst = 0.0
    for text in queries.values():
        terms = collections.Counter(analyzer.tokenize(text))
        if args.single_term:
            terms = collections.Counter(list(terms)[:1])
        if not terms:
            continue
        b = Builder()
        for t, c in terms.items():
            tq = TermQuery(Term("contents", t))
            b.add(BoostQuery(tq, float(c)) if c != 1 else tq, should)
        lucene = [
            (stored.document(sd.doc).get("id"), sd.score)
            for sd in searcher.search(b.build(), 10).scoreDocs
        ]
        ours = idx.search(dict(terms), k=10)
        n += 1
        same_ids += [d for d, _ in lucene] == [d for d, _ in ours]
        same_scores += [s for _, s in lucene] == [s for _, s in ours]
        for (_, a), (_, o) in zip(lucene, ours):
            worst = max(worst, abs(a - o) / max(abs(a), 1e-30))
    print(
        json.dumps(
            {
                "collection": data.name,
                "queries": n,
                "single_term": args.single_term,
                "identical_top10_ids": same_ids,
                "bit_identical_top10_scores": same_scores,
                "worst_relative_score_difference": worst,
            }
        )
    )


if __name__ == "__main__":
    main()

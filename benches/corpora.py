#!/usr/bin/env python3
"""Benchmark corpora: BEIR-layout readers and a deterministic synthetic Zipf generator.

A BEIR-layout folder holds ``corpus.jsonl[.gz]`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and optionally ``qrels/test.tsv`` (header
``query-id corpus-id score``). Every engine indexes ``title + " " + text`` (BEIR "flat").
When qrels exist only the judged test queries are run.

Synthetic corpora (no qrels, so throughput only): documents of tokens ``w<rank>`` drawn
from a Zipf(s=1.0) law over a 500,000-word vocabulary, lengths Poisson(60) (min 1);
1,000 queries of 2-6 terms from the same law. The generator is deterministic for a seed
(default 20240601, the one used by ``shared/anchors/run_anchors.py --synthetic``):

* documents come from one random stream consumed in 100,000-document chunks, so the
  100k corpus is exactly the first 100k documents of the 1M corpus, which is the first
  1M of the 5M corpus (a nested family: scaling runs index growing prefixes);
* queries come from a second stream, so every size has the *same* queries.

Run:  python benches/corpora.py --size 1m --out /tmp/synthetic-1m   (sizes: 100k, 1m, 5m,
or any number with an optional k/m suffix). Writes the folder and a ``DONE`` marker;
re-running with a finished folder does nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

SYN_SEED = 20240601
SYN_VOCAB = 500_000
SYN_LEN = 60
SYN_QUERIES = 1_000
SYN_ZIPF = 1.0
SYN_CHUNK = 100_000


# ----------------------------------------------------------------------------- BEIR
def _open(path: Path | str) -> IO[str]:
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def corpus_path(data: Path | str) -> Path:
    for n in ("corpus.jsonl.gz", "corpus.jsonl"):
        p = Path(data) / n
        if p.exists():
            return p
    raise FileNotFoundError(f"no corpus.jsonl(.gz) in {data}")


def iter_corpus(data: Path | str) -> Iterator[tuple[str, str]]:
    """Yields (doc_id, title + ' ' + text) in file order."""
    with _open(corpus_path(data)) as f:
        for line in f:
            d = json.loads(line)
            title = d.get("title") or ""
            yield str(d["_id"]), (title + " " + (d.get("text") or "")).strip()


def count_docs(data: Path | str) -> int:
    with _open(corpus_path(data)) as f:
        return sum(1 for _ in f)


def load_qrels(data: Path | str) -> dict[str, dict[str, int]] | None:
    p = Path(data) / "qrels" / "test.tsv"
    if not p.exists():
        return None
    qrels: dict[str, dict[str, int]] = {}
    with open(p, encoding="utf-8") as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and parts[0] == "query-id":
                continue
            if len(parts) < 3:
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(float(parts[2]))
    return qrels


def load_queries(
    data: Path | str,
    qrels: dict[str, dict[str, int]] | None = None,
    max_queries: int = 0,
) -> list[tuple[str, str]]:
    """(qid, text) for every query, or only the judged ones when qrels are given."""
    out = []
    with _open(Path(data) / "queries.jsonl") as f:
        for line in f:
            d = json.loads(line)
            qid = str(d["_id"])
            if qrels is None or qid in qrels:
                out.append((qid, d["text"]))
    return out[:max_queries] if max_queries else out


# ------------------------------------------------------------------------ synthetic
def parse_size(s: str) -> int:
    s = s.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def synthetic_name(n_docs: int, seed: int = SYN_SEED) -> str:
    return f"synthetic-{size_label(n_docs)}" + ("" if seed == SYN_SEED else f"-s{seed}")


def make_synthetic(
    out_dir: Path | str,
    n_docs: int,
    seed: int = SYN_SEED,
    vocab: int = SYN_VOCAB,
    mean_len: int = SYN_LEN,
    n_queries: int = SYN_QUERIES,
    zipf_s: float = SYN_ZIPF,
) -> Path:
    """Writes a BEIR-layout folder (no qrels). Deterministic; see the module docstring."""
    import numpy as np

    out = Path(out_dir)
    params = {
        "n_docs": n_docs, "vocab": vocab, "mean_len": mean_len, "n_queries": n_queries,
        "seed": seed, "zipf_s": zipf_s,
    }  # fmt: skip
    if (out / "DONE").exists():
        old = json.loads((out / "PARAMS.json").read_text())
        if old != params:
            raise SystemExit(f"{out} holds a synthetic corpus with other parameters: {old}")
        return out
    out.mkdir(parents=True, exist_ok=True)
    p = 1.0 / np.arange(1, vocab + 1, dtype=np.float64) ** zipf_s
    cdf = np.cumsum(p / p.sum())
    words = np.array([f"w{i}" for i in range(vocab)], dtype=object)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), vocab - 1)

    doc_rng = np.random.default_rng([seed, 0])
    t0 = time.time()
    tmp = out / "corpus.jsonl.gz.tmp"
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f:
        for start in range(0, n_docs, SYN_CHUNK):
            # Always draw a full chunk so that a smaller corpus is a prefix of a larger one.
            lens = np.maximum(doc_rng.poisson(mean_len, SYN_CHUNK), 1)
            toks = words[draw(doc_rng, int(lens.sum()))]
            bounds = np.concatenate([[0], np.cumsum(lens)])
            n = min(SYN_CHUNK, n_docs - start)
            lines = [
                json.dumps(
                    {
                        "_id": f"d{start + j}",
                        "title": "",
                        "text": " ".join(toks[bounds[j] : bounds[j + 1]]),
                    }
                )
                for j in range(n)
            ]
            f.write("\n".join(lines) + "\n")
            print(
                f"  synthetic: {start + n:,}/{n_docs:,} docs ({time.time() - t0:.0f}s)",
                flush=True,
            )
    tmp.rename(out / "corpus.jsonl.gz")
    q_rng = np.random.default_rng([seed, 1])
    with open(out / "queries.jsonl", "w", encoding="utf-8") as f:
        for i in range(n_queries):
            qlen = int(q_rng.integers(2, 7))
            f.write(json.dumps({"_id": f"q{i}", "text": " ".join(words[draw(q_rng, qlen)])}) + "\n")
    (out / "PARAMS.json").write_text(json.dumps(params))
    (out / "SOURCE.md").write_text(
        f"Synthetic Zipf corpus written by benches/corpora.py: {json.dumps(params)}.\n"
        "Tokens w<rank> ~ Zipf(s) over the vocabulary, doc lengths Poisson(mean_len) (min 1), "
        "queries of 2-6 tokens from the same law. No qrels.\n"
    )
    (out / "DONE").touch()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", required=True, help="number of documents: 100k, 1m, 5m, ...")
    ap.add_argument("--out", required=True, help="output folder (BEIR layout)")
    ap.add_argument("--seed", type=int, default=SYN_SEED)
    ap.add_argument("--vocab", type=int, default=SYN_VOCAB)
    ap.add_argument("--mean-len", type=int, default=SYN_LEN)
    ap.add_argument("--queries", type=int, default=SYN_QUERIES)
    a = ap.parse_args()
    out = make_synthetic(a.out, parse_size(a.size), a.seed, a.vocab, a.mean_len, a.queries)
    print(out)


if __name__ == "__main__":
    main()

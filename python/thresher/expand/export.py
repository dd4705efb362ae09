"""Integer quantisation and Anserini's learned-sparse JSONL.

Quantisation (as impact indexes expect): one global scale per collection,
``scale = max weight / (2**bits - 1)`` and ``q = round(w / scale)``; a positive weight never
rounds to 0 (it becomes 1), so quantisation keeps every posting and the set of matching
documents. Scores of the quantised vectors are ``scale * (q . w_int)``: rankings change only
through rounding (measured in ``benches/expand_report.py``).

JSONL: one object per document, ``{"id": ..., "contents": "", "vector": {term: weight}}``
(Anserini's ``JsonVectorCollection``), terms in column order, weights as integers when
quantised. Index it with Anserini's ``-impact -pretokenized`` options and query with terms
analysed by thresher's analyzer (the vocabulary is analysed terms). The scale and bit width
go to a sidecar ``<file>.meta.json`` (``{"bits", "scale", "num_docs", "postings"}``) because
the JSONL format has no header; :func:`read_jsonl` reads it back when present.

With Anserini (the JSONL file alone in a directory; queries as a TSV of ``qid<TAB>terms``,
the terms analysed by thresher and separated by spaces)::

    bin/run.sh io.anserini.index.IndexCollection -collection JsonVectorCollection \
      -input expanded/ -index idx -generator DefaultLuceneDocumentGenerator \
      -impact -pretokenized -threads 2
    bin/run.sh io.anserini.search.SearchCollection -index idx -topics queries.tsv \
      -topicReader TsvString -output run.trec -impact -pretokenized -hits 1000

Anserini's impact scoring then gives ``sum_t count(t in q) * weight(t, d)`` (its
bag-of-words query generator boosts a repeated term by its count; the integer weight is
stored as the term frequency): the dot product of these vectors, up to the constant
``scale``.
"""

# Matrix names follow the maths.
# ruff: noqa: N803, N806

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from thresher._atomic import atomic_path

__all__ = ["dequantize", "quantize", "read_jsonl", "write_jsonl"]


def _check_weights(W: sp.csr_matrix) -> None:
    if not np.all(np.isfinite(W.data)):
        raise ValueError("document weights must be finite (found NaN or infinity)")
    if np.any(W.data < 0):
        raise ValueError("document weights must be >= 0 (found a negative weight)")


def quantize(W: sp.csr_matrix, bits: int = 8) -> tuple[sp.csr_matrix, float]:
    """Integer weights in ``[1, 2**bits - 1]`` for every positive weight.

    Args:
        W: non-negative weights (CSR).
        bits: width of the integers (1 to 31; 8 as Anserini's impact indexes).

    Returns:
        ``(Wq, scale)`` with ``Wq`` an ``int32`` CSR of the same sparsity minus zeros, and
        ``W ~ scale * Wq``.

    Raises:
        ValueError: NaN, infinite or negative weights, bad ``bits``.
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 31:
        raise ValueError(f"bits must be an integer in [1, 31], got {bits!r}")
    W = sp.csr_matrix(W, dtype=np.float64)
    _check_weights(W)
    W.eliminate_zeros()
    W.sort_indices()
    top = float(W.data.max()) if W.nnz else 1.0
    scale = top / (2**bits - 1)
    q = np.maximum(np.rint(W.data / scale), 1).astype(np.int32)
    return sp.csr_matrix((q, W.indices.copy(), W.indptr.copy()), shape=W.shape), scale


def dequantize(Wq: sp.csr_matrix, scale: float) -> sp.csr_matrix:
    """``scale * Wq`` as ``float32``."""
    return sp.csr_matrix(Wq, dtype=np.float32) * np.float32(scale)


def write_jsonl(
    path: str | os.PathLike[str],
    doc_ids: Sequence[str],
    W: sp.csr_matrix,
    vocab: Sequence[str],
    *,
    bits: int | None = 8,
) -> float | None:
    """Writes Anserini learned-sparse JSONL (``.gz`` compresses), atomically.

    Args:
        path: output file; ``<path>.meta.json`` receives the scale.
        doc_ids: one id per row of ``W``.
        W: document weights over ``vocab``.
        vocab: column terms.
        bits: quantise to integers of this width; ``None`` writes the float weights.

    Returns:
        The quantisation scale (``None`` for float output).

    Raises:
        ValueError: mismatched sizes, bad weights, empty or duplicate terms.
    """
    W = sp.csr_matrix(W)
    seen: set[str] = set()
    for d in map(str, doc_ids):
        if not d or d in seen:
            raise ValueError(f"document ids must be non-empty and distinct; {d!r} is not")
        seen.add(d)
    if W.shape != (len(doc_ids), len(vocab)):
        raise ValueError(
            f"weights are {W.shape[0]} x {W.shape[1]} but there are {len(doc_ids)} ids and "
            f"{len(vocab)} terms"
        )
    if len(set(vocab)) != len(vocab) or any(not t for t in vocab):
        raise ValueError("vocabulary terms must be non-empty and distinct")
    scale: float | None = None
    if bits is None:
        W = sp.csr_matrix(W, dtype=np.float64)
        _check_weights(W)
        W.eliminate_zeros()
        W.sort_indices()
    else:
        W, scale = quantize(W, bits)
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    terms = list(vocab)
    with atomic_path(p) as tmp, opener(tmp, "wt", encoding="utf-8") as f:
        for r, did in enumerate(doc_ids):
            lo, hi = W.indptr[r], W.indptr[r + 1]
            if bits is None:
                vec = {terms[j]: float(w) for j, w in zip(W.indices[lo:hi], W.data[lo:hi])}
            else:
                vec = {terms[j]: int(w) for j, w in zip(W.indices[lo:hi], W.data[lo:hi])}
            rec = {"id": str(did), "contents": "", "vector": vec}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    meta = {"bits": bits, "scale": scale, "num_docs": len(doc_ids), "postings": int(W.nnz)}
    with atomic_path(str(p) + ".meta.json") as tmp:
        tmp.write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return scale


def read_jsonl(
    path: str | os.PathLike[str],
) -> tuple[list[str], sp.csr_matrix, list[str], float | None]:
    """Reads learned-sparse JSONL back.

    Returns:
        ``(doc_ids, W, vocab, scale)``: ``W`` as stored (integers when quantised, as
        ``float64``), ``vocab`` in order of first appearance, ``scale`` from the sidecar
        (``None`` when absent or unquantised).

    Raises:
        ValueError: invalid JSON, a record without ``id``/``vector``, or a bad weight (file
            and line named).
    """
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    ids: list[str] = []
    index: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    with opener(p, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                did, vec = str(rec["id"]), rec["vector"]
                if not isinstance(vec, dict):
                    raise TypeError("vector is not an object")
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(f"{p} line {n}: not a learned-sparse record ({e})") from None
            for t, w in vec.items():
                if isinstance(w, bool) or not isinstance(w, (int, float)):
                    raise ValueError(f"{p} line {n}: weight of {t!r} is not a number")
                if not np.isfinite(w) or w < 0:
                    raise ValueError(f"{p} line {n}: weight of {t!r} must be finite and >= 0")
                indices.append(index.setdefault(t, len(index)))
                data.append(float(w))
            ids.append(did)
            indptr.append(len(indices))
    W = sp.csr_matrix(
        (np.asarray(data), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(ids), len(index)),
    )
    W.sum_duplicates()
    W.sort_indices()
    scale = None
    meta = Path(str(p) + ".meta.json")
    if meta.is_file():
        scale = json.loads(meta.read_text(encoding="utf-8")).get("scale")
    return ids, W, list(index), scale

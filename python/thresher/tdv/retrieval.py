"""Retrieval with the scipy scorer, optionally over a TDV-reweighted index."""

# Matrix names follow the maths (X = doc-term tf, Q = queries, E = features, ...).
# ruff: noqa: N806

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .data import Corpus
from .metrics import run_dict
from .model import reweight
from .scoring import ScoringConfig, score_matrix, search

__all__ = ["retrieve"]


def retrieve(
    corpus: Corpus,
    queries: Mapping[str, Sequence[str]],
    weights: np.ndarray | None = None,
    scoring: ScoringConfig | None = None,
    k: int = 1000,
) -> dict[str, dict[str, float]]:
    """Top-``k`` run ``{qid: {docid: score}}`` for analysed ``queries``.

    ``weights`` (aligned to ``corpus.vocab``) reweights the postings to
    ``weights * tf`` and drops zero-weight terms; ``None`` is plain BM25/TF-IDF.
    """
    scoring = scoring or ScoringConfig()
    X = corpus.tf if weights is None else reweight(corpus.tf, weights)
    qids = list(queries)
    Q = corpus.query_matrix([queries[q] for q in qids])
    idx, sc = search(score_matrix(X, scoring), Q, k)
    return run_dict(qids, corpus.doc_ids, idx, sc)

"""Vocabulary and bag-of-terms matrices.

The expansion vocabulary is the analyzer's own terms (by default Anserini's English analyzer:
Lucene tokenizer, stop words removed, Porter stemmer), so a query needs nothing but the
analyzer at search time: no model runs on the query side.
"""

# ruff: noqa: N806

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["Vocabulary", "bag_matrix"]


class Vocabulary:
    """An ordered list of terms with a term -> id map.

    Args:
        terms: distinct terms; their position is their id.

    Raises:
        ValueError: a repeated or empty term, or a term that is not a ``str``.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms: list[str] = list(terms)
        self.index: dict[str, int] = {}
        for i, t in enumerate(self.terms):
            if not isinstance(t, str) or not t:
                raise ValueError(f"vocabulary term #{i} must be a non-empty str, got {t!r}")
            if self.index.setdefault(t, i) != i:
                raise ValueError(f"vocabulary term {t!r} is repeated")

    @classmethod
    def from_documents(cls, *collections: Iterable[Sequence[str]]) -> Vocabulary:
        """Terms of tokenised texts in order of first appearance (deterministic)."""
        seen: dict[str, None] = {}
        for docs in collections:
            for doc in docs:
                for t in doc:
                    seen.setdefault(t, None)
        return cls(seen)

    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, term: object) -> bool:
        return term in self.index

    def extended(self, docs: Iterable[Sequence[str]]) -> Vocabulary:
        """This vocabulary followed by the new terms of ``docs`` (ids of old terms unchanged)."""
        seen = dict.fromkeys(self.terms)
        for doc in docs:
            for t in doc:
                seen.setdefault(t, None)
        return self if len(seen) == len(self.terms) else Vocabulary(seen)


def bag_matrix(
    texts: Sequence[Sequence[str]] | Sequence[Mapping[str, float]],
    vocab: Vocabulary,
    *,
    what: str = "document",
) -> sp.csr_matrix:
    """Rows of term counts (or given weights) over ``vocab``; unknown terms are dropped.

    Args:
        texts: each a list of terms (weight = count) or a ``{term: weight}`` mapping.
        vocab: the column space.
        what: the name used in error messages.

    Returns:
        ``float64`` CSR with sorted indices, shape ``(len(texts), len(vocab))``.

    Raises:
        TypeError: a text that is a ``str`` (pass analysed terms).
        ValueError: a NaN, infinite or negative weight.
    """
    index = vocab.index
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for n, text in enumerate(texts):
        if isinstance(text, (str, bytes)):
            raise TypeError(f"{what} #{n} is a str; pass its analysed terms (Analyzer.tokenize)")
        if isinstance(text, Mapping):
            for t, w in text.items():
                wf = float(w)
                if not np.isfinite(wf) or wf < 0:
                    raise ValueError(f"{what} #{n}: weight of {t!r} must be finite and >= 0")
                i = index.get(t)
                if i is not None and wf > 0:
                    indices.append(i)
                    data.append(wf)
        else:
            for t in text:
                i = index.get(t)
                if i is not None:
                    indices.append(i)
                    data.append(1.0)
        indptr.append(len(indices))
    M = sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), indptr),
        shape=(len(indptr) - 1, len(vocab)),
    )
    M.sum_duplicates()
    M.sort_indices()
    return M

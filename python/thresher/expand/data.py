"""Analysed BEIR collections for training and evaluating expansion models.

Documents are ``title + " " + text`` (BEIR flat indexing, as ``thresher.Index.from_beir``),
analysed with ``thresher.Analyzer()`` unless another analyzer is given.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from thresher._core import Analyzer
from thresher.data import iter_beir_corpus, load_qrels, load_queries

__all__ = ["Collection", "TextAnalyzer", "load_collection"]


class TextAnalyzer(Protocol):
    """What training needs of an analyzer: ``thresher.Analyzer`` or
    :class:`thresher.expand.subword.SubwordAnalyzer`."""

    def tokenize_batch(self, texts: Sequence[str], threads: int | None = None) -> list[list[str]]:
        """The terms of many texts."""
        ...

    def config_json(self) -> str:
        """The configuration as JSON (recorded in trained models)."""
        ...


@dataclass
class Collection:
    """A tokenised BEIR collection.

    Attributes:
        doc_ids: external document ids, in corpus order.
        docs: analysed terms of each document.
        queries: ``{query id: analysed terms}`` (all queries of ``queries.jsonl``).
        qrels: ``{split: {query id: {doc id: grade}}}`` for the splits that were loaded.
    """

    doc_ids: list[str]
    docs: list[list[str]]
    queries: dict[str, list[str]]
    qrels: dict[str, dict[str, dict[str, int]]]


def load_collection(
    path: str | os.PathLike[str],
    splits: tuple[str, ...] = ("train", "test"),
    analyzer: TextAnalyzer | None = None,
) -> Collection:
    """Reads and analyses a BEIR folder; splits without a ``qrels/<split>.tsv`` are skipped.

    Raises:
        FileNotFoundError: no corpus or queries file.
        ValueError: none of ``splits`` exists.
    """
    p = Path(path)
    analyzer = analyzer or Analyzer()
    pairs = list(iter_beir_corpus(p))
    doc_ids = [d for d, _ in pairs]
    docs = analyzer.tokenize_batch([t for _, t in pairs])
    qtext = load_queries(p)
    qids = list(qtext)
    qtoks = analyzer.tokenize_batch([qtext[q] for q in qids])
    qrels = {s: load_qrels(p, s) for s in splits if (p / "qrels" / f"{s}.tsv").is_file()}
    if not qrels:
        raise ValueError(f"none of the splits {', '.join(splits)} has qrels in {p}")
    return Collection(doc_ids, docs, dict(zip(qids, qtoks)), qrels)

"""Corpus containers, BEIR loaders and a development stand-in analyzer.

Everything in :mod:`thresher.tdv` works on *already analysed* text: a document
or a query is a list of terms (the output of an analyzer). :class:`Corpus` turns
such lists into a document-term CSR matrix of term frequencies aligned to a
vocabulary; queries become a query-term CSR matrix of query-term counts over the
same vocabulary (terms unknown to the corpus are dropped: they match nothing).

The product analyzer is ``thresher.Analyzer(stemmer="porter").tokenize``
(Lucene-compatible English). Until it is available, :func:`standin_analyzer`
approximates it with a regular expression tokenizer (close to UAX#29 word
boundaries for Latin text), English possessive removal, lower-casing, Lucene's
33 English stop words and PyStemmer's original Porter stemmer. Nothing in this
module imports ``thresher._core``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from thresher.data import iter_beir_corpus, load_qrels, load_queries

__all__ = [
    "LUCENE_ENGLISH_STOP_WORDS",
    "Corpus",
    "load_beir",
    "read_qrels",
    "standin_analyzer",
]

#: Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`` (33 words).
LUCENE_ENGLISH_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)

# Letters/digits joined by mid-word punctuation the way UAX#29 joins them:
# letters across . : ' (MidLetter/MidNumLet), digits across . , ; ' (MidNum/
# MidNumLet): "e.g", "don't", "1,000", "3.5" stay one token; "a,b", "pu.1"
# split. (C) (R) TM are emitted as tokens as Lucene does for pictographs.
_TOKEN_RE = re.compile(
    r"\w+(?:(?:(?<=[^\W\d_])[.:'\u2019](?=[^\W\d_])|(?<=\d)[.,;'\u2019](?=\d))\w+)*"
    r"|[\u00a9\u00ae\u2122]",
    re.UNICODE,
)


def _lucene_porter(stem: Callable[[str], str], word: str) -> str:
    """PyStemmer's original Porter, adjusted to Lucene's ``PorterStemmer``.

    Lucene leaves words of at most two characters alone and applies the
    revised step-2 rules ``logi -> log`` and ``bli -> ble`` (the ``e`` is
    then dropped by step 5 for the words where this matters).
    """
    if len(word) <= 2:
        return word
    s = stem(word)
    if s.endswith("logi") and _measure(s[:-4]) > 0:
        return s[:-1]
    if s.endswith("bli") and _measure(s[:-3]) > 0:
        return stem(s[:-1] + "e")
    return s


def _measure(stem: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in ``stem``."""
    pattern: list[str] = []
    for i, ch in enumerate(stem):
        vowel = ch in "aeiou" or (ch == "y" and i > 0 and pattern[-1] == "c")
        pattern.append("v" if vowel else "c")
    return "".join(pattern).count("vc")


def standin_analyzer() -> Callable[[str], list[str]]:
    """Return a development stand-in for ``thresher.Analyzer(stemmer="porter").tokenize``.

    Regex word tokenizer, possessive ``'s`` removal, lower-casing, Lucene's 33
    English stop words, Porter stemming (PyStemmer ``"porter"``, the original
    Porter algorithm that Lucene's ``PorterStemFilter`` implements).
    """
    import Stemmer  # PyStemmer; imported lazily so the package imports without it

    stemmer = Stemmer.Stemmer("porter")
    stem = stemmer.stemWord
    stop = LUCENE_ENGLISH_STOP_WORDS
    cache: dict[str, str] = {}

    def analyze(text: str) -> list[str]:
        out = []
        for tok in _TOKEN_RE.findall(text.lower()):
            tok = tok.replace("\u2019", "'")
            tok = tok.removesuffix("'s")
            tok = tok.strip("_")
            if not tok or tok in stop:
                continue
            s = cache.get(tok)
            if s is None:
                s = cache[tok] = _lucene_porter(stem, tok)
            out.append(s)
        return out

    return analyze


def _check_ids(ids: Sequence[str], what: str) -> list[str]:
    ids = [str(i) for i in ids]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate {what} ids")
    return ids


@dataclass
class Corpus:
    """A tokenised collection: ids, vocabulary and document-term tf matrix.

    ``tf`` is a ``len(doc_ids) x len(vocab)`` CSR matrix of float64 term
    frequencies with sorted indices and no explicit zeros.
    """

    doc_ids: list[str]
    vocab: list[str]
    tf: sp.csr_matrix
    term_index: dict[str, int] = field(default_factory=dict, repr=False)
    doc_index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.tf.shape != (len(self.doc_ids), len(self.vocab)):
            raise ValueError(
                f"tf matrix shape {self.tf.shape} does not match "
                f"{len(self.doc_ids)} documents x {len(self.vocab)} terms"
            )
        if not self.term_index:
            self.term_index = {t: i for i, t in enumerate(self.vocab)}
        if len(self.term_index) != len(self.vocab):
            raise ValueError("duplicate terms in vocabulary")
        if not self.doc_index:
            self.doc_index = {d: i for i, d in enumerate(self.doc_ids)}

    # ------------------------------------------------------------------ build
    @classmethod
    def from_tokens(
        cls,
        doc_ids: Sequence[str],
        docs_tokens: Iterable[Sequence[str]],
        vocab: Sequence[str] | None = None,
    ) -> Corpus:
        """Build from one list of terms per document.

        With ``vocab=None`` the vocabulary is every term seen, sorted; with a
        given ``vocab`` the columns follow it and other terms are ignored.
        """
        doc_ids = _check_ids(doc_ids, "document")
        docs_tokens = list(docs_tokens)
        if len(docs_tokens) != len(doc_ids):
            raise ValueError(f"{len(doc_ids)} document ids but {len(docs_tokens)} token lists")
        if vocab is None:
            vocab = sorted({t for toks in docs_tokens for t in toks})
        vocab = list(vocab)
        index = {t: i for i, t in enumerate(vocab)}
        if len(index) != len(vocab):
            raise ValueError("duplicate terms in vocabulary")
        tf = _count_matrix(docs_tokens, index)
        return cls(doc_ids, vocab, tf, index)

    @classmethod
    def from_texts(
        cls,
        doc_ids: Sequence[str],
        texts: Iterable[str],
        analyze: Callable[[str], list[str]],
        vocab: Sequence[str] | None = None,
    ) -> Corpus:
        """Analyse raw texts with ``analyze`` and build the corpus."""
        return cls.from_tokens(doc_ids, [analyze(t) for t in texts], vocab)

    # ------------------------------------------------------------------ query
    def query_matrix(self, queries_tokens: Iterable[Sequence[str]]) -> sp.csr_matrix:
        """Query-term count matrix over this corpus' vocabulary (OOV dropped)."""
        return _count_matrix(list(queries_tokens), self.term_index)

    @property
    def n_docs(self) -> int:
        return len(self.doc_ids)

    @property
    def n_terms(self) -> int:
        return len(self.vocab)

    def reweighted(self, weights: np.ndarray) -> sp.csr_matrix:
        """Document-term matrix with entries ``weights[t] * tf``; zero-weight terms removed."""
        from .model import reweight

        return reweight(self.tf, weights)


def _count_matrix(token_lists: Sequence[Sequence[str]], index: Mapping[str, int]) -> sp.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    get = index.get
    for r, toks in enumerate(token_lists):
        if isinstance(toks, str):
            raise TypeError("expected a list of terms per document/query, got a string")
        for t in toks:
            c = get(t)
            if c is not None:
                rows.append(r)
                cols.append(c)
    data = np.ones(len(rows), dtype=np.float64)
    m = sp.coo_matrix(
        (data, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(token_lists), len(index)),
    ).tocsr()
    m.sum_duplicates()
    m.sort_indices()
    return m


# ---------------------------------------------------------------------- BEIR


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Read a qrels file: BEIR TSV (header ``query-id corpus-id score``) or TREC
    (:func:`thresher.data.load_qrels`; bad lines are errors naming file and line)."""
    return load_qrels(Path(path))


def load_beir(
    path: str | Path,
) -> tuple[dict[str, str], dict[str, str], dict[str, dict]]:
    """Load a BEIR folder: ``(docs, queries, {split: qrels})``.

    Document text is ``title + " " + text``. Read with :mod:`thresher.data`'s loaders, so a bad
    file is an error naming it (and the line, or the document).

    Raises:
        ValueError: invalid JSON, a record without id, a repeated document or query id, a
            first document without both ``title`` and ``text`` keys (as ``Index.from_beir``),
            a later one with neither, a bad qrels line.
    """
    path = Path(path)
    docs: dict[str, str] = {}
    for doc_id, text in iter_beir_corpus(path):
        if doc_id in docs:
            raise ValueError(f"{path}: document id {doc_id!r} appears twice")
        docs[doc_id] = text
    queries = load_queries(path)
    qrels = {p.stem: read_qrels(p) for p in sorted((path / "qrels").glob("*.tsv"))}
    return docs, queries, qrels

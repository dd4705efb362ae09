"""Type stubs of the compiled module ``thresher._core`` (hand-written; checked by stubtest)."""

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import final

import numpy as np
import numpy.typing as npt

__all__ = [
    "CPU_LEVEL",
    "FORMAT_VERSION",
    "SCORINGS",
    "STEMMERS",
    "Analyzer",
    "ImpactBuilder",
    "IncompatibleIndexError",
    "Index",
    "IndexBuilder",
    "IndexCorruptedError",
    "ThresherError",
    "__version__",
]

__version__: str
FORMAT_VERSION: int
CPU_LEVEL: str
"""Instruction-set level searches run at: ``"v4"`` (AVX-512), ``"v3"`` (AVX2) or ``"portable"``."""
STEMMERS: list[str]
SCORINGS: list[str]

class ThresherError(Exception):
    """Base class of thresher's own errors."""

class IndexCorruptedError(ThresherError):
    """An index file is damaged (bad magic number, checksum mismatch, truncation, inconsistency)."""

class IncompatibleIndexError(ThresherError):
    """The index was written in a format version this thresher cannot read."""

_Query = str | Sequence[str] | Mapping[str, float]

@final
class Analyzer:
    """Text -> index terms.

    The default reproduces Anserini's default English analyzer (Lucene ``StandardTokenizer``,
    English possessive removal, lowercasing, Lucene's 33 English stop words, Porter stemmer).

    Args:
        stemmer: ``"porter"`` (Lucene's PorterStemFilter), ``"snowball"`` (English) or ``"none"``.
        stopwords: words to drop (any iterable of str; lowercased when ``lowercase``, since
            they are matched after lowercasing); ``None`` = Lucene's English stop set, ``[]`` =
            keep all.
        lowercase: lowercase tokens.
        possessive: strip English possessives (``'s``).
        max_token_length: longest token, in UTF-16 units (Lucene's default 255).

    Raises:
        ValueError: unknown stemmer (the valid names are listed) or bad max_token_length.
    """

    def __new__(
        cls,
        *,
        stemmer: str = "porter",
        stopwords: Iterable[str] | None = None,
        lowercase: bool = True,
        possessive: bool = True,
        max_token_length: int = 255,
    ) -> Analyzer: ...
    def tokenize(self, text: str) -> list[str]:
        """The terms of ``text``."""
    def tokenize_batch(self, texts: Sequence[str], threads: int | None = None) -> list[list[str]]:
        """The terms of many texts, analysed in parallel with the GIL released."""
    def config_json(self) -> str:
        """The configuration as JSON (as stored in an index's meta.json)."""

@final
class Index:
    """Low-level index handle; use :class:`thresher.Index`."""

    @staticmethod
    def load(path: str | PathLike[str], *, mmap: bool = True, verify: bool = True) -> Index: ...
    def save(self, path: str | PathLike[str]) -> None: ...
    def search(
        self,
        query: _Query,
        k: int = 10,
        *,
        algorithm: str = "auto",
        allow: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | None = None,
    ) -> list[tuple[str, float]]: ...
    def search_batch(
        self,
        queries: Iterable[_Query],
        k: int = 10,
        threads: int | None = None,
        *,
        algorithm: str = "auto",
        allow: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]: ...
    def vocabulary(self) -> list[str]: ...
    def term_weights(self) -> npt.NDArray[np.float32]: ...
    def doc_term_matrix(
        self,
    ) -> tuple[
        npt.NDArray[np.int32] | npt.NDArray[np.int64],
        npt.NDArray[np.int32] | npt.NDArray[np.int64],
        npt.NDArray[np.int32],
        tuple[int, int],
    ]: ...
    def reweight(
        self,
        weights: npt.NDArray[np.float32],
        *,
        scoring: str = "tdv-bm25",
        k1: float = 0.9,
        b: float = 0.4,
    ) -> Index:
        """A new index over learned term weights; ``weights`` is borrowed, not copied: do not
        modify it during the call."""
    def doc_ids(self) -> list[str]: ...
    def doc_id(self, doc: int) -> str: ...
    def doc_freq(self, term: str) -> int: ...
    def meta_json(self) -> str: ...
    @property
    def analyzer(self) -> Analyzer: ...
    @property
    def path(self) -> str | None: ...
    def __len__(self) -> int: ...

@final
class IndexBuilder:
    """Low-level builder; use :meth:`thresher.Index.build`."""

    def __new__(
        cls,
        *,
        analyzer: Analyzer | None = None,
        scoring: str = "lucene",
        k1: float = 0.9,
        b: float = 0.4,
        delta: float | None = None,
        threads: int | None = None,
    ) -> IndexBuilder: ...
    def add(self, ids: Sequence[str], docs: Iterable[str | bytes | Sequence[str]]) -> None: ...
    def open_corpus(self, path: str | PathLike[str], fields: Sequence[str]) -> int: ...
    def add_from_corpus(self, max_docs: int) -> tuple[int, int]: ...
    def finish(self) -> Index: ...
    def __len__(self) -> int: ...

@final
class ImpactBuilder:
    """Low-level builder of impact indexes; use :meth:`thresher.Index.from_vectors`,
    :meth:`thresher.Index.from_csr` or :meth:`thresher.Index.from_impact_jsonl`."""

    def __new__(
        cls,
        *,
        analyzer: Analyzer | None = None,
        bits: int = 8,
        scale: float | None = None,
        threads: int | None = None,
    ) -> ImpactBuilder: ...
    def add(
        self,
        ids: Sequence[str],
        vectors: Iterable[Mapping[str, float] | Iterable[tuple[str, float]]],
    ) -> None: ...
    def add_csr(
        self,
        ids: Sequence[str],
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int64],
        data: npt.NDArray[np.float32],
        vocab: Sequence[str],
    ) -> None:
        """Adds CSR rows; the arrays are borrowed, not copied: do not modify them during the
        call."""
    def open_jsonl(self, path: str | PathLike[str]) -> int: ...
    def add_from_jsonl(self, max_docs: int) -> tuple[int, int]: ...
    def finish(self) -> Index: ...
    def __len__(self) -> int: ...

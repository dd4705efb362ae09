"""``thresher.Index``: build, save, load and search an inverted index.

The index lives in Rust (``thresher._core.Index``); this wrapper adds what is convenient in
Python: building from any iterable or from BEIR/JSONL files with a progress bar, numpy doc-id
mapping, and argument checks with precise messages.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from thresher import _core
from thresher._core import Analyzer
from thresher.data import _check_fields, _text_field

Query = str | Sequence[str] | Mapping[str, float]
Document = str | bytes | Sequence[str]
Allow = np.ndarray | Iterable[str] | Iterable[int]

ALGORITHMS = ("auto", "maxscore", "bmw", "exhaustive")
TermWeights = Callable[[list[str], Any], Any]
Progress = bool | Callable[[int], Any] | None

DEFAULT_FIELDS = ("title", "text")
_ID_FIELDS = ("_id", "id", "docid")


# Larger k changes nothing (results stop at the matching documents) and would overflow int64.
_K_MAX = 2**62


def _check_k(k: object) -> int:
    if type(k) is int and 0 < k <= _K_MAX:  # fast path: the ABC check costs more than a search
        return k
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an int, not {type(k).__name__}")
    if k <= 0:
        raise ValueError(f"k must be a positive integer, got {k}")
    return min(int(k), _K_MAX)


def _check_threads(threads: object) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    if threads <= 0:
        raise ValueError(f"threads must be a positive integer or None, got {threads}")
    return int(threads)


def _check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int, not {type(batch_size).__name__}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    return int(batch_size)


def _check_algorithm(algorithm: object) -> str:
    if type(algorithm) is str and algorithm == "auto":
        return algorithm
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be a str, not {type(algorithm).__name__}")
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {algorithm!r}; valid algorithms: {', '.join(ALGORITHMS)}"
        )
    return algorithm


def _check_query(q: object) -> Query:
    if type(q) is str:
        return q
    if isinstance(q, (str, Mapping)):  # weights are checked in Rust as they are read
        return q  # type: ignore[return-value]
    if isinstance(q, (list, tuple)) and all(isinstance(t, str) for t in q):
        return list(q)
    raise TypeError(
        "a query must be a str, a list of str (pre-analysed terms) or a dict of str to float, "
        f"not {type(q).__name__}"
    )


class _Bar:
    """A progress sink: a tqdm bar, a user callback, or nothing."""

    def __init__(self, progress: Progress, total: int | None, unit: str, desc: str) -> None:
        self._bar = None
        self._cb: Callable[[int], Any] | None = None
        if progress is True:
            from tqdm.auto import tqdm

            # disable=None: no bar when stderr is not a terminal (logs, CI, pipes).
            self._bar = tqdm(
                total=total, unit=unit, desc=desc, unit_scale=True, leave=False, disable=None
            )
        elif callable(progress):
            self._cb = progress
        elif progress not in (None, False):
            raise TypeError("progress must be True, False, None or a callable")

    def update(self, done: int, delta: int) -> None:
        if self._bar is not None:
            self._bar.update(delta)
        if self._cb is not None:
            self._cb(done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _read_in_batches(
    add: Callable[[int], tuple[int, int]],
    path: str | os.PathLike[str],
    size: int,
    batch_size: int,
    progress: Progress,
) -> None:
    """Calls ``add(batch_size)`` - a builder reading the next documents of an open file in Rust
    and returning (documents added, bytes read so far) - until it adds none, with a progress
    bar in bytes (documents for gzip files, whose decompressed size is unknown). Shared by the
    text corpus and vector file readers."""
    gz = str(path).endswith(".gz")
    bar = _Bar(progress, None if gz else size, "doc" if gz else "B", "indexing")
    try:
        done, last = 0, 0
        while True:
            n, read = add(batch_size)
            if n == 0:
                break
            done += n
            bar.update(done, n if gz else read - last)
            last = read
    finally:
        bar.close()


def _add_in_batches(
    builder: Any,
    items: Iterable[Any],
    split: Callable[[Any, int], tuple[str, Any]],
    batch_size: int,
    progress: Progress,
) -> None:
    """Feeds ``(id, document)`` pairs made by ``split(item, position)`` to ``builder.add`` in
    batches of ``batch_size``, with a progress bar (shared by text and vector builders)."""
    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    bar = _Bar(progress, total, "doc", "indexing")
    try:
        ids: list[str] = []
        docs: list[Any] = []
        done = 0
        for i, item in enumerate(items):
            doc_id, doc = split(item, i)
            ids.append(doc_id)
            docs.append(doc)
            if len(ids) >= batch_size:
                builder.add(ids, docs)
                done += len(ids)
                bar.update(done, len(ids))
                ids, docs = [], []
        if ids:
            builder.add(ids, docs)
            done += len(ids)
            bar.update(done, len(ids))
    finally:
        bar.close()


def _mapping_id(item: Mapping[str, Any], what: str, position: int) -> str:
    """The id of a dict document or vector (the first of ``_ID_FIELDS`` it has), as str."""
    for f in _ID_FIELDS:
        if f in item:
            if item[f] is None:  # as from_jsonl: a null id is an error, not the id "None"
                raise ValueError(f"{what} #{position}: the id field {f!r} is null")
            return str(item[f])
    raise ValueError(f"{what} #{position}: no id field (looked for {', '.join(_ID_FIELDS)})")


def _pair_id(doc_id: object, what: str, position: int) -> str:
    """The id of a ``(doc_id, ...)`` pair, which must be a str."""
    if not isinstance(doc_id, str):
        raise TypeError(f"{what} #{position}: the id must be a str, not {type(doc_id).__name__}")
    return doc_id


def _split_item(item: object, fields: Sequence[str], position: int) -> tuple[str, Document]:
    if isinstance(item, Mapping):
        doc_id = _mapping_id(item, "document", position)
        if "tokens" in item:
            return doc_id, item["tokens"]
        missing = [f for f in fields if f not in item]
        if len(missing) == len(fields):
            raise ValueError(
                f"document #{position} ({doc_id!r}): unknown field(s) {', '.join(fields)}; "
                f"it has {', '.join(map(str, item))}"
            )
        where = f"document #{position} ({doc_id!r})"
        return doc_id, " ".join(_text_field(item, f, where) for f in fields)
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return _pair_id(item[0], "document", position), item[1]
    raise TypeError(
        f"document #{position}: expected a (doc_id, text) pair or a dict, not {type(item).__name__}"
    )


def _split_vector(item: object, position: int) -> tuple[str, object]:
    if isinstance(item, Mapping):
        doc_id = _mapping_id(item, "vector", position)
        if "vector" not in item:
            raise ValueError(f"vector #{position} ({doc_id!r}): no 'vector' field")
        return doc_id, item["vector"]
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return _pair_id(item[0], "vector", position), item[1]
    raise TypeError(
        f"vector #{position}: expected a (doc_id, vector) pair or a dict with 'id' and "
        f"'vector', not {type(item).__name__}"
    )


def _float32_weights(arr: np.ndarray, what: str) -> np.ndarray:
    """Weights as contiguous ``float32``, checked before narrowing (a huge float64 must not
    become inf silently, nor a tiny negative number -0.0). ``what`` names an entry in the
    error ("the weight", "the matrix entry")."""
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"weights must be numbers, not {arr.dtype}")
    narrowed = arr.dtype != np.float32
    bad = ~np.isfinite(arr) | (arr < 0)
    if narrowed:
        # Too large becomes inf; a positive weight too small for float32 would become 0 and
        # silently drop its term.
        with np.errstate(over="ignore"):
            narrow = arr.astype(np.float32)
        bad |= (arr > np.finfo(np.float32).max) | ((arr > 0) & (narrow == 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        rule = "finite, >= 0 and representable as float32" if narrowed else "finite and >= 0"
        raise ValueError(f"{what} at position {i} is {arr[i]}; weights must be {rule}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _check_2d(matrix: Any) -> None:
    shape = getattr(matrix, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(
            f"expected a 2-D (rows x vocabulary) matrix, got shape {shape}"
            if shape is not None
            else f"expected a 2-D matrix, not {type(matrix).__name__}"
        )


def _id_array(ids: list[str]) -> np.ndarray:
    """``ids`` as a fixed-width ``str`` array when that costs at most twice the characters
    (plus a little) and keeps every id intact, else as an ``object`` array."""
    if not ids:
        return np.asarray(ids, dtype=str)
    longest = max(map(len, ids))
    total = sum(map(len, ids))
    if longest * len(ids) <= 2 * total + 16 * len(ids) and not any(d.endswith("\0") for d in ids):
        return np.asarray(ids, dtype=str)
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


class Index:
    """An exact sparse-retrieval index made of immutable segments.

    Build one with :meth:`build`, :meth:`from_beir` or :meth:`from_jsonl`; persist it with
    :meth:`save` and :meth:`load`; query it with :meth:`search` and :meth:`search_batch`.

    Example:
        >>> import thresher
        >>> idx = thresher.Index.build([("d1", "The cat sat on the mat."), ("d2", "Dogs bark.")])
        >>> idx.search("cats", k=5)[0][0]
        'd1'
    """

    def __init__(self, inner: _core.Index) -> None:
        self._inner = inner
        self._doc_ids: np.ndarray | None = None
        self._numbers: dict[str, int] | None = None
        self._vocabulary: list[str] | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        corpus: Iterable[object],
        *,
        analyzer: Analyzer | None = None,
        scoring: str = "lucene",
        k1: float = 0.9,
        b: float = 0.4,
        delta: float | None = None,
        threads: int | None = None,
        fields: Sequence[str] = DEFAULT_FIELDS,
        batch_size: int = 8192,
        progress: Progress = None,
        term_weights: TermWeights | None = None,
    ) -> Index:
        """Builds an index from documents.

        Args:
            corpus: an iterable of ``(doc_id, document)`` pairs or of dicts. A document is a
                ``str`` (analysed), ``bytes`` (UTF-8, analysed) or a list of ``str`` (terms
                indexed as given). A dict holds an id (``_id``, ``id`` or ``docid``) and either
                ``tokens`` or the text ``fields`` (joined by one space).
            analyzer: how text is analysed (documents now, queries later); default: Anserini's
                English analyzer (``Analyzer()``).
            scoring: ``lucene`` (BM25 as Lucene, default), ``robertson``, ``atire``,
                ``bm25l``, ``bm25+`` or ``tfidf``.
            k1, b, delta: model parameters (Anserini defaults k1=0.9, b=0.4; delta None = the
                variant's default).
            threads: analysis threads (default: ``THRESHER_NUM_THREADS`` or all cores).
            fields: text fields of dict documents.
            batch_size: documents handed to Rust at a time.
            progress: ``True`` for a tqdm bar, or a callable receiving the number of documents
                indexed so far.
            term_weights: learned term weights, as a callable ``f(vocabulary,
                doc_term_matrix) -> weights`` called on the built index (e.g.
                ``TDVModel.term_weights``); the result is :meth:`reweight`-ed with ``scoring``
                (``tdv-bm25`` when left at ``lucene``), ``k1`` and ``b``.

        Raises:
            ValueError: empty corpus, duplicate id (named), bad parameter, invalid UTF-8.
            TypeError: a document of the wrong type.
        """
        threads = _check_threads(threads)
        if term_weights is not None:
            if not callable(term_weights):
                raise TypeError(
                    "term_weights must be a callable f(vocabulary, doc_term_matrix) -> weights"
                )
            model = "tdv-bm25" if scoring in ("lucene", "bm25") else scoring
            if delta is not None:
                raise ValueError(f"delta ({delta}) does not apply to {model}")
            plain = cls.build(
                corpus, analyzer=analyzer, threads=threads, fields=fields,
                batch_size=batch_size, progress=progress,
            )  # fmt: skip
            weights = term_weights(plain.vocabulary, plain.doc_term_matrix())
            return plain.reweight(weights, scoring=model, k1=k1, b=b)
        if isinstance(corpus, (str, bytes, os.PathLike)):
            raise TypeError(
                "corpus must be an iterable of documents; use Index.from_beir or "
                "Index.from_jsonl for a path"
            )
        fields = _check_fields(fields)
        batch_size = _check_batch_size(batch_size)
        builder = _core.IndexBuilder(
            analyzer=analyzer, scoring=scoring, k1=k1, b=b, delta=delta, threads=threads
        )
        _add_in_batches(
            builder, corpus, lambda item, i: _split_item(item, fields, i), batch_size, progress
        )
        return cls(builder.finish())

    @classmethod
    def from_jsonl(
        cls,
        path: str | os.PathLike[str],
        *,
        fields: Sequence[str] = DEFAULT_FIELDS,
        analyzer: Analyzer | None = None,
        scoring: str = "lucene",
        k1: float = 0.9,
        b: float = 0.4,
        delta: float | None = None,
        threads: int | None = None,
        batch_size: int = 16384,
        progress: Progress = None,
    ) -> Index:
        """Builds an index from a JSONL(.gz) corpus, read and parsed in Rust.

        Each line is a JSON object with an id (``_id``, ``id`` or ``docid``) and the text
        ``fields``, joined by one space (BEIR flat indexing: ``title + " " + text``). Use
        ``fields=("contents",)`` for Anserini's JsonCollection layout.

        Raises:
            FileNotFoundError: no such file.
            ValueError: invalid JSON or UTF-8 (file and line named), unknown field, duplicate
                id, empty corpus.
        """
        threads = _check_threads(threads)
        builder = _core.IndexBuilder(
            analyzer=analyzer, scoring=scoring, k1=k1, b=b, delta=delta, threads=threads
        )
        size = builder.open_corpus(os.fsdecode(path), _check_fields(fields))
        _read_in_batches(
            builder.add_from_corpus, path, size, _check_batch_size(batch_size), progress
        )
        return cls(builder.finish())

    @classmethod
    def from_beir(cls, path: str | os.PathLike[str], **kwargs: Any) -> Index:
        """Builds an index from a BEIR folder's ``corpus.jsonl[.gz]`` (see :meth:`from_jsonl`)."""
        from thresher.data import beir_corpus_path

        p = Path(path)
        return cls.from_jsonl(beir_corpus_path(p) if p.is_dir() else p, **kwargs)

    # ------------------------------------------------------------------ impact indexes
    @classmethod
    def from_vectors(
        cls,
        vectors: Iterable[object],
        *,
        bits: int = 8,
        scale: float | None = None,
        analyzer: Analyzer | None = None,
        threads: int | None = None,
        batch_size: int = 8192,
        progress: Progress = None,
    ) -> Index:
        """Builds an impact index from learned sparse vectors (SPLADE, uniCOIL,
        :mod:`thresher.expand`, ...): ``score(q, d) = sum_t q_t * scale * impact(t, d)``.

        Weights are quantised to ``bits``-bit integers with one scale per index:
        ``scale = max weight / (2**bits - 1)`` (or the ``scale`` given) and
        ``impact = round_half_even(w / scale)``, at least 1 for a positive weight; a weight of
        0 makes no posting. Terms are indexed verbatim (not analysed). A document with an
        empty vector is kept but never matches.

        Args:
            vectors: ``(doc_id, vector)`` pairs or Anserini-style dicts
                ``{"id": ..., "vector": {...}}`` (``_id``/``docid`` also accepted; other keys
                such as ``contents`` ignored). A vector is a ``{term: weight}`` dict or an
                iterable of ``(term, weight)`` pairs; weights finite and ``>= 0``.
            bits: integer width, 1 to 16 (8 as Anserini/Lucene impact indexes).
            scale: the weight of one step; ``None`` derives it from the largest weight. Give
                ``scale=1`` to keep integer weights exactly (e.g. already-quantised vectors).
            analyzer: analyses *text* queries only (default: ``Analyzer()``); each analysed
                term weighs 1, repeats add.
            threads, batch_size, progress: as :meth:`build`.

        Raises:
            ValueError: NaN, infinite or negative weight, empty or repeated term in a vector
                (document named), duplicate id, empty corpus, no positive weight, bad
                ``bits``/``scale``, a weight above ``(2**bits - 1) * scale`` with a given scale.
            TypeError: a vector or weight of the wrong type.
        """
        threads = _check_threads(threads)
        builder = _core.ImpactBuilder(analyzer=analyzer, bits=bits, scale=scale, threads=threads)
        _add_in_batches(builder, vectors, _split_vector, batch_size, progress)
        return cls(builder.finish())

    @classmethod
    def from_csr(
        cls,
        matrix: Any,
        vocabulary: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        bits: int = 8,
        scale: float | None = None,
        analyzer: Analyzer | None = None,
        threads: int | None = None,
    ) -> Index:
        """Builds an impact index from a documents x vocabulary sparse matrix (any
        ``scipy.sparse`` format; duplicate entries are summed, as scipy does). Quantisation and
        conventions as :meth:`from_vectors`.

        Args:
            matrix: non-negative weights, one row per document.
            vocabulary: the term of each column (distinct, non-empty).
            ids: one id per row (default: ``"0"``, ``"1"``, ...).

        Raises:
            ValueError: ``len(vocabulary)`` differs from the number of columns, ``len(ids)``
                from the number of rows, or as :meth:`from_vectors`.
        """
        import scipy.sparse as sp

        threads = _check_threads(threads)
        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, not {type(matrix).__name__}")
        if isinstance(vocabulary, (str, bytes)):
            raise TypeError("vocabulary must be a sequence of terms, not a single str")
        vocab = list(vocabulary)
        bad = [t for t in vocab if not isinstance(t, str) or not t][:1]
        if bad:
            raise ValueError(f"vocabulary terms must be non-empty str, got {bad[0]!r}")
        _check_2d(matrix)
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids must be a sequence of ids, not a single str")
        rows, cols = matrix.shape
        if len(vocab) != cols:
            raise ValueError(
                f"the vocabulary has {len(vocab)} terms but the matrix has {cols} columns"
            )
        doc_ids = [str(i) for i in range(rows)] if ids is None else [str(d) for d in ids]
        if len(doc_ids) != rows:
            raise ValueError(f"{len(doc_ids)} ids for a matrix of {rows} rows")
        m = sp.csr_array(matrix, copy=True)
        m.sum_duplicates()
        data = _float32_weights(np.asarray(m.data), "the matrix entry")
        builder = _core.ImpactBuilder(analyzer=analyzer, bits=bits, scale=scale, threads=threads)
        builder.add_csr(
            doc_ids,
            np.ascontiguousarray(m.indptr, dtype=np.int64),
            np.ascontiguousarray(m.indices, dtype=np.int64),
            data,
            vocab,
        )
        return cls(builder.finish())

    @classmethod
    def from_impact_jsonl(
        cls,
        path: str | os.PathLike[str],
        *,
        bits: int = 8,
        scale: float | None = None,
        analyzer: Analyzer | None = None,
        threads: int | None = None,
        batch_size: int = 16384,
        progress: Progress = None,
    ) -> Index:
        """Builds an impact index from Anserini ``JsonVectorCollection`` JSONL(.gz), read and
        parsed in Rust: one ``{"id": ..., "vector": {term: weight}}`` per line (``contents``
        and other keys ignored). Quantisation and conventions as :meth:`from_vectors`.

        Raises:
            FileNotFoundError: no such file.
            ValueError: invalid JSON or UTF-8, a record without id or vector, a weight that is
                not a number or is negative, a repeated term (file and line named), or as
                :meth:`from_vectors`.
        """
        threads = _check_threads(threads)
        builder = _core.ImpactBuilder(analyzer=analyzer, bits=bits, scale=scale, threads=threads)
        size = builder.open_jsonl(os.fsdecode(path))
        _read_in_batches(
            builder.add_from_jsonl, path, size, _check_batch_size(batch_size), progress
        )
        return cls(builder.finish())

    @staticmethod
    def queries_from_csr(matrix: Any, vocabulary: Sequence[str]) -> list[dict[str, float]]:
        """``{term: weight}`` queries from the rows of a queries x vocabulary sparse matrix
        (for :meth:`search_batch` on an impact index; zero entries are dropped).

        Raises:
            ValueError: ``len(vocabulary)`` differs from the number of columns, or a NaN,
                infinite or negative weight.
        """
        import scipy.sparse as sp

        if isinstance(vocabulary, (str, bytes)):
            raise TypeError("vocabulary must be a sequence of terms, not a single str")
        vocab = list(vocabulary)
        seen: set[str] = set()
        for t in vocab:
            if not isinstance(t, str) or not t:
                raise ValueError(f"vocabulary terms must be non-empty str, got {t!r}")
            if t in seen:
                raise ValueError(f"the vocabulary repeats the term {t!r}")
            seen.add(t)
        _check_2d(matrix)
        m = sp.csr_array(matrix, copy=True)
        if len(vocab) != m.shape[1]:
            raise ValueError(
                f"the vocabulary has {len(vocab)} terms but the matrix has {m.shape[1]} columns"
            )
        m.sum_duplicates()
        data = _float32_weights(np.asarray(m.data), "the query matrix entry")
        out = []
        for r in range(m.shape[0]):
            lo, hi = m.indptr[r], m.indptr[r + 1]
            out.append({vocab[j]: float(w) for j, w in zip(m.indices[lo:hi], data[lo:hi]) if w > 0})
        return out

    @property
    def quantization(self) -> dict[str, Any] | None:
        """``{"bits", "scale"}`` of an impact index (``None`` for the other models)."""
        return self.meta["scoring"].get("impact")

    # ------------------------------------------------------------------ persistence
    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True, verify: bool = True) -> Index:
        """Opens a saved index.

        Args:
            path: the index directory.
            mmap: memory-map the files (else read them into memory). A mapped file must
                not be truncated or rewritten in place while the index is open: the next
                read of a page past its new end kills the process with ``SIGBUS``, as with
                any memory map. thresher never does this (saves write new files and rename);
                other programs might. ``mmap=False`` is immune, at the cost of the memory.
            verify: check every CRC32 and posting list (reads the whole index once); turn off
                only for very large, trusted indexes.

        Raises:
            FileNotFoundError: no index there.
            IndexCorruptedError: a damaged, truncated or inconsistent file.
            IncompatibleIndexError: written by an incompatible (e.g. newer) thresher.
        """
        return cls(_core.Index.load(os.fsdecode(path), mmap=mmap, verify=verify))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Saves to a directory, atomically: a crash mid-save leaves any previous index there
        loadable. Refuses to write into a non-empty directory that is not a thresher index (a
        ``meta.json`` that is not an index's counts as not an index), and to copy a segment
        of an index loaded with ``verify=False`` whose bytes fail the checksums recorded for
        them (the copy would hide the damage under fresh checksums). Intact bytes are copied
        even when the files they were loaded from have been replaced or deleted since.

        Raises:
            ValueError: the directory is not empty and not an index.
            IndexCorruptedError: the index was loaded unverified and is damaged.
        """
        self._inner.save(os.fsdecode(path))

    # ------------------------------------------------------------------ learned term weights
    @property
    def vocabulary(self) -> list[str]:
        """The index's terms in byte order (for one segment, term-id order; for several, the
        sorted union of their dictionaries). Term weights and :meth:`doc_term_matrix` columns
        are aligned with it."""
        if self._vocabulary is None:
            self._vocabulary = self._inner.vocabulary()
        return self._vocabulary

    @property
    def term_weights(self) -> np.ndarray:
        """The learned weight of each :attr:`vocabulary` term (``float32``; all 1 for an
        index that was not reweighted)."""
        return self._inner.term_weights()

    def doc_term_matrix(self) -> Any:
        """The documents x :attr:`vocabulary` matrix of raw term frequencies.

        Built in Rust and handed over as numpy arrays (no Python object per entry). Rows follow
        internal document numbers (:attr:`doc_ids`); for a reweighted index, columns are the
        indexed (non-zero weight) terms.

        Returns:
            ``scipy.sparse.csr_array`` of ``int32`` counts with sorted indices.
        """
        import scipy.sparse as sp

        indptr, indices, data, shape = self._inner.doc_term_matrix()
        return sp.csr_array((data, indices, indptr), shape=shape)

    def reweight(
        self,
        weights: Any,
        *,
        scoring: str = "tdv-bm25",
        k1: float | None = None,
        b: float | None = None,
    ) -> Index:
        """A new index scored over learned term weights (term discrimination values).

        Terms of weight 0 leave the index; a posting's effective frequency is
        ``x = weights[t] * tf``; document lengths are ``sum_t weights[t] * tf`` (exact, no
        Lucene norm quantisation) and ``N``/``avgdl`` count the documents left with a posting:
        the semantics of :mod:`thresher.tdv`'s scipy scorer (``idf="df"``). Segments are
        immutable: this index is unchanged.

        Args:
            weights: one non-negative weight per :attr:`vocabulary` term (a ``float32`` array
                is used without a copy; do not modify it during the call).
            scoring: ``"tdv-bm25"`` (Lucene's BM25 form over ``x``) or ``"tdv-tfidf"``
                (``idf * x``).
            k1, b: BM25 parameters (default: this index's).

        Raises:
            ValueError: wrong length, NaN, infinite or negative weights, a non-weighted
                ``scoring``.
        """
        arr = np.asarray(weights)
        if arr.ndim != 1:
            raise ValueError(f"weights must be one-dimensional, got shape {arr.shape}")
        arr = _float32_weights(arr, "the weight")
        scoring_meta = self.meta["scoring"]
        return Index(
            self._inner.reweight(
                arr,
                scoring=scoring,
                k1=scoring_meta["k1"] if k1 is None else k1,
                b=scoring_meta["b"] if b is None else b,
            )
        )

    # ------------------------------------------------------------------ search
    def search(
        self,
        query: Query,
        k: int = 10,
        *,
        algorithm: str = "auto",
        allow: Allow | None = None,
    ) -> list[tuple[str, float]]:
        """Exact top-``k`` documents for one query, best first (ties: earlier document first).

        Args:
            query: text (analysed like the documents), a list of terms, or ``{term: weight}``.
            k: number of hits (more than the number of matching documents returns them all).
            algorithm: ``"auto"`` (default), ``"maxscore"`` (block-max MaxScore), ``"bmw"``
                (block-max WAND) or ``"exhaustive"``. All return identical hits and scores;
                ``auto`` picks the fastest by a measured rule (see ``ARCHITECTURE.md``).
            allow: only return these documents: a numpy ``bool`` mask of ``len(index)``, an
                array or collection of internal document numbers (``int``), or a collection of
                external ids (``str``). The hits are the top-``k`` of the allowed documents.
                Integers are numbers, never a mask: ``len(index)`` 0s and 1s are refused
                (``TypeError``) as a mask given in an integer dtype.

        Returns:
            ``[(doc_id, score), ...]``; only documents containing a query term.

        Raises:
            ValueError: bad ``k``, unknown ``algorithm``, a mask of the wrong length, a document
                number out of range or an unknown id in ``allow``.
        """
        return self._inner.search(
            _check_query(query),
            _check_k(k),
            algorithm=_check_algorithm(algorithm),
            allow=self._allow(allow),
        )

    def search_batch(
        self,
        queries: Sequence[Query],
        k: int = 10,
        threads: int | None = None,
        *,
        algorithm: str = "auto",
        allow: Allow | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` for many queries, in parallel, with the GIL released.

        ``algorithm`` and ``allow`` are as in :meth:`search`; one filter applies to every query.

        Returns:
            ``(docs, scores)``: ``int64`` internal document numbers and ``float32`` scores,
            both of shape ``(len(queries), min(k, len(index)))``, padded with ``-1`` and
            ``-inf``. Map numbers to ids with ``index.doc_ids[docs]`` (after masking
            ``docs >= 0``).
        """
        k = _check_k(k)
        threads = _check_threads(threads)
        if isinstance(queries, (str, bytes)):
            raise TypeError("queries must be a sequence of queries, not a single str")
        return self._inner.search_batch(
            [_check_query(q) for q in queries],
            k,
            threads,
            algorithm=_check_algorithm(algorithm),
            allow=self._allow(allow),
        )

    def _allow(self, allow: object) -> np.ndarray | None:
        """Normalises an ``allow`` argument to a bool mask or an ``int64`` array of numbers."""
        if allow is None:
            return None
        if isinstance(allow, (str, bytes)):
            raise TypeError("allow must be a collection of ids, not a single str")
        if isinstance(allow, np.ndarray):
            arr = allow
        elif isinstance(allow, Iterable):
            items = list(allow)
            strs = sum(isinstance(x, str) for x in items)
            if items and strs == len(items):
                return self._numbers_of(items)
            if strs:
                raise TypeError("allow mixes ids (str) with other values; give one kind")
            bools = sum(isinstance(x, (bool, np.bool_)) for x in items)
            if bools and bools != len(items):
                raise TypeError("allow mixes bools (a mask) with document numbers; give one kind")
            arr = np.asarray(items) if items else np.zeros(0, dtype=np.int64)
        else:
            raise TypeError(
                "allow must be a numpy bool mask, or a collection of document numbers (int) "
                f"or ids (str), not {type(allow).__name__}"
            )
        if arr.ndim != 1:
            raise ValueError(f"allow must be one-dimensional, got shape {arr.shape}")
        if arr.dtype == np.bool_:
            if len(arr) != len(self):
                raise ValueError(
                    f"the allow mask has {len(arr)} entries but the index has {len(self)} documents"
                )
            return np.ascontiguousarray(arr)
        if arr.size == 0:  # an empty filter of any dtype allows nothing
            return np.zeros(0, dtype=np.int64)
        if arr.dtype.kind in "iu":
            if arr.dtype.kind == "u" and arr.max() > np.iinfo(np.int64).max:
                raise ValueError(
                    f"allow holds document number {arr.max()}, out of range for "
                    f"{len(self)} documents"
                )
            if len(arr) == len(self) > 2 and arr.max() <= 1 and arr.min() >= 0:
                # One 0/1 entry per document (so repeats): a mask in an integer dtype, which
                # would be read as the numbers {0, 1}.
                raise TypeError(
                    "allow holds only 0s and 1s, one per document: if it is a mask, pass it "
                    "as bool (np.asarray(allow, dtype=bool)); integers are document numbers"
                )
            return np.ascontiguousarray(arr, dtype=np.int64)
        if arr.dtype.kind in "UO" and all(isinstance(x, str) for x in arr):
            return self._numbers_of(list(arr))
        if arr.dtype.kind == "O" and all(isinstance(x, (bool, np.bool_)) for x in arr):
            return self._allow(arr.astype(np.bool_))
        if arr.dtype.kind == "O" and all(
            isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in arr
        ):  # Python ints: document numbers, unless beyond int64
            i64 = np.iinfo(np.int64)
            big = next((x for x in arr if not i64.min <= x <= i64.max), None)
            if big is not None:
                raise ValueError(
                    f"allow holds document number {big}, out of range for {len(self)} documents"
                )
            return self._allow(np.array([int(x) for x in arr], dtype=np.int64))
        raise TypeError(
            "allow must hold bools (a mask), ints (document numbers) or strs (ids), "
            f"not {arr.dtype}"
        )

    def _numbers_of(self, ids: list[str]) -> np.ndarray:
        if self._numbers is None:
            self._numbers = {str(d): i for i, d in enumerate(self.doc_ids)}
        numbers = self._numbers
        missing = [d for d in ids if d not in numbers]
        if missing:
            raise ValueError(
                f"allow names {len(missing)} unknown document id(s), e.g. {missing[0]!r}"
            )
        return np.fromiter((numbers[d] for d in ids), dtype=np.int64, count=len(ids))

    # ------------------------------------------------------------------ introspection
    @property
    def doc_ids(self) -> np.ndarray:
        """External ids by internal document number: a numpy ``str`` array, or an ``object``
        array of ``str`` when a fixed width would waste memory (a few ids much longer than the
        rest: numpy stores every id at the longest one's width) or lose characters (numpy's
        ``str`` drops trailing NULs)."""
        if self._doc_ids is None:
            self._doc_ids = _id_array(self._inner.doc_ids())
        return self._doc_ids

    @property
    def meta(self) -> dict[str, Any]:
        """The index's ``meta.json`` content: statistics, analyzer, scoring, segments."""
        return json.loads(self._inner.meta_json())

    @property
    def analyzer(self) -> Analyzer:
        """The analyzer applied to text queries."""
        return self._inner.analyzer

    @property
    def path(self) -> Path | None:
        """Directory the index was loaded from or last saved to."""
        p = self._inner.path
        return None if p is None else Path(p)

    def doc_freq(self, term: str) -> int:
        """Number of documents containing ``term`` (an analysed term)."""
        return self._inner.doc_freq(term)

    def __len__(self) -> int:
        return len(self._inner)

    def __repr__(self) -> str:
        m = self.meta
        q = m["scoring"].get("impact")
        if q is not None:
            return (
                f"Index({m['num_docs']} docs, {sum(s['num_terms'] for s in m['segments'])} "
                f"terms, scoring='impact', bits={q['bits']}, scale={q['scale']:g})"
            )
        return (
            f"Index({m['num_docs']} docs, {sum(s['num_terms'] for s in m['segments'])} terms, "
            f"scoring={m['scoring']['kind']!r}, k1={m['scoring']['k1']:g}, b={m['scoring']['b']:g})"
        )

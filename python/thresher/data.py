"""Loaders for the formats users already have: BEIR folders, JSONL corpora, TREC runs/qrels.

A BEIR folder holds ``corpus.jsonl[.gz]`` (``_id``, ``title``, ``text``), ``queries.jsonl``
(``_id``, ``text``) and ``qrels/<split>.tsv`` (header ``query-id corpus-id score``).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from thresher._atomic import atomic_path

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

ID_FIELDS = ("_id", "id", "docid")


def _lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file, gzip-compressed or not (told by its
    magic bytes, as the Rust reader does, not by its name). Bad bytes and damaged gzip data
    raise ``ValueError`` naming the file (and the line)."""
    p = Path(path)
    with open(p, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        f = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        i = 0
        try:
            for i, line in enumerate(f, 1):
                try:
                    yield i, line.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ValueError(f"{p} line {i}: not valid UTF-8 ({e.reason})") from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise ValueError(
                f"{p}: damaged gzip data after line {i} (truncated or corrupt file: {e})"
            ) from None


def _find(folder: Path, names: tuple[str, ...]) -> Path:
    for n in names:
        p = folder / n
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"none of {', '.join(names)} in {folder}"
        if folder.is_dir()
        else f"no such directory: {folder}"
    )


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[dict]:
    """Yields the JSON objects of a JSONL(.gz) file, naming file and line on bad input."""
    for _, obj in _numbered_jsonl(path):
        yield obj


def _numbered_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` of a JSONL(.gz) file; blank lines are skipped."""
    p = Path(path)
    for i, line in _lines(p):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p} line {i}: invalid JSON: {e}") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{p} line {i}: expected a JSON object")
        yield i, obj


def _check_fields(fields: object) -> list[str]:
    """The text fields of dict documents: a non-empty sequence of names."""
    if isinstance(fields, (str, bytes)):
        raise TypeError(f"fields must be a sequence of field names, not a single str ({fields!r})")
    names = list(fields)  # type: ignore[call-overload]
    if not names or not all(isinstance(f, str) and f for f in names):
        raise ValueError(f"fields must be one or more non-empty field names, got {names!r}")
    return names


def _record_id(obj: Mapping, where: str) -> str:
    for f in ID_FIELDS:
        if f in obj:
            v = obj[f]
            # As the Rust reader: a string, or a JSON number (written as JSON writes it).
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                raise ValueError(f"{where}: the id ({f}) must be a string, got {v!r}")
            return str(v)
    raise ValueError(f"{where}: no id field (looked for {', '.join(ID_FIELDS)})")


def _text_field(obj: Mapping, field: str, where: str) -> str:
    """A text field's value: a string, or empty when absent or ``null`` (as the Rust reader)."""
    v = obj.get(field)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise ValueError(f"{where}: field {field!r} must be a string, got {type(v).__name__}")
    return v


QUERY_TEXT_FIELDS = ("text", "contents", "title")


def load_queries(path: str | os.PathLike[str]) -> dict[str, str]:
    """Queries of a BEIR folder (``queries.jsonl``) or of a JSONL / TSV file: ``{id: text}``.

    A JSONL record's text is its first field among ``text``, ``contents`` and ``title``
    (``null`` reads as empty).

    Raises:
        ValueError: a record with none of those fields, a text that is not a string, a bad
            id, a repeated id, bad UTF-8 or damaged gzip data (file and line named).
    """
    p = Path(path)
    if p.is_dir():
        p = _find(p, ("queries.jsonl", "queries.jsonl.gz", "queries.tsv"))
    out: dict[str, str] = {}

    def put(qid: str, text: str, where: str) -> None:
        if qid in out:
            raise ValueError(f"{where}: query id {qid!r} appears twice")
        out[qid] = text

    if p.suffix == ".tsv":
        for i, line in _lines(p):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 2:
                raise ValueError(f"{p} line {i}: expected 'id<TAB>text', got {len(parts)} fields")
            put(parts[0], parts[1], f"{p} line {i}")
        return out
    for i, o in _numbered_jsonl(p):
        where = f"{p} line {i}"
        field = next((f for f in QUERY_TEXT_FIELDS if f in o), None)
        if field is None:
            raise ValueError(
                f"{where}: no query text (looked for {', '.join(QUERY_TEXT_FIELDS)}; "
                f"it has {', '.join(sorted(map(str, o)))})"
            )
        put(_record_id(o, where), _text_field(o, field, where), where)
    return out


def load_qrels(path: str | os.PathLike[str], split: str = "test") -> Qrels:
    """Relevance judgements ``{query_id: {doc_id: grade}}``.

    ``path`` is a BEIR folder (reads ``qrels/<split>.tsv``), a BEIR TSV (with header
    ``query-id corpus-id score``) or a TREC qrels file (``qid 0 docid grade``), plain or
    gzip.

    Raises:
        ValueError: a malformed line, a grade that is not an integer, or a (query, document)
            pair judged twice; the file and line are named.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "qrels" / f"{split}.tsv"
        if not p.is_file():
            avail = sorted(x.stem for x in (Path(path) / "qrels").glob("*.tsv"))
            raise FileNotFoundError(
                f"no qrels for split {split!r} in {path} (available: {', '.join(avail) or 'none'})"
            )
    qrels: Qrels = {}
    seen: dict[tuple[str, str], int] = {}
    for i, line in _lines(p):
        parts = line.split()
        if not parts:
            continue
        if i == 1 and parts[-1].lower() in ("score", "relevance", "rel", "grade", "label"):
            continue  # header (BEIR: query-id corpus-id score)
        if len(parts) == 3:
            qid, did, rel = parts
        elif len(parts) == 4:
            qid, _, did, rel = parts
        else:
            raise ValueError(f"{p} line {i}: expected 3 (BEIR) or 4 (TREC) columns")
        try:
            grade = int(rel)
        except ValueError:
            raise ValueError(f"{p} line {i}: relevance {rel!r} is not an integer") from None
        first = seen.setdefault((qid, did), i)
        if first != i:
            raise ValueError(
                f"{p} line {i}: query {qid!r}, document {did!r} is judged twice (first on line "
                f"{first})"
            )
        qrels.setdefault(qid, {})[did] = grade
    return qrels


def beir_corpus_path(folder: str | os.PathLike[str]) -> Path:
    """The corpus file of a BEIR folder (``corpus.jsonl`` or ``corpus.jsonl.gz``)."""
    return _find(Path(folder), ("corpus.jsonl", "corpus.jsonl.gz"))


def iter_beir_corpus(
    folder: str | os.PathLike[str], fields: tuple[str, ...] = ("title", "text")
) -> Iterator[tuple[str, str]]:
    """``(doc_id, text)`` pairs of a BEIR corpus, text = the fields joined by one space.

    Raises:
        ValueError: a field the first document lacks, a later document with none of the
            fields, a field value that is not a string or ``null``, an id that is not a
            string or number (as the Rust reader, ``Index.from_jsonl``); no or empty field
            names; bad UTF-8 or damaged gzip data (file and line named).
        TypeError: ``fields`` given as one ``str``.
    """
    names = _check_fields(fields)
    p = Path(folder)
    path = beir_corpus_path(p) if p.is_dir() else p
    for n, (i, o) in enumerate(_numbered_jsonl(path)):
        if n == 0:
            for f in names:
                if f not in o:
                    raise ValueError(
                        f'unknown field "{f}": the first document of {path} has fields '
                        f"{', '.join(sorted(map(str, o)))}"
                    )
        where = f"{path} line {i}"
        doc_id = _record_id(o, where)
        if not any(f in o for f in names):
            raise ValueError(
                f"{where}: document {doc_id!r} has none of the fields {', '.join(names)} "
                f"(it has {', '.join(sorted(map(str, o)))})"
            )
        yield doc_id, " ".join(_text_field(o, f, where) for f in names)


def write_trec_run(
    run: Mapping[str, Any], path: str | os.PathLike[str], tag: str = "thresher"
) -> None:
    """Writes a run in TREC format: ``{qid: [(doc_id, score), ...]}`` (best first), or
    ``{qid: {doc_id: score}}`` (the :func:`read_trec_run` shape; ranked by score, ties by doc
    id).

    Raises:
        ValueError: an id or the tag is empty or holds white space, or a score is not finite
            (the file could not be read back).
    """

    def token(x: object, what: str) -> str:
        t = str(x)
        if not t or any(c.isspace() for c in t):
            raise ValueError(f"{what} {t!r} cannot be written to a TREC run (empty or white space)")
        return t

    tag = token(tag, "the tag")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for qid, hits in run.items():
            q = token(qid, "query id")
            if isinstance(hits, Mapping):
                hits = sorted(hits.items(), key=lambda h: (-h[1], h[0]))
            for rank, (did, score) in enumerate(hits, 1):
                if not math.isfinite(score):
                    raise ValueError(f"query {q!r}, document {did!r}: score {score} is not finite")
                f.write(f"{q} Q0 {token(did, 'document id')} {rank} {score:.6f} {tag}\n")


def read_trec_run(path: str | os.PathLike[str]) -> Run:
    """Reads a TREC run file (plain or gzip) into ``{qid: {doc_id: score}}``.

    Raises:
        ValueError: a line without 6 columns, a score that is not a finite number, or a
            document listed twice for one query (as trec_eval); the file and line are named.
    """
    run: Run = {}
    first: dict[tuple[str, str], int] = {}
    for i, line in _lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise ValueError(f"{path} line {i}: expected 6 columns (qid Q0 doc rank score tag)")
        try:
            score = float(parts[4])
        except ValueError:
            raise ValueError(f"{path} line {i}: score {parts[4]!r} is not a number") from None
        if not math.isfinite(score):
            raise ValueError(f"{path} line {i}: score {parts[4]!r} is not finite")
        # trec_eval refuses a document twice in one query's ranking; so do we (keeping
        # either score would silently change the ranking).
        at = first.setdefault((parts[0], parts[2]), i)
        if at != i:
            raise ValueError(
                f"{path} line {i}: document {parts[2]!r} appears twice for query {parts[0]!r} "
                f"(first on line {at})"
            )
        run.setdefault(parts[0], {})[parts[2]] = score
    return run

"""Entry points for the command line (``thresher train-expansion``, ``--expansion``).

Each function takes paths and plain options, does one job, and returns a value the CLI can
print; errors are the library's (``ValueError``, ``FileNotFoundError``, ...), which the CLI
reports as one line. Suggested wiring::

    thresher train-expansion <beir_dir> --split train -o exp.npz   -> train_expansion(...)
    thresher expand <beir_dir> --expansion exp.npz -o docs.jsonl.gz -> expand_beir(...)
    thresher index  <beir_dir> --expansion exp.npz ...              -> expand_beir(...) then the
                                                                       impact index builder
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from thresher._core import Analyzer
from thresher.expand.data import TextAnalyzer, load_collection
from thresher.expand.export import write_jsonl
from thresher.expand.model import ExpandedDocs, ExpansionConfig, ExpansionModel
from thresher.index import Index

__all__ = ["expand_beir", "index_beir", "train_expansion"]


def train_expansion(
    beir_dir: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    split: str = "train",
    dev_split: str | None = None,
    config: ExpansionConfig | None = None,
    analyzer: TextAnalyzer | None = None,
    log: Callable[[str], None] | None = None,
) -> ExpansionModel:
    """Trains an expansion model on a BEIR folder and optionally saves it.

    Args:
        beir_dir: BEIR folder (``corpus.jsonl[.gz]``, ``queries.jsonl``, ``qrels/``).
        output: where to save the model (``.npz``); ``None``: do not save.
        split: qrels split to train on.
        dev_split: qrels split for model selection; default: hold out
            ``config.dev_fraction`` of the training queries.
        config: hyper-parameters.
        analyzer: text analysis (default ``Analyzer()``; or a
            :class:`~thresher.expand.subword.SubwordAnalyzer`); its configuration is recorded
            in the model (``info["analyzer"]``) so queries can be analysed the same way.
        log: progress messages.

    Raises:
        FileNotFoundError: missing corpus, queries or qrels split.
        ValueError: judged queries without text, no usable training pair, bad
            configuration.
    """
    analyzer = analyzer or Analyzer()
    splits = (split,) if dev_split is None else (split, dev_split)
    p = Path(beir_dir)
    for s in splits:
        if not (p / "qrels" / f"{s}.tsv").is_file():
            raise FileNotFoundError(f"no qrels for split {s!r} in {p}")
    col = load_collection(p, splits, analyzer)
    for s in splits:
        missing = [q for q in col.qrels[s] if q not in col.queries]
        if missing:
            raise ValueError(
                f"{len(missing)} judged queries of split {s!r} have no text in "
                f"{p / 'queries.jsonl'} (first: {missing[0]!r})"
            )
    model = ExpansionModel.fit(
        col.docs,
        col.queries,
        col.qrels[split],
        col.doc_ids,
        config=config,
        dev_qrels=None if dev_split is None else col.qrels[dev_split],
        log=log,
    )
    model.info["analyzer"] = analyzer.config_json()
    model.info["trained_on"] = {"collection": p.name, "split": split, "dev_split": dev_split}
    if output is not None:
        model.save(output)
    return model


def expand_beir(
    beir_dir: str | os.PathLike[str],
    model: ExpansionModel | str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    bits: int | None = 8,
    analyzer: TextAnalyzer | None = None,
    fields: tuple[str, ...] = ("title", "text"),
) -> tuple[list[str], ExpandedDocs]:
    """Expands every document of a BEIR corpus; optionally writes Anserini JSONL.

    Args:
        beir_dir: BEIR folder or ``corpus.jsonl[.gz]``.
        model: a model or the path of a saved one.
        output: JSONL(.gz) path for the learned-sparse vectors (``None``: none written).
        bits: integer width of the exported weights (``None``: float weights).
        analyzer: text analysis; must match the one the model was trained with
            (default ``Analyzer()``; a ``thresher.Analyzer`` that differs from the recorded one
            is an error).
        fields: the corpus's text fields, joined by one space.

    Returns:
        ``(doc_ids, expanded)``.
    """
    m = model if isinstance(model, ExpansionModel) else ExpansionModel.load(model)
    analyzer = analyzer or Analyzer()
    trained = m.info.get("analyzer")
    if isinstance(analyzer, Analyzer) and trained and trained != analyzer.config_json():
        raise ValueError(
            f"the model was trained with another analyzer ({trained}); expand with that one, "
            f"not {analyzer.config_json()}"
        )
    from thresher.data import iter_beir_corpus

    pairs = list(iter_beir_corpus(beir_dir, fields))
    if not pairs:
        raise ValueError(f"the corpus is empty: {beir_dir}")
    doc_ids = [d for d, _ in pairs]
    expanded = m.expand(analyzer.tokenize_batch([t for _, t in pairs]))
    if output is not None:
        write_jsonl(output, doc_ids, expanded.matrix, expanded.vocab, bits=bits)
    return doc_ids, expanded


def index_beir(
    beir_dir: str | os.PathLike[str],
    model: ExpansionModel | str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    bits: int = 8,
    analyzer: TextAnalyzer | None = None,
    threads: int | None = None,
    fields: tuple[str, ...] = ("title", "text"),
) -> Index:
    """Expands a BEIR corpus and indexes the vectors as a Rust impact index.

    Args:
        beir_dir: BEIR folder or ``corpus.jsonl[.gz]``.
        model: a model or the path of a saved one.
        output: where to save the index (``None``: not saved).
        bits: integer width of the impacts (8 as Anserini).
        analyzer: text analysis, the one the model was trained with (default ``Analyzer()``).
            A ``thresher.Analyzer`` is also recorded in the index for text queries; with
            another analyzer, queries must be given as terms.
        threads: build threads.
        fields: the corpus's text fields, joined by one space.

    Returns:
        The impact index (``scoring="impact"``).
    """
    doc_ids, expanded = expand_beir(beir_dir, model, None, analyzer=analyzer, fields=fields)
    rust_analyzer = analyzer if isinstance(analyzer, Analyzer) else None
    index = expanded.to_index(doc_ids, bits=bits, analyzer=rust_analyzer, threads=threads)
    if output is not None:
        index.save(output)
    return index

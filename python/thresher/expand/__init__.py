"""SparTerm-style document expansion, learned with numpy/scipy (no transformer).

A document becomes a sparse vector ``G(d) ⊙ I(d)`` over the analyzer's terms: BM25 impacts of
its own terms, re-weighted and expanded through a learned term-to-term matrix ``T``
(PPMI-initialised, refined with a ranking loss), with a logistic gate choosing the expansion
terms (Bai et al., "SparTerm", 2020). Queries stay bags of analysed terms; the score is a dot
product, so Lucene/Anserini impact indexes (or thresher's) can serve the vectors unchanged.

Modules (each documents its choices):

- :mod:`~thresher.expand.model` -- :class:`ExpansionModel` (``fit``, ``expand``, ``save``,
  ``load``), :class:`ExpansionConfig` (defaults and why), :class:`ExpandedDocs`.
- :mod:`~thresher.expand.impacts` -- Lucene-exact BM25 impacts (``SmallFloat`` norms).
- :mod:`~thresher.expand.cooc` -- document-level PPMI, top-``m`` targets per term.
- :mod:`~thresher.expand.gate` -- candidates, gate features, the logistic gate.
- :mod:`~thresher.expand.train` -- the softmax ranking loss, its gradient, projected Adam.
- :mod:`~thresher.expand.export` -- 8-bit quantisation, Anserini learned-sparse JSONL.
- :mod:`~thresher.expand.retrieval` -- exact top-k by sparse dot product (scipy).
- :mod:`~thresher.expand.commands` -- functions for the CLI (train, expand a BEIR corpus).
- :mod:`~thresher.expand.subword` -- optional HF ``tokenizers`` WordPiece vocabularies.
- :mod:`~thresher.expand.data`, :mod:`~thresher.expand.vocab` -- analysed BEIR collections,
  vocabularies and bag-of-terms matrices.

Typical use::

    import thresher
    from thresher.expand import ExpansionModel
    from thresher.expand.commands import expand_beir, train_expansion

    model = train_expansion("../shared/data/scifact", "exp.npz", split="train")  # minutes
    doc_ids, expanded = expand_beir("../shared/data/scifact", "exp.npz", "scifact.jsonl.gz")
    analyze = thresher.Analyzer()
    docs, scores = expanded.search([analyze.tokenize("coffee and cancer risk")], k=10)
    [doc_ids[d] for d in docs[0] if d >= 0]

Effectiveness, sizes and timings: ``python benches/expand_report.py`` (results in
``benches/EXPAND_RESULTS.md``).
"""

from thresher.expand.model import (
    FORMAT_VERSION,
    ExpandedDocs,
    ExpansionConfig,
    ExpansionModel,
    ExpansionModelError,
    IncompatibleExpansionModelError,
)

__all__ = [
    "FORMAT_VERSION",
    "ExpandedDocs",
    "ExpansionConfig",
    "ExpansionModel",
    "ExpansionModelError",
    "IncompatibleExpansionModelError",
]

"""thresher: Rust-accelerated sparse text retrieval.

Exact top-k BM25 (Lucene-compatible scores), TF-IDF and learned term weights over a
compressed inverted index built from immutable segments.

Example:
    >>> import thresher
    >>> idx = thresher.Index.build([("a", "sparse retrieval with BM25"), ("b", "dense vectors")])
    >>> [doc for doc, _ in idx.search("retrieve", k=2)]
    ['a']
"""

from thresher._core import CPU_LEVEL, FORMAT_VERSION, SCORINGS, STEMMERS, Analyzer, __version__
from thresher.data import load_qrels, load_queries, read_trec_run, write_trec_run
from thresher.evaluate import evaluate
from thresher.exceptions import IncompatibleIndexError, IndexCorruptedError, ThresherError
from thresher.index import Index

# Learned models live in subpackages (thresher.tdv, thresher.expand) that import scipy; their
# main classes are re-exported lazily so `import thresher` stays light.
_LAZY = {
    "TDVModel": "thresher.tdv",
    "ExpansionModel": "thresher.expand",
    "ExpansionConfig": "thresher.expand",
    "ExpandedDocs": "thresher.expand",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'thresher' has no attribute {name!r}")


__all__ = [
    "CPU_LEVEL",
    "FORMAT_VERSION",
    "SCORINGS",
    "STEMMERS",
    "Analyzer",
    "ExpandedDocs",
    "ExpansionConfig",
    "ExpansionModel",
    "IncompatibleIndexError",
    "Index",
    "IndexCorruptedError",
    "TDVModel",
    "ThresherError",
    "__version__",
    "evaluate",
    "load_qrels",
    "load_queries",
    "read_trec_run",
    "write_trec_run",
]

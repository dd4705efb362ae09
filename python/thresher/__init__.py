"""thresher: Rust-accelerated sparse text retrieval.

Exact top-k BM25 (Lucene-compatible scores), TF-IDF and learned term weights over a
compressed inverted index built from immutable segments.

Example:
    >>> import thresher
    >>> idx = thresher.Index.build([("a", "sparse retrieval with BM25"), ("b", "dense vectors")])
    >>> [doc for doc, _ in idx.search("retrieve", k=2)]
    ['a']
"""

from thresher._core import FORMAT_VERSION, SCORINGS, STEMMERS, Analyzer, __version__
from thresher.data import load_qrels, load_queries, read_trec_run, write_trec_run
from thresher.evaluate import evaluate
from thresher.exceptions import IncompatibleIndexError, IndexCorruptedError, ThresherError
from thresher.index import Index

__all__ = [
    "FORMAT_VERSION",
    "SCORINGS",
    "STEMMERS",
    "Analyzer",
    "IncompatibleIndexError",
    "Index",
    "IndexCorruptedError",
    "ThresherError",
    "__version__",
    "evaluate",
    "load_qrels",
    "load_queries",
    "read_trec_run",
    "write_trec_run",
]

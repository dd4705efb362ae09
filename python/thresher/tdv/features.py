"""Term features ``e_t`` computed without network access.

A TDV model is a function of term features, so every feature block here is
*fitted* once on the training collection (tokenizer, normalisation constants,
projection bases are stored in the model) and can then *transform* any
vocabulary together with the document-term tf matrix of the collection the
terms come from. Applying a saved model to another collection therefore
computes TDVs for that collection's vocabulary (the transfer setting).

Blocks (all return a sparse ``n_terms x n_features`` matrix):

``SubwordFeatures`` -- option (a)
    A BPE (or WordPiece) model from HF ``tokenizers`` is trained on the
    collection's terms (each term presented ``min(cf, 100)`` times, so merges
    follow term frequencies). A term's vector is the fastText-like average of
    one-hot vectors of its pieces, hashed (CRC-32) into ``n_buckets`` buckets;
    optional character n-grams (``<term>`` with boundary markers) join the
    same hashed bag. Unseen terms decompose into known pieces, so they get a
    TDV too. Pieces keep their position marker (BPE ``</w>`` end-of-word
    suffix, WordPiece ``##`` prefix) so stems and suffixes stay distinct.

``StatsFeatures`` -- option (b)
    Size-normalised collection statistics, so that they mean the same on
    collections of different sizes: ``log(df/N)``, ``log(cf/T)``,
    ``log(cf/df)`` (mean tf where present), residual idf
    ``log(df / (N (1 - exp(-cf/N))))`` (Church & Gale's Poisson deviation:
    content words cluster), normalised entropy of the term's tf spread over
    documents, the mean ``log(|d|/avgdl)`` of documents holding the term, and
    two lexical shape features (``log len(term)``, has-digit). Each scalar is
    standardised with the training collection's mean/std, clipped to
    ``[-4, 4]``, and expanded with bounded piecewise-linear "hat" functions
    centred on training-collection quantile knots, so a linear layer can
    learn a non-linear response (e.g. TDV as a bump-shaped function of idf).
    Bounded features matter: with unbounded splines the few very frequent
    terms (z-scores of 4+) swing in and out of the index at every Adam step.

``CooccurrenceFeatures`` -- option (c)
    Document-level co-occurrence of each term with the ``n_context`` most
    frequent terms, PPMI with context-distribution smoothing (alpha = 0.75),
    rank-``dim`` truncated SVD (``scipy.sparse.linalg.svds``, seeded start
    vector). Embeddings are ``U sqrt(S)``; other collections are folded in
    with the stored basis (``M V / sqrt(S)``, contexts matched by term string),
    then rows are L2-normalised.

``VecFeatures``
    User-supplied vectors in fastText ``.vec`` text format (first line
    ``count dim``, then ``word v1 ... vdim``), keyed by analysed terms; with an
    ``analyze`` callable the file's words are analysed and vectors of words
    mapping to the same single term are averaged. Terms without a vector get
    zeros plus a "missing" indicator feature. The table is stored in the model.

:class:`FeaturePipeline` horizontally stacks blocks (e.g. (a)+(b)).
"""

# Matrix names follow the maths (X = doc-term tf, Q = queries, E = features, ...).
# ruff: noqa: N803, N806

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CooccurrenceFeatures",
    "FeatureBlock",
    "FeaturePipeline",
    "StatsFeatures",
    "SubwordFeatures",
    "VecFeatures",
    "make_features",
]


def _as_tf(X, n_terms: int) -> sp.csr_matrix:
    if X is None:
        raise ValueError("these term features need the collection's document-term tf matrix")
    X = sp.csr_matrix(X, dtype=np.float64)
    if X.shape[1] != n_terms:
        raise ValueError(
            f"document-term matrix has {X.shape[1]} columns but the vocabulary has {n_terms} terms"
        )
    if X.nnz and (not np.all(np.isfinite(X.data)) or X.data.min() < 0):
        raise ValueError("document-term matrix must hold finite non-negative term frequencies")
    X.eliminate_zeros()
    return X


def _state_array(
    state: dict[str, np.ndarray], name: str, shape: tuple[int | None, ...]
) -> np.ndarray:
    """``state[name]`` as a finite float64 array of ``shape`` (``None``: any length);
    ``ValueError`` naming the array otherwise (a damaged or hand-edited model file)."""
    if name not in state:
        raise ValueError(f"missing array {name!r}")
    try:
        a = np.asarray(state[name], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"array {name!r} is not numeric") from None
    if a.ndim != len(shape) or any(w is not None and n != w for n, w in zip(a.shape, shape)):
        want = "x".join("?" if w is None else str(w) for w in shape)
        raise ValueError(f"array {name!r} has shape {a.shape}, expected {want}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"array {name!r} holds NaN or infinite values")
    return a


class FeatureBlock:
    """Base class: ``fit`` on the training collection, ``transform`` any collection."""

    kind = "base"

    def params(self) -> dict:
        raise NotImplementedError

    def fit(self, vocab: Sequence[str], X: sp.csr_matrix | None) -> FeatureBlock:
        return self

    def transform(self, vocab: Sequence[str], X: sp.csr_matrix | None) -> sp.csr_matrix:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    @property
    def n_features(self) -> int:
        raise NotImplementedError


# --------------------------------------------------------------------------- (a) subwords


class SubwordFeatures(FeatureBlock):
    kind = "subword"

    def __init__(
        self,
        model: str = "bpe",
        vocab_size: int = 8000,
        n_buckets: int = 1 << 16,
        char_ngrams: tuple[int, int] | None = None,
    ) -> None:
        if model not in ("bpe", "wordpiece"):
            raise ValueError(f"subword model must be 'bpe' or 'wordpiece', got {model!r}")
        self.model = model
        self.vocab_size = int(vocab_size)
        self.n_buckets = int(n_buckets)
        self.char_ngrams = tuple(char_ngrams) if char_ngrams else None
        self._tok = None

    def params(self) -> dict:
        return {
            "model": self.model,
            "vocab_size": self.vocab_size,
            "n_buckets": self.n_buckets,
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
        }

    @property
    def n_features(self) -> int:
        return self.n_buckets

    def fit(self, vocab, X):
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        X = _as_tf(X, len(vocab))
        cf = np.bincount(X.indices, weights=X.data, minlength=len(vocab))
        if self.model == "bpe":
            tok = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
            trainer = trainers.BpeTrainer(
                vocab_size=self.vocab_size,
                special_tokens=["[UNK]"],
                end_of_word_suffix="</w>",
                show_progress=False,
            )
        else:
            tok = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="##"))
            trainer = trainers.WordPieceTrainer(
                vocab_size=self.vocab_size,
                special_tokens=["[UNK]"],
                continuing_subword_prefix="##",
                show_progress=False,
            )
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        reps = np.minimum(np.maximum(cf, 1), 100).astype(int)

        def lines():
            for t, r in zip(vocab, reps):
                yield " ".join([t] * int(r))

        tok.train_from_iterator(lines(), trainer=trainer, length=len(vocab))
        self._tok = tok
        return self

    def _pieces(self, vocab: Sequence[str]) -> list[list[str]]:
        if self._tok is None:
            raise ValueError("SubwordFeatures used before fit/load")
        encs = self._tok.encode_batch(list(vocab)) if len(vocab) else []
        out = []
        for t, e in zip(vocab, encs):
            p = ["p:" + s for s in e.tokens]
            if self.char_ngrams:
                w = "<" + t + ">"
                lo, hi = self.char_ngrams
                p += ["c:" + w[i : i + n] for n in range(lo, hi + 1) for i in range(len(w) - n + 1)]
            out.append(p)
        return out

    def transform(self, vocab, X=None):
        rows, cols, vals = [], [], []
        cache: dict[str, int] = {}
        for r, pieces in enumerate(self._pieces(vocab)):
            if not pieces:
                continue
            v = 1.0 / len(pieces)
            for p in pieces:
                h = cache.get(p)
                if h is None:
                    h = cache[p] = zlib.crc32(p.encode("utf-8")) % self.n_buckets
                rows.append(r)
                cols.append(h)
                vals.append(v)
        m = sp.csr_matrix((vals, (rows, cols)), shape=(len(vocab), self.n_buckets))
        m.sum_duplicates()
        return m

    def state(self):
        return {"tokenizer": np.array(self._tok.to_str())}

    def load_state(self, state):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_str(str(state["tokenizer"]))


# --------------------------------------------------------------------------- (b) statistics

_STAT_NAMES = (
    "log_df",
    "log_cf",
    "log_mean_tf",
    "ridf",
    "entropy",
    "doc_len",
    "log_len",
    "digit",
)


def term_statistics(vocab: Sequence[str], X: sp.csr_matrix) -> np.ndarray:
    """``n_terms x 8`` raw statistics (see module docstring), finite for all terms."""
    X = _as_tf(X, len(vocab))
    X.sort_indices()
    V = len(vocab)
    N = max(int(np.count_nonzero(np.diff(X.indptr))), 1)
    T = max(float(X.data.sum()), 1.0)
    cols = X.indices
    df = np.bincount(cols, minlength=V).astype(np.float64)
    cf = np.bincount(cols, weights=X.data, minlength=V)
    dfs = np.maximum(df, 0.5)  # unseen terms behave like a half occurrence
    cfs = np.maximum(cf, 0.5)
    tlogt = np.bincount(cols, weights=X.data * np.log(X.data), minlength=V)
    ent = (np.log(cfs) - tlogt / cfs) / np.log(max(N, 2))
    L = np.asarray(X.sum(axis=1)).ravel()
    avg = L.sum() / N
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    lratio = np.log(np.maximum(L, 1e-9) / avg)
    doclen = np.bincount(cols, weights=lratio[rows], minlength=V) / dfs
    expected_df = N * (-np.expm1(-cfs / N))
    out = np.column_stack(
        [
            np.log(dfs / N),
            np.log(cfs / T),
            np.log(cfs / dfs),
            np.log(dfs / expected_df),
            ent,
            doclen,
            np.log([max(len(t), 1) for t in vocab]),
            np.array([any(ch.isdigit() for ch in t) for t in vocab], dtype=np.float64),
        ]
    )
    return out


class StatsFeatures(FeatureBlock):
    kind = "stats"

    def __init__(self, n_knots: int = 6) -> None:
        self.n_knots = int(n_knots)
        self.mean = self.std = self.knots = None

    def params(self):
        return {"n_knots": self.n_knots}

    @property
    def n_features(self):
        return len(_STAT_NAMES) * (1 + self.n_knots)

    def _z(self, raw: np.ndarray) -> np.ndarray:
        return np.clip((raw - self.mean) / self.std, -4.0, 4.0)

    def fit(self, vocab, X):
        raw = term_statistics(vocab, X)
        self.mean = raw.mean(axis=0)
        self.std = raw.std(axis=0)
        self.std[self.std < 1e-12] = 1.0
        z = self._z(raw)
        qs = np.linspace(0, 1, self.n_knots)
        knots = np.quantile(z, qs, axis=0).T  # n_stats x n_knots, non-decreasing
        # keep knots strictly increasing (binary / discrete statistics)
        for j in range(1, self.n_knots):
            knots[:, j] = np.maximum(knots[:, j], knots[:, j - 1] + 1e-3)
        self.knots = knots
        return self

    def transform(self, vocab, X):
        if self.mean is None:
            raise ValueError("StatsFeatures used before fit/load")
        z = self._z(term_statistics(vocab, X))
        parts = [z / 4.0]
        k = self.knots
        for j in range(self.n_knots):
            left = k[:, j - 1] if j > 0 else k[:, j] - 1.0
            right = k[:, j + 1] if j + 1 < self.n_knots else k[:, j] + 1.0
            up = (z - left) / (k[:, j] - left)
            down = (right - z) / (right - k[:, j])
            hat = np.clip(np.minimum(up, down), 0.0, 1.0)
            if j == 0:
                hat = np.where(z <= k[:, j], 1.0, hat)
            if j == self.n_knots - 1:
                hat = np.where(z >= k[:, j], 1.0, hat)
            parts.append(hat)
        return sp.csr_matrix(np.hstack(parts))

    def state(self):
        return {"mean": self.mean, "std": self.std, "knots": self.knots}

    def load_state(self, state):
        n = len(_STAT_NAMES)
        self.mean = _state_array(state, "mean", (n,))
        self.std = _state_array(state, "std", (n,))
        if np.any(self.std <= 0):
            raise ValueError("array 'std' holds a value <= 0")
        self.knots = _state_array(state, "knots", (n, self.n_knots))


# --------------------------------------------------------------------------- (c) co-occurrence


class CooccurrenceFeatures(FeatureBlock):
    kind = "cooc"

    def __init__(self, dim: int = 64, n_context: int = 2000, alpha: float = 0.75, seed: int = 0):
        self.dim = int(dim)
        self.n_context = int(n_context)
        self.alpha = float(alpha)
        self.seed = int(seed)
        self.context: list[str] | None = None
        self.basis = self.sv = None

    def params(self):
        return {
            "dim": self.dim,
            "n_context": self.n_context,
            "alpha": self.alpha,
            "seed": self.seed,
        }

    @property
    def n_features(self):
        return self.dim

    def _ppmi(self, vocab, X, context_cols: np.ndarray) -> sp.csr_matrix:
        X = _as_tf(X, len(vocab))
        B = X.copy()
        B.data[:] = 1.0
        ok = context_cols >= 0
        safe = np.where(ok, context_cols, 0)
        Bc = (B[:, safe] @ sp.diags(ok.astype(np.float64))).tocsr()
        C = (B.T @ Bc).tocsr()  # V x n_context co-document counts
        C.sort_indices()
        rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
        C.data[context_cols[C.indices] == rows] = 0.0  # no self co-occurrence
        C.eliminate_zeros()
        total = C.data.sum()
        if total <= 0:
            return sp.csr_matrix(C.shape)
        row = np.asarray(C.sum(axis=1)).ravel()
        col = np.asarray(C.sum(axis=0)).ravel() ** self.alpha
        col_p = col / col.sum()
        rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
        pmi = np.log(C.data / total) - np.log(row[rows] / total) - np.log(col_p[C.indices])
        M = sp.csr_matrix((np.maximum(pmi, 0.0), C.indices, C.indptr), shape=C.shape)
        M.eliminate_zeros()
        return M

    def fit(self, vocab, X):
        from scipy.sparse.linalg import svds

        X = _as_tf(X, len(vocab))
        df = np.bincount(X.indices, minlength=len(vocab))
        n_ctx = min(self.n_context, len(vocab))
        ctx = np.argsort(-df, kind="stable")[:n_ctx]
        self.context = [vocab[i] for i in ctx]
        M = self._ppmi(vocab, X, ctx)
        k = min(self.dim, min(M.shape) - 1)
        if k < 1:
            raise ValueError("collection too small for co-occurrence features")
        v0 = np.random.default_rng(self.seed).uniform(-1, 1, size=min(M.shape))
        _, s, vt = svds(M, k=k, v0=v0)
        order = np.argsort(-s)
        s, vt = s[order], vt[order]
        # fix signs for reproducibility across ARPACK runs
        sign = np.sign(vt[np.arange(len(s)), np.argmax(np.abs(vt), axis=1)])
        vt *= sign[:, None]
        self.sv = s
        self.basis = vt.T  # n_context x k
        if k < self.dim:
            self.basis = np.hstack([self.basis, np.zeros((self.basis.shape[0], self.dim - k))])
            self.sv = np.concatenate([s, np.ones(self.dim - k)])
        return self

    def transform(self, vocab, X):
        if self.basis is None:
            raise ValueError("CooccurrenceFeatures used before fit/load")
        index = {t: i for i, t in enumerate(vocab)}
        ctx = np.array([index.get(t, -1) for t in self.context], dtype=np.int64)
        M = self._ppmi(vocab, X, ctx)
        E = np.asarray(M @ self.basis) / np.sqrt(np.maximum(self.sv, 1e-12))
        norm = np.linalg.norm(E, axis=1, keepdims=True)
        E = E / np.maximum(norm, 1e-12)
        return sp.csr_matrix(E)

    def state(self):
        return {"context": np.array(self.context), "basis": self.basis, "sv": self.sv}

    def load_state(self, state):
        if "context" not in state or np.ndim(state["context"]) != 1:
            raise ValueError("array 'context' is missing or not one-dimensional")
        self.context = [str(t) for t in state["context"]]
        self.basis = _state_array(state, "basis", (len(self.context), self.dim))
        self.sv = _state_array(state, "sv", (self.dim,))


# --------------------------------------------------------------------------- user vectors


def read_vec(
    path: str | Path,
    analyze: Callable[[str], list[str]] | None = None,
    max_words: int | None = None,
) -> tuple[list[str], np.ndarray]:
    """Read a fastText ``.vec`` file into ``(terms, matrix)``.

    With ``analyze``, words are mapped to the analyser's single output term
    (words producing zero or several terms are skipped) and vectors of words
    mapping to the same term are averaged.
    """
    if max_words is not None and max_words < 0:
        raise ValueError(f"max_words must be >= 0 or None, got {max_words}")
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    with open(path, "rb") as f:

        def lines() -> Iterator[tuple[int, str]]:
            for n, raw in enumerate(f, start=1):
                try:
                    yield n, raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ValueError(f"{path}:{n}: not valid UTF-8 ({e.reason})") from None

        it = lines()
        _, first = next(it, (1, ""))
        header = first.split()
        if len(header) != 2 or not all(h.isdigit() for h in header) or int(header[1]) < 1:
            raise ValueError(f"{path}:1: first line must be '<count> <dim>' with dim >= 1")
        count, dim = int(header[0]), int(header[1])
        complete = True
        for n, line in it:
            if not line.strip():
                continue  # a trailing blank line
            if max_words is not None and len(words) >= max_words:
                complete = False
                break
            parts = line.rstrip("\r\n").rstrip(" ").split(" ")
            if len(parts) != dim + 1:
                raise ValueError(f"{path}:{n}: expected a word and {dim} numbers")
            try:
                vec = np.asarray(parts[1:], dtype=np.float64)
            except ValueError:
                raise ValueError(
                    f"{path}:{n}: the vector of {parts[0]!r} has a non-number"
                ) from None
            if not np.all(np.isfinite(vec)):
                raise ValueError(f"{path}:{n}: NaN or infinite value in vector of {parts[0]!r}")
            if parts[0] in seen:
                raise ValueError(f"{path}:{n}: the word {parts[0]!r} appears twice")
            seen.add(parts[0])
            words.append(parts[0])
            rows.append(vec)
    if complete and len(words) != count:
        raise ValueError(
            f"{path}: the header announces {count} words but the file holds {len(words)} "
            "(truncated or edited?)"
        )
    mat = np.vstack(rows) if rows else np.zeros((0, dim))
    if analyze is None:
        return words, mat
    acc: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        toks = analyze(w)
        if len(toks) == 1:
            acc.setdefault(toks[0], []).append(i)
    terms = list(acc)
    out = np.vstack([mat[acc[t]].mean(axis=0) for t in terms]) if terms else np.zeros((0, dim))
    return terms, out


class VecFeatures(FeatureBlock):
    kind = "vec"

    def __init__(self, terms: Sequence[str] = (), vectors: np.ndarray | None = None):
        vectors = np.zeros((0, 0)) if vectors is None else np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[0] != len(terms):
            raise ValueError(f"{len(terms)} terms but vectors of shape {vectors.shape}")
        if not np.all(np.isfinite(vectors)):
            raise ValueError("NaN or infinite value in user-supplied term vectors")
        self.terms = list(terms)
        self.vectors = vectors

    @classmethod
    def from_file(cls, path, analyze=None, max_words=None) -> VecFeatures:
        return cls(*read_vec(path, analyze, max_words))

    def params(self):
        return {}

    @property
    def n_features(self):
        return self.vectors.shape[1] + 1

    def transform(self, vocab, X=None):
        index = {t: i for i, t in enumerate(self.terms)}
        pos = np.array([index.get(t, -1) for t in vocab], dtype=np.int64)
        out = np.zeros((len(vocab), self.n_features))
        hit = pos >= 0
        out[hit, :-1] = self.vectors[pos[hit]]
        out[~hit, -1] = 1.0
        return sp.csr_matrix(out)

    def state(self):
        return {"terms": np.array(self.terms, dtype=str), "vectors": self.vectors}

    def load_state(self, state):
        if "terms" not in state or np.ndim(state["terms"]) != 1:
            raise ValueError("array 'terms' is missing or not one-dimensional")
        self.terms = [str(t) for t in state["terms"]]
        self.vectors = _state_array(state, "vectors", (len(self.terms), None))


# --------------------------------------------------------------------------- pipeline

_KINDS: dict[str, type[FeatureBlock]] = {
    c.kind: c for c in (SubwordFeatures, StatsFeatures, CooccurrenceFeatures, VecFeatures)
}


class FeaturePipeline:
    """Horizontal stack of feature blocks."""

    def __init__(self, blocks: Sequence[FeatureBlock]):
        if not blocks:
            raise ValueError("a feature pipeline needs at least one block")
        self.blocks = list(blocks)

    @property
    def n_features(self) -> int:
        return sum(b.n_features for b in self.blocks)

    def fit(self, vocab, X) -> FeaturePipeline:
        for b in self.blocks:
            b.fit(vocab, X)
        return self

    def transform(self, vocab: Sequence[str], X: sp.csr_matrix | None) -> sp.csr_matrix:
        vocab = list(vocab)
        mats = []
        for b in self.blocks:
            m = sp.csr_matrix(b.transform(vocab, X), dtype=np.float64)
            if m.shape != (len(vocab), b.n_features):
                raise ValueError(
                    f"{b.kind} features have shape {m.shape}, expected {(len(vocab), b.n_features)}"
                )
            if m.nnz and not np.all(np.isfinite(m.data)):
                raise ValueError(f"NaN or infinite value in {b.kind} term features")
            mats.append(m)
        E = sp.hstack(mats, format="csr")
        E.sort_indices()
        return E

    def fit_transform(self, vocab, X) -> sp.csr_matrix:
        return self.fit(vocab, X).transform(vocab, X)

    def describe(self) -> list[dict]:
        return [{"kind": b.kind, "params": b.params()} for b in self.blocks]

    def state(self) -> dict[str, np.ndarray]:
        out = {}
        for i, b in enumerate(self.blocks):
            for k, v in b.state().items():
                out[f"f{i}.{k}"] = v
        return out

    @classmethod
    def from_state(cls, desc: list[dict], state: dict[str, np.ndarray]) -> FeaturePipeline:
        blocks = []
        for i, d in enumerate(desc):
            kind = d.get("kind")
            if kind not in _KINDS:
                raise ValueError(f"unknown feature block kind {kind!r}")
            b = _KINDS[kind](**d.get("params", {}))
            prefix = f"f{i}."
            b.load_state({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
            blocks.append(b)
        return cls(blocks)

    def to_json(self) -> str:
        return json.dumps(self.describe())


def make_features(spec: str, seed: int = 0, **kwargs) -> FeaturePipeline:
    """Pipeline from a short spec: letters ``a`` (subwords), ``b`` (statistics),
    ``c`` (co-occurrence SVD), e.g. ``"ab"``."""
    blocks: list[FeatureBlock] = []
    for ch in spec:
        if ch == "a":
            blocks.append(SubwordFeatures(**kwargs.get("a", {})))
        elif ch == "b":
            blocks.append(StatsFeatures(**kwargs.get("b", {})))
        elif ch == "c":
            blocks.append(CooccurrenceFeatures(seed=seed, **kwargs.get("c", {})))
        else:
            raise ValueError(f"unknown feature option {ch!r} in {spec!r} (use a, b, c)")
    return FeaturePipeline(blocks)

"""Subword vocabularies (Hugging Face ``tokenizers``) as an alternative to analyzer terms.

The expansion model works on any tokenisation: pass lists of subword tokens instead of
analyzer terms, and analyse queries with the same tokenizer. This module wraps a
``tokenizers.Tokenizer`` in the two methods the training and expansion helpers call
(``tokenize_batch`` and ``config_json``), so it can stand in for ``thresher.Analyzer``:

* with a BERT ``vocab.txt`` (``SubwordAnalyzer.from_vocab``), the model's rows and columns are
  BERT WordPiece ids, compatible with vectors indexed by BERT-vocabulary systems (SPLADE,
  uniCOIL); none can be downloaded here, so
* :func:`train_wordpiece` learns a WordPiece vocabulary from the corpus itself.

Special tokens (``[CLS]``, ``[SEP]``, ...) are dropped. The analyzer terms remain the default:
they are what Lucene indexes, and queries then need nothing beyond thresher's analyzer.
``tokenizers`` is an optional dependency, imported on first use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["SubwordAnalyzer", "train_wordpiece"]


def _tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "subword vocabularies need the 'tokenizers' package (pip install tokenizers)"
        ) from e
    return tokenizers


class SubwordAnalyzer:
    """Text -> subword tokens with a Hugging Face tokenizer (special tokens removed).

    Args:
        tokenizer: a ``tokenizers.Tokenizer``.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._special = {
            t.content if hasattr(t, "content") else str(t)
            for t in tokenizer.get_added_tokens_decoder().values()
        }

    @classmethod
    def from_vocab(cls, vocab_txt: str | os.PathLike[str], lowercase: bool = True):
        """A BERT WordPiece tokenizer from a ``vocab.txt`` file (e.g. bert-base-uncased)."""
        from tokenizers.implementations import BertWordPieceTokenizer

        _tokenizers()
        tok = BertWordPieceTokenizer(os.fspath(vocab_txt), lowercase=lowercase)
        return cls(tok._tokenizer)

    def tokenize(self, text: str) -> list[str]:
        """The subword tokens of ``text``."""
        return [t for t in self.tokenizer.encode(text).tokens if t not in self._special]

    def tokenize_batch(self, texts: Sequence[str], threads: int | None = None) -> list[list[str]]:
        """The subword tokens of many texts (``tokenizers`` parallelises internally)."""
        del threads
        return [
            [t for t in e.tokens if t not in self._special]
            for e in self.tokenizer.encode_batch(list(texts))
        ]

    def config_json(self) -> str:
        """The tokenizer as JSON (stored in a model's ``info["analyzer"]``)."""
        return json.dumps({"subword": json.loads(self.tokenizer.to_str())})


def train_wordpiece(
    texts: Iterable[str], vocab_size: int = 30522, lowercase: bool = True
) -> SubwordAnalyzer:
    """Learns a BERT-style WordPiece vocabulary from ``texts`` (deterministic).

    Args:
        texts: training texts (e.g. the corpus).
        vocab_size: target vocabulary size (BERT's is 30,522).
        lowercase: lowercase and strip accents, as bert-base-uncased.
    """
    tk = _tokenizers()
    from tokenizers import normalizers, pre_tokenizers, trainers

    tok = tk.Tokenizer(tk.models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer)
    return SubwordAnalyzer(tok)

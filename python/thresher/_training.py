"""Helpers shared by the two trainers (:mod:`thresher.tdv`, :mod:`thresher.expand`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence


def warn_no_pairs(ids: Sequence[str], verbs: tuple[str, str], what: str, stacklevel: int) -> None:
    """Warns that the training queries ``ids`` give no training pair, e.g. "2 training queries
    have no term of the corpus and give no training pair, e.g. ['q1', 'q7']"; ``verbs`` is the
    (singular, plural) verb phrase before ``what``. Nothing when ``ids`` is empty."""
    if not ids:
        return
    one = len(ids) == 1
    warnings.warn(
        f"{len(ids)} training {verbs[0] if one else verbs[1]} {what} and "
        f"{'gives' if one else 'give'} no training pair, e.g. {list(ids[:5])}",
        stacklevel=stacklevel + 1,
    )

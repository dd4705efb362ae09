"""SparTerm-style document expansion, learned with numpy/scipy (no transformer).

See :mod:`thresher.expand.model` for the method and :class:`ExpansionModel` for the API.
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

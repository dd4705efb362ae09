"""Shared fixtures: paths to the team's data and Lucene references beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("THRESHER_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
LUCENE = SHARED / "reference" / "lucene"


def _require(p: Path) -> Path:
    # The shared folder always sits beside the clone in CI; its absence is a setup error,
    # not a reason to skip (a test that cannot fail is a defect).
    assert p.exists(), f"missing {p}: ../shared must sit beside the repository"
    return p


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    return _require(DATA / "scifact")


@pytest.fixture(scope="session")
def cranfield_dir() -> Path:
    return _require(DATA / "cranfield")


@pytest.fixture(scope="session")
def lucene_dir() -> Path:
    return _require(LUCENE)

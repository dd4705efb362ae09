"""The benchmark harness's single-thread pinning (benches/measure.py): single-thread figures
are only single-thread if the threads an engine starts stay on one core."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benches"))
from measure import one_core

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="needs Linux sched_setaffinity"
)


def test_one_core_pins_the_thread_and_its_children_then_restores():
    before = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    with one_core():
        inside = os.sched_getaffinity(0)
        t = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        t.start()
        t.join()
    assert inside == {min(before)}
    assert seen == [inside]
    assert os.sched_getaffinity(0) == before


def test_one_core_restores_after_an_error():
    before = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), one_core():
        raise RuntimeError("engine failed")
    assert os.sched_getaffinity(0) == before

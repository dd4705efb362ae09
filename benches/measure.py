"""Measuring helpers for the benchmark workers: peak RSS, on-disk size, query timing.

* ``PeakRSS`` samples the resident set of this process plus all its descendants every
  50 ms (so a child JVM indexer counts); ``maxrss_mb`` is the kernel's high-water mark of
  this process alone (VmHWM; see there why not ``ru_maxrss``).
* ``time_queries`` runs one engine configuration at one k: warm-up queries (untimed),
  then ``reps`` passes of one call per query from a Python loop (single thread; per-query
  latencies are pooled over passes), then the engine's batch API with 1 and T threads
  (``reps`` timed calls each after one warm-up call; when one call over the queries takes
  less than ``min_batch_secs``, each timed call gets the query list repeated until it would
  last that long, the same number of repeats for 1 and T threads). QPS = queries / wall
  seconds; the median pass is the headline figure and the best pass is kept too.
"""

from __future__ import annotations

import contextlib
import math
import resource
import statistics
import threading
import time
from pathlib import Path
from typing import Any


class PeakRSS:
    """Context manager sampling the RSS of this process and its children."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        with contextlib.suppress(psutil.Error):
            rss = self.proc.memory_info().rss
            for c in self.proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # a child may exit meanwhile
                    rss += c.memory_info().rss
            self.peak = max(self.peak, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakRSS:
        self._sample()
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self._sample()


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def maxrss_mb() -> float:
    """Peak resident set of this process (VmHWM of /proc/self/status).

    Not ``ru_maxrss``: Linux keeps that high-water mark across execve, so a worker started
    by a big driver process would report at least the driver's RSS at fork time. VmHWM
    belongs to the current address space and starts afresh at exec.
    """
    try:
        with open("/proc/self/status") as f:
            for ln in f:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def dir_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def pct(xs: list[float], q: float) -> float | None:
    xs = sorted(xs)
    if not xs:
        return None
    i = min(len(xs) - 1, max(0, round(q / 100.0 * (len(xs) - 1))))
    return xs[i]


def time_queries(
    eng: Any,
    qs: list[str],
    k: int,
    reps: int,
    threads: int,
    warm: int,
    modes: set[str],
    min_batch_secs: float = 0.0,
) -> tuple[dict[str, float], list]:
    """Returns (figures, hits of the first sequential pass)."""
    out: dict[str, float] = {}
    n = len(qs)
    warm_qs = [qs[i % n] for i in range(warm)] if n else []
    for q in warm_qs:
        eng.search(q, k)
    totals: list[float] = []
    lats: list[float] = []
    first: list | None = None
    for _ in range(reps):
        res = []
        t_all = time.perf_counter()
        for q in qs:
            t = time.perf_counter()
            res.append(eng.search(q, k))
            lats.append(time.perf_counter() - t)
        totals.append(time.perf_counter() - t_all)
        if first is None:
            first = res
    out.update(
        qps_1t_median=n / statistics.median(totals),
        qps_1t_best=n / min(totals),
        p50_ms=1000 * (pct(lats, 50) or 0.0),
        p99_ms=1000 * (pct(lats, 99) or 0.0),
        mean_ms=1000 * statistics.fmean(lats),
    )
    tset = sorted(
        ({1} if "batch1" in modes else set()) | ({threads} if "batchN" in modes else set())
    )
    batch_qs = qs
    for t in tset:
        if eng.batch(warm_qs or qs[:1], k, t) is None:  # warm-up; None: no batch API
            continue
        if t == tset[0] and n and min_batch_secs > 0:
            # One untimed call sizes the timed ones (single-thread speed: the longest).
            t0 = time.perf_counter()
            eng.batch(qs, k, t)
            once = time.perf_counter() - t0
            repeat = max(1, math.ceil(min_batch_secs / max(once, 1e-9)))
            batch_qs = qs * repeat
            out["batch_repeat"] = repeat
        nb = len(batch_qs)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            eng.batch(batch_qs, k, t)
            times.append(time.perf_counter() - t0)
        out[f"qps_batch{t}t_median"] = nb / statistics.median(times)
        out[f"qps_batch{t}t_best"] = nb / min(times)
        if hasattr(eng, "batch_native") and "native" in modes:
            nat = [eng.batch_native(batch_qs, k, t) for _ in range(reps)]
            out[f"qps_batch{t}t_native_median"] = nb / statistics.median(nat)
            out[f"qps_batch{t}t_native_best"] = nb / min(nat)
    return out, first or []

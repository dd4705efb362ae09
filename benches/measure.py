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
* Single-thread figures (the loop, and every batch call with 1 thread, warm-up included) run
  with the calling thread pinned to one core (``one_core``): threads an engine starts from
  it inherit the mask, so an engine that ignores its thread argument still gets one core.
  Anserini 1.7.1's ``SimpleSearcher.batch_search`` does: it runs
  ``Executors.newWorkStealingPool()`` (one worker per core) whatever ``threads`` says, which
  made Lucene's unpinned "1 thread" batch a 2-core figure on this machine (process CPU time /
  wall time 1.98). Every timed phase also records that ratio (``cores_*``), so a figure that
  used more than one core shows it.
"""

from __future__ import annotations

import contextlib
import math
import os
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


@contextlib.contextmanager
def one_core():
    """Pins the calling thread to one core (the lowest it may use) and restores its mask on
    exit. Threads it starts meanwhile inherit the one-core mask (Linux ``sched_setaffinity``
    with pid 0 is per thread); elsewhere this is a no-op."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(mask)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, mask)


def _cores(cpu: list[float], wall: list[float]) -> float:
    """Process CPU seconds per wall second: 1.0 = one core busy throughout."""
    return sum(cpu) / max(sum(wall), 1e-12)


def _timed(fn: Any, *args: Any) -> tuple[float, float]:
    """(wall seconds, process CPU seconds of all threads) of ``fn(*args)``."""
    c, t = time.process_time(), time.perf_counter()
    fn(*args)
    return time.perf_counter() - t, time.process_time() - c


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
    totals: list[float] = []
    cpus: list[float] = []
    lats: list[float] = []
    first: list | None = None
    with one_core():
        for q in warm_qs:
            eng.search(q, k)
        for _ in range(reps):
            res = []
            c_all, t_all = time.process_time(), time.perf_counter()
            for q in qs:
                t = time.perf_counter()
                res.append(eng.search(q, k))
                lats.append(time.perf_counter() - t)
            totals.append(time.perf_counter() - t_all)
            cpus.append(time.process_time() - c_all)
            if first is None:
                first = res
    out.update(
        qps_1t_median=n / statistics.median(totals),
        qps_1t_best=n / min(totals),
        p50_ms=1000 * (pct(lats, 50) or 0.0),
        p99_ms=1000 * (pct(lats, 99) or 0.0),
        mean_ms=1000 * statistics.fmean(lats),
        cores_1t=_cores(cpus, totals),
    )
    tset = sorted(
        ({1} if "batch1" in modes else set()) | ({threads} if "batchN" in modes else set())
    )
    batch_qs = qs
    for t in tset:
        with one_core() if t == 1 else contextlib.nullcontext():
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
            timed = [_timed(eng.batch, batch_qs, k, t) for _ in range(reps)]
            times = [w for w, _ in timed]
            out[f"qps_batch{t}t_median"] = nb / statistics.median(times)
            out[f"qps_batch{t}t_best"] = nb / min(times)
            out[f"cores_batch{t}t"] = _cores([c for _, c in timed], times)
            if hasattr(eng, "batch_native") and "native" in modes:
                nat, ncpu = [], []
                for _ in range(reps):
                    c0 = time.process_time()
                    nat.append(eng.batch_native(batch_qs, k, t))
                    ncpu.append(time.process_time() - c0)
                out[f"qps_batch{t}t_native_median"] = nb / statistics.median(nat)
                out[f"qps_batch{t}t_native_best"] = nb / min(nat)
                # CPU over the whole call (argument conversion included) / the engine's time.
                out[f"cores_batch{t}t_native"] = _cores(ncpu, nat)
    return out, first or []

"""Fixed cost of one search from Python: the twin of the criterion bench
``rust/thresher-core/benches/search.rs`` (tokenizers' ``test_benchmarks.py`` habit).

What is measured: the time of one ``search`` of a one-term text query ("doc7", one matching document) for k = 10
against a tiny index (100 documents, built as in the Rust bench), through

* ``thresher.Index.search``      the public wrapper (argument checks, ids mapped to str),
* ``thresher._core.Index.search`` the binding alone (extract, GIL released, core, lists back),
* ``Index.search_batch`` of 1000 copies of the query, per query (amortised FFI),
* ``Index.search_batch`` of one query, per call (the batch call's fixed cost),
* ``Index.search`` on a mid-size index (10,000 documents over 30 words, a two-term query:
  ~10,000 postings, tens of us), alone and beside a thread busy in a Python loop (medians of
  single calls): what a search pays when it has to take the GIL back (up to the 5 ms switch
  interval; see ARCHITECTURE.md, "Concurrency and writers"; the tiny index's search is too
  short for the busy thread to take the GIL meanwhile),
* the same mid-size searches from two Python threads at once against one (throughput ratio):
  threads that all search release the GIL, so their searches overlap,

and, for reference, the Rust-side time of the same call when ``--rust`` points at the criterion
output (or pass the figure with ``--rust-ns``). The difference between the binding and the Rust
side is the FFI overhead; between the wrapper and the binding, the Python wrapper's.

How to run: ``.venv/bin/python benches/ffi_overhead.py`` (after ``make install``); for the Rust
side ``cargo bench -p thresher-core --bench search`` and pass its median with ``--rust-ns``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import thresher
from thresher import _core


def tiny_index() -> thresher.Index:
    return thresher.Index.build([(f"d{i}", f"doc{i} common word{i % 7}") for i in range(100)])


def mid_index() -> thresher.Index:
    import random

    rng = random.Random(3)
    words = [f"w{i}" for i in range(30)]
    return thresher.Index.build(
        [(f"d{i}", " ".join(rng.choices(words, k=20))) for i in range(10_000)]
    )


def per_call_ns(fn, n: int, reps: int) -> float:
    """Median over ``reps`` passes of the mean time of ``n`` calls, in ns."""
    times = []
    for _ in range(reps):
        t = time.perf_counter_ns()
        for _ in range(n):
            fn()
        times.append((time.perf_counter_ns() - t) / n)
    return statistics.median(times)


def beside_busy_thread_ns(fn, n: int) -> float:
    """Median time of ``n`` single calls of ``fn`` while another thread runs a Python loop."""
    import threading

    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            x += 1

    t = threading.Thread(target=spin, daemon=True)
    t.start()
    try:
        return median_single_ns(fn, n)
    finally:
        stop.set()
        t.join()


def two_thread_ratio(idx: thresher.Index, per_thread: int = 5000) -> float:
    """Searches per second from two threads searching at once over one thread (best of 3)."""
    import threading

    def work() -> None:
        for _ in range(per_thread):
            idx.search("w1 w2")

    def rate(n_threads: int) -> float:
        best = 0.0
        for _ in range(3):
            ts = [threading.Thread(target=work) for _ in range(n_threads)]
            t0 = time.perf_counter()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            best = max(best, n_threads * per_thread / (time.perf_counter() - t0))
        return best

    return rate(2) / rate(1)


def median_single_ns(fn, n: int) -> float:
    """Median time of ``n`` single calls of ``fn``, in ns."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--rust-ns", type=float, help="Rust-side ns per search (criterion median)")
    args = ap.parse_args()

    idx = tiny_index()
    core: _core.Index = idx._inner
    idx.search("doc7", k=10)  # warm the id array and caches
    rows = [
        (
            "thresher.Index.search",
            per_call_ns(lambda: idx.search("doc7", k=10), args.calls, args.reps),
        ),
        (
            "_core.Index.search",
            per_call_ns(lambda: core.search("doc7", 10), args.calls, args.reps),
        ),
    ]
    batch = ["doc7"] * 1000
    rows.append(
        (
            "Index.search_batch (per query, 1 thread)",
            per_call_ns(lambda: idx.search_batch(batch, k=10, threads=1), 20, args.reps)
            / len(batch),
        )
    )
    rows.append(
        (
            "Index.search_batch of one query (per call)",
            per_call_ns(lambda: idx.search_batch(["doc7"], k=10), args.calls // 10, args.reps),
        )
    )
    mid = mid_index()
    rows.append(
        ("mid-size Index.search, alone", median_single_ns(lambda: mid.search("w1 w2"), 300))
    )
    rows.append(
        (
            "mid-size Index.search, beside a busy thread",
            beside_busy_thread_ns(lambda: mid.search("w1 w2"), 300),
        )
    )
    ratio = two_thread_ratio(mid)
    if args.rust_ns is not None:
        rows.append(("Rust Index::search (criterion)", args.rust_ns))
    width = max(len(r[0]) for r in rows)
    for name, ns in rows:
        print(f"{name:<{width}}  {ns / 1000:8.2f} µs")
    print(f"{'mid-size searches, 2 threads / 1 thread':<{width}}  {ratio:8.2f} x")
    if args.rust_ns is not None:
        print(
            f"{'FFI overhead (_core - Rust)':<{width}}  {(rows[1][1] - args.rust_ns) / 1000:8.2f} µs"
        )
        print(
            f"{'wrapper overhead (Index - _core)':<{width}}  {(rows[0][1] - rows[1][1]) / 1000:8.2f} µs"
        )


if __name__ == "__main__":
    main()

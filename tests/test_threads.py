"""Concurrency: the module declares it does not need the GIL, so concurrent use from Python
threads (searches, batch searches, builds) must give the same answers as sequential use."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import thresher


def corpus(seed: int, n: int = 2000):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    return [(f"d{i}", " ".join(rng.choices(words, k=rng.randint(1, 40)))) for i in range(n)]


def test_concurrent_searches_agree_with_sequential():
    idx = thresher.Index.build(corpus(1))
    rng = random.Random(2)
    queries = [" ".join(rng.choices([f"w{i}" for i in range(300)], k=3)) for _ in range(400)]
    expected = [idx.search(q, k=10) for q in queries]
    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda q: idx.search(q, k=10), queries))
    assert got == expected
    batch = idx.search_batch(queries, k=10, threads=1)
    with ThreadPoolExecutor(4) as ex:
        results = list(
            ex.map(lambda t: idx.search_batch(queries, k=10, threads=t), [1, 2, 1, 2, 2, 1])
        )
    for docs, scores in results:
        assert np.array_equal(docs, batch[0]) and np.array_equal(scores, batch[1])


def test_concurrent_builds_and_saves(tmp_path):
    def job(i):
        idx = thresher.Index.build(corpus(i, 500), threads=2)
        idx.save(tmp_path / f"i{i}")
        return thresher.Index.load(tmp_path / f"i{i}").search("w1 w2", k=5)

    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(job, range(8)))
    for i, hits in enumerate(got):
        assert hits == thresher.Index.build(corpus(i, 500)).search("w1 w2", k=5)


def test_thread_count_does_not_change_results():
    idx = thresher.Index.build(corpus(3))
    qs = ["w1 w5", "w7", "w100 w200 w3"]
    a = idx.search_batch(qs, k=50, threads=1)
    b = idx.search_batch(qs, k=50, threads=2)
    c = thresher.Index.build(corpus(3), threads=1).search_batch(qs, k=50, threads=2)
    for x in (b, c):
        assert np.array_equal(a[0], x[0]) and np.array_equal(a[1], x[1])


def test_parallel_batch_of_mixed_queries_matches_single_searches():
    # Queries are analysed on the threads that run them: every kind must come back in order.
    idx = thresher.Index.build(corpus(4))
    rng = random.Random(5)
    words = [f"w{i}" for i in range(300)]
    qs: list = []
    for i in range(300):
        terms = rng.choices(words, k=rng.randint(1, 5))
        qs.append([" ".join(terms), terms, {t: rng.uniform(0.1, 3.0) for t in terms}][i % 3])
    qs.append("")  # no terms: no hits
    for threads in (1, 2):
        docs, scores = idx.search_batch(qs, k=7, threads=threads)
        for q, drow, srow in zip(qs, docs, scores):
            keep = drow >= 0
            ids = idx.doc_ids[drow[keep]].tolist()
            want = idx.search(q, k=7)
            assert ids == [d for d, _ in want]
            assert np.allclose(srow[keep], [s for _, s in want], rtol=0, atol=0)


def test_a_bad_query_fails_the_parallel_batch():
    idx = thresher.Index.build(corpus(6))
    qs: list = ["w1 w2"] * 50 + [{"w3": float("nan")}] + ["w4"] * 50
    for threads in (1, 2):
        with pytest.raises(ValueError, match="weight"):
            idx.search_batch(qs, k=5, threads=threads)


def test_thread_count_environment_variable():
    import os
    import subprocess
    import sys

    code = (
        "import thresher\n"
        "idx = thresher.Index.build([('a', 'x y'), ('b', 'y')])\n"
        "print(idx.search_batch(['y'], k=2)[0].tolist())\n"
    )
    env = {**os.environ, "THRESHER_NUM_THREADS": "2"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[[1, 0]]", r.stderr
    env["THRESHER_NUM_THREADS"] = "zero"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "THRESHER_NUM_THREADS" in r.stderr and "ValueError" in r.stderr


def test_ctrl_c_interrupts_a_long_search_batch():
    """SIGINT during one huge search_batch call raises KeyboardInterrupt soon (the queries run
    in chunks with a signal check between them), and the index stays usable."""
    import os
    import signal
    import threading
    import time

    idx = thresher.Index.build([(f"d{i}", f"w{i % 97} w{i % 13} shared") for i in range(3000)])
    queries = [f"w{i % 97} shared w{i % 13}" for i in range(2000)]
    idx.search_batch(queries, k=10, threads=1)  # warm-up (thread pool, memo tables)
    t0 = time.perf_counter()
    idx.search_batch(queries, k=10, threads=1)
    per_query = (time.perf_counter() - t0) / len(queries)
    # About 8 s of work in one call.
    big = queries * max(1, int(8.0 / per_query / len(queries)))
    sent = []

    def interrupt():
        time.sleep(0.3)
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    # A shell starting a job in the background (as CI runners may) leaves SIGINT ignored;
    # Python's own handler is what raises KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt, daemon=True).start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            idx.search_batch(big, k=10, threads=1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert sent and time.perf_counter() - sent[0] < 2.0, (
        f"interrupted {time.perf_counter() - t0:.2f} s into the call"
    )
    assert idx.search("w5 shared", k=3)


@pytest.fixture
def busy_python_thread():
    """A thread running a pure-Python loop: it holds the GIL until the interpreter makes it
    drop it, so whoever waits for the GIL waits up to the switch interval (5 ms)."""
    import sys
    import threading
    import time

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    stop = threading.Event()

    def spin():
        x = 0
        while not stop.is_set():
            x += 1

    t = threading.Thread(target=spin, daemon=True)
    t.start()
    # Searches from other threads (earlier tests) make the binding release the GIL for 50 ms.
    time.sleep(0.1)
    yield
    stop.set()
    t.join()
    sys.setswitchinterval(old)


def _median_seconds(fn, reps: int = 25) -> float:
    import statistics
    import time

    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def test_small_searches_keep_the_gil_beside_a_busy_python_thread(busy_python_thread):
    """Small searches run with the GIL held: releasing it meant waiting up to the switch
    interval to get it back, every call (5 ms per SciFact query instead of ~20 us). Token-list
    and dict queries and int64 filters were also first extracted as another type, and the
    failed attempt released the GIL too."""
    # ~5,000 postings per term: a search long enough (tens of us) that the busy thread takes
    # the GIL whenever the search lets it go.
    rng = random.Random(3)
    words = [f"w{i}" for i in range(30)]
    docs = [(f"d{i}", " ".join(rng.choices(words, k=rng.randint(1, 40)))) for i in range(10_000)]
    idx = thresher.Index.build(docs)
    small = thresher.Index.build(corpus(3))
    queries = [" ".join(words[:2]), words[:2], dict.fromkeys(words[:2], 1.0)]
    allows = [None, np.array([0, 5, 9], dtype=np.int64), np.ones(len(idx), dtype=bool)]
    for q in queries:
        for allow in allows:
            t = _median_seconds(lambda q=q, allow=allow: idx.search(q, k=10, allow=allow))
            assert t < 0.002, (q, allow, t)
        t = _median_seconds(lambda q=q: small.search_batch([q] * 8, k=10, threads=1))
        assert t < 0.002, (q, t)
    analyzer = thresher.Analyzer()
    assert _median_seconds(lambda: analyzer.tokenize_batch(["Boundary layers"] * 8)) < 0.002


def test_a_large_batch_waits_for_the_gil_once_per_chunk(busy_python_thread):
    """A batch beyond the small-work rule releases the GIL for its chunks (64 queries, then
    twice as many while chunks are quick), not for every query it reads: 400 queries wait
    three times for the GIL (17 ms measured), where the failed extraction attempts of
    token-list queries released it twice per query (64 ms measured for 100 queries)."""
    idx = thresher.Index.build(corpus(4))
    rng = random.Random(5)
    words = [f"w{i}" for i in range(300)]
    for make in (
        lambda: rng.choices(words, k=3),
        lambda: dict.fromkeys(rng.choices(words, k=3), 1.0),
    ):
        batch = [make() for _ in range(400)]
        assert _median_seconds(lambda b=batch: idx.search_batch(b, k=10, threads=1), 7) < 0.05


def test_a_small_batch_has_no_large_fixed_cost():
    """A one-query `search_batch` costs about what `search` does: the default thread count was
    read from the cgroup files on every call (~28 us, against ~1 us for this search)."""
    idx = thresher.Index.build(corpus(7, 100))
    assert _median_seconds(lambda: idx.search_batch(["w1 w2"], k=10), 200) < 15e-6

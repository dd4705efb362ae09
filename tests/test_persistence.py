"""Save/load round trips, corruption and version detection, and crash safety of save."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import thresher
from thresher.data import write_trec_run

QUERIES = ["alpha beta", "gamma", "delta epsilon zeta", "nothing-matches-this"]


def small_index() -> thresher.Index:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    docs = [(f"doc-{i}", " ".join(rng.choices(words, k=rng.randint(0, 30)))) for i in range(300)]
    return thresher.Index.build(docs)


@pytest.fixture()
def saved(tmp_path: Path) -> tuple[thresher.Index, Path]:
    idx = small_index()
    path = tmp_path / "idx"
    idx.save(path)
    return idx, path


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_search_identical(saved, mmap):
    idx, path = saved
    loaded = thresher.Index.load(path, mmap=mmap)
    assert len(loaded) == len(idx)
    assert list(loaded.doc_ids) == list(idx.doc_ids)
    for k in (1, 10, 1000):
        a = idx.search_batch(QUERIES, k=k)
        b = loaded.search_batch(QUERIES, k=k)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert loaded.meta == {
        **idx.meta,
        "segments": loaded.meta["segments"],
        "checksum": loaded.meta["checksum"],
    }


def test_meta_json_is_readable(saved):
    _, path = saved
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format_version"] == thresher.FORMAT_VERSION
    assert meta["scoring"] == {
        "kind": "lucene",
        "k1": pytest.approx(0.9),
        "b": pytest.approx(0.4),
        "delta": 0.0,
    }
    assert meta["num_docs"] == 300
    files = {f["file"] for s in meta["segments"] for f in s["files"]}
    # Besides the segments: meta.json and the writers' lock file (it holds no data).
    extra = ("meta.json", ".thresher.lock")
    assert files == {p.name for p in path.iterdir() if p.name not in extra}


def component_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.name != ".thresher.lock")


def test_every_component_truncated_by_one_byte_is_detected(saved, tmp_path):
    _, path = saved
    for f in component_files(path):
        data = f.read_bytes()
        f.write_bytes(data[:-1])
        with pytest.raises(thresher.IndexCorruptedError):
            thresher.Index.load(path)
        f.write_bytes(data)
    thresher.Index.load(path)  # intact again


@pytest.mark.parametrize("mmap", [True, False])
def test_flipped_byte_anywhere_is_detected(saved, mmap):
    _, path = saved
    rng = random.Random(1)
    for f in component_files(path):
        data = f.read_bytes()
        # Every byte of small files and of headers/footers; a sample of large payloads.
        positions = set(range(min(len(data), 200))) | set(range(max(0, len(data) - 100), len(data)))
        positions |= {rng.randrange(len(data)) for _ in range(200)}
        for pos in sorted(positions):
            bad = bytearray(data)
            bad[pos] ^= 1 << rng.randrange(8)
            f.write_bytes(bytes(bad))
            with pytest.raises(thresher.IndexCorruptedError):
                thresher.Index.load(path, mmap=mmap)
        f.write_bytes(data)


def test_newer_format_version_is_incompatible(saved):
    _, path = saved
    meta_path = path / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = thresher.FORMAT_VERSION + 1
    meta["some_future_field"] = {"x": 1}
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(thresher.IncompatibleIndexError, match="newer"):
        thresher.Index.load(path)


def test_missing_component_and_missing_index(saved, tmp_path):
    _, path = saved
    with pytest.raises(FileNotFoundError):
        thresher.Index.load(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"meta\.json"):
        thresher.Index.load(empty)
    next(p for p in path.iterdir() if p.suffix == ".postings").unlink()
    with pytest.raises(FileNotFoundError):
        thresher.Index.load(path)


def test_save_refuses_to_clobber_foreign_directory(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing"):
        small_index().save(d)
    assert (d / "precious.txt").read_text() == "keep me"


def test_resave_over_existing_index_replaces_it_and_cleans_up(saved):
    _, path = saved
    other = thresher.Index.build([("x", "alpha"), ("y", "beta")])
    other.save(path)
    loaded = thresher.Index.load(path)
    assert list(loaded.doc_ids) == ["x", "y"]
    # meta.json + 3 components of the new segment (+ the lock file)
    assert len([p for p in path.iterdir() if p.name != ".thresher.lock"]) == 4
    loaded.save(path)  # saving onto itself reuses its files
    assert list(thresher.Index.load(path).doc_ids) == ["x", "y"]


def test_a_loaded_index_keeps_answering_after_another_saves_over_its_directory(tmp_path):
    """A save removes the files its new meta.json does not name; an index memory-mapped from
    them keeps its mappings (the inodes live on) and answers as before."""
    path = tmp_path / "idx"
    thresher.Index.build([(f"d{i}", f"alpha beta gamma {i}") for i in range(3000)]).save(path)
    first = thresher.Index.load(path)
    before = first.search("alpha 7", k=3)
    old_files = {p.name for p in path.iterdir()}
    thresher.Index.build([(f"e{i}", f"delta epsilon {i}") for i in range(5000)]).save(path)
    assert not (old_files - {"meta.json", ".thresher.lock"}) & {p.name for p in path.iterdir()}
    assert first.search("alpha 7", k=3) == before
    assert first.search_batch(["gamma 12"], k=2)[0].tolist() == [[12, 0]]
    assert thresher.Index.load(path).search("delta 3", k=1)[0][0] == "e3"


def test_loading_while_another_thread_saves_into_the_directory_never_fails(tmp_path):
    """An indexer re-saving while a server reloads: a load that read the old meta.json whose
    segments the save then removed starts again from the new one (as Lucene's
    FindSegmentsFile); before, 18 of 26,712 loads (and 441 of about 87,000 in another run)
    raised FileNotFoundError."""
    import threading

    path = tmp_path / "idx"
    a = thresher.Index.build([(f"a{i}", f"cat dog {i}") for i in range(2000)])
    b = thresher.Index.build([(f"b{i}", f"bird fish {i}") for i in range(2000)])
    a.save(path)
    stop = threading.Event()

    def saver() -> None:
        while not stop.is_set():
            a.save(path)
            b.save(path)

    t = threading.Thread(target=saver)
    t.start()
    loads, seen = 0, set()
    try:
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            idx = thresher.Index.load(path)
            seen.add(str(idx.doc_ids[0])[0])
            assert len(idx) == 2000
            loads += 1
    finally:
        stop.set()
        t.join()
    assert seen == {"a", "b"} and loads > 200


def test_verify_false_still_checks_structure(saved):
    _, path = saved
    f = next(p for p in path.iterdir() if p.suffix == ".docs")
    data = f.read_bytes()
    f.write_bytes(data[:-1])
    with pytest.raises(thresher.IndexCorruptedError):
        thresher.Index.load(path, verify=False)


CRASH_SCRIPT = r"""
import sys, time, thresher
idx = thresher.Index.load(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
start = time.monotonic()
idx.save(sys.argv[2])
print("saved", start, time.monotonic(), flush=True)
"""


def test_killing_save_leaves_previous_index_loadable(tmp_path):
    path = tmp_path / "idx"
    old = thresher.Index.build([("old-1", "alpha beta"), ("old-2", "gamma")])
    old.save(path)
    # The new index (~10 MB) is built once; each child loads it and saves it over `path`.
    rng = random.Random(3)
    words = [f"w{i}" for i in range(50000)]
    docs = [(f"n{i}", " ".join(rng.choices(words, k=100))) for i in range(60000)]
    big = tmp_path / "big"
    thresher.Index.build(docs).save(big)
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT)

    def start() -> tuple[subprocess.Popen[str], float]:
        p = subprocess.Popen(
            [sys.executable, str(script), str(big), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert p.stdout is not None and p.stdin is not None
        assert p.stdout.readline().strip() == "ready"
        go = time.monotonic()
        p.stdin.write("go\n")
        p.stdin.flush()
        return p, go

    # Calibrate on this machine, now: the delay from "go" to the save's start, and the save's
    # duration (CLOCK_MONOTONIC is shared by processes). Kills are then spread over the save
    # (from 4% to 96% of it), whatever its speed: each must leave the old or the new index.
    lat, dur = [], []
    for _ in range(3):
        p, go = start()
        assert p.stdout is not None
        word, t_start, t_end = p.stdout.readline().split()
        assert word == "saved"
        p.communicate()  # waits, and closes the pipes
        lat.append(float(t_start) - go)
        dur.append(float(t_end) - float(t_start))
        old.save(path)
    latency, duration = min(lat), min(dur)
    outcomes = {"old": 0, "new": 0}
    for trial in range(12):
        p, go = start()
        time.sleep(max(0.0, go + latency + duration * (trial + 0.5) / 12 - time.monotonic()))
        p.send_signal(signal.SIGKILL)
        p.communicate()
        loaded = thresher.Index.load(path)  # must never fail
        ids = set(loaded.doc_ids.tolist())
        if ids == {"old-1", "old-2"}:
            outcomes["old"] += 1
        else:
            assert len(ids) == 60000
            outcomes["new"] += 1
            old.save(path)  # restore the old index for the next trial
    # Kills landed before the save completed at least sometimes (else the test proves nothing).
    print(outcomes)
    assert outcomes["old"] > 0, outcomes
    # Temporary files of killed saves are cleaned by the next successful save.
    old.save(path)
    assert not [p for p in os.listdir(path) if ".tmp-" in p]


def test_python_side_writes_are_atomic(tmp_path):
    """Runs, exports and models go through one helper: an error mid-write keeps the previous
    file and removes the temporary one; success replaces the file."""
    from thresher._atomic import atomic_path
    from thresher.data import read_trec_run, write_trec_run

    run_path = tmp_path / "run.trec"
    write_trec_run({"q1": [("d1", 2.0), ("d2", 1.0)]}, run_path)
    before = run_path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"), atomic_path(run_path) as tmp:
        tmp.write_text("q1 Q0 half")
        raise RuntimeError("boom")
    assert run_path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.trec"]
    write_trec_run({"q2": [("d3", 0.5)]}, run_path)
    assert read_trec_run(run_path) == {"q2": {"d3": 0.5}}


def test_a_failed_atomic_write_names_the_file_asked_for(tmp_path):
    """Errors from the temporary file or the final rename named the hidden temporary
    ('.run.trec.tmp-...'), not the path the caller gave."""
    (tmp_path / "adir").mkdir()
    with pytest.raises(IsADirectoryError) as e:
        write_trec_run({"q": [("d", 1.0)]}, tmp_path / "adir")
    assert e.value.filename == str(tmp_path / "adir") and ".tmp-" not in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        write_trec_run({"q": [("d", 1.0)]}, tmp_path / "missing" / "run.trec")
    assert e.value.filename == str(tmp_path / "missing" / "run.trec")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]  # no temporary left


def test_an_unverified_index_is_checked_before_it_is_copied(tmp_path):
    """Saving an index opened with verify=False checks its bytes against the checksums
    meta.json recorded for them, so an intact index is copied even when the files it came from
    are gone or replaced; damaged bytes are refused (the file they came from is re-read and
    found damaged, or cannot be read)."""
    import shutil

    idx = thresher.Index.build(
        [(f"d{i}", "cats and dogs" if i % 3 else "more dogs and birds") for i in range(600)]
    )
    other = thresher.Index.build([("x", "birds"), ("y", "fish")])
    idx.save(tmp_path / "src")
    fast = thresher.Index.load(tmp_path / "src", verify=False)
    fast.save(tmp_path / "copy")
    assert thresher.Index.load(tmp_path / "copy").search("dogs") == idx.search("dogs")
    for mmap in (True, False):
        idx.save(tmp_path / "src")
        loaded = thresher.Index.load(tmp_path / "src", mmap=mmap, verify=False)
        other.save(tmp_path / "src")  # another index replaces its files
        loaded.save(tmp_path / f"copy-{mmap}")
        back = thresher.Index.load(tmp_path / f"copy-{mmap}")
        assert back.search("dogs", k=5) == idx.search("dogs", k=5)
        loaded.reweight(np.ones(len(loaded.vocabulary), dtype=np.float32))
        shutil.rmtree(tmp_path / "src")
        loaded.save(tmp_path / f"again-{mmap}")
        assert thresher.Index.load(tmp_path / f"again-{mmap}").search("dogs", k=5) == back.search(
            "dogs", k=5
        )
    # Damaged bytes: a flipped byte in the postings, loaded without verification.
    idx.save(tmp_path / "src")
    (postings,) = (tmp_path / "src").glob("*.postings")
    raw = bytearray(postings.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    postings.write_bytes(bytes(raw))
    heap = thresher.Index.load(tmp_path / "src", mmap=False, verify=False)
    with pytest.raises(
        thresher.IndexCorruptedError, match="refusing to save: the index is damaged"
    ):
        heap.save(tmp_path / "copy2")
    with pytest.raises(thresher.IndexCorruptedError, match="refusing to reweight"):
        heap.reweight(np.ones(len(heap.vocabulary), dtype=np.float32))
    shutil.rmtree(tmp_path / "src")
    with pytest.raises(thresher.IndexCorruptedError, match="cannot be read to check it"):
        heap.save(tmp_path / "copy2")
    assert not (tmp_path / "copy2").exists() or not list((tmp_path / "copy2").glob("*.postings"))


def test_an_index_remembers_its_directory_as_an_absolute_path(tmp_path, monkeypatch):
    """`path` is absolute even when the index was loaded or saved through a relative path, so
    it names the same directory after the process changes directory; an unverified index
    loaded that way can still be checked and copied from elsewhere."""
    idx = thresher.Index.build([("a", "cats and dogs"), ("b", "more dogs")])
    monkeypatch.chdir(tmp_path)
    idx.save("rel")
    assert idx.path == tmp_path / "rel"
    fast = thresher.Index.load("rel", verify=False)
    assert fast.path == tmp_path / "rel"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert fast.path.is_absolute() and (fast.path / "meta.json").is_file()
    fast.save("copy")  # checks the source files through the remembered (absolute) path
    assert thresher.Index.load(tmp_path / "elsewhere" / "copy").search("dogs") == idx.search("dogs")
    fast.save(tmp_path / "rel")  # back into its own directory
    assert thresher.Index.load(tmp_path / "rel").search("dogs") == idx.search("dogs")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX record locks")
def test_a_second_writer_to_the_same_directory_is_refused(tmp_path):
    """Two saves into one directory at once would delete each other's files; the second is
    refused while the first holds the directory's lock (as Lucene's write.lock)."""
    idx = thresher.Index.build([("a", "cats and dogs"), ("b", "more dogs")])
    d = tmp_path / "idx"
    idx.save(d)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.lockf(f, fcntl.LOCK_EX);"
            " print('locked', flush=True); time.sleep(30)",
            str(d / ".thresher.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BlockingIOError, match="another writer is saving"):
            idx.save(d)
    finally:
        holder.kill()
        holder.communicate()
    idx.save(d)  # released
    assert thresher.Index.load(d).search("dogs") == idx.search("dogs")
    # A lock file alone (a first save that failed) does not make a directory "not an index".
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / ".thresher.lock").touch()
    idx.save(fresh)


def test_saving_while_other_threads_search_does_not_deadlock(tmp_path):
    """Searches on an index while it is saved (into its own directory and elsewhere) finish
    and return what they return alone. Before, a reader waiting for the index's lock while
    holding the GIL, a queued save, and a reader waiting for the GIL deadlocked."""
    import threading

    docs = [(f"d{i}", f"w{i % 50} w{i % 7} common text {i}") for i in range(2000)]
    idx = thresher.Index.build(docs)
    d = tmp_path / "own"
    idx.save(d)
    idx = thresher.Index.load(d)
    queries = [f"w{i} common" for i in range(50)]
    want = [idx.search(q, k=10) for q in queries]
    want_batch = idx.search_batch(queries, k=10, threads=1)
    stop = time.monotonic() + 3.0
    errors: list[BaseException] = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported below
                errors.append(e)

        return run

    def searcher():
        while time.monotonic() < stop:
            for q, w in zip(queries, want):
                assert idx.search(q, k=10) == w

    def batcher():
        while time.monotonic() < stop:
            got = idx.search_batch(queries, k=10, threads=2)
            assert (got[0] == want_batch[0]).all()

    def saver():
        n = 0
        while time.monotonic() < stop:
            idx.save(d if n % 2 else tmp_path / "other")
            n += 1

    # Daemons: on a deadlock the test fails instead of hanging the run.
    threads = [
        threading.Thread(target=guard(f), daemon=True) for f in (searcher, searcher, batcher, saver)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "deadlock: a thread is still running"
    assert not errors, errors

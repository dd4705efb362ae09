"""The README's Python examples run as written (paths to ../shared resolved), and every line
of the form ``expression  # <python literal>`` evaluates to that literal."""

from __future__ import annotations

import ast
import re

from conftest import ROOT, SHARED


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_examples_run(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert blocks, "README has no python examples"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    checked = 0
    for block in blocks:
        code = block.replace("../shared", str(SHARED))
        exec(compile(code, "README.md", "exec"), ns)
        for line in code.splitlines():
            code_part, sep, comment = line.partition("  # ")
            if not sep:
                continue
            try:
                expected = ast.literal_eval(comment.strip())
            except (ValueError, SyntaxError):
                continue
            assert eval(code_part.strip(), ns) == expected, line
            checked += 1
    assert checked >= 1

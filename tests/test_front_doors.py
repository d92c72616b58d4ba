"""No domain function is reachable only from the demo seed: each public function of zarts/domain is
called by a screen, a job, the CLI or another domain function (issue 17: every step has a front door).

A function nobody outside demo.py calls is a step users cannot take, or dead code; either way this
test names it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ZARTS = Path(__file__).resolve().parents[1] / "zarts"
DEMO = ZARTS / "demo.py"


def _public_domain_functions() -> dict[str, Path]:
    found = {}
    for path in (ZARTS / "domain").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                found[node.name] = path
    return found


def _callers(name: str, defined_in: Path, sources: dict[Path, str]) -> list[Path]:
    word = re.compile(rf"\b{re.escape(name)}\b")
    return [
        path for path, text in sources.items() if len(word.findall(text)) > (1 if path == defined_in else 0)
    ]


def test_every_domain_function_has_a_caller_besides_the_demo():
    sources = {
        path: path.read_text()
        for pattern in ("*.py", "*.html")
        for path in ZARTS.rglob(pattern)
        if path != DEMO
    }
    functions = _public_domain_functions()
    assert len(functions) > 50  # the walk found the domain
    orphans = sorted(
        f"{path.relative_to(ZARTS)}: {name}"
        for name, path in functions.items()
        if not _callers(name, path, sources)
    )
    assert not orphans, "reachable only from the demo (or nowhere): " + ", ".join(orphans)


def test_the_check_sees_a_function_only_the_demo_calls(tmp_path):
    defined = tmp_path / "domain.py"
    defined.write_text("def publish_report(session):\n    pass\n")
    sources = {defined: defined.read_text(), tmp_path / "demo_like.py": "publish_report(s)\n"}
    assert _callers("publish_report", defined, sources) == [tmp_path / "demo_like.py"]
    assert _callers("publish_report", defined, {defined: defined.read_text()}) == []

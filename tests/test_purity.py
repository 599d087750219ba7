"""Stages stay pure: no clock, no network, no environment, no file I/O anywhere under stages/ (STYLE 2, 3).

The engine does the I/O and passes frames in; time enters only as ctx.as_of. This walks the syntax tree of
every stage module, so a forbidden call cannot hide behind formatting.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

FORBIDDEN_IMPORTS = {"httpx", "requests", "urllib", "socket", "http", "subprocess", "shutil", "sqlite3", "time"}
FORBIDDEN_CALLS = {"open", "input", "exec", "eval", "print"}
FORBIDDEN_ATTRS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("dt", "now"),
    ("os", "environ"), ("os", "getenv"), ("os", "system"), ("time", "time"), ("time", "monotonic"),
    ("Timestamp", "now"), ("Timestamp", "today"), ("pd", "read_parquet"), ("pd", "read_csv"),
    ("np", "load"), ("np", "save"), ("random", "random"), ("random", "seed"),
}
FORBIDDEN_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "to_parquet", "to_csv_file", "unlink",
                     "mkdir"}

MODULES = sorted((REPO / "stages").rglob("*.py"))


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_IMPORTS:
                    found.append(f"line {node.lineno}: imports {name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append(f"line {node.lineno}: calls {node.func.id}()")
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else \
                node.value.attr if isinstance(node.value, ast.Attribute) else ""
            if (owner, node.attr) in FORBIDDEN_ATTRS:
                found.append(f"line {node.lineno}: uses {owner}.{node.attr}")
            if node.attr in FORBIDDEN_METHODS:
                found.append(f"line {node.lineno}: calls .{node.attr}()")
    return found


def test_there_are_stage_modules_to_check():
    assert len(MODULES) >= 10


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_stage_module_is_pure(path: Path):
    assert _problems(path) == []


def test_the_checker_catches_what_it_should(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("import httpx\nimport datetime as dt\nimport os\n\n"
                   "def f(p):\n    t = dt.datetime.now()\n    k = os.environ['X']\n"
                   "    return open(p).read(), p.read_text()\n")
    problems = " ".join(_problems(bad))
    for what in ("imports httpx", "uses datetime.now", "uses os.environ", "calls open()", ".read_text()"):
        assert what in problems, what

"""Stages stay pure: no clock, no network, no environment, no file I/O anywhere under stages/ (STYLE 2, 3).

The engine does the I/O and passes frames in; time enters only as ctx.as_of. This walks the syntax tree of
every stage module, so a forbidden call cannot hide behind formatting; and, since a stage may reach out through a
helper it imports, every stage of a real slate is also run under an audit hook (files, sockets, processes) with the
clock and the environment watched.
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import sysconfig
from collections.abc import Callable, Iterator
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


# ---- at run time: what the AST walk cannot see --------------------------------------------------------------
# A stage calling a helper of `projections` (or of a library) that opens a file, reads the environment or the
# clock, or opens a socket passes the walk above. So every stage of a real slate is run once more under an audit
# hook, with the wall clock and the environment watched, and anything it reaches outside the interpreter's own
# files (module imports, the time-zone database) is a finding, named with the line of our code that did it.

_ACTIVE: list[str] = []
_FOUND: list[str] = []
_HOOKED: list[bool] = []
_ALLOWED_ROOTS = sorted({sys.prefix, sys.base_prefix, *sysconfig.get_paths().values(), "/usr/share/zoneinfo"})


def _allowed_path(path: str) -> bool:
    if path.endswith((".py", ".pyc", ".so")) or "__pycache__" in path:
        return True  # an import
    return any(path.startswith(root.rstrip("/") + "/") for root in _ALLOWED_ROOTS)


def _ours() -> str:
    """The innermost frame of this checkout's code (not a library's, not this test's) on the stack."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(str(REPO)) and name != __file__ and ".venv" not in name:
            return f"{Path(name).relative_to(REPO)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


_MAPPING_CODE = ("os.py", "_collections_abc.py", "<frozen os>", "<frozen _collections_abc>")


def _caller_is_ours() -> bool:
    """Whether the code that read os.environ or the clock is ours (past os's and collections' own mapping code:
    `os.environ.get` reaches __getitem__ through them), not a library's."""
    frame = sys._getframe(2)
    while frame is not None and Path(frame.f_code.co_filename).name in _MAPPING_CODE:
        frame = frame.f_back
    name = frame.f_code.co_filename if frame is not None else ""
    return name.startswith(str(REPO)) and ".venv" not in name


def _audit(event: str, args: tuple) -> None:
    if not _ACTIVE:
        return
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike) and not _allowed_path(os.fsdecode(args[0])):
        _FOUND.append(f"{_ACTIVE[0]}: opens {os.fsdecode(args[0])} at {_ours()}")
    elif event.startswith(("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.listdir",
                           "os.scandir", "urllib.")):
        _FOUND.append(f"{_ACTIVE[0]}: {event} at {_ours()}")


@contextlib.contextmanager
def _watching(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    import time

    if not _HOOKED:  # an audit hook cannot be removed: one, idle unless a stage is running
        sys.addaudithook(_audit)
        _HOOKED.append(True)
    for attr in ("time", "time_ns"):
        real = getattr(time, attr)

        def clock(*args: object, _real: Callable[..., object] = real, _attr: str = attr) -> object:
            if _ACTIVE and _caller_is_ours():
                _FOUND.append(f"{_ACTIVE[0]}: time.{_attr}() at {_ours()}")
            return _real(*args)
        monkeypatch.setattr(time, attr, clock)
    real_get = os._Environ.__getitem__

    def env(self: os._Environ[str], key: str) -> str:
        if _ACTIVE and _caller_is_ours():
            _FOUND.append(f"{_ACTIVE[0]}: os.environ[{key!r}] at {_ours()}")
        return real_get(self, key)
    monkeypatch.setattr(os._Environ, "__getitem__", env)
    _ACTIVE.append(name)
    try:
        yield
    finally:
        _ACTIVE.clear()
        monkeypatch.undo()


def test_every_stage_of_a_real_slate_reaches_no_file_socket_clock_or_environment(
        built_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Invariant 3 at run time: every stage of 2019-10-30 rebuilt in-process (its action records dropped, so each
    runs on the same inputs and commits the same object), its function watched while it runs."""
    import datetime as dt
    import importlib
    import shutil

    from projections.settings import load_settings
    from projections.wiring import make_engine
    from tests.conftest import FIXTURE_DATE, like_a_doit_child

    _FOUND.clear()
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    shutil.rmtree(home / "store" / "actions")  # every stage runs again (on the same inputs: the same objects)
    with like_a_doit_child(monkeypatch):
        engine = make_engine(load_settings(home=home))
        day = dt.date.fromisoformat(FIXTURE_DATE)
        ran = []
        for name in engine.pipeline.order:
            module_name, _, qualname = engine.pipeline[name].func_ref.partition(":")
            module = importlib.import_module(module_name)
            real = getattr(module, qualname)

            def watched(*args: object, _real: Callable[..., object] = real, _name: str = name,
                        **kwargs: object) -> object:
                with _watching(pytest.MonkeyPatch(), _name):
                    return _real(*args, **kwargs)
            with monkeypatch.context() as patch:
                patch.setattr(module, qualname, watched)
                outcome = engine.build(name, day)
            ran.append((name, outcome.built))
    assert all(built for _, built in ran) and len(ran) == len(engine.pipeline.order), ran
    found, _ = sorted(set(_FOUND)), _FOUND.clear()
    assert found == [], "\n".join(found)


def test_the_run_time_watch_catches_a_stage_that_reaches_out_through_a_helper(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch above can fail: a helper of ours, called by a stage, that opens a file, reads the environment
    and the clock is named for each."""
    import time

    secret = tmp_path / "lines.csv"
    secret.write_text("x")
    _FOUND.clear()

    def helper() -> None:  # stands for a `projections` function a stage imports
        secret.read_text()
        os.environ.get("PROJECTIONS_LIVE__NOW")
        time.time()

    with _watching(monkeypatch, "odds"):
        helper()
    found = " | ".join(_FOUND)
    _FOUND.clear()
    for said in (f"odds: opens {secret}", "odds: os.environ['PROJECTIONS_LIVE__NOW']", "odds: time.time()"):
        assert said in found, found

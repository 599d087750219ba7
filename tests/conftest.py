"""Shared fixtures: a fresh data root per test and real `doit` processes against it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared" / "data" / "nba").resolve()
FIXTURE_DATE = "2019-10-30"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the long soak variants of the reliability tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="soak variant: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # exit 5 ("no tests ran") must never pass for success or be ignored: it is a failure here
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


CACHE_DIR = Path(os.environ.get("PYTEST_PROJECTIONS_CACHE", "/tmp")) / f"projections-test-cache-{os.getuid()}"


def project_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTIONS_")}
    env["PROJECTIONS_HOME"] = str(home)
    env["PROJECTIONS_CACHE_DIR"] = str(CACHE_DIR)  # the fast path's caches, kept out of ~/.cache
    env.update(extra)
    return env


@contextlib.contextmanager
def like_a_doit_child(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's environment as `project_env` gives a child: no PROJECTIONS_ setting but the cache dir; the
    process umask put back afterwards (make_engine sets the data root's), for tests that build in-process."""
    for name in list(os.environ):
        if name.startswith("PROJECTIONS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(CACHE_DIR))
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield
    finally:
        os.umask(umask)


def doit_argv(*args: str, code: Path = REPO) -> list[str]:
    """`doit ARGS` on the dodo.py in `code` (the repo, or a private copy whose `stages` a test edits)."""
    return [sys.executable, "-m", "doit", "-f", str(code / "dodo.py"), *args]


def ctrl_c_default() -> None:
    """preexec_fn of a process a test stops with SIGINT: its default action back, as at a terminal. The suite may
    run as a background job or under nohup, whose children inherit SIGINT ignored (Python then installs no
    KeyboardInterrupt handler, and the run went on to the end)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_doit(home: Path, *args: str, timeout: float = 300, code: Path = REPO,
             **extra: str) -> subprocess.CompletedProcess[str]:
    """Run `doit ARGS` in a real process against the data root `home`."""
    return subprocess.run(doit_argv(*args, code=code), env=project_env(home, **extra), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def built_root(factory: pytest.TempPathFactory, name: str, *args: str, timeout: float = 300) -> Path:
    """A new data root where `doit ARGS` has run once and succeeded: the root a module or session fixture shares."""
    home = factory.mktemp(name) / "home"
    result = run_doit(home, *args, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return home


def obeying_modes(argv: list[str]) -> list[str]:
    """`argv` run so that file modes bind it: as root (who ignores them), under setpriv without the
    capabilities that let root write anywhere; the test is skipped where setpriv is missing."""
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without util-linux setpriv: cannot make a directory unwritable")
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", *argv]


def run_cli(home: Path, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "projections.cli", *args], env=project_env(home, **extra),
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def ledger_events(home: Path) -> list[dict]:
    events = []
    for path in sorted((home / "ledger").glob("*.jsonl")):
        events.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return events


def gold_object(home: Path, day: str = FIXTURE_DATE) -> str | None:
    link = home / "gold" / "projections" / f"game_date={day}"
    if not link.is_symlink():
        return None
    target = Path(os.readlink(link))
    return "xxh3-128:" + target.parent.name + target.name


def damaged_object(store: Any, files: dict[str, bytes]) -> tuple[str, Path]:
    """Commit `files` to `store` (a LocalStore), then flip a byte of the first: (its object, its folder, left
    writable). The next commit of the same files finds it damaged and sets it aside."""
    obj = store.commit(files, {"kind": "test"}).object
    where = store.object_dir(obj)
    name, data = next(iter(files.items()))
    os.chmod(where, 0o755)
    os.chmod(where / name, 0o644)
    (where / name).write_bytes(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:])
    return obj, where


def tree_snapshot(home: Path) -> dict[str, str]:
    """Every path under the data root with its kind and (for links) target: 'nothing changed' checks."""
    out = {}
    if not home.exists():
        return out
    for path in sorted(home.rglob("*")):
        rel = str(path.relative_to(home))
        if rel.startswith("cache"):
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = f"file {path.stat().st_size}"
        else:
            out[rel] = "dir"
    return out


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


SLATE_DATES = (FIXTURE_DATE, "2019-11-05", "2019-11-06", "2020-08-06")


@pytest.fixture(scope="session")
def slates_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data root where `doit -n 2 slate` has built SLATE_DATES once: the three fixture slates (two real DK
    files and the bubble, with injury reports) plus 2019-11-06 for the evaluation (read-only for its users)."""
    yield built_root(tmp_path_factory, "slates", "-n", "2", "slate", f"date={','.join(SLATE_DATES)}", timeout=600)


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data root where `doit slate date=2019-10-30` has run once (read-only for tests that use it)."""
    yield built_root(tmp_path_factory, "built", "slate", f"date={FIXTURE_DATE}")


class Nobody:
    """Runs Python scripts as another user (nobody: uid and gid 65534, no groups) with util-linux setpriv, on
    files under `folder` (a /tmp folder any user may enter: pytest's tmp_path is 0700)."""

    def __init__(self, folder: Path, setpriv: str) -> None:
        self.folder, self._setpriv = folder, setpriv

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self._setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                               "-c", script, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def nobody() -> Iterator[Nobody]:
    """Another user, for what only a second user shows (the suite runs as root, which every mode lets through);
    skipped where the suite is not root or setpriv is missing."""
    import tempfile

    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and util-linux setpriv to run as another user")
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield Nobody(folder, setpriv)
    finally:
        shutil.rmtree(folder)

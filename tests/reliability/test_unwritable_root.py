"""A data root this user may not write (another user's, or a read-only mount): every command that writes
refuses with one line naming the path and the fix (exit 2), changing nothing; a read-only `gc --dry-run` still
works. As root, modes do not stop writes, so the commands run under setpriv without the capabilities that let
root ignore them (as tests/integration/test_invariants.py does)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    FIXTURE_DATE,
    REPO,
    SHARED,
    built_root,
    doit_argv,
    obeying_modes,
    project_env,
    run_doit,
    tree_snapshot,
)

DK_2023 = SHARED / "salaries" / "dk" / "2023-01-16__chasebroder__DKSalaries__d62277f1.csv"
FIX = "projections doctor --fix-permissions"


def _chmod_tree(home: Path, writable: bool) -> None:
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(root) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                os.chmod(path, mode | 0o200 if writable else mode & ~0o222)
    mode = home.stat().st_mode
    os.chmod(home, mode | 0o200 if writable else mode & ~0o222)


@pytest.fixture(scope="module")
def readonly_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small data root (one schedule build: store, ledger, locks), a DKSalaries.csv in its inbox, then
    nothing in it writable."""
    home = tmp_path_factory.mktemp("readonly") / "home"
    built = run_doit(home, "schedule", f"date={FIXTURE_DATE}")
    assert built.returncode == 0, built.stdout + built.stderr
    (home / "inbox").mkdir(exist_ok=True)  # the run lays it out
    shutil.copy(DK_2023, home / "inbox" / "DKSalaries.csv")
    _chmod_tree(home, writable=False)
    try:
        yield home
    finally:
        _chmod_tree(home, writable=True)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = obeying_modes([sys.executable, "-m", "projections.cli", *args])
    return subprocess.run(argv, env=project_env(home), cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, names", [
    (["gc"], "locks/gc-gate.lock"),
    (["report"], "report"),
    (["ingest", "dk-salaries", str(DK_2023)], "locks/store.lock"),
    (["ingest", "inbox"], "locks/store.lock"),
], ids=["gc", "report", "ingest dk-salaries", "ingest inbox"])
def test_a_write_the_data_root_refuses_is_one_line_with_the_fix(readonly_home: Path, args: list[str],
                                                                 names: str) -> None:
    before = tree_snapshot(readonly_home)
    result = _cli(readonly_home, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and str(readonly_home / names) in result.stderr
    assert FIX in result.stderr  # this user owns the path refused: the repair is theirs to run
    if "lock" in names:
        assert "a lock file" in result.stderr  # why a command that may only read takes it
    assert tree_snapshot(readonly_home) == before


def test_gc_dry_run_needs_no_write(readonly_home: Path) -> None:
    before = tree_snapshot(readonly_home)
    result = _cli(readonly_home, "gc", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would delete 0 objects" in result.stdout and "kept 1" in result.stdout
    assert "Traceback" not in result.stderr and "lists without the lock" in result.stderr
    assert tree_snapshot(readonly_home) == before


def test_an_empty_inbox_needs_no_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o555)
    try:
        result = _cli(home, "ingest", "inbox")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no DKSalaries.csv waiting" in result.stdout and list(home.iterdir()) == []
    finally:
        os.chmod(home, 0o755)


def test_an_inbox_the_user_cannot_change_is_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    """A taken file moves to inbox/processed/: when the inbox (here `live.inbox`, outside the data root) cannot
    be changed, `ingest inbox` refuses before recording the snapshot, so nothing is half done."""
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    (inbox / "processed").mkdir(parents=True)
    shutil.copy(DK_2023, inbox / "DKSalaries.csv")
    os.chmod(inbox, 0o555)
    try:
        argv = obeying_modes([sys.executable, "-m", "projections.cli", "ingest", "inbox"])
        result = subprocess.run(argv, env=project_env(home, PROJECTIONS_LIVE__INBOX=str(inbox)), cwd=REPO,
                                capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(inbox, 0o755)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ingest inbox (as ") and len(result.stderr.splitlines()) == 1
    assert f"cannot write {inbox} " in result.stderr and f"make {inbox} writable" in result.stderr
    assert not (home / "refs" / "snapshots").exists() and not list((home / "store" / "objects").iterdir())
    assert (inbox / "DKSalaries.csv").exists()


# ------------------------------------------------------------------ a lock path that is no lock file


@pytest.fixture(scope="module")
def scheduled_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small data root: one schedule build (store, ledger, locks)."""
    return built_root(tmp_path_factory, "scheduled", "schedule", f"date={FIXTURE_DATE}")


@pytest.mark.parametrize("lock, kind, what", [
    (f"date={FIXTURE_DATE}.lock", "dir", f"slate date {FIXTURE_DATE}"),
    ("store.lock", "dir", "the store"),
    ("store.lock", "dangling", "the store"),
    ("gc-gate.lock", "dir", "the gc gate"),
])
def test_a_lock_path_that_is_no_lock_file_refuses_the_run_in_one_line(scheduled_home: Path, tmp_path: Path,
                                                                       lock: str, kind: str, what: str) -> None:
    """A directory or a dangling symlink where a lock file goes was an IsADirectoryError / FileNotFoundError
    traceback at every stage (doit) or out of gc."""
    home = tmp_path / "home"
    shutil.copytree(scheduled_home, home, symlinks=True)
    path = home / "locks" / lock
    path.unlink(missing_ok=True)
    if kind == "dir":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "gone" / lock)
    before = tree_snapshot(home)
    built = run_doit(home, "schedule", f"date={FIXTURE_DATE}")
    assert built.returncode == 3, built.stdout + built.stderr
    assert "Traceback" not in built.stderr and len(built.stderr.strip().splitlines()) == 1, built.stderr
    assert f"cannot take the lock on {what}: {path} is a " in built.stderr
    assert "not a lock file; remove it" in built.stderr
    assert tree_snapshot(home) == before
    if lock != f"date={FIXTURE_DATE}.lock":  # gc takes the store's locks
        gc = _cli(home, "gc")
        assert gc.returncode == 2 and "Traceback" not in gc.stderr, gc.stdout + gc.stderr
        assert gc.stderr.startswith("error: cannot take the lock on ") and str(path) in gc.stderr
        unlocked = {k: v for k, v in before.items() if not k.startswith("locks/")}  # the gate held says who held it
        assert {k: v for k, v in tree_snapshot(home).items() if not k.startswith("locks/")} == unlocked


# ------------------------------------------------------------------ files another user owns


def _doit_as_another(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = obeying_modes(doit_argv(*args))
    return subprocess.run(argv, env=project_env(home), cwd=REPO, capture_output=True, text=True, timeout=300)


def _foreign(path: Path, mode: int) -> None:
    """Make `path` another user's with `mode` (as root: nobody's; otherwise a mode that refuses its owner)."""
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
        os.chmod(path, mode)
    else:
        os.chmod(path, 0)


def test_an_object_file_another_user_owns_is_named_and_rebuilt(scheduled_home: Path, tmp_path: Path) -> None:
    """An object file this user may not read: `doit` (even a no-op), `verify` and `status` died with a
    PermissionError traceback from the stat cache's digest."""
    home = tmp_path / "home"
    shutil.copytree(scheduled_home, home, symlinks=True)
    [data] = [p for p in (home / "store" / "objects").glob("*/*/data.parquet")]
    _foreign(data, 0o400)
    said = f"file 'data.parquet' is unreadable ({data}, owner "
    verified = _cli(home, "verify")
    assert verified.returncode == 1 and "Traceback" not in verified.stderr, verified.stdout + verified.stderr
    assert said in verified.stdout and f"sudo chmod a+rX {data}" in verified.stdout
    status = _cli(home, "status", FIXTURE_DATE)
    assert "Traceback" not in status.stderr and said in status.stderr, status.stdout + status.stderr
    built = _doit_as_another(home, "schedule", f"date={FIXTURE_DATE}")
    assert built.returncode == 0 and "Traceback" not in built.stderr, built.stdout + built.stderr
    assert said in built.stderr and "treated as not built" in built.stderr
    assert "built      schedule" in built.stdout
    [kept] = (home / "store" / "quarantine").iterdir()  # set aside, not deleted: it may be someone's good copy
    assert (kept / "data.parquet").exists()
    again = _cli(home, "verify")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_ledger_file_another_user_owns_refuses_the_run_before_it_builds(scheduled_home: Path,
                                                                          tmp_path: Path) -> None:
    """The month's ledger another user's (0600): the run built, printed '1 date ok', then died in two chained
    PermissionError tracebacks (exit 3); `history` and `status` gave tracebacks too."""
    home = tmp_path / "home"
    shutil.copytree(scheduled_home, home, symlinks=True)
    from projections.ledger import Ledger

    ledger = Ledger(home).current()
    assert ledger.is_file()
    _foreign(ledger, 0o600)
    before = tree_snapshot(home)
    built = _doit_as_another(home, "slate", "date=2019-10-31")
    assert built.returncode == 3, built.stdout + built.stderr
    assert "Traceback" not in built.stderr and len(built.stderr.strip().splitlines()) == 1, built.stderr
    assert f"the ledger {ledger} (owner " in built.stderr and FIX in built.stderr
    assert "date ok" not in built.stdout and tree_snapshot(home) == before
    for args in (["history", FIXTURE_DATE], ["status", FIXTURE_DATE]):
        shown = _cli(home, *args)
        assert shown.returncode == 2, shown.stdout + shown.stderr
        assert "Traceback" not in shown.stderr and len(shown.stderr.splitlines()) == 1, shown.stderr
        assert shown.stderr.startswith(f"error: cannot read the ledger {ledger} (owner ") and FIX in shown.stderr

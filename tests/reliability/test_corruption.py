"""Corruption: each kind is named by `projections verify` and rebuilt (not used) by the next build."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from projections.store import LocalStore
from tests.conftest import FIXTURE_DATE, gold_object, ledger_events, run_cli, run_doit


def _object_of(home: Path, stage: str) -> str:
    return next(e["object"] for e in ledger_events(home) if e["event"] == "stage_success" and e["stage"] == stage)


def _writable(path: Path) -> None:
    os.chmod(path.parent, 0o755)
    if path.exists():
        os.chmod(path, 0o644)


def flip_byte(home: Path) -> str:
    obj = _object_of(home, "salaries")
    path = LocalStore(home).object_dir(obj) / "data.parquet"
    _writable(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    return obj.split(":")[1][:10]


def truncate_parquet(home: Path) -> str:
    obj = _object_of(home, "game_logs")
    path = LocalStore(home).object_dir(obj) / "data.parquet"
    _writable(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return obj.split(":")[1][:10]


def dangling_pointer(home: Path) -> str:
    obj = gold_object(home)
    assert obj is not None
    where = LocalStore(home).object_dir(obj)
    os.chmod(where, 0o755)
    shutil.rmtree(where)
    return "dangling"


def pointer_to_no_object(home: Path) -> str:
    """A gold pointer bent to a path that names no store object (a hand edit, a botched restore)."""
    link = home / "gold" / "projections" / f"game_date={FIXTURE_DATE}"
    link.unlink()
    link.symlink_to("../../store/objects/00/nonexistent")
    return "does not name a store object"


def manifest_removed(home: Path) -> str:
    """An object directory without its manifest (half deleted by hand, half restored): it blocked its stage for
    good ("cannot write to the data root: Directory not empty") and verify called it "not in the store"."""
    obj = _object_of(home, "sim")
    path = LocalStore(home).object_dir(obj) / "manifest.json"
    _writable(path)
    path.unlink()
    return "incomplete, no manifest.json"


def half_written_action(home: Path) -> str:
    store = LocalStore(home)
    obj = _object_of(home, "schedule")
    for path in store.iter_action_paths():
        if obj in path.read_text():
            path.write_text(path.read_text()[:40])
            return path.name[:10]
    raise AssertionError("no action record for the schedule object")


@pytest.mark.parametrize("damage", [flip_byte, truncate_parquet, dangling_pointer, pointer_to_no_object,
                                    manifest_removed, half_written_action],
                         ids=lambda f: f.__name__)
def test_damage_is_named_by_verify_and_rebuilt_by_the_next_build(tmp_path: Path, damage: Callable[[Path], str]):
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    gold_before = gold_object(home)
    hint = damage(home)

    report = run_cli(home, "verify")
    assert report.returncode == 1, report.stdout
    assert hint in report.stdout, report.stdout
    assert "PROBLEM" in report.stdout

    status = run_doit(home, "list", "--status", f"date={FIXTURE_DATE}")
    assert status.returncode == 0 and "R slate" in status.stdout

    rebuilt = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "built" in rebuilt.stdout or "published" in rebuilt.stdout
    assert "Traceback" not in rebuilt.stderr
    assert gold_object(home) == gold_before  # the same bytes come back
    after = run_cli(home, "verify")
    assert after.returncode == 0, after.stdout


def test_a_dangling_gold_pointer_is_no_gold_to_status_and_diff(tmp_path: Path):
    """status showed the dangling pointer's hash as the date's gold, and diff said "object ... is not in the
    store" with the usage exit code and no fix."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    dangling_pointer(home)
    status = run_cli(home, "status", FIXTURE_DATE)
    assert status.returncode == 1 and f"{FIXTURE_DATE}  STALE       gold: no gold" in status.stdout, status.stdout
    diff = run_cli(home, "diff", FIXTURE_DATE)
    assert diff.returncode == 1 and "(a dangling pointer); `doit slate date=2019-10-30` rebuilds it" in diff.stderr


def test_a_deleted_gold_pointer_is_a_problem_to_verify(tmp_path: Path):
    """`rm gold/projections/game_date=D`: verify said "ok" (status showed no gold) though the ledger records the
    date's publish."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    (home / "gold" / "projections" / f"game_date={FIXTURE_DATE}").unlink()
    found = run_cli(home, "verify")
    assert found.returncode == 1, found.stdout
    assert f"gold pointer projections {FIXTURE_DATE} is gone (the ledger records its publish)" in found.stdout
    assert f"`doit slate date={FIXTURE_DATE}` publishes it again" in found.stdout
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    assert run_cli(home, "verify").returncode == 0

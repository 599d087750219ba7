"""A gold pointer behind its stage's build is put back without building anything, and a move a killed run made
but never recorded is recorded once, by whichever build of the date comes next (DESIGN.md invariants 4 and 6).

- a pointer removed or moved onto another object, with gold's build in the store (its action record): the next
  `doit slate` publishes that object again; no stage starts;
- a run killed between the pointer swap and its `publish` line leaves a note: a build of the date that finds gold
  up to date (the engine's build, as a Dask worker calls it, whose root no doit check settles) records the move,
  marked recovered, writes `stage_cached`, and neither builds nor moves anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.store import LocalStore
from tests.conftest import FIXTURE_DATE, gold_object, ledger_events, like_a_doit_child, run_cli, run_doit

DAY = dt.date.fromisoformat(FIXTURE_DATE)


def _copy(built_home: Path, tmp_path: Path) -> tuple[Path, str, Path]:
    """A private copy of the built root: (its home, its gold object, its gold pointer)."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    gold = gold_object(home)
    assert gold is not None
    return home, gold, home / "gold" / "projections" / f"game_date={FIXTURE_DATE}"


def _gold_key(home: Path) -> str:
    (built,) = [e for e in ledger_events(home) if e["event"] == "stage_success" and e["stage"] == "gold"]
    return str(built["key"])


def _repoint(home: Path, link: Path, how: str) -> str | None:
    """Put the pointer behind: removed, or onto the date's sim object. What it names now."""
    if how == "removed":
        link.unlink()
        return None
    (sim,) = [e["object"] for e in ledger_events(home) if e["event"] == "stage_success" and e["stage"] == "sim"]
    tmp = link.with_name(".repointed")
    os.symlink(os.path.relpath(LocalStore(home).object_dir(sim), link.parent), tmp)
    os.replace(tmp, link)
    assert gold_object(home) == sim
    return str(sim)


@pytest.mark.parametrize("how", ["removed", "repointed"])
def test_a_pointer_behind_its_build_is_published_again_without_building(built_home: Path, tmp_path: Path,
                                                                       how: str) -> None:
    home, gold, link = _copy(built_home, tmp_path)
    key, seen = _gold_key(home), len(ledger_events(home))
    previous = _repoint(home, link, how)

    result = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 built" in result.stdout and "1 gold pointers moved" in result.stdout, result.stdout
    assert gold_object(home) == gold
    events = ledger_events(home)[seen:]
    assert not [e for e in events if e["event"] in ("stage_start", "stage_success", "stage_failure")], events
    moves = [e for e in events if e["event"] == "publish"]
    assert [(m["stage"], m.get("previous"), m["object"], m["key"], m.get("recovered")) for m in moves] == [
        ("gold", previous, gold, key, None)], moves
    assert run_cli(home, "verify").returncode == 0


@pytest.fixture
def engine_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's environment as `project_env` gives a child: no PROJECTIONS_ setting but the cache dir (and
    its umask put back: make_engine sets the data root's)."""
    with like_a_doit_child(monkeypatch):
        yield


def test_a_killed_runs_move_is_recorded_by_the_next_build_that_finds_gold_up_to_date(
        built_home: Path, tmp_path: Path, engine_env: None) -> None:
    from projections.settings import load_settings
    from projections.wiring import make_engine

    home, gold, link = _copy(built_home, tmp_path)
    key = _gold_key(home)
    link.unlink()
    killed = run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_FAILPOINTS="pointer.swapped=crash")
    assert killed.returncode == 137, killed.stdout + killed.stderr
    notes = list((home / "ledger" / "publishing").glob("*.json"))
    assert [n.name for n in notes] == [f"projections-{FIXTURE_DATE}.json"]  # swapped, never recorded
    assert gold_object(home) == gold
    killed_run = json.loads(notes[0].read_bytes())["run"]
    assert not [e for e in ledger_events(home) if e["event"] == "publish" and e["run"] == killed_run]
    seen = len(ledger_events(home))

    engine = make_engine(load_settings(home=home))
    plan = engine.plan("gold", DAY, fresh=True)
    assert plan.up_to_date and plan.pointer == gold  # what a doit check finds: nothing to build
    outcome = engine.build("gold", DAY)
    assert (outcome.object, outcome.built, outcome.created, outcome.published) == (gold, False, False, False)

    events = ledger_events(home)[seen:]
    assert [e["event"] for e in events] == ["publish", "stage_cached"], events
    moved, cached = events
    assert (moved.get("previous"), moved["object"], moved["key"], moved["recovered"]) == (None, gold, key, True)
    assert moved["moved_by_run"] == killed_run
    assert (cached["stage"], cached["key"], cached["object"]) == ("gold", key, gold)
    assert not list((home / "ledger" / "publishing").glob("*.json"))
    assert gold_object(home) == gold

    again = engine.build("gold", DAY)  # recorded once: the note is gone
    assert not again.published
    assert [e["event"] for e in ledger_events(home)[seen:]] == ["publish", "stage_cached", "stage_cached"]

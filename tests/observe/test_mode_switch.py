"""A date built, rebuilt with `lineups.mode = none`, garbage-collected and built back: `explain` and `status`
name the build that made each current record (a key built again has several builds in the ledger) and the
build before it; `diff` and the dashboard print ownership, which is in percent, as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DATE, ledger_events, run_cli, run_doit

NONE = {"PROJECTIONS_PARAMS__LINEUPS__MODE": "none"}


@dataclass(frozen=True)
class Switched:
    home: Path
    runs: list[dict]  # run_start events, oldest first: confirmed, none, confirmed again after gc
    lineups: list[dict]  # the stage_success events of lineups, oldest first


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switched]:
    home = tmp_path_factory.mktemp("mode-switch") / "home"
    for env in ({}, NONE):
        result = run_doit(home, "slate", f"date={FIXTURE_DATE}", **env)
        assert result.returncode == 0, result.stdout + result.stderr
    gc = run_cli(home, "gc", "--grace", "0", "--keep", "1")  # the first build's objects are no longer needed
    assert gc.returncode == 0, gc.stdout + gc.stderr
    again = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert again.returncode == 0, again.stdout + again.stderr
    events = ledger_events(home)
    runs = [e for e in events if e["event"] == "run_start"]
    lineups = [e for e in events if e["event"] == "stage_success" and e["stage"] == "lineups"]
    assert len(runs) == 3 and [e["run"] for e in lineups] == [r["run"] for r in runs], lineups
    assert lineups[0]["key"] == lineups[2]["key"] != lineups[1]["key"]  # built again: gc took its record
    yield Switched(home, runs, lineups)


def _explain(home: Path, stage: str, **env: str) -> dict:
    result = run_cli(home, "explain", FIXTURE_DATE, stage, "--json", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_explain_names_the_build_that_made_the_record_and_the_build_before_it(switched: Switched):
    first, before, last = switched.lineups
    data = _explain(switched.home, "lineups")
    cur, ref = data["current"], data["reference"]
    assert data["state"] == "up to date" and data["mode"] == "ran"
    assert cur["run"] == last["run"] and switched.runs[2]["ts"] <= cur["created_at"] <= last["ts"]
    assert (cur["first_run"], cur["first_built"]) == (first["run"], first["ts"])
    assert data["against"] == "the build before it"
    assert (ref["run"], ref["key"], ref["object"]) == (before["run"], before["key"], before["object"])
    assert switched.runs[1]["ts"] <= ref["created_at"] <= before["ts"] and ref["params"] == {"mode": "none"}
    assert [(c["stage"], c["kind"], c["name"], c["old"], c["new"]) for c in data["causes"]] == [
        ("lineups", "param", "mode", "none", "confirmed")]

    text = run_cli(switched.home, "explain", FIXTURE_DATE, "lineups").stdout
    assert f"by run {last['run']} (its key was first built " in text and f"by run {first['run']}; built again" in text
    assert "why it ran: compared with the build before it:" in text and "first build" not in text
    assert f"by run {before['run']}" in text and "root cause: lineups param mode none -> confirmed" in text


def test_an_earlier_build_of_a_key_built_again_is_told_from_the_ledger(switched: Switched):
    first, before, _ = switched.lineups
    data = _explain(switched.home, "lineups", **NONE)
    cur, ref = data["current"], data["reference"]
    assert data["state"] == "up to date" and cur["run"] == before["run"] and cur["first_run"] is None
    assert (ref["run"], ref["created_at"], ref["object"]) == (first["run"], first["ts"], first["object"])
    assert [(c["kind"], c["name"], c["old"], c["new"]) for c in data["causes"]] == [
        ("param", "mode", "confirmed", "none")]


def test_status_times_the_build_that_made_the_record(switched: Switched):
    last = switched.lineups[2]
    result = run_cli(switched.home, "status", FIXTURE_DATE, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    (found,) = json.loads(result.stdout)["dates"]
    lineups = next(s for s in found["stages"] if s["stage"] == "lineups")
    assert lineups["built_by_run"] == last["run"] and lineups["seconds"] == last["seconds"]
    assert switched.runs[2]["ts"] <= lineups["built_at"] <= last["ts"]


def _pct(text: str) -> float:
    return float(text.rstrip("%"))


def test_diff_prints_ownership_in_percent_as_it_is(switched: Switched):
    data = json.loads(run_cli(switched.home, "diff", FIXTURE_DATE, "--json").stdout)
    moves = data["moves"]["ownership"]
    assert any(min(m["old"], m["new"]) < 1.0 for m in moves), moves  # the case that was shown 100 times too big
    text = run_cli(switched.home, "diff", FIXTURE_DATE).stdout
    block = text.split("\nownership: ", 1)[1].split("\nceiling", 1)[0]
    lines = re.findall(r"^  (.+?)\s+\S+\s+(\S+%) ->\s+(\S+%)  \(([+-]\d+\.\d\d)\)$", block, re.M)
    assert [name for name, *_ in lines] == [m["player_name"] for m in moves], block
    for (_, old, new, delta), m in zip(lines, moves, strict=True):
        assert abs(_pct(old) - m["old"]) < 0.051 and abs(_pct(new) - m["new"]) < 0.051, (old, new, m)
        assert abs(float(delta) - m["delta"]) < 0.006
        if m["old"] < 1.0:
            assert re.fullmatch(r"0\.\d\d%", old), old


def test_the_dashboard_prints_ownership_in_percent_as_it_is(switched: Switched):
    result = run_cli(switched.home, "report", FIXTURE_DATE)
    assert result.returncode == 0, result.stdout + result.stderr
    html = (switched.home / "report" / f"slate-{FIXTURE_DATE}.html").read_text()
    cells = re.findall(r'<td class="num" data-v="([^"]+)">([^<]*%)</td>', html)
    assert len(cells) > 300 and any(float(v) < 1.0 for v, _ in cells)
    for value, text in cells:
        assert abs(_pct(text) - float(value)) < 0.051, (value, text)

"""The daily run on a day without NBA games (the off-season, Thanksgiving, the All-Star break) is not a failure.

The systemd timer runs `doit slate` (today's slate) every day. On an off day that run must end 0, say that
there is nothing to build, record it in the ledger as `no_games` (not as a failed stage), send no alert and
leave `projections status` clean. One date asked for by name still fails (tests/reliability/test_bad_input.py).
Today is the replay clock `live.now`, in archive mode (from the schedule parts) and in live mode (from the
real off-season scoreboard of 2025-07-15, served on 127.0.0.1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import gold_object, ledger_events, run_cli, run_doit
from tests.net.faultserver import FaultServer
from tests.sources.payloads import recorded

OFF_SEASON_BOARD = "api/stats_cassettes/scenarios__test_scoreboardv3_Offseason_date_-_no_games_expected.json"


def _assert_quiet_off_day(home: Path, day: str, result, events: list[dict]) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"1 without games skipped ({day})" in result.stdout, out
    assert "FAILED" not in out and "ALERT NOT SENT" not in out and "Traceback" not in out, out
    kinds = {e["event"] for e in events}
    assert not kinds & {"stage_failure", "fetch_failure", "alert_sent", "alert_failure"}, kinds
    end = [e for e in events if e["event"] == "run_end"][-1]
    assert end["ok"] is True and end["failed"] == 0 and not end["not_run"], end
    assert gold_object(home, day) is None
    status = run_cli(home, "status", day, "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    (found,) = json.loads(status.stdout)["dates"]
    assert found["state"] == "skipped" and f"no NBA games on {day}" in found["skipped"], found


def test_todays_run_on_an_off_day_in_archive_mode_skips_it(tmp_path: Path):
    home = tmp_path / "home"
    result = run_doit(home, "slate", PROJECTIONS_LIVE__NOW="2019-11-28T20:00:00Z")  # Thanksgiving 2019
    _assert_quiet_off_day(home, "2019-11-28", result, ledger_events(home))
    start = [e for e in ledger_events(home) if e["event"] == "run_start"][-1]
    assert start["no_games"] == ["2019-11-28"] and start["dates"] == []


@pytest.mark.parametrize("args", [("schedule", "date=2019-12-24..2019-12-24"), ("minutes",)])
def test_a_stage_named_alone_on_off_days_only_records_and_lists_them(tmp_path: Path, args: tuple[str, ...]):
    """`doit schedule date=D..D` of an off day, or `doit minutes` on today's, said "0 stage runs: ..." and no
    more - not that the date was skipped, as `doit slate` does - and recorded no run in the ledger (history: "never
    selected by a run"): only the slate task carried the run's record, not a stage's task over its dates."""
    home = tmp_path / "home"
    day = "2019-12-24" if args[0] == "schedule" else "2019-11-28"
    result = run_doit(home, *args, PROJECTIONS_LIVE__NOW=f"{day}T20:00:00Z")
    _assert_quiet_off_day(home, day, result, ledger_events(home))
    start = [e for e in ledger_events(home) if e["event"] == "run_start"][-1]
    assert start["no_games"] == [day] and start["dates"] == [] and start["tasks"] == [args[0]], start


def test_todays_run_on_an_off_day_in_live_mode_fetches_the_schedule_and_stops(tmp_path: Path):
    home = tmp_path / "home"
    day = "2025-07-15"
    with FaultServer() as server:
        server.replay("/stats/scoreboardv3", recorded(OFF_SEASON_BOARD))
        env = {"PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__NOW": f"{day}T20:00:00Z",
               "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
               "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0", "PROJECTIONS_LIVE__HOST_INTERVALS": "{}",
               "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01",
               "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05"}
        result = run_doit(home, "slate", **env)
        paths = {r.path for r in server.requests}
    events = ledger_events(home)
    _assert_quiet_off_day(home, day, result, events)
    assert "/stats/scoreboardv3" in paths
    # nothing after the schedule is fetched on a day without games: only the schedule and its calendar
    assert paths <= {"/stats/scoreboardv3", "/cdn/staticData/scheduleLeagueV2.json"}, paths
    fetched = [e["source"] for e in events if e["event"] == "fetch_success"]
    assert fetched == ["schedule"], fetched
    (off,) = [e for e in events if e["event"] == "no_games" and e["stage"] == "schedule"]
    assert off["game_date"] == day and off["error"].startswith(f"schedule: no NBA games on {day}")
    assert re.search(rf"no games\s+schedule\s+{day}  schedule: no NBA games", result.stdout), result.stdout
    assert "pick a date with games" not in result.stdout  # today's run: the fact, not advice for a date named alone
    assert "locked" not in result.stdout, result.stdout  # "no fetch ... the slate locked before any capture of it"
    history = run_cli(home, "history", day).stdout
    assert re.search(rf"schedule\s+no games, nothing to build: schedule: no NBA games on {day}", history), history
    assert "never finished" not in history and "FAILED" not in history, history
    why = run_cli(home, "explain", day, "schedule").stdout
    assert why.startswith(f"schedule {day}: STALE - nothing to build, schedule: no NBA games on {day}"), why
    why = run_cli(home, "explain", day, "minutes").stdout
    assert why.startswith(f"minutes {day}: STALE - nothing to build: schedule found no games"), why


def test_the_same_day_asked_for_by_name_still_fails(tmp_path: Path):
    home = tmp_path / "home"
    result = run_doit(home, "slate", "date=2019-11-28")
    assert result.returncode != 0
    assert "schedule: no NBA games on 2019-11-28" in result.stdout + result.stderr
    assert [e["stage"] for e in ledger_events(home) if e["event"] == "stage_failure"] == ["schedule"]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "-n 2"])
def test_an_off_season_day_asked_for_by_name_fails_at_its_schedule_only(tmp_path: Path, workers: list[str]):
    """2019-07-15 belongs to season 2018-19, which cannot be calibrated (no 2017-18): the calibration, which does
    not read the schedule, also ran and failed with "0 games of the season before 2018-19" - a wrong lead. With
    -n 2 it runs in another worker than the schedule, which cannot tell it the date has no games."""
    home = tmp_path / "home"
    result = run_doit(home, *workers, "slate", "date=2019-07-15")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "schedule: no NBA games on 2019-07-15" in out, out
    assert "season before" not in out and "calibration" not in out.split("Failures:")[1], out
    # the calibration waits for the date's schedule like every other stage of it: not run, its input failed
    assert "1 failed, 12 not run (inputs failed);" in result.stdout, out
    assert "0 date(s) ok, 1 failed (2019-07-15)" in result.stdout, out
    assert [e["stage"] for e in ledger_events(home) if e["event"] == "stage_failure"] == ["schedule"]


def test_dates_the_archive_cannot_vouch_for_are_refused_not_skipped(tmp_path: Path):
    """An off day is skipped only when the schedule knows the date: today in a season the archive does not
    hold, or dates beyond the shipped week of 2020-21, are refused with the fix; skipping them would report
    success for work never done. One such date named alone is refused the same way."""
    home = tmp_path / "home"
    today = run_doit(home, "slate", PROJECTIONS_LIVE__NOW="2026-11-25T15:00:00Z")
    assert today.returncode != 0
    assert "1 date(s) lie outside what the archive's schedule covers (2026-11-25; season 2026-27)" in today.stderr
    assert "projections ingest game-logs FILE" in today.stderr and "Traceback" not in today.stderr
    partial = run_doit(home, "slate", "date=2021-01-05..2021-01-06")
    assert partial.returncode != 0
    assert "2 date(s) lie outside" in partial.stderr and "2020-21 (2020-12-22..2020-12-31)" in partial.stderr
    alone = run_doit(home, "slate", "date=2022-12-15")  # named alone: refused alike, not failed in its first stage
    assert alone.returncode == 3 and "1 date(s) lie outside" in alone.stderr and "season 2022-23" in alone.stderr
    assert not home.exists()  # refused before anything was made, not even the data root's layout
    first = run_doit(home, "slate", "date=2018-11-21")  # the archive's first season: nothing to calibrate on
    assert first.returncode == 3 and "1 date(s) of season 2018-19 cannot be projected (2018-11-21)" in first.stderr
    assert "the season before (2017-18)" in first.stderr and "pick dates of 2019-20 (" in first.stderr
    assert "2018-19 (" not in first.stderr and not home.exists()
    source = run_doit(home, "schedule", "date=2018-11-21")  # a stage that needs no calibration still builds
    assert source.returncode == 0 and "1 built" in source.stdout, source.stdout + source.stderr
    for listing in (["list"], ["help", "slate"]):  # they build nothing: today outside the archive is no error
        shown = run_doit(home, *listing, PROJECTIONS_LIVE__NOW="2026-11-25T15:00:00Z")
        assert shown.returncode == 0 and "slate" in shown.stdout, shown.stderr
        # `list` says why today's stages stay R; `help` lists none, and said it before the help text
        assert ("note: 2026-11-25 lies outside" in shown.stderr) == (listing == ["list"]), shown.stderr
    status = run_cli(home, "status", "2021-01-05", "--json")  # not an off day: outside the archive, with the fix
    (found,) = json.loads(status.stdout)["dates"]
    assert found["state"] == "outside archive" and found["skipped"] is None, found
    assert "2020-21 only from 2020-12-22 to 2020-12-31" in found["outside"]
    assert "projections ingest game-logs FILE" in found["outside"], found


def test_a_one_day_range_of_an_off_day_is_skipped_like_any_range(tmp_path: Path):
    """A backfill script that writes `date=D..D` for a one-day stretch got the failure (and alert) meant for a
    date named alone; a range is a range."""
    home = tmp_path / "home"
    result = run_doit(home, "slate", "date=2019-11-28..2019-11-28")
    _assert_quiet_off_day(home, "2019-11-28", result, ledger_events(home))
    alone = run_doit(home, "slate", "date=2019-11-28")
    assert alone.returncode != 0 and "no NBA games on 2019-11-28" in alone.stdout + alone.stderr
    told = run_cli(home, "history", "2019-11-28").stdout  # every stage waits on the schedule (the date's lock)
    assert "up to date (nothing to do)" not in told and "game_logs" in told and "not run (an input failed)" \
        in told, told  # game_logs, calibration and injuries read "up to date" though the run ran none of them

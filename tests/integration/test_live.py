"""Live mode end to end, in real `doit` processes, against a real loopback HTTP server.

The server replays payloads for the real slate of 2019-10-30 in the verbatim endpoint shapes, derived from the
real shared data (tests/sources/payloads.py says how); the real DKSalaries.csv of the slate is dropped into the
inbox. `live.now` replays the day: the runs happen at 20:00, 21:00 and 22:00 UTC (before the first tip, 23:00)
and at 03:00 the next day (after the last, 02:30; between the two only the lineups are fetched, see
test_late_swap.py). API keys are planted for two endpoints and must never be written down.

    first    20:00  everything is fetched and built; gold is published
    second   21:00  every source is fetched again, unchanged: no new object anywhere, gold stays
    odds     22:00  the odds endpoint answers 503 forever: the run fails naming the source, URL, attempts and
                    what to do; the stages reading odds do not run; gold stays
    locked   03:00  the slate is locked, its last game under way: nothing is fetched, nothing changes
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CACHE_DIR, gold_object, ledger_events, run_cli, run_doit
from tests.net.faultserver import FaultServer
from tests.sources import payloads

DAY = dt.date(2019, 10, 30)
ODDS = "/cdn/liveData/odds/odds_todaysGames.json"
ODDS_TOKEN = "tok_PLANTED_odds_5b7e0c2a9f"
LOGS_TOKEN = "tok_PLANTED_logs_81d4f6e3aa"
NOW = {"first": "2019-10-30T20:00:00Z", "second": "2019-10-30T21:00:00Z", "odds": "2019-10-30T22:00:00Z",
       "locked": "2019-10-31T03:00:00Z"}


@dataclass
class Scenario:
    home: Path
    server: FaultServer
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    events: dict[str, list[dict]] = field(default_factory=dict)
    gold: dict[str, str | None] = field(default_factory=dict)


def _settings(server: FaultServer) -> dict[str, str]:
    return {
        "PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__INJURIES__URL": "",  # no report of 2019-10-30 is kept
        "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
        "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0", "PROJECTIONS_LIVE__HOST_INTERVALS": "{}",
        "PROJECTIONS_LIVE__MAX_ATTEMPTS": "3", "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01",
        "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05", "PROJECTIONS_LIVE__READ_TIMEOUT_S": "5",
        "PROJECTIONS_LIVE__ODDS__API_KEY": ODDS_TOKEN, "PROJECTIONS_LIVE__ODDS__API_KEY_PARAM": "apiKey",
        "PROJECTIONS_LIVE__GAME_LOGS__API_KEY": LOGS_TOKEN,
        "PROJECTIONS_LIVE__GAME_LOGS__API_KEY_HEADER": "x-api-key",
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    home = tmp_path_factory.mktemp("live") / "home"
    (home / "inbox").mkdir(parents=True)
    (home / "inbox" / "DKSalaries.csv").write_bytes(payloads.dk_salaries(DAY))
    with FaultServer() as server:
        server.replay("/stats/scoreboardv3", payloads.scoreboard(DAY))
        server.replay("/stats/leaguegamelog", payloads.league_game_log(DAY))
        server.replay(ODDS, payloads.odds_today(DAY))
        scenario = Scenario(home, server)
        for name, now in NOW.items():
            if name == "odds":
                server.replay(ODDS, b"injected fault: the odds service is down\n", status=503)
            seen = len(ledger_events(home))
            scenario.runs[name] = run_doit(home, "slate", f"date={DAY}", timeout=600, PROJECTIONS_LIVE__NOW=now,
                                           **_settings(server))
            scenario.events[name] = ledger_events(home)[seen:]
            scenario.gold[name] = gold_object(home, DAY.isoformat())
        yield scenario


def _kinds(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


def _as_of_dependent() -> set[str]:
    """Stages whose key moves with as_of itself (uses_as_of, or an as-of archive window with no snapshot)."""
    from stages import PIPELINE

    return {s.name for s in PIPELINE if s.uses_as_of
            or any(getattr(src, "window", "") == "asof_day" for src in s.sources)}


def test_a_live_run_builds_the_whole_slate_from_snapshots(live: Scenario) -> None:
    first = live.runs["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    fetched = {e["source"]: e for e in _kinds(live.events["first"], "fetch_success")}
    assert {"schedule", "salaries", "player_logs", "odds"} <= set(fetched)
    assert fetched["schedule"]["rows"] == 11 and fetched["odds"]["rows"] == 11
    slate = pd.read_parquet(live.home / "gold" / "projections" / f"game_date={DAY}" / "projections.parquet")
    assert len(slate) == 367 and slate["player_id"].is_unique
    manifest = json.loads((live.home / "gold" / "projections" / f"game_date={DAY}" / "manifest.json").read_text())
    assert manifest["as_of"] == "2019-10-30T20:00:00.000Z"
    schedule = next(e for e in _kinds(live.events["first"], "stage_success") if e["stage"] == "schedule")
    record = json.loads((live.home / "store" / "objects" / schedule["object"][9:11] / schedule["object"][11:]
                         / "manifest.json").read_text())
    assert "snapshot schedule 2019-10-30 captured 2019-10-30T20:00:00.000Z" in record["sources"]["archive"]
    assert [p.name.split("__")[1] for p in (live.home / "inbox" / "processed").iterdir()] == ["DKSalaries.csv"]
    # no box score is out at 20:00: the lineups capture is empty and says so, and the slate says whose roles it used
    assert "no box score of the 11 games is published yet: lineups are not known" in fetched["lineups"]["describe"]
    lineups = next(e for e in _kinds(live.events["first"], "stage_success") if e["stage"] == "lineups")
    meta = json.loads((live.home / "store" / "objects" / lineups["object"][9:11] / lineups["object"][11:]
                       / "manifest.json").read_text())["meta"]
    assert meta["roles"] == "expected" and meta["teams_confirmed"] == 0, meta
    # the live odds feed has no totals: each game's comes from the teams' scoring, and the rates follow it (pace)
    objects = {e["stage"]: e["object"] for e in _kinds(live.events["first"], "stage_success")}
    odds, rates = (pd.read_parquet(live.home / "store" / "objects" / objects[name][9:11] / objects[name][11:]
                                   / "data.parquet") for name in ("odds", "rates"))
    assert len(odds) == 22 and (odds["total_source"] == "scores").all() and odds["spread"].notna().all()
    assert odds["total"].between(180, 260).all() and odds["total"].nunique() > 1
    assert rates["pace"].nunique() > 5 and not (rates["pace"] == 1.0).all()


def test_a_second_run_with_unchanged_payloads_reruns_nothing_downstream(live: Scenario) -> None:
    second = live.runs["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    events = live.events["second"]
    fetched = _kinds(events, "fetch_success")
    assert {e["source"] for e in fetched} >= {"schedule", "player_logs", "odds"}  # it did fetch again
    assert all(e.get("changed") is False for e in fetched if "changed" in e)
    ran = {e["stage"] for e in _kinds(events, "stage_start")}
    assert ran <= _as_of_dependent(), ran  # only stages keyed on as_of itself, not on any fetched source
    assert all(e["created"] is False for e in _kinds(events, "stage_success"))  # and they made no new object
    assert _kinds(events, "publish") == [] and live.gold["second"] == live.gold["first"]


def test_odds_that_never_come_back_fall_back_to_the_last_good_capture_and_alert(live: Scenario) -> None:
    """The odds feed down in the evening: the run used to fail there, so no news of the sources that did answer
    (an injury report, lineups) reached gold until odds came back. The stages now read the date's last good odds
    capture, the run goes on, and the failure is recorded, shown and alerted."""
    from stages import PIPELINE

    if "odds" not in PIPELINE.fetchers():
        pytest.skip("no stage reads the odds table")
    run = live.runs["odds"]
    assert run.returncode == 0, run.stdout + run.stderr
    failure = _kinds(live.events["odds"], "fetch_failure")
    assert [e["source"] for e in failure] == ["odds"]
    message = failure[0]["error"]
    assert message.startswith(f"odds: GET {live.server.url(ODDS)}?apiKey=REDACTED failed after 3 attempts")
    assert message.count("HTTP 503") == 3 and "what to do: retry later" in message
    assert "projections ingest lines FILE" in message
    [fallback] = _kinds(live.events["odds"], "fetch_fallback")
    held = [e for e in _kinds(live.events["first"] + live.events["second"], "fetch_success") if e["source"] == "odds"]
    assert fallback["captured_at"] == held[-1]["captured_at"] == "2019-10-30T20:00:00.000Z"  # 21:00's was the same
    assert "FELL BACK  fetch_odds" in run.stdout and "failed after 3 attempts" in run.stdout, run.stdout
    assert "the stages read the last good capture, of 2019-10-30T20:00:00.000Z" in run.stdout
    assert "1 fetch(es) failed and fell back to the last good capture" in run.stdout
    assert "no alert channel is configured" in run.stderr  # the run alerts (with no channel here, it says so)
    [alert] = [e for e in _kinds(live.events["odds"], "alert_failure")]
    assert alert["stage"] == "fetch odds" and alert["kind"] == "fetch_failure", alert
    [end] = _kinds(live.events["odds"], "run_end")
    assert end["ok"] is True and end["failed"] == 0 and end["not_run"] == 0, end  # every stage went on
    assert "an input failed" not in run.stdout
    assert live.gold["odds"] == live.gold["first"]  # nothing else changed either: the same slate
    told = run_cli(live.home, "history", DAY.isoformat())
    assert "fell back: the stages read the last good capture, of 2019-10-30T20:00:00.000Z" in told.stdout, told.stdout


def test_after_the_lock_nothing_is_fetched_and_nothing_changes(live: Scenario) -> None:
    locked = live.runs["locked"]
    assert locked.returncode == 0, locked.stdout + locked.stderr
    events = live.events["locked"]
    assert _kinds(events, "fetch_start") == []
    assert all(e["created"] is False for e in _kinds(events, "stage_success"))
    assert live.gold["locked"] == live.gold["first"]
    assert len(live.server.requests_to(ODDS)) == 2 + 3  # first, second, and three attempts while it was down


def test_no_secret_reaches_the_data_root_or_the_logs(live: Scenario) -> None:
    assert {r.query.get("apiKey", [None])[0] for r in live.server.requests_to(ODDS)} == {ODDS_TOKEN}
    assert {r.headers.get("x-api-key") for r in live.server.requests_to("/stats/leaguegamelog")} == {LOGS_TOKEN}
    for token in (ODDS_TOKEN, LOGS_TOKEN):
        for run in live.runs.values():
            assert token not in run.stdout and token not in run.stderr
        for root in (live.home, CACHE_DIR):  # the data root, and the settings cache of the fast path
            for path in root.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    assert token.encode() not in path.read_bytes(), path


def test_a_first_run_after_the_lock_says_which_sources_it_did_not_fetch_and_why(tmp_path: Path) -> None:
    """The first run of a date after its first tip fetched nothing after the schedule (by design) and printed
    `up to date fetch_odds`, `up to date fetch_player_logs`, ... for sources never captured at all."""
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay("/stats/scoreboardv3", payloads.scoreboard(DAY))
        result = run_doit(home, "slate", f"date={DAY}", timeout=300, PROJECTIONS_LIVE__NOW="2019-10-30T23:30:00Z",
                          **_settings(server))
    lines = result.stdout.splitlines()
    odds = next(line for line in lines if " fetch_odds " in line)
    assert "no fetch" in odds and "the slate locked at 23:00Z before any capture of it, and nothing is fetched " \
           "after the lock" in odds, result.stdout
    assert not [line for line in lines if "up to date fetch_" in line], result.stdout
    injuries = next(line for line in lines if " fetch_injuries " in line)
    assert "live.injuries.url is unset: the archive's rows are used" in injuries, injuries


def test_a_run_that_met_a_refused_inbox_file_builds_and_alerts_it(tmp_path: Path) -> None:
    """A file the inbox refused (a wrong export dropped beside the right one) was said only in the run's output:
    the run succeeded, and a run that succeeds sent no alert."""
    from tests.ops.receivers import WebhookReceiver

    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    (home / "inbox" / "DKSalaries.csv").write_bytes(payloads.dk_salaries(DAY))
    (home / "inbox" / "DKSalaries (1).csv").write_text("Name,Salary\nx,1\n")
    with FaultServer() as server, WebhookReceiver() as webhook:
        server.replay("/stats/scoreboardv3", payloads.scoreboard(DAY))
        server.replay("/stats/leaguegamelog", payloads.league_game_log(DAY))
        server.replay(ODDS, payloads.odds_today(DAY))
        result = run_doit(home, "slate", f"date={DAY}", timeout=600, PROJECTIONS_LIVE__NOW=NOW["first"],
                          PROJECTIONS_ALERTS__WEBHOOK_URL=webhook.url(), **_settings(server))
        posts = webhook.posts
    assert result.returncode == 0 and gold_object(home, DAY.isoformat()), result.stdout + result.stderr
    [post] = posts
    assert post["text"].startswith(f"*projections: the DraftKings inbox refused a file (slate {DAY})*"), post
    assert "DKSalaries (1).csv: missing column(s)" in post["text"] and "the slate stands on " in post["text"]


def test_opening_night_builds_from_the_seasons_empty_game_log(tmp_path: Path) -> None:
    """2019-10-22, the season's first night, live at 20:00Z: the game-log endpoint answers the real LeagueGameLog
    of a season before its first game (headers, no row). It was refused as "missing columns" on every retry and
    the night's slate failed; now it is an empty capture, the history comes from the season before, and the two
    games' slate is published (the archive's salaries: no file dropped)."""
    opening = dt.date(2019, 10, 22)
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay("/stats/scoreboardv3", payloads.scoreboard(opening))
        server.replay("/stats/leaguegamelog", payloads.league_game_log(opening))
        server.replay(ODDS, payloads.odds_today(opening))
        result = run_doit(home, "slate", f"date={opening}", timeout=600,
                          PROJECTIONS_LIVE__NOW="2019-10-22T20:00:00Z", **_settings(server))
    assert result.returncode == 0, result.stdout + result.stderr
    logs = next(e for e in _kinds(ledger_events(home), "fetch_success") if e["source"] == "player_logs")
    assert logs["rows"] == 0, logs
    slate = pd.read_parquet(home / "gold" / "projections" / f"game_date={opening}" / "projections.parquet")
    assert set(slate["team"]) == {"NOP", "TOR", "LAL", "LAC"}, sorted(set(slate["team"]))
    assert slate.loc[slate["p_play"] > 0.5, "dk_mean"].gt(0).all() and slate["dk_mean"].max() > 30

"""`projections ingest game-logs --fetch SEASON`: a live season's rollover with nothing to download by hand.

The calibration fits on the season before, from the archive: its box scores are the one thing a live season
needs that no daily fetch brings. The command fetches them from the live game-log endpoint (here a real server on
127.0.0.1 answering with the real 2022-23 LeagueGameLog rows) and ingests them like a file; with no closing lines
for that season, the calibration fits on the box scores alone.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from projections.archive import parts
from tests.conftest import SHARED, run_cli, run_doit, tree_snapshot
from tests.net.faultserver import FaultServer
from tests.sources import payloads
from tests.sources.test_ingest import built

GAMELOG = "/stats/leaguegamelog"
SEASON_2022 = payloads.league_game_log(dt.date(2023, 7, 1))  # every game of 2022-23, as the endpoint answers


def live_env(server: FaultServer | None = None, **more: str) -> Any:
    """The environment aiming the game-log endpoint at `server`; without one, a function of the server."""
    if server is None:
        return lambda running: live_env(running, **more)
    return {"PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
            "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0",
            "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01", "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05",
            "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", **more}


def test_the_season_before_is_fetched_and_the_next_season_calibrates_without_its_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay(GAMELOG, SEASON_2022)
        fetched = run_cli(home, "ingest", "game-logs", "--fetch", "2022-23", **live_env(server))
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        asked = server.requests_to(GAMELOG)
    # the regular season, then its play-in and playoffs (this server answers every SeasonType alike: kept once)
    assert [(r.query["Season"], r.query["SeasonType"]) for r in asked] == [
        (["2022-23"], ["Regular Season"]), (["2022-23"], ["PlayIn"]), (["2022-23"], ["Playoffs"])]
    assert "wrote player_logs/2022-23" in fetched.stdout and "wrote schedule/2022-23" in fetched.stdout
    held = [p for p in parts(home, "player_logs") if "2022-23" in p.seasons]
    assert len(held) == 1
    logs = pd.read_parquet(held[0].path)
    shared = pd.read_csv(SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv", dtype={"GAME_ID": str})
    assert len(logs) == len(shared) and logs["game_id"].nunique() == shared["GAME_ID"].nunique() == 1230
    # 2023-24's own logs make 2023-11-01 a date the archive can vouch for; the calibration reads 2022-23 only,
    # and the archive holds no line of it (the shipped lines end with 2020-21)
    assert run_cli(home, "ingest", "game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv")
                   ).returncode == 0
    result = run_doit(home, "calibration", "date=2023-11-01", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    table = built(home, "calibration", dt.date(2023, 11, 1)).set_index(["group", "name"])["value"]
    scalars = table.loc["scalar"]
    assert scalars["with_lines"] == 0.0 and scalars["pace_elasticity"] == 0.0 and scalars["fit_rows"] > 10_000
    assert 0.05 < scalars["sigma_game"] < 0.12 and 110 < scalars["league_implied"] < 120  # 2022-23 scored 114.7
    assert table.loc["coef:min_starter"]["abs_spread"] == 0.0
    events = [json.loads(line) for path in sorted((home / "ledger").glob("*.jsonl"))
              for line in path.read_text().splitlines()]
    (success,) = [e for e in events if e.get("event") == "stage_success" and e.get("stage") == "calibration"]
    assert success["note"].startswith("fitted without the prior season's betting lines")
    (line,) = [t for t in result.stdout.splitlines() if " calibration " in t]  # said where the build is seen
    assert "built" in line and "note: fitted without the prior season's betting lines" in line
    assert "`projections ingest lines FILE --season 2022-23`" in success["note"]  # the season it names (the line
    # on the terminal shortens two notes to fit)
    history = run_cli(home, "history", "2023-11-01")
    assert "note: fitted without the prior season's betting lines" in history.stdout, history.stdout


def test_the_season_before_is_fetched_with_its_postseason(tmp_path: Path) -> None:
    """The season before is a player's last games before the new season, its playoffs included (the archive's
    seasons hold them); the rollover asked for the regular season alone. The server here answers the regular
    season with 2022-23's games before April and the Playoffs request with the rest (real games, standing in for
    a postseason the shared data does not hold): the part holds them all, and says so."""
    home = tmp_path / "home"
    april = dt.date(2023, 4, 1)
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(april))
        server.replay(GAMELOG, payloads.league_game_log(dt.date(2023, 7, 1), since=april),
                      query={"SeasonType": "Playoffs"})
        fetched = run_cli(home, "ingest", "game-logs", "--fetch", "2022-23", **live_env(server))
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    [part] = [p for p in parts(home, "player_logs") if "2022-23" in p.seasons]
    logs = pd.read_parquet(part.path)
    assert logs["game_id"].nunique() == 1230 and max(logs["game_date"]) >= dt.date(2023, 4, 9)
    later = logs.loc[logs["game_date"] >= april, "game_id"].nunique()
    assert later > 50 and f"note: with its {later} play-in and playoff games" in fetched.stdout


@pytest.mark.parametrize(("args", "says"), [
    (("--fetch", "2022-2023"), "'2022-2023' is not a season: write it as the NBA does, e.g. 2024-25"),
    (("--fetch", "2022-24"), "'2022-24' is not a season"),
    (("somefile.csv", "--fetch", "2022-23"), "--fetch names the season to fetch; give it without a FILE"),
    (("--fetch", "2022-23", "--season", "2022-23"), "give it without a FILE or --season"),
    ((), "ingest game-logs needs a FILE (a LeagueGameLog export) or --fetch SEASON"),
])
def test_a_fetch_asked_for_wrongly_is_refused_before_any_request(tmp_path: Path, args: tuple[str, ...],
                                                                   says: str) -> None:
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay(GAMELOG, SEASON_2022)
        result = run_cli(home, "ingest", "game-logs", *args, **live_env(server))
        assert not server.requests
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert not home.exists()


def test_a_feed_answering_another_season_or_nothing_fails_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv")
                   ).returncode == 0
    before = tree_snapshot(home / "refs")
    with FaultServer() as server:
        server.replay(GAMELOG, SEASON_2022)  # asked for 2024-25, it answers 2022-23
        wrong = run_cli(home, "ingest", "game-logs", "--fetch", "2024-25", **live_env(server))
        assert len(server.requests_to(GAMELOG)) == 2  # an implausible answer is retried like a failed one
        server.replay(GAMELOG, payloads.league_game_log(dt.date(2022, 10, 1)))  # 2022-23 before its first game
        empty = run_cli(home, "ingest", "game-logs", "--fetch", "2022-23", **live_env(server))
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "fetch failed" in wrong.stderr and "answered with games of season 2022-23, not 2024-25" in wrong.stderr
    assert empty.returncode == 1 and "lists no game of 2022-23" in empty.stderr, empty.stderr
    assert tree_snapshot(home / "refs") == before


LOGS_2023 = SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv"


def test_a_live_run_fetches_the_season_before_once_when_the_archive_lacks_it(tmp_path: Path) -> None:
    """Live mode, the first run of 2023-24 on its day, before the lock (its own logs ingested, so 2023-11-01 has a
    schedule without a scoreboard), no 2022-23 in the archive: the run fetches 2022-23 itself, once, and the
    calibration fits on it; the next run fetches nothing and says why."""
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "game-logs", str(LOGS_2023)).returncode == 0
    live = live_env(PROJECTIONS_SOURCE="live", PROJECTIONS_LIVE__NOW="2023-11-01T20:00:00Z",
                    PROJECTIONS_LIVE__SCHEDULE__URL="")  # the schedule from the ingested 2023-24 logs
    with FaultServer() as server:
        server.replay(GAMELOG, SEASON_2022)
        first = run_doit(home, "calibration", "date=2023-11-01", timeout=600, **live(server))
        asked = [r.query["Season"] for r in server.requests_to(GAMELOG)]
        again = run_doit(home, "calibration", "date=2023-11-01", timeout=600, **live(server))
        assert len(server.requests_to(GAMELOG)) == len(asked)  # nothing fetched the second time
    assert first.returncode == 0, first.stdout + first.stderr
    assert asked == [["2022-23"]] * 3  # its regular season, play-in and playoffs
    fetched = [t for t in first.stdout.splitlines() if "fetch_prior_season_logs" in t]
    assert len(fetched) == 1 and "fetched" in fetched[0], first.stdout
    assert "the 2022-23 regular season's game logs, once, into the archive (player_logs/2022-23:" in fetched[0]
    assert [p.seasons for p in parts(home, "player_logs")] == [("2018-19",), ("2019-20",), ("2022-23",), ("2023-24",)]
    assert "note: fitted without the prior season's betting lines" in first.stdout
    assert "player_logs 2022-23: fetching who started each of its 1230 games from their box scores" in first.stderr
    assert "boxscore_" not in first.stderr  # the box scores the feed keeps none of: counted, not warned one by one
    assert again.returncode == 0, again.stdout + again.stderr
    (quiet,) = [t for t in again.stdout.splitlines() if "fetch_prior_season_logs" in t]
    assert "the archive holds 2022-23's game logs" in quiet, again.stdout


def test_two_runs_due_to_fetch_the_season_before_ask_for_it_once(tmp_path: Path) -> None:
    """Two live runs of 2023-11-01 started together (a timer's and one by hand), both finding no 2022-23 in the
    archive: the first fetches it (its first answer held back 3 s), the second waits for it on the season's lock and
    then reads what the first wrote - the NBA is asked for the season once, and both runs calibrate."""
    import subprocess
    import time

    from tests.conftest import REPO, doit_argv, project_env

    home = tmp_path / "home"
    assert run_cli(home, "ingest", "game-logs", str(LOGS_2023)).returncode == 0
    live = live_env(PROJECTIONS_SOURCE="live", PROJECTIONS_LIVE__NOW="2023-11-01T20:00:00Z",
                    PROJECTIONS_LIVE__SCHEDULE__URL="")
    with FaultServer() as server:
        server.replay(GAMELOG, SEASON_2022)
        server.script(GAMELOG, ("stall", 3.0))
        env = project_env(home, **live(server))
        runs = [subprocess.Popen(doit_argv("calibration", "date=2023-11-01"), env=env, cwd=REPO, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
        while not server.requests_to(GAMELOG):  # the first run is fetching: the second starts now
            assert runs[0].poll() is None, runs[0].communicate()
            time.sleep(0.05)  # not a busy loop: the run it waits for shares the two cores
        runs.append(subprocess.Popen(doit_argv("calibration", "date=2023-11-01"), env=env, cwd=REPO, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        outs = [run.communicate(timeout=600) for run in runs]
        asked = [r.query["Season"] for r in server.requests_to(GAMELOG)]
    for run, (out, err) in zip(runs, outs, strict=True):
        assert run.returncode == 0, out + err
    assert asked == [["2022-23"]] * 3, asked  # its regular season, play-in and playoffs: once
    second = [t for t in outs[1][0].splitlines() if "fetch_prior_season_logs" in t]
    assert len(second) == 1 and "another run fetched them into the archive while this one waited" in second[0], \
        outs[1]
    assert "waiting for the lock on the fetch of 2022-23's game logs" in outs[1][1]
    assert [p.seasons for p in parts(home, "player_logs")].count(("2022-23",)) == 1


def test_a_live_run_whose_season_before_cannot_be_fetched_fails_naming_the_command(tmp_path: Path) -> None:
    """The date already has a good capture of its own season's game logs: that capture must not stand in for the
    season before (a fallback to it would have read as FELL BACK and run the calibration on nothing)."""
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "game-logs", str(LOGS_2023)).returncode == 0
    live = live_env(PROJECTIONS_SOURCE="live", PROJECTIONS_LIVE__NOW="2023-11-01T20:00:00Z",
                    PROJECTIONS_LIVE__SCHEDULE__URL="")  # the schedule from the ingested 2023-24 logs
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(dt.date(2023, 11, 1)))
        captured = run_cli(home, "fetch", "player_logs", "2023-11-01", **live(server))
        assert captured.returncode == 0, captured.stdout + captured.stderr
        before = tree_snapshot(home / "refs")
        server.replay(GAMELOG, b"busy", status=503)
        result = run_doit(home, "calibration", "date=2023-11-01", timeout=600, **live(server))
        assert len(server.requests_to(GAMELOG)) == 3  # the capture's, then 2: retried, as every live fetch is
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "FELL BACK" not in out  # no capture of a date stands in for a season
    (failed,) = [t for t in result.stdout.splitlines() if "FAILED" in t]
    assert "fetch_prior_season_logs" in failed and "Season=2022-23" in failed and "HTTP 503" in failed
    assert ("what to do: the next run fetches it again; or `projections ingest game-logs FILE` with 2022-23's "
            "LeagueGameLog export") in failed
    assert "skipped    calibration" in result.stdout
    assert "details: `projections status 2023-11-01`, `projections history 2023-11-01`" in result.stdout
    assert tree_snapshot(home / "refs") == before

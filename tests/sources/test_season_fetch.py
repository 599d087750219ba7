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

import pandas as pd
import pytest

from projections.archive import parts
from tests.conftest import SHARED, run_cli, run_doit, tree_snapshot
from tests.net.faultserver import FaultServer
from tests.sources import payloads
from tests.sources.test_ingest import built

GAMELOG = "/stats/leaguegamelog"
SEASON_2022 = payloads.league_game_log(dt.date(2023, 7, 1))  # every game of 2022-23, as the endpoint answers


def live_env(server: FaultServer, **more: str) -> dict[str, str]:
    return {"PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0",
            "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01", "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05",
            "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", **more}


def test_the_season_before_is_fetched_and_the_next_season_calibrates_without_its_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay(GAMELOG, SEASON_2022)
        fetched = run_cli(home, "ingest", "game-logs", "--fetch", "2022-23", **live_env(server))
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        (asked,) = server.requests_to(GAMELOG)
    assert asked.query["Season"] == ["2022-23"] and asked.query["SeasonType"] == ["Regular Season"]
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
    assert "`projections ingest lines FILE --season SEASON`" in line
    history = run_cli(home, "history", "2023-11-01")
    assert "note: fitted without the prior season's betting lines" in history.stdout, history.stdout


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

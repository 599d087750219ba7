"""Lineups after the first tip (DraftKings late swap), in real `doit` processes against a real loopback server.

The real slate of 2019-10-30 (tests/sources/payloads.py): three games tip at 23:00Z (the lock), three at 23:30Z,
two at 00:00Z, two at 02:00Z and the last at 02:30Z. A game's live box score is published shortly before its tip,
with its starters flagged (payloads.live_boxscore: who started, from the shipped archive's box-score lines).

    early   22:40Z  only the three 23:00Z games' box scores are out: six teams confirmed, the rest expected roles
    late    02:05Z  the slate locked at 23:00Z, but its last tip is ahead: only the lineups are fetched, and only
                    the box score of the game not yet begun (02:30Z); its teams are confirmed and its inactive list
                    (three players, payloads.LATE_GAME_INACTIVE) rules them out; the odds, injuries, salaries and
                    game logs stay as of the lock; gold moves; the games under way keep what was known at their
                    tips - the six teams confirmed at 22:40Z their starters, the games first seen after their tips
                    (no run between 22:40Z and 02:05Z) their expected roles - bit for bit
    after   03:00Z  past the last tip: nothing is fetched, nothing changes
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

from tests.conftest import gold_object, ledger_events, run_cli, run_doit
from tests.net.faultserver import FaultServer
from tests.sources import payloads

DAY = dt.date(2019, 10, 30)
NOW = {"early": "2019-10-30T22:40:00Z", "late": "2019-10-31T02:05:00Z", "after": "2019-10-31T03:00:00Z"}
LOCK = pd.Timestamp("2019-10-30T23:00:00Z")


@dataclass
class Day:
    home: Path
    env: dict[str, str]
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    events: dict[str, list[dict]] = field(default_factory=dict)
    gold: dict[str, str | None] = field(default_factory=dict)
    snapshots: dict[str, dict] = field(default_factory=dict)


def _box(game_id: str) -> str:
    return f"/cdn/liveData/boxscore/boxscore_{game_id}.json"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    home = tmp_path_factory.mktemp("late") / "home"
    (home / "inbox").mkdir(parents=True)
    (home / "inbox" / "DKSalaries.csv").write_bytes(payloads.dk_salaries(DAY))
    games = payloads.games_of(DAY)
    with FaultServer() as server:
        server.replay("/stats/scoreboardv3", payloads.scoreboard(DAY))
        server.replay("/stats/leaguegamelog", payloads.league_game_log(DAY))
        server.replay("/cdn/liveData/odds/odds_todaysGames.json", payloads.odds_today(DAY))
        env = {"PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__INJURIES__URL": "",  # no report of the date is kept
               "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"),
               "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"), "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0",
               "PROJECTIONS_LIVE__HOST_INTERVALS": "{}", "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2",
               "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01", "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05"}
        scenario = Day(home, env)
        for name, now in NOW.items():
            for game in games:  # a box score is out from 30 minutes before its game's tip (none is taken back)
                if game["tip_time"] <= pd.Timestamp(now) + pd.Timedelta(minutes=30):
                    server.replay(_box(game["game_id"]), payloads.live_boxscore(
                        DAY, game["game_id"], inactive=payloads.LATE_GAME_INACTIVE))
            seen = len(ledger_events(home))
            scenario.runs[name] = run_doit(home, "slate", f"date={DAY}", timeout=600, PROJECTIONS_LIVE__NOW=now,
                                           **env)
            scenario.events[name] = ledger_events(home)[seen:]
            scenario.gold[name] = gold_object(home, DAY.isoformat())
            listed = run_cli(home, "snapshots", DAY.isoformat(), "--json", PROJECTIONS_LIVE__NOW=now, **env)
            assert listed.returncode == 0, listed.stdout + listed.stderr
            scenario.snapshots[name] = json.loads(listed.stdout)
        yield scenario


def _object(home: Path, obj: str, name: str) -> Path:
    return home / "store" / "objects" / obj[9:11] / obj[11:] / name


def _built(events: list[dict], stage: str) -> dict:
    return next(e for e in events if e["event"] == "stage_success" and e["stage"] == stage)


def _lineups(scenario: Day, run: str) -> tuple[dict, pd.DataFrame]:
    obj = _built(scenario.events[run], "lineups")["object"]
    meta = json.loads(_object(scenario.home, obj, "manifest.json").read_text())["meta"]
    return meta, pd.read_parquet(_object(scenario.home, obj, "data.parquet"))


def _starters(frame: pd.DataFrame, teams: set[str]) -> dict[str, list[str]]:
    confirmed = frame[frame["confirmed"] & frame["team"].isin(teams)]
    return {str(t): sorted(map(str, g["player_id"])) for t, g in confirmed.groupby("team")}


def test_before_the_lock_only_the_games_whose_box_scores_are_out_are_confirmed(day: Day) -> None:
    early = day.runs["early"]
    assert early.returncode == 0, early.stdout + early.stderr
    meta, frame = _lineups(day, "early")
    first = {t for g in payloads.games_of(DAY) if g["tip_time"] == LOCK for t in (g["home_team"], g["away_team"])}
    assert meta["teams_confirmed"] == 6 and meta["roles"] == "confirmed for 6 of 22", meta
    assert set(frame.loc[frame["confirmed"], "team"]) == first
    assert frame.loc[frame["confirmed"], "source"].eq("live_box_score").all()


def test_after_the_first_tip_a_run_confirms_the_later_games_and_reads_nothing_else_anew(day: Day) -> None:
    """The whole point: at 02:05Z the last game's starters are known and the slate uses them. Only the
    lineups are fetched, of the game not yet begun; every other source reads what it read at the lock (no stage
    before lineups rebuilds), and every game under way keeps what was known at its tip: the six teams confirmed
    before the lock their starters, the games that tipped with no run before them their expected roles. Kills:
    lineups read only up to the lock (the last game unconfirmed); every source opened to the last tip (odds fetched
    after the lock); a game's box score read after its tip (its starters confirmed mid-game: 22 teams)."""
    late = day.runs["late"]
    assert late.returncode == 0, late.stdout + late.stderr
    fetched = {e["source"] for e in day.events["late"] if e["event"] == "fetch_start"}
    assert fetched == {"lineups"}, fetched
    rebuilt = {e["stage"] for e in day.events["late"] if e["event"] == "stage_success" and e["created"]}
    assert rebuilt >= {"lineups", "rosters", "minutes", "gold"}, rebuilt
    assert not rebuilt & {"schedule", "salaries", "game_logs", "odds", "injuries", "calibration"}, rebuilt
    meta, frame = _lineups(day, "late")
    last_game = {"GSW", "PHX"}
    assert meta["teams_confirmed"] == 8 and meta["roles"] == "confirmed for 8 of 22", meta
    _, before = _lineups(day, "early")
    early_teams = set(before.loc[before["confirmed"], "team"])
    assert set(frame.loc[frame["confirmed"], "team"]) == early_teams | last_game
    assert _starters(frame, early_teams) == _starters(before, early_teams)
    assert day.gold["late"] != day.gold["early"]
    [fetched_lineups] = [e for e in day.events["late"] if e["event"] == "fetch_success"]
    assert "0021900065" in fetched_lineups["url"], fetched_lineups  # the 02:30Z game's box score, the one asked
    assert ("3 game(s) under way keep the lineups known at their tips; 7 game(s) under way had no box score "
            "captured before their tips: expected roles") in fetched_lineups["describe"], fetched_lineups
    # every game under way (all but the last): minutes and simulated points stay bit for bit (each game is
    # simulated from its own seed); only ownership, shared by the slate, moves
    numbers = ["player_id", "p_play", "proj_minutes", "dk_mean", "dk_sd", "dk_p10", "dk_p50", "dk_p90"]
    then, now = (pd.read_parquet(_object(day.home, day.gold[run], "projections.parquet"))
                 for run in ("early", "late"))
    then, now = (f[~f["team"].isin(last_game)][numbers].sort_values("player_id").reset_index(drop=True)
                 for f in (then, now))
    assert len(then) > 200
    pd.testing.assert_frame_equal(then, now)
    slate = pd.read_parquet(day.home / "gold" / "projections" / f"game_date={DAY}" / "projections.parquet")
    roles = slate[slate["team"].isin(last_game)]
    assert set(roles["mode"]) == {"confirmed"} and (roles["role"] == "starter").sum() == 10, roles[["team", "role"]]


def test_the_last_games_inactive_list_rules_its_players_out_and_their_teammates_get_the_minutes(day: Day) -> None:
    """Before the last game's box score is out its injured players only look unlikely (p_play > 0 from their
    absences); its inactive list, read at 02:05Z, makes them 0 and their minutes go to the rest of the team."""
    listed = {str(pid) for team in payloads.LATE_GAME_INACTIVE.values() for pid, *_ in team}
    meta, frame = _lineups(day, "late")
    assert meta["inactive"] == 3 and set(frame.loc[frame["inactive"], "player_id"]) == listed, meta
    early_meta, _ = _lineups(day, "early")
    assert early_meta["inactive"] == 0
    then, now = (pd.read_parquet(_object(day.home, day.gold[run], "projections.parquet")).set_index("player_id")
                 for run in ("early", "late"))
    assert (then.loc[sorted(listed), "p_play"] > 0).all(), then.loc[sorted(listed), ["player_name", "p_play"]]
    assert (now.loc[sorted(listed), "p_play"] == 0).all() and (now.loc[sorted(listed), "exp_minutes"] == 0).all()
    assert set(now.loc[sorted(listed), "availability"]) == {"inactive (game's list)"}
    for team in ("GSW", "PHX"):
        rest = now[(now["team"] == team) & ~now.index.isin(listed)]
        assert abs(now.loc[now["team"] == team, "exp_minutes"].sum() - rest["exp_minutes"].sum()) < 1e-9
        assert rest["exp_minutes"].sum() > 235, (team, rest["exp_minutes"].sum())


def test_past_the_last_tip_nothing_is_fetched_and_nothing_changes(day: Day) -> None:
    after = day.runs["after"]
    assert after.returncode == 0, after.stdout + after.stderr
    assert [e for e in day.events["after"] if e["event"] == "fetch_start"] == []
    assert not [e for e in day.events["after"] if e["event"] == "stage_success" and e["created"]]
    assert day.gold["after"] == day.gold["late"]


def test_snapshots_marks_the_capture_each_source_reads(day: Day) -> None:
    """`projections snapshots` marks as used, after the lock, the newest lineups capture (read up to the last tip)
    and the odds captured before the lock."""
    listing = day.snapshots["late"]["captures"]
    lineups = [c for c in listing if c["table"] == "lineups"]
    odds = [c for c in listing if c["table"] == "odds"]
    assert [c["used"] for c in lineups] == [False, True], lineups
    assert lineups[-1]["captured_at"] == "2019-10-31T02:05:00.000Z"
    assert [c["used"] for c in odds] == [True], odds

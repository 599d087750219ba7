"""Who started: a live capture of a season's game logs (stats.nba.com LeagueGameLog, no starter flag) takes the
flags from each game's liveData box score, served here by a real 127.0.0.1 server with the real 2019-20 box-score
starters (payloads.live_boxscore: Basketball-Reference's GS of the shipped archive).

The data root holds 2019-20 as the stats.nba.com export (ingested with --replace: no flags), as a live user's
does; without the flags the models guess roles from minutes, which cost November 2019 about 4% of DK MAE.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from projections.sources import snapshots, starts
from tests.conftest import SHARED, run_cli
from tests.net.faultserver import FaultServer
from tests.sources import payloads
from tests.sources.payloads import ARCHIVE

GAMELOG = "/stats/leaguegamelog"
DAY = dt.date(2019, 10, 25)


def _box(game_id: str) -> str:
    return f"/cdn/liveData/boxscore/boxscore_{game_id}.json"


def _env(server: FaultServer, now: str) -> dict[str, str]:
    return {"PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__NOW": now,
            "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
            "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0", "PROJECTIONS_LIVE__HOST_INTERVALS": "{}",
            "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01",
            "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05"}


def _games_before(day: dt.date) -> list[tuple[dt.date, str]]:
    schedule = pd.read_parquet(ARCHIVE / "schedule" / "2019-20.parquet", columns=["game_date", "game_id"])
    rows = schedule[schedule["game_date"] < day].sort_values(["game_date", "game_id"])
    return list(zip(rows["game_date"], rows["game_id"].astype(str), strict=True))


def _real_flags() -> pd.Series:
    logs = pd.read_parquet(ARCHIVE / "player_logs" / "2019-20.parquet", columns=["game_id", "player_id", "started"])
    return logs.set_index(["game_id", "player_id"])["started"]


def _capture(home: Path, day: dt.date) -> tuple[pd.DataFrame, Path]:
    entry = snapshots.select(snapshots.entries(home, "player_logs", day), None)
    assert entry is not None
    path = snapshots.data_path(home, entry)
    return pd.read_parquet(path), path.parent


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    ingested = run_cli(home, "ingest", "game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv"),
                       "--replace")
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    return home


def test_a_live_capture_of_the_game_logs_flags_who_started_from_each_games_box_score(home: Path) -> None:
    """Every game before 2019-10-25 but one has its box score served: the capture flags exactly the real starters
    of those games; the game without one keeps no flag and is named, and the next day's capture asks only for the
    games of the day in between (the flags it has, and the game that had no box score, are not asked again)."""
    games = _games_before(DAY)
    unserved = games[3][1]
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(DAY))
        for day, game_id in games + _games_before(DAY + dt.timedelta(days=1))[len(games):]:
            if game_id != unserved:
                server.replay(_box(game_id), payloads.live_boxscore(day, game_id))
        first = run_cli(home, "fetch", "player_logs", DAY.isoformat(), **_env(server, "2019-10-25T16:00:00Z"))
        asked = {r.path for r in server.requests if "boxscore" in r.path}
        server.replay(GAMELOG, payloads.league_game_log(DAY + dt.timedelta(days=1)))
        second = run_cli(home, "fetch", "player_logs", (DAY + dt.timedelta(days=1)).isoformat(),
                         **_env(server, "2019-10-26T16:00:00Z"))
        asked_again = [r.path for r in server.requests if "boxscore" in r.path][len(asked):]
    assert first.returncode == 0, first.stdout + first.stderr
    assert asked == {_box(g) for _, g in games}
    assert f"starters of {len(games) - 1} games from their box scores; 1 games without a box score" in first.stdout
    frame, folder = _capture(home, DAY)
    real = _real_flags()
    flagged = frame[frame["started"].notna()]
    assert set(frame.loc[frame["started"].isna(), "game_id"]) == {unserved}
    assert len(flagged) > 300
    expected = real.reindex(pd.MultiIndex.from_frame(flagged[["game_id", "player_id"]])).to_numpy()
    assert (flagged["started"].astype(bool).to_numpy() == expected).all()
    assert flagged.groupby(["game_id", "team"])["started"].sum().eq(5).all()
    assert json.loads((folder / starts.UNSERVED).read_bytes()) == [unserved]
    assert second.returncode == 0, second.stdout + second.stderr
    new = {g for _, g in _games_before(DAY + dt.timedelta(days=1))} - {g for _, g in games}
    assert sorted(asked_again) == sorted(_box(g) for g in new) and new
    later, _ = _capture(home, DAY + dt.timedelta(days=1))
    assert set(later.loc[later["started"].isna(), "game_id"]) == {unserved}


def test_a_first_capture_late_in_the_season_says_how_far_its_box_scores_got(home: Path) -> None:
    """A live user's first capture of 2019-20 on 2019-11-12 asks every game so far: it says how many were asked
    every starts.PROGRESS_EVERY games, on stderr beside the fetch line, and the capture flags them all."""
    day = dt.date(2019, 11, 12)
    games = _games_before(day)
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(day))
        for game_day, game_id in games:
            server.replay(_box(game_id), payloads.live_boxscore(game_day, game_id))
        fetched = run_cli(home, "fetch", "player_logs", day.isoformat(), **_env(server, "2019-11-12T16:00:00Z"))
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    lines = [line for line in fetched.stderr.splitlines() if "starters from box scores" in line]
    assert lines == [f"player_logs 2019-20: starters from box scores: {k} of {len(games)} games asked, 0 without one"
                     for k in range(starts.PROGRESS_EVERY, len(games), starts.PROGRESS_EVERY)] and len(games) > 100
    assert f"starters of {len(games)} games from their box scores" in fetched.stdout
    frame, _ = _capture(home, day)
    assert frame["started"].notna().all()


@pytest.mark.parametrize("status", [503, 403], ids=["down", "refusing"])
def test_a_box_score_feed_that_fails_stops_the_flagging_and_the_next_capture_asks_again(home: Path,
                                                                                      status: int) -> None:
    """The feed answers 503 (down; each attempt) or 403 (the cdn refusing, as it does when throttling) for the
    second game: the flags of the first stand, the rest are left for the next capture (named, with the error; not
    listed as unserved), which asks for them (and flags them once served)."""
    games = _games_before(DAY)
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(DAY))
        for day, game_id in games:
            server.replay(_box(game_id), payloads.live_boxscore(day, game_id))
        server.script(_box(games[1][1]), *[("status", status)] * (2 if status == 503 else 1))
        first = run_cli(home, "fetch", "player_logs", DAY.isoformat(), **_env(server, "2019-10-25T16:00:00Z"))
        frame, _ = _capture(home, DAY)
        second = run_cli(home, "fetch", "player_logs", DAY.isoformat(), **_env(server, "2019-10-25T17:00:00Z"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"starters of 1 games from their box scores; {len(games) - 1} games left without starters" in first.stdout
    assert str(status) in first.stdout and server.pending(_box(games[1][1])) == 0
    assert set(frame.loc[frame["started"].notna(), "game_id"]) == {games[0][1]}
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"starters of {len(games) - 1} games from their box scores" in second.stdout
    after, _ = _capture(home, DAY)
    assert after["started"].notna().all()


def test_a_feed_keeping_no_box_score_of_the_season_is_not_asked_for_every_game(tmp_path: Path) -> None:
    """`ingest game-logs --fetch 2022-23` (1,230 games) against a box-score feed that has none of them: after
    starts.GIVE_UP games without one it stops asking, and the season is ingested without flags."""
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(dt.date(2023, 7, 1)))
        fetched = run_cli(home, "ingest", "game-logs", "--fetch", "2022-23", **_env(server, "2023-07-01T16:00:00Z"))
        asked = [r.path for r in server.requests if "boxscore" in r.path]
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "player_logs 2022-23: fetching who started each of its 1230 games from their box scores" in fetched.stdout
    assert len(asked) == starts.GIVE_UP
    assert f"the first {starts.GIVE_UP} games asked have no box score flagging starters" in fetched.stdout


def test_a_season_held_without_starts_gets_them_by_fetching_it_again_with_replace(home: Path) -> None:
    """The data root holds 2019-20 from the stats.nba.com file, without starts; `ingest game-logs --fetch 2019-20
    --replace` fetches it with each game's box score (here served for the season's first ten games only), saying
    how far it got every starts.PROGRESS_EVERY games."""
    from projections.archive import parts

    games = _games_before(dt.date(2019, 10, 25))[:10]
    with FaultServer() as server:
        server.replay(GAMELOG, payloads.league_game_log(dt.date(2020, 7, 1)))
        for day, game_id in games:
            server.replay(_box(game_id), payloads.live_boxscore(day, game_id))
        fetched = run_cli(home, "ingest", "game-logs", "--fetch", "2019-20", "--replace",
                          **_env(server, "2020-07-01T16:00:00Z"))
        asked = len([r for r in server.requests if "boxscore" in r.path])
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "wrote player_logs/2019-20" in fetched.stdout and "starters of 10 games from their box scores" in \
        fetched.stdout
    progress = [line.strip() for line in fetched.stdout.splitlines() if "starters from box scores:" in line]
    assert progress == [f"player_logs 2019-20: starters from box scores: {k} of {asked} games asked, {k - 10} without "
                        "one" for k in range(starts.PROGRESS_EVERY, asked, starts.PROGRESS_EVERY)] and asked > 900
    [part] = [p for p in parts(home, "player_logs") if "2019-20" in p.seasons]
    logs = pd.read_parquet(part.path)
    flagged = logs[logs["started"].notna()]
    assert set(flagged["game_id"]) == {g for _, g in games}
    expected = _real_flags().reindex(pd.MultiIndex.from_frame(flagged[["game_id", "player_id"]])).to_numpy()
    assert (flagged["started"].astype(bool).to_numpy() == expected).all()

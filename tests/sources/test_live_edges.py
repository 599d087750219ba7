"""Live backends on what the existing fault tests leave unsaid: the injury report's own time (Last-Modified), and the
plausibility edges of the real payloads (tests/sources/payloads.py: real facts of one slate in the endpoints'
shapes) against a real loopback server. (Mutation audit of backends.py and parsers/: each test names what it
pins.)"""

from __future__ import annotations

import datetime as dt
import email.utils
from pathlib import Path

import pandas as pd

from projections.sources import parsers, snapshots
from tests.net.faultserver import FaultServer, recorded
from tests.sources.conftest import FakeTime
from tests.sources.test_live_faults import fetch

REPORT_DAY = dt.date(2020, 8, 6)
REPORT = "injuries/2020/csv/Injury-Report_2020-08-06_05PM.csv"  # the 5 PM ET report: 21:00Z


def _report_times(home: Path) -> list[set[pd.Timestamp]]:
    return [set(pd.read_parquet(snapshots.data_path(home, e))["report_time"])
            for e in snapshots.entries(home, "injuries", REPORT_DAY)]


def test_an_injury_reports_last_modified_is_its_time_unless_it_lies_ahead(tmp_path: Path, server: FaultServer,
                                                                         fake: FakeTime) -> None:
    """The report's own time is its Last-Modified (the 5 PM report fetched at 17:20 ET is as of 17:00 ET: a build
    as of 17:10 sees it). A Last-Modified later than the fetch (a server clock ahead) is no time the report can
    have: it would hide the report from every build until then, so the fetch time stands.
    Kills: a future Last-Modified taken as the report's time; the header ignored (the fetch time used)."""
    stamp = dt.datetime(2020, 8, 6, 21, 0, tzinfo=dt.UTC)
    now = dt.datetime(2020, 8, 6, 21, 20, tzinfo=dt.UTC)
    url = "/injuries/latest.csv"
    for home, modified in ((tmp_path / "stamped", stamp), (tmp_path / "ahead", now + dt.timedelta(hours=3))):
        server.replay(url, recorded(REPORT), content_type="text/csv",
                      headers={"Last-Modified": email.utils.format_datetime(modified, usegmt=True)})
        summary = fetch("injuries", home, server, fake, day=REPORT_DAY, now=now, injuries={"url": server.url(url)})
        assert summary["rows"] > 20
        expected = stamp if modified == stamp else now
        assert _report_times(home) == [{pd.Timestamp(expected)}], (modified, _report_times(home))


# ------------------------------------------------------------------------------------------ parsers

BOXES = {"api/live/boxscore_0042200123.json": ("BKN", "PHI", dt.date(2023, 4, 20), True),  # a playoff game
         "api/live/boxscore_0022000196_game.json": ("BOS", "NYK", dt.date(2021, 1, 17), False)}
V2 = "api/stats_cassettes/smoke__test_endpoints_ScoreboardV2.json"


def test_box_score_logs_hold_who_played_with_home_opponent_and_game_type() -> None:
    """The player_logs a live box score gives (postseason.py joins them to a playoff date's logs): one line per
    player who played, his opponent the other side, the home flag from homeTeam, and a playoff game (id 004...)
    flagged as one - the projections weigh playoff games apart. Kills: players who did not play kept (0 minutes,
    a zero line in every average); home and away opponents swapped; the playoff flag lost."""
    import json

    for path, (home, away, day, playoffs) in BOXES.items():
        body = recorded(path)
        game = json.loads(body)["game"]
        played = {str(p["personId"]) for side in ("homeTeam", "awayTeam") for p in game[side]["players"]
                  if p["played"] == "1"}
        logs = parsers.player_logs_from_boxscore(body)
        assert set(logs["player_id"]) == played and len(logs) == len(played) < sum(
            len(game[side]["players"]) for side in ("homeTeam", "awayTeam")), path
        assert (logs["minutes"] > 0).all() and set(logs["game_date"]) == {day}
        assert logs.groupby("team")["opp"].agg(set).to_dict() == {home: {away}, away: {home}}, path
        assert logs.groupby("team")["home"].agg(set).to_dict() == {home: {True}, away: {False}}, path
        assert set(logs["playoffs"]) == {playoffs}, path


def test_scoreboard_v2_tips_are_each_games_status_time_noon_included() -> None:
    """Every game of the real scoreboardv2 gets the tip its status text says ("3:30 pm ET" -> 20:30Z in February),
    and a noon tip ("12:00 pm ET", Christmas and MLK day games) is 17:00Z. Kills: the hour read without `% 12`
    (12 pm became hour 24: the parse raised, no schedule)."""
    import json

    body = json.loads(recorded(V2))
    header = next(s for s in body["resultSets"] if s["name"] == "GameHeader")
    column = header["headers"].index("GAME_STATUS_TEXT")
    texts = [row[column] for row in header["rowSet"]]
    header["rowSet"][0][column] = "12:00 pm ET"  # the real first game moved to noon
    games = parsers.schedule_from_scoreboard(json.dumps(body).encode(), dt.date(2026, 2, 22))
    expected = [pd.Timestamp(f"2026-02-22 {t.removesuffix(' ET')}").tz_localize("America/New_York").tz_convert("UTC")
                for t in ["12:00 pm", *texts[1:]]]
    assert list(games["tip_time"]) == expected and expected[0].hour == 17, (list(games["tip_time"]), texts)
    assert set(games["tip_time_source"]) == {"nba_scoreboard"}

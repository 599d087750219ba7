"""Live backends on what the existing fault tests leave unsaid: the injury report's own time (Last-Modified), and the
plausibility edges of the real payloads (tests/sources/payloads.py: real facts of one slate in the endpoints'
shapes) against a real loopback server. (Mutation audit of backends.py and parsers/: each test names what it
pins.)"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from pathlib import Path

import pandas as pd
import pytest

from projections.errors import FetchError
from projections.sources import backends, parsers, snapshots
from tests.net.faultserver import FaultServer, recorded
from tests.sources import payloads
from tests.sources.conftest import SLATE, FakeTime
from tests.sources.test_live_faults import GAMELOG, SCOREBOARD, fetch, serve_slate

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
    body = json.loads(recorded(V2))
    header = next(s for s in body["resultSets"] if s["name"] == "GameHeader")
    column, ids = header["headers"].index("GAME_STATUS_TEXT"), header["headers"].index("GAME_ID")
    texts = list({row[ids]: row[column] for row in header["rowSet"]}.values())  # a game once (repeated rows)
    header["rowSet"][0][column] = "12:00 pm ET"  # the real first game moved to noon
    games = parsers.schedule_from_scoreboard(json.dumps(body).encode(), dt.date(2026, 2, 22))
    expected = [pd.Timestamp(f"2026-02-22 {t.removesuffix(' ET')}").tz_localize("America/New_York").tz_convert("UTC")
                for t in ["12:00 pm", *texts[1:]]]
    assert list(games["tip_time"]) == expected and expected[0].hour == 17, (list(games["tip_time"]), texts)
    assert set(games["tip_time_source"]) == {"nba_scoreboard"}


V3 = "api/stats_cassettes/scenarios__test_scoreboardv3_Regular_season_game_date_-_November_5_2025.json"
CALENDAR = "api/pbpstats_fixtures/live_nba_2023.json"


def test_a_game_the_scoreboard_marks_postponed_is_postponed_and_not_counted() -> None:
    """A postponed game stays on nba.com's scoreboard and schedule with the status text "PPD" (the real payloads
    here have none, so one real game of each is marked so): it is read as "postponed" (slates leave it out) and the
    season calendar does not count it, so a date whose games were all postponed is a real empty scoreboard, not an
    implausible one. Kills: the PPD/postponed test of `_status` dropped; postponed games counted by
    `calendar_counts`."""
    body = json.loads(recorded(V3))
    body["scoreboard"]["games"][2]["gameStatusText"] = "PPD"
    games = parsers.schedule_from_scoreboard(json.dumps(body).encode(), dt.date(2025, 11, 5))
    assert games["status"].tolist() == ["final"] * 2 + ["postponed"] + ["final"] * (len(games) - 3)

    day = dt.date(2023, 11, 1)
    calendar = json.loads(recorded(CALENDAR))
    block = next(b for b in calendar["leagueSchedule"]["gameDates"] if b["games"] and any(
        g["gameDateEst"].startswith("2023-11-01") for g in b["games"]))
    for game in block["games"]:
        game["gameStatusText"] = "PPD"
    season, counts = parsers.calendar_counts(json.dumps(calendar).encode())
    assert season == "2023-24" and day not in counts and counts[dt.date(2023, 11, 2)] > 0
    ppd = parsers.schedule_from_scoreboard(json.dumps(calendar).encode(), day)
    assert len(ppd) == 13 and set(ppd["status"]) == {"postponed"}


def test_the_nba_cup_final_counts_as_a_slate_game_before_its_teams_are_known() -> None:
    """The 2023-24 calendar lists the NBA Cup final (0062300001, 2023-12-09) with its teams still TBD. It is a game
    that counts (type 6, not playoffs), so the calendar counts it: an empty scoreboard that day is implausible, and
    the day is no off day. Its teams unknown, the schedule of the day has no row for it yet. Kills: game type 6 left
    out of SLATE_TYPES."""
    day = dt.date(2023, 12, 9)
    _, counts = parsers.calendar_counts(recorded(CALENDAR))
    assert counts[day] == 1
    assert parsers.schedule_from_scoreboard(recorded(CALENDAR), day).empty


# ------------------------------------------------------------------------------------------ backends


def test_a_game_log_is_implausible_below_half_of_the_last_capture_and_taken_above(tmp_path: Path,
                                                                                 server: FaultServer,
                                                                                 fake: FakeTime) -> None:
    """The real game log of the slate (1173 rows), then one cut to 45% of its rows: refused as a shrunken payload
    (README: fewer rows than half of the last capture); cut to 55% (a feed may trim, e.g. a season's early games
    reloaded): taken. Kills: the shrink ratio lowered (a log at 45% of the last one replaced every player's
    history)."""
    body = json.loads(payloads.league_game_log(SLATE))
    rows = body["resultSets"][0]["rowSet"]
    serve_slate(server)
    assert fetch("player_logs", tmp_path, server, fake)["rows"] == len(rows) == 1173
    for share, taken in ((0.45, False), (0.55, True)):
        body["resultSets"][0]["rowSet"] = rows[: int(len(rows) * share)]
        server.replay(GAMELOG, json.dumps(body).encode())
        if taken:
            assert fetch("player_logs", tmp_path, server, fake, max_attempts=2)["rows"] == 645
        else:
            with pytest.raises(FetchError, match=r"527 rows, fewer than half of the 1173 the last capture held"):
                fetch("player_logs", tmp_path, server, fake, max_attempts=2)
    assert [e.rows for e in snapshots.entries(tmp_path, "player_logs", SLATE)] == [1173, 645]


def test_a_postponed_game_on_the_scoreboard_leaves_the_slate(tmp_path: Path, server: FaultServer,
                                                             fake: FakeTime) -> None:
    """The slate's scoreboard with one game marked "PPD" (it stays listed, postponed): the schedule capture holds
    it as postponed, and the slate's games - what odds, rosters and lineups are fetched for - leave it out, so its
    line is dropped from the odds though the feed still lists it. Kills: `slate_games` keeping postponed games."""
    body = json.loads(payloads.scoreboard(SLATE))
    postponed = body["scoreboard"]["games"][3]
    postponed["gameStatusText"] = "PPD"
    serve_slate(server)
    server.replay(SCOREBOARD, json.dumps(body).encode())
    assert fetch("schedule", tmp_path, server, fake)["rows"] == 11
    games = backends.slate_games(tmp_path, SLATE)
    assert len(games) == 10 and postponed["gameId"] not in set(games["game_id"])
    odds = fetch("odds", tmp_path, server, fake)
    assert odds["rows"] == 10 and postponed["homeTeam"]["teamTricode"] not in set(
        pd.read_parquet(snapshots.data_path(tmp_path, snapshots.entries(tmp_path, "odds", SLATE)[-1]))["home_team"])


def test_a_seasons_first_game_log_is_not_measured_against_last_season(tmp_path: Path, server: FaultServer,
                                                                     fake: FakeTime) -> None:
    """A game log captured in March 2019 (2018-19, thousands of rows), then the first days of 2019-20 (two days of
    games): the new season's log is small because the season is, not because the payload shrank - it is measured
    against captures of its own season only, and taken. Kills: `_previous_rows` reaching back into another
    season (every season's first runs refused as shrunken payloads)."""
    march, opening = dt.date(2019, 3, 20), dt.date(2019, 10, 24)
    server.replay(GAMELOG, payloads.league_game_log(march))
    before = fetch("player_logs", tmp_path, server, fake, day=march, now=dt.datetime(2019, 3, 20, 15, tzinfo=dt.UTC))
    server.replay(GAMELOG, payloads.league_game_log(opening))
    first = fetch("player_logs", tmp_path, server, fake, day=opening, now=dt.datetime(2019, 10, 24, 15, tzinfo=dt.UTC))
    assert before["rows"] > 10 * first["rows"] > 0, (before["rows"], first["rows"])


def test_a_box_score_listing_one_team_is_refused_and_a_failing_one_is_no_unpublished_one(
        tmp_path: Path, server: FaultServer, fake: FakeTime) -> None:
    """The real box score of 0022000196 (NYK@BOS, 2021-01-17) with the visitors' players gone: a partial payload,
    refused (its starters would stand for the game's). And a box score the server fails on (HTTP 500 at every
    attempt) is a failed fetch, not a game whose box score is "not published yet" (404/403, the morning's state):
    the run must say the feed is down. Kills: the two-teams check loosened; 5xx read as not published."""
    from tests.sources.test_live_faults import _schedule_of_box_score

    day = _schedule_of_box_score(tmp_path)
    now = dt.datetime(2021, 1, 17, 17, tzinfo=dt.UTC)
    box = json.loads(recorded("api/live/boxscore_0022000196_game.json"))
    box["game"]["awayTeam"]["players"] = []
    path = "/cdn/liveData/boxscore/boxscore_0022000196.json"
    server.replay(path, json.dumps(box).encode())
    with pytest.raises(FetchError, match=r"lineups: box score 0022000196 lists players of 1 team\(s\), not 2"):
        fetch("lineups", tmp_path, server, fake, day=day, now=now, max_attempts=2)
    server.replay(path, b'{"error": "internal"}', status=500)
    with pytest.raises(FetchError, match=r"HTTP 500"):
        fetch("lineups", tmp_path, server, fake, day=day, now=now, max_attempts=2)
    assert snapshots.entries(tmp_path, "lineups", day) == []


def test_the_live_odds_give_back_the_closing_moneylines(tmp_path: Path, server: FaultServer, fake: FakeTime) -> None:
    """The slate's odds feed carries each game's real closing moneylines as decimal odds (payloads.py); the capture
    turns them back into the American moneylines of the shipped archive's odds of 2019-10-30 - favourites negative,
    underdogs from +100 to +375 positive (decimal 2.0 to 4.75), to within the feed's three decimals. Kills: the
    decimal -> American switch moved off 2.0 (an underdog at +110 to +142 read as a favourite)."""
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    fetch("odds", tmp_path, server, fake)
    live = pd.read_parquet(snapshots.data_path(tmp_path, snapshots.entries(tmp_path, "odds", SLATE)[-1]))
    shipped = pd.read_parquet(Path(payloads.ARCHIVE) / "odds" / "2019-20.parquet")
    shipped = shipped[shipped["game_date"] == SLATE]
    columns = ["moneyline_home", "moneyline_away"]
    got, want = (frame.set_index("home_team").sort_index()[columns] for frame in (live, shipped))
    assert len(got) == 11 and got.index.equals(want.index)
    assert ((want > 0) & (want < 150)).to_numpy().sum() >= 4  # the underdogs the switch point decides
    assert (abs(got - want) <= 1.0).to_numpy().all(), pd.concat([got, want], axis=1)


def test_an_empty_game_log_is_taken_on_opening_night_and_refused_once_games_were_played(
        tmp_path: Path, server: FaultServer, fake: FakeTime) -> None:
    """The real LeagueGameLog as the endpoint answers on 2019-10-22, the season's first night: its headers and no
    row. Taken, as an empty capture (the stages see a season without history yet), not refused as "missing
    columns" (it was, every retry: opening night's slate failed). The same empty body on 2019-10-30 is refused
    with what the archive's schedule says was played before. Kills: the frame built from the rows alone."""
    opening = dt.date(2019, 10, 22)
    body = payloads.league_game_log(opening)
    assert json.loads(body)["resultSets"][0]["rowSet"] == []
    server.replay(GAMELOG, body)
    summary = fetch("player_logs", tmp_path, server, fake, day=opening,
                    now=dt.datetime(2019, 10, 22, 15, tzinfo=dt.UTC), max_attempts=1)
    assert summary["rows"] == 0
    assert [e.rows for e in snapshots.entries(tmp_path, "player_logs", opening)] == [0]
    with pytest.raises(FetchError, match=r"no player games in 2019-20, but the archive schedule lists \d+ games "
                                         r"before 2019-10-30"):
        fetch("player_logs", tmp_path, server, fake, max_attempts=1)
    assert snapshots.entries(tmp_path, "player_logs", SLATE) == []


def test_opening_night_of_a_new_season_takes_the_empty_log_though_the_calendar_is_last_season_s(
        tmp_path: Path, server: FaultServer, fake: FakeTime) -> None:
    """2024-25's first night (2024-10-22), a season the archive does not hold, while scheduleLeagueV2 still answers
    with 2023-24's calendar (as it does until the new schedule is published): that calendar's 1,207 games all lie
    before the date, but none is of this season, so the empty game log is taken. Kills: the calendar used whatever
    its season (B08 of the intake audit: it refused opening night, every retry)."""
    opening = dt.date(2024, 10, 22)
    body = payloads.league_game_log(opening)
    assert json.loads(body)["resultSets"][0]["rowSet"] == []
    server.replay(GAMELOG, body)
    server.replay("/cdn/staticData/scheduleLeagueV2.json", recorded(CALENDAR))
    assert parsers.calendar_counts(recorded(CALENDAR))[0] == "2023-24"
    summary = fetch("player_logs", tmp_path, server, fake, day=opening,
                    now=dt.datetime(2024, 10, 22, 15, tzinfo=dt.UTC), max_attempts=1)
    assert summary["rows"] == 0
    assert len(server.requests_to("/cdn/staticData/scheduleLeagueV2.json")) == 1  # it was asked, and set aside
    assert [e.rows for e in snapshots.entries(tmp_path, "player_logs", opening)] == [0]


def test_a_capture_after_games_were_postponed_locks_at_the_first_game_still_played(tmp_path: Path,
                                                                                   server: FaultServer,
                                                                                   fake: FakeTime) -> None:
    """The three 23:00Z games of 2019-10-30 marked PPD: the slate locks at 23:30Z, as the schedule stage says, and
    so must the capture - it stored 23:00Z (the postponed games' tip), and `snapshots.select` then passed over every
    schedule capture taken after 23:00Z though before the real lock (a game postponed at 23:15Z stayed on the
    slate). The odds capture drops the postponed games' lines rather than keep them as lines the feed no longer
    lists ("kept the last captured line of 3 game(s) ...; -3 of 8 games have no line")."""
    serve_slate(server)
    fetch("odds", tmp_path, server, fake, now=dt.datetime(2019, 10, 30, 19, tzinfo=dt.UTC))  # all 11 lined
    body = json.loads(payloads.scoreboard(SLATE))
    for game in body["scoreboard"]["games"]:
        if game["gameTimeUTC"] == "2019-10-30T23:00:00Z":
            game["gameStatusText"] = "PPD"
    server.replay(SCOREBOARD, json.dumps(body).encode())
    fetch("schedule", tmp_path, server, fake)
    [entry] = snapshots.entries(tmp_path, "schedule", SLATE)
    assert entry.lock == dt.datetime(2019, 10, 30, 23, 30, tzinfo=dt.UTC), entry
    odds = fetch("odds", tmp_path, server, fake)
    assert odds["rows"] == 8 and "kept the last captured line" not in odds["describe"], odds
    assert "-3 of" not in odds["describe"], odds

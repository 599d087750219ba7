"""Live backends against a real loopback server that replays payloads and injects faults.

Time is fake (FakeTime): a backoff "sleeps" instantly and is recorded, so every wait is asserted exactly and no
test waits for one. With random() = 0.5 and a 1 s base, the jittered waits are 0.5, 1.0, 2.0 s.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from pathlib import Path

import pandas as pd
import pytest

from projections.errors import FetchError, SourceError
from projections.sources import backends, snapshots
from tests.net.faultserver import FaultServer, recorded
from tests.sources import payloads
from tests.sources.conftest import AFTER_LOCK, BEFORE_LOCK, SLATE, FakeTime, env_for, http_for, live_settings

SCOREBOARD = "/stats/scoreboardv3"
GAMELOG = "/stats/leaguegamelog"
ODDS = "/cdn/liveData/odds/odds_todaysGames.json"
URL = "/stats/scoreboardv3?GameDate=2019-10-30&LeagueID=00"


def serve_slate(server: FaultServer, day: dt.date = SLATE) -> None:
    server.replay(SCOREBOARD, payloads.scoreboard(day))
    server.replay(GAMELOG, payloads.league_game_log(day))
    server.replay(ODDS, payloads.odds_today(day))


def fetch(table: str, home: Path, server: FaultServer | None, fake: FakeTime, *, day: dt.date = SLATE,
          now: dt.datetime = BEFORE_LOCK, **live: object) -> dict:
    settings = live_settings(home, server, **live)
    with http_for(settings, fake) as http:
        return backends.run(table, env_for(settings), day, now, http=http)


def no_snapshot(home: Path, table: str = "schedule", day: dt.date = SLATE) -> bool:
    return not snapshots.index_path(home, table, day).exists()


# ------------------------------------------------------------------------------------------ transport faults


def test_refused_connection_is_retried_then_reported_with_url_attempts_and_fix(tmp_path: Path, fake: FakeTime):
    with socket.socket() as bound:  # bound, never listening: every connect is refused
        bound.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{bound.getsockname()[1]}"
        with pytest.raises(FetchError) as caught:
            fetch("schedule", tmp_path, None, fake, stats_base=f"{base}/stats", max_attempts=3)
    message = str(caught.value)
    assert message.startswith(f"schedule: GET {base}{URL} failed after 3 attempts")
    assert message.count("Connection refused") == 3 and "what to do:" in message
    assert caught.value.attempts == 3 and fake.sleeps == [0.5, 1.0]
    assert no_snapshot(tmp_path)


def test_unresolvable_host_is_reported_as_dns(tmp_path: Path, fake: FakeTime):
    with pytest.raises(FetchError, match=r"DNS lookup of nonexistent\.invalid failed") as caught:
        fetch("schedule", tmp_path, None, fake, stats_base="http://nonexistent.invalid/stats", max_attempts=2)
    assert caught.value.attempts == 2 and fake.sleeps == [0.5]
    assert "check the network and DNS" in str(caught.value)


def test_stalled_response_times_out_then_the_retry_succeeds(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    server.script(SCOREBOARD, ("stall", 5.0))
    started = time.monotonic()
    summary = fetch("schedule", tmp_path, server, fake, read_timeout_s=0.2)
    assert time.monotonic() - started < 2.0  # one 0.2 s read timeout, not the 5 s stall
    assert summary["attempts"] == 2 and summary["rows"] == 11 and fake.sleeps == [0.5]


def test_500s_then_success(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    server.script(SCOREBOARD, ("status", 500), ("status", 503))
    summary = fetch("schedule", tmp_path, server, fake)
    assert summary["attempts"] == 3 and fake.sleeps == [0.5, 1.0] and len(server.requests_to(SCOREBOARD)) == 3
    entry = snapshots.entries(tmp_path, "schedule", SLATE)[0]
    assert entry.rows == 11 and entry.lock == dt.datetime(2019, 10, 30, 23, 0, tzinfo=dt.UTC)


def test_429_with_retry_after_waits_what_the_server_asked(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    server.script(GAMELOG, ("status", 429, {"Retry-After": "2"}))
    summary = fetch("player_logs", tmp_path, server, fake)
    assert summary["attempts"] == 2 and fake.sleeps == [2.0] and summary["rows"] > 1000


def test_truncated_body_is_retried(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    server.script(SCOREBOARD, ("truncate", payloads.scoreboard(SLATE)[:700]))
    assert fetch("schedule", tmp_path, server, fake)["attempts"] == 2 and fake.sleeps == [0.5]


def test_a_truncated_json_that_closes_cleanly_is_a_payload_violation(tmp_path: Path, server: FaultServer,
                                                                      fake: FakeTime):
    serve_slate(server)
    server.script(SCOREBOARD, ("body", payloads.scoreboard(SLATE)[:700]), ("body", b""))
    assert fetch("schedule", tmp_path, server, fake)["attempts"] == 3 and fake.sleeps == [0.5, 1.0]


# ------------------------------------------------------------------------------------------ implausible payloads


def test_empty_schedule_on_a_game_day_is_retried_then_succeeds(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    empty = payloads.empty_scoreboard(SLATE)
    server.script(SCOREBOARD, ("body", empty), ("body", empty))
    summary = fetch("schedule", tmp_path, server, fake)
    assert summary["attempts"] == 3 and summary["rows"] == 11 and fake.sleeps == [0.5, 1.0]


def test_empty_schedule_that_stays_empty_is_reported_and_never_published(tmp_path: Path, server: FaultServer,
                                                                         fake: FakeTime):
    server.replay(SCOREBOARD, payloads.empty_scoreboard(SLATE))
    with pytest.raises(FetchError, match=r"zero games on 2019-10-30, but the archive schedule lists 11") as caught:
        fetch("schedule", tmp_path, server, fake)
    assert caught.value.attempts == 4 and fake.sleeps == [0.5, 1.0, 2.0]
    assert "empty, implausible or foreign payload" in str(caught.value) and no_snapshot(tmp_path)


def test_empty_schedule_is_checked_against_the_season_calendar(tmp_path: Path, server: FaultServer, fake: FakeTime):
    day = dt.date(2023, 11, 1)  # a season the archive does not hold: scheduleLeagueV2 is the calendar
    server.replay(SCOREBOARD, payloads.empty_scoreboard(day))
    server.replay("/cdn/staticData/scheduleLeagueV2.json", recorded("api/pbpstats_fixtures/live_nba_2023.json"))
    with pytest.raises(FetchError, match=r"zero games on 2023-11-01, but the season calendar .* lists 13"):
        fetch("schedule", tmp_path, server, fake, day=day, max_attempts=2)


def test_a_real_off_day_is_an_empty_schedule(tmp_path: Path, server: FaultServer, fake: FakeTime):
    day = dt.date(2025, 7, 15)
    server.replay(SCOREBOARD, recorded("api/stats_cassettes/"
                                       "scenarios__test_scoreboardv3_Offseason_date_-_no_games_expected.json"))
    summary = fetch("schedule", tmp_path, server, fake, day=day)  # no calendar knows the date: accepted
    assert summary["rows"] == 0 and summary["attempts"] == 1
    assert any("season calendar unavailable" in n for n in summary["notes"])


def test_a_roster_of_two_players_is_implausible(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    body = json.loads(recorded("api/stats_cassettes/smoke__test_endpoints_CommonTeamRoster.json"))
    body["resultSets"][0]["rowSet"] = body["resultSets"][0]["rowSet"][:2]
    server.replay("/stats/commonteamroster", json.dumps(body).encode())
    with pytest.raises(FetchError, match=r"rosters: .* lists 2 player\(s\); a real roster has at least 8") as caught:
        fetch("rosters", tmp_path, server, fake, max_attempts=2)
    assert caught.value.attempts == 2 and no_snapshot(tmp_path, "rosters")


def test_a_shrunken_game_log_is_implausible(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    assert fetch("player_logs", tmp_path, server, fake)["rows"] == 1173
    body = json.loads(payloads.league_game_log(SLATE))
    body["resultSets"][0]["rowSet"] = body["resultSets"][0]["rowSet"][:100]
    server.replay(GAMELOG, json.dumps(body).encode())
    with pytest.raises(FetchError, match=r"100 rows, fewer than half of the 1173 the last capture held"):
        fetch("player_logs", tmp_path, server, fake, max_attempts=2)
    assert len(snapshots.entries(tmp_path, "player_logs", SLATE)) == 1


def _game_log_with_bad_rows(count: int) -> bytes:
    """The slate's real game log with `count` rows given 300 minutes (a box score that cannot be)."""
    body = json.loads(payloads.league_game_log(SLATE))
    result = body["resultSets"][0]
    column = result["headers"].index("MIN")
    for row in result["rowSet"][:count]:
        row[column] = 300
    return json.dumps(body).encode()


def test_an_impossible_box_score_line_in_the_live_game_log_is_dropped_with_a_note(
        tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    server.replay(GAMELOG, _game_log_with_bad_rows(1))
    summary = fetch("player_logs", tmp_path, server, fake)
    assert summary["rows"] == 1172
    assert "dropped 1 row(s) with minutes outside 0..75" in summary["describe"]
    assert summary["notes"] and "dropped 1 row(s)" in summary["notes"][0]
    kept = pd.read_parquet(snapshots.data_path(tmp_path, snapshots.entries(tmp_path, "player_logs", SLATE)[-1]))
    assert kept["minutes"].max() <= 75 and len(kept) == 1172


def test_a_game_log_with_many_impossible_lines_is_a_broken_feed(tmp_path: Path, server: FaultServer,
                                                                  fake: FakeTime):
    serve_slate(server)
    server.replay(GAMELOG, _game_log_with_bad_rows(40))
    with pytest.raises(FetchError, match=r"40 row\(s\) with minutes outside 0..75.*the feed is broken"):
        fetch("player_logs", tmp_path, server, fake, max_attempts=2)
    assert no_snapshot(tmp_path, "player_logs")


def test_odds_feed_without_the_slates_games_is_implausible(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    server.replay(ODDS, recorded("api/live/odds_todaysGames_first2games.json"))  # March 2025 games
    with pytest.raises(FetchError, match=r"none of the 11 games of 2019-10-30 \(the feed only carries today"):
        fetch("odds", tmp_path, server, fake, max_attempts=2)


def test_an_odds_feed_listing_no_game_says_so(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """It said "the feed lists 0 game(s) [] but none of the 11 games"."""
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    server.replay(ODDS, b"[]")
    with pytest.raises(FetchError, match=r"odds: the feed lists no game at all \(the 11 games of 2019-10-30 have no "
                                         r"line yet\)"):
        fetch("odds", tmp_path, server, fake, max_attempts=1)


def test_an_html_page_served_with_200_is_named_as_one(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """A proxy's or block page's HTML with status 200 read "not valid JSON ... truncated or an error page", then
    advice to check that the date really has data."""
    server.replay(SCOREBOARD, b"<!DOCTYPE html><html><head><title>Access Denied</title></head><body>no</body></html>",
                  content_type="text/html")
    with pytest.raises(FetchError, match=r"an HTML page titled 'Access Denied' \(\d+ bytes\), not JSON - an error, "
                                         r"login or block page in front of the endpoint"):
        fetch("schedule", tmp_path, server, fake, max_attempts=1)


def test_a_line_pulled_from_the_board_keeps_its_last_value(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """A book pulling a line near tip lists the game with no market left: its spread became NaN, said nowhere."""
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    fetch("odds", tmp_path, server, fake)
    games = json.loads(payloads.odds_today(SLATE))
    for game in games[:3]:
        game["markets"] = []
    server.replay(ODDS, json.dumps(games).encode())
    later = fetch("odds", tmp_path, server, fake, now=BEFORE_LOCK + dt.timedelta(minutes=10))
    assert "kept the last captured line of 3 game(s) the feed no longer lists or lists without one" \
        in later["describe"], later["describe"]
    first, last = (pd.read_parquet(snapshots.data_path(tmp_path, e)).set_index("home_team").sort_index()
                   for e in snapshots.entries(tmp_path, "odds", SLATE)[:2])
    assert last["spread_home"].notna().all() and first["spread_home"].equals(last["spread_home"])


def test_odds_of_the_slate(tmp_path: Path, server: FaultServer, fake: FakeTime):
    import pandas as pd

    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    summary = fetch("odds", tmp_path, server, fake)
    entry = snapshots.entries(tmp_path, "odds", SLATE)[0]
    odds = pd.read_parquet(snapshots.data_path(tmp_path, entry)).set_index("home_team")
    assert summary["rows"] == 11 and odds.loc["ORL", "spread_home"] == -9.5 and odds.loc["BOS", "spread_home"] == 3.5


# ------------------------------------------------------------------------------------------ lineups, injuries


def _schedule_of_box_score(home: Path) -> dt.date:
    """A one-game schedule snapshot for the recorded box score 0022000196 (NYK@BOS, 2021-01-17)."""
    import pandas as pd

    from projections.sources import tables

    day = dt.date(2021, 1, 17)
    frame = pd.DataFrame({"season": ["2020-21"], "game_date": [day], "game_id": ["0022000196"], "home_team": ["BOS"],
                          "away_team": ["NYK"], "tip_time": pd.Series([dt.datetime(2021, 1, 17, 18, tzinfo=dt.UTC)],
                                                                      dtype="datetime64[us, UTC]"),
                          "tip_time_source": ["test"], "playoffs": [False], "status": ["scheduled"]})
    snapshots.record(home, "schedule", day, files={snapshots.DATA: tables.to_parquet(frame, "schedule")},
                     captured_at=dt.datetime(2021, 1, 17, 12, tzinfo=dt.UTC), url="test", rows=1)
    return day


def test_lineups_from_the_live_box_score(tmp_path: Path, server: FaultServer, fake: FakeTime):
    day = _schedule_of_box_score(tmp_path)
    server.replay("/cdn/liveData/boxscore/boxscore_0022000196.json", recorded("api/live/boxscore_0022000196_game.json"))
    summary = fetch("lineups", tmp_path, server, fake, day=day, now=dt.datetime(2021, 1, 17, 17, tzinfo=dt.UTC))
    assert summary["rows"] == 34 and summary["attempts"] == 1


def test_lineups_not_published_yet_are_an_empty_capture_that_says_so(tmp_path: Path, server: FaultServer,
                                                                     fake: FakeTime):
    """The morning run, before any box score is out: lineups are not known, which the slate must say (expected
    roles), not fail on. A 404 is not retried."""
    day = _schedule_of_box_score(tmp_path)
    summary = fetch("lineups", tmp_path, server, fake, day=day, now=dt.datetime(2021, 1, 17, 17, tzinfo=dt.UTC))
    assert summary["rows"] == 0 and fake.sleeps == []
    assert "no box score of the 1 games is published yet: lineups are not known" in summary["describe"]
    assert "boxscore_0022000196.json" in summary["url"]


def test_a_box_score_captured_then_refused_keeps_its_lineups(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """The real box score is captured; the next run's request answers 403 (a CDN glitch, the game under way). That
    is no "not published yet": its starters keep their last capture, with a note. Kills: an empty capture that
    took the confirmed starters back (every projection of the game moved to expected roles, after its tip too)."""
    day = _schedule_of_box_score(tmp_path)
    path = "/cdn/liveData/boxscore/boxscore_0022000196.json"
    server.replay(path, recorded("api/live/boxscore_0022000196_game.json"))
    first = fetch("lineups", tmp_path, server, fake, day=day, now=dt.datetime(2021, 1, 17, 17, tzinfo=dt.UTC))
    server.replay(path, b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', status=403)
    later = fetch("lineups", tmp_path, server, fake, day=day, now=dt.datetime(2021, 1, 17, 17, 40, tzinfo=dt.UTC))
    assert first["rows"] == 34 and later["rows"] == 34, later
    assert "kept the last captured lineups of ['0022000196']: their box scores now answer 403/404" in later["describe"]
    newest, oldest = (snapshots.data_path(tmp_path, e) for e in snapshots.entries(tmp_path, "lineups", day)[::-1])
    key = ["game_id", "player_id", "starter", "status"]
    assert pd.read_parquet(newest)[key].equals(pd.read_parquet(oldest)[key])


def test_a_game_under_way_keeps_the_lineups_known_at_its_tip(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """The box score captured at 17:00, the game tipping at 18:00; at 18:30 the box score names another starter
    (as a live one does once the game is on). DraftKings locked the game's players at its tip, and late swap must
    not move their projections: the 18:30 capture keeps the 17:00 lineups and asks nothing of the game. Kills: a
    run after the tip that fetched every game's box score again (a bench player turned starter mid-game, 33
    minutes; a game first seen after its tip confirmed)."""
    day = _schedule_of_box_score(tmp_path)
    path = "/cdn/liveData/boxscore/boxscore_0022000196.json"
    box = recorded("api/live/boxscore_0022000196_game.json")
    server.replay(path, box)
    fetch("lineups", tmp_path, server, fake, day=day, now=dt.datetime(2021, 1, 17, 17, tzinfo=dt.UTC))
    asked = len(server.requests)
    data = json.loads(box)
    players = data["game"]["homeTeam"]["players"]
    bench = next(p for p in players if p.get("starter") != "1")
    bench["starter"] = "1"
    server.replay(path, json.dumps(data).encode())
    later = fetch("lineups", tmp_path, server, fake, day=day, now=dt.datetime(2021, 1, 17, 18, 30, tzinfo=dt.UTC))
    assert len(server.requests) == asked  # the game under way is not asked again
    assert "1 game(s) under way keep the lineups known at their tips" in later["describe"], later
    first, newest = (snapshots.data_path(tmp_path, e) for e in snapshots.entries(tmp_path, "lineups", day))
    key = ["game_id", "player_id", "starter", "status"]
    assert pd.read_parquet(newest)[key].equals(pd.read_parquet(first)[key])


def test_injury_report_table(tmp_path: Path, server: FaultServer, fake: FakeTime):
    import pandas as pd

    server.replay("/injuries/latest.csv", recorded("injuries/2020/csv/Injury-Report_2020-08-06_05PM.csv"),
                  content_type="text/csv")
    now = dt.datetime(2020, 8, 6, 21, 5, tzinfo=dt.UTC)
    summary = fetch("injuries", tmp_path, server, fake, day=dt.date(2020, 8, 6), now=now,
                    injuries={"url": server.url("/injuries/latest.csv")})
    entry = snapshots.entries(tmp_path, "injuries", dt.date(2020, 8, 6))[0]
    report = pd.read_parquet(snapshots.data_path(tmp_path, entry))
    assert summary["rows"] == len(report) > 20 and set(report["report_time"]) == {pd.Timestamp(now)}
    assert set(report["status"]) <= {"Out", "Doubtful", "Questionable", "Probable", "Available"}
    assert report["player_id"].str.fullmatch(r"\d+").mean() > 0.95  # names resolved to nba.com ids


def test_an_injury_report_of_another_day_is_refused_and_the_last_one_kept(tmp_path: Path, server: FaultServer,
                                                                           fake: FakeTime):
    """The page still serving yesterday's report (no row for the slate's games) was taken: the injuries stage then
    had no row for the date, and a player ruled Out was published at 35 minutes. Now it is retried, then refused
    naming the dates it lists, and the last capture stays the one the slate reads."""
    day, url = dt.date(2020, 8, 6), "/injuries/latest.csv"
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-08-06_02PM.csv"), content_type="text/csv")
    fetch("injuries", tmp_path, server, fake, day=day, now=dt.datetime(2020, 8, 6, 17, tzinfo=dt.UTC),
          injuries={"url": server.url(url)})
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-08-05_11AM.csv"), content_type="text/csv")
    with pytest.raises(FetchError, match=r"injuries: the report lists games of 2020-08-05 only, none of 2020-08-06 "
                                         r"or later: a report of an earlier day .*live\.injuries\.url"):
        fetch("injuries", tmp_path, server, fake, day=day, now=dt.datetime(2020, 8, 6, 17, 15, tzinfo=dt.UTC),
              injuries={"url": server.url(url)}, max_attempts=2)
    assert len(snapshots.entries(tmp_path, "injuries", day)) == 1


def test_a_morning_report_with_no_player_of_the_day_yet_is_taken(tmp_path: Path, server: FaultServer,
                                                                 fake: FakeTime):
    """At 11 AM the day's teams are often "NOT YET SUBMITTED" (no player row), so the report may list only
    tomorrow's games - as the real report of 2020-12-24 2 PM does (only Christmas games). It is the day's report
    all the same, and was refused as one of another day, failing the morning run."""
    day, url = dt.date(2020, 12, 24), "/injuries/latest.csv"
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-12-24_02PM.csv"), content_type="text/csv")
    summary = fetch("injuries", tmp_path, server, fake, day=day, now=dt.datetime(2020, 12, 24, 20, tzinfo=dt.UTC),
                    injuries={"url": server.url(url)})
    report = pd.read_parquet(snapshots.data_path(tmp_path, snapshots.entries(tmp_path, "injuries", day)[0]))
    assert summary["rows"] == len(report) > 0 and min(report["game_date"]) > day, report["game_date"].unique()


def test_the_same_report_fetched_again_without_last_modified_is_unchanged(tmp_path: Path, server: FaultServer,
                                                                          fake: FakeTime):
    """With no Last-Modified, a report was stamped with the fetch time, so every run stored the same report as a new
    snapshot and rebuilt injuries and everything after it. The same bytes now keep the first capture's time."""
    day, url = dt.date(2020, 8, 6), "/injuries/latest.csv"
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-08-06_02PM.csv"), content_type="text/csv")
    first = fetch("injuries", tmp_path, server, fake, day=day, now=dt.datetime(2020, 8, 6, 17, tzinfo=dt.UTC),
                  injuries={"url": server.url(url)})
    again = fetch("injuries", tmp_path, server, fake, day=day, now=dt.datetime(2020, 8, 6, 17, 20, tzinfo=dt.UTC),
                  injuries={"url": server.url(url)})
    assert first["changed"] and not again["changed"] and again["object"] == first["object"]
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-08-06_05PM.csv"), content_type="text/csv")
    newer = fetch("injuries", tmp_path, server, fake, day=day, now=dt.datetime(2020, 8, 6, 21, tzinfo=dt.UTC),
                  injuries={"url": server.url(url)})
    assert newer["changed"] and len(snapshots.entries(tmp_path, "injuries", day)) == 2


def test_a_different_report_without_last_modified_is_not_backdated(tmp_path: Path, server: FaultServer,
                                                                   fake: FakeTime):
    """A report with no Last-Modified keeps the last capture's time only when its bytes are that capture's: a new
    report taking the first one's time backdated later news, so an as-of read before it came out saw it."""
    day, url = dt.date(2020, 8, 6), "/injuries/latest.csv"
    early, late = dt.datetime(2020, 8, 6, 17, tzinfo=dt.UTC), dt.datetime(2020, 8, 6, 21, tzinfo=dt.UTC)
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-08-06_02PM.csv"), content_type="text/csv")
    fetch("injuries", tmp_path, server, fake, day=day, now=early, injuries={"url": server.url(url)})
    server.replay(url, recorded("injuries/2020/csv/Injury-Report_2020-08-06_05PM.csv"), content_type="text/csv")
    fetch("injuries", tmp_path, server, fake, day=day, now=late, injuries={"url": server.url(url)})
    first, second = snapshots.entries(tmp_path, "injuries", day)
    times = [set(pd.read_parquet(snapshots.data_path(tmp_path, e))["report_time"]) for e in (first, second)]
    assert times == [{pd.Timestamp(early)}, {pd.Timestamp(late)}], times


def test_game_logs_of_another_season_are_refused(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """A game-log feed answering another season was taken: 13,914 rows of 2022-23 became every player's history
    and the slate was republished with absurd minutes. Now it is refused, naming both seasons."""
    server.replay(SCOREBOARD, payloads.scoreboard(SLATE))
    server.replay(GAMELOG, payloads.league_game_log(dt.date(2019, 4, 1)))  # all of 2018-19 before April
    with pytest.raises(FetchError, match=r"player_logs: the feed answered with games of season 2018-19, not 2019-20"):
        fetch("player_logs", tmp_path, server, fake, max_attempts=1)
    assert no_snapshot(tmp_path, "player_logs")


def test_a_scoreboard_that_drops_a_game_is_refused(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """A scoreboard missing 1 of 11 games was taken: that game's 33 DraftKings players left the published slate,
    exit 0. A postponed game stays listed (status PPD), so a vanished one is a partial payload: refused, and the
    last capture stays."""
    server.replay(SCOREBOARD, payloads.scoreboard(SLATE))
    fetch("schedule", tmp_path, server, fake)
    body = json.loads(payloads.scoreboard(SLATE))
    dropped = body["scoreboard"]["games"].pop(3)["gameId"]
    server.replay(SCOREBOARD, json.dumps(body).encode())
    with pytest.raises(FetchError, match=rf"the scoreboard no longer lists 1 game\(s\) the last capture had "
                                         rf"\({dropped}\) - a partial payload"):
        fetch("schedule", tmp_path, server, fake, now=BEFORE_LOCK + dt.timedelta(minutes=10), max_attempts=2)
    assert len(snapshots.entries(tmp_path, "schedule", SLATE)) == 1


def test_a_line_the_odds_feed_stops_listing_keeps_its_last_value(tmp_path: Path, server: FaultServer,
                                                                 fake: FakeTime):
    """Odds for 2 of 11 games after a full capture replaced it: the 9 lines known were lost. They now stay, said."""
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    full = fetch("odds", tmp_path, server, fake)
    server.replay(ODDS, json.dumps(json.loads(payloads.odds_today(SLATE))[:2]).encode())
    later = fetch("odds", tmp_path, server, fake, now=BEFORE_LOCK + dt.timedelta(minutes=10))
    assert full["rows"] == later["rows"] == 11
    assert "kept the last captured line of 9 game(s) the feed no longer lists" in later["describe"]
    first, last = (pd.read_parquet(snapshots.data_path(tmp_path, e)).set_index("home_team").sort_index()
                   for e in snapshots.entries(tmp_path, "odds", SLATE)[:2])
    assert first["spread_home"].equals(last["spread_home"])


# ------------------------------------------------------------------------------------------ DraftKings inbox


def test_inbox_takes_a_dk_file_by_content_and_leaves_a_bad_one(tmp_path: Path, fake: FakeTime):
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "download (3).csv").write_bytes(payloads.dk_salaries(SLATE))  # the name says nothing
    (inbox / "notes.csv").write_text("Name,Salary\nsomeone,3000\n")
    summary = fetch("salaries", tmp_path, None, fake)
    # a live capture holds the file alone (the archive's slates of the date join archival files only)
    assert summary["rows"] == 367 and summary["captured_at"] == "2019-10-30T20:00:00.000Z"
    assert summary["taken"] == ["download (3).csv -> 2019-10-30 dk-2019-10-30-"
                                + summary["taken"][0].rsplit("-", 1)[1]]
    assert "notes.csv: missing column(s) ['Position', 'ID', 'Roster Position', 'Game Info', 'TeamAbbrev']" \
        in summary["rejected"][0]
    slate = summary["taken"][0].split(" ")[-1]
    assert (inbox / "processed" / f"{slate}__download (3).csv").exists() and (inbox / "notes.csv").exists()
    # the run's own line says which file went where and why the other stays (it was in the ledger alone)
    assert f"; took download (3).csv -> 2019-10-30 {slate}; refused notes.csv: missing column(s)" \
        in summary["describe"], summary["describe"]


def test_a_taken_file_that_cannot_be_moved_is_recorded_and_named_and_taking_it_again_changes_nothing(
        tmp_path: Path, fake: FakeTime):
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "processed").write_text("a file where the processed folder goes")
    (inbox / "DKSalaries.csv").write_bytes(payloads.dk_salaries(SLATE))
    first = fetch("salaries", tmp_path, None, fake)
    assert first["rows"] == 367 and (inbox / "DKSalaries.csv").exists()
    assert first["describe"].startswith("inbox: 1 taken, 0 refused, 1 left in the inbox (cannot move); 367 salary "
                                        "rows")
    assert first["unmoved"] == [f"DKSalaries.csv: cannot move it to {inbox / 'processed'}: {inbox / 'processed'} is "
                                f"not a directory, so {inbox / 'processed'} cannot be created; move it away or fix "
                                "the path"]
    again = fetch("salaries", tmp_path, None, fake)
    assert again["object"] == first["object"]
    assert len(snapshots.entries(tmp_path, "salaries", SLATE)) == 1


def test_an_archival_dk_file_counts_as_known_before_its_lock(tmp_path: Path, fake: FakeTime):
    (tmp_path / "inbox").mkdir(parents=True)
    (tmp_path / "inbox" / "DKSalaries.csv").write_bytes(payloads.dk_salaries(SLATE))
    summary = fetch("salaries", tmp_path, None, fake, now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert summary["captured_at"] == "2019-10-30T04:00:00.000Z"  # midnight US/Eastern of the slate date


def test_no_salaries_for_a_date_names_the_inbox_and_the_command(tmp_path: Path, fake: FakeTime):
    day = dt.date(2023, 1, 17)
    with pytest.raises(SourceError, match=r"no DraftKings salaries for 2023-01-17 in the inbox .*inbox; that folder "
                                          r"does not exist - download .* `projections ingest dk-salaries FILE`"):
        fetch("salaries", tmp_path, None, fake, day=day, now=dt.datetime(2023, 1, 17, 12, tzinfo=dt.UTC))


# ------------------------------------------------------------------------------------------ secrets


def test_an_api_key_reaches_the_server_but_no_record_or_message(tmp_path: Path, server: FaultServer,
                                                                fake: FakeTime):
    token = "tok_PLANTED_7f3a9c1e5b"
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    fetch("odds", tmp_path, server, fake, odds={"api_key": token, "api_key_param": "apiKey"})
    assert server.requests_to(ODDS)[-1].query["apiKey"] == [token]
    server.replay(ODDS, f'{{"error": "apiKey={token} is not valid"}}'.encode(), status=401)
    with pytest.raises(FetchError) as caught:
        fetch("odds", tmp_path, server, fake, odds={"api_key": token, "api_key_param": "apiKey"})
    assert "HTTP 401" in str(caught.value) and token not in str(caught.value)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_a_bearer_token_goes_in_its_header_and_nowhere_else(tmp_path: Path, server: FaultServer, fake: FakeTime):
    token = "tok_PLANTED_bearer_42d1c0"
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake,
          schedule={"api_key": token, "api_key_header": "Authorization", "api_key_prefix": "Bearer "})
    assert server.requests_to(SCOREBOARD)[-1].headers["authorization"] == f"Bearer {token}"
    assert not any(token.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_credentials_in_plain_headers_are_refused(tmp_path: Path):
    from projections.errors import ConfigError
    from projections.settings import load_settings

    with pytest.raises(ConfigError, match=r"headers \['X-Api-Key'\] carry credentials: set api_key"):
        load_settings(home=tmp_path, live={"odds": {"headers": {"X-Api-Key": "abc123"}}})


def test_requests_to_one_host_are_spaced_by_its_own_interval(tmp_path: Path, server: FaultServer, fake: FakeTime):
    serve_slate(server)
    settings = live_settings(tmp_path, server, host_intervals={"127.0.0.1": 0.25}, min_interval_s=5.0)
    with http_for(settings, fake) as http:
        for _ in range(3):
            http.get("schedule", {"date": SLATE.isoformat()}, validate=None, source="schedule")
    assert fake.sleeps == [0.25, 0.25]  # the host's own interval, not the 5 s default


def test_a_game_log_a_day_behind_is_taken_with_a_note(tmp_path: Path, server: FaultServer, fake: FakeTime):
    """The real game log without the games of 2019-10-29 (the feed not yet updated): taken silently, it left the
    day's games out of every player's history. The schedule says the day had games, so the capture says so."""
    serve_slate(server)
    whole = fetch("player_logs", tmp_path, server, fake)
    assert not any("has not caught up" in n for n in whole.get("notes") or []), whole  # no false alarm
    body = json.loads(payloads.league_game_log(SLATE))
    result = body["resultSets"][0]
    column = result["headers"].index("GAME_DATE")
    result["rowSet"] = [row for row in result["rowSet"] if not str(row[column]).startswith("2019-10-29")]
    server.replay(GAMELOG, json.dumps(body).encode())
    behind = fetch("player_logs", tmp_path, server, fake)
    assert behind["rows"] < whole["rows"]
    assert any(n.startswith("the game logs end 2019-10-28, but 2019-10-29 had games: the feed has not caught up")
               for n in behind["notes"] or []), behind


def test_the_game_log_asks_for_the_postseason_once_it_may_have_begun(tmp_path: Path, server: FaultServer,
                                                                     fake: FakeTime):
    """leaguegamelog answers one SeasonType a request, and the template asked for the regular season alone: on a
    playoff date the live capture replaced the archive's own-season rows with the regular season. From April on
    the play-in and the playoffs are asked for too and joined (a row answered twice is kept once); before, one
    request as ever."""
    day = dt.date(2020, 7, 31)  # the bubble's restart: 2019-20's postseason may have begun
    server.replay(GAMELOG, payloads.league_game_log(day))  # (this server answers every SeasonType alike)
    summary = fetch("player_logs", tmp_path, server, fake, day=day)
    kinds = [r.query["SeasonType"][0] for r in server.requests_to(GAMELOG)]
    assert kinds == ["Regular Season", "PlayIn", "Playoffs"], kinds
    rows = len(json.loads(payloads.league_game_log(day))["resultSets"][0]["rowSet"])
    assert summary["rows"] == rows  # the same games thrice: kept once
    entry = snapshots.entries(tmp_path, "player_logs", day)[-1]
    kept = {p.name for p in snapshots.data_path(tmp_path, entry).parent.iterdir()}
    assert {"raw.json", "raw-playin.json", "raw-playoffs.json"} <= kept, kept

    serve_slate(server)  # October: no postseason of 2019-20 yet
    before = len(server.requests_to(GAMELOG))
    fetch("player_logs", tmp_path / "october", server, fake)
    assert [r.query["SeasonType"][0] for r in server.requests_to(GAMELOG)[before:]] == ["Regular Season"]


def test_a_correction_taken_after_the_lock_says_the_locked_slate_changes(tmp_path: Path, fake: FakeTime):
    """A re-export dropped after the first tip replaces the slate as known before it (as the README says), which
    moves a locked slate's gold: it was silent."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "DKSalaries.csv").write_bytes(payloads.dk_salaries(SLATE))
    first = fetch("salaries", tmp_path, None, fake)
    assert not any("after the slate's lock" in t for t in first["taken"]), first
    text = payloads.dk_salaries(SLATE).decode()
    header, row, rest = text.split("\n", 2)
    salary = header.split(",").index("Salary")
    cells = row.split(",")
    cells[salary] = str(int(cells[salary]) + 100)  # DraftKings corrected one salary
    (inbox / "DKSalaries.csv").write_text("\n".join([header, ",".join(cells), rest]))
    late = fetch("salaries", tmp_path, None, fake, now=AFTER_LOCK)
    assert any("note: taken after the slate's lock (23:00Z): it counts as known before the lock, so the locked "
               "slate's projections change with it" in t for t in late["taken"]), late["taken"]

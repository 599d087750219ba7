"""Live backends against a real loopback server serving hostile or broken payloads: odds that are no real line
(NaN, Infinity, 1e308), JSON nested past Python's recursion limit, a redirect to another host while an API key
is configured, a body over the size cap, a body trickled past the attempt's deadline. Each refused fetch leaves
the data root exactly as it was (the last good capture stays)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.errors import ContractViolation, FetchError
from projections.sources import parsers, snapshots
from tests.conftest import tree_snapshot
from tests.net.faultserver import FaultServer
from tests.sources import payloads
from tests.sources.conftest import BEFORE_LOCK, SLATE, FakeTime
from tests.sources.test_live_faults import GAMELOG, ODDS, SCOREBOARD, fetch, serve_slate

LATER = BEFORE_LOCK + dt.timedelta(minutes=10)
TOKEN = "tok_PLANTED_a11ce5eed"


def _odds_with(value: str, *, market: str = "spread", side: str = "home", field: str = "spread") -> bytes:
    """The slate's odds feed with one outcome of its first game (0021900055, CHI@CLE) set to `value`."""
    games = json.loads(payloads.odds_today(SLATE))
    for item in games[0]["markets"]:
        if item["name"] == market:
            for outcome in item["books"][0]["outcomes"]:
                if outcome["type"] == side:
                    outcome[field] = value
    return json.dumps(games).encode()


def _captured(home: Path, server: FaultServer, fake: FakeTime) -> dict[str, str]:
    """A schedule and a good odds capture, then the data root as it stands."""
    serve_slate(server)
    fetch("schedule", home, server, fake)
    fetch("odds", home, server, fake)
    return tree_snapshot(home)


@pytest.mark.parametrize(("value", "market", "side", "field", "said"), [
    ("NaN", "spread", "home", "spread", "the spread market's home spread 'NaN' is not a point spread (a number "
                                        "from -40 to 40)"),
    ("1e308", "spread", "home", "spread", "home spread '1e308' is not a point spread"),
    ("-Infinity", "spread", "home", "spread", "home spread '-Infinity' is not a point spread"),
    ("-41", "spread", "home", "spread", "home spread '-41' is not a point spread"),
    ("Infinity", "2way", "home", "odds", "the 2way market's home odds 'Infinity' is not decimal odds (a number from "
                                         "1.001 to 1001, a moneyline within -100000 to +100000)"),
    ("1.0000001", "2way", "away", "odds", "the 2way market's away odds '1.0000001' is not decimal odds"),
    ("NaN", "2way", "away", "odds", "away odds 'NaN' is not decimal odds"),
])
def test_odds_that_are_no_real_line_are_refused_and_the_last_capture_stays(
        tmp_path: Path, server: FaultServer, fake: FakeTime, value: str, market: str, side: str, field: str,
        said: str) -> None:
    """A spread of NaN or 1e308 (the median of two 1e308 is inf) was stored as the game's line: the published slate
    gave teams 492-538 minutes and DraftKings points +70%, silently."""
    before = _captured(tmp_path, server, fake)
    server.replay(ODDS, _odds_with(value, market=market, side=side, field=field))
    with pytest.raises(FetchError) as caught:
        fetch("odds", tmp_path, server, fake, now=LATER, max_attempts=2)
    message = str(caught.value)
    assert "odds payload: game 0021900055 (CHI@CLE): the " in message and said in message, message
    assert "the last good capture stays" in message and caught.value.attempts == 2  # retried, then reported
    assert tree_snapshot(tmp_path) == before and len(snapshots.entries(tmp_path, "odds", SLATE)) == 1


def test_the_edge_of_the_range_is_still_a_line(tmp_path: Path, server: FaultServer, fake: FakeTime) -> None:
    _captured(tmp_path, server, fake)
    server.replay(ODDS, _odds_with("-40"))
    fetch("odds", tmp_path, server, fake, now=LATER)
    kept = snapshots.entries(tmp_path, "odds", SLATE)[-1]
    import pandas as pd

    assert pd.read_parquet(snapshots.data_path(tmp_path, kept)).set_index("home_team").loc["CLE", "spread_home"] == -40


def test_the_ingest_bounds_are_the_live_ones() -> None:
    from projections.sources import files
    from projections.sources.parsers import common

    assert files.SPREAD_RANGE is common.SPREAD_RANGE and files.MONEYLINE_RANGE is common.MONEYLINE_RANGE


# ------------------------------------------------------------------------------------------ nested JSON


def test_json_nested_past_the_recursion_limit_is_a_bad_payload() -> None:
    """It was a raw RecursionError traceback."""
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ContractViolation, match=r"schedule payload: JSON nested too deeply to decode \(200000 bytes\)"):
        parsers.load_json(deep, "schedule")


def test_a_deeply_nested_live_payload_is_refused_and_nothing_is_recorded(tmp_path: Path, server: FaultServer,
                                                                        fake: FakeTime) -> None:
    server.replay(SCOREBOARD, b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(FetchError, match=r"JSON nested too deeply to decode") as caught:
        fetch("schedule", tmp_path, server, fake, max_attempts=2)
    assert caught.value.attempts == 2 and not snapshots.index_path(tmp_path, "schedule", SLATE).exists()


# ------------------------------------------------------------------------------------------ redirects


@pytest.fixture
def other() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def test_a_redirect_to_another_host_gets_no_key_and_the_capture_names_the_url_that_served_it(
        tmp_path: Path, server: FaultServer, other: FaultServer, fake: FakeTime) -> None:
    """X-Api-Key and the endpoint's headers followed the redirect to the other host, and the snapshot recorded the
    URL asked for."""
    serve_slate(server)
    fetch("schedule", tmp_path, server, fake)
    other.replay("/mirror/odds.json", payloads.odds_today(SLATE))
    server.script(ODDS, ("status", 302, {"Location": other.url("/mirror/odds.json")}))
    odds = {"api_key": TOKEN, "api_key_header": "X-Api-Key", "headers": {"X-Client": "projections"}}
    summary = fetch("odds", tmp_path, server, fake, odds=odds)
    asked, = server.requests_to(ODDS)
    assert asked.headers["x-api-key"] == TOKEN and asked.headers["x-client"] == "projections"
    served, = other.requests_to("/mirror/odds.json")
    assert "x-api-key" not in served.headers and "x-client" not in served.headers, served.headers
    entry = snapshots.entries(tmp_path, "odds", SLATE)[-1]
    assert summary["url"] == entry.url == other.url("/mirror/odds.json") and summary["rows"] == 11
    assert not any(TOKEN.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------ size, deadline


def test_a_body_over_the_cap_is_refused_naming_the_setting(tmp_path: Path, server: FaultServer,
                                                           fake: FakeTime) -> None:
    serve_slate(server)
    fetch("player_logs", tmp_path, server, fake)
    before = tree_snapshot(tmp_path)
    with pytest.raises(FetchError, match=r"leaguegamelog\?.* announces a body of [\d,]+ bytes, over the cap of "
                                         r"104,857 bytes \(0\.1 MiB\) \(nothing read\) .*raise live\.max_body_mb "
                                         r"\(PROJECTIONS_LIVE__MAX_BODY_MB\)") as caught:
        fetch("player_logs", tmp_path, server, fake, now=LATER, max_body_mb=0.1)
    assert caught.value.attempts == 1 and tree_snapshot(tmp_path) == before  # a size is not retried


def test_a_trickled_schedule_ends_at_the_attempt_deadline(tmp_path: Path, server: FaultServer,
                                                          fake: FakeTime) -> None:
    """A server sending a byte a second held a doit run (and the date's lock) for hours. (The fetch runs in a
    thread so that, without the deadline, the test fails instead of hanging; the server's stop ends it.)"""
    server.script(SCOREBOARD, ("trickle", 0.05), ("trickle", 0.05))
    raised: list[BaseException] = []

    def run() -> None:
        try:
            fetch("schedule", tmp_path, server, fake, attempt_deadline_s=0.5, max_attempts=2)
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the fetch was still reading the trickle after 10 s"
    assert raised and isinstance(raised[0], FetchError), raised
    assert re.search(r"within the attempt's 0\.5 s deadline.*live\.attempt_deadline_s", str(raised[0]))
    assert raised[0].attempts == 2 and not snapshots.index_path(tmp_path, "schedule", SLATE).exists()


def test_the_game_log_fits_the_default_cap(tmp_path: Path, server: FaultServer, fake: FakeTime) -> None:
    server.replay(GAMELOG, payloads.league_game_log(SLATE))
    assert fetch("player_logs", tmp_path, server, fake)["rows"] == 1173


def test_one_book_quoting_no_real_line_is_left_out_of_the_consensus() -> None:
    """One book's odds of 1.000 (a suspended market) or a spread of 1e308 refused the whole feed - every game of
    the date, every retry. That book is left out of the median; only when no book quotes a real line is the
    payload refused."""
    import datetime as dt

    import pandas as pd

    from projections.errors import ContractViolation
    from projections.sources.parsers.odds import odds_from_todays_games
    from tests.conftest import SHARED

    recorded = SHARED / "api" / "live" / "odds_todaysGames_first2games.json"
    feed = json.loads(recorded.read_text())
    games = pd.DataFrame({"game_id": ["0022400913"], "game_date": [dt.date(2025, 3, 10)], "home_team": ["HOU"],
                          "away_team": ["NOP"], "playoffs": [False]})
    clean = odds_from_todays_games(json.dumps(feed).encode(), games).iloc[0]
    two_way, spread = (next(m for m in feed[0]["markets"] if m["name"] == n) for n in ("2way", "spread"))
    for book in two_way["books"][:1]:
        book["outcomes"][1]["odds"] = "1.000"
    for book in spread["books"][:1]:
        book["outcomes"][0]["spread"] = "1e308"
    odd = odds_from_todays_games(json.dumps(feed).encode(), games).iloc[0]
    assert abs(odd["spread_home"] - clean["spread_home"]) <= 0.5 and abs(odd["spread_home"]) < 40
    assert -400 < odd["moneyline_home"] < -150 and odd["moneyline_away"] > 150
    for book in two_way["books"]:
        book["outcomes"][1]["odds"] = "0"
    with pytest.raises(ContractViolation, match=r"the 2way market's away odds '0' is not decimal odds"):
        odds_from_todays_games(json.dumps(feed).encode(), games)

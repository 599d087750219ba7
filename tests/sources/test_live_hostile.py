"""Live backends against a real loopback server serving hostile or broken payloads: odds that are no real line
(NaN, Infinity, 1e308), JSON nested past Python's recursion limit. Each refused fetch leaves the data root exactly
as it was (the last good capture stays)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from projections.errors import ContractViolation, FetchError
from projections.sources import parsers, snapshots
from tests.conftest import tree_snapshot
from tests.net.faultserver import FaultServer
from tests.sources import payloads
from tests.sources.conftest import BEFORE_LOCK, SLATE, FakeTime
from tests.sources.test_live_faults import ODDS, SCOREBOARD, fetch, serve_slate

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

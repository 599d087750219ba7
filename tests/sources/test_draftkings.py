"""A date nobody dropped a DKSalaries.csv for takes its main slate from DraftKings itself: the lobby's draft groups,
then the chosen group's salary CSV, served here by a real 127.0.0.1 server.

The CSV is the real DraftKings export of 2022-03-08's main slate (shared/data/nba/salaries/dk, 6 games, 292
players; a date the shipped archive does not hold, as a live user's today is not). shared/data holds no recorded
lobby answer, so LOBBY is written to the shape public DraftKings clients read (DraftGroups: DraftGroupId,
StartDateEst in US/Eastern, GameCount, DraftGroupTag, ContestStartTimeSuffix; Contests: dg, gameType) with that
date's real games: the main slate, an early one, a single game's showdown, and the next day's.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from projections.sources import draftkings, snapshots
from tests.conftest import SHARED, run_cli
from tests.net.faultserver import FaultServer

DAY = dt.date(2022, 3, 8)
CSV = SHARED / "salaries" / "dk" / "2022-03-08__chasebroder__dk_salaries__734a9b07.csv"
LOBBY_PATH, CSV_PATH = "/dk/lobby/getcontests", "/dk/lineup/getavailableplayerscsv"


def _group(ident: int, start: str, games: int, tag: str, suffix: str | None) -> dict[str, object]:
    return {"DraftGroupId": ident, "SportId": 4, "StartDateEst": start, "GameCount": games, "DraftGroupTag": tag,
            "ContestStartTimeSuffix": suffix, "GameTypeId": 70 if suffix is None or "@" not in suffix else 81}


GROUPS = [_group(64002, "2022-03-08T19:00:00.0000000", 3, "", " (Early)"),
          _group(64003, "2022-03-08T22:00:00.0000000", 1, "Featured", " (LAC @ GSW)"),
          _group(64001, "2022-03-08T19:00:00.0000000", 6, "Featured", None),
          _group(64004, "2022-03-09T19:00:00.0000000", 9, "Featured", None)]
CONTESTS = [{"id": 120000 + i, "dg": g["DraftGroupId"], "n": "NBA contest",
             "gameType": "Showdown Captain Mode" if g["DraftGroupId"] == 64003 else "Classic"}
            for i, g in enumerate(GROUPS)]
LOBBY = json.dumps({"Contests": CONTESTS, "DraftGroups": GROUPS}).encode()


def _env(server: FaultServer, **more: str) -> dict[str, str]:
    return {"PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__NOW": "2022-03-08T16:00:00Z",
            "PROJECTIONS_LIVE__DK_BASE": server.url("/dk"), "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"),
            "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"), "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0",
            "PROJECTIONS_LIVE__HOST_INTERVALS": "{}", "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2",
            "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01", "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05", **more}


def test_a_date_without_a_dropped_file_takes_its_main_slate_from_draftkings(tmp_path: Path) -> None:
    """The inbox is empty: the lobby is asked, its main classic slate of the date chosen (not the early one, the
    showdown or the next day's), its CSV taken as a dropped file would be - the same rows, the bytes kept - and the
    next run asks nothing (the date has its salaries)."""
    home = tmp_path / "home"
    with FaultServer() as server:
        server.replay(LOBBY_PATH, LOBBY, query={"sport": "NBA"})
        server.replay(CSV_PATH, CSV.read_bytes(), query={"draftGroupId": "64001", "contestTypeId": "70"})
        first = run_cli(home, "fetch", "salaries", DAY.isoformat(), **_env(server))
        asked = [(r.path, r.query) for r in server.requests]
        again = run_cli(home, "fetch", "salaries", DAY.isoformat(), **_env(server))
        asked_again = len(server.requests) - len(asked)
    assert first.returncode == 0, first.stdout + first.stderr
    assert [p for p, _ in asked] == [LOBBY_PATH, CSV_PATH] and asked[1][1]["draftGroupId"] == ["64001"]
    assert "took DraftKings' draft group 64001 (main), 6 games from 19:00 ET -> 2022-03-08" in first.stdout
    entry = snapshots.select(snapshots.entries(home, "salaries", DAY), None)
    assert entry is not None and entry.url.endswith("draftGroupId=64001")
    held = pd.read_parquet(snapshots.data_path(home, entry))
    expected = pd.read_csv(CSV)
    assert len(held) == len(expected) == 292 and set(held["dk_id"].astype(str)) == set(expected["ID"].astype(str))
    kept = [p for p in snapshots.data_path(home, entry).parent.iterdir() if p.name.startswith("raw-")]
    assert [p.read_bytes() for p in kept] == [CSV.read_bytes()]
    assert again.returncode == 0, again.stdout + again.stderr
    assert asked_again == 0


@pytest.mark.parametrize("case", ["not yet listed", "lobby down", "login page"])
def test_draftkings_without_the_slate_is_named_in_the_error_and_nothing_is_stored(tmp_path: Path, case: str) -> None:
    """The lobby lists only the next day (salaries not out yet), answers 503, or the CSV is a login page: the
    fetch fails as an empty inbox did, naming the inbox, the command and what DraftKings answered; no capture."""
    home = tmp_path / "home"
    with FaultServer() as server:
        if case == "not yet listed":
            server.replay(LOBBY_PATH, json.dumps({"Contests": CONTESTS[-1:], "DraftGroups": GROUPS[-1:]}).encode())
        elif case == "lobby down":
            server.replay(LOBBY_PATH, b"busy", status=503)
        else:
            server.replay(LOBBY_PATH, LOBBY)
            server.replay(CSV_PATH, b"<!DOCTYPE html><html><body>Log in</body></html>")
        result = run_cli(home, "fetch", "salaries", DAY.isoformat(), **_env(server))
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "no DraftKings salaries for 2022-03-08 in the inbox" in text and "projections ingest dk-salaries" in text
    assert {
        "not yet listed": "DraftKings' lobby lists no NBA classic slate of 2022-03-08 (it lists 2022-03-09): its "
                          "salaries are not out yet",
        "lobby down": "DraftKings was asked and failed: salaries (DraftKings lobby): GET ",
        "login page": "the salary CSV of draft group 64001 is no DKSalaries.csv",
    }[case] in text, text
    assert snapshots.entries(home, "salaries", DAY) == []


def test_a_dropped_file_is_taken_and_draftkings_is_not_asked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    (home / "inbox" / "DKSalaries.csv").write_bytes(CSV.read_bytes())
    with FaultServer() as server:
        server.replay(LOBBY_PATH, LOBBY)
        result = run_cli(home, "fetch", "salaries", DAY.isoformat(), **_env(server))
        asked = len(server.requests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inbox: 1 taken" in result.stdout and asked == 0


def test_the_main_slate_is_the_one_without_a_suffix_then_featured_then_the_largest() -> None:
    """Kills: the suffix, the tag or the game count left out of the choice; showdown groups taken as classic."""
    groups = draftkings.draft_groups(LOBBY)
    assert sorted(g.id for g in groups) == [64001, 64002, 64004]  # the showdown has no classic contest
    assert draftkings.main_group(groups, DAY).id == 64001  # type: ignore[union-attr]
    plain = [draftkings.DraftGroup(1, "2022-03-08T19:00:00", 8, "", ""),
             draftkings.DraftGroup(2, "2022-03-08T19:00:00", 6, "Featured", ""),
             draftkings.DraftGroup(3, "2022-03-08T19:00:00", 9, "", " (Turbo)")]
    assert draftkings.main_group(plain, DAY).id == 2  # type: ignore[union-attr]
    assert draftkings.main_group([*plain[:1], draftkings.DraftGroup(4, "2022-03-08T18:00:00", 10, "", "")],
                                 DAY).id == 4  # type: ignore[union-attr]
    assert draftkings.main_group(plain, dt.date(2022, 3, 9)) is None
    night = [draftkings.DraftGroup(5, "2022-03-08T22:00:00", 10, "Featured", " (Night)"),
             draftkings.DraftGroup(6, "2022-03-08T19:00:00", 7, "", "")]
    assert draftkings.main_group(night, DAY).id == 6  # type: ignore[union-attr]  # a suffix is never the main
    with pytest.raises(Exception, match="no DraftGroups list"):
        draftkings.draft_groups(b'{"Contests": []}')

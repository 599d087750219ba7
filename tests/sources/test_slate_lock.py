"""`snapshots.slate_lock` over several archive parts of one date: the lock is the first tip of the DraftKings main
slate (most teams, then most players) among every part's slates, whichever part holds it and whenever it tips.

The rows are the shipped archive's own DraftKings rows of 2020-08-10 (a real early 10-team slate and a real late
4-team slate), split into two ingested parts, the second time reshaped by taking a subset of the real teams."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from projections.archive import SHIPPED, add_part, parts
from projections.sources import snapshots, tables
from projections.statcache import StatCache
from projections.store import LocalStore

DAY = dt.date(2020, 8, 10)
SEASON = "2019-20"
MAIN, LATE = "dk-2020-08-10-ed66d731", "dk-2020-08-10-aec9c44a"  # 10 teams from 18:30Z; 4 teams from 00:00Z
EARLY_GAME = ("OKC", "PHX")  # the main slate's 18:30Z game; its next tips are 19:00Z


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _shipped_dk() -> pd.DataFrame:
    frame = pd.read_parquet(SHIPPED / "salaries" / f"{SEASON}.parquet")
    frame = frame[(frame["game_date"].astype(str) == DAY.isoformat()) & (frame["source"] == "dk")]
    return frame.reset_index(drop=True)


def _slates(case: str) -> tuple[pd.DataFrame, pd.DataFrame, dt.datetime]:
    """(the main slate's rows, another slate's rows, the lock expected)."""
    dk = _shipped_dk()
    main, late = dk[dk["slate_id"] == MAIN], dk[dk["slate_id"] == LATE]
    assert (main["team"].nunique(), late["team"].nunique()) == (10, 4)  # the real slates, as shipped
    if case == "other tips later, fewer teams":  # as shipped: a max by tip would take the late slate's 00:00Z
        return main, late, utc("2020-08-10T18:30:00")
    if case == "other tips earlier, fewer teams":  # the 18:30Z game alone on a slate of its own; the main slate
        early = main[main["team"].isin(EARLY_GAME)].assign(slate_id="dk-2020-08-10-early")  # (8 teams) tips later
        return main[~main["team"].isin(EARLY_GAME)], early, utc("2020-08-10T19:00:00")
    # same teams, fewer players, tipping earlier: the tie on teams is broken by players, not by tip
    fewer = main.groupby("team").head(5).assign(
        slate_id="dk-2020-08-10-short", tip_time=main.groupby("team").head(5)["tip_time"] - pd.Timedelta("1h"))
    return main, fewer, utc("2020-08-10T18:30:00")


def _ingest(home: Path, name: str, rows: pd.DataFrame) -> None:
    """`rows` as an ingested salaries part of the season (written as `projections ingest` writes a part)."""
    obj = LocalStore(home).commit({"data.parquet": tables.to_parquet(rows, "salaries")},
                                  {"kind": "ingest", "table": "salaries", "season": SEASON}).object
    add_part(home, "salaries", name, obj, (SEASON,))


CASES = ["other tips later, fewer teams", "other tips earlier, fewer teams", "other tips earlier, same teams"]


@pytest.mark.parametrize("main_first", [True, False], ids=["main part first", "main part second"])
@pytest.mark.parametrize("case", CASES)
def test_the_lock_is_the_main_slates_first_tip_whichever_part_holds_it(tmp_path: Path, case: str,
                                                                      main_first: bool) -> None:
    home = tmp_path / "home"
    main, other, lock = _slates(case)
    first, second = (main, other) if main_first else (other, main)
    _ingest(home, SEASON, first)  # replaces the shipped part of the season (which holds both real slates)
    _ingest(home, f"{SEASON}-more", second)
    held = [p for p in parts(home, "salaries") if SEASON in p.seasons]
    assert [(p.name, p.origin) for p in held] == [(SEASON, "ingested"), (f"{SEASON}-more", "ingested")]
    for part, rows in zip(held, (first, second), strict=True):  # one slate per part, in the order read
        assert set(pd.read_parquet(part.path)["slate_id"]) == {rows["slate_id"].iloc[0]}

    assert snapshots.slate_lock(home, DAY) == lock
    assert snapshots.slate_lock(home, DAY, StatCache(None)) == lock  # the per-part answer remembered alike

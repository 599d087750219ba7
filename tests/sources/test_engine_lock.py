"""The engine's lock of a date, and so its as_of: the later of the date's first tip and the first tip of the
DraftKings main slate (`snapshots.slate_lock`), from the shipped archive alone.

2020-08-07 (the bubble): UTA@SAS tipped at 17:00Z, off the real DraftKings main slate (10 teams, first tip
20:00Z). The date's lock - what knowledge its build may use - is 20:00Z, so the 18:00Z official injury report
reaches the injuries stage. 2020-08-03 has no DraftKings file in the archive, its rotoguru table only, which prices
no player of the 17:30Z TOR@MIA: its slate's first tip, 20:00Z, locks the date (the 18:00Z report counts). 2020-01-21
has games but no salaries in the archive: the slate's lock is unknown and the schedule's first tip locks the date."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from projections.archive import SHIPPED
from projections.sources import snapshots
from tests.conftest import CACHE_DIR

OFF_SLATE_DAY = dt.date(2020, 8, 7)
FIRST_TIP = dt.datetime(2020, 8, 7, 17, 0, tzinfo=dt.UTC)  # UTA@SAS, not on the DraftKings slate
SLATE_TIP = dt.datetime(2020, 8, 7, 20, 0, tzinfo=dt.UTC)  # OKC@MEM, the main slate's first game
DAILY_TABLE_DAY = dt.date(2020, 8, 3)  # rotoguru only; TOR@MIA at 17:30Z is not priced
NO_SALARIES_DAY = dt.date(2020, 1, 21)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A real engine on a new data root (archive mode), its process umask put back afterwards."""
    from projections.settings import load_settings
    from projections.wiring import make_engine

    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(CACHE_DIR))
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield make_engine(load_settings(home=tmp_path / "home"))
    finally:
        os.umask(umask)


def _schedule_tips(day: dt.date) -> pd.Series:
    frame = pd.read_parquet(SHIPPED / "schedule" / "2019-20.parquet")
    return pd.to_datetime(frame[frame["game_date"].astype(str) == day.isoformat()]["tip_time"], utc=True)


def test_the_archive_holds_a_game_tipping_before_the_draftkings_main_slate() -> None:
    """The premise, read from the shipped parquet: the date's first game is not on its DraftKings slate."""
    tips = _schedule_tips(OFF_SLATE_DAY)
    assert tips.min().to_pydatetime() == FIRST_TIP
    salaries = pd.read_parquet(SHIPPED / "salaries" / "2019-20.parquet")
    dk = salaries[(salaries["game_date"].astype(str) == OFF_SLATE_DAY.isoformat()) & (salaries["source"] == "dk")]
    assert dk["slate_id"].nunique() == 1 and not {"UTA", "SAS"} & set(dk["team"])
    assert pd.to_datetime(dk["tip_time"], utc=True).min().to_pydatetime() == SLATE_TIP


def test_a_game_off_the_slate_tipping_first_does_not_lock_the_date(engine) -> None:
    built = engine.build("schedule", OFF_SLATE_DAY)
    assert built.built
    record = engine.plan("schedule", OFF_SLATE_DAY, fresh=True).record
    assert record["meta"]["lock"].startswith("2020-08-07T17:00:00")  # the schedule's own first tip
    assert snapshots.slate_lock(engine.home, OFF_SLATE_DAY) == SLATE_TIP

    assert engine.lock(OFF_SLATE_DAY, fresh=True) == SLATE_TIP
    assert engine.as_of(OFF_SLATE_DAY, fresh=True) == SLATE_TIP  # a past slate: its knowledge at the slate's lock
    engine.now = dt.datetime(2020, 8, 7, 19, 0, tzinfo=dt.UTC)  # after the off-slate tip, before the slate's
    assert engine.as_of(OFF_SLATE_DAY, fresh=True) == engine.now  # still open: a run now uses what is known now
    engine.now = None

    # a stage reading as_of takes the slate's lock: its key, its manifest and what it read (the 18:00Z report,
    # published after the 17:00Z game tipped, before the slate's first game)
    plan = engine.plan("injuries", OFF_SLATE_DAY, fresh=True)
    assert plan.as_of == SLATE_TIP and plan.blocked_by is None
    outcome = engine.build("injuries", OFF_SLATE_DAY)
    assert outcome.built
    record = engine.store.get_action(outcome.key)
    assert dt.datetime.fromisoformat(record["as_of"].replace("Z", "+00:00")) == SLATE_TIP
    frame = pd.read_parquet(engine.store.object_dir(outcome.object) / "data.parquet")
    times = set(pd.to_datetime(frame["report_time"], utc=True))
    assert max(times) == pd.Timestamp("2020-08-07T18:00:00Z"), sorted(times)


def test_a_game_the_daily_table_does_not_price_does_not_lock_the_date(engine) -> None:
    """Kills: the daily table's slate ignored (the lock was the 17:30Z game's, and the injuries stage read the
    11 AM report: seven players Out at 2 PM - Tyus Jones, Justise Winslow, ... - went into the slate without a
    status); a stray priced player of a game not offered taken for a game."""
    salaries = pd.read_parquet(SHIPPED / "salaries" / "2019-20.parquet")
    day = salaries[salaries["game_date"].astype(str) == DAILY_TABLE_DAY.isoformat()]
    assert set(day["source"]) == {"rotoguru"} and not {"TOR", "MIA"} & set(day["team"])
    first, slate_tip = _schedule_tips(DAILY_TABLE_DAY).min(), pd.Timestamp("2020-08-03T20:00:00Z")
    assert first == pd.Timestamp("2020-08-03T17:30:00Z")
    engine.build("schedule", DAILY_TABLE_DAY)
    assert snapshots.slate_lock(engine.home, DAILY_TABLE_DAY) == slate_tip
    assert engine.lock(DAILY_TABLE_DAY, fresh=True) == slate_tip
    outcome = engine.build("injuries", DAILY_TABLE_DAY)
    frame = pd.read_parquet(engine.store.object_dir(outcome.object) / "data.parquet")
    assert max(pd.to_datetime(frame["report_time"], utc=True)) == pd.Timestamp("2020-08-03T18:00:00Z")
    assert frame.set_index("player_name").loc["Tyus Jones", "status"] == "Out"



def test_a_stray_priced_player_of_a_game_not_offered_does_not_lock_the_date(tmp_path: Path) -> None:
    """As the salaries stage drops a game the daily table lists one team of (rotoguru 2020-01-25: one DAL player,
    no UTA player), the lock does not take its tip: 2020-08-03's table with one MIA player of the 17:30Z game."""
    salaries = pd.read_parquet(SHIPPED / "salaries" / "2019-20.parquet")
    day = salaries[salaries["game_date"].astype(str) == DAILY_TABLE_DAY.isoformat()]
    stray = day.iloc[[0]].assign(team="MIA", opp="TOR", player_id="stray",
                                 tip_time=pd.Timestamp("2020-08-03T17:30:00Z").as_unit("us"))
    path = tmp_path / "part.parquet"
    pd.concat([day, stray], ignore_index=True).to_parquet(path)
    assert _first_tip(path) == pd.Timestamp("2020-08-03T20:00:00Z")
    both = pd.concat([day, stray, stray.assign(team="TOR", opp="MIA", player_id="other")], ignore_index=True)
    both.to_parquet(path)  # both teams priced: the game is on the slate and locks it
    assert _first_tip(path) == pd.Timestamp("2020-08-03T17:30:00Z")


def _first_tip(path: Path) -> pd.Timestamp:
    return pd.Timestamp(snapshots._part_main(path, DAILY_TABLE_DAY).split("|")[-1])


def test_an_unknown_slate_lock_leaves_the_schedules_first_tip(engine) -> None:
    engine.build("schedule", NO_SALARIES_DAY)
    assert snapshots.slate_lock(engine.home, NO_SALARIES_DAY) is None  # no salaries of the date
    first = _schedule_tips(NO_SALARIES_DAY).min().to_pydatetime()
    assert engine.lock(NO_SALARIES_DAY, fresh=True) == first
    assert engine.as_of(NO_SALARIES_DAY, fresh=True) == first
    assert engine.plan("injuries", NO_SALARIES_DAY, fresh=True).as_of == first


def test_the_lineups_are_read_until_the_last_tip_every_other_source_until_the_lock(engine) -> None:
    """The lineups' live source reads (and fetches) captures up to the slate's last tip, recorded by the schedule
    stage; the injuries' up to the lock. While a slate is between the two, the lineups read what is known now
    and everything else what was known at the lock. A schedule record an older version wrote (no `last_tip`) gives
    the lock. Kills: `last_tip` taken as the first tip; the lock's source opened too; an old record refused."""
    engine.build("schedule", OFF_SLATE_DAY)
    last = _schedule_tips(OFF_SLATE_DAY).max().to_pydatetime()
    assert last > SLATE_TIP
    lineups = next(s for s in engine.pipeline["lineups"].sources if s.table == "lineups")
    injuries = next(s for s in engine.pipeline["injuries"].sources if s.table == "injuries")
    assert engine.until(lineups, OFF_SLATE_DAY, fresh=True) == last
    assert engine.until(injuries, OFF_SLATE_DAY, fresh=True) == SLATE_TIP
    assert engine.source_as_of(lineups, OFF_SLATE_DAY, fresh=True) == last  # a past slate: up to its last tip
    engine.now = SLATE_TIP + dt.timedelta(minutes=30)
    assert engine.source_as_of(lineups, OFF_SLATE_DAY, fresh=True) == engine.now
    assert engine.source_as_of(injuries, OFF_SLATE_DAY, fresh=True) == SLATE_TIP == engine.as_of(OFF_SLATE_DAY)
    engine.now = None

    record = engine.plan("schedule", OFF_SLATE_DAY, fresh=True).record
    older = {**record, "meta": {k: v for k, v in record["meta"].items() if k != "last_tip"}}
    engine.store.put_action(older)
    assert engine.until(lineups, OFF_SLATE_DAY, fresh=True) == SLATE_TIP

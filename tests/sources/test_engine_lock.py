"""The engine's lock of a date, and so its as_of: the later of the date's first tip and the first tip of the
DraftKings main slate (`snapshots.slate_lock`), from the shipped archive alone.

2020-08-07 (the bubble): UTA@SAS tipped at 17:00Z, off the real DraftKings main slate (10 teams, first tip
20:00Z). The date's lock - what knowledge its build may use - is 20:00Z, so the 18:00Z official injury report
reaches the injuries stage. 2020-08-05 has no DraftKings file in the archive (its rotoguru table only): the
slate's lock is unknown and the schedule's first tip locks the date."""

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
NO_DK_DAY = dt.date(2020, 8, 5)


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


def test_an_unknown_slate_lock_leaves_the_schedules_first_tip(engine) -> None:
    engine.build("schedule", NO_DK_DAY)
    assert snapshots.slate_lock(engine.home, NO_DK_DAY) is None  # no DraftKings file of the date
    first = _schedule_tips(NO_DK_DAY).min().to_pydatetime()
    assert engine.lock(NO_DK_DAY, fresh=True) == first
    assert engine.as_of(NO_DK_DAY, fresh=True) == first
    assert engine.plan("injuries", NO_DK_DAY, fresh=True).as_of == first


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

"""The snapshot index and the as-of join; ArchiveTable resolving snapshots over the archive; needs_fetch."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from projections.archive import ArchiveTable
from projections.errors import SourceError
from projections.schema import PLAYER_LOGS, SCHEDULE
from projections.settings import Settings
from projections.sources import snapshots, tables
from tests.sources.conftest import AFTER_LOCK, BEFORE_LOCK, SLATE, env_for, live_settings

T0 = dt.datetime(2019, 10, 30, 14, 0, tzinfo=dt.UTC)
LOCK = dt.datetime(2019, 10, 30, 23, 0, tzinfo=dt.UTC)


def schedule_frame(games: int, status: str = "scheduled") -> pd.DataFrame:
    teams = [("BOS", "MIL"), ("CLE", "CHI"), ("ORL", "NYK")][:games]
    return pd.DataFrame({
        "season": "2019-20", "game_date": [SLATE] * games, "game_id": [f"00219000{55 + i}" for i in range(games)],
        "home_team": [h for h, _ in teams], "away_team": [a for _, a in teams],
        "tip_time": pd.Series([LOCK] * games, dtype="datetime64[us, UTC]"), "tip_time_source": "test",
        "playoffs": False, "status": status,
    })


def record(home: Path, frame: pd.DataFrame, at: dt.datetime, raw: bytes = b"{}", table: str = "schedule",
           lock: dt.datetime | None = LOCK) -> snapshots.Recorded:
    files = {"raw.json": raw, snapshots.DATA: tables.to_parquet(frame, table)}
    return snapshots.record(home, table, SLATE, files=files, captured_at=at, url="http://x/y", rows=len(frame),
                            lock=lock)


def index_lines(home: Path, table: str = "schedule") -> list[dict]:
    path = snapshots.index_path(home, table, SLATE)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_identical_refetch_is_the_same_object_and_adds_no_index_line(tmp_path: Path) -> None:
    first = record(tmp_path, schedule_frame(2), T0, b'{"games": 2}')
    again = record(tmp_path, schedule_frame(2), T0 + dt.timedelta(hours=2), b'{"games": 2}')
    assert first.created and first.appended
    assert again.entry.object == first.entry.object and not again.created and not again.appended
    assert len(index_lines(tmp_path)) == 1
    manifest = json.loads((snapshots.data_path(tmp_path, first.entry).parent / "manifest.json").read_text())
    assert manifest["captured_at"] == "2019-10-30T14:00:00.000Z" and manifest["url"] == "http://x/y"
    assert sorted(manifest["files"]) == ["data.parquet", "raw.json"]


def test_as_of_join_picks_the_newest_capture_at_or_before_as_of(tmp_path: Path) -> None:
    a = record(tmp_path, schedule_frame(2), T0, b"a").entry
    b = record(tmp_path, schedule_frame(3), T0 + dt.timedelta(hours=3), b"b").entry
    back = record(tmp_path, schedule_frame(2), T0 + dt.timedelta(hours=5), b"a").entry  # A again: a new line
    found = snapshots.entries(tmp_path, "schedule", SLATE)
    assert [e.object for e in found] == [a.object, b.object, a.object] and back.object == a.object
    assert snapshots.select(found, T0 - dt.timedelta(seconds=1)) is None
    assert snapshots.select(found, T0) == found[0]
    assert snapshots.select(found, T0 + dt.timedelta(hours=4)).object == b.object
    assert snapshots.select(found, T0 + dt.timedelta(hours=6)) == found[2]


def test_without_as_of_a_capture_after_its_own_lock_is_ignored(tmp_path: Path) -> None:
    before = record(tmp_path, schedule_frame(2), T0).entry
    record(tmp_path, schedule_frame(2, status="final"), LOCK + dt.timedelta(hours=3))
    assert snapshots.select(snapshots.entries(tmp_path, "schedule", SLATE), None) == before


def test_a_torn_line_is_skipped_and_the_next_capture_stays_whole(tmp_path: Path) -> None:
    good = record(tmp_path, schedule_frame(2), T0).entry
    with open(snapshots.index_path(tmp_path, "schedule", SLATE), "ab") as fh:
        fh.write(b'{"captured_at": "2019-10-30T15:00:00.000Z", "obj')  # a writer killed mid-line
    assert snapshots.entries(tmp_path, "schedule", SLATE) == [good]
    later = record(tmp_path, schedule_frame(3), T0 + dt.timedelta(hours=1), b"later").entry
    assert snapshots.entries(tmp_path, "schedule", SLATE) == [good, later]


def test_a_capture_recorded_after_a_later_one_is_ordered_by_its_capture_time(tmp_path: Path) -> None:
    """The index is in write order, not capture order: a run stamped earlier that wrote its line last (a slow
    fetch, a backfill) was taken for the newest capture, so the as-of join read an older table over a newer one."""
    t1, t2 = T0, T0 + dt.timedelta(hours=2)
    newer = record(tmp_path, schedule_frame(3), t2, b"newer").entry
    older = record(tmp_path, schedule_frame(2), t1, b"older").entry
    found = snapshots.entries(tmp_path, "schedule", SLATE)
    assert [e.object for e in found] == [older.object, newer.object]
    assert snapshots.select(found, t2).object == newer.object
    assert snapshots.select(found, t2 + dt.timedelta(hours=1)).object == newer.object
    assert snapshots.select(found, t1).object == older.object


def test_an_index_line_naming_no_object_is_skipped(tmp_path: Path) -> None:
    """A hand-edited line whose object is no digest was taken as the newest capture: every read of the date then
    failed on a store object that cannot exist, instead of reading the last good capture."""
    good = record(tmp_path, schedule_frame(2), T0).entry
    line = {**good.line_json(), "captured_at": "2019-10-30T15:00:00.000Z", "object": "nothex"}
    with open(snapshots.index_path(tmp_path, "schedule", SLATE), "a") as fh:
        fh.write(json.dumps(line) + "\n")
    found = snapshots.entries(tmp_path, "schedule", SLATE)
    assert found == [good]
    assert snapshots.select(found, T0 + dt.timedelta(hours=2)) == good


# ------------------------------------------------------------------------------------------ ArchiveTable


def test_a_snapshot_replaces_the_archive_day_and_its_key_follows_the_as_of_join(tmp_path: Path) -> None:
    source = ArchiveTable("archive", "schedule", window="day", contract=SCHEDULE)
    env = env_for(live_settings(tmp_path, None))
    archive_only = source.resolve(env, SLATE, None)
    assert "snapshot" not in archive_only.describe and len(archive_only.load()) == 11  # the shipped season
    first = record(tmp_path, schedule_frame(2), T0).entry
    pinned = source.resolve(env, SLATE, None)
    assert first.object[9:19] in pinned.describe and pinned.digest != archive_only.digest
    assert list(pinned.load()["home_team"]) == ["BOS", "CLE"]
    record(tmp_path, schedule_frame(3), T0 + dt.timedelta(hours=1), b"later")
    assert len(source.resolve(env, SLATE, None).load()) == 3


def test_a_before_window_swaps_only_the_dates_own_season_and_ignores_later_captures(tmp_path: Path) -> None:
    source = ArchiveTable("archive", "player_logs", window="before", seasons=(0, 1), contract=PLAYER_LOGS)
    env = env_for(live_settings(tmp_path, None))
    shipped = source.resolve(env, SLATE, BEFORE_LOCK)
    logs = shipped.load()
    mine = logs[logs["season"] == "2019-20"].head(40).reset_index(drop=True)
    entry = record(tmp_path, mine, BEFORE_LOCK, table="player_logs", lock=None).entry
    with_snapshot = source.resolve(env, SLATE, BEFORE_LOCK)
    loaded = with_snapshot.load()
    assert with_snapshot.meta["parts"] == ["2018-19"] and with_snapshot.meta["snapshot"] == entry.object
    assert (loaded["season"] == "2019-20").sum() == 40 and (loaded["season"] == "2018-19").sum() > 20000
    assert source.resolve(env, SLATE, BEFORE_LOCK - dt.timedelta(minutes=1)).digest == shipped.digest


def test_an_asof_source_keeps_its_key_while_the_same_capture_is_selected(tmp_path: Path) -> None:
    source = ArchiveTable("injuries", "injuries", window="asof_day", time_column="report_time")
    env = env_for(live_settings(tmp_path, None))
    frame = pd.DataFrame({"season": ["2019-20"], "report_time": pd.Series([T0], dtype="datetime64[us, UTC]"),
                          "game_date": [SLATE], "team": ["BOS"], "player_id": ["1628369"],
                          "player_name": ["Jayson Tatum"], "status": ["Questionable"], "reason": ["Ankle"]})
    record(tmp_path, frame, T0, table="injuries", lock=None)
    at_five = source.resolve(env, SLATE, T0 + dt.timedelta(hours=5))
    at_six = source.resolve(env, SLATE, T0 + dt.timedelta(hours=6))
    assert at_five.digest == at_six.digest and len(at_six.load()) == 1


def test_an_asof_source_with_nothing_to_read_keeps_its_key_as_the_clock_moves(tmp_path: Path) -> None:
    """A live day of a season the archive holds no injury reports for, with no injuries feed configured: the key
    held as_of itself, so `projections status` said STALE minutes after a good run, every run."""
    source = ArchiveTable("injuries", "injuries", window="asof_day", time_column="report_time", required=False)
    env = env_for(live_settings(tmp_path, None))
    day = dt.date(2026, 11, 26)  # no shipped or ingested part of 2026-27, no capture
    at_five = source.resolve(env, day, dt.datetime(2026, 11, 26, 17, tzinfo=dt.UTC))
    at_six = source.resolve(env, day, dt.datetime(2026, 11, 26, 18, tzinfo=dt.UTC))
    assert at_five.digest == at_six.digest and at_six.load().empty
    shipped = [source.resolve(env, SLATE, T0 + dt.timedelta(hours=h)) for h in (5, 6)]
    assert shipped[0].digest != shipped[1].digest  # with reports to read (the shipped 2019-20 part), as_of decides
    # and says so: explain read the two as "the same files, read another way ... changed with the code"
    assert shipped[0].describe.endswith("; rows known by 2019-10-30 19:00Z") and \
        shipped[1].describe.endswith("; rows known by 2019-10-30 20:00Z"), shipped[1].describe


def test_a_missing_snapshot_object_is_a_source_error_with_the_fix(tmp_path: Path) -> None:
    entry = record(tmp_path, schedule_frame(2), T0).entry
    folder = snapshots.data_path(tmp_path, entry).parent
    folder.chmod(0o755)
    (folder / "manifest.json").chmod(0o644)
    (folder / "manifest.json").unlink()
    source = ArchiveTable("archive", "schedule", window="day")
    with pytest.raises(SourceError, match="not in the store; fetch or ingest the source again"):
        source.resolve(env_for(live_settings(tmp_path, None)), SLATE, None)


# ------------------------------------------------------------------------------------------ needs_fetch


def test_needs_fetch_until_the_lock_and_never_in_archive_mode(tmp_path: Path) -> None:
    live = env_for(live_settings(tmp_path, None))
    odds = ArchiveTable("odds", "odds")
    assert odds.fetch_key == "odds"
    assert odds.needs_fetch(live, SLATE, BEFORE_LOCK, LOCK)
    assert not odds.needs_fetch(live, SLATE, AFTER_LOCK, LOCK)
    assert not odds.needs_fetch(live, dt.date(2019, 10, 29), BEFORE_LOCK, None)  # the day after: long locked
    archive = env_for(live_settings(tmp_path, None).model_copy(update={"source": "archive"}))
    assert not odds.needs_fetch(archive, SLATE, BEFORE_LOCK, LOCK)
    off = env_for(live_settings(tmp_path, None, odds={"url": ""}))
    assert not odds.needs_fetch(off, SLATE, BEFORE_LOCK, LOCK)
    # the DraftKings inbox is no network: a file dropped after the first tip is still taken (stamped before it)
    inbox = ArchiveTable("salaries", "salaries")
    assert not inbox.needs_fetch(live, SLATE, AFTER_LOCK, LOCK)  # an empty inbox: nothing to take
    (tmp_path / "inbox").mkdir(exist_ok=True)
    (tmp_path / "inbox" / "DKSalaries.csv").write_text("dropped after the first tip")
    assert inbox.needs_fetch(live, SLATE, AFTER_LOCK, LOCK)
    assert not inbox.needs_fetch(live, dt.date(2019, 10, 29), BEFORE_LOCK, None)


def test_the_clock_knows_its_lock_from_its_own_captures(tmp_path: Path) -> None:
    env = env_for(live_settings(tmp_path, None))
    clock = ArchiveTable("archive", "schedule")
    assert clock.needs_fetch(env, SLATE, AFTER_LOCK, None)  # nothing known yet: fetch
    record(tmp_path, schedule_frame(2), T0)
    assert clock.needs_fetch(env, SLATE, BEFORE_LOCK, None)
    assert not clock.needs_fetch(env, SLATE, AFTER_LOCK, None)


def test_a_stage_reading_only_earlier_seasons_waits_on_no_capture_of_the_date(tmp_path: Path) -> None:
    """The calibration fits on the season before, which no capture of the date can change: it waited on the
    date's odds, logs and salaries fetches, so an odds feed down skipped it ("an input failed: fetch_odds"). Its
    one fetch is of the season before's logs, due only in live mode while the archive lacks them."""
    from stages import PIPELINE

    assert PIPELINE.fetched_for("calibration") == ["prior_season_logs"]
    readers = {stage for key, (_, stages) in PIPELINE.fetchers().items() if key != "prior_season_logs"
               for stage in stages}
    assert "calibration" not in readers and {"odds", "game_logs", "injuries", "lineups"} <= readers
    (source,) = [s for s in PIPELINE["calibration"].sources if getattr(s, "fetch_key", "") == "prior_season_logs"]
    live = env_for(live_settings(tmp_path, None))
    assert not source.needs_fetch(live, SLATE, BEFORE_LOCK, None)  # 2018-19 is shipped
    assert source.needs_fetch(live, dt.date(2023, 11, 1), BEFORE_LOCK, None)  # 2022-23 is not
    assert not source.needs_fetch(env_for(Settings(home=tmp_path)), dt.date(2023, 11, 1), BEFORE_LOCK, None)
    off = env_for(live_settings(tmp_path, None, game_logs={"url": ""}))
    assert not source.needs_fetch(off, dt.date(2023, 11, 1), BEFORE_LOCK, None)


def test_the_fetchers_are_worked_out_once_and_each_caller_gets_its_own_lists() -> None:
    """`projections status` asks them per stage and date (an isinstance against the protocol each time was 2.4 s
    of a season's status): worked out once, a caller changing what it got changes nothing for the next."""
    from stages import PIPELINE

    first = PIPELINE.fetchers()
    first["odds"][1].append("not a stage")
    first.pop("schedule")
    again = PIPELINE.fetchers()
    assert "schedule" in again and "not a stage" not in again["odds"][1]
    assert again == PIPELINE.fetchers()


def test_tables_without_a_live_backend_are_not_fetchers() -> None:
    from projections.pipeline import FetchingSource

    assert isinstance(ArchiveTable("archive", "schedule"), FetchingSource)
    assert not isinstance(ArchiveTable("players", "players", window="all"), FetchingSource)


def test_snapshots_command_marks_the_capture_a_build_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from projections.cli import main

    first = record(tmp_path, schedule_frame(2), T0).entry
    later = record(tmp_path, schedule_frame(3), LOCK + dt.timedelta(hours=1), b"after the lock").entry
    monkeypatch.setenv("PROJECTIONS_HOME", str(tmp_path))
    assert main(["snapshots", SLATE.isoformat(), "schedule"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2019-10-30: as_of (schedule not built)"
    assert lines[1].startswith(f"* schedule     2019-10-30T14:00:00.000Z  {first.object[9:19]}")
    assert lines[2].startswith(f"  schedule     2019-10-31T00:00:00.000Z  {later.object[9:19]}")


def test_a_live_capture_of_an_off_day_leaves_it_an_off_day_in_the_calendar(tmp_path: Path) -> None:
    """Live runs capture the scoreboard of an off day too (no rows): the calendar took every captured date for a
    date with games, so a backfill over it said "without DraftKings salaries skipped" where a fresh root (and
    status) said "no NBA games". A capture appended later (games after all) is seen: the cache keys on each
    index file, not on the folder."""
    from projections.archive_calendar import Calendar

    off = dt.date(2019, 11, 28)  # Thanksgiving: no games in the archive
    frame = schedule_frame(0)

    def capture(games: pd.DataFrame, at: dt.datetime) -> None:
        files = {"raw.json": b"{}", snapshots.DATA: tables.to_parquet(games.assign(game_date=off), "schedule")}
        snapshots.record(tmp_path, "schedule", off, files=files, captured_at=at, url="http://x/y", rows=len(games),
                         lock=None)

    assert Calendar.of(tmp_path).kind(off) == "no games"
    capture(frame, dt.datetime(2019, 11, 28, 15, tzinfo=dt.UTC))
    assert Calendar.of(tmp_path).kind(off) == "no games"
    capture(schedule_frame(1), dt.datetime(2019, 11, 28, 16, tzinfo=dt.UTC))
    assert Calendar.of(tmp_path).kind(off) != "no games"

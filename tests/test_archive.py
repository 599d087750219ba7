"""projections/archive_calendar.py: the calendar cache keeps one answer per table."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from projections import archive_calendar as archive


def test_a_new_calendar_answer_replaces_the_old_one(tmp_path: Path):
    """Each change of the parts or snapshots wrote a new cache/calendar-<table>-<hash>.json and none was ever
    removed."""
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    first = archive.game_dates(home)
    assert dt.date(2019, 10, 30) in first
    (home / "cache" / "calendar-schedule-notes.json").write_text("[]")  # not one of ours: the name does not fit
    index = home / "refs" / "snapshots" / "schedule"
    index.mkdir(parents=True)
    line = {"captured_at": "2031-01-01T12:00:00.000Z", "object": "xxh3-128:" + "0" * 32,
            "data": "xxh3-128:" + "1" * 32, "rows": 2}  # a capture of a new date with games: the answer changes
    (index / "game_date=2031-01-01.jsonl").write_text(json.dumps(line) + "\n")
    second = archive.game_dates(home)
    assert second == first | {dt.date(2031, 1, 1)}
    cached = sorted(p.name for p in (home / "cache").glob("calendar-schedule-*.json"))
    assert len(cached) == 2 and "calendar-schedule-notes.json" in cached, cached


def test_a_calendar_answer_older_code_kept_is_removed(tmp_path: Path):
    """Older code named its calendar answers cache/calendar-<hash>.json, without the table: an upgraded root kept
    them forever."""
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    legacy = home / "cache" / "calendar-227d4f8e0c1b2a3d4e5f60718293a4b5.json"
    legacy.write_text('["2019-10-30"]')
    (home / "cache" / "calendar-mine.json").write_text("[]")  # not one of ours: the name does not fit
    assert dt.date(2019, 10, 30) in archive.game_dates(home)
    left = sorted(p.name for p in (home / "cache").glob("calendar-*.json"))
    assert legacy.name not in left and "calendar-mine.json" in left and len(left) == 2, left

"""`doit slate` names the upgrade leftovers `projections doctor` finds (projections/ops/leftovers.py) when its
dates are among those they affect: before, only the doctor did, and a run built on the smaller slate, or skipped
a bubble date as a day without games, with no word of it. Real doit processes on real data."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

from projections.statcache import RACY_NS
from tests.conftest import SHARED, run_cli, run_doit
from tests.test_fastpath import HEAVY, _imported

LATE = SHARED / "salaries" / "dk" / "2020-08-10__VincentLa__dk_nba_salaries_classic_20200810.csv"  # 2 games


def _hiding_snapshot(home: Path) -> dt.date:
    """The 2-game slate of 2020-08-10 recorded alone, as an older version did: it hides the archive's 5-game
    main slate (tests/sources/test_ingest.py has the same root)."""
    from projections.sources import snapshots, tables
    from projections.sources.inbox import read_dk

    home.mkdir(parents=True)
    day, frame = read_dk(home, LATE.read_bytes(), LATE.name)
    snapshots.record(home, "salaries", day, files={snapshots.DATA: tables.to_parquet(frame, "salaries")},
                     captured_at=dt.datetime(2020, 8, 10, 4, tzinfo=dt.UTC), url=f"file:{LATE.name}",
                     rows=len(frame), meta={"slates": sorted(set(frame["slate_id"]))})
    return day


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "what an older version left" in line]


def test_a_run_of_a_date_a_hiding_salary_snapshot_affects_says_so_once_and_cheaply(tmp_path: Path) -> None:
    home = tmp_path / "home"
    day = _hiding_snapshot(home)
    time.sleep(RACY_NS / 1e9 + 0.1)  # the stat cache keeps no answer of a file changed within RACY_NS of reading it
    # (the capture's lock, read from its table): the first run must keep it for the rerun below to import nothing
    first = run_doit(home, "salaries", f"date={day}")
    assert first.returncode == 0, first.stdout + first.stderr
    (note,) = _notes(first.stderr)
    assert note.startswith(f"note: what an older version left in this data root affects {day}: the salary snapshot "
                           f"of {day} hides the archive's slate(s) dk-2020-08-10-") and note.endswith(
        "`projections doctor` (check upgrade) names the fix"), note
    other = run_doit(home, "schedule", "date=2020-08-11")  # a date it does not affect: nothing said
    assert other.returncode == 0 and _notes(other.stderr) == [], other.stderr
    assert len(list((home / "cache").glob("leftovers-*.json"))) == 1
    # the rerun reads the answer kept in the cache: still said, and no pyarrow (nor pandas) imported for it
    assert {m for m in _imported(home, "salaries", f"date={day}") if m in HEAVY} == set()
    mended = run_cli(home, "ingest", "dk-salaries", str(LATE))  # the fix doctor names
    assert mended.returncode == 0, mended.stdout + mended.stderr
    again = run_doit(home, "salaries", f"date={day}")
    assert again.returncode == 0 and _notes(again.stderr) == [], again.stderr


def test_a_run_of_a_date_a_shrunk_schedule_dropped_says_so(tmp_path: Path) -> None:
    """An older `ingest game-logs --replace` of the nba.com 2019-20 logs left a schedule of their 971 games: the
    bubble's dates read "no games" (named alone, "no NBA games"; in a range skipped as off days)."""
    from projections.archive import add_part
    from projections.sources import files, ingest, tables
    from projections.store import LocalStore

    content = (SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv").read_bytes()
    shrunk = ingest.schedule_from_logs(files.game_logs(content, "logs.csv"))
    home = tmp_path / "home"
    home.mkdir(parents=True)
    commit = LocalStore(home).commit({"data.parquet": tables.to_parquet(shrunk, "schedule")}, {"kind": "ingest"})
    add_part(home, "schedule", "2019-20", commit.object, ("2019-20",), sha256=hashlib.sha256(content).hexdigest())
    alone = run_doit(home, "schedule", "date=2020-08-06")
    assert alone.returncode != 0 and "no NBA games" in alone.stdout, alone.stdout + alone.stderr
    (note,) = _notes(alone.stderr)
    assert note.startswith("note: what an older version left in this data root affects 2020-08-06: the 2019-20 "
                           "schedule lacks 172 games (they read 'no games'); `projections doctor`"), note
    ranged = run_doit(home, "schedule", "date=2019-10-30,2020-08-05..2020-08-07")
    assert ranged.returncode == 0, ranged.stdout + ranged.stderr
    (note,) = _notes(ranged.stderr)
    assert "affects 2020-08-05, 2020-08-06, 2020-08-07: the 2019-20 schedule lacks 172 games" in note, note
    unaffected = run_doit(home, "schedule", "date=2019-10-30")
    assert unaffected.returncode == 0 and _notes(unaffected.stderr) == [], unaffected.stderr

"""The archive's calendar: which dates have games (the schedule parts), which have DraftKings salaries (the
salary parts), each season's span of known games, and what a date is (a slate, an off day, a date without salaries,
or one the schedule cannot vouch for). Read from the parts and the snapshot indexes of projections.archive, and kept
in the data root's cache so a no-op backfill does not import pyarrow to learn it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from projections.archive import parts, previous_season
from projections.dates import season_of
from projections.hashing import hash_struct, hex_of
from projections.sources import snapshots
from projections.store import write_atomic


def game_dates(home: Path) -> set[dt.date]:
    """Every date with a game that was played or is to be played, per the schedule parts (shipped and
    ingested), plus every date with a schedule snapshot (a live capture may know games the archive does not).
    A backfill over a range builds these and skips the rest (the All-Star break, the 2020 hiatus...)."""
    return _calendar(home, "schedule", drop_postponed=True)


def slate_dates(home: Path) -> set[dt.date]:
    """Every date with DraftKings salaries, per the salary parts (shipped and ingested) and the salary
    snapshots (`projections ingest dk-salaries`, the inbox): the dates a slate can be built for. A backfill
    over a range skips a date with games but no salaries (the 2020 playoffs, which the archive lacks) and
    lists it, rather than failing on it every time."""
    return _calendar(home, "salaries")


WHOLE_SEASON_DAYS = 120  # a season's schedule spanning fewer days than this is a partial one


def season_spans(games: set[dt.date]) -> dict[str, tuple[dt.date, dt.date]]:
    """Per season, its first and last known game date."""
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for day in games:
        season = season_of(day)
        lo, hi = spans.get(season, (day, day))
        spans[season] = (min(lo, day), max(hi, day))
    return dict(sorted(spans.items()))


DayKind = Literal["slate", "no games", "no salaries", "unknown"]


@dataclass(frozen=True)
class Calendar:
    """What the archive knows of dates: those with games, those with DraftKings salaries, and each season's
    span of known games. One answer for the backfill (which dates to build, skip or refuse) and for status."""

    games: set[dt.date]
    slates: set[dt.date]
    spans: dict[str, tuple[dt.date, dt.date]]

    @classmethod
    def of(cls, home: Path) -> Calendar:
        games = game_dates(home)
        return cls(games, slate_dates(home), season_spans(games))

    def kind(self, day: dt.date) -> DayKind:
        """"unknown" when the schedule cannot vouch for the date: no game at all is known in its season, or
        its season's known games span fewer than WHOLE_SEASON_DAYS (a partial season, like the shipped 2020-21
        week) and the date lies outside that span. A date of a whole season without games is an off day
        ("no games"); an unknown one is not known to be, so a run must not skip it as if it were."""
        span = self.spans.get(season_of(day))
        if span is None or ((span[1] - span[0]).days < WHOLE_SEASON_DAYS and not span[0] <= day <= span[1]):
            return "unknown"
        if day not in self.games:
            return "no games"
        return "slate" if day in self.slates else "no salaries"

    def projectable(self, season: str) -> bool:
        """Whether slates of `season` can be projected: calibration fits on the season before, which must be held."""
        return previous_season(season) in self.spans

    def not_projectable(self, seasons: list[str]) -> str:
        """Why slates of `seasons` (none projectable) cannot be built, and the fix: the words of `doit`'s refusal
        and of status's CANNOT PROJECT."""
        before = [previous_season(x) for x in seasons]
        return (f"calibration fits on the season before ({', '.join(before)}), which the archive does not hold; add "
                "it with `projections ingest game-logs FILE` (and `ingest lines`), or fetch it from stats.nba.com "
                f"with its starters, `projections ingest game-logs --fetch {before[0]}`, or pick dates of "
                f"{self.held(projectable=True)}")

    def held(self, *, projectable: bool = False) -> str:
        """The seasons the schedule holds (only those whose slates can be projected, if asked), with their spans:
        "2019-20 (2019-10-22..2020-10-11), ..."."""
        return ", ".join(f"{season} ({lo}..{hi})" for season, (lo, hi) in sorted(self.spans.items())
                         if not projectable or self.projectable(season))


# what to do about a date the archive's schedule cannot vouch for (Calendar.kind "unknown")
OUTSIDE_FIX = ("add that season with `projections ingest game-logs FILE` (and `ingest lines`, `ingest dk-salaries`), "
               "or run in live mode (`source = \"live\"`)")


def _calendar(home: Path, table: str, *, drop_postponed: bool = False) -> set[dt.date]:
    """The dates of `table`'s parts (without the rows whose status is "postponed", if asked) and of its
    snapshots whose newest capture holds rows. The answer is kept in the data root's cache under the parts' and the
    snapshot index files' stat signatures, so a no-op backfill does not import pyarrow to learn it again."""
    chosen = parts(home, table)
    index = home / "refs" / "snapshots" / table
    signature = [(str(p.path), p.path.stat().st_size, p.path.stat().st_mtime_ns) for p in chosen]
    tag = f"calendar-{table}"
    captured = sorted((p.name, st.st_size, st.st_mtime_ns) for p in index.glob("game_date=*.jsonl")
                      for st in [p.stat()]) if index.is_dir() else []  # a capture appended to one changes its say
    cache = home / "cache" / f"{tag}-{hex_of(hash_struct(tag, signature, captured))}.json"
    with contextlib.suppress(OSError, ValueError):
        return {dt.date.fromisoformat(d) for d in json.loads(cache.read_bytes())}
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found: set[dt.date] = set()
    for part in chosen:
        data = pq.read_table(part.path, columns=["game_date", "status"] if drop_postponed else ["game_date"])
        if drop_postponed:
            data = data.filter(pc.not_equal(data.column("status"), "postponed"))
        found.update(data.column("game_date").to_pylist())
    if index.is_dir():
        for path in index.glob("game_date=*.jsonl"):
            with contextlib.suppress(ValueError):
                day = dt.date.fromisoformat(path.stem.split("=", 1)[1])
                captures = snapshots.entries(home, table, day)
                if captures and captures[-1].rows > 0:  # a live capture of an off day holds no rows: no date of it
                    found.add(day)
    if home.is_dir():  # a command that only reads must not create a data root to cache in
        with contextlib.suppress(OSError):
            write_atomic(cache, json.dumps(sorted(d.isoformat() for d in found)).encode())
            # answers for parts or snapshots since changed, and those older code kept without the table's name
            stale = re.compile(rf"(?:{re.escape(tag)}|calendar)-[0-9a-f]+\.json")
            for old in cache.parent.glob("calendar-*.json"):
                if old != cache and stale.fullmatch(old.name):
                    old.unlink(missing_ok=True)
    return found

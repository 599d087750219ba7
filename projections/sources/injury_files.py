"""`projections ingest injuries FILE`: an injury report a person downloaded - the NBA's official PDF, or its table
as CSV - becomes the injuries capture of its date, known from the moment it was published, as a live fetch's
capture is. A past date's reports can so be backfilled (the NBA keeps them online from 2021-22 on; earlier ones
come from whoever saved them), and a slate rebuilt at its lock reads the newest report published before it; a user
whose live feed is down or renamed can drop the day's report in by hand.

    time  the report's title ("Injury Report: 11/01/19 05:30 PM", US/Eastern) for a PDF; otherwise `at` (`--at`),
          which a CSV table needs - never the file's name or its time on disk
    date  the report's own: that time's date in US/Eastern; and each later date whose games it lists (an evening
          report lists the next day's: 2020-12-24's 8:30 PM report is the one Christmas's noon slate had), so it
          is a capture of each of those dates too (a slate reads its own date's rows of a capture)

A file is read and checked whole before anything is written (files.BadFile: nothing recorded); the same file
ingested again changes nothing. Several reports of one date stand side by side in its index, each at its time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from projections.errors import ContractViolation
from projections.ledger import iso
from projections.sources import snapshots, tables
from projections.sources.files import BadFile
from projections.sources.injuries_live import EASTERN, earlier_only

if TYPE_CHECKING:
    import pandas as pd

TABLE = "injuries"
FIX = "download the report again from the NBA's official injury report page"
MAX_BYTES = 8 * 2**20  # refused unread above this: 80 times the largest report of shared/data (about 100 KB)
WHAT = "any official injury report (the largest PDF seen is about 100 KB)"
PROGRESS_EVERY = 25  # files: a PDF reads in about 0.3 s, so a line every 8 s or so while a season's are read


@dataclass(frozen=True)
class Report:
    """One report file read: its date, the time it was published, its table and its bytes as stored."""

    name: str
    day: dt.date
    when: dt.datetime
    frame: pd.DataFrame
    raw: dict[str, bytes]


@dataclass(frozen=True)
class TakenReport:
    report: Report
    recorded: snapshots.Recorded
    lock: dt.datetime | None  # the date's DraftKings slate lock, where the data root knows it
    later: tuple[dt.date, ...] = ()  # the later dates whose games it lists: a capture of each too

    def line(self) -> str:
        local = self.report.when.astimezone(EASTERN)
        state = "new snapshot" if self.recorded.appended else "already known"
        teams = self.report.frame["team"].nunique()
        late = ""
        if self.lock is not None and self.report.when > self.lock:  # else the user wonders why nothing rebuilt
            late = (f"; published after the slate's lock ({self.lock.astimezone(EASTERN):%I:%M %p} ET), so the "
                    "slate does not read it")
        also = f"; also of {', '.join(map(str, self.later))}, whose games it lists" if self.later else ""
        return (f"{self.report.name}: injury report of {self.report.day} at {local:%I:%M %p} ET, "
                f"{len(self.report.frame)} players of {teams} teams ({state}{late}{also})")


def read_report_file(home: Path, content: bytes, name: str, at: dt.datetime | None, now: dt.datetime) -> Report:
    """One report file read and checked (files.BadFile names the file, what is wrong and the fix)."""
    from projections.sources.files import injury_report
    from projections.sources.parsers.injury_pdf import is_pdf, report_table
    from projections.sources.people import People

    table, title = report_table(content, name) if is_pdf(content) else (content, None)
    if title is not None and at is not None and title != at:
        raise BadFile(f"{name}: its title says it was published {_eastern(title)}, not {_eastern(at)} as --at "
                      "says; leave out --at (a PDF's title gives its time)")
    when = title or at
    if when is None:
        injury_report(table, name, now, lambda n, t: n)  # a file that is no report table is named as such first
        raise BadFile(f"{name}: a report table carries no time of its own; give --at with the time it was "
                      "published (e.g. --at '2019-11-01 17:30', US/Eastern), or ingest the PDF, whose title has it")
    if when > now:
        raise BadFile(f"{name}: published {_eastern(when)}, later than now ({_eastern(now)}); check "
                      f"{'--at' if title is None else 'the clock (PROJECTIONS_LIVE__NOW)'}")
    day = when.astimezone(EASTERN).date()
    frame = injury_report(table, name, when, People.known_at(home, day).resolve)
    stale = earlier_only(frame, day)
    if stale:
        raise BadFile(f"{name}: {stale} ({day}, the date of its time); check {'--at' if title is None else 'the file'}")
    try:
        tables.check(frame, TABLE, origin=f"({name})", fix=FIX)
    except ContractViolation as exc:
        raise BadFile(f"{name}: {exc}") from None
    raw = "raw.pdf" if is_pdf(content) else "raw.csv"
    return Report(Path(name).name, day, when, frame, {raw: content})


def ingest_report(home: Path, report: Report) -> TakenReport:
    """Record a read report as a capture of its date, and of each later date whose games it lists, at the time
    it was published."""
    files = {**report.raw, snapshots.DATA: tables.to_parquet(report.frame, TABLE)}
    later = tuple(sorted({d for d in report.frame["game_date"] if d > report.day}))
    recorded = [snapshots.record(home, TABLE, day, files=files, captured_at=report.when, url=f"file:{report.name}",
                                 rows=len(report.frame), meta={"ingested": True, "published": iso(report.when)})
                for day in (report.day, *later)]
    return TakenReport(report, recorded[0], snapshots.slate_lock(home, report.day), later)


def _eastern(when: dt.datetime) -> str:
    return f"{when.astimezone(EASTERN):%Y-%m-%d %I:%M %p} ET"

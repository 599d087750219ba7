"""What every part of the archive build shares: paths, the seasons covered, US/Eastern times, the Report.

`Report` collects what the build learned about the data (printed by the CLI, written into SOURCES.md);
`read_csv` turns an unreadable source file into a ConfigError that names the file and the fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from projections import schema
from projections.errors import ConfigError
from projections.identity import team_code

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "data" / "nba"
DEFAULT_OUT = REPO_ROOT / "projections" / "data" / "archive"
EASTERN = ZoneInfo("America/New_York")
SEASONS = ("2018-19", "2019-20")
LAST_DAY = date(2020, 12, 31)  # the 2020-21 part stops with the December 2020 salaries and injury reports
TABLE_NAMES = ("player_logs", "schedule", "salaries", "odds", "injuries", "players")
STAGE = "archive_build"
STATS = schema.STAT_COLUMNS


def season_of(day: date) -> str:
    """Season label of a game date: the 2020 bubble belongs to 2019-20, December 2020 to 2020-21."""
    for label, first, last in (("2018-19", date(2018, 7, 1), date(2019, 6, 30)),
                               ("2019-20", date(2019, 7, 1), date(2020, 11, 30)),
                               ("2020-21", date(2020, 12, 1), date(2021, 6, 30))):
        if first <= day <= last:
            return label
    raise ValueError(f"{day} is outside the seasons this archive covers (2018-19 .. 2020-21)")


def eastern_to_utc(day: date, hour: int, minute: int) -> pd.Timestamp:
    """A US/Eastern wall-clock time on `day` as a UTC timestamp."""
    return pd.Timestamp(datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN)).tz_convert("UTC")


@dataclass
class Report:
    """What the build learned about the data; printed and written into SOURCES.md."""

    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    files: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def note(self, table: str, text: str) -> None:
        self.notes[table].append(text)

    def used(self, table: str, paths: Iterable[Path], src: Path) -> None:
        self.files[table].update(str(p.relative_to(src)) for p in paths)


def note_spellings(report: Report, table: str, source: str, values: Iterable[str]) -> None:
    """Note the team spellings of `source` that are not nba.com codes (and the code each maps to)."""
    odd = sorted({v for v in values if team_code(v) != v.upper()})
    report.note(table, f"{source} team spellings that are not nba.com codes: "
                + (", ".join(f"{v!r}->{team_code(v)}" for v in odd) or "none"))


def read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    """pandas.read_csv; raises ConfigError naming the file when it is missing or unreadable."""
    try:
        return pd.read_csv(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; check --src points at shared/data/nba") from exc

"""`projections doctor`'s `upgrade` check: what an older version left in the data root that this one reads
differently, mended by hand once (README, Upgrading) - found, with the command that mends it.

    schedule   an ingested schedule part holding fewer games than the shipped one: an older
               `ingest game-logs --replace` shrank it to its logs' games (the 2020 bubble dates read "no games")
    salaries   a date's salary snapshot an older version recorded without the archive's DraftKings slates of
               the date: the projections use the smaller slate it holds
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import pyarrow.parquet as pq

from projections.archive import SHIPPED, parts
from projections.dates import season_of
from projections.errors import SourceError
from projections.sources import snapshots
from projections.sources.inbox import TABLE, archived_rows, lacks_archive


def shrunk_schedules(home: Path) -> list[tuple[str, int, int]]:
    """(season, games the ingested part holds, games the shipped one holds) for each part an older version shrank
    (this one merges the shipped schedule into every ingested one, so an ingested part never holds fewer)."""
    out = []
    for part in parts(home, "schedule"):  # an ingested part stands in for the shipped one of its name
        shipped = SHIPPED / "schedule" / f"{part.name}.parquet"
        if part.origin == "ingested" and shipped.is_file():
            try:
                held, kept = pq.ParquetFile(part.path).metadata.num_rows, pq.ParquetFile(shipped).metadata.num_rows
            except (OSError, ValueError):  # a missing or damaged object: `projections verify` names it
                continue
            if held < kept:
                out.append((part.name, held, kept))
    return out


def hidden_slates(home: Path) -> list[tuple[dt.date, str, list[str]]]:
    """(date, the file its salary snapshot was recorded from, the archive's DraftKings slates it hides) for each
    snapshot an older version recorded without them (`inbox.lacks_archive`): ingesting that file again mends it."""
    seasons = {s for p in parts(home, TABLE) for s in p.seasons}
    out = []
    for day in snapshots.dates(home, TABLE):
        found = snapshots.entries(home, TABLE, day)
        if not found or season_of(day) not in seasons:
            continue
        try:
            older = pq.read_table(snapshots.data_path(home, found[-1])).to_pandas()
            archived = archived_rows(home, day, list(older.columns))
        except (OSError, ValueError, SourceError):  # a missing or damaged object: `projections verify` names it
            continue
        if lacks_archive(older, archived):
            hidden = sorted(set(archived.loc[archived["source"] == "dk", "slate_id"]) - set(older["slate_id"]))
            if hidden:
                out.append((day, found[-1].url.removeprefix("file:"), hidden))
    return out


def findings(home: Path) -> list[tuple[Literal["warning"], str, str, str, str]]:
    """Each leftover as doctor's (severity, check, where, what, fix); none where the data root has no archive."""
    out: list[tuple[Literal["warning"], str, str, str, str]] = []
    for season, held, kept in shrunk_schedules(home):
        out.append(("warning", "upgrade", f"schedule {season}", f"the ingested schedule of {season} holds {held} "
                    f"games, the shipped one {kept}: an older version's `ingest game-logs --replace` dropped the "
                    f"{kept - held} its logs lacked, and their dates read 'no games'",
                    f"projections ingest game-logs FILE --replace (the {season} file ingested then), once"))
    for day, name, hidden in hidden_slates(home):
        out.append(("warning", "upgrade", f"salaries {day}", f"the salary snapshot of {day} an older version "
                    f"recorded from {name} alone hides the archive's slate(s) {', '.join(hidden)}: the date is "
                    "projected from the slate it holds", f"projections ingest dk-salaries {name} (the same file "
                    "again), once"))
    return out

"""`projections doctor`'s `upgrade` check: what an older version left in the data root that this one reads
differently, mended by hand once (README, Upgrading) - found, with the command that mends it.

    schedule   an ingested schedule part holding fewer games than the shipped one: an older
               `ingest game-logs --replace` shrank it to its logs' games (the 2020 bubble dates read "no games")
    salaries   a date's salary snapshot an older version recorded without the archive's DraftKings slates of
               the date: the projections use the smaller slate it holds

`touching` is `doit slate`'s word of them: one line when a run's dates are among those a leftover affects, from
an answer kept in the data root's cache under the parts' and salary index files' stat signatures (as the archive's
calendar is), so a run reads one small file, and a no-op run imports no pyarrow.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from projections.archive import SHIPPED, parts
from projections.dates import season_of
from projections.errors import SourceError
from projections.hashing import hash_struct, hex_of
from projections.sources import snapshots
from projections.store import write_atomic

TABLE = "salaries"  # projections.sources.inbox's, not imported for it: a run's check stays a few stats and a read


def shrunk_schedules(home: Path) -> list[tuple[str, int, int]]:
    """(season, games the ingested part holds, games the shipped one holds) for each part an older version shrank
    (this one merges the shipped schedule into every ingested one, so an ingested part never holds fewer)."""
    out = []
    for part in parts(home, "schedule"):  # an ingested part stands in for the shipped one of its name
        shipped = SHIPPED / "schedule" / f"{part.name}.parquet"
        if part.origin == "ingested" and shipped.is_file():
            import pyarrow.parquet as pq  # here: a root with nothing ingested imports no pyarrow for the check

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
        import pyarrow.parquet as pq  # here: a root without salary snapshots imports no pyarrow for the check

        from projections.sources.inbox import archived_rows, lacks_archive

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


def touching(home: Path, days: Iterable[dt.date]) -> str | None:
    """One line naming the leftovers that affect any of `days` (a shrunk schedule: the dates of the games it lost;
    a hiding salary snapshot: its date) and pointing at `projections doctor`, or None."""
    wanted = set(days)
    try:
        known = _affected(home)
    except (SourceError, OSError, ValueError):  # an unreadable part or snapshot: verify's and doctor's to name
        return None
    hits = [(what, sorted(wanted.intersection(dt.date.fromisoformat(d) for d in affected))) for what, affected in known]
    hits = [(what, hit) for what, hit in hits if hit]
    if not hits:
        return None
    shown = sorted({d for _, hit in hits for d in hit})
    dates = ", ".join(d.isoformat() for d in shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
    return (f"note: what an older version left in this data root affects {dates}: {'; '.join(w for w, _ in hits)}; "
            "`projections doctor` (check upgrade) names the fix")


def _affected(home: Path) -> list[tuple[str, list[str]]]:
    """(what, the dates it affects) of each leftover, from the cache when the parts and salary index are as then."""
    chosen = [*parts(home, "schedule"), *parts(home, TABLE)]
    index = snapshots.index_dir(home, TABLE)
    signature = [(str(p.path), p.path.stat().st_size, p.path.stat().st_mtime_ns) for p in chosen]
    captured = sorted((p.name, st.st_size, st.st_mtime_ns) for p in index.glob("game_date=*.jsonl")
                      for st in [p.stat()]) if index.is_dir() else []
    cache = home / "cache" / f"leftovers-{hex_of(hash_struct('leftovers', signature, captured))}.json"
    with contextlib.suppress(OSError, ValueError):
        return [(str(what), [str(d) for d in affected]) for what, affected in json.loads(cache.read_bytes())]
    found = [(f"the {season} schedule lacks {kept - held} games (they read 'no games')", _lost_dates(home, season))
             for season, held, kept in shrunk_schedules(home)]
    found += [(f"the salary snapshot of {day} hides the archive's slate(s) {', '.join(hidden)}", [day.isoformat()])
              for day, _, hidden in hidden_slates(home)]
    if home.is_dir():
        with contextlib.suppress(OSError):
            write_atomic(cache, json.dumps(found).encode())
            for old in cache.parent.glob("leftovers-*.json"):  # answers for parts or snapshots since changed
                if old != cache:
                    old.unlink(missing_ok=True)
    return found


def _lost_dates(home: Path, season: str) -> list[str]:
    """The dates of the shipped schedule's games of `season` that its ingested part lacks."""
    import pyarrow.parquet as pq

    (part,) = [p for p in parts(home, "schedule") if p.name == season]
    held = set(pq.read_table(part.path, columns=["game_id"]).column("game_id").to_pylist())
    shipped = pq.read_table(SHIPPED / "schedule" / f"{season}.parquet", columns=["game_id", "game_date"]).to_pylist()
    return sorted({str(row["game_date"]) for row in shipped if row["game_id"] not in held})

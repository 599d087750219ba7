"""Snapshots: what a source knew at a moment, stored once by content, found again by an as-of join.

    store/objects/ab/<hash>/                 raw payload file(s) + data.parquet (the canonical table) + manifest
    refs/snapshots/<table>/game_date=D.jsonl append-only: {"captured_at", "object", "data", "url", "rows"[, "lock"]}

A capture is committed as one store object named by its bytes (raw payload and parsed table), so a refetch
with identical bytes is the same object. The index line is appended only when the object differs from the one
the index already names at that instant, so an unchanged refetch changes nothing at all. `select(entries,
as_of)` is the as-of join: the newest entry captured at or before `as_of` - never a file time. A schedule
entry also carries its slate's `lock` (first tip); with no as_of (the schedule is the clock) the newest entry
captured at or before its own lock wins, so a refetch after the lock never moves a locked slate.

Lines are written with one O_APPEND write under an flock, so two writers never interleave and a SIGKILL
leaves whole lines; a reader skips a line it cannot parse.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.errors import SourceError
from projections.hashing import digest_bytes, is_digest, short
from projections.ledger import iso
from projections.statcache import StatCache
from projections.store import LocalStore

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

DATA = "data.parquet"


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Entry:
    """One capture of one table for one slate date."""

    table: str
    game_date: dt.date
    captured_at: dt.datetime
    object: str
    data: str  # digest of data.parquet: the table itself, which is what enters stage keys
    url: str
    rows: int
    lock: dt.datetime | None = None
    line: int = field(default=0, compare=False)

    def line_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"captured_at": iso(self.captured_at), "object": self.object, "data": self.data,
                               "url": self.url, "rows": self.rows}
        if self.lock is not None:
            out["lock"] = iso(self.lock)
        return out

    def describe(self) -> str:
        return f"snapshot {self.table} {self.game_date} captured {iso(self.captured_at)} ({short(self.object)})"


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    created: bool  # a new store object
    appended: bool  # a new index line: what the index names changed


def index_dir(home: Path, table: str) -> Path:
    return home / "refs" / "snapshots" / table


def index_path(home: Path, table: str, day: dt.date) -> Path:
    return index_dir(home, table) / f"game_date={day.isoformat()}.jsonl"


def entries(home: Path, table: str, day: dt.date) -> list[Entry]:
    """Every readable entry of the index, oldest capture first (ties: file order)."""
    path = index_path(home, table, day)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    found = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            entry = Entry(table, day, _ts(record["captured_at"]), record["object"], record["data"],
                          record.get("url", ""), int(record.get("rows", 0)),
                          _ts(record["lock"]) if record.get("lock") else None, number)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s line %d is unreadable; skipped", path, number)
            continue
        if not is_digest(entry.object) or not is_digest(entry.data):
            log.warning("%s line %d names no object; skipped", path, number)
            continue
        found.append(entry)
    return sorted(found, key=lambda e: (e.captured_at, e.line))


def select(found: list[Entry], as_of: dt.datetime | None) -> Entry | None:
    """The as-of join: the newest entry captured at or before `as_of`.

    With no as_of (the clock source itself), each entry is bounded by its own lock, so the newest entry
    captured before its slate locked wins and later captures are ignored."""
    if as_of is None:
        usable = [e for e in found if e.lock is None or e.captured_at <= e.lock]
    else:
        usable = [e for e in found if e.captured_at <= as_of]
    return usable[-1] if usable else None


def slate_lock(home: Path, day: dt.date, stat_cache: StatCache | None = None) -> dt.datetime | None:
    """The first tip of the DraftKings slate the date's newest salaries capture holds (the one its projections
    use, recorded as the capture's lock), or None. A capture older code recorded without it is read once for it
    (`stat_cache` remembers the answer under the file's signature, so a no-op run reads no parquet): an
    upgraded root gets the same lock as a new one."""
    found = entries(home, "salaries", day)
    if not found:  # the archive's own DraftKings files of the date, where it has them
        return archive_slate_lock(home, day, stat_cache)
    if found[-1].lock is not None or stat_cache is None:
        return found[-1].lock
    try:
        text = stat_cache.digest(data_path(home, found[-1]), kind="slate-lock", compute=_slate_lock_of)
    except (OSError, SourceError, ValueError, KeyError, TypeError):  # unreadable or drifted (ArrowInvalid is a
        return None  # ValueError): the salaries stage's contract names what is wrong
    return _ts(text) if text != "-" else None


def archive_slate_lock(home: Path, day: dt.date, stat_cache: StatCache | None = None) -> dt.datetime | None:
    """The first tip of the slate the salaries stage takes from the archive for `day`: the DraftKings main slate
    among its DraftKings files (the slate with most teams, then players; a game off it - the bubble's 1:30 PM
    game of 2020-08-06 - does not lock it), else the daily table's (rotoguru: the games it prices both teams of;
    2020-08-03's 1:30 PM game is not priced), or None where the archive has no salaries of the date. Each part
    is read once per date (`stat_cache`)."""
    from projections.archive import parts
    from projections.dates import season_of

    best: tuple[int, int, int, str] | None = None
    for part in parts(home, "salaries"):
        if season_of(day) not in part.seasons:
            continue
        try:
            # the kind names what the answer means: an answer cached by a version that read DraftKings rows only
            # (2020-08-03 then locked at a game off its slate) is not taken for this one
            text = stat_cache.digest(part.path, kind=f"slate-first-tip:{day}", compute=lambda p: _part_main(p, day)) \
                if stat_cache is not None else _part_main(part.path, day)
        except (OSError, SourceError, ValueError, KeyError, TypeError):  # a part whose columns drifted: the
            continue  # salaries stage's contract names it; the lock is the date's first tip meanwhile
        if text != "-":
            source, teams, players, tip = text.split("|")
            found = (int(source == "dk"), int(teams), int(players), tip)  # a DraftKings file first, as the stage
            best = max(best or found, found, key=lambda m: m[:3])
    return _ts(best[3]) if best is not None else None


def _part_main(path: Path, day: dt.date) -> str:
    """"source|teams|players|first tip" of the slate of `day` in one archive part (`archive_slate_lock`), or
    "-"."""
    import pandas as pd
    import pyarrow.parquet as pq

    from projections.sources.inbox import main_slate, main_slate_lock

    columns = ["source", "slate_id", "team", "opp", "player_id", "tip_time"]
    rows = pq.read_table(path, columns=columns, filters=[("game_date", "=", day)]).to_pandas()
    main = main_slate(rows)
    lock = main_slate_lock(rows)
    if main.empty:  # no DraftKings file of the date: the daily table's games, those it lists both teams of (a
        # stray priced player of a game not offered does not lock the date: salaries stage, 2020-01-25)
        daily = rows[rows["source"] == "rotoguru"]
        main = daily[daily["opp"].isin(set(daily["team"]))]
        tips = pd.to_datetime(main["tip_time"], utc=True, errors="coerce").dropna()
        lock = tips.min().to_pydatetime() if len(tips) else None
    source = "dk" if (main["source"] == "dk").any() else "rotoguru"
    return f"{source}|{main['team'].nunique()}|{len(main)}|{iso(lock)}" if lock is not None else "-"


def _slate_lock_of(path: Path) -> str:
    import pyarrow.parquet as pq

    from projections.sources.inbox import main_slate_lock

    columns = ["source", "slate_id", "team", "player_id", "tip_time"]
    lock = main_slate_lock(pq.read_table(path, columns=columns).to_pandas())
    return iso(lock) if lock is not None else "-"


def dates(home: Path, table: str) -> list[dt.date]:
    """Slate dates with an index for `table`, ascending."""
    folder = index_dir(home, table)
    out = []
    for path in folder.glob("game_date=*.jsonl") if folder.is_dir() else []:
        with contextlib.suppress(ValueError):
            out.append(dt.date.fromisoformat(path.stem.split("=", 1)[1]))
    return sorted(out)


@contextlib.contextmanager
def _appending(path: Path, home: Path) -> Iterator[int]:
    # the index is appended to by every user who fetches or ingests: its directories and the file itself get
    # the data root's policy (the caller's umask may be 022), as the layout under refs/ carries it
    from projections.ops import permissions

    policy = permissions.policy_of(home / "refs" if (home / "refs").is_dir() else home)
    permissions.ensure_dir(path.parent, policy)
    try:
        fd, created = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o664), True
    except FileExistsError:
        fd, created = os.open(path, os.O_WRONLY | os.O_APPEND), False
    try:
        if created:  # ours to give the policy's mode; an existing index is left to its owner (doctor checks it)
            os.fchmod(fd, policy.file_mode)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the flock


def _torn(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return False
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) != b"\n"


def record(home: Path, table: str, day: dt.date, *, files: Mapping[str, bytes], captured_at: dt.datetime,
           url: str, rows: int, lock: dt.datetime | None = None, meta: Mapping[str, Any] | None = None,
           stat_cache: StatCache | None = None) -> Recorded:
    """Commit one capture (files must include data.parquet) and index it for (table, day).

    `url` must already be redacted (projections.fetch returns it so). Raises StoreError on a store failure."""
    if DATA not in files:
        raise SourceError(f"snapshot {table} {day}: no {DATA} among {sorted(files)}")
    if captured_at.tzinfo is None:
        raise ValueError("captured_at must be timezone-aware")
    store = LocalStore(home, stat_cache=stat_cache)
    manifest = {"kind": "snapshot", "table": table, "game_date": day.isoformat(), "captured_at": iso(captured_at),
                "url": url, "rows": rows, "lock": iso(lock) if lock else None, **(meta or {}),
                "host": socket.gethostname(), "created_at": iso(dt.datetime.now(dt.UTC))}
    commit = store.commit(files, manifest)
    entry = Entry(table, day, captured_at, commit.object, digest_bytes(files[DATA]), url, rows, lock)
    path = index_path(home, table, day)
    with _appending(path, home) as fd:
        known = select(entries(home, table, day), captured_at)
        if known is not None and known.object == commit.object:
            return Recorded(known, commit.created, appended=False)
        line = (json.dumps(entry.line_json(), sort_keys=True) + "\n").encode()
        if _torn(path):
            line = b"\n" + line  # a writer killed mid-line: end its fragment so this line stays whole
        os.write(fd, line)
        os.fsync(fd)
    return Recorded(entry, commit.created, appended=True)


def season_entry(home: Path, table: str, day: dt.date, as_of: dt.datetime | None) -> Entry | None:
    """The newest capture of `table` for `day` at or before `as_of` (None: any), else the newest of the latest
    earlier date of `day`'s season that has one."""
    from projections.dates import season_of

    entry = select(entries(home, table, day), as_of)
    if entry is None:
        earlier = [d for d in dates(home, table) if d < day and season_of(d) == season_of(day)]
        entry = select(entries(home, table, earlier[-1]), as_of) if earlier else None
    return entry


def data_path(home: Path, entry: Entry) -> Path:
    """The parquet file of a snapshot; SourceError (with the fix) when its object is gone."""
    store = LocalStore(home)
    if not store.has(entry.object):
        raise SourceError(
            f"{entry.describe()} is indexed in {index_path(home, entry.table, entry.game_date)} but its object is "
            "not in the store; fetch or ingest the source again (or remove that index line)"
        )
    return store.object_dir(entry.object) / DATA


def last_table(home: Path, table: str, day: dt.date, now: dt.datetime, *,
               raw: tuple[str, bytes] | None = None) -> pd.DataFrame | None:
    """The table of the date's newest capture at or before `now`; with `raw` (file name, bytes), only when that
    capture's raw file holds exactly those bytes. None when there is none, or it is unreadable."""
    import pandas as pd

    last = select(entries(home, table, day), now)
    if last is None:
        return None
    try:
        path = data_path(home, last)
        if raw is not None and (path.parent / raw[0]).read_bytes() != raw[1]:
            return None
        return pd.read_parquet(path)
    except (SourceError, OSError, ValueError):
        return None


def require_intact(home: Path, source: str, objects: list[tuple[str, str]], stat_cache: StatCache) -> None:
    """SourceError unless each (what, object) of a source's ingested or fetched data is intact (rehashed only when
    a file's stat moved, through the run's `stat_cache`: planning is a no-op run's hot path): no build can make such
    an object again, so a damaged one is refused, never read."""
    store = LocalStore(home, stat_cache=stat_cache)
    for what, obj in objects:
        if not store.has(obj):
            continue  # gone, not damaged: reading it says so, with its own fix (data_path)
        problems = store.verify_object(obj, use_cache=True)
        if problems:
            raise SourceError(f"source {source}: {what} is damaged ({'; '.join(problems)}); no build can make it "
                              "again: ingest the file (or fetch the source) again - `projections verify` lists "
                              "every damaged object")

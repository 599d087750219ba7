"""The archive: season tables shipped with the project, plus parts a user ingested into the data root,
plus snapshots (live captures, DraftKings files) of single slate dates.

    projections/data/archive/<table>/<season>.parquet        shipped (built by projections.archive_build)
    $PROJECTIONS_HOME/refs/archive/<table>/<part>.json        ingested: names a store object + its seasons
    $PROJECTIONS_HOME/refs/snapshots/<table>/game_date=D.jsonl  captures of the table for slate D (sources/)

`ArchiveTable` is the source stages declare: for a slate date it pins the parts of the seasons it needs (their
digests come from the stat cache, so resolving costs a few stat calls) and loads only the rows the stage may
see. A snapshot of the date captured at or before as_of (an explicit as-of join over the snapshot index)
replaces the archive for that date - for a "day" window the whole table, for "before"/"all" windows the
date's own season - in every mode, so a past date and today resolve alike (only which snapshots exist
differs). In live mode (`source = "live"`) an ArchiveTable whose table has a live backend is also a
FetchingSource: the engine fetches a snapshot before the stages that read it, until the slate locks.
Which dates the parts and snapshots hold (the calendar) is projections.archive_calendar.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from projections.contracts import Contract
from projections.dates import EASTERN, season_of
from projections.errors import SourceError
from projections.hashing import hash_struct, is_digest, short
from projections.pipeline import Resolved, SourceEnv
from projections.sources import ENDPOINTS, snapshots
from projections.store import LocalStore, write_atomic

if TYPE_CHECKING:
    import pandas as pd

SHIPPED = Path(__file__).parent / "data" / "archive"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,120}$")
Window = Literal["day", "before", "asof_day", "all"]
Until = Literal["lock", "last_tip"]


@dataclass(frozen=True)
class Part:
    table: str
    name: str
    seasons: tuple[str, ...]
    path: Path
    origin: str  # "shipped" or "ingested"
    object: str = ""  # an ingested part's object in the store


def previous_season(season: str) -> str:
    start = int(season[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def ref_dir(home: Path, table: str) -> Path:
    return home / "refs" / "archive" / table


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


_PARTS: dict[tuple[Path, str, Path, int, int], list[Part]] = {}


def parts(home: Path, table: str, *, shipped: Path = SHIPPED) -> list[Part]:
    """Every part of `table`: the shipped ones, then the ingested ones (an ingested part with the same name
    as a shipped one replaces it). Remembered per process until either folder changes (adding or replacing
    a part renames a file into it, which moves the folder's mtime)."""
    key = (home, table, shipped, _mtime(shipped / table), _mtime(ref_dir(home, table)))
    if key not in _PARTS:
        _PARTS[key] = _list_parts(home, table, shipped)
    return list(_PARTS[key])


def _list_parts(home: Path, table: str, shipped: Path) -> list[Part]:
    found: dict[str, Part] = {}
    for path in sorted((shipped / table).glob("*.parquet")):
        found[path.stem] = Part(table, path.stem, (path.stem,), path, "shipped")
    store = LocalStore(home)
    refs = ref_dir(home, table)
    for ref in sorted(refs.glob("*.json")) if refs.is_dir() else []:
        try:
            info = json.loads(ref.read_bytes())
            obj, seasons, file = info["object"], tuple(info["seasons"]), info.get("file", "data.parquet")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"archive ref {ref} is unreadable ({exc}); remove it and ingest the file again") \
                from exc
        if not is_digest(obj) or not store.has(obj):
            raise SourceError(f"archive ref {ref} names object {short(str(obj))}, which is not in the store; "
                              "ingest the file again")
        found[ref.stem] = Part(table, ref.stem, seasons, store.object_dir(obj) / file, "ingested", obj)
    return list(found.values())


def add_part(home: Path, table: str, name: str, obj: str, seasons: tuple[str, ...], **info: Any) -> Path:
    """Record an ingested store object as a part of `table` (written atomically)."""
    if not _PART.match(name):
        raise SourceError(f"invalid archive part name {name!r}: use letters, digits, '.', '_', '=', '-'")
    ref = ref_dir(home, table) / f"{name}.json"
    write_atomic(ref, json.dumps({"object": obj, "seasons": list(seasons), **info}, sort_keys=True,
                                 default=str).encode())
    return ref


@dataclass(frozen=True)
class ArchiveTable:
    """A source reading one archive table for a slate date.

    window: "day" = rows of the date; "before" = rows strictly before it (no leakage); "asof_day" = rows of
    the date known at as_of (`time_column` <= as_of); "all" = every row of the seasons read.
    seasons: which seasons, as offsets from the date's season (0 = its own, 1 = the one before).
    columns: load only these columns (e.g. the starter flag of the date's games, never their stats).
    until: up to when the date's live captures are read (and fetched): the slate's lock (its first tip), or for news
    that is fixed once each game begins - its starters - the slate's last tip, so a run after the first tip still
    confirms the later games' lineups (DraftKings late swap locks each player at his own game's tip).
    """

    name: str
    table: str
    window: Window = "day"
    seasons: tuple[int, ...] = (0,)
    columns: tuple[str, ...] | None = None
    time_column: str = ""
    contract: Contract | None = None
    required: bool = True
    until: Until = "lock"
    fix: str = "run `projections ingest` for that season, or rebuild the shipped archive"

    def __post_init__(self) -> None:
        if self.columns and self.contract is not None:
            object.__setattr__(self, "contract", self.contract.restricted(self.columns))

    def _parts_for(self, env: SourceEnv, game_date: dt.date) -> list[Part]:
        wanted = []
        for offset in self.seasons:
            season = season_of(game_date)
            for _ in range(offset):
                season = previous_season(season)
            wanted.append(season)
        return [p for p in parts(env.home, self.table) if set(p.seasons) & set(wanted)]

    # ---- live side (FetchingSource) ----------------------------------------------------------------------

    @property
    def fetch_key(self) -> str:
        """The table, when it has a live backend and this source can read a capture (of its date's own season);
        otherwise there is no such attribute, so the pipeline does not list this source among its fetchers and
        a stage reading only earlier seasons (the calibration) never waits on, or fails with, a live fetch."""
        if self.table not in ENDPOINTS:
            raise AttributeError(f"archive table {self.table!r} has no live backend")
        if self.window == "all" or 0 not in self.seasons:
            raise AttributeError(f"source {self.name} reads no capture of its date ({self.table!r})")
        return self.table

    def needs_fetch(self, env: SourceEnv, game_date: dt.date, now: dt.datetime, lock: dt.datetime | None) -> bool:
        """True in live mode until `lock` (no network here): the slate's lock, or its last tip for a source read
        `until` then (the engine passes the one that applies). After it a capture could not be used anyway:
        rebuilding a locked slate reads what was known at the lock, and fetches nothing."""
        if getattr(env.settings, "source", "archive") != "live" or not live_configured(self.table, env.settings):
            return False
        next_day = game_date + dt.timedelta(days=1)
        if now >= dt.datetime(next_day.year, next_day.month, next_day.day, tzinfo=EASTERN):
            return False  # every tip of D is before midnight of D (US/Eastern): long locked
        if ENDPOINTS.get(self.table, "") is None and (lock is None or now >= lock):  # the DraftKings inbox: no
            # network, and a file dropped after the lock still holds the slate as known before it (its capture is
            # stamped so): it is taken when there is one
            from projections.sources.inbox import inbox_dir

            inbox = inbox_dir(env.settings)
            return inbox.is_dir() and any(p.suffix.lower() == ".csv" and p.is_file() for p in inbox.iterdir())
        if lock is None:  # the clock itself: its captures carry their slate's lock
            locks = [e.lock for e in snapshots.entries(env.home, self.table, game_date) if e.lock]
            lock = min(locks) if locks else None
        return lock is None or now < lock

    def fetch(self, env: SourceEnv, game_date: dt.date, now: dt.datetime) -> Mapping[str, Any]:
        """Capture the table for the date (raises FetchError/SourceError naming the URL, attempts and fix)."""
        from projections.sources import backends

        return backends.run(self.table, env, game_date, now)

    # ---- resolving -------------------------------------------------------------------------------------

    def _snapshot(self, env: SourceEnv, game_date: dt.date, as_of: dt.datetime | None) -> snapshots.Entry | None:
        if self.window == "all" or 0 not in self.seasons:
            return None  # a snapshot holds the date's own season only
        found = snapshots.entries(env.home, self.table, game_date)
        if not found:
            return None
        entry = snapshots.select(found, as_of)
        if entry is None and as_of is None:
            entry = found[0]  # the clock captured only after its lock: the first capture still fixes the slate
        return entry

    def resolve(self, env: SourceEnv, game_date: dt.date, as_of: dt.datetime | None) -> Resolved:
        snap = self._snapshot(env, game_date, as_of)
        chosen = self._parts_for(env, game_date)
        if snap is not None:  # the capture is the date's table; but rows stamped with their own time (injury reports)
            # are read with the archive's, each known from its time on: an older report ingested hides no newer one
            # (a live run's capture, fetched anew up to the lock, is its date's table: its key must not move with now)
            own, stamped = season_of(game_date), self.window == "asof_day" and bool(self.time_column) and getattr(
                env.settings, "source", "archive") != "live"
            chosen = chosen if stamped else [] if self.window in ("day", "asof_day") else [
                p for p in chosen if own not in p.seasons]
        if not chosen and snap is None and self.required:
            raise SourceError(
                f"source {self.name}: the archive has no {self.table!r} table for the season(s) this stage reads "
                f"for {game_date} (offsets {list(self.seasons)} from {season_of(game_date)}); {self.fix}"
            )
        if self.window == "asof_day" and as_of is None:
            raise SourceError(f"source {self.name}: as_of is unknown for {game_date}; build the schedule first")
        ours = [(f"ingested {self.table} part {p.name}", p.object) for p in chosen if p.object]
        snapshots.require_intact(env.home, self.name, ours + ([(snap.describe(), snap.object)] if snap else []),
                                 env.stat_cache)
        pinned = [(p.origin, p.name, env.stat_cache.digest(p.path)) for p in chosen]
        paths = [p.path for p in chosen]
        cutoff = as_of
        if snap is not None:
            pinned.append(("snapshot", f"game_date={game_date.isoformat()}", snap.data))
            paths.append(snapshots.data_path(env.home, snap))
            if as_of is not None and snap.captured_at < as_of and not chosen:
                cutoff = snap.captured_at  # nothing in a capture is newer than the capture: as_of moving on
                # while the same capture is selected must not change the key
        identity: dict[str, Any] = {"table": self.table, "window": self.window, "parts": pinned,
                                    "columns": list(self.columns) if self.columns else None}
        if self.window == "asof_day" and (chosen or snap is not None):  # with nothing to read, as_of cannot
            identity["as_of"] = cutoff  # change what is read: a live day's key must not move with the clock
        digest = hash_struct("archive", identity)
        describe = f"archive {self.table} " + (", ".join(f"{n} {short(d)}" for o, n, d in pinned if o != "snapshot")
                                               or "(no parts)")
        if snap is not None:
            describe += f"; {snap.describe()}"
        if "as_of" in identity and cutoff is not None:  # a cutoff that moved is what changed, not the code
            describe += f"; rows known by {cutoff.astimezone(dt.UTC):%Y-%m-%d %H:%M}Z"
        return Resolved(
            digest=digest,
            describe=describe,
            load=lambda: self._load(paths, game_date, cutoff),
            meta={"parts": [n for o, n, _ in pinned if o != "snapshot"],
                  "snapshot": snap.object if snap is not None else None},
        )

    def _load(self, paths: list[Path], game_date: dt.date, as_of: dt.datetime | None) -> pd.DataFrame:
        import pandas as pd
        import pyarrow.parquet as pq

        filters: list[tuple[str, str, Any]] | None
        if self.window in ("day", "asof_day"):
            filters = [("game_date", "=", game_date)]
        elif self.window == "before":
            filters = [("game_date", "<", game_date)]
        else:
            filters = None
        frames = []
        for path in paths:
            table = pq.read_table(path, filters=filters, columns=list(self.columns) if self.columns else None)
            frames.append(table.to_pandas())
        if not frames:
            if self.contract is None:
                return pd.DataFrame()
            wanted = self.columns or tuple(self.contract.columns)
            return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES.get(self.contract.columns.get(c, ""), "object"))
                                 for c in wanted})
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if self.window == "asof_day" and len(frames) > 1 and self.contract is not None and self.contract.unique:
            # the archive's parts, then the capture: a report both hold is the capture's (ingested anew, mended)
            frame = frame.drop_duplicates(list(self.contract.unique), keep="last").reset_index(drop=True)
        if self.window == "asof_day" and self.time_column and as_of is not None:
            frame = frame[frame[self.time_column] <= pd.Timestamp(as_of)].reset_index(drop=True)
        return frame


def live_configured(table: str, settings: Any) -> bool:
    endpoint = ENDPOINTS.get(table)
    live = getattr(settings, "live", None)
    return endpoint is None or (live is not None and bool(live.url_template(endpoint)))


_EMPTY_DTYPES: Mapping[str, str] = {"int": "int64", "float": "float64", "bool": "bool", "str": "object",
                                    "timestamp": "datetime64[ns, UTC]"}

"""The DraftKings salary inbox: a DKSalaries.csv becomes the salary snapshot of the date its Game Info names.

    $PROJECTIONS_HOME/inbox/*.csv        dropped by a person (or `live.inbox`); taken files move to
                                         processed/<slate id>__<name>
    projections ingest dk-salaries FILE  the same, for a file anywhere (left where it is)
    DraftKings' lobby                    a date still without salaries after the inbox: its main slate's CSV,
                                         taken as a dropped file is (projections/sources/draftkings.py)

The date comes from the file's content (Game Info), never from its name or time. A date's snapshot holds
every DraftKings slate seen for it, and the archive's slates of the date (early and main slates side by side;
the salaries stage picks the main one), so ingesting one more file makes a new snapshot that contains the old
ones; a file sharing DraftKings player ids with a slate already there is a new export of that slate and
replaces it. Capture time: a file taken
before its slate's first tip is known from now on; an archival file (taken after that tip) counts as known
from the start of its slate date, so a past slate rebuilt at its lock finds it.

A file that cannot be read is left in the inbox and named in the fetch summary and the error, with the fix; so
is an entry that is no regular file (a symbolic link, a folder, a pipe: never opened) or one larger than any
DraftKings export (refused from its size, unread) - the inbox is a drop folder others write to (intake.py).
A file that is taken but cannot be moved to processed/ (an inbox this user may not change) is recorded all the
same and named in the summary: the run goes on, and taking it again next time changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from projections.dates import season_of
from projections.errors import ConfigError, SourceError
from projections.ledger import iso
from projections.sources import dk_file, draftkings, files, intake, snapshots, tables

if TYPE_CHECKING:
    import pandas as pd

    from projections.pipeline import SourceEnv
    from projections.sources.http import LiveHttp
    from projections.statcache import StatCache

log = logging.getLogger(__name__)

EASTERN = ZoneInfo("America/New_York")
TABLE = "salaries"


def inbox_dir(settings: Any) -> Path:
    return Path(settings.live.inbox) if settings.live.inbox else settings.home / "inbox"


def _raw_files(home: Path, entry: snapshots.Entry) -> dict[str, bytes]:
    folder = snapshots.data_path(home, entry).parent
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("raw-")}


def read_dk(home: Path, content: bytes, name: str) -> tuple[dt.date, pd.DataFrame]:
    """(date, salaries) of one DKSalaries.csv, player ids resolved; files.BadFile for anything else,
    including a file whose teams mostly do not play on its date where the archive's schedule knows that date
    (an edited date, or another date's file: it would fail every run of that date)."""
    from projections.sources.people import People

    day, frame = dk_file.dk_salaries(content, name, lambda d: People.known_at(home, d).resolve)
    playing = _scheduled_teams(home, day)
    listed = set(frame["team"])
    absent = sorted(listed - playing) if playing is not None else []
    if len(absent) * 2 >= len(listed) > 0:  # a postponed game or two is not this (the salaries stage drops them)
        games = f"only {', '.join(sorted(playing))} play then" if playing else "there are no NBA games that day"
        opening = _season_opening(home, day)
        if not playing and opening is not None and day < opening:
            raise files.BadFile(f"{name}: its Game Info dates it {day}, before the {season_of(day)} regular season "
                                f"opens ({opening}): a preseason slate, which is not projected (the schedule holds "
                                "regular-season and playoff games only)")
        raise files.BadFile(f"{name}: its Game Info dates it {day}, but {', '.join(absent)} do not play on {day} "
                            f"per the archive's schedule ({games}); the file belongs to another date or was "
                            f"edited - {dk_file.DK_FIX}")
    return day, frame


def _season_opening(home: Path, day: dt.date) -> dt.date | None:
    """The first game date the archive's schedule holds for `day`'s season."""
    from projections.archive_calendar import Calendar

    span = Calendar.of(home).spans.get(season_of(day))
    return span[0] if span else None


def _scheduled_teams(home: Path, day: dt.date) -> set[str] | None:
    """The teams the archive's schedule has playing on `day`; None where it cannot vouch for the date (a
    season it lacks or only partly holds, or a date only a fetched schedule knows)."""
    import pyarrow.parquet as pq

    from projections.archive import parts
    from projections.archive_calendar import Calendar

    if Calendar.of(home).kind(day) == "unknown":
        return None
    teams: set[str] = set()
    for part in parts(home, "schedule"):
        rows = pq.read_table(part.path, columns=["home_team", "away_team"], filters=[("game_date", "=", day)])
        teams |= set(rows.column("home_team").to_pylist()) | set(rows.column("away_team").to_pylist())
    if not teams and snapshots.entries(home, "schedule", day):
        return None
    return teams


@dataclass(frozen=True)
class Taken:
    """One DKSalaries.csv recorded: its date and slate, the snapshot, the slates it replaces, notes for a person."""

    day: dt.date
    slate_id: str
    recorded: snapshots.Recorded
    replaced: list[str]
    notes: list[str]
    players: int  # on this file's slate (the snapshot holds every slate of the date)


def ingest_dk(home: Path, content: bytes, name: str, now: dt.datetime, *, stat_cache: StatCache | None = None,
              read: tuple[dt.date, pd.DataFrame] | None = None, url: str | None = None) -> Taken:
    """Record one DKSalaries.csv as (part of) its date's salary snapshot. A file sharing DraftKings player ids
    with a slate already recorded for the date is a new export of that slate (a re-download, a corrected copy):
    it replaces that slate instead of standing beside it as another one. The date's first snapshot starts from
    the archive's slates of the date (a snapshot stands in for the archive's rows of its date), so an early
    slate ingested for an archived date stands beside its main slate instead of hiding it.

    Raises files.BadFile (nothing recorded) for a file that is not a classic DraftKings NBA export."""

    day, frame = read or read_dk(home, content, name)
    notes = dk_file.dk_notes(frame)
    players = len(frame)
    slate_id = str(frame["slate_id"].iloc[0])
    previous, captured, older = _known(home, day, frame, now)
    raw = {f"raw-{slate_id}.csv": content}
    same, replaced, more = _same_slates(older, frame, name)
    notes += more
    frame = _merged(older, frame, same)
    if previous is not None:
        kept = {f"raw-{s}.csv" for s in set(frame["slate_id"]) - {slate_id}}
        raw = {**{k: v for k, v in _raw_files(home, previous).items() if k in kept}, **raw}
    tables.check(frame, TABLE, origin=f"({name})", fix=dk_file.DK_FIX)
    recorded = snapshots.record(home, TABLE, day, files={**raw, snapshots.DATA: tables.to_parquet(frame, TABLE)},
                                captured_at=captured, url=url or f"file:{Path(name).name}", rows=len(frame),
                                lock=main_slate_lock(frame), meta={"slates": sorted(set(frame["slate_id"]))},
                                stat_cache=stat_cache)
    coverage = [] if more else _coverage(home, day, frame, slate_id)  # games that left it were just named
    lock = dk_file.dk_lock(frame)
    if replaced and lock <= now < lock + dt.timedelta(hours=12):  # the slate's own day, already under way
        notes.append(f"taken after the slate's lock ({lock:%H:%M}Z): it counts as known before the lock, so the "
                     "locked slate's projections change with it")
    return Taken(day, slate_id, recorded, replaced, notes + coverage, players)


def check_dk(home: Path, reads: list[tuple[tuple[dt.date, pd.DataFrame], str]], now: dt.datetime) -> None:
    """files.BadFile for a file `ingest_dk` would refuse against what its date holds (a partial copy of a known
    slate), found before anything is written: the files in the order given, each against the date as the files
    before it leave it."""
    held: dict[dt.date, pd.DataFrame] = {}
    for (day, frame), name in reads:
        older = held[day] if day in held else _known(home, day, frame, now)[2]
        held[day] = _merged(older, frame, _same_slates(older, frame, name)[0])


def _merged(older: pd.DataFrame, frame: pd.DataFrame, same: set[str]) -> pd.DataFrame:
    """The date's salary rows once the file is taken: its slate in place of those it is a new export of."""
    import pandas as pd

    rest = older[~older["slate_id"].isin(same | {str(frame["slate_id"].iloc[0])})]
    return pd.concat([rest, frame], ignore_index=True) if len(rest) else frame


def _known(home: Path, day: dt.date, frame: pd.DataFrame, now: dt.datetime
           ) -> tuple[snapshots.Entry | None, dt.datetime, pd.DataFrame]:
    """(the snapshot the file's capture follows, its capture time, the salary rows the date holds before it: that
    snapshot's, or the archive's where there is none)."""
    import pyarrow.parquet as pq

    found = snapshots.entries(home, TABLE, day)
    lock = dk_file.dk_lock(frame)
    if now < lock:
        captured = now
    else:  # archival: known from the start of the slate date (and after anything already recorded for it)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(dt.UTC)
        captured = max([start, *(e.captured_at for e in found if e.captured_at <= lock)])
    previous = snapshots.select(found, captured)
    # an archival file joins the archive's slates of its date; a live capture holds what was captured (a replayed
    # day must not learn the archive's hindsight, e.g. the daily table's starters, before its lock)
    archived = archived_rows(home, day, list(frame.columns)) if now >= lock else frame.iloc[0:0]
    if previous is None:
        return previous, captured, archived
    older = pq.read_table(snapshots.data_path(home, previous)).to_pandas()
    if lacks_archive(older, archived):
        # a snapshot an older version recorded without the archive's slates of the date (an early slate that hid
        # the main one): they join it now, so ingesting a file of the date again mends it
        import pandas as pd

        older = pd.concat([archived[~archived["slate_id"].isin(set(older["slate_id"]))], older], ignore_index=True)
    return previous, captured, older


def lacks_archive(older: pd.DataFrame, archived: pd.DataFrame) -> bool:
    """Whether a date's salary snapshot is one an older version recorded without the archive's slates of the
    date (which it then hides): it holds none of them, or some and no other (the archive holds every real
    DraftKings export to 2020-12-31, so an older version's lone file was often one of them)."""
    ids, held, kept = set(older["dk_id"].dropna()), set(older["slate_id"]), set(archived["slate_id"])
    return bool(len(archived)) and (held < kept or not (kept & held or ids & set(archived["dk_id"].dropna())))


def main_slate_lock(frame: pd.DataFrame) -> dt.datetime | None:
    """The first tip of the DraftKings slate the projections use - the one with most teams, then players, as
    stages/salaries.py `_main_slate` picks among the DraftKings rows - or None without DraftKings rows or tips.
    The engine takes it for the date's lock when later than its first tip: news until then still counts."""
    import pandas as pd

    tips = pd.to_datetime(main_slate(frame)["tip_time"], utc=True, errors="coerce").dropna()
    return tips.min().to_pydatetime() if len(tips) else None


def main_slate(frame: pd.DataFrame) -> pd.DataFrame:
    """The DraftKings rows of the slate with most teams, then players (none without DraftKings rows)."""
    dk = frame[frame["source"] == "dk"]
    if dk.empty:
        return dk
    size = dk.groupby("slate_id").agg(teams=("team", "nunique"), players=("player_id", "size"))
    return dk[dk["slate_id"] == size.sort_values(["teams", "players"], ascending=False).index[0]]


def _same_slates(older: pd.DataFrame, frame: pd.DataFrame, name: str) -> tuple[set[str], list[str], list[str]]:
    """(the slates of `older` the file is a new export of, those it changes, notes); files.BadFile for a partial
    copy of one (`_shrink`)."""
    if not len(older):
        return set(), [], []
    slate_id = str(frame["slate_id"].iloc[0])
    ids = set(frame["dk_id"].dropna())
    same = {str(s) for s, part in older.groupby("slate_id") if ids & set(part["dk_id"].dropna())}
    replaced = sorted(s for s in same - {slate_id} if not _alike(older[older["slate_id"] == s], frame))
    notes = [note for old in replaced for note in _shrink(older[older["slate_id"] == old], frame, name, old)]
    return same, replaced, notes


SHRINK = 0.75  # a new export listing fewer than this share of a game's players is a part of the slate


def _shrink(old: pd.DataFrame, new: pd.DataFrame, name: str, old_slate: str) -> list[str]:
    """A new export of a slate that lists fewer of its players: files.BadFile where it is a part of the slate
    (a game listed with fewer of its players, or most of its games gone: a filtered or cut copy would replace the
    whole slate), a note where whole games left it (postponed after the first export)."""
    def games(frame: pd.DataFrame) -> Counter[str]:
        return Counter("@".join(sorted(pair)) for pair in zip(frame["team"], frame["opp"], strict=True))

    before, after = games(old), games(new)
    thinner = sorted(g for g in after if after[g] < SHRINK * before.get(g, 0))  # a player or two may leave a slate
    gone = sorted(set(before) - set(after))
    if thinner or len(gone) * 2 > len(before):
        what = (f"lists fewer players of {', '.join(thinner[:3])}" if thinner
                else f"leaves out {len(gone)} of its {len(before)} games")
        raise files.BadFile(f"{name}: a new export of slate {old_slate} (the same DraftKings ids) that {what} "
                            f"({len(new)} players, the slate has {len(old)}): a filtered or partial copy would "
                            f"replace the whole slate; {dk_file.DK_FIX}")
    return [f"{', '.join(gone)} left slate {old_slate} (postponed?): its players are no longer on it"] if gone else []


def _alike(one: pd.DataFrame, other: pd.DataFrame) -> bool:
    """The same slate: the same players at the same salaries and roster slots (the archive's copy of a file,
    whose slate id was made another way, is not 'replaced' by the file itself)."""
    import pandas as pd

    cols = ["dk_id", "player_id", "team", "salary", "roster_positions"]

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:  # a snapshot holding rotoguru rows stores ids as floats
        out = frame[cols].assign(dk_id=pd.array(pd.to_numeric(frame["dk_id"]), dtype="Int64")).astype(str)
        return out.sort_values(cols).reset_index(drop=True)

    return bool(canonical(one).equals(canonical(other)))


def archived_rows(home: Path, day: dt.date, columns: list[str]) -> pd.DataFrame:
    """The archive's salary rows of `day` (every slate and source), in the columns of a DK file's table."""
    import pandas as pd
    import pyarrow.parquet as pq

    from projections.archive import parts

    frames = [pq.read_table(p.path, filters=[("game_date", "=", day)]).to_pandas()
              for p in parts(home, TABLE) if season_of(day) in p.seasons]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    rows = rows.reindex(columns=columns)
    rows["dk_id"] = pd.array(rows["dk_id"], dtype="Int64")  # floats where rotoguru rows (no id) are read with it
    return rows


def _coverage(home: Path, day: dt.date, frame: pd.DataFrame, slate_id: str) -> list[str]:
    """A note when the file's slate is not the date's whole slate: which slate the projections use (the
    DraftKings one with most teams, as the salaries stage picks), and what that leaves out."""
    dk = frame[frame["source"] == "dk"]
    teams = dk.groupby("slate_id")["team"].nunique()
    mine = int(teams.get(slate_id, 0))
    bigger = teams[teams > mine]
    if len(bigger):
        return [f"{slate_id} ({_games(mine)}) is kept beside slate {bigger.idxmax()} ({_games(int(bigger.max()))}), "
                "which the date's projections use (the slate with most games)"]
    playing = _scheduled_teams(home, day)
    if playing is not None and mine < len(playing):
        return [f"{slate_id} has {mine // 2} of the {_games(len(playing))} on {day}: the date's projections "
                "cover only its games until the main slate's DKSalaries.csv is ingested"]
    return []


def _games(teams: int) -> str:
    return f"{teams // 2} game{'s' if teams // 2 != 1 else ''}"


def _archive_has(home: Path, day: dt.date) -> bool:
    import pyarrow.parquet as pq

    from projections.archive import parts
    from projections.dates import season_of

    for part in parts(home, TABLE):
        if season_of(day) in part.seasons and pq.read_table(part.path, columns=["game_date"],
                                                            filters=[("game_date", "=", day)]).num_rows:
            return True
    return False


def fetch_salaries(env: SourceEnv, day: dt.date, now: dt.datetime, http: LiveHttp | None = None) -> dict[str, Any]:
    """Take every DKSalaries.csv in the inbox; when `day` then has no salaries (snapshot or archive), ask DraftKings
    for its main slate; fail unless `day` then has salaries."""
    inbox = inbox_dir(env.settings)
    intake.check_inbox(inbox, default=not env.settings.live.inbox)
    taken: list[str] = []
    rejected: list[str] = []
    unmoved: list[str] = []
    for path in intake.waiting(inbox):
        name = intake.shown(path.name)
        try:
            content = intake.read_dropped(path, limit=dk_file.DK_MAX_BYTES, what=dk_file.DK_WHAT)
            if content is None:  # another run took it meanwhile
                continue
            took = ingest_dk(env.home, content, name, now, stat_cache=env.stat_cache)
        except files.BadFile as exc:
            log.warning("inbox: %s", exc)
            rejected.append(str(exc))
            continue
        taken.append(f"{name} -> {took.day} {took.slate_id}"
                     + (f" (replaces {', '.join(took.replaced)})" if took.replaced else "")
                     + "".join(f"; note: {n}" for n in took.notes))
        done = intake.processed_path(inbox, took.slate_id, path.name)
        try:
            intake.move_taken(path, done, env.settings.permissions)
            continue
        except ConfigError as exc:  # its processed/ folder cannot be made: the message names why and the fix
            unmoved.append(f"{name}: cannot move it to {done.parent}: {exc}")
        except OSError as exc:  # recorded all the same: the run goes on, and taking it again changes nothing
            unmoved.append(f"{name}: cannot move it to {done.parent} ({exc.strerror or exc}); make {inbox} "
                           "writable, or move the file yourself")
        log.warning("inbox: %s", unmoved[-1])
    entry = snapshots.select(snapshots.entries(env.home, TABLE, day), now)
    missing = entry is None and not _archive_has(env.home, day)  # (a fetch adds snapshots, never archive parts)
    fetched, unfetched = draftkings.take(env, day, now, http) if missing else ("", "")
    if fetched:
        entry = snapshots.select(snapshots.entries(env.home, TABLE, day), now)
    if missing and entry is None:
        detail = (f"; unreadable files left there: {' | '.join(rejected)}" if rejected else
                  f"; it holds no file for {day}" if inbox.is_dir() else "; that folder does not exist")
        raise SourceError(f"salaries: no DraftKings salaries for {day} in the inbox {inbox}{detail} - download the "
                          f"slate's DKSalaries.csv from DraftKings and drop it into {inbox}, or run `projections "
                          f"ingest dk-salaries FILE`" + (f"; {unfetched}" if unfetched else "")
                          + (f"; took {fetched}, not of {day}" if fetched else ""))
    held = f"{entry.rows} salary rows for {day} ({entry.object[9:19]})" if entry is not None else \
        f"no snapshot for {day}: the archive's salaries stand"
    left = f", {len(unmoved)} left in the inbox (cannot move)" if unmoved else ""
    # which file went where, and why one was refused, in the run's own output (it was in the ledger alone)
    which = "".join(f"; took {t.split('; note: ')[0]}" for t in [*([fetched] if fetched else []), *taken][:3]) + \
        "".join(f"; refused {(r.splitlines() or [''])[0][:160]}" for r in rejected[:3])
    summary: dict[str, Any] = {"describe": f"inbox: {len(taken)} taken, {len(rejected)} refused{left}; {held}{which}",
                               "taken": taken or None, "rejected": rejected or None, "unmoved": unmoved or None,
                               "held": held, "draftkings": fetched or None}
    if entry is not None:
        summary.update(object=entry.object, data=entry.data, rows=entry.rows, captured_at=iso(entry.captured_at))
    return summary

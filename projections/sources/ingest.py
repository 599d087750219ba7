"""`projections ingest`: files a person downloads become archive parts (or salary snapshots) in the data root,
so another season or a new slate runs with the same `doit slate date=...` command.

    game logs  a season's stats.nba.com LeagueGameLog export (player mode, CSV or JSON) -> player_logs/<season>
               and, unless the archive has one, schedule/<season> built from its games (tips at 19:00 ET,
               `tip_time_source` "default": the logs carry no tip times)
    lines      a closing-lines file (nba_2008-2025_raw.csv layout) -> odds/<season> for each season in it
    dk         DKSalaries.csv -> the salary snapshot of the date its Game Info names (projections/sources/inbox.py)
    injuries   an official injury report (PDF, or CSV) -> the injuries capture of its date, at the time it was
               published (projections/sources/injury_files.py)

A part is a store object (data.parquet, written like the shipped archive) named by a ref under
refs/archive/<table>/. A season the archive already has (shipped or ingested) is kept unless `replace` is
given; what was kept is reported. Everything is read and checked before anything is written, so a bad file
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from projections import failpoints
from projections.archive import add_part, parts
from projections.archive_calendar import WHOLE_SEASON_DAYS
from projections.errors import ContractViolation
from projections.ledger import iso
from projections.sources import files, tables
from projections.statcache import StatCache
from projections.store import LocalStore

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class IngestReport:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _checked(frame: pd.DataFrame, table: str, name: str, fix: str) -> bytes:
    try:
        tables.check(frame, table, origin=f"(from {name})", fix=fix)
    except ContractViolation as exc:
        raise files.BadFile(f"{name}: {exc}") from None
    return tables.to_parquet(frame, table)


def _plan(home: Path, table: str, frame: pd.DataFrame, name: str, fix: str, replace: bool, report: IngestReport,
          seasons: set[str] | None) -> list[tuple[str, bytes, int]]:
    existing = {p.name: p.origin for p in parts(home, table)}
    out = []
    for season, part in sorted(frame.groupby("season"), key=lambda kv: str(kv[0])):
        season = str(season)
        if seasons is not None and season not in seasons:
            continue
        data = _checked(part.reset_index(drop=True), table, name, fix)  # a bad file is refused, kept or not
        if season in existing and not replace:
            report.kept.append(f"{table}/{season}: the archive already has it ({existing[season]}); pass --replace "
                               "to put this file in its place")
            continue
        out.append((season, data, len(part)))
    return out


def _write(home: Path, writes: list[tuple[str, list[tuple[str, bytes, int]]]], name: str, content: bytes,
           report: IngestReport, now: dt.datetime) -> None:
    """Every object first, then every ref: a full disk fails among the objects (gc takes them), before the
    archive changes; the refs are a few hundred bytes each, a game-log file's schedule ref after its logs'."""
    store = LocalStore(home, stat_cache=StatCache(None))
    sha = hashlib.sha256(content).hexdigest()
    info = {"source_file": Path(name).name, "sha256": sha, "ingested_at": iso(now)}
    committed = [(table, season, rows, store.commit({"data.parquet": data}, {
        "kind": "ingest", "table": table, "season": season, "rows": rows, **info, "host": socket.gethostname()}).object)
        for table, planned in writes for season, data, rows in planned]
    for table, season, rows, obj in committed:
        add_part(home, table, season, obj, (season,), rows=rows, **info)
        failpoints.hit("ingest.part_added")
        report.written.append(f"{table}/{season}: {rows} rows (object {obj[9:19]})")


def schedule_from_logs(logs: pd.DataFrame) -> pd.DataFrame:
    """One row per game of the logs (home and away from the home flag); 19:00 ET tips, marked "default"."""
    import pandas as pd

    from projections.archive_build import eastern_to_utc

    sides = logs.drop_duplicates(["game_id", "team"])
    home = sides[sides["home"]].set_index("game_id")
    away = sides[~sides["home"]].set_index("game_id")
    both = home.index.intersection(away.index)
    games = pd.DataFrame({
        "season": home.loc[both, "season"], "game_date": home.loc[both, "game_date"], "game_id": both,
        "home_team": home.loc[both, "team"], "away_team": away.loc[both, "team"],
        "playoffs": home.loc[both, "playoffs"].astype(bool),
    }).reset_index(drop=True)
    games["tip_time"] = pd.Series([eastern_to_utc(d, 19, 0) for d in games["game_date"]],
                                  dtype="datetime64[us, UTC]")
    games["tip_time_source"] = "default"
    games["status"] = "final"
    return games


@dataclass
class Prepared:
    """An ingest read and checked, not yet written: `write` commits it (nothing is written before)."""

    name: str
    content: bytes
    report: IngestReport
    writes: list[tuple[str, list[tuple[str, bytes, int]]]]

    def write(self, home: Path, now: dt.datetime) -> IngestReport:
        _write(home, self.writes, self.name, self.content, self.report, now)
        return self.report


def _no_season(name: str, seasons: set[str] | None, frame: pd.DataFrame) -> str:
    """No row of the --season(s) asked for: which seasons the file holds, and the form a season is named in."""
    import re

    held = sorted(set(frame["season"].astype(str))) if len(frame) else []
    bad = sorted(s for s in seasons or () if not re.fullmatch(r"\d{4}-\d{2}", s))
    form = f"; a season is written YYYY-YY, e.g. 2019-20 (not {', '.join(bad)})" if bad else ""
    # the newest seasons are the ones asked for most: a long file shows its first and its last three
    listed = ", ".join(held) if len(held) <= 6 else \
        f"{', '.join(held[:3])} ... {', '.join(held[-3:])} ({len(held)} seasons)"
    holds = f"the file holds {listed}" if held else "the file holds no row"
    return f"{name}: no rows of the season(s) asked for ({', '.join(sorted(seasons or []))}): {holds}{form}"


def _archived(home: Path, table: str, season: str, *, shipped: bool = True) -> pd.DataFrame | None:
    """The rows of `season` in the archive's `table`, or None where it has none: the part in use (an ingested one
    replaces the shipped one of its name) and the shipped part it replaced, rows of the part in use first. So a
    schedule an older version shrank to its logs' games (a --replace that dropped the 2020 bubble) gets them back
    from the shipped part on the next ingest."""
    import pandas as pd
    import pyarrow.parquet as pq

    from projections.archive import SHIPPED

    paths = [p.path for p in parts(home, table) if season in p.seasons][-1:]
    replaced = SHIPPED / table / f"{season}.parquet"
    if shipped and replaced.is_file() and replaced not in paths:
        paths.append(replaced)
    if not paths:
        return None
    frames = [pq.read_table(path, filters=[("season", "=", season)]).to_pandas() for path in paths]
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    key = "game_id" if table == "schedule" else None
    if key and len(frames) > 1:  # a game in both: the shipped row's real tip time, not the logs' default
        rows = rows.sort_values("tip_time_source", key=lambda s: s.eq("default"), kind="stable")
        rows = rows.drop_duplicates(key).reset_index(drop=True)
    return rows


def _with_archived_games(home: Path, games: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """The schedule built from the logs, with the games the archive's schedule already has taken from it: its
    tip times are real (the logs' are a 19:00 default) and it holds games the logs do not (the 2020 bubble,
    games still to play). A log file replacing a season's logs must not shrink its schedule."""
    import pandas as pd

    merged = []
    for season, part in games.groupby("season"):
        old = _archived(home, "schedule", str(season))
        if old is None or (old["game_id"].isin(set(part["game_id"])).all()
                           and (old["tip_time_source"] == "default").all()):
            merged.append(part)  # the season's first logs, or a schedule made from earlier logs of it
            continue
        new = part[~part["game_id"].isin(set(old["game_id"]))]
        in_use = _archived(home, "schedule", str(season), shipped=False)
        lacking = len(old) - (0 if in_use is None else int(old["game_id"].isin(set(in_use["game_id"])).sum()))
        report.notes.append(f"schedule/{season}: the archive's {len(old)} games (and their tip times) are kept"
                            + (f"; {len(new)} games only this file has are added" if len(new) else "")
                            + (f"; {lacking} games an earlier ingest had dropped are back" if lacking else ""))
        if new.empty and not lacking:
            continue  # nothing to write: the schedule stays the archive's part
        merged.append(pd.concat([old[list(part.columns)], new], ignore_index=True)
                      .sort_values(["game_date", "game_id"]).reset_index(drop=True))
    return pd.concat(merged, ignore_index=True) if merged else games.iloc[0:0]


def _note_lost_starts(home: Path, logs: pd.DataFrame, seasons: set[str], report: IngestReport, *,
                      file: bool = True) -> None:
    """A note for each season whose logs do not flag who started: roles are then guessed from minutes
    (projections' starter proxy) - where they replace logs that flagged them, that the season's projections
    change; otherwise how to get the flags (the season's fetch, with each game's box score)."""
    for season in sorted(seasons):
        if logs.loc[logs["season"] == season, "started"].notna().any():
            continue
        old = _archived(home, "player_logs", season)
        if old is not None and old["started"].notna().any():
            report.notes.append(
                f"player_logs/{season}: the archive's logs flag who started (Basketball-Reference GS) and this "
                "file does not: starts are inferred from minutes from now on, so the season's projections change")
        elif file:  # a LeagueGameLog export never says: the roles of this season and the calibration fitted on it
            report.notes.append(
                f"player_logs/{season}: the file does not say who started (a stats.nba.com export never does): "
                "starts are inferred from minutes, which costs accuracy, for this season's slates and the next "
                f"season's calibration; `projections ingest game-logs --fetch {season} --replace` fetches them "
                "with each game's starters")


def _missing_schedules(home: Path, kept: set[str], name: str, fix: str, report: IngestReport
                       ) -> list[tuple[str, bytes, int]]:
    """The schedule of each season in `kept` (its logs the archive has, so kept) that the archive lacks, made from
    those logs as their ingest makes it: an ingest stopped between its two parts (a full disk, a kill) left the
    logs without it, and `doit slate` then calls the season outside the archive."""
    have = {season for part in parts(home, "schedule") for season in part.seasons}
    out = []
    for season in sorted(kept - have):
        archived = _archived(home, "player_logs", season, shipped=False)
        if archived is None or archived.empty:
            continue
        out += _plan(home, "schedule", schedule_from_logs(archived), name, fix, False, report, {season})
        report.notes.append(f"schedule/{season}: the archive had player_logs/{season} without its schedule (an "
                            "earlier ingest stopped between the two): made from those logs' games")
    return out


def prepare_game_logs(home: Path, content: bytes, name: str, *, replace: bool = False,
                      seasons: set[str] | None = None,
                      starts: Callable[[pd.DataFrame], tuple[pd.DataFrame, list[str]]] | None = None) -> Prepared:
    """`starts`: flags who started each game (logs -> logs, notes), for a file without them (sources.starts)."""
    report = IngestReport()
    logs = files.game_logs(content, name)
    if starts is not None:
        logs, notes = starts(logs)
        report.notes.extend(notes)
    fix = files.LOGS_FIX
    planned = _plan(home, "player_logs", logs, name, fix, replace, report, seasons)
    if not planned and not report.kept:
        raise files.BadFile(_no_season(name, seasons, logs))
    games = _with_archived_games(home, schedule_from_logs(logs[logs["season"].isin({p[0] for p in planned})]),
                                 report)
    planned_games = _plan(home, "schedule", games, name, fix, replace, report,
                          {p[0] for p in planned} & set(games["season"]))
    kept = set(logs["season"]).intersection(seasons or set(logs["season"])) - {p[0] for p in planned}
    planned_games += _missing_schedules(home, kept, name, fix, report)
    _note_lost_starts(home, logs, {p[0] for p in planned}, report, file=starts is None)
    for season in sorted({p[0] for p in planned}):
        days = logs.loc[logs["season"] == season, "game_date"]
        first, last = min(days), max(days)
        if (last - first).days >= WHOLE_SEASON_DAYS:
            continue
        count = logs.loc[logs["season"] == season, "game_id"].nunique()
        # a truncated export, or a season still under way
        if season in set(games["season"]) and max(games.loc[games["season"] == season, "game_date"]) <= last:
            report.notes.append(
                f"{season} holds {count} games from {first} to {last} only: a partial season, so dates "
                "outside that span are refused as outside the archive; when you have the whole season's file, "
                "ingest it with --replace")
        else:
            report.notes.append(
                f"player_logs/{season} holds games from {first} to {last} only (a partial season) while the "
                f"archive's schedule goes on: dates after {last} are projected from history that ends there; when "
                "you have the whole season's file, ingest it with --replace")
    return Prepared(name, content, report, [("player_logs", planned), ("schedule", planned_games)])


def prepare_lines(home: Path, content: bytes, name: str, *, replace: bool = False,
                  seasons: set[str] | None = None) -> Prepared:
    report = IngestReport()
    odds = files.lines(content, name)
    planned = _plan(home, "odds", odds, name, files.LINES_FIX, replace, report, seasons)
    if not planned and not report.kept:
        raise files.BadFile(_no_season(name, seasons, odds))
    for season in sorted({p[0] for p in planned}):
        days = odds.loc[odds["season"] == season, "game_date"]
        first, last = min(days), max(days)
        if (last - first).days < WHOLE_SEASON_DAYS:  # a truncated file, or a season still under way
            report.notes.append(
                f"odds/{season} holds {len(days)} games from {first} to {last} only (a partial season): games "
                "outside that span have no line, so they are projected without spread or total; when you have the "
                "whole season's file, ingest it with --replace")
    return Prepared(name, content, report, [("odds", planned)])

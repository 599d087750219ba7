"""`projections ingest`: add data a person downloaded, so another season or a new slate runs with `doit slate`.

    projections ingest game-logs FILE [--season S] [--replace]   a season's stats.nba.com LeagueGameLog export
    projections ingest game-logs --fetch S [--replace]           the same, fetched from the live game-log endpoint
                                                                 (live.game_logs; the regular season, then its
                                                                 play-in and playoffs, with each game's starters)
    projections ingest lines FILE [--season S] [--replace]       closing lines (nba_2008-2025_raw.csv layout)
    projections ingest dk-salaries FILE [FILE ...]               DKSalaries.csv: the slate of the date it names
    projections ingest inbox                                     take every DKSalaries.csv in the inbox now
    projections ingest injuries FILE [FILE ...] [--at TIME]      official injury reports (the NBA's PDF, or its
                                                                 table as CSV with --at): each its date's capture,
                                                                 known from the time it was published

A bad file is refused with the file, the column and the fix, and nothing is changed (exit 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("ingest", help="add game logs, lines, DraftKings salary files or injury reports",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (("game-logs", "a season's player game logs (LeagueGameLog CSV or JSON)"),
                       ("lines", "closing lines, one row a game")):
        k = kinds.add_parser(kind, help=text, description=text)
        k.add_argument("file", type=Path, nargs="?" if kind == "game-logs" else None,
                       help="a LeagueGameLog export (CSV or JSON), or none with --fetch" if kind == "game-logs" else
                       "a lines file, one row a game, in the columns of nba_2008-2025_raw.csv: season (the year it "
                       "ends, 2020 for 2019-20), date, away, home, whos_favored, spread, total, moneyline_away, "
                       "moneyline_home, score_away, score_home, playoffs")
        k.add_argument("--season", action="append", metavar="S",
                       help="only this season (e.g. 2022-23); repeat for more (default: every season in the file)")
        k.add_argument("--replace", action="store_true", help="replace seasons the archive already has")
        if kind == "game-logs":
            k.add_argument("--fetch", metavar="S", help="instead of a FILE: fetch season S from the live game-log "
                           "endpoint - its regular season, then its play-in and playoffs, with each game's starters "
                           "(e.g. the season before a live season, which the calibration fits on)")
        k.set_defaults(handler=run)
    text = "DKSalaries.csv files: each becomes its date's salary snapshot"
    k = kinds.add_parser("dk-salaries", help=text, description=text + " (the date its Game Info names)")
    k.add_argument("files", type=Path, nargs="+", metavar="FILE", help="a DraftKings salary export (DKSalaries.csv)")
    k.set_defaults(handler=run)
    text = "take every DKSalaries.csv waiting in the inbox now"
    k = kinds.add_parser("inbox", help=text, description=text + " ($PROJECTIONS_HOME/inbox, or live.inbox); a "
                         "taken file moves to its processed/ folder")
    k.set_defaults(handler=run)
    text = ("official injury reports (PDF, or CSV with --at): each becomes its date's injuries capture, known from "
            "its publication time")
    k = kinds.add_parser("injuries", help=text, description=text)
    k.add_argument("files", type=Path, nargs="+", metavar="FILE",
                   help="an official injury report: the NBA's PDF, or its table as CSV (with --at)")
    k.add_argument("--at", type=_published, metavar="TIME",
                   help="when a CSV table was published: 'YYYY-MM-DD HH:MM' (US/Eastern) or ISO 8601 with an offset; "
                        "a PDF's title gives its own")
    k.set_defaults(handler=run)


def _published(text: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    forms = "give 'YYYY-MM-DD HH:MM' (US/Eastern), e.g. '2019-11-01 17:30', or ISO 8601 with an offset"
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    else:  # a date alone read as its midnight: a report of the afternoon stamped as known hours before it was out
        raise argparse.ArgumentTypeError(f"{text!r} is a date without the time the report was published; {forms}")
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time; {forms}") from None
    return when.replace(tzinfo=ZoneInfo("America/New_York")) if when.tzinfo is None else when


def run(args: argparse.Namespace) -> int:
    from projections import locks
    from projections.commands._edge import failed, writes
    from projections.errors import ConfigError, FetchError
    from projections.ops.permissions import apply_umask, ensure_tree
    from projections.settings import load_settings
    from projections.sources import dk_file, inbox, ingest
    from projections.sources.intake import read_file  # the inbox reads its files with the same cap

    settings = load_settings()
    home = settings.home
    apply_umask(settings.permissions)  # the locks, store folders and refs it may create follow the policy
    now = settings.live.now or dt.datetime.now(dt.UTC)
    # read and check everything first: a bad file is refused before anything (even a lock file) is written
    if args.kind == "injuries":
        from projections.sources import injury_files

        reports = []
        for number, path in enumerate(args.files, start=1):
            content = read_file(path, limit=injury_files.MAX_BYTES, what=injury_files.WHAT)
            reports.append(injury_files.read_report_file(home, content, _name(path), args.at, now))
            if number % injury_files.PROGRESS_EVERY == 0 and number < len(args.files):  # a season of PDFs: minutes
                print(f"injury reports: {number} of {len(args.files)} read and checked", file=sys.stderr, flush=True)
    elif args.kind == "dk-salaries":
        read = [(path, content, inbox.read_dk(home, content, _name(path))) for path, content in
                ((p, read_file(p, limit=dk_file.DK_MAX_BYTES, what=dk_file.DK_WHAT)) for p in args.files)]
        inbox.check_dk(home, [(parsed, _name(path)) for path, _, parsed in read], now)
    elif args.kind in ("game-logs", "lines"):
        seasons = set(args.season) if args.season else None
        starts = None
        if getattr(args, "fetch", None) is not None:
            from projections.sources.season_logs import complete

            try:
                content, name, seasons = _fetched(args, settings)
            except FetchError as exc:  # the network or the feed, not the command: exit 1 as `projections fetch`
                return failed(args, f"fetch failed: {exc}", 1)
            starts = complete(settings.live, next(iter(seasons)), echo=print)
        elif args.file is None:
            raise ConfigError("ingest game-logs needs a FILE (a LeagueGameLog export) or --fetch SEASON")
        else:
            content, name = read_file(args.file), _name(args.file)
        prepared = ingest.prepare_game_logs(home, content, name, replace=args.replace, seasons=seasons,
                                            starts=starts) if args.kind == "game-logs" else \
            ingest.prepare_lines(home, content, name, replace=args.replace, seasons=seasons)
    else:
        _check_inbox(settings)
        waiting = _waiting(settings)
        if not waiting:  # nothing to take: nothing is written, not even a lock file
            folder = inbox.inbox_dir(settings)
            # the default inbox need not exist yet (a set live.inbox that does not is refused above), but a data
            # root of a typo has none: say which folder was read
            missing = "" if folder.is_dir() else (" (no such folder yet: nothing was ever dropped there - check "
                                                  "PROJECTIONS_HOME, or create it and drop the files in)")
            print(f"inbox {folder}: no DKSalaries.csv waiting{missing}")
            return 0
    # a data root (or inbox) this user may not write: one line naming the path and the fix, exit 2 - the lock
    # comes first, so that is where such a root is refused, before anything is written
    with writes(home, f"ingest {args.kind}"):
        ensure_tree(home, settings.permissions)  # a new data root is laid out under the policy, as a build's is
    with writes(home, f"ingest {args.kind}"), \
            locks.hold(home / "locks" / "store.lock", what="the store", shared=True, timeout=settings.lock_timeout_s):
        if args.kind == "inbox":
            return _take_inbox(settings, now, waiting)
        if args.kind == "injuries":
            for each in reports:
                print(injury_files.ingest_report(home, each).line())
            return 0
        if args.kind == "dk-salaries":
            for path, content, parsed in read:
                took = inbox.ingest_dk(home, content, _name(path), now, read=parsed)
                state = "new snapshot" if took.recorded.appended else "already known"
                again = f", replaces {', '.join(took.replaced)} (the same DraftKings slate)" if took.replaced else ""
                print(f"{_name(path)}: {took.day} slate {took.slate_id}{again}, {took.players} players ({state}, known "
                      f"from {took.recorded.entry.captured_at.isoformat()})")
                for note in took.notes:
                    print(f"note: {note}")
            return 0
        report = prepared.write(home, now)
    for line in report.written:
        print(f"wrote {line}")
    for line in report.kept:
        print(f"kept  {line}")
    for line in report.notes:
        print(f"note: {line}")
    if not report.written:
        print("nothing written")
    return 0


def _name(path: Path) -> str:
    """A file named on the command line as its messages and records name it: on one line (a newline or other
    control character in the name escaped, so it cannot split an `error:` line or forge one)."""
    from projections.textsafe import one_line

    return one_line(path)


def _fetched(args: argparse.Namespace, settings: Any) -> tuple[bytes, str, set[str]]:
    """The season's LeagueGameLog body fetched for `--fetch`, its URL as the name, and the season to take."""
    from projections.errors import ConfigError
    from projections.sources.season_logs import checked_season, fetch_season

    if args.file is not None or args.season:
        raise ConfigError("ingest game-logs: --fetch names the season to fetch; give it without a FILE or --season")
    season = checked_season(args.fetch)
    print(f"fetching the {season} regular season's game logs from the live game-log endpoint...", flush=True)
    content, url = fetch_season(settings.live, season)
    return content, url, {season}


def _check_inbox(settings: Any) -> None:
    """ConfigError for a `live.inbox` that names a file, or no folder at all (a typo would read as 'nothing
    waiting' forever); the default inbox under the data root may not exist yet."""
    from projections.errors import ConfigError
    from projections.settings import where_set
    from projections.sources import inbox, intake

    folder = inbox.inbox_dir(settings)
    # a linked inbox under the data root, or a linked processed/, would carry taken files out of it
    intake.check_inbox(folder, default=not settings.live.inbox)
    intake.check_processed(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"the inbox {folder} is a file, not a folder; fix {where_set(('live', 'inbox'))}")
    if not folder.exists() and settings.live.inbox:
        raise ConfigError(f"the inbox {folder} does not exist; create it, or fix {where_set(('live', 'inbox'))}")


def _waiting(settings: Any) -> list[Path]:
    """The CSV files waiting in the inbox now, oldest first (the order they are taken in)."""
    from projections.sources import inbox, intake

    return intake.waiting(inbox.inbox_dir(settings))


def _take_inbox(settings: Any, now: dt.datetime, found: list[Path]) -> int:
    from projections.commands._edge import output_dir
    from projections.sources import dk_file, inbox, intake

    folder = inbox.inbox_dir(settings)
    # a taken file moves to processed/: an inbox this user cannot change is refused before anything is recorded
    output_dir(folder / "processed", home=settings.home, doing="ingest inbox")
    output_dir(folder, home=settings.home, doing="ingest inbox")
    bad = 0
    for path in found:
        name = intake.shown(path.name)
        try:
            content = intake.read_dropped(path, limit=dk_file.DK_MAX_BYTES, what=dk_file.DK_WHAT)
            if content is None:  # another run took it meanwhile
                continue
            took = inbox.ingest_dk(settings.home, content, name, now)
        except inbox.files.BadFile as exc:
            print(f"refused {exc}")
            bad += 1
            continue
        done = intake.processed_path(folder, took.slate_id, path.name)
        intake.move_taken(path, done, settings.permissions)
        again = f", replaces {', '.join(took.replaced)} (the same DraftKings slate)" if took.replaced else ""
        print(f"{name}: {took.day} slate {took.slate_id}{again} (moved to {intake.shown(done)})")
        for note in took.notes:
            print(f"note: {note}")
    return 1 if bad else 0

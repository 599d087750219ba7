"""`projections snapshots DATE [TABLE]` and `projections fetch TABLE DATE`: the live side by hand.

    projections snapshots 2019-10-30          every capture of every table for the date, oldest first; `*` marks
                                              the one a build uses now (the newest at or before the date's as_of)
    projections fetch odds 2019-10-30         fetch one table for one date now (in any mode), recorded in the
                                              ledger like a `doit` fetch task; exit 1 with the reason if it fails
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from projections.pipeline import Pipeline


def register(sub: Any) -> None:
    p = sub.add_parser("snapshots", help="the captures of each table for a date, and which one a build uses",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("date", help="the slate date, YYYY-MM-DD")
    p.add_argument("table", nargs="?", help="one table, or a stage that reads one (default: all with captures)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_snapshots)
    f = sub.add_parser("fetch", help="fetch one live table for one date now", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("table", help="schedule, player_logs, odds, rosters, lineups, injuries or salaries (the inbox, then "
                   "DraftKings' lobby for a date still without salaries); "
                   "a stage that reads one table names it (game_logs: player_logs)")
    f.add_argument("date", help="the slate date, YYYY-MM-DD")
    f.set_defaults(handler=run_fetch)


def stage_tables(pipeline: Pipeline) -> dict[str, str]:
    """Stage name -> the live table it reads, for each stage of `pipeline` that reads exactly one and is not
    named like a table itself (game_logs -> player_logs): names `fetch` and `snapshots` take as that table."""
    from projections.sources import ENDPOINTS

    read: dict[str, set[str]] = {}
    for key, (source, readers) in pipeline.fetchers().items():
        if key not in ENDPOINTS:  # a fetch of no date's capture (the season before's logs): not one of these
            continue
        for stage in readers:
            read.setdefault(stage, set()).add(getattr(source, "table", key))
    return {stage: next(iter(tables)) for stage, tables in read.items()
            if len(tables) == 1 and stage not in ENDPOINTS and next(iter(tables)) in ENDPOINTS}


def known_table(table: str, pipeline: Pipeline) -> str:
    """The live table `table` names (the ones captures exist for): itself, or the one table the stage of that
    name reads; ConfigError listing both the tables and those stage names else."""
    from projections.errors import ConfigError
    from projections.sources import ENDPOINTS

    if table in ENDPOINTS:
        return table
    aliases = stage_tables(pipeline)
    if table in aliases:
        return aliases[table]
    stages = "".join(f", or a stage that reads one: {', '.join(f'{s} ({t})' for s, t in sorted(aliases.items()))}"
                     if aliases else "")
    raise ConfigError(f"no live backend for {table!r}; choose from {sorted(ENDPOINTS)}{stages}")


def run_snapshots(args: argparse.Namespace) -> int:
    from projections.commands._edge import no_root
    from projections.dates import ONE, parse_one
    from projections.ledger import iso
    from projections.sources import ENDPOINTS, snapshots
    from projections.wiring import make_engine

    engine = make_engine()
    tables = [known_table(args.table, engine.pipeline)] if args.table else sorted(ENDPOINTS)
    day = parse_one(args.date, ONE)
    if (missing := no_root(engine.home)) is not None:  # "no captures" there says nothing of the real root
        print(f"note: {missing}", file=sys.stderr)
    as_of = engine.as_of(day)
    rows: list[dict[str, Any]] = []
    for table in tables:
        found = snapshots.entries(engine.home, table, day)
        reader = engine.pipeline.fetchers().get(table, (None,))[0]  # None reads until the lock, as as_of
        chosen = snapshots.select(found, None if table == engine.clock else engine.source_as_of(reader, day))
        for entry in found:
            rows.append({"table": table, "captured_at": iso(entry.captured_at), "object": entry.object,
                         "rows": entry.rows, "url": entry.url, "used": entry is chosen})  # one capture, however alike
    if args.json:
        print(json.dumps({"game_date": day.isoformat(), "as_of": iso(as_of) if as_of else None, "captures": rows}))
        return 0
    print(f"{day}: as_of {iso(as_of) if as_of else '(schedule not built)'}")
    for row in rows:
        print(f"{'*' if row['used'] else ' '} {row['table']:<12} {row['captured_at']}  {row['object'][9:19]}  "
              f"{row['rows']:>6} rows  {row['url']}")
    if not rows:
        print("  no captures (live fetches, the inbox and `projections ingest dk-salaries` make them)")
    return 0


def run_fetch(args: argparse.Namespace) -> int:

    from projections import live_fetch
    from projections.commands._edge import failed, writes
    from projections.dates import ONE, parse_one
    from projections.errors import ConfigError, ProjectionsError
    from projections.wiring import make_engine

    engine = make_engine()
    table = known_table(args.table, engine.pipeline)
    day = parse_one(args.date, ONE)
    key = next((k for k, (source, _) in engine.pipeline.fetchers().items()
                if getattr(source, "table", k) == table), None)
    if key is None:
        return failed(args, f"no stage of the pipeline reads {table!r}, so nothing would use a capture of it", 2)
    import time

    started = time.monotonic()
    try:
        with writes(engine.home, f"fetch {table}"):  # a data root this user may not write: exit 2, not 1
            # a run of its own in the ledger, so history shows a hand fetch as one, not as an unfinished run
            engine.ledger.append("run_start", dates=[day.isoformat()], tasks=[f"fetch_{key}"], stages=[],
                                 argv=["fetch", table, day.isoformat()], program="projections")
            summary = live_fetch.fetch(engine, key, day)
    except ConfigError:
        raise
    except ProjectionsError as exc:
        engine.ledger.append("run_end", ok=False, seconds=round(time.monotonic() - started, 3))
        print(f"fetch failed: {exc}", file=sys.stderr)
        return 1
    engine.ledger.append("run_end", ok=True, seconds=round(time.monotonic() - started, 3))
    print(f"{table} {day}: {summary.get('describe', '')}")
    return 0

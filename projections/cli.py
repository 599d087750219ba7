"""`projections`: the command line around the store (the build itself runs through `doit`).

    projections verify            rehash every object; check every pointer and action record
    projections status [DATES]    each stage of each date: up to date or stale, and why

Every command exits 0 when all is well, 1 when it found problems, 2 on bad usage or settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from projections.errors import ProjectionsError

Handler = Callable[[argparse.Namespace], int]


def _cmd_verify(args: argparse.Namespace) -> int:
    from projections.settings import load_settings
    from projections.statcache import StatCache
    from projections.store import LocalStore
    from projections.verify import verify

    settings = load_settings()
    store = LocalStore(settings.home, stat_cache=StatCache(None))
    report = verify(store)
    if args.json:
        print(json.dumps({"ok": report.ok, "objects": report.objects, "pointers": report.pointers,
                          "actions": report.actions, "problems": report.problems, "notes": report.notes}))
    else:
        for problem in report.problems:
            print(f"PROBLEM  {problem}")
        for note in report.notes:
            print(f"note     {note}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"verified {report.objects} objects, {report.pointers} gold pointers, {report.actions} action "
              f"records in {settings.home}: {verdict}")
    return 0 if report.ok else 1


def _cmd_status(args: argparse.Namespace) -> int:
    from projections.dates import parse_dates, slate_date_today
    from projections.hashing import short
    from projections.wiring import make_engine

    engine = make_engine()
    dates = parse_dates(args.dates) if args.dates else [slate_date_today()]
    rows = []
    for day in dates:
        for plan in engine.status(day):
            rows.append({"game_date": day.isoformat(), "stage": plan.stage,
                         "status": "U" if plan.up_to_date else "R", "object": plan.object,
                         "reason": plan.reason})
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['status']} {row['game_date']} {row['stage']:<10} {short(row['object'])}  {row['reason']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="projections", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("verify", help="rehash every object; check every gold pointer and action record")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_cmd_verify)

    p = sub.add_parser("status", help="each stage of each date: up to date or stale, and why")
    p.add_argument("dates", nargs="?", help="YYYY-MM-DD, A..B or a comma list (default: today)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ProjectionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

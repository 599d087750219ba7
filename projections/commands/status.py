"""`projections status [DATES]`: each stage of each date, up to date or stale, and why."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="each stage of each date: up to date or stale, and why", description=__doc__)
    p.add_argument("dates", nargs="?", help="YYYY-MM-DD, A..B or a comma list (default: today)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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

"""`projections status [DATES]`: each stage of each date - up to date, stale (and why) or failed (with its
error line) - when it was built, how long it took, the object it holds, and the date's gold object.

A date that a run over a range (or today's run) skips - no games, or no DraftKings salaries in the archive -
is shown as SKIPPED with the reason. In archive mode a date the archive knows has no games is always SKIPPED,
even after a run that named it alone failed (that fails by design; the failure is shown as a note). A date the
archive's schedule cannot vouch for (a season it lacks, or beyond the span of a season it holds in part) is
OUTSIDE ARCHIVE, with that span and the fix. A date with games of a season whose prior season the archive
lacks (2018-19: the calibration fits on 2017-18) is CANNOT PROJECT, with the fix (`doit slate` refuses it
too). Exit status: 0 when every stage of every other date is up to date (or skipped, outside the archive or
not projectable), 1 when something is stale or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="each stage of each date: up to date, stale or failed, and why",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dates", nargs="*", help="YYYY-MM-DD, A..B or a comma list, one or several (default: today's "
                                            "slate date)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from projections.commands._edge import no_root
    from projections.dates import parse_dates, slate_date_today
    from projections.observe import status
    from projections.observe.events import Events
    from projections.wiring import looking, make_engine

    named = parse_dates(",".join(args.dates)) if args.dates else None
    engine = make_engine()
    if (missing := no_root(engine.home)) is not None:
        print(f"note: {missing}", file=sys.stderr)
    looking(engine)  # it only looks: no object's age refreshed, nothing recorded as a run
    dates = named or [slate_date_today(engine.now)]  # doit's today: live.now replays a past day
    events = Events.read(engine.home)
    found = status.collect(engine, dates, events)
    if args.json:
        print(json.dumps({"home": str(engine.home), "dates": [d.as_json() for d in found]}, indent=1))
    else:
        print(status.render(found))
        if named is None and found[0].state == "outside archive" and (latest := _latest_gold(engine.store)):
            print(f"note: no date named, so today's; the latest date with gold is {latest}: "
                  f"`projections status {latest}`")
        if events.skipped_lines:
            print(f"note: {events.skipped_lines} unreadable ledger line(s) skipped in {engine.home / 'ledger'}")
    return 0 if all(d.state in status.NO_WORK for d in found) else 1


def _latest_gold(store: Any) -> str | None:
    """The latest date with a published slate, or None."""
    return max((day for asset, day, _ in store.iter_pointers() if asset == "projections"), default=None)

"""`projections diff DATE [HASH_A HASH_B]`: what changed between two slates of a date - players added and
removed, the biggest projection, minutes and ownership moves. Without hashes: the gold object against the
slate it replaced. Hashes may be abbreviated (at least 4 hex digits)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from projections.commands._edge import at_least, failed, no_root


def register(sub: Any) -> None:
    p = sub.add_parser("diff", help="what changed between two slates of a date (default: gold vs the previous)",
                       description=__doc__)
    p.add_argument("date", help="the slate date, YYYY-MM-DD")
    p.add_argument("objects", nargs="*", default=[], metavar="HASH",
                   help="the old and the new object (both or neither)")
    p.add_argument("--top", type=at_least(1, "list at least 1 move per column"), default=10,
                   help="moves to list per column, 1 or more (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from projections.dates import ONE, parse_one
    from projections.errors import ConfigError, ObjectNotFound
    from projections.observe import slatediff
    from projections.observe.events import Events
    from projections.settings import load_settings
    from projections.store import LocalStore

    if len(args.objects) not in (0, 2):
        raise ConfigError("give two objects (HASH_A HASH_B) or none (the gold object against the one before it)")
    day = parse_one(args.date, ONE).isoformat()
    settings = load_settings()
    home = settings.home
    if (missing := no_root(home)) is not None:  # "nothing published" there says nothing of the real root
        print(f"note: {missing}", file=sys.stderr)
    old, new = [*args.objects, None, None][:2]
    store, kind = LocalStore(home), None
    if settings.source == "archive" and missing is None and not args.objects \
            and store.read_pointer("projections", day) is None:  # an off day has nothing to publish: say so
        from projections.archive_calendar import Calendar

        kind = Calendar.of(home).kind(dt.date.fromisoformat(day))
    try:
        d = slatediff.diff_date(store, Events.read(home), day, old=old, new=new, top=args.top, kind=kind)
    except ObjectNotFound as exc:
        if args.objects:  # a hash the user named: bad usage (2)
            raise
        return failed(args, str(exc), 1)  # the gold pointer dangles: a problem found (1)
    if args.json:
        print(json.dumps(d.as_json(), indent=1, default=str))
    else:
        print(slatediff.render(d))
    return 0

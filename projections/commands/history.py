"""`projections history DATE`: the timeline of a slate date from the ledger - every run that selected it, each
stage run (built, up to date, failed, never finished), every gold pointer move, fetch and alert."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("history", help="every run, stage run, pointer move and alert of a date",
                       description=__doc__)
    p.add_argument("date", help="the slate date, YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from projections.dates import ONE, parse_one
    from projections.observe import history
    from projections.observe.events import Events
    from projections.settings import load_settings

    day = parse_one(args.date, ONE).isoformat()
    from projections.commands._edge import no_root

    settings = load_settings()
    home = settings.home
    if (missing := no_root(home)) is not None:
        print(f"note: {missing}", file=sys.stderr)
    blocks = history.timeline(Events.read(home), day, deps=_needs(settings.pipeline))
    if args.json:
        print(json.dumps({"game_date": day, "blocks": [b.as_json() for b in blocks]}, indent=1, default=str))
    else:
        print(history.render(day, blocks))
    return 0


def _needs(ref: str) -> dict[str, set[str]] | None:
    """What each stage waits on, from the pipeline; None when the pipeline does not load (history still reads)."""
    from projections.observe.history import needs
    from projections.wiring import load_pipeline

    try:
        return needs(load_pipeline(ref))
    except Exception:  # a broken pipeline module must not stop a look at the ledger
        return None

"""`projections explain DATE STAGE`: why a stage is stale, or why it last ran.

A stale stage is compared with the build behind the date's published object (the gold pointer), an up-to-date
one with the build of it before the one that made its current record. The differences - code version,
parameters, input objects, sources, as_of - are printed as a small diff and followed upstream through every
input that changed. In archive mode a date the archive knows has no games is SKIPPED, and one its schedule
cannot vouch for is OUTSIDE ARCHIVE with the fix; a stage that needs the calibration of a season whose prior
season the archive lacks (2018-19) is CANNOT PROJECT with the fix, as in `projections status`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="why a stage of a date is stale, or why it ran",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("date", help="the slate date, YYYY-MM-DD")
    p.add_argument("stage", help="a stage name (see `projections status`)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from projections.commands._edge import no_root
    from projections.dates import ONE, parse_one
    from projections.observe.explain import Explainer
    from projections.observe.explanation import render
    from projections.wiring import looking, make_engine

    day = parse_one(args.date, ONE)
    engine = make_engine()
    looking(engine)  # it only looks: no object's age refreshed, nothing recorded as a run
    if (missing := no_root(engine.home)) is not None:  # "never built" there says nothing of the real root
        print(f"note: {missing}", file=sys.stderr)
    expl = Explainer(engine).explain(args.stage, day)
    if args.json:
        print(json.dumps(expl.as_json(), indent=1, default=str))
    else:
        print(render(expl))
    return 0

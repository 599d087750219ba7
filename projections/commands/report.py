"""`projections report [DATES]`: write the static HTML dashboard into the data root (`report/index.html`, the
newest published slate, and `report/slate-D.html` per published date). The pages are self-contained - open
them from disk, copy them anywhere; viewing needs no network. `projections serve` serves them."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="write the static HTML dashboard into the data root", description=__doc__)
    p.add_argument("dates", nargs="*", help="YYYY-MM-DD, A..B or a comma list, one or several (default: the last "
                                            "31 dates with gold or ledger entries)")
    p.add_argument("--out", help="directory to write (default: $PROJECTIONS_HOME/report): a new or empty one, or one "
                                 "the report wrote before (another non-empty directory is refused)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from projections.commands._edge import failed, no_root, output_dir, writes
    from projections.dates import parse_dates
    from projections.observe import report
    from projections.wiring import looking, make_engine

    dates = parse_dates(",".join(args.dates)) if args.dates else None
    engine = make_engine()
    looking(engine)  # it only looks: no object's age refreshed, nothing recorded as a run
    if (missing := no_root(engine.home)) is not None:  # a dashboard of nothing, written into a root it would create
        return failed(args, missing, 1)
    # the directory is checked (and created) before the build: a bad --out or a data root this user may not
    # write is one clear error, not a traceback after the work
    out = output_dir(Path(args.out) if args.out else engine.home / "report", home=engine.home,
                     doing=f"report --out {args.out}" if args.out else "report")
    with writes(engine.home, "report"):
        written = report.build(engine, out=out, dates=dates)
    print(f"wrote {written.index} and {len(written.pages)} slate page(s) in {written.dir}")
    if written.dangling:
        print(f"note: no page for {', '.join(written.dangling)}: the gold pointer names an object that is missing "
              "from the store or damaged, or is not that date's slate (`projections verify` says which; `doit slate "
              "date=...` publishes it again)",
              file=sys.stderr)
        return 1
    return 0

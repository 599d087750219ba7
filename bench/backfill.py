"""Benchmark 5: a cold backfill of the whole 2019-20 season (every date with games) with `-n 2`, then the
no-op rerun of it (whole process, start-up included), and `list --status` over the season.

    python bench/backfill.py [--range 2019-10-22..2020-10-11] [--jobs 2]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from common import doit, emit, repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--range", default="2019-10-22..2020-10-11")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        home = Path(tmp) / "home"
        cold, result = doit(home, "-n", str(args.jobs), "slate", f"date={args.range}", check=False)
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        dates_ok = re.search(r"(\d+) dates? ok", summary)
        built = len(list((home / "gold" / "projections").glob("game_date=*")))
        noop = repeat(lambda: doit(home, "slate", f"date={args.range}", check=False)[0], args.runs)
        listing = repeat(lambda: doit(home, "list", "--status", f"date={args.range}")[0], args.runs)
    emit("backfill", {
        "range": args.range,
        "jobs": args.jobs,
        "gold_dates": built,
        "summary": summary,
        "dates_ok": int(dates_ok.group(1)) if dates_ok else None,
        "cold_s": round(cold, 2),
        "cold_s_per_date": round(cold / max(built, 1), 3),
        "noop": noop,
        "list_status": listing,
    })


if __name__ == "__main__":
    main()

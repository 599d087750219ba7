"""Benchmark 6: how the cold build and the no-op grow with the number of dates (and players per slate).

    python bench/scaling.py [--sizes 1,4,16,64] [--start 2019-11-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from common import doit, emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,4,16,64")
    parser.add_argument("--start", default="2019-11-01")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    start = dt.date.fromisoformat(args.start)
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        end = start + dt.timedelta(days=n - 1)
        span = f"{start}..{end}"
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            home = Path(tmp) / "home"
            cold, _ = doit(home, "-n", str(args.jobs), "slate", f"date={span}", check=False)
            noop, _ = doit(home, "slate", f"date={span}", check=False)
            noop, _ = doit(home, "slate", f"date={span}", check=False)
            golds = sorted((home / "gold" / "projections").glob("game_date=*"))
            players = sum(pq.read_metadata(g / "projections.parquet").num_rows for g in golds)
        rows.append({"dates": n, "slates": len(golds), "players": players, "cold_s": round(cold, 2),
                     "cold_s_per_slate": round(cold / max(len(golds), 1), 3), "noop_s": round(noop, 3)})
    emit("scaling", {"start": args.start, "jobs": args.jobs, "rows": rows})


if __name__ == "__main__":
    main()

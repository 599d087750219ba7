"""Benchmark 4: a cold build of one slate (empty data root), whole process and per stage.

    python bench/cold_slate.py [--date 2019-10-30] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import doit, emit, ledger_stage_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", default="2019-10-30")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls, stages = [], {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
            home = Path(tmp) / "home"
            wall, _ = doit(home, "slate", f"date={args.date}")
            walls.append(wall)
            for stage, secs in ledger_stage_seconds(home).items():
                stages.setdefault(stage, []).append(sum(secs))
            import pyarrow.parquet as pq

            players = pq.read_metadata(home / "gold" / "projections" / f"game_date={args.date}" /
                                       "projections.parquet").num_rows
    emit("cold_slate", {
        "date": args.date,
        "players": players,
        "wall_s": {"median": round(statistics.median(walls), 3), "min": round(min(walls), 3), "runs": args.runs},
        "stage_s": {k: round(statistics.median(v), 3) for k, v in stages.items()},
    })


if __name__ == "__main__":
    main()

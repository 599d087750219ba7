"""Memory of a backfill: the resident size of one building process after each date, and its peak.

A process that builds date after date (a backfill's worker) must not grow with the dates: pandas and pyarrow free
into their allocators, which keep the memory unless handed back (projections.stage_io.release_memory, after
every build). Builds every stage of consecutive slate dates in this one process, as a doit worker does.

    python bench/memory.py [--start 2019-11-01] [--dates 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
from pathlib import Path

from common import emit, env_for


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default="2019-11-01", help="the first slate date")
    parser.add_argument("--dates", type=int, default=20, help="consecutive dates to build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        os.environ.update(env_for(Path(tmp) / "home"))
        from projections.wiring import make_engine

        engine = make_engine()
        start = dt.date.fromisoformat(args.start)
        after: list[float] = []
        for n in range(args.dates):
            day = start + dt.timedelta(days=n)
            for name in engine.pipeline.order:
                engine.build(name, day, no_games_ok=True)
            after.append(round(rss_mib(), 1))
    emit("memory", {
        "dates": args.dates, "start": args.start,
        "rss_after_first_date_mib": after[0], "rss_after_last_date_mib": after[-1],
        "growth_per_date_mib": round((after[-1] - after[0]) / max(len(after) - 1, 1), 2),
        "rss_after_each_date_mib": after,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target": "no growth with the dates: under 2 MiB a date after the first",
    })


if __name__ == "__main__":
    main()

"""Benchmark 1 and 2: a no-op `doit slate date=D` against doit's own floor, and after touching every input.

1. no-op: the whole process, when everything is up to date, against the same command on an empty dodo
   (Python + doit start-up: the floor), as a ratio.
2. touch: every input file (the archive parts a slate reads, the stage modules) gets a new mtime and the same
   content; the next run must stay a no-op, hashing each large input at most once (the stat cache then
   knows it again), and the runs after it cost what a plain no-op costs.

    python bench/noop.py [--date 2019-10-30] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, doit, emit, env_for, repeat

EMPTY_DODO = (
    '"""The floor: doit with one task that does nothing."""\n\n\n'
    'def task_nothing():\n    return {"actions": None}\n'
)


def floor(tmp: Path) -> float:
    dodo = tmp / "empty" / "dodo.py"
    dodo.parent.mkdir(exist_ok=True)
    dodo.write_text(EMPTY_DODO)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "doit", "-f", str(dodo), "nothing"], cwd=dodo.parent,
                   capture_output=True, check=True, env=env_for(tmp / "unused"))
    return time.perf_counter() - start


def touch_inputs() -> int:
    """New mtimes, same bytes, for every archive part and stage module."""
    now = time.time()
    files = [*sorted((REPO / "projections" / "data" / "archive").rglob("*.parquet")),
             *sorted((REPO / "stages").rglob("*.py"))]
    for path in files:
        os.utime(path, (now, now))
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", default="2019-10-30")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        cold, _ = doit(home, "slate", f"date={args.date}")
        doit(home, "slate", f"date={args.date}")  # warms the fast-path caches
        base = repeat(lambda: floor(tmp), args.runs)
        noop = repeat(lambda: doit(home, "slate", f"date={args.date}")[0], args.runs)
        listing = repeat(lambda: doit(home, "list", "--status", f"date={args.date}")[0], args.runs)
        _, check = doit(home, "slate", f"date={args.date}")
        assert " 0 built" in check.stdout, check.stdout

        touched = touch_inputs()
        time.sleep(1.1)  # past the stat cache's racy window, as any real later run would be
        first_after, result = doit(home, "slate", f"date={args.date}", PROJECTIONS_STATS="1")
        assert " 0 built" in result.stdout, result.stdout
        hashed = [line for line in result.stderr.splitlines() if line.startswith("stat-cache:")]
        second_after, result2 = doit(home, "slate", f"date={args.date}", PROJECTIONS_STATS="1")
        hashed2 = [line for line in result2.stderr.splitlines() if line.startswith("stat-cache:")]
        after = repeat(lambda: doit(home, "slate", f"date={args.date}")[0], args.runs)
    emit("noop", {
        "date": args.date,
        "cold_slate_s": round(cold, 3),
        "floor_empty_dodo": base,
        "noop_slate": noop,
        "noop_ratio_to_floor": round(noop["median_s"] / base["median_s"], 3),
        "list_status": listing,
        "touch": {
            "files_touched": touched,
            "first_run_after_touch_s": round(first_after, 3),
            "first_run_hashing": hashed,
            "second_run_after_touch_s": round(second_after, 3),
            "second_run_hashing": hashed2,
            "later_noop": after,
            "later_ratio_to_floor": round(after["median_s"] / base["median_s"], 3),
        },
    })


if __name__ == "__main__":
    main()

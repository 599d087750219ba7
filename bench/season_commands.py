"""Benchmark 8: the `projections` commands a user runs over a backfilled season, each a whole process (start-up
included): evaluate, status, report over the range; verify, gc --dry-run, and history and report of one date.
Their cost must grow at most linearly with the dates: `evaluate` over 2019-10-22..2020-03-11 took 19 s (a Python
loop per player in the baseline), `report` rendered the all-dates status grid again on each date's page.

    python bench/season_commands.py [--home ROOT] [--range 2019-10-22..2020-03-11] [--runs 3]

Without --home the range is built first (cold, `doit -n 2`) in a temporary data root.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, doit, emit, env_for, repeat


def projections(home: Path, *args: str, cpu: list[float]) -> float:
    """Wall time of one whole `projections` process; its CPU time (user + system) is appended to `cpu`: on a
    shared machine the CPU time moves less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "projections.cli", *args], env=env_for(home), cwd=REPO,
                   capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def measure(home: Path, span: str, runs: int) -> dict[str, object]:
    first, last = span.split("..")
    out = Path(tempfile.mkdtemp(prefix="bench-report-"))
    commands = {
        "evaluate": ("evaluate", span, "--json"),
        "status": ("status", span),
        "report_range": ("report", span, "--out", str(out)),
        "report_one_date": ("report", last, "--out", str(out)),
        "history_one_date": ("history", first),
        "verify": ("verify",),
        "gc_dry_run": ("gc", "--dry-run"),
    }
    results: dict[str, object] = {}
    for name, argv in commands.items():
        cpu: list[float] = []
        results[name] = {**repeat(lambda argv=argv, cpu=cpu: projections(home, *argv, cpu=cpu), runs),
                         "cpu_median_s": round(statistics.median(cpu), 4)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="a data root holding the range already built")
    parser.add_argument("--range", default="2019-10-22..2020-03-11")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.home is not None:
        emit("season_commands", {"range": args.range, **measure(args.home, args.range, args.runs)})
        return
    with tempfile.TemporaryDirectory(prefix="bench-season-") as tmp:
        home = Path(tmp) / "home"
        cold, _ = doit(home, "-n", "2", "slate", f"date={args.range}")
        emit("season_commands", {"range": args.range, "cold_build_s": round(cold, 2),
                                 **measure(home, args.range, args.runs)})


if __name__ == "__main__":
    main()

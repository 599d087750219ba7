"""Shared helpers for the benchmarks: run real processes against a data root, time them, print JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every process recompile every module: not what a user's runs do
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PROJECTIONS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PROJECTIONS_HOME"] = str(home)
    env["PROJECTIONS_CACHE_DIR"] = str(home.parent / "fastpath-cache")
    env.update(extra)
    return env


def doit(home: Path, *args: str, check: bool = True, **extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time of one whole `doit` process (start-up included) and its result."""
    argv = [sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"), *args]
    start = time.perf_counter()
    result = subprocess.run(argv, env=env_for(home, **extra), cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if check and result.returncode != 0:
        raise SystemExit(f"doit {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed, result


def repeat(fn: Any, n: int) -> dict[str, float]:
    times = [fn() for _ in range(n)]
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "max_s": round(max(times), 4), "runs": n}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(mem) / 2**20, 1)
    except OSError:
        pass
    return info


def emit(name: str, result: dict[str, Any], argv: Sequence[str] | None = None) -> None:
    print(json.dumps({"bench": name, "machine": machine(), **result}, indent=2))


def ledger_stage_seconds(home: Path) -> dict[str, list[float]]:
    """Seconds per stage from the ledger's stage_success events."""
    out: dict[str, list[float]] = {}
    for path in sorted((home / "ledger").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event.get("event") == "stage_success":
                out.setdefault(event["stage"], []).append(float(event.get("seconds", 0)))
    return out

"""Run every benchmark and write bench/results.json (the README's performance section quotes it).

    python bench/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    plan = [
        ("noop.py", ["--runs", "5" if args.quick else "15"]),
        ("hasher.py", ["--mb", "100" if args.quick else "500"]),
        ("cold_slate.py", ["--runs", "1" if args.quick else "3"]),
        ("sim.py", []),
        ("memory.py", ["--dates", "5"] if args.quick else []),
        ("backfill.py", ["--range", "2019-10-22..2019-10-31"] if args.quick else []),
        ("scaling.py", ["--sizes", "1,2"] if args.quick else []),
    ]
    results = {}
    for script, extra in plan:
        print(f"running {script} {' '.join(extra)}", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, str(HERE / script), *extra], cwd=HERE, capture_output=True,
                             text=True, check=True)
        results[script.removesuffix(".py")] = json.loads(out.stdout)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

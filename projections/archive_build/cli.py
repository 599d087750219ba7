"""Build the shipped archive `projections/data/archive/` from the real public data in shared/data/nba.

    python -m projections.archive_build [--src ../shared/data/nba] [--out projections/data/archive]
                                        [--tables odds,schedule,...]

Prints the build notes; exits 2 with the fix when the source folder or a table name is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from projections.archive_build.assemble import build
from projections.archive_build.common import DEFAULT_OUT, DEFAULT_SRC, TABLE_NAMES
from projections.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m projections.archive_build", description=__doc__.split("\n")[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="shared/data/nba (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="archive folder (default: %(default)s)")
    parser.add_argument("--tables", default=",".join(TABLE_NAMES), help="comma list (default: all)")
    args = parser.parse_args(argv)
    try:
        report = build(args.src, args.out, tuple(t for t in args.tables.split(",") if t))
    except ConfigError as exc:
        print(f"archive_build: {exc}", file=sys.stderr)
        return 2
    for table in TABLE_NAMES:
        for note in report.notes.get(table, []):
            print(f"[{table}] {note}")
    return 0

"""`python -m projections.archive_build`: see projections/archive_build/cli.py."""

from __future__ import annotations

from projections.archive_build.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

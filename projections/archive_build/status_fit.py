"""Fit the minutes stage's injury-status factors on the real reports and box scores of shared/data/nba (the fit
itself: `stages.model.status_fit`) and print them beside the stage's defaults:

    python -m projections.archive_build.status_fit [--src ../shared/data/nba]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from projections.archive_build.common import DEFAULT_SRC

if TYPE_CHECKING:
    import pandas as pd


def read_inputs(src: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(game logs of PRIOR_SEASON and FIT_SEASON, every December 2023 report with each row's first tip of its
    date) from shared/data/nba, read by the project's own parsers."""
    import pandas as pd

    from projections.identity import canonical_key
    from projections.sources import files
    from projections.sources.parsers.injury_pdf import report_table
    from stages.model import status_fit

    logs = pd.concat([files.game_logs((src / "logs" / "nbacom" / f"player_logs_{s}.csv").read_bytes(), s)
                      for s in (status_fit.PRIOR_SEASON, status_fit.FIT_SEASON)], ignore_index=True)
    ids = dict(zip(logs["player_name"].map(canonical_key), logs["player_id"], strict=True))
    frames = []
    for path in sorted((src / "injuries" / "2023-12" / "pdf").glob("*.pdf")):
        table, when = report_table(path.read_bytes(), path.name)
        if when is None:
            raise ValueError(f"{path}: no 'Injury Report: MM/DD/YY HH:MM PM' title: not an official report")
        frame = files.injury_report(table, path.name, when, lambda n, t: ids.get(canonical_key(n), f"name:{n}"))
        frames.append(frame.assign(first_tip=tips(table)))
    return logs, pd.concat(frames, ignore_index=True)


def tips(table: bytes) -> list[pd.Timestamp]:
    """Per report row, its game's tip in UTC ("07:00 (ET)" on its game date), as the archive build reads it."""
    import io

    import pandas as pd

    from projections.archive_build import read_report
    from projections.archive_build.injuries import report_tip

    rows = read_report(io.BytesIO(table))[0]  # type: ignore[arg-type]
    days = pd.to_datetime(rows["Game Date"], format="%m/%d/%Y").dt.date
    return [report_tip(day, time) for day, time in zip(days, rows["Game Time"], strict=True)]


def main(argv: list[str] | None = None) -> int:
    from stages.minutes import Params
    from stages.model import status_fit

    parser = argparse.ArgumentParser(prog="python -m projections.archive_build.status_fit",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="shared/data/nba (default: %(default)s)")
    args = parser.parse_args(argv)
    table = status_fit.fit(*read_inputs(args.src))
    defaults = Params()
    table["default"] = table["status"].map({**defaults.status_play(), **defaults.status_sit()})
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

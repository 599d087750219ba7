"""injuries: each player's latest official injury-report status for the date, as known at as_of (the lock).

The reports are the archive's and the date's newest capture (live, or `projections ingest injuries`) together, each
line known from its report's time on: per player the newest line published before the lock.

Statuses are the report's: Out, Doubtful, Questionable, Probable, Available. The table is empty where the
archive has no report for the date (most of 2019-20 before the bubble): the models then rely on history.
"""

from __future__ import annotations

import pandas as pd

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.pipeline import NoParams, Stage, StageContext
from projections.schema import INJURIES, INJURY_STATUSES

OUTPUT = Contract(
    description="one row per player on the date's newest injury report before the lock",
    columns={"team": "str", "player_id": "str", "player_name": "str", "status": "str", "reason": "str",
             "report_time": "timestamp"},
    non_null=("team", "player_id", "status", "report_time"),
    unique=("player_id",),
)


def injuries(report: pd.DataFrame, *, params: NoParams, ctx: StageContext) -> pd.DataFrame:
    """The newest line per player among the reports published at or before as_of (the source filters)."""
    unknown = sorted(set(report["status"].dropna()) - set(INJURY_STATUSES))
    if unknown:
        from projections.errors import ContractViolation

        raise ContractViolation(
            f"injuries: statuses {unknown} are not official injury-report statuses {list(INJURY_STATUSES)}; "
            "fix the injury table's parser (projections/archive_build/injuries.py) or the ingested file",
            stage="injuries", columns=("status",))
    rows = report.sort_values(["player_id", "report_time"]).groupby("player_id").tail(1)
    out = rows[list(OUTPUT.columns)].copy()
    out["reason"] = out["reason"].fillna("").astype(str)
    out["report_time"] = pd.to_datetime(out["report_time"], utc=True)
    return out.sort_values(["team", "player_id"]).reset_index(drop=True)


SPEC = Stage(
    name="injuries",
    func=injuries,
    doc="official injury-report statuses as of the lock (empty where the archive has no report)",
    sources=(ArchiveTable("report", "injuries", window="asof_day", time_column="report_time", contract=INJURIES,
                          required=False),),
    contract=OUTPUT,
)

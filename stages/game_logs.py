"""game_logs: every player game before the slate date (this season and the last), never the date itself."""

from __future__ import annotations

import pandas as pd

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.pipeline import NoParams, Stage, StageContext
from projections.schema import PLAYER_LOGS, STAT_COLUMNS

OUTPUT = Contract(
    description="box scores strictly before the slate date",
    columns={k: PLAYER_LOGS.columns[k] for k in (
        "season", "game_date", "game_id", "team", "opp", "home", "playoffs", "player_id", "player_name",
        "started", "minutes", *STAT_COLUMNS, "plus_minus", "dk_points")},
    non_null=("game_date", "game_id", "team", "player_id", "minutes"),
    unique=("game_id", "player_id"),
)


def game_logs(archive: pd.DataFrame, *, params: NoParams, ctx: StageContext) -> pd.DataFrame:
    before = archive[archive["game_date"] < ctx.game_date]
    out = before[list(OUTPUT.columns)]
    return out.sort_values(["game_date", "game_id", "player_id"]).reset_index(drop=True)


SPEC = Stage(
    name="game_logs",
    func=game_logs,
    doc="every player game before the slate date (no leakage from the date or later)",
    sources=(ArchiveTable("archive", "player_logs", window="before", seasons=(0, 1), contract=PLAYER_LOGS),),
    contract=OUTPUT,
)

"""odds: the closing spread and total of each game of the date, per team, with the team's implied total."""

from __future__ import annotations

import pandas as pd

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.pipeline import NoParams, Stage, StageContext
from projections.schema import ODDS
from stages.model.lines import team_lines

OUTPUT = Contract(
    description="one row per team playing on the date; spread < 0 when the team is favoured",
    columns={"game_id": "str", "team": "str", "opp": "str", "home": "bool", "spread": "float", "total": "float",
             "implied_total": "float", "has_line": "bool"},
    non_null=("game_id", "team", "opp", "home", "has_line"),
    unique=("team",),
    min_rows=2,
)


def odds(archive: pd.DataFrame, schedule: pd.DataFrame, *, params: NoParams, ctx: StageContext) -> pd.DataFrame:
    """Teams of the schedule with their line (NaN where the archive has none: the models then use league
    means)."""
    games = pd.concat([
        schedule.assign(team=schedule["home_team"], opp=schedule["away_team"], home=True),
        schedule.assign(team=schedule["away_team"], opp=schedule["home_team"], home=False),
    ])[["game_id", "team", "opp", "home"]]
    lines = team_lines(archive[archive["game_date"] == ctx.game_date])[["team", "opp", "spread", "total",
                                                                          "implied_total"]]
    out = games.merge(lines, on=["team", "opp"], how="left")
    out["has_line"] = out["total"].notna() & out["spread"].notna()
    for col in ("spread", "total", "implied_total"):
        out[col] = out[col].astype("float64")
    return out[list(OUTPUT.columns)].sort_values("team").reset_index(drop=True)


SPEC = Stage(
    name="odds",
    func=odds,
    doc="closing spread and total per game -> implied team totals",
    inputs=("schedule",),
    sources=(ArchiveTable("archive", "odds", window="day", contract=ODDS),),
    contract=OUTPUT,
)

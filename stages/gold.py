"""gold: the published slate - one row per DraftKings player - and a DraftKings-format CSV of it."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.contracts import Contract
from projections.pipeline import Stage, StageContext


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    recent_games: int = Field(default=10, ge=1, description="games in the recent average")


OUTPUT = Contract(
    description="the published slate",
    columns={"game_date": "date", "player_id": "str", "dk_id": "any", "player_name": "str", "team": "str",
             "opp": "str", "game_id": "str", "positions": "str", "roster_positions": "str", "salary": "int",
             "proj_minutes": "float", "dk_mean": "float", "dk_sd": "float", "history_games": "int"},
    non_null=("player_id", "player_name", "team", "salary", "proj_minutes", "dk_mean", "dk_sd"),
    unique=("player_id",),
    min_rows=1,
)


def recent_form(logs: pd.DataFrame, n: int) -> pd.DataFrame:
    """Mean minutes and DK points (and the sd of DK points) over each player's last `n` games."""
    last = logs.sort_values(["player_id", "game_date"]).groupby("player_id").tail(n)
    form = last.groupby("player_id").agg(
        proj_minutes=("minutes", "mean"), dk_mean=("dk_points", "mean"), dk_sd=("dk_points", "std"),
        history_games=("dk_points", "size"))
    return form.reset_index()


def dk_csv(slate: pd.DataFrame) -> str:
    """The slate in DraftKings' DKSalaries.csv layout, the projection in AvgPointsPerGame."""
    rows = slate.assign(
        **{
            "Position": slate["positions"],
            "Name + ID": slate["player_name"] + slate["dk_id"].map(lambda i: f" ({int(i)})" if pd.notna(i) else ""),
            "Name": slate["player_name"],
            "ID": slate["dk_id"].map(lambda i: str(int(i)) if pd.notna(i) else ""),
            "Roster Position": slate["roster_positions"],
            "Salary": slate["salary"],
            "Game Info": slate["game_id"],
            "TeamAbbrev": slate["team"],
            "AvgPointsPerGame": slate["dk_mean"].round(2),
        }
    )
    cols = ["Position", "Name + ID", "Name", "ID", "Roster Position", "Salary", "Game Info", "TeamAbbrev",
            "AvgPointsPerGame"]
    return rows[cols].to_csv(index=False, lineterminator="\n")


def gold(salaries: pd.DataFrame, game_logs: pd.DataFrame, *, params: Params,
         ctx: StageContext) -> dict[str, pd.DataFrame | str]:
    form = recent_form(game_logs, params.recent_games)
    slate = salaries.merge(form, on="player_id", how="left")
    slate["history_games"] = slate["history_games"].fillna(0).astype("int64")
    slate[["proj_minutes", "dk_mean"]] = slate[["proj_minutes", "dk_mean"]].fillna(0.0)
    slate["dk_sd"] = slate["dk_sd"].fillna(0.0)
    out = slate[list(OUTPUT.columns)].sort_values(["dk_mean", "player_id"], ascending=[False, True])
    out = out.reset_index(drop=True)
    return {"projections.parquet": out, "dk_projections.csv": dk_csv(out)}


SPEC = Stage(
    name="gold",
    func=gold,
    doc="publish the slate: projections.parquet + a DraftKings CSV, behind the gold pointer",
    inputs=("salaries", "game_logs"),
    params=Params,
    contract=OUTPUT,
    publish="projections",
    main="projections.parquet",
)

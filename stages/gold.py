"""gold: the published slate - one row per DraftKings player - and a DraftKings-format CSV of it.

projections.parquet: ids, name, team, opponent, positions, salary, injury status, availability and role,
p_play, proj_minutes (if he plays), exp_minutes, the DK points distribution if he plays (dk_mean, dk_sd,
dk_p10..dk_p90; all 0 for a player ruled out), ownership, and which lineup case applied (mode).
dk_projections.csv: DraftKings' salary-file layout (Game Info in DraftKings' form, "AWY@HOM MM/DD/YYYY HH:MMPM ET")
with the expected points (p_play x dk_mean) in AvgPointsPerGame, ready for an optimiser. Team codes are nba.com's
(GSW, PHX, NYK, SAS where DraftKings writes GS, PHO, NY, SA): the salary tables keep no other, and DraftKings takes
a lineup by its players' IDs. A slate from the daily table (rotoguru) has no DraftKings IDs: its CSV is for reading.
"""

from __future__ import annotations

import pandas as pd

from projections.contracts import Contract
from projections.pipeline import NoParams, Stage, StageContext

DK_COLUMNS = ("dk_mean", "dk_sd", "dk_p10", "dk_p25", "dk_p50", "dk_p75", "dk_p90")
OUTPUT = Contract(
    description="the published slate",
    columns={"game_date": "date", "player_id": "str", "dk_id": "any", "player_name": "str", "team": "str",
             "opp": "str", "game_id": "str", "positions": "str", "roster_positions": "str", "salary": "int",
             "status": "str", "availability": "str", "role": "str", "tier": "str", "mode": "str",
             "p_play": "float", "proj_minutes": "float", "exp_minutes": "float",
             **{c: "float" for c in DK_COLUMNS}, "ownership": "float"},
    non_null=("player_id", "player_name", "team", "opp", "salary", "status", "p_play", "proj_minutes", *DK_COLUMNS,
              "ownership"),
    unique=("player_id",),
    min_rows=1,
)


def game_info(slate: pd.DataFrame) -> pd.Series:
    """DraftKings' Game Info of each row, "AWY@HOM MM/DD/YYYY HH:MMPM ET" (the tip in US Eastern time)."""
    home = slate["home"].astype(bool)
    away_team, home_team = slate["team"].where(~home, slate["opp"]), slate["opp"].where(~home, slate["team"])
    tips = pd.to_datetime(slate["tip_time"], utc=True).dt.tz_convert("America/New_York")
    return away_team + "@" + home_team + " " + tips.dt.strftime("%m/%d/%Y %I:%M%p") + " ET"


def dk_csv(slate: pd.DataFrame) -> str:
    """The slate in DraftKings' DKSalaries.csv layout, the expected points in AvgPointsPerGame."""
    rows = slate.assign(
        **{
            "Position": slate["positions"],
            "Name + ID": slate["player_name"] + slate["dk_id"].map(lambda i: f" ({int(i)})" if pd.notna(i) else ""),
            "Name": slate["player_name"],
            "ID": slate["dk_id"].map(lambda i: str(int(i)) if pd.notna(i) else ""),
            "Roster Position": slate["roster_positions"],
            "Salary": slate["salary"],
            "Game Info": game_info(slate),
            "TeamAbbrev": slate["team"],
            "AvgPointsPerGame": (slate["p_play"] * slate["dk_mean"]).round(2),
        }
    )
    cols = ["Position", "Name + ID", "Name", "ID", "Roster Position", "Salary", "Game Info", "TeamAbbrev",
            "AvgPointsPerGame"]
    return rows[cols].to_csv(index=False, lineterminator="\n")


def gold(salaries: pd.DataFrame, rosters: pd.DataFrame, minutes: pd.DataFrame, sim: pd.DataFrame,
         ownership: pd.DataFrame, *, params: NoParams, ctx: StageContext) -> dict[str, pd.DataFrame | str]:
    slate = salaries.merge(rosters[["player_id", "status", "availability"]], on="player_id", how="left") \
        .merge(minutes[["player_id", "role", "tier", "mode", "p_play", "proj_minutes", "exp_minutes"]],
               on="player_id", how="left") \
        .merge(sim[["player_id", *DK_COLUMNS]], on="player_id", how="left") \
        .merge(ownership[["player_id", "ownership"]], on="player_id", how="left")
    slate = slate.assign(dk_id=slate["dk_id"].astype("Int64"))  # whole ids, none where the source has none
    slate = slate.sort_values(["dk_mean", "player_id"], ascending=[False, True]).reset_index(drop=True)
    return {"projections.parquet": slate[list(OUTPUT.columns)], "dk_projections.csv": dk_csv(slate)}


SPEC = Stage(
    name="gold",
    func=gold,
    doc="publish the slate: projections.parquet + a DraftKings CSV, behind the gold pointer",
    inputs=("salaries", "rosters", "minutes", "sim", "ownership"),
    contract=OUTPUT,
    publish="projections",
    main="projections.parquet",
)

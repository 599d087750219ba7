"""minutes: projected minutes per player - who plays, and how long if he does - within a team budget.

`stages.model.minutes_model` with the calibration's coefficients: a confirmed starter plays; anyone else's
P(plays) comes from his recent appearances and role, scaled by his injury-report status (before lineups are
confirmed that is the main news); minutes if he plays come from role-specific recent minutes, rest, returning
from an absence, blowout risk (|spread|) and the minutes teammates who are likely out leave open (over the team,
and weighted by how much their DK primary position overlaps his, read from the salary file's `positions` as the
calibration's fit reads them); each team's expected minutes (sum of P(plays) x minutes) are pulled toward the
budget (about 240 incl. overtime).

proj_minutes is the median if he plays (what an evaluation on players who played should be compared with);
exp_minutes = p_play x proj_minutes sums to about the budget per team.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.contracts import Contract
from projections.pipeline import Stage, StageContext
from stages.model import minutes_model, simulate
from stages.model.table import Calibration


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # fitted on December 2023's official reports and box scores (`python -m projections.archive_build.status_fit`);
    # Doubtful fits 0 (none of 38 played): one played in 40 (add-one) of a mean P(plays) of 0.47 gives 0.05 - a fit
    # at 0 from 38 rows would call a Doubtful player Out (3 of the bubble's 17 played)
    doubtful: float = Field(default=0.05, ge=0, le=1, description="P(plays) factor of a Doubtful player")
    questionable: float = Field(default=0.77, ge=0, le=1, description="P(plays) factor of a Questionable player")
    probable_sits: float = Field(default=0.38, ge=0, le=1,
                                 description="P(sits) factor of a Probable player (he plays with 1 - f (1 - P))")
    available_sits: float = Field(default=0.64, ge=0, le=1,
                                  description="P(sits) factor of a player the report lists Available")

    def status_play(self) -> dict[str, float]:
        """Statuses that scale P(plays), and by how much."""
        return {"Out": 0.0, "Doubtful": self.doubtful, "Questionable": self.questionable}

    def status_sit(self) -> dict[str, float]:
        """Statuses that scale P(sits) (he is cleared), and by how much."""
        return {"Probable": self.probable_sits, "Available": self.available_sits}


OUTPUT = Contract(
    description="one row per DK player: P(plays), minutes if he plays, tier",
    columns={"player_id": "str", "game_id": "str", "team": "str", "lineup_known": "bool", "role": "str",
             "p_play": "float", "raw_minutes": "float", "proj_minutes": "float", "exp_minutes": "float",
             "vacated": "float", "tier": "str", "band": "str", "mode": "str"},
    non_null=("player_id", "game_id", "team", "p_play", "proj_minutes", "exp_minutes", "tier", "band", "mode"),
    unique=("player_id",),
    min_rows=1,
)


def minutes(rosters: pd.DataFrame, odds: pd.DataFrame, calibration: pd.DataFrame, *, params: Params,
            ctx: StageContext) -> pd.DataFrame:
    cal = Calibration(calibration, stage="minutes")
    scalars = cal.group("scalar")
    frame = rosters.merge(odds[["team", "spread"]], on="team", how="left")
    frame["spread"] = frame["spread"].fillna(0.0)
    frame["position"] = minutes_model.primary_position(frame["positions"])  # as the calibration's fit reads it
    coefs = cal.coefs(("p_bench", "p_any", "min_starter", "min_bench", "min_any"))
    proj = minutes_model.project(frame, coefs, rookie=scalars["rookie_p_play"], status_play=params.status_play(),
                                 status_sit=params.status_sit(), budget=scalars["team_minutes"],
                                 strength=scalars["budget_strength"])
    proj["exp_minutes"] = proj["p_play"] * proj["proj_minutes"]
    proj["role"] = np.where(proj["role_starter"] == 1.0, np.where(proj["lineup_known"], "starter", "expected starter"),
                            np.where(proj["lineup_known"], "bench", "expected bench"))
    proj["tier"] = np.where(proj["proj_minutes"] >= scalars["rotation_minutes"], "rotation", "fringe")
    proj["band"] = simulate.minutes_band(proj["proj_minutes"].to_numpy())
    proj["mode"] = np.where(proj["lineup_known"], "confirmed", "none")
    return proj[list(OUTPUT.columns)].sort_values(["team", "player_id"]).reset_index(drop=True)


def minutes_meta(frame: pd.DataFrame) -> Mapping[str, Any]:
    """Expected team minutes (should be near the budget) and which lineup case applied per team."""
    teams = frame.groupby("team").agg(exp=("exp_minutes", "sum"), known=("lineup_known", "first"))
    return {"team_exp_minutes": {t: round(float(v), 1) for t, v in teams["exp"].items()},
            "teams_lineup_known": int(teams["known"].sum()), "teams": len(teams)}


SPEC = Stage(
    name="minutes",
    func=minutes,
    doc="projected minutes: P(plays) and minutes if he plays, a team budget over the active rotation",
    inputs=("rosters", "odds", "calibration"),
    params=Params,
    contract=OUTPUT,
    meta=minutes_meta,
)

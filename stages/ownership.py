"""ownership: projected ownership % per player on a classic slate, summing to 800% (eight roster spots).

Each of the eight DK classic slots (PG, SG, SF, PF, C, G, F, UTIL) hands out 100% over the players eligible
for it (their roster positions), in proportion to exp(utility), where utility grows with the player's value
(expected DK points per $1,000 of salary) and his expected points; expected points are P(plays) x dk_mean,
so a player ruled out gets nothing. A lineup holds a player once, so no one is owned by more than 100%: a
player the slots' shares would put above it (one eligible for four slots on a small slate) is held at 100%
and the others are scaled up alike until the total is 800% again. Everything comes from inputs as of the lock,
so a past slate is as complete as today's. The weights are priors (the archive holds no real ownership to fit
them on).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.contracts import Contract
from projections.errors import ContractViolation
from projections.pipeline import Stage, StageContext

SLOTS = ("PG", "SG", "SF", "PF", "C", "G", "F", "UTIL")


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # bounded so that exp(utility) of every player stays a number: beyond, one player would take every slot
    value_weight: float = Field(default=0.9, ge=0, le=25, description="utility per point of value (pts per $1k)")
    points_weight: float = Field(default=0.06, ge=0, le=2.5, description="utility per expected DK point")


OUTPUT = Contract(
    description="one row per DK player: projected ownership in percent (sums to 800)",
    columns={"player_id": "str", "exp_points": "float", "value": "float", "ownership": "float"},
    non_null=("player_id", "exp_points", "value", "ownership"),
    unique=("player_id",),
    min_rows=1,
)


def ownership(salaries: pd.DataFrame, minutes: pd.DataFrame, sim: pd.DataFrame, *, params: Params,
              ctx: StageContext) -> pd.DataFrame:
    frame = salaries[["player_id", "salary", "roster_positions"]].merge(
        minutes[["player_id", "p_play"]], on="player_id").merge(sim[["player_id", "dk_mean"]], on="player_id")
    frame["exp_points"] = frame["p_play"] * frame["dk_mean"]
    frame["value"] = frame["exp_points"] / (frame["salary"] / 1000.0)
    utility = params.value_weight * frame["value"] + params.points_weight * frame["exp_points"]
    weight = np.where(frame["exp_points"] > 0, np.exp(utility - utility.max()), 0.0)
    slots = frame["roster_positions"].fillna("").astype(str).str.split("/")
    share = np.zeros(len(frame))
    for slot in SLOTS:
        eligible = slots.map(lambda s, slot=slot: slot in s).to_numpy() & (weight > 0)
        if not eligible.any():
            raise ContractViolation(
                f"ownership: no available player on the slate is eligible for the {slot} slot (roster positions "
                f"{sorted(set(frame['roster_positions']))[:8]}); the salary file is not a classic slate",
                stage="ownership", columns=("roster_positions",))
        w = np.where(eligible, weight, 0.0)
        share += 100.0 * w / w.sum()
    frame["ownership"] = capped(share)
    return frame[list(OUTPUT.columns)].sort_values("player_id").reset_index(drop=True)


def capped(share: np.ndarray, cap: float = 100.0, total: float = 800.0) -> np.ndarray:
    """min(cap, k x share), with k >= 1 such that the shares again add up to `total` (to cap times the players
    with a share, where fewer than eight have one); `share` itself where no one is above the cap.

    Exact: with the shares sorted from the largest, the first j held at the cap leave total - j x cap to the
    rest, so k = (total - j cap) / (sum of the rest); j is the first count at which the next share, so
    scaled, stays under the cap."""
    if (share <= cap).all():
        return share
    target = min(total, cap * float((share > 0).sum()))
    ordered = np.sort(share[share > 0])[::-1]
    rest = np.cumsum(ordered[::-1])[::-1]  # rest[j]: the sum of the shares from the (j+1)-th largest on
    for held in range(len(ordered)):
        k = (target - held * cap) / rest[held]
        if k * ordered[held] <= cap:
            return np.where(share > 0, np.minimum(cap, k * share), 0.0)
    return np.where(share > 0, cap, 0.0)


SPEC = Stage(
    name="ownership",
    func=ownership,
    doc="projected ownership % per player from salary, projection and value by position (sums to 800%)",
    inputs=("salaries", "minutes", "sim"),
    params=Params,
    contract=OUTPUT,
)

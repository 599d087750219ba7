"""sim: Monte Carlo of each player's DraftKings points if he plays (see `stages.model.simulate`).

Minutes uncertainty (the prior season's residuals for his band of projected minutes), a game factor shared by
both teams and a team factor shared by teammates, exact Poisson counts per stat, DK classic scoring with the
double-double and triple-double bonuses, then the mean correction and dispersion of his calibration group
(fringe tier, rotation starters, rotation bench) from the calibration.
Each game is seeded from its own rows (`simulate.game_seed`), not from the stage key: a rerun is bit-identical,
and a game whose inputs did not change keeps its numbers when another game's do (a later game's starters after
the first tip). A player ruled out (proj_minutes 0) gets zeros.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.contracts import Contract
from projections.pipeline import Stage, StageContext
from stages.model import simulate as simulate_model
from stages.model.simulate import QUANTILES, SIM_STATS, simulate
from stages.model.table import Calibration


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    draws: int = Field(default=10_000, ge=100, le=200_000, description="Monte Carlo draws per player")


DK_COLUMNS = ("dk_mean", "dk_sd", *(f"dk_p{int(q * 100)}" for q in QUANTILES))
OUTPUT = Contract(
    description="one row per DK player: distribution of DK points if he plays",
    columns={"player_id": "str", "mode": "str", "tier": "str", **{c: "float" for c in DK_COLUMNS}},
    non_null=("player_id", "mode", "tier", *DK_COLUMNS),
    unique=("player_id",),
    min_rows=1,
)


def sim(minutes: pd.DataFrame, rates: pd.DataFrame, calibration: pd.DataFrame, *, params: Params,
        ctx: StageContext) -> pd.DataFrame:
    cal = Calibration(calibration, stage="sim")
    scalars = cal.group("scalar")
    players = minutes.merge(rates[["player_id", *(f"rate_{s}" for s in SIM_STATS)]], on="player_id",
                            how="left", validate="one_to_one")
    modes = sorted(players["mode"].unique())
    # one call, so both teams of a game share its game factor whatever their lineup case
    group = simulate_model.calibration_group(players["proj_minutes"].to_numpy(),
                                       players["role"].str.endswith("starter").to_numpy(), scalars["rotation_minutes"])
    keyed = players.assign(band=players["mode"] + ":" + players["band"], group=players["mode"] + ":" + group)
    residuals = {f"{m}:{b}": q for m in modes for b, q in cal.residuals(str(m)).items()}
    scale = {f"{m}:{t}": v for m in modes for t, v in cal.group(f"scale:{m}").items()}
    shift = {f"{m}:{t}": v for m in modes for t, v in cal.group(f"shift:{m}").items()}
    dispersion = {f"{m}:{t}": v for m in modes for t, v in cal.group(f"dispersion:{m}").items()}
    out = simulate(keyed, residuals=residuals, scale=scale, shift=shift, dispersion=dispersion,
                   sigma_game=scalars["sigma_game"], sigma_team=scalars["sigma_team"], draws=params.draws)
    result = pd.concat([players[["player_id", "mode", "tier"]], out], axis=1)
    return result[list(OUTPUT.columns)].sort_values("player_id").reset_index(drop=True)


SPEC = Stage(
    name="sim",
    func=sim,
    doc="Monte Carlo of DK points per player (minutes uncertainty, shared game factor): mean, sd, p10..p90",
    inputs=("minutes", "rates", "calibration"),
    params=Params,
    contract=OUTPUT,
)

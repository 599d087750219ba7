"""rates: per-minute production per player, shrunk toward position means, adjusted for the game's scoring.

rate_<stat> (fg2m, fg3m, ftm, reb, ast, stl, blk, tov per minute) = the player's recency-weighted rate
shrunk toward the mean rate of his DK primary position (prior weight `shrink_minutes` from the calibration),
times the pace factor (implied team total / league mean) ** elasticity, times the usage factor
1 + gamma (vacated_usage - mean): vacated_usage is the share of his teammates' usual DK production that
teammates unlikely to play (P(plays) from the minutes stage) leave open; gamma and mean are the calibration's
for the slate's lineup case. Also reported: pts_per_min,
dk_per_min (without bonuses) and the season shooting splits season_fg2_pct, season_fg3_pct, season_ft_pct
(season to date, shrunk toward the position's percentage by `pct_prior_attempts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.contracts import Contract
from projections.dates import season_of
from projections.pipeline import Stage, StageContext
from stages.model import minutes_model, rates_model
from stages.model.simulate import SIM_STATS
from stages.model.table import Calibration


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    pct_prior_attempts: float = Field(default=50.0, gt=0, description="prior attempts behind shooting splits")


SPLITS = {"season_fg2_pct": ("fg2m", "fg2a"), "season_fg3_pct": ("fg3m", "fg3a"), "season_ft_pct": ("ftm", "fta")}
OUTPUT = Contract(
    description="one row per DK player: per-minute rates and shooting splits",
    columns={"player_id": "str", "position": "str", **{f"rate_{s}": "float" for s in SIM_STATS},
             "pts_per_min": "float", "dk_per_min": "float", "pace": "float", "vacated_usage": "float",
             "usage": "float", **{k: "float" for k in SPLITS}},
    non_null=("player_id", *(f"rate_{s}" for s in SIM_STATS), *SPLITS),
    unique=("player_id",),
    min_rows=1,
)


def _splits(logs: pd.DataFrame, players: pd.DataFrame, prior_attempts: float) -> pd.DataFrame:
    """Season-to-date shooting percentages shrunk toward the position's (league's where unknown)."""
    made_att = pd.DataFrame({"player_id": logs["player_id"], "fg2m": logs["fgm"] - logs["fg3m"],
                             "fg2a": logs["fga"] - logs["fg3a"], "fg3m": logs["fg3m"], "fg3a": logs["fg3a"],
                             "ftm": logs["ftm"], "fta": logs["fta"]}).astype({"player_id": str})
    sums = made_att.groupby("player_id").sum()
    out = players[["player_id", "position"]].set_index("player_id")
    by_pos = sums.join(out, how="inner").groupby("position").sum()
    league = sums.sum()
    for name, (made, att) in SPLITS.items():
        league_pct = float(league[made] / league[att]) if league[att] > 0 else 0.5
        pos_pct = (by_pos[made] / by_pos[att].where(by_pos[att] > 0)).reindex(out["position"]).fillna(league_pct)
        m = sums[made].reindex(out.index).fillna(0).to_numpy()
        a = sums[att].reindex(out.index).fillna(0).to_numpy()
        out[name] = (m + prior_attempts * pos_pct.to_numpy()) / (a + prior_attempts)
    return out.reset_index()[["player_id", *SPLITS]]


def rates(rosters: pd.DataFrame, minutes: pd.DataFrame, game_logs: pd.DataFrame, odds: pd.DataFrame,
          calibration: pd.DataFrame, *, params: Params, ctx: StageContext) -> pd.DataFrame:
    cal = Calibration(calibration, stage="rates")
    scalars = cal.group("scalar")
    frame = rosters.merge(odds[["team", "implied_total"]], on="team", how="left").merge(
        minutes[["player_id", "p_play", "mode"]], on="player_id", how="left", validate="one_to_one")
    frame["position"] = minutes_model.primary_position(frame["positions"])
    league = {s: scalars[f"league_{s}"] for s in SIM_STATS}
    by_position = rates_model.position_rates(game_logs, frame[["player_id", "position"]])
    prior = rates_model.prior_table(frame["position"], by_position, league)
    out = rates_model.shrunk_rates(frame, prior, scalars["shrink_minutes"])
    pace = rates_model.pace_factor(frame["implied_total"], scalars["league_implied"], scalars["pace_elasticity"])
    out = out.mul(pace, axis=0)
    vacated = rates_model.vacated_usage(frame, rates_model.dk_per_minute(out), frame["p_play"].fillna(1.0).to_numpy())
    usage = np.ones(len(frame))
    for mode in frame["mode"].dropna().unique():
        fitted = cal.group(f"usage:{mode}")
        sel = (frame["mode"] == mode).to_numpy()
        usage[sel] = rates_model.usage_factor(vacated[sel], fitted["gamma"], fitted["mean"])
    out = out.mul(usage, axis=0)
    out["player_id"] = frame["player_id"].to_numpy()
    out["position"] = frame["position"].to_numpy()
    out["pts_per_min"] = 2 * out["rate_fg2m"] + 3 * out["rate_fg3m"] + out["rate_ftm"]
    out["dk_per_min"] = rates_model.dk_per_minute(out)
    out["pace"] = pace
    out["vacated_usage"] = vacated
    out["usage"] = usage
    season = game_logs[game_logs["season"] == season_of(ctx.game_date)]
    out = out.merge(_splits(season, out, params.pct_prior_attempts), on="player_id", how="left")
    return out[list(OUTPUT.columns)].sort_values("player_id").reset_index(drop=True)


SPEC = Stage(
    name="rates",
    func=rates,
    doc="per-minute rates (PTS parts, 3PM, REB, AST, STL, BLK, TOV) shrunk to position means, pace- and "
        "usage-adjusted",
    inputs=("rosters", "minutes", "game_logs", "odds", "calibration"),
    params=Params,
    contract=OUTPUT,
)

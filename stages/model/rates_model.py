"""Per-minute production: recency-weighted rates shrunk toward a prior, adjusted for the game's scoring.

rate_s = (weighted stat total + K x prior_s) / (weighted minutes + K), the weights those of
`history.player_sequences` (recent games count more, the prior season less); prior_s is the mean rate of the
player's position (league mean where the position is unknown). The pace factor is
(implied team total / league mean implied total) ** elasticity, the elasticity fitted on the prior season.
Usage left open by teammates who are likely out moves the rates: usage factor = 1 + gamma (vacated - mean),
vacated = the share of the teammates' usual DK production that is likely missing (`vacated_usage`), gamma and
its mean fitted on the prior season (`usage_factor`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from stages.model.minutes_model import appear_share
from stages.model.simulate import SIM_STATS


def league_rates(logs: pd.DataFrame) -> dict[str, float]:
    """Minutes-weighted per-minute rate of every simulated stat over the logs."""
    minutes = float(logs["minutes"].sum())
    totals = _stat_totals(logs)
    return {s: float(totals[s].sum()) / minutes if minutes > 0 else 0.0 for s in SIM_STATS}


def position_rates(logs: pd.DataFrame, positions: pd.DataFrame) -> pd.DataFrame:
    """Per-minute rates by primary position (rows: position, columns: SIM_STATS) over the logs of the
    players in `positions` (player_id, position)."""
    known = positions[positions["position"] != ""][["player_id", "position"]].drop_duplicates("player_id")
    rows = logs.merge(known, on="player_id")
    totals = _stat_totals(rows)
    totals["position"] = rows["position"].to_numpy()
    totals["minutes"] = rows["minutes"].to_numpy(dtype="float64")
    sums = totals.groupby("position")[[*SIM_STATS, "minutes"]].sum()
    return sums[list(SIM_STATS)].div(sums["minutes"].where(sums["minutes"] > 0), axis=0)


def prior_table(position: pd.Series, by_position: pd.DataFrame, league: Mapping[str, float]) -> pd.DataFrame:
    """Per row, the prior rate of each stat: its position's mean (`position_rates`), else the league's."""
    return pd.DataFrame({s: position.map(by_position.get(s, {})).astype("float64")
                         .fillna(league[s]).to_numpy() for s in SIM_STATS}, index=position.index)


def _stat_totals(logs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=logs.index)
    out["fg2m"] = (logs["fgm"] - logs["fg3m"]).astype("float64")
    for s in SIM_STATS:
        if s != "fg2m":
            out[s] = logs[s].astype("float64")
    return out


def shrunk_rates(feats: pd.DataFrame, prior: pd.DataFrame, shrink_minutes: float) -> pd.DataFrame:
    """rate_<stat> per row: the player's weighted rate shrunk toward `prior` (same index, one column per
    stat) by `shrink_minutes` of prior weight."""
    exposure = feats["rate_minutes"].fillna(0.0).to_numpy(dtype="float64")
    out = pd.DataFrame(index=feats.index)
    for s in SIM_STATS:
        own = feats[f"per_min_{s}"].fillna(0.0).to_numpy(dtype="float64")
        out[f"rate_{s}"] = (own * exposure + shrink_minutes * prior[s].to_numpy(dtype="float64")) \
            / (exposure + shrink_minutes)
    return out


def pace_factor(implied: pd.Series, league_implied: float, elasticity: float) -> np.ndarray:
    """(implied team total / league mean) ** elasticity; 1 where the line is unknown."""
    ratio = (implied / league_implied).fillna(1.0).to_numpy(dtype="float64")
    return np.power(np.clip(ratio, 0.5, 2.0), elasticity)


def vacated_usage(frame: pd.DataFrame, dk_per_min: np.ndarray, p_play: np.ndarray) -> np.ndarray:
    """Per row: the share of his teammates' usual DK production that teammates likely not to play leave open,
    sum_j u_j (1 - p_j) / sum_j u_j over the other rows of his game and team, where u_j = j's share of recent
    team games played x his recency-weighted minutes x his DK points per minute (what j usually produces)."""
    known = frame["min_avg"].notna().to_numpy()
    usual = np.where(known, appear_share(frame) * frame["min_avg"].fillna(0.0).to_numpy(dtype="float64")
                     * np.asarray(dk_per_min, dtype="float64"), 0.0)
    missing = usual * (1.0 - np.asarray(p_play, dtype="float64"))
    keys = [frame["game_id"].to_numpy(), frame["team"].to_numpy()]
    team_missing = pd.Series(missing).groupby(keys).transform("sum").to_numpy() - missing
    team_usual = pd.Series(usual).groupby(keys).transform("sum").to_numpy() - usual
    return np.where(team_usual > 0, team_missing / np.maximum(team_usual, 1e-9), 0.0)


def usage_factor(vacated: np.ndarray, gamma: float, mean: float) -> np.ndarray:
    """1 + gamma (vacated - mean), within [0.8, 1.3]: rates rise when more usage than usual is left open."""
    return np.clip(1.0 + gamma * (np.asarray(vacated, dtype="float64") - mean), 0.8, 1.3)


def dk_per_minute(rates: pd.DataFrame) -> np.ndarray:
    """DK points per minute implied by the rates (without bonuses): a summary for tests and reports."""
    r: Mapping[str, np.ndarray] = {s: rates[f"rate_{s}"].to_numpy(dtype="float64") for s in SIM_STATS}
    pts = 2 * r["fg2m"] + 3 * r["fg3m"] + r["ftm"]
    return pts + 0.5 * r["fg3m"] + 1.25 * r["reb"] + 1.5 * r["ast"] + 2 * r["stl"] + 2 * r["blk"] - 0.5 * r["tov"]

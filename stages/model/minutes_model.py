"""The minutes model: who plays (p_play), how long if he plays, and the team budget that ties them together.

Two cases per team, fitted separately on the prior season:
- lineup known (confirmed starters at lock): a starter plays (p_play 1); a bench player's p_play is a logistic
  model of his recent appearances and role; minutes if he plays are a median regression for starters and one
  for the bench, on role-specific recent minutes;
- lineup unknown: one logistic and one median regression for everyone, with the expected role (the recent
  start rate) in place of the confirmed one; injury-report statuses move p_play (`play_probability`).
Minutes a teammate is unlikely to play enter the regressions twice: summed over the team (`vacated`) and weighted
by how much his DK position overlaps the player's (`vacated_pos`: a guard's absence opens minutes mainly for
guards; fitted on 2018-19 it carries nearly all of a starter's share); with the lineup known, so does how
crowded the rotation is (`team_context`: the other starters' role minutes, the bench's expected minutes, the
team's, how many bench players will likely play). Each team's expected minutes (sum of p_play x minutes) are
then pulled toward the team budget (about 240, overtime included). The regressions and the budget read P(plays)
before injury statuses and inactive lists (they were fitted without either): those change who plays, and
`balance_play` passes a ruled-out player's minutes to his teammates' P(plays).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from stages.model.fit import predict, sigmoid

P_BENCH = ("appear_share", "start_rate0", "log_minutes", "missed_one", "missed_three",
           "last_minutes0")
P_ANY = P_BENCH
TEAM_CONTEXT = ("starters_role", "bench_expected", "team_expected")
MIN_STARTER = ("role_minutes", "min_short0", "min_long0", "last_minutes0", "min_sd0", "log_games", "returning",
               "start_rate0", "abs_spread", "vacated", "vacated_pos", "back_to_back", "last_blowout0", *TEAM_CONTEXT)
MIN_BENCH = (*MIN_STARTER, "no_history", "bench_likely")
MIN_ANY = ("min_avg0", "min_short0", "min_long0", "last_minutes0", "min_sd0", "log_games", "role_minutes",
           "returning", "start_rate0", "abs_spread", "vacated", "vacated_pos", "back_to_back", "last_blowout0",
           "no_history", *TEAM_CONTEXT, "bench_likely")
MODELS: Mapping[str, tuple[str, ...]] = {
    "p_bench": P_BENCH, "p_any": P_ANY, "min_starter": MIN_STARTER, "min_bench": MIN_BENCH, "min_any": MIN_ANY,
}
ROLE_PRIOR_GAMES = 2.0  # games of prior weight on role-specific minutes
MIN_SD_NEW = 6.0  # minutes sd assumed for a player with no logged game (a typical bench player's)
POSITIONS = ("PG", "SG", "SF", "PF", "C")  # DK primary positions, guard to center
UNKNOWN_OVERLAP = 0.5  # position overlap where either position is unknown: halfway, no evidence either way
ROLE_GAP = 6.0  # starters play about this many minutes more than their all-role average, bench players fewer


def prepare(feats: pd.DataFrame) -> pd.DataFrame:
    """Model columns from `history.history_features` output plus `starter` (True/False, or NA when the
    team's lineup is not known), `lineup_known` and `spread` (the team's point spread)."""
    out = feats.copy()
    known = out["lineup_known"].astype("bool").to_numpy()
    starter = out["starter"].astype("boolean").fillna(False).astype("bool").to_numpy()
    start_rate = out["start_rate"].to_numpy(dtype="float64")
    expected = np.where(known, starter, np.nan_to_num(start_rate, nan=0.0) >= 0.5)
    out["role_starter"] = expected.astype("float64")
    no_hist = out["min_avg"].isna().to_numpy()
    out["no_history"] = no_hist.astype("float64")
    fill = np.where(out["role_starter"] == 1.0, 26.0, 6.0)
    out["min_avg0"] = out["min_avg"].fillna(pd.Series(fill, index=out.index))
    for col in ("min_short", "min_long", "last_minutes"):
        out[f"{col}0"] = out[col].fillna(out["min_avg0"])
    out["min_sd0"] = out["min_sd"].fillna(MIN_SD_NEW)
    out["log_games"] = np.log1p(out["games"].fillna(0.0))
    out["start_rate0"] = out["start_rate"].fillna(out["role_starter"])
    w = out["w_games"].fillna(0.0)
    w_start = out["start_rate0"] * w
    w_bench = (1 - out["start_rate0"]) * w
    k = ROLE_PRIOR_GAMES
    as_starter = (out["min_start"].fillna(0) * w_start + k * (out["min_avg0"] + ROLE_GAP)) / (w_start + k)
    as_bench = (out["min_bench"].fillna(0) * w_bench + k * (out["min_avg0"] - ROLE_GAP).clip(lower=2)) / (w_bench + k)
    if_known = np.where(starter, as_starter, as_bench)
    out["role_minutes"] = np.where(known, if_known, out["start_rate0"] * as_starter)
    out["appear_share"] = appear_share(out)
    out["log_minutes"] = np.log1p(out["min_avg"].fillna(0))
    missed = out["missed_streak"].fillna(0)
    out["missed_one"] = (missed >= 1).astype("float64")
    out["missed_three"] = (missed >= 3).astype("float64")
    out["returning"] = out["missed_one"]
    out["back_to_back"] = (out["rest_days"] == 1).astype("float64")
    out["last_blowout0"] = out["last_blowout"].fillna(0.0)
    out["abs_spread"] = out["spread"].abs().fillna(0.0)
    return out


def primary_position(positions: pd.Series) -> pd.Series:
    """"PG/SG" -> "PG"; anything that is not a DK position -> "" (unknown)."""
    first = positions.fillna("").astype(str).str.split("/").str[0]
    return first.where(first.isin(POSITIONS), "")


def appear_share(feats: pd.DataFrame) -> np.ndarray:
    """Share of his team's last (up to 10) games the player appeared in; 1 before the team's first game
    (there is no evidence of absence yet)."""
    n = feats["team_games_before"].fillna(0).to_numpy(dtype="float64")
    played = feats["played_last10"].fillna(0).to_numpy(dtype="float64")
    return np.where(n > 0, played / np.maximum(np.minimum(n, 10), 1), 1.0)


def play_probability(frame: pd.DataFrame, coefs: Mapping[str, Mapping[str, float]], *,
                     rookie: float, status_play: Mapping[str, float],
                     status_sit: Mapping[str, float] | None = None) -> np.ndarray:
    """P(plays) per row: 1 for a confirmed starter, a logistic model otherwise, moved by the injury status - a
    status of `status_play` (Out, Doubtful, Questionable) scales P(plays), one of `status_sit` (Probable,
    Available: he is cleared) scales P(sits) (`stages.model.status_fit` fits both); a player with no game in the
    logs gets `rookie`; 0 for a player his game's list has inactive (`inactive`)."""
    known = frame["lineup_known"].astype("bool").to_numpy()
    starter = frame["starter"].astype("boolean").fillna(False).astype("bool").to_numpy()
    p = np.where(known, sigmoid(predict(frame, coefs["p_bench"])), sigmoid(predict(frame, coefs["p_any"])))
    p = np.where(frame["no_history"].to_numpy() == 1.0, rookie, p)
    status = frame["status"].fillna("").astype(str) if "status" in frame else pd.Series("", index=frame.index)
    scale = status.map(dict(status_play)).fillna(1.0).to_numpy(dtype="float64")
    sits = status.map(dict(status_sit or {})).fillna(1.0).to_numpy(dtype="float64")
    p = np.where(sits != 1.0, 1.0 - sits * (1.0 - p * scale), p * scale)  # p exactly as it was without a status
    p = np.where(known & starter, np.where(scale > 0, 1.0, 0.0), p)
    inactive = frame["inactive"].astype("bool").to_numpy() if "inactive" in frame else np.zeros(len(frame), bool)
    return np.where(inactive, 0.0, p)


def team_sum(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Per row, the sum of `values` over the row's team in its game."""
    by = [frame["game_id"].to_numpy(), frame["team"].to_numpy()]
    return pd.Series(np.asarray(values, dtype="float64")).groupby(by).transform("sum").to_numpy()


def vacated(frame: pd.DataFrame, p_play: np.ndarray) -> np.ndarray:
    """Minutes (in tens) the player's teammates are likely to leave open: their recent share of team games
    times their minutes times P(they sit), summed over the team without the player himself."""
    own = _vacating(frame, p_play)
    return (team_sum(frame, own) - own) / 10.0


def _vacating(frame: pd.DataFrame, p_play: np.ndarray) -> np.ndarray:
    return (frame["appear_share"] * frame["min_avg"].fillna(0) * (1 - p_play)
            * (1 - frame["no_history"])).to_numpy(dtype="float64")


def position_overlap(mine: str, theirs: str) -> float:
    """How much two DK primary positions share minutes: 1 the same, 0.5 adjacent (PG-SG, SG-SF, SF-PF, PF-C), 0
    further apart; UNKNOWN_OVERLAP where either is unknown ("")."""
    if mine not in POSITIONS or theirs not in POSITIONS:
        return UNKNOWN_OVERLAP
    return max(0.0, 1.0 - abs(POSITIONS.index(mine) - POSITIONS.index(theirs)) / 2)


def vacated_position(frame: pd.DataFrame, p_play: np.ndarray) -> np.ndarray:
    """`vacated` weighted by position (minutes in tens): each teammate's likely open minutes times his position's
    overlap with the player's (`position_overlap`: a guard's absence opens minutes mainly for guards), from the
    frame's `position` (DK primary position, "" unknown)."""
    own = _vacating(frame, p_play)
    labels = (*POSITIONS, "")
    overlap = np.array([[position_overlap(mine, theirs) for theirs in labels] for mine in labels])
    mine = frame["position"].map(dict(zip(labels, range(len(labels)), strict=True))).fillna(len(labels) - 1)
    mine = mine.to_numpy(dtype="int64")
    out = np.zeros(len(frame))
    for k in range(len(labels)):  # the team's open minutes at position k, times each player's overlap with k
        out += overlap[mine, k] * team_sum(frame, np.where(mine == k, own, 0.0))
    return (out - overlap[mine, mine] * own) / 10.0


def team_context(frame: pd.DataFrame, p_play: np.ndarray) -> pd.DataFrame:
    """How crowded the player's rotation is (minutes in tens): `starters_role` the role minutes of his team's
    (expected) starters other than himself, `bench_expected` the expected minutes (P(plays) x recent average)
    of its bench players other than himself, `team_expected` the same over the whole team, himself included,
    and `bench_likely` how many of its bench players (himself included) more likely play than not."""
    starter = (frame["role_starter"].to_numpy() == 1.0).astype("float64")
    role = frame["role_minutes"].to_numpy(dtype="float64") * starter / 10.0
    expected = frame["min_avg0"].to_numpy(dtype="float64") * p_play / 10.0
    bench_expected = expected * (1.0 - starter)
    likely = ((p_play > 0.6) & (starter == 0.0)).astype("float64")
    return pd.DataFrame({"starters_role": team_sum(frame, role) - role,
                         "bench_expected": team_sum(frame, bench_expected) - bench_expected,
                         "team_expected": team_sum(frame, expected), "bench_likely": team_sum(frame, likely)},
                        index=frame.index)


def conditional_minutes(frame: pd.DataFrame, coefs: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """Median minutes if the player plays, before the team budget."""
    known = frame["lineup_known"].astype("bool").to_numpy()
    starter = frame["role_starter"].to_numpy() == 1.0
    pred = np.where(known, np.where(starter, predict(frame, coefs["min_starter"]),
                                    predict(frame, coefs["min_bench"])), predict(frame, coefs["min_any"]))
    return np.clip(pred, 1.0, 46.0)


def apply_budget(frame: pd.DataFrame, minutes: np.ndarray, p_play: np.ndarray, *, budget: float,
                 strength: float) -> np.ndarray:
    """Scale each team's minutes by (budget / expected team minutes) ** strength, capped at 48."""
    total = team_sum(frame, minutes * p_play)
    factor = np.where(total > 0, (budget / np.maximum(total, 1e-9)) ** strength, 1.0)
    return np.clip(minutes * factor, 0.0, 48.0)


def project(feats: pd.DataFrame, coefs: Mapping[str, Mapping[str, float]], *, rookie: float,
            status_play: Mapping[str, float], budget: float, strength: float,
            status_sit: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The whole minutes model on prepared features: adds p_play, vacated, raw_minutes, proj_minutes."""
    frame = prepare(feats)
    frame["vacated"] = 0.0
    p = play_probability(frame, coefs, rookie=rookie, status_play=status_play, status_sit=status_sit)
    # the minutes regressions and the budget were fitted on P(plays) without injury statuses or inactive lists
    # (no season before has them), so they read that P; a status or a game's inactive list moves only who plays,
    # and balance_play then hands the minutes of a player ruled out to his teammates' P(plays). Fed the ruled-out
    # P, they counted each absence again: with a perfect report of who sits, November 2019 without lineups
    # scored 2.4% worse than the baseline (minutes bias +2.5), -2.2% this way; with lineups and a perfect
    # inactive list, 7.49 -> 7.29; the bubble's real reports without lineups went from -2.0% to -4.9%.
    ruled = (frame["status"].fillna("").astype(str) != "").any() if "status" in frame else False
    ruled = ruled or (bool(frame["inactive"].astype("bool").any()) if "inactive" in frame else False)
    seen = play_probability(frame.drop(columns=["status", "inactive"], errors="ignore"), coefs, rookie=rookie,
                            status_play={}) if ruled else p
    frame["vacated"] = vacated(frame, seen)
    frame["vacated_pos"] = vacated_position(frame, seen)
    context = team_context(frame, seen)
    frame[list(context.columns)] = context
    raw = conditional_minutes(frame, coefs)
    frame["raw_minutes"] = raw
    frame["proj_minutes"] = np.where(p > 0, apply_budget(frame, raw, seen, budget=budget, strength=strength), 0.0)
    frame["p_play"] = balance_play(frame, p, frame["proj_minutes"].to_numpy(), budget=budget)
    return frame


def balance_play(frame: pd.DataFrame, p_play: np.ndarray, minutes: np.ndarray, *, budget: float) -> np.ndarray:
    """P(plays) shifted per team (one shift on the logit scale for everyone not certain either way) so that
    the team's expected minutes, sum of P(plays) x minutes, meet the budget: more candidates than minutes
    means some of them will not get in. Confirmed starters (1) and players ruled out (0) stay as they are;
    a team that cannot reach the budget (or cannot get down to it) gets the largest shift allowed (+-8)."""
    p = p_play.astype("float64")
    free = (p > 0) & (p < 1)
    logit = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))
    codes, _ = pd.factorize(frame["game_id"].astype(str) + "|" + frame["team"].astype(str))
    groups = int(codes.max()) + 1 if len(codes) else 0
    fixed = np.bincount(codes, weights=np.where(free, 0.0, p * minutes), minlength=groups)

    def shifted(shift: np.ndarray) -> np.ndarray:
        return np.where(free, 1 / (1 + np.exp(-(logit + shift[codes]))), p)

    lo, hi = np.full(groups, -8.0), np.full(groups, 8.0)
    for _ in range(40):
        mid = (lo + hi) / 2
        total = fixed + np.bincount(codes, weights=np.where(free, shifted(mid) * minutes, 0.0), minlength=groups)
        below = total < budget
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return shifted((lo + hi) / 2)


"""Fit every calibration parameter on one (prior) season: the daily model replayed on each of its games.

Each regular-season team game becomes a small slate: its candidates are the players who appeared for the
team in its previous 15 games plus the players who played in it (the analogue of the DraftKings player list,
which names everyone on the roster), its lineup is the box score's starters, its line the closing odds.
The same feature, minutes, rates and simulation code as the daily stages then runs on every slate at once,
and the parameters are fitted so that the replay matches what happened:
  minutes   logistic P(plays) and median regressions of minutes (lineup known / unknown)
  budget    the mean minutes of a team game (overtime included)
  residuals minutes residual quantiles per band of projected minutes
  pace      elasticity of DK points to the implied team total
  usage     how rates follow the usage teammates likely out leave open (gamma, mean per lineup case)
  factors   sd of log(actual / closing) game total (game factor) and of the teams' split (team factor)
  groups    per calibration group (fringe tier, rotation starters, rotation bench) the mean correction and the
            dispersion of simulated points
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from stages.model import history, minutes_model, rates_model, simulate
from stages.model.fit import lad_fit, logistic_fit, ols_fit
from stages.model.lines import team_lines
from stages.model.table import quantile_names, rows

MODES = ("confirmed", "none")
MODE_MODELS = {"confirmed": ("p_bench", "min_starter", "min_bench"), "none": ("p_any", "min_any")}
RECENT_TEAM_GAMES = 15


def candidates(logs: pd.DataFrame) -> pd.DataFrame:
    """One row per regular-season team game and candidate: game_id, game_date, team, player_id, played,
    minutes, started and the box score (NaN where he did not play)."""
    regular = logs[~logs["playoffs"].astype(bool)]
    regular = regular.assign(started=history.starters(regular))
    games = history.team_games(logs)
    games["game_date"] = games["game_date"].dt.date
    apps = regular[["team", "player_id", "game_date"]].merge(games[["team", "game_date", "team_game", "season"]],
                                                             on=["team", "game_date"])
    slate = regular[["game_id", "game_date", "team"]].drop_duplicates().merge(
        games[["team", "game_date", "team_game", "season"]], on=["team", "game_date"])
    pairs = slate.merge(apps[["team", "season", "player_id", "team_game"]].rename(columns={"team_game": "app"}),
                        on=["team", "season"])
    pairs = pairs[(pairs["app"] < pairs["team_game"]) & (pairs["app"] >= pairs["team_game"] - RECENT_TEAM_GAMES)]
    recent = pairs[["game_id", "game_date", "team", "player_id"]].drop_duplicates()
    # drop players who have since played for another team (traded away), that very day included: on the day of
    # his debut for his new team he is no candidate of his old one (CJ Miles, TOR and MEM on 2019-02-09)
    last_any = pd.merge_asof(
        recent.assign(_d=pd.to_datetime(recent["game_date"])).sort_values("_d"),
        regular[["player_id", "game_date", "team"]].rename(columns={"team": "last_team"}).assign(
            _d=lambda x: pd.to_datetime(x["game_date"])).drop(columns="game_date").sort_values("_d"),
        on="_d", by="player_id", allow_exact_matches=True)
    recent = last_any[last_any["last_team"] == last_any["team"]][["game_id", "game_date", "team", "player_id"]]
    box = regular[["game_id", "game_date", "team", "player_id", "started", "minutes", "fgm", "fg3m", "ftm",
                   "reb", "ast", "stl", "blk", "tov", "dk_points"]]
    out = pd.concat([box, recent], ignore_index=True).drop_duplicates(["game_id", "player_id"], keep="first")
    out["played"] = out["minutes"].fillna(0.0) > 0
    out["started"] = out["started"].astype("boolean").fillna(False).astype("bool")
    return out.reset_index(drop=True)


def candidate_features(logs: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    """`history.history_features` of each candidate row (`candidates`), with the row's outcome beside them."""
    feats = history.history_features(logs, cand[["game_id", "game_date", "team", "player_id"]])
    return feats.merge(cand.drop(columns=["game_date", "team"]), on=["game_id", "player_id"], how="left")


def fit_season(logs: pd.DataFrame, odds: pd.DataFrame, positions: pd.DataFrame, *, fit_after_days: int,
               shrink_minutes: float, budget_strength: float, rookie_p_play: float, rotation_minutes: float,
               sample_rows: int, draws: int, seed: int) -> pd.DataFrame:
    """The calibration table (group, name, value) fitted on `logs` and `odds` of one season; `positions`
    (player_id, positions: the DK positions that season's salary files list) give the rate priors and the
    position overlaps of the minutes model's `vacated_pos`."""
    cand = candidates(logs)
    feats = candidate_features(logs, cand)
    lines = team_lines(odds)
    lines["game_date"] = pd.to_datetime(lines["game_date"]).astype("datetime64[ns]")
    feats = feats.merge(lines[["game_date", "team", "spread", "implied_total"]], on=["game_date", "team"],
                        how="left")
    feats["status"] = ""
    start = feats["game_date"].min() + pd.Timedelta(days=fit_after_days)
    fit_rows = (feats["game_date"] >= start).to_numpy()
    table: list[dict[str, object]] = []
    team_minutes = float(cand[cand["played"]].groupby(["game_id", "team"])["minutes"].sum().mean())
    regular = logs[~logs["playoffs"].astype(bool)]
    with_lines = bool(lines["implied_total"].notna().any())
    scores = game_scores(regular)
    league_implied = float(lines["implied_total"].mean()) if with_lines else float(
        scores[["score_home", "score_away"]].stack().mean())
    league = rates_model.league_rates(regular)
    position = _positions(positions)
    feats["position"] = feats["player_id"].map(position).astype("object").fillna("")  # (float NaN if none known)
    prior = rates_model.prior_table(feats["position"], rates_model.position_rates(
        regular, position.rename("position").rename_axis("player_id").reset_index()), league)
    feats[[f"prior_{s}" for s in simulate.SIM_STATS]] = prior.to_numpy()
    elasticity = _pace_elasticity(feats[fit_rows & feats["played"].to_numpy()], shrink_minutes,
                                  league_implied) if with_lines else 0.0
    sigma_game, sigma_team = _factor_sds(odds if _factor_rows(odds) >= MIN_FACTOR_GAMES else lines_from_scores(scores))
    scalars = {"team_minutes": team_minutes, "league_implied": league_implied, "pace_elasticity": elasticity,
               "with_lines": float(with_lines),
               "sigma_game": sigma_game, "sigma_team": sigma_team, "shrink_minutes": shrink_minutes,
               "budget_strength": budget_strength, "rookie_p_play": rookie_p_play,
               "rotation_minutes": rotation_minutes, "fit_rows": float(fit_rows.sum()),
               "starts_flagged": float(logs["started"].notna().mean()) if len(logs) else 0.0}
    scalars.update({f"league_{s}": v for s, v in league.items()})
    table += rows("scalar", scalars)
    rng = np.random.default_rng(seed)
    for mode in MODES:
        frame = feats.assign(lineup_known=mode == "confirmed",
                             starter=feats["started"] if mode == "confirmed" else pd.NA)
        coefs = fit_minutes(minutes_model.prepare(frame), fit_rows, rookie_p_play)
        for model in MODE_MODELS[mode]:
            table += rows(f"coef:{model}", coefs[model])
        proj = minutes_model.project(frame, coefs, rookie=rookie_p_play, status_play={}, budget=team_minutes,
                                     strength=budget_strength)
        rates = _rates(proj, shrink_minutes, league_implied, elasticity)
        proj["vacated_usage"] = rates_model.vacated_usage(proj, rates_model.dk_per_minute(rates),
                                                          proj["p_play"].to_numpy())
        played = proj[fit_rows & proj["played"].to_numpy() & (proj["proj_minutes"].to_numpy() > 0)].copy()
        usage = _usage(played, shrink_minutes, league_implied, elasticity)
        table += rows(f"usage:{mode}", usage)
        played["band"] = simulate.minutes_band(played["proj_minutes"].to_numpy())
        residuals = {}
        for band in sorted(played["band"].unique()):
            res = (played["minutes"] - played["proj_minutes"])[played["band"] == band].to_numpy()
            residuals[band] = simulate.residual_quantiles(res)
            table += rows(f"residual:{mode}:{band}", dict(zip(quantile_names(len(residuals[band])),
                                                              residuals[band], strict=True)))
        sample = played.iloc[np.sort(rng.choice(len(played), size=min(sample_rows, len(played)), replace=False))]
        scale, shift, dispersion = _tiers(sample, residuals, scalars, usage, draws=draws,
                                          seed=int(rng.integers(2**31)))
        table += rows(f"scale:{mode}", scale)
        table += rows(f"shift:{mode}", shift)
        table += rows(f"dispersion:{mode}", dispersion)
    return pd.DataFrame(table)


def fit_minutes(frame: pd.DataFrame, fit_rows: np.ndarray, rookie: float) -> dict[str, dict[str, float]]:
    """The minutes model's coefficients (`minutes_model.MODELS`) on prepared candidate rows (`played`, `minutes`,
    the lineup case of the frame's `lineup_known`), fitted on the `fit_rows`."""
    known = bool(frame["lineup_known"].iloc[0])
    has_history = frame["no_history"].to_numpy() == 0.0
    played = frame["played"].to_numpy(dtype=bool)
    starter = frame["role_starter"].to_numpy() == 1.0
    frame = frame.assign(played_f=played.astype("float64"))
    coefs: dict[str, dict[str, float]] = {}
    if known:
        coefs["p_bench"] = logistic_fit(frame[fit_rows & has_history & ~starter], minutes_model.P_BENCH, "played_f")
        coefs["p_any"] = coefs["p_bench"]
    else:
        coefs["p_any"] = logistic_fit(frame[fit_rows & has_history], minutes_model.P_ANY, "played_f")
        coefs["p_bench"] = coefs["p_any"]
    p = minutes_model.play_probability(frame, coefs, rookie=rookie, status_play={})
    frame["vacated"] = minutes_model.vacated(frame, p)
    frame["vacated_pos"] = minutes_model.vacated_position(frame, p)
    context = minutes_model.team_context(frame, p)
    frame[list(context.columns)] = context
    if known:
        coefs["min_starter"] = lad_fit(frame[fit_rows & played & starter], minutes_model.MIN_STARTER, "minutes")
        coefs["min_bench"] = lad_fit(frame[fit_rows & played & ~starter], minutes_model.MIN_BENCH, "minutes")
        coefs["min_any"] = coefs["min_bench"] | {"role_minutes": 0.0}
    else:
        coefs["min_any"] = lad_fit(frame[fit_rows & played], minutes_model.MIN_ANY, "minutes")
        coefs["min_starter"] = coefs["min_bench"] = {
            k: v for k, v in coefs["min_any"].items() if k in ("const", *minutes_model.MIN_BENCH)}
    return coefs


def _positions(salaries: pd.DataFrame) -> pd.Series:
    """player_id -> primary DK position (the one he is listed at most often)."""
    if salaries.empty:
        return pd.Series(dtype="object")
    primary = minutes_model.primary_position(salaries["positions"])
    listed = pd.DataFrame({"player_id": salaries["player_id"].astype(str), "position": primary})
    listed = listed[listed["position"] != ""]
    counts = listed.groupby(["player_id", "position"]).size().reset_index(name="n")
    best = counts.sort_values(["player_id", "n", "position"], ascending=[True, False, True])
    return best.drop_duplicates("player_id").set_index("player_id")["position"]


def _rates(frame: pd.DataFrame, shrink: float, league_implied: float, elasticity: float,
           usage: Mapping[str, float] | None = None) -> pd.DataFrame:
    prior = frame[[f"prior_{s}" for s in simulate.SIM_STATS]].set_axis(list(simulate.SIM_STATS), axis=1)
    rates = rates_model.shrunk_rates(frame, prior, shrink)
    factor = rates_model.pace_factor(frame["implied_total"], league_implied, elasticity)
    if usage is not None:
        factor = factor * rates_model.usage_factor(frame["vacated_usage"].to_numpy(), usage["gamma"], usage["mean"])
    return rates.mul(factor, axis=0)


def _usage(frame: pd.DataFrame, shrink: float, league_implied: float, elasticity: float) -> dict[str, float]:
    """gamma of `rates_model.usage_factor` at the players' actual minutes: OLS of actual DK points on expected
    (x) and expected x (vacated - mean) (xv); gamma = xv / x. The mean is the player games' mean vacated share."""
    expected = frame["minutes"].to_numpy() * rates_model.dk_per_minute(_rates(frame, shrink, league_implied,
                                                                              elasticity))
    vacated = frame["vacated_usage"].to_numpy(dtype="float64")
    mean = float(vacated.mean())
    data = pd.DataFrame({"y": frame["dk_points"].to_numpy(dtype="float64"), "x": expected,
                         "xv": expected * (vacated - mean)})
    coefs = ols_fit(data, ["x", "xv"], "y")
    return {"gamma": float(np.clip(coefs["xv"] / max(coefs["x"], 1e-6), 0.0, 2.0)), "mean": mean}


def _pace_elasticity(frame: pd.DataFrame, shrink: float, league_implied: float) -> float:
    """Elasticity of DK points to the implied team total at the player's actual minutes (OLS of actual on
    expected and expected x log-ratio)."""
    rates = _rates(frame, shrink, league_implied, 0.0)
    expected = frame["minutes"].to_numpy() * rates_model.dk_per_minute(rates)
    ratio = np.log((frame["implied_total"] / league_implied).fillna(1.0).to_numpy(dtype="float64"))
    data = pd.DataFrame({"y": frame["dk_points"].to_numpy(dtype="float64"), "x": expected, "xr": expected * ratio})
    coefs = ols_fit(data, ["x", "xr"], "y")
    return float(np.clip(coefs["xr"] / max(coefs["x"], 1e-6), 0.0, 2.0))


def game_scores(logs: pd.DataFrame) -> pd.DataFrame:
    """One row per game of the logs: game_date, home_team, away_team, score_home, score_away (its players'
    points summed), playoffs."""
    teams = logs.groupby(["game_id", "team"], sort=True).agg(
        game_date=("game_date", "first"), home=("home", "first"), pts=("pts", "sum"),
        playoffs=("playoffs", "first")).reset_index()
    home, away = teams[teams["home"].astype(bool)], teams[~teams["home"].astype(bool)]
    games = home.merge(away[["game_id", "team", "pts"]], on="game_id", suffixes=("_home", "_away"))
    return pd.DataFrame({"game_date": games["game_date"], "home_team": games["team_home"],
                         "away_team": games["team_away"], "score_home": games["pts_home"].astype("float64"),
                         "score_away": games["pts_away"].astype("float64"), "playoffs": games["playoffs"]})


def lines_from_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Stand-in lines when the season's closing lines are missing, for the game and team factors only: each
    team's expected score is the mean of its season average scored and its opponent's season average allowed, the
    total their sum and the spread their difference (hindsight over the season, so the factors come out a little
    narrower than a pre-game line's would; the dispersion fitted per group after them restores the bands)."""
    home = scores.rename(columns={"home_team": "team", "score_home": "scored", "score_away": "allowed"})
    away = scores.rename(columns={"away_team": "team", "score_away": "scored", "score_home": "allowed"})
    means = pd.concat([home, away])[["team", "scored", "allowed"]].groupby("team").mean()
    exp_home = (scores["home_team"].map(means["scored"]) + scores["away_team"].map(means["allowed"])) / 2
    exp_away = (scores["away_team"].map(means["scored"]) + scores["home_team"].map(means["allowed"])) / 2
    return scores.assign(total=exp_home + exp_away, spread_home=exp_away - exp_home)


MIN_FACTOR_GAMES = 100  # games with a closing line and a final score below which the factors come from scores


def _factor_rows(odds: pd.DataFrame) -> int:
    ok = odds.dropna(subset=["total", "spread_home", "score_home", "score_away"])
    return int((~ok["playoffs"].astype(bool)).sum())


def _factor_sds(odds: pd.DataFrame) -> tuple[float, float]:
    """sd of log(actual total / closing total), and of each team's share of the total around its implied share."""
    ok = odds.dropna(subset=["total", "spread_home", "score_home", "score_away"])
    ok = ok[~ok["playoffs"].astype(bool)]
    actual = ok["score_home"] + ok["score_away"]
    game = np.log(actual / ok["total"])
    implied_home = ok["total"] / 2 - ok["spread_home"] / 2
    split = np.log(ok["score_home"] / actual) - np.log(implied_home / ok["total"])
    return float(game.std()), float(split.std())


def _tiers(sample: pd.DataFrame, residuals: Mapping[str, np.ndarray], scalars: Mapping[str, float],
           usage: Mapping[str, float], *, draws: int,
           seed: int) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per calibration group (`simulate.calibration_group`: fringe tier, rotation starters, rotation bench): the
    mean correction shift + scale x (simulated mean), the least-squares line of actual points on simulated
    means (so the group is unbiased at every level of projection, not only on average: a
    simulation built on shrunk rates and median minutes is too flat); then the dispersion k so that
    mean + k (draws - mean) puts 80% of actual points inside its p10-p90 (see `_dispersion`)."""
    rates = _rates(sample, scalars["shrink_minutes"], scalars["league_implied"], scalars["pace_elasticity"], usage)
    players = pd.concat([sample[["game_id", "team", "band", "proj_minutes"]], rates], axis=1)
    points = simulate.draw_points(players, residuals=residuals, sigma_game=scalars["sigma_game"],
                                  sigma_team=scalars["sigma_team"], draws=draws, salt=seed)
    tiers = simulate.calibration_group(sample["proj_minutes"].to_numpy(), sample["role_starter"].to_numpy() == 1.0,
                                       scalars["rotation_minutes"])
    actual = sample["dk_points"].to_numpy(dtype="float64")
    scale, shift, dispersion = {}, {}, {}
    for tier in simulate.GROUPS:
        sel = tiers == tier
        if sel.sum() < 50:
            scale[tier], shift[tier], dispersion[tier] = 1.0, 0.0, 1.0
            continue
        mean = points[sel].mean(axis=1, dtype="float64")
        line = ols_fit(pd.DataFrame({"m": mean, "y": actual[sel]}), ["m"], "y")
        scale[tier], shift[tier] = line["m"], line["const"]
        factor = simulate.mean_factor(mean, np.full(len(mean), scale[tier]), np.full(len(mean), shift[tier]))
        dispersion[tier] = _dispersion(points[sel] * factor.astype(np.float32)[:, None], actual[sel])
    return scale, shift, dispersion


def _dispersion(points: np.ndarray, actual: np.ndarray, target: float = 0.80) -> float:
    """The stretch k that puts `target` of the actual values inside mean + k (band - mean), the band being
    each row's central `target` interval of its draws.

    With D draws the interval between the j-th and (D+1-j)-th smallest holds a new draw with probability
    (D+1-2j)/(D+1) whatever the distribution, so j = (1-target)/2 (D+1) makes a band that is unbiased with
    few draws (D = 99: the 10th and 90th). A row's actual is inside the stretched band exactly when k is at
    least its own ratio (actual - mean) / (band edge - mean): k is the `target` quantile of those ratios."""
    d = points.shape[1]
    j = max(round((1 - target) / 2 * (d + 1)), 1)
    ordered = np.sort(points, axis=1)
    lo, hi = ordered[:, j - 1].astype("float64"), ordered[:, d - j].astype("float64")
    mean = points.mean(axis=1, dtype="float64")
    above = actual >= mean
    edge = np.where(above, hi - mean, mean - lo)
    need = np.where(above, actual - mean, mean - actual) / np.maximum(edge, 1e-9)
    return float(np.clip(np.quantile(need, target), 0.5, 2.5))

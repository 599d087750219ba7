"""What an injury-report status says about whether a player plays, fitted on a season with both reports and box
scores: `python -m projections.archive_build.status_fit [--src ../shared/data/nba]` reads the files and prints the fit
beside the minutes stage's defaults (tests/stages/test_status_fit.py holds the two together).

The season is 2023-24: December's official reports (shared/data/nba/injuries/2023-12, 5 PM and 8 PM) and the
season's box scores (logs/nbacom), with P(plays) from the daily model's lineup-unknown logistic fitted on the
season before (2022-23), as a calibration would fit it. For each game date, the report a slate reads is the newest
published before the date's first tip; its players on that date's candidate lists (calibrate.candidates) are the
fitting rows. Each status moves the model's P(plays) p by one factor, in the form that fits it:
  Doubtful, Questionable   P = f x p            (news that he may sit: a share of his usual chance)
  Probable, Available      P = 1 - f x (1 - p)  (news that he is cleared: a share of his usual chance to sit)
f is the maximum-likelihood value on a 0.01 grid. Out is 0 by definition (6 of the 930 listed Out played: a
late change after the report a slate reads).
Neither 2019-20 (no report of its regular season survives) nor the bubble (the evaluation) is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from stages.model import minutes_model
from stages.model.calibrate import candidate_features, candidates, fit_minutes

FIT_SEASON, PRIOR_SEASON = "2023-24", "2022-23"
SIT_FORM = ("Probable", "Available")  # P = 1 - f (1 - p); the others (Doubtful, Questionable) P = f p
GRID = np.round(np.arange(0.0, 1.0001, 0.01), 2)
FIT_AFTER_DAYS = 14  # as the calibration: the prior season's first two weeks have thin history
ROOKIE_P_PLAY = 0.3


def status_p(p: np.ndarray, status: str, factor: float) -> np.ndarray:
    """P(plays) of players whose model P is `p` when the report lists them with `status`."""
    return 1.0 - factor * (1.0 - p) if status in SIT_FORM else factor * p


def fit_factor(p: np.ndarray, played: np.ndarray, status: str) -> float:
    """The factor on GRID that makes the status's P(plays) most likely to have produced `played`."""
    y = played.astype("float64")

    def loglik(factor: float) -> float:
        q = np.clip(status_p(p, status, factor), 1e-6, 1 - 1e-6)
        return float(np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)))

    return float(GRID[int(np.argmax([loglik(f) for f in GRID]))])


def model_p(logs: pd.DataFrame, days: Sequence[dt.date]) -> pd.DataFrame:
    """Per candidate (game_date, team, player_id) of `days`: played and the lineup-unknown P(plays), the logistic
    fitted on PRIOR_SEASON's replay as the calibration fits it."""
    prior = logs[logs["season"] == PRIOR_SEASON]
    prep = _prepared(prior, candidates(prior))
    start = prep["game_date"].min() + pd.Timedelta(days=FIT_AFTER_DAYS)
    coefs = fit_minutes(prep, (prep["game_date"] >= start).to_numpy(), ROOKIE_P_PLAY)
    wanted = pd.to_datetime(pd.Series(list(days))).astype("datetime64[ns]")
    cand = candidates(logs)
    cand = cand[pd.to_datetime(cand["game_date"]).astype("datetime64[ns]").isin(wanted)]
    frame = _prepared(logs, cand)
    frame["p"] = minutes_model.play_probability(frame, coefs, rookie=ROOKIE_P_PLAY, status_play={})
    frame["game_date"] = frame["game_date"].dt.date
    return frame[["game_date", "team", "player_id", "played", "p"]]


def _prepared(logs: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    feats = candidate_features(logs, cand)
    # no DK positions (the salary archive has no 2022-23): the fit's position-weighted open minutes go unused, and
    # only its P(plays) is read here
    return minutes_model.prepare(feats.assign(spread=np.nan, status="", lineup_known=False, starter=pd.NA,
                                              position=""))


def slate_reports(reports: pd.DataFrame, first_tip: pd.Series) -> pd.DataFrame:
    """Per game date, the rows of the newest report published before its first tip (`first_tip`: game_date ->
    UTC time) that list that date's games."""
    out = []
    for day, tip in first_tip.items():
        before = reports[reports["report_time"] < tip]
        if before.empty:
            continue
        newest = before[before["report_time"] == before["report_time"].max()]
        out.append(newest[newest["game_date"] == day])
    return pd.concat(out, ignore_index=True) if out else reports.iloc[:0]


def fit(logs: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """One row per status: n (listed players on the candidate lists), played (share), mean_p (the model's),
    factor (the fit; Out: 0) and form."""
    days = sorted(set(reports["game_date"]))
    first_tip = reports.groupby("game_date")["first_tip"].min()
    listed = slate_reports(reports, first_tip)
    rows = model_p(logs, days).merge(listed[["game_date", "team", "player_id", "status"]],
                                     on=["game_date", "team", "player_id"])
    out = []
    for status, group in rows.groupby("status"):
        p, played = group["p"].to_numpy(), group["played"].to_numpy(dtype=bool)
        factor = 0.0 if status == "Out" else fit_factor(p, played, str(status))
        out.append({"status": status, "n": len(group), "played": float(played.mean()), "mean_p": float(p.mean()),
                    "factor": factor, "form": "1 - f (1 - p)" if status in SIT_FORM else "f p"})
    return pd.DataFrame(out)


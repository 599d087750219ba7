"""Features of a player's history as of a slate date: recency-weighted minutes, role, rates, absences, rest.

One function, `history_features(logs, targets)`, serves both the daily stages (targets = the slate's players,
logs = every game before the date) and the season calibration (targets = every candidate of every game of the
prior season, logs = that season): each target row sees only the logs strictly before its own `game_date`
(an as-of join), so the same code is leakage-free in both uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from projections.dates import season_of

RATE_STATS = ("pts", "fg3m", "reb", "ast", "stl", "blk", "tov", "fg2m", "fg2a", "fg3a", "ftm", "fta")
MINUTES_HALFLIFE = 4.0  # games: recent minutes move fast with role changes
RATE_HALFLIFE = 15.0  # games: per-minute production is steadier than playing time (15-20 fit 2018-19 best)
SHORT_HALFLIFE = 2.0
LONG_HALFLIFE = 20.0
SEASON_GAP_GAMES = 10.0  # an off-season weighs like this many games played
BLOWOUT_MARGIN = 15  # a game decided by this many points or more: starters sat late, the bench played


def _decay(halflife: float) -> float:
    return float(0.5 ** (1.0 / halflife))


FEATURES = ("min_avg", "min_short", "min_long", "min_sd", "start_rate", "min_start", "min_bench", "w_games",
            "last_minutes", "last_started", "last_blowout", "games", "rate_minutes",
            *(f"per_min_{s}" for s in RATE_STATS), "dk_rate", "days_off", "team_games_before", "missed_streak",
            "played_last10", "rest_days")


def _day(values: pd.Series) -> pd.Series:
    """Dates as datetime64[ns] (dates, strings and timestamps of any unit alike), for as-of joins."""
    return pd.to_datetime(values).astype("datetime64[ns]")


def _decayed_sums(values: np.ndarray, up: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per row i: sum over rows j <= i of its group of values[j] * decay**(tau[i] - tau[j]).

    `up` is decay**-tau with tau counted from the start of each group, so the powers stay in range."""
    return pd.Series(values * up).groupby(codes).cumsum().to_numpy() / up


def starters(logs: pd.DataFrame) -> np.ndarray:
    """Whether each logged game was a start: the source's flag where it has one; where it has none (the
    stats.nba.com game logs, which `projections ingest game-logs` and the live feed read), his team's five
    longest-playing players of that game stand in (they agree with Basketball-Reference's GS on 80% of
    2019-20's player games), so a season without flags still has roles to fit and to project from."""
    flag = logs["started"].astype("boolean")
    if not flag.isna().any():
        return flag.to_numpy(dtype="bool")
    rank = logs.groupby(["game_id", "team"])["minutes"].rank(ascending=False, method="first")
    proxy = (rank <= 5) & (logs["minutes"] > 0)
    return flag.fillna(proxy).to_numpy(dtype="bool")


def player_sequences(logs: pd.DataFrame) -> pd.DataFrame:
    """Per player and game (sorted by date): recency-weighted running sums, each row including its game.

    Weights decay per game the player played; a new season counts as SEASON_GAP_GAMES more games, so the
    prior season weighs less than recent games but still informs a player with little history."""
    df = logs.copy()
    df["game_date"] = _day(df["game_date"])
    df = df.sort_values(["player_id", "game_date", "game_id"]).reset_index(drop=True)
    df["fg2m"] = df["fgm"] - df["fg3m"]
    df["fg2a"] = df["fga"] - df["fg3a"]
    started = starters(df).astype("float64")
    minutes = df["minutes"].to_numpy(dtype="float64")
    codes = pd.factorize(df["player_id"])[0]
    season = df["season"]
    game_no = df.groupby(codes).cumcount().to_numpy(dtype="float64")
    new_season = (season != season.groupby(codes).shift(1)) & (df.groupby(codes).cumcount() > 0)
    tau = game_no + SEASON_GAP_GAMES * new_season.astype("float64").groupby(codes).cumsum().to_numpy()
    up_m = _decay(MINUTES_HALFLIFE) ** -tau
    up_r = _decay(RATE_HALFLIFE) ** -tau
    one = np.ones(len(df))
    out = df[["player_id", "game_date", "team"]].copy()
    out["season"] = season
    out["tau"] = tau
    out["w_m"] = _decayed_sums(one, up_m, codes)
    out["min_m"] = _decayed_sums(minutes, up_m, codes)
    out["sq_m"] = _decayed_sums(minutes ** 2, up_m, codes)
    out["start_m"] = _decayed_sums(started, up_m, codes)
    out["min_st"] = _decayed_sums(minutes * started, up_m, codes)
    out["min_be"] = _decayed_sums(minutes * (1 - started), up_m, codes)
    for tag, halflife in (("s", SHORT_HALFLIFE), ("l", LONG_HALFLIFE)):
        up = _decay(halflife) ** -tau
        out[f"w_{tag}"] = _decayed_sums(one, up, codes)
        out[f"min_{tag}"] = _decayed_sums(minutes, up, codes)
    out["w_r"] = _decayed_sums(one, up_r, codes)
    out["min_r"] = _decayed_sums(minutes, up_r, codes)
    for stat in RATE_STATS:
        out[f"r_{stat}"] = _decayed_sums(df[stat].to_numpy(dtype="float64"), up_r, codes)
    out["r_dk"] = _decayed_sums(df["dk_points"].to_numpy(dtype="float64"), up_r, codes)
    out["last_minutes"] = minutes
    out["last_started"] = started
    out["last_blowout"] = (np.abs(_margins(df)) >= BLOWOUT_MARGIN).astype("float64")
    out["games"] = game_no + 1
    return out


def _margins(df: pd.DataFrame) -> np.ndarray:
    """Per row, his team's final margin in that game (its players' points minus the other team's)."""
    team = df.groupby(["game_id", "team"])["pts"].transform("sum").to_numpy(dtype="float64")
    game = df.groupby("game_id")["pts"].transform("sum").to_numpy(dtype="float64")
    return 2 * team - game


def season_labels(days: pd.Series) -> pd.Series:
    """The season label ("2019-20") of each date."""
    days = _day(days)
    labels = {d: season_of(d.date()) for d in days.drop_duplicates()}
    return days.map(labels)


def team_games(logs: pd.DataFrame) -> pd.DataFrame:
    """One row per team and game date in the logs, numbered within the team's season."""
    games = logs[["team", "game_date", "season"]].drop_duplicates().copy()
    games["game_date"] = _day(games["game_date"])
    games = games.sort_values(["team", "game_date"]).reset_index(drop=True)
    games["team_game"] = games.groupby(["team", "season"]).cumcount() + 1
    games["prev_date"] = games.groupby("team")["game_date"].shift(1)
    return games


def history_features(logs: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Features of each target (game_date, team, player_id) from the logs strictly before its date.

    Returns the targets with added columns (NaN where the player has no earlier game):
    min_avg, min_sd, start_rate, min_start, min_bench, last_minutes, last_started, last_blowout (his last game was
    decided by BLOWOUT_MARGIN or more, so its minutes say less about his role), games, w_games, the
    per-minute rates `per_min_<stat>` with their exposure `rate_minutes`, dk_rate, and the team/absence
    features team_games_before, missed_streak, played_last10, rest_days, days_off.
    """
    seq = player_sequences(logs)
    out = targets.copy()
    out["_order"] = np.arange(len(out))
    out["game_date"] = _day(out["game_date"])
    out["season"] = season_labels(out["game_date"])
    joined = pd.merge_asof(out.sort_values("game_date"), seq.drop(columns=["team"]).rename(
        columns={"game_date": "last_date", "season": "last_season"}).sort_values("last_date"),
        left_on="game_date", right_on="last_date", by="player_id", allow_exact_matches=False)
    joined = joined.sort_values("_order").reset_index(drop=True)
    gap = np.where(joined["last_season"].notna() & (joined["last_season"] != joined["season"]),
                   SEASON_GAP_GAMES, 0.0)
    w_m = joined["w_m"]
    joined["min_avg"] = joined["min_m"] / w_m
    joined["min_short"] = joined["min_s"] / joined["w_s"]
    joined["min_long"] = joined["min_l"] / joined["w_l"]
    joined["min_sd"] = np.sqrt(np.maximum(joined["sq_m"] / w_m - joined["min_avg"] ** 2, 0.0))
    joined["start_rate"] = joined["start_m"] / w_m
    joined["min_start"] = joined["min_st"] / joined["start_m"].where(joined["start_m"] > 0.05)
    joined["min_bench"] = joined["min_be"] / (w_m - joined["start_m"]).where(w_m - joined["start_m"] > 0.05)
    joined["w_games"] = w_m * _decay(MINUTES_HALFLIFE) ** gap
    shrink = _decay(RATE_HALFLIFE) ** gap
    joined["rate_minutes"] = joined["min_r"] * shrink
    for stat in RATE_STATS:
        joined[f"per_min_{stat}"] = joined[f"r_{stat}"] / joined["min_r"].where(joined["min_r"] > 0)
    joined["dk_rate"] = joined["r_dk"] / joined["min_r"].where(joined["min_r"] > 0)
    joined["days_off"] = (joined["game_date"] - joined["last_date"]).dt.days
    joined = _team_features(logs, seq, joined)
    keep = [c for c in targets.columns if c != "game_date"] + ["game_date", *FEATURES]
    out = joined[keep].copy()
    out[list(FEATURES)] = out[list(FEATURES)].astype("float64")
    return out


def _team_features(logs: pd.DataFrame, seq: pd.DataFrame, joined: pd.DataFrame) -> pd.DataFrame:
    """Absences and rest, counted in the target team's games of the target's season:
    team_games_before (games before the date), missed_streak (its games since the player last played for
    anyone - a player traded in yesterday has missed none), played_last10 (of its last 10 games, how many
    fell on a day the player played) and rest_days (days since the team's previous game)."""
    games = team_games(logs)
    tgt = joined[["_order", "team", "player_id", "game_date", "season", "last_date", "games"]].sort_values(
        "game_date")
    before = pd.merge_asof(tgt, games.rename(columns={"game_date": "tg_date", "season": "tg_season"})
                           .sort_values("tg_date"), left_on="game_date", right_on="tg_date", by="team",
                           allow_exact_matches=False)
    same = (before["tg_season"] == before["season"]).to_numpy()
    n = np.where(same, before["team_game"].fillna(0).to_numpy(dtype="float64"), 0.0)
    rest = np.where(same, (before["game_date"] - before["tg_date"]).dt.days.to_numpy(dtype="float64"), np.nan)
    # team games up to and including the player's last game day (this season only)
    at_last = pd.merge_asof(before[["_order", "team", "last_date"]].assign(
        _k=before["last_date"].fillna(pd.Timestamp("1900-01-01"))).sort_values("_k"),
        games[["team", "game_date", "season", "team_game"]].sort_values("game_date"),
        left_on="_k", right_on="game_date", by="team").set_index("_order")
    at_last = at_last.reindex(before["_order"])
    on_or_before = np.where(at_last["season"].to_numpy() == before["season"].to_numpy(),
                            at_last["team_game"].fillna(0).to_numpy(dtype="float64"), 0.0)
    missed = np.maximum(n - on_or_before, 0.0)
    # the date of the team's 10th-last game before the target; the player's games since then
    games["back10"] = games["team_game"] - 9
    tenth = games.merge(games[["team", "season", "team_game", "game_date"]].rename(
        columns={"team_game": "back10", "game_date": "d10"}), on=["team", "season", "back10"], how="left")
    key = before[["_order", "team", "season"]].assign(team_game=np.maximum(n, 1.0))
    d10 = key.merge(tenth[["team", "season", "team_game", "d10"]].assign(
        team_game=lambda x: x["team_game"].astype("float64")), on=["team", "season", "team_game"], how="left")
    first = games.groupby(["team", "season"])["game_date"].min().rename("first").reset_index()
    d10 = d10.merge(first, on=["team", "season"], how="left")
    d10["d10"] = d10["d10"].fillna(d10["first"]).fillna(before["game_date"].to_numpy()[0])
    d10 = d10.set_index("_order").reindex(before["_order"])
    seq_sorted = seq[["player_id", "game_date", "games"]].sort_values("game_date")
    prior = pd.merge_asof(pd.DataFrame({"_order": before["_order"].to_numpy(), "player_id":
                                        before["player_id"].to_numpy(), "d10": d10["d10"].to_numpy()})
                          .sort_values("d10"), seq_sorted.rename(columns={"game_date": "g_date"}),
                          left_on="d10", right_on="g_date", by="player_id", allow_exact_matches=False)
    prior = prior.set_index("_order").reindex(before["_order"])
    played = before["games"].fillna(0).to_numpy() - prior["games"].fillna(0).to_numpy()
    played = np.where(n > 0, np.clip(played, 0, np.minimum(n, 10)), 0.0)
    feats = pd.DataFrame({"team_games_before": n, "missed_streak": missed, "played_last10": played,
                          "rest_days": rest}, index=before["_order"].to_numpy())
    joined = joined.set_index("_order")
    joined[list(feats.columns)] = feats.reindex(joined.index)
    return joined.reset_index()

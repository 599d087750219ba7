"""Betting lines per team: the game's closing spread and total, seen from each team, and its implied total; and, for a
game without a total (the live odds feed has no totals market), a stand-in from the teams' scoring."""

from __future__ import annotations

import pandas as pd


def team_lines(odds: pd.DataFrame) -> pd.DataFrame:
    """Two rows per game (home and away): game_date, team, opp, home, spread (negative = favoured), total,
    implied_total = total / 2 - spread / 2."""
    base = odds[["game_date", "home_team", "away_team", "spread_home", "total"]]
    home = base.assign(team=base["home_team"], opp=base["away_team"], home=True, spread=base["spread_home"])
    away = base.assign(team=base["away_team"], opp=base["home_team"], home=False, spread=-base["spread_home"])
    out = pd.concat([home, away], ignore_index=True)[["game_date", "team", "opp", "home", "spread", "total"]]
    out["spread"] = out["spread"].astype("float64")
    out["total"] = out["total"].astype("float64")
    out["implied_total"] = out["total"] / 2 - out["spread"] / 2
    return out


def expected_total(teams: pd.DataFrame, logs: pd.DataFrame, season: str, prior_games: float) -> pd.Series:
    """Per row of `teams` (team, opp): the game's expected total, the sum of each side's expected score - the mean
    of its points scored per game and its opponent's allowed, each over the regular-season games of `season` in
    `logs` (the season before's when it has none yet) and shrunk toward the league's mean team score by
    `prior_games` games. Before any game of either season, the league mean is 110 for everyone (what is then left
    is the spread)."""
    regular = logs[~logs["playoffs"].astype(bool)]
    rows = regular[regular["season"] == season]
    if rows.empty:
        rows = regular
    games = rows.groupby(["game_id", "team", "opp"], as_index=False)["pts"].sum()
    league = float(games["pts"].mean()) if len(games) else 110.0

    def shrunk(side: str) -> pd.Series:
        by = games.groupby(side)["pts"].agg(["sum", "count"])
        return (by["sum"] + prior_games * league) / (by["count"] + prior_games)

    scored, allowed = shrunk("team"), shrunk("opp")

    def side(who: pd.Series, scores: pd.Series) -> pd.Series:
        return who.map(scores).astype("float64").fillna(league)

    team, opp = teams["team"], teams["opp"]
    return (side(team, scored) + side(opp, allowed) + side(opp, scored) + side(team, allowed)) / 2

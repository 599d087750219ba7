"""Betting lines per team: the game's closing spread and total, seen from each team, and its implied total."""

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

"""lineups and player_logs from a cdn.nba.com liveData box score (one game)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.identity import dk_points
from projections.sources.parsers.common import EASTERN, bad, game_type, load_json, team_of, utc
from projections.sources.parsers.game_logs import empty_logs, minutes_of

if TYPE_CHECKING:
    import pandas as pd


def _box_game(content: bytes, source: str) -> dict[str, Any]:
    body = load_json(content, source)
    game = body.get("game") if isinstance(body, dict) else None
    if not isinstance(game, dict) or not game.get("gameId"):
        raise bad(source, "no 'game' object with a gameId")
    return game


def _box_players(game: Mapping[str, Any], source: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for side in ("homeTeam", "awayTeam"):
        team = team_of(game.get(side), source)
        for player in game[side].get("players") or []:
            out.append((team, player))
    return out


def lineups_from_boxscore(content: bytes, day: dt.date) -> pd.DataFrame:
    """Who starts and who is not playing (and why) in one game, from its liveData box score."""
    import pandas as pd

    game = _box_game(content, "lineups")
    rows = []
    for team, p in _box_players(game, "lineups"):
        try:
            rows.append({"season": season_of(day), "game_date": day, "game_id": str(game["gameId"]), "team": team,
                         "player_id": str(int(p["personId"])), "player_name": str(p["name"]),
                         "starter": str(p.get("starter", "0")) == "1", "status": str(p.get("status") or "ACTIVE"),
                         "not_playing_reason": p.get("notPlayingReason"),
                         "not_playing_description": p.get("notPlayingDescription"), "position": p.get("position")})
        except (KeyError, TypeError, ValueError) as exc:
            raise bad("lineups", f"player {str(p)[:100]} lacks {exc}") from None
    return pd.DataFrame(rows, columns=["season", "game_date", "game_id", "team", "player_id", "player_name",
                                       "starter", "status", "not_playing_reason", "not_playing_description",
                                       "position"]).astype({"starter": bool})


_BOX_STAT = {"pts": "points", "fgm": "fieldGoalsMade", "fga": "fieldGoalsAttempted", "fg3m": "threePointersMade",
             "fg3a": "threePointersAttempted", "ftm": "freeThrowsMade", "fta": "freeThrowsAttempted",
             "oreb": "reboundsOffensive", "dreb": "reboundsDefensive", "reb": "reboundsTotal", "ast": "assists",
             "stl": "steals", "blk": "blocks", "tov": "turnovers", "pf": "foulsPersonal"}


def player_logs_from_boxscore(content: bytes) -> pd.DataFrame:
    """The box-score lines (with the starter flag) of everyone who played in one game."""
    import pandas as pd

    game = _box_game(content, "game_logs")
    day = utc(game["gameTimeUTC"]).astimezone(EASTERN).date() if game.get("gameTimeUTC") else None
    if day is None:
        raise bad("game_logs", "box score has no gameTimeUTC")
    home = team_of(game.get("homeTeam"), "game_logs")
    away = team_of(game.get("awayTeam"), "game_logs")
    rows = []
    for team, p in _box_players(game, "game_logs"):
        if str(p.get("played", "0")) != "1":
            continue
        stats = p.get("statistics") or {}
        row = {"season": season_of(day), "game_date": day, "game_id": str(game["gameId"]), "team": team,
               "opp": away if team == home else home, "home": team == home,
               "playoffs": game_type(str(game["gameId"])) in ("4", "5"), "player_id": str(int(p["personId"])),
               "player_name": str(p["name"]), "started": str(p.get("starter", "0")) == "1",
               "minutes": minutes_of(stats.get("minutes")), "plus_minus": float(stats.get("plusMinusPoints", 0.0))}
        row.update({col: int(stats.get(name, 0) or 0) for col, name in _BOX_STAT.items()})
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return empty_logs()
    out["dk_points"] = dk_points(out["pts"], out["fg3m"], out["reb"], out["ast"], out["stl"], out["blk"],
                                 out["tov"]).astype(float)
    out["stats_source"] = "nba_live_boxscore"
    return out

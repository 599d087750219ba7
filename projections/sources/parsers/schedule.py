"""schedule from a scoreboardv3, scoreboardv2 or scheduleLeagueV2 body (told apart by shape), and the season
calendar (games per date) from scheduleLeagueV2.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.identity import team_code
from projections.sources.parsers.common import (
    EASTERN,
    SLATE_TYPES,
    TEAM_IDS,
    bad,
    game_type,
    load_json,
    result_set,
    team_of,
    utc,
)

if TYPE_CHECKING:
    import pandas as pd


def _status(code: Any, text: str) -> str:
    if re.search(r"\b(ppd|postponed)\b", text or "", re.IGNORECASE):
        return "postponed"
    return {1: "scheduled", 2: "live", 3: "final"}.get(int(code or 1), "scheduled")


def _schedule_frame(rows: list[dict[str, Any]], day: dt.date) -> pd.DataFrame:
    import pandas as pd

    kept = [r for r in rows if game_type(r["game_id"]) in SLATE_TYPES]
    frame = pd.DataFrame(kept, columns=["game_id", "home_team", "away_team", "tip_time", "tip_time_source",
                                        "status"])
    frame.insert(0, "game_date", [day] * len(frame))
    frame.insert(0, "season", [season_of(day)] * len(frame))
    frame["playoffs"] = pd.Series([SLATE_TYPES[game_type(g)] for g in frame["game_id"]], dtype=bool)
    frame["tip_time"] = pd.to_datetime(frame["tip_time"], utc=True).astype("datetime64[us, UTC]")
    if frame.empty:  # keep the column kinds of a day with games
        frame = frame.astype({c: "object" for c in frame.columns if c not in ("tip_time", "playoffs")})
    return frame


def schedule_from_scoreboard(content: bytes, day: dt.date) -> pd.DataFrame:
    """The games of `day` from a scoreboardv3, scoreboardv2 or scheduleLeagueV2 body (told apart by shape)."""
    body = load_json(content, "schedule")
    if isinstance(body, dict) and "scoreboard" in body:
        return _scoreboard_v3(body["scoreboard"], day)
    if isinstance(body, dict) and "leagueSchedule" in body:
        games = _league_schedule_games(body)
        return _schedule_frame([g for g in games if g["date"] == day and g["home_team"]], day)
    if isinstance(body, dict) and "resultSets" in body:
        return _scoreboard_v2(body, day)
    raise bad("schedule", "neither a scoreboardv3, scoreboardv2 nor scheduleLeagueV2 body",
               "check live.schedule.url")


def _scoreboard_v3(board: Any, day: dt.date) -> pd.DataFrame:
    if not isinstance(board, dict) or not isinstance(board.get("games"), list):
        raise bad("schedule", "scoreboard has no 'games' list")
    if board.get("gameDate") and board["gameDate"] != day.isoformat():
        raise bad("schedule", f"the scoreboard is for {board['gameDate']}, not {day}",
                   "the endpoint ignored GameDate; check live.schedule.url")
    rows = []
    for game in board["games"]:
        if not isinstance(game, dict) or game_type(str(game.get("gameId"))) not in SLATE_TYPES:
            continue
        try:
            rows.append({"game_id": str(game["gameId"]), "home_team": team_of(game.get("homeTeam"), "schedule"),
                         "away_team": team_of(game.get("awayTeam"), "schedule"),
                         "tip_time": utc(game["gameTimeUTC"]), "tip_time_source": "nba_scoreboard",
                         "status": _status(game.get("gameStatus"), game.get("gameStatusText", ""))})
        except (KeyError, TypeError, ValueError) as exc:
            raise bad("schedule", f"game {game!r:.120} lacks {exc}") from None
    return _schedule_frame(rows, day)


_ET_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*([ap])m\s*ET", re.IGNORECASE)


def _scoreboard_v2(body: Any, day: dt.date) -> pd.DataFrame:
    header = result_set(body, "GameHeader", "schedule",
                        ("GAME_ID", "GAME_STATUS_ID", "GAME_STATUS_TEXT", "HOME_TEAM_ID", "VISITOR_TEAM_ID"))
    codes = {int(r["TEAM_ID"]): r["TEAM_ABBREVIATION"] for r in result_set(body, "LineScore", "schedule")
             if r.get("TEAM_ID") and r.get("TEAM_ABBREVIATION")}
    rows, seen = [], set()
    for game in header:
        if game_type(str(game.get("GAME_ID"))) not in SLATE_TYPES or str(game.get("GAME_ID")) in seen:
            continue  # GameHeader repeats a game's row (2026-02-22's 6:30 PM BOS@LAL three times): one game
        seen.add(str(game.get("GAME_ID")))
        text = str(game.get("GAME_STATUS_TEXT") or "")
        match = _ET_TIME.match(text)
        hour, minute, source = (19, 0, "default")
        if match:
            hour = int(match[1]) % 12 + (12 if match[3].lower() == "p" else 0)
            minute, source = int(match[2]), "nba_scoreboard"
        tip = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN)
        try:
            home = team_code(codes.get(int(game["HOME_TEAM_ID"])) or TEAM_IDS[int(game["HOME_TEAM_ID"])])
            away = team_code(codes.get(int(game["VISITOR_TEAM_ID"])) or TEAM_IDS[int(game["VISITOR_TEAM_ID"])])
        except (KeyError, ValueError, TypeError) as exc:
            raise bad("schedule", f"unknown team id in {game!r:.120} ({exc})") from None
        rows.append({"game_id": str(game["GAME_ID"]), "home_team": home, "away_team": away, "tip_time": tip,
                     "tip_time_source": source, "status": _status(game["GAME_STATUS_ID"], text)})
    return _schedule_frame(rows, day)


def _league_schedule_games(body: Any) -> list[dict[str, Any]]:
    league = body.get("leagueSchedule")
    if not isinstance(league, dict) or not isinstance(league.get("gameDates"), list):
        raise bad("calendar", "leagueSchedule has no 'gameDates' list")
    rows = []
    for block in league["gameDates"]:
        for game in block.get("games") or []:
            if game_type(str(game.get("gameId"))) not in SLATE_TYPES:
                continue  # preseason (against club teams too) and All-Star games are never on a slate
            try:
                # knockout games whose teams are not known yet carry teamId 0 and no tricode
                known = all((game[side] or {}).get("teamTricode") for side in ("homeTeam", "awayTeam"))
                rows.append({"date": dt.date.fromisoformat(str(game["gameDateEst"])[:10]),
                             "game_id": str(game["gameId"]),
                             "home_team": team_of(game["homeTeam"], "calendar") if known else None,
                             "away_team": team_of(game["awayTeam"], "calendar") if known else None,
                             "tip_time": utc(game["gameDateTimeUTC"]), "tip_time_source": "nba_schedule",
                             "status": _status(game.get("gameStatus"), game.get("gameStatusText", ""))})
            except (KeyError, TypeError, ValueError) as exc:
                raise bad("calendar", f"game {game!r:.120} lacks {exc}") from None
    return rows


def calendar_counts(content: bytes) -> tuple[str, dict[dt.date, int]]:
    """(season, games per date) of a scheduleLeagueV2 body: the season calendar, counting slate games only."""
    body = load_json(content, "calendar")
    counts: dict[dt.date, int] = {}
    for game in _league_schedule_games(body):
        if game["status"] != "postponed":
            counts[game["date"]] = counts.get(game["date"], 0) + 1
    return str(body["leagueSchedule"].get("seasonYear", "")), counts

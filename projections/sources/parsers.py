"""Verbatim stats.nba.com / cdn.nba.com payloads -> canonical tables (projections/schema.py, sources/tables.py).

Each parser takes the response body as bytes, exactly as the server sent it, and raises ContractViolation
when the body is not the promised shape (not JSON, truncated, a missing result set or column), so the fetch
layer retries it and then reports it. Shapes (see shared/data/nba/api/INDEX.csv for the recorded requests):

    scoreboardv3        {"scoreboard": {"gameDate", "games": [{"gameId", "gameTimeUTC", "gameStatus",
                        "gameStatusText", "homeTeam": {"teamTricode"}, "awayTeam": {...}}]}}
    scoreboardv2        {"resultSets": [{"name": "GameHeader", "headers", "rowSet"}, {"name": "LineScore"}, ...]}
    scheduleLeagueV2    {"leagueSchedule": {"seasonYear", "gameDates": [{"games": [{"gameDateEst",
                        "gameDateTimeUTC", ...}]}]}}
    leaguegamelog (P)   {"resultSets": [{"name": "LeagueGameLog", "headers": [PLAYER_ID, GAME_DATE, MATCHUP, MIN,
                        PTS, ...], "rowSet"}]}
    commonteamroster    {"resultSets": [{"name": "CommonTeamRoster", "headers": [TeamID, PLAYER, NUM, POSITION,
                        PLAYER_ID, HOW_ACQUIRED, ...]}]}
    odds_todaysGames    [{"gameId", "homeTeamId", "awayTeamId", "markets": [{"name": "2way"|"spread", "books":
                        [{"outcomes": [{"type": "home"|"away", "odds": "1.370", "spread": "-6.5"}]}]}]}]
    liveData boxscore   {"game": {"gameId", "gameTimeUTC", "homeTeam": {"teamTricode", "players": [{"personId",
                        "name", "starter", "status", "notPlayingReason", "statistics": {...}}]}, ...}}
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import statistics
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from projections.dates import season_of
from projections.errors import ContractViolation
from projections.identity import dk_points, team_code

if TYPE_CHECKING:
    import pandas as pd

EASTERN = ZoneInfo("America/New_York")

# nba.com team ids (stable since 1610612737 ATL was assigned); checked against the TEAM_ID / TEAM_ABBREVIATION
# pairs of shared/data/nba/logs/nbacom in tests/sources/test_parsers.py
TEAM_IDS: dict[int, str] = {
    1610612737: "ATL", 1610612738: "BOS", 1610612739: "CLE", 1610612740: "NOP", 1610612741: "CHI",
    1610612742: "DAL", 1610612743: "DEN", 1610612744: "GSW", 1610612745: "HOU", 1610612746: "LAC",
    1610612747: "LAL", 1610612748: "MIA", 1610612749: "MIL", 1610612750: "MIN", 1610612751: "BKN",
    1610612752: "NYK", 1610612753: "ORL", 1610612754: "IND", 1610612755: "PHI", 1610612756: "PHX",
    1610612757: "POR", 1610612758: "SAC", 1610612759: "SAS", 1610612760: "OKC", 1610612761: "TOR",
    1610612762: "UTA", 1610612763: "MEM", 1610612764: "WAS", 1610612765: "DET", 1610612766: "CHA",
}  # fmt: skip
TEAM_ID_OF = {code: team_id for team_id, code in TEAM_IDS.items()}

# the third digit of an nba.com game id: 1 preseason, 2 regular season, 3 All-Star, 4 playoffs, 5 play-in,
# 6 NBA Cup final. Slates are built from the games that count.
_SLATE_TYPES = {"2": False, "4": True, "5": True, "6": False}


def _bad(source: str, problem: str, fix: str = "") -> ContractViolation:
    return ContractViolation(f"{source} payload: {problem}" + (f"; {fix}" if fix else ""), stage=source)


def load_json(content: bytes, source: str) -> Any:
    """The decoded body; ContractViolation for an empty, truncated or non-JSON body."""
    if not content.strip():
        raise _bad(source, "empty body")
    try:
        return json.loads(content)
    except ValueError as exc:
        raise _bad(source, f"not valid JSON ({len(content)} bytes, {exc}) - truncated or an error page") from None


def result_set(body: Any, name: str, source: str, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a stats.nba.com result set as dicts; ContractViolation naming what is missing."""
    sets = body.get("resultSets") if isinstance(body, dict) else None
    if isinstance(sets, dict):  # some endpoints answer with a single resultSet object
        sets = [sets]
    if not isinstance(sets, list):
        raise _bad(source, "no 'resultSets' list")
    found = next((s for s in sets if isinstance(s, dict) and s.get("name") == name), None)
    if found is None:
        raise _bad(source, f"no result set {name!r} (has {[s.get('name') for s in sets if isinstance(s, dict)]})")
    headers, rows = found.get("headers"), found.get("rowSet")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise _bad(source, f"result set {name!r} lacks headers/rowSet")
    missing = [h for h in required if h not in headers]
    if missing:
        raise _bad(source, f"result set {name!r} lacks columns {missing} (has {headers})")
    return [dict(zip(headers, row, strict=False)) for row in rows]


def _game_type(game_id: str) -> str:
    return game_id[2:3] if len(game_id) == 10 and game_id.isdigit() else ""


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _status(code: Any, text: str) -> str:
    if re.search(r"\b(ppd|postponed)\b", text or "", re.IGNORECASE):
        return "postponed"
    return {1: "scheduled", 2: "live", 3: "final"}.get(int(code or 1), "scheduled")


def _schedule_frame(rows: list[dict[str, Any]], day: dt.date) -> pd.DataFrame:
    import pandas as pd

    kept = [r for r in rows if _game_type(r["game_id"]) in _SLATE_TYPES]
    frame = pd.DataFrame(kept, columns=["game_id", "home_team", "away_team", "tip_time", "tip_time_source",
                                        "status"])
    frame.insert(0, "game_date", [day] * len(frame))
    frame.insert(0, "season", [season_of(day)] * len(frame))
    frame["playoffs"] = pd.Series([_SLATE_TYPES[_game_type(g)] for g in frame["game_id"]], dtype=bool)
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
    raise _bad("schedule", "neither a scoreboardv3, scoreboardv2 nor scheduleLeagueV2 body",
               "check live.schedule.url")


def _team(side: Any, source: str) -> str:
    if not isinstance(side, dict) or not side.get("teamTricode"):
        raise _bad(source, f"a game has no team tricode ({side!r:.80})")
    try:
        return team_code(side["teamTricode"])
    except ValueError as exc:
        raise _bad(source, str(exc)) from None


def _scoreboard_v3(board: Any, day: dt.date) -> pd.DataFrame:
    if not isinstance(board, dict) or not isinstance(board.get("games"), list):
        raise _bad("schedule", "scoreboard has no 'games' list")
    if board.get("gameDate") and board["gameDate"] != day.isoformat():
        raise _bad("schedule", f"the scoreboard is for {board['gameDate']}, not {day}",
                   "the endpoint ignored GameDate; check live.schedule.url")
    rows = []
    for game in board["games"]:
        if not isinstance(game, dict) or _game_type(str(game.get("gameId"))) not in _SLATE_TYPES:
            continue
        try:
            rows.append({"game_id": str(game["gameId"]), "home_team": _team(game.get("homeTeam"), "schedule"),
                         "away_team": _team(game.get("awayTeam"), "schedule"),
                         "tip_time": _utc(game["gameTimeUTC"]), "tip_time_source": "nba_scoreboard",
                         "status": _status(game.get("gameStatus"), game.get("gameStatusText", ""))})
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad("schedule", f"game {game!r:.120} lacks {exc}") from None
    return _schedule_frame(rows, day)


_ET_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*([ap])m\s*ET", re.IGNORECASE)


def _scoreboard_v2(body: Any, day: dt.date) -> pd.DataFrame:
    header = result_set(body, "GameHeader", "schedule",
                        ("GAME_ID", "GAME_STATUS_ID", "GAME_STATUS_TEXT", "HOME_TEAM_ID", "VISITOR_TEAM_ID"))
    codes = {int(r["TEAM_ID"]): r["TEAM_ABBREVIATION"] for r in result_set(body, "LineScore", "schedule")
             if r.get("TEAM_ID") and r.get("TEAM_ABBREVIATION")}
    rows = []
    for game in header:
        if _game_type(str(game.get("GAME_ID"))) not in _SLATE_TYPES:
            continue
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
            raise _bad("schedule", f"unknown team id in {game!r:.120} ({exc})") from None
        rows.append({"game_id": str(game["GAME_ID"]), "home_team": home, "away_team": away, "tip_time": tip,
                     "tip_time_source": source, "status": _status(game["GAME_STATUS_ID"], text)})
    return _schedule_frame(rows, day)


def _league_schedule_games(body: Any) -> list[dict[str, Any]]:
    league = body.get("leagueSchedule")
    if not isinstance(league, dict) or not isinstance(league.get("gameDates"), list):
        raise _bad("calendar", "leagueSchedule has no 'gameDates' list")
    rows = []
    for block in league["gameDates"]:
        for game in block.get("games") or []:
            if _game_type(str(game.get("gameId"))) not in _SLATE_TYPES:
                continue  # preseason (against club teams too) and All-Star games are never on a slate
            try:
                # knockout games whose teams are not known yet carry teamId 0 and no tricode
                known = all((game[side] or {}).get("teamTricode") for side in ("homeTeam", "awayTeam"))
                rows.append({"date": dt.date.fromisoformat(str(game["gameDateEst"])[:10]),
                             "game_id": str(game["gameId"]),
                             "home_team": _team(game["homeTeam"], "calendar") if known else None,
                             "away_team": _team(game["awayTeam"], "calendar") if known else None,
                             "tip_time": _utc(game["gameDateTimeUTC"]), "tip_time_source": "nba_schedule",
                             "status": _status(game.get("gameStatus"), game.get("gameStatusText", ""))})
            except (KeyError, TypeError, ValueError) as exc:
                raise _bad("calendar", f"game {game!r:.120} lacks {exc}") from None
    return rows


def calendar_counts(content: bytes) -> tuple[str, dict[dt.date, int]]:
    """(season, games per date) of a scheduleLeagueV2 body: the season calendar, counting slate games only."""
    body = load_json(content, "calendar")
    counts: dict[dt.date, int] = {}
    for game in _league_schedule_games(body):
        if game["status"] != "postponed":
            counts[game["date"]] = counts.get(game["date"], 0) + 1
    return str(body["leagueSchedule"].get("seasonYear", "")), counts


# ------------------------------------------------------------------------------------------ game logs

GAMELOG_COLUMNS = ("PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION", "GAME_ID", "GAME_DATE", "MATCHUP", "MIN",
                   "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK",
                   "TOV", "PF", "PLUS_MINUS")
_STAT_OF = {"pts": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM", "fta": "FTA",
            "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL", "blk": "BLK", "tov": "TOV",
            "pf": "PF"}


def _minutes(value: Any) -> float:
    """Minutes as a float from 33, 33.5, "33:12" or "PT33M12.00S"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    iso = re.fullmatch(r"PT(\d+)M([\d.]+)S", text)
    if iso:
        return int(iso[1]) + float(iso[2]) / 60
    if ":" in text:
        whole, _, seconds = text.partition(":")
        return int(whole) + int(seconds) / 60
    return float(text) if text else 0.0


def player_logs_from_rows(raw: pd.DataFrame, source: str, stats_source: str = "nbacom") -> pd.DataFrame:
    """LeagueGameLog rows (player mode; JSON result set or the stats.nba.com CSV export) -> player_logs."""
    import pandas as pd

    missing = [c for c in GAMELOG_COLUMNS if c not in raw.columns]
    if missing:
        hint = "a team game log (PlayerOrTeam=T)" if "PLAYER_ID" in missing and "TEAM_ID" in raw.columns else ""
        raise _bad(source, f"missing columns {missing}" + (f"; this is {hint}" if hint else ""),
                   "use LeagueGameLog with PlayerOrTeam=P")
    if raw.empty:
        return _empty_logs()
    try:
        day = pd.to_datetime(raw["GAME_DATE"], format="mixed").dt.date
        matchup = raw["MATCHUP"].astype(str)
        opp = matchup.str.split(r"\s+(?:vs\.|@)\s+", regex=True).str[-1].map(team_code)
        out = pd.DataFrame({
            "season": day.map(season_of), "game_date": day, "game_id": raw["GAME_ID"].astype(str).str.zfill(10),
            "team": raw["TEAM_ABBREVIATION"].map(team_code), "opp": opp,
            "home": matchup.str.contains("vs.", regex=False),
            "playoffs": raw["GAME_ID"].astype(str).str.zfill(10).map(lambda g: _game_type(g) in ("4", "5")),
            "player_id": raw["PLAYER_ID"].astype("int64").astype(str), "player_name": raw["PLAYER_NAME"].astype(str),
            "started": pd.Series([None] * len(raw), dtype="object", index=raw.index),
            "minutes": raw["MIN"].map(_minutes).astype(float),
        })
        for col, name in _STAT_OF.items():
            out[col] = pd.to_numeric(raw[name]).fillna(0).astype("int64")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _bad(source, f"unreadable game-log rows ({type(exc).__name__}: {exc})") from None
    out["plus_minus"] = pd.to_numeric(raw["PLUS_MINUS"], errors="coerce").astype(float)
    out["dk_points"] = dk_points(out["pts"], out["fg3m"], out["reb"], out["ast"], out["stl"], out["blk"],
                                 out["tov"]).astype(float)
    out["stats_source"] = stats_source
    return out.reset_index(drop=True)


def _empty_logs() -> pd.DataFrame:
    import pandas as pd

    from projections.schema import PLAYER_LOGS

    kinds = {"str": "object", "date": "object", "bool": "bool", "int": "int64", "float": "float64", "any": "object"}
    frame = pd.DataFrame({c: pd.Series(dtype=kinds[k]) for c, k in PLAYER_LOGS.columns.items()})
    frame["stats_source"] = pd.Series(dtype="object")
    return frame


def player_logs_from_gamelog(content: bytes) -> pd.DataFrame:
    import pandas as pd

    rows = result_set(load_json(content, "game_logs"), "LeagueGameLog", "game_logs")
    return player_logs_from_rows(pd.DataFrame(rows), "game_logs")


# ------------------------------------------------------------------------------------------ rosters

def roster_from_commonteamroster(content: bytes, day: dt.date) -> pd.DataFrame:
    import pandas as pd

    rows = result_set(load_json(content, "rosters"), "CommonTeamRoster", "rosters",
                      ("TeamID", "PLAYER", "PLAYER_ID", "POSITION", "NUM"))
    try:
        return pd.DataFrame({
            "season": [season_of(day)] * len(rows), "game_date": [day] * len(rows),
            "team": [TEAM_IDS[int(r["TeamID"])] for r in rows],
            "player_id": [str(int(r["PLAYER_ID"])) for r in rows], "player_name": [str(r["PLAYER"]) for r in rows],
            "position": [r.get("POSITION") or None for r in rows], "jersey": [r.get("NUM") for r in rows],
            "how_acquired": [r.get("HOW_ACQUIRED") for r in rows],
        })
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad("rosters", f"unreadable roster row ({type(exc).__name__}: {exc})") from None


# ------------------------------------------------------------------------------------------ odds

def _american(decimal_odds: float) -> float:
    """Decimal odds -> American moneyline (2.5 -> +150, 1.5 -> -200)."""
    if decimal_odds >= 2.0:
        return round((decimal_odds - 1.0) * 100.0, 1)
    return round(-100.0 / (decimal_odds - 1.0), 1)


def _consensus(game: Mapping[str, Any], market: str, side: str, field: str) -> float:
    values = []
    for item in game.get("markets") or []:
        if item.get("name") != market:
            continue
        for book in item.get("books") or []:
            for outcome in book.get("outcomes") or []:
                if outcome.get("type") == side and outcome.get(field) not in (None, ""):
                    try:
                        values.append(float(outcome[field]))
                    except (TypeError, ValueError):
                        continue
    return float(statistics.median(values)) if values else math.nan


def odds_from_todays_games(content: bytes, games: pd.DataFrame) -> pd.DataFrame:
    """Consensus (median over books) spread and moneylines for the games of one slate.

    `games` is the slate's schedule (game_id, game_date, home_team, away_team); feed games that are not on it
    are dropped. The feed has no totals market, so `total` is null."""
    import pandas as pd

    body = load_json(content, "odds")
    if not isinstance(body, list):
        raise _bad("odds", "not a list of games")
    by_id = {str(g): i for i, g in enumerate(games["game_id"])}
    by_teams = {(h, a): i for i, (h, a) in enumerate(zip(games["home_team"], games["away_team"], strict=True))}
    rows = []
    for game in body:
        try:
            home, away = TEAM_IDS[int(game["homeTeamId"])], TEAM_IDS[int(game["awayTeamId"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad("odds", f"game {str(game)[:100]} lacks a known team id ({exc})") from None
        index = by_id.get(str(game.get("gameId")), by_teams.get((home, away)))
        if index is None:
            continue
        ml_home, ml_away = _consensus(game, "2way", "home", "odds"), _consensus(game, "2way", "away", "odds")
        rows.append({
            "season": season_of(games["game_date"].iloc[index]), "game_date": games["game_date"].iloc[index],
            "home_team": home, "away_team": away, "spread_home": _consensus(game, "spread", "home", "spread"),
            "total": math.nan, "moneyline_home": _american(ml_home) if ml_home > 1 else math.nan,
            "moneyline_away": _american(ml_away) if ml_away > 1 else math.nan, "score_home": math.nan,
            "score_away": math.nan, "playoffs": bool(games["playoffs"].iloc[index]), "source": "nba_live_odds",
        })
    columns = ["season", "game_date", "home_team", "away_team", "spread_home", "total", "moneyline_home",
               "moneyline_away", "score_home", "score_away", "playoffs", "source"]
    return pd.DataFrame(rows, columns=columns).astype({"playoffs": bool})


def feed_game_ids(content: bytes) -> list[str]:
    body = load_json(content, "odds")
    return [str(g.get("gameId")) for g in body] if isinstance(body, list) else []


# ------------------------------------------------------------------------------------------ live box score

def _box_game(content: bytes, source: str) -> dict[str, Any]:
    body = load_json(content, source)
    game = body.get("game") if isinstance(body, dict) else None
    if not isinstance(game, dict) or not game.get("gameId"):
        raise _bad(source, "no 'game' object with a gameId")
    return game


def _box_players(game: Mapping[str, Any], source: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for side in ("homeTeam", "awayTeam"):
        team = _team(game.get(side), source)
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
            raise _bad("lineups", f"player {str(p)[:100]} lacks {exc}") from None
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
    day = _utc(game["gameTimeUTC"]).astimezone(EASTERN).date() if game.get("gameTimeUTC") else None
    if day is None:
        raise _bad("game_logs", "box score has no gameTimeUTC")
    home = _team(game.get("homeTeam"), "game_logs")
    away = _team(game.get("awayTeam"), "game_logs")
    rows = []
    for team, p in _box_players(game, "game_logs"):
        if str(p.get("played", "0")) != "1":
            continue
        stats = p.get("statistics") or {}
        row = {"season": season_of(day), "game_date": day, "game_id": str(game["gameId"]), "team": team,
               "opp": away if team == home else home, "home": team == home,
               "playoffs": _game_type(str(game["gameId"])) in ("4", "5"), "player_id": str(int(p["personId"])),
               "player_name": str(p["name"]), "started": str(p.get("starter", "0")) == "1",
               "minutes": _minutes(stats.get("minutes")), "plus_minus": float(stats.get("plusMinusPoints", 0.0))}
        row.update({col: int(stats.get(name, 0) or 0) for col, name in _BOX_STAT.items()})
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return _empty_logs()
    out["dk_points"] = dk_points(out["pts"], out["fg3m"], out["reb"], out["ast"], out["stl"], out["blk"],
                                 out["tov"]).astype(float)
    out["stats_source"] = "nba_live_boxscore"
    return out

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

One module per payload family:

    common.py      team ids, game types, the payload ContractViolation, JSON / result-set decoding
    schedule.py    scoreboardv3, scoreboardv2, scheduleLeagueV2 -> schedule; the season calendar
    game_logs.py   leaguegamelog (JSON or the CSV export) -> player_logs
    rosters.py     commonteamroster -> rosters
    odds.py        odds_todaysGames -> odds
    boxscore.py    liveData boxscore -> lineups, player_logs

Callers use the names below as `parsers.<name>`.
"""

from __future__ import annotations

from projections.sources.parsers.boxscore import lineups_from_boxscore, player_logs_from_boxscore
from projections.sources.parsers.common import EASTERN, TEAM_ID_OF, TEAM_IDS, load_json, result_set
from projections.sources.parsers.game_logs import GAMELOG_COLUMNS, player_logs_from_gamelog, player_logs_from_rows
from projections.sources.parsers.odds import feed_game_ids, odds_from_todays_games
from projections.sources.parsers.rosters import roster_from_commonteamroster
from projections.sources.parsers.schedule import calendar_counts, schedule_from_scoreboard

__all__ = [
    "EASTERN", "GAMELOG_COLUMNS", "TEAM_IDS", "TEAM_ID_OF", "calendar_counts", "feed_game_ids",
    "lineups_from_boxscore", "load_json", "odds_from_todays_games", "player_logs_from_boxscore",
    "player_logs_from_gamelog", "player_logs_from_rows", "result_set", "roster_from_commonteamroster",
    "schedule_from_scoreboard",
]

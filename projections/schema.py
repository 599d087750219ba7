"""Canonical tables every source produces, whether from the shipped archive, an ingest or a live fetch.

Identity conventions (see projections/identity.py):
- `team`, `opp`, `home_team`, `away_team`: nba.com three-letter codes (ATL BKN BOS CHA CHI CLE DAL DEN DET
  GSW HOU IND LAC LAL MEM MIA MIL MIN NOP NYK OKC ORL PHI PHX POR SAC SAS TOR UTA WAS).
- `player_id`: the stats.nba.com PLAYER_ID as a string ("201935") where known, else "bbref:<slug>", else
  "name:<name_key>". One id per person across every table.
- `game_date`: the US/Eastern calendar date of the game, a `datetime.date`.
- `tip_time`: tz-aware UTC timestamp of the scheduled tip.
- `season`: "2019-20" style label (the bubble belongs to 2019-20).

Every archive part is a parquet file `projections/data/archive/<table>/<season>.parquet` (shipped) or a store
object named by a ref (ingested); the columns below are the contract for each.
"""

from __future__ import annotations

from projections.contracts import Contract

STAT_COLUMNS = ("pts", "fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl", "blk",
                "tov", "pf")

PLAYER_LOGS = Contract(
    description="one row per player per game played (box score)",
    columns={
        "season": "str", "game_date": "date", "game_id": "str", "team": "str", "opp": "str", "home": "bool",
        "playoffs": "bool", "player_id": "str", "player_name": "str", "started": "any", "minutes": "float",
        **{c: "int" for c in STAT_COLUMNS}, "plus_minus": "float", "dk_points": "float",
    },
    non_null=("season", "game_date", "game_id", "team", "opp", "player_id", "player_name", "minutes"),
    unique=("game_id", "player_id"),
)

SCHEDULE = Contract(
    description="one row per game",
    columns={
        "season": "str", "game_date": "date", "game_id": "str", "home_team": "str", "away_team": "str",
        "tip_time": "timestamp", "tip_time_source": "str", "playoffs": "bool", "status": "str",
    },
    non_null=("season", "game_date", "game_id", "home_team", "away_team", "tip_time", "status"),
    unique=("game_id",),
)

SALARIES = Contract(
    description="one row per player listed on a DraftKings classic slate (rotoguru daily or real DKSalaries)",
    columns={
        "season": "str", "game_date": "date", "slate_id": "str", "source": "str", "dk_id": "any",
        "player_id": "str", "player_name": "str", "team": "str", "opp": "any", "positions": "str",
        "roster_positions": "str", "salary": "int", "starter": "any", "tip_time": "any", "avg_points": "any",
    },
    non_null=("game_date", "slate_id", "source", "player_id", "player_name", "team", "positions", "salary"),
    unique=("slate_id", "player_id"),
)

ODDS = Contract(
    description="closing line per game; spread_home < 0 when the home team is favoured",
    columns={
        "season": "str", "game_date": "date", "home_team": "str", "away_team": "str", "spread_home": "float",
        "total": "float", "moneyline_home": "float", "moneyline_away": "float", "score_home": "float",
        "score_away": "float", "playoffs": "bool",
    },
    non_null=("game_date", "home_team", "away_team"),
    unique=("game_date", "home_team"),
)

INJURIES = Contract(
    description="official NBA injury report lines; one row per report time and player",
    columns={
        "season": "str", "report_time": "timestamp", "game_date": "date", "team": "str", "player_id": "str",
        "player_name": "str", "status": "str", "reason": "str",
    },
    non_null=("report_time", "game_date", "team", "player_id", "status"),
    unique=("report_time", "player_id"),
)

PLAYERS = Contract(
    description="identity map: every name a player goes by in any source",
    columns={"player_id": "str", "player_name": "str", "name_key": "str", "bbref_slug": "any",
             "nba_id": "any", "source": "str"},
    non_null=("player_id", "player_name", "name_key", "source"),
    unique=("name_key", "player_id", "source"),
)

TABLES: dict[str, Contract] = {
    "player_logs": PLAYER_LOGS,
    "schedule": SCHEDULE,
    "salaries": SALARIES,
    "odds": ODDS,
    "injuries": INJURIES,
    "players": PLAYERS,
}

INJURY_STATUSES = ("Out", "Doubtful", "Questionable", "Probable", "Available")

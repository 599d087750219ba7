"""Parsers on the verbatim recorded payloads of shared/data/nba/api (and on broken copies of them)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from projections.errors import ContractViolation
from projections.identity import dk_points
from projections.sources import parsers, tables
from tests.net.faultserver import recorded, shared_root
from tests.sources import payloads

V3 = "api/stats_cassettes/scenarios__test_scoreboardv3_Regular_season_game_date_-_November_5_2025.json"
V2 = "api/stats_cassettes/smoke__test_endpoints_ScoreboardV2.json"
CALENDAR = "api/pbpstats_fixtures/live_nba_2023.json"
ROSTER = "api/stats_cassettes/smoke__test_endpoints_CommonTeamRoster.json"
BOX = "api/live/boxscore_0022000196_game.json"


def test_team_ids_match_the_nba_com_logs() -> None:
    with open(shared_root() / "data" / "nba" / "logs" / "nbacom" / "player_logs_2019-20.csv", newline="") as fh:
        pairs = {(int(r["TEAM_ID"]), r["TEAM_ABBREVIATION"]) for r in csv.DictReader(fh)}
    assert pairs == set(parsers.TEAM_IDS.items())


def test_scoreboard_v3_gives_games_teams_and_utc_tips() -> None:
    day = dt.date(2025, 11, 5)
    games = parsers.schedule_from_scoreboard(recorded(V3), day)
    tables.check(games, "schedule", origin="(test)", fix="-")
    body = json.loads(recorded(V3))["scoreboard"]["games"]
    assert len(games) == len(body) and games["game_id"].tolist() == [g["gameId"] for g in body]
    first = games.iloc[0]
    assert (first["home_team"], first["away_team"]) == ("CLE", "PHI")
    assert first["tip_time"].isoformat() == "2025-11-06T00:00:00+00:00" and first["status"] == "final"


def test_scoreboard_for_another_date_is_rejected() -> None:
    with pytest.raises(ContractViolation, match="the scoreboard is for 2025-11-05, not 2025-11-06"):
        parsers.schedule_from_scoreboard(recorded(V3), dt.date(2025, 11, 6))


def test_offseason_scoreboard_is_an_empty_schedule() -> None:
    body = recorded("api/stats_cassettes/scenarios__test_scoreboardv3_Offseason_date_-_no_games_expected.json")
    games = parsers.schedule_from_scoreboard(body, dt.date(2025, 7, 15))
    assert games.empty and list(games.columns)[:3] == ["season", "game_date", "game_id"]


def test_scoreboard_v2_tips_come_from_the_status_text() -> None:
    games = parsers.schedule_from_scoreboard(recorded(V2), dt.date(2026, 2, 22))
    first = games.iloc[0]
    assert (first["game_id"], first["home_team"], first["away_team"]) == ("0022500817", "OKC", "CLE")
    assert first["tip_time"].isoformat() == "2026-02-22T18:00:00+00:00"  # "1:00 pm ET"
    assert set(games["tip_time_source"]) == {"nba_scoreboard"}
    # its GameHeader lists 0022500823 (BOS@LAL, 6:30 PM) three times: 11 games, each once, as the contract wants
    header = next(r for r in json.loads(recorded(V2))["resultSets"] if r["name"] == "GameHeader")
    ids = [row[header["headers"].index("GAME_ID")] for row in header["rowSet"]]
    assert len(ids) == 13 and ids.count("0022500823") == 3
    assert sorted(games["game_id"]) == sorted(set(ids)) and len(games) == 11
    tables.check(games, "schedule", origin="(scoreboardv2 of 2026-02-22)", fix="")


def test_schedule_league_v2_is_the_season_calendar() -> None:
    day = dt.date(2023, 11, 1)
    games = parsers.schedule_from_scoreboard(recorded(CALENDAR), day)
    season, counts = parsers.calendar_counts(recorded(CALENDAR))
    assert season == "2023-24" and counts[day] == len(games) == 13
    assert min(counts) == dt.date(2023, 10, 24)  # preseason games (some against club teams) are not slate games


def test_truncated_and_empty_bodies_are_contract_violations() -> None:
    body = recorded(V3)
    with pytest.raises(ContractViolation, match="not valid JSON"):
        parsers.schedule_from_scoreboard(body[: len(body) // 2], dt.date(2025, 11, 5))
    with pytest.raises(ContractViolation, match="empty body"):
        parsers.schedule_from_scoreboard(b"  ", dt.date(2025, 11, 5))


def test_team_game_log_is_refused_with_the_fix() -> None:
    with pytest.raises(ContractViolation, match=r"team game log \(PlayerOrTeam=T\).*PlayerOrTeam=P"):
        parsers.player_logs_from_gamelog(recorded("api/stats_cassettes/smoke__test_endpoints_LeagueGameLog.json"))


def test_player_game_log_becomes_player_logs() -> None:
    day = dt.date(2019, 10, 30)
    logs = parsers.player_logs_from_gamelog(payloads.league_game_log(day))
    tables.check(logs, "player_logs", origin="(test)", fix="-")
    assert logs["game_date"].max() < day and logs["season"].unique().tolist() == ["2019-20"]
    booker = logs[(logs["player_name"] == "Devin Booker") & (logs["game_id"] == "0021900049")].iloc[0]
    assert (booker["team"], booker["opp"], bool(booker["home"]), booker["pts"]) == ("PHX", "UTA", True, 21)
    assert booker["dk_points"] == dk_points(21, 1, 3, 0, 1, 1, 3)


def test_common_team_roster() -> None:
    roster = parsers.roster_from_commonteamroster(recorded(ROSTER), dt.date(2026, 2, 22))
    tables.check(roster, "rosters", origin="(test)", fix="-")
    assert set(roster["team"]) == {"CLE"} and len(roster) >= 15
    assert roster.set_index("player_name").loc["James Harden", "player_id"] == "201935"


def test_odds_feed_consensus_and_only_the_slates_games() -> None:
    import pandas as pd

    games = pd.DataFrame({"game_id": ["0022400913", "0022400914"], "game_date": [dt.date(2025, 3, 9)] * 2,
                          "home_team": ["HOU", "ATL"], "away_team": ["NOP", "IND"], "playoffs": [False, False]})
    odds = parsers.odds_from_todays_games(recorded("api/live/odds_todaysGames_first2games.json"), games)
    tables.check(odds, "odds", origin="(test)", fix="-")
    assert odds["home_team"].tolist() == ["HOU", "ATL"]  # the feed's third game is not on this slate
    hou = odds.iloc[0]
    assert hou["spread_home"] == -6.75 and hou["moneyline_home"] < -200 < 200 < hou["moneyline_away"]
    assert odds["total"].isna().all()  # the feed has no totals market


def test_live_box_score_gives_starters_and_who_is_not_playing() -> None:
    lineups = parsers.lineups_from_boxscore(recorded(BOX), dt.date(2021, 1, 17))
    tables.check(lineups, "lineups", origin="(test)", fix="-")
    assert lineups.groupby("team")["starter"].sum().to_dict() == {"BOS": 5, "NYK": 5}
    tatum = lineups.set_index("player_name").loc["Jayson Tatum"]
    assert (tatum["status"], tatum["not_playing_reason"]) == ("INACTIVE", "INACTIVE_HEALTH_AND_SAFETY_PROTOCOLS")
    logs = parsers.player_logs_from_boxscore(recorded(BOX))
    tables.check(logs, "player_logs", origin="(test)", fix="-")
    brown = logs.set_index("player_name").loc["Jaylen Brown"]
    assert brown["started"] and round(brown["minutes"], 2) == 32.55 and brown["pts"] == 25

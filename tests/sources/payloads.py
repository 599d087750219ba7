"""Payloads for one consistent live slate, in the verbatim endpoint shapes, DERIVED FROM REAL DATA.

The recorded responses in shared/data/nba/api are for assorted dates; a live run needs every source of one
date. So, for a slate date D, these builders take each envelope from a recorded response (the JSON keys and
nesting of scoreboardv3, leaguegamelog, odds_todaysGames) and fill it with the real facts of D from the other
real files - nothing here is invented:

    scoreboardv3     games, game ids, teams and tip times of D from the shipped archive schedule (built from
                     stats.nba.com game ids and DraftKings Game Info tip times); status "scheduled", scores 0,
                     leaders and broadcasters empty (what a pre-game scoreboard carries)
    leaguegamelog    player mode: the rows of shared/data/nba/logs/nbacom/player_logs_<season>.csv (a
                     stats.nba.com LeagueGameLog export) dated before D - what the endpoint answers on D
    odds_todaysGames the closing line of each game of D from shared/data/nba/odds/nba_2008-2025_raw.csv, as one
                     book's "2way" (American moneylines converted to decimal odds) and "spread" markets; the
                     file has no price for the spread, so spread outcomes carry no "odds" field
    DKSalaries.csv   the real file of D from shared/data/nba/salaries/dk/, unchanged
    liveData boxscore one game of D as its pre-game box score: the game id and teams of the archive schedule,
                     its players those of the shipped archive's box-score lines of the game (Basketball-Reference
                     logs of who played), starter "1" for the five each side started (bbref's GS); statistics
                     zeroed, as before tip. A real pre-game box score lists the inactive players too: given
                     `inactive`, those players follow, status INACTIVE (LATE_GAME_INACTIVE: three players of the
                     2019-10-30 slate's last game who were on its DraftKings file, have no box-score line that day
                     and were out for the reasons publicly reported: Thompson's torn ACL, Looney's hamstring,
                     Ayton's 25-game suspension)
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from pathlib import Path

from projections.dates import season_of  # the 2020 bubble (July-October) is 2019-20
from projections.identity import team_code
from tests.net.faultserver import recorded, shared_root

ARCHIVE = Path(__file__).resolve().parents[2] / "projections" / "data" / "archive"
SCOREBOARD = "api/stats_cassettes/scenarios__test_scoreboardv3_Regular_season_game_date_-_November_5_2025.json"
SCOREBOARD_EMPTY = "api/stats_cassettes/scenarios__test_scoreboardv3_Offseason_date_-_no_games_expected.json"
TEAM_GAMELOG = "api/stats_cassettes/smoke__test_endpoints_LeagueGameLog.json"
ODDS = "api/live/odds_todaysGames_first2games.json"
BOX_SCORE = "api/live/boxscore_0022000196_game.json"
DK_FILES = {dt.date(2019, 10, 30): "salaries/dk/2019-10-30__bradical1379__DKSalaries__cda50cde.csv"}
TEAM_IDS = {"ATL": 1610612737, "BOS": 1610612738, "CLE": 1610612739, "NOP": 1610612740, "CHI": 1610612741,
            "DAL": 1610612742, "DEN": 1610612743, "GSW": 1610612744, "HOU": 1610612745, "LAC": 1610612746,
            "LAL": 1610612747, "MIA": 1610612748, "MIL": 1610612749, "MIN": 1610612750, "BKN": 1610612751,
            "NYK": 1610612752, "ORL": 1610612753, "IND": 1610612754, "PHI": 1610612755, "PHX": 1610612756,
            "POR": 1610612757, "SAC": 1610612758, "SAS": 1610612759, "OKC": 1610612760, "TOR": 1610612761,
            "UTA": 1610612762, "MEM": 1610612763, "WAS": 1610612764, "DET": 1610612765, "CHA": 1610612766}


def games_of(day: dt.date) -> list[dict]:
    """The real games of `day` from the shipped archive schedule."""
    import pandas as pd

    frame = pd.read_parquet(ARCHIVE / "schedule" / f"{season_of(day)}.parquet")
    frame = frame[frame["game_date"] == day].sort_values(["tip_time", "game_id"])
    return frame.to_dict("records")


def scoreboard(day: dt.date) -> bytes:
    body = json.loads(recorded(SCOREBOARD))
    template = body["scoreboard"]["games"][0]
    games = []
    for game in games_of(day):
        tip = game["tip_time"].to_pydatetime().astimezone(dt.UTC)
        eastern = game["tip_time"].tz_convert("America/New_York")
        item = copy.deepcopy(template)
        item.update({
            "gameId": game["game_id"], "gameCode": f"{day:%Y%m%d}/{game['away_team']}{game['home_team']}",
            "gameStatus": 1, "gameStatusText": eastern.strftime("%-I:%M %p ET").lower().replace("et", "ET"),
            "period": 0, "gameClock": "", "gameTimeUTC": tip.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "gameEt": eastern.strftime("%Y-%m-%dT%H:%M:%SZ"), "gameLeaders": {}, "teamLeaders": {},
            "broadcasters": {},
        })
        for side, code in (("homeTeam", game["home_team"]), ("awayTeam", game["away_team"])):
            item[side] = {"teamId": TEAM_IDS[code], "teamName": "", "teamCity": "", "teamTricode": code,
                          "teamSlug": "", "wins": 0, "losses": 0, "score": 0, "seed": 0, "inBonus": None,
                          "timeoutsRemaining": 0, "periods": []}
        games.append(item)
    body["meta"]["request"] = f"http://nba.cloud/league/00/{day:%Y/%m/%d}/scoreboard?Format=json"
    body["scoreboard"].update({"gameDate": day.isoformat(), "games": games})
    return json.dumps(body).encode()


def empty_scoreboard(day: dt.date) -> bytes:
    """The recorded off-season answer (zero games), re-dated to `day`: what a broken feed says on a game day."""
    body = json.loads(recorded(SCOREBOARD_EMPTY))
    body["scoreboard"]["gameDate"] = day.isoformat()
    return json.dumps(body).encode()


def _number(text: str) -> int | float | None:
    if text == "":
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def league_game_log(day: dt.date, since: dt.date | None = None) -> bytes:
    """Player-mode LeagueGameLog of the season of `day`, as the endpoint answers on `day` (games before it); with
    `since`, only the games from that date on."""
    season = season_of(day)
    body = json.loads(recorded(TEAM_GAMELOG))
    path = shared_root() / "data" / "nba" / "logs" / "nbacom" / f"player_logs_{season}.csv"
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        headers = [h for h in reader.fieldnames or [] if h != "SEASON_LABEL"]
        text = {"SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_ID", "GAME_DATE",
                "MATCHUP", "WL"}
        rows = [[r[h] if h in text else _number(r[h]) for h in headers] for r in reader
                if (since or dt.date.min) <= dt.date.fromisoformat(r["GAME_DATE"]) < day]
    for row in rows:  # ids are numbers in the JSON body
        row[headers.index("PLAYER_ID")] = int(row[headers.index("PLAYER_ID")])
        row[headers.index("TEAM_ID")] = int(row[headers.index("TEAM_ID")])
    body["parameters"].update({"Season": season, "PlayerOrTeam": "P"})
    body["resultSets"][0].update({"headers": headers, "rowSet": rows})
    return json.dumps(body).encode()


def _decimal(american: float) -> str:
    return f"{(1 + american / 100) if american > 0 else (1 + 100 / -american):.3f}"


def odds_today(day: dt.date) -> bytes:
    """odds_todaysGames for the games of `day`: one book carrying the real closing line of each game."""
    lines = {}
    with open(shared_root() / "data" / "nba" / "odds" / "nba_2008-2025_raw.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["date"] == day.isoformat():
                lines[(team_code(r["home"]), team_code(r["away"]))] = r
    out = []
    for game in games_of(day):
        line = lines[(game["home_team"], game["away_team"])]
        spread = float(line["spread"]) * (-1 if line["whos_favored"] == "home" else 1)
        book = {"id": "closing", "name": "closing line (nba_2008-2025_raw.csv)", "url": "", "countryCode": "US"}
        item = {
            "gameId": game["game_id"], "homeTeamId": str(TEAM_IDS[game["home_team"]]),
            "awayTeamId": str(TEAM_IDS[game["away_team"]]),
            "markets": [
                {"name": "2way", "odds_type_id": 1, "group_name": "regular", "books": [book | {"outcomes": [
                    {"odds_field_id": 1, "type": "home", "odds": _decimal(float(line["moneyline_home"]))},
                    {"odds_field_id": 2, "type": "away", "odds": _decimal(float(line["moneyline_away"]))}]}]},
                {"name": "spread", "odds_type_id": 4, "group_name": "regular", "books": [book | {"outcomes": [
                    {"odds_field_id": 10, "type": "home", "spread": f"{spread:g}"},
                    {"odds_field_id": 12, "type": "away", "spread": f"{-spread:g}"}]}]},
            ],
        }
        out.append(item)
    return json.dumps(out).encode()


# team -> (personId, name, notPlayingReason, notPlayingDescription) of players its list has inactive
LATE_GAME_INACTIVE: dict[str, list[tuple[int, str, str, str | None]]] = {
    "GSW": [(202691, "Klay Thompson", "INACTIVE_INJURY", "Left ACL; Tear"),
            (1626172, "Kevon Looney", "INACTIVE_INJURY", "Left Hamstring; Strain")],
    "PHX": [(1629028, "Deandre Ayton", "INACTIVE_SUSPENSION", None)],
}


def live_boxscore(day: dt.date, game_id: str,
                  inactive: dict[str, list[tuple[int, str, str, str | None]]] | None = None) -> bytes:
    """The pre-game liveData box score of one game of `day` (see the module's docstring); `inactive` (team ->
    players) adds each team's inactive list."""
    import pandas as pd

    body = json.loads(recorded(BOX_SCORE))
    game = next(g for g in games_of(day) if g["game_id"] == game_id)
    logs = pd.read_parquet(ARCHIVE / "player_logs" / f"{season_of(day)}.parquet",
                           columns=["game_id", "team", "player_id", "player_name", "started"])
    logs = logs[logs["game_id"] == game_id]
    template = body["game"]["homeTeam"]["players"][0]
    zero = {k: 0 for k in template["statistics"]}
    body["game"].update(gameId=game_id, gameStatus=1, gameStatusText="pregame", period=0)
    for side, team in (("homeTeam", game["home_team"]), ("awayTeam", game["away_team"])):
        players = []
        for order, row in enumerate(logs[logs["team"] == team].sort_values("started", ascending=False)
                                    .itertuples(), start=1):
            first, _, last = str(row.player_name).partition(" ")
            players.append({**copy.deepcopy(template), "order": order, "personId": int(row.player_id),
                            "starter": "1" if row.started else "0", "played": "0", "oncourt": "0",
                            "statistics": dict(zero), "name": row.player_name, "nameI": f"{first[:1]}. {last}",
                            "firstName": first, "familyName": last})
        for pid, name, reason, description in (inactive or {}).get(team, []):
            first, _, last = name.partition(" ")
            players.append({**copy.deepcopy(template), "status": "INACTIVE", "order": len(players) + 1,
                            "personId": pid, "starter": "0", "played": "0", "oncourt": "0",
                            "statistics": dict(zero), "name": name, "nameI": f"{first[:1]}. {last}",
                            "firstName": first, "familyName": last, "notPlayingReason": reason,
                            **({"notPlayingDescription": description} if description else {})})
        body["game"][side].update(teamId=TEAM_IDS[team], teamTricode=team, score=0, players=players)
    return json.dumps(body).encode()


def dk_salaries(day: dt.date) -> bytes:
    return recorded(DK_FILES[day])


def csv_bytes(rows: list[dict]) -> bytes:
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return sink.getvalue().encode()

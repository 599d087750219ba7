"""stages.model.history: features see only games strictly before each target's date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from stages.model.history import history_features


def _logs(rows: list[tuple[str, str, str, float, bool]]) -> pd.DataFrame:
    out = []
    for day, team, pid, minutes, started in rows:
        d = dt.date.fromisoformat(day)
        season = "2019-20" if d >= dt.date(2019, 9, 1) else "2018-19"
        out.append({"season": season, "game_date": d, "game_id": f"{day}-{team}", "team": team, "opp": "XXX",
                    "home": True, "playoffs": False, "player_id": pid, "player_name": pid, "started": started,
                    "minutes": minutes, "pts": int(minutes // 2), "fgm": int(minutes // 5), "fga": int(minutes // 2),
                    "fg3m": 1, "fg3a": 3, "ftm": 2, "fta": 2, "oreb": 1, "dreb": 3, "reb": 4, "ast": 2, "stl": 1,
                    "blk": 0, "tov": 1, "pf": 2, "plus_minus": 0.0, "dk_points": minutes})
    return pd.DataFrame(out)


def _targets(day: str, *pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"game_date": [dt.date.fromisoformat(day)] * len(pairs), "team": [t for t, _ in pairs],
                         "player_id": [p for _, p in pairs]})


LOGS = _logs([
    ("2019-11-01", "BOS", "a", 30, True), ("2019-11-01", "BOS", "b", 10, False),
    ("2019-11-03", "BOS", "a", 34, True),
    ("2019-11-05", "BOS", "a", 40, True), ("2019-11-05", "BOS", "b", 20, False),
    ("2019-11-05", "NYK", "c", 25, False),  # c is traded to BOS after this game
])


def test_features_use_only_earlier_games():
    f = history_features(LOGS, _targets("2019-11-05", ("BOS", "a"))).iloc[0]
    assert f["last_minutes"] == 34 and f["games"] == 2 and f["team_games_before"] == 2
    assert 30 < f["min_avg"] < 34 and f["start_rate"] == 1.0


def test_absence_streaks_count_the_teams_games_since_the_player_last_played():
    f = history_features(LOGS, _targets("2019-11-06", ("BOS", "a"), ("BOS", "b"), ("BOS", "c"))).set_index(
        "player_id")
    assert f.loc["a", "missed_streak"] == 0 and f.loc["b", "missed_streak"] == 0
    assert f.loc["a", "played_last10"] == 3 and f.loc["b", "played_last10"] == 2
    assert f.loc["c", "missed_streak"] == 0  # traded in: he missed no BOS game after his last game
    assert f.loc["a", "rest_days"] == 1


def test_a_player_missing_recent_games_has_a_streak():
    f = history_features(LOGS, _targets("2019-11-06", ("BOS", "b"))).iloc[0]
    logs = LOGS[~((LOGS["player_id"] == "b") & (LOGS["game_date"] == dt.date(2019, 11, 5)))]
    g = history_features(logs, _targets("2019-11-06", ("BOS", "b"))).iloc[0]
    assert f["missed_streak"] == 0 and g["missed_streak"] == 2


def test_no_history_gives_nan_features_and_the_prior_season_counts_less():
    f = history_features(LOGS, _targets("2019-11-01", ("BOS", "a"))).iloc[0]
    assert np.isnan(f["min_avg"]) and f["team_games_before"] == 0
    old = _logs([("2019-03-01", "BOS", "d", 10, False)] * 1 + [("2019-11-01", "BOS", "d", 30, False)])
    g = history_features(old, _targets("2019-11-03", ("BOS", "d"))).iloc[0]
    assert 25 < g["min_avg"] < 30  # the 2018-19 game weighs much less than this season's


def test_last_blowout_flags_a_last_game_decided_by_fifteen_or_more():
    rows = _logs([("2019-11-01", "BOS", "a", 40, True), ("2019-11-01", "BOS", "b", 36, True),
                  ("2019-11-03", "BOS", "a", 30, True)])
    rows["game_id"] = rows["game_date"].astype(str)  # one game a day: BOS against NYK
    nyk = rows.assign(team="NYK", player_id=rows["player_id"] + "n", pts=[2, 2, 14])
    logs = pd.concat([rows, nyk], ignore_index=True)  # 11/01: BOS 38 - NYK 4; 11/03: BOS 15 - NYK 14
    f = history_features(logs, _targets("2019-11-03", ("BOS", "a"), ("NYK", "an"))).set_index("player_id")
    assert f.loc["a", "last_blowout"] == 1.0 and f.loc["an", "last_blowout"] == 1.0
    g = history_features(logs, _targets("2019-11-05", ("BOS", "a"))).iloc[0]
    assert g["last_blowout"] == 0.0


def test_starters_are_the_flag_where_known_and_the_five_longest_playing_where_not():
    from stages.model.history import starters

    minutes = [38.0, 36.0, 34.0, 30.0, 28.0, 29.0, 12.0, 0.0]
    rows = [("2019-11-01", "BOS", f"p{i}", m, None) for i, m in enumerate(minutes)]
    unknown = _logs(rows)
    unknown["started"] = pd.Series([None] * len(rows), dtype="object")
    # p5 (29 min) outplayed p4 (28): the five longest-playing stand in, whatever the row order
    assert starters(unknown).tolist() == [True, True, True, True, False, True, False, False]
    known = _logs([(d, t, p, m, i < 2) for i, (d, t, p, m, _) in enumerate(rows)])
    assert starters(known).tolist() == [True, True] + [False] * 6  # a known flag is never overridden
    mixed = unknown.copy()
    mixed.loc[0, "started"] = False
    assert starters(mixed).tolist()[:2] == [False, True]

"""schedule: one row per game of player_logs, plus the games only the odds file knows, with tip times.

Tip times come from DraftKings Game Info where a DK file covers the game, else from the official injury
report's game time, else 19:00 US/Eastern (`tip_times` merges the first two; `build_schedule` adds the rest).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from projections.archive_build.common import Report, eastern_to_utc

Tips = dict[tuple[date, str, str], tuple[pd.Timestamp, str]]


def tip_times(dk: dict[tuple[date, str, str], pd.Timestamp], injury: dict[tuple[date, str, str], pd.Timestamp],
              report: Report) -> Tips:
    """(date, away, home) -> (tip time, source): DK wins where both DK and an injury report give one."""
    tips = {k: (v, "injury_report") for k, v in injury.items()}
    differ = [f"{k[0]} {k[1]}@{k[2]}" for k, v in dk.items() if k in injury and injury[k] != v]
    tips.update({k: (v, "dk") for k, v in dk.items()})
    report.note("schedule", f"tip times: {len(dk)} games from DK Game Info, {len(injury)} from injury reports "
                f"(DK wins where both exist; they disagree on {len(differ)}: {', '.join(sorted(differ)) or '-'})")
    return tips


def _extra_games(odds: pd.DataFrame, games: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Games the odds file lists but no box score covers (December 2020, the 2020 play-in game)."""
    known = set(zip(games["game_date"], games["home_team"], strict=True))
    part = odds[[(d, h) not in known for d, h in zip(odds["game_date"], odds["home_team"], strict=True)]]
    report.note("schedule", f"{len(part)} games from the odds file with no box score: " + ", ".join(
        f"{d} {a}@{h}" for d, a, h in zip(part["game_date"], part["away_team"], part["home_team"], strict=True)
        if d < date(2020, 12, 1)) + (" and the December 2020 games" if (part["season"] == "2020-21").any() else ""))
    return pd.DataFrame({
        "season": part["season"], "game_date": part["game_date"],
        "game_id": [f"{d.isoformat()}-{a}@{h}" for d, a, h in
                    zip(part["game_date"], part["away_team"], part["home_team"], strict=True)],
        "home_team": part["home_team"], "away_team": part["away_team"], "playoffs": part["playoffs"],
    })


def build_schedule(player_logs: pd.DataFrame, tips: Tips, odds: pd.DataFrame, report: Report) -> pd.DataFrame:
    """One row per game from the box scores, plus the games only the odds file knows."""
    sides = player_logs.drop_duplicates(["game_id", "team"])
    home = sides[sides["home"]].set_index("game_id")
    away = sides[~sides["home"]].set_index("game_id")
    broken = sorted(set(home.index) ^ set(away.index))
    if broken:
        raise ValueError(f"games without exactly one home and one away side in player_logs: {broken[:5]}")
    games = pd.DataFrame({
        "season": home["season"], "game_date": home["game_date"], "game_id": home.index,
        "home_team": home["team"], "away_team": away.loc[home.index, "team"], "playoffs": home["playoffs"],
    }).reset_index(drop=True)
    games = pd.concat([games, _extra_games(odds, games, report)], ignore_index=True)
    tip_time, source = [], []
    for day, home_team, away_team in zip(games["game_date"], games["home_team"], games["away_team"],
                                         strict=True):
        stamp, where = tips.get((day, away_team, home_team), (eastern_to_utc(day, 19, 0), "default"))
        tip_time.append(stamp)
        source.append(where)
    games["tip_time"] = pd.to_datetime(pd.Series(tip_time, dtype="object")).astype("datetime64[us, UTC]")
    games["tip_time_source"] = source
    games["status"] = "final"
    for label, part in games.groupby("season"):
        counts = part["tip_time_source"].value_counts().to_dict()
        report.note("schedule", f"{label}: {len(part)} games ({int(part['playoffs'].sum())} playoff); "
                    f"tip_time sources {dict(sorted(counts.items()))}")
    return games

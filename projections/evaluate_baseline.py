"""`projections evaluate`'s baseline: each player's mean minutes and DK points over his last BASELINE_GAMES games of
the season strictly before a date, for every evaluated date at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from projections.dates import season_of

BASELINE_GAMES = 10


def baseline(logs: Any, days: list[dt.date]) -> Any:
    """Per (date, player): mean minutes and DK points over his last BASELINE_GAMES games of the season
    strictly before the date (rows in date order, then player_id order).

    Each season's rows are sorted once and every (date, player) window is found by a binary search over them, so
    one groupby averages every window (filtering the whole game logs again for each date took most of a season's
    evaluation). The windows hold the same rows in the same order as a per-date groupby, so the means are the
    same to the bit."""
    import numpy as np
    import pandas as pd

    if not days:
        return pd.DataFrame()
    logs = logs.dropna(subset=["player_id"]).sort_values(["player_id", "game_date"])  # as groupby drops them
    stride = 10**7  # above any date's ordinal: a row's key orders it by player, then date
    frames = []
    for season, rows in logs.groupby("season", sort=False):
        wanted = [(i, d) for i, d in enumerate(days) if season_of(d) == season]
        if not wanted:
            continue
        codes, players = pd.factorize(rows["player_id"])  # in order of appearance: sorted rows, sorted codes
        codes = np.asarray(codes, dtype=np.int64)
        keys = codes * stride + np.fromiter((d.toordinal() for d in rows["game_date"]), np.int64, len(rows))
        first = np.searchsorted(keys, np.arange(len(players), dtype=np.int64) * stride)  # each player's first row
        day_at = np.repeat(np.array([i for i, _ in wanted], dtype=np.int64), len(players))
        player = np.tile(np.arange(len(players), dtype=np.int64), len(wanted))
        ordinal = np.repeat(np.array([d.toordinal() for _, d in wanted], dtype=np.int64), len(players))
        end = np.searchsorted(keys, player * stride + ordinal)  # his first row on or after the date
        start = np.maximum(first[player], end - BASELINE_GAMES)
        some = end > start
        day_at, player, start, end = day_at[some], player[some], start[some], end[some]
        sizes = end - start
        window = np.repeat(np.arange(len(sizes)), sizes)
        offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        taken = rows[["minutes", "dk_points"]].iloc[np.repeat(start, sizes) + offsets].reset_index(drop=True)
        mean = taken.groupby(window, sort=True).mean()
        frames.append(pd.DataFrame({"player_id": players.take(player), "baseline_minutes": mean["minutes"].to_numpy(),
                                    "baseline_dk": mean["dk_points"].to_numpy(), "day_at": day_at}))
    columns = ["player_id", "baseline_minutes", "baseline_dk", "game_date"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "game_date" else "float64") for c in columns})
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out = out.sort_values("day_at", kind="stable").reset_index(drop=True)
    out["game_date"] = pd.Series([days[i] for i in out.pop("day_at")], dtype=object)
    return out[columns]

"""player_logs from LeagueGameLog (player mode): the endpoint's JSON result set or the stats.nba.com CSV export.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.identity import dk_points, team_code
from projections.sources.parsers.common import bad, game_type, load_json, result_frame

if TYPE_CHECKING:
    import pandas as pd


GAMELOG_COLUMNS = ("PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION", "GAME_ID", "GAME_DATE", "MATCHUP", "MIN",
                   "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK",
                   "TOV", "PF", "PLUS_MINUS")
_STAT_OF = {"pts": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM", "fta": "FTA",
            "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL", "blk": "BLK", "tov": "TOV",
            "pf": "PF"}


def minutes_of(value: Any) -> float:
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


def _sides(matchup: pd.Series, team: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each row's opponent and home flag from its MATCHUP: `BOS vs. PHI` (BOS at home), `BOS @ PHI` (BOS away).
    A neutral-site game (2024-25: Mexico City, Paris, the NBA Cup semifinals in Las Vegas) gives both teams' rows
    the same `AWAY @ HOME`, so the row of the team after the `@` is the (designated) home side and its opponent the
    team before it; reading the last code as the opponent made that team its own opponent and both sides away,
    and the game fell out of the schedule built from the logs."""
    parts = matchup.str.split(r"\s+(vs\.|@)\s+", regex=True)
    first, sep, last = parts.str[0].map(team_code), parts.str[1], parts.str[-1].map(team_code)
    named_last = (sep == "@") & (last == team) & (first != team)
    return first.where(named_last, last), (sep == "vs.") | named_last


def player_logs_from_rows(raw: pd.DataFrame, source: str, stats_source: str = "nbacom") -> pd.DataFrame:
    """LeagueGameLog rows (player mode; JSON result set or the stats.nba.com CSV export) -> player_logs."""
    import pandas as pd

    missing = [c for c in GAMELOG_COLUMNS if c not in raw.columns]
    if missing:
        hint = "a team game log (PlayerOrTeam=T)" if "PLAYER_ID" in missing and "TEAM_ID" in raw.columns else ""
        raise bad(source, f"missing columns {missing}" + (f"; this is {hint}" if hint else ""),
                   "use LeagueGameLog with PlayerOrTeam=P")
    if raw.empty:
        return empty_logs()
    try:
        day = pd.to_datetime(raw["GAME_DATE"], format="mixed").dt.date
        team = raw["TEAM_ABBREVIATION"].map(team_code)
        opp, home = _sides(raw["MATCHUP"].astype(str), team)
        out = pd.DataFrame({
            "season": day.map(season_of), "game_date": day, "game_id": raw["GAME_ID"].astype(str).str.zfill(10),
            "team": team, "opp": opp, "home": home,
            "playoffs": raw["GAME_ID"].astype(str).str.zfill(10).map(lambda g: game_type(g) in ("4", "5")),
            "player_id": raw["PLAYER_ID"].astype("int64").astype(str), "player_name": raw["PLAYER_NAME"].astype(str),
            "started": pd.Series([None] * len(raw), dtype="object", index=raw.index),
            "minutes": raw["MIN"].map(minutes_of).astype(float),
        })
        for col, name in _STAT_OF.items():
            out[col] = pd.to_numeric(raw[name]).fillna(0).astype("int64")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise bad(source, f"unreadable game-log rows ({type(exc).__name__}: {exc})") from None
    out["plus_minus"] = pd.to_numeric(raw["PLUS_MINUS"], errors="coerce").astype(float)
    out["dk_points"] = dk_points(out["pts"], out["fg3m"], out["reb"], out["ast"], out["stl"], out["blk"],
                                 out["tov"]).astype(float)
    out["stats_source"] = stats_source
    return out.reset_index(drop=True)


_RULES = (  # (what is wrong, the rows it is wrong in)
    ("a negative count", lambda o: (o[list(_STAT_OF)] < 0).any(axis=1)),
    ("minutes outside 0..75", lambda o: (o["minutes"] < 0) | (o["minutes"] > 75)),
    ("more made than attempted", lambda o: (o["fgm"] > o["fga"]) | (o["fg3m"] > o["fg3a"]) | (o["ftm"] > o["fta"])
     | (o["fg3m"] > o["fgm"]) | (o["fg3a"] > o["fga"])),
    ("REB is not OREB + DREB", lambda o: o["reb"] != o["oreb"] + o["dreb"]),
    ("PTS is not 2 FGM + FG3M + FTM", lambda o: o["pts"] != 2 * o["fgm"] + o["fg3m"] + o["ftm"]),
)


def impossible(out: pd.DataFrame) -> str | None:
    """The first box-score line of player_logs that cannot be (every real season's logs pass), described; None
    when none. `projections ingest game-logs` refuses such a file; the live feed drops such rows
    (`impossible_rows`) with a note: one bad upstream row must not stop every daily run."""
    for what, rule in _RULES:
        wrong = rule(out)
        if wrong.any():
            row = out[wrong.to_numpy()].iloc[0]
            return (f"{int(wrong.sum())} row(s) with {what}, e.g. {row['player_name']} on {row['game_date']} "
                    f"(game {row['game_id']})")
    return None


def impossible_rows(out: pd.DataFrame) -> pd.Series:
    """True for every row of player_logs that breaks one of the box-score rules of `impossible`."""
    import pandas as pd

    wrong = pd.Series(False, index=out.index)
    for _, rule in _RULES:
        wrong |= rule(out)
    return wrong


def empty_logs() -> pd.DataFrame:
    """A player_logs frame without rows, with the column kinds of one that has rows."""
    import pandas as pd

    from projections.schema import PLAYER_LOGS

    kinds = {"str": "object", "date": "object", "bool": "bool", "int": "int64", "float": "float64", "any": "object"}
    frame = pd.DataFrame({c: pd.Series(dtype=kinds[k]) for c, k in PLAYER_LOGS.columns.items()})
    frame["stats_source"] = pd.Series(dtype="object")
    return frame


def player_logs_from_gamelog(content: bytes) -> pd.DataFrame:
    """player_logs from a LeagueGameLog JSON body (PlayerOrTeam=P)."""
    # its columns even without a row: a well-formed log of a season before its first game (opening night) is
    # empty, not "missing columns"; whether empty is plausible is the backend's to say (it knows the calendar)
    raw = result_frame(load_json(content, "game_logs"), "LeagueGameLog", "game_logs")
    return player_logs_from_rows(raw, "game_logs")

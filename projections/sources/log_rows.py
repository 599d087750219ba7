"""The rows of a game-log file (a LeagueGameLog export) checked before they become player_logs: every cell a row
must fill is filled and its GAME_DATE is a date (`unfilled`), and the date is in the season the row says it is of
(`misdated`). Each returns what is wrong, with the line, or None; projections.sources.files refuses the file.

A row is filed under the season of its date (projections.dates.season_of), so one mis-dated row of a 2022-23
export (GAME_DATE 2019-10-30) would become a part of 2019-20 by itself - kept beside the shipped season, or with
--replace put in its place. The row carries its season itself: SEASON_ID (22022: a game type digit, then the
year the season begins), SEASON_LABEL ("2022-23") where the export has it, and always GAME_ID (0022200079: "00",
the game type, the season's two-digit year). `misdated` names the first row whose date is not in that season.
A closing-lines file (nba_2008-2025_raw.csv) carries it too, in `season`: the year the season ends (2020: 2019-20),
checked the same way (`LINES_SAID_BY`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_SEASON_ID = re.compile(r"[1-6](\d{4})(?:\.0)?")
_LABEL = re.compile(r"(\d{4})-(\d{2})")
_GAME_ID = re.compile(r"00[1-6](\d{2})\d{5}")


def _label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _from_season_id(value: Any) -> str | None:
    match = _SEASON_ID.fullmatch(str(value).strip())
    return _label(int(match[1])) if match else None


def _from_label(value: Any) -> str | None:
    match = _LABEL.fullmatch(str(value).strip())
    return match[0] if match and (int(match[1]) + 1) % 100 == int(match[2]) else None


def _from_end_year(value: Any) -> str | None:
    """A lines file's season: the year it ends (2020: 2019-20), or its label."""
    match = re.fullmatch(r"(\d{4})(?:\.0)?", str(value).strip())
    return _label(int(match[1]) - 1) if match else _from_label(value)


def season_said(value: Any) -> str:
    """A lines file's season cell, which every row fills: the season it names (ValueError when it names none)."""
    season = _from_end_year(value)
    if season is None:
        raise ValueError("no season")
    return season


def _from_game_id(value: Any) -> str | None:
    match = _GAME_ID.fullmatch(str(value).strip().zfill(10))
    if not match:
        return None
    two = int(match[1])
    return _label(2000 + two if two < 46 else 1900 + two)  # the NBA's first season, 1946-47, is "46"


def unfilled(raw: pd.DataFrame) -> str | None:
    """The first line with a blank cell in a column every game-log row fills (a file cut in the middle of a row:
    its last stats would be read as zeros) or a GAME_DATE that is no date, described; None when there is none."""
    import pandas as pd

    from projections.sources.parsers import GAMELOG_COLUMNS

    for column in GAMELOG_COLUMNS:
        empty = raw[column].map(blank).to_numpy()
        if empty.any():
            return (f"line {int(empty.argmax()) + 2}, column {column!r} is blank (a cell left empty, or the file is "
                    "cut short)")
    days = pd.to_datetime(raw["GAME_DATE"], format="mixed", errors="coerce")
    if days.isna().any():
        row = int(days.isna().to_numpy().argmax())
        return f"line {row + 2}, column 'GAME_DATE': {raw['GAME_DATE'].iloc[row]!r} is no date (YYYY-MM-DD)"
    return None


def blank(value: Any) -> bool:
    """A cell left empty: None, NaN or only whitespace."""
    return value is None or (isinstance(value, float) and value != value) or not str(value).strip()


_SAID_BY = (("SEASON_ID", _from_season_id), ("SEASON_LABEL", _from_label), ("GAME_ID", _from_game_id))
LINES_SAID_BY = (("season", _from_end_year),)


def misdated(raw: pd.DataFrame, logs: pd.DataFrame, *, row_name: str = "line", first: int = 2,
             said_by: tuple[tuple[str, Any], ...] | None = None, date_column: str = "GAME_DATE",
             again: str = "export the season's game logs again") -> str | None:
    """The first row of `raw` (the file's rows) whose date's season in `logs` (the table read from those rows,
    in the same order: its `season` and `game_date`) is not the season its own columns say (`said_by`, default
    the game logs' columns), described with its line (`first`: the number of the first row), date, columns and
    both seasons; None when every row agrees. A column that is absent or holds something else than its form (a
    SEASON_ID that is no season) says nothing."""
    by_date = logs["season"].astype(str).to_numpy()
    for column, parse in said_by or _SAID_BY:
        if column not in raw.columns:
            continue
        said = raw[column].map(parse).to_numpy()
        wrong = [i for i, s in enumerate(said) if s is not None and s != by_date[i]]
        if wrong:
            i = wrong[0]
            more = f" (and {len(wrong) - 1} more row(s))" if len(wrong) > 1 else ""
            value = str(raw[column].iloc[i]).strip()
            return (f"{row_name} {i + first}: {date_column} {logs['game_date'].iloc[i]} is in season {by_date[i]}, "
                    f"but the row's {column} {value!r} says {said[i]}{more}: a row is filed under the season of its "
                    f"date, so it would be filed under {by_date[i]}; fix that row's {date_column} (or {again})")
    return None

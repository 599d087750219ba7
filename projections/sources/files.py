"""Files people download -> canonical tables, with errors that name the file, the column and the fix.

    DKSalaries.csv             DraftKings' salary export of a classic slate: projections.sources.dk_file
    player game logs CSV       stats.nba.com LeagueGameLog, player mode (shared/data/nba/logs/nbacom/*.csv)
    lines CSV                  closing lines, one row a game (shared/data/nba/odds/nba_2008-2025_raw.csv)
    injury report table        the official report's table as CSV (shared/data/nba/injuries/2020/csv/*.csv)

Every reader takes the file's bytes and a display name and raises `BadFile` (a ConfigError: nothing was
started or changed) for anything it cannot take, so an ingest either writes everything or nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.errors import ConfigError, ContractViolation
from projections.identity import team_code
from projections.sources.log_rows import blank
from projections.sources.parsers.common import MONEYLINE_RANGE, SPREAD_RANGE, TOTAL_RANGE

if TYPE_CHECKING:
    import pandas as pd

Resolve = Callable[[str, str | None], str]  # (name, team) -> player_id

LINES_COLUMNS = ("season", "date", "away", "home", "whos_favored", "spread", "total", "moneyline_away",
                 "moneyline_home", "score_away", "score_home", "playoffs")
REPORT_COLUMNS = ("Game Date", "Game Time", "Matchup", "Team", "Player Name", "Current Status", "Reason")


class BadFile(ConfigError):
    """A file handed to ingest (or dropped into the inbox) that cannot become a table."""


def csv_table(content: bytes, name: str, what: str, required: tuple[str, ...], fix: str, **kwargs: Any) -> pd.DataFrame:
    import pandas as pd

    if not content.strip():
        raise BadFile(f"{name}: the file is empty; {fix}")
    content = from_utf16(content)
    first = content.split(b"\n", 1)[0]
    if b"\t" in first and b"," not in first and "sep" not in kwargs:  # a spreadsheet's tab-separated text
        kwargs["sep"] = "\t"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"{name}: not UTF-8 text (byte {exc.start} is {content[exc.start:exc.start + 1]!r}: saved by a "
                      "spreadsheet in another encoding?); save it as CSV UTF-8, or better " + fix) from None
    try:  # the header first: a file without the columns is refused before its rows are parsed
        header = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", nrows=0, **kwargs)
        _has_columns(header, name, what, required, fix)
        frame = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", **kwargs)
    except (ValueError, pd.errors.ParserError) as exc:
        raise BadFile(f"{name}: not a readable CSV ({' '.join(str(exc).split())[:SHOWN]}); {fix}") from None
    _has_columns(frame, name, what, required, fix)
    if frame.empty:
        raise BadFile(f"{name}: no rows; {fix}")
    return frame


SHOWN = 200  # characters of a file's own text quoted in an error: enough to recognise it, no more


def _has_columns(frame: pd.DataFrame, name: str, what: str, required: tuple[str, ...], fix: str) -> None:
    """BadFile for a table lacking a required column, quoting the start of the header it has."""
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        has = repr(list(frame.columns)[:12])
        has = has if len(has) <= SHOWN else has[:SHOWN] + "...]"
        raise BadFile(f"{name}: missing column(s) {missing} of {what} (the file has {has}); {fix}")


def from_utf16(content: bytes) -> bytes:
    """UTF-16 text (a spreadsheet's "Unicode text") as UTF-8; anything else as it is."""
    return content.decode("utf-16").encode() if content[:2] in (b"\xff\xfe", b"\xfe\xff") else content


def column_values(frame: pd.DataFrame, column: str, name: str, convert: Callable[[Any], Any], fix: str) -> list[Any]:
    """`convert` of every cell of a column that every row must fill; a blank cell (a truncated last line too) or
    one `convert` refuses is a BadFile naming the line."""
    out = []
    for row, value in enumerate(frame[column], start=2):  # line 1 is the header
        if blank(value):
            raise BadFile(f"{name}: line {row}, column {column!r} is blank (a cell left empty, or the file is cut "
                          f"short); {fix}")
        try:
            out.append(convert(value))
        except (ValueError, TypeError, AttributeError) as exc:
            raise BadFile(f"{name}: line {row}, column {column!r}: {value!r} ({exc}); {fix}") from None
    return out


def _numbers(frame: pd.DataFrame, column: str, name: str, low: float, high: float, what: str) -> pd.Series:
    """A column of numbers that may be blank (NaN); text that is not a number, or a number outside
    [low, high], is a BadFile naming the line."""
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    wrong = (values.isna() & ~frame[column].map(blank)) | (values < low) | (values > high)
    if wrong.any():
        row = int(wrong.to_numpy().argmax())
        raise BadFile(f"{name}: line {row + 2}, column {column!r}: {str(frame[column].iloc[row])!r} is not {what} "
                      f"(a number from {low:g} to {high:g}, or blank); fix that row")
    return values


# ------------------------------------------------------------------------------------------ game logs

LOGS_FIX = ("export the season's player game logs from stats.nba.com LeagueGameLog (PlayerOrTeam=P), e.g. "
            "shared/data/nba/logs/nbacom/player_logs_2022-23.csv")


def game_logs(content: bytes, name: str) -> pd.DataFrame:
    """player_logs from a LeagueGameLog export: the CSV, or the endpoint's JSON body."""
    import pandas as pd

    from projections.sources.log_rows import misdated, unfilled
    from projections.sources.parsers import GAMELOG_COLUMNS, player_logs_from_rows
    from projections.sources.parsers.common import load_json, result_frame
    from projections.sources.parsers.game_logs import impossible

    body = content.lstrip()[:1] in (b"{", b"[")  # the endpoint's JSON, read as player_logs_from_gamelog does
    try:
        if body:
            raw = result_frame(load_json(content, "game_logs"), "LeagueGameLog", "game_logs")
        else:
            raw = csv_table(content, name, "a LeagueGameLog player export", GAMELOG_COLUMNS, LOGS_FIX,
                            dtype={"GAME_ID": str, "PLAYER_ID": str})
            if wrong := unfilled(raw):
                raise BadFile(f"{name}: {wrong}; {LOGS_FIX}")
        logs = player_logs_from_rows(pd.DataFrame(raw), "game_logs" if body else name)
    except ContractViolation as exc:
        raise BadFile(f"{name}: {str(exc).removeprefix(f'{name} payload: ')}; {LOGS_FIX}") from None
    wrong = impossible(logs)
    if wrong:
        raise BadFile(f"{name}: {wrong}; a box score adds up (PTS = 2 FGM + FG3M + FTM, REB = OREB + DREB, made <= "
                      "attempted, no negative count, at most 75 minutes): export the game logs again")
    if wrong := misdated(raw, logs, row_name="row" if body else "line", first=1 if body else 2):
        raise BadFile(f"{name}: {wrong}")  # it would be filed under another season, alone
    return logs


# ------------------------------------------------------------------------------------------ lines

LINES_FIX = ("use the closing-lines layout of shared/data/nba/odds/nba_2008-2025_raw.csv (one row a game; its season "
             "the year the season ends, 2020 for 2019-20: a row whose date is not in it is refused)")


def lines(content: bytes, name: str) -> pd.DataFrame:
    """odds from a closing-lines file; `spread_home` < 0 when the home team is favoured."""
    import pandas as pd

    from projections.sources.log_rows import LINES_SAID_BY, misdated, season_said

    raw = csv_table(content, name, "a closing-lines file", LINES_COLUMNS, LINES_FIX)
    column_values(raw, "season", name, season_said, "a season is the year it ends (2020 for 2019-20), or 2019-20")
    day = column_values(raw, "date", name, lambda v: dt.date.fromisoformat(str(v).strip()[:10]),
                        "dates are YYYY-MM-DD")
    home = column_values(raw, "home", name, team_code, "fix the team or add its spelling to projections/identity.py")
    away = column_values(raw, "away", name, team_code, "fix the team or add its spelling to projections/identity.py")
    favoured = raw["whos_favored"].astype(str).str.strip().str.lower()
    bad = raw.index[~favoured.isin(["home", "away"])]
    if len(bad):
        raise BadFile(f"{name}: line {bad[0] + 2}, column 'whos_favored': {raw['whos_favored'].iloc[bad[0]]!r}; it "
                      "must be 'home' or 'away'")
    numbers = {"spread": _numbers(raw, "spread", name, *SPREAD_RANGE, "a point spread"),
               "total": _numbers(raw, "total", name, *TOTAL_RANGE, "a game total"),
               **{c: _numbers(raw, c, name, *MONEYLINE_RANGE, "a moneyline") for c in ("moneyline_home",
                                                                                     "moneyline_away")},
               **{c: _numbers(raw, c, name, 0, 250, "a score") for c in ("score_home", "score_away")}}
    if (numbers["spread"].isna() | numbers["total"].isna()).all():
        raise BadFile(f"{name}: no row has both a spread and a total, so no game has a line; {LINES_FIX}")
    spread = numbers["spread"].abs()
    out = pd.DataFrame({
        "season": [season_of(d) for d in day], "game_date": day, "home_team": home, "away_team": away,
        "spread_home": spread.where(favoured == "away", -spread), "total": numbers["total"],
        "moneyline_home": numbers["moneyline_home"], "moneyline_away": numbers["moneyline_away"],
        "score_home": numbers["score_home"], "score_away": numbers["score_away"],
        "playoffs": raw["playoffs"].astype(str).str.strip().str.lower().isin(["true", "1"]),
        "source": Path(name).name,  # the file's name: where it lay is no fact of the data
    })
    if wrong := misdated(raw, out, said_by=LINES_SAID_BY, date_column="date",
                         again="download the season's lines again"):
        raise BadFile(f"{name}: {wrong}")  # it would be filed under another season, alone
    dup = out.duplicated(["game_date", "home_team"], keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise BadFile(f"{name}: {int(dup.sum())} rows repeat a game (e.g. {first['game_date']} "
                      f"{first['away_team']}@{first['home_team']}); keep one line per game")
    return out


# ------------------------------------------------------------------------------------------ injury report

REPORT_FIX = ("use the official NBA injury report's table (columns Game Date, Game Time, Matchup, Team, "
              "Player Name, Current Status, Reason), as in shared/data/nba/injuries/2020/csv")


def _month_day_year(value: str) -> dt.date:
    month, day, year = (int(x) for x in str(value).strip().split("/"))
    return dt.date(year, month, day)


def injury_report(content: bytes, name: str, report_time: dt.datetime, resolve: Resolve) -> pd.DataFrame:
    """injuries from one report table; blank cells repeat the cell above (as the PDF prints them)."""
    import pandas as pd

    from projections import schema
    from projections.archive_build import read_report

    csv_table(content, name, "an injury report table", REPORT_COLUMNS, REPORT_FIX, dtype=str)
    rows, _, _ = read_report(io.BytesIO(content))  # type: ignore[arg-type]
    bad = sorted(set(rows["Current Status"].dropna()) - set(schema.INJURY_STATUSES))
    if bad:
        raise BadFile(f"{name}: column 'Current Status' holds {bad}; expected {schema.INJURY_STATUSES}")
    from projections.identity import flip_last_first

    if rows.empty:  # every team of the report 'NOT YET SUBMITTED' (a morning's report): no status known yet
        from projections.sources.tables import arrow_schema

        return arrow_schema("injuries").empty_table().to_pandas()
    game_date = column_values(rows, "Game Date", name, _month_day_year, "dates are MM/DD/YYYY")
    teams = column_values(rows, "Team", name, team_code, "fix the team name")
    names = [flip_last_first(str(n)) for n in rows["Player Name"]]
    return pd.DataFrame({
        "season": [season_of(d) for d in game_date],
        "report_time": pd.Series([report_time] * len(rows), dtype="datetime64[us, UTC]"),
        "game_date": game_date, "team": teams,
        "player_id": [resolve(n, t) for n, t in zip(names, teams, strict=True)], "player_name": names,
        "status": rows["Current Status"].to_numpy(), "reason": rows["Reason"].to_numpy(),
        "matchup": rows["Matchup"].to_numpy(),
    })

"""DraftKings' salary export of a classic NBA slate (DKSalaries.csv, or the player table inside a lineup-upload
template) -> the salaries table, with errors that name the file, the line, the column and the fix. The date comes
from the file's Game Info column, never from its name or time. The CSV checks it shares with the other readers of
downloaded files (`BadFile`, `csv_table`, `column_values`) are in projections.sources.files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.identity import team_code
from projections.sources.files import BadFile, Resolve, column_values, csv_table, from_utf16
from projections.textsafe import has_control

if TYPE_CHECKING:
    import pandas as pd

DK_COLUMNS = ("Position", "Name", "ID", "Roster Position", "Salary", "Game Info", "TeamAbbrev")
DK_POSITIONS = ("PG", "SG", "SF", "PF", "C")
DK_ROSTER_SLOTS = (*DK_POSITIONS, "G", "F", "UTIL")
DK_CAP = 50_000  # a classic lineup's salary cap: no one player costs more

DK_MAX_BYTES = 4 * 2**20  # 80 times a full slate's export
DK_MAX_ROWS = 2_000  # a 15-game slate lists about 540 players
DK_WHAT = "any DraftKings salary export (a full slate's is under 50 KB)"
DK_FIX = ("download the slate's salary CSV from DraftKings (a classic NBA contest -> 'Export to CSV' / "
          "DKSalaries.csv) and pass that file unchanged")


def dk_salaries(content: bytes, name: str, resolve_for: Callable[[dt.date], Resolve]
                ) -> tuple[dt.date, pd.DataFrame]:
    """(slate date, salaries table) of one DKSalaries.csv; the date comes from its Game Info column, never from
    the file's name or time. `resolve_for(date)` gives the name -> player_id resolver for that slate."""
    import pandas as pd

    from projections.archive_build import eastern_to_utc, parse_game_info

    if len(content) > DK_MAX_BYTES:  # refused before it is parsed: a 139 MB file took 46 s and 2 GB to refuse
        raise BadFile(f"{name}: more than {DK_MAX_BYTES // 2**20} MiB, more than {DK_WHAT}; {DK_FIX}")
    raw = csv_table(_dk_table(from_utf16(content)), name, "a DraftKings salary export", DK_COLUMNS, DK_FIX,
                    keep_default_na=False, na_values=[""])  # "N/A" in a cell is text to refuse, not a blank one
    if len(raw) > DK_MAX_ROWS:  # before the rows are checked one by one (seconds for a few MB of them)
        raise BadFile(f"{name}: {len(raw):,} players, more than any DraftKings slate lists (a 15-game slate has about "
                      f"540); {DK_FIX}")
    slots = set("/".join(raw["Roster Position"].dropna().astype(str)).split("/"))
    if {"CPT", "FLEX"} & slots or "UTIL" not in slots:
        raise BadFile(f"{name}: column 'Roster Position' lists {sorted(slots)[:8]}: a showdown or non-NBA-classic "
                      "slate; only classic NBA slates (PG/SG/SF/PF/C/G/F/UTIL) are projected")
    positions = column_values(raw, "Position", name, _slots(DK_POSITIONS), "a player's Position is one or more of "
                              f"{'/'.join(DK_POSITIONS)} (e.g. PG/SG); fix that row or export the file again")
    roster = column_values(raw, "Roster Position", name, _slots(DK_ROSTER_SLOTS), "a classic NBA Roster Position "
                           f"is one or more of {'/'.join(DK_ROSTER_SLOTS)} (e.g. PG/G/UTIL); fix that row or export "
                           "the file again")
    names = column_values(raw, "Name", name, _player_name, "every row names its player, in plain text")
    games = column_values(raw, "Game Info", name, parse_game_info,
                          "every row needs 'AWY@HOM MM/DD/YYYY HH:MMPM ET'; export the file before the slate "
                          "locks, or fix that row")
    days = sorted({g[2] for g in games})
    if len(days) != 1:
        raise BadFile(f"{name}: column 'Game Info' names several dates {[str(d) for d in days]}; a classic slate "
                      "is one date - split the file by date")
    day = days[0]
    resolve = resolve_for(day)
    teams = column_values(raw, "TeamAbbrev", name, team_code, "fix the team code or add the spelling to "
                          "projections/identity.py")
    salary = column_values(raw, "Salary", name, _salary, "Salary must be a whole number of dollars above 0 and within "
                           f"DraftKings' classic cap (${DK_CAP:,})")
    dk_id = column_values(raw, "ID", name, _dk_id, "ID must be DraftKings' numeric player id")
    opp = [g[1] if t == g[0] else g[0] for t, g in zip(teams, games, strict=True)]
    for row, (team, game) in enumerate(zip(teams, games, strict=True), start=2):
        if team not in game[:2]:
            raise BadFile(f"{name}: line {row}: TeamAbbrev {team} is not in its Game Info game {game[0]}@{game[1]}")
    slate_id = f"dk-{day.isoformat()}-{hashlib.sha256(content).hexdigest()[:8]}"
    avg = pd.to_numeric(raw["AvgPointsPerGame"], errors="coerce") if "AvgPointsPerGame" in raw else None
    frame = pd.DataFrame({
        "season": season_of(day), "game_date": day, "slate_id": slate_id, "source": "dk",
        "dk_id": pd.array(dk_id, dtype="Int64"),
        "player_id": [resolve(n, t) for n, t in zip(names, teams, strict=True)],
        "player_name": names, "team": teams, "opp": opp, "positions": positions, "roster_positions": roster,
        "salary": salary,
        "starter": pd.array([None] * len(raw), dtype="boolean"),
        "tip_time": pd.to_datetime([eastern_to_utc(g[2], g[3], g[4]) for g in games], utc=True),
        "avg_points": avg.astype(float) if avg is not None else float("nan"),
    })
    dup = frame["player_id"].duplicated(keep=False)
    if dup.any():
        raise BadFile(f"{name}: players {sorted(frame.loc[dup, 'player_name'])[:6]} appear twice; the export is "
                      "damaged - download it again")
    dup = frame["dk_id"].duplicated(keep=False)
    if dup.any():
        raise BadFile(f"{name}: players {sorted(frame.loc[dup, 'player_name'])[:6]} share DraftKings ID "
                      f"{frame.loc[dup, 'dk_id'].iloc[0]} (a lineup upload could not tell them apart); the export is "
                      "damaged - download it again")
    one_sided = sorted(f"{g[0]}@{g[1]}" for g in set(games) if not {g[0], g[1]} <= set(teams))
    if one_sided:
        raise BadFile(f"{name}: game(s) {', '.join(one_sided[:4])} list players of one team only (a classic export "
                      "lists both teams of every game): the file is cut short or filtered; " + DK_FIX)
    return day, frame


DK_FULL_TEAM = 8  # a whole export lists every rostered player: 11-18 a team in the real files


def dk_notes(frame: pd.DataFrame) -> list[str]:
    """What a person should know of a salary file that was taken: teams listing few players (a file cut at a
    line, or filtered) leave the rest of their players out of the projections."""
    sizes = frame.groupby("team").size()
    thin = sizes[sizes < DK_FULL_TEAM]
    if thin.empty:
        return []
    return [f"{', '.join(f'{t} ({n})' for t, n in thin.items())} list fewer than {DK_FULL_TEAM} players (a whole "
            "export lists every rostered player, 11-18 a team): the file may be cut short or filtered, and the "
            "players it leaves out are not projected"]


def _dk_table(content: bytes) -> bytes:
    """The salary table of a DraftKings file: the file itself, or the table inside a lineup-upload template (the
    CSV a contest's "Upload lineups" offers: roster slots and instructions on the left, the same player table as
    the salary export from its eighth line, eight columns in)."""
    lines = content.splitlines()
    if not lines or b"Instructions" not in lines[0]:
        return content
    for sep in (b",", b"\t"):  # the CSV, or a spreadsheet's tab-separated text of it
        for start, line in enumerate(lines[:40]):
            at = line.find(b"Position" + sep + b"Name + ID" + sep)
            if at > 0 and not line[:at].strip(sep + b" \xef\xbb\xbf"):
                skip = line[:at].count(sep)
                return b"\n".join(row.split(sep, skip)[-1] for row in lines[start:] if row.count(sep) >= skip) + b"\n"
    return content


def _dk_id(value: Any) -> int:
    """A DraftKings id: a whole number ("13663902", or "13663902.0" as a spreadsheet saves it), never a fraction cut
    to the id of another player."""
    number = float(value)
    if not number.is_integer():
        raise ValueError("not a whole number")
    if number <= 0:
        raise ValueError("not an id: DraftKings ids are above 0")
    if number >= 2**53:  # a float holds every whole number below 2**53 exactly, and not all above
        raise ValueError(f"too large to be a DraftKings id (theirs have 8 digits; from 2**53 = {2**53:,} on a "
                         "number cannot be held exactly, so it might name another player)")
    return int(number)


def _salary(value: Any) -> int:
    amount = float(value)
    if not amount.is_integer() or not 0 < amount <= DK_CAP:
        raise ValueError("not a salary")
    return int(amount)


def _slots(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    """A converter of "PG/SG" cells whose every part is one of `allowed`."""
    def convert(value: Any) -> str:
        text = str(value).strip()
        unknown = [p for p in text.split("/") if p not in allowed]
        if unknown:
            raise ValueError(f"{'/'.join(unknown)} is no NBA classic position")
        return text

    return convert


def dk_lock(frame: pd.DataFrame) -> dt.datetime:
    """The first tip of a DraftKings slate, from its Game Info."""
    import pandas as pd

    return pd.Timestamp(frame["tip_time"].min()).to_pydatetime()


def _player_name(value: Any) -> str:
    """A player's name: no spreadsheet formula (=, +, -, @ first: it would run when dk_projections.csv is opened)
    and no control character."""
    text = str(value).strip()
    if text[:1] in ("=", "+", "-", "@") or has_control(text):
        raise ValueError("a name that starts like a spreadsheet formula or holds a control character is no player's")
    return text

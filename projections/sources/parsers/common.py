"""What every stats.nba.com / cdn.nba.com parser shares: nba.com team ids, game types, the ContractViolation
for a payload that is not the promised shape, JSON and result-set decoding, UTC times and team tricodes.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from projections.errors import ContractViolation
from projections.identity import team_code

if TYPE_CHECKING:
    import pandas as pd

EASTERN = ZoneInfo("America/New_York")

# nba.com team ids (stable since 1610612737 ATL was assigned); checked against the TEAM_ID / TEAM_ABBREVIATION
# pairs of shared/data/nba/logs/nbacom in tests/sources/test_parsers.py
TEAM_IDS: dict[int, str] = {
    1610612737: "ATL", 1610612738: "BOS", 1610612739: "CLE", 1610612740: "NOP", 1610612741: "CHI",
    1610612742: "DAL", 1610612743: "DEN", 1610612744: "GSW", 1610612745: "HOU", 1610612746: "LAC",
    1610612747: "LAL", 1610612748: "MIA", 1610612749: "MIL", 1610612750: "MIN", 1610612751: "BKN",
    1610612752: "NYK", 1610612753: "ORL", 1610612754: "IND", 1610612755: "PHI", 1610612756: "PHX",
    1610612757: "POR", 1610612758: "SAC", 1610612759: "SAS", 1610612760: "OKC", 1610612761: "TOR",
    1610612762: "UTA", 1610612763: "MEM", 1610612764: "WAS", 1610612765: "DET", 1610612766: "CHA",
}  # fmt: skip
TEAM_ID_OF = {code: team_id for team_id, code in TEAM_IDS.items()}

# the third digit of an nba.com game id: 1 preseason, 2 regular season, 3 All-Star, 4 playoffs, 5 play-in,
# 6 NBA Cup final. Slates are built from the games that count.
SLATE_TYPES = {"2": False, "4": True, "5": True, "6": False}

# What a line can be, inclusive, for a closing-lines file (`projections ingest lines`) and the live odds feed alike:
# anything outside is a broken feed or a typo, never a real line.
SPREAD_RANGE = (-40.0, 40.0)  # a point spread, home or away
TOTAL_RANGE = (120.0, 330.0)  # a game total
MONEYLINE_RANGE = (-100_000.0, 100_000.0)  # an American moneyline


def bad(source: str, problem: str, fix: str = "") -> ContractViolation:
    """The ContractViolation for a `source` payload that is not the promised shape."""
    return ContractViolation(f"{source} payload: {problem}" + (f"; {fix}" if fix else ""), stage=source)


def load_json(content: bytes, source: str) -> Any:
    """The decoded body; ContractViolation for an empty, truncated or non-JSON body."""
    if not content.strip():
        raise bad(source, "empty body")
    if content.lstrip()[:1] == b"<":  # served with 200 by a proxy, a login wall or a block page
        import re

        title = re.search(rb"<title[^>]*>([^<]{1,80})", content, re.IGNORECASE)
        said = f" titled {title.group(1).decode(errors='replace').strip()!r}" if title else ""
        raise bad(source, f"an HTML page{said} ({len(content)} bytes), not JSON - an error, login or block page "
                          "in front of the endpoint")
    try:
        return json.loads(content)
    except ValueError as exc:
        raise bad(source, f"not valid JSON ({len(content)} bytes, {exc}) - truncated or an error page") from None
    except RecursionError:
        raise bad(source, f"JSON nested too deeply to decode ({len(content)} bytes) - no real payload is; a broken "
                          "or hostile answer") from None


def result_set(body: Any, name: str, source: str, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a stats.nba.com result set as dicts; ContractViolation naming what is missing."""
    headers, rows = _headers_and_rows(body, name, source, required)
    return [dict(zip(headers, row, strict=False)) for row in rows]


def result_frame(body: Any, name: str, source: str) -> pd.DataFrame:
    """A stats.nba.com result set as a frame whose columns are its headers, rows or none (a log of a season
    before its first game has the columns and no row); ContractViolation naming what is missing."""
    import pandas as pd

    headers, rows = _headers_and_rows(body, name, source, ())
    return pd.DataFrame([dict(zip(headers, row, strict=False)) for row in rows], columns=headers)


def _headers_and_rows(body: Any, name: str, source: str, required: tuple[str, ...]) -> tuple[list[Any], list[Any]]:
    sets = body.get("resultSets") if isinstance(body, dict) else None
    if isinstance(sets, dict):  # some endpoints answer with a single resultSet object
        sets = [sets]
    if not isinstance(sets, list):
        raise bad(source, "no 'resultSets' list")
    found = next((s for s in sets if isinstance(s, dict) and s.get("name") == name), None)
    if found is None:
        raise bad(source, f"no result set {name!r} (has {[s.get('name') for s in sets if isinstance(s, dict)]})")
    headers, rows = found.get("headers"), found.get("rowSet")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise bad(source, f"result set {name!r} lacks headers/rowSet")
    missing = [h for h in required if h not in headers]
    if missing:
        raise bad(source, f"result set {name!r} lacks columns {missing} (has {headers})")
    return headers, rows


def game_type(game_id: str) -> str:
    """The third digit of a 10-digit nba.com game id (see SLATE_TYPES); "" for anything else."""
    return game_id[2:3] if len(game_id) == 10 and game_id.isdigit() else ""


def utc(value: str) -> dt.datetime:
    """An ISO time ("...Z" or with an offset) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def team_of(side: Any, source: str) -> str:
    """The nba.com team code of a game side ({"teamTricode": ...}); ContractViolation when it has none."""
    if not isinstance(side, dict) or not side.get("teamTricode"):
        raise bad(source, f"a game has no team tricode ({side!r:.80})")
    try:
        return team_code(side["teamTricode"])
    except ValueError as exc:
        raise bad(source, str(exc)) from None

"""Identity conventions shared by every source: team codes, person-name keys and DraftKings scoring.

Pure functions, standard library only (no I/O, no pandas/numpy imports): the same code runs on one value and,
for `dk_points`, on whole numpy arrays or pandas Series, because it only uses arithmetic and comparisons.

- `team_code(raw)` maps every team spelling found in the real sources (DraftKings, Basketball-Reference,
  rotoguru, the lowercase odds file, sportsbookreviewsonline, the official injury report) to the nba.com code.
- `name_key(name)` is the join key for people across sources (accents, case, punctuation, suffixes removed),
  with `NAME_ALIASES` for the few real mismatches the joins in `projections/archive_build/` could not make.
- `dk_points(...)` is DraftKings classic NBA scoring.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

NBA_TEAMS: tuple[str, ...] = (
    "ATL", "BKN", "BOS", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW", "HOU", "IND", "LAC", "LAL", "MEM",
    "MIA", "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX", "POR", "SAC", "SAS", "TOR", "UTA", "WAS",
)

# Spellings other than the nba.com code itself, keyed by `_team_token` (lowercase, letters and digits only).
# Where each one was seen: dk = DraftKings TeamAbbrev / Game Info, bbref = Basketball-Reference, rg = rotoguru,
# odds = odds/nba_2008-2025_raw.csv, sbr = odds/sbr_2019-20.csv, inj = official injury report team names.
_TEAM_SPELLINGS: dict[str, tuple[str, ...]] = {
    "ATL": ("atlanta", "atlantahawks"),
    "BKN": ("brk", "brooklyn", "brooklynnets", "njn"),
    "BOS": ("boston", "bostonceltics"),
    "CHA": ("cho", "charlotte", "charlottehornets"),
    "CHI": ("chicago", "chicagobulls"),
    "CLE": ("cleveland", "clevelandcavaliers"),
    "DAL": ("dallas", "dallasmavericks"),
    "DEN": ("denver", "denvernuggets"),
    "DET": ("detroit", "detroitpistons"),
    "GSW": ("gs", "goldenstate", "goldenstatewarriors"),
    "HOU": ("houston", "houstonrockets"),
    "IND": ("indiana", "indianapacers"),
    "LAC": ("laclippers", "losangelesclippers"),
    "LAL": ("lalakers", "losangeleslakers"),
    "MEM": ("memphis", "memphisgrizzlies"),
    "MIA": ("miami", "miamiheat"),
    "MIL": ("milwaukee", "milwaukeebucks"),
    "MIN": ("minnesota", "minnesotatimberwolves"),
    "NOP": ("no", "nor", "neworleans", "neworleanspelicans"),
    "NYK": ("ny", "newyork", "newyorkknicks"),
    "OKC": ("oklahomacity", "oklahomacitythunder"),
    "ORL": ("orlando", "orlandomagic"),
    "PHI": ("philadelphia", "philadelphia76ers"),
    "PHX": ("pho", "phoenix", "phoenixsuns"),
    "POR": ("portland", "portlandtrailblazers"),
    "SAC": ("sacramento", "sacramentokings"),
    "SAS": ("sa", "sanantonio", "sanantoniospurs"),
    "TOR": ("toronto", "torontoraptors"),
    "UTA": ("utah", "utahjazz"),
    "WAS": ("wsh", "washington", "washingtonwizards"),
}


def _team_token(raw: str) -> str:
    return re.sub(r"[^a-z0-9]", "", raw.lower())


def _build_team_table() -> dict[str, str]:
    table = {code.lower(): code for code in NBA_TEAMS}
    for code, spellings in _TEAM_SPELLINGS.items():
        for spelling in spellings:
            if table.setdefault(spelling, code) != code:
                raise ValueError(f"team spelling {spelling!r} maps to two codes; fix _TEAM_SPELLINGS")
    return table


_TEAM_TABLE = _build_team_table()


def team_code(raw: str) -> str:
    """The nba.com three-letter code for any team spelling seen in the sources ("GS", "utah", "LA Clippers").

    Raises ValueError for an unknown spelling.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"team_code: expected a team name or code, got {raw!r}")
    code = _TEAM_TABLE.get(_team_token(raw))
    if code is None:
        raise ValueError(
            f"unknown team spelling {raw!r}; add it to _TEAM_SPELLINGS in projections/identity.py "
            f"under the nba.com code it stands for"
        )
    return code


_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})

# name_key -> name_key of the name the same person goes by elsewhere (nba.com / Basketball-Reference).
# Only pairs the archive joins actually missed; each comment says which source used the left-hand name.
NAME_ALIASES: dict[str, str] = {
    # Basketball-Reference name (2018-20 logs) -> stats.nba.com name, found by matching box-score lines
    "taurean waller prince": "taurean prince",
    "juan hernangomez": "juancho hernangomez",
    "enes kanter": "enes freedom",  # nba.com shows the name he took in 2021
    "mohamed bamba": "mo bamba",
    "wesley iwundu": "wes iwundu",
    "sviatoslav mykhailiuk": "svi mykhailiuk",
    "vince edwards": "vincent edwards",
    "nene hilario": "nene",
    "mitch creek": "mitchell creek",
    "cameron reynolds": "cam reynolds",
    "nicolas claxton": "nic claxton",
    # DraftKings / rotoguru name -> stats.nba.com name, for names neither the box scores nor
    # misc/player_map.csv resolve
    "moe harkless": "maurice harkless",
    "guillermo hernangomez": "willy hernangomez",
    "luc richard mbah a moute": "luc mbah a moute",
    "jose barea": "jj barea",
    "sheldon mcclellan": "sheldon mac",
    # injury report 2020-12 ("Martin Jr., Kenyon"); his father Kenyon Martin retired in 2015
    "kenyon martin": "kj martin",
}


def _check_aliases(aliases: dict[str, str]) -> dict[str, str]:
    out = {}
    for src, dst in aliases.items():
        if src == dst:
            continue
        if dst in aliases and aliases[dst] != dst:
            raise ValueError(f"NAME_ALIASES chains {src!r} -> {dst!r} -> {aliases[dst]!r}; point it at the end")
        out[src] = dst
    return out


_ALIASES = _check_aliases(NAME_ALIASES)


def name_key(name: str) -> str:
    """Join key for a person's name: no accents, lowercase, no punctuation, no Jr/Sr/II/III/IV, single spaces.

    "Luka Dončić" -> "luka doncic", "Marvin Bagley III" -> "marvin bagley", "D'Angelo Russell" ->
    "dangelo russell", "P.J. Tucker" -> "pj tucker", "Karl-Anthony Towns" -> "karl anthony towns".
    Raises ValueError for an empty name.
    """
    if not isinstance(name, str):
        raise ValueError(f"name_key: expected a person's name, got {name!r}")
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['’`.]", "", text)  # D'Angelo -> dangelo, P.J. -> pj
    text = re.sub(r"[^a-z0-9]+", " ", text)  # hyphens, commas, slashes -> space
    tokens = [t for t in text.split() if t not in _SUFFIXES]
    if not tokens:
        raise ValueError(f"name_key: {name!r} has no letters left after normalising; it is not a name")
    return " ".join(tokens)


def canonical_key(name: str) -> str:
    """`name_key` with `NAME_ALIASES` applied: the key to join a person on across sources."""
    key = name_key(name)
    return _ALIASES.get(key, key)


def split_bbref(player: str) -> tuple[str, str]:
    """Split Basketball-Reference's `Name\\slug` ("LeBron James\\jamesle01") into (name, slug)."""
    name, sep, slug = player.rpartition("\\")
    if not sep or not name.strip() or not slug.strip():
        raise ValueError(f"split_bbref: {player!r} is not 'Name\\slug' (a Basketball-Reference Player cell)")
    return name.strip(), slug.strip()


def flip_last_first(name: str) -> str:
    """"Bagley III, Marvin" -> "Marvin Bagley III" (the injury report's `Last, First`); other names unchanged."""
    last, sep, first = name.partition(",")
    if not sep:
        return " ".join(name.split())
    return " ".join(f"{first.strip()} {last.strip()}".split())


DK_WEIGHTS: dict[str, float] = {
    "pts": 1.0, "fg3m": 0.5, "reb": 1.25, "ast": 1.5, "stl": 2.0, "blk": 2.0, "tov": -0.5,
}
DOUBLE_DOUBLE_BONUS = 1.5
TRIPLE_DOUBLE_BONUS = 3.0


def dk_points(pts: Any, fg3m: Any, reb: Any, ast: Any, stl: Any, blk: Any, tov: Any) -> Any:
    """DraftKings classic NBA fantasy points; scalars, numpy arrays or pandas Series (same type out).

    PTS 1, 3PM 0.5, REB 1.25, AST 1.5, STL 2, BLK 2, TOV -0.5; +1.5 for a double-double (10+ in two of
    PTS/REB/AST/BLK/STL) and a further +3 for a triple-double (three or more), so a triple-double earns
    4.5 in bonuses: DraftKings lists both bonuses and the triple-double one comes on top. The archive
    checks this against DraftKings' own AvgPointsPerGame (see tests/test_identity.py).
    """
    base = (pts * DK_WEIGHTS["pts"] + fg3m * DK_WEIGHTS["fg3m"] + reb * DK_WEIGHTS["reb"]
            + ast * DK_WEIGHTS["ast"] + stl * DK_WEIGHTS["stl"] + blk * DK_WEIGHTS["blk"]
            + tov * DK_WEIGHTS["tov"])
    tens = (pts >= 10) * 1 + (reb >= 10) * 1 + (ast >= 10) * 1 + (stl >= 10) * 1 + (blk >= 10) * 1
    return base + (tens >= 2) * DOUBLE_DOUBLE_BONUS + (tens >= 3) * TRIPLE_DOUBLE_BONUS

"""SOURCES.md of the shipped archive: what each table is, its parts (rows, bytes), the source files it was
built from (with their origin from shared/data/nba/PROVENANCE.csv), the build notes and the known quirks.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from projections.archive_build.common import TABLE_NAMES, Report

_RENAMED = {"sbr_2019-20.csv": "nba odds 2019-20.csv"}  # local name -> the name PROVENANCE.csv records
_ABOUT = {
    "player_logs": "Basketball-Reference game-finder exports (every game incl. the 2020 bubble and playoffs) "
                   "joined to stats.nba.com LeagueGameLog rows for `player_id`, `game_id` and `plus_minus`; "
                   "box-score numbers are Basketball-Reference's. `started` = bbref `GS`; `stats_source` says "
                   "whether an nba.com row was paired. Games without an nba.com GAME_ID (playoffs, bubble) get "
                   "`<date>-<away>@<home>`; `plus_minus` is null there (bbref exports have no +/-).",
    "schedule": "One row per game of player_logs, plus December 2020 games from the odds file (2020-21 part). "
                "`tip_time` from DraftKings Game Info where a DK file covers the game (`dk`), else from the "
                "official injury report's game time (`injury_report`, bubble and December 2020), else 19:00 "
                "US/Eastern (`default`).",
    "salaries": "rotoguru daily DraftKings salaries (`slate_id` rotoguru-<date>, no DK ids; `positions` derived "
                "from rotoguru's roster-slot list) and every real DraftKings classic export up to 2020-12-31 "
                "(`slate_id` dk-<date>-<8 hex of the file>, `dk_id`, `tip_time`, `avg_points`).",
    "odds": "Closing lines from the Kaggle 2007-2025 file; `spread_home` < 0 when the home team is favoured. "
            "Cross-checked against, and completed from, sportsbookreviewsonline 2019-20.",
    "injuries": "Official NBA injury reports (tables parsed from the PDFs) for 2020-07-30 .. 08-12 (bubble) and "
                "2020-12-22 .. 12-29; `report_time` from the file name (US/Eastern, stored UTC).",
    "players": "Identity map: every name a player goes by in any source, with the `player_id` every table uses "
               "(stats.nba.com id, else `bbref:<slug>`, else `name:<name_key>`).",
}


_QUIRKS = {
    "player_logs": [
        "Basketball-Reference names carry diacritics (`Luka Dončić`), nba.com names do not; nba.com now shows "
        "Enes Kanter as `Enes Freedom` (the name he took in 2021); ten more players go by a different first name "
        "in the two sources (see NAME_ALIASES in projections/identity.py).",
        "The 2020-08-15 MEM@POR play-in game is missing from the Basketball-Reference export, so it has a "
        "schedule and odds row but no box scores.",
        "Both sources give whole minutes; `minutes` is a float for the day a source gives seconds.",
    ],
    "schedule": [
        "Bubble games (2020-07-30 .. 10-11) were at a neutral site; `home_team` is the designated home team.",
        "`default` tip times (19:00 ET) are placeholders: most bubble games tipped at other times.",
        "Postponed games (2020-03-11 UTA@OKC, NOP@SAC) are not in the schedule; rotoguru still lists them.",
    ],
    "salaries": [
        "rotoguru `position` is the DK roster-slot list (`G/PG/SG/UTIL`); `positions` keeps the primary ones in "
        "DK order (`PG/SG`) and `roster_positions` is rebuilt in DK's format (`PG/SG/G/UTIL`).",
        "The DK file named `DKSalaries-july29` holds the 2020-07-30 slate (its Game Info says 07/30/2020).",
        "Two DK files on the same day can be different slates (2020-08-10 early and main): each keeps its own "
        "`slate_id`; copies that differ only in team spellings (NY vs NYK) or line endings are dropped.",
    ],
    "odds": [
        "The Kaggle file gives an unsigned `spread` plus `whos_favored`; moneylines are present for every game "
        "in this range (the file lacks them only from 2023-01-17 on).",
    ],
    "injuries": [
        "Blank cells repeat the value above (Game Date, Game Time, Matchup, Team are forward-filled within a "
        "report); `Player Name` is `Last, First` and is flipped; `Game Time` is printed without AM/PM.",
        "Teams that had not submitted their report appear as `NOT YET SUBMITTED` lines without a player.",
    ],
    "players": [
        "misc/player_map.csv carries a third party's fuzzy matches; entries that contradict the box scores are "
        "rejected (listed above). Player ids for names no box score knows come from stats.nba.com "
        "commonallplayers (careers touching 2015-2024, unique names only).",
    ],
}


def _provenance(src: Path) -> dict[str, list[dict[str, str]]]:
    rows = pd.read_csv(src / "PROVENANCE.csv", dtype=str).fillna("")
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows.to_dict("records"):
        found[Path(row["local_path"]).name].append(row)
    return found


def render_sources(src: Path, out: Path, counts: dict[str, dict[str, int]], report: Report) -> str:
    """The text of SOURCES.md; `counts` gives rows per part, the part files in `out` give their sizes."""
    prov = _provenance(src)
    lines = ["# Sources of the shipped archive", "",
             "Generated by `python -m projections.archive_build` from `shared/data/nba` (real public data, "
             "copied unchanged from public repositories; origins in its PROVENANCE.csv). Do not edit by hand: "
             "rerun the build. Parquet is zstd, rows sorted, no pandas metadata; two builds are byte-identical.",
             ""]
    for table in TABLE_NAMES:
        lines += [f"## {table}", "", _ABOUT[table], "", "| part | rows | bytes |", "|---|---|---|"]
        for part, rows in counts[table].items():
            size = (out / table / f"{part}.parquet").stat().st_size
            lines.append(f"| {table}/{part}.parquet | {rows} | {size} |")
        lines += ["", "Files (path under shared/data/nba -> origin repository, path, commit, license):", ""]
        groups: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for rel in sorted(report.files[table]):
            name = Path(rel).name
            entries = prov.get(_RENAMED.get(name, name), [])
            if entries:
                first = entries[0]
                origin = (first["origin_repo"], str(Path(first["origin_path"]).parent) + "/",
                          first["commit"], first["license"])
            else:
                origin = ("(not in PROVENANCE.csv)", "", "", "")
            groups[origin].append(rel + (f" (recorded as '{_RENAMED[name]}')" if name in _RENAMED else ""))
        for (repo, folder, commit, lic), rels in sorted(groups.items()):
            shown = rels if len(rels) <= 3 else [rels[0], f"... {len(rels) - 2} more ...", rels[-1]]
            lines.append(f"- {repo} `{folder}` @ {commit} ({lic}): {len(rels)} file(s): "
                         + "; ".join(f"`{r}`" for r in shown))
        lines += ["", "Build notes (join rates, gaps, quirks):", ""]
        lines += [f"- {note}" for note in report.notes.get(table, [])]
        lines += [f"- {quirk}" for quirk in _QUIRKS[table]]
        lines.append("")
    return "\n".join(lines)

"""Build the shipped archive `projections/data/archive/` from the real public data in shared/data/nba.

    python -m projections.archive_build [--src ../shared/data/nba] [--out projections/data/archive]
                                        [--tables odds,schedule,...]

Tables (contracts in projections/schema.py): player_logs, schedule, salaries, odds, injuries (one parquet a
season: 2018-19, 2019-20 and a small 2020-21 part for December 2020) and players/all.parquet. Every table is
checked against its contract before anything is written; parquet is written deterministically (fixed column
order and arrow types, sorted rows, no pandas metadata, zstd), so two builds give byte-identical files.
SOURCES.md records where each table came from, its row counts, join rates and the data quirks found.

    common.py       paths, seasons, US/Eastern -> UTC, the Report of notes, read_csv
    player_logs.py  bbref + stats.nba.com logs, paired row by row (join_logs); the player_logs table
    players.py      the identity join (People: one player_id per person across every table); the players table
    odds.py         Kaggle closing lines, cross-checked against and completed from sbr 2019-20
    salaries.py     rotoguru and DraftKings salary files (parse_game_info reads DK's Game Info)
    injuries.py     the official injury reports (read_report: one report table as the PDF prints it)
    schedule.py     one row per game, with tip times from DK, the injury reports or a default
    write.py        deterministic, contract-checked parquet parts (arrow types and sort keys)
    sources_md.py   SOURCES.md
    assemble.py     build(): every table in dependency order
    cli.py          main(): the command line; __main__.py runs it

projections/sources/ reuses the readers (`eastern_to_utc`, `parse_game_info`, `read_report`) and the writing
conventions (`arrow_schema`, `ARROW`, `SORT`) so live snapshots and ingested files match the archive.
"""

from __future__ import annotations

from projections.archive_build.assemble import build
from projections.archive_build.cli import main
from projections.archive_build.common import (
    DEFAULT_OUT,
    DEFAULT_SRC,
    LAST_DAY,
    SEASONS,
    TABLE_NAMES,
    Report,
    eastern_to_utc,
    season_of,
)
from projections.archive_build.injuries import build_injuries, read_report
from projections.archive_build.odds import build_odds
from projections.archive_build.player_logs import build_player_logs, join_logs
from projections.archive_build.players import People, build_people, build_players
from projections.archive_build.salaries import DkSlate, build_salaries, parse_game_info, roster_positions_of
from projections.archive_build.schedule import build_schedule
from projections.archive_build.sources_md import render_sources
from projections.archive_build.write import ARROW, SORT, arrow_schema, write_part

__all__ = [
    "ARROW", "DEFAULT_OUT", "DEFAULT_SRC", "LAST_DAY", "SEASONS", "SORT", "TABLE_NAMES", "DkSlate", "People",
    "Report", "arrow_schema", "build", "build_injuries", "build_odds", "build_people", "build_player_logs",
    "build_players", "build_salaries", "build_schedule", "eastern_to_utc", "join_logs", "main", "parse_game_info",
    "read_report", "render_sources", "roster_positions_of", "season_of", "write_part",
]

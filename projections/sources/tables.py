"""Canonical tables of the live side, and one deterministic parquet encoding for every snapshot and part.

The tables of projections/schema.py are what stages read; live sources add two the archive has no history
for: `rosters` (stats.nba.com commonteamroster) and `lineups` (cdn.nba.com liveData boxscore: starters and
who is not playing, and why). A snapshot's data.parquet uses the same arrow types, column order and row order
as the shipped archive (projections/archive_build/), so a snapshot and an archive part of one table load
into the same dtypes and the same logical table always gives the same bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from projections import schema
from projections.contracts import Contract

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

ROSTERS = Contract(
    description="players on a team's roster when captured (commonteamroster)",
    columns={"season": "str", "game_date": "date", "team": "str", "player_id": "str", "player_name": "str",
             "position": "any", "jersey": "any", "how_acquired": "any"},
    non_null=("season", "game_date", "team", "player_id", "player_name"),
    unique=("team", "player_id"),
)

LINEUPS = Contract(
    description="one row per player listed in a game's live box score: starter flag and why not playing",
    columns={"season": "str", "game_date": "date", "game_id": "str", "team": "str", "player_id": "str",
             "player_name": "str", "starter": "bool", "status": "str", "not_playing_reason": "any",
             "not_playing_description": "any", "position": "any"},
    non_null=("season", "game_date", "game_id", "team", "player_id", "player_name", "starter", "status"),
    unique=("game_id", "player_id"),
)

TABLES: dict[str, Contract] = {**schema.TABLES, "rosters": ROSTERS, "lineups": LINEUPS}

_ANY = {"position": "str", "jersey": "str", "how_acquired": "str", "not_playing_reason": "str",
        "not_playing_description": "str"}
_SORT = {"rosters": ["team", "player_id"], "lineups": ["game_id", "team", "player_id"]}


def arrow_schema(table: str) -> pa.Schema:
    import pyarrow as pa

    from projections import archive_build

    if table in schema.TABLES:
        return archive_build.arrow_schema(table)
    kinds = {c: (_ANY[c] if k == "any" else k) for c, k in TABLES[table].columns.items()}
    return pa.schema([pa.field(c, archive_build.ARROW[k]) for c, k in kinds.items()])


def sort_keys(table: str) -> list[str]:
    from projections import archive_build

    return archive_build.SORT.get(table) or _SORT[table]


def check(frame: pd.DataFrame, table: str, *, origin: str, fix: str) -> None:
    """ContractViolation unless `frame` is a well-formed `table` (columns, dtypes, nulls, keys)."""
    TABLES[table].check(frame, stage=f"source {table}", role="parsed table", origin=origin, fix=fix)


def to_parquet(frame: pd.DataFrame, table: str) -> bytes:
    """The canonical bytes of `frame` as `table`: fixed column order and arrow types, sorted rows, zstd."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_types = arrow_schema(table)
    for name in arrow_types.names:
        if name not in frame.columns:
            frame = frame.assign(**{name: None})
    frame = frame[arrow_types.names].sort_values(sort_keys(table), kind="mergesort").reset_index(drop=True)
    arrow = pa.Table.from_pandas(frame, schema=arrow_types, preserve_index=False).replace_schema_metadata(None)
    sink = io.BytesIO()
    pq.write_table(arrow, sink, compression="zstd", compression_level=9)
    return sink.getvalue()

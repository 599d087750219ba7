"""Deterministic parquet for archive parts: contract-checked, fixed column order and arrow types, rows sorted,
no pandas metadata, zstd; written to a temp name and renamed, so two builds give byte-identical files.

`ARROW` (contract kind -> arrow type), `arrow_schema` and `SORT` are shared with projections/sources/tables.py,
so a live snapshot and an archive part of one table are written alike.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from projections import schema
from projections.archive_build.common import STAGE
from projections.errors import ContractViolation

ARROW = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
          "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
_ANY_TYPES = {"started": "bool", "dk_id": "int", "opp": "str", "starter": "bool", "tip_time": "timestamp",
              "avg_points": "float", "bbref_slug": "str", "nba_id": "str"}
_EXTRA = {"player_logs": {"stats_source": "str"}, "odds": {"source": "str"}, "injuries": {"matchup": "str"}}
SORT = {"player_logs": ["game_date", "game_id", "team", "player_id"], "schedule": ["game_date", "game_id"],
        "salaries": ["game_date", "slate_id", "player_id"], "odds": ["game_date", "home_team"],
        "injuries": ["report_time", "team", "player_id"], "players": ["player_id", "source", "player_name"]}


def arrow_schema(table: str) -> pa.Schema:
    """The arrow schema a part of `table` is written with: its contract's columns, then the extra ones."""
    kinds = {c: (_ANY_TYPES[c] if k == "any" else k) for c, k in schema.TABLES[table].columns.items()}
    kinds.update(_EXTRA.get(table, {}))
    return pa.schema([pa.field(c, ARROW[k]) for c, k in kinds.items()])


def write_part(frame: pd.DataFrame, table: str, part: str, out: Path, origin: str) -> Path:
    """Check `frame` against the table's contract, then write it as deterministic parquet; returns the path."""
    target = arrow_schema(table)
    fix = f"fix projections/archive_build/ (build_{table}) or the contract in projections/schema.py"
    schema.TABLES[table].check(frame, stage=STAGE, role=f"output {table}/{part}", origin=origin, fix=fix)
    missing = [c for c in target.names if c not in frame.columns]
    if missing:
        raise ContractViolation(f"{STAGE}: output {table}/{part} {origin}: missing extra columns {missing}; {fix}",
                                stage=STAGE, columns=tuple(missing))
    frame = frame[target.names].sort_values(SORT[table], kind="mergesort").reset_index(drop=True)
    arrow = pa.Table.from_pandas(frame, schema=target, preserve_index=False).replace_schema_metadata(None)
    path = out / table / f"{part}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(arrow, tmp, compression="zstd", compression_level=9)
    tmp.replace(path)
    schema.TABLES[table].check(pd.read_parquet(path), stage=STAGE, role=f"written {table}/{part}",
                               origin=str(path), fix=fix)
    return path


def write_by_season(frame: pd.DataFrame, table: str, out: Path, origin: str) -> dict[str, int]:
    """One part per season of `frame`; returns rows per part."""
    counts = {}
    for season, part in sorted(frame.groupby("season"), key=lambda kv: kv[0]):
        write_part(part, table, str(season), out, origin)
        counts[str(season)] = len(part)
    return counts

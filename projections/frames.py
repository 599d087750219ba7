"""Frames <-> bytes, deterministically: the same frame always gives the same parquet bytes.

Parquet is written by pyarrow with fixed settings (zstd, no index, one row group for tables that fit) so
that a rerun producing the same logical table produces the same object hash. pandas and pyarrow are
imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.errors import ContractViolation

if TYPE_CHECKING:
    import pandas as pd

    from projections.pipeline import StageLike

ROW_GROUP = 1 << 20


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", row_group_size=ROW_GROUP, write_statistics=True)
    return sink.getvalue()


def read_parquet(path: Path | str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def read_parquet_bytes(data: bytes) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(data)).to_pandas()


def is_frame(value: object) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def stage_outputs(stage: StageLike, result: object) -> dict[str, Any]:
    if is_frame(result):
        return {stage.main: result}
    if isinstance(result, Mapping):
        bad = {k: type(v).__name__ for k, v in result.items()
               if not (is_frame(v) or isinstance(v, bytes | str))}
        if bad:
            raise ContractViolation(f"{stage.name}: outputs must be DataFrames, bytes or str, got {bad}",
                                    stage=stage.name)
        return {k: v.encode() if isinstance(v, str) else v for k, v in result.items()}
    raise ContractViolation(
        f"{stage.name}: {stage.func.__qualname__} returned a {type(result).__name__}; return a DataFrame "
        "or a mapping of file name -> DataFrame/bytes", stage=stage.name)

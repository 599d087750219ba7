"""Frames <-> bytes, deterministically: the same frame always gives the same parquet bytes.

Parquet is written by pyarrow with fixed settings (zstd, no index, one row group for tables that fit) so
that a rerun producing the same logical table produces the same object hash. pandas and pyarrow are
imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

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

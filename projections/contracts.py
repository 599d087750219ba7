"""Contracts: the shape a frame must have where it crosses a stage boundary.

A contract names its columns with a dtype kind, the columns that must not hold nulls, the columns whose
combination must be unique, and a minimum row count. `Contract.check` raises `ContractViolation` with a
message naming the stage, the object the frame came from, the offending columns or rows, and the fix.
pandas is imported lazily so that declaring a contract costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.errors import ContractViolation

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("str", "int", "float", "bool", "date", "timestamp", "any")


_NUMPY_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float", "M": "timestamp", "c": "any", "m": "any"}


def _kind_of(series: pd.Series) -> str:
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    # the common dtypes told apart without pandas' dtype predicates (each ~5 us, and a check asks them of every
    # column of every frame a build reads and writes: 5.6 ms for the 44 columns of a rosters frame, 9% of a
    # cold backfill's builds); the same answers as the general path below
    if isinstance(dtype, np.dtype) and dtype.kind in _NUMPY_KINDS:
        return _NUMPY_KINDS[dtype.kind]
    if isinstance(dtype, pd.StringDtype):  # its values are str: "str" unless all null
        return "empty" if series.array.isna().all() else "str"
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        arrow = dtype.pyarrow_dtype
        if pa.types.is_date(arrow):
            return "date"
        if pa.types.is_timestamp(arrow):
            return "timestamp"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        sample = series.dropna()
        if len(sample) == 0:
            return "empty"  # an all-null object column fits any kind
        first = sample.iloc[0]
        import datetime as _dt

        if isinstance(first, _dt.datetime):
            return "timestamp"
        if isinstance(first, _dt.date):
            return "date"
        if isinstance(first, str):
            return "str"
        if isinstance(first, bool):
            return "bool"
        return "any"
    return "any"


def _compatible(actual: str, wanted: str) -> bool:
    if wanted == "any" or actual in (wanted, "empty"):
        return True
    # an all-integer float column and an integer column are interchangeable only one way:
    # ints may stand where floats are wanted (pandas upcasts on the first NaN anyway).
    return wanted == "float" and actual == "int"


@dataclass(frozen=True)
class Contract:
    """The promised shape of one table."""

    columns: Mapping[str, str]
    non_null: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    min_rows: int = 0
    description: str = ""
    extra_columns_ok: bool = True

    def __post_init__(self) -> None:
        bad = {c: k for c, k in self.columns.items() if k not in KINDS}
        if bad:
            raise ValueError(f"unknown dtype kinds {bad}; use one of {KINDS}")
        for col in (*self.non_null, *self.unique):
            if col not in self.columns:
                raise ValueError(f"contract names column {col!r} that is not declared in columns")

    def restricted(self, columns: tuple[str, ...]) -> Contract:
        """This contract over a subset of its columns (for a source that loads only those)."""
        unknown = [c for c in columns if c not in self.columns]
        if unknown:
            raise ValueError(f"columns {unknown} are not in the contract ({list(self.columns)})")
        keep = set(columns)
        return Contract(columns={c: k for c, k in self.columns.items() if c in keep},
                        non_null=tuple(c for c in self.non_null if c in keep),
                        unique=self.unique if set(self.unique) <= keep else (),
                        min_rows=self.min_rows, description=self.description,
                        extra_columns_ok=self.extra_columns_ok)

    def check(self, frame: Any, *, stage: str, role: str, origin: str, fix: str) -> None:
        """Raise ContractViolation unless `frame` keeps this contract.

        `role` says which frame this is ("output", or "input 'game_logs'"); `origin` names the object or
        inputs it came from; `fix` is the sentence telling a person what to do about it.
        """
        import pandas as pd

        where = f"{stage}: {role} {origin}".rstrip()
        if not isinstance(frame, pd.DataFrame):
            raise ContractViolation(
                f"{where} is a {type(frame).__name__}, not a DataFrame; {fix}", stage=stage
            )
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ContractViolation(
                f"{where}: missing columns {missing} (has {sorted(map(str, frame.columns))}); {fix}",
                stage=stage,
                columns=tuple(missing),
            )
        mistyped = {
            c: f"{_kind_of(frame[c])} (wanted {k})"
            for c, k in self.columns.items()
            if not _compatible(_kind_of(frame[c]), k)
        }
        if mistyped:
            raise ContractViolation(
                f"{where}: wrong dtypes {mistyped}; {fix}", stage=stage, columns=tuple(mistyped)
            )
        if not self.extra_columns_ok:
            extra = [str(c) for c in frame.columns if c not in self.columns]
            if extra:
                raise ContractViolation(
                    f"{where}: unexpected columns {extra}; {fix}", stage=stage, columns=tuple(extra)
                )
        for col in self.non_null:
            nulls = frame[col].isna()
            if nulls.any():
                rows = list(frame.index[nulls][:5])
                raise ContractViolation(
                    f"{where}: {int(nulls.sum())} null value(s) in column {col!r} (first rows {rows}); {fix}",
                    stage=stage,
                    columns=(col,),
                )
        if self.unique and len(frame):
            dup = frame.duplicated(list(self.unique), keep=False)
            if dup.any():
                sample = frame.loc[dup, list(self.unique)].head(4).to_dict("records")
                raise ContractViolation(
                    f"{where}: {int(dup.sum())} rows share the key {list(self.unique)} "
                    f"(e.g. {sample}); {fix}",
                    stage=stage,
                    columns=self.unique,
                )
        if len(frame) < self.min_rows:
            raise ContractViolation(
                f"{where}: {len(frame)} rows, fewer than the {self.min_rows} this table needs; {fix}",
                stage=stage,
            )

"""What a build reads and writes around the stage function: its inputs, checked against their contracts on the
way in, the provenance it records, and the store writes whose OS errors are the data root's problem.

The engine plans and orders; this module is the I/O of one build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.errors import StageError, StoreError
from projections.hashing import short
from projections.ledger import iso
from projections.pipeline import Pipeline, StageLike
from projections.plan import Plan
from projections.store import LocalStore

if TYPE_CHECKING:
    import pandas as pd


def load_inputs(pipeline: Pipeline, store: LocalStore, plan: Plan) -> dict[str, pd.DataFrame]:
    """The frames a stage function is called with: its upstream stages' main outputs and its sources' data,
    each checked against the contract it was made to (a damaged or drifted input fails here, naming the fix)."""
    from projections.frames import read_parquet

    stage = pipeline[plan.stage]
    frames: dict[str, pd.DataFrame] = {}
    for upstream in stage.inputs:
        obj = plan.inputs[upstream]
        store.check(obj)
        up_stage = pipeline[upstream]
        frame = read_parquet(store.path(obj, up_stage.main))
        if up_stage.contract is not None:
            up_stage.contract.check(
                frame, stage=plan.stage, role=f"input {upstream!r}", origin=f"(object {short(obj)})",
                fix=f"rebuild it with `doit {upstream} date={plan.game_date}` or fix "
                    f"{up_stage.module_file().name}",
            )
        frames[upstream] = frame
    for source in stage.sources:
        resolved = plan.resolved[source.name]
        frame = resolved.load()
        contract = getattr(source, "contract", None)
        if contract is not None:
            contract.check(frame, stage=plan.stage, role=f"source {source.name!r}", origin=f"({resolved.describe})",
                           fix=getattr(source, "fix", "re-import the source data"))
        frames[source.name] = frame
    return frames


def provenance(stage: StageLike, plan: Plan, main: pd.DataFrame, *, as_of: dt.datetime | None,
               meta: dict[str, Any]) -> dict[str, Any]:
    """The record of one build, stored with its object and as its action record: what it was built from (key,
    inputs, sources, params, code), what it made (rows, columns, the stage's meta), as of when, where and when."""
    assert plan.key is not None
    return {
        "schema": 1,
        "stage": stage.name,
        "game_date": plan.game_date.isoformat() if stage.scope == "date" else None,
        "season": season_of(plan.game_date),
        "key": plan.key,
        "inputs": dict(sorted(plan.inputs.items())),
        "sources": {n: r.describe for n, r in sorted(plan.resolved.items())},
        "params": plan.params,
        "code_version": plan.code_version,
        "rows": len(main),
        "columns": [str(c) for c in main.columns],
        "as_of": iso(as_of) if as_of else None,
        "meta": meta,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "created_at": iso(dt.datetime.now(dt.UTC)),
    }


@contextlib.contextmanager
def writing(home: Path, name: str, day: dt.date) -> Iterator[None]:
    """Store writes of a build: an OS error there (permissions, a full disk) is the data root's problem, not the
    stage's, and is reported as such, naming the path."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise StoreError(
            f"{name} {day}: cannot write to the data root {home}: {exc.strerror or exc}{where}; make it "
            "writable by this user (`projections doctor` shows owners and modes, `--fix-permissions` repairs "
            "them) or free disk space; nothing was published") from exc


def stage_error(name: str, day: dt.date, exc: BaseException, module: Path) -> StageError:
    """What a stage that raised an exception of its own (not a ProjectionsError) is reported as: the exception,
    the last frames of its traceback and the fix (the stage's module, or the install a missing package needs)."""
    import traceback

    from projections.requirements import install_command

    where = "".join(traceback.format_exception(exc)[-3:]).strip()
    fix = (f"install what the code needs with `{install_command()}`" if isinstance(exc, ImportError)
           else f"fix the stage in {module}")
    return StageError(f"{name} {day}: the stage function raised {type(exc).__name__}: {exc}\n{where}\n"
                      f"{fix} (nothing was published)")


@functools.cache
def blas_pools() -> Any:
    """The BLAS/OpenMP thread pools of this process (threadpoolctl), found once: at the first build, when numpy
    is loaded. Finding them costs ~1 ms, limiting them afterwards ~10 us."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def release_memory() -> None:
    """Hand the memory a build freed back to the OS. pandas and pyarrow free into their allocators (glibc malloc,
    pyarrow's pool), which keep it: a backfill's process grew by about 5 MB a date (20 dates: 387 -> 494 MB
    between builds; with this, 227 -> 263 MB). About 10 us when there is nothing to give back."""
    with contextlib.suppress(Exception):
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)

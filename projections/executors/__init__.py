"""Where `doit slate` builds: in this process (`local`, the default) or on a Dask cluster (`dask`).

    worker.py   what a Dask worker runs: one stage of one date, through an Engine on the shared store
    cluster.py  the front end: submit every (stage, date) to the cluster, collect the outcomes
    tasks.py    the doit tasks of a Dask run (doit stays the front end: same task names, same status)

Chosen by the `executor` setting (PROJECTIONS_EXECUTOR) or `executor=dask` on the doit command line;
`workers=N` sizes a LocalCluster, `dask_address` (PROJECTIONS_DASK_ADDRESS) names a running scheduler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from projections.errors import ConfigError

if TYPE_CHECKING:
    from projections.settings import Settings

EXECUTORS = ("local", "dask")


def selected_executor(settings: Settings, value: str | None) -> str:
    """The executor named on the command line (`executor=`), else in settings."""
    chosen = (value or settings.executor or "local").strip().lower()
    if chosen not in EXECUTORS:
        raise ConfigError(f"executor={value!r} is not one of {', '.join(EXECUTORS)}; "
                          "use executor=local (this process) or executor=dask (a Dask cluster)")
    return chosen


def selected_workers(value: str | None, settings: Settings) -> int | None:
    """LocalCluster size from `workers=N`, else the dask_workers setting (None: one per core)."""
    if value is None or not value.strip():
        return settings.dask_workers
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if workers < 1:
        raise ConfigError(f"workers={value!r} is not a positive number of worker processes")
    return workers

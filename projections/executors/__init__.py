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


def check_cluster_run(settings: Settings, *, workers: str | None, processes: int, running: bool) -> None:
    """ConfigError, before anything is checked or built, for a Dask run that cannot do what it was asked:
    `workers=` with `dask_address` (the scheduler's own workers build: the number would be ignored), `-n`
    (the cluster is the parallelism: doit's processes would each run the cluster), or, for a run, a scheduler
    that does not answer (it took 30 s to find out, then every stage was "skipped", none counted failed)."""
    address = settings.dask_address
    if address and workers:
        raise ConfigError(f"workers={workers} sizes a LocalCluster, but dask_address={address} names a running "
                          "scheduler, whose workers are the ones started with `dask worker`; drop workers= (or "
                          "unset dask_address to build on a LocalCluster of that many workers)")
    if processes > 1:
        raise ConfigError(f"-n {processes} with executor=dask: the cluster's workers are the parallelism; drop -n "
                          "(workers=N sizes a LocalCluster)")
    if address and running and address.startswith("tcp://"):
        import socket

        host, _, port = address.removeprefix("tcp://").rstrip("/").rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=5):
                pass
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {address} ({exc}); start it with `dask "
                              "scheduler` (and `dask worker` on each machine), or fix dask_address") from None

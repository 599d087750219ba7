"""doit tasks of a Dask run: the same `<stage>:<date>` tasks and `slate`, with a `cluster` task first.

    cluster            submits every stage of every selected date to Dask and waits (its output: one line
                       per finished date)
    <stage>:<date>     after `cluster`: brings this machine's store up to date with what the cluster built
                       (fetched from the shared store; gold pointer moved here) and reports the cluster's
                       outcome, so the summary counts what was built, on which worker
    slate              as in a local run

`doit list --status` shows the same per-stage U/R as a local run: checks plan from this machine's store,
which fetches from the shared store on a miss. A stage the cluster built in this run is reported by its
action (built / published), not skipped as up to date. The cluster is the parallelism: do not add `-n`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from doit.exceptions import TaskFailed

from projections.doit_reporter import CLUSTER, SLATE, SLATE_DOC
from projections.doit_tasks import _checker, stage_tasks
from projections.engine import Engine
from projections.errors import ConfigError, ProjectionsError
from projections.executors.cluster import ClusterRun


def _cluster_action(run: ClusterRun) -> Any:
    def action() -> dict[str, Any] | TaskFailed:
        try:
            outcomes = run.run()
        except ProjectionsError as exc:
            return TaskFailed(str(exc))
        return {"stage_runs": len(outcomes), "built": sum(1 for o in outcomes.values() if o.get("built")),
                "failed": sum(1 for o in outcomes.values() if not o.get("ok"))}

    action.__name__ = "build_on_cluster"
    return action


def _stage_action(run: ClusterRun, name: str, day: dt.date) -> Any:
    engine = run.engine

    def action() -> dict[str, Any] | TaskFailed:
        remote = run.outcomes.get((name, day.isoformat()), {})
        if remote and not remote.get("ok"):
            return TaskFailed(remote.get("error", f"{name} {day} failed on the cluster"))
        try:
            plan = engine.plan(name, day, fresh=True)
            local = None if plan.up_to_date else engine.build(name, day)  # fetch + publish here
        except ProjectionsError as exc:
            return TaskFailed(str(exc))
        obj = remote.get("object") or (local.object if local else plan.object)
        return {"object": obj, "built": bool(remote.get("built") or (local and local.built)),
                "created": bool(remote.get("created")),
                "published": bool(remote.get("published") or (local and local.published)),
                "seconds": remote.get("seconds", round(local.seconds, 3) if local else 0.0),
                "worker": remote.get("host")}

    action.__name__ = f"sync_{name}"
    return action


def _stage_checker(run: ClusterRun, name: str, day: dt.date) -> Any:
    plain = _checker(run.engine, [(name, day)])

    def up_to_date() -> bool:
        remote = run.outcomes.get((name, day.isoformat()))
        if remote and (not remote.get("ok") or remote.get("built") or remote.get("published")):
            return False  # the cluster did something for it in this run: let the action report it
        return bool(plain())

    return up_to_date


def dask_tasks(run: ClusterRun, meta: dict[str, Any]) -> Iterator[dict[str, Any]]:
    engine, dates = run.engine, run.dates
    meta["cluster"] = run.progress
    published = [s.name for s in engine.pipeline.published]
    everything = _checker(engine, [(p, d) for d in dates for p in published])
    yield {
        "basename": CLUSTER,
        "doc": "build the selected dates on the Dask cluster (executor=dask)",
        "actions": [_cluster_action(run)],
        "uptodate": [everything],
        "verbosity": 2,
        "meta": meta,
    }
    yield from stage_tasks(engine, dates, meta, action=lambda name, day: _stage_action(run, name, day),
                           checker=lambda name, day: _stage_checker(run, name, day), first=(CLUSTER,))
    yield {
        "basename": SLATE,
        "doc": SLATE_DOC,
        "actions": None,
        "task_dep": [f"{p}:{d.isoformat()}" for d in dates for p in published],
        "uptodate": [everything],
        "meta": meta,
    }


def scale_out_tasks(engine: Engine, dates: list[dt.date], meta: dict[str, Any]) -> Iterator[dict[str, Any]] | None:
    """The tasks of a Dask run, or None for the local executor. With a shared store, this machine first
    adopts the shared gold pointers of `dates`, so its checks (and `doit list --status`) see them."""
    from doit import get_var
    from doit.exceptions import InvalidCommand

    from projections.doit_cli import LISTINGS, command_line, doit_command
    from projections.executors import check_cluster_run, selected_executor, selected_workers
    from projections.remote.sync import share_unshared, sync_gold

    try:
        executor = selected_executor(engine.settings, get_var("executor"))
        workers = selected_workers(get_var("workers"), engine.settings)
        if executor != "dask" and get_var("workers"):
            raise ConfigError(f"workers={get_var('workers')} sizes a Dask cluster, but this run builds in this "
                              "process (executor=local); add executor=dask to build on a cluster of that many "
                              "workers, or drop workers=")
        if executor == "dask":  # refused before the shared store is touched
            check_cluster_run(engine.settings, workers=get_var("workers"), running=doit_command() not in LISTINGS,
                              processes=int(command_line().options.get("num_process") or 0))
        if engine.remote is not None:
            if doit_command() not in LISTINGS:  # a run: what an earlier one built here but did not share, first
                meta["uploaded"] = share_unshared(engine)
            meta["adopted"] = sync_gold(engine, dates)["adopted"]
        if executor != "dask":
            return None
        run = ClusterRun(engine, dates, address=engine.settings.dask_address,
                         workers=workers)
        return dask_tasks(run, meta)
    except ProjectionsError as exc:
        raise InvalidCommand(str(exc)) from None

"""The front end's side of a Dask run: submit every stage of every selected date, collect the outcomes.

One Dask task per (stage, date), depending on the tasks of its inputs for that date, so dates run side by
side and the independent stages inside a date (rosters, injuries, odds, ...) do too. Every task builds
through the engine on the worker, under the date's shared lease, and pushes what it built to the shared
store; a task whose key another machine already built fetches it instead. When a worker dies, Dask runs its
tasks again elsewhere: a half-done stage left nothing visible (objects are complete-or-absent), and the
dead worker's lease is taken over when it runs out (at once when the holder was on this host).

The cluster is a LocalCluster of worker processes (`dask_workers`, default: one per core) unless
`dask_address` names a running scheduler (`dask scheduler` + `dask worker` on each machine).

Raises:
    ConfigError: the cluster cannot be started or reached, or the settings cannot run on one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.errors import ConfigError
from projections.executors.worker import build_stage, payload

if TYPE_CHECKING:
    from projections.engine import Engine

Pair = tuple[str, str]  # (stage, date)


def _say(message: str) -> None:
    print(message, flush=True)


class ClusterRun:
    """One backfill on a Dask cluster, for the doit front end."""

    def __init__(self, engine: Engine, dates: list[dt.date], *, address: str | None = None,
                 workers: int | None = None, say: Any = _say) -> None:
        if engine.remote is None:
            raise ConfigError("executor=dask needs the shared store: set remote.url (PROJECTIONS_REMOTE__URL="
                              "s3://bucket/prefix) so workers and this machine see the same objects")
        if engine.settings.source == "live":
            raise ConfigError("executor=dask builds from the archive (backfills); live snapshots are taken into "
                              "this machine's data root, so run live slates with executor=local")
        self.engine = engine
        self.dates = dates
        self.address = address
        self.workers = workers
        self.say = say
        self.outcomes: dict[Pair, dict[str, Any]] = {}
        self.finished = False  # every outcome is in (until then `progress` is what the cluster has done so far)

    # ---- the cluster ---------------------------------------------------------------------------------

    def _client(self) -> tuple[Any, Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ConfigError("executor=dask needs dask.distributed; `pip install 'dask[distributed]'`") from exc
        if self.address:
            try:
                return Client(self.address, timeout=30), None
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {self.address} ({exc}); start it with "
                                  "`dask scheduler` or fix dask_address") from exc
        n = self.workers or os.cpu_count() or 1
        import logging

        # CRITICAL, here and in the worker processes (which read it from their environment when they import
        # distributed; silence_logs reaches only the nanny's logger there): a worker whose heartbeat met the
        # scheduler closing (a Ctrl-C) logged an ERROR with a 40-line traceback under the run's own lines. Every
        # error of a stage reaches the front end through its future (its outcome, or "the cluster gave up on it")
        os.environ.setdefault("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", "critical")
        with _workers_ignore_ctrl_c():
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.CRITICAL)
        return Client(cluster), cluster

    def progress(self) -> dict[str, Any]:
        """Stage runs done, built, published and failed so far, and whether all are in: the counts of the
        cluster_end line, and the reporter's for a run interrupted before its stages report."""
        got = list(self.outcomes.values())
        return {"finished": self.finished, "done": len(got), "built": sum(bool(o.get("built")) for o in got),
                "published": sum(bool(o.get("published")) for o in got),
                "failed": sum(not o.get("ok") for o in got)}

    def submit(self, client: Any) -> dict[Pair, Any]:
        """Every date as a chain of stage tasks (the engine's per-date lock would serialize them anyway, and a
        chain keeps a date on one worker's warm store); dates side by side, earlier dates first. A season-scoped
        stage that reads no date-scoped stage is one task per season, which that season's chains wait for."""
        engine = self.engine
        pipeline = engine.pipeline
        run = engine.ledger.run
        job = payload(engine.settings, run=run, code_versions={n: engine.code_version(n) for n in pipeline.order})
        job_future = client.scatter(job, broadcast=True)
        futures: dict[Pair, Any] = {}
        built_for: dict[Pair, Any] = {}  # (stage, date) -> the task that builds it (a season task for many dates)
        for index, day in enumerate(self.dates):
            iso = day.isoformat()
            previous = None
            for name in pipeline.order:
                if _per_season(engine, name):
                    season_key = (name, season_of(day))
                    if season_key not in built_for:
                        built_for[season_key] = futures[(name, iso)] = client.submit(
                            build_stage, job_future, name, iso, None, key=f"{name}:{season_key[1]}-{run}",
                            priority=len(self.dates), pure=False)
                    built_for[(name, iso)] = built_for[season_key]
                    continue
                deps = [built_for[(d, iso)] for d in _needs(engine, name)]
                futures[(name, iso)] = built_for[(name, iso)] = previous = client.submit(
                    build_stage, job_future, name, iso, previous, *deps, key=f"{name}:{iso}-{run}",
                    priority=-index, pure=False)
        return futures

    def run(self) -> dict[Pair, dict[str, Any]]:
        """Build the selected dates on the cluster; the outcome of every (stage, date)."""
        from distributed import as_completed

        engine = self.engine
        started = time.monotonic()
        client, cluster = self._client()
        try:
            workers = len(client.scheduler_info().get("workers", {}))
            where = self.address or f"a LocalCluster of {workers} worker processes"
            self.say(f"cluster: {len(self.dates)} date(s) x {len(engine.pipeline.order)} stages on {where}")
            engine.ledger.append("cluster_start", address=self.address, workers=workers,
                                 dates=[d.isoformat() for d in self.dates])
            futures = self.submit(client)
            pending: dict[str, int] = {}
            for _, iso in futures:
                pending[iso] = pending.get(iso, 0) + 1
            by_future = {f.key: pair for pair, f in futures.items()}
            done_dates = 0
            for future in as_completed(list(futures.values())):
                pair = by_future[future.key]
                self.outcomes[pair] = outcome = self._result(future, pair)
                self._copy_events(outcome)
                pending[pair[1]] -= 1
                if not pending[pair[1]]:
                    done_dates += 1
                    self._date_line(pair[1], done_dates, started)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        self.finished = True
        done = self.progress()
        engine.ledger.append("cluster_end", built=done["built"], failed=done["failed"],
                             seconds=round(time.monotonic() - started, 3))
        return self.outcomes

    def _result(self, future: Any, pair: Pair) -> dict[str, Any]:
        try:
            result = future.result()
        except Exception as exc:  # KilledWorker after repeated deaths, a lost scheduler, ...
            return {"ok": False, "stage": pair[0], "date": pair[1],
                    "error": f"{pair[0]} {pair[1]}: the cluster gave up on it ({type(exc).__name__}: {exc}); "
                             f"rerun `doit slate date={pair[1]} executor=dask`"}
        return result if isinstance(result, dict) else {"ok": False, "stage": pair[0], "date": pair[1],
                                                         "error": f"unexpected result {result!r}"}

    def _copy_events(self, outcome: dict[str, Any]) -> None:
        """A worker with its own data root (another machine) wrote its events there: copy them here."""
        events = outcome.pop("events", None) or []
        if outcome.get("host") == socket.gethostname() and outcome.get("home") == str(self.engine.home):
            return  # it shares this data root: its events are in this ledger already
        for record in events:
            fields = {k: v for k, v in record.items() if k != "event"}
            self.engine.ledger.append(record["event"], **fields, copied_from=outcome.get("home"))

    def _date_line(self, iso: str, done: int, started: float) -> None:
        stages = [o for (_, d), o in self.outcomes.items() if d == iso]
        bad = [o for o in stages if not o.get("ok")]
        built = sum(1 for o in stages if o.get("built"))
        hosts = sorted({f"{o.get('host')}:{o.get('pid')}" for o in stages if o.get("host")})
        state = f"FAILED ({bad[0]['stage']}: {bad[0]['error'].splitlines()[0][:160]})" if bad else "ok"
        self.say(f"cluster: [{done}/{len(self.dates)} {time.monotonic() - started:6.1f}s] {iso} {state}, "
                 f"{built} built on {', '.join(hosts) or '-'}")


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """The LocalCluster's worker processes start with SIGINT ignored: a Ctrl-C reaches the whole foreground
    process group, and each worker printed a KeyboardInterrupt traceback (40 lines) under the run's one
    "interrupted" line. The front end alone takes the Ctrl-C and closes the cluster, which stops them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _per_season(engine: Engine, name: str) -> bool:
    pipeline = engine.pipeline
    return pipeline[name].scope == "season" and all(pipeline[u].scope == "season" for u in pipeline.upstream(name))


def _needs(engine: Engine, name: str) -> list[str]:
    from projections.doit_tasks import _needs as needs

    return [d for d in needs(engine, name) if d in engine.pipeline.stages]


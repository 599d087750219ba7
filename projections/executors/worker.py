"""What runs on a Dask worker: one stage of one date, built by an Engine whose remote is the shared store.

The front end ships a payload: its settings without secrets and without anything that belongs to the
machine (data root, permission policy), its run id and the code version it expects of each stage. The
worker fills those in from its own environment (PROJECTIONS_HOME, projections.toml, PROJECTIONS_REMOTE__KEY
or the AWS credential chain), so credentials never travel through Dask. A LocalCluster's workers inherit the
front end's environment, so they share its data root; workers on other machines have their own, and
everything they build reaches the front end through the bucket.

`build_stage` never raises: it returns a plain dict (ok, object, built, ..., error) with the ledger events it
wrote, so a failure travels back as data and the stages after it are skipped, not retried.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from projections.errors import ProjectionsError
from projections.ledger import Ledger

if TYPE_CHECKING:
    from projections.engine import Engine
    from projections.settings import Settings

# Settings that describe the machine, not the build: each worker keeps its own.
MACHINE_FIELDS = frozenset({"home", "permissions", "executor", "dask_address", "dask_workers", "doctor",
                            "schedule", "serve_host", "serve_port", "alerts"})

_local = threading.local()


class RecordingLedger(Ledger):
    """A ledger that also keeps what it appended, so the front end can copy a remote worker's events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: list[dict[str, Any]] = []

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        record = super().append(event, **fields)
        self.recorded.append(record)
        return record

    def drain(self) -> list[dict[str, Any]]:
        out, self.recorded = self.recorded, []
        return out


def _plain(value: Any) -> Any:
    """A settings dump without secrets (SecretStr values are left out: the worker reads its own)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if type(v).__name__ not in ("SecretStr", "SecretBytes")}
    return value


def payload(settings: Settings, *, run: str, code_versions: dict[str, str]) -> dict[str, Any]:
    dump = settings.model_dump(mode="python")
    shipped = {k: v for k, v in _plain(dump).items() if k not in MACHINE_FIELDS}
    return {"settings": shipped, "run": run, "code_versions": dict(code_versions)}


def worker_settings(shipped: dict[str, Any]) -> Settings:
    """The front end's build settings over this machine's own (data root, policy, credentials)."""
    from projections.settings import load_settings

    return load_settings(**shipped)


def worker_engine(job: dict[str, Any]) -> Engine:
    """One engine per worker thread and payload (engines are not shared between threads)."""
    from projections.wiring import make_engine

    ident = job["run"] + repr(sorted(job["settings"].items()))
    cache: dict[str, Engine] = getattr(_local, "engines", None) or {}
    _local.engines = cache
    engine = cache.get(ident)
    if engine is None:
        settings = worker_settings(job["settings"])
        engine = make_engine(settings, run=job["run"])
        engine.ledger = engine.publisher.ledger = RecordingLedger(engine.home, run=job["run"])  # its moves too
        cache.clear()  # a new run: drop the previous run's engine
        cache[ident] = engine
    return engine


def _failure(name: str, day: str, error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "stage": name, "date": day, "error": error, "host": socket.gethostname(),
            "pid": os.getpid(), **extra}


def build_stage(job: dict[str, Any], name: str, day: str, after: dict[str, Any] | None,
                *upstream: dict[str, Any]) -> dict[str, Any]:
    """Build `name` for `day` on this worker. Its inputs' tasks (`upstream`) finished before it started; a
    failed one skips it. `after` is the previous stage of the date's chain: order only, its failure does not
    stop an independent stage (as with doit's `continue`)."""
    failed = next((u for u in upstream if not u.get("ok")), None)
    if failed is not None:
        return _failure(name, day, f"an input failed: {failed['stage']} {failed['date']}", skipped=True)
    started = time.monotonic()
    try:
        engine = worker_engine(job)
        want = job["code_versions"].get(name)
        have = engine.code_version(name)
        if want and want != have:
            return _failure(name, day, f"{name}: this worker ({socket.gethostname()}) has code version {have}, the "
                            f"front end {want}; install the same projections and stages on every worker")
        outcome = engine.build(name, dt.date.fromisoformat(day))
    except ProjectionsError as exc:
        return _failure(name, day, str(exc), **_drain())
    except Exception as exc:
        where = "".join(traceback.format_exception(exc)[-3:]).strip()
        return _failure(name, day, f"{type(exc).__name__} on worker {socket.gethostname()}: {exc}\n{where}",
                        **_drain())
    assert isinstance(engine.ledger, RecordingLedger)
    return {"ok": True, "stage": name, "date": day, "object": outcome.object, "key": outcome.key,
            "built": outcome.built, "created": outcome.created, "published": outcome.published,
            "seconds": round(outcome.seconds, 3), "wall": round(time.monotonic() - started, 3),
            "host": socket.gethostname(), "pid": os.getpid(), "home": str(engine.home),
            "events": engine.ledger.drain()}


def _drain() -> dict[str, Any]:
    """The events a failed build wrote, and the data root they are in: the front end copies them only from a
    worker with another root (without `home` it copied a LocalCluster worker's failure into its own ledger,
    where the worker had written it already: every failure twice, line for line)."""
    events: list[dict[str, Any]] = []
    homes: set[str] = set()
    for engine in (getattr(_local, "engines", None) or {}).values():
        homes.add(str(engine.home))
        if isinstance(engine.ledger, RecordingLedger):
            events.extend(engine.ledger.drain())
    return {"events": events, **({"home": homes.pop()} if len(homes) == 1 else {})}

"""The edge: settings, the pipeline (named in settings, imported here) and an Engine, for dodo.py and the CLI."""

from __future__ import annotations

import atexit
import datetime as dt
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from projections.engine import Engine
from projections.errors import ConfigError, ProjectionsError
from projections.pipeline import Pipeline

if TYPE_CHECKING:
    from projections.settings import Settings


def load_pipeline(ref: str) -> Pipeline:
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
        pipeline = getattr(module, attr or "PIPELINE")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load the pipeline {ref!r} ({exc}); set `pipeline` to module:attribute") from exc
    if not isinstance(pipeline, Pipeline):
        raise ConfigError(f"{ref!r} is a {type(pipeline).__name__}, not a Pipeline")
    return pipeline


def make_engine(settings: Settings | None = None, *, pipeline: Pipeline | None = None, **kwargs: Any) -> Engine:
    from projections.ops.permissions import apply_umask

    if settings is None:
        from projections.settings import load_settings

        settings = load_settings()
    apply_umask(settings.permissions)  # files and dirs this process creates follow the data-root policy
    if "remote" not in kwargs:  # the shared store named in settings (None: local only, the default)
        from projections.remote import make_remote

        kwargs["remote"] = make_remote(settings)
    now = settings.live.now or dt.datetime.now(dt.UTC)  # live.now replays a past day as if it were today
    if pipeline is None:
        from projections import fastpath

        pipeline = fastpath.pipeline(settings.pipeline, settings.params, load_pipeline)
    return Engine(pipeline, settings, now=now, **kwargs)


def looking(engine: Engine) -> Engine:
    """`engine` for a command that only looks (status, explain, report, serve, `doit list`): it refreshes no
    object's age (gc's grace counts runs' use), and what it still records - an object fetched from a shared
    store, a pointer adopted from it - is outside any run: history read such a look as a run that never ended."""
    engine.touch_used = False
    engine.ledger.run = ""
    return engine


def engine_for() -> Engine:
    """The engine for a doit invocation, through the fast path (cached settings and pipeline shape: a
    no-op run imports neither pydantic nor pandas); a bad setting becomes doit's clean `ERROR:` line."""
    from doit.exceptions import InvalidCommand

    from projections import fastpath

    try:
        settings = fastpath.settings()
        engine = make_engine(settings, pipeline=fastpath.pipeline(settings.pipeline, settings.params, load_pipeline))
    except ProjectionsError as exc:
        raise InvalidCommand(str(exc)) from None
    from projections.doit_cli import LISTINGS, doit_command

    if doit_command() in LISTINGS:
        looking(engine)
    if os.environ.get("PROJECTIONS_STATS"):  # benchmarks: how much this process hashed
        cache = engine.stat_cache
        atexit.register(lambda: print(f"stat-cache: computed {cache.computed} digests over "
                                      f"{cache.computed_bytes} bytes", file=sys.stderr))
    return engine

"""The edge: settings, the pipeline (named in settings, imported here) and an Engine, for dodo.py and the CLI."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from projections.engine import Engine
from projections.errors import ConfigError, ProjectionsError
from projections.pipeline import Pipeline
from projections.settings import Settings, load_settings


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


def make_engine(settings: Settings | None = None, **kwargs: Any) -> Engine:
    from projections.ops.permissions import apply_umask

    settings = settings or load_settings()
    apply_umask(settings.permissions)  # files and dirs this process creates follow the data-root policy
    now = settings.live.now or dt.datetime.now(dt.UTC)  # live.now replays a past day as if it were today
    return Engine(load_pipeline(settings.pipeline), settings, now=now, **kwargs)


def engine_for() -> Engine:
    """The engine for a doit invocation; a bad setting becomes doit's clean `ERROR:` line."""
    from doit.exceptions import InvalidCommand

    try:
        return make_engine()
    except ProjectionsError as exc:
        raise InvalidCommand(str(exc)) from None

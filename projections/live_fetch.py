"""Live sources' snapshots of a slate: whether one is due (`needs_fetch`), and fetching it (`fetch`), recorded in
the ledger, failures and interrupts included."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from projections.gc import build_guard

if TYPE_CHECKING:
    from projections.engine import Engine


def needs_fetch(engine: Engine, key: str, day: dt.date) -> bool:
    """Whether source `key` needs a new snapshot for the slate of `day` now (the engine's clock)."""
    source, _ = engine.pipeline.fetchers()[key]
    now = engine.now or dt.datetime.now(dt.UTC)
    return source.needs_fetch(engine.source_env, day, now, engine.lock(day))


def fetch(engine: Engine, key: str, day: dt.date) -> Mapping[str, Any]:
    """Fetch one live source for one date into a snapshot; returns the source's summary of it."""
    source, readers = engine.pipeline.fetchers()[key]
    now = engine.now or dt.datetime.now(dt.UTC)
    started = time.monotonic()
    engine.ledger.append("fetch_start", source=key, game_date=day.isoformat())
    try:
        with build_guard(engine.home, timeout=engine.settings.lock_timeout_s, notify=engine.notify):
            summary = dict(source.fetch(engine.source_env, day, now))
    except BaseException as exc:
        kind = "fetch_interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "fetch_failure"
        engine.ledger.append(kind, source=key, game_date=day.isoformat(), error=str(exc),
                             error_type=type(exc).__name__, readers=readers,
                             seconds=round(time.monotonic() - started, 3))
        raise
    engine.ledger.append("fetch_success", source=key, game_date=day.isoformat(),
                         seconds=round(time.monotonic() - started, 3), **summary)
    return summary

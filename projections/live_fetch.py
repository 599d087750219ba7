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
    return source.needs_fetch(engine.source_env, day, now, engine.until(source, day))


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


def fall_back(engine: Engine, key: str, day: dt.date, error: Exception) -> dict[str, Any] | None:
    """After a fetch of `key` for `day` failed (`error`, already recorded as fetch_failure): the summary of going on
    with the date's last good capture, or None when there is none (or the error is a setting's: that is fixed, not
    waited out). The stages then read that capture - the news of the sources that did answer reaches gold while
    one feed is down - and the run's alert names the failure and the capture used (a `fetch_fallback` line)."""
    from projections.errors import ConfigError
    from projections.ledger import iso
    from projections.sources import ENDPOINTS, snapshots

    if isinstance(error, ConfigError) or key not in ENDPOINTS:  # a fetch of no live table (a season) has no capture
        return None
    source, readers = engine.pipeline.fetchers()[key]
    table = getattr(source, "table", key)
    clock = engine.clock in readers  # the schedule: its captures are bounded by their own lock, not by an as_of
    as_of = None if clock else engine.source_as_of(source, day)
    found = snapshots.entries(engine.home, table, day)
    held = snapshots.select(found, as_of) if clock or as_of is not None else None
    if held is None:
        return None
    when = iso(held.captured_at)
    engine.ledger.append("fetch_fallback", source=key, game_date=day.isoformat(), captured_at=when,
                         object=held.object, readers=readers)
    first = (str(error).splitlines() or [""])[0][:200]
    return {"fallback": True, "captured_at": when,
            "describe": f"FAILED ({first}); the stages read the last good capture, of {when} ({held.object[9:19]})"}

"""Fixtures for the live-source tests: a real loopback server, settings pointing at it, a clock that only moves
when something sleeps on it (so no test waits for a backoff), and a data root."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.fetch import HostRateLimiter
from projections.pipeline import SourceEnv
from projections.settings import Settings
from projections.settings_tables import LiveSettings
from projections.sources.http import LiveHttp
from projections.statcache import StatCache
from tests.net.faketime import FakeTime
from tests.net.faultserver import FaultServer

SLATE = dt.date(2019, 10, 30)  # the real 11-game slate; first tip 23:00 UTC
BEFORE_LOCK = dt.datetime(2019, 10, 30, 20, 0, tzinfo=dt.UTC)
AFTER_LOCK = dt.datetime(2019, 10, 31, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PROJECTIONS_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def live_settings(home: Path, server: FaultServer | None, **live: Any) -> Settings:
    """Live settings aimed at the loopback server: fast timeouts, no pacing, 1 s backoff base (fake time)."""
    base = server.base_url if server is not None else "http://127.0.0.1:9"
    values: dict[str, Any] = {"stats_base": f"{base}/stats", "cdn_base": f"{base}/cdn", "dk_base": f"{base}/dk",
                              "min_interval_s": 0.0,
                              "host_intervals": {}, "max_attempts": 4, "base_wait_s": 1.0, "max_wait_s": 8.0,
                              "connect_timeout_s": 1.0, "read_timeout_s": 0.3, "total_budget_s": 60.0}
    values.update(live)
    return Settings(home=home, source="live", live=LiveSettings(**values))


def env_for(settings: Settings) -> SourceEnv:
    return SourceEnv(home=settings.home, settings=settings, stat_cache=StatCache(None))


def http_for(settings: Settings, fake: FakeTime) -> LiveHttp:
    return LiveHttp.from_settings(settings.live, sleep=fake.sleep, clock=fake.clock, random=lambda: 0.5,
                                  limiter=HostRateLimiter())

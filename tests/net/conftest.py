"""Fixtures of the HTTP tests: no proxy from the environment, and a fault server replaying the real odds feed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.net.faultserver import FaultServer, recorded

ODDS = recorded("api/live/odds_todaysGames_first2games.json")


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        running.replay("/odds", ODDS)
        yield running


def run_bounded(call: Callable[[], Any], wait_s: float) -> tuple[float, Any, bool]:
    """(seconds taken, what `call` returned or raised - None while it runs -, whether it ended within `wait_s`):
    `call` runs in a daemon thread, so a fetch that outlives its bound fails the test instead of hanging it."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(wait_s)
    return time.monotonic() - started, outcome[0] if outcome else None, bool(outcome)

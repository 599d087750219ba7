"""Fixtures of the HTTP tests: no proxy from the environment, and a fault server replaying the real odds feed."""

from __future__ import annotations

from collections.abc import Iterator

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

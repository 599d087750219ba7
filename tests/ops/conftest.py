"""Fixtures for the ops tests: settings pointed at a fake machine, loopback receivers, a zero-wait policy."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.fetch import FetchPolicy
from projections.settings import Settings, load_settings
from tests.net.faketime import FakeTime
from tests.ops.receivers import SmtpReceiver, WebhookReceiver

REPO = Path(__file__).resolve().parents[2]

MakeSettings = Callable[..., Settings]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PROJECTIONS_* (or proxy) variable of the developer's shell may leak into these settings."""
    for name in list(os.environ):
        if name.startswith("PROJECTIONS_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def zero_wait(fake_time: FakeTime) -> FetchPolicy:
    """Three attempts, short real timeouts, and waits that are recorded instead of slept."""
    return FetchPolicy(connect_timeout=2.0, read_timeout=2.0, write_timeout=2.0, pool_timeout=2.0, max_attempts=3,
                       total_budget_s=60.0, base_wait_s=1.0, max_wait_s=8.0, min_interval_s=0.0,
                       sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.5)


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings whose doctor looks only at `tmp_path` (no real /etc, no real crontab)."""

    def make(**overrides: Any) -> Settings:
        doctor = {
            "system_unit_dirs": [tmp_path / "etc/systemd/system", tmp_path / "lib/systemd/system"],
            "user_unit_dirs": [tmp_path / "home/alice/.config/systemd/user"],
            "crontab_files": [tmp_path / "etc/crontab", tmp_path / "etc/cron.d"],
            "crontab_command": [],
            "linger_dir": tmp_path / "var/lib/systemd/linger",
            **overrides.pop("doctor", {}),
        }
        return load_settings(home=overrides.pop("home", tmp_path / "outputs"), doctor=doctor, **overrides)

    return make


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver

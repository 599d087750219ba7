"""A live run whose fetch gives up, in a real `doit` process against a real loopback source and webhook: the
alert names the date, the fetch, its error and the stages it starved, and its details commands work. In process,
against the same loopback source: what the ledger records of an interrupted fetch, and which failures fall back
to the date's last good capture."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from projections.textsafe import slack
from tests.conftest import CACHE_DIR, ledger_events, run_cli, run_doit
from tests.net.faultserver import FaultServer
from tests.ops.receivers import WebhookReceiver
from tests.sources import payloads

if TYPE_CHECKING:
    from projections.engine import Engine

DAY = "2019-10-30"


def test_a_live_schedule_that_never_answers_alerts_naming_the_fetch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FaultServer() as server, WebhookReceiver() as webhook:
        server.replay("/stats/scoreboardv3", b"injected fault: the schedule service is down\n", status=503)
        env = {
            "PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__NOW": f"{DAY}T20:00:00Z",
            "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
            "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0", "PROJECTIONS_LIVE__HOST_INTERVALS": "{}",
            "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01",
            "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05", "PROJECTIONS_ALERTS__WEBHOOK_URL": webhook.url(),
        }
        run = run_doit(home, "slate", f"date={DAY}", timeout=300, **env)
        posts = webhook.posts
    assert run.returncode != 0, run.stdout + run.stderr
    [failure] = [e for e in ledger_events(home) if e["event"] == "fetch_failure"]
    assert failure["source"] == "schedule" and failure["readers"] == ["schedule"]

    [post] = posts
    text = post["text"]
    subject, *body = text.splitlines()
    assert subject == f"*projections: fetch schedule failed for slate {DAY}*", text
    assert "(run)" not in text and "ended stale" not in text
    fields = dict(line.split(": ", 1) for line in body if ": " in line and not line.startswith("("))
    assert fields["date"] == DAY and fields["stage"] == "fetch schedule"
    assert fields["error"] == slack(failure["error"].splitlines()[0])  # as Slack shows it: & < > as entities
    assert "failed after 2 attempts" in fields["error"] and "HTTP 503" in fields["error"]
    assert "read the schedule snapshot - schedule - and the stages after them" in text

    # every command the alert names for details runs (no usage error) and shows the failed fetch
    # each names the run's data root (the reader's shell has its own), as `PROJECTIONS_HOME=... projections ...`
    commands = [shlex.split(c.strip()) for c in fields["details"].split(";")]
    assert [c[:3] for c in commands] == [[f"PROJECTIONS_HOME={home}", "projections", "status"],
                                         [f"PROJECTIONS_HOME={home}", "projections", "history"]], commands
    shown = ""
    for command in commands:
        result = run_cli(Path(command[0].split("=", 1)[1]), *command[2:], timeout=120)
        assert result.returncode in (0, 1), (command, result.stdout + result.stderr)
        shown += result.stdout
    assert "fetch FAILED" in shown and "failed after 2 attempts" in shown
    assert "fetch_schedule" in shown and "up to date (nothing to do)" not in shown, shown  # fetches did run
    # status itself, which the alert names first, says FAILED with the fetch's error (it said STALE "never ran",
    # with the archive's advice to ingest the table)
    status = run_cli(home, "status", DAY, timeout=120, **{k: v for k, v in env.items() if "ALERTS" not in k})
    assert status.returncode == 1 and f"{DAY}  FAILED" in status.stdout, status.stdout + status.stderr
    assert "FAILED: fetch schedule failed: " in status.stdout and "HTTP 503" in status.stdout, status.stdout
    assert "archive" not in status.stdout, status.stdout
    explained = run_cli(home, "explain", DAY, "schedule", timeout=120,
                        **{k: v for k, v in env.items() if "ALERTS" not in k})
    assert "fetch schedule failed: " in explained.stdout and "archive" not in explained.stdout, explained.stdout


# ------------------------------------------------------------------------------ in process: interrupts, fallback

LIVE_DAY = dt.date(2019, 10, 30)
SCOREBOARD = "/stats/scoreboardv3"


@pytest.fixture
def live_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultServer, Callable[..., Engine]]]:
    """A loopback schedule endpoint and a maker of live engines on one data root (the umask put back after)."""
    from projections.settings import load_settings
    from projections.wiring import make_engine

    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(CACHE_DIR))  # the fast path's caches, kept out of ~/.cache
    umask = os.umask(0o022)
    os.umask(umask)
    with FaultServer() as server:
        server.replay(SCOREBOARD, payloads.scoreboard(LIVE_DAY))
        live = {"stats_base": server.url("/stats"), "cdn_base": server.url("/cdn"), "min_interval_s": 0,
                "host_intervals": {}, "max_attempts": 2, "base_wait_s": 0.01, "max_wait_s": 0.05,
                "read_timeout_s": 20.0, "now": f"{LIVE_DAY}T20:00:00Z"}

        def make(**overrides: Any) -> Engine:
            return make_engine(load_settings(home=tmp_path / "home", source="live", live={**live, **overrides}))

        yield server, make
    os.umask(umask)


def _on_sigterm_exit(signum: int, frame: Any) -> None:
    sys.exit(143)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum, handler, raised", [
    (signal.SIGINT, signal.default_int_handler, KeyboardInterrupt),  # Ctrl-C
    (signal.SIGTERM, _on_sigterm_exit, SystemExit),  # a stop whose handler exits
], ids=["ctrl-c", "sigterm-exit"])
def test_a_fetch_interrupted_mid_request_is_recorded_as_interrupted_and_raised(
        live_engine: tuple[FaultServer, Callable[..., Engine]], signum: int, handler: Any,
        raised: type[BaseException]) -> None:
    """A Ctrl-C or a stop while a source answers slowly is no failure of the source: history and the alerts
    read `fetch_interrupted`, and the interrupt goes on up (the run ends; no fallback, no retry)."""
    from projections import live_fetch

    server, make = live_engine
    engine = make()
    server.script(SCOREBOARD, ("stall", 20.0))
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread().ident == main

    def interrupt() -> None:
        deadline = time.monotonic() + 10
        while not server.requests_to(SCOREBOARD) and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.pthread_kill(main, signum)  # the request is out: the main thread waits in the fetch

    previous = signal.signal(signum, handler)
    sender = threading.Thread(target=interrupt, daemon=True)
    try:
        with pytest.raises(raised):
            sender.start()
            live_fetch.fetch(engine, "schedule", LIVE_DAY)
    finally:
        sender.join(10)
        signal.signal(signum, previous)
    ended = [e for e in ledger_events(engine.home) if e["event"].startswith("fetch_") and e["event"] != "fetch_start"]
    assert [(e["event"], e["source"], e["error_type"]) for e in ended] == [
        ("fetch_interrupted", "schedule", raised.__name__)], ended
    assert ended[0]["readers"] == ["schedule"] and ended[0]["game_date"] == str(LIVE_DAY)


def test_a_settings_error_does_not_fall_back_to_the_last_good_capture(
        live_engine: tuple[FaultServer, Callable[..., Engine]]) -> None:
    """A URL template that cannot be filled fails the same way at every run: carrying on with the last good
    capture would hide it behind a 'fell back' for as long as nobody reads the alert. A server error, with the
    same capture at hand, does fall back."""
    from projections import live_fetch
    from projections.errors import ConfigError, FetchError

    server, make = live_engine
    good = live_fetch.fetch(make(), "schedule", LIVE_DAY)
    broken = make(schedule={"url": "{stats}/scoreboardv3?GameDate={nope}"})
    with pytest.raises(ConfigError, match=r"unknown placeholder \{nope\}") as config:
        live_fetch.fetch(broken, "schedule", LIVE_DAY)
    assert live_fetch.fall_back(broken, "schedule", LIVE_DAY, config.value) is None
    assert not [e for e in ledger_events(broken.home) if e["event"] == "fetch_fallback"]

    server.replay(SCOREBOARD, b"injected fault: down\n", status=503)
    engine = make()
    with pytest.raises(FetchError) as down:
        live_fetch.fetch(engine, "schedule", LIVE_DAY)
    fallback = live_fetch.fall_back(engine, "schedule", LIVE_DAY, down.value)
    assert fallback is not None and fallback["captured_at"] == good["captured_at"]
    [line] = [e for e in ledger_events(engine.home) if e["event"] == "fetch_fallback"]
    assert line["object"] == good["object"]


def test_a_feed_down_at_every_run_is_alerted_once_a_date_however_long_its_attempts_took(
        live_engine: tuple[FaultServer, Callable[..., Engine]]) -> None:
    """A fetch that gives up says how many attempts it made and how long they took ("failed after 2 attempts in
    0.03 s", then " | what to do: ..."): the once-a-date rule compared that whole line, so a feed down all evening
    alerted at every run. Runs falling back on the same 503 alert once, whatever their attempts and timings; a
    new error alerts again."""
    from projections import live_fetch
    from projections.errors import FetchError
    from projections.ops.alerts import notify_run
    from projections.settings import load_settings

    server, make = live_engine
    live_fetch.fetch(make(), "schedule", LIVE_DAY)  # the capture the later runs go on with
    server.replay(SCOREBOARD, b"injected fault: down\n", status=503)
    with WebhookReceiver() as webhook:

        def run_falling_back(**live: Any) -> list[str]:
            engine = make(**live)
            with pytest.raises(FetchError) as down:
                live_fetch.fetch(engine, "schedule", LIVE_DAY)
            assert live_fetch.fall_back(engine, "schedule", LIVE_DAY, down.value) is not None
            settings = load_settings(home=engine.home, alerts={"webhook_url": webhook.url()})
            return [d.channel for d in notify_run(settings, engine.ledger, echo=lambda _m: None)]

        assert run_falling_back(max_attempts=2) == ["webhook"]
        assert run_falling_back(max_attempts=3) == []  # the same 503, after 3 attempts and another time
        assert run_falling_back(max_attempts=1) == []
        server.replay(SCOREBOARD, b"injected fault: gone\n", status=410)
        assert run_falling_back(max_attempts=2) == ["webhook"]  # a new error
        posts = webhook.posts
    errors = [e["error"] for e in ledger_events(make().home) if e["event"] == "fetch_failure"]
    assert len({e.splitlines()[0] for e in errors}) == 4, errors  # each line differs: the count or the time
    assert "HTTP 503" in posts[0]["text"] and "HTTP 410" in posts[1]["text"] and len(posts) == 2

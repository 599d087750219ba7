"""projections.fetch against a real loopback server that misbehaves on purpose: redirects that would carry our keys
to another host, bodies too big to hold (plain or a gzip bomb), a body trickled a byte at a time, and error pages
written to drive the terminal. Backoff waits are fake (recorded, not slept); the deadlines are real wall-clock."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator

import pytest

from projections.errors import FetchError
from projections.fetch import FetchPolicy, FetchResult, fetch, make_client
from tests.net.conftest import ODDS
from tests.net.faketime import FakeTime
from tests.net.faultserver import FaultServer

TOKEN = "tok_PLANTED_c0ffee1234"


@pytest.fixture
def other() -> Iterator[FaultServer]:
    """A second origin (same host, another port)."""
    with FaultServer() as running:
        running.replay("/capture", ODDS)
        yield running


def policy(fake: FakeTime, **overrides: object) -> FetchPolicy:
    """Fast real-clock policy: waits are recorded by `fake`, never slept."""
    values: dict[str, object] = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_attempts": 2,
                                 "total_budget_s": 30.0, "min_interval_s": 0.0, "sleep": fake.sleep,
                                 "random": lambda: 0.5}
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


def get(url: str, fake: FakeTime, *, headers: dict[str, str] | None = None, **overrides: object) -> FetchResult:
    chosen = policy(fake, **overrides)
    with make_client(chosen) as client:
        return fetch(url, client=client, policy=chosen, headers=headers, source="odds")


# ------------------------------------------------------------------------------------------ redirects


def test_a_redirect_to_another_origin_carries_neither_the_key_nor_the_endpoint_headers(
        server: FaultServer, other: FaultServer) -> None:
    """httpx drops only Authorization across origins: an X-Api-Key header and the endpoint's own headers went to
    whatever host the redirect named, and the capture recorded the URL asked for, not the one that answered."""
    target = other.url("/capture")
    server.script("/odds", ("status", 302, {"Location": target}))
    sent = {"X-Api-Key": TOKEN, "X-Partner": TOKEN + "2", "X-Client": "projections-test"}
    result = get(server.url("/odds"), FakeTime(), headers=sent)
    assert result.content == ODDS and result.url == target and result.redirected_from == server.url("/odds")
    first, = server.requests_to("/odds")
    assert {first.headers[n] for n in ("x-api-key", "x-partner", "x-client")} == set(sent.values())
    hop, = other.requests_to("/capture")
    assert not {"x-api-key", "x-partner", "x-client", "authorization"} & set(hop.headers), hop.headers
    assert TOKEN not in repr(hop.headers) and hop.headers["user-agent"].startswith("projections/")


def test_a_redirect_within_the_origin_keeps_the_key(server: FaultServer) -> None:
    server.script("/odds", ("status", 301, {"Location": "/moved"}))
    server.replay("/moved", ODDS)
    result = get(server.url("/odds"), FakeTime(), headers={"X-Api-Key": TOKEN})
    assert result.url == server.url("/moved") and result.content == ODDS
    assert server.requests_to("/moved")[0].headers["x-api-key"] == TOKEN


@pytest.mark.parametrize("target, keeps", [
    ("https://stats.nba.com/stats/x", True),  # the same host's upgrade to https: httpx and requests keep keys too
    ("https://stats.nba.com:8443/stats/x", False), ("https://evil.example/x", False),
    ("http://stats.nba.com:8080/x", False), ("http://STATS.nba.com/y", True),
])
def test_which_redirect_targets_keep_the_callers_headers(target: str, keeps: bool) -> None:
    """An http endpoint upgraded to https on its own host lost its API key and the stats headers (401/403, not
    retried): only a change of host or port, or a downgrade, is another origin."""
    import httpx

    from projections.fetch_send import _origin, _trusted

    assert _trusted(httpx.URL(target), _origin(httpx.URL("http://stats.nba.com/stats/leaguegamelog"))) is keeps
    assert not _trusted(httpx.URL("http://stats.nba.com/x"), _origin(httpx.URL("https://stats.nba.com/x")))


def test_a_redirect_to_a_file_url_is_refused_naming_the_target(server: FaultServer) -> None:
    """It was a ConfigError blaming the endpoint URL in the settings ("cannot request http://.../odds")."""
    server.script("/odds", ("status", 302, {"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match=r"HTTP 302 redirects to file:///etc/passwd, which is not http\(s\); "
                                         r"refused") as caught:
        get(server.url("/odds"), FakeTime())
    assert caught.value.attempts == 1  # not retried


def test_a_redirect_loop_ends(server: FaultServer) -> None:
    server.replay("/loop", b"", status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match=r"more than 5 redirects \(the last to http://127\.0\.0\.1:\d+/loop\)"):
        get(server.url("/loop"), FakeTime())
    assert len(server.requests_to("/loop")) == 6


# ------------------------------------------------------------------------------------------ size caps


def test_a_body_announced_over_the_cap_is_refused_before_it_is_read(server: FaultServer) -> None:
    server.script("/odds", ("flood", 3 * 2**30, True))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"1\) the answer announces a body of 3,221,225,472 bytes, over the "
                                         r"cap of 67,108,864 bytes \(64 MiB\) \(nothing read\).* raise "
                                         r"live\.max_body_mb") as caught:
        get(server.url("/odds"), FakeTime())
    assert caught.value.attempts == 1 and time.monotonic() - started < 5


def test_an_endless_body_stops_at_the_cap(server: FaultServer) -> None:
    """A close-delimited body of 3 GB was buffered whole (RSS past 1.5 GB)."""
    server.script("/odds", ("flood", 3 * 2**30))
    with pytest.raises(FetchError, match=r"1\) the answer sent a body over the cap of 1,048,576 bytes "
                                         r"\(1 MiB\) \(stopped reading there\)"):
        get(server.url("/odds"), FakeTime(), max_body_bytes=2**20)


def test_a_gzip_bomb_stops_at_the_cap_on_its_decoded_size(server: FaultServer) -> None:
    """200 MB of zeros in 200 KB of gzip: httpx decoded all of it into memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(bytes(2**20)) for _ in range(200)) + packer.flush()
    assert len(bomb) < 2**20
    server.replay("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match=r"1\) the answer sent a body over the cap of 67,108,864 bytes"):
        get(server.url("/bomb"), FakeTime())


def test_a_body_under_the_cap_is_whole(server: FaultServer) -> None:
    assert get(server.url("/odds"), FakeTime(), max_body_bytes=len(ODDS)).content == ODDS


# ------------------------------------------------------------------------------------------ deadlines


def _fetch_in_thread(url: str, wait_s: float, **overrides: object) -> tuple[float, BaseException | None, bool]:
    """(seconds taken, what fetch raised, whether it ended within wait_s): a fetch that never ends fails the test
    instead of hanging it (the server's stop ends the trickle, and so that thread)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            get(url, FakeTime(), **overrides)
            outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(wait_s)
    return time.monotonic() - started, outcome[0] if outcome else None, not worker.is_alive()


def test_a_trickled_body_ends_at_the_attempt_deadline(server: FaultServer) -> None:
    """One byte every 0.1 s never trips a 1 s read timeout, so a fetch never ended, whatever its budget."""
    server.script("/odds", ("trickle", 0.1), ("trickle", 0.1))
    took, raised, ended = _fetch_in_thread(server.url("/odds"), 15.0, attempt_deadline_s=1.0)
    assert ended, "the fetch was still reading the trickle"
    assert isinstance(raised, FetchError), raised
    assert "no complete answer within the attempt's 1 s deadline" in str(raised)
    assert raised.attempts == 2 and 1.5 < took < 6


def test_a_trickle_ends_at_the_total_budget(server: FaultServer) -> None:
    server.script("/odds", ("trickle", 0.1))
    took, raised, ended = _fetch_in_thread(server.url("/odds"), 15.0, total_budget_s=1.5)  # deadline 60 s
    assert ended and isinstance(raised, FetchError), raised
    assert "deadline" in str(raised) and raised.attempts == 1 and 1.0 < took < 5


# ------------------------------------------------------------------------------------------ error bodies


def test_an_error_page_cannot_drive_the_terminal(server: FaultServer) -> None:
    """A 404 body's escape sequences (set the title, clear the screen) reached the terminal, history and alerts."""
    page = b'\x1b]0;PWNED\x07\x1b[2J\x1b[31mFAKE ERROR\x1b[0m\r\n{"kind":"fake"}\nok\x9b' + b"x" * 5000
    server.replay("/odds", page, status=404, content_type="text/plain")
    with pytest.raises(FetchError) as caught:
        get(server.url("/odds"), FakeTime())
    message = str(caught.value)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in message), repr(message)
    assert r"HTTP 404 Not Found: \x1b]0;PWNED\x07\x1b[2J\x1b[31mFAKE ERROR\x1b[0m {" in message
    assert "x" * 200 not in message  # an excerpt, not the page


def test_the_url_a_redirect_leads_to_is_recorded_redacted(server: FaultServer, other: FaultServer) -> None:
    server.script("/odds", ("status", 307, {"Location": other.url("/capture") + f"?api_key={TOKEN}"}))
    result = get(server.url("/odds"), FakeTime())
    assert TOKEN not in result.url and result.url == other.url("/capture") + "?api_key=REDACTED"

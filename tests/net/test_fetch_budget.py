"""The fetch layer's time bounds against real loopback servers: what is left of the total budget bounds each
attempt (its connect timeout too, and a redirect hop's), a wait that would reach the end of the budget is not
taken, a body cut off by the attempt's deadline is never taken for the answer, and `Retry-After` is read in
every form a server writes it."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from projections.errors import FetchError
from projections.fetch import FetchPolicy, FetchResult, fetch, make_client
from projections.fetch_send import retry_after_s
from tests.net.conftest import ODDS, run_bounded
from tests.net.faketime import FakeTime
from tests.net.faultserver import FaultServer
from tests.net.test_hostile_server import raw_server, read_request


class SkipAhead(FakeTime):
    """The real monotonic clock, moved on by every (recorded, not slept) backoff wait: a long wait costs the
    budget its seconds while the test takes none of them."""

    def clock(self) -> float:
        return time.monotonic() + sum(self.sleeps)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))


def policy(fake: FakeTime, **overrides: object) -> FetchPolicy:
    values: dict[str, object] = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_attempts": 2,
                                 "total_budget_s": 30.0, "min_interval_s": 0.0, "sleep": fake.sleep,
                                 "clock": fake.clock, "random": lambda: 0.5}
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


def fetch_within(url: str, wait_s: float, chosen: FetchPolicy) -> tuple[float, FetchResult | BaseException | None]:
    """(seconds taken, what `fetch` returned or raised; None if it was still running after `wait_s`)."""

    def call() -> FetchResult:
        with make_client(chosen) as client:
            return fetch(url, client=client, policy=chosen, source="odds")

    took, outcome, _ = run_bounded(call, wait_s)
    return took, outcome


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A loopback port whose listener never accepts and whose backlog is full: a connect to it hangs (its SYNs
    are dropped) until the client's connect timeout, as to a host that is down behind a firewall."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener, contextlib.ExitStack() as held:
        port = listener.getsockname()[1]
        for _ in range(16):
            probe = held.enter_context(socket.socket())
            probe.settimeout(0.2)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("this kernel answers every connect to a full backlog")
        yield port


# ------------------------------------------------------------------------------------- the budget left


@pytest.mark.timeout(60)
def test_a_connect_that_hangs_ends_when_the_budget_does_not_at_the_connect_timeout() -> None:
    """The watchdog learns a socket only once it is connected, so the connect timeout alone bounds a connect:
    it is cut to what is left of the budget (1.5 s here), not the 30 s the settings give a connect."""
    with unanswered_port() as port:
        took, raised = fetch_within(f"http://127.0.0.1:{port}/odds", 8.0,
                                    policy(FakeTime(), clock=time.monotonic, connect_timeout=30.0,
                                           total_budget_s=1.5, max_attempts=1))
    assert raised is not None, "the connect was still waiting past the 1.5 s budget"
    assert isinstance(raised, FetchError), raised
    assert isinstance(raised.__cause__, httpx.ConnectTimeout) and raised.attempts == 1 and 1.0 < took < 6


@pytest.mark.timeout(60)
def test_a_redirect_hop_keeps_the_attempts_timeout_cut_to_the_budget(server: FaultServer) -> None:
    """A hop is a new request: built from the client it got the client's own connect timeout (30 s), so a hop
    to a host that never answers outlived the 1.5 s budget."""
    with unanswered_port() as port:
        server.script("/odds", ("status", 302, {"Location": f"http://127.0.0.1:{port}/capture"}))
        took, raised = fetch_within(server.url("/odds"), 8.0,
                                    policy(FakeTime(), clock=time.monotonic, connect_timeout=30.0,
                                           total_budget_s=1.5, max_attempts=1))
    assert raised is not None, "the redirect hop was still connecting past the 1.5 s budget"
    assert isinstance(raised, FetchError), raised
    assert isinstance(raised.__cause__, httpx.ConnectTimeout) and 1.0 < took < 6
    assert len(server.requests_to("/odds")) == 1


@pytest.mark.timeout(60)
def test_a_later_attempt_has_only_what_the_earlier_ones_left_of_the_budget(server: FaultServer) -> None:
    """Retry-After 8 s of a 10 s budget leaves 2 s: the second attempt (a body trickled forever) ends then, not
    after its own 30 s deadline or the whole budget again."""
    server.script("/odds", ("status", 503, {"Retry-After": "8"}), ("trickle", 0.1))
    skip = SkipAhead()
    took, raised = fetch_within(server.url("/odds"), 7.0,
                                policy(skip, total_budget_s=10.0, attempt_deadline_s=30.0, read_timeout=5.0))
    assert raised is not None, "the second attempt was still reading past the budget"
    assert isinstance(raised, FetchError), raised
    assert skip.sleeps == [8.0] and raised.attempts == 2 and 1.5 < took < 5
    assert "2) no complete answer within the attempt's" in str(raised)
    assert len(server.requests_to("/odds")) == 2


def test_a_wait_that_would_end_exactly_at_the_budget_is_not_taken(server: FaultServer) -> None:
    """Sleeping until the budget is spent only to try with no time left helps nobody: Retry-After 5 of 5 s."""
    server.script("/odds", ("status", 429, {"Retry-After": "5"}))
    fake = FakeTime()
    chosen = policy(fake, total_budget_s=5.0)
    with make_client(chosen) as client, pytest.raises(
            FetchError, match=r"Retry-After of 5\.00 s would overrun the 5 s budget \(5\.00 s left\)") as caught:
        fetch(server.url("/odds"), client=client, policy=chosen)
    assert fake.sleeps == [] and caught.value.attempts == 1
    assert len(server.requests_to("/odds")) == 1


# ------------------------------------------------------------------------------- a body cut off in time


def test_a_body_the_deadline_cut_short_is_not_the_answer() -> None:
    """A close-delimited body (HTTP/1.0, no Content-Length) ends where the connection does, and the watchdog's
    shutdown ends it too: the 300 bytes read by then came back as a good 200 answer, half a payload."""

    def serve(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn, bytearray())
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + ODDS[:300])
        stopping.wait(20.0)  # the rest never comes, and the connection stays open

    with raw_server(serve) as base:
        took, raised = fetch_within(base + "/odds", 6.0,
                                    policy(FakeTime(), clock=time.monotonic, attempt_deadline_s=1.0,
                                           read_timeout=30.0, max_attempts=1))
    assert raised is not None, "the fetch was still reading past its deadline"
    assert not isinstance(raised, FetchResult), f"a cut-off body was taken: {raised.content[-40:]!r}"
    assert isinstance(raised, FetchError), raised
    assert "no complete answer within the attempt's 1 s deadline" in str(raised) and took < 4


# ----------------------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize("value, seconds", [
    ("-5", 0.0),  # a negative delta is "now", not a negative sleep
    ("inf", None), ("nan", None), ("-inf", None),  # no wait to honour: the backoff's own applies
    ("Tue, 22 Oct 2019 23:00:07 -0000", 7.0),  # "-0000": UTC, which email.utils reads as no zone at all
    ("Tue, 22 Oct 2019 23:00:07", 7.0),  # no zone at all: UTC too
    ("Tue, 22 Oct 2019 22:59:50 GMT", 0.0),  # a date already past: at once
    ("soon", None),
])
def test_retry_after_forms(value: str, seconds: float | None) -> None:
    assert retry_after_s(httpx.Headers({"Retry-After": value, "Date": "Tue, 22 Oct 2019 23:00:00 GMT"})) == seconds


def test_retry_after_date_without_a_date_header_is_measured_against_our_clock() -> None:
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), usegmt=True)
    seconds = retry_after_s(httpx.Headers({"Retry-After": later}))
    assert seconds is not None and 3590 < seconds <= 3600
    assert retry_after_s(httpx.Headers({"Retry-After": later, "Date": "garbage"})) == pytest.approx(seconds, abs=5)

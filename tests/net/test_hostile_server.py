"""projections.fetch against a real loopback server that misbehaves on purpose: redirects that would carry our keys
to another host, bodies too big to hold (plain or a gzip bomb), a body trickled a byte at a time, and error pages
written to drive the terminal. Backoff waits are fake (recorded, not slept); the deadlines are real wall-clock."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

from projections.errors import FetchError
from projections.fetch import FetchPolicy, FetchResult, fetch, make_client
from tests.net.conftest import ODDS, run_bounded
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


@contextlib.contextmanager
def raw_server(serve: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback server writing raw bytes (what FaultServer cannot: keep-alive, an error page without end):
    `serve(connection, stopping)` runs per connection on its own thread; yields the base URL. Leaving it sets
    `stopping`, closes the listener and joins every thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.02)
    stopping = threading.Event()
    handlers: list[threading.Thread] = []

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client hung up: nothing left to tell it
            conn.settimeout(5.0)
            serve(conn, stopping)

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            handler = threading.Thread(target=handle, args=(conn,), daemon=True)
            handler.start()
            handlers.append(handler)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        acceptor.join(5.0)
        listener.close()
        for handler in handlers:
            handler.join(5.0)


def read_request(conn: socket.socket, pending: bytearray) -> bool:
    """Consume one request's head (a GET has no body) from `conn` into nothing; False when the client hung up."""
    while b"\r\n\r\n" not in pending:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        pending += chunk
    del pending[: pending.index(b"\r\n\r\n") + 4]
    return True


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


def test_a_secret_client_default_header_is_not_sent_to_another_origin(server: FaultServer, other: FaultServer) -> None:
    """A key set once on the client (make_client's base_headers) is no header the fetch call added, so only its
    secret-looking name keeps it from the host a redirect names: without that check it went there."""
    server.script("/odds", ("status", 302, {"Location": other.url("/capture")}))
    chosen = policy(FakeTime())
    with make_client(chosen, base_headers={"X-Api-Key": TOKEN}) as client:
        result = fetch(server.url("/odds"), client=client, policy=chosen, source="odds")
    assert result.content == ODDS and result.url == other.url("/capture")
    assert server.requests_to("/odds")[0].headers["x-api-key"] == TOKEN
    hop, = other.requests_to("/capture")
    assert "x-api-key" not in hop.headers and TOKEN not in repr(hop.headers), hop.headers


def test_a_redirect_to_another_host_names_that_host(server: FaultServer, other: FaultServer) -> None:
    """The hop copied the first request's Host header: the other server was asked for the first one's host and
    port (a virtual host there answers for the wrong site, or 421/404)."""
    server.script("/odds", ("status", 302, {"Location": other.url("/capture")}))
    assert get(server.url("/odds"), FakeTime()).content == ODDS
    assert server.requests_to("/odds")[0].headers["host"] == f"127.0.0.1:{server.port}"
    assert other.requests_to("/capture")[0].headers["host"] == f"127.0.0.1:{other.port}"


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


def test_a_gzip_body_that_decodes_to_nothing_stops_at_the_cap_on_its_wire_size() -> None:
    """A gzip header whose comment never ends: zlib reads it and decodes no byte, so only the bytes on the wire
    grow (3 MiB here, close-delimited, no Content-Length). Capped on the decoded size alone, all of it was read
    and the fetch "succeeded" with an empty body; it stops at the cap."""
    def serve(conn: socket.socket, stopping: threading.Event) -> None:
        if read_request(conn, bytearray()):
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\r\n"
                         + b"\x1f\x8b\x08\x10\x00\x00\x00\x00\x00\x03")  # FCOMMENT set: a comment follows
            for _ in range(48):
                if stopping.is_set():
                    return
                conn.sendall(b"a" * 2**16)

    with raw_server(serve) as base, pytest.raises(FetchError, match=r"1\) the answer sent a body over the cap of "
                                                                    r"1,048,576 bytes \(1 MiB\) \(stopped reading"):
        get(base + "/odds", FakeTime(), max_body_bytes=2**20)


def test_a_body_under_the_cap_is_whole(server: FaultServer) -> None:
    assert get(server.url("/odds"), FakeTime(), max_body_bytes=len(ODDS)).content == ODDS


def test_a_body_announced_one_byte_over_the_cap_is_refused_before_it_is_read(server: FaultServer) -> None:
    """The announced length is held to the cap itself, not to some multiple of it (a 3 GB announcement alone
    would not show that)."""
    with pytest.raises(FetchError, match=rf"1\) the answer announces a body of {len(ODDS):,} bytes, over the cap "
                                         rf"of {len(ODDS) - 1:,} bytes .*\(nothing read\)"):
        get(server.url("/odds"), FakeTime(), max_body_bytes=len(ODDS) - 1)


# ------------------------------------------------------------------------------------------ deadlines


def _fetch_in_thread(url: str, wait_s: float,
                     **overrides: object) -> tuple[float, FetchResult | BaseException | None, bool]:
    """(seconds taken, what fetch returned or raised, whether it ended within wait_s) (the server's stop ends a
    trickle, and so the thread of a fetch that never ended)."""
    return run_bounded(lambda: get(url, FakeTime(), **overrides), wait_s)


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


def test_a_stalled_answer_ends_at_the_attempt_deadline_despite_a_long_read_timeout(server: FaultServer) -> None:
    """A server that accepts and then says nothing held the attempt for the whole 30 s read timeout: the
    deadline's watchdog never shut the socket down (or never learnt it, without the trace hook)."""
    server.script("/odds", ("stall", 20.0))
    took, raised, ended = _fetch_in_thread(server.url("/odds"), 4.0, attempt_deadline_s=1.0, read_timeout=30.0,
                                           max_attempts=1)
    assert ended, "the fetch was still waiting for the stalled answer"
    assert isinstance(raised, FetchError), raised
    assert "no complete answer within the attempt's 1 s deadline" in str(raised)
    assert raised.attempts == 1 and took < 3


def test_an_attempt_on_a_kept_alive_connection_still_ends_at_its_deadline() -> None:
    """Without `Connection: close` the second fetch reused the first one's pooled connection; no new socket was
    connected, so the watchdog knew none and a server stalling on it held the attempt for the 30 s read timeout."""
    served = threading.Event()

    def serve(conn: socket.socket, stopping: threading.Event) -> None:
        pending = bytearray()
        while read_request(conn, pending):
            if served.is_set():  # every later request: no answer at all
                stopping.wait(20.0)
                return
            served.set()  # the first: answered, and the connection kept open for another
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(ODDS)).encode() + b"\r\n\r\n" + ODDS)

    with raw_server(serve) as base:
        chosen = policy(FakeTime(), attempt_deadline_s=1.0, read_timeout=30.0, max_attempts=1)
        with make_client(chosen) as client:
            assert fetch(base + "/odds", client=client, policy=chosen, source="odds").content == ODDS
            outcome: list[BaseException] = []

            def run() -> None:
                try:
                    fetch(base + "/odds", client=client, policy=chosen, source="odds")
                except BaseException as exc:  # handed to the test
                    outcome.append(exc)

            started = time.monotonic()
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            worker.join(4.0)
            took = time.monotonic() - started
            assert not worker.is_alive(), "the second fetch was still waiting on the kept-alive connection"
    raised, = outcome
    assert isinstance(raised, FetchError), raised
    assert "no complete answer within the attempt's 1 s deadline" in str(raised) and took < 3


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


PLAIN_404 = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
GZIP_404 = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
            + b"\x1f\x8b\x08\x10\x00\x00\x00\x00\x00\x03")  # a gzip header with FCOMMENT set: a comment follows


@pytest.mark.parametrize("head, chunk, shown", [
    (PLAIN_404, b"x" * 512, "HTTP 404 Not Found: xxx"),
    # decodes to no byte, ever: the excerpt loop counted decoded bytes only, so it never stopped (64 KiB on the wire
    # now end it)
    (GZIP_404, b"a" * 4096, "HTTP 404 Not Found"),
], ids=["plain", "gzip-decoding-to-nothing"])
def test_an_endless_error_page_is_read_only_for_its_excerpt(head: bytes, chunk: bytes, shown: str) -> None:
    """The 404 page was read until the attempt's deadline (an endless one: 20 s and all of it downloaded) just
    to show 160 characters of it."""
    sent: list[int] = []

    def serve(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn, bytearray())
        conn.sendall(head)
        total = 0
        try:
            while not stopping.is_set():  # a chunk every 2 ms, until the client hangs up
                conn.sendall(chunk)
                total += len(chunk)
                time.sleep(0.002)
        finally:
            sent.append(total)

    with raw_server(serve) as base:
        took, raised, ended = _fetch_in_thread(base + "/odds", 4.0, attempt_deadline_s=20.0)
        assert ended, "the fetch was still reading the endless error page"
        for _ in range(200):  # the server notices the hang-up at its next write or two
            if sent:
                break
            time.sleep(0.01)
    assert isinstance(raised, FetchError), raised
    assert shown in str(raised) and raised.attempts == 1 and took < 3
    # what the server pushed into the socket buffers before the client hung up (4.6 KB when idle; bounded loosely,
    # as a loaded machine closes later): without the cap the fetch reads until its 20 s deadline, failing above
    assert sent and sent[0] < 1 << 20, sent

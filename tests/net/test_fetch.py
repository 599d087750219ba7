"""projections.fetch against a real loopback server with scripted faults; no test waits for a backoff."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
import time
import traceback
from collections.abc import Iterator

import httpx
import pytest

from projections.errors import ConfigError, ContractViolation, FetchError
from projections.fetch import FetchPolicy, FetchResult, fetch, make_client
from projections.redaction import redact
from tests.net.conftest import ODDS
from tests.net.faketime import FakeTime
from tests.net.faultserver import FaultServer, recorded

PLAYERS = recorded("api/stats_cassettes/scenarios__test_common_CommonAllPlayers.json")


def make_policy(fake: FakeTime, **overrides: object) -> FetchPolicy:
    settings: dict[str, object] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "max_attempts": 4,
        "total_budget_s": 60.0,
        "base_wait_s": 1.0,
        "max_wait_s": 8.0,
        "min_interval_s": 0.0,
        "sleep": fake.sleep,
        "clock": fake.clock,
        "random": lambda: 0.5,
    }
    settings.update(overrides)
    return FetchPolicy(**settings)  # type: ignore[arg-type]


def at_least_one_game(content: bytes) -> None:
    try:
        games = json.loads(content)
    except ValueError as exc:
        raise ContractViolation(f"odds payload is not JSON ({exc})", stage="odds") from exc
    if not isinstance(games, list) or not games:
        raise ContractViolation("odds payload lists zero games", stage="odds")


def plausible_roster(content: bytes) -> None:
    rows = json.loads(content)["resultSets"][0]["rowSet"]
    if len(rows) < 8:
        raise ContractViolation(f"roster of {len(rows)} players is implausible", stage="rosters")


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake: FakeTime) -> Iterator[httpx.Client]:
    with make_client(make_policy(fake)) as opened:
        yield opened


def get(server: FaultServer, client: httpx.Client, policy: FetchPolicy, **kwargs: object) -> FetchResult:
    return fetch(server.url("/odds"), client=client, policy=policy, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- transport faults


def test_refused_connection_is_retried_then_reported(client: httpx.Client, fake: FakeTime) -> None:
    with socket.socket() as bound:  # bound but not listening: every connect is refused, no race
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/odds"
        with pytest.raises(FetchError, match=r"failed after 3 attempts") as caught:
            fetch(url, client=client, policy=make_policy(fake, max_attempts=3))
    assert caught.value.attempts == 3
    assert caught.value.url == url
    assert fake.sleeps == [0.5, 1.0]
    message = str(caught.value)
    assert message.count("Connection refused") == 3
    assert "check the network" in message
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.timeout(10)
def test_unresolvable_host_is_retried_and_reported_as_dns(client: httpx.Client, fake: FakeTime) -> None:
    # `.invalid` is reserved (RFC 6761); on the offline CI box resolution fails in ~30 ms.
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"DNS lookup of nonexistent\.invalid failed") as caught:
        fetch("http://nonexistent.invalid/odds", client=client, policy=make_policy(fake, max_attempts=2))
    assert caught.value.attempts == 2
    assert fake.sleeps == [0.5]
    assert "can it resolve nonexistent.invalid?" in str(caught.value)
    assert time.monotonic() - started < 8


def test_stalled_response_times_out_then_succeeds(server: FaultServer, fake: FakeTime) -> None:
    server.script("/odds", ("stall", 5.0))
    policy = make_policy(fake, read_timeout=0.2)
    started = time.monotonic()
    with make_client(policy) as client:
        result = get(server, client, policy)
    assert time.monotonic() - started < 2.0  # one 0.2 s read timeout, not the 5 s stall
    assert (result.attempts, result.waits, result.content) == (2, (0.5,), ODDS)
    assert len(server.requests_to("/odds")) == 2


def test_persistent_stall_is_reported_as_timeout(server: FaultServer, fake: FakeTime) -> None:
    server.script("/odds", ("stall", 5.0), ("stall", 5.0))
    policy = make_policy(fake, read_timeout=0.1, max_attempts=2)
    with make_client(policy) as client, pytest.raises(FetchError, match=r"ReadTimeout.*ReadTimeout"):
        get(server, client, policy)
    assert fake.sleeps == [0.5]


def test_truncated_body_is_retried(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    server.script("/odds", ("truncate", ODDS[:500]))
    result = get(server, client, make_policy(fake))
    assert (result.attempts, result.waits, result.content) == (2, (0.5,), ODDS)


def test_dropped_connection_is_retried(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    server.script("/odds", ("close",), ("close",))
    result = get(server, client, make_policy(fake))
    assert (result.attempts, result.waits, result.status) == (3, (0.5, 1.0), 200)
    assert len(server.requests_to("/odds")) == 3


# ----------------------------------------------------------------------------------------- HTTP status


def test_500s_then_success_with_full_jitter(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    server.script("/odds", ("status", 500), ("status", 502), ("status", 500))
    draws = iter([0.25, 0.5, 1.0])
    result = get(server, client, make_policy(fake, random=lambda: next(draws)))
    # expo ceilings 1, 2, 4 times the jitter draws
    assert result.waits == (0.25, 1.0, 4.0)
    assert fake.sleeps == [0.25, 1.0, 4.0]
    assert (result.attempts, result.status, result.content) == (4, 200, ODDS)
    assert len(server.requests_to("/odds")) == 4


def test_429_retry_after_seconds_replaces_the_jittered_wait(
    server: FaultServer, client: httpx.Client, fake: FakeTime
) -> None:
    server.script("/odds", ("status", 429, {"Retry-After": "2"}))
    result = get(server, client, make_policy(fake))
    assert result.waits == (2.0,)  # the jittered wait would have been 0.5
    assert result.attempts == 2


def test_503_retry_after_http_date_is_measured_against_the_server_date(
    server: FaultServer, client: httpx.Client, fake: FakeTime
) -> None:
    server.script(
        "/odds",
        (
            "status",
            503,
            {"Date": "Tue, 22 Oct 2019 23:00:00 GMT", "Retry-After": "Tue, 22 Oct 2019 23:00:03 GMT"},
        ),
    )
    result = get(server, client, make_policy(fake))
    assert result.waits == (3.0,)


def test_retry_after_beyond_the_budget_gives_up_at_once(
    server: FaultServer, client: httpx.Client, fake: FakeTime
) -> None:
    server.script("/odds", ("status", 429, {"Retry-After": "3600"}))
    with pytest.raises(FetchError, match=r"Retry-After of 3600.00 s would overrun the 60 s budget") as caught:
        get(server, client, make_policy(fake))
    assert caught.value.attempts == 1
    assert fake.sleeps == []


def test_404_fails_at_once(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    with pytest.raises(FetchError, match=r"failed after 1 attempt .*not retryable.*HTTP 404") as caught:
        fetch(server.url("/nope"), client=client, policy=make_policy(fake), settings_key="ODDS_URL")
    assert caught.value.attempts == 1
    assert fake.sleeps == []
    assert len(server.requests_to("/nope")) == 1
    assert "check the endpoint URL and its parameters (setting ODDS_URL)" in str(caught.value)


# ------------------------------------------------------------------------------------ payload contracts


def test_empty_and_truncated_payloads_are_retried(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    server.script("/odds", ("body", b""), ("body", b"[]"), ("body", ODDS[:300]))
    result = get(server, client, make_policy(fake, max_attempts=5), validate=at_least_one_game)
    assert (result.attempts, result.waits, result.content) == (4, (0.5, 1.0, 2.0), ODDS)


def test_persistently_implausible_payload_is_reported(server: FaultServer, fake: FakeTime) -> None:
    two = json.loads(PLAYERS)
    two["resultSets"][0]["rowSet"] = two["resultSets"][0]["rowSet"][:2]
    server.replay("/players", json.dumps(two).encode())
    policy = make_policy(fake, max_attempts=3)
    with make_client(policy) as client, pytest.raises(FetchError, match="roster of 2 players") as caught:
        fetch(server.url("/players"), client=client, policy=policy, validate=plausible_roster, source="rosters")
    assert caught.value.attempts == 3
    assert str(caught.value).startswith("rosters: GET ")
    assert str(caught.value).count("payload rejected") == 3
    assert isinstance(caught.value.__cause__, ContractViolation)
    assert fake.sleeps == [0.5, 1.0]


def test_full_roster_passes_validation(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    server.replay("/players", PLAYERS)
    result = fetch(server.url("/players"), client=client, policy=make_policy(fake), validate=plausible_roster)
    assert (result.attempts, result.waits) == (1, ())


# ------------------------------------------------------------------------------------ budget and pacing


def test_total_budget_stops_retries(server: FaultServer, client: httpx.Client, fake: FakeTime) -> None:
    server.script("/odds", *[("status", 500)] * 10)
    policy = make_policy(fake, max_attempts=10, total_budget_s=10.0, max_wait_s=100.0, random=lambda: 1.0)
    with pytest.raises(FetchError, match=r"next backoff wait of 8.00 s would overrun the 10 s budget") as caught:
        get(server, client, policy)
    # waits 1, 2, 4 leave 3 s of the 10 s budget; the next wait (8 s) is not taken
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert caught.value.attempts == 4
    assert len(server.requests_to("/odds")) == 4


def test_backoff_schedule_is_exponential_and_capped() -> None:
    policy = FetchPolicy(random=lambda: 1.0)
    waits = policy.jittered_waits()
    assert [next(waits) for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_rate_limit_spaces_requests_to_one_host(server: FaultServer, fake: FakeTime) -> None:
    policy = make_policy(fake, min_interval_s=0.5)
    with make_client(policy) as client:
        results = [get(server, client, policy) for _ in range(3)]
        other_host = fetch(f"http://localhost:{server.port}/odds", client=client, policy=policy)
    assert [r.throttled_s for r in results] == [0.0, 0.5, 0.5]
    assert [r.waits for r in results] == [(), (), ()]
    assert other_host.throttled_s == 0.0
    assert fake.sleeps == [0.5, 0.5]


def test_rate_limit_is_thread_safe(server: FaultServer) -> None:
    interval = 0.05
    policy = FetchPolicy(min_interval_s=interval, connect_timeout=2.0, read_timeout=2.0, max_attempts=1)
    results: list[FetchResult] = []
    errors: list[BaseException] = []

    def one(client: httpx.Client) -> None:
        try:
            results.append(get(server, client, policy))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    begin = time.monotonic()
    with make_client(policy) as client:
        threads = [threading.Thread(target=one, args=(client,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    # Four threads booked four distinct slots one interval apart: the i-th request to arrive cannot have
    # been sent before slot i. (A lower bound only, so a loaded machine cannot make this flaky.)
    arrivals = sorted(request.at for request in server.requests_to("/odds"))
    assert len(arrivals) == 4
    for i, arrived in enumerate(arrivals):
        assert arrived - begin >= i * interval - 1e-3
    assert sorted(round(r.throttled_s / interval) for r in results) == [0, 1, 2, 3]


# --------------------------------------------------------------------------------------------- secrets

SECRETS = ("SEKRET123", "HDRSEKRET456", "PARAMSEKRET789", "COOKIESEKRET000")


def test_secrets_reach_the_server_but_never_the_result_or_logs(
    server: FaultServer, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    server.replay("/odds", ODDS, headers={"Set-Cookie": "sid=COOKIESEKRET000", "X-Request-Id": "r-1"})
    server.script("/odds", ("status", 500))
    policy = make_policy(fake)
    caplog.set_level(logging.DEBUG, logger="projections.fetch")
    with make_client(policy, base_headers={"X-Api-Key": "HDRSEKRET456"}) as client:
        result = fetch(
            server.url("/odds?api_key=SEKRET123&date=2019-10-22"),
            client=client,
            policy=policy,
            params={"Token": "PARAMSEKRET789"},
        )
    seen = server.requests_to("/odds")
    assert seen[-1].query["api_key"] == ["SEKRET123"]
    assert seen[-1].query["Token"] == ["PARAMSEKRET789"]
    assert seen[-1].headers["x-api-key"] == "HDRSEKRET456"
    assert result.attempts == 2
    assert "api_key=REDACTED" in result.url and "Token=REDACTED" in result.url and "date=2019-10-22" in result.url
    assert "set-cookie" not in result.headers and result.headers["x-request-id"] == "r-1"
    assert any("attempt 1 failed" in record.getMessage() for record in caplog.records)
    exposed = repr(dataclasses.replace(result, content=b"")) + caplog.text
    for secret in SECRETS:
        assert secret not in exposed


def test_secrets_never_reach_error_messages(
    server: FaultServer, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    server.replay("/auth", b'{"error": "invalid api_key=SEKRET123 for Bearer HDRSEKRET456"}', status=401)
    policy = make_policy(fake)
    caplog.set_level(logging.DEBUG, logger="projections.fetch")
    with (
        make_client(policy, base_headers={"Authorization": "Bearer HDRSEKRET456"}) as client,
        pytest.raises(FetchError, match=r"HTTP 401 Unauthorized: .*api_key=REDACTED") as caught,
    ):
        fetch(server.url("/auth?api_key=SEKRET123"), client=client, policy=policy, settings_key="ODDS_API_KEY")
    assert caught.value.attempts == 1
    assert "check the API key/token (setting ODDS_API_KEY)" in str(caught.value)
    shown = [
        line for exc in (caught.value, caught.value.__cause__) if exc for line in traceback.format_exception_only(exc)
    ]
    exposed = "".join(shown) + caught.value.url + caplog.text
    for secret in SECRETS:
        assert secret not in exposed


def test_redact_forms() -> None:
    assert redact("https://h/x?API_KEY=abc&apikey=d&key=e&sig=f&season=2019") == (
        "https://h/x?API_KEY=REDACTED&apikey=REDACTED&key=REDACTED&sig=REDACTED&season=2019"
    )
    assert redact("https://u:hunter2@h/x?access_token=t&Password=p&secret=s") == (
        "https://u:REDACTED@h/x?access_token=REDACTED&Password=REDACTED&secret=REDACTED"
    )
    assert redact('{"token": "abc", "team": "BOS"}') == '{"token": "REDACTED", "team": "BOS"}'
    assert redact("Authorization: Bearer abcdefgh1234") == "Authorization: REDACTED"
    assert redact("sent Bearer abcdefgh1234 upstream") == "sent Bearer REDACTED upstream"
    assert redact("echoed S3KR3T+value", secrets=["S3KR3T+value"]) == "echoed REDACTED"
    assert redact("q=S3KR3T%2Bvalue", secrets=["S3KR3T+value"]) == "q=REDACTED"


# ------------------------------------------------------------------------------------ client and config


def test_make_client_sets_explicit_timeouts() -> None:
    policy = FetchPolicy(connect_timeout=3.0, read_timeout=7.0, write_timeout=9.0, pool_timeout=1.5)
    with make_client(policy, base_headers={"Referer": "https://www.nba.com/"}) as client:
        assert client.timeout == httpx.Timeout(connect=3.0, read=7.0, write=9.0, pool=1.5)
        assert client.headers["referer"] == "https://www.nba.com/"
        assert client.headers["user-agent"].startswith("projections/")


def test_production_defaults() -> None:
    policy = FetchPolicy()
    assert (policy.connect_timeout, policy.read_timeout, policy.max_attempts, policy.total_budget_s) == (
        5.0,
        20.0,
        6,
        120.0,
    )


@pytest.mark.parametrize(
    "bad",
    [{"max_attempts": 0}, {"read_timeout": 0}, {"total_budget_s": -1}, {"base_wait_s": 5, "max_wait_s": 1}],
)
def test_policy_rejects_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="invalid FetchPolicy"):
        FetchPolicy(**bad)  # type: ignore[arg-type]


def test_unusable_url_is_a_config_error(client: httpx.Client, fake: FakeTime) -> None:
    with pytest.raises(ConfigError, match="unsupported protocol"):
        fetch("ftp://example.invalid/x?token=SEKRET123", client=client, policy=make_policy(fake))


# -------------------------------------------------------------------------------------- the server itself


def test_fault_server_stops_cleanly_even_while_stalled() -> None:
    before = set(threading.enumerate())
    server = FaultServer().start()
    port = server.port
    server.replay("/slow", b"{}")
    server.script("/slow", ("stall", 30.0))
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /slow HTTP/1.0\r\n\r\n")
        deadline = time.monotonic() + 2
        while not server.requests_to("/slow") and time.monotonic() < deadline:
            time.sleep(0.005)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
        assert conn.recv(10) == b""  # dropped, not answered
    assert set(threading.enumerate()) <= before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_fault_server_rejects_unknown_faults() -> None:
    with FaultServer() as server, pytest.raises(ValueError, match="unknown fault"):
        server.script("/x", ("explode",))


def test_secrets_echoed_bare_are_scrubbed_from_headers_and_errors(server: FaultServer, fake: FakeTime,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A server that echoes a credential as a bare word - not as `api_key=...` or after `Bearer`, which the
    generic patterns catch - is scrubbed by the literal values the request carried: a secret header's value,
    the credential after "Basic", a secret parameter and the URL's password."""
    import base64

    basic = base64.b64encode(b"svc:BASICSEKRET222").decode()
    echoed = f"seen HDRSEKRET456 and {basic} and PARAMSEKRET789 and PWSEKRET111"
    server.replay("/ok", ODDS, headers={"X-Echo": echoed})
    server.replay("/denied", f'{{"error": "{echoed}"}}'.encode(), status=403)
    policy = make_policy(fake)
    caplog.set_level(logging.DEBUG, logger="projections.fetch")
    secrets = ("HDRSEKRET456", basic, "PARAMSEKRET789", "PWSEKRET111")
    with make_client(policy, base_headers={"X-Api-Key": "HDRSEKRET456", "Proxy-Authorization": f"Basic {basic}"}) \
            as client:
        with_password = server.url("/ok").replace("://", "://user:PWSEKRET111@", 1)
        result = fetch(with_password, client=client, policy=policy, params={"Token": "PARAMSEKRET789"})
        assert result.headers["x-echo"] == "seen REDACTED and REDACTED and REDACTED and REDACTED"
        with pytest.raises(FetchError) as caught:
            fetch(server.url("/denied").replace("://", "://user:PWSEKRET111@", 1), client=client, policy=policy,
                  params={"Token": "PARAMSEKRET789"})
    shown = "".join(traceback.format_exception_only(caught.value)) + caught.value.url + caplog.text
    assert "seen REDACTED and REDACTED" in shown and "attempt 1 failed" in caplog.text, shown
    assert not [s for s in secrets if s in shown + repr(dataclasses.replace(result, content=b""))]


@pytest.mark.parametrize("expected", [(), (404,)], ids=["unexpected", "expected"])
def test_an_expected_status_is_given_up_on_quietly_and_still_raised(server: FaultServer, fake: FakeTime,
                                                                    caplog: pytest.LogCaptureFixture,
                                                                    expected: tuple[int, ...]) -> None:
    """A 404 the caller expects (a box score the feed keeps none of) raises the same FetchError, but its giving up is
    logged at DEBUG: a season's fetch of box scores does not warn once a game a user can do nothing about; another
    status, or a 404 not expected, still warns."""
    server.replay("/box", b"gone", status=404)
    server.replay("/down", b"busy", status=503)
    policy = make_policy(fake)
    caplog.set_level(logging.DEBUG, logger="projections.fetch")
    with make_client(policy) as client:
        for path in ("/box", "/down"):
            with pytest.raises(FetchError, match=r"HTTP (404|503)"):
                fetch(server.url(path), client=client, policy=policy, expected_status=expected)
    levels = {(record.getMessage().split()[1].rsplit("/", 1)[-1], record.levelno) for record in caplog.records
              if "giving up" in record.getMessage()}
    assert levels == {("box", logging.DEBUG if expected else logging.WARNING), ("down", logging.WARNING)}

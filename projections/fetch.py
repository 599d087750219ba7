"""The one HTTP fetch layer every live source uses: httpx for transport, backoff for the wait schedule.

`fetch` retries what time can fix (DNS failures, refused or reset connections, connect/read timeouts,
truncated or dropped responses, 429, 5xx, and payloads that `validate` rejects with ContractViolation)
with exponential backoff and full jitter inside a total time budget. `Retry-After` on 429/503 replaces
the jittered wait. Any other non-2xx answer fails at once. Requests to one host are spaced by a minimum
interval. Secrets never leave this module: URLs, headers, messages and log lines pass through `redact`
(projections.redaction). Each attempt (projections.fetch_send) follows redirects itself, sending the caller's
headers to the endpoint's own origin only, reads at most `max_body_bytes` and ends at a wall-clock deadline
(`attempt_deadline_s`, and whatever is left of `total_budget_s`); the result names the URL that answered.

Raises:
    FetchError: retries exhausted, budget spent, or an answer retrying cannot fix (`.url` is redacted).
    ConfigError: a policy, URL or header that cannot work at all (nothing was sent).
"""

from __future__ import annotations

import logging
import math
import random as _random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

import backoff
import httpx

from projections.errors import ConfigError, FetchError
from projections.fetch_send import Answer, Failure, retry_after_s
from projections.fetch_send import attempt as send_attempt
from projections.redaction import is_secret_name, redact

__all__ = ["FetchPolicy", "FetchResult", "HostRateLimiter", "Validator", "fetch", "make_client", "retry_after_s"]

log = logging.getLogger("projections.fetch")

USER_AGENT = "projections/0.1 (daily NBA slate pipeline)"

Validator = Callable[[bytes], object]  # raises on a payload it refuses; what it returns is not used


def _secrets_of(request: httpx.Request) -> tuple[str, ...]:
    """Literal secret values this request carries, so they can be scrubbed from any text."""
    found = [value for name, value in request.url.params.multi_items() if is_secret_name(name)]
    for name, value in request.headers.items():
        if is_secret_name(name):
            found.append(value)
            found.extend(value.split()[1:])  # the credential after "Bearer"/"Basic"
    if request.url.password:
        found.append(request.url.password)
    return tuple(found)


# ------------------------------------------------------------------------------------------------ policy


class HostRateLimiter:
    """Thread-safe minimum spacing between requests to one host.

    Each caller reserves the next free slot under a lock and then sleeps outside it, so concurrent
    callers queue up one interval apart instead of all waking at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def reserve(self, host: str, interval_s: float, now: float) -> float:
        """Book the next slot for `host`; return how long to wait before sending (0 when free)."""
        if interval_s <= 0:
            return 0.0
        with self._lock:
            start = max(now, self._next_free.get(host, now))
            self._next_free[host] = start + interval_s
        return start - now


@dataclass(frozen=True)
class FetchPolicy:
    """Timeouts, retry schedule, time budget and per-host spacing for `fetch`.

    `sleep`, `random` and `clock` are injected so tests run without waiting and can record the waits.
    The rate limiter is state shared by every fetch using this policy (and by copies made with
    `dataclasses.replace`), so give one policy to all sources that hit the same host.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    write_timeout: float = 20.0
    pool_timeout: float = 5.0
    max_attempts: int = 6
    total_budget_s: float = 120.0
    base_wait_s: float = 1.0
    max_wait_s: float = 30.0
    min_interval_s: float = 0.5
    attempt_deadline_s: float = 60.0  # wall clock of one attempt, redirects and the whole body included
    max_body_bytes: int = 64 * 2**20  # decoded (and on the wire); a season of game logs is ~10 MB
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = _random.random
    clock: Callable[[], float] = time.monotonic
    limiter: HostRateLimiter = field(default_factory=HostRateLimiter, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be > 0 (got {getattr(self, name)!r})"
            for name in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout", "total_budget_s",
                         "attempt_deadline_s", "max_body_bytes")
            if not getattr(self, name) > 0
        ]
        if self.max_attempts < 1:
            problems.append(f"max_attempts must be >= 1 (got {self.max_attempts!r})")
        if not 0 <= self.base_wait_s <= self.max_wait_s:
            problems.append(f"need 0 <= base_wait_s <= max_wait_s (got {self.base_wait_s!r}, {self.max_wait_s!r})")
        if self.min_interval_s < 0:
            problems.append(f"min_interval_s must be >= 0 (got {self.min_interval_s!r})")
        if problems:
            raise ConfigError("invalid FetchPolicy: " + "; ".join(problems) + " - fix the fetch settings")

    def timeout(self, left_s: float | None = None) -> httpx.Timeout:
        """The httpx timeouts, each shortened to `left_s` so one attempt cannot outlive the budget."""
        cap = math.inf if left_s is None else max(left_s, 0.001)
        return httpx.Timeout(
            connect=min(self.connect_timeout, cap),
            read=min(self.read_timeout, cap),
            write=min(self.write_timeout, cap),
            pool=min(self.pool_timeout, cap),
        )

    def jittered_waits(self) -> Iterator[float]:
        """backoff's exponential ceilings (base_wait_s * 2**n, capped at max_wait_s) with full jitter.

        Same formula as `backoff.full_jitter` (uniform in [0, ceiling]), but drawn from the injected
        `random`, because backoff's jitter uses the global `random` module and cannot be seeded per call.
        """
        ceilings = backoff.expo(base=2, factor=self.base_wait_s, max_value=self.max_wait_s)
        next(ceilings)  # backoff generators yield once before the first value (its decorators prime them)
        for ceiling in ceilings:
            yield ceiling * self.random()


def make_client(policy: FetchPolicy, *, base_headers: Mapping[str, str] | None = None) -> httpx.Client:
    """One shared client with explicit timeouts; close it (or use `with`). Its users follow redirects themselves:
    `fetch` (projections.fetch_send), so keys stay with their origin, and the alert webhook (projections.ops.channels),
    only those that repeat the POST."""
    headers = {"User-Agent": USER_AGENT, **(base_headers or {})}
    return httpx.Client(timeout=policy.timeout(), headers=headers, follow_redirects=True)


# ----------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FetchResult:
    """A successful fetch. Nothing here is secret: the URL is redacted and secret headers are dropped.

    `url` is the URL that served the content: after a redirect, not the one asked for (`redirected_from`)."""

    url: str
    status: int
    content: bytes
    headers: dict[str, str]
    attempts: int
    elapsed_s: float
    waits: tuple[float, ...]
    throttled_s: float = 0.0
    redirected_from: str = ""  # the URL asked for when a redirect led to `url` (both redacted), else ""


# ------------------------------------------------------------------------------------------------- fetch


def _advice(failure: Failure, host: str, settings_key: str) -> str:
    where = f" (setting {settings_key})" if settings_key else ""
    if failure.kind == "dns":
        advice = f"check the network and DNS on this machine (can it resolve {host}?) and the endpoint host{where}"
    elif failure.kind == "connect":
        advice = f"check the network, any proxy, and that {host} is up and serving; check the endpoint{where}"
    elif failure.kind == "timeout":
        advice = (f"{host} is slow or unreachable: check the network, or raise the fetch timeouts "
                  "(live.read_timeout_s, live.attempt_deadline_s, live.total_budget_s)")
    elif failure.kind == "size":
        advice = (f"check the endpoint{where}: no real payload is that big; if this one truly is, raise "
                  "live.max_body_mb (PROJECTIONS_LIVE__MAX_BODY_MB)")
    elif failure.kind == "protocol":
        advice = f"{host} keeps dropping or truncating responses: retry later or check the endpoint{where}"
    elif failure.kind == "payload":
        advice = (
            "the endpoint answered with an empty, implausible or foreign payload (see the attempts above): check "
            "the endpoint and that the date and parameters really have data, or import a recorded archive for it"
        )
    elif failure.status in (401, 403, 407):
        advice = f"the server refused our credentials: check the API key/token{where}"
    elif failure.status is not None and (failure.status == 429 or failure.status >= 500):
        advice = f"{host} is failing or rate-limiting us: retry later, or raise min_interval_s/total_budget_s"
    else:
        advice = f"check the endpoint URL and its parameters{where}"
    return advice


def _next_wait(
    failure: Failure, attempt: int, policy: FetchPolicy, left_s: float, waits: Iterator[float]
) -> tuple[float, str]:
    """(seconds to wait, "") to retry, or (0, why not) to give up.

    A wait that would reach the end of the budget is not taken: sleeping only to run out of time helps
    nobody, and a server's Retry-After beyond our budget means it will not serve us in time.
    """
    if not failure.retryable:
        return 0.0, "not retryable"
    if attempt >= policy.max_attempts:
        return 0.0, f"max_attempts={policy.max_attempts} reached"
    honoured = failure.retry_after is not None
    wait = failure.retry_after if failure.retry_after is not None else next(waits)
    if wait >= left_s:
        asked = "Retry-After" if honoured else "next backoff wait"
        return 0.0, (
            f"{asked} of {wait:.2f} s would overrun the {policy.total_budget_s:g} s budget "
            f"({max(left_s, 0.0):.2f} s left)"
        )
    return wait, ""


def _give_up(
    shown: str, source: str, reason: str, errors: list[str], elapsed: float, failure: Failure, host: str,
    settings_key: str,
) -> FetchError:  # fmt: skip
    label = f"{source}: " if source else ""
    listed = "; ".join(f"{n}) {error}" for n, error in enumerate(errors, start=1))
    message = (
        f"{label}GET {shown} failed after {len(errors)} attempt{'s' if len(errors) != 1 else ''} "
        f"in {elapsed:.2f} s ({reason}): {listed} - {_advice(failure, host, settings_key)}"
    )
    return FetchError(message, url=shown, attempts=len(errors), status=failure.status)


def fetch(
    url: str | httpx.URL,
    *,
    client: httpx.Client,
    policy: FetchPolicy,
    params: Mapping[str, str | int | float] | None = None,
    headers: Mapping[str, str] | None = None,
    validate: Validator | None = None,
    source: str = "",
    settings_key: str = "",
    expected_status: Collection[int] = (),
) -> FetchResult:
    """GET `url` through `client` under `policy`; return the first good answer.

    `validate(content)` may raise ContractViolation for an empty or implausible payload; that attempt is
    retried like a transient error. `source` and `settings_key` only label the error message (e.g.
    "odds", "PROJECTIONS_ODDS_URL"). A final answer whose HTTP status is in `expected_status` (a box score the
    feed keeps none of: 404) is an answer the caller expects, so giving up on it is logged at DEBUG, not WARNING.

    Raises FetchError when it gives up (message: redacted URL, attempts, each attempt's error, advice;
    chained to the last underlying exception) and ConfigError for a URL or header that can never work.
    """
    try:
        # httpx 0.28 replaces a URL's own query with `params`; merge instead, so `?api_key=` survives.
        target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
        probe = client.build_request("GET", target, headers=headers)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"invalid URL {redact(str(url))!r}: {exc} - fix the endpoint in the settings") from exc
    secrets = _secrets_of(probe)
    shown = redact(str(probe.url), secrets)
    host = probe.url.host.lower()
    extra = tuple(name.lower() for name in headers or {})  # sent to the endpoint's own origin only
    waits = policy.jittered_waits()
    errors: list[str] = []
    taken: list[float] = []
    throttled = 0.0
    start = policy.clock()
    while True:
        attempt = len(errors) + 1
        pause = policy.limiter.reserve(host, policy.min_interval_s, policy.clock())
        if pause > 0:
            log.debug("rate limit: waiting %.3f s before %s", pause, shown)
            policy.sleep(pause)
            throttled += pause
        left = policy.total_budget_s - (policy.clock() - start)
        request = client.build_request("GET", target, headers=headers, timeout=policy.timeout(left))
        log.debug("GET %s attempt %d/%d", shown, attempt, policy.max_attempts)
        outcome = send_attempt(client, request, validate, extra_headers=extra, secrets=secrets,
                               max_body_bytes=policy.max_body_bytes,
                               deadline_s=max(min(policy.attempt_deadline_s, left), 0.001))
        elapsed = policy.clock() - start
        if isinstance(outcome, Answer):
            if errors:
                log.info("GET %s succeeded on attempt %d after %.2f s", shown, attempt, elapsed)
            kept = {name: redact(value, secrets) for name, value in outcome.headers.items() if not is_secret_name(name)}
            served = redact(str(outcome.url), secrets)
            if served != shown:
                log.info("GET %s was redirected to %s", shown, served)
            return FetchResult(served, outcome.status, outcome.content, kept, attempt, elapsed, tuple(taken),
                               throttled, shown if served != shown else "")
        errors.append(redact(outcome.short, secrets))
        wait, reason = _next_wait(outcome, attempt, policy, policy.total_budget_s - elapsed, waits)
        if reason:
            level = logging.DEBUG if getattr(outcome, "status", None) in expected_status else logging.WARNING
            log.log(level, "GET %s attempt %d failed: %s; giving up (%s)", shown, attempt, errors[-1], reason)
            error = _give_up(shown, source, reason, errors, elapsed, outcome, host, settings_key)
            raise error from outcome.cause
        log.warning("GET %s attempt %d failed: %s; retrying in %.2f s", shown, attempt, errors[-1], wait)
        policy.sleep(wait)
        taken.append(wait)

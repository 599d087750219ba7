"""One attempt of projections.fetch: send, follow redirects by hand, read the body under a size cap and a deadline.

Redirects are followed here, at most MAX_REDIRECTS of them, so that a hop to another origin (scheme, host or
port) carries none of the headers the caller added (an API key header, an endpoint's own headers) and none
whose name is secret; httpx alone would forward all but `Authorization`. A redirect to anything but http(s)
fails, naming its target. The body is streamed: past `max_body_bytes` (decoded, or as sent on the wire) the
attempt stops. A watchdog (projections.watchdog) shuts the connection's socket down when the attempt's wall-clock
deadline passes, so a server trickling a byte at a time cannot hold a run beyond it (httpx's timeouts bound each
read, not the sum).

Nothing read from the server reaches a message unescaped: `excerpt` shows control characters as `\\x1b`.
"""

from __future__ import annotations

import email.utils
import math
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from projections.errors import ConfigError, ContractViolation
from projections.redaction import is_secret_name, redact
from projections.textsafe import one_line
from projections.watchdog import Watchdog

MAX_REDIRECTS = 5
EXCERPT_CHARS = 160  # of an error body, in a message
_EXCERPT_READ = 4096  # bytes of an error body read for the excerpt (the rest is never downloaded)
_EXCERPT_WIRE = 2**16  # at most this much of an error body comes off the wire (compressed, it may decode to none)


def excerpt(content: bytes, limit: int = EXCERPT_CHARS) -> str:
    """A short one-line excerpt of a body for a message: runs of whitespace become one space and every other
    control character (ESC, BEL, C1...) is shown escaped, so no server can drive the terminal reading it."""
    text = " ".join(content[: limit * 4].decode("utf-8", "replace").split())
    return one_line(text)[:limit]


@dataclass(frozen=True)
class Failure:
    kind: str  # dns | connect | timeout | protocol | http | payload | size
    short: str
    retryable: bool
    cause: BaseException | None = None
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Answer:
    """A 2xx answer, read whole: its body and the URL that served it (after any redirects)."""

    url: httpx.URL
    status: int
    headers: httpx.Headers
    content: bytes


_DNS_MARKERS = ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo")


def _is_dns(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror) or any(m in str(seen).lower() for m in _DNS_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transport_failure(exc: httpx.HTTPError, host: str) -> Failure:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.ConnectError) and _is_dns(exc):
        return Failure("dns", f"DNS lookup of {host} failed ({detail})", True, exc)
    if isinstance(exc, httpx.TimeoutException):
        return Failure("timeout", detail, True, exc)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        return Failure("protocol", f"dropped or truncated response ({detail})", True, exc)
    return Failure("connect", detail, True, exc)


def _parse_http_date(value: str) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def retry_after_s(headers: httpx.Headers) -> float | None:
    """Seconds asked for by `Retry-After` (delta-seconds or HTTP-date), or None if absent or unreadable.

    An HTTP-date is measured against the response's own `Date` header when present, so the two
    machines' clock skew does not matter.
    """
    raw = headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        when = _parse_http_date(raw)
        if when is None:
            return None
        reference = _parse_http_date(headers.get("date", "")) or datetime.now(UTC)
        seconds = (when - reference).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _status_failure(response: httpx.Response, body: bytes, secrets: tuple[str, ...]) -> Failure:
    code = response.status_code
    short = f"HTTP {code} {one_line(response.reason_phrase)}".rstrip()
    if code == 429 or 500 <= code <= 599:
        wait = retry_after_s(response.headers) if code in (429, 503) else None
        if wait is not None:
            short += f" (Retry-After {wait:g} s)"
        return Failure("http", short, True, status=code, retry_after=wait)
    snippet = excerpt(body)
    if snippet:
        short += f": {redact(snippet, secrets)}"
    return Failure("http", short, False, status=code)


# ----------------------------------------------------------------------------------------- one attempt


class _Stop(Exception):
    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


def _trusted(target: httpx.URL, origin: tuple[str, str, int | None]) -> bool:
    """Whether a redirect target may carry the caller's headers: the request's own origin, or its upgrade from
    http to https on the same host and default ports (what httpx and requests keep `Authorization` for)."""
    scheme, host, port = _origin(target)
    return (scheme, host, port) == origin or (origin == ("http", host, 80) and (scheme, port) == ("https", 443))


def _size(limit: int) -> str:
    return f"{limit:,} bytes ({limit / 2**20:.3g} MiB)"


def _read(response: httpx.Response, limit: int, watchdog: Watchdog, shown: str) -> bytes:
    """The decoded body, streamed; _Stop past `limit` bytes (decoded or on the wire); cut short by the deadline.
    `shown` starts the messages: "the answer ", or "redirected to URL, the answer " after a redirect."""
    body = bytearray()
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Stop(Failure("size", f"{shown}announces a body of {int(declared):,} bytes, over the cap of "
                                    f"{_size(limit)} (nothing read)", False))
    _WireCap.wrap(response, limit, shown)
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise _Stop(_over(shown, limit))
        if watchdog.fired.is_set():
            break
    return bytes(body)


def _over(shown: str, limit: int) -> Failure:
    return Failure("size", f"{shown}sent a body over the cap of {_size(limit)} (stopped reading there)", False)


class _WireCap(httpx.SyncByteStream):
    """A response's bytes as they come off the wire, stopped (_Stop) past `limit` - or, with `quiet`, simply ended
    there (an error body read for its excerpt). Checking the decoded chunks is not enough: a compressed body that
    decodes to nothing (a gzip header whose comment never ends) yields no decoded chunk at all, so a check in the
    loop over them never runs while the server sends on."""

    def __init__(self, inner: httpx.SyncByteStream, limit: int, shown: str, *, quiet: bool = False) -> None:
        self._inner, self._limit, self._shown, self._quiet = inner, limit, shown, quiet

    @classmethod
    def wrap(cls, response: httpx.Response, limit: int, shown: str, *, quiet: bool = False) -> None:
        """Put the cap between `response` and its stream (httpx's public Response.stream), before it is read."""
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = cls(response.stream, limit, shown, quiet=quiet)

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                if self._quiet:
                    return
                raise _Stop(_over(self._shown, self._limit))
            yield chunk

    def close(self) -> None:
        self._inner.close()


def send(
    client: httpx.Client, request: httpx.Request, *, extra_headers: tuple[str, ...], secrets: tuple[str, ...],
    max_body_bytes: int, deadline_s: float,
) -> Answer | Failure:  # fmt: skip
    """One attempt: the request and its redirects, each body read under the cap, all within `deadline_s`.

    `extra_headers` names the headers the caller added (sent to the request's own origin only). Raises
    ConfigError for a request that can never be sent (a scheme or header httpx refuses).
    """
    origin = _origin(request.url)
    watchdog = Watchdog(deadline_s)
    try:
        with watchdog:
            return _hops(client, request, origin, extra_headers, secrets, max_body_bytes, watchdog)
    except _Stop as stop:
        failure = stop.failure
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        raise ConfigError(
            f"cannot request {redact(str(request.url), secrets)}: {redact(str(exc), secrets)} - "
            "fix the endpoint URL or headers in the settings"
        ) from exc
    except (httpx.TransportError, httpx.DecodingError) as exc:
        failure = _transport_failure(exc, request.url.host)
    if watchdog.fired.is_set() and failure.kind != "size":
        return _late(deadline_s, failure.cause)
    return failure


def _late(deadline_s: float, cause: BaseException | None = None) -> Failure:
    return Failure("timeout", f"no complete answer within the attempt's {deadline_s:.3g} s deadline (the server "
                              "was still sending)", True, cause)


def _hops(
    client: httpx.Client, request: httpx.Request, origin: tuple[str, str, int | None], extra: tuple[str, ...],
    secrets: tuple[str, ...], limit: int, watchdog: Watchdog,
) -> Answer | Failure:  # fmt: skip
    first = request.url
    for _ in range(MAX_REDIRECTS + 1):
        request.extensions["trace"] = watchdog.trace
        request.headers["Connection"] = "close"  # a new connection each time, so the watchdog knows its socket
        hop = "" if request.url == first else f"redirected to {redact(str(request.url), secrets)}, "
        shown = hop + "the answer "
        response = client.send(request, stream=True, follow_redirects=False)
        try:
            if response.has_redirect_location:
                request = _next_hop(client, request, response, origin, extra, secrets)
                continue
            return _answer(response, limit, watchdog, shown, secrets)
        finally:
            response.close()
    return Failure("http", f"more than {MAX_REDIRECTS} redirects (the last to {redact(str(request.url), secrets)})",
                   False)


def _answer(response: httpx.Response, limit: int, watchdog: Watchdog, shown: str, secrets: tuple[str, ...]
            ) -> Answer | Failure:
    if not 200 <= response.status_code <= 299:
        body = b""
        if not (response.status_code == 429 or response.status_code >= 500):
            _WireCap.wrap(response, _EXCERPT_WIRE, shown, quiet=True)
            for chunk in response.iter_bytes():  # a little of it, for the message
                body += chunk
                if len(body) >= _EXCERPT_READ or watchdog.fired.is_set():
                    break
        return _status_failure(response, body, secrets)
    content = _read(response, limit, watchdog, shown)
    if watchdog.fired.is_set():
        return _late(watchdog.seconds)
    return Answer(response.url, response.status_code, response.headers, content)


def _next_hop(
    client: httpx.Client, request: httpx.Request, response: httpx.Response, origin: tuple[str, str, int | None],
    extra: tuple[str, ...], secrets: tuple[str, ...],
) -> httpx.Request:  # fmt: skip
    location = response.headers["location"]
    try:
        target = request.url.join(location)
    except httpx.InvalidURL as exc:
        raise _Stop(Failure("http", f"HTTP {response.status_code} redirects to an invalid URL "
                                    f"{excerpt(redact(location, secrets).encode())!r} ({exc})", False)) from None
    shown = excerpt(redact(location, secrets).encode(), 200)  # as the server wrote it
    if target.scheme not in ("http", "https"):
        raise _Stop(Failure("http", f"HTTP {response.status_code} redirects to {shown}, which is not http(s); "
                                    "refused", False))
    headers = httpx.Headers(request.headers)
    for name in ("host", "connection"):
        headers.pop(name, None)
    hop = client.build_request("GET", target, headers=headers)
    hop.extensions["timeout"] = request.extensions["timeout"]  # the attempt's, shortened to its budget
    if not _trusted(target, origin):  # another origin: none of our keys or endpoint headers, and no cookie
        for name in list(hop.headers.keys()):
            if name.lower() in extra or is_secret_name(name):
                del hop.headers[name]
    return hop


def attempt(
    client: httpx.Client, request: httpx.Request, validate: Callable[[bytes], object] | None, *,
    extra_headers: tuple[str, ...], secrets: tuple[str, ...], max_body_bytes: int, deadline_s: float,
) -> Answer | Failure:  # fmt: skip
    """`send`, then `validate(content)` on a 2xx answer (ContractViolation -> a retryable payload Failure)."""
    outcome = send(client, request, extra_headers=extra_headers, secrets=secrets, max_body_bytes=max_body_bytes,
                   deadline_s=deadline_s)
    if isinstance(outcome, Answer) and validate is not None:
        try:
            validate(outcome.content)
        except ContractViolation as exc:
            return Failure("payload", f"payload rejected ({len(outcome.content)} bytes): {exc}", True, exc)
    return outcome

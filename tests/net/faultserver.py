"""A real loopback HTTP server that replays recorded payloads and injects scripted network faults.

    with FaultServer() as server:
        server.replay("/odds", recorded("api/live/odds_todaysGames_first2games.json"))
        server.script("/odds", ("status", 500), ("status", 429, {"Retry-After": "2"}), ("close",))
        ...  # the next three requests to /odds get the faults in order, then the payload
        assert len(server.requests_to("/odds")) == 4

Faults, consumed one request at a time per path:
    ("status", code[, headers])  answer `code` with a short body and the given headers
    ("stall", seconds)           wait (past the client's read timeout), then answer normally
    ("truncate", body)           send `body` under a larger Content-Length, then close
    ("close",)                   close the connection without any response
    ("body", bytes)              answer 200 with these bytes instead of the recorded payload
    ("trickle", seconds)         answer 200 (chunked), then one byte of body every `seconds`, never ending
    ("flood", nbytes[, declare]) answer 200 with `nbytes` spaces, close-delimited (declared in Content-Length
                                 when `declare`), stopping early when the client hangs up

Every request is recorded (method, path, query, headers, arrival time). `stop()` ends stalls at once
and joins every handler thread, so nothing outlives the server.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

Fault = tuple[Any, ...]
_FAULT_ARITY = {"status": (2, 3), "stall": (2,), "truncate": (2,), "close": (1,), "body": (2,), "trickle": (2,),
                "flood": (2, 3)}


def shared_root() -> Path:
    """The shared data checkout: $PROJECTIONS_SHARED_DIR, else `shared/` beside the repository."""
    override = os.environ.get("PROJECTIONS_SHARED_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "shared"


def recorded(relpath: str) -> bytes:
    """Bytes of `<shared>/data/nba/<relpath>`, e.g. `api/live/odds_todaysGames_first2games.json`.

    Raises FileNotFoundError (with the fix) when the shared data is not beside the repository.
    """
    path = shared_root() / "data" / "nba" / relpath
    if not path.is_file():
        raise FileNotFoundError(
            f"recorded payload {path} not found - check out the shared data beside the repository "
            "or point PROJECTIONS_SHARED_DIR at it"
        )
    return path.read_bytes()


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() on arrival


@dataclass(frozen=True)
class _Route:
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...]


class _Server(ThreadingHTTPServer):
    # Handler threads are joined by server_close() so none outlives the fixture.
    daemon_threads = False
    block_on_close = True
    owner: FaultServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout) resets the socket under a late write; that is expected.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive thread to wait for
    timeout = 5.0  # a silent client cannot pin a handler thread (and so stop()) for longer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        owner._record(
            RecordedRequest(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                raw_query=split.query,
                headers={name.lower(): value for name, value in self.headers.items()},
                at=time.monotonic(),
            )
        )
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client hung up first (timed out): nothing left to tell it
            self._answer(owner._next_fault(split.path), owner._route(split.path, parse_qs(split.query)),
                         owner._stopping)

    def _answer(self, fault: Fault | None, route: _Route | None, stopping: threading.Event) -> None:
        kind = fault[0] if fault else None
        if kind == "status":
            assert fault is not None
            code, extra = fault[1], dict(fault[2]) if len(fault) > 2 else {}
            self._send(code, f"injected fault: status {code}\n".encode(), extra)
        elif kind == "stall":
            assert fault is not None
            if stopping.wait(float(fault[1])):
                return  # server shutting down: drop the connection
            self._replay(route)
        elif kind == "truncate":
            assert fault is not None
            body: bytes = fault[1]
            self._send(200, body, {"Content-Length": str(len(body) + 1024)})
        elif kind == "close":
            return  # close without a byte of response
        elif kind == "body":
            assert fault is not None
            self._send(200, fault[1], {})
        elif kind == "trickle":
            assert fault is not None
            self._trickle(float(fault[1]), stopping)
        elif kind == "flood":
            assert fault is not None
            self._flood(int(fault[1]), len(fault) > 2 and bool(fault[2]), stopping)
        else:
            self._replay(route)

    def _trickle(self, seconds: float, stopping: threading.Event) -> None:
        self.protocol_version = "HTTP/1.1"  # chunked: each byte its own chunk
        self.send_response_only(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while not stopping.is_set():
            self.wfile.write(b"1\r\n \r\n")
            self.wfile.flush()
            stopping.wait(seconds)

    def _flood(self, nbytes: int, declare: bool, stopping: threading.Event) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "application/json")
        if declare:
            self.send_header("Content-Length", str(nbytes))
        self.end_headers()
        chunk = b" " * 2**16
        sent = 0
        while sent < nbytes and not stopping.is_set():
            self.wfile.write(chunk[: nbytes - sent])
            sent += len(chunk)

    def _replay(self, route: _Route | None) -> None:
        if route is None:
            self._send(404, b"no route recorded for this path\n", {"Content-Type": "text/plain"})
        else:
            self._send(route.status, route.body, dict(route.headers))

    def _send(self, code: int, body: bytes, headers: Mapping[str, str]) -> None:
        names = {name.lower() for name in headers}
        self.send_response_only(code)
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json")
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class FaultServer:
    """Loopback HTTP server on 127.0.0.1:<free port>; a context manager, or the `fault_server` fixture."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._query_routes: dict[str, list[tuple[dict[str, str], _Route]]] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FaultServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="faultserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()  # wake any stalled handler before joining it
        httpd.shutdown()
        httpd.server_close()  # closes the listening socket and joins handler threads
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # addresses
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FaultServer is not running; use it as a context manager or call start()")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path_and_query: str) -> str:
        return self.base_url + path_and_query

    # configuration
    def replay(
        self,
        path: str,
        body: bytes | Path,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> None:
        """Serve `body` (bytes or a file's bytes) at `path` whenever no fault is pending for it; with `query`, only
        to requests carrying those parameter values (such a route wins over the path's own)."""
        data = body.read_bytes() if isinstance(body, Path) else body
        merged = {"Content-Type": content_type, **(headers or {})}
        route = _Route(data, status, tuple(merged.items()))
        with self._lock:
            if query is None:
                self._routes[path] = route
            else:
                self._query_routes.setdefault(path, []).insert(0, (dict(query), route))

    def script(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to `path`, one request each, in order."""
        for fault in faults:
            if not fault or fault[0] not in _FAULT_ARITY or len(fault) not in _FAULT_ARITY[fault[0]]:
                raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(_FAULT_ARITY)}")
        with self._lock:
            self._faults.setdefault(path, deque()).extend(faults)

    def pending(self, path: str) -> int:
        with self._lock:
            return len(self._faults.get(path, ()))

    # what happened
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    # handler side
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def _route(self, path: str, query: Mapping[str, list[str]] | None = None) -> _Route | None:
        with self._lock:
            for wanted, route in self._query_routes.get(path, []):
                if all((query or {}).get(name) == [value] for name, value in wanted.items()):
                    return route
            return self._routes.get(path)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A running FaultServer, stopped (threads joined, socket closed) after the test."""
    with FaultServer() as server:
        yield server

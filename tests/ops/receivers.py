"""Real loopback receivers for alert tests: an HTTP webhook endpoint and an SMTP server (aiosmtpd).

    with WebhookReceiver() as hook:
        hook.script((500, {}), (429, {"Retry-After": "3"}))   # the next two requests fail, then 200 (405 to HEAD)
        ...
        assert hook.posts[0]["text"].startswith("*projections")

    with SmtpReceiver() as smtp:
        smtp.script_rcpt("450 4.2.0 greylisted")               # the next RCPT is refused for now, then 250
        ...
        assert smtp.messages[0]["Subject"] == ...

    with Dripper("smtp") as drip:                               # a greeting one byte at a time, never ending
        ...

All bind 127.0.0.1 on a port the kernel picks (no free-port race) and join their threads on exit.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
from collections import deque
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    owner: WebhookReceiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    timeout = 5.0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.server.owner._note("HEAD", self.path, b"")
        self._answer(*self.server.owner._next(default=405))

    def do_GET(self) -> None:  # what a redirect turned a POST into: a web server answers it 200
        self.server.owner._note("GET", self.path, b"")
        self._answer(*self.server.owner._next())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.owner._note("POST", self.path, body, dict(self.headers.items()))
        self._answer(*self.server.owner._next())

    def _answer(self, status: int, headers: dict[str, str]) -> None:
        body = b"ok" if status < 300 else b"invalid_token" if status < 500 else b"server error"
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body) if self.command != "HEAD" else 0))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class WebhookReceiver:
    """A Slack-compatible webhook endpoint on 127.0.0.1: records every request and its JSON body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[tuple[int, dict[str, str]]] = deque()
        self.requests: list[tuple[str, str, bytes, dict[str, str]]] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebhookReceiver:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/services/T0001/B0002/s3cr3tWebhookToken") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *answers: tuple[int, dict[str, str]]) -> None:
        with self._lock:
            self._script.extend(answers)

    def _next(self, default: int = 200) -> tuple[int, dict[str, str]]:
        with self._lock:
            return self._script.popleft() if self._script else (default, {})

    def _note(self, method: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.requests.append((method, path, body, headers or {}))

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for method, _, body, _ in self.requests if method == "POST"]


class _BoundController(Controller):
    """aiosmtpd's Controller on a socket bound before start, so port 0 works (its own trigger needs the port)."""

    def __init__(self, handler: Any, **options: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._sock.getsockname()[1], **options)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.rcpt_answers: deque[str] = deque()
        self.data_answers: deque[str] = deque()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        answer = self.rcpt_answers.popleft() if self.rcpt_answers else "250 OK"
        if answer.startswith("2"):  # a scripted acceptance is one
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = self.data_answers.popleft() if self.data_answers else ""
        if answer and not answer.startswith("2"):  # a scripted refusal: the mail is not taken
            return answer
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _refuse_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


class SmtpReceiver:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts (`refuse_login`: it offers AUTH without TLS
    and refuses every login with 535)."""

    def __init__(self, *, refuse_login: bool = False) -> None:
        self._inbox = _Inbox()
        options = {"authenticator": _refuse_login, "auth_require_tls": False} if refuse_login else {}
        self._controller = _BoundController(self._inbox, **options)

    def __enter__(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._controller.stop()
        loop = self._controller.loop
        if not loop.is_closed():
            loop.close()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def script_rcpt(self, *answers: str) -> None:
        """The next RCPT commands get these answers (e.g. "450 4.2.0 greylisted"; a 2xx accepts), then 250."""
        self._inbox.rcpt_answers.extend(answers)

    def script_data(self, *answers: str) -> None:
        """The next DATA commands get these answers (e.g. "554 5.6.0 refused": the mail is not kept), then 250."""
        self._inbox.data_answers.extend(answers)

    @property
    def messages(self) -> list[EmailMessage]:
        out = []
        for envelope in self._inbox.envelopes:
            message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            out.append(message)
        return out

    @property
    def recipients(self) -> list[list[str]]:
        return [list(envelope.rcpt_tos) for envelope in self._inbox.envelopes]


def closed_port() -> socket.socket:
    """A socket bound on 127.0.0.1 but not listening: connecting to its port is refused at once, no race.

    The caller closes it (use it as a context manager)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class Dripper:
    """A receiver that never finishes its answer: one byte every `every` s for as long as the client stays - an
    HTTP status line ("http", once the request's headers are in) or an SMTP greeting ("smtp"). Each byte resets a
    per-read timeout, so only a deadline on the whole exchange ends it. `connections` counts the clients."""

    def __init__(self, kind: Literal["http", "smtp"], every: float = 0.1) -> None:
        self.every = every
        self._says = (b"HTTP/1.1 200 OK" if kind == "http" else b"220-") + b" " * 8
        self._http = kind == "http"
        self.connections = 0
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.02)
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self) -> Dripper:
        self._threads[0].start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._threads[0].join()  # no client is taken after this: every dripping thread is in the list
        for thread in self._threads[1:]:
            thread.join()
        self._sock.close()

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _drip(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client hung up: done
            conn.settimeout(5.0)
            if self._http:
                seen = b""
                while b"\r\n\r\n" not in seen and not self._stop.is_set():
                    got = conn.recv(65536)
                    if not got:
                        return
                    seen += got
            for byte in itertools.cycle(self._says):
                if self._stop.wait(self.every):
                    return
                conn.sendall(bytes([byte]))

"""`projections serve`: the dashboard over HTTP on localhost, rebuilt when the ledger moves.

The port is checked before binding - a connect probe, then the bind itself - and a taken port is a clear
ConfigError naming the process that holds it (when /proc tells), never a restart loop. Only the files of
`report/` are served; directory listings are off. A client gets `client_timeout` seconds (10) to send each
request and for each wait on it, and RESPONSE_WAITS times that (60 s) to take a whole response: an idle, trickling
or slowly reading connection is dropped, not left holding a thread.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import io
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from projections.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address (all of 127.0.0.0/8, ::1) or localhost: only this machine reaches it."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _listener_inodes(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def port_owner(port: int) -> str | None:
    """`pid N (command line)` of the process listening on `port`, when /proc lets us see it."""
    inodes = _listener_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    return f"pid {pid} ({cmd.strip()[:160]})"
            except OSError:
                continue
    return None


def _taken(host: str, port: int, detail: str = "") -> ConfigError:
    owner = port_owner(port)
    held = f" by {owner}" if owner else ""
    return ConfigError(f"cannot serve on {host}:{port}: the port is already in use{held}{detail}; stop that "
                       "process, or pick another port with --port or PROJECTIONS_SERVE_PORT (serve_port in "
                       "projections.toml)")


def check_port(host: str, port: int) -> None:
    """Raise ConfigError when something already listens on host:port (before we try to bind)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot serve on {host}:{port}: {exc}; give an address of this machine (--host, or "
                          "serve_host in projections.toml)") from None
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(addr) == 0:
                raise _taken(host, port)


CLIENT_TIMEOUT_S = 10.0  # a client has this long to send each request's head, and each wait on it is this long
RESPONSE_WAITS = 6  # ... and this many client timeouts to take a whole response (the dashboard's files are small)


@contextlib.contextmanager
def _until(sock: socket.socket, deadline: float, timeout: float, late: str) -> Iterator[None]:
    """One call on `sock` bounded by `deadline` as well as by the per-wait `timeout`, which is put back after it
    (TimeoutError `late` once the deadline has passed)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(late)
    sock.settimeout(min(left, timeout))
    try:
        yield
    finally:
        sock.settimeout(timeout)


class _Paced(io.RawIOBase):
    """A connection's reading side with a deadline: the whole head of a request (request line and headers) must
    arrive before it, so a client sending a byte now and then is dropped as surely as one that sends nothing."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock, self.timeout, self.deadline = sock, timeout, time.monotonic() + timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with _until(self.sock, self.deadline, self.timeout, f"no whole request within {self.timeout:g} s"):
            return self.sock.recv_into(buffer)


class _PacedWriter(io.BufferedIOBase):
    """A connection's writing side with a deadline for the whole response: a client taking a few bytes now and then
    (each wait under the timeout) is dropped when the deadline passes, as one that takes nothing is."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock, self.timeout, self.deadline = sock, timeout, time.monotonic() + timeout * RESPONSE_WAITS

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with _until(self.sock, self.deadline, self.timeout,  # sendall's timeout bounds the whole call
                    f"response not taken within {self.timeout * RESPONSE_WAITS:g} s"):
            self.sock.sendall(data)
        with memoryview(data) as view:
            return view.nbytes

    def fileno(self) -> int:
        return self.sock.fileno()


class _Handler(http.server.SimpleHTTPRequestHandler):
    refresh: Callable[[], None] | None = None
    timeout = CLIENT_TIMEOUT_S  # the socket's: a client that neither sends nor takes for this long is dropped

    def setup(self) -> None:
        super().setup()
        self.paced = _Paced(self.connection, float(self.timeout))
        self.rfile = io.BufferedReader(self.paced)
        self.wfile = self.writer = _PacedWriter(self.connection, float(self.timeout))

    def handle_one_request(self) -> None:
        begun = time.monotonic()  # each request of a kept-alive connection has its own deadlines
        self.paced.deadline = begun + float(self.timeout)
        self.writer.deadline = begun + float(self.timeout) * RESPONSE_WAITS
        super().handle_one_request()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if self.refresh is not None and (path == "/" or path.endswith(".html")):
            self.refresh()
        super().do_GET()

    def list_directory(self, path: str | os.PathLike[str]) -> Any:
        self.send_error(404, "no directory listings here")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default 5 dropped connection attempts (a 1 s retry each) of a page's burst

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-response (a reload, a closed tab: a reset or broken pipe) is no error of the server's:
        socketserver printed a traceback for each."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Refresher:
    """Rebuild the report when the ledger changed, at most every `interval` seconds; a request that finds a rebuild
    under way does not wait for it: it is served the report as it is (each file whole: written by rename)."""

    def __init__(self, home: Path, build: Callable[[], object], interval: float) -> None:
        self.home = home
        self.build = build
        self.interval = interval
        self.lock = threading.Lock()
        self.seen: tuple[Any, ...] | None = None
        self.checked = 0.0

    def signature(self) -> tuple[Any, ...]:
        ledger = self.home / "ledger"
        files = sorted(ledger.glob("*.jsonl")) if ledger.is_dir() else []
        stats = []
        for path in files:
            try:
                st = path.stat()
            except OSError:
                continue
            stats.append((path.name, st.st_size, st.st_mtime_ns))
        return tuple(stats)

    def mark_built(self) -> None:
        self.seen = self.signature()
        self.checked = time.monotonic()

    def __call__(self) -> None:
        if not self.lock.acquire(blocking=False):  # another request is rebuilding: serve the report as it is
            return
        try:
            if time.monotonic() - self.checked < self.interval:
                return
            self.checked = time.monotonic()
            now = self.signature()
            if now != self.seen:
                try:
                    self.build()
                except Exception as exc:  # a failed rebuild keeps the last good report online
                    print(f"report rebuild failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                self.seen = now
        finally:
            self.lock.release()


def serve(report_dir: Path, host: str, port: int, *, refresher: Refresher | None = None,
          ready: Callable[[str], None] | None = None, stop: threading.Event | None = None,
          client_timeout: float = CLIENT_TIMEOUT_S) -> None:
    """Serve `report_dir` on host:port until interrupted (or `stop` is set); a client that takes longer than
    `client_timeout` seconds to send a request, or to take the next bytes of a response, is dropped."""
    check_port(host, port)
    handler = partial(type("Handler", (_Handler,), {"refresh": staticmethod(refresher) if refresher else None,
                                                    "timeout": client_timeout}),
                      directory=str(report_dir))
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server_cls = type("Server", (_Server,), {"address_family": family})
    try:
        server = server_cls((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _taken(host, port, " (bind failed)") from None
        raise ConfigError(f"cannot serve on {host}:{port}: {exc}") from None
    with server:
        shown = f"[{host}]" if ":" in host else host
        if ready is not None:
            ready(f"http://{shown}:{server.server_address[1]}/")
        if stop is not None:
            threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops it: not an error
            server.serve_forever(poll_interval=0.25)

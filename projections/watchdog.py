"""A wall-clock deadline on the connections of one attempt, for the fetch layer and the alert channels alike.

httpx's and smtplib's timeouts bound each read, not their sum: a server trickling a byte at a time holds the
reader for as long as it likes. The watchdog shuts down every socket it was shown once its seconds pass, so the
reading thread's recv returns at once (TLS or not: shutdown acts on the connection itself), and the caller reads
`fired` to tell that from the server's own hang-up.

    with Watchdog(seconds) as watchdog:
        request.extensions["trace"] = watchdog.trace   # httpx: each connection's socket, from httpcore's trace
        watchdog.watch(sock)                            # any other socket (an SMTP session's)
        ...
    watchdog.fired.is_set()
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any


class Watchdog:
    """Shuts down the socket of every connection it is shown once `seconds` of wall-clock time pass.

    It keeps a dup of each socket (closed on exit), so a socket its owner already closed is never acted on. A
    socket shown after the deadline passed is shut down at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = threading.Event()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock.dup())
        if self.fired.is_set():
            self._fire()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: learns the socket of each TCP (or Unix) connection as it opens."""
        if not name.endswith((".connect_tcp.complete", ".connect_unix_socket.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            self.watch(sock)

    def _fire(self) -> None:
        self.fired.set()
        with self._lock:
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

"""`projections serve`: serves the dashboard on localhost, refuses a taken port with a clear message, rebuilds
the report when the ledger moves."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.errors import ConfigError
from projections.observe import server
from tests.conftest import project_env
from tests.observe.conftest import Observed, cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def serving(observed: Observed) -> Iterator[tuple[str, subprocess.Popen[str], int]]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "projections.cli", "serve", "--port", str(port)],
                            env=project_env(observed.home), cwd=observed.code, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving "), line + (proc.stderr.read() if proc.poll() is not None and proc.stderr
                                                    else "")
        yield line.split(" at ", 1)[1].split()[0], proc, port
    finally:
        _stop(proc)


def test_serve_serves_the_dashboard_on_localhost(serving: tuple[str, subprocess.Popen[str], int]):
    url, _, port = serving
    assert url == f"http://127.0.0.1:{port}/"
    status, body = _get(url)
    assert status == 200 and '<table id="slate"' in body and "<svg" in body
    assert _get(url + "no-such-page.html")[0] == 404
    assert _get(url + "../../../etc/passwd")[0] == 404


def test_serve_refuses_a_port_in_use_and_names_the_holder(observed: Observed,
                                                           serving: tuple[str, subprocess.Popen[str], int]):
    _, first, port = serving
    second = cli(observed.home, observed.code, "serve", "--port", str(port), timeout=30)
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"cannot serve on 127.0.0.1:{port}: the port is already in use by pid {first.pid} " in second.stderr
    assert "--port or PROJECTIONS_SERVE_PORT" in second.stderr and "Traceback" not in second.stderr
    assert first.poll() is None  # the first server is untouched


def test_the_port_comes_from_settings_and_a_foreign_listener_is_refused(observed: Observed):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"127.0.0.1:{port}: the port is already in use"):
            server.check_port("127.0.0.1", port)
        result = cli(observed.home, observed.code, "serve", timeout=30, PROJECTIONS_SERVE_PORT=str(port))
    assert result.returncode == 2 and f"127.0.0.1:{port}: the port is already in use" in result.stderr
    server.check_port("127.0.0.1", port)  # free again: no error


def test_serve_on_a_root_nothing_built_says_so(tmp_path: Path):
    """A mistyped PROJECTIONS_HOME: `projections report`, status, history and gc name it ("no data root at ...");
    serve made the root and served an empty dashboard without a word. It still serves (a first build may be yet
    to come), with that note on stderr."""
    home, port = tmp_path / "typo", _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "projections.cli", "serve", "--port", str(port)],
                            env=project_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving "), proc.stderr
        assert _get(f"http://127.0.0.1:{port}/")[0] == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert err.startswith(f"note: no data root at {home} (it has no store/): nothing was ever built there; check "
                          "PROJECTIONS_HOME"), err


def test_refresher_rebuilds_only_when_the_ledger_changed(tmp_path: Path):
    builds: list[float] = []
    (tmp_path / "ledger").mkdir()
    refresh = server.Refresher(tmp_path, lambda: builds.append(time.monotonic()), interval=0.0)
    refresh.mark_built()
    refresh()
    assert builds == []
    (tmp_path / "ledger" / "2026-01.jsonl").write_text('{"event": "run_start"}\n')
    refresh()
    refresh()
    assert len(builds) == 1


def test_a_request_during_a_rebuild_is_served_the_last_report_without_waiting(tmp_path: Path):
    """A rebuild held the refresher's lock, and every other page request waited on it for the whole build (a
    season's report: 10 s) before its page was served; they now get the report as it is, the last one written by
    rename, and the rebuild goes on."""
    import threading

    started, release = threading.Event(), threading.Event()

    def slow_build() -> None:
        started.set()
        release.wait(10)

    (tmp_path / "ledger").mkdir()
    refresh = server.Refresher(tmp_path, slow_build, interval=0.0)
    (tmp_path / "ledger" / "2026-01.jsonl").write_text('{"event": "run_start"}\n')
    building = threading.Thread(target=refresh)
    building.start()
    assert started.wait(10)
    begun = time.monotonic()
    refresh()  # another request meanwhile
    waited = time.monotonic() - begun
    release.set()
    building.join(10)
    assert waited < 1, waited


def test_only_addresses_outside_this_machine_are_warned_about():
    """127.0.0.2 (all of 127.0.0.0/8 is loopback) drew 'not a loopback address: anyone who can reach it can read
    the dashboard'."""
    from projections.observe.server import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org", ""))


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


@contextlib.contextmanager
def _serve_as_is(home: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`projections serve --no-build` on a free port of 127.0.0.1 with a one-line dashboard, until the block ends."""
    (home / "report").mkdir(parents=True, exist_ok=True)
    (home / "report" / "index.html").write_text("<html>the dashboard</html>")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "projections.cli", "serve", "--port", str(port), "--no-build",
                             *extra], env=project_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving "), proc.stderr
        yield proc, port
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_idle_and_trickling_clients_are_dropped_and_their_threads_freed(tmp_path: Path):
    """500 half-sent requests held 510 threads of `serve` for as long as their clients liked: a client now has 10 s
    (--client-timeout) to send a whole request - one sending a byte every 2 s is dropped too - while a normal
    request is served meanwhile."""
    import threading

    if not Path("/proc/self/status").is_file():
        pytest.skip("counts the server's threads in /proc")
    clients: list[socket.socket] = []
    with _serve_as_is(tmp_path / "home") as (proc, port), contextlib.ExitStack() as closing:
        closing.callback(lambda: [client.close() for client in clients])
        begun = time.monotonic()
        for _ in range(50):
            client = socket.create_connection(("127.0.0.1", port), timeout=20)
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line that ends it
            clients.append(client)
        trickler = socket.create_connection(("127.0.0.1", port), timeout=20)
        clients.append(trickler)
        begun = time.monotonic()  # every connection made
        dropped: list[float] = []

        def trickle() -> None:
            import select

            try:
                trickler.sendall(b"GET / HTTP/1.1\r\n")
                while time.monotonic() - begun < 30:
                    if select.select([trickler], [], [], 2)[0] and trickler.recv(1) == b"":  # closed by the server
                        break
                    trickler.sendall(b"X")
            except OSError:
                pass
            dropped.append(time.monotonic() - begun)

        feeder = threading.Thread(target=trickle, daemon=True)
        feeder.start()
        time.sleep(1)
        assert _threads(proc.pid) > 50  # one a connection, as before
        assert _get(f"http://127.0.0.1:{port}/") == (200, "<html>the dashboard</html>")  # served meanwhile
        for client in clients[:-1]:
            assert client.recv(1) == b"", "an idle client was not dropped"
        assert time.monotonic() - begun < 14
        feeder.join(timeout=20)
        assert dropped and dropped[0] < 14, dropped  # dropped, though it sent a byte every 2 s
        deadline = time.monotonic() + 5
        while _threads(proc.pid) > 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _threads(proc.pid) <= 5


def test_a_client_timeout_of_zero_is_refused(tmp_path: Path):
    from tests.conftest import run_cli

    result = run_cli(tmp_path / "home", "serve", "--no-build", "--client-timeout", "0", timeout=60)
    assert result.returncode == 2 and "0 is not a number of seconds above 0" in result.stderr, result.stderr


def test_a_slowly_reading_client_is_dropped_when_its_response_deadline_passes(tmp_path: Path):
    """A client taking a little of a large file each second (every wait under --client-timeout) held its thread
    for as long as the file lasted at its pace - minutes here. A whole response now has 6 client timeouts."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("counts the server's threads in /proc")
    home = tmp_path / "home"
    (home / "report").mkdir(parents=True)
    (home / "report" / "big.svg").write_bytes(b"x" * (48 << 20))  # 48 MiB: 4 minutes at the pace below
    with _serve_as_is(home, "--client-timeout", "1") as (proc, port), socket.socket() as client:
        idle = _threads(proc.pid)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        client.settimeout(5)
        client.connect(("127.0.0.1", port))
        client.sendall(b"GET /big.svg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        begun = time.monotonic()
        freed_after = None
        while time.monotonic() - begun < 20:
            try:
                if client.recv(16384) == b"":
                    break
            except OSError:
                break
            time.sleep(0.08)  # about 200 KB/s: each 64 KiB write of the server waits well under 1 s
            if freed_after is None and time.monotonic() - begun > 1 and _threads(proc.pid) <= idle:
                freed_after = time.monotonic() - begun
        assert freed_after is not None, "the slow reader still held a thread of serve after 20 s"
        assert 5 < freed_after < 12, freed_after  # 6 x the 1 s client timeout, not the file's length
        assert _get(f"http://127.0.0.1:{port}/") == (200, "<html>the dashboard</html>")


def test_a_client_that_goes_away_mid_response_costs_no_traceback(tmp_path: Path):
    """A browser that stops a page's load (a reload, a closed tab) reset the connection mid-response, and serve
    printed socketserver's 'Exception occurred during processing of request' and a 20-line ConnectionResetError
    traceback for each: its log was tracebacks. The client went away; that is no error of the server's."""
    import struct

    home = tmp_path / "home"
    (home / "report").mkdir(parents=True)
    (home / "report" / "index.html").write_text("<html>the dashboard</html>")
    (home / "report" / "big.html").write_bytes(b"x" * (4 << 20))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "projections.cli", "serve", "--port", str(port), "--no-build"],
                            env=project_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving ")
        for _ in range(10):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close: a reset
                client.sendall(b"GET /big.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                client.recv(100)
        time.sleep(0.5)
        assert _get(f"http://127.0.0.1:{port}/") == (200, "<html>the dashboard</html>")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and "Exception occurred" not in err, err

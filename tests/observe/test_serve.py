"""`projections serve`: serves the dashboard on localhost, refuses a taken port with a clear message, rebuilds
the report when the ledger moves."""

from __future__ import annotations

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
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


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


def test_only_addresses_outside_this_machine_are_warned_about():
    """127.0.0.2 (all of 127.0.0.0/8 is loopback) drew 'not a loopback address: anyone who can reach it can read
    the dashboard'."""
    from projections.observe.server import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org", ""))

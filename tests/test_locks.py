from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from projections import locks
from projections.errors import LockTimeout

HOLDER = """
import sys, time
from pathlib import Path
from projections import locks
with locks.hold(Path(sys.argv[1]), what="test"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    path = tmp_path / "locks" / "date=2019-10-30.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield path, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


def test_waiter_names_the_holder_and_times_out(holder):
    path, proc = holder
    messages: list[str] = []
    with pytest.raises(LockTimeout, match=f"pid {proc.pid}"), locks.hold(path, what="slate date 2019-10-30",
                                                                        timeout=0.3, notify=messages.append):
        pass
    assert len(messages) == 1 and f"pid {proc.pid}" in messages[0] and "slate date 2019-10-30" in messages[0]


def test_lock_of_a_killed_holder_is_free_at_once(holder):
    path, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    start = time.monotonic()
    with locks.hold(path, what="x", timeout=5, notify=lambda m: None):
        pass
    assert time.monotonic() - start < 1


def test_waiter_gets_the_lock_when_the_holder_finishes(holder):
    path, proc = holder
    messages: list[str] = []

    def finish_holder(message: str) -> None:
        messages.append(message)
        proc.terminate()

    with locks.hold(path, what="x", timeout=10, notify=finish_holder):
        assert proc.wait(5) is not None
    assert messages


def test_shared_holders_coexist(tmp_path):
    path = tmp_path / "store.lock"
    with locks.hold(path, what="store", shared=True), locks.hold(path, what="store", shared=True, timeout=0.2):
        pass

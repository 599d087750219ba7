from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from projections import locks
from projections.errors import ConfigError, LockTimeout

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


def test_a_waiter_says_it_once_per_holder(holder):
    """A run waits on a date's lock once per stage: one line says so, not one per stage."""
    path, proc = holder
    messages: list[str] = []
    for _ in range(3):
        with pytest.raises(LockTimeout), locks.hold(path, what="the once lock", timeout=0.2,
                                                    notify=messages.append):
            pass
    assert len(messages) == 1 and f"pid {proc.pid}" in messages[0]


def _hold_until_told(path, held, release) -> None:
    with locks.hold(path, what="test"):
        held.set()
        release.wait(30)


def _wait_on(path, out, quiet: float = 0.1) -> None:
    locks.QUIET_WAIT_S = quiet
    messages: list[str] = []
    try:
        with locks.hold(path, what="the sibling lock", timeout=0.2, notify=messages.append):
            messages.append("taken")
    except LockTimeout as exc:
        messages.append(f"timeout: {exc}")
    out.put(messages)


@pytest.mark.parametrize("quiet", [0.1, 5.0], ids=["a long wait", "a short wait"])
def test_a_worker_of_the_same_run_is_named_as_such_and_only_when_the_wait_drags(tmp_path, quiet: float):
    """`doit -n 2` forks its workers: a worker waiting on its sibling says so, not "pid N (doit ...)", which
    reads like a second invocation - and only once the wait lasts QUIET_WAIT_S: a season's backfill printed 128
    such lines, the normal course of two workers on one date."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    path = tmp_path / "locks" / "date=2019-10-30.lock"
    held, release, out = fork.Event(), fork.Event(), fork.Queue()
    holder = fork.Process(target=_hold_until_told, args=(path, held, release))
    holder.start()
    try:
        assert held.wait(30)
        waiter = fork.Process(target=_wait_on, args=(path, out, quiet))
        waiter.start()
        time.sleep(1.0)  # longer than the waiter's 0.2 s timeout: it is for other runs, not for a sibling
        release.set()
        messages = out.get(timeout=30)
        waiter.join(30)
    finally:
        release.set()
        holder.join(30)
    said = f"waiting for the lock on the sibling lock, held by another worker of this run (pid {holder.pid})"
    if quiet < 0.5:
        assert messages == [said, "taken"], messages
    else:  # the wait ended before it was worth a line
        assert messages == ["taken"], messages


@pytest.mark.parametrize("make, kind", [
    (lambda p: p.mkdir(), "a directory"),
    (lambda p: p.symlink_to("/nonexistent/elsewhere/store.lock"), "a symbolic link (to /nonexistent/elsewhere"),
    (lambda p: os.mkfifo(p), "a FIFO"),
], ids=["directory", "dangling symlink", "fifo"])
def test_a_lock_path_that_is_no_lock_file_is_one_error_naming_it(tmp_path, make, kind):
    """Something made by hand where a lock file goes was an IsADirectoryError / FileNotFoundError traceback."""
    path = tmp_path / "locks" / "store.lock"
    path.parent.mkdir()
    make(path)
    with pytest.raises(ConfigError) as caught, locks.hold(path, what="the store"):
        pytest.fail("held a lock on something that is no lock file")
    message = str(caught.value)
    assert f"cannot take the lock on the store: {path} is {kind}" in message
    assert "not a lock file; remove it" in message
    assert locks.unusable(path, what="the store") == message
    assert path.exists() or path.is_symlink()  # left as it was: the user removes it


def test_a_symlink_at_a_lock_path_is_never_followed(tmp_path):
    """A symlink to a place that exists would have created (and locked, and written into) a file there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = tmp_path / "locks" / "date=2019-10-30.lock"
    path.parent.mkdir()
    path.symlink_to(elsewhere / "made.lock")
    with pytest.raises(ConfigError, match="is a symbolic link"), locks.hold(path, what="slate date 2019-10-30"):
        pass
    assert not (elsewhere / "made.lock").exists()
    assert locks.unusable(tmp_path / "locks" / "missing.lock", what="x") is None


SHARED_HOLDER = HOLDER.replace('what="test"', 'what="test", shared=True')


def test_a_waiter_on_shared_holders_is_not_told_of_a_holder_long_gone(tmp_path):
    """Shared holders (running builds) write no note, so the last exclusive holder's stayed in the file: gc
    waiting on builds said 'held by pid 16934 ... (projections gc --grace 0)', a gc that had finished minutes
    before. The note now leaves with its holder."""
    path = tmp_path / "locks" / "store.lock"
    gc = subprocess.run([sys.executable, "-c", HOLDER.replace("time.sleep(60)", "pass"), str(path)],
                        capture_output=True, text=True, timeout=60)  # an exclusive holder (a gc) that finished
    assert gc.returncode == 0 and '"pid": ' in path.read_text()  # its note stays in the file
    proc = subprocess.Popen([sys.executable, "-c", SHARED_HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        messages: list[str] = []
        with pytest.raises(LockTimeout) as raised, locks.hold(path, what="the store", timeout=1.5,
                                                              notify=messages.append):
            pass
        assert "held by another process" in raised.value.args[0], raised.value.args[0]
        assert all("held by another process" in m for m in messages), messages
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_the_note_of_a_holder_killed_holding_the_lock_is_not_believed(tmp_path, holder):
    """A holder killed while it held the lock leaves its note; a later waiter (on shared holders) must not name
    that dead process."""
    path, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    shared = subprocess.Popen([sys.executable, "-c", SHARED_HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert shared.stdout is not None and shared.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeout) as raised, locks.hold(path, what="x", timeout=1.5, notify=lambda m: None):
            pass
        assert f"pid {proc.pid}" not in raised.value.args[0] and "another process" in raised.value.args[0]
    finally:
        shared.kill()
        shared.wait()
        shared.stdout.close()


def test_a_lock_another_user_holds_names_that_user(holder):
    """In a shared root, ana waiting on svc's run was told 'held by pid N ...; stop it if it is stuck': ana
    cannot stop svc's process, nor tell whose it is."""
    import json

    path, proc = holder
    note = json.loads(path.read_text())
    path.write_text(json.dumps({**note, "user": "svc"}))  # the holder's own note, as another user would write it
    with pytest.raises(LockTimeout) as raised, locks.hold(path, what="x", timeout=0.3, notify=lambda m: None):
        pass
    assert f"held by pid {proc.pid} of svc on " in raised.value.args[0]
    assert "ask its user (or root) to stop it if it is stuck" in raised.value.args[0], raised.value.args[0]


def test_a_zero_timeout_waits_for_a_holder_that_has_not_said_who_it_is_yet(tmp_path):
    """A holder takes the flock, then truncates the file and writes its note: a waiter with lock_timeout_s=0 that
    read the file in between saw "another process" and gave up at once - `doit -n 2` failed a date on its own
    worker's lock. A holder that has not said who it is gets a moment (locks.UNNAMED_GRACE_S) to say it."""
    path = tmp_path / "date=2019-11-01.lock"
    path.write_text("")
    script = ("import fcntl, os, sys, time\n"
              "fd = os.open(sys.argv[1], os.O_RDWR)\n"
              "fcntl.flock(fd, fcntl.LOCK_EX)\n"  # the flock, no note yet
              "print('held', flush=True)\n"
              "time.sleep(0.4)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with locks.hold(path, what="slate date 2019-11-01", timeout=0, notify=lambda m: None):
            assert proc.wait(5) == 0  # it got the lock once the unnamed holder let go
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_a_waiter_whose_parent_holds_the_lock_waits_for_it_as_for_its_own_run(tmp_path):
    """The main process of `doit -n N` holding a lock its worker waits for is this run's own course: named as
    such, never a timeout (lock_timeout_s is for other runs)."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")  # no inherited lock descriptor: only the parent holds it
    path = tmp_path / "locks" / "date=2019-10-30.lock"
    out = spawn.Queue()
    with locks.hold(path, what="test"):
        waiter = spawn.Process(target=_wait_on, args=(path, out, 0.1))
        waiter.start()
        time.sleep(2.0)  # past the waiter's 0.2 s timeout and its quiet 0.1 s
    messages = out.get(timeout=30)
    waiter.join(30)
    said = f"waiting for the lock on the sibling lock, held by another worker of this run (pid {os.getpid()})"
    assert messages == [said, "taken"], messages


def test_a_holder_is_named_after_a_longer_note_of_an_earlier_holder(tmp_path):
    """The note is truncated before it is written: a longer note left by an earlier holder would otherwise
    trail the new one, and the waiter could only say "another process"."""
    path = tmp_path / "locks" / "date=2019-10-30.lock"
    path.parent.mkdir(parents=True)
    path.write_text('{"pid": 1, "argv": ["' + "x" * 500 + '"]}')
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeout, match=f"pid {proc.pid} "), locks.hold(path, what="x", timeout=0.3,
                                                                             notify=lambda m: None):
            pass
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_process_of_another_user_counts_as_alive(nobody):
    """kill(pid, 0) on another user's process is refused (EPERM): it exists all the same, and its lock note must
    not be taken for a dead holder's."""
    result = nobody.run("from projections.locks import pid_alive; print(pid_alive(1), pid_alive(2 ** 22 + 1))")
    assert result.returncode == 0 and result.stdout.split() == ["True", "False"], result.stdout + result.stderr


def test_a_holder_of_another_parent_is_another_run_even_to_a_forked_worker(tmp_path):
    """A forked worker's parent has its very command line - but a holder with another parent (a worker of a
    second `doit -n 2`) is another run: the waiter gives up at its timeout instead of waiting as for a sibling."""
    import multiprocessing

    path = tmp_path / "locks" / "date=2019-10-30.lock"
    relay = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {HOLDER!r}, sys.argv[1]])"
    proc = subprocess.Popen([sys.executable, "-c", relay, str(path)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)  # the holder is its child, not this process's
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        waiter = fork.Process(target=_wait_on, args=(path, out, 0.1))
        waiter.start()
        messages = out.get(timeout=30)
        waiter.join(30)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert messages[-1].startswith("timeout: gave up after 0 s waiting for the lock on the sibling lock"), messages
    assert "worker of this run" not in " ".join(messages)


def test_a_long_wait_still_takes_the_lock_within_a_second_of_its_release(holder):
    """A waiter polls with a growing delay capped at one second: without the cap the delay doubles for ever, and a
    run that waited ten minutes for another run's date would then sleep minutes more after the lock was free.
    Here the holder goes after 3.3 s, when an uncapped waiter would sleep until 6.35 s."""
    import threading

    path, proc = holder
    released: list[float] = []

    def release() -> None:
        proc.kill()
        proc.wait()
        released.append(time.monotonic())

    timer = threading.Timer(3.3, release)
    timer.start()
    try:
        with locks.hold(path, what="slate date 2019-10-30", timeout=30, notify=lambda m: None):
            took = time.monotonic()
    finally:
        timer.join()
    assert took - released[0] < 1.6, f"took the lock {took - released[0]:.2f} s after it was free"

"""Locks in the data root, on flock(2): the kernel drops them when their holder dies, even by SIGKILL.

    locks/date=<D>.lock   held while a stage of slate date D is checked, built, committed and published
    locks/store.lock      shared by builds, exclusive for gc

The holder writes who it is (pid, host, command, since) into the lock file, so a waiter can say who it
waits for. That text is advisory; the flock is the truth, so a stale text left by a killed holder never
blocks anyone.

A lock path that cannot be a lock file (a directory, a symbolic link - dangling or not -, a FIFO or a device
made there by hand) is refused with a ConfigError naming it and the fix (`unusable`), never followed or opened
as something else; the caller's other OSErrors (a lock file this user may not write) pass through unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from projections.errors import ConfigError, LockTimeout
from projections.ledger import iso, utc_now
from projections.ops.unwritable import kind_of

Notify = Callable[[str], None]


def _holder(fd: int) -> dict[str, Any]:
    """What the holder of an exclusive lock wrote into its file (pid, ppid, host, since, argv); {} if nothing."""
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw) if raw else {}
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _describe_holder(fd: int, info: dict[str, Any] | None = None) -> str:
    info = _holder(fd) if info is None else info
    pid = info.get("pid") if info else None
    if isinstance(pid, int) and info.get("host") == socket.gethostname() and not pid_alive(pid):
        info = {}  # the note of a holder gone (shared holders write none, so an exclusive holder's note stays
        # after it: a gc long finished was named as the holder of the store that running builds held)
    if not info:
        return "another process"
    if info.get("host") == socket.gethostname() and _same_run(info.get("pid"), info.get("ppid")):
        return f"another worker of this run (pid {info.get('pid')})"
    cmd = " ".join(info.get("argv", []))[:120]
    user = f" of {info['user']}" if info.get("user") and info.get("user") != _user() else ""
    return f"pid {info.get('pid')}{user} on {info.get('host')} since {info.get('since')} ({cmd})"


def _user() -> str:
    from projections.ops.permissions import user_name

    return user_name(os.geteuid())


def _same_run(pid: Any, ppid: Any) -> bool:
    """Whether the holder is of this process's own `doit -n N` run: its parent (the workers are forked, so the
    parent has this very command line), or a sibling forked from that parent. Two runs started from one shell
    share a parent too, but a shell's command line is not theirs."""
    parent = os.getppid()
    if pid == parent:
        return True
    try:
        mine = Path("/proc/self/cmdline").read_bytes()
        return ppid == parent and Path(f"/proc/{parent}/cmdline").read_bytes() == mine
    except OSError:
        return False


_WAITS_SAID: set[tuple[str, str]] = set()  # (lock, holder): one line per process, not one per stage waiting
QUIET_WAIT_S = 10.0  # a wait for a worker of this same run is said only once it lasts this long
UNNAMED_GRACE_S = 1.0  # how long a timeout waits for a holder to say who it is before giving up on it


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unusable(path: Path, *, what: str) -> str | None:
    """Why `path` cannot be the lock file of `what` (something that is not a regular file is there), or None:
    missing (it is created) or a regular file. The message names the path and the fix."""
    try:
        st = path.lstat()
    except OSError:
        return None  # missing, or not ours to look at: opening it says why
    kind = kind_of(st.st_mode)
    if kind is None:
        return None
    if stat.S_ISLNK(st.st_mode):
        with contextlib.suppress(OSError):
            kind += f" (to {os.readlink(path)})"
    how = "`rm -r`, after moving away anything in it you need" if stat.S_ISDIR(st.st_mode) else "`rm`"
    return (f"cannot take the lock on {what}: {path} is {kind}, not a lock file; remove it ({how}) - the lock "
            "file is created again by the next run")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def hold(
    path: Path,
    *,
    what: str,
    shared: bool = False,
    timeout: float | None = None,
    notify: Notify = _stderr,
    poll: float = 0.05,
) -> Iterator[None]:
    """Hold the lock at `path`; wait for it (saying who holds it) up to `timeout` seconds (None: forever)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_NOFOLLOW: a symbolic link there is refused, not followed (it could create a file anywhere)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o664)
    except OSError as exc:
        why = unusable(path, what=what)
        if why is None or exc.errno not in (errno.EISDIR, errno.ELOOP, errno.ENOENT, errno.ENXIO, errno.EOPNOTSUPP):
            raise
        raise ConfigError(why) from None
    if kind_of(os.fstat(fd).st_mode) is not None:  # a FIFO or device opens: it still is no lock file
        os.close(fd)
        raise ConfigError(unusable(path, what=what) or f"cannot take the lock on {what}: {path} is not a regular "
                          "file; remove it")
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            started = time.monotonic()
            said = False
            deadline = None if timeout is None else started + timeout
            delay = poll
            while True:
                if not said:  # another run is news at once; a worker of this run (`doit -n N`, two stages of one
                    # date) is the normal course of a run, said only if the wait drags on
                    info = _holder(fd)
                    holder = _describe_holder(fd, info)
                    waited = time.monotonic() - started
                    if waited >= QUIET_WAIT_S or (info and "worker of this run" not in holder) or \
                            (not info and waited >= 1.0):  # a holder that never says who it is
                        said = True
                        key = (what, str(info.get("pid")))
                        if key not in _WAITS_SAID:  # a run waits once per stage of the date: one line says it
                            _WAITS_SAID.add(key)
                            notify(f"waiting for the lock on {what}, held by {holder}")
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    now = time.monotonic()
                    holder = _describe_holder(fd) if deadline is not None and now >= deadline else ""
                    if holder == "another process" and now - started < UNNAMED_GRACE_S:
                        holder = ""  # a holder that has the flock but has not written its note yet (truncate, then
                        # write): it may be a worker of this run - `doit -n 2` with lock_timeout_s=0 failed its own
                    if holder and "worker of this run" not in holder:  # the timeout is for other runs:
                        user = _holder(fd).get("user")
                        stop = "ask its user (or root) to stop it" if user and user != _user() else "stop it"
                        raise LockTimeout(  # a worker of this one (`doit -n N`) is this run's own course
                            f"gave up after {timeout:.0f} s waiting for the lock on {what}, held by "
                            f"{holder}; wait for it to finish, or {stop} if it is stuck"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
        if not shared:
            info = {"pid": os.getpid(), "ppid": os.getppid(), "host": socket.gethostname(), "since": iso(utc_now()),
                    "argv": sys.argv[:8], "user": _user()}
            try:  # who holds it, for a waiter's message: the flock is the lock, this note only informs
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info).encode(), 0)
            except OSError:  # a full disk: the lock is held all the same
                pass
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock

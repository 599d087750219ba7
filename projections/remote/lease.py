"""Leases: a lock on object storage that a dead holder cannot keep forever.

    locks/<name>.json   {"owner", "host", "machine", "pid", "since", "expires", "lease_s", "released"}

Taking a free lock is a put-if-absent; taking one whose lease expired (or that was released, or whose holder
is a dead process on this very machine) is a compare-and-swap on the ETag that was read, so of two machines
racing for it exactly one wins. The holder renews its lease every `lease_s / 3` seconds (again by CAS on its
own last ETag) from a heartbeat thread, and releases it by a CAS that marks it released. A holder killed by
SIGKILL stops renewing, so its lease runs out after at most `lease_s` and the next machine takes over.

A renewal that loses its CAS means another machine took the lock (this holder stalled past its lease): the
lease is marked lost, and the shared store refuses to move a gold pointer under a lost lease (fencing).
Expiry compares the holder's wall clock with the waiter's: machines must keep their clocks in step (NTP)
to well within `lease_s`.

"This very machine" is the lease's `machine` (see `machine_identity`), never its host name alone: cloned VMs
and containers started with one `--hostname` share a name, and each took the other's live lease for a dead
process's (its pid is not alive *here*), so both held the date. A lease whose machine cannot be told, or
that names none (written before the field existed), is waited out to its expiry.

Raises:
    LockTimeout: the lock stayed held for longer than the caller would wait.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projections.errors import LockTimeout, StoreError
from projections.ledger import iso, utc_now
from projections.locks import pid_alive
from projections.remote.bucket import PreconditionFailed, S3Bucket

_NAME = re.compile(r"^[A-Za-z0-9_.=-]{1,128}$")
_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
_BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def machine_identity() -> str | None:
    """Who may judge this process's pids alive: `<machine-id>/<boot id>/pidns:<inode>`, or None when any part
    cannot be read (not Linux, no machine-id), and then no lease is taken over for a dead pid, only on expiry.

    The machine-id tells machines apart, except cloned VMs (and images that bake one in); the boot id tells
    those apart (it is random at every boot); the pid namespace tells apart containers on one kernel, which
    share both. A pid read in another namespace or boot says nothing about the holder."""
    machine = next((text for text in map(_read_id, _MACHINE_ID_FILES) if text), None)
    boot = _read_id(_BOOT_ID_FILE)
    try:
        pidns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    return f"{machine}/{boot}/pidns:{pidns}" if machine and boot else None


def _read_id(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


class _Detect(enum.Enum):
    MACHINE = "detect"


@dataclass
class Lease:
    name: str
    owner: str
    etag: str
    expires: float
    lost: bool = False
    stop: threading.Event = field(default_factory=threading.Event)


class LeaseLocks:
    """Named leases in one bucket."""

    def __init__(self, bucket: S3Bucket, *, lease_s: float, notify: Callable[[str], None],
                 clock: Callable[[], float] = time.time, poll: float = 0.05,
                 machine: str | _Detect | None = _Detect.MACHINE) -> None:
        """`machine`: this process's `machine_identity()` unless given (None: unknown, never judge a pid)."""
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self.bucket = bucket
        self.lease_s = lease_s
        self.notify = notify
        self.clock = clock
        self.poll = poll
        self.host = socket.gethostname()
        self.machine = machine_identity() if isinstance(machine, _Detect) else machine

    def key(self, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"invalid lock name {name!r}")
        return f"locks/{name}.json"

    def _body(self, owner: str, *, expires: float, released: bool = False) -> bytes:
        return json.dumps({"owner": owner, "host": self.host, "machine": self.machine, "pid": os.getpid(),
                           "argv": sys.argv[:6],
                           "since": iso(utc_now()), "expires": expires, "lease_s": self.lease_s,
                           "released": released}, sort_keys=True).encode()

    def _free(self, info: dict[str, Any]) -> bool:
        if info.get("released") or float(info.get("expires", 0)) <= self.clock():
            return True
        pid = info.get("pid")
        # a holder on this machine whose process is gone will never renew: no need to wait out its lease. Only
        # on this machine: a pid is alive or dead in one pid namespace of one boot (see machine_identity)
        return (self.machine is not None and info.get("machine") == self.machine and info.get("host") == self.host
                and isinstance(pid, int) and not pid_alive(pid))

    def holder(self, name: str) -> dict[str, Any] | None:
        """Who holds `name` now (None when nobody does)."""
        current = self.bucket.get(self.key(name))
        if current is None:
            return None
        info = _parse(current[0])
        return None if self._free(info) else info

    def acquire(self, name: str, *, timeout: float | None) -> Lease:
        key = self.key(name)
        owner = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = self.poll
        told = False
        while True:
            expires = self.clock() + self.lease_s
            current = self.bucket.get(key)
            try:
                if current is None:
                    etag = self.bucket.put(key, self._body(owner, expires=expires), if_absent=True)
                    return Lease(name, owner, etag, expires)
                info = _parse(current[0])
                if self._free(info):
                    etag = self.bucket.put(key, self._body(owner, expires=expires), if_match=current[1])
                    return Lease(name, owner, etag, expires)
            except PreconditionFailed:
                continue  # another machine moved it between our read and write: look again
            if not told:
                self.notify(f"waiting for the shared lock on {name}, held by {_describe(info)}")
                told = True
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeout(f"gave up after {timeout:.0f} s waiting for the shared lock on {name}, held by "
                                  f"{_describe(info)}; wait for it to finish, or stop it if it is stuck (its "
                                  f"lease runs out {self.lease_s:.0f} s after its last renewal)")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def renew(self, lease: Lease) -> bool:
        """Extend the lease by CAS on its ETag; False (and `lost`) once another machine has taken it."""
        if lease.lost:
            return False
        expires = self.clock() + self.lease_s
        try:
            lease.etag = self.bucket.put(self.key(lease.name), self._body(lease.owner, expires=expires),
                                         if_match=lease.etag)
            lease.expires = expires
            return True
        except PreconditionFailed:
            lease.lost = True
            return False
        except StoreError:
            if self.clock() >= lease.expires:
                lease.lost = True
            return not lease.lost  # a network blip: try again on the next beat

    def release(self, lease: Lease) -> None:
        if lease.lost:
            return
        with contextlib.suppress(PreconditionFailed):  # taken over meanwhile: it is no longer ours to release
            self.bucket.put(self.key(lease.name), self._body(lease.owner, expires=0.0, released=True),
                            if_match=lease.etag)

    @contextlib.contextmanager
    def hold(self, name: str, *, timeout: float | None) -> Iterator[Lease]:
        """Hold `name` (renewed in the background) for the duration of the block."""
        lease = self.acquire(name, timeout=timeout)
        beat = threading.Thread(target=self._heartbeat, args=(lease,), name=f"lease-{name}", daemon=True)
        beat.start()
        try:
            yield lease
        finally:
            lease.stop.set()
            beat.join()
            with contextlib.suppress(StoreError):  # an unreleased lease simply expires
                self.release(lease)

    def _heartbeat(self, lease: Lease) -> None:
        while not lease.stop.wait(self.lease_s / 3):
            if not self.renew(lease) and lease.lost:
                self.notify(f"lost the shared lock on {lease.name}: another machine took it over")
                return


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        info = json.loads(raw)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def _describe(info: dict[str, Any]) -> str:
    if not info:
        return "an unreadable lease"
    until = time.strftime("%H:%M:%S", time.gmtime(float(info.get("expires", 0))))
    return (f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')} "
            f"(lease until {until}Z unless renewed)")

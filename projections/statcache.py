"""Stat cache: (device, inode, size, mtime_ns, ctime_ns) -> digest, so a no-op run hashes nothing.

Entries live in SQLite (WAL, safe for several processes) under the data root. The change time is part of the
key because nothing can set it back: a byte flipped in place whose size and mtime were then restored (a disk
error repaired by hand, `touch -r`, a careless copy) changes it, where it would otherwise keep the old digest
and a damaged object stay in use. A file whose mtime or ctime is within `RACY_NS` of the moment it was hashed
is hashed but not cached: a write landing in the same timestamp tick would otherwise go unnoticed (git's
"racily clean" rule). A broken cache database is never fatal: it is
set aside and the run carries on hashing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from projections.errors import ConfigError
from projections.hashing import hash_file

log = logging.getLogger(__name__)

RACY_NS = 1_000_000_000
_SCHEMA = (  # stat2: the key gained ctime_ns. A database file of its own (cache/stat2.sqlite3): older code's
    # cache/stat.sqlite3 is left as it is, so a run of older code beside this one (a timer mid-pull) keeps it
    "CREATE TABLE IF NOT EXISTS stat2 (kind TEXT NOT NULL, path TEXT NOT NULL, dev INTEGER, ino INTEGER,"
    " size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT NOT NULL, PRIMARY KEY (kind, path))"
)

Signature = tuple[int, int, int, int, int]


def signature(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class StatCache:
    """Digest of a file's content, or of anything computed from it, keyed by its stat signature."""

    def __init__(self, db_path: Path | None) -> None:
        self._db_path = db_path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._memo: dict[tuple[str, str], tuple[Signature, str]] = {}
        self.computed = 0  # how many digests this process had to compute (benchmarks read it)
        self.computed_bytes = 0

    def _connect(self) -> sqlite3.Connection | None:
        if self._db_path is None:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if not self._db_path.parent.parent.is_dir():
            return None  # no data root yet: a read-only command must not create one; a build lays it out first
        try:
            if not self._db_path.parent.is_dir():  # the data root's policy (as the root carries it), not the umask's:
                from projections.ops import permissions  # a command may need it before a build lays the root out

                permissions.ensure_dir(self._db_path.parent, permissions.policy_of(self._db_path.parent.parent))
            if not self._db_path.exists():  # created by this process's umask (the data-root policy, under which
                # the group may write it), not SQLite's fixed 0644; its -wal/-shm files take the database's mode
                with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                    os.close(os.open(self._db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            conn = sqlite3.connect(self._db_path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
        except (sqlite3.Error, OSError, ConfigError) as exc:  # a file where cache/ goes, a folder it cannot create
            self._set_aside(exc)
            return None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _set_aside(self, exc: Exception) -> None:
        if isinstance(exc, PermissionError | ConfigError) or "readonly" in str(exc) or "unable to open" in str(exc):
            # another user's cache this one may not write: it is theirs, and sound - leave it be, and say so once
            log.info("stat cache %s is not writable by this user (%s); hashing without it", self._db_path, exc)
            self._db_path, self._conn = None, None
            return
        log.warning("stat cache %s is unusable (%s); hashing without it", self._db_path, exc)
        if self._db_path is not None and self._db_path.exists():
            with contextlib.suppress(OSError):
                self._db_path.rename(self._db_path.with_suffix(f".broken-{os.getpid()}"))
        self._db_path, self._conn = None, None

    def digest(self, path: Path, *, kind: str = "file", compute: Callable[[Path], str] = hash_file) -> str:
        """Digest of `path` under `kind`, computed by `compute` only when the file changed."""
        st = os.stat(path)
        sig = signature(st)
        key = (kind, str(path))
        hit = self._memo.get(key)
        if hit is not None and hit[0] == sig:
            return hit[1]
        conn = self._connect()
        if conn is not None:
            try:
                row = conn.execute(
                    "SELECT dev, ino, size, mtime_ns, ctime_ns, digest FROM stat2 WHERE kind=? AND path=?", key
                ).fetchone()
            except sqlite3.Error as exc:
                self._set_aside(exc)
                row, conn = None, None
            if row is not None and tuple(row[:5]) == sig:
                self._memo[key] = (sig, row[5])
                return str(row[5])
        value = compute(path)
        self.computed += 1
        self.computed_bytes += st.st_size
        self._memo[key] = (sig, value)
        if conn is not None and time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS:
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO stat2 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*key, *sig, value)
                )
            except sqlite3.Error as exc:
                self._set_aside(exc)
        return value

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

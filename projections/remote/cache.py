"""The shared store: the engine's RemoteCache on object storage (a Bazel-style remote cache).

Layout under `s3://bucket/prefix/`:

    objects/ab/<hex>/<file>           data files of an object, byte-identical to the local store's
    objects/ab/<hex>/manifest.json    written LAST, put-if-absent: the object's completion marker
    actions/ab/<hex>.json             action record: key -> object (put-if-absent: the first build wins)
    gold/<asset>/game_date=D.json     gold pointer {"object", "generation", "previous", ...}, moved by CAS
    locks/<name>.json                 leases (see lease.py): `date=D`, `season=S`

Commit (push): verify the local object, upload its data files, then its manifest with If-None-Match, then
the action record with If-None-Match. A reader treats an object without a manifest as absent, so a push
killed half way is invisible; data files are named by content, so the next push rewrites the same bytes.

Fetch: read the manifest, read every file it lists, rehash each against the manifest and the whole against
the object's name, and only then commit it into the local store (which hashes again). A half-uploaded,
truncated or tampered object is never used: it is reported and the stage is rebuilt.

Pointer move (publish): read the pointer and its ETag, write the next generation with If-Match on that ETag
(If-None-Match for the first one); a lost CAS re-reads and tries again. The move is refused when this
process held the date's lease and lost it (fencing: a stalled machine cannot overwrite a newer winner).

Raises:
    StoreError: the bucket is unreachable, or a pointer could not be moved (message says why).
    LockTimeout: a shared lock stayed held longer than the caller would wait.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from projections.errors import StoreError
from projections.hashing import SEAL, digest_bytes, hash_tree, hex_of, is_digest, seal, short
from projections.ledger import iso, utc_now
from projections.remote.bucket import PreconditionFailed, S3Bucket
from projections.remote.lease import Lease, LeaseLocks
from projections.store import MANIFEST, LocalStore

log = logging.getLogger(__name__)

_CAS_ATTEMPTS = 16


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def object_prefix(obj: str) -> str:
    hexd = hex_of(obj)
    return f"objects/{hexd[:2]}/{hexd[2:]}"


def action_key(key: str) -> str:
    hexd = hex_of(key)
    return f"actions/{hexd[:2]}/{hexd[2:]}.json"


def pointer_key(asset: str, game_date: str) -> str:
    if "/" in asset or asset.startswith("."):
        raise ValueError(f"invalid asset name {asset!r}")
    return f"gold/{asset}/game_date={game_date}.json"


class ObjectStoreCache:
    """RemoteCache over a bucket. Thread-safe: a dask worker may run several builds at once."""

    def __init__(self, bucket: S3Bucket, *, lease_s: float = 60.0, notify: Callable[[str], None] = _stderr,
                 local: LocalStore | None = None) -> None:
        self.bucket = bucket
        self.notify = notify
        self.local = local
        self.locks = LeaseLocks(bucket, lease_s=lease_s, notify=notify)
        self._held: dict[tuple[str, int], Lease] = {}
        self.fetched: set[str] = set()  # objects this process copied into the local store
        self.damaged: set[str] = set()  # objects found damaged in the bucket: read no more, repaired by a push
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"ObjectStoreCache({self.bucket.url!r})"

    # ---- action cache --------------------------------------------------------------------------------

    def check(self) -> None:
        """ConfigError when the shared store cannot be used (no such bucket, refused credentials, unreachable)."""
        self.bucket.check()

    def get_action(self, key: str) -> dict[str, Any] | None:
        found = self.bucket.get(action_key(key))
        if found is None:
            return None
        record = _json_object(found[0])
        if record is None or record.get("key") != key or not is_digest(record.get("object")):
            log.warning("shared action record for %s is malformed; the stage will be rebuilt", short(key))
            return None
        return record

    # ---- objects -------------------------------------------------------------------------------------

    def has_object(self, obj: str) -> bool:
        return self.bucket.exists(f"{object_prefix(obj)}/{MANIFEST}")

    def read_object(self, obj: str) -> tuple[dict[str, bytes], dict[str, Any]] | None:
        """An object's data files and manifest, verified against its name; None (with a message) when it is
        absent, incomplete or damaged in the bucket (damaged: said once, and repaired by the next push of it)."""
        if obj in self.damaged:
            return None
        where = object_prefix(obj)
        found = self.bucket.get(f"{where}/{MANIFEST}")
        if found is None:
            return None
        manifest = _json_object(found[0])
        listed = manifest.get("files") if manifest else None
        if not manifest or not isinstance(listed, dict) or not listed or \
                any(not isinstance(v, dict) or "/" in n or n == MANIFEST for n, v in listed.items()):
            return self._damaged(obj, f"unreadable manifest in {self.bucket.url}")
        if manifest.get(SEAL) is not None and manifest[SEAL] != seal({k: v for k, v in manifest.items() if k != SEAL}):
            return self._damaged(obj, f"its manifest was changed after its commit in {self.bucket.url}")
        data = self.bucket.cat_many(f"{where}/{name}" for name in listed)
        files: dict[str, bytes] = {}
        for name, meta in sorted(listed.items()):
            blob = data.get(f"{where}/{name}")
            if blob is None:
                return self._damaged(obj, f"file {name!r} is missing in {self.bucket.url}")
            if digest_bytes(blob) != meta.get("digest"):
                return self._damaged(obj, f"file {name!r} does not match its manifest in {self.bucket.url}")
            files[name] = blob
        if hash_tree({n: digest_bytes(b) for n, b in files.items()}) != obj:
            return self._damaged(obj, "content does not hash to its name")
        return files, manifest

    def _damaged(self, obj: str, why: str) -> tuple[dict[str, bytes], dict[str, Any]] | None:
        """None, said once: the object is not read again by this process, and its next push here uploads it over."""
        with self._mutex:
            self.damaged.add(obj)
        self.notify(f"shared object {short(obj)}: {why}; rebuilding it (its upload repairs the shared copy)")
        return None

    def fetch_object(self, obj: str, into: LocalStore) -> None:
        """Copy a verified object into the local store (nothing is written when it is not usable)."""
        if into.has(obj) and not into.verify_object(obj, use_cache=True):
            return
        got = self.read_object(obj)
        if got is None:
            return
        files, manifest = got
        provenance = {k: v for k, v in manifest.items() if k not in ("object", "files")}
        commit = into.commit(files, provenance)
        if commit.object != obj:  # cannot happen after the checks above; never leave a wrong name unnoticed
            raise StoreError(f"fetched object {short(obj)} committed as {short(commit.object)}")
        self.fetched.add(obj)

    def push_object(self, obj: str, local: LocalStore) -> bool:
        """Upload a local object unless the bucket has it; True when this call completed it. An object this
        process found damaged in the bucket is uploaded again over it: a manifest alone does not make it usable,
        and without the repair every machine downloaded, refused and rebuilt it at every run, for good."""
        repair = obj in self.damaged
        if not repair and self.has_object(obj):
            return False
        local.check(obj)  # never spread a damaged object
        where = object_prefix(obj)
        manifest_bytes = local.path(obj, MANIFEST).read_bytes()
        manifest = _json_object(manifest_bytes) or {}
        for name in sorted(manifest.get("files", {})):
            self.bucket.put(f"{where}/{name}", local.path(obj, name).read_bytes())
        if repair:  # its manifest may be the damaged part: written over too (the local object was verified)
            self.bucket.put(f"{where}/{MANIFEST}", manifest_bytes)
            with self._mutex:
                self.damaged.discard(obj)
            self.notify(f"shared object {short(obj)}: repaired in {self.bucket.url} from this machine's verified copy")
            return True
        try:
            self.bucket.put(f"{where}/{MANIFEST}", manifest_bytes, if_absent=True)  # the completion marker, last
        except PreconditionFailed:
            return False  # another machine completed the same object meanwhile
        return True

    def push(self, record: Mapping[str, Any], local: LocalStore) -> None:
        """Share a build: its object, then its action record (first writer wins; a record naming an object
        the bucket lost is replaced)."""
        obj = record["object"]
        self.push_object(obj, local)
        body = json.dumps(dict(record), indent=1, sort_keys=True).encode()
        where = action_key(record["key"])
        for _ in range(_CAS_ATTEMPTS):
            try:
                self.bucket.put(where, body, if_absent=True)
                return
            except PreconditionFailed:
                current = self.bucket.get(where)
                if current is None:
                    continue
                existing = _json_object(current[0]) or {}
                if existing.get("object") == obj or (is_digest(existing.get("object")) and existing["object"]
                                                     not in self.damaged and self.has_object(existing["object"])):
                    return  # the same result, or an equally valid one another machine shared first
                try:
                    self.bucket.put(where, body, if_match=current[1])
                    return
                except PreconditionFailed:
                    continue
        raise StoreError(f"could not share the action record of {record.get('stage')} {record.get('game_date')}: "
                         f"{where} kept changing")

    # ---- gold pointers -------------------------------------------------------------------------------

    def read_pointer(self, asset: str, game_date: str) -> str | None:
        found = self.bucket.get(pointer_key(asset, game_date))
        info = _json_object(found[0]) if found else None
        obj = info.get("object") if info else None
        return obj if is_digest(obj) else None

    def read_pointers(self, asset: str, dates: list[str]) -> dict[str, str]:
        """date -> object of every shared gold pointer among `dates` (read concurrently)."""
        keys = {pointer_key(asset, d): d for d in dates}
        out = {}
        for key, raw in self.bucket.cat_many(keys).items():
            info = _json_object(raw) or {}
            if is_digest(info.get("object")):
                out[keys[key]] = info["object"]
        return out

    def publish(self, asset: str, game_date: str, obj: str, previous: str | None) -> None:
        """Move the shared gold pointer to `obj` (CAS on its ETag). `previous` is the local pointer; the
        shared one may differ, and is what the new generation records as its predecessor."""
        lease = self._lease(f"date={game_date}")
        # expired counts as lost: a process that stalled past its lease reaches here before its heartbeat's next
        # renewal finds out, and moved the pointer over the machine that had taken the date over meanwhile
        if lease is not None and (lease.lost or self.locks.clock() >= lease.expires):
            raise StoreError(f"not moving the shared gold pointer {asset} {game_date}: this process lost its lease "
                             f"on date={game_date} (it stalled past it; another machine may hold the date now); "
                             f"rerun `doit slate date={game_date}`")
        if not self.has_object(obj):
            if self.local is None or not self.local.has(obj):
                raise StoreError(f"cannot publish {short(obj)} to {self.bucket.url}: the object is in neither store")
            self.push_object(obj, self.local)
        where = pointer_key(asset, game_date)
        for _ in range(_CAS_ATTEMPTS):
            current = self.bucket.get(where)
            info = (_json_object(current[0]) or {}) if current else {}
            if info.get("object") == obj:
                return
            body = json.dumps({"object": obj, "generation": int(info.get("generation", 0)) + 1,
                               "previous": info.get("object"), "host": socket.gethostname(),
                               "at": iso(utc_now())}, sort_keys=True).encode()
            try:
                if current is None:
                    self.bucket.put(where, body, if_absent=True)
                else:
                    self.bucket.put(where, body, if_match=current[1])
                return
            except PreconditionFailed:
                continue
        raise StoreError(f"could not move the shared gold pointer {asset} {game_date}: it kept changing under "
                         f"{_CAS_ATTEMPTS} attempts; another machine is publishing the same date")

    # ---- locks ---------------------------------------------------------------------------------------

    def _lease(self, name: str) -> Lease | None:
        with self._mutex:
            return self._held.get((name, threading.get_ident()))

    @contextlib.contextmanager
    def lock(self, name: str, *, timeout: float | None) -> Iterator[None]:
        with self.locks.hold(name, timeout=timeout) as lease:
            ident = (name, threading.get_ident())
            with self._mutex:
                self._held[ident] = lease
            try:
                yield
            finally:
                with self._mutex:
                    self._held.pop(ident, None)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

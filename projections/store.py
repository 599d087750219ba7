"""The content-addressed store under the data root.

    store/objects/ab/<hex>/   immutable: data file(s) + manifest.json, read-only once committed
    store/tmp/                staging on the same filesystem, so a commit is one rename
    store/actions/ab/<hex>.json   action cache: key -> object, written by rename
    store/unshared/<hex>      a build not yet in the shared store (only with one): pushed by the next run
    gold/<asset>/game_date=D  symlink -> ../../store/objects/ab/<hex>, swapped by rename

An object's name is the hash of its data files (names and digests); manifest.json describes the run that first
produced it and is not part of the name, so a rerun making the same bytes yields the same object (early cutoff);
it carries its own digest (`manifest_digest`): an edit of it is found as a data file's. Commit: write into store/tmp,
fsync every file, rename into place, fsync the parent, drop write bits. A reader sees a complete object or none.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import stat
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from projections import failpoints
from projections.durable import fsync_dir as _fsync_dir
from projections.durable import write_atomic
from projections.durable import write_file as _write_file
from projections.errors import ObjectNotFound, StoreCorrupted, StoreError
from projections.hashing import SEAL, digest_bytes, hash_file, hash_tree, hex_of, is_digest, seal, seal_of, short
from projections.ops.unwritable import kind_of
from projections.statcache import StatCache

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_RO_FILE = 0o444
_RO_DIR = 0o555


@dataclass(frozen=True)
class Commit:
    object: str
    created: bool


class LocalStore:
    """Objects, action records and gold pointers on the local filesystem."""

    def __init__(self, root: Path, *, stat_cache: StatCache | None = None) -> None:
        self.root = root
        self.objects = root / "store" / "objects"
        self.tmp = root / "store" / "tmp"
        self.actions = root / "store" / "actions"
        self.unshared = root / "store" / "unshared"
        self.gold = root / "gold"
        self.stat_cache = stat_cache or StatCache(None)

    # ---- objects -------------------------------------------------------------------------------------

    def object_dir(self, obj: str) -> Path:
        hexd = hex_of(obj)
        return self.objects / hexd[:2] / hexd[2:]

    def has(self, obj: str) -> bool:
        return (self.object_dir(obj) / MANIFEST).is_file()

    def commit(self, files: Mapping[str, bytes], manifest: Mapping[str, Any]) -> Commit:
        """Put an object made of `files`, unless an object with the same content exists already."""
        if not files:
            raise StoreError("refusing to commit an object with no data files")
        for name in files:
            if name == MANIFEST or "/" in name or name.startswith("."):
                raise StoreError(f"invalid object file name {name!r}")
        digests = {name: digest_bytes(data) for name, data in files.items()}
        obj = hash_tree(digests)
        final = self.object_dir(obj)
        if self.has(obj):
            if not self.verify_object(obj, use_cache=True):
                return Commit(obj, created=False)
            self.quarantine(obj)  # damaged on disk: set it aside and write it again
        elif os.path.lexists(final):  # its directory without a manifest (an object half deleted or restored)
            self.quarantine(obj)

        self.tmp.mkdir(parents=True, exist_ok=True)
        staging = self.tmp / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        try:
            for name, data in files.items():
                _write_file(staging / name, data)
            record = {
                **{k: v for k, v in manifest.items() if k != SEAL},
                "object": obj,
                "files": {n: {"digest": digests[n], "size": len(files[n])} for n in sorted(files)},
            }
            record = json.loads(json.dumps(record))  # as a reader parses it: the seal is checked against that
            record[SEAL] = seal(record)
            _write_file(staging / MANIFEST, json.dumps(record, indent=1, sort_keys=True).encode())
            for name in [*files, MANIFEST]:
                os.chmod(staging / name, _RO_FILE)
            _fsync_dir(staging)
            failpoints.hit("commit.staged")
            if not final.parent.is_dir():  # a new shard (objects/ab/): every later object of it, whoever builds
                final.parent.mkdir(parents=True, exist_ok=True)  # it, goes there - the mode objects/ carries,
                with contextlib.suppress(OSError):  # whatever this process's umask
                    os.chmod(final.parent, stat.S_IMODE(self.objects.stat().st_mode) | 0o700)
            try:
                os.rename(staging, final)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and self.has(obj):
                    return Commit(obj, created=False)  # a concurrent writer committed the same bytes
                raise
            _fsync_dir(final.parent)
            failpoints.hit("commit.renamed")
            os.chmod(final, _RO_DIR)
            return Commit(obj, created=True)
        finally:
            if staging.exists():
                _rmtree(staging)

    def path(self, obj: str, name: str) -> Path:
        if not self.has(obj):
            raise ObjectNotFound(f"object {short(obj)} is not in the store at {self.objects}")
        return self.object_dir(obj) / name

    def manifest(self, obj: str) -> dict[str, Any]:
        path = self.path(obj, MANIFEST)
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise StoreCorrupted(
                f"object {short(obj)}: unreadable manifest {path} ({exc}); "
                "run `projections verify` and rebuild the date"
            ) from exc
        if not isinstance(data, dict):
            raise StoreCorrupted(f"object {short(obj)}: manifest {path} is not a JSON object")
        return data

    def verify_object(self, obj: str, *, use_cache: bool = False) -> list[str]:
        """Problems with one object (empty when it is intact): every data file is rehashed."""
        where = self.object_dir(obj)
        if not where.is_dir():
            return [f"object {short(obj)}: missing ({where})"]
        if not (where / MANIFEST).is_file():
            return [f"object {short(obj)}: incomplete, no {MANIFEST} in {where}; the next build of it sets it aside "
                    "and writes it again"]
        try:
            manifest = self.manifest(obj)
        except (StoreCorrupted, ObjectNotFound) as exc:
            return [str(exc)]
        path = where / MANIFEST  # an object committed before seals has none; checked once per change, as a file
        sealed = manifest.get(SEAL) is None or manifest[SEAL] == (
            self.stat_cache.digest(path, kind="seal", compute=seal_of) if use_cache else seal_of(path))
        if not sealed:
            return [f"object {short(obj)}: {MANIFEST} was changed after its commit (its provenance no longer matches "
                    "its seal); the next build of it sets it aside and writes it again"]
        listed = manifest.get("files")
        if not isinstance(listed, dict) or not listed:
            return [f"object {short(obj)}: manifest lists no files"]
        linked = (where / MANIFEST).is_symlink()  # read above, but not the store's: named like a linked data file
        problems = [f"object {short(obj)}: file {MANIFEST!r} is a symlink, not written by a build"] if linked else []
        try:
            present = {p.name for p in where.iterdir()} - {MANIFEST}
        except OSError as exc:
            return [f"object {short(obj)}: its directory is unreadable ({_unreadable(where, exc)})"]
        for extra in sorted(present - set(listed)):
            problems.append(f"object {short(obj)}: unexpected file {extra!r}")
        actual: dict[str, str] = {}
        for name in sorted(listed):
            fpath = where / name
            if fpath.is_symlink():  # bytes that match today may change under it tomorrow, outside the store
                problems.append(f"object {short(obj)}: file {name!r} is a symlink, not written by a build")
                continue
            if not fpath.is_file():
                problems.append(f"object {short(obj)}: file {name!r} is missing")
                continue
            try:
                digest = self.stat_cache.digest(fpath) if use_cache else hash_file(fpath)
            except OSError as exc:  # another user's file this one may not read: it cannot be vouched for
                problems.append(f"object {short(obj)}: file {name!r} is unreadable ({_unreadable(fpath, exc)})")
                continue
            actual[name] = digest
            want = listed[name].get("digest") if isinstance(listed[name], dict) else None
            if digest != want:
                problems.append(f"object {short(obj)}: file {name!r} hashes to {short(digest)}, "
                                f"manifest says {short(want)}")
        if not problems and hash_tree(actual) != obj:
            problems.append(f"object {short(obj)}: content hashes to {short(hash_tree(actual))}, "
                            "not to its name")
        return problems

    def check(self, obj: str) -> None:
        """Raise StoreCorrupted unless the object is intact (stat-cached: cheap when nothing changed)."""
        problems = self.verify_object(obj, use_cache=True)
        if problems:
            raise StoreCorrupted("; ".join(problems) + " - the next build recreates it; "
                                 "`projections verify` lists every damaged object")

    def quarantine(self, obj: str) -> Path:
        """Move a damaged object out of the way (kept for inspection, never read again). The quarantine and the
        moved directory take the data root's policy, as store/ carries it: another user's run may add to it."""
        from projections.ops import permissions

        where = self.object_dir(obj)
        store = self.root / "store"
        dest = store / "quarantine" / f"{hex_of(obj)}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
        policy = permissions.policy_of(store)
        permissions.ensure_dir(dest.parent, policy)
        try:
            os.chmod(where, policy.dir_mode)  # a directory moved to a new parent must be writable to update '..'
        except PermissionError:  # another user's object (only its owner may chmod): set aside in its own shard,
            # where '..' does not change, so its read-only folder need not be written; never read again either
            dest = where.with_name(f"{where.name}.damaged-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        os.rename(where, dest)
        log.warning("object %s was damaged; moved to %s", short(obj), dest)
        return dest

    def iter_objects(self) -> Iterator[str]:
        """Every object; a planted symlink (shard or object folder) is not one (verify.planted_links names it)."""
        if not self.objects.is_dir():
            return
        for prefix in sorted(self.objects.iterdir()):
            if prefix.is_symlink() or not prefix.is_dir() or len(prefix.name) != 2:
                continue
            for entry in sorted(prefix.iterdir()):
                candidate = "xxh3-128:" + prefix.name + entry.name
                if is_digest(candidate) and not entry.is_symlink():
                    yield candidate

    def delete_object(self, obj: str) -> None:
        """Remove an object (gc only), never through a symlink; moved into store/tmp first: a gc killed partway
        leaves the whole object or a leftover there (the next gc's), never half an object."""
        where = self.object_dir(obj)
        if not where.exists() or where.is_symlink() or where.parent.is_symlink():  # planted links: verify names
            return
        doomed = self.tmp / f"{os.getpid()}-gc-{uuid.uuid4().hex[:12]}"
        try:  # never into a store/tmp planted as a symlink; a folder moved to another parent writes its '..'
            self.tmp.mkdir(parents=True, exist_ok=True)
            if self.tmp.is_symlink():
                raise NotADirectoryError(self.tmp)
            os.chmod(where, stat.S_IMODE(where.stat().st_mode) | stat.S_IRWXU)
            os.rename(where, doomed)
        except OSError:
            doomed = where  # deleted where it is, as before
        failpoints.hit("gc.object_moved")
        _rmtree(doomed)

    # ---- action cache --------------------------------------------------------------------------------

    def _action_path(self, key: str) -> Path:
        hexd = hex_of(key)
        return self.actions / hexd[:2] / f"{hexd[2:]}.json"

    def get_action(self, key: str) -> dict[str, Any] | None:
        """The record for `key`, or None when there is none or it is unreadable (it is then rebuilt)."""
        path = self._action_path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            log.warning("action record %s is unreadable; the stage will be rebuilt", path)
            return None
        if not isinstance(record, dict) or record.get("key") != key or not is_digest(record.get("object")):
            log.warning("action record %s is malformed; the stage will be rebuilt", path)
            return None
        return record

    def put_action(self, record: Mapping[str, Any]) -> None:
        key = record["key"]
        write_atomic(self._action_path(key), json.dumps(record, indent=1, sort_keys=True).encode())

    def mark_unshared(self, key: str) -> None:
        """Note that the build of `key` is not in the shared store yet (written before it is pushed)."""
        write_atomic(self.unshared / hex_of(key), key.encode())

    def clear_unshared(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.unshared / hex_of(key)).unlink()

    def unshared_keys(self) -> list[str]:
        """Keys built here whose push to the shared store did not complete (failed, or the run was killed)."""
        if not self.unshared.is_dir():
            return []
        keys = (p.read_text(encoding="utf-8").strip() for p in sorted(self.unshared.iterdir())
                if not p.name.startswith("."))
        return [k for k in keys if is_digest(k)]

    def iter_action_paths(self) -> Iterator[Path]:
        if self.actions.is_dir():  # a planted link (shard or record) is not the store's: gc never deletes it
            for shard in sorted(p for p in self.actions.iterdir() if p.is_dir() and not p.is_symlink()):
                yield from sorted(p for p in shard.glob("*.json") if not p.is_symlink())

    # ---- gold pointers -------------------------------------------------------------------------------

    def pointer_path(self, asset: str, game_date: str) -> Path:
        return self.gold / asset / f"game_date={game_date}"

    def read_pointer(self, asset: str, game_date: str) -> str | None:
        """The object a gold pointer names, or None when there is no pointer."""
        return self._pointer_target(self.pointer_path(asset, game_date))

    def _pointer_target(self, link: Path) -> str | None:
        try:
            target = os.readlink(link)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreCorrupted(_not_a_pointer(link) or f"gold pointer {link} is not a symlink ({exc}); "
                                 "remove it and rerun the date") from exc
        parts = Path(target).parts
        candidate = "xxh3-128:" + "".join(parts[-2:]) if len(parts) >= 2 else ""
        if not is_digest(candidate):
            raise StoreCorrupted(f"gold pointer {link} -> {target} does not name a store object; "
                                 "remove it and rerun the date")
        if os.path.realpath(link.parent / target) != os.path.realpath(self.object_dir(candidate)):
            raise StoreCorrupted(f"gold pointer {link} -> {target} does not name a store object of this data root "
                                 f"({self.objects}); remove it and rerun the date")
        return candidate

    def swap_pointer(self, asset: str, game_date: str, obj: str) -> None:
        """Point gold/<asset>/game_date=D at `obj`: symlink to a temp name, then rename over (atomic)."""
        if not self.has(obj):
            raise ObjectNotFound(f"cannot publish {short(obj)}: not in the store")
        link = self.pointer_path(asset, game_date)
        link.parent.mkdir(parents=True, exist_ok=True)
        if why := _not_a_pointer(link):  # only a symlink is ever replaced: anything else may be someone's data
            raise StoreError(f"cannot publish {short(obj)} as {asset} {game_date}: {why}")
        target = os.path.relpath(self.object_dir(obj), link.parent)
        tmp = link.with_name(f".{link.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        os.symlink(target, tmp)
        failpoints.hit("pointer.symlinked")
        try:
            os.replace(tmp, link)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST) and (why := _not_a_pointer(link)):
                raise StoreError(f"cannot publish {short(obj)} as {asset} {game_date}: {why}") from None
            raise
        _fsync_dir(link.parent)
        failpoints.hit("pointer.swapped")

    def iter_pointers(self) -> Iterator[tuple[str, str, Path]]:
        """(asset, game_date, link path) for every gold pointer."""
        if not self.gold.is_dir():
            return
        for asset_dir in sorted(self.gold.iterdir()):
            if not asset_dir.is_dir():
                continue
            for link in sorted(asset_dir.glob("game_date=*")):
                yield asset_dir.name, link.name.split("=", 1)[1], link


def _unreadable(path: Path, exc: OSError) -> str:
    """Why a file of an object cannot be read, with its owner and mode and the fix (objects are read-only for
    everyone by design: `projections doctor --fix-permissions` never changes them)."""
    from projections.ops.unwritable import owner_detail

    owner, detail = owner_detail(path)
    return (f"{path}, {detail}: {exc.strerror or exc}; make it readable again, objects are meant to be read by "
            f"everyone (`sudo chmod a+rX {path}`)" + (f", or ask its owner ({owner})" if owner else ""))


def _not_a_pointer(link: Path) -> str | None:
    """Why what is at a gold pointer's path is no pointer (anything but a symlink: a directory, a file), with the
    fix; None for a symlink or nothing. Such a thing is never replaced or deleted: it may be a copy someone made."""
    try:
        st = link.lstat()
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return None
    kind = kind_of(st.st_mode) or "a file"
    return (f"gold pointer {link} is {kind}, not a symlink to a store object, and is never replaced (it may be "
            f"someone's copy of the slate); move it out of {link.parent} (or remove it) and rerun the date")


def _rmtree(path: Path) -> None:
    """Remove a tree whose write bits were dropped (objects are 0555/0444 once committed). A symlink inside is
    removed as a link: neither its target's mode nor its target is touched (nor a link's at the top)."""
    if path.is_symlink():
        return path.unlink()
    for dirpath, dirnames, _ in os.walk(path):
        for d in [dirpath, *(os.path.join(dirpath, n) for n in dirnames)]:
            with contextlib.suppress(OSError):
                st = os.lstat(d)
                if not stat.S_ISLNK(st.st_mode):
                    os.chmod(d, st.st_mode | stat.S_IRWXU)
    shutil.rmtree(path)


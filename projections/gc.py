"""Garbage collection: delete objects nothing needs any more, never one a build is using.

Kept: every object a gold pointer names, every object named by a ref (archive parts, snapshots), the
objects of the newest `keep` action records of each (stage, date), everything a kept object was built from
(the inputs of its action records, transitively: a gold object reused after experiments keeps the stages it
came from, so the date stays up to date) - and, for safety, anything made or used (found up to date by a run)
within `grace_s`: a run that found a stage up to date builds on it a moment later. Action records
whose object is deleted go too, before it, so the action cache never points at nothing (a gc killed in between
leaves an object no record names, the next gc's to delete); a record whose object is gone anyway goes as well.
Unfinished commits in store/tmp are removed when their writer is dead, and damaged objects builds set aside
(`LocalStore.quarantine`) and stat caches a run found unusable (`cache/*.broken-*`) once older than the grace
period.

gc holds `locks/store.lock` exclusively while it decides and deletes. Builds hold it shared for each stage
(see Engine.build), so gc waits for running stages and no stage starts while gc works; the gate lock lets
a waiting gc in ahead of stages that arrive later, so a busy machine cannot starve it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projections import failpoints, locks
from projections.hashing import is_digest, short
from projections.ledger import Ledger
from projections.locks import pid_alive
from projections.ops.permissions import user_name
from projections.ops.unwritable import REFUSED
from projections.store import LocalStore, _rmtree


@dataclass
class GcReport:
    kept: int = 0
    deleted: list[str] = field(default_factory=list)
    records_deleted: int = 0
    tmp_deleted: int = 0
    damaged_deleted: int = 0  # damaged objects a build set aside (store/quarantine, or beside them in their shard)
    bytes_freed: int = 0
    dry_run: bool = False
    others: dict[str, int] = field(default_factory=dict)  # owner -> objects kept: only they (or root) may delete
    labels: dict[str, str] = field(default_factory=dict)  # object -> "stage date" of its newest action record

    def label(self, obj: str) -> str:
        """What `obj` was, for people: its stage and date (or season), from its newest action record."""
        return self.labels.get(obj, "no action record (an ingest or fetch part no ref names)")


def store_lock_path(home: Path) -> Path:
    return home / "locks" / "store.lock"


def gate_path(home: Path) -> Path:
    return home / "locks" / "gc-gate.lock"


@contextlib.contextmanager
def build_guard(home: Path, *, timeout: float | None, notify: Callable[[str], None]) -> Iterator[None]:
    """What a stage build holds: a pass through the gate (so a waiting gc goes first), then the store
    lock shared."""
    with locks.hold(gate_path(home), what="the gc gate", shared=True, timeout=timeout, notify=notify):
        pass
    with locks.hold(store_lock_path(home), what="the store", shared=True, timeout=timeout, notify=notify):
        yield


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def set_aside(store: LocalStore) -> list[Path]:
    """Damaged objects builds set aside (`LocalStore.quarantine`): in store/quarantine, or, another user's, in
    their own shard as `<name>.damaged-<pid>-<tag>`. Never read again; kept for inspection until gc."""
    quarantine = store.root / "store" / "quarantine"
    found = [] if quarantine.is_symlink() else sorted(quarantine.glob("*"))
    return found + sorted(p for p in store.objects.glob("??/*.damaged-*") if not p.parent.is_symlink())


def _ref_objects(home: Path) -> set[str]:
    """Every digest named anywhere under refs/ (archive parts, snapshot indexes): kept unconditionally."""
    found: set[str] = set()
    refs = home / "refs"
    if not refs.is_dir():
        return found
    for path in refs.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines() or [text]:
            with contextlib.suppress(ValueError):
                _collect_digests(json.loads(line), found)
    return found


def _collect_digests(value: Any, found: set[str]) -> None:
    if isinstance(value, str) and is_digest(value):
        found.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_digests(v, found)
    elif isinstance(value, list):
        for v in value:
            _collect_digests(v, found)


def _gone(where: Path) -> bool:
    """Whether an object's folder does not exist (not merely unreadable to this user: lexists says False then)."""
    try:
        os.lstat(where)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _with_inputs(live: set[str], built_from: dict[str, set[str]]) -> set[str]:
    """`live` and every object its objects were built from, transitively."""
    out, todo = set(live), list(live)
    while todo:
        for source in built_from.get(todo.pop(), ()):
            if source not in out:
                out.add(source)
                todo.append(source)
    return out


@contextlib.contextmanager
def _gc_locks(home: Path, *, dry_run: bool, timeout: float | None, notify: Callable[[str], None]) -> Iterator[None]:
    """gc's locks: the gate, then the store lock exclusively. A dry run deletes nothing, so where this user may
    not create or open the lock files (a data root of another user, a read-only mount) it reads without them -
    writing nothing at all - and says that a build running meanwhile may change the list."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(locks.hold(gate_path(home), what="the gc gate", timeout=timeout, notify=notify))
            held.enter_context(locks.hold(store_lock_path(home), what="the store (running builds)", timeout=timeout,
                                          notify=notify))
        except OSError as exc:
            if not dry_run or exc.errno not in REFUSED:
                raise
            held.close()
            notify(f"note: cannot take gc's lock ({exc.filename}: {exc.strerror}); a dry run deletes nothing, so it "
                   "lists without the lock - a build running now may change what a real gc would delete")
        yield


def collect(store: LocalStore, *, keep: int = 3, grace_s: float = 3600.0, dry_run: bool = False,
            ledger: Ledger | None = None, timeout: float | None = 600.0,
            notify: Callable[[str], None] = lambda m: None) -> GcReport:
    """Delete what nothing needs (see the module docstring). `dry_run` reports without deleting."""
    home = store.root
    report = GcReport(dry_run=dry_run)
    try:
        with _gc_locks(home, dry_run=dry_run, timeout=timeout, notify=notify):
            _collect(store, report, keep=keep, grace_s=grace_s, dry_run=dry_run)
    finally:  # recorded even when it stopped partway: what it deleted is gone
        if ledger is not None and not dry_run and (report.deleted or report.records_deleted or report.tmp_deleted
                                                          or report.damaged_deleted):
            ledger.append("gc", deleted=len(report.deleted), records_deleted=report.records_deleted,
                          tmp_deleted=report.tmp_deleted, damaged_deleted=report.damaged_deleted or None,
                          bytes_freed=report.bytes_freed, kept=report.kept,
                          keep=keep, grace_s=grace_s, objects=[short(o) for o in report.deleted] or None,
                          others=report.others or None)
    return report


def _collect(store: LocalStore, report: GcReport, *, keep: int, grace_s: float, dry_run: bool) -> None:
    home = store.root
    me = os.geteuid()
    stopped: OSError | None = None
    live: set[str] = set()
    for _, _, link in store.iter_pointers():
        with contextlib.suppress(Exception):
            target = store._pointer_target(link)
            if target:
                live.add(target)
    live |= _ref_objects(home)

    records: dict[tuple[str, str], list[tuple[str, str, Path]]] = defaultdict(list)
    dangling: list[Path] = []  # records whose object is gone (a gc killed between the two): no build ever redoes
    built_from: dict[str, set[str]] = defaultdict(set)  # object -> the objects its records name as inputs
    newest: dict[str, str] = {}  # object -> created_at of its newest record (whose stage and date label it)
    for path in store.iter_action_paths():
        try:
            record = json.loads(path.read_bytes())
            obj = record["object"]
            inputs = record.get("inputs") or {}
            built_from[obj].update(str(v) for v in inputs.values() if is_digest(str(v)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # unreadable records are verify's business; the next build replaces them
        if is_digest(obj) and _gone(store.object_dir(obj)):
            dangling.append(path)  # an older key's, verify would name it for good: it goes (builds treat it as absent)
            continue
        scope = record.get("game_date") or record.get("season") or "-"
        records[(str(record.get("stage")), str(scope))].append((str(record.get("created_at", "")), obj, path))
        created = str(record.get("created_at", ""))
        if created >= newest.get(obj, ""):
            newest[obj] = created
            report.labels[obj] = f"{record.get('stage')} {scope}"
    doomed_records: dict[str, list[Path]] = defaultdict(list)  # object -> its records beyond the newest `keep`
    for group in records.values():
        group.sort(key=lambda r: r[0], reverse=True)
        for _, obj, _ in group[:keep]:
            live.add(obj)
        for _, obj, path in group[keep:]:
            doomed_records[obj].append(path)
    for path in dangling:
        report.records_deleted += 1
        if not dry_run:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    live = _with_inputs(live, built_from)

    now = time.time()
    for obj in list(store.iter_objects()):
        where = store.object_dir(obj)
        try:
            st = where.stat()
        except OSError:
            continue
        if obj in live or now - st.st_mtime < grace_s:  # needed, or made or used within the grace period
            report.kept += 1
            continue
        owner = st.st_uid
        if me != 0 and owner != me:  # its folder is read-only: only its owner (or root) may empty it
            report.kept += 1
            name = user_name(owner)
            report.others[name] = report.others.get(name, 0) + 1
            continue
        size = _size(where)
        report.records_deleted += len(doomed_records.get(obj, ()))
        if not dry_run:
            try:  # its records first: killed in between, an object no record names is the next gc's to delete
                for path in doomed_records.get(obj, ()):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                failpoints.hit("gc.records_deleted")
                store.delete_object(obj)
            except OSError as exc:  # stop deleting; what is gone still loses its records below, then it is said
                stopped = exc
                break
        report.deleted.append(obj)
        report.bytes_freed += size
    gone = set(report.deleted)
    report.labels = {obj: label for obj, label in report.labels.items() if obj in gone}

    if store.tmp.is_dir() and not store.tmp.is_symlink():
        for staging in store.tmp.iterdir():
            pid_text = staging.name.split("-", 1)[0]
            if pid_text.isdigit() and pid_alive(int(pid_text)):
                continue
            report.tmp_deleted += 1
            if not dry_run:
                _rmtree(staging)
    for damaged in set_aside(store):  # aged like objects, from when it was set aside (a rename sets its ctime)
        try:
            st = damaged.lstat()
        except OSError:
            continue
        if now - st.st_ctime < grace_s:
            continue
        if me != 0 and st.st_uid != me:
            name = user_name(st.st_uid)
            report.others[name] = report.others.get(name, 0) + 1
            continue
        report.damaged_deleted += 1
        report.bytes_freed += _size(damaged)
        if not dry_run:
            _rmtree(damaged)
    cache = home / "cache"  # a stat cache a run found unusable and set aside (statcache): nothing reads it again
    for broken in sorted(cache.glob("*.broken-*")) if cache.is_dir() and not cache.is_symlink() else []:
        with contextlib.suppress(OSError):
            st = broken.lstat()
            if stat.S_ISREG(st.st_mode) and now - st.st_ctime >= grace_s and (me == 0 or st.st_uid == me):
                report.tmp_deleted += 1
                report.bytes_freed += st.st_size
                if not dry_run:
                    broken.unlink()
    gold = home / "gold"
    for leftover in gold.glob("*/.*.tmp") if gold.is_dir() else []:  # a pointer's temp link a killed run left
        pid_text = leftover.name.rsplit(".", 3)[-3] if leftover.name.count(".") >= 3 else ""
        if pid_text.isdigit() and not pid_alive(int(pid_text)) and leftover.is_symlink():
            report.tmp_deleted += 1
            if not dry_run:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
    if stopped is not None:
        raise stopped

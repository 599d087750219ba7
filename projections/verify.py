"""`projections verify`: rehash every object, resolve every gold pointer and action record.

A gold pointer must name an intact object that the stage publishing its asset produced for the pointer's
date (some action record says so): a pointer copied or moved onto another date's slate is a problem.

Nothing is repaired here: verify names each problem (a flipped byte, a truncated file, a dangling pointer,
a half-written record) and the next build recreates what is damaged instead of using it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projections.errors import ProjectionsError
from projections.gc import set_aside
from projections.hashing import is_digest, short
from projections.store import LocalStore


@dataclass
class Report:
    objects: int = 0
    pointers: int = 0
    actions: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


Producer = tuple[str, str | None, str | None]  # (stage, game_date, season) of an action record


def _describe(producers: Iterable[Producer]) -> str:
    said = sorted({f"{stage} for {day}" if day else f"{stage} for season {season or '?'}"
                   for stage, day, season in producers})
    return ", ".join(said[:4]) + (f" and {len(said) - 4} more" if len(said) > 4 else "")


def _pointer_producer(store: LocalStore, asset: str, day: str, target: str, produced: Sequence[Producer],
                      publishers: Collection[str] | None) -> str | None:
    """The problem with a gold pointer whose object was not produced for its date (and asset), else None.

    An object can be produced by several keys (the same bytes from another date or stage), so the pointer
    is right when SOME action record of the publishing stage for `day` names the object; the object's
    manifest (its first producer) counts too, so a damaged record is reported once, as a record."""
    def fits(stage: str | None, game_date: str | None) -> bool:
        return game_date == day and (not publishers or stage in publishers)

    if any(fits(stage, game_date) for stage, game_date, _ in produced):
        return None
    try:
        manifest = store.manifest(target)
    except ProjectionsError:
        manifest = {}
    first: Producer = (str(manifest.get("stage") or "?"), manifest.get("game_date"), manifest.get("season"))
    if fits(first[0], first[1]):
        return None
    if produced:
        who = _describe(produced)
    elif manifest:
        who = f"{_describe([first])} (per its manifest; no action record names it)"
    else:
        who = "no known stage (no action record names it and its manifest is unreadable)"
    publisher = " or ".join(sorted(publishers)) if publishers else "a stage"
    return (f"gold pointer {asset} {day} names object {short(target)}, which was produced by {who}, not by "
            f"{publisher} for {day}: the pointer was moved by hand or copied from another date; rerun "
            f"`doit slate date={day}` to publish that date's own slate")


def verify(store: LocalStore, *, publishers: Mapping[str, Collection[str]] | None = None,
           progress: Callable[[int], None] | None = None) -> Report:
    """Rehash every object; check every gold pointer (it resolves to an intact object produced for its date by
    the stage publishing its asset: `publishers`, asset -> stage names; without it only the date is checked)
    and every action record."""
    report = Report()
    damaged: set[str] = set()
    indexed = list(_source_lines(store))  # every snapshot index line, read once
    sourced = _source_objects(store, indexed)
    for obj in store.iter_objects():
        report.objects += 1
        problems = store.verify_object(obj)
        if problems:
            damaged.add(obj)
            fix = (f"a source's data ({sourced[obj]}): no build makes it again, builds refuse it - ingest the file "
                   "(or fetch the source) again; the new capture supersedes it (this stays said until its ref goes)"
                   if obj in sourced else
                   "the next build that needs it sets it aside and makes it again")
            report.problems.extend(f"{p}; {fix}" for p in problems)
        if progress:
            progress(report.objects)
    report.problems.extend(f"{link} is a symlink (to {os.readlink(link)}) in the store, not written by a build: "
                           "nothing reads or deletes through it; remove the link" for link in planted_links(store))
    records: list[tuple[Path, dict[str, Any] | Exception]] = []
    produced: dict[str, list[Producer]] = {}
    for path in store.iter_action_paths():
        try:
            record = json.loads(path.read_bytes())
            obj = record["object"]
            if not is_digest(obj) or not is_digest(record.get("key")):
                raise ValueError("no key/object digest")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            records.append((path, exc))
            continue
        records.append((path, record))
        day, season = record.get("game_date"), record.get("season")
        produced.setdefault(obj, []).append((str(record.get("stage") or "?"), str(day) if day else None,
                                             str(season) if season else None))
    for asset, day, link in store.iter_pointers():
        report.pointers += 1
        try:
            target = store.read_pointer(asset, day)
        except Exception as exc:  # a malformed pointer is a finding, not a crash
            report.problems.append(f"gold pointer {link}: {exc}")
            continue
        if target is None or not store.object_dir(target).is_dir():
            report.problems.append(f"gold pointer {asset} {day} is dangling: {link} -> object "
                                   f"{short(target)} is missing; rerun `doit slate date={day}`")
        elif target in damaged:
            report.problems.append(f"gold pointer {asset} {day} names damaged object {short(target)}; "
                                   f"rerun `doit slate date={day}`")
        else:
            wrong = _pointer_producer(store, asset, day, target, produced.get(target, []),
                                      None if publishers is None else publishers.get(asset))
            if wrong:
                report.problems.append(wrong)
    for path, parsed in records:
        report.actions += 1
        if isinstance(parsed, Exception):
            report.problems.append(f"action record {path} is unreadable ({parsed}); the next build redoes that "
                                   "stage")
            continue
        obj = parsed["object"]
        if not store.object_dir(obj).is_dir():
            report.problems.append(f"action record {path} names missing object {short(obj)}; the next build "
                                   "redoes that stage (if it still builds that key), the next `projections gc` "
                                   "removes the record")
    report.problems.extend(_archive_refs(store, damaged))
    report.problems.extend(_snapshot_refs(store, indexed))
    if store.tmp.is_dir():
        leftovers = [p.name for p in store.tmp.iterdir()]
        if leftovers:
            report.notes.append(f"{len(leftovers)} unfinished commit(s) in {store.tmp} (from killed runs); "
                                "harmless, `projections gc` removes them")
    aside = set_aside(store)
    if aside:
        report.notes.append(f"{len(aside)} damaged object(s) set aside by builds (never read again; the builds "
                            f"wrote them anew), e.g. {aside[0]}: kept for inspection, `projections gc` deletes "
                            "them once older than its grace period")
    return report


def _archive_refs(store: LocalStore, damaged: Collection[str]) -> list[str]:
    """Problems with the ingested archive parts (refs/archive/<table>/<part>.json): every build that lists a
    table's parts stops at an unreadable ref or one naming a missing object, whichever season it holds."""
    problems = []
    for ref in sorted((store.root / "refs" / "archive").glob("*/*.json")):
        try:
            obj = json.loads(ref.read_bytes())["object"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"archive ref {ref} is unreadable ({exc}); remove it and ingest the file again")
            continue
        if not is_digest(obj) or not store.has(obj):
            problems.append(f"archive ref {ref} names object {short(str(obj))}, which is not in the store; ingest "
                            "the file again")
        elif obj in damaged:
            problems.append(f"archive ref {ref} names damaged object {short(obj)}; ingest the file again")
    return problems


def _source_lines(store: LocalStore) -> Iterator[tuple[Path, int, Any]]:
    """(index file, line number, the line's object or the exception reading it) of every snapshot index line."""
    for index in sorted((store.root / "refs" / "snapshots").glob("*/game_date=*.jsonl")):
        try:
            lines = index.read_bytes().splitlines()
        except OSError as exc:
            yield index, 0, exc
            continue
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    yield index, number, json.loads(line)["object"]
                except (ValueError, KeyError, TypeError) as exc:
                    yield index, number, exc


def _source_objects(store: LocalStore, indexed: Iterable[tuple[Path, int, Any]]) -> dict[str, str]:
    """Object -> what holds it, for the objects of sources: ingested archive parts and snapshots (captures)."""
    held: dict[str, str] = {}
    for ref in sorted((store.root / "refs" / "archive").glob("*/*.json")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            held.setdefault(str(json.loads(ref.read_bytes())["object"]), f"archive part {ref.parent.name}/{ref.stem}")
    for index, _, obj in indexed:
        if isinstance(obj, str):
            held.setdefault(obj, f"snapshot {index.parent.name} {index.stem.split('=', 1)[-1]}")
    return held


def _snapshot_refs(store: LocalStore, indexed: Iterable[tuple[Path, int, Any]]) -> list[str]:
    """Problems with the snapshot indexes (refs/snapshots/<table>/game_date=D.jsonl): a line no build can read (its
    capture drops out of every build unnoticed) or one naming an object not in the store."""
    problems = []
    for index, number, obj in indexed:
        if isinstance(obj, Exception):
            problems.append(f"snapshot index {index} line {number} is unreadable ({obj}): builds skip that capture; "
                            "remove the line, then ingest the file (or fetch the source) again")
        elif not is_digest(obj) or not store.has(obj):
            problems.append(f"snapshot index {index} line {number} names object {short(str(obj))}, which is not in "
                            "the store; remove the line, then ingest the file (or fetch the source) again")
    return problems


def planted_links(store: LocalStore) -> list[Path]:
    """Symlinks in the store's object tree (a shard or an object folder; a file in an object is
    LocalStore.verify_object's) and its action records (a shard or a record): builds never write one, and
    reading or deleting through one would reach outside the data root."""
    found = []
    if store.actions.is_dir():
        for shard in sorted(store.actions.iterdir()):
            found.extend([shard] if shard.is_symlink() else
                         [r for r in sorted(shard.iterdir()) if r.is_symlink()] if shard.is_dir() else [])
    if not store.objects.is_dir():
        return found
    for prefix in sorted(store.objects.iterdir()):
        if prefix.is_symlink():
            found.append(prefix)
        elif prefix.is_dir():
            found.extend(entry for entry in sorted(prefix.iterdir()) if entry.is_symlink())
    return found

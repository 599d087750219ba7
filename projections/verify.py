"""`projections verify`: rehash every object, resolve every gold pointer and action record.

Nothing is repaired here: verify names each problem (a flipped byte, a truncated file, a dangling pointer,
a half-written record) and the next build recreates what is damaged instead of using it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

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


def verify(store: LocalStore, *, progress: Callable[[int], None] | None = None) -> Report:
    report = Report()
    damaged: set[str] = set()
    for obj in store.iter_objects():
        report.objects += 1
        problems = store.verify_object(obj)
        if problems:
            damaged.add(obj)
            report.problems.extend(problems)
        if progress:
            progress(report.objects)
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
    for path in store.iter_action_paths():
        report.actions += 1
        try:
            record = json.loads(path.read_bytes())
            obj = record["object"]
            if not is_digest(obj) or not is_digest(record.get("key")):
                raise ValueError("no key/object digest")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"action record {path} is unreadable ({exc}); the next build redoes that "
                                   "stage")
            continue
        if not store.object_dir(obj).is_dir():
            report.problems.append(f"action record {path} names missing object {short(obj)}; the next build "
                                   "redoes that stage")
    if store.tmp.is_dir():
        leftovers = [p.name for p in store.tmp.iterdir()]
        if leftovers:
            report.notes.append(f"{len(leftovers)} unfinished commit(s) in {store.tmp} (from killed runs); "
                                "harmless, `projections gc` removes them")
    return report

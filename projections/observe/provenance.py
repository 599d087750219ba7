"""Which action record made an object, and the chain of records behind a published object.

An object's manifest names the run that first produced it; a later key that produced the same bytes (early
cutoff) has its own action record pointing at the same object. So the producers of an object are found
from the ledger (every success names its key and object), the manifest's key, and - when the ledger has
been trimmed - a scan of the action records.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from projections.dates import season_of
from projections.errors import ProjectionsError
from projections.hashing import is_digest
from projections.observe.events import Events
from projections.pipeline import Pipeline
from projections.store import LocalStore

Record = dict[str, Any]


class Provenance:
    def __init__(self, store: LocalStore, events: Events, pipeline: Pipeline) -> None:
        self.store = store
        self.events = events
        self.pipeline = pipeline
        self._records: dict[str, Record | None] = {}
        self._scan: dict[tuple[str, str], list[str]] | None = None

    def record(self, key: str | None) -> Record | None:
        if not key or not is_digest(key):
            return None
        if key not in self._records:
            self._records[key] = self.store.get_action(key)
        return self._records[key]

    def manifest(self, obj: str | None) -> Record | None:
        if not obj or not is_digest(obj) or not self.store.has(obj):
            return None
        try:
            return self.store.manifest(obj)
        except ProjectionsError:
            return None

    def _scanned(self, stage: str, obj: str) -> list[str]:
        if self._scan is None:
            self._scan = {}
            for path in self.store.iter_action_paths():
                try:
                    rec = json.loads(path.read_bytes())
                    self._scan.setdefault((str(rec["stage"]), str(rec["object"])), []).append(str(rec["key"]))
                except (OSError, ValueError, KeyError, TypeError):
                    continue
        return self._scan.get((stage, obj), [])

    def _matches(self, rec: Record, stage: str, day: str) -> bool:
        if rec.get("stage") != stage:
            return False
        spec = self.pipeline.stages.get(stage)
        if spec is not None and spec.scope == "season":
            return rec.get("season") == season_of(dt.date.fromisoformat(day))
        return rec.get("game_date") == day

    def producers(self, stage: str, day: str, obj: str | None) -> list[Record]:
        """Action records of `stage` for `day` whose object is `obj`, oldest first."""
        if not obj:
            return []
        keys = [str(e["key"]) for e in self.events.with_object(stage, obj) if e.get("key")]
        manifest = self.manifest(obj)
        if manifest and manifest.get("stage") == stage and manifest.get("key"):
            keys.append(str(manifest["key"]))
        found = self._collect(keys, stage, day, obj)
        if not found:
            found = self._collect(self._scanned(stage, obj), stage, day, obj)
        return sorted(found, key=lambda r: str(r.get("created_at", "")))

    def _collect(self, keys: list[str], stage: str, day: str, obj: str) -> list[Record]:
        out: dict[str, Record] = {}
        for key in keys:
            rec = self.record(key)
            if rec is not None and rec.get("object") == obj and self._matches(rec, stage, day):
                out[key] = rec
        return list(out.values())

    def pick(self, stage: str, day: str, obj: str | None, prefer: str | None = None) -> Record | None:
        """The record that stands for `obj`: the one with key `prefer` if it made `obj`, else the newest."""
        found = self.producers(stage, day, obj)
        for rec in found:
            if prefer and rec.get("key") == prefer:
                return rec
        return found[-1] if found else None

    def last_built(self, stage: str, day: str, *, before_key: str | None = None) -> Record | None:
        """The record of the newest successful build of `stage` for `day` in the ledger; with `before_key`,
        the newest one with another key that happened before `before_key` was first built."""
        successes = self.events.of_stage(day, stage, "stage_success")
        if before_key:
            first = next((i for i, e in enumerate(successes) if e.get("key") == before_key), None)
            if first is None:
                return None
            successes = [e for e in successes[:first] if e.get("key") != before_key]
        for e in reversed(successes):
            rec = self.record(e.get("key"))
            if rec is not None:
                return rec
        return None

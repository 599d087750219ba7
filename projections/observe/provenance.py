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
from projections.observe.events import Event, Events
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
        self._scopes: set[tuple[str, str]] | None = None
        self._ledger_built: dict[str, bool] = {}

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
        return self._read_records()[0].get((stage, obj), [])

    def _read_records(self) -> tuple[dict[tuple[str, str], list[str]], set[tuple[str, str]]]:
        """Every action record, read once: (stage, object) -> keys, and the (stage, date or season) built. It reads
        every record file in the store, so it is only the answer when the ledger has none."""
        if self._scan is None or self._scopes is None:
            self._scan, self._scopes = {}, set()
            for path in self.store.iter_action_paths():
                try:
                    rec = json.loads(path.read_bytes())
                    self._scan.setdefault((str(rec["stage"]), str(rec["object"])), []).append(str(rec["key"]))
                    self._scopes.update((str(rec["stage"]), str(rec[f])) for f in ("game_date", "season") if rec.get(f))
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    continue
        return self._scan, self._scopes

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

    def pick(self, stage: str, day: str, obj: str | None, prefer: str | None = None, *,
             by: str | None = None) -> Record | None:
        """The record that stands for `obj`: the one with key `prefer` if it made `obj`, else the newest. With `by`
        (when a build that read `obj` was made: its record's `created_at`), only the records of keys built at or
        before then, the newest of them - a key that made the same object later (an early cutoff after that
        build) did not feed it."""
        found = self.producers(stage, day, obj)
        if by:
            found = self._built_by(found, by)
        for rec in found:
            if prefer and rec.get("key") == prefer:
                return rec
        return found[-1] if found else None

    def _built_by(self, found: list[Record], by: str) -> list[Record]:
        """Of the records `found`, those whose key was built at or before `by` (by the ledger's builds of the key
        or the record's own `created_at`: a key built again since has the later one), ordered by the last such
        build; when none was, the oldest (a ledger trimmed, or a record from a shared store)."""
        dated: list[tuple[str, Record]] = []
        for rec in found:
            times = [str(e.get("ts") or "") for e in self.events.successes_of(rec.get("key"))]
            before = [t for t in [*times, str(rec.get("created_at") or "")] if t and t <= by]
            if before:
                dated.append((max(before), rec))
        if not dated:
            return found[:1]
        return [rec for _, rec in sorted(dated, key=lambda pair: pair[0])]

    def builds(self, stage: str, day: str) -> list[Event]:
        """The successful builds of `stage` for `day` in the ledger, oldest first; for a season stage, those of
        every date of the season (its object serves them all)."""
        spec = self.pipeline.stages.get(stage)
        if spec is not None and spec.scope == "season":
            season = season_of(dt.date.fromisoformat(day))
            return [e for e in self.events.all if e.get("event") == "stage_success" and e.get("stage") == stage
                    and e.get("season") == season]
        return self.events.of_stage(day, stage, "stage_success")

    def builds_before(self, stage: str, day: str, before: Record | None) -> list[Event]:
        """The successful builds of `stage` for `day` in the ledger, oldest first; with `before`, only those
        before the one that wrote record `before` (before its `created_at` when the ledger lacks that build)."""
        successes = self.builds(stage, day)
        if before is not None:
            built = self.events.build_of(before)
            at = next((i for i, e in enumerate(successes) if e is built), None)
            created = str(before.get("created_at") or "")
            successes = successes[:at] if at is not None else [e for e in successes if str(e.get("ts") or "") < created]
        return successes

    def last_built(self, stage: str, day: str, *, before: Record | None = None) -> tuple[Record, Event, int] | None:
        """The newest successful build of `stage` for `day` in the ledger whose key still has an action record:
        that record, the build's event, and how many newer builds were passed over for lacking one. With
        `before`, only the builds before the one that wrote record `before` (before its `created_at` when the
        ledger lacks that build)."""
        successes = self.builds_before(stage, day, before)
        for passed, e in enumerate(reversed(successes)):
            rec = self.record(e.get("key"))
            if rec is not None:
                return rec, e, passed
        return None

    def ever_built(self, stage: str, day: str) -> bool:
        """Whether `stage` was ever built for `day` (for its season, a season stage) under any key: the ledger
        has a build, cached run or fetch of it, or - the ledger knowing no build of the stage at all (lost, or
        never kept) - the store an action record. A ledger that knows builds of the stage on other dates is taken
        as whole: asking the store would read every record in it on each look at a date not built yet."""
        spec = self.pipeline.stages.get(stage)
        scope = season_of(dt.date.fromisoformat(day)) if spec is not None and spec.scope == "season" else day
        kinds = ("stage_success", "stage_cached", "stage_fetched")
        if self.events.of_season(scope, stage, *kinds) if scope != day else self.events.of_stage(day, stage, *kinds):
            return True
        if stage not in self._ledger_built:  # once a stage: a listing asks it for every date
            self._ledger_built[stage] = self.events.has_any(stage, *kinds)
        if self._ledger_built[stage]:
            return False
        return (stage, scope) in self._read_records()[1]

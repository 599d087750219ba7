"""The front end's sync with the shared store, before doit checks anything.

doit's up-to-date checks plan each stage from the local store, fetching on a miss (Engine._record). A
published stage is up to date only when the local gold pointer names its object, so a machine that did not
build a date would list it stale. `sync_gold` settles each date's published stages against the shared
pointer: when the key's object is what the shared pointer names, the local pointer adopts it (by a normal
build, under the date's locks, which records a `publish`); when this machine's pointer is ahead of the
shared one (a run killed between the two swaps: its publishing note is still there, or no machine published
the date), the shared one is moved forward. A shared pointer that names another object and is not behind (a
machine with other inputs, parameters or code published the date since) is left alone and said: a look at
the date, even `doit list --status`, moved it back to this machine's older gold.

`share_unshared` first pushes what this data root built but could not share: a push that failed (the bucket
down for a moment) or a run killed between the local commit and the push. Without it such a build stays
local for good, because every later run finds it up to date here and never pushes it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from projections.errors import ProjectionsError
from projections.hashing import short

if TYPE_CHECKING:
    from projections.engine import Engine
    from projections.remote.cache import ObjectStoreCache


def share_unshared(engine: Engine) -> int:
    """Push every build whose push did not complete (store/unshared); how many were shared. One that still
    cannot be pushed is named and kept for the next run: this run goes on (its own builds push as usual)."""
    remote: ObjectStoreCache = engine.remote  # type: ignore[assignment]
    shared = 0
    for key in engine.store.unshared_keys():
        record = engine.store.get_action(key)
        if record is None or not engine.store.has(record["object"]):  # removed since (gc): nothing to share
            engine.store.clear_unshared(key)
            continue
        try:
            remote.push(record, engine.store)
        except ProjectionsError as exc:
            engine.notify(f"{record.get('stage')} {record.get('game_date')}: still not in the shared store ({exc}); "
                          "the next run tries again")
            continue
        engine.store.clear_unshared(key)
        engine.ledger.append("stage_shared", stage=record.get("stage"), game_date=record.get("game_date"), key=key,
                             object=record["object"])
        shared += 1
    return shared


def sync_gold(engine: Engine, dates: list[dt.date]) -> dict[str, int]:
    """Reconcile the gold pointers of `dates` with the shared store; counts of what moved."""
    remote: ObjectStoreCache = engine.remote  # type: ignore[assignment]
    counts = {"adopted": 0, "pushed": 0}
    if remote is None or not hasattr(remote, "read_pointers"):
        return counts
    memo: dict[Any, Any] = {}
    for stage in engine.pipeline.published:
        asset = stage.publish
        assert asset is not None
        shared = remote.read_pointers(asset, [d.isoformat() for d in dates])
        for day in dates:
            theirs = shared.get(day.isoformat())
            if theirs is None and not engine.store.read_pointer(asset, day.isoformat()):
                continue  # never published anywhere: the build will do it
            plan = engine.plan(stage.name, day, memo)
            if plan.record is None:
                continue
            obj = plan.record["object"]
            if plan.pointer != obj and theirs == obj:
                engine.build(stage.name, day)  # pointer behind: publishes locally (shared one already there)
                counts["adopted"] += 1
            elif plan.pointer == obj and theirs != obj and theirs is not None and not _owed(engine, asset, day, obj):
                engine.notify(f"{asset} {day}: the shared gold pointer names {short(theirs)}, published by another "
                              f"machine; this data root's names {short(obj)} (other inputs, parameters or code): "
                              "the shared one is left as it is")
            elif plan.pointer == obj and theirs != obj:
                with remote.lock(f"date={day.isoformat()}", timeout=engine.settings.lock_timeout_s):
                    remote.push(plan.record, engine.store)  # built here before the store was shared, perhaps
                    remote.publish(asset, day.isoformat(), obj, theirs)
                engine.ledger.append("publish_shared", stage=stage.name, asset=asset, game_date=day.isoformat(),
                                     object=obj, previous=theirs)
                counts["pushed"] += 1
    return counts


def _owed(engine: Engine, asset: str, day: dt.date, obj: str) -> bool:
    """Whether this data root moved its pointer to `obj` and a kill (or the store going down) cut the move off
    before the shared pointer followed: the move's publishing note is still there (see projections.publishing)."""
    try:
        note = json.loads(engine.publisher.note(asset, day).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(note, dict) and note.get("object") == obj

"""Moving a gold pointer, and recording every move even when the run that made it was killed.

A move is three steps: a note of it (`ledger/publishing/<asset>-<date>.json`), the atomic pointer swap, then
the `publish` ledger line, after which the note goes. A run killed between the swap and the ledger line
leaves the note behind; the next run that looks at the date's pointer (`settle`) records the move, marked
recovered, with the run that made it. A note of a swap that never happened (the pointer names another
object) is dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from projections.ledger import Ledger
from projections.stage_io import writing
from projections.store import LocalStore, write_atomic

if TYPE_CHECKING:
    from projections.remote import RemoteCache


class Publisher:
    def __init__(self, home: Path, store: LocalStore, ledger: Ledger, *, remote: RemoteCache | None,
                 pointer: Callable[[str, dt.date], str | None]) -> None:
        self.home = home
        self.store = store
        self.ledger = ledger
        self.remote = remote
        self.pointer = pointer  # what a pointer names (the engine's: a damaged pointer is said once, as no gold)

    def publish(self, stage: str, asset: str, day: dt.date, obj: str, *, key: str | None) -> bool:
        """Point gold/<asset>/game_date=<day> at `obj` and record the move (note, swap, ledger line); False when
        it already names `obj` (a rebuild that made the same bytes: no move, none recorded)."""
        self.store.check(obj)
        previous = self.pointer(asset, day)
        self.settle(asset, day, previous)  # a killed run's move first, then this one
        if previous == obj:
            if self.remote is not None:  # the shared pointer may still be behind this machine's
                self.remote.publish(asset, day.isoformat(), obj, previous)
            return False
        move = {"stage": stage, "asset": asset, "game_date": day.isoformat(), "object": obj, "previous": previous,
                "key": key}
        note = self.note(asset, day)
        with writing(self.home, stage, day):
            write_atomic(note, json.dumps({**move, "run": self.ledger.run}).encode())
            self.store.swap_pointer(asset, day.isoformat(), obj)
        if self.remote is not None:
            self.remote.publish(asset, day.isoformat(), obj, previous)
        self.ledger.append("publish", **move)
        note.unlink(missing_ok=True)
        return True

    def note(self, asset: str, day: dt.date) -> Path:
        return self.home / "ledger" / "publishing" / f"{asset}-{day.isoformat()}.json"

    def settle(self, asset: str, day: dt.date, pointer: str | None) -> None:
        """Record the move a killed run left a note of, when the pointer (`pointer`, as read now) names its
        object; drop the note either way."""
        note = self.note(asset, day)
        try:
            move = json.loads(note.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            move = {}
        if move.get("object") and move.get("object") == pointer:
            self.ledger.append("publish", **{k: v for k, v in move.items() if k != "run"}, recovered=True,
                               moved_by_run=move.get("run"))
        note.unlink(missing_ok=True)

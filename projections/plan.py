"""What the store says about one stage of one date (a Plan), and what building it did (an Outcome)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from projections.dates import season_of
from projections.hashing import hash_struct, short
from projections.pipeline import Resolved, StageLike

KEY_SCHEMA = 1


def action_key(stage: StageLike, *, code: str, params: Mapping[str, Any], day: dt.date, inputs: Mapping[str, str],
               as_of: dt.datetime | None) -> str:
    """The key of one stage run: its name, code version, params, slate date (or season), its inputs' object
    hashes and - only for a stage that reads it - as_of, as a tagged canonical structure."""
    return hash_struct("action", {
        "schema": KEY_SCHEMA,
        "stage": stage.name,
        "code": code,
        "params": dict(params),
        **({"game_date": day} if stage.scope == "date" else {"season": season_of(day)}),
        "inputs": sorted(inputs.items()),
        "as_of": as_of if stage.uses_as_of else None,
    })


@dataclass
class Plan:
    """What the store says about one stage of one date."""

    stage: str
    game_date: dt.date
    key: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    resolved: dict[str, Resolved] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""
    as_of: dt.datetime | None = None
    record: dict[str, Any] | None = None
    pointer: str | None = None
    publish: str | None = None
    blocked_by: str | None = None
    problem: str | None = None
    damaged: str | None = None  # its key's object failed verification: treated as not built

    @property
    def built(self) -> bool:
        return self.record is not None

    @property
    def object(self) -> str | None:
        return self.record["object"] if self.record else None

    @property
    def up_to_date(self) -> bool:
        if self.record is None:
            return False
        return self.publish is None or self.pointer == self.record["object"]

    @property
    def reason(self) -> str:
        """Why the stage is stale, in a few words (empty when up to date)."""
        if self.up_to_date:
            return ""
        if self.problem:
            return self.problem
        if self.blocked_by:
            return f"waits for {self.blocked_by}"
        if self.record is None and self.damaged:
            return f"its object is damaged ({self.damaged}); the next build makes it again"
        if self.record is None:
            return "no object for its key (new inputs, params or code)"
        return f"gold pointer names {short(self.pointer)}, not {short(self.object)}"


@dataclass(frozen=True)
class Outcome:
    stage: str
    game_date: dt.date
    object: str
    key: str
    built: bool
    created: bool
    published: bool
    seconds: float
    note: str | None = None  # what the stage's meta says the user should know of this build (its `note`)

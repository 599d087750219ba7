"""What the store says about one stage of one date (a Plan), and what building it did (an Outcome)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from projections.hashing import short
from projections.pipeline import Resolved


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

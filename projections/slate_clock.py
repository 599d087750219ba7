"""The engine's slate time: when a date locks, and up to when each source reads (and fetches) its captures.

The lock is the slate's first tip: every stage of a date is built on what was known then (`as_of`), or on `now`
while the slate is open. A source of news that is fixed once each game begins - its starters - is read up to the
slate's last tip instead (`ArchiveTable.until = "last_tip"`): a run after the first tip still confirms the later
games' lineups, as DraftKings late swap lets a lineup change a player until his own game's tip, and what it reads
of the games already under way (their starters) is what was known at their tips.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from projections.sources import snapshots

if TYPE_CHECKING:
    from pathlib import Path

    from projections.plan import Plan
    from projections.statcache import StatCache


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class SlateClock:
    """Mixed into the Engine: reads the clock stage's record (its meta `lock` and `last_tip`) through `plan`."""

    clock: str | None
    now: dt.datetime | None
    home: Path
    stat_cache: StatCache

    def plan(self, name: str, day: dt.date, memo: dict[Any, Plan] | None = None, *, fresh: bool = False) -> Plan:
        raise NotImplementedError

    def _clock_meta(self, day: dt.date, memo: dict[Any, Plan] | None, fresh: bool) -> dict[str, Any] | None:
        if self.clock is None:
            return None
        record = self.plan(self.clock, day, memo, fresh=fresh).record
        return (record or {}).get("meta", {})

    def lock(self, day: dt.date, memo: dict[Any, Plan] | None = None, *, fresh: bool = False) -> dt.datetime | None:
        """The date's first tip (the clock stage's record; None while it is not built), or the later first tip of
        the DraftKings slate its salaries hold (`snapshots.slate_lock`: a game off the slate may tip first)."""
        return self._lock_of(day, self._clock_meta(day, memo, fresh) or {})

    def _lock_of(self, day: dt.date, meta: dict[str, Any]) -> dt.datetime | None:
        first = meta.get("lock")
        if not first:
            return None
        slate = snapshots.slate_lock(self.home, day, self.stat_cache)
        return max(_instant(first), slate) if slate is not None else _instant(first)

    def until(self, source: Any, day: dt.date, memo: dict[Any, Plan] | None = None, *,
              fresh: bool = False) -> dt.datetime | None:
        """Up to when `source` reads (and fetches) the date's captures: the lock, or the slate's last tip for a
        source read `until` then (the clock stage's record says it; one an older version wrote gives the lock)."""
        meta = self._clock_meta(day, memo, fresh) or {}
        lock = self._lock_of(day, meta)
        last = meta.get("last_tip") if getattr(source, "until", "lock") == "last_tip" else None
        return max(lock, _instant(last)) if lock is not None and last else lock

    def source_as_of(self, source: Any, day: dt.date, memo: dict[Any, Plan] | None = None, *,
                     fresh: bool = False) -> dt.datetime | None:
        """The instant whose captures `source` reads for `day`: `now` while its `until` is ahead, else that."""
        until = self.until(source, day, memo, fresh=fresh)
        return self.now if until is not None and self.now is not None and self.now < until else until

    def as_of(self, day: dt.date, memo: dict[Any, Plan] | None = None, *, fresh: bool = False) -> dt.datetime | None:
        """The instant whose knowledge a build of `day` may use: the lock (first tip) for a past slate,
        `now` for a slate still open. None while the clock stage is not built."""
        return self.source_as_of(None, day, memo, fresh=fresh)

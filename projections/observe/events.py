"""The ledger as a person asks about it: events of a date, of a stage, of a run.

The ledger is read once (every month file, oldest first) and indexed; readers never write to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projections.dates import season_of
from projections.ledger import Ledger

Event = dict[str, Any]

RUN_EVENTS = ("stage_success", "stage_failure")
STAGE_EVENTS = ("stage_start", "stage_success", "stage_cached", "stage_failure", "publish")
ALERT_EVENTS = ("alert", "alert_failure")
# what ends a stage_start of its run (the engine's), or makes it old news (a later run found the object built)
ENDINGS = ("stage_success", "stage_failure", "stage_interrupted", "no_games", "stage_cached")


def when(ts: str | None) -> str:
    """A ledger timestamp for people: `2019-10-30 23:00:00Z` (UTC, seconds)."""
    if not ts:
        return "-"
    return ts.replace("T", " ")[:19] + "Z"


def parse_ts(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    try:
        return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def _season(day: Any) -> str | None:
    """The season of an event's `game_date`, None when it has none (or one that is no date)."""
    try:
        return season_of(dt.date.fromisoformat(str(day))) if day else None
    except ValueError:
        return None


def first_line(text: Any, limit: int = 200) -> str:
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class Run:
    """One invocation (`doit slate ...`) as the ledger saw it."""

    run: str
    start: Event | None = None
    end: Event | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def dates(self) -> list[str]:
        if self.start and isinstance(self.start.get("dates"), list):
            return [str(d) for d in self.start["dates"]]
        return sorted({str(e["game_date"]) for e in self.events if e.get("game_date")})

    @property
    def skipped(self) -> list[str]:
        """The dates this run selected but skipped (no games, no DraftKings salaries), as its run_start says."""
        start = self.start or {}
        return sorted({str(d) for key in ("no_games", "no_salaries") if isinstance(start.get(key), list)
                       for d in start[key]})

    @property
    def stages(self) -> list[str] | None:
        """The stages this run selected (its stage runs, per date), in build order; None when its run_start does
        not say - written before runs recorded them, or lost - unless it ran the whole slate (`doit slate`)."""
        start = self.start or {}
        if isinstance(start.get("stages"), list):
            return [str(s) for s in start["stages"]]
        return None

    @property
    def whole_slate(self) -> bool:
        """Whether the run asked for every stage (`doit slate`, or `doit` alone) rather than some by name."""
        tasks = (self.start or {}).get("tasks")
        return not isinstance(tasks, list) or not tasks or "slate" in tasks

    @property
    def began(self) -> str | None:
        return (self.start or (self.events[0] if self.events else {})).get("ts")

    @property
    def ended(self) -> str | None:
        if self.end:
            return self.end.get("ts")
        return self.events[-1].get("ts") if self.events else None

    @property
    def seconds(self) -> float | None:
        if self.end and isinstance(self.end.get("seconds"), int | float):
            return float(self.end["seconds"])
        a, b = parse_ts(self.began), parse_ts(self.ended)
        return (b - a).total_seconds() if a and b else None

    @property
    def outcome(self) -> str:
        """ok, failed, interrupted (Ctrl-C), or unfinished (no run_end: killed, or still running)."""
        if self.end is None:
            return "unfinished"
        if self.end.get("interrupted"):
            return "interrupted"
        return "ok" if self.end.get("ok") else "failed"

    def count(self, event: str) -> int:
        return sum(1 for e in self.events if e.get("event") == event)

    @property
    def command(self) -> str:
        start = self.start or {}
        argv, overrides = start.get("argv"), start.get("overrides") or {}
        if not isinstance(argv, list):
            return ""
        env = "".join(f"{k}={v} " for k, v in sorted(overrides.items())) if isinstance(overrides, dict) else ""
        return env + f"{start.get('program') or 'doit'} " + " ".join(map(str, argv))


class Events:
    """Every ledger event, indexed by slate date, (date, stage) and run."""

    def __init__(self, events: Iterable[Mapping[str, Any]]) -> None:
        self.all: list[Event] = [dict(e) for e in events]
        self.by_date: dict[str, list[Event]] = {}
        self.by_stage: dict[tuple[str, str], list[Event]] = {}
        self.runs: dict[str, Run] = {}
        self.skipped_lines = 0
        self._built: dict[str, Event] = {}
        self._successes: dict[str, list[Event]] = {}
        self._by_object: dict[tuple[str, str], list[Event]] = {}
        self._by_stage_name: dict[str, list[Event]] = {}
        self.skipped_at: dict[str, str] = {}  # date -> when a run last skipped it (no games, no salaries)
        for e in self.all:
            if e.get("event") == "run_start":
                for day in (e.get("no_games") or []) + (e.get("no_salaries") or []):
                    self.skipped_at[str(day)] = max(self.skipped_at.get(str(day), ""), str(e.get("ts") or ""))
            if e.get("event") == "stage_success" and e.get("key"):
                self._built.setdefault(str(e["key"]), e)
                self._successes.setdefault(str(e["key"]), []).append(e)
            if e.get("stage"):
                self._by_stage_name.setdefault(str(e["stage"]), []).append(e)
            if e.get("stage") and e.get("object"):
                self._by_object.setdefault((str(e["stage"]), str(e["object"])), []).append(e)
            day = e.get("game_date")
            if day:
                self.by_date.setdefault(str(day), []).append(e)
                if e.get("stage"):
                    self.by_stage.setdefault((str(day), str(e["stage"])), []).append(e)
            run_id = e.get("run")
            if run_id:
                run = self.runs.setdefault(str(run_id), Run(str(run_id)))
                if e.get("event") == "run_start":
                    run.start = e
                elif e.get("event") == "run_end":
                    run.end = e
                else:
                    run.events.append(e)

    @classmethod
    def read(cls, home: Path) -> Events:
        ledger = Ledger(home)
        events = cls(ledger.read())
        events.skipped_lines = ledger.skipped_lines
        return events

    def of_stage(self, day: str, stage: str, *kinds: str) -> list[Event]:
        found = self.by_stage.get((day, stage), [])
        return [e for e in found if not kinds or e.get("event") in kinds]

    def has_any(self, stage: str, *kinds: str) -> bool:
        """Whether the ledger holds an event of `stage`, under any date, of one of `kinds`."""
        return any(e.get("event") in kinds for e in self._by_stage_name.get(stage, []))

    def of_season(self, season: str, stage: str, *kinds: str) -> list[Event]:
        """Events of a season-scoped `stage` under every date of `season` (one object serves them all): its
        successes name the season, its failures only the date they ran under."""
        return [e for e in self._by_stage_name.get(stage, []) if (not kinds or e.get("event") in kinds)
                and (e.get("season") or _season(e.get("game_date"))) == season]

    def last(self, day: str, stage: str, *kinds: str, season: str | None = None) -> Event | None:
        """The newest event of `stage` for `day` among `kinds`; with `season` (a season-scoped stage), for any date
        of that season."""
        found = self.of_season(season, stage, *kinds) if season else self.of_stage(day, stage, *kinds)
        return found[-1] if found else None

    def with_object(self, stage: str, obj: str) -> list[Event]:
        """Events of `stage` (any date) that name `obj`: their keys are candidate producers of it."""
        return list(self._by_object.get((stage, obj), []))

    def success_of(self, key: str | None) -> Event | None:
        """The first successful build of `key` (its timing and run)."""
        return self._built.get(key) if key else None

    def successes_of(self, key: str | None) -> list[Event]:
        """Every successful build of `key`, oldest first (a key is built again when its object or record is gone)."""
        return list(self._successes.get(key, [])) if key else []

    def build_of(self, record: Mapping[str, Any] | None) -> Event | None:
        """The successful build that wrote action record `record` (its timing and run), or None when the ledger
        lacks it (a record fetched from a shared store). A key built again - its object or record deleted by gc,
        or damaged - has several successes; the record is the newest, so it is matched by process and time: the
        first success of its key in the record's host and pid at or after its `created_at`."""
        if not record or not record.get("key"):
            return None
        created = str(record.get("created_at") or "")
        same = [e for e in self._successes.get(str(record["key"]), [])
                if all(record.get(f) is None or e.get(f) is None or e.get(f) == record.get(f) for f in ("host", "pid"))]
        return next((e for e in same if str(e.get("ts") or "") >= created), None)

    def deleted_by_gc(self, hexpart: str) -> Event | None:
        """The gc run that deleted the object whose hex digest starts with `hexpart` (its ledger event lists
        the short hashes of what it deleted), or None."""
        for e in reversed(self.all):
            if e.get("event") == "gc" and any(isinstance(o, str) and (o.startswith(hexpart) or hexpart.startswith(o))
                                              for o in e.get("objects") or ()):
                return e
        return None

    def fetch_failed(self, day: str, sources: Iterable[str], after: str | None = None) -> Event | None:
        """The newest fetch failure of `day` among `sources` whose source's last fetch of the day failed, and later
        than `after` (a stage's last run): why a stage reading that snapshot could not build."""
        wanted, last = set(sources), {}
        for e in self.by_date.get(day, []):
            if e.get("event") in ("fetch_success", "fetch_failure") and e.get("source") in wanted:
                last[str(e["source"])] = e
        failed = [e for e in last.values() if e.get("event") == "fetch_failure" and str(e.get("ts") or "") >
                  (after or "")]
        return max(failed, key=lambda e: str(e.get("ts") or "")) if failed else None

    def publishes(self, day: str) -> list[Event]:
        return [e for e in self.by_date.get(day, []) if e.get("event") == "publish"]

    def runs_of(self, day: str) -> list[Run]:
        """Runs that selected `day` or touched it, oldest first."""
        out = [r for r in self.runs.values() if day in r.dates or any(e.get("game_date") == day for e in r.events)]
        return sorted(out, key=lambda r: r.began or "")

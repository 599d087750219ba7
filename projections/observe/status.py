"""Per date and stage: up to date, stale (and why) or failed (with its error line); when it last ran, how long
it took, the object it holds, and the gold object of the date.

The state comes from the store (the engine's plan), never from the ledger; the ledger adds the when, the how
long and the error of a failed run. In archive mode the archive's calendar has the last word on dates nothing
was published for: one it knows has no games is skipped, one its schedule cannot vouch for is outside it, one
of a season whose prior season it lacks (the calibration fits on that) cannot be projected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from projections.dates import season_of
from projections.hashing import short
from projections.observe.events import ENDINGS, Event, Events, first_line, when
from projections.observe.provenance import Provenance

if TYPE_CHECKING:
    from projections.archive_calendar import Calendar
    from projections.engine import Engine
    from projections.plan import Plan

State = Literal["up to date", "stale", "failed"]
DateState = Literal["up to date", "stale", "failed", "skipped", "outside archive", "cannot project"]
# the date states with no work `doit slate` would do (it skips or refuses them): status exits 0 on them
NO_WORK: tuple[DateState, ...] = ("up to date", "skipped", "outside archive", "cannot project")
MARK = {"up to date": "U", "stale": "R", "failed": "F"}


@dataclass
class StageStatus:
    game_date: str
    stage: str
    state: State
    reason: str
    object: str | None
    key: str | None
    built_at: str | None = None
    seconds: float | None = None
    built_by_run: str | None = None
    last_run: str | None = None
    last_outcome: str | None = None
    error: str | None = None
    publishes: str | None = None
    unfinished: str | None = None  # when its newest run started, if that run never ended (killed, or running)

    @property
    def mark(self) -> str:
        return MARK[self.state]


@dataclass
class DateStatus:
    game_date: str
    stages: list[StageStatus] = field(default_factory=list)
    gold: dict[str, str | None] = field(default_factory=dict)
    published_at: dict[str, str | None] = field(default_factory=dict)
    skipped: str | None = None  # why a backfill or today's run skips the date (no games, no salaries)
    outside: str | None = None  # why archive mode cannot build the date at all, and the fix
    cannot_project: str | None = None  # why archive mode cannot calibrate the date's season, and the fix
    note: str | None = None  # the failed run of a date skipped, outside the archive or not projectable

    @property
    def state(self) -> DateState:
        if self.outside:
            return "outside archive"
        if self.cannot_project:
            return "cannot project"
        if self.skipped:
            return "skipped"
        states = {s.state for s in self.stages}
        if "failed" in states:
            return "failed"
        return "stale" if "stale" in states else "up to date"

    def as_json(self) -> dict[str, Any]:
        return {"game_date": self.game_date, "state": self.state, "skipped": self.skipped, "outside": self.outside,
                "cannot_project": self.cannot_project, "note": self.note, "gold": self.gold,
                "published_at": self.published_at,
                "stages": [asdict(s) for s in self.stages]}


def _fetch_failed(row: StageStatus, plan: Plan, events: Events, fetched: list[str]) -> None:
    """A stage not up to date whose snapshot's last fetch of the date failed after the stage last ran: FAILED with
    that fetch's error (a live run whose fetch gave up read as stale "never ran", with an archive's advice)."""
    if plan.up_to_date:
        return
    e = events.fetch_failed(row.game_date, fetched, after=row.last_run)
    if e is not None:
        row.state, row.last_outcome, row.last_run = "failed", "failed", e.get("ts")
        row.error = f"fetch {e.get('source')} failed: {first_line(e.get('error'))}"
        row.seconds = e.get("seconds") if row.seconds is None else row.seconds


def stale_reason(plan: Plan, prov: Provenance, season: str | None) -> str:
    """Why `plan` is stale; a key with no object where no key of the stage ever had one for the date (its season)
    is said plainly: never built, not "new inputs, params or code"."""
    if plan.up_to_date or plan.record is not None or plan.key is None or plan.problem or plan.blocked_by \
            or plan.damaged or prov.ever_built(plan.stage, plan.game_date.isoformat()):
        return plan.reason
    return f"never built for season {season}" if season else "never built for this date"


def _stage_status(plan: Plan, events: Events, states: dict[str, State], fetched: list[str] | None = None,
                  season: str | None = None, prov: Provenance | None = None) -> StageStatus:
    """`plan`'s row; `season` for a season-scoped stage, whose runs under any date of the season are its own."""
    day = plan.game_date.isoformat()
    row = StageStatus(game_date=day, stage=plan.stage, state="up to date" if plan.up_to_date else "stale",
                      reason=plan.reason if prov is None else stale_reason(plan, prov, season), object=plan.object,
                      key=plan.key, publishes=plan.publish)
    if plan.record is not None:
        row.built_at = plan.record.get("created_at")
        built = events.build_of(plan.record)
        if built is not None:
            row.seconds = built.get("seconds")
            row.built_by_run = built.get("run")
        else:
            timings = plan.record.get("timings") or {}
            row.seconds = round(sum(v for v in timings.values() if isinstance(v, int | float)), 3) or None
            row.built_by_run = None
    last = events.last(day, plan.stage, "stage_success", "stage_failure", "stage_interrupted", season=season)
    if last is not None:  # an interrupted retry of a failed stage: its failure is no longer the last word
        row.last_run = last.get("ts")
        row.last_outcome = {"stage_failure": "failed", "stage_interrupted": "interrupted"}.get(last["event"], "built")
        if last["event"] == "stage_failure" and not plan.up_to_date \
                and (not last.get("key") or not plan.key or last.get("key") == plan.key):
            row.state = "failed"
            row.error = first_line(last.get("error"))
            if row.last_run and not row.seconds:
                row.seconds = last.get("seconds")
    newest = events.last(day, plan.stage, "stage_start", *ENDINGS, season=season)
    if newest is not None and newest["event"] == "stage_start":
        row.unfinished = newest.get("ts")
    if fetched:
        _fetch_failed(row, plan, events, fetched)
    if plan.blocked_by and states.get(plan.blocked_by) == "failed" and row.state != "failed":
        row.reason = f"waits for {plan.blocked_by}, which failed"
    return row


def archive_calendar(engine: Engine) -> Calendar | None:
    """The archive's calendar in archive mode; None in live mode (the fetched schedule decides there)."""
    if engine.settings.source != "archive":
        return None
    from projections.archive_calendar import Calendar

    return Calendar.of(engine.home)


def outside_reason(calendar: Calendar, day: dt.date) -> str | None:
    """Why archive mode cannot build `day` - its schedule cannot vouch for the date: a season the archive lacks,
    or a date outside the span of a season it holds in part - and the fix; None for a date it covers."""
    from projections.archive_calendar import OUTSIDE_FIX

    if calendar.kind(day) != "unknown":
        return None
    season = season_of(day)
    span = calendar.spans.get(season)
    if span is not None:
        held = f"it holds season {season} only from {span[0]} to {span[1]}"
    else:
        held = f"it holds no game of season {season}; it holds {calendar.held()}"
    return f"{day} lies outside what the archive's schedule covers ({held}): `doit slate` refuses it - {OUTSIDE_FIX}"


def needs_calibration(engine: Engine, stages: list[str] | None = None) -> bool:
    """Whether building `stages` (default: the published ones, as `doit slate` does) needs a season-scoped
    stage (the calibration, fitted on the season before) - what `doit` checks before refusing such a season."""
    return engine.pipeline.needs_season(stages if stages is not None else [s.name for s in engine.pipeline.published])


def cannot_project_reason(calendar: Calendar, day: dt.date) -> str | None:
    """Why archive mode cannot project `day` - a date with games of a season whose prior season the archive
    lacks, so the calibration has nothing to fit on: `doit slate` refuses it, alone or in a range - and the fix;
    None for a date of a projectable season, an off day (still an off day) or one the schedule cannot vouch for."""
    season = season_of(day)
    if calendar.kind(day) in ("unknown", "no games") or calendar.projectable(season):
        return None
    return f"season {season} cannot be projected, so `doit slate` refuses {day}: {calendar.not_projectable([season])}"


def no_games_reason(calendar: Calendar, day: dt.date) -> str | None:
    """Why there is nothing to build for `day` when the archive's schedule knows it has no games, else None."""
    if calendar.kind(day) != "no games":
        return None
    return f"no NBA games on {day} in the archive's schedule: nothing to build"


def found_no_games(engine: Engine, events: Events, iso: str) -> Event | None:
    """The clock stage's last run of `iso`, when what it found was that the date has no games (a fetched
    schedule's word: an off day, whatever the archive or the season)."""
    last = events.last(iso, engine.clock, "stage_success", "stage_failure", "no_games") if engine.clock else None
    return last if last is not None and last.get("event") == "no_games" else None


def _skip_reason(engine: Engine, day: dt.date, events: Events, calendar: Calendar | None) -> str | None:
    """Why runs over ranges (and today's run) skip `day`, or None: the clock stage last found no games, the
    archive has no games for it, or it has no salaries for it and nothing was attempted for the date since
    the last run that skipped it (a date without salaries asked for by name and failed shows its failure
    until a later run skips it: ingesting its salaries file is the fix)."""
    iso = day.isoformat()
    last = found_no_games(engine, events, iso)
    if last is not None:
        return f"no NBA games on {iso} (per the schedule fetched {when(last.get('ts'))}): nothing to build"
    if calendar is None:
        return None
    no_games = no_games_reason(calendar, day)
    if no_games or calendar.kind(day) != "no salaries":
        return no_games
    attempts = [e.get("ts") or "" for e in events.by_date.get(iso, [])
                if e.get("event") in ("stage_failure", "stage_success")]
    skipped = events.skipped_at.get(iso)
    if attempts and (skipped is None or max(attempts) > skipped):  # its last word is a build, not a skip
        return None
    return (f"no DraftKings salaries for {iso} in the archive: a backfill skips it "
            "(`projections ingest dk-salaries FILE` adds them)")


def _failed_note(day: str, events: Events) -> str | None:
    """The last failed stage run of a date with nothing to build (a run that named it alone fails by design),
    unless a later run skipped the date."""
    failures = [e for e in events.by_date.get(day, []) if e.get("event") == "stage_failure"]
    if not failures or (events.skipped_at.get(day) or "") > (failures[-1].get("ts") or ""):
        return None
    run = failures[-1].get("run")
    failed = [e for e in failures if e.get("run") == run]
    more = f" (and {', '.join(str(e.get('stage')) for e in failed[1:])})" if len(failed) > 1 else ""
    return f"run {run or '-'} failed on it {when(failed[0].get('ts'))}: {first_line(failed[0].get('error'))}{more}"


def date_status(engine: Engine, day: dt.date, events: Events, calendar: Calendar | None = None,
                prov: Provenance | None = None) -> DateStatus:
    """The status of every stage of `day`, in build order, and why runs skip it or cannot build it (`calendar`
    is the archive's, in archive mode; `prov` shared over the dates of one listing)."""
    iso = day.isoformat()
    prov = prov or Provenance(engine.store, events, engine.pipeline)
    off = found_no_games(engine, events, iso)  # a fetched schedule's word: an off day, whatever the archive holds
    out = DateStatus(game_date=iso, skipped=_skip_reason(engine, day, events, calendar),
                     outside=outside_reason(calendar, day) if calendar is not None and not off else None,
                     cannot_project=cannot_project_reason(calendar, day)
                     if calendar is not None and needs_calibration(engine) and not off else None)
    if out.cannot_project:  # not skipped: a backfill refuses a date of such a season, salaries or not
        out.skipped = None
    states: dict[str, State] = {}
    for plan in engine.status(day):
        row = _stage_status(plan, events, states, engine.pipeline.fetched_for(plan.stage),
                            season_of(day) if engine.pipeline[plan.stage].scope == "season" else None, prov)
        states[plan.stage] = row.state
        out.stages.append(row)
        if plan.publish:
            pointer = engine.gold(plan.publish, day)  # a blocked plan stops before reading it
            out.gold[plan.publish] = pointer
            moved = [e for e in events.publishes(iso) if e.get("object") == pointer]
            out.published_at[plan.publish] = moved[-1].get("ts") if moved else None
    if any(out.gold.values()):  # a published slate (from an inbox file, say) is never "skipped"
        out.skipped = out.outside = out.cannot_project = None
    if out.skipped or out.outside or out.cannot_project:
        out.note = _failed_note(iso, events)
    return out


def collect(engine: Engine, dates: list[dt.date], events: Events | None = None) -> list[DateStatus]:
    events = events or Events.read(engine.home)
    calendar = archive_calendar(engine)
    prov = Provenance(engine.store, events, engine.pipeline)
    return [date_status(engine, day, events, calendar, prov) for day in dates]


def _seconds(value: float | None) -> str:
    return f"{value:.2f}s" if isinstance(value, int | float) else "-"


def render(statuses: list[DateStatus]) -> str:
    """Plain text: a header line per date, one line per stage (over several dates, only for a date not up to
    date), and over several dates a last line counting the dates per state."""
    lines: list[str] = []
    width = max((len(s.stage) for d in statuses for s in d.stages), default=8)
    for d in statuses:
        golds = ", ".join(f"{asset} {short(obj)}" + (f" (published {when(d.published_at.get(asset))})"
                                                      if d.published_at.get(asset) else "")
                          for asset, obj in d.gold.items() if obj) or "no gold"
        counts = {state: sum(1 for s in d.stages if s.state == state) for state in MARK}
        summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
        if d.skipped or d.outside or d.cannot_project:
            lines.append(f"{d.game_date}  {d.state.upper():<10}  {d.outside or d.cannot_project or d.skipped}")
            if d.note:
                lines.append(f"  note: {d.note}")
            continue
        lines.append(f"{d.game_date}  {d.state.upper():<10}  gold: {golds}  ({summary})")
        if len(statuses) > 1 and d.state == "up to date":  # over several dates only what needs a look is listed
            continue
        for s in d.stages:
            ran = f"built {when(s.built_at)} in {_seconds(s.seconds)}" if s.built_at else (
                f"last ran {when(s.last_run)}" if s.last_run and not s.unfinished else "never ran")
            if s.unfinished:  # as history says it: a killed run's start has no end
                ran = (f"{ran}; " if s.built_at else "") + \
                    f"started {when(s.unfinished)}, never finished (killed, or still running)"
            tail = ""
            if s.state == "failed":
                tail = f"  FAILED: {s.error}"
            elif s.state == "stale":
                tail = f"  stale: {s.reason}"
                if s.last_outcome in ("failed", "interrupted") and s.error is None:  # `ran` has its time unless built
                    tail += f" (its last run, {when(s.last_run)}, {s.last_outcome})" if s.built_at else \
                        f" (its last run {s.last_outcome})"
            gold = "  -> gold" if s.publishes and s.object and d.gold.get(s.publishes) == s.object else ""
            lines.append(f"  {s.mark} {s.stage:<{width}}  {short(s.object):<10}  {ran}{gold}{tail}")
    if len(statuses) > 1:
        states = {state: sum(1 for d in statuses if d.state == state) for state in get_args(DateState)}
        lines.append(f"{len(statuses)} dates: " + ", ".join(f"{n} {state}" for state, n in states.items() if n))
    return "\n".join(lines)

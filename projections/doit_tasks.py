"""doit glue: one task per stage and date, whose up-to-date check asks the store, not doit's database.

    <stage>:<date>   build one stage of one date (task_dep: the stage's inputs for that date)
    <stage>          every date of that stage
    slate            every published stage of every date: the daily and the backfill command

doit decides when; the store decides what. Each check resolves the stage's upstream chain from the store
(doit checks tasks in isolation), and returns False when the key has no action record, so a never-run task
is never up to date. doit's own dependency file is kept in memory: it is not the record.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from doit import get_var
from doit.exceptions import InvalidCommand, TaskFailed

from projections import live_fetch
from projections.dates import parse_dates, season_of, slate_date_today
from projections.doit_cli import LISTINGS, check_command, check_variables, doit_command, named_tasks, task_name_dates
from projections.doit_reporter import SLATE, SLATE_DOC, SlateReporter, listed
from projections.engine import Engine
from projections.errors import NoGames, ProjectionsError


def doit_config() -> dict[str, Any]:
    return {
        "default_tasks": [SLATE],
        "backend": "sqlite3",
        "dep_file": ":memory:",
        "verbosity": 2,
        "continue": True,
        "subtasks": True,
        "sort": "definition",
        "reporter": SlateReporter,
    }


def quiet_broken_pipe(argv: list[str] | None = None) -> None:
    """`doit list --status ... | head`: a listing whose reader goes away stops quietly (SIGPIPE's default, as
    ls or git log do) instead of doit printing a BrokenPipeError traceback. Only for the commands that
    just print: a build keeps Python's handling, so a closed pipe never kills it halfway."""
    import signal

    if doit_command(argv) in LISTINGS and hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def workers_die_with_parent() -> None:
    """`doit -n N` forks its workers: each is told by the kernel (PR_SET_PDEATHSIG) to stop when the process
    that forked it dies, so a killed run leaves no worker behind, blocked forever on its job queue."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def in_child() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    os.register_at_fork(after_in_child=in_child)


def selected_dates(value: str | None, now: dt.datetime | None = None) -> list[dt.date]:
    """The dates named by `date=` (today's slate date when absent, `now` being the engine's clock: live.now
    replays a past day as today), or InvalidCommand for doit to print."""
    check_command()
    check_variables()
    named = task_name_dates()
    value = value if value is not None else named
    try:
        dates = parse_dates(value) if value is not None else [slate_date_today(now)]
        outside = [d for d in parse_dates(named) if d not in dates] if named else []
    except ProjectionsError as exc:
        raise InvalidCommand(str(exc)) from None
    if outside:  # doit would say only 'Invalid parameter: "minutes:2019-11-01". Must be a command, task...'
        raise InvalidCommand(f"a task name's date ({', '.join(map(str, outside))}) is not among date={value}: "
                             "drop date= (the task names' dates are used) or name tasks of the dates it selects")
    return dates


def off_days_expected(dates: list[dt.date]) -> bool:
    """A date without games is skipped, not failed, in a run over several dates and in today's run (the daily
    timer runs every day, the off-season and the All-Star break included); one date named by `date=` fails.
    A range is a range even when it spans one day (`D..D`, as a backfill script writes a one-day stretch)."""
    value = get_var("date")
    return (value is None and task_name_dates() is None) or len(dates) > 1 or ".." in (value or "")


def _no_games(engine: Engine, day: dt.date, seen: set[dt.date]) -> bool:
    """True when the date's clock stage (schedule) finds no games, asking it at most once per process."""
    if day in seen:
        return True
    if engine.clock is None or engine.plan(engine.clock, day).record is not None:
        return False
    try:
        engine.build(engine.clock, day, no_games_ok=True)
    except NoGames:
        seen.add(day)
        return True
    except ProjectionsError:
        return False
    return False


def _archive_off_day(engine: Engine, day: dt.date) -> bool:
    """The archive's schedule has no games on `day` (archive mode only): known in every `-n` worker alike, where
    `seen` holds only what this process found."""
    if engine.settings.source != "archive":
        return False
    from projections.archive_calendar import Calendar

    return Calendar.of(engine.home).kind(day) == "no games"


def _fetch_tasks_of(engine: Engine, name: str) -> list[str]:
    """The fetch tasks (live mode only) whose snapshots this stage reads."""
    if engine.settings.source != "live":
        return []
    return [f"fetch_{key}" for key in engine.pipeline.fetched_for(name)]


def _needs(engine: Engine, name: str) -> list[str]:
    stage = engine.pipeline[name]
    deps = list(stage.inputs) + _fetch_tasks_of(engine, name)
    clock = engine.clock
    # a date's stages that read sources or as_of wait for its clock; so does a season stage (the calibration):
    # it reads nothing of the date, but on a date without games (live mode learns it from the clock) it must
    # not run, nor fail first for a season it cannot fit
    if clock and name != clock and ((stage.sources or stage.uses_as_of) or stage.scope == "season") \
            and clock not in deps:
        deps.append(clock)
    return deps


def _needs_a_season_stage(engine: Engine, argv: list[str] | None = None) -> bool:
    """Whether the tasks this doit command names (none: the default, `slate`) need a season-scope stage (the
    calibration, fitted on the season before): `doit schedule date=D` does not, `doit slate` does."""
    named = [name for name, _ in named_tasks(argv)]
    return engine.pipeline.needs_season(named if named and SLATE not in named else
                                        [s.name for s in engine.pipeline.published])


def _build_action(engine: Engine, name: str, day: dt.date, *, off_days: bool = False,
                  seen: set[dt.date] | None = None) -> Any:
    """The action of `<name>:<day>`. With `off_days`, a date without games is a success that says so
    ({"no_games": True}) for the clock stage and for every stage after it, not a failure."""
    seen = set() if seen is None else seen

    def action() -> dict[str, Any] | TaskFailed:
        if name != engine.clock and (day in seen or _archive_off_day(engine, day)):  # even a stage that does not
            return {"no_games": True}  # read the schedule (calibration): a date named alone fails at the schedule
        try:
            outcome = engine.build(name, day, no_games_ok=off_days)
        except NoGames as exc:
            seen.add(day)
            if off_days:  # expected (a range, today's run): the fact, not the advice for a date named alone
                return {"no_games": True, "message": str(exc).split("; ")[0]}
            return TaskFailed(str(exc))
        except ProjectionsError as exc:
            if off_days and name != engine.clock and _no_games(engine, day, seen):
                return {"no_games": True}
            return TaskFailed(str(exc))
        return {"object": outcome.object, "built": outcome.built, "created": outcome.created,
                "published": outcome.published, "seconds": round(outcome.seconds, 3), "note": outcome.note}

    action.__name__ = f"build_{name}"
    return action


def _fetch_action(engine: Engine, key: str, day: dt.date, *, after_clock: bool = False, off_days: bool = False,
                  seen: set[dt.date] | None = None) -> Any:
    seen = set() if seen is None else seen

    def action() -> dict[str, Any] | TaskFailed:
        if off_days and after_clock and _no_games(engine, day, seen):
            return {"no_games": True}
        try:
            return {"fetched": True, **live_fetch.fetch(engine, key, day)}
        except ProjectionsError as exc:  # the date's last good capture carries on, if there is one (and alerts)
            return live_fetch.fall_back(engine, key, day, exc) or TaskFailed(str(exc))

    action.__name__ = f"fetch_{key}"
    return action


def _fetch_tasks(engine: Engine, dates: list[dt.date], meta: dict[str, Any], *, off_days: bool = False,
                 seen: set[dt.date] | None = None) -> Iterator[dict[str, Any]]:
    """Live mode: one fetch task per source and date, ahead of the stages that read it. A fetch is up to
    date once the slate is locked (the lineups: once its last game tipped). With `off_days`, the fetches
    after the schedule do nothing on a date without games."""
    if engine.settings.source != "live":
        return
    for key, (_, readers) in engine.pipeline.fetchers().items():
        yield {"basename": f"fetch_{key}", "name": None, "doc": f"fetch the live {key} source (every date)",
               "meta": meta}
        for day in dates:
            before_clock = engine.clock in readers
            yield {
                "basename": f"fetch_{key}",
                "name": day.isoformat(),
                "doc": f"fetch a {key} snapshot for the slate (read by {', '.join(readers)})",
                "actions": [_fetch_action(engine, key, day, after_clock=not before_clock and bool(engine.clock),
                                          off_days=off_days, seen=seen)],
                "task_dep": [] if before_clock or not engine.clock else [f"{engine.clock}:{day.isoformat()}"],
                "uptodate": [_fetch_checker(engine, key, day, meta)],
                "verbosity": 2,
                "meta": meta,
            }


def _fetch_checker(engine: Engine, key: str, day: dt.date, meta: dict[str, Any]) -> Any:
    """A fetch is up to date when none is due; one that never captured anything says why none was made (the
    reporter prints "no fetch" with it, not "up to date")."""
    def up_to_date() -> bool:
        if live_fetch.needs_fetch(engine, key, day):
            return False
        from projections.archive import live_configured
        from projections.sources import ENDPOINTS, snapshots

        source = engine.pipeline.fetchers()[key][0]
        if hasattr(source, "not_fetched"):  # a fetch that writes no capture says why itself
            meta["not_fetched"][f"fetch_{key}:{day.isoformat()}"] = source.not_fetched(engine.source_env, day)
        elif not snapshots.entries(engine.home, key, day):
            lock, until = engine.lock(day), engine.until(source, day)
            meta["not_fetched"][f"fetch_{key}:{day.isoformat()}"] = (
                f"live.{ENDPOINTS.get(key)}.url is unset: the archive's rows are used"
                if not live_configured(key, engine.settings) else
                f"the slate locked at {lock:%H:%M}Z before any capture of it, and nothing is fetched after the lock"
                if lock is not None and until == lock else
                f"the slate's last game tipped at {until:%H:%M}Z before any capture of it, and nothing is fetched "
                "after it" if until is not None else "the date has no games: nothing to fetch for it")
        return True

    return up_to_date


def _checker(engine: Engine, pairs: list[tuple[str, dt.date]], downloaded: set[str] | None = None) -> Any:
    """doit's up-to-date check of `pairs`; `downloaded` collects the tasks found up to date by fetching their
    object from the shared store in this process (the reporter counts them apart)."""
    def up_to_date() -> bool:
        memo: dict[Any, Any] = {}
        try:
            plans = [engine.plan(name, day, memo) for name, day in pairs]
        except ProjectionsError:  # e.g. the shared store stopped answering: not up to date, so the task's action
            return False  # runs and fails with the message (raised here, doit printed a traceback and stopped)
        if doit_command() not in LISTINGS:  # a run, not a listing: record a move a killed run left unrecorded
            for plan in plans:
                if plan.up_to_date and plan.publish:
                    engine.settle_publish(plan)
                if downloaded is not None and engine.remote and plan.record and \
                        plan.record["object"] in engine.remote.fetched:
                    downloaded.add(f"{plan.stage}:{plan.game_date.isoformat()}")
        return all(plan.up_to_date for plan in plans)

    return up_to_date


def stage_tasks(engine: Engine, dates: list[dt.date], meta: dict[str, Any], *, action: Callable[[str, dt.date], Any],
                checker: Callable[[str, dt.date], Any], first: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """Per stage, a group task over the dates and one task per date (`<stage>:<date>`) with the given action
    and up-to-date check, depending on its inputs of that date (and on `first`, e.g. a cluster run)."""
    for name in engine.pipeline.order:
        stage = engine.pipeline[name]
        yield {
            "basename": name,
            "name": None,
            "doc": f"{stage.doc} (every selected date)",
            "uptodate": [_checker(engine, [(name, d) for d in dates])],
            # the run's record and summary: a stage named alone over skipped dates only (`doit schedule date=D..D`)
            "meta": meta,
        }
        for day in dates:
            yield {
                "basename": name,
                "name": day.isoformat(),
                "doc": stage.doc,
                "actions": [action(name, day)],
                "task_dep": [*first, *(f"{dep}:{day.isoformat()}" for dep in _needs(engine, name))],
                "uptodate": [checker(name, day)],
                "verbosity": 2,
                "meta": meta,
            }


def _buildable(engine: Engine, dates: list[dt.date], *, off_days: bool = True) -> tuple[
        list[dt.date], list[dt.date], list[dt.date]]:
    """A backfill (several dates) or today's run, in archive mode, builds the dates with games and DraftKings
    salaries; it skips (and lists) those without games and those with games but no salaries in the archive.
    One date asked for by name is always built, so such a date fails with a clear message that says what to
    do. A date the archive cannot vouch for (a season it lacks or only partly holds) is refused before the run
    starts, alone or in a range. (Live mode learns of an off day from the fetched schedule, at run time:
    `_build_action`.)"""
    if engine.settings.source != "archive":
        return dates, [], []
    from projections.archive_calendar import OUTSIDE_FIX, Calendar

    calendar = Calendar.of(engine.home)
    kinds = {d: calendar.kind(d) for d in dates}
    unknown = [d for d in dates if kinds[d] == "unknown"]
    if unknown and get_var("date") is None and doit_command() in LISTINGS:
        _listing_notes(kinds)  # `help` lists no date's stages: it stays silent
        return dates, [], []  # `doit list` / `doit help slate` on a day the archive lacks: they build nothing
    if unknown:  # not known to be off days: skipping them would report success for work never done, and
        # building one would fail in its first stage - refused up front, alone or in a range alike
        seasons = ", ".join(sorted({season_of(d) for d in unknown}))
        raise InvalidCommand(
            f"{len(unknown)} date(s) lie outside what the archive's schedule covers ({listed(unknown)}; season "
            f"{seasons}): {OUTSIDE_FIX.replace(', or run', ', run')}, or pick dates it holds: "
            f"{calendar.held(projectable=True)}")
    orphans = [d for d in dates if kinds[d] != "no games" and not calendar.projectable(season_of(d))] \
        if _needs_a_season_stage(engine) else []
    if orphans:  # every stage after the first few would fail at calibration, date after date (an off day of such
        # a season is still an off day: skipped in a range, "no NBA games" named alone)
        lone = sorted({season_of(d) for d in orphans})
        raise InvalidCommand(f"{len(orphans)} date(s) of season {', '.join(lone)} cannot be projected "
                             f"({listed(orphans)}): {calendar.not_projectable(lone)}")
    if not off_days:
        if doit_command() in LISTINGS:
            _listing_notes(kinds)
        return dates, [], []
    return ([d for d in dates if kinds[d] == "slate"], [d for d in dates if kinds[d] == "no games"],
            [d for d in dates if kinds[d] == "no salaries"])


_LISTED_AS_R = {
    "unknown": "lies outside what the archive's schedule covers: `doit slate` refuses it",
    "no games": "has no NBA games: `doit slate` skips it in a range and refuses it alone",
    "no salaries": "has no DraftKings salaries in the archive: `doit slate` skips it in a range and refuses it "
                   "alone (`projections ingest dk-salaries FILE` adds them)",
}


def _listing_notes(kinds: Mapping[dt.date, str]) -> None:
    """`doit list --status` on a date no run will build lists its stages R, as if a build would fix them: a note
    on stderr says why none will (stdout stays the listing)."""
    if doit_command() == "help":  # `doit help slate` describes tasks, it lists no stage as R
        return
    for day, kind in sorted(kinds.items()):
        if kind in _LISTED_AS_R:
            sys.stderr.write(f"note: {day} {_LISTED_AS_R[kind]}; its stages below stay R\n")


def generate(engine: Engine, dates: list[dt.date]) -> Iterator[dict[str, Any]]:
    """Every task for `dates`: per stage and date, per stage, and the slate."""
    import time

    started = time.monotonic()  # the run's clock starts here: a shared store's downloads happen before doit's
    try:
        engine.preflight(dates)
        if engine.remote is not None and doit_command() != "help":
            engine.remote.check()  # one line for a wrong bucket, endpoint or key, before any stage is checked
        for name in engine.pipeline.order:
            engine.params(name)  # a bad override is a clean error now, not a traceback inside a check
    except ProjectionsError as exc:
        raise InvalidCommand(str(exc)) from None
    off_days = off_days_expected(dates)
    asked, (dates, no_games, no_salaries) = dates, _buildable(engine, dates, off_days=off_days)  # may refuse
    try:
        if doit_command() not in LISTINGS:  # a listing writes nothing: it must not lay out (or create) a root
            engine.ensure_layout()  # before the reporter's first ledger line: every dir under the policy
    except ProjectionsError as exc:
        raise InvalidCommand(str(exc)) from None
    from projections.ops.leftovers import touching

    if doit_command() not in LISTINGS and (line := touching(engine.home, asked)):
        sys.stderr.write(line + "\n")  # an older version's leftover (doctor's check upgrade) affects these dates
    downloaded: set[str] = set()  # stage tasks found up to date by a copy from the shared store
    meta = {"run": engine.ledger.run, "home": str(engine.home), "dates": [d.isoformat() for d in dates],
            "no_games": [d.isoformat() for d in no_games], "no_salaries": [d.isoformat() for d in no_salaries],
            "downloaded": downloaded, "started": started, "not_fetched": {}}
    # ---- scale out (projections.remote, projections.executors): only with a shared store / executor=dask
    if engine.remote is not None or engine.settings.executor != "local" or get_var("executor") or get_var("workers"):
        from projections.executors.tasks import scale_out_tasks

        tasks = scale_out_tasks(engine, dates, meta)
        if tasks is not None:
            yield from tasks
            return
    # ---- the local executor
    seen: set[dt.date] = set()  # dates found without games in this process
    yield from _fetch_tasks(engine, dates, meta, off_days=off_days, seen=seen)
    yield from stage_tasks(engine, dates, meta,
                           action=lambda name, day: _build_action(engine, name, day, off_days=off_days, seen=seen),
                           checker=lambda name, day: _checker(engine, [(name, day)], downloaded))
    published = [s.name for s in engine.pipeline.published]
    yield {
        "basename": SLATE,
        "doc": SLATE_DOC,
        "actions": None,
        "task_dep": [f"{p}:{d.isoformat()}" for d in dates for p in published],
        "uptodate": [_checker(engine, [(p, d) for d in dates for p in published])],
        "meta": meta,
    }

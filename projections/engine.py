"""The build engine: plans stages from the store, builds them, publishes gold.

`plan(stage, D)` resolves a stage's key from the store alone: its upstream stages' objects (through their
action records), its sources' digests, its params and code version. A stage is up to date when its key
has an action record whose object is intact (and, for a published stage, the gold pointer names that
object). A stage whose upstream is not built cannot have a key yet: it is stale, blocked by that upstream.

`build(stage, D)` holds the date's lock, plans again (another run may have just done the work), loads the
inputs, calls the pure function, checks the contract, commits the object, records the action and, for a
published stage, swaps the gold pointer - in that order, so a kill at any point leaves the previous gold
intact. Every start, success, failure and pointer move goes to the ledger.

The engine never imports `stages`; the pipeline is handed to it. The I/O of one build is in `stage_io`, pointer
moves in `publishing`, live snapshots in `live_fetch`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from projections import failpoints, locks
from projections.dates import season_of
from projections.errors import ContractViolation, NoGames, ProjectionsError, SourceError, StoreCorrupted
from projections.frames import is_frame, stage_outputs
from projections.gc import build_guard
from projections.hashing import seed_from, short
from projections.ledger import Ledger
from projections.pipeline import Pipeline, SourceEnv, StageContext, code_version
from projections.plan import Outcome, Plan, action_key
from projections.publishing import Publisher
from projections.slate_clock import SlateClock
from projections.stage_io import blas_pools, load_inputs, provenance, release_memory, stage_error, writing
from projections.statcache import StatCache
from projections.store import LocalStore

if TYPE_CHECKING:
    from projections.remote import RemoteCache
    from projections.settings import Settings

log = logging.getLogger(__name__)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Engine(SlateClock):
    def __init__(
        self,
        pipeline: Pipeline,
        settings: Settings,
        *,
        now: dt.datetime | None = None,
        clock: str | None = "schedule",
        run: str | None = None,
        notify: Callable[[str], None] = _stderr,
        remote: RemoteCache | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.home = settings.home
        self.now = now
        self.clock = clock if clock in pipeline.stages else None
        self.notify = notify
        self.remote = remote
        self.stat_cache = StatCache(self.home / "cache" / "stat2.sqlite3")  # stat.sqlite3: older code's (no ctime)
        self.store = LocalStore(self.home, stat_cache=self.stat_cache)
        self.ledger = Ledger(self.home, run=run or uuid.uuid4().hex[:12])
        self.source_env = SourceEnv(home=self.home, settings=settings, stat_cache=self.stat_cache,
                                    notify=notify)
        self.publisher = Publisher(self.home, self.store, self.ledger, remote=remote, pointer=self.pointer)
        self._versions: dict[str, str] = {}
        self._params: dict[str, dict[str, Any]] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._damage_said: set[tuple[str, ...]] = set()  # damaged objects and pointers already reported
        self._damaged: dict[str, str] = {}  # key -> what is wrong with its object
        self._layout_ready = False
        self.touch_used = True  # False for a command that only looks (status, explain, report): it refreshes no age
        # An up-to-date plan stays up to date for the rest of this process when sources cannot change under
        # it (archive mode): doit checks each task in isolation, and without this every check would plan its
        # whole upstream chain again. Live snapshots arrive mid-run, so live mode plans afresh every time.
        self._settled: dict[tuple[str, dt.date], Plan] = {}
        self._settle = getattr(settings, "source", "archive") == "archive"
        unknown = sorted(set(settings.params) - set(pipeline.stages))
        if unknown:
            from projections.params import unknown_stages

            raise unknown_stages(unknown, pipeline.order)
        for stage in pipeline.stages.values():
            if stage.uses_as_of and self.clock and self.clock not in pipeline.upstream(stage.name):
                raise ValueError(f"stage {stage.name} uses as_of but does not depend on {self.clock}")

    # ---- preflight -----------------------------------------------------------------------------------

    def preflight(self, dates: Iterable[dt.date] = ()) -> None:
        """Fail early, changing nothing, when this Python lacks a package the code needs, or the data root
        cannot take a build (of `dates`: their locks too)."""
        from projections import preflight, requirements

        requirements.check()
        preflight.check(self.home, self.settings.permissions, dates,
                        seasonal=any(stage.scope == "season" for stage in self.pipeline.stages.values()))

    def ensure_layout(self) -> None:
        """Create the data root's layout under the permission policy (once per process)."""
        if not self._layout_ready:
            from projections.ops import permissions

            permissions.ensure_tree(self.home, self.settings.permissions)
            self._layout_ready = True

    # ---- planning ------------------------------------------------------------------------------------

    def code_version(self, name: str) -> str:
        if name not in self._versions:
            self._versions[name] = code_version(self.pipeline[name], self.stat_cache)
        return self._versions[name]

    def params(self, name: str) -> dict[str, Any]:
        """The stage's parameters: its model's defaults with the settings' overrides (validated)."""
        if name not in self._params:
            overrides = self.settings.params.get(name, {})
            try:
                self._params[name] = self.pipeline[name].params_json(overrides)
            except Exception as exc:
                from pydantic import ValidationError  # only now: a cached pipeline never needs pydantic here

                if not isinstance(exc, ValidationError):
                    raise
                from projections.params import invalid_params

                raise invalid_params(name, exc, self.pipeline[name].params_model()) from None
        return self._params[name]

    def gold(self, asset: str, day: dt.date) -> str | None:
        """The object gold/<asset>/game_date=D names when it is in the store; None for no pointer, a pointer that
        names no object, or one whose object is gone (a dangling pointer is no gold: the next run rebuilds it)."""
        pointer = self.pointer(asset, day)
        return pointer if pointer is not None and self.store.has(pointer) else None

    def pointer(self, asset: str, day: dt.date) -> str | None:
        """The object gold/<asset>/game_date=D names; None for a pointer that names none, said once: a symlink to
        something else is replaced by the date's next publish (as a dangling one is); a directory or a file
        there never is (it may be someone's copy): the message says to move it away."""
        try:
            return self.store.read_pointer(asset, day.isoformat())
        except StoreCorrupted as exc:
            said = (asset, day.isoformat(), str(exc))
            if said not in self._damage_said:
                self._damage_said.add(said)
                if self.store.pointer_path(asset, day.isoformat()).is_symlink():
                    self.notify(f"{str(exc).split('; ')[0]}; treated as no gold (the date's next publish replaces "
                                "it)")
                else:
                    self.notify(f"{exc}; until then the date has no gold")
            return None

    def _record(self, key: str, *, fresh: bool) -> dict[str, Any] | None:
        if not fresh and key in self._records:
            return self._records[key]
        record = self.store.get_action(key)
        if record is not None:
            problems = self.store.verify_object(record["object"], use_cache=True)
            if problems:
                said = (key, problems[0])
                self._damaged[key] = problems[0].split(": ", 1)[-1]
                if said not in self._damage_said:  # once per process, however often it is planned
                    self._damage_said.add(said)
                    self.notify(f"{record.get('stage')} {record.get('game_date')}: {problems[0]}; treated as "
                                "not built (the next build of it makes it again)")
                record = None
            elif self.touch_used:  # in use by a run: gc keeps what was used within its grace period
                with contextlib.suppress(OSError):
                    os.utime(self.store.object_dir(record["object"]))
        if record is None and self.remote is not None:
            record = self._fetch_remote(key)
        if record is not None:
            self._records[key] = record
        return record

    def _fetch_remote(self, key: str) -> dict[str, Any] | None:
        """A key built elsewhere: copy its object and record from the shared store instead of recomputing."""
        assert self.remote is not None
        record = self.remote.get_action(key)
        if record is None:
            return None
        started = time.monotonic()
        self.remote.fetch_object(record["object"], self.store)
        if self.store.verify_object(record["object"], use_cache=True):
            return None
        self.store.put_action(record)
        self.ledger.append("stage_fetched", stage=record.get("stage"), game_date=record.get("game_date"),
                           key=key, object=record["object"], seconds=round(time.monotonic() - started, 3))
        return record

    def plan(self, name: str, day: dt.date, memo: dict[Any, Plan] | None = None, *, fresh: bool = False) -> Plan:
        """Resolve one stage of one date from the store (recursively through its inputs)."""
        memo = {} if memo is None else memo
        if (name, day) in memo:
            return memo[(name, day)]
        if not fresh and (name, day) in self._settled:
            return self._settled[(name, day)]
        stage = self.pipeline[name]
        plan = Plan(stage=name, game_date=day, publish=stage.publish,
                    code_version=self.code_version(name), params=self.params(name))
        memo[(name, day)] = plan
        for upstream in stage.inputs:
            up = self.plan(upstream, day, memo, fresh=fresh)
            if up.record is None:
                plan.blocked_by = up.blocked_by or upstream
                return plan
            plan.inputs[upstream] = up.record["object"]
        if (stage.sources or stage.uses_as_of) and name != self.clock and stage.scope == "date":
            plan.as_of = self.as_of(day, memo, fresh=fresh)
            if plan.as_of is None and self.clock:
                plan.blocked_by = self.clock
                return plan
        for source in stage.sources:
            try:
                as_of = plan.as_of if getattr(source, "until", "lock") == "lock" or plan.as_of is None else \
                    self.source_as_of(source, day, memo, fresh=fresh)
                resolved = source.resolve(self.source_env, day, as_of)
            except SourceError as exc:
                plan.problem = str(exc)
                return plan
            plan.inputs[source.name] = resolved.digest
            plan.resolved[source.name] = resolved
        plan.key = action_key(stage, code=plan.code_version, params=plan.params, day=day, inputs=plan.inputs,
                              as_of=plan.as_of)
        plan.record = self._record(plan.key, fresh=fresh)
        plan.damaged = self._damaged.get(plan.key) if plan.record is None else None
        if stage.publish:
            plan.pointer = self.pointer(stage.publish, day)
        if plan.up_to_date and self._settle:
            self._settled[(name, day)] = plan
        return plan

    def status(self, day: dt.date) -> list[Plan]:
        memo: dict[Any, Plan] = {}
        return [self.plan(name, day, memo) for name in self.pipeline.order]

    # ---- building ------------------------------------------------------------------------------------

    def build(self, name: str, day: dt.date, *, no_games_ok: bool = False) -> Outcome:
        """Build one stage of one date (its inputs must be built); publish it if it is a gold stage.

        A stage that finds no games (`NoGames`) is recorded as a failure, or, with `no_games_ok` (a range or
        today's run, where an off day is expected), as a `no_games` event; NoGames is raised either way. A failure
        before the stage could start (its lock or lease, an input gone) is a stage_failure in the ledger too."""
        before = self.ledger.last  # what an earlier build of the same stage recorded is not this one's ending
        try:
            with writing(self.home, name, day):  # the ledger's own writes too: a full disk is named, no traceback
                return self._build(name, day, no_games_ok=no_games_ok)
        except ProjectionsError as exc:
            if not self.ledger.last_ended(name, day.isoformat(), since=before):
                with contextlib.suppress(OSError):  # the failure being a full disk, this may not be written either
                    self.ledger.append("stage_failure", stage=name, game_date=day.isoformat(), error=str(exc),
                                       error_type=type(exc).__name__)
            raise

    def _build(self, name: str, day: dt.date, *, no_games_ok: bool) -> Outcome:
        started = time.monotonic()
        self.ensure_layout()
        if self.pipeline[name].scope == "season":
            lock_name, what = f"season={season_of(day)}", f"season {season_of(day)} ({name})"
        else:
            lock_name, what = f"date={day.isoformat()}", f"slate date {day}"
        remote_lock = self.remote.lock(lock_name, timeout=self.settings.lock_timeout_s) if self.remote \
            else contextlib.nullcontext()
        with locks.hold(self.home / "locks" / f"{lock_name}.lock", what=what, timeout=self.settings.lock_timeout_s,
                        notify=self.notify), remote_lock, \
                build_guard(self.home, timeout=self.settings.lock_timeout_s, notify=self.notify):
            plan = self.plan(name, day, fresh=True)
            if plan.blocked_by:  # e.g. `doit -s`, or a gc with --grace 0 since this run found it up to date
                raise ProjectionsError(f"{name} {day}: its input {plan.blocked_by} is not built; run "
                                       f"`doit {name} date={day}`")
            if plan.problem or plan.key is None:  # recorded by build(), as every failure before the start
                raise SourceError(plan.problem or f"{name} {day}: cannot resolve its inputs")
            if plan.up_to_date:
                assert plan.record is not None
                if plan.publish:
                    self.settle_publish(plan)
                self.ledger.append("stage_cached", stage=name, game_date=day.isoformat(), key=plan.key,
                                   object=plan.record["object"])
                return Outcome(name, day, plan.record["object"], plan.key, built=False, created=False,
                               published=False, seconds=time.monotonic() - started)
            if plan.record is not None:  # built before, only the pointer is behind
                try:
                    self._publish(plan, plan.record["object"])
                except ProjectionsError as exc:  # recorded like any failure of the stage: history and alerts see it
                    self.ledger.append("stage_failure", stage=name, game_date=day.isoformat(), key=plan.key,
                                       error=str(exc), error_type=type(exc).__name__)
                    raise
                return Outcome(name, day, plan.record["object"], plan.key, built=False, created=False,
                               published=True, seconds=time.monotonic() - started)
            self.ledger.append("stage_start", stage=name, game_date=day.isoformat(), key=plan.key,
                               season=season_of(day) if self.pipeline[name].scope == "season" else None)
            try:
                outcome = self._run(plan, started)
                release_memory()  # its frames are gone: a backfill's worker no longer grows date after date
            except BaseException as exc:
                error = str(exc) if isinstance(exc, ProjectionsError) else (
                    f"{type(exc).__name__}: {exc}")
                kind = ("no_games" if no_games_ok and isinstance(exc, NoGames) else
                        "stage_interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "stage_failure")
                self.ledger.append(kind, stage=name, game_date=day.isoformat(), key=plan.key, error=error,
                                   error_type=type(exc).__name__, seconds=round(time.monotonic() - started, 3))
                if isinstance(exc, ProjectionsError | KeyboardInterrupt | SystemExit):
                    raise
                raise stage_error(name, day, exc, self.pipeline[name].module_file()) from exc
            return outcome

    def _run(self, plan: Plan, started: float) -> Outcome:
        from projections.frames import to_parquet_bytes

        stage = self.pipeline[plan.stage]
        assert plan.key is not None
        as_of = plan.as_of
        if as_of is None and stage.name != self.clock and stage.scope == "date":
            as_of = self.as_of(plan.game_date, fresh=True)
        t0 = time.monotonic()
        frames = load_inputs(self.pipeline, self.store, plan)
        t1 = time.monotonic()
        ctx = StageContext(stage=stage.name, seed=seed_from(plan.key), key=plan.key,
                           season=season_of(plan.game_date), scope=stage.scope, _game_date=plan.game_date,
                           _as_of=plan.as_of, uses_as_of=stage.uses_as_of)
        with blas_pools().limit(limits=1):  # one BLAS thread: the same bits on any core count (and on Dask)
            result = stage.func(**frames, params=stage.params_model()(**plan.params), ctx=ctx)
        t2 = time.monotonic()
        outputs = stage_outputs(stage, result)
        main: Any = outputs.get(stage.main)
        origin = f"(built from {', '.join(f'{k} {short(v)}' for k, v in sorted(plan.inputs.items()))})"
        if not is_frame(main):
            raise ContractViolation(
                f"{stage.name}: output {stage.main!r} is missing or not a DataFrame {origin}; "
                f"return a DataFrame from {stage.func.__qualname__}", stage=stage.name)
        if stage.contract is not None:
            stage.contract.check(main, stage=stage.name, role="output", origin=origin,
                                 fix=f"fix {stage.module_file().name} (nothing was published)")
        meta = dict(stage.meta(main)) if stage.meta else {}
        for value in outputs.values():  # a frame's attrs are a stage's word to its meta (a note), not data
            if is_frame(value):
                value.attrs.clear()
        files = {name: to_parquet_bytes(v) if is_frame(v) else v for name, v in outputs.items()}
        t3 = time.monotonic()
        timings = {"load_s": round(t1 - t0, 4), "run_s": round(t2 - t1, 4), "check_s": round(t3 - t2, 4)}
        record_of = provenance(stage, plan, main, as_of=as_of, meta=meta)
        with writing(self.home, stage.name, plan.game_date):
            commit = self.store.commit(files, {**record_of, "timings": timings})
            timings["commit_s"] = round(time.monotonic() - t3, 4)
            record = {**record_of, "object": commit.object, "created": commit.created, "timings": timings}
            if self.remote is not None:  # until pushed: a failed or killed push is retried by the next run
                self.store.mark_unshared(plan.key)
            self.store.put_action(record)
        failpoints.hit("action.written")
        if self.remote is not None:
            self.remote.push(record, self.store)
            self.store.clear_unshared(plan.key)
        self._records[plan.key] = record
        published = False
        if stage.publish:
            plan.record = record
            published = self._publish(plan, commit.object)
        seconds = time.monotonic() - started
        note = meta.get("note") if isinstance(meta.get("note"), str) else None
        self.ledger.append("stage_success", stage=stage.name, game_date=plan.game_date.isoformat(),
                           season=season_of(plan.game_date) if stage.scope == "season" else None,
                           key=plan.key, object=commit.object, created=commit.created, rows=len(main),
                           seconds=round(seconds, 3), **({"note": note} if note else {}))
        return Outcome(stage.name, plan.game_date, commit.object, plan.key, built=True, created=commit.created,
                       published=published, seconds=seconds, note=note)

    def _publish(self, plan: Plan, obj: str) -> bool:
        assert plan.publish
        return self.publisher.publish(plan.stage, plan.publish, plan.game_date, obj, key=plan.key)

    def settle_publish(self, plan: Plan) -> None:
        """A move a killed run made but did not record is recorded now (see `projections.publishing`)."""
        assert plan.publish
        self.publisher.settle(plan.publish, plan.game_date, plan.pointer)

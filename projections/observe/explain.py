"""Why a stage is stale, or why it ran: the code version, parameters, input objects, sources and as_of that
differ between two builds of it, followed upstream through every input that changed.

Two comparisons, chosen by the store:

- stale: the stage's current plan (what a build now would use) against the build behind the published
  object - the gold pointer's object, walked down its action records to this stage. Without a gold pointer,
  against the stage's last build in the ledger.
- up to date: the build that made its current object against the build of the same stage and date before
  it (from the ledger): the reason it ran.

Both walk upstream: when an input object differs, the same comparison runs on that input's stage, so a
stale gold stage names the parameter three stages up that moved it.

In archive mode the archive's calendar has the last word on a date nothing is published for, as in status: one
it knows has no games is skipped, one its schedule cannot vouch for is outside it, and a stage that needs the
calibration of a season whose prior season it lacks cannot be projected (the reason names the fix).

What an explanation holds, and its text, is projections.observe.explanation.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.hashing import short
from projections.observe import status
from projections.observe.events import Event, Events, first_line
from projections.observe.explanation import Change, Explanation, Mode, Side
from projections.observe.provenance import Provenance, Record
from projections.pipeline import code_files

if TYPE_CHECKING:
    from projections.archive_calendar import Calendar
    from projections.engine import Engine
    from projections.plan import Plan


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Parameters as dotted names; a stage's empty parameters are none (a stage that gained its first was
    explained as `param (params) {} -> (unset)` beside the parameter it gained), an empty table inside one is
    its own value."""
    if isinstance(value, dict) and (value or not prefix):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def moved_params(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Each parameter whose value differs between two builds' parameters: (old, new), "(unset)" where absent."""
    old_p, new_p = _flatten(old), _flatten(new)
    return {k: (old_p.get(k, "(unset)"), new_p.get(k, "(unset)")) for k in sorted(old_p.keys() | new_p.keys())
            if old_p.get(k, "(unset)") != new_p.get(k, "(unset)")}


def _module_path(module: str, path: Path) -> str:
    depth = len(module.split(".")) - (0 if path.name == "__init__.py" else 1)
    try:
        return path.relative_to(path.parents[depth]).as_posix()
    except (IndexError, ValueError):
        return path.as_posix()


def _passed(build: str, passed: int) -> str:
    """`build`, or - when the newer builds' action records are gone - the newest one that still has one."""
    if not passed:
        return build
    return f"{build} that still has an action record ({passed} newer build(s) garbage-collected)"


class Explainer:
    """Explanations for one engine (its pipeline and settings) over one data root."""

    def __init__(self, engine: Engine, events: Events | None = None) -> None:
        self.engine = engine
        self.events = events or Events.read(engine.home)
        self.prov = Provenance(engine.store, self.events, engine.pipeline)
        self._memo: dict[Any, Plan] = {}
        self._compared: dict[tuple[Any, ...], tuple[list[Change], list[str]]] = {}

    def plan(self, stage: str, day: dt.date) -> Plan:
        return self.engine.plan(stage, day, self._memo)

    def _season(self, stage: str, day: dt.date) -> str | None:
        """The season of `day` for a season-scoped stage (its runs under any date of it are its own), else None."""
        return season_of(day) if self.engine.pipeline[stage].scope == "season" else None

    def code_files(self, stage: str) -> list[str]:
        try:
            return [_module_path(m, p) for m, p in code_files(self.engine.pipeline[stage])]
        except ValueError:
            return []

    # ---- the reference build -------------------------------------------------------------------------

    def _gold_chain(self, stage: str, day: dt.date) -> tuple[Record, str] | None:
        """The record of `stage` behind a gold pointer of `day`, and how to say where it came from."""
        pipeline = self.engine.pipeline
        iso = day.isoformat()
        for published in pipeline.published:
            if published.name != stage and stage not in pipeline.upstream(published.name):
                continue
            assert published.publish
            pointer = self.engine.store.read_pointer(published.publish, iso)
            if pointer is None:
                continue
            rec = self.prov.pick(published.name, iso, pointer, prefer=self.plan(published.name, day).key)
            while rec is not None and rec.get("stage") != stage:
                here = pipeline[str(rec["stage"])]
                step = next((u for u in here.inputs if u == stage or stage in pipeline.upstream(u)), None)
                if step is None:
                    rec = None
                    break
                rec = self.prov.pick(step, iso, (rec.get("inputs") or {}).get(step), prefer=self.plan(step, day).key,
                                     by=rec.get("created_at"))
            if rec is not None:
                where = f"gold/{published.publish}/game_date={iso} -> {short(pointer)}"
                if published.name == stage:
                    return rec, f"the published object ({where})"
                return rec, f"the build of {stage} behind the published object ({where})"
        return None

    def _built(self, rec: Record, event: Event | None = None) -> Side:
        """Build `event` of `rec`'s key (default: the build that wrote `rec`), its time and run from the ledger."""
        side = Side.of_record(rec)
        wrote = self.events.build_of(rec)
        if event is not None and event is not wrote:  # an earlier build of a key built again since
            side.created_at, side.object = event.get("ts"), event.get("object") or side.object
        side.run = (event or wrote or {}).get("run")
        return side

    @cached_property
    def calendar(self) -> Calendar | None:
        return status.archive_calendar(self.engine)

    def _archive_says(self, day: dt.date, stage: str) -> tuple[str, str] | None:
        """In archive mode, for a date nothing is published for: ("outside archive", why and the fix) when the
        archive's schedule cannot vouch for it, ("cannot project", why and the fix) when `stage` needs the
        calibration of a season whose prior season the archive lacks (`doit` refuses it), ("skipped", why) when
        it knows the date has no games."""
        calendar = self.calendar
        if calendar is None or any(self.engine.store.read_pointer(p.publish, day.isoformat())
                                   for p in self.engine.pipeline.published if p.publish):
            return None
        if status.found_no_games(self.engine, self.events, day.isoformat()):  # a fetched schedule: an off day
            return None
        outside = status.outside_reason(calendar, day)
        if outside:
            return "outside archive", outside
        cannot = status.cannot_project_reason(calendar, day) if status.needs_calibration(self.engine, [stage]) \
            else None
        if cannot:
            return "cannot project", cannot
        no_games = status.no_games_reason(calendar, day)
        return ("skipped", no_games) if no_games else None

    # ---- comparing two builds ------------------------------------------------------------------------

    def _upstream_side(self, stage: str, day: dt.date, obj: str | None, *, planned: bool,
                       by: str | None) -> Side | None:
        """The build of input `stage` behind object `obj` as read by a build made at `by` (its created_at): a
        key that made the same object only later is not it; with `planned`, what a build now would use."""
        if planned:
            return Side.of_plan(self.plan(stage, day))
        rec = self.prov.pick(stage, day.isoformat(), obj, by=by)
        return Side.of_record(rec) if rec else None

    def compare(self, stage: str, day: dt.date, cur: Side, ref: Side, *, planned: bool,
                depth: int = 0) -> tuple[list[Change], list[str]]:
        """What differs between build `ref` and build `cur` of `stage` (and, for a changed input, why).
        A stage reached through several inputs is compared once (the DAG is not unrolled)."""
        memo_key = (stage, cur.key, cur.object, cur.code_version, ref.key, planned)
        if memo_key in self._compared:
            return self._compared[memo_key]
        spec = self.engine.pipeline[stage]
        changes: list[Change] = []
        same: list[str] = []
        if cur.code_version != ref.code_version:
            old_v, new_v = ref.code_version.partition("+")[0], cur.code_version.partition("+")[0]
            files = ", ".join(self.code_files(stage))
            note = files
            if old_v != new_v:
                note = f"explicit version {old_v} -> {new_v}" + (f"; {note}" if note else "")
            changes.append(Change("code", stage, ref.code_version, cur.code_version, note))
        else:
            same.append("code")
        moved = moved_params(ref.params, cur.params)
        for name, (old_value, new_value) in moved.items():
            changes.append(Change("param", name if name else "(params)", old_value, new_value))
        if not moved:
            same.append("params")
        for upstream in spec.inputs:
            old_o, new_o = ref.inputs.get(upstream), cur.inputs.get(upstream)
            if new_o is None and planned:  # a plan stops at its first unbuilt input; the others may be built
                new_o = self.plan(upstream, day).object
            if old_o == new_o:
                same.append(f"input {upstream}")
                continue
            change = Change("input", upstream, old_o, new_o)
            up_cur = self._upstream_side(upstream, day, new_o, planned=planned, by=cur.created_at)
            up_ref = self._upstream_side(upstream, day, old_o, planned=False, by=ref.created_at)
            if up_cur is not None and up_ref is not None and depth < 12:
                change.upstream, _ = self.compare(upstream, day, up_cur, up_ref, planned=planned, depth=depth + 1)
                if not change.upstream and up_cur.object and up_cur.object != old_o:
                    change.note = "its build is the same as before, but the object differs"
            elif up_ref is None and old_o:
                change.note = f"no action record for {short(old_o)} (garbage-collected?)"
            changes.append(change)
        for source in spec.sources:
            old_d, new_d = ref.inputs.get(source.name), cur.inputs.get(source.name)
            if not cur.resolved:
                continue
            if old_d == new_d:
                same.append(f"source {source.name}")
                continue
            before, after = ref.sources.get(source.name) or short(old_d), cur.sources.get(source.name) or short(new_d)
            if before == after:  # the same files, read another way: what differs is not in the text
                changes.append(Change("source", source.name, f"{before} (identity {short(old_d)})",
                                      f"{after} (identity {short(new_d)})", "the same files, read another way: the "
                                      "columns read or the source's identity changed with the code"))
            else:
                changes.append(Change("source", source.name, before, after))
        if spec.uses_as_of and cur.resolved and cur.as_of != ref.as_of:
            changes.append(Change("as_of", stage, ref.as_of, cur.as_of))
        if not changes and cur.key and ref.key and cur.key != ref.key:
            changes.append(Change("key", stage, ref.key, cur.key,
                                  "same code, params and inputs but another key: the key schema or the date differs"))
        self._compared[memo_key] = (changes, same)
        return changes, same

    # ---- the explanation -----------------------------------------------------------------------------

    def explain(self, stage: str, day: dt.date) -> Explanation:
        if stage not in self.engine.pipeline.stages:
            from projections.errors import ConfigError

            raise ConfigError(f"no stage named {stage!r}; stages are {', '.join(self.engine.pipeline.order)}")
        iso = day.isoformat()
        plan = self.plan(stage, day)
        spec = self.engine.pipeline[stage]
        scope = f"season {season_of(day)}" if spec.scope == "season" else iso
        last = self.events.last(iso, stage, "stage_success", "stage_failure", "no_games",
                                season=self._season(stage, day))
        failure = None
        if last is not None and last.get("event") == "stage_failure":
            failure = {"ts": last.get("ts"), "run": last.get("run"), "error": first_line(last.get("error"), 400),
                       "error_type": last.get("error_type")}
        if plan.up_to_date:
            assert plan.record is not None
            current = self._built(plan.record)
            first, wrote = self.events.success_of(plan.key), self.events.build_of(plan.record)
            if first is not None and wrote is not None and first is not wrote:
                current.first_built, current.first_run = first.get("ts"), first.get("run")
            previous = self.prov.last_built(stage, iso, before=plan.record)
            mode: Mode = "ran"
            state = "up to date"
            reason = ""
            gone = self.prov.builds_before(stage, iso, plan.record) if previous is None else []
            if previous is None and gone:  # their records (and objects) were collected: nothing to compare
                ref, against = None, (f"its first build for {scope} still in the store: the {len(gone)} earlier "
                                      f"build(s) in the ledger (the last {gone[-1].get('ts')} by run "
                                      f"{gone[-1].get('run')}) were removed by `projections gc`")
            elif previous is None:
                ref, against = None, f"its first build for {scope} (no earlier build of {stage} in the ledger)"
            else:
                ref = self._built(previous[0], previous[1])
                against = _passed("the build before it", previous[2])
                if ref.key == current.key:
                    against += " - the same key, built again because that build's object or record was gone"
        else:
            current = Side.of_plan(plan)
            mode = "stale"
            state = "failed" if failure and (not plan.key or (last or {}).get("key") in (None, plan.key)) \
                else "stale"
            reason = status.stale_reason(plan, self.prov, self._season(stage, day))
            if last is not None and last.get("event") == "no_games":
                reason = f"nothing to build, {first_line(last.get('error'))}"
            if plan.blocked_by:
                blocker = self.events.last(iso, plan.blocked_by, "stage_success", "stage_failure", "no_games",
                                           season=self._season(plan.blocked_by, day))
                if blocker is not None and blocker.get("event") == "stage_failure":
                    reason = f"waits for {plan.blocked_by}, whose last run failed: {first_line(blocker.get('error'))}"
                elif blocker is not None and blocker.get("event") == "no_games":
                    reason = f"nothing to build: {plan.blocked_by} found no games ({first_line(blocker.get('error'))})"
            said = self._archive_says(day, stage)
            if said is not None:
                state, reason = said
            fetched = self.events.fetch_failed(iso, self.engine.pipeline.fetched_for(stage),
                                               after=(last or {}).get("ts"))
            if fetched is not None:  # its snapshot's fetch gave up: that is why, not the archive's advice
                state, reason = "failed", f"fetch {fetched.get('source')} failed: {first_line(fetched.get('error'))}"
                failure = failure or {"ts": fetched.get("ts"), "run": fetched.get("run"), "error": reason,
                                      "error_type": fetched.get("error_type")}
            chain = self._gold_chain(stage, day)
            if chain is not None:
                ref, against = self._built(chain[0]), chain[1]
            else:
                last_built = self.prov.last_built(stage, iso)
                ref = self._built(last_built[0], last_built[1]) if last_built else None
                if last_built is not None:
                    against = _passed("its last build in the ledger", last_built[2])
                elif self.prov.ever_built(stage, iso):  # built, but no build's record is left (gc, a lost ledger)
                    against = (f"no earlier build of it for {scope} has its record left (removed by `projections "
                               "gc`, or the ledger lost), so there is nothing to compare with")
                else:
                    against = f"it was never built for {scope}"
                if last_built is None:
                    mode = "new"
        expl = Explanation(stage=stage, game_date=iso, state=state, reason=reason, mode=mode, current=current,
                           reference=ref, against=against, failure=failure, order=list(self.engine.pipeline.order))
        if ref is not None:
            expl.changes, expl.unchanged = self.compare(stage, day, current, ref, planned=mode == "stale")
        return expl

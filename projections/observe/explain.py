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
it knows has no games is skipped, one its schedule cannot vouch for is outside it (the reason names the fix).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from projections.dates import season_of
from projections.hashing import short
from projections.observe import status
from projections.observe.events import Event, Events, first_line, when
from projections.observe.provenance import Provenance, Record
from projections.pipeline import code_files

if TYPE_CHECKING:
    from projections.archive import Calendar
    from projections.engine import Engine
    from projections.plan import Plan

Kind = Literal["code", "param", "input", "source", "as_of", "key"]
Mode = Literal["stale", "ran", "new"]


@dataclass
class Side:
    """One build of a stage (a plan or an action record), reduced to what makes its key."""

    stage: str
    key: str | None
    object: str | None
    inputs: dict[str, str]
    params: dict[str, Any]
    code_version: str
    as_of: str | None
    sources: dict[str, str]
    resolved: bool
    created_at: str | None = None
    run: str | None = None
    note: str = ""
    first_built: str | None = None  # when its key was first built, if the current record is from a later build
    first_run: str | None = None

    @classmethod
    def of_plan(cls, plan: Plan) -> Side:
        as_of = plan.as_of.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") \
            if plan.as_of else None
        if plan.record is not None:
            side = cls.of_record(plan.record)
            side.note = plan.reason
            return side
        return cls(stage=plan.stage, key=plan.key, object=None, inputs=dict(plan.inputs), params=plan.params,
                   code_version=plan.code_version, as_of=as_of,
                   sources={n: r.describe for n, r in plan.resolved.items()}, resolved=plan.key is not None,
                   note=plan.reason or "not built")

    @classmethod
    def of_record(cls, rec: Record) -> Side:
        return cls(stage=str(rec.get("stage")), key=rec.get("key"), object=rec.get("object"),
                   inputs=dict(rec.get("inputs") or {}), params=dict(rec.get("params") or {}),
                   code_version=str(rec.get("code_version", "")), as_of=rec.get("as_of"),
                   sources=dict(rec.get("sources") or {}), resolved=True, created_at=rec.get("created_at"))

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "object": self.object, "code_version": self.code_version, "params": self.params,
                "inputs": self.inputs, "as_of": self.as_of, "created_at": self.created_at, "run": self.run,
                "first_built": self.first_built, "first_run": self.first_run, "note": self.note or None}


@dataclass
class Change:
    kind: Kind
    name: str
    old: Any
    new: Any
    note: str = ""
    upstream: list[Change] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "old": self.old, "new": self.new}
        if self.note:
            out["note"] = self.note
        if self.upstream is not None:
            out["upstream"] = [c.as_json() for c in self.upstream]
        return out


@dataclass
class Explanation:
    stage: str
    game_date: str
    state: str
    reason: str
    mode: Mode
    current: Side
    reference: Side | None
    against: str
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failure: dict[str, Any] | None = None
    order: list[str] = field(default_factory=list)

    def names(self) -> set[str]:
        """Every kind:name that changed, upstream included (for tests and scripts)."""
        out: set[str] = set()
        todo = list(self.changes)
        while todo:
            c = todo.pop()
            out.add(f"{c.kind}:{c.name}")
            todo.extend(c.upstream or [])
        return out

    def causes(self) -> list[tuple[str, Change]]:
        """The root causes: (stage, change) for every code, param, source, as_of or key change in the tree,
        each once, upstream first."""
        out: dict[tuple[str, str, str], tuple[str, Change]] = {}

        def walk(stage: str, changes: list[Change]) -> None:
            for c in changes:
                if c.kind == "input":
                    walk(c.name, c.upstream or [])
                else:
                    out.setdefault((stage, c.kind, c.name), (stage, c))

        walk(self.stage, self.changes)
        order = {name: i for i, name in enumerate(self.order)}
        return sorted(out.values(), key=lambda sc: order.get(sc[0], len(order)))

    def as_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "game_date": self.game_date, "state": self.state, "reason": self.reason,
                "causes": [{"stage": stage, **c.as_json(), "upstream": None} for stage, c in self.causes()],
                "mode": self.mode, "against": self.against, "current": self.current.as_json(),
                "reference": self.reference.as_json() if self.reference else None,
                "changes": [c.as_json() for c in self.changes], "unchanged": self.unchanged,
                "failure": self.failure}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


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
                rec = self.prov.pick(step, iso, (rec.get("inputs") or {}).get(step), prefer=self.plan(step, day).key)
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

    def _archive_says(self, day: dt.date) -> tuple[str, str] | None:
        """In archive mode, for a date nothing is published for: ("outside archive", why and the fix) when the
        archive's schedule cannot vouch for it, ("skipped", why) when it knows the date has no games."""
        calendar = self.calendar
        if calendar is None or any(self.engine.store.read_pointer(p.publish, day.isoformat())
                                   for p in self.engine.pipeline.published if p.publish):
            return None
        outside = status.outside_reason(calendar, day)
        if outside:
            return "outside archive", outside
        no_games = status.no_games_reason(calendar, day)
        return ("skipped", no_games) if no_games else None

    # ---- comparing two builds ------------------------------------------------------------------------

    def _upstream_side(self, stage: str, day: dt.date, obj: str | None, *, planned: bool) -> Side | None:
        if planned:
            return Side.of_plan(self.plan(stage, day))
        rec = self.prov.pick(stage, day.isoformat(), obj)
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
        old_p, new_p = _flatten(ref.params), _flatten(cur.params)
        moved = sorted(k for k in old_p.keys() | new_p.keys() if old_p.get(k, "(unset)") != new_p.get(k, "(unset)"))
        for name in moved:
            changes.append(Change("param", name if name else "(params)", old_p.get(name, "(unset)"),
                                  new_p.get(name, "(unset)")))
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
            up_cur = self._upstream_side(upstream, day, new_o, planned=planned)
            up_ref = self._upstream_side(upstream, day, old_o, planned=False)
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
            changes.append(Change("source", source.name, ref.sources.get(source.name) or short(old_d),
                                  cur.sources.get(source.name) or short(new_d)))
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
        last = self.events.last(iso, stage, "stage_success", "stage_failure", "no_games")
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
            if previous is None:
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
            reason = plan.reason
            if last is not None and last.get("event") == "no_games":
                reason = f"nothing to build, {first_line(last.get('error'))}"
            if plan.blocked_by:
                blocker = self.events.last(iso, plan.blocked_by, "stage_success", "stage_failure", "no_games")
                if blocker is not None and blocker.get("event") == "stage_failure":
                    reason = f"waits for {plan.blocked_by}, whose last run failed: {first_line(blocker.get('error'))}"
                elif blocker is not None and blocker.get("event") == "no_games":
                    reason = f"nothing to build: {plan.blocked_by} found no games ({first_line(blocker.get('error'))})"
            said = self._archive_says(day)
            if said is not None:
                state, reason = said
            chain = self._gold_chain(stage, day)
            if chain is not None:
                ref, against = self._built(chain[0]), chain[1]
            else:
                last_built = self.prov.last_built(stage, iso)
                ref = self._built(last_built[0], last_built[1]) if last_built else None
                against = _passed("its last build in the ledger", last_built[2]) if last_built \
                    else f"it was never built for {scope}"
                if last_built is None:
                    mode = "new"
        expl = Explanation(stage=stage, game_date=iso, state=state, reason=reason, mode=mode, current=current,
                           reference=ref, against=against, failure=failure, order=list(self.engine.pipeline.order))
        if ref is not None:
            expl.changes, expl.unchanged = self.compare(stage, day, current, ref, planned=mode == "stale")
        return expl


# ---- text ------------------------------------------------------------------------------------------------


def _value(v: Any, *, missing: str = "(none)") -> str:
    if isinstance(v, str) and v.startswith("xxh3-128:"):
        return short(v)
    if v is None:
        return missing
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def _render_changes(changes: list[Change], indent: str, lines: list[str], shown: set[str]) -> None:
    for c in changes:
        label = {"code": "code version", "param": "param", "input": "input", "source": "source",
                 "as_of": "as_of", "key": "key"}[c.kind]
        name = "" if c.kind in ("code", "as_of", "key") else f" {c.name}"
        lines.append(f"{indent}{label}{name}" + (f" ({c.note})" if c.note else "") + ":")
        lines.append(f"{indent}  - {_value(c.old)}")
        lines.append(f"{indent}  + {_value(c.new, missing='(not built yet)' if c.kind == 'input' else '(none)')}")
        if c.upstream and c.name in shown:
            lines.append(f"{indent}  because {c.name} changed (see above)")
        elif c.upstream:
            shown.add(c.name)
            lines.append(f"{indent}  because {c.name} changed:")
            _render_changes(c.upstream, indent + "    ", lines, shown)


def _cause(stage: str, c: Change) -> str:
    if c.kind == "code":
        return f"{stage} code version" + (f" ({c.note})" if c.note else "")
    if c.kind == "param":
        return f"{stage} param {c.name} {_value(c.old)} -> {_value(c.new)}"
    if c.kind == "source":
        return f"{stage} source {c.name}"
    return f"{stage} {c.kind}"


def render(expl: Explanation) -> str:
    cur, ref = expl.current, expl.reference
    head = f"{expl.stage} {expl.game_date}: {expl.state.upper()}"
    if expl.reason:
        head += f" - {expl.reason}"
    lines = [head]
    if expl.failure and expl.state != "stale":
        lines.append(("last run failed" if expl.state == "failed" else "note: its last run failed")
                     + f" {when(expl.failure['ts'])} (run {expl.failure.get('run') or '-'}): {expl.failure['error']}")
    if cur.object:
        lines.append(f"current: object {short(cur.object)}, key {short(cur.key)}, built {when(cur.created_at)}"
                     + (f" by run {cur.run}" if cur.run else "")
                     + (f" (its key was first built {when(cur.first_built)} by run {cur.first_run or '-'}; built again "
                        "because that object or record was gone)" if cur.first_built else ""))
    elif cur.key:
        lines.append(f"current: key {short(cur.key)} has no object yet")
    if expl.mode == "ran":
        lines.append(f"why it ran: compared with {expl.against}:" if ref else f"why it ran: {expl.against}")
    elif expl.state not in ("stale", "failed"):  # skipped, or outside the archive: nothing would build it
        if ref is not None:
            lines.append(f"its last build: compared with {expl.against}:")
    elif expl.mode == "stale":
        lines.append(f"why it is stale: compared with {expl.against}:")
    else:
        lines.append(f"why it is stale: {expl.against}")
    if ref is not None:
        lines.append(f"  that build: object {short(ref.object)}, key {short(ref.key)}, built {when(ref.created_at)}"
                     + (f" by run {ref.run}" if ref.run else ""))
        causes = expl.causes()
        if causes:
            lines.append("  root cause" + ("s" if len(causes) > 1 else "") + ": " + "; ".join(
                _cause(stage, c) for stage, c in causes))
        if expl.changes:
            _render_changes(expl.changes, "  ", lines, set())
        else:
            lines.append("  nothing it depends on changed")
        if expl.mode == "ran" and cur.object and cur.object == ref.object and cur.key != ref.key:
            lines.append("  it produced the same object as before (early cutoff: nothing downstream reran)")
        if expl.unchanged:
            lines.append(f"  unchanged: {', '.join(expl.unchanged)}")
    return "\n".join(lines)

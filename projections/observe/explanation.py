"""What an explanation says: the two builds of a stage it compares (`Side`), what differs between them
(`Change`, with the upstream changes behind a changed input), and the whole (`Explanation`) with its root causes -
as JSON (`as_json`) and as text (`render`). projections.observe.explain finds them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from projections.hashing import short
from projections.observe.events import when

if TYPE_CHECKING:
    from projections.observe.provenance import Record
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
            lines.append("  it produced the same object as before (early cutoff: no stage reading it reran "
                         "because of it)")
        if expl.unchanged:
            lines.append(f"  unchanged: {', '.join(expl.unchanged)}")
    return "\n".join(lines)

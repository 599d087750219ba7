"""The timeline of one slate date from the ledger: every run that selected it, what each stage run did (built,
up to date, failed), every gold pointer move, every fetch and every alert sent (or not delivered)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from projections.hashing import short
from projections.observe.events import Event, Events, Run, first_line, when


@dataclass
class Entry:
    ts: str
    kind: str
    stage: str
    text: str
    event: Event

    def as_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "kind": self.kind, "stage": self.stage, "text": self.text, "event": self.event}


@dataclass
class Block:
    """One run (or the events recorded outside any run) and its entries for the date."""

    run: Run | None
    entries: list[Entry] = field(default_factory=list)

    @property
    def began(self) -> str:
        if self.run is not None and self.run.began:
            return self.run.began
        return self.entries[0].ts if self.entries else ""

    def header(self) -> str:
        if self.run is None:
            return f"{when(self.began)}  outside any run"
        run = self.run
        # a date a backfill skipped is one it selected: a run that skipped them all names them, not "?"
        parts = ([_span(run.dates)] if run.dates else []) + ([f"skipped {_span(run.skipped)}"] if run.skipped else [])
        span = "; ".join(parts) or "?"
        head = f"{when(run.began)}  run {run.run}  {run.command or '(no run_start)'}  [{span}]"
        end = run.end
        if end is None:
            return head + "  UNFINISHED: no run_end (killed, or still running)"
        seconds = f" in {run.seconds:.1f}s" if run.seconds is not None else ""
        if (run.start or {}).get("program") == "projections":  # `projections fetch` by hand: no stage counts
            return f"{head}  {run.outcome.upper()}{seconds}"
        counts = ", ".join(f"{end.get(k, 0)} {label}" for k, label in (
            ("built", "built"), ("republished", "re-published"), ("fetched", "fetched"), ("downloaded", "downloaded"),
            ("up_to_date", "up to date"), ("failed", "failed"), ("published", "published"))
            if end.get(k) or k not in ("republished", "fetched", "downloaded"))
        return f"{head}  {run.outcome.upper()}{seconds}: {counts}"

    def as_json(self) -> dict[str, Any]:
        run = self.run
        return {"run": run.run if run else None, "began": self.began, "command": run.command if run else None,
                "outcome": run.outcome if run else None, "seconds": run.seconds if run else None,
                "dates": run.dates if run else None, "skipped": run.skipped if run else None,
                "end": run.end if run else None,
                "entries": [e.as_json() for e in self.entries]}


def _span(dates: list[str]) -> str:
    return dates[0] if len(dates) == 1 else f"{len(dates)} dates {dates[0]}..{dates[-1]}"


def _entry(e: Event, finished: set[tuple[Any, Any, Any]]) -> Entry | None:
    kind = str(e.get("event"))
    # a fetch is the run's task fetch_<source>: what a run selects, and what its stages wait on
    stage = str(e.get("stage") or (f"fetch_{e['source']}" if kind.startswith("fetch_") and e.get("source") else
                                   e.get("source") or ""))
    obj = short(e.get("object")) if e.get("object") else ""
    secs = f"{e['seconds']:.2f}s" if isinstance(e.get("seconds"), int | float) else ""
    if kind == "stage_start":
        if (e.get("run"), e.get("stage"), e.get("key")) in finished:
            return None
        text = "started, never finished (killed, or still running)"
    elif kind == "stage_success":
        rows = f", {e['rows']} rows" if e.get("rows") is not None else ""
        same = "; same object as an earlier build (early cutoff)" if e.get("created") is False else ""
        note = f"; note: {e['note']}" if e.get("note") else ""
        text = f"built {obj}{f' in {secs}' if secs else ''}{rows}{same}{note}"
    elif kind == "stage_cached":
        text = f"up to date {obj}"
    elif kind == "stage_fetched":
        text = f"fetched {obj} from the shared store{' in ' + secs if secs else ''} (built on another machine)"
    elif kind == "stage_shared":
        text = f"uploaded {obj} to the shared store (its build's own upload had not completed)"
    elif kind == "publish_shared":
        prev = short(e.get("previous")) if e.get("previous") else "none"
        text = f"shared gold/{e.get('asset', '?')} -> {obj} (was {prev})"
    elif kind == "no_games":
        text = f"no games, nothing to build: {first_line(e.get('error'))}"
    elif kind == "stage_failure":
        text = f"FAILED{' after ' + secs if secs else ''}: {first_line(e.get('error'))}"
    elif kind in ("stage_interrupted", "fetch_interrupted"):
        text = f"interrupted (Ctrl-C){' after ' + secs if secs else ''}: nothing of it was kept"
    elif kind == "publish":
        prev = short(e.get("previous")) if e.get("previous") else "none"
        text = f"gold/{e.get('asset', '?')} -> {obj} (was {prev})"
        if e.get("recovered"):
            text += f"; moved by run {e.get('moved_by_run') or '?'}, which was killed before recording it"
    elif kind == "fetch_start":
        return None
    elif kind == "fetch_success":
        text = f"fetched {e.get('describe') or ''} {secs}".strip()
    elif kind == "fetch_failure":
        text = f"fetch FAILED{' after ' + secs if secs else ''}: {first_line(e.get('error'))}"
    elif kind == "fetch_fallback":
        text = f"fell back: the stages read the last good capture, of {e.get('captured_at', '?')}"
    elif kind == "alert":
        text = f"alert ({e.get('kind', '?')}) sent via {e.get('channel', '?')} to {e.get('target', '?')}"
    elif kind == "alert_failure":
        text = (f"ALERT ({e.get('kind', '?')}) NOT DELIVERED via {e.get('channel', '?')}: "
                f"{first_line(e.get('error'))}")
    else:
        extra = {k: v for k, v in e.items() if k not in ("ts", "event", "host", "pid", "run", "game_date")}
        text = " ".join(f"{k}={v}" for k, v in sorted(extra.items()))
    return Entry(ts=str(e.get("ts", "")), kind=kind, stage=stage, text=text, event=e)


def needs(pipeline: Any, clock: str = "schedule") -> dict[str, set[str]]:
    """Per stage and fetch task, what it waits on in a run (as the doit tasks do): its upstream stages, the clock
    stage (`clock`: a date's lock) for a stage that reads sources or as_of and for a season stage, and the fetches
    (`fetch_<key>`) they or it read."""
    fetched = {key: set(readers) for key, (_, readers) in pipeline.fetchers().items()}
    clock_of = {clock, *pipeline.upstream(clock)} if clock in pipeline.stages else set()
    before = {f"fetch_{key}" for key, readers in fetched.items() if clock in readers}  # the clock's own fetches
    out: dict[str, set[str]] = {}
    for name in pipeline.order:
        stage = pipeline[name]
        up = set(pipeline.upstream(name))
        if clock_of and name != clock and (stage.sources or stage.uses_as_of or stage.scope == "season"):
            up |= clock_of
        out[name] = up | {f"fetch_{key}" for key, readers in fetched.items() if readers & (up | {name})}
    for key, readers in fetched.items():  # a fetch after the clock waits for it (a date's lock, its games)
        out[f"fetch_{key}"] = set() if clock in readers or not clock_of else clock_of | before
    return out


def timeline(events: Events, day: str, *, deps: Mapping[str, set[str]] | None = None) -> list[Block]:
    """Blocks in the order they began: each run that selected `day` (or recorded an event for it). `deps`
    (`needs(pipeline)`) tells the stages a failure kept from running from those that were up to date; without
    it, the stages after the first failure in build order are taken for the former."""
    of_day = events.by_date.get(day, [])
    finished = {(e.get("run"), e.get("stage"), e.get("key")) for e in of_day
                if e.get("event") in ("stage_success", "stage_failure", "no_games", "stage_interrupted")}
    blocks: dict[str | None, Block] = {}
    for run in events.runs_of(day):
        blocks[run.run] = Block(run)
    for run in events.runs.values():  # a backfill that skipped the date (its run_start says why)
        start = run.start or {}
        why = "no NBA games" if day in (start.get("no_games") or []) else \
            "no DraftKings salaries in the archive (`projections ingest dk-salaries FILE` adds them)" \
            if day in (start.get("no_salaries") or []) else None
        if why and run.run not in blocks:
            blocks[run.run] = Block(run, [Entry(ts=run.began or "", kind="quiet", stage="slate",
                                                text=f"skipped: {why}", event={"event": "skipped", "why": why})])
    loose: list[Block] = []
    for e in of_day:
        entry = _entry(e, finished)
        if entry is None:
            continue
        run_id = e.get("run")
        if run_id and run_id in blocks:
            blocks[run_id].entries.append(entry)
        elif loose and loose[-1].entries and loose[-1].entries[-1].event.get("run") == run_id:
            loose[-1].entries.append(entry)
        else:
            loose.append(Block(None, [entry]))
    stages = list(dict.fromkeys(str(e["stage"]) for e in of_day if e.get("stage")))
    for block in blocks.values():
        ended = block.run
        if ended is not None and ended.outcome == "interrupted":  # its workers were stopped with it
            how = str((ended.end or {}).get("signal") or "Ctrl-C")
            for entry in block.entries:
                if entry.kind == "stage_start":
                    entry.text = f"interrupted ({how}) before it finished: nothing of it was kept"
                elif how != "Ctrl-C" and entry.text:
                    entry.text = entry.text.replace("interrupted (Ctrl-C)", f"interrupted ({how})")
        if ended is None or ended.end is None or day not in ended.dates:
            continue
        touched = {e.stage for e in block.entries} | {str(e.get("stage")) for e in of_day
                                                      if e.get("run") == ended.run and e.get("stage")}
        # only the stages this run selected: `doit minutes` made no stage run of sim or gold. A run whose
        # run_start does not name its stages is taken for the whole slate only if it asked for the slate
        selected = ended.stages
        # a run_start without its stages (older code): the stages the date had seen by the run's end, and none
        # when the run counted no stage up to date (newer stages seen later were never part of it)
        known = stages if selected is not None else list(dict.fromkeys(
            str(e["stage"]) for e in of_day if e.get("stage") and str(e.get("ts", "")) <= (ended.ended or "")))
        ran = [s for s in known if selected is None or s in selected] + \
            [s for s in selected or [] if s not in known]
        if selected is None and (not ended.whole_slate or (ended.end or {}).get("up_to_date") == 0):
            ran = []
        elif selected is not None:
            seen = set(ran)
            ran = [s for s in selected if s in seen]  # in build order: what came before a failure is told apart
        quiet = [s for s in ran if s not in touched]
        failures = {e.stage for e in block.entries if e.kind in ("stage_failure", "fetch_failure")}
        first = min((ran.index(s) for s in failures if s in ran), default=len(ran))

        # whether a failure of the date kept each quiet stage from running: one it waits on failed (`deps`), else
        # it comes after the first failure in build order
        kept = {s: bool(deps[s] & failures) if deps is not None and s in deps else ran.index(s) >= first
                for s in quiet}
        groups = [([s for s in quiet if not kept[s]], "up to date (nothing to do)"),
                  ([s for s in quiet if kept[s]], "not run (an input failed)")]
        if ended.outcome == "interrupted":
            groups = [(quiet, "not run (the run was interrupted)")]
        elif (ended.end or {}).get("stopped"):  # a worker died: the run stopped where it was
            groups = [(quiet, "not built (the run stopped early: up to date, or never reached)")]
        for names, verb in groups:
            if names:
                block.entries.append(Entry(ts=ended.ended or "", kind="quiet", stage=", ".join(names), text=verb,
                                           event={"event": "quiet", "stages": names}))
    return sorted([*blocks.values(), *loose], key=lambda b: b.began)


def render(day: str, blocks: list[Block]) -> str:
    if not blocks:
        return f"{day}: nothing in the ledger for this date (never selected by a run)"
    moves = sum(1 for b in blocks for e in b.entries if e.kind == "publish")
    failures = sum(1 for b in blocks for e in b.entries if e.kind in ("stage_failure", "fetch_failure"))
    alerts = sum(1 for b in blocks for e in b.entries if e.kind in ("alert", "alert_failure"))
    runs = sum(1 for b in blocks if b.run is not None)
    lines = [f"history of {day}: {runs} run(s), {moves} pointer move(s), {failures} failure(s), {alerts} alert(s)"]
    width = max((len(e.stage) for b in blocks for e in b.entries if e.kind != "quiet"), default=8)
    for block in blocks:
        lines.append(block.header())
        if not block.entries and block.run is not None:
            lines.append("  nothing of this date recorded: the run ended before any stage of it ran (killed?)"
                         if block.run.end is None else
                         "  interrupted before any stage of this date ran" if block.run.outcome == "interrupted"
                         else "  nothing to do for this date (every stage was up to date)")
        for e in block.entries:
            if e.kind == "quiet":
                lines.append(f"  {'':<12}  {e.stage}: {e.text}")
            else:
                lines.append(f"  {e.ts[11:23] or '-':<12}  {e.stage:<{width}}  {e.text}")
    return "\n".join(lines)

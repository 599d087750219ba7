"""What `doit slate` prints and records of a run: a line per stage run, a progress bar on a terminal, the
summary, the ledger's run_start and run_end, and the alert of a run that failed or ended stale.

The reporter is doit's (DOIT_CONFIG["reporter"]); it learns of each task through doit's callbacks and of the
run's dates, skips and data root through the tasks' `meta` (projections.doit_tasks.generate).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from doit.reporter import ConsoleReporter

from projections.doit_progress import STYLE, Live, on_terminal
from projections.doit_signals import _INTERRUPT
from projections.hashing import short
from projections.ledger import Ledger
from projections.textsafe import visible

SLATE = "slate"
# `doit list` and `doit help slate` show it: the one place a user typing doit's own help learns of date=
SLATE_DOC = ("build every stage of the selected dates and move their gold pointers; date=YYYY-MM-DD, a range "
             "date=A..B or a list date=A,B (default: today's slate date)")
CLUSTER = "cluster"  # the Dask run's task (projections.executors.tasks)
# settings from the environment that change what a run builds (never secrets: those live under live./alerts.)
OVERRIDES = ("PROJECTIONS_PARAMS", "PROJECTIONS_SOURCE", "PROJECTIONS_LIVE__NOW", "PROJECTIONS_EXECUTOR")


def _overrides() -> dict[str, str]:
    """The run's environment overrides of what it builds (parameters, source, replayed clock), for the
    ledger: two runs of the same command with different parameters read differently in `history`."""
    return {k: v for k, v in os.environ.items() if k.startswith(OVERRIDES)}


def listed(items: list[Any], most: int = 3) -> str:
    """The first `most` items, comma-separated, with " ..." when there are more."""
    return ", ".join(str(i) for i in items[:most]) + (" ..." if len(items) > most else "")


class SlateReporter(ConsoleReporter):
    """One line per stage and date with progress, then a one-line summary. On a terminal the lines are
    coloured and a progress bar (done/total, elapsed, ETA, the stage running) stays under them."""

    desc = "projections: progress per stage and date, summary at the end"

    def __init__(self, outstream: Any, options: dict[str, Any]) -> None:
        super().__init__(outstream, options)
        self.total = 0
        self.done = 0
        self.counts = {"built": 0, "re-published": 0, "fetched": 0, "downloaded": 0, "up to date": 0, "failed": 0,
                       "not run": 0, "published": 0, "no games": 0, "fell back": 0}
        self.started = time.monotonic()
        self.failed: list[str] = []
        self.refused = False  # a fetch (the DraftKings inbox) refused a file
        self.ledger: Ledger | None = None
        self.dates: dict[str, str] = {}  # date -> "ok" | "failed"
        self.left: dict[str, int] = {}  # date -> its stage runs not reported yet
        self.running: dict[str, float] = {}
        self.live: Live | None = None
        self.no_games: list[str] = []
        self.no_salaries: list[str] = []
        self.meta: dict[str, Any] = {}
        self.notes_said: set[str] = set()  # the notes this run printed in full
        self.width = 10  # of the stage column: its longest name

    def write(self, text: str) -> None:
        """A line to doit's output stream. When its reader has gone (`doit slate | head`, a dead log pipe),
        the stream is pointed at /dev/null and the build goes on: a closed pipe loses lines, never a slate."""
        try:
            self.outstream.write(visible(text))  # a line may quote a feed or a file name: no escape sequences
        except BrokenPipeError:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.outstream.fileno())  # the stream's buffer now drains into /dev/null
                os.close(devnull)

    def _is_stage(self, task: Any) -> bool:
        return bool(task.subtask_of) and task.subtask_of != SLATE

    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        seen: set[str] = set()
        todo = list(selected_tasks)
        while todo:
            name = todo.pop()
            if name in seen or name not in tasks:
                continue
            seen.add(name)
            todo.extend(tasks[name].task_dep)
        stages = [n for n in tasks if n in seen and self._is_stage(tasks[n])]  # in build order
        self.total = len(stages)
        self.width = max([10, *(len(n.partition(":")[0]) for n in stages)])  # calibration, fetch_player_logs
        self.dates = dict.fromkeys(sorted({n.partition(":")[2] for n in stages if ":" in n}), "ok")
        self.left = {day: sum(1 for n in stages if n.partition(":")[2] == day) for day in self.dates}
        meta = next((tasks[n].meta for n in seen if tasks[n].meta), None)
        self.started = float((meta or {}).get("started") or time.monotonic())  # from task generation on
        self.meta = meta or {}
        if meta:
            self._shared_store(meta)
            self.no_games = list(meta.get("no_games", []))
            self.no_salaries = list(meta.get("no_salaries", []))
            self.ledger = Ledger(Path(meta["home"]), run=meta["run"])
            try:
                self.ledger.append("run_start", dates=meta["dates"], tasks=sorted(selected_tasks),
                                   stage_runs=self.total,
                                   stages=list(dict.fromkeys(n.partition(":")[0] for n in stages)),
                                   argv=sys.argv[1:], no_games=self.no_games or None,
                                   no_salaries=self.no_salaries or None,
                                   invocation=os.environ.get("INVOCATION_ID"),  # systemd's, for the alert unit
                                   overrides=_overrides() or None)
            except OSError as exc:  # a disk already full: the stages fail by name, the run's end says why
                self.runtime_errors.append(f"ERROR: the start of this run could not be written to the ledger "
                                           f"{self.ledger.dir} ({exc.strerror or exc}); free space on that disk, "
                                           "then run the same command again")
        if self.total and on_terminal(self.outstream):
            try:
                self.live = Live(self.outstream)
            except Exception:  # no usable terminal after all: plain lines
                self.live = None

    def _line(self, task: Any, verb: str, detail: str = "") -> None:
        self.done += 1
        self.running.pop(task.name, None)
        stage, _, day = task.name.partition(":")
        if day in self.left:
            self.left[day] -= 1
        elapsed = time.monotonic() - self.started
        line = (f"[{self.done:>{len(str(self.total))}}/{self.total} {elapsed:6.1f}s] {verb:<10} "
                f"{stage:<{self.width}} {day}{'  ' + detail if detail else ''}")
        if verb in ("up to date", "no fetch") and len(self.dates) > 1:  # a backfill's rerun: 1,700 such lines say
            self._refresh()  # nothing the summary's count does not (one date's run still lists its stages)
        elif self.live is not None:
            self.live.print(line, STYLE.get(verb, ""))
            self._refresh()
        else:
            self.write(line + "\n")

    def _refresh(self) -> None:
        if self.live is not None:
            running = [n.replace(":", " ") for n in sorted(self.running, key=self.running.__getitem__)]
            self.live.update(total=self.total, done=self.done, running=running)

    def _date_failed(self, task: Any) -> None:
        day = task.name.partition(":")[2]
        if day in self.dates:
            self.dates[day] = "failed"

    def execute_task(self, task: Any) -> None:
        if self._is_stage(task):
            self.running[task.name] = time.monotonic()
            self._refresh()

    def add_success(self, task: Any) -> None:
        if not self._is_stage(task):
            return
        values = task.values or {}
        if values.get("no_games"):
            day = task.name.partition(":")[2]
            self.counts["no games"] += 1
            if day in self.dates and self.dates[day] != "failed":  # named alone, its schedule failed: it stays so
                self.dates[day] = "no games"
            self._line(task, "no games", str(values.get("message") or ""))
            return
        if values.get("fallback"):  # the fetch failed; the stages read the date's last good capture (alerted)
            self.counts["fell back"] += 1
            self._line(task, "FELL BACK", str(values.get("describe", "")))
            return
        if values.get("fetched"):
            self.counts["fetched"] += 1
            self.refused = self.refused or bool(values.get("rejected"))  # the inbox refused a file: it alerts
            self._line(task, "fetched", str(values.get("describe", "")))
            return
        if values.get("built"):
            self.counts["built"] += 1
            verb = "built"
        elif values.get("published"):
            self.counts["re-published"] += 1
            verb = "published"
        else:
            self.counts["up to date"] += 1
            verb = "up to date"
        if values.get("published"):
            self.counts["published"] += 1
        detail = f"{short(values.get('object'))}  {values.get('seconds', 0):.2f}s"
        if values.get("published"):
            detail += "  -> gold"
        if values.get("note"):  # e.g. a calibration fitted without the prior season's lines
            note = str(values["note"])  # said once a run: a season's dates repeat their lineups' note
            detail += "  note: as above" if note in self.notes_said else f"  note: {note}"
            self.notes_said.add(note)
        self._line(task, verb, detail)

    def _shared_store(self, meta: dict[str, Any]) -> None:
        """What the front end's sync with the shared store did before the checks: pointers it adopted count
        as moved (a gold pointer did move here), and both it and uploads are said once."""
        adopted, uploaded = meta.get("adopted", 0), meta.get("uploaded", 0)
        self.counts["published"] += adopted
        said = [f"adopted {adopted} gold pointer(s) another machine published"] if adopted else []
        said += [f"uploaded {uploaded} build(s) whose upload an earlier run here did not finish"] if uploaded else []
        if said:
            self.write(f"shared store: {'; '.join(said)}\n")

    def skip_uptodate(self, task: Any) -> None:
        if self._is_stage(task):
            why = (task.meta or {}).get("not_fetched", {}).get(task.name)
            if why:  # a live source never captured for the date: say why, not "up to date"
                self.counts["up to date"] += 1
                self._line(task, "no fetch", why)
                return
            if task.name in (task.meta or {}).get("downloaded", ()):  # up to date by a copy from the shared store
                self.counts["downloaded"] += 1
                self._line(task, "downloaded", "from the shared store")
                return
            self.counts["up to date"] += 1
            self._line(task, "up to date")

    def add_failure(self, task: Any, fail: Any) -> None:
        if type(fail).__name__ == "UnmetDependency":  # an input failed: this one never ran
            if self._is_stage(task):
                self.counts["not run"] += 1
                self._date_failed(task)
                self._line(task, "skipped", "an input failed: " + fail.get_msg().strip().replace("\n", " "))
            return
        if task.name == CLUSTER:  # the cluster could not start: every stage is "not run"; this is the failure
            message = fail.get_msg().strip() if hasattr(fail, "get_msg") else str(fail)
            self.failed.append(f"{CLUSTER}: {message}")
            self.write(f"FAILED     {CLUSTER}: {message.splitlines()[0] if message else ''}\n")
        elif self._is_stage(task):
            self.counts["failed"] += 1
            self._date_failed(task)
            message = fail.get_msg().strip() if hasattr(fail, "get_msg") else str(fail)
            self.failed.append(f"{task.name}: {message}")
            self._line(task, "FAILED", message.splitlines()[0] if message else "")
        else:
            super().add_failure(task, fail)

    def _dates_summary(self) -> str:
        off = sorted(set(self.no_games) | {d for d, state in self.dates.items() if state == "no games"})
        skipped = ""
        if off:
            skipped = f"{len(off)} without games skipped ({listed(off)}); "
        if self.no_salaries:
            skipped += (f"{len(self.no_salaries)} without DraftKings salaries skipped ({listed(self.no_salaries)}: "
                        "`projections ingest dk-salaries FILE` adds them); ")
        built = {d: state for d, state in self.dates.items() if state != "no games"}
        if not built:
            return skipped
        if self.runtime_errors:  # the run stopped early (a worker died): a date it did not finish is not ok
            built = {d: "failed" if state == "ok" and self.left.get(d, 0) > 0 else state for d, state in built.items()}
        bad = [d for d, state in built.items() if state == "failed"]
        if not bad:
            return f"{len(built)} date{'s' if len(built) != 1 else ''} ok; {skipped}"
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        return f"{len(built) - len(bad)} date(s) ok, {len(bad)} failed ({shown}); {skipped}"

    def complete_run(self) -> None:
        if self.live is not None:
            self.live.stop()
        elapsed = time.monotonic() - self.started
        c = self.counts
        skipped = c["not run"] + max(self.total - self.done, 0)
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):  # doit calls this on its way out of a Ctrl-C
            self._interrupted(elapsed, skipped)
            return
        summary = (f"{self.total} stage runs: {c['built']} built, "
                   + "".join(f"{c[k]} {k}, " for k in ("re-published", "fetched", "downloaded") if c[k])
                   + (f"{c['fell back']} fetch(es) failed and fell back to the last good capture, "
                      if c["fell back"] else "")
                   + f"{c['up to date']} up to date, "
                   f"{c['failed']} failed" + (f", {skipped} not run ("
                                              f"{'the run stopped' if self.runtime_errors else 'inputs failed'})"
                                              if skipped else "")
                   + (f", {c['no games']} not run (no games)" if c["no games"] else "")
                   + f"; {c['published']} gold pointers moved; {self._dates_summary()}{elapsed:.1f}s")
        if self.failed:
            stage, _, day = self.failed[0].partition(": ")[0].partition(":")
            bad = [d for d, state in self.dates.items() if state == "failed"]
            span = bad[0] if len(bad) == 1 else f"{bad[0]}..{bad[-1]}" if bad else day
            from projections.sources import ENDPOINTS

            fetched = stage.removeprefix("fetch_")  # a fetch's captures, but for one that writes none (a season)
            look = ("" if fetched not in ENDPOINTS else f"`projections snapshots {day} {fetched}`, ") \
                if stage.startswith("fetch_") else f"`projections explain {day} {stage}`, "
            hint = f"details: `projections status {span}`, {look}`projections history {day}`\n" if day else ""
            self.write("\nFailures:\n" + "".join(f"  {f}\n" for f in self.failed) + hint)
        if self.live is not None:
            self.live.print(summary, "bold red" if self.failed else "bold")
        else:
            self.write(summary + "\n")
        _INTERRUPT["said"] = True  # a stop while the alert is sent is no stop 'before the run began'
        unrecorded: OSError | None = None
        if self.ledger is not None:
            try:
                self.ledger.append("run_end", ok=not self.failed and not self.runtime_errors,
                                   built=c["built"], republished=c["re-published"] or None,
                                   fetched=c["fetched"] or None, downloaded=c["downloaded"] or None,
                                   up_to_date=c["up to date"], failed=c["failed"],
                                   not_run=skipped, published=c["published"], seconds=round(elapsed, 3),
                                   failures=[*self.failed, *self.runtime_errors][:20] or None,
                                   stopped=bool(self.runtime_errors) or None)
            except OSError as exc:  # a full disk: say so and alert all the same, without a traceback
                unrecorded = exc
                self.runtime_errors.append(f"ERROR: the end of this run could not be written to the ledger "
                                           f"{self.ledger.dir} ({exc.strerror or exc}); free space on that disk, "
                                           "then run the same command again")
        for msg in self.runtime_errors:
            sys.stderr.write(msg + "\n")
        if self.ledger is not None and (self.failed or skipped or self.runtime_errors or self.refused
                                        or c["fell back"]):
            self._alert() if unrecorded is None else self._alert_unrecorded(unrecorded)

    def _interrupted(self, elapsed: float, not_run: int) -> None:
        """Ctrl-C (SIGINT): one line, the run recorded as interrupted (neither ok nor a failure), no alert, and
        (quiet_interrupt) no traceback after it; the process still exits 130. What was built stays."""
        c = dict(self.counts)
        cluster = self.meta["cluster"]() if self.meta.get("cluster") else {}  # a Dask run's progress
        if cluster and not cluster["finished"]:  # stopped while the cluster built: its stages never reported
            for field in ("built", "published", "failed"):
                c[field] += cluster.get(field, 0)
            c["up to date"] += cluster.get("done", 0) - cluster.get("built", 0) - cluster.get("failed", 0)
            not_run = max(not_run - cluster.get("done", 0), 0)
        how = "stopped (SIGTERM)" if _INTERRUPT["signal"] else "interrupted"
        self.write(f"\n{how} after {elapsed:.1f}s: {c['built']} built, {c['up to date']} up to date, "
                   f"{not_run} not run; {c['published']} gold pointers moved - run the same command again to finish\n")
        if self.ledger is not None:
            self.ledger.append("run_end", ok=False, interrupted=True, built=c["built"], up_to_date=c["up to date"],
                               failed=c["failed"], not_run=not_run, published=c["published"],
                               seconds=round(elapsed, 3), failures=self.failed[:20] or None,
                               signal=_INTERRUPT["signal"] or None)
        import multiprocessing

        for worker in multiprocessing.active_children():  # -n N: a worker forked as the signal came never saw it
            worker.terminate()
        _INTERRUPT["said"] = True

    def _alert_unrecorded(self, exc: OSError) -> None:
        """The run's alert when the ledger it is made from could not be written (a full disk): one alert from
        what this process saw, sent without recording its delivery."""
        from projections.ops.alerts import RUN_STAGES, Alert, details_template, send_alert, span_of
        from projections.settings import load_settings

        span = span_of([d for d, state in self.dates.items() if state == "failed"] or list(self.dates))
        error = (f"the ledger could not be written ({exc.strerror or exc}): free space on the data root's disk, "
                 "then run the same command again" + "".join(f"\n{f}" for f in self.failed[:10]))
        try:
            settings = load_settings()
            send_alert(settings, Alert(date=span, stage=RUN_STAGES, error=error,
                                       command=details_template(settings).format(date=span),
                                       run=self.ledger.run if self.ledger else ""), ledger=None)
        except Exception as err:  # the alert path must never turn a failed run into a crash
            sys.stderr.write(f"alert not sent: {err}\n")

    def _alert(self) -> None:
        """A run that failed, ended stale, fell back or met a refused inbox file alerts (failures are recorded)."""
        from projections.ops.alerts import notify_run
        from projections.settings import load_settings

        assert self.ledger is not None
        try:
            notify_run(load_settings(), self.ledger)
        except Exception as exc:  # the alert path must never turn a failed run into a crash
            self.ledger.append("alert_failure", channel="all", error=f"{type(exc).__name__}: {exc}")
            sys.stderr.write(f"alert not sent: {exc}\n")

"""History and ledger indexing on hand-written ledgers: a killed run, early cutoff, events outside any run,
unreadable lines."""

from __future__ import annotations

import json
from pathlib import Path

from projections.observe import history
from projections.observe.events import Events, first_line, when

OBJ = "xxh3-128:" + "ab" * 16
KEY = "xxh3-128:" + "cd" * 16


def _ev(ts: str, event: str, **fields: object) -> dict:
    return {"ts": f"2026-01-02T03:04:{ts}.000Z", "event": event, "host": "h", "pid": 1, **fields}


def test_a_killed_run_is_unfinished_and_its_stage_never_finished():
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate", "date=2019-10-30"]),
        _ev("02", "stage_start", run="r1", stage="sim", game_date="2019-10-30", key=KEY),
    ])
    (block,) = history.timeline(events, "2019-10-30")
    assert block.run is not None and block.run.outcome == "unfinished"
    assert "UNFINISHED: no run_end (killed, or still running)" in block.header()
    assert [e.text for e in block.entries] == ["started, never finished (killed, or still running)"]


def test_early_cutoff_cached_and_loose_events():
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"]),
        _ev("02", "stage_start", run="r1", stage="sim", game_date="2019-10-30", key=KEY),
        _ev("03", "stage_success", run="r1", stage="sim", game_date="2019-10-30", key=KEY, object=OBJ,
            created=False, seconds=1.5, rows=10),
        _ev("04", "stage_cached", run="r1", stage="gold", game_date="2019-10-30", key=KEY, object=OBJ),
        _ev("05", "run_end", run="r1", ok=True, built=1, up_to_date=1, failed=0, published=0, seconds=4.0),
        _ev("06", "alert_failure", channel="none", kind="test", game_date="2019-10-30", error="no channel\nmore"),
    ])
    blocks = history.timeline(events, "2019-10-30")
    assert [b.run.run if b.run else None for b in blocks] == ["r1", None]
    texts = [e.text for e in blocks[0].entries]
    assert texts[0] == "built ababababab in 1.50s, 10 rows; same object as an earlier build (early cutoff)"
    assert texts[1] == "up to date ababababab"
    assert blocks[0].header().endswith("OK in 4.0s: 1 built, 1 up to date, 0 failed, 0 published")
    assert blocks[1].entries[0].text == "ALERT (test) NOT DELIVERED via none: no channel"
    rendered = history.render("2019-10-30", blocks)
    assert "outside any run" in rendered and "1 alert(s)" in rendered
    assert events.success_of(KEY) is not None and events.with_object("sim", OBJ)[0]["event"] == "stage_success"


def test_unreadable_ledger_lines_are_skipped_and_counted(tmp_path: Path):
    (tmp_path / "ledger").mkdir()
    good = json.dumps(_ev("01", "publish", stage="gold", game_date="2019-10-30", object=OBJ))
    (tmp_path / "ledger" / "2026-01.jsonl").write_text(f"{good}\n{{broken\n[1, 2]\n")
    events = Events.read(tmp_path)
    assert events.skipped_lines == 2 and len(events.publishes("2019-10-30")) == 1


def test_formatting_helpers():
    assert when("2019-10-30T23:00:00.000Z") == "2019-10-30 23:00:00Z" and when(None) == "-"
    assert first_line("  a\nb") == "a" and first_line(None) == "" and len(first_line("x" * 500, 50)) == 50


def test_a_run_that_only_moved_a_pointer_back_counts_it():
    """The run line added up to less than its stage runs: a stage re-published (its pointer moved back to an
    object built before) was in no count."""
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"]),
        _ev("02", "run_end", run="r1", ok=True, built=0, republished=1, up_to_date=12, failed=0, published=1,
            seconds=0.1),
    ])
    (block,) = history.timeline(events, "2019-10-30")
    assert block.header().endswith("OK in 0.1s: 0 built, 1 re-published, 12 up to date, 0 failed, 1 published")


def test_stages_of_a_failed_run_before_the_failure_were_up_to_date_not_skipped():
    """A run where ownership failed and the eleven stages before it were up to date (doit skipped them: no
    event) listed all eleven as 'not run (an input failed)', while its own header counted 11 up to date."""
    stages = ["schedule", "salaries", "sim", "ownership", "gold"]
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"], stages=stages),
        _ev("02", "stage_start", run="r1", stage="ownership", game_date="2019-10-30", key=KEY),
        _ev("03", "stage_failure", run="r1", stage="ownership", game_date="2019-10-30", key=KEY, error="boom"),
        _ev("04", "run_end", run="r1", ok=False, built=0, up_to_date=3, failed=1, not_run=1, published=0,
            seconds=1.0),
    ])
    (block,) = history.timeline(events, "2019-10-30")
    quiet = {e.text: e.stage for e in block.entries if e.kind == "quiet"}
    assert quiet == {"up to date (nothing to do)": "schedule, salaries, sim", "not run (an input failed)": "gold"}


def test_with_the_pipeline_history_tells_independent_stages_apart_from_kept_back_ones():
    """salaries failed (no DraftKings salaries): game_logs, odds and lineups do not wait on it and were up to
    date, but build order put them after it and called them 'not run (an input failed)'."""
    stages = ["schedule", "salaries", "game_logs", "odds", "rosters", "gold"]
    deps = {"schedule": set(), "salaries": {"schedule"}, "game_logs": set(), "odds": {"schedule"},
            "rosters": {"schedule", "salaries", "game_logs"}, "gold": {"schedule", "salaries", "game_logs", "odds",
                                                                        "rosters"}}
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"], stages=stages),
        _ev("02", "stage_failure", run="r1", stage="salaries", game_date="2019-10-30", key=KEY, error="none"),
        _ev("03", "run_end", run="r1", ok=False, built=0, up_to_date=3, failed=1, not_run=2, published=0,
            seconds=1.0),
    ])
    (block,) = history.timeline(events, "2019-10-30", deps=deps)
    quiet = {e.text: e.stage for e in block.entries if e.kind == "quiet"}
    assert quiet == {"up to date (nothing to do)": "schedule, game_logs, odds",
                     "not run (an input failed)": "rosters, gold"}


def test_a_run_stopped_by_a_dead_worker_does_not_call_its_unreached_stages_up_to_date():
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"], stages=["schedule", "gold"]),
        _ev("02", "run_end", run="r1", ok=False, built=0, up_to_date=0, failed=0, not_run=2, published=0,
            seconds=1.0, stopped=True, failures=["ERROR: worker process 7 of this run was killed by SIGKILL"]),
    ])
    (block,) = history.timeline(events, "2019-10-30")
    assert [e.text for e in block.entries if e.kind == "quiet"] == [
        "not built (the run stopped early: up to date, or never reached)"]


def test_what_history_says_a_task_waits_on_is_what_the_doit_tasks_wait_on(tmp_path: Path, monkeypatch):
    """history.needs tells a stage a failure kept from running from one that was up to date; it must be what the
    doit tasks of a live run wait on (projections.doit_tasks), followed through: a stage's inputs, its fetches, the
    clock stage for those reading sources or as_of and for the season-scoped calibration, and, for a fetch after
    the clock, the clock and what the clock itself waits on (its own fetch)."""
    from projections import doit_tasks
    from projections.settings import load_settings
    from projections.wiring import make_engine
    from tests.conftest import like_a_doit_child

    with like_a_doit_child(monkeypatch):
        engine = make_engine(load_settings(home=tmp_path / "home", source="live"))
    assert engine.clock and any(s.scope == "season" for s in engine.pipeline.stages.values())
    fetchers = engine.pipeline.fetchers()

    def waits_on(task: str) -> list[str]:
        if task.startswith("fetch_"):
            return [] if engine.clock in fetchers[task.removeprefix("fetch_")][1] else [str(engine.clock)]
        return doit_tasks._needs(engine, task)

    def closure(task: str) -> set[str]:
        out: set[str] = set()
        todo = waits_on(task)
        while todo:
            dep = todo.pop()
            if dep not in out:
                out.add(dep)
                todo.extend(waits_on(dep))
        return out

    tasks = [*engine.pipeline.order, *(f"fetch_{key}" for key in fetchers)]
    told = history.needs(engine.pipeline, engine.clock)
    assert sorted(told) == sorted(tasks)
    for task in tasks:
        assert told[task] == closure(task), task


def test_the_timeline_is_in_the_order_things_began_and_counts_fetch_failures():
    """An alert recorded outside any run before a run began comes first; two such events in a row are one block;
    a failed fetch is a failure in the count on top, as a failed stage is."""
    events = Events([
        _ev("01", "alert_failure", channel="email", kind="test", game_date="2019-10-30", error="refused"),
        _ev("02", "alert", channel="webhook", kind="test", game_date="2019-10-30", target="http://127.0.0.1/…"),
        _ev("03", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"], stages=["schedule"]),
        _ev("04", "fetch_failure", run="r1", source="injuries", game_date="2019-10-30", error="HTTP 503", seconds=2),
        _ev("05", "run_end", run="r1", ok=False, built=0, up_to_date=1, failed=1, published=0, seconds=3.0),
    ])
    blocks = history.timeline(events, "2019-10-30")
    assert [(b.run.run if b.run else None, [e.kind for e in b.entries if e.kind != "quiet"]) for b in blocks] == [
        (None, ["alert_failure", "alert"]), ("r1", ["fetch_failure"])]
    assert history.render("2019-10-30", blocks).splitlines()[0] == (
        "history of 2019-10-30: 1 run(s), 0 pointer move(s), 1 failure(s), 2 alert(s)")


def test_a_stage_run_stopped_by_systemd_says_by_what_and_a_success_without_created_claims_no_early_cutoff():
    """A run stopped by SIGTERM (systemctl stop): its interrupted stage says SIGTERM, not Ctrl-C. A success line
    that does not say whether it made a new object (older code) is not called early cutoff."""
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"], stages=["schedule", "sim"]),
        _ev("02", "stage_success", run="r1", stage="schedule", game_date="2019-10-30", key=KEY, object=OBJ,
            seconds=1.0),
        _ev("03", "stage_start", run="r1", stage="sim", game_date="2019-10-30", key=KEY),
        _ev("04", "stage_interrupted", run="r1", stage="sim", game_date="2019-10-30", key=KEY, seconds=2.0,
            error="SystemExit: 143"),
        _ev("05", "run_end", run="r1", ok=False, interrupted=True, signal="SIGTERM", built=1, up_to_date=0,
            failed=0, published=0, seconds=3.0),
    ])
    (block,) = history.timeline(events, "2019-10-30")
    assert block.run is not None and block.run.outcome == "interrupted", block.run
    assert [e.text for e in block.entries] == [
        "built ababababab in 1.00s", "interrupted (SIGTERM) after 2.00s: nothing of it was kept"]


def test_a_run_of_older_code_that_counted_nothing_up_to_date_lists_no_stage_as_up_to_date():
    """A run_start of older code names no stages: history takes the stages the date had seen by the run's end,
    but not for a run that counted none up to date (it ran none of them: say, it stopped at a lock)."""
    events = Events([
        _ev("01", "run_start", run="r0", dates=["2019-10-30"], argv=["slate"]),
        _ev("02", "stage_success", run="r0", stage="schedule", game_date="2019-10-30", key=KEY, object=OBJ,
            seconds=1.0),
        _ev("03", "run_end", run="r0", ok=True, built=1, up_to_date=0, failed=0, published=0, seconds=1.0),
        _ev("04", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"]),
        _ev("05", "run_end", run="r1", ok=True, built=0, up_to_date=0, failed=0, published=0, seconds=1.0),
    ])
    blocks = history.timeline(events, "2019-10-30")
    assert [(b.run.run if b.run else None, [e.text for e in b.entries]) for b in blocks] == [
        ("r0", ["built ababababab in 1.00s"]), ("r1", [])]


def test_a_build_without_its_seconds_reads_whole():
    """A stage_success without `seconds` (a ledger line of older code, or one cut short) read "built X in , 10 rows"."""
    events = Events([
        _ev("01", "run_start", run="r1", dates=["2019-10-30"], argv=["slate"]),
        _ev("02", "stage_success", run="r1", stage="sim", game_date="2019-10-30", key=KEY, object=OBJ, rows=10),
        _ev("03", "run_end", run="r1", ok=True, built=1, up_to_date=0, failed=0, published=0, seconds=4.0),
    ])
    (block,) = history.timeline(events, "2019-10-30")
    assert [e.text for e in block.entries] == ["built ababababab, 10 rows"]

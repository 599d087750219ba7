"""`doit slate` progress lines and the summary: plain lines when piped, a rich progress bar on a terminal."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest

from projections.doit_reporter import SlateReporter
from tests.observe.conftest import DATES, FAILED_DATE, Observed

LINE = re.compile(r"^\[\s*(\d+)/(\d+)\s+\d+\.\ds\] (built|up to date|FAILED|skipped)\s+(\w+)\s+(\d{4}-\d\d-\d\d)")


def test_a_range_prints_a_progress_line_per_stage_run_that_did_something_then_a_summary(observed: Observed):
    """Stages up to date are counted, not listed, in a run over several dates: a season's rerun printed 1,700
    'up to date' lines."""
    lines = observed.outputs["range"].splitlines()
    total = len(observed.stages) * len(DATES)
    progress = [m.groups() for m in map(LINE.match, lines) if m]
    summary = re.match(rf"^{total} stage runs: (\d+) built, (\d+) up to date, 0 failed; {len(DATES)} gold pointers "
                       rf"moved; {len(DATES)} dates ok; \d+\.\ds$", lines[-1])
    assert summary and int(summary.group(1)) + int(summary.group(2)) == total, lines[-1]
    assert int(summary.group(2)) > 0  # the season's calibration, built for the first date only
    assert len(progress) == int(summary.group(1)) and "up to date" not in {p[2] for p in progress}
    numbers = [int(p[0]) for p in progress]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers) and numbers[-1] <= total
    assert {p[1] for p in progress} == {str(total)} and {p[4] for p in progress} == set(DATES)
    assert {p[3] for p in progress} == set(observed.stages)


def test_a_failed_date_is_named_in_the_summary_with_where_to_look(observed: Observed):
    out = observed.outputs["failed"]
    assert re.search(rf"FAILED\s+schedule\s+{FAILED_DATE}  schedule: no NBA games", out)
    assert re.search(rf"skipped\s+gold\s+{FAILED_DATE}  an input failed", out)
    assert f"details: `projections status {FAILED_DATE}`, `projections explain {FAILED_DATE} " in out
    summary = [line for line in out.splitlines() if " stage runs: " in line][-1]
    assert re.match(rf"^{len(observed.stages)} stage runs: 0 built, \d+ up to date, \d+ failed, \d+ not run \(inputs "
                    rf"failed\); 0 gold pointers moved; 0 date\(s\) ok, 1 failed \({FAILED_DATE}\); ", summary), summary


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _task(name: str, deps: list[str], values: dict | None = None) -> SimpleNamespace:
    base, _, _ = name.partition(":")
    return SimpleNamespace(name=name, subtask_of=base if ":" in name else None, task_dep=deps, meta=None,
                           values=values or {})


def test_on_a_terminal_a_progress_bar_runs_under_coloured_lines(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out = _Terminal()
    a, b = _task("schedule:2019-10-30", []), _task("gold:2019-10-30", ["schedule:2019-10-30"])
    a.values = {"built": True, "object": "xxh3-128:" + "ab" * 16, "seconds": 0.5}
    slate = _task("slate", ["gold:2019-10-30"])
    reporter = SlateReporter(out, {})
    reporter.initialize({t.name: t for t in (a, b, slate)}, ["slate"])
    assert reporter.live is not None and reporter.total == 2
    reporter.execute_task(a)
    reporter.add_success(a)
    reporter.skip_uptodate(b)
    reporter.complete_run()
    text = out.getvalue()
    assert "\x1b[" in text  # coloured
    assert re.search(r"\[1/2\s+\d+\.\ds\] built\s+schedule\s+2019-10-30  abababab", text)
    assert "2 stage runs: 1 built, 1 up to date, 0 failed; 0 gold pointers moved; 1 date ok;" in text


def test_piped_output_has_no_escape_codes():
    out = io.StringIO()
    a = _task("schedule:2019-10-30", [], {"built": True, "object": "xxh3-128:" + "cd" * 16, "seconds": 0.1})
    reporter = SlateReporter(out, {})
    reporter.initialize({a.name: a}, [a.name])
    reporter.execute_task(a)
    reporter.add_success(a)
    reporter.complete_run()
    assert reporter.live is None and "\x1b" not in out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("1 stage runs: 1 built")


def test_every_stage_run_is_counted_in_the_summary():
    """A stage that only moves its pointer back (re-published) and a fetch are counted: the parts add up."""
    out = io.StringIO()
    fetch = _task("fetch_odds:2019-10-30", [], {"fetched": True, "describe": "odds: 11 games"})
    built = _task("schedule:2019-10-30", [], {"built": True, "object": "xxh3-128:" + "cd" * 16, "seconds": 0.1})
    moved = _task("gold:2019-10-30", [built.name], {"published": True, "object": "xxh3-128:" + "ef" * 16})
    reporter = SlateReporter(out, {})
    reporter.initialize({t.name: t for t in (fetch, built, moved)}, [fetch.name, moved.name])
    for task in (fetch, built, moved):
        reporter.execute_task(task)
        reporter.add_success(task)
    reporter.complete_run()
    assert out.getvalue().splitlines()[-1].startswith(
        "3 stage runs: 1 built, 1 re-published, 1 fetched, 0 up to date, 0 failed; 1 gold pointers moved;")


def test_a_note_is_said_in_full_once_a_run():
    """Every date of an ingested stats.nba.com season builds its lineups with the same note (no starter flags,
    and the fetch that brings them): a backfill said it in full on each date's line. Another note still is."""
    from stages.lineups import NO_FLAGS

    note = NO_FLAGS.format(season="2023-24")
    days = ("2023-11-01", "2023-11-02", "2023-11-03")
    tasks = [_task(f"lineups:{d}", [], {"built": True, "object": "xxh3-128:" + "ab" * 16, "seconds": 0.1,
                                        "note": note}) for d in days]
    tasks.append(_task("odds:2023-11-03", [], {"built": True, "object": "xxh3-128:" + "cd" * 16, "note": "other"}))
    out = io.StringIO()
    reporter = SlateReporter(out, {})
    reporter.initialize({t.name: t for t in tasks}, [t.name for t in tasks])
    for task in tasks:
        reporter.execute_task(task)
        reporter.add_success(task)
    reporter.complete_run()
    lines = out.getvalue().splitlines()
    assert out.getvalue().count(note) == 1 and lines[0].endswith(f"note: {note}"), lines
    assert [line.endswith("  note: as above") for line in lines[1:3]] == [True, True], lines
    assert lines[3].endswith("  note: other"), lines


@pytest.mark.parametrize("terminal", [False, True])
def test_a_failure_quoting_a_feed_drives_no_terminal(terminal: bool, monkeypatch: pytest.MonkeyPatch):
    """A fetch failure quoting a feed's error page printed its escape sequences raw (the window title set, the
    screen cleared) in doit's progress lines and failure list; the reporter's own colours stay."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = _Terminal() if terminal else io.StringIO()
    a = _task("odds:2019-10-30", [])
    reporter = SlateReporter(out, {})
    reporter.initialize({a.name: a, "slate": _task("slate", [a.name])}, ["slate"])
    reporter.execute_task(a)
    reporter.add_failure(a, SimpleNamespace(get_msg=lambda: "HTTP 404: \x1b]0;PWNED\x07\x1b[2J fake"))
    reporter.complete_run()
    text = out.getvalue()
    assert "HTTP 404: \\x1b]0;PWNED\\x07\\x1b[2J fake" in text, text
    assert "\x1b]0" not in text and "\x1b[2J" not in text and "\x07" not in text

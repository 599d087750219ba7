"""`projections status` on a data root built by real runs: up to date, stale after a code change, failed."""

from __future__ import annotations

import json

from tests.observe.conftest import DATES, FAILED_DATE, RERUN_DATE, Observed, cli


def _status(observed: Observed, dates: str) -> dict[str, dict]:
    result = cli(observed.home, observed.code, "status", dates, "--json")
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return {d["game_date"]: d for d in data["dates"]}


def test_status_json_names_state_object_gold_timing_and_failure(observed: Observed):
    found = _status(observed, f"{FAILED_DATE},{DATES[0]}..{DATES[-1]}")
    rerun = found[RERUN_DATE]
    assert rerun["state"] == "up to date"
    assert rerun["gold"] == {"projections": observed.rerun_gold}
    assert rerun["published_at"]["projections"]
    for stage in rerun["stages"]:
        assert stage["state"] == "up to date" and stage["object"] and stage["built_at"]
        assert isinstance(stage["seconds"], float) and stage["seconds"] > 0
        assert stage["last_outcome"] == "built"
    gold = rerun["stages"][-1]
    assert gold["stage"] == "gold" and gold["object"] == observed.rerun_gold

    stale = found[DATES[1]]
    assert stale["state"] == "stale" and stale["gold"]["projections"] == observed.first_gold[DATES[1]]
    by_stage = {s["stage"]: s for s in stale["stages"]}
    assert by_stage["gold"]["state"] == "stale" and by_stage["gold"]["object"] is None
    assert "no object for its key" in by_stage["gold"]["reason"]
    assert by_stage["salaries"]["state"] == "up to date"

    off = found[FAILED_DATE]  # an off day named alone fails by design: the archive's calendar has the last word
    assert off["state"] == "skipped" and off["gold"] == {"projections": None}
    assert off["skipped"] == f"no NBA games on {FAILED_DATE} in the archive's schedule: nothing to build"
    assert off["note"].startswith(f"run {observed.failed_run} failed on it ")
    assert f": schedule: no NBA games on {FAILED_DATE} in the schedule source; pick a date with games" in off["note"]
    by_stage = {s["stage"]: s for s in off["stages"]}
    assert by_stage["schedule"]["state"] == "failed"
    assert by_stage["schedule"]["error"].startswith("schedule: no NBA games on 2019-11-28")
    assert by_stage["schedule"]["last_run"] and by_stage["schedule"]["last_outcome"] == "failed"
    assert by_stage["gold"]["state"] == "stale"
    assert by_stage["gold"]["reason"] == "waits for schedule, which failed"


def test_status_text_and_exit_code(observed: Observed):
    ok = cli(observed.home, observed.code, "status", RERUN_DATE)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].startswith(f"{RERUN_DATE}  UP TO DATE  gold: projections {observed.rerun_gold[9:19]}")
    assert any(line.strip().startswith("U gold") and "-> gold" in line and "built" in line for line in lines)

    bad = cli(observed.home, observed.code, "status", f"{FAILED_DATE},{DATES[1]}")
    assert bad.returncode == 1  # the stale date; the skipped one is no problem
    assert f"{FAILED_DATE}  SKIPPED     no NBA games on {FAILED_DATE}" in bad.stdout
    assert f"  note: run {observed.failed_run} failed on it " in bad.stdout and "F schedule" not in bad.stdout
    assert "R gold" in bad.stdout and "stale: no object for its key" in bad.stdout
    off = cli(observed.home, observed.code, "status", FAILED_DATE)
    assert off.returncode == 0, off.stdout + off.stderr
    assert bad.stdout.splitlines()[-1] == "2 dates: 1 stale, 1 skipped", bad.stdout


def test_over_several_dates_an_up_to_date_date_is_one_line(observed: Observed):
    """A season's status printed 14 lines a date, 1,871 in all, and no total."""
    many = cli(observed.home, observed.code, "status", f"{RERUN_DATE},{DATES[1]}")
    lines = many.stdout.splitlines()
    assert lines[0].startswith(f"{RERUN_DATE}  UP TO DATE  gold: ") and not lines[1].startswith("  "), lines
    assert lines[-1].startswith("2 dates: 1 up to date, ") and "1 stale" in lines[-1], lines
    spaced = cli(observed.home, observed.code, "status", RERUN_DATE, DATES[1])  # it printed the top-level usage
    assert spaced.returncode == many.returncode and spaced.stdout == many.stdout, spaced.stderr
    one = cli(observed.home, observed.code, "status", RERUN_DATE).stdout.splitlines()
    assert len(one) == 1 + len(observed.stages) and not one[-1].startswith("1 dates")  # one date: every stage


def test_status_of_a_date_never_run(observed: Observed):
    result = cli(observed.home, observed.code, "status", "2019-11-20")
    assert result.returncode == 1
    assert "never ran" in result.stdout and "no gold" in result.stdout

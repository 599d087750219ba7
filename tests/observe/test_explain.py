"""`projections explain`: the code edit of the gold stage, a parameter override, an upstream code edit and a
failed run are each named, as a diff against the published build or the build before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ledger_events, run_doit
from tests.observe.conftest import DATES, FAILED_DATE, RERUN_DATE, Observed, cli, copy_root


def _explain(observed: Observed, day: str, stage: str, *, code: Path | None = None, **env: str) -> dict:
    result = cli(observed.home, code or observed.code, "explain", day, stage, "--json", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _names(changes: list[dict]) -> set[str]:
    out = set()
    for c in changes:
        out.add(f"{c['kind']}:{c['name']}")
        out |= _names(c.get("upstream") or [])
    return out


def test_stale_after_a_code_change_names_the_code_version_against_the_published_object(observed: Observed):
    day = DATES[1]
    data = _explain(observed, day, "gold")
    assert data["state"] == "stale" and data["mode"] == "stale"
    assert data["reference"]["object"] == observed.first_gold[day]
    assert f"game_date={day}" in data["against"]
    assert _names(data["changes"]) == {"code:gold"}
    assert [(c["stage"], c["kind"]) for c in data["causes"]] == [("gold", "code")]
    code = data["changes"][0]
    assert code["old"] != code["new"] and "stages/gold.py" in code["note"]
    assert "params" in data["unchanged"]
    assert {f"input {name}" for name in observed.inputs["gold"]} <= set(data["unchanged"])

    text = cli(observed.home, observed.code, "explain", day, "gold").stdout
    assert f"gold {day}: STALE" in text and "root cause: gold code version (stages/gold.py)" in text
    assert "code version (stages/gold.py):" in text
    assert f"    - {code['old']}" in text and f"    + {code['new']}" in text


def test_rerun_after_a_code_change_says_why_it_ran(observed: Observed):
    data = _explain(observed, RERUN_DATE, "gold")
    assert data["state"] == "up to date" and data["mode"] == "ran"
    assert data["current"]["object"] == observed.rerun_gold
    assert data["reference"]["object"] == observed.first_gold[RERUN_DATE]
    assert data["reference"]["run"] and data["current"]["run"] and data["reference"]["run"] != data["current"]["run"]
    assert _names(data["changes"]) == {"code:gold"}
    text = cli(observed.home, observed.code, "explain", RERUN_DATE, "gold").stdout
    assert "why it ran: compared with the build before it:" in text and "code version (stages/gold.py)" in text


def test_first_build_has_nothing_to_compare_with(observed: Observed):
    data = _explain(observed, RERUN_DATE, "salaries")
    assert data["state"] == "up to date" and data["reference"] is None and data["changes"] == []
    assert "first build" in data["against"]


def _upstream(observed: Observed, stage: str) -> set[str]:
    todo, seen = list(observed.inputs[stage]), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(observed.inputs[name])
    return seen


def _a_numeric_param(observed: Observed) -> tuple[str, str, object, object]:
    """(stage, param, default, override) for the numeric parameter nearest the gold stage."""
    candidates = ["gold", *[s for s in reversed(observed.stages) if s in _upstream(observed, "gold")]]
    for stage in candidates:
        for name, default in observed.params[stage].items():
            if isinstance(default, bool) or not isinstance(default, int | float):
                continue
            return stage, name, default, default + 1 if isinstance(default, int) else round(default * 0.9, 6)
    pytest.skip("no stage upstream of gold has a numeric parameter to override")


def test_a_parameter_override_is_named_with_old_and_new_value(observed: Observed):
    stage, name, default, override = _a_numeric_param(observed)
    env = {f"PROJECTIONS_PARAMS__{stage.upper()}__{name.upper()}": str(override)}
    data = _explain(observed, RERUN_DATE, "gold", **env)
    assert data["state"] == "stale"
    assert data["reference"]["object"] == observed.rerun_gold
    assert [(c["stage"], c["kind"], c["name"], c["old"], c["new"]) for c in data["causes"]] == [
        (stage, "param", name, default, override)]
    text = cli(observed.home, observed.code, "explain", RERUN_DATE, "gold", **env).stdout
    assert f"root cause: {stage} param {name} {default} -> {override}" in text
    assert f"param {name}:\n" in text


def test_a_stage_that_gained_its_first_parameter_names_only_that_parameter():
    """After an upgrade that gave odds its first parameter, explain listed `param (params) {} -> (unset)` (the old
    record's empty parameters as one unnamed value) as a root cause beside `score_prior_games (unset) -> 5.0`."""
    from projections.observe.explain import moved_params

    assert moved_params({}, {"score_prior_games": 5.0}) == {"score_prior_games": ("(unset)", 5.0)}
    assert moved_params({"draws": 500}, {}) == {"draws": (500, "(unset)")}  # and one that lost its last


def test_an_upstream_code_edit_is_followed_through_the_changed_input(observed: Observed, tmp_path: Path):
    edited = observed.inputs["gold"][0]
    code = tmp_path / "code"
    shutil.copytree(observed.code, code, ignore=shutil.ignore_patterns("__pycache__"))
    module = code / "stages" / f"{edited}.py"
    module.write_text(module.read_text() + "\n_OBSERVE_TEST_EDIT = 1  # a logic change: a new module statement\n")
    data = _explain(observed, RERUN_DATE, "gold", code=code)
    assert data["state"] == "stale" and data["reason"].startswith("waits for ")
    assert [(c["stage"], c["kind"]) for c in data["causes"]] == [(edited, "code")]
    assert f"stages/{edited}.py" in data["causes"][0]["note"]
    direct = {c["name"]: c for c in data["changes"] if c["kind"] == "input"}
    assert direct[edited]["new"] is None and direct[edited]["old"]
    assert [f"{c['kind']}:{c['name']}" for c in direct[edited]["upstream"]] == [f"code:{edited}"]
    text = cli(observed.home, code, "explain", RERUN_DATE, "gold").stdout
    [cause] = [line for line in text.splitlines() if f"root cause: {edited} code version (" in line] or [text]
    assert f"stages/{edited}.py" in cause, text  # with the engine modules it computes with (projections.schema)
    assert f"input {edited}:" in text and "+ (not built yet)" in text and f"because {edited} changed:" in text


def test_an_off_day_named_alone_is_skipped_and_its_failure_a_note(observed: Observed):
    data = _explain(observed, FAILED_DATE, "schedule")
    assert data["state"] == "skipped"
    assert data["reason"] == f"no NBA games on {FAILED_DATE} in the archive's schedule: nothing to build"
    assert data["failure"]["error"].startswith("schedule: no NBA games on 2019-11-28")
    assert data["failure"]["run"] == observed.failed_run
    gold = _explain(observed, FAILED_DATE, "gold")
    assert gold["state"] == "skipped" and gold["reason"] == data["reason"]
    text = cli(observed.home, observed.code, "explain", FAILED_DATE, "schedule").stdout
    assert text.startswith(f"schedule {FAILED_DATE}: SKIPPED - no NBA games on {FAILED_DATE}")
    assert "note: its last run failed " in text and f"(run {observed.failed_run}): schedule: no NBA games" in text
    with_live = _explain(observed, FAILED_DATE, "schedule", PROJECTIONS_SOURCE="live")  # the store's view
    assert with_live["state"] == "failed" and with_live["failure"]["run"] == observed.failed_run


def test_unknown_stage_is_a_usage_error(observed: Observed):
    result = cli(observed.home, observed.code, "explain", RERUN_DATE, "nosuch")
    assert result.returncode == 2 and "no stage named 'nosuch'" in result.stderr and "Traceback" not in result.stderr


def test_a_source_read_another_way_shows_what_differs(observed: Observed, tmp_path: Path):
    """The same archive files read with other columns (the code changed how a source reads them) changed the
    source's identity but not its text, so explain printed identical - and + lines for it."""
    code = tmp_path / "code"
    shutil.copytree(observed.code, code, ignore=shutil.ignore_patterns("__pycache__"))
    module = code / "stages" / "lineups.py"
    text = module.read_text()
    columns = 'columns=("game_id", "team", "player_id", "started")'
    assert columns in text, "the lineups stage's box-score source moved: update this test"
    module.write_text(text.replace(columns, 'columns=("game_id", "team", "player_id", "started", "minutes")'))
    data = _explain(observed, RERUN_DATE, "lineups", code=code)
    (box,) = [c for c in data["changes"] if c["kind"] == "source" and c["name"] == "box"]
    assert box["old"] != box["new"] and "(identity " in box["new"], box
    assert box["note"].startswith("the same files, read another way"), box


def test_why_it_ran_blames_no_change_made_after_the_build(observed: Observed, tmp_path: Path):
    """An input object made again later by another key (an early cutoff) was explained by that later key: after
    a rates parameter rebuilt sim, a rosters parameter that rebuilt rates to the same object (sim up to date) was
    named a root cause of sim's build before it."""
    home, code = copy_root(observed, tmp_path)
    rates = {"PROJECTIONS_PARAMS__RATES__PCT_PRIOR_ATTEMPTS": "60"}
    both = {**rates, "PROJECTIONS_PARAMS__ROSTERS__ABSENT_GAMES": "2"}
    for env in (rates, both):
        result = run_doit(home, "slate", f"date={RERUN_DATE}", code=code, **env)
        assert result.returncode == 0, result.stdout + result.stderr
    events = ledger_events(home)
    built = {e["stage"] for e in events if e["run"] == events[-1]["run"] and e["event"] == "stage_success"}
    assert {"rosters", "rates"} <= built and "sim" not in built, built  # rates made again, the same object
    result = cli(home, code, "explain", RERUN_DATE, "sim", "--json", **both)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["state"] == "up to date" and data["mode"] == "ran"
    assert [(c["stage"], c["kind"], c["name"]) for c in data["causes"]] == [("rates", "param", "pct_prior_attempts")]
    assert not {"input:rosters", "param:absent_games"} & _names(data["changes"]), data["changes"]
    # rates made the same object: said without claiming nothing downstream reran (after an upgrade every stage's
    # code moved, and 'nothing downstream reran' was printed for schedule while all twelve after it rebuilt)
    text = cli(home, code, "explain", RERUN_DATE, "rates", **both).stdout
    assert "it produced the same object as before (early cutoff: no stage reading it reran because of it)" in text

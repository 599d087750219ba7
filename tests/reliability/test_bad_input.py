"""Bad input gets a clear error naming the thing and the fix, and leaves the store and gold as they were."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from projections.archive import SHIPPED, add_part
from projections.frames import to_parquet_bytes
from projections.store import LocalStore
from tests.conftest import (
    FIXTURE_DATE,
    REPO,
    doit_argv,
    gold_object,
    project_env,
    run_cli,
    run_doit,
    tree_snapshot,
)

Drift = Callable[[pd.DataFrame], pd.DataFrame]


def _missing(col: str) -> Drift:
    return lambda f: f.drop(columns=[col])


def _renamed(col: str, to: str) -> Drift:
    return lambda f: f.rename(columns={col: to})


def _as_text(col: str) -> Drift:
    return lambda f: f.assign(**{col: f[col].astype(str)})


def _duplicated(f: pd.DataFrame) -> pd.DataFrame:
    import datetime as dt

    day = dt.date.fromisoformat(FIXTURE_DATE)
    return pd.concat([f, f[f["game_date"] == day].head(5)], ignore_index=True)


def _nan_salaries(f: pd.DataFrame) -> pd.DataFrame:
    out = f.copy()
    out["salary"] = out["salary"].astype("float64")
    out.loc[out.index[:3], "salary"] = np.nan
    return out


DRIFTS = [
    ("salaries", "missing column", _missing("salary"), ["salary"]),
    ("salaries", "renamed column", _renamed("player_id", "playerId"), ["player_id"]),
    ("salaries", "wrong dtype", _as_text("salary"), ["salary"]),
    ("salaries", "duplicated rows", _duplicated, ["slate_id", "player_id"]),
    ("salaries", "NaN salaries", _nan_salaries, ["salary"]),
    ("schedule", "missing column", _missing("tip_time"), ["tip_time"]),
    ("schedule", "duplicated rows", _duplicated, ["game_id"]),
    ("player_logs", "renamed column", _renamed("pts", "points"), ["pts"]),
    ("player_logs", "wrong dtype", _as_text("minutes"), ["minutes"]),
]
STAGE_OF = {"salaries": "salaries", "schedule": "schedule", "player_logs": "game_logs"}


def _plant_drift(home: Path, table: str, drift: Drift) -> None:
    """Ingest a drifted copy of the shipped 2019-20 part of `table` into the data root (it replaces it)."""
    frame = pd.read_parquet(SHIPPED / table / "2019-20.parquet")
    obj = LocalStore(home).commit({"data.parquet": to_parquet_bytes(drift(frame))}, {"stage": "ingest-test"}).object
    add_part(home, table, "2019-20", obj, ("2019-20",), origin="test drift")


def _stable(home: Path) -> dict[str, str]:
    """The data root minus what any run appends to (ledger, locks) - and minus action records: a stage that
    does not read the bad column may rebuild, find the same bytes and record its new key beside the old."""
    return {k: v for k, v in tree_snapshot(home).items()
            if not k.startswith(("ledger", "locks", "store/actions"))}


@pytest.mark.parametrize(("table", "kind", "drift", "columns"), DRIFTS, ids=[f"{t}-{k}" for t, k, _, _ in DRIFTS])
def test_schema_drift_in_a_source_is_refused_and_changes_nothing(built_home: Path, tmp_path: Path, table: str,
                                                                 kind: str, drift: Drift, columns: list[str]):
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    gold_before = gold_object(home)
    _plant_drift(home, table, drift)
    before = _stable(home)

    result = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    stage = STAGE_OF[table]
    assert f"{stage}:" in text and "source 'archive'" in text, text
    assert any(c in text for c in columns), (columns, text)
    assert "ingest" in text  # the fix
    assert "Traceback" not in text
    assert gold_object(home) == gold_before
    assert _stable(home) == before
    assert run_cli(home, "verify").returncode == 0


@pytest.mark.parametrize(("day", "why"), [("2019-08-01", "no NBA games on 2019-08-01"),
                                          ("2020-08-26", "no NBA games on 2020-08-26")])
def test_dates_without_games_fail_clearly(built_home: Path, tmp_path: Path, day: str, why: str):
    """2019-08-01 is the off-season; on 2020-08-26 the games were postponed (players' strike)."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    before = _stable(home)
    result = run_doit(home, "slate", f"date={day}")
    assert result.returncode != 0
    assert why in result.stdout + result.stderr
    assert gold_object(home, day) is None and gold_object(home) == gold_object(built_home)
    assert _stable(home) == before


@pytest.mark.parametrize("argv", [
    ["status", "2019-13-45"],
    ["status", "../../etc"],
    ["gc", "--keep", "zero"],
    ["gc", "--grace", "-5"],
    ["no-such-command"],
])
def test_malformed_cli_arguments(built_home: Path, argv: list[str]):
    before = tree_snapshot(built_home)
    result = run_cli(built_home, *argv)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert tree_snapshot(built_home) == before


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 300])
def test_path_traversal_in_archive_part_names(tmp_path: Path, name: str):
    home = tmp_path / "home"
    obj = LocalStore(home).commit({"data.parquet": b"x"}, {}).object
    from projections.errors import SourceError

    with pytest.raises(SourceError, match="invalid archive part name"):
        add_part(home, "salaries", name, obj, ("2019-20",))
    assert not (home / "refs").exists() or not any((home / "refs").rglob("*.json"))


@pytest.mark.parametrize("argv", [
    ["slate", "dates=2019-10-30"],          # a typo would otherwise build today's slate
    ["slate", "date="],
    ["list", "--status", "date=2019-10-30,,2019-11-01"],
    ["slate", "date=2019-10-30", "executor=spark"],
    ["slate", "date=2019-10-30", "date=2019-10-31"],  # doit would keep the last and drop the first silently
    ["slate", "date=2019-10-30", "workers=abc"],
    ["slate", "date=2019-10-30", "workers=2"],  # the local executor: workers= would be silently ignored
])
def test_malformed_doit_arguments(built_home: Path, argv: list[str]):
    before = tree_snapshot(built_home)
    result = run_doit(built_home, *argv)
    assert result.returncode != 0, result.stdout
    assert result.stderr.startswith("ERROR: ") and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1 and argv[-1].split("=")[0] in result.stderr, result.stderr
    assert tree_snapshot(built_home) == before


def test_verify_of_a_data_root_that_does_not_exist_is_not_ok(tmp_path: Path):
    """A typo in PROJECTIONS_HOME must not read as a healthy, empty root."""
    result = run_cli(tmp_path / "typo_home", "verify")
    assert result.returncode == 1 and result.stdout == ""
    assert f"no data root at {tmp_path / 'typo_home'}" in result.stderr and "PROJECTIONS_HOME" in result.stderr
    assert not (tmp_path / "typo_home").exists()


def test_a_bad_parameter_names_the_stage_and_the_variable_that_set_it(built_home: Path, tmp_path: Path):
    before = tree_snapshot(built_home)
    config = tmp_path / "elsewhere.toml"
    config.write_text("")
    result = run_doit(built_home, "slate", "date=2019-10-30", PROJECTIONS_PARAMS__SIM__DRAWS="many",
                      PROJECTIONS_CONFIG=str(config))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert "invalid parameters for stage sim (draws: " in result.stderr
    assert result.stderr.rstrip().endswith("; fix PROJECTIONS_PARAMS__SIM__DRAWS"), result.stderr
    assert tree_snapshot(built_home) == before


def test_a_misspelt_parameter_names_the_one_meant(built_home: Path):
    """`questionabl: Extra inputs are not permitted` named no fix; a setting's typo already got a did-you-mean."""
    result = run_doit(built_home, "slate", "date=2019-10-30", PROJECTIONS_PARAMS__MINUTES__QUESTIONABL="0.5")
    assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "(questionabl: minutes takes no such parameter; did you mean questionable?); fix " \
           "PROJECTIONS_PARAMS__MINUTES__QUESTIONABL" in result.stderr, result.stderr


def test_a_misspelt_stage_of_a_parameter_names_the_stage_meant(built_home: Path):
    """`unknown stages ['minuts']` listed every stage but said nothing of the one meant."""
    result = run_doit(built_home, "slate", "date=2019-10-30", PROJECTIONS_PARAMS__MINUTS__QUESTIONABLE="0.5")
    assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "unknown stages ['minuts']; did you mean minutes for minuts?" in result.stderr, result.stderr


def test_a_bad_parameter_in_the_settings_file_names_that_file_and_key(built_home: Path, tmp_path: Path):
    """The file named is the one that was read ($PROJECTIONS_CONFIG here), not a guess at where it might be."""
    before = tree_snapshot(built_home)
    config = tmp_path / "elsewhere.toml"
    config.write_text("[params.sim]\ndraws = 5\nseeed = 1\n")
    result = run_doit(built_home, "slate", "date=2019-10-30", PROJECTIONS_CONFIG=str(config))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert "invalid parameters for stage sim (draws: " in result.stderr
    assert "seeed: sim takes no such parameter (it takes draws)" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith(
        f"; fix draws in [params.sim] of {config} and seeed in [params.sim] of {config}"), result.stderr
    assert tree_snapshot(built_home) == before


@pytest.mark.parametrize(("argv", "says"), [
    (["minute", "date=2019-10-30"], "no task 'minute': did you mean minutes? tasks are slate and the stages "),
    (["slat"], "no task 'slat': did you mean slate?"),  # before today's date is looked at (outside the archive)
    (["-r", "json", "slat"], "no task 'slat': did you mean slate?"),  # an option's value is no task name
    (["list", "--status", "minutes:2019-10-3"], "no task 'minutes:2019-10-3': '2019-10-3' is not a date; "),
    (["list", "gold:2019-10-30", "fetch_odds"], "no task 'fetch_odds': "),  # archive mode: no fetch tasks
    (["slate", "2019-10-30"], "no task '2019-10-30': dates are given as date=YYYY-MM-DD"),  # built today's slate
    (["slate", "--date=2019-10-30"], "no task '--date=2019-10-30': dates are given as date=YYYY-MM-DD"),
    (["-n", "-1", "slate", "date=2019-10-30"], "-n -1: -n is how many processes build at once, 1 or more"),
    (["slate:2019-10-30"], "no task 'slate:2019-10-30': slate takes its dates from date= (`doit slate "
                           "date=2019-10-30`)"),  # doit's generic error; `doit info slate:D` was a KeyError
    (["-s", "slate", "date=2019-10-31"], "-s runs the tasks named without what they need"),  # built nothing, and
    (["-s", "date=2019-10-31"], "-s runs the tasks named without what they need; with no task named runs the "
                                "default, slate; "),  # history said "up to date"
    (["minutes:2019-11-01", "date=2019-11-02"], "a task name's date (2019-11-01) is not among date=2019-11-02: "
                                                "drop date="),  # doit's 'Invalid parameter ... Must be a command'
])
def test_a_task_name_no_task_has_is_refused_naming_the_tasks(built_home: Path, argv: list[str], says: str):
    before = tree_snapshot(built_home)
    result = run_doit(built_home, *argv)
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"ERROR: {says}") and len(result.stderr.splitlines()) == 1, result.stderr
    assert tree_snapshot(built_home) == before


@pytest.mark.parametrize(("argv", "instead"), [
    (["forget", "minutes", "date=2019-10-30"], "`projections explain DATE STAGE`"),
    (["ignore", "minutes", "date=2019-10-30"], "name a stage (`doit minutes date=...`)"),
    (["reset-dep"], "keys come from the inputs' hashes"),
    (["clean", "date=2019-10-30"], "`projections gc` deletes the objects nothing needs"),
])
def test_doits_commands_for_a_task_state_this_project_does_not_keep_are_refused(
        built_home: Path, argv: list[str], instead: str):
    """doit keeps its task state in memory here, so `doit forget minutes` printed "forgetting minutes" and changed
    nothing; each is refused, naming what does that job."""
    before = tree_snapshot(built_home)
    result = run_doit(built_home, *argv)
    assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"ERROR: `doit {argv[0]}` does nothing in this project") and instead in \
        result.stderr, result.stderr
    assert tree_snapshot(built_home) == before


def test_doit_dumpdb_is_refused_in_one_line(built_home: Path):
    """`doit dumpdb` does not load dodo.py: it read a dependency file this project never writes and ended in a dbm
    traceback. A command registered in pyproject.toml refuses it, naming where a run's record is."""
    result = run_doit(built_home, "dumpdb")
    assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ERROR: `doit dumpdb` has nothing to show") and "projections history" in \
        result.stderr, result.stderr


def test_doit_strace_is_refused_and_builds_nothing(tmp_path: Path):
    """`doit strace STAGE:D` built the stage under strace outside a run (no run_start or run_end: history showed
    it "UNFINISHED ... killed, or still running" for good) and reported no file_deps or targets, which stages do
    not have. It is refused in one line, in the checkout (pyproject's command) and from another folder."""
    home = tmp_path / "home"
    for cwd in (REPO, tmp_path):
        result = subprocess.run(doit_argv("strace", f"schedule:{FIXTURE_DATE}", f"date={FIXTURE_DATE}"),
                                env=project_env(home), capture_output=True, text=True, timeout=120, cwd=cwd)
        assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stdout + result.stderr
        assert result.stderr.startswith("ERROR: `doit strace` has nothing to trace in this project") and \
            "doit STAGE date=..." in result.stderr, result.stderr
        assert tree_snapshot(home) == {}, tree_snapshot(home)
    listed = run_doit(home, "help").stdout
    [line] = [line for line in listed.splitlines() if line.split()[1:2] == ["strace"]]
    assert "refused: stages read and write only the store" in line, listed


def test_doit_help_lists_the_refused_commands_as_refused(built_home: Path):
    """`doit help` described clean, forget, ignore and reset-dep with doit's own text ("clean action / remove
    targets", ...) while each is refused."""
    listed = run_doit(built_home, "help").stdout
    for name in ("clean", "dumpdb", "forget", "ignore", "reset-dep"):
        [line] = [line for line in listed.splitlines() if line.split()[1:2] == [name]]  # `doit NAME` (`-m NAME`)
        assert "refused: this project keeps no doit state" in line, listed


def test_options_after_a_task_and_a_trailing_double_dash_are_doits_to_judge(built_home: Path):
    """An option after a task name is that task's option to doit, which names it; a trailing `--` is nothing.
    The task-name check took both for misplaced dates."""
    ended = run_doit(built_home, "slate", "date=2019-10-30", "--")
    assert ended.returncode == 0 and "1 date ok" in ended.stdout, ended.stdout + ended.stderr
    late = run_doit(built_home, "slate", "-v", "2", "date=2019-10-30")
    assert late.returncode == 3 and "dates are given as" not in late.stderr, late.stderr
    assert "-v" in late.stderr and "Traceback" not in late.stderr, late.stderr
    # doit's own option after the task: doit said "option -n not recognized (parsing options: [])"
    n = run_doit(built_home, "slate", "date=2019-10-30", "-n", "2")
    assert n.returncode == 3 and n.stderr.startswith("ERROR: -n is an option of `doit`, not of a task: put it before "
                                                     "the task names (`doit -n ... slate date=...`)"), n.stderr


def test_a_stage_that_fails_before_it_starts_is_a_stage_failure_in_the_ledger(tmp_path: Path):
    """An input gone (`doit -s`, or a gc since the run checked it), a lock or lease not taken: the failure was only
    printed, so status said "never ran" and history called the failed run's stages "up to date"."""
    from tests.conftest import ledger_events, run_cli

    home = tmp_path / "home"
    result = run_doit(home, "-s", "gold", f"date={FIXTURE_DATE}")
    assert result.returncode != 0 and "its input schedule is not built" in result.stdout + result.stderr
    failures = [e for e in ledger_events(home) if e["event"] == "stage_failure"]
    assert [(e["stage"], e["game_date"]) for e in failures] == [("gold", FIXTURE_DATE)], failures
    assert failures[0]["error"].startswith("gold 2019-10-30: its input schedule is not built")
    status = json.loads(run_cli(home, "status", FIXTURE_DATE, "--json").stdout)
    (gold,) = [s for s in status["dates"][0]["stages"] if s["stage"] == "gold"]
    assert "its input schedule is not built" in json.dumps(gold), gold


@pytest.mark.parametrize("variable, value, says", [
    ("RATES__PCT_PRIOR_ATTEMPTS", "inf", "pct_prior_attempts: Input should be a finite number"),
    ("CALIBRATION__SHRINK_MINUTES", "inf", "shrink_minutes: Input should be a finite number"),
    ("OWNERSHIP__POINTS_WEIGHT", "1e308", "points_weight: Input should be less than or equal to 2.5"),
    ("SALARIES__PREFER", "fanduel", "prefer.0: Input should be 'dk' or 'rotoguru'"),
    ("SALARIES__PREFER", "[]", "prefer: Tuple should have at least 1 item"),
    # nan: was "less than or equal to 1"
    ("MINUTES__PROBABLE_SITS", "nan", "probable_sits: Input should be a finite number)"),
    ("SALARIES__PREFER", "DK", "(prefer.0: Input should be 'dk' or 'rotoguru');"),  # and a spurious "at least 1"
])
def test_a_parameter_no_stage_can_use_is_refused_up_front(built_home: Path, variable: str, value: str, says: str):
    """inf ended the run in a traceback (it cannot enter a key: canonical JSON refuses it) after the summary
    said the date was ok; 1e308 made every ownership weight 0 ("the salary file is not a classic slate"); a
    salary source that does not exist failed the salaries stage with "download the DKSalaries.csv"."""
    before = tree_snapshot(built_home)
    result = run_doit(built_home, "slate", "date=2019-10-30", **{f"PROJECTIONS_PARAMS__{variable}": value})
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1 and says in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith(f"; fix PROJECTIONS_PARAMS__{variable}"), result.stderr
    assert tree_snapshot(built_home) == before


def test_an_infinite_parameter_in_the_settings_file_is_refused(built_home: Path, tmp_path: Path):
    config = tmp_path / "projections.toml"
    config.write_text("[params.rates]\npct_prior_attempts = inf\n")
    result = run_doit(built_home, "slate", "date=2019-10-30", PROJECTIONS_CONFIG=str(config))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert "pct_prior_attempts: Input should be a finite number" in result.stderr and str(config) in result.stderr


@pytest.mark.parametrize("value", ["dk,rotoguru", " dk , rotoguru ", '["dk", "rotoguru"]'])
def test_a_list_parameter_is_set_from_the_environment(built_home: Path, value: str):
    """docs/settings.md lists PROJECTIONS_PARAMS__SALARIES__PREFER as a list, but every form of it was refused
    ("Input should be a valid tuple"). Comma-separated or JSON, the default order is the default: nothing to
    rebuild."""
    result = run_doit(built_home, "slate", "date=2019-10-30", PROJECTIONS_PARAMS__SALARIES__PREFER=value)
    assert result.returncode == 0, result.stderr
    assert "13 stage runs: 0 built, 13 up to date" in result.stdout, result.stdout


@pytest.mark.parametrize("argv", [["status", "2019-11-05"], ["history", "2019-11-05"],
                                  ["explain", "2019-11-05", "minutes"], ["snapshots", "2019-11-05"],
                                  ["diff", "2019-11-05"]])
def test_a_look_at_a_data_root_that_does_not_exist_says_so(tmp_path: Path, argv: list[str]):
    """Run from a shell without PROJECTIONS_HOME, status said 'never ran' and history 'nothing in the ledger',
    neither mentioning that no data root was there (verify already did); explain ('it was never built'),
    snapshots ('no captures') and diff ('nothing published') said nothing of it either."""
    result = run_cli(tmp_path / "typo_home", *argv)
    assert f"note: no data root at {tmp_path / 'typo_home'} (it has no store/)" in result.stderr, result.stderr
    assert "PROJECTIONS_HOME" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "typo_home" / "store").exists()


def test_status_without_a_date_outside_the_archive_names_the_latest_slate(built_home: Path):
    """In archive mode `projections status` alone looks at today, which the archive never holds: it said only
    OUTSIDE ARCHIVE. It now names the latest date with gold to look at instead."""
    result = run_cli(built_home, "status", PROJECTIONS_LIVE__NOW="2026-11-26T12:00:00+00:00")
    assert "2026-11-26  OUTSIDE ARCHIVE" in result.stdout, result.stdout
    assert f"the latest date with gold is {FIXTURE_DATE}: `projections status {FIXTURE_DATE}`" in result.stdout


def test_a_threaded_parallel_run_has_no_worker_watch_traceback(tmp_path: Path):
    """`doit -n 2 -P thread`: the watchdog of dead worker processes was started for threads too and printed
    'AttributeError: DaemonThread object has no attribute exitcode'."""
    result = run_doit(tmp_path / "home", "-n", "2", "-P", "thread", "slate", "date=2019-10-30")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr

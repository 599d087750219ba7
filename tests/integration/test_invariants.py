"""DESIGN.md invariants 1, 2, 4, 6 and 8 with real processes: kills, concurrency, code edits, bad input."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from projections.store import LocalStore
from tests.conftest import (
    FIXTURE_DATE,
    REPO,
    doit_argv,
    gold_object,
    ledger_events,
    obeying_modes,
    project_env,
    run_cli,
    run_doit,
    tree_snapshot,
)

OTHER_DATE = "2019-11-01"


def _gold_is_complete(home: Path, day: str = FIXTURE_DATE) -> str:
    """The gold object for `day`, after checking that a reader sees a complete, verified object."""
    import pandas as pd

    obj = gold_object(home, day)
    assert obj is not None
    store = LocalStore(home)
    assert store.verify_object(obj) == []
    link = home / "gold" / "projections" / f"game_date={day}"
    assert len(pd.read_parquet(link / "projections.parquet")) > 0
    return obj


def _copy_stages(tmp_path: Path) -> Path:
    """A private copy of dodo.py and the stages package; doit puts the dodo's folder first on sys.path, so
    a child run on that dodo imports these stages (and the real `projections`)."""
    root = tmp_path / "code"
    shutil.copytree(REPO / "stages", root / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    return root


GOLD_TWEAK = """

import dataclasses as _dc
import functools as _ft


@_ft.wraps(SPEC.func)
def _tweaked(*args, **kwargs):
    out = _tweaked.__wrapped__(*args, **kwargs)
    out[SPEC.main]["dk_mean"] = out[SPEC.main]["dk_mean"] + 0.25
    return out


SPEC = _dc.replace(SPEC, func=_tweaked)
"""


def _edit_gold_logic(code: Path) -> None:
    """A logic edit of the gold stage (in the private copy): every dk_mean moves by 0.25."""
    gold_py = code / "stages" / "gold.py"
    gold_py.write_text(gold_py.read_text() + GOLD_TWEAK)


def _wait_for(path: Path, text: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        if proc.poll() is not None:
            raise AssertionError(f"process ended ({proc.returncode}) before reaching {text}: "
                                 f"{proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for failpoint {text}")


@pytest.mark.parametrize("point", ["commit.staged", "commit.renamed", "action.written", "pointer.symlinked",
                                   "pointer.swapped"])
def test_sigkill_in_commit_or_pointer_swap_leaves_previous_gold_complete(tmp_path: Path, point: str):
    """Invariant 2: build gold once; change the gold stage's logic; SIGKILL the rebuild exactly at a
    commit/publish step; the pointer still resolves to a complete verified object (old or new), and a
    rerun finishes to the same gold as a clean build."""
    home = tmp_path / "home"
    code = _copy_stages(tmp_path)
    first = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code)
    assert first.returncode == 0, first.stdout + first.stderr
    old = _gold_is_complete(home)

    _edit_gold_logic(code)
    mark = tmp_path / "mark"
    env = project_env(home, PROJECTIONS_FAILPOINTS=f"{point}=pause", PROJECTIONS_FAILPOINT_MARK=str(mark))
    proc = subprocess.Popen(doit_argv("slate", f"date={FIXTURE_DATE}", code=code), env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(mark, point, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    after_kill = _gold_is_complete(home)
    if point == "pointer.swapped":
        assert after_kill != old  # the rename had happened: the new object, complete
    else:
        assert after_kill == old  # the pointer had not moved yet
    report = run_cli(home, "verify")
    assert report.returncode == 0, report.stdout

    resumed = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    new = _gold_is_complete(home)
    # the ledger has the move old -> new exactly once, however late (a kill between swap and record)
    moves = [e for e in ledger_events(home) if e["event"] == "publish" and e["game_date"] == FIXTURE_DATE]
    assert [(m["previous"], m["object"]) for m in moves[1:]] == [(old, new)], moves
    assert moves[-1].get("recovered") is (True if point == "pointer.swapped" else None)
    assert not list((home / "ledger" / "publishing").glob("*.json"))
    if point == "pointer.swapped":
        told = run_cli(home, "history", FIXTURE_DATE).stdout
        assert f"-> {new[9:19]} (was {old[9:19]}); moved by run " in told and "killed before recording" in told
    clean = tmp_path / "clean"
    reference = run_doit(clean, "slate", f"date={FIXTURE_DATE}", code=code)
    assert reference.returncode == 0
    assert new == gold_object(clean) != old


def test_a_killed_runs_pointer_move_is_recorded_before_the_next_move(tmp_path: Path):
    """A run killed between the pointer swap and the ledger leaves its move to the next run, also when that run
    moves the pointer again itself (another parameter): the ledger has both moves, in order. Meanwhile gold,
    built for the default parameters but pointing at the other build, is stale (R), not up to date."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    first = gold_object(home)
    killed = run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_PARAMS__SIM__DRAWS="1001",
                      PROJECTIONS_FAILPOINTS="pointer.swapped=crash")
    assert killed.returncode != 0 and gold_object(home) != first
    moved = gold_object(home)
    listed = run_doit(home, "list", "--status", f"date={FIXTURE_DATE}").stdout.splitlines()
    assert f"R gold:{FIXTURE_DATE}" in [line[:len(f"R gold:{FIXTURE_DATE}")] for line in listed], listed
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0  # back: moves the pointer itself
    moves = [e for e in ledger_events(home) if e["event"] == "publish" and e["game_date"] == FIXTURE_DATE]
    assert [(m.get("previous"), m["object"], m.get("recovered")) for m in moves] == [
        (None, first, None), (first, moved, True), (moved, first, None)]


def test_two_concurrent_runs_do_the_work_once_and_agree(tmp_path: Path):
    """Invariant 8: two schedulers fire at once; nothing is built twice, both exit 0 with the same gold."""
    home = tmp_path / "home"
    procs = [subprocess.Popen(doit_argv("slate", f"date={FIXTURE_DATE},{OTHER_DATE}"), env=project_env(home),
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + err
    starts = [(e["stage"], e.get("season") if _season_scoped(e["stage"]) else e["game_date"])
              for e in ledger_events(home) if e["event"] == "stage_start"]
    from stages import PIPELINE

    per_date = [n for n in PIPELINE.order if not _season_scoped(n)]
    per_season = [n for n in PIPELINE.order if _season_scoped(n)]
    assert len(starts) == len(set(starts)) == 2 * len(per_date) + len(per_season)  # both dates: one season
    assert run_cli(home, "verify").returncode == 0
    for day in (FIXTURE_DATE, OTHER_DATE):
        _gold_is_complete(home, day)
    waited = "".join(err for _, err in outputs)
    assert "waiting for the lock on slate date" in waited and "pid" in waited


def _season_scoped(stage: str) -> bool:
    from stages import PIPELINE

    return PIPELINE[stage].scope == "season"


def test_comment_edit_keeps_everything_U_logic_edit_turns_exactly_downstream_R(tmp_path: Path):
    home = tmp_path / "home"
    code = _copy_stages(tmp_path)
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code).returncode == 0

    salaries_py = code / "stages" / "salaries.py"
    original = salaries_py.read_text()
    salaries_py.write_text(original.replace("def _main_slate(", "# a new comment\n\n\ndef _main_slate(")
                           .replace('"""salaries: the DraftKings', '"""salaries (reworded): the DraftKings'))
    status = _status_with(home, code)
    assert set(status.values()) == {"U"}, status

    salaries_py.write_text(original.replace('ascending=[False, True]', 'ascending=[False, False]'))
    status = _status_with(home, code)
    from stages import PIPELINE

    stale = {"salaries", *PIPELINE.downstream("salaries")}
    for name in PIPELINE.order:
        assert status[f"{name}:{FIXTURE_DATE}"] == ("R" if name in stale else "U"), (name, status)


def _status_with(home: Path, code: Path) -> dict[str, str]:
    result = run_doit(home, "list", "--status", f"date={FIXTURE_DATE}", code=code)
    assert result.returncode == 0, result.stderr
    return {line.split()[1]: line.split()[0] for line in result.stdout.splitlines() if line[:2] in ("R ", "U ")}


@pytest.mark.parametrize("bad", ["2019-13-45", "../../etc", "2019-10-30..2019-10-01", "yesterday"])
def test_invalid_dates_are_refused_and_change_nothing(built_home: Path, bad: str):
    before = tree_snapshot(built_home)
    for args in (["slate", f"date={bad}"], ["list", "--status", f"date={bad}"]):
        result = run_doit(built_home, *args)
        assert result.returncode != 0
        assert result.stderr.startswith("ERROR: ") and bad in result.stderr
        assert "YYYY-MM-DD" in result.stderr or "ends before" in result.stderr
        assert "Traceback" not in result.stderr
    assert tree_snapshot(built_home) == before


def test_unwritable_data_root_is_refused_and_changes_nothing(tmp_path: Path):
    home = tmp_path / "readonly"
    home.mkdir()
    (home / "keep.txt").write_text("x")
    os.chmod(home, 0o555)
    argv = doit_argv("slate", f"date={FIXTURE_DATE}")
    argv = obeying_modes(argv)
    try:
        before = tree_snapshot(home)
        result = subprocess.run(argv, env=project_env(home), cwd=REPO, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        assert "is not writable" in result.stderr and str(home) in result.stderr, result.stderr
        assert "PROJECTIONS_HOME" in result.stderr and "Traceback" not in result.stderr
        assert tree_snapshot(home) == before
    finally:
        os.chmod(home, 0o755)


def test_a_store_write_refused_by_the_os_names_the_data_root_not_the_stage(built_home: Path, tmp_path: Path):
    """Every shard of the action cache read-only (a root that drifted to the wrong owner): the build fails
    naming the path and the fix; it does not blame the stage's code; the gold pointers stay as they were."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    gold_before = gold_object(home)
    shards = [home / "store" / "actions" / f"{i:02x}" for i in range(256)]
    for shard in shards:
        shard.mkdir(exist_ok=True)
        os.chmod(shard, 0o555)
    argv = doit_argv("slate", "date=2019-11-05")
    argv = obeying_modes(argv)
    try:
        result = subprocess.run(argv, env=project_env(home), cwd=REPO, capture_output=True, text=True, timeout=300)
    finally:
        for shard in shards:
            os.chmod(shard, 0o755)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"cannot write to the data root {home}: Permission denied" in out, out
    assert "fix-permissions" in out and "fix the stage" not in out and "Traceback" not in out, out
    failures = [e for e in ledger_events(home) if e["event"] == "stage_failure"]
    assert failures and all(e["error_type"] == "StoreError" for e in failures), failures
    assert gold_object(home) == gold_before and gold_object(home, "2019-11-05") is None


def test_corrupted_object_is_named_by_verify_and_rebuilt_by_the_next_build(tmp_path: Path):
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    gold_before = gold_object(home)
    salaries_obj = next(e["object"] for e in ledger_events(home) if e["event"] == "stage_success"
                        and e["stage"] == "salaries")
    store = LocalStore(home)
    path = store.object_dir(salaries_obj) / "data.parquet"
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    looked = run_cli(home, "status", FIXTURE_DATE)  # a read-only look says it once, and promises no rebuild
    said = [line for line in looked.stderr.splitlines() if "salaries" in line and "data.parquet" in line]
    assert len(said) == 1 and "treated as not built" in said[0], looked.stderr

    report = run_cli(home, "verify")
    assert report.returncode == 1
    assert salaries_obj.split(":")[1][:10] in report.stdout and "data.parquet" in report.stdout

    rebuilt = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert store.verify_object(salaries_obj) == []  # recreated in place of the damaged copy
    assert gold_object(home) == gold_before
    assert run_cli(home, "verify").returncode == 0


def test_failed_stage_is_recorded_and_gold_untouched(built_home: Path, tmp_path: Path):
    """A date with no games fails with a clear message; the ledger records it; other gold stays."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    gold_before = gold_object(home)
    result = run_doit(home, "slate", "date=2019-08-01")
    assert result.returncode != 0
    assert "no NBA games on 2019-08-01" in result.stdout + result.stderr
    failures = [e for e in ledger_events(home) if e["event"] == "stage_failure"]
    assert failures and failures[-1]["game_date"] == "2019-08-01"
    assert gold_object(home) == gold_before
    assert gold_object(home, "2019-08-01") is None


GOLD_BROKEN = """

import dataclasses as _dc
import functools as _ft


@_ft.wraps(SPEC.func)
def _broken(*args, **kwargs):
    out = _broken.__wrapped__(*args, **kwargs)
    out[SPEC.main] = {BREAK}
    return out


SPEC = _dc.replace(SPEC, func=_broken)
"""


@pytest.mark.parametrize("breaks, says", [
    ('out[SPEC.main].drop(columns=["dk_mean"])', "gold: output (built from "),
    ('b"not a table"', "gold: output 'projections.parquet' is missing or not a DataFrame"),
], ids=["a column dropped", "no frame"])
def test_an_output_that_breaks_its_contract_is_never_committed_or_published(built_home: Path, tmp_path: Path,
                                                                            breaks: str, says: str):
    """The engine checks every stage's output against its contract before committing it: a gold stage that lost
    a column, or returned no frame, fails naming the stage and the fix, and the slate stays where it was."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    code = _copy_stages(tmp_path)
    gold_py = code / "stages" / "gold.py"
    gold_py.write_text(gold_py.read_text() + GOLD_BROKEN.replace("{BREAK}", breaks))
    before, objects = gold_object(home), sorted((home / "store" / "objects").glob("*/*"))
    result = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code)
    assert result.returncode != 0
    assert says in result.stdout + result.stderr, result.stdout + result.stderr
    if "drop(" in breaks:
        assert "missing columns ['dk_mean']" in result.stdout + result.stderr
        assert "fix gold.py (nothing was published)" in result.stdout + result.stderr
    assert gold_object(home) == before
    assert sorted((home / "store" / "objects").glob("*/*")) == objects  # nothing committed
    [failure] = [e for e in ledger_events(home) if e["event"] == "stage_failure"]
    assert failure["stage"] == "gold" and failure["game_date"] == FIXTURE_DATE


GOLD_SAME_BYTES = """

import dataclasses as _dc
import functools as _ft


@_ft.wraps(SPEC.func)
def _same(*args, **kwargs):
    return _same.__wrapped__(*args, **kwargs)  # a logic edit that makes the same bytes


SPEC = _dc.replace(SPEC, func=_same)
"""


def test_a_rebuild_that_makes_the_same_gold_moves_no_pointer(built_home: Path, tmp_path: Path):
    """A gold rebuild with the same bytes was a pointer "move" to the object it already named: history said
    `gold/projections -> bb3f9538c6 (was bb3f9538c6)` and the summary "1 gold pointers moved"."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    code = _copy_stages(tmp_path)
    gold_py = code / "stages" / "gold.py"
    gold_py.write_text(gold_py.read_text() + GOLD_SAME_BYTES)
    before = gold_object(home, FIXTURE_DATE)
    result = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 built" in result.stdout and "0 gold pointers moved" in result.stdout, result.stdout
    assert gold_object(home, FIXTURE_DATE) == before
    assert not [e for e in ledger_events(home) if e["event"] == "publish" and e.get("previous") == e["object"]]


def test_an_edit_of_the_simulation_code_that_changes_no_number_moves_no_gold(built_home: Path, tmp_path: Path):
    """A refactor of stages/model/simulate.py (a local variable renamed) moves the keys of every stage that imports
    it - the calibration, minutes, rates and sim rebuild - but their draws are seeded from what they simulate (the
    season, each game's rows), not from their keys, so they make the same bytes: ownership and gold stay up to
    date and no pointer moves. Kills: the calibration or the simulation seeded from the stage key (every number
    moved by Monte Carlo noise after any such edit)."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    code = _copy_stages(tmp_path)
    simulate_py = code / "stages" / "model" / "simulate.py"
    original = simulate_py.read_text()
    simulate_py.write_text(original.replace("batches", "game_batches"))
    assert simulate_py.read_text() != original
    before = gold_object(home, FIXTURE_DATE)
    result = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code)
    assert result.returncode == 0, result.stdout + result.stderr
    built = set(re.findall(r"\] built\s+(\S+)", result.stdout))
    assert built == {"calibration", "minutes", "rates", "sim"}, result.stdout
    assert "0 gold pointers moved" in result.stdout, result.stdout
    assert gold_object(home, FIXTURE_DATE) == before


def test_a_zero_lock_timeout_is_for_other_runs_not_this_runs_own_workers(tmp_path: Path):
    """With lock_timeout_s=0 (never wait for another run), `doit -n 2` failed 3-4 of 6 dates: its own workers
    timed out on each other's season lock (the calibration). The timeout now applies to other runs only."""
    home = tmp_path / "home"
    result = run_doit(home, "-n", "2", "slate", "date=2019-11-01..2019-11-06", PROJECTIONS_LOCK_TIMEOUT_S="0")
    assert result.returncode == 0 and "gave up after" not in result.stdout, result.stdout + result.stderr
    assert "6 dates ok" in result.stdout, result.stdout

"""Chaos: SIGKILL `doit slate` at random moments, many times, resuming each time.

After every kill, every gold pointer resolves to a complete, verified object, and so it does at every instant in
between for a reader resolving and reading them in a loop while the runs build, publish and die; at the end the
gold hashes equal a clean serial run's. Seeded, bounded in time; the soak variant (--run-slow) kills more often over a
longer range.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from projections.store import LocalStore
from tests.conftest import REPO, doit_argv, gold_object, project_env, run_cli, run_doit

DATES = "2019-10-30..2019-11-02"
DAYS = ["2019-10-30", "2019-10-31", "2019-11-01", "2019-11-02"]


def _pointers_intact(home: Path) -> int:
    """Every gold pointer names an intact object with a readable table; returns how many there are."""
    import pyarrow.parquet as pq

    store = LocalStore(home)
    count = 0
    for _, _, link in store.iter_pointers():
        target = store._pointer_target(link)
        assert target is not None and store.verify_object(target) == [], link
        assert pq.read_metadata(link / "projections.parquet").num_rows > 0
        count += 1
    return count


def _read_while_running(home: Path, stop: threading.Event, reads: list[str], errors: list[str]) -> None:
    """Invariant 2 at any instant, not only between kills: resolve every gold pointer and read what it names, again
    and again until `stop` (a pointer missing is no error: the test drops them to give runs work)."""
    import pyarrow.parquet as pq

    store = LocalStore(home)
    while not stop.is_set():
        for link in sorted((home / "gold" / "projections").glob("game_date=*")):
            try:
                target = store._pointer_target(link)
                if target is None:
                    continue
                problems = store.verify_object(target)
                rows = pq.read_metadata(store.object_dir(target) / "projections.parquet").num_rows
            except Exception as exc:  # any failure to read what a pointer names is the breach
                errors.append(f"{link}: {type(exc).__name__}: {exc}")
                continue
            if problems or rows <= 0:
                errors.append(f"{link} -> {target}: {problems or 'no rows'}")
            reads.append(target)


def _kill_run(home: Path, rng: random.Random, *, parallel: bool, window: float) -> tuple[bool, float]:
    """Start a run and SIGKILL its whole process group at a random moment within `window` seconds; returns
    (whether it finished first, how long it ran)."""
    args = ["-n", "2", "slate", f"date={DATES}"] if parallel else ["slate", f"date={DATES}"]
    started = time.monotonic()
    env = project_env(home)  # ownership's weight one way or the other: gold moves between two objects, back and forth
    env["PROJECTIONS_PARAMS__OWNERSHIP__VALUE_WEIGHT"] = rng.choice(["0.9", "1.3"])
    proc = subprocess.Popen(doit_argv(*args), env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=rng.uniform(0.05, window))
        return True, time.monotonic() - started
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return False, time.monotonic() - started


def _make_work(home: Path, rng: random.Random) -> None:
    """After a run that finished, give the next one something to do: forget the action records of the last stages
    (and, one time in two, drop the gold pointers), so the next run re-commits and re-publishes - the windows a kill
    must not break."""
    from stages import PIPELINE

    tail = set(PIPELINE.order[-rng.randint(1, 3):])
    if rng.random() < 0.5:  # or leave them, for the next run to swap while the reader reads
        for link in (home / "gold" / "projections").glob("game_date=*"):
            link.unlink()
    for record in (home / "store" / "actions").glob("*/*.json"):
        if any(f'"stage": "{name}"' in record.read_text() for name in tail):
            record.unlink()


def _chaos(tmp_path: Path, *, kills: int, seed: int, budget_s: float) -> None:
    home = tmp_path / "home"
    rng = random.Random(seed)
    done_kills = 0
    window = 3.0  # how long a run may go before the kill: the last finished run's duration, once known
    finishes = 0
    started = time.monotonic()
    stop, reads, errors = threading.Event(), [], []
    reader = threading.Thread(target=_read_while_running, args=(home, stop, reads, errors), daemon=True)
    reader.start()
    try:
        while done_kills < kills:
            assert time.monotonic() - started < budget_s, f"only {done_kills} kills in {budget_s} s"
            finished, took = _kill_run(home, rng, parallel=rng.random() < 0.5, window=window)
            if finished:
                finishes += 1
                window = max(0.3, took)
                _make_work(home, rng)
            else:  # and the next run may go longer: a stage slower than the window (the season's calibration)
                done_kills += 1  # was killed for good, every kill landing in it and none in a commit or publish
                window = min(window * 1.25, 60.0)
            _pointers_intact(home)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert not errors, errors[:5]
    assert finishes >= 3, finishes  # the kills reached the last stages and their publishing, again and again
    assert len(set(reads)) >= 2, len(reads)  # it read while pointers moved: more than one gold object
    final = run_doit(home, "slate", f"date={DATES}")
    assert final.returncode == 0, final.stdout + final.stderr
    assert _pointers_intact(home) == len(DAYS)
    clean = tmp_path / "clean"
    assert run_doit(clean, "slate", f"date={DATES}").returncode == 0
    for day in DAYS:
        assert gold_object(home, day) == gold_object(clean, day), day
    report = run_cli(home, "verify")
    assert report.returncode == 0, report.stdout


def test_fifty_random_sigkills_lose_nothing(tmp_path: Path):
    _chaos(tmp_path, kills=50, seed=20191030, budget_s=600)


@pytest.mark.slow
def test_soak_two_hundred_sigkills(tmp_path: Path):
    _chaos(tmp_path, kills=200, seed=7, budget_s=3600)

"""Chaos: SIGKILL `doit slate` at random moments, many times, resuming each time.

After every kill, every gold pointer resolves to a complete, verified object; at the end the gold hashes
equal a clean serial run's. Seeded, bounded in time; the soak variant (--run-slow) kills more often over a
longer range.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
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


def _kill_run(home: Path, rng: random.Random, *, parallel: bool, window: float) -> tuple[bool, float]:
    """Start a run and SIGKILL its whole process group at a random moment within `window` seconds; returns
    (whether it finished first, how long it ran)."""
    args = ["-n", "2", "slate", f"date={DATES}"] if parallel else ["slate", f"date={DATES}"]
    started = time.monotonic()
    proc = subprocess.Popen(doit_argv(*args), env=project_env(home), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=rng.uniform(0.05, window))
        return True, time.monotonic() - started
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return False, time.monotonic() - started


def _make_work(home: Path, rng: random.Random) -> None:
    """After a run that finished, give the next one something to do: drop the gold pointers and forget the
    action records of the last stages, so the next run re-commits (the same bytes) and re-publishes - the
    windows a kill must not break."""
    from stages import PIPELINE

    tail = set(PIPELINE.order[-rng.randint(1, 3):])
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
    started = time.monotonic()
    while done_kills < kills:
        assert time.monotonic() - started < budget_s, f"only {done_kills} kills in {budget_s} s"
        finished, took = _kill_run(home, rng, parallel=rng.random() < 0.5, window=window)
        if finished:
            window = max(0.3, took)
            _make_work(home, rng)
        else:
            done_kills += 1
        _pointers_intact(home)
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

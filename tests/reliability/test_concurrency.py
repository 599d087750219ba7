"""Four `doit slate` invocations over overlapping date ranges at once, with gc run again and again beside them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, doit_argv, gold_object, ledger_events, project_env, run_cli, run_doit

RANGES = ["2019-10-30..2019-11-01", "2019-10-31..2019-11-02", "2019-10-30,2019-11-02", "2019-11-01..2019-11-02"]
DAYS = ["2019-10-30", "2019-10-31", "2019-11-01", "2019-11-02"]


def test_four_overlapping_runs_and_gc_agree_with_a_serial_run(tmp_path: Path):
    home = tmp_path / "home"
    procs = [subprocess.Popen(doit_argv(*(["-n", "2"] if i % 2 else []), "slate", f"date={r}"),
                              env=project_env(home), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i, r in enumerate(RANGES)]
    gcs = 0  # gc again and again while the runs build (one started with them could end before they wrote anything)
    while any(p.poll() is None for p in procs):
        gc = subprocess.run([sys.executable, "-m", "projections.cli", "gc", "--grace", "0", "--keep", "1"],
                            env=project_env(home), cwd=REPO, capture_output=True, text=True, timeout=600)
        assert gc.returncode == 0, gc.stdout + gc.stderr
        gcs += 1
    results = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, out + err
    assert gcs >= 2, gcs  # at least one gc began while the runs were building

    serial = tmp_path / "serial"
    assert run_doit(serial, "slate", f"date={DAYS[0]}..{DAYS[-1]}").returncode == 0
    for day in DAYS:
        assert gold_object(home, day) == gold_object(serial, day) is not None, day
    assert run_cli(home, "verify").returncode == 0

    # exactly the needed work, once: no (stage, date) built twice across the four runs
    starts = [(e["stage"], e.get("season") or e["game_date"]) for e in ledger_events(home)
              if e["event"] == "stage_start"]
    assert len(starts) == len(set(starts))  # season-scoped stages: once per season, not once per date
    again = run_doit(home, "slate", f"date={DAYS[0]}..{DAYS[-1]}")
    assert again.returncode == 0 and "0 built" in again.stdout

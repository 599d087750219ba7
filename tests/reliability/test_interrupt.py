"""Ctrl-C: SIGINT to `doit slate` (the whole process group, as a terminal sends it), serial and with -n 2.

The run stops with one line saying so, exits as interrupted (130 / -SIGINT), prints no traceback, records
the run as interrupted (not ok, no stage failure) and sends no alert; the same command then finishes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, ctrl_c_default, doit_argv, gold_object, ledger_events, project_env, run_cli, run_doit

DATES = "2019-11-10..2019-11-11"


def _started(home: Path, stage: str) -> bool:
    for path in (home / "ledger").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            with_stage = line.strip() and json.loads(line)
            if with_stage and with_stage.get("event") == "stage_start" and with_stage.get("stage") == stage:
                return True
    return False


@pytest.mark.parametrize("jobs", [[], ["-n", "2"]], ids=["serial", "parallel"])
def test_ctrl_c_stops_the_run_quietly_and_the_same_command_finishes_it(tmp_path: Path, jobs: list[str]) -> None:
    home = tmp_path / "home"
    run = subprocess.Popen(doit_argv(*jobs, "slate", f"date={DATES}"), env=project_env(home), cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=ctrl_c_default)
    deadline = time.monotonic() + 120
    while not _started(home, "calibration"):  # the slowest stage: a wide window to interrupt in
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == -signal.SIGINT, (out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "ALERT" not in out + err and "alert not sent" not in err
    assert "interrupted after " in out and "run the same command again to finish" in out

    events = ledger_events(home)
    assert not [e for e in events if e["event"] in ("stage_failure", "fetch_failure", "alert", "alert_failure")]
    (end,) = [e for e in events if e["event"] == "run_end"]
    assert end["interrupted"] is True and end["ok"] is False
    assert gold_object(home, "2019-11-10") is None
    told = run_cli(home, "history", "2019-11-10")
    assert "INTERRUPTED in " in told.stdout and "interrupted (Ctrl-C)" in told.stdout, told.stdout
    assert "FAILED" not in told.stdout

    again = run_doit(home, *jobs, "slate", f"date={DATES}")
    assert again.returncode == 0, again.stdout + again.stderr
    assert gold_object(home, "2019-11-10") is not None and gold_object(home, "2019-11-11") is not None


@pytest.mark.parametrize("group", [False, True], ids=["main-process", "process-group"])
def test_sigterm_stops_the_run_as_a_recorded_interruption(tmp_path: Path, group: bool) -> None:
    """`systemctl stop`, a unit's timeout or `kill`: the run ended with exit 143, no line and no run_end, so
    history showed it unfinished for good. It now stops like Ctrl-C, says so, is recorded, and still dies of
    SIGTERM (what a service manager expects of a stopped service)."""
    home = tmp_path / "home"
    run = subprocess.Popen(doit_argv("-n", "2", "slate", f"date={DATES}"), env=project_env(home), cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _started(home, "calibration"):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGTERM) if group else run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == -signal.SIGTERM, (out, err)
    assert "Traceback" not in out + err and "ALERT" not in out + err, (out, err)
    assert "stopped (SIGTERM) after " in out and "run the same command again to finish" in out, out
    (end,) = [e for e in ledger_events(home) if e["event"] == "run_end"]
    assert end["interrupted"] is True and end["signal"] == "SIGTERM"
    told = run_cli(home, "history", "2019-11-10")
    assert "INTERRUPTED in " in told.stdout and "interrupted (SIGTERM)" in told.stdout, told.stdout
    again = run_doit(home, "-n", "2", "slate", f"date={DATES}")
    assert again.returncode == 0 and gold_object(home, "2019-11-11") is not None, again.stdout + again.stderr


def test_workers_of_a_killed_parallel_run_do_not_outlive_it(tmp_path: Path) -> None:
    """SIGKILL of `doit -n 2` (the OOM killer, a hard stop) cannot run any cleanup: the kernel stops its forked
    workers instead (they would wait on their job queue forever); the next run builds as usual."""
    home = tmp_path / "home"
    run = subprocess.Popen(doit_argv("-n", "2", "slate", f"date={DATES}"), env=project_env(home), cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _started(home, "calibration"):
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    assert children, "no worker processes"
    run.kill()
    run.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in children):
        assert time.monotonic() < deadline, f"workers {children} outlived their killed parent"
        time.sleep(0.1)
    again = run_doit(home, "-n", "2", "slate", f"date={DATES}")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_worker_killed_mid_run_fails_the_run_instead_of_hanging_it(tmp_path: Path) -> None:
    """The out-of-memory killer takes one worker of `doit -n 2`: doit's runner waited forever for its result (the
    other worker idle, no line; under systemd until the unit's timeout). The run now stops, names the worker and
    its signal, counts the dates it did not finish as failed, alerts, and the same command finishes the work."""
    from tests.ops.receivers import WebhookReceiver

    home = tmp_path / "home"
    with WebhookReceiver() as webhook:
        run = subprocess.Popen(doit_argv("-n", "2", "slate", f"date={DATES}"), cwd=REPO,
                               env=project_env(home, PROJECTIONS_ALERTS__WEBHOOK_URL=webhook.url()),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 120
        while not _started(home, "calibration"):
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.05)
        worker = int(Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()[0])
        os.kill(worker, signal.SIGKILL)
        try:
            out, err = run.communicate(timeout=60)  # it hung here for good
        finally:
            if run.poll() is None:  # a hung run must not outlive the test
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        assert run.returncode == 1, (out, err)
        assert f"ERROR: worker process {worker} of this run was killed by SIGKILL" in err, err
        assert "Traceback" not in out + err
        assert "not run (the run stopped)" in out and " failed (2019-11-1" in out, out
        assert webhook.posts and any(f"worker process {worker}" in str(p) for p in webhook.posts), webhook.posts
    (end,) = [e for e in ledger_events(home) if e["event"] == "run_end"]
    assert end["ok"] is False and any("killed by SIGKILL" in f for f in end["failures"])
    again = run_doit(home, "-n", "2", "slate", f"date={DATES}")
    assert again.returncode == 0 and gold_object(home, "2019-11-11") is not None, again.stdout + again.stderr


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


def test_ctrl_c_before_the_run_began_is_one_line_too() -> None:
    """While doit loads the tasks (the first fraction of a second) a Ctrl-C printed a traceback through the
    imports; dodo installs the quiet hook first thing."""
    import sys

    code = ("from projections.doit_signals import quiet_interrupt\nquiet_interrupt()\n"
            "import projections.doit_tasks\nraise KeyboardInterrupt\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGINT, result.stderr
    assert result.stderr == "interrupted before the run began: nothing was built\n"
    other = subprocess.run([sys.executable, "-c", code.replace("KeyboardInterrupt", "ValueError('x')")], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert other.returncode == 1 and "Traceback" in other.stderr and "ValueError: x" in other.stderr


def test_sigterm_while_the_run_alerts_is_not_called_a_stop_before_the_run(tmp_path: Path) -> None:
    """The run was over (its summary printed) and its alert on the way to a webhook that does not answer: a
    SIGTERM then printed 'interrupted before the run began: nothing was built'."""
    import socket

    home = tmp_path / "home"
    with socket.socket() as sink:
        sink.bind(("127.0.0.1", 0))
        sink.listen()  # accepts connections, never answers
        url = f"http://127.0.0.1:{sink.getsockname()[1]}/hook"
        run = subprocess.Popen(doit_argv("slate", "date=2020-01-21"), cwd=REPO,  # no salaries: the date fails
                               env=project_env(home, PROJECTIONS_ALERTS__WEBHOOK_URL=url),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        assert run.stdout is not None
        lines = []
        for line in run.stdout:  # until the summary: the run is over, its alert under way
            lines.append(line)
            if " stage runs: " in line:
                break
        time.sleep(1.0)
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
    assert run.returncode == -signal.SIGTERM, "".join(lines) + out + err
    assert "before the run began" not in err and "Traceback" not in err, err

"""Output piped into a reader that goes away (`doit list --status ... | head`, `projections status | head`)
ends quietly, as Unix tools do: no BrokenPipeError traceback. The pipe here has no reader from the start, so
the first write fails whatever the output's size."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_DATE, REPO, doit_argv, gold_object, ledger_events, project_env


def _into_closed_pipe(argv: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, text=True, env=project_env(home),
                              cwd=REPO, timeout=120)
    finally:
        os.close(write)


def test_doit_list_into_a_closed_pipe_stops_quietly(tmp_path: Path):
    result = _into_closed_pipe(doit_argv("list", "--status", f"date={FIXTURE_DATE}"), tmp_path / "home")
    assert result.returncode == -signal.SIGPIPE, result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr


def test_projections_status_into_a_closed_pipe_stops_quietly(tmp_path: Path):
    result = _into_closed_pipe([sys.executable, "-m", "projections.cli", "status", FIXTURE_DATE], tmp_path / "home")
    assert result.returncode == 141, result.stderr  # 128 + SIGPIPE, what a shell reports for such a stop
    # nothing but the note that this root was never built (it is none: the pipe is what is tested)
    assert [line for line in result.stderr.splitlines() if not line.startswith("note: no data root at ")] == [], \
        result.stderr


def test_a_build_into_a_closed_pipe_still_publishes(tmp_path: Path):
    """A build is not a listing: its reader going away (`doit slate | head`) loses the progress lines, not
    the run: the slate is built and published and the run ends as it would have."""
    home = tmp_path / "home"
    result = _into_closed_pipe(doit_argv("slate", f"date={FIXTURE_DATE}"), home)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert gold_object(home, FIXTURE_DATE) is not None
    end = [e for e in ledger_events(home) if e["event"] == "run_end"][-1]
    assert end["ok"] is True and end["published"] >= 1, end

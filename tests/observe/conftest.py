"""One data root built by real `doit` runs, shared by the observe tests (read-only for them):

1. `doit slate date=2019-10-30..2019-10-31` on a private copy of the stages: two dates published;
2. `doit slate date=2019-11-28`: a date with no games, so schedule fails and nothing is published;
3. an alert and an undelivered alert for that failed run, recorded the way projections.ops.alerts does
   (besides whatever the run itself recorded);
4. a logic edit of the gold stage (every projection +0.25, one player +6, the top player dropped), then
   `doit slate date=2019-10-30` again: 2019-10-30 is rebuilt and republished, 2019-10-31 is now stale
   because the gold stage's code changed.

Commands run as real processes with the copy's folder as their working directory, so they import the edited
stages (`python -m` puts the working directory first on sys.path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from projections.ledger import Ledger
from tests.conftest import REPO, gold_object, ledger_events, project_env, run_doit

DATES = ("2019-10-30", "2019-10-31")
FAILED_DATE = "2019-11-28"  # Thanksgiving: no games; named alone, the run fails at schedule
RERUN_DATE = "2019-10-30"
BUMP = 6.0

GOLD_EDIT = f"""

import dataclasses as _dc
import functools as _ft


@_ft.wraps(SPEC.func)
def _edited(*args, **kwargs):
    out = _edited.__wrapped__(*args, **kwargs)
    frame = out[SPEC.main]
    frame["dk_mean"] = frame["dk_mean"] + 0.25
    frame.loc[frame.index[5], "dk_mean"] += {BUMP}
    out[SPEC.main] = frame.iloc[1:].reset_index(drop=True)
    return out


SPEC = _dc.replace(SPEC, func=_edited)
"""


@dataclass(frozen=True)
class Observed:
    home: Path
    code: Path
    first_gold: dict[str, str]
    rerun_gold: str
    outputs: dict[str, str]
    failed_run: str
    stages: list[str]
    inputs: dict[str, list[str]]
    params: dict[str, dict[str, object]]


PIPELINE_INFO = """
import json
from stages import PIPELINE
print(json.dumps({"order": PIPELINE.order, "inputs": {s.name: list(s.inputs) for s in PIPELINE},
                  "params": {s.name: s.params_json() for s in PIPELINE}}))
"""


def copy_code(dest: Path) -> Path:
    shutil.copytree(REPO / "stages", dest / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "dodo.py", dest / "dodo.py")
    return dest


def copy_root(observed: Observed, dest: Path) -> tuple[Path, Path]:
    """A private copy of the shared data root and of its code (the gold pointers are relative links), for a test
    that builds on it: (home, code)."""
    home, code = dest / "home", dest / "code"
    shutil.copytree(observed.home, home, symlinks=True)
    shutil.copytree(observed.code, code, ignore=shutil.ignore_patterns("__pycache__"))
    return home, code


def cli(home: Path, code: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """`projections ARGS` in a real process that imports the stages of `code`."""
    return subprocess.run([sys.executable, "-m", "projections.cli", *args], env=project_env(home, **env),
                          capture_output=True, text=True, timeout=timeout, cwd=code)


@pytest.fixture(scope="session")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    root = tmp_path_factory.mktemp("observe")
    home, code = root / "home", copy_code(root / "code")
    outputs: dict[str, str] = {}

    info = subprocess.run([sys.executable, "-c", PIPELINE_INFO], capture_output=True, text=True, cwd=code,
                          check=True, timeout=120)
    pipeline = json.loads(info.stdout)
    first = run_doit(home, "slate", f"date={DATES[0]}..{DATES[-1]}", code=code)
    assert first.returncode == 0, first.stdout + first.stderr
    outputs["range"] = first.stdout
    first_gold = {d: gold_object(home, d) for d in DATES}

    failed = run_doit(home, "slate", f"date={FAILED_DATE}", code=code)
    assert failed.returncode != 0, failed.stdout
    outputs["failed"] = failed.stdout
    failed_run = next(e["run"] for e in reversed(ledger_events(home)) if e["event"] == "run_end")
    ledger = Ledger(home, run=failed_run)
    common = {"kind": "stage_failure", "game_date": FAILED_DATE, "stage": "schedule"}
    ledger.append("alert", channel="webhook", target="http://127.0.0.1:9/hook", attempts=1, **common)
    ledger.append("alert_failure", channel="email", target="ops@example.invalid", attempts=3,
                  error="SMTP connect to 127.0.0.1:2525 refused", **common)

    gold_py = code / "stages" / "gold.py"
    gold_py.write_text(gold_py.read_text() + GOLD_EDIT)
    rerun = run_doit(home, "slate", f"date={RERUN_DATE}", code=code)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    outputs["rerun"] = rerun.stdout
    rerun_gold = gold_object(home, RERUN_DATE)
    assert rerun_gold and rerun_gold != first_gold[RERUN_DATE]
    yield Observed(home=home, code=code, first_gold={d: g for d, g in first_gold.items() if g},
                   rerun_gold=rerun_gold, outputs=outputs, failed_run=failed_run, stages=pipeline["order"],
                   inputs=pipeline["inputs"], params=pipeline["params"])


def chromium_path() -> str | None:
    """Debian's chromium, when installed (.ci/run installs it with apt)."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None

"""After a `git pull` that adds a dependency, the code runs in an environment that lacks it: a run is refused up
front naming the package and the install command, and doctor says so. Before, every stage failed on the import
and each failure said "fix the stage in stages/schedule.py".

The pulled checkout is a real copy of this one (package, stages, dodo.py, pyproject.toml) whose pyproject.toml
declares one more dependency, run in its own processes with the copy first on the path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DATE, REPO, project_env

NEW_DEPENDENCY = "no-such-package-for-projections-tests"


@pytest.fixture(scope="module")
def pulled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout as after a pull that added NEW_DEPENDENCY (not installed) to pyproject.toml."""
    code = _checkout(tmp_path_factory.mktemp("pulled"))
    text = (code / "pyproject.toml").read_text()
    last = '    "tzdata",\n'
    assert text.count(last) == 1, "pyproject.toml's dependencies moved: update this fixture"
    (code / "pyproject.toml").write_text(text.replace(last, f'{last}    "{NEW_DEPENDENCY}>=1",\n'))
    return code


def _checkout(root: Path) -> Path:
    code = root / "projections-checkout"
    for part in ("projections", "stages"):
        shutil.copytree(REPO / part, code / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("dodo.py", "pyproject.toml"):
        shutil.copy2(REPO / part, code / part)
    return code


def _run(code: Path, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = project_env(home, PYTHONPATH=str(code))
    return subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True, timeout=300, cwd=code)


def test_a_run_after_a_pull_that_added_a_package_is_refused_naming_it_and_the_install(pulled: Path,
                                                                                        tmp_path: Path):
    home = tmp_path / "home"
    where = _run(pulled, home, "-c", "import projections; print(projections.__file__)")
    assert where.stdout.strip() == str(pulled / "projections" / "__init__.py"), where.stderr
    result = _run(pulled, home, "-m", "doit", "slate", f"date={FIXTURE_DATE}")
    assert result.returncode == 3 and len(result.stderr.splitlines()) == 1, result.stdout + result.stderr
    assert f"this Python lacks 1 package(s) the code needs: {NEW_DEPENDENCY}" in result.stderr
    assert f"-m pip install -e {pulled}`" in result.stderr, result.stderr
    assert not (home / "store").exists() or not any((home / "store").rglob("manifest.json")), "nothing is built"


def test_doctor_names_the_missing_package_and_the_install(pulled: Path, tmp_path: Path):
    result = _run(pulled, tmp_path / "home", "-m", "projections.cli", "doctor", "--no-alert-probe", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    found = [f for f in json.loads(result.stdout) if f["check"] == "packages"]
    assert len(found) == 1 and found[0]["severity"] == "error" and NEW_DEPENDENCY in found[0]["message"], found
    assert found[0]["fix"].endswith(f"-m pip install -e {pulled}")


def test_this_checkout_lacks_nothing():
    """The environment the tests run in has what pyproject.toml declares: the check passes it (no false alarm)."""
    from projections import requirements

    assert requirements.checkout() == REPO
    declared = requirements.declared()
    assert "threadpoolctl" in declared and "pydantic-settings" in declared
    assert requirements.missing() == []


def test_a_stage_that_cannot_import_a_package_names_the_install_not_the_stage(tmp_path: Path):
    """A package the declaration misses (or a stage that imports one at run time): the failure names the install,
    not "fix the stage"."""
    code = _checkout(tmp_path)
    stage = code / "stages" / "schedule.py"
    text = stage.read_text()
    header = "def schedule(archive: pd.DataFrame, *, params: NoParams, ctx: StageContext) -> pd.DataFrame:\n"
    assert header in text, "stages/schedule.py's signature moved: update this test"
    stage.write_text(text.replace(header, header + "    import no_such_module_for_projections_tests  # noqa\n"))
    result = _run(code, tmp_path / "home", "-m", "doit", "schedule", f"date={FIXTURE_DATE}")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "ModuleNotFoundError: No module named 'no_such_module_for_projections_tests'" in out, out
    assert f"install what the code needs with `{sys.executable} -m pip install -e {code}`" in out, out
    assert "fix the stage in" not in out


def test_doctor_names_a_package_older_than_the_code_declares(tmp_path: Path):
    """A pull that raised a bound leaves the old version installed: it imports, so nothing said so, and a run
    could fail anywhere on an API the old version lacks."""
    code = _checkout(tmp_path)
    text = (code / "pyproject.toml").read_text()
    assert '    "xxhash>=3.4",\n' in text, "pyproject.toml's dependencies moved: update this test"
    (code / "pyproject.toml").write_text(text.replace('    "xxhash>=3.4",\n', '    "xxhash>=999",\n'))
    result = _run(code, tmp_path / "home", "-m", "projections.cli", "doctor", "--no-alert-probe", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    [found] = [f for f in json.loads(result.stdout) if f["check"] == "packages"]
    from importlib import metadata

    assert found["severity"] == "error" and f"xxhash {metadata.version('xxhash')} (needs >=999)" \
        in found["message"], found
    assert found["fix"].endswith(f"-m pip install -e {code}")
    from projections import requirements

    assert requirements.outdated() == []  # this checkout's environment meets every bound: no false alarm


@pytest.mark.parametrize("package", ["backoff", "httpx"])
def test_a_command_on_a_python_without_a_package_names_it_instead_of_a_traceback(package: str, tmp_path: Path):
    """doctor (which imports the alert channels, hence httpx and backoff, at once) died in a ModuleNotFoundError
    traceback where `doit slate` named the package and the install. (None in sys.modules: this Python lacks it.)"""
    script = (f"import sys\nsys.modules[{package!r}] = None\nfrom projections.cli import main\n"
              "sys.exit(main(['doctor', '--no-alert-probe']))")
    result = subprocess.run([sys.executable, "-c", script], env=project_env(tmp_path / "home"), capture_output=True,
                            text=True, timeout=120, cwd=REPO)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: this Python lacks 1 package(s) the code needs: {package} "), \
        result.stderr
    assert f"-m pip install -e {REPO}`" in result.stderr

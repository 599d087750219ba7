"""The README's two commands stay true: CI runs the test command verbatim, and both use real entry points."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_has_the_two_commands():
    run, test = _commands()[:2]
    assert run.startswith("python3 -m venv .venv") and "doit slate date=2019-10-30" in run
    assert test.startswith("python3 -m venv .venv") and test.endswith("pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    test = _commands()[1]
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test in ci


def test_settings_reference_is_generated():
    """docs/settings.md lists every setting: it is the generator's output, so a new or changed setting (or stage
    parameter) must be documented by rerunning the generator."""
    from projections.settings_reference import COMMAND, reference

    committed = (REPO / "docs" / "settings.md").read_text()
    assert committed == reference(), f"docs/settings.md is out of date: run `{COMMAND}`"


def test_every_stage_parameter_is_described_in_the_settings_reference():
    """A user setting `params.<stage>.<field>` (the README's PROJECTIONS_PARAMS__LINEUPS__MODE=none) reads what it
    does in docs/settings.md, not a pointer into the source: `params.lineups.mode` said only "see
    stages/lineups.py"."""
    from projections.settings import Settings
    from projections.wiring import load_pipeline

    pipeline = load_pipeline(Settings.model_fields["pipeline"].default)
    undescribed = [f"{name}.{field_name}" for name in pipeline.order
                   for field_name, field in pipeline.stages[name].params_model().model_fields.items()
                   if not field.description]
    assert undescribed == []
    assert "see stages/" not in (REPO / "docs" / "settings.md").read_text()

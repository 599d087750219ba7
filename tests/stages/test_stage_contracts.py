"""Contracts guard every stage: a missing or mistyped input column is a ContractViolation that names the
stage, the input, the object it came from, the columns and the fix - never a KeyError deep in a stage."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from projections.errors import ContractViolation
from stages import PIPELINE
from tests.stages.conftest import OBJECT, run_stage

DERIVED = [s.name for s in PIPELINE if s.inputs]


def _frames(world: dict[str, Any], name: str) -> dict[str, pd.DataFrame]:
    frames = {}
    for upstream in PIPELINE[name].inputs:
        value = world[upstream]
        frames[upstream] = value[PIPELINE[upstream].main] if isinstance(value, dict) else value
    return frames


@pytest.mark.parametrize("name", DERIVED)
def test_dropping_any_input_column_is_caught_by_a_contract_or_harmless(world: dict[str, Any], name: str):
    """For every input column: either the upstream contract rejects the frame without it (naming stage,
    input, object, column and fix), or the stage does not need it. Sources (archive tables) are checked
    by their own contracts in the engine; this covers stage-to-stage inputs."""
    spec = PIPELINE[name]
    base = _frames(world, name)
    sources = {s.name: _source_frame(world, name, s.name) for s in spec.sources}
    for upstream, frame in base.items():
        for column in frame.columns:
            frames = {**base, **sources, upstream: frame.drop(columns=[column])}
            try:
                run_stage(spec, frames)
            except ContractViolation as exc:
                message = str(exc)
                assert name in message and f"input {upstream!r}" in message, message
                assert OBJECT[9:19] in message and column in message, message
                assert f"doit {upstream} date=" in message, message
            except Exception as exc:  # a crash instead of a contract message is the bug this test catches
                raise AssertionError(f"{name}: dropping {upstream}.{column} raised {type(exc).__name__}: {exc}; "
                                     f"declare {column!r} in {upstream}'s output contract") from exc


def _source_frame(world: dict[str, Any], name: str, source: str) -> pd.DataFrame:
    from tests.stages.conftest import archive_odds, archive_salaries, archive_schedule

    if name == "salaries":
        return archive_salaries()
    if name == "odds":
        return archive_odds()
    if name == "lineups" and source == "box":
        return pd.DataFrame({"game_id": ["0021900003"], "team": ["BOS"], "player_id": ["BOS0"], "started": [True]})
    if name == "lineups":
        return archive_salaries()[["team", "player_id", "starter", "source"]]
    return archive_schedule()


@pytest.mark.parametrize(("name", "upstream", "column", "bad"), [
    ("minutes", "rosters", "min_avg", "a lot"),
    ("sim", "rates", "rate_reb", "0.2"),
    ("gold", "salaries", "salary", "9k"),
    ("ownership", "sim", "dk_mean", "high"),
])
def test_mistyped_input_column_is_a_contract_violation(world: dict[str, Any], name: str, upstream: str,
                                                      column: str, bad: str):
    frames = _frames(world, name)
    frames[upstream] = frames[upstream].assign(**{column: bad})
    sources = {s.name: _source_frame(world, name, s.name) for s in PIPELINE[name].sources}
    with pytest.raises(ContractViolation) as info:
        run_stage(PIPELINE[name], {**frames, **sources})
    message = str(info.value)
    assert f"{name}: input {upstream!r}" in message and OBJECT[9:19] in message
    assert "wrong dtypes" in message and column in message and "rebuild it with" in message


def test_every_stage_has_a_doc_contract_and_params_model():
    for spec in PIPELINE:
        assert spec.doc and spec.contract is not None, spec.name
        model = spec.params_model()
        assert model.model_config.get("frozen") is True, spec.name

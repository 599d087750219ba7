"""The injury-status factors of the minutes stage are the fit `stages.model.status_fit` makes on a real season with
both official reports and box scores (December 2023, read by `projections.archive_build.status_fit`), and its
estimator recovers factors it is given."""

from __future__ import annotations

import numpy as np
import pytest

from projections.archive_build.status_fit import read_inputs
from stages.minutes import Params
from stages.model import status_fit
from tests.conftest import SHARED


@pytest.mark.parametrize(("status", "factor"), [("Questionable", 0.7), ("Doubtful", 0.1), ("Probable", 0.3),
                                                ("Available", 0.6)])
def test_the_estimator_recovers_the_factor_that_drew_the_outcomes(status: str, factor: float) -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, 40_000)
    played = rng.random(p.size) < status_fit.status_p(p, status, factor)
    assert abs(status_fit.fit_factor(p, played, status) - factor) <= 0.02


def test_the_minutes_stage_defaults_are_the_fit_on_december_2023() -> None:
    """The shared data's December 2023 reports (each date's newest before its first tip) and 2023-24 box scores,
    P(plays) from the model fitted on 2022-23: each default within 0.05 of its fit; Out players did not play."""
    table = status_fit.fit(*read_inputs(SHARED)).set_index("status")
    assert set(table.index) == {"Out", "Doubtful", "Questionable", "Probable", "Available"}
    assert table["n"].sum() > 1400 and table.loc["Out", "played"] < 0.01
    # the statuses order as their words do: who plays, of those listed
    assert table.loc["Doubtful", "played"] < table.loc["Questionable", "played"] < table.loc["Probable", "played"]
    params = Params()
    for status, default in {**params.status_play(), **params.status_sit()}.items():
        assert abs(default - table.loc[status, "factor"]) <= 0.05, (status, table.loc[status].to_dict())

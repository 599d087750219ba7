"""The pipeline's stages, one module each, in build order.

schedule -> salaries -> game_logs -> calibration (season: fitted on the prior season) -> odds -> injuries ->
lineups -> rosters -> minutes -> rates -> sim -> ownership -> gold
"""

from __future__ import annotations

from projections.pipeline import Pipeline
from stages import (
    calibration,
    game_logs,
    gold,
    injuries,
    lineups,
    minutes,
    odds,
    ownership,
    rates,
    rosters,
    salaries,
    schedule,
    sim,
)

PIPELINE = Pipeline([schedule.SPEC, salaries.SPEC, game_logs.SPEC, calibration.SPEC, odds.SPEC, injuries.SPEC,
                     lineups.SPEC, rosters.SPEC, minutes.SPEC, rates.SPEC, sim.SPEC, ownership.SPEC, gold.SPEC])

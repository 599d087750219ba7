"""The pipeline's stages, one module each, in build order."""

from __future__ import annotations

from projections.pipeline import Pipeline
from stages import game_logs, gold, salaries, schedule

PIPELINE = Pipeline([schedule.SPEC, salaries.SPEC, game_logs.SPEC, gold.SPEC])

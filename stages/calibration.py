"""calibration: the model's parameters, fitted once per season on the PRIOR season's logs and lines.

A season-scoped stage: its key holds the season, not a date, so every slate of 2019-20 reads the same
object, fitted on 2018-19 only (no game of the season being projected can reach it): that season's box
scores and closing lines, and the DK positions its salary files list (for the position priors of the rates and the
minutes' position-weighted open minutes; without them the fit goes without that feature). See
`stages.model.calibrate` for what is fitted and how; the table's groups are listed in `stages.model.table`.

The box scores are required (in live mode the run fetches them when the archive lacks them: `PriorSeasonLogs`);
the lines are not. A live season rolls over with the game logs alone (no free feed serves a past season's closing
lines): with fewer than half its games lined, the prior season is fitted without lines (scalar `with_lines` 0, and
the stage's meta note says so): the spread's coefficients are 0, the pace elasticity 0 and the game and team
factors come from the final scores (`calibrate.lines_from_scores`). On November 2019 that costs about 0.3% of DK
MAE against the fit with lines.

Its random draws (the player games sampled and simulated to fit the tiers) are seeded from the season, not from
the stage key: an edit of the code that changes no fitted number (the key moves with the code) leaves the table's
bytes, and so every slate's, as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from projections.archive import ArchiveTable, previous_season
from projections.errors import SourceError
from projections.pipeline import Stage, StageContext
from projections.schema import ODDS, PLAYER_LOGS, SALARIES
from projections.sources.season_logs import PriorSeasonLogs
from stages.model.calibrate import fit_season
from stages.model.table import TABLE


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    fit_after_days: int = Field(default=14, ge=0, description="skip the season's first days (thin history)")
    shrink_minutes: float = Field(default=60.0, gt=0, description="prior weight, in minutes, of position rates")
    budget_strength: float = Field(default=0.3, ge=0, le=1, description="pull of team minutes toward the budget")
    rookie_p_play: float = Field(default=0.3, ge=0, le=1, description="P(plays) of a player with no logged game")
    rotation_minutes: float = Field(default=15.0, gt=0, description="projected minutes that make the rotation tier")
    sample_rows: int = Field(default=40000, ge=500, description="player games simulated to fit the tiers (at most)")
    draws: int = Field(default=99, ge=19, description="draws per player game when fitting the tiers")


MIN_GAMES = 300
MIN_LINED = 0.5  # share of those games with a closing spread and total, below which the fit goes without lines
NO_LINES = ("fitted without the prior season's betting lines (fewer than half its games have a closing spread and "
            "total): no blowout risk from the spread, no pace from implied totals, game factors from the final "
            "scores; `projections ingest lines FILE --season {season}` and the next run refits with them")


MIN_FLAGGED = 0.5  # share of the season before's player games with a starter flag, below which the run says so
NO_STARTS = ("fitted on roles inferred from minutes: the season before's game logs do not say who started (a "
             "stats.nba.com file, or fetched by an earlier version), which costs accuracy; `projections ingest "
             "game-logs --fetch {season} --replace` fetches them with each game's starters and the next run refits")


def calibration(logs: pd.DataFrame, lines: pd.DataFrame, positions: pd.DataFrame, *, params: Params,
                ctx: StageContext) -> pd.DataFrame:
    games = logs["game_id"].nunique() if len(logs) else 0
    if games < MIN_GAMES:
        replace = " --replace" if games else ""  # a part of it is there: the whole season takes its place
        raise SourceError(
            f"calibration: the archive holds {games} games of the season before {ctx.season} (needs "
            f"{MIN_GAMES}); fetch its game logs with `projections ingest game-logs --fetch "
            f"{previous_season(ctx.season)}{replace}` (or ingest a LeagueGameLog export: `projections ingest "
            f"game-logs FILE{replace}`) so the model can be fitted on it")
    lined = lines.dropna(subset=["spread_home", "total"]).groupby(["game_date", "home_team"]).ngroups \
        if len(lines) else 0
    if lined < MIN_LINED * games:  # too few to fit on: the fit goes without (see the module's docstring)
        lines = lines.iloc[:0]
    table = fit_season(logs, lines, positions, fit_after_days=params.fit_after_days,
                       shrink_minutes=params.shrink_minutes, budget_strength=params.budget_strength,
                       rookie_p_play=params.rookie_p_play, rotation_minutes=params.rotation_minutes,
                       sample_rows=params.sample_rows, draws=params.draws,
                       seed=xxhash.xxh32_intdigest(f"calibration {ctx.season}".encode()))
    out = table.sort_values(["group", "name"]).reset_index(drop=True)
    out.attrs["fitted_on"] = previous_season(ctx.season)  # for the notes (calibration_meta); not stored
    return out


def calibration_meta(frame: pd.DataFrame) -> Mapping[str, Any]:
    scalars = frame[frame["group"] == "scalar"].set_index("name")["value"]
    meta: dict[str, Any] = {"fit_rows": int(scalars.get("fit_rows", 0)),
                            "team_minutes": round(float(scalars.get("team_minutes", 0)), 2),
                            "groups": int(frame["group"].nunique())}
    season = str(frame.attrs.get("fitted_on", "SEASON"))  # the season fitted on, which the fixes name
    notes = [NO_LINES.format(season=season)] if not scalars.get("with_lines", 1.0) else []
    if scalars.get("starts_flagged", 1.0) < MIN_FLAGGED:
        notes.append(NO_STARTS.format(season=season))
    if notes:
        meta["note"] = "; ".join(notes)
    return meta


SPEC = Stage(
    name="calibration",
    func=calibration,
    doc="model parameters fitted on the prior season (minutes models, residuals, pace, tiers, game factor)",
    sources=(
        PriorSeasonLogs("logs", "player_logs", window="all", seasons=(1,), contract=PLAYER_LOGS, required=False),
        ArchiveTable("lines", "odds", window="all", seasons=(1,), contract=ODDS, required=False),
        ArchiveTable("positions", "salaries", window="all", seasons=(1,), columns=("player_id", "positions"),
                     contract=SALARIES, required=False),
    ),
    params=Params,
    contract=TABLE,
    meta=calibration_meta,
    scope="season",
)

"""odds: the closing spread and total of each game of the date, per team, with the team's implied total.

A game with a spread but no total (the live odds feed, cdn.nba.com's odds_todaysGames, has no totals market) gets
a stand-in total from the teams' scoring this season (`lines.expected_total`: points scored and allowed per game,
shrunk toward the league mean by `score_prior_games`), so its implied totals still follow the matchup and the
spread: measured on November 2019 with the closing totals taken away, DK MAE 7.317 without it, 7.303 with it, 7.299
with the real totals. `total_source` says which: "line", "scores", or "" (no line: the models use league means).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.dates import season_of
from projections.pipeline import Stage, StageContext
from projections.schema import ODDS
from stages.model.lines import expected_total, team_lines


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    score_prior_games: float = Field(default=5.0, gt=0, description="games of league-average scoring behind each "
                                     "team's points scored and allowed, for a game whose line has no total")

OUTPUT = Contract(
    description="one row per team playing on the date; spread < 0 when the team is favoured",
    columns={"game_id": "str", "team": "str", "opp": "str", "home": "bool", "spread": "float", "total": "float",
             "implied_total": "float", "has_line": "bool", "total_source": "str"},
    non_null=("game_id", "team", "opp", "home", "has_line", "total_source"),
    unique=("team",),
    min_rows=2,
)


def odds(archive: pd.DataFrame, schedule: pd.DataFrame, game_logs: pd.DataFrame, *, params: Params,
         ctx: StageContext) -> pd.DataFrame:
    """Teams of the schedule with their line (NaN where the archive has none: the models then use league
    means); a spread without a total gets the teams' expected scores as its total."""
    games = pd.concat([
        schedule.assign(team=schedule["home_team"], opp=schedule["away_team"], home=True),
        schedule.assign(team=schedule["away_team"], opp=schedule["home_team"], home=False),
    ])[["game_id", "team", "opp", "home"]]
    lines = team_lines(archive[archive["game_date"] == ctx.game_date])[["team", "opp", "spread", "total",
                                                                          "implied_total"]]
    out = games.merge(lines, on=["team", "opp"], how="left")
    out["has_line"] = out["total"].notna() & out["spread"].notna()
    out["total_source"] = np.where(out["total"].notna(), "line", "")
    stand_in = (out["total"].isna() & out["spread"].notna()).to_numpy()
    if stand_in.any():
        total = expected_total(out, game_logs, season_of(ctx.game_date), params.score_prior_games)
        out.loc[stand_in, "total"] = total[stand_in]
        out.loc[stand_in, "implied_total"] = out["total"][stand_in] / 2 - out["spread"][stand_in] / 2
        out.loc[stand_in, "total_source"] = "scores"
    for col in ("spread", "total", "implied_total"):
        out[col] = out[col].astype("float64")
    out = out[list(OUTPUT.columns)].sort_values("team").reset_index(drop=True)
    out.attrs["season"] = season_of(ctx.game_date)  # for the note (odds_meta); not stored
    return out


NO_LINES = ("no betting line for any game of the date (no live odds capture, none in the archive): spreads and "
            "totals unknown, the models use league means; `projections ingest lines FILE --season {season}` adds "
            "the season's closing lines, live.odds.url the live ones")


def odds_meta(frame: pd.DataFrame) -> Mapping[str, Any]:
    lined = int(frame["spread"].notna().sum()) // 2  # a closing line, or a spread with a stand-in total
    meta: dict[str, Any] = {"games": len(frame) // 2, "lined_games": lined}
    if not lined:
        meta["note"] = NO_LINES.format(season=frame.attrs.get("season", "SEASON"))
    return meta


SPEC = Stage(
    name="odds",
    func=odds,
    doc="closing spread and total per game -> implied team totals (a total from the teams' scoring where the line "
        "has none)",
    inputs=("schedule", "game_logs"),
    params=Params,
    # not required: a season whose lines nothing holds (a live season with live.odds.url off, an ingested season
    # without a lines file) is projected without lines, and the run says so (odds_meta)
    sources=(ArchiveTable("archive", "odds", window="day", contract=ODDS, required=False),),
    contract=OUTPUT,
    meta=odds_meta,
)

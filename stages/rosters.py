"""rosters: who is available on the date at as_of, in what role, and what his history says.

One row per player on the DraftKings slate, with
  status        the official injury-report status ("" where the report does not list him or no report exists)
  starter       True/False where his team's lineup is confirmed, null otherwise (lineup_known says which)
  inactive      True where his game's live box score lists him inactive (his team's list before tip): he is out
                whatever the injury report said
  availability  one explicit label: inactive (game's list) / out (injury report) / confirmed starter /
                bench (lineup confirmed) /
                absent N games (missed his team's last N games; the minutes model lowers P(plays)) /
                expected starter / expected bench / no history
and the history features of `stages.model.history` (recency-weighted minutes, role, per-minute rates,
absence streaks, rest) computed from the game logs strictly before the date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.contracts import Contract
from projections.pipeline import Stage, StageContext
from stages.model.history import FEATURES, history_features


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    absent_games: int = Field(default=3, ge=1, description="missed team games that make a player 'absent'")


KEYS = {"game_date": "date", "game_id": "str", "team": "str", "opp": "str", "player_id": "str",
        "player_name": "str", "positions": "str", "salary": "int", "status": "str", "starter": "any",
        "lineup_known": "bool", "inactive": "bool", "availability": "str"}
OUTPUT = Contract(
    description="one row per DK player: availability, role and history features",
    columns={**KEYS, **{f: "float" for f in FEATURES}},
    non_null=("game_id", "team", "player_id", "status", "lineup_known", "inactive", "availability"),
    unique=("player_id",),
    min_rows=1,
)


def _availability(frame: pd.DataFrame, absent_games: int) -> pd.Series:
    missed = frame["missed_streak"].fillna(0).astype(int)
    starter = frame["starter"].astype("boolean")
    label = np.select(
        [frame["inactive"], frame["status"] == "Out", starter.fillna(False).astype(bool),
         frame["lineup_known"] & (missed < absent_games), frame["min_avg"].isna(), missed >= absent_games,
         frame["start_rate"].fillna(0) >= 0.5],
        ["inactive (game's list)", "out (injury report)", "confirmed starter", "bench (lineup confirmed)",
         "no history", "absent", "expected starter"],
        default="expected bench")
    return pd.Series(np.where(label == "absent", "absent " + missed.astype(str) + " games", label),
                     index=frame.index)


def rosters(salaries: pd.DataFrame, game_logs: pd.DataFrame, injuries: pd.DataFrame, lineups: pd.DataFrame, *,
            params: Params, ctx: StageContext) -> pd.DataFrame:
    players = salaries[["game_date", "game_id", "team", "opp", "player_id", "player_name", "positions", "salary"]]
    feats = history_features(game_logs, players[["game_id", "game_date", "team", "player_id"]])
    out = players.merge(feats.drop(columns=["game_date", "game_id", "team"]), on="player_id", how="left")
    status = dict(zip(injuries["player_id"].astype(str), injuries["status"].astype(str), strict=True))
    out["status"] = [status.get(pid, "") for pid in out["player_id"]]
    confirmed = set(lineups.loc[lineups["confirmed"], "team"])
    starters = set(lineups.loc[lineups["starter"] & lineups["confirmed"], "player_id"].astype(str))
    out["lineup_known"] = out["team"].isin(confirmed)
    out["starter"] = pd.array([pid in starters if known else None
                               for pid, known in zip(out["player_id"], out["lineup_known"], strict=True)],
                              dtype="boolean")
    inactive = set(lineups.loc[lineups["inactive"], "player_id"].astype(str))
    out["inactive"] = out["player_id"].isin(inactive)
    out["availability"] = _availability(out, params.absent_games)
    return out[list(OUTPUT.columns)].sort_values(["team", "player_id"]).reset_index(drop=True)


SPEC = Stage(
    name="rosters",
    func=rosters,
    doc="who is available at as_of: injury status, absences from recent team games, starter role, history",
    inputs=("salaries", "game_logs", "injuries", "lineups"),
    params=Params,
    contract=OUTPUT,
)

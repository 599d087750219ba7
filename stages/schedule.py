"""schedule: the games of the slate date, with teams, home/away and tip times; its first tip is the lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.errors import NoGames
from projections.pipeline import NoParams, Stage, StageContext
from projections.schema import SCHEDULE

OUTPUT = Contract(
    description="games of one slate date",
    columns={"game_date": "date", "game_id": "str", "home_team": "str", "away_team": "str",
             "tip_time": "timestamp", "tip_time_source": "str", "playoffs": "bool", "status": "str"},
    non_null=("game_date", "game_id", "home_team", "away_team", "tip_time"),
    unique=("game_id",),
    min_rows=1,
)


def schedule(archive: pd.DataFrame, *, params: NoParams, ctx: StageContext) -> pd.DataFrame:
    games = archive[(archive["game_date"] == ctx.game_date) & (archive["status"] != "postponed")]
    if games.empty:
        raise NoGames(
            f"schedule: no NBA games on {ctx.game_date} in the schedule source; pick a date with games, or "
            "`projections ingest` a schedule/game-log file that covers it"
        )
    out = games[list(OUTPUT.columns)].sort_values(["tip_time", "game_id"]).reset_index(drop=True)
    out["tip_time"] = pd.to_datetime(out["tip_time"], utc=True)
    return out


def lock_of(games: pd.DataFrame) -> Mapping[str, Any]:
    """The lock (first tip) of the slate, recorded in the action record: the engine's as_of; and its last tip,
    until which the captures of news fixed once a game begins (its starters) are read."""
    first, last = (pd.Timestamp(t).to_pydatetime() for t in (games["tip_time"].min(), games["tip_time"].max()))
    return {"lock": _iso(first), "last_tip": _iso(last), "games": len(games)}


def _iso(ts: dt.datetime) -> str:
    """An instant as the engine writes them (projections.ledger.iso's format), here so that no edit of the ledger
    module is part of this stage's code version (it would rerun every date's schedule)."""
    return ts.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


SPEC = Stage(
    name="schedule",
    func=schedule,
    doc="games of the slate date with teams, home/away and tip times",
    sources=(ArchiveTable("archive", "schedule", window="day", contract=SCHEDULE),),
    contract=OUTPUT,
    meta=lock_of,
)

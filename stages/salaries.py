"""salaries: the DraftKings classic slate of the date, one row per listed player.

A real DKSalaries file for the date wins over the daily rotoguru table (it has DK ids, tip times and the
exact player list); among several DK files of a date the main slate (most games, then most players) wins.
Opponent and game come from the schedule, so every source yields the same columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.errors import SourceError
from projections.pipeline import Stage, StageContext
from projections.schema import SALARIES


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    prefer: tuple[Literal["dk", "rotoguru"], ...] = Field(
        default=("dk", "rotoguru"), min_length=1,
        description="salary sources in order of trust, comma-separated or a list: dk (DKSalaries.csv files), "
                    "rotoguru (the daily table)")


OUTPUT = Contract(
    description="one row per player on the slate",
    columns={"game_date": "date", "slate_id": "str", "source": "str", "dk_id": "any", "player_id": "str",
             "player_name": "str", "team": "str", "opp": "str", "home": "bool", "game_id": "str",
             "positions": "str", "roster_positions": "str", "salary": "int", "tip_time": "timestamp"},
    non_null=("player_id", "player_name", "team", "opp", "game_id", "positions", "salary", "tip_time"),
    unique=("player_id",),
    min_rows=1,
)


def _main_slate(rows: pd.DataFrame, prefer: tuple[str, ...]) -> pd.DataFrame:
    for source in prefer:
        mine = rows[rows["source"] == source]
        if mine.empty:
            continue
        size = mine.groupby("slate_id").agg(teams=("team", "nunique"), players=("player_id", "size"))
        best = size.sort_values(["teams", "players"], ascending=False).index[0]
        return mine[mine["slate_id"] == best]
    return rows.iloc[0:0]


def salaries(archive: pd.DataFrame, schedule: pd.DataFrame, *, params: Params, ctx: StageContext) -> pd.DataFrame:
    rows = _main_slate(archive[archive["game_date"] == ctx.game_date], params.prefer)
    if rows.empty:
        raise SourceError(
            f"salaries: no DraftKings salaries for {ctx.game_date}; download the DKSalaries.csv of the slate "
            "from DraftKings and run `projections ingest dk-salaries <file>` (a live run takes it from the inbox)"
        )
    games = pd.concat([
        schedule.assign(team=schedule["home_team"], opp=schedule["away_team"], home=True),
        schedule.assign(team=schedule["away_team"], opp=schedule["home_team"], home=False),
    ])[["team", "opp", "home", "game_id", "tip_time"]]
    out = rows.drop(columns=["opp", "tip_time"]).merge(games, on="team", how="inner", validate="many_to_one")
    dropped = sorted(set(rows["team"]) - set(out["team"]))
    if len(dropped) * 2 >= rows["team"].nunique():
        # most of the slate's teams do not play: this is another date's file, not a postponed game or two
        raise SourceError(
            f"salaries: slate {rows['slate_id'].iloc[0]} lists teams {dropped} that do not play on "
            f"{ctx.game_date} per the schedule; the salary file belongs to another date or the team codes "
            "are not normalised (see projections/identity.py)"
        )
    # a minority of teams missing from the schedule had their games postponed after salaries were set
    # (2020-03-11): their players cannot score, so the slate is the rest. A game with one team listed is not on
    # the slate either: a stray priced row of a game not offered (rotoguru 2020-01-25: one DAL player, no UTA
    # player; alone on his team, he took its whole minutes budget, 48 minutes and 200% ownership)
    teams = out.groupby("game_id")["team"].transform("nunique")
    stray = sorted(set(out.loc[teams != 2, "team"]))
    out = out[teams == 2][list(OUTPUT.columns)]
    out = out.sort_values(["salary", "player_id"], ascending=[False, True]).reset_index(drop=True)
    off = rows[rows["team"].isin([*dropped, *stray])]
    if len(off):  # said in the run's output and the ledger (salaries_meta): the slate is smaller than its file
        why = ([f"{', '.join(dropped)} not on the date's schedule (games postponed after salaries were set)"]
               if dropped else []) + ([f"{', '.join(stray)} alone priced in its game"] if stray else [])
        out.attrs["note"] = f"{len(off)} priced player(s) left off the slate: {'; '.join(why)}"
    return out


def salaries_meta(frame: pd.DataFrame) -> Mapping[str, Any]:
    """The slate's size, and which priced players it left off (the stage's note, carried in the frame's attrs)."""
    meta: dict[str, Any] = {"players": len(frame), "games": int(frame["game_id"].nunique())}
    if frame.attrs.get("note"):
        meta["note"] = str(frame.attrs["note"])
    return meta


SPEC = Stage(
    name="salaries",
    func=salaries,
    doc="the DraftKings slate of the date: player, DK id, positions, salary, game",
    inputs=("schedule",),
    sources=(ArchiveTable("archive", "salaries", window="day", contract=SALARIES,
                          fix="add the date's DraftKings salaries with `projections ingest dk-salaries FILE`"),),
    params=Params,
    contract=OUTPUT,
    meta=salaries_meta,
)

"""lineups: confirmed starters before each game's tip, per team, or none (`mode`).

Starters are announced before tip, so they are the one piece of the date's box score a projection may use:
the source loads only (game_id, team, player_id, started) of the date's games and this stage keeps only the
rows with started = True (a bench row would reveal who played). In live mode the starters come from the
live box scores (`live`: empty until a game's box score is published), captured up to the slate's last tip, not
only its lock: a game's starters are fixed once it begins, so a run after the first tip confirms the later games'
lineups (DraftKings late swap) and changes nothing of the games already under way. The daily
salary files' `starter` column is the fallback for a team the box scores lack. With `mode = "none"` (a slate
built before lineups are known) no team is confirmed and the minutes stage uses expected roles; a team with no
lineup known in `confirmed` mode does too. The manifest's meta says which case applied (`roles`), and its
note, said in the run's output, when the date's box scores are there but none says who started (an ingested
stats.nba.com season): how to get the flags.

A live box score published before tip also lists the game's inactive players (status INACTIVE: the list each
team submits before its game, fixed from then on, so the last word on who is out, after the injury reports):
those rows are kept, `inactive` True, and the rosters stage rules the players out. The archive's box scores
list only who played, so a replayed slate has no inactive rows (its injury reports, where it has them, say who is
out).

Output: five rows per confirmed team (one per starter), one row with no player for each other team, and one row
per inactive player of a live box score (starter False).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from projections.archive import ArchiveTable
from projections.contracts import Contract
from projections.pipeline import Stage, StageContext
from projections.schema import PLAYER_LOGS, SALARIES
from projections.sources.tables import LINEUPS


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    mode: Literal["confirmed", "none"] = Field(
        default="confirmed",
        description="confirmed: the starters known before each tip (and a live box score's inactive players) set "
                    "who starts and who sits; none: no lineup is used, as for a slate built before lineups are "
                    "known, and the minutes use expected roles")


OUTPUT = Contract(
    description="confirmed starters per team (or one empty row for a team without a confirmed lineup)",
    columns={"team": "str", "player_id": "any", "starter": "bool", "confirmed": "bool", "inactive": "bool",
             "source": "str", "mode": "str"},
    non_null=("team", "starter", "confirmed", "inactive", "source", "mode"),
    unique=("team", "player_id"),
    min_rows=2,
)

STARTERS_PER_TEAM = 5
INACTIVE = "INACTIVE"  # a live box score player's status when his team listed him inactive for the game
NO_FLAGS = ("starters not confirmed: the {season} game logs do not say who started (a stats.nba.com file, or "
            "fetched by an earlier version), so roles are inferred from minutes, which costs accuracy; `projections "
            "ingest game-logs --fetch {season} --replace` fetches them with each game's starters and the next run "
            "rebuilds")


def lineups(box: pd.DataFrame, live: pd.DataFrame, rotoguru: pd.DataFrame, schedule: pd.DataFrame, *,
            params: Params, ctx: StageContext) -> pd.DataFrame:
    teams = sorted(set(schedule["home_team"]) | set(schedule["away_team"]))
    found: dict[str, tuple[list[str], str]] = {}
    unflagged = False  # the date's box scores are there but none says who started (see `NO_FLAGS`)
    if params.mode == "confirmed":
        games = set(schedule["game_id"])
        day = box[box["game_id"].isin(games)]
        unflagged = len(day) > 0 and bool(day["started"].isna().all())
        for rows, flag, source in ((day, "started", "box_score"),
                                   (live[live["game_id"].isin(games)], "starter", "live_box_score"),
                                   (rotoguru, "starter", "salary_file")):  # in that order of trust
            starters = rows[rows[flag].astype("boolean").fillna(False).astype(bool)]
            for team, five in starters.groupby("team"):
                if str(team) not in found and len(five) == STARTERS_PER_TEAM:
                    found[str(team)] = (sorted(five["player_id"].astype(str)), source)
    records: list[dict[str, Any]] = []
    for team in teams:
        if team in found:
            ids, source = found[team]
            records += [{"team": team, "player_id": pid, "starter": True, "confirmed": True, "inactive": False,
                         "source": source, "mode": params.mode} for pid in ids]
        else:
            records.append({"team": team, "player_id": None, "starter": False, "confirmed": False,
                            "inactive": False, "source": "none", "mode": params.mode})
    if params.mode == "confirmed":
        starting = {pid for ids, _ in found.values() for pid in ids}
        listed = live[live["game_id"].isin(set(schedule["game_id"])) & (live["status"] == INACTIVE)
                      & live["team"].isin(teams)]
        records += [{"team": str(team), "player_id": str(pid), "starter": False, "confirmed": str(team) in found,
                     "inactive": True, "source": "live_box_score", "mode": params.mode}
                    for team, pid in sorted(set(zip(listed["team"], listed["player_id"].astype(str), strict=True)))
                    if pid not in starting]
    out = pd.DataFrame.from_records(records, columns=list(OUTPUT.columns))
    if unflagged and len(found) < len(teams):  # said in the run's output and the ledger (lineup_meta)
        out.attrs["note"] = NO_FLAGS.format(season=ctx.season)
    return out


def lineup_meta(frame: pd.DataFrame) -> Mapping[str, Any]:
    """Which case applied: the mode, how many teams had a confirmed lineup (of how many), and how many players
    the live box scores list inactive; a note when the date's box scores do not say who started."""
    confirmed = frame[frame["confirmed"] & frame["starter"]]
    known, teams = int(confirmed["team"].nunique()), int(frame["team"].nunique())
    note = {"note": str(frame.attrs["note"])} if frame.attrs.get("note") else {}
    return {**note, "mode": str(frame["mode"].iloc[0]) if len(frame) else "none",
            "roles": "confirmed" if known == teams else f"confirmed for {known} of {teams}" if known else "expected",
            "teams_confirmed": known, "teams": teams,
            "sources": sorted(set(confirmed["source"])), "inactive": int(frame["inactive"].sum())}


SPEC = Stage(
    name="lineups",
    func=lineups,
    doc="confirmed starters before each tip (box-score GS flags / salary-file starters) and the live box scores' "
        "inactive players, or none by params.mode",
    inputs=("schedule",),
    sources=(
        ArchiveTable("box", "player_logs", window="day", columns=("game_id", "team", "player_id", "started"),
                     contract=PLAYER_LOGS, required=False),
        ArchiveTable("live", "lineups", window="day", columns=("game_id", "team", "player_id", "starter", "status"),
                     contract=LINEUPS, required=False, until="last_tip"),
        ArchiveTable("rotoguru", "salaries", window="day", columns=("team", "player_id", "starter", "source"),
                     contract=SALARIES, required=False),
    ),
    params=Params,
    contract=OUTPUT,
    meta=lineup_meta,
)

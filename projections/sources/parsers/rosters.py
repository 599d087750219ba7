"""rosters from a commonteamroster body."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from projections.dates import season_of
from projections.sources.parsers.common import TEAM_IDS, bad, load_json, result_set

if TYPE_CHECKING:
    import pandas as pd


def roster_from_commonteamroster(content: bytes, day: dt.date) -> pd.DataFrame:
    """The rosters rows (as of `day`) of one team from its commonteamroster body."""
    import pandas as pd

    rows = result_set(load_json(content, "rosters"), "CommonTeamRoster", "rosters",
                      ("TeamID", "PLAYER", "PLAYER_ID", "POSITION", "NUM"))
    try:
        return pd.DataFrame({
            "season": [season_of(day)] * len(rows), "game_date": [day] * len(rows),
            "team": [TEAM_IDS[int(r["TeamID"])] for r in rows],
            "player_id": [str(int(r["PLAYER_ID"])) for r in rows], "player_name": [str(r["PLAYER"]) for r in rows],
            "position": [r.get("POSITION") or None for r in rows], "jersey": [r.get("NUM") for r in rows],
            "how_acquired": [r.get("HOW_ACQUIRED") for r in rows],
        })
    except (KeyError, TypeError, ValueError) as exc:
        raise bad("rosters", f"unreadable roster row ({type(exc).__name__}: {exc})") from None

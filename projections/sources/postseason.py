"""The live game log's postseason: leaguegamelog answers one SeasonType per request, so the playoffs (and the
play-in, since the 2020 bubble) are asked for apart from the regular season once they can have begun, and
joined to it.

Without them a playoff date's live capture replaced the archive's own-season rows with the regular season alone:
every player's history stopped in April (or, in 2020, in March). A URL template without `{season_type}` (a
custom endpoint) keeps its one request.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.errors import ContractViolation
from projections.sources import parsers

if TYPE_CHECKING:
    import pandas as pd

REGULAR = "Regular+Season"
LATER = (("PlayIn", "raw-playin.json"), ("Playoffs", "raw-playoffs.json"))  # SeasonType, the capture's file
STARTS = (4, 1)  # month and day from which a season's postseason may have begun (the 2020 bubble: later still)


def may_have_begun(day: dt.date) -> bool:
    season = season_of(day)
    return day >= dt.date(int(season[:4]) + 1, *STARTS)


def join(http: Any, day: dt.date, regular: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, bytes]]:
    """`regular` and the postseason games of `day`'s season before `day` (none before it may have begun, or for a
    template without `{season_type}`): the frame and the raw files to keep."""
    import pandas as pd

    if not may_have_begun(day) or "{season_type}" not in http.live.url_template("game_logs"):
        return regular, {}
    frames, raw = [regular], {}
    for kind, name in LATER:
        def readable(content: bytes, kind: str = kind) -> None:
            frame = parsers.player_logs_from_gamelog(content)
            other = sorted(set(frame["season"]) - {season_of(day)}) if len(frame) else []
            if other:
                raise ContractViolation(f"player_logs: the {kind} feed answered with games of season "
                                        f"{', '.join(other)}, not {season_of(day)}", stage="player_logs")

        result = http.get("game_logs", {"season": season_of(day), "season_type": kind}, validate=readable,
                          source="player_logs")
        frames.append(parsers.player_logs_from_gamelog(result.content))
        raw[name] = result.content
    joined = pd.concat(frames, ignore_index=True).drop_duplicates(["game_id", "player_id"])
    return joined[pd.to_datetime(joined["game_date"]).dt.date < day].reset_index(drop=True), raw

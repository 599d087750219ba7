"""Whether a live feed has caught up: a capture that answers, parses and looks whole can still be a day old.

The game logs are checked against the last date before the slate that had games - the archive's schedule for a
season it holds, else this data root's own schedule captures of earlier days (the daily run takes one each day) -
so projections built on history a day short say so instead of passing for current.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from projections.dates import season_of
from projections.sources import snapshots

if TYPE_CHECKING:
    import pandas as pd


def last_game_day(home: Path, day: dt.date, schedule: pd.DataFrame | None) -> dt.date | None:
    """The last date of `day`'s season before `day` with games: from `schedule` (the archive's, postponed games
    left out) when given, else from the schedule captures whose newest holds rows."""
    if schedule is not None:
        import pandas as pd

        known = {d for d in pd.to_datetime(schedule["game_date"]).dt.date if d < day}
    else:
        known = set()
        for earlier in snapshots.dates(home, "schedule"):
            if earlier < day and season_of(earlier) == season_of(day):
                captures = snapshots.entries(home, "schedule", earlier)
                if captures and captures[-1].rows > 0:
                    known.add(earlier)
    return max(known) if known else None


def logs_behind(home: Path, day: dt.date, logs: pd.DataFrame, schedule: pd.DataFrame | None) -> str | None:
    """A note when the game logs end before the last date with games before `day`, else None."""
    expected = last_game_day(home, day, schedule)
    if expected is None:
        return None
    import pandas as pd

    logged = pd.to_datetime(logs["game_date"]).dt.date.max() if len(logs) else None
    if logged is not None and logged >= expected:
        return None
    return (f"the game logs end {logged or '(none)'}, but {expected} had games: the feed has not caught up, so "
            f"{expected}'s games are missing from every player's history; a later run fetches them again")

"""Who started each game of the live game logs: stats.nba.com's LeagueGameLog has no starter flag, each game's
liveData box score has.

Without the flag the models fall back on a proxy (a team's five longest-playing players of a game,
`stages.model.history.starters`), and a proxy read from the game's own minutes is hindsight the calibration
learns from: measured on November 2019, logs without flags (the stats.nba.com export, 2018-19 and 2019-20) gave
DK MAE 7.60 and p10-p90 coverage 0.73 where Basketball-Reference's GS flags give 7.30 and 0.80. So a live capture
of a season's logs carries the flags: those of the season's last capture (`known`), and for the games that have
none yet each game's box score, fetched once (a day's new games in a daily run; a whole season, about 1,230
requests, when its logs are first fetched). A game whose box score is not served (HTTP 404) or does not flag
five starters a team keeps no flag (the proxy stands for it) and is not asked for again; a fetch that fails
otherwise (the feed down, or refusing: 403), or GIVE_UP such games before any with one, stops the filling, and the
next capture asks for the games still without flags. A long filling (a season's) says how far it got every
PROGRESS_EVERY games (`progress`): ten minutes are not spent in silence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from projections.errors import ContractViolation, FetchError

if TYPE_CHECKING:
    import pandas as pd

    from projections.sources.http import LiveHttp

STARTERS_PER_TEAM = 5
GIVE_UP = 20  # games without a box score, none with one, before the rest of the season is not asked for
UNSERVED = "starts-unserved.json"  # a capture's list of the games whose box score flagged no starters
PROGRESS_EVERY = 100  # games asked between two progress lines of a long filling


@dataclass
class Filled:
    frame: pd.DataFrame
    attempts: int = 0
    fetched: int = 0  # games whose starters came from their box score now
    unserved: int = 0  # games the feed has no box score of (or one without five starters a team)
    left: int = 0  # games left without flags because a fetch failed
    error: str = ""
    unserved_ids: list[str] = field(default_factory=list)  # not asked again (UNSERVED in the capture)

    def notes(self) -> list[str]:
        """What the filling did, for the capture's notes (none when there was nothing to do)."""
        if not (self.fetched or self.unserved or self.left):
            return []
        text = f"starters of {self.fetched} games from their box scores"
        if self.unserved:
            text += f"; {self.unserved} games without a box score flagging them (starts inferred from minutes)"
        if self.left:
            text += (f"; {self.left} games left without starters (the next run fetches them): "
                     f"{self.error.splitlines()[0][:200]}")
        return [text]


def known_flags(*tables: pd.DataFrame | None) -> pd.DataFrame:
    """(game_id, player_id, started) of the rows that carry a flag in any of `tables` (an earlier capture, the
    archive's part of the season)."""
    import pandas as pd

    frames = [pd.DataFrame({"game_id": pd.Series(dtype=object), "player_id": pd.Series(dtype=object),
                            "started": pd.Series(dtype=bool)})]
    for table in tables:
        if table is None or "started" not in table:
            continue
        rows = table[table["started"].notna()]
        frames.append(pd.DataFrame({"game_id": rows["game_id"].astype(str),
                                    "player_id": rows["player_id"].astype(str),
                                    "started": rows["started"].astype(bool)}))
    return pd.concat(frames, ignore_index=True).drop_duplicates(["game_id", "player_id"])


def known(home: Path, day: dt.date, now: dt.datetime) -> tuple[pd.DataFrame, frozenset[str]]:
    """The flags already known for `day`'s season - its last capture of the logs (the date's newest at or before
    `now`, else the newest earlier date's of the season) and the archive's part of the season - and the games that
    capture found no box score for (not asked again)."""
    import json

    import pandas as pd

    from projections.dates import season_of
    from projections.errors import SourceError
    from projections.sources import snapshots

    entry = snapshots.season_entry(home, "player_logs", day, now)
    last, skip = None, frozenset[str]()
    if entry is not None:
        try:
            path = snapshots.data_path(home, entry)
            last = pd.read_parquet(path, columns=["game_id", "player_id", "started"])
            if (path.parent / UNSERVED).is_file():
                skip = frozenset(str(g) for g in json.loads((path.parent / UNSERVED).read_bytes()))
        except (SourceError, OSError, ValueError):
            last, skip = None, frozenset()
    return known_flags(last, archived(home, season_of(day))), skip


def archived(home: Path, season: str) -> pd.DataFrame | None:
    """The archive's logs of `season` (game_id, player_id, started), or None when it holds none."""
    import pandas as pd

    from projections.archive import parts

    found = [part.path for part in parts(home, "player_logs") if season in part.seasons]
    if not found:
        return None
    frames = [pd.read_parquet(path, columns=["season", "game_id", "player_id", "started"]) for path in found]
    rows = pd.concat(frames, ignore_index=True)
    return rows[rows["season"] == season]


def _box_starters(content: bytes, day: dt.date, game_id: str) -> set[str]:
    """The player ids a game's box score flags as starters; ContractViolation unless five a team."""
    from projections.sources.parsers import lineups_from_boxscore

    box = lineups_from_boxscore(content, day)
    starters = box[box["starter"]]
    counts = starters.groupby("team").size()
    if str(box["game_id"].iloc[0] if len(box) else "") != game_id or len(counts) != 2 \
            or not (counts == STARTERS_PER_TEAM).all():
        raise ContractViolation(f"starts: box score {game_id} does not flag five starters for each of two teams",
                                stage="player_logs")
    return set(starters["player_id"].astype(str))


def fill(http: LiveHttp, logs: pd.DataFrame, known: pd.DataFrame, skip: frozenset[str] = frozenset(), *,
         progress: Callable[[str], None] | None = None) -> Filled:
    """`logs` with `started` set from `known`, then from the box score of each game still without flags (but those
    in `skip`: an earlier capture found none). `progress` hears how many games were asked every PROGRESS_EVERY
    games."""
    import pandas as pd

    out = logs.copy()
    key = out["game_id"].astype(str) + "|" + out["player_id"].astype(str)
    flags = dict(zip(known["game_id"] + "|" + known["player_id"], known["started"], strict=True))
    current = out["started"].astype("object") if "started" in out else pd.Series(None, index=out.index, dtype=object)
    current = current.where(current.notna(), key.map(flags))
    out["started"] = current.astype("object")
    result = Filled(out)
    if out.empty or not http.configured("lineups"):
        return result
    games = out["game_id"].astype(str)
    missing = out[out["started"].isna() & ~games.isin(skip)] \
        .groupby("game_id", sort=False)["game_date"].first()
    result.unserved_ids = sorted(skip & set(games))
    for asked, (game_id, day) in enumerate(sorted(missing.items(), key=lambda item: (str(item[1]), str(item[0])))):
        if progress is not None and asked and asked % PROGRESS_EVERY == 0:
            progress(f"starters from box scores: {asked} of {len(missing)} games asked, {result.unserved} without one")
        date = day if isinstance(day, dt.date) else pd.Timestamp(day).date()

        kept: dict[str, set[str]] = {}

        def readable(content: bytes, game_id: str = str(game_id), date: dt.date = date,
                     kept: dict[str, set[str]] = kept) -> None:
            kept["starters"] = _box_starters(content, date, game_id)

        try:
            got = http.get("lineups", {"game_id": str(game_id)}, validate=readable, source=f"starts {game_id}",
                           expected_status=(404,))  # not served: counted, not warned of game by game
            starters = kept["starters"]  # the validator parsed the accepted payload: not again
        except FetchError as exc:
            result.attempts += exc.attempts
            if exc.status == 404 or "payload rejected" in str(exc):  # not 403: the cdn refusing, asked again
                result.unserved += 1
                result.unserved_ids.append(str(game_id))
                if result.fetched or result.unserved < GIVE_UP:
                    continue
                exc = FetchError(f"the first {GIVE_UP} games asked have no box score flagging starters (the feed "
                                 f"keeps none of this season?), e.g. {exc}")
            result.left = len(missing) - result.fetched - result.unserved
            result.error = str(exc)
            break
        result.attempts += got.attempts
        result.fetched += 1
        rows = games == str(game_id)
        out.loc[rows, "started"] = out.loc[rows, "player_id"].astype(str).isin(starters).to_numpy()
    out["started"] = out["started"].astype("object")
    result.unserved_ids = sorted(set(result.unserved_ids))
    return result


def raw_files(filled: Filled) -> dict[str, bytes]:
    """The capture's UNSERVED file (none when every game was served)."""
    import json

    return {UNSERVED: json.dumps(filled.unserved_ids).encode()} if filled.unserved_ids else {}

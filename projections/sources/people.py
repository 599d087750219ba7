"""name -> player_id for sources that give names only (DraftKings files, the injury report).

One id per person across every table (projections/schema.py): the stats.nba.com id where known. Names are
matched on `canonical_key` (accents, case, punctuation, suffixes and known aliases removed) against everything
the data root knows: the identity table (players), the game logs of the slate's season and the one before
(archive parts and the newest game-log snapshot), and the slate's roster snapshot. A name two people share is
settled by team where the logs or rosters place one of them there; otherwise it stays `name:<key>`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from projections.archive import parts, previous_season
from projections.dates import season_of
from projections.identity import canonical_key
from projections.sources import snapshots


class People:
    def __init__(self) -> None:
        self.by_key: dict[str, set[str]] = defaultdict(set)
        self.by_key_team: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, player_id: str, name: str, team: str | None = None) -> None:
        if not player_id or player_id.startswith("name:"):
            return  # a name nobody could place is not an identity
        try:
            key = canonical_key(name)
        except ValueError:
            return
        self.by_key[key].add(player_id)
        if team:
            self.by_key_team[(key, team)].add(player_id)

    def resolve(self, name: str, team: str | None = None) -> str:
        key = canonical_key(name)
        ids = self.by_key.get(key, set())
        if len(ids) > 1 and team:
            ids = self.by_key_team.get((key, team), ids)
        return next(iter(ids)) if len(ids) == 1 else f"name:{key}"

    @classmethod
    def known_at(cls, home: Path, day: dt.date) -> People:
        """Everyone the data root knows for a slate of `day` (reads parquet: ingest and fetch time only)."""
        import pyarrow.parquet as pq

        people = cls()
        for part in parts(home, "players"):
            table = pq.read_table(part.path, columns=["player_id", "player_name"]).to_pydict()
            for pid, name in zip(table["player_id"], table["player_name"], strict=True):
                people.add(pid, name)
        season = season_of(day)
        wanted = {season, previous_season(season)}
        paths = [p.path for p in parts(home, "player_logs") if set(p.seasons) & wanted]
        newest = [d for d in snapshots.dates(home, "player_logs") if d <= day and season_of(d) == season]
        if newest:
            entry = snapshots.select(snapshots.entries(home, "player_logs", newest[-1]), None)
            if entry is not None:
                paths.append(snapshots.data_path(home, entry))
        entry = snapshots.select(snapshots.entries(home, "rosters", day), None)
        if entry is not None:
            paths.append(snapshots.data_path(home, entry))
        for path in paths:
            table = pq.read_table(path, columns=["player_id", "player_name", "team"]).to_pydict()
            seen = set(zip(table["player_id"], table["player_name"], table["team"], strict=True))
            for pid, name, team in seen:
                people.add(pid, name, team)
        return people

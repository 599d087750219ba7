"""players: the identity join, one player_id per person across every table, and the players table.

`People` holds every name any source used for a person; `build_people` fills it from the joined logs (nba.com
ids, bbref slugs), stats.nba.com commonallplayers (names no box score resolves) and misc/player_map.csv (DK
names, entries that contradict the box scores rejected). Other tables resolve names through `People.resolve`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from projections.archive_build.common import Report, read_csv
from projections.identity import canonical_key, name_key


@dataclass
class People:
    """One player_id per person, and every name any source used for them."""

    key_index: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    display: dict[str, str] = field(default_factory=dict)
    nba_id: dict[str, str] = field(default_factory=dict)
    slug: dict[str, str] = field(default_factory=dict)
    variants: set[tuple[str, str, str]] = field(default_factory=set)
    misses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    seen: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    official: dict[str, str] = field(default_factory=dict)  # nba id -> commonallplayers name

    def add(self, player_id: str, name: str, source: str, *, index: bool = True) -> None:
        self.variants.add((player_id, name, source))
        self.display.setdefault(player_id, name)
        if index:
            self.key_index[canonical_key(name)].add(player_id)

    def resolve(self, name: str, source: str) -> str:
        """The player_id for a name from `source`; `name:<name_key>` when no known person has that name."""
        key = canonical_key(name)
        ids = self.key_index.get(key, set())
        self.seen[source][name] += 1
        if len(ids) == 1:
            player_id = next(iter(ids))
        else:
            player_id = f"name:{key}"
            self.misses[source][name if not ids else f"{name} (ambiguous: {sorted(ids)})"] += 1
            if not ids:
                self.key_index[key].add(player_id)
        self.variants.add((player_id, name, source))
        self.display.setdefault(player_id, name)
        return player_id


def _load_all_players(src: Path, report: Report) -> pd.DataFrame:
    """stats.nba.com commonallplayers (every player ever), limited to careers touching 2015 .. 2024.

    Used only for names no 2018-20 box score resolves; the window keeps long-retired namesakes out.
    """
    path = src / "api" / "stats_cassettes" / "smoke__test_endpoints_CommonAllPlayers.json"
    body = json.loads(path.read_text())
    result = body["resultSets"][0]
    frame = pd.DataFrame(result["rowSet"], columns=result["headers"])
    report.used("players", [path], src)
    frame = frame[(frame["FROM_YEAR"].astype(int) <= 2024) & (frame["TO_YEAR"].astype(int) >= 2015)]
    return pd.DataFrame({"nba_id": frame["PERSON_ID"].astype(str), "name": frame["DISPLAY_FIRST_LAST"]})


def _load_player_map(src: Path, report: Report) -> pd.DataFrame:
    path = src / "misc" / "player_map.csv"
    report.used("players", [path], src)
    return read_csv(path)[["dk_name", "bbr_slug", "bbr_name"]].dropna()


def build_people(logs: pd.DataFrame, slug_to_nba: dict[str, str], src: Path, report: Report) -> People:
    """Everyone in the joined logs (player_logs.join_logs), plus the nba.com ids and DK names that resolve."""
    people = People()
    nba_names = logs.dropna(subset=["nba_id"]).drop_duplicates(["nba_id", "nba_name"])
    for nba_id, name in sorted(zip(nba_names["nba_id"], nba_names["nba_name"], strict=True)):
        people.nba_id[nba_id] = nba_id
        people.add(nba_id, name, "nbacom")
    everyone = _load_all_players(src, report)
    all_index: dict[str, set[str]] = defaultdict(set)
    for nba_id, name in zip(everyone["nba_id"], everyone["name"], strict=True):
        all_index[canonical_key(name)].add(nba_id)
        people.official[nba_id] = name
    via_all, synthetic = [], []
    for slug, name in sorted(set(zip(logs["slug"], logs["bbref_name"], strict=True))):
        player_id = slug_to_nba.get(slug)
        if player_id is None:
            found = all_index.get(canonical_key(name), set())
            if len(found) == 1:
                player_id = next(iter(found))
                via_all.append(f"{name} ({slug} -> {player_id})")
            else:
                player_id = f"bbref:{slug}"
                synthetic.append(f"{name} ({slug})")
        if player_id.isdigit():
            people.nba_id[player_id] = player_id
        people.slug[player_id] = slug
        people.add(player_id, name, "bbref")
    report.note("players", f"{len(via_all)} bbref players absent from the nba.com logs (bubble, playoffs) got "
                f"their nba.com id from commonallplayers: {', '.join(via_all) or 'none'}")
    report.note("players", f"{len(synthetic)} bbref players kept a bbref: id: {', '.join(synthetic) or 'none'}")
    # players who never appear in a 2018-20 box score (injured all season, two-way, December 2020 rookies)
    # still have an nba.com id; index those names last so they never shadow a player from the logs
    for key, ids in sorted(all_index.items()):
        if key not in people.key_index and len(ids) == 1:
            people.key_index[key].add(next(iter(ids)))
            people.nba_id[next(iter(ids))] = next(iter(ids))
    by_slug = {slug: pid for pid, slug in people.slug.items()}
    pmap = _load_player_map(src, report)
    unknown, wrong = [], []
    for dk_name, slug, bbr_name in sorted(zip(pmap["dk_name"], pmap["bbr_slug"], pmap["bbr_name"], strict=True)):
        known = people.key_index.get(canonical_key(dk_name), set())
        if slug not in by_slug:
            unknown.append(f"{dk_name} ({slug})")
        elif known and known != {by_slug[slug]}:
            wrong.append(f"{dk_name} -> {slug} ({bbr_name}), a name the box scores give to {sorted(known)}")
        else:
            people.add(by_slug[slug], dk_name, "player_map")
    report.note("players", f"misc/player_map.csv: {len(pmap)} DK names with a slug; {len(unknown)} slugs without "
                f"a 2018-20 box score: {', '.join(unknown) or 'none'}; rejected {len(wrong)} entries that "
                f"contradict the box scores: {'; '.join(wrong) or 'none'}")
    return people


def build_players(people: People, used: set[str]) -> pd.DataFrame:
    """The players table: every (player_id, name, source) of the ids some table uses."""
    variants = {v for v in people.variants if v[0] in used}
    variants |= {(pid, people.official[pid], "nba_allplayers") for pid in used if pid in people.official}
    out = pd.DataFrame(sorted(variants), columns=["player_id", "player_name", "source"])
    out["name_key"] = out["player_name"].map(name_key)
    out["bbref_slug"] = out["player_id"].map(people.slug)
    out["nba_id"] = out["player_id"].where(out["player_id"].str.fullmatch(r"\d+"))
    return out.drop_duplicates(["name_key", "player_id", "source"], keep="first")

"""Build the shipped archive `projections/data/archive/` from the real public data in shared/data/nba.

    python -m projections.archive_build [--src ../shared/data/nba] [--out projections/data/archive]
                                        [--tables odds,schedule,...]

Tables (contracts in projections/schema.py): player_logs, schedule, salaries, odds, injuries (one parquet a
season: 2018-19, 2019-20 and a small 2020-21 part for December 2020) and players/all.parquet. Every table is
checked against its contract before anything is written; parquet is written deterministically (fixed column
order and arrow types, sorted rows, no pandas metadata, zstd), so two builds give byte-identical files.
SOURCES.md records where each table came from, its row counts, join rates and the data quirks found.

Each `_load_*` reads one kind of source file, `_join_logs`/`_build_people` make the identity join (one
player_id per person across every table), and each `build_*` makes one table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from projections import schema
from projections.errors import ConfigError, ContractViolation
from projections.identity import (
    canonical_key,
    dk_points,
    flip_last_first,
    name_key,
    split_bbref,
    team_code,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "data" / "nba"
DEFAULT_OUT = REPO_ROOT / "projections" / "data" / "archive"
EASTERN = ZoneInfo("America/New_York")
SEASONS = ("2018-19", "2019-20")
LAST_DAY = date(2020, 12, 31)  # the 2020-21 part stops with the December 2020 salaries and injury reports
TABLE_NAMES = ("player_logs", "schedule", "salaries", "odds", "injuries", "players")
STAGE = "archive_build"
STATS = schema.STAT_COLUMNS


def season_of(day: date) -> str:
    """Season label of a game date: the 2020 bubble belongs to 2019-20, December 2020 to 2020-21."""
    for label, first, last in (("2018-19", date(2018, 7, 1), date(2019, 6, 30)),
                               ("2019-20", date(2019, 7, 1), date(2020, 11, 30)),
                               ("2020-21", date(2020, 12, 1), date(2021, 6, 30))):
        if first <= day <= last:
            return label
    raise ValueError(f"{day} is outside the seasons this archive covers (2018-19 .. 2020-21)")


def _eastern_to_utc(day: date, hour: int, minute: int) -> pd.Timestamp:
    return pd.Timestamp(datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN)).tz_convert("UTC")


# --------------------------------------------------------------------------------------------- reporting
@dataclass
class Report:
    """What the build learned about the data; printed and written into SOURCES.md."""

    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    files: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def note(self, table: str, text: str) -> None:
        self.notes[table].append(text)

    def used(self, table: str, paths: Iterable[Path], src: Path) -> None:
        self.files[table].update(str(p.relative_to(src)) for p in paths)


def _note_spellings(report: Report, table: str, source: str, values: Iterable[str]) -> None:
    odd = sorted({v for v in values if team_code(v) != v.upper()})
    report.note(table, f"{source} team spellings that are not nba.com codes: "
                + (", ".join(f"{v!r}->{team_code(v)}" for v in odd) or "none"))


# --------------------------------------------------------------------------------------------- loaders
def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; check --src points at shared/data/nba") from exc


def _load_nbacom(src: Path, season: str, report: Report) -> pd.DataFrame:
    path = src / "logs" / "nbacom" / f"player_logs_{season}.csv"
    raw = _read_csv(path, dtype={"GAME_ID": str, "PLAYER_ID": str})
    report.used("player_logs", [path], src)
    report.used("schedule", [path], src)
    out = pd.DataFrame({
        "game_date": pd.to_datetime(raw["GAME_DATE"]).dt.date,
        "game_id": raw["GAME_ID"], "team": raw["TEAM_ABBREVIATION"].map(team_code),
        "nba_id": raw["PLAYER_ID"], "nba_name": raw["PLAYER_NAME"],
        "home": ~raw["MATCHUP"].str.contains("@", regex=False),
        "minutes": raw["MIN"].astype(float), "plus_minus": raw["PLUS_MINUS"].astype(float),
    })
    names = {"pts": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM",
             "fta": "FTA", "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL",
             "blk": "BLK", "tov": "TOV", "pf": "PF"}
    for col, raw_col in names.items():
        out[col] = raw[raw_col].astype("int64")
    out["key"] = out["nba_name"].map(canonical_key)
    return out


def _load_bbref(src: Path, season: str, report: Report) -> pd.DataFrame:
    path = src / "logs" / "bbref" / f"{season}_season.csv"
    raw = _read_csv(path)
    report.used("player_logs", [path], src)
    report.used("schedule", [path], src)
    where = raw.columns[list(raw.columns).index("Tm") + 1]  # the unnamed column after Tm: "@" when away
    _note_spellings(report, "player_logs", f"Basketball-Reference {season}", set(raw["Tm"]) | set(raw["Opp"]))
    split = raw["Player"].map(split_bbref)
    out = pd.DataFrame({
        "game_date": pd.to_datetime(raw["Date"].str.replace(" *", "", regex=False)).dt.date,
        "playoffs": raw["Date"].str.endswith(" *"),
        "team": raw["Tm"].map(team_code), "opp": raw["Opp"].map(team_code),
        "home": raw[where].fillna("") != "@",
        "bbref_name": split.str[0], "slug": split.str[1],
        "started": raw["GS"].astype(bool), "minutes": raw["MP"].astype(float),
    })
    names = {"pts": "PTS", "fgm": "FG", "fga": "FGA", "fg3m": "3P", "fg3a": "3PA", "ftm": "FT", "fta": "FTA",
             "oreb": "ORB", "dreb": "DRB", "reb": "TRB", "ast": "AST", "stl": "STL", "blk": "BLK",
             "tov": "TOV", "pf": "PF"}
    for col, raw_col in names.items():
        out[col] = raw[raw_col].astype("int64")
    out["key"] = out["bbref_name"].map(canonical_key)
    return out


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
    return _read_csv(path)[["dk_name", "bbr_slug", "bbr_name"]].dropna()


# --------------------------------------------------------------------------------------------- identity
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


def _pair_rows(bbref: pd.DataFrame, nba: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Pairs (bbref row, nba.com row) of the same player-game: by name key, then by identical stat line."""
    on = ["game_date", "team"]
    by_name = bbref[[*on, "key", "_b"]].merge(nba[[*on, "key", "_n"]], on=[*on, "key"])
    by_name = by_name[~by_name["_b"].duplicated(keep=False) & ~by_name["_n"].duplicated(keep=False)]
    line = [*on, "pts", "reb", "ast", "stl", "blk", "tov", "fga", "minutes"]
    rest_b = bbref[~bbref["_b"].isin(by_name["_b"])]
    rest_n = nba[~nba["_n"].isin(by_name["_n"])]
    by_line = rest_b[[*line, "_b"]].merge(rest_n[[*line, "_n"]], on=line)
    by_line = by_line[~by_line["_b"].duplicated(keep=False) & ~by_line["_n"].duplicated(keep=False)]
    return pd.concat([by_name[["_b", "_n"]], by_line[["_b", "_n"]]], ignore_index=True), len(by_line)


def _join_logs(src: Path, report: Report) -> tuple[pd.DataFrame, dict[str, str]]:
    """Both seasons of bbref logs with nba.com ids attached, and the slug -> nba id map the join found."""
    frames: list[pd.DataFrame] = []
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for season in SEASONS:
        bbref, nba = _load_bbref(src, season, report), _load_nbacom(src, season, report)
        bbref["_b"], nba["_n"] = range(len(bbref)), range(len(nba))
        pairs, by_line = _pair_rows(bbref, nba)
        window = bbref["game_date"] <= nba["game_date"].max()
        matched = bbref.merge(pairs, on="_b", how="left").merge(
            nba[["_n", "nba_id", "nba_name", "game_id", "plus_minus", "home", *STATS, "minutes"]],
            on="_n", how="left", suffixes=("", "_nba"))
        for slug, nba_id in matched.dropna(subset=["nba_id"])[["slug", "nba_id"]].itertuples(index=False):
            votes[slug][nba_id] += 1
        report.note("player_logs", (
            f"{season}: {len(bbref)} Basketball-Reference rows ({int(bbref['playoffs'].sum())} playoff), "
            f"{len(nba)} stats.nba.com rows (regular season to {nba['game_date'].max()}); "
            f"{len(pairs)} paired ({len(pairs) / max(int(window.sum()), 1):.2%} of bbref rows in the nba.com "
            f"window, {by_line} of them by identical stat line because the names differ); "
            f"{int(window.sum()) - len(pairs)} bbref rows and {len(nba) - len(pairs)} nba.com rows unpaired"))
        both = matched.dropna(subset=["_n"])
        diffs = {c: int((both[c] != both[f"{c}_nba"]).sum()) for c in (*STATS, "minutes", "home")}
        diffs = {c: n for c, n in diffs.items() if n}
        gap = (both["minutes"] - both["minutes_nba"]).abs().max()
        report.note("player_logs", f"{season}: stat differences bbref vs nba.com on paired rows: "
                    + (", ".join(f"{c} {n}" for c, n in diffs.items()) or "none")
                    + f" (both sources give whole minutes and round differently; largest gap {gap:.0f} min)")
        games = nba.drop_duplicates(["game_date", "team"]).set_index(["game_date", "team"])["game_id"]
        keyed = pd.MultiIndex.from_frame(matched[["game_date", "team"]])
        matched["game_id"] = matched["game_id"].fillna(pd.Series(games.reindex(keyed).to_numpy(),
                                                                 index=matched.index))
        matched["season"] = season
        frames.append(matched)
    slug_to_nba = {}
    for slug, counter in sorted(votes.items()):
        if len(counter) > 1:
            report.note("players", f"bbref slug {slug} pairs with several nba.com ids {dict(counter)}")
        slug_to_nba[slug] = counter.most_common(1)[0][0]
    return pd.concat(frames, ignore_index=True), slug_to_nba


def _build_people(logs: pd.DataFrame, slug_to_nba: dict[str, str], src: Path, report: Report) -> People:
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


# --------------------------------------------------------------------------------------------- tables
def build_player_logs(logs: pd.DataFrame, people: People) -> pd.DataFrame:
    by_slug = {slug: pid for pid, slug in people.slug.items()}
    out = logs.copy()
    out["player_id"] = out["slug"].map(by_slug)
    out["player_name"] = out["player_id"].map(lambda pid: people.display[pid])
    away = out["team"].where(~out["home"], out["opp"])
    home = out["team"].where(out["home"], out["opp"])
    made_up = pd.Series([f"{d.isoformat()}-{a}@{h}" for d, a, h in zip(out["game_date"], away, home,
                                                                        strict=True)], index=out.index)
    out["game_id"] = out["game_id"].fillna(made_up)
    out["stats_source"] = out["_n"].notna().map({True: "bbref+nbacom", False: "bbref"})
    out["dk_points"] = dk_points(out["pts"], out["fg3m"], out["reb"], out["ast"], out["stl"], out["blk"],
                                 out["tov"]).astype(float)
    return out


def _parse_game_info(info: str) -> tuple[str, str, date, int, int]:
    """"MIL@BOS 10/30/2019 07:30PM ET" -> (away, home, game date, hour, minute) in US/Eastern."""
    match = re.fullmatch(r"(\w+)@(\w+) (\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d)([AP]M) ET", info.strip())
    if match is None:
        raise ValueError(f"DK Game Info {info!r} is not 'AWY@HOM MM/DD/YYYY HH:MMPM ET'")
    away, home, mon, day, year, hour, minute, half = match.groups()
    hour24 = int(hour) % 12 + (12 if half == "PM" else 0)
    return team_code(away), team_code(home), date(int(year), int(mon), int(day)), hour24, int(minute)


def build_schedule(player_logs: pd.DataFrame, tips: dict[tuple[date, str, str], tuple[pd.Timestamp, str]],
                   odds: pd.DataFrame, report: Report) -> pd.DataFrame:
    """One row per game from the box scores, plus the games only the odds file knows."""
    sides = player_logs.drop_duplicates(["game_id", "team"])
    home = sides[sides["home"]].set_index("game_id")
    away = sides[~sides["home"]].set_index("game_id")
    broken = sorted(set(home.index) ^ set(away.index))
    if broken:
        raise ValueError(f"games without exactly one home and one away side in player_logs: {broken[:5]}")
    games = pd.DataFrame({
        "season": home["season"], "game_date": home["game_date"], "game_id": home.index,
        "home_team": home["team"], "away_team": away.loc[home.index, "team"], "playoffs": home["playoffs"],
    }).reset_index(drop=True)
    games = pd.concat([games, _extra_games(odds, games, report)], ignore_index=True)
    tip_time, source = [], []
    for day, home_team, away_team in zip(games["game_date"], games["home_team"], games["away_team"],
                                         strict=True):
        stamp, where = tips.get((day, away_team, home_team), (_eastern_to_utc(day, 19, 0), "default"))
        tip_time.append(stamp)
        source.append(where)
    games["tip_time"] = pd.to_datetime(pd.Series(tip_time, dtype="object")).astype("datetime64[us, UTC]")
    games["tip_time_source"] = source
    games["status"] = "final"
    for label, part in games.groupby("season"):
        counts = part["tip_time_source"].value_counts().to_dict()
        report.note("schedule", f"{label}: {len(part)} games ({int(part['playoffs'].sum())} playoff); "
                    f"tip_time sources {dict(sorted(counts.items()))}")
    return games


# --------------------------------------------------------------------------------------------- salaries
@dataclass(frozen=True)
class DkSlate:
    file: str
    slate_date: date
    slate_id: str
    frame: pd.DataFrame


def _load_dk(path: Path) -> pd.DataFrame:
    raw = _read_csv(path)
    parsed = [_parse_game_info(info) for info in raw["Game Info"]]
    return pd.DataFrame({
        "dk_id": raw["ID"].astype("int64"), "player_name": raw["Name"].str.strip(),
        "positions": raw["Position"], "roster_positions": raw["Roster Position"],
        "salary": raw["Salary"].astype("int64"), "team": raw["TeamAbbrev"].map(team_code),
        "team_raw": raw["TeamAbbrev"],
        "away": [p[0] for p in parsed], "home": [p[1] for p in parsed], "game_date": [p[2] for p in parsed],
        "tip_time": [_eastern_to_utc(p[2], p[3], p[4]) for p in parsed],
        "avg_points": raw["AvgPointsPerGame"].astype(float),
    })


def _load_dk_slates(src: Path, report: Report) -> tuple[list[DkSlate], dict[tuple[date, str, str], pd.Timestamp]]:
    """Real DraftKings classic slates up to LAST_DAY (duplicates dropped) and every tip time they state."""
    folder = src / "salaries" / "dk"
    manifest = _read_csv(folder / "MANIFEST.csv")
    manifest["slate_date"] = pd.to_datetime(manifest["slate_date"]).dt.date
    manifest = manifest[manifest["slate_date"] <= LAST_DAY]
    tips: dict[tuple[date, str, str], pd.Timestamp] = {}
    candidates, spellings = [], set()
    report.used("schedule", [folder / f for f in manifest["file"]], src)
    for row in manifest.itertuples(index=False):
        frame = _load_dk(folder / row.file)
        spellings |= set(frame["team_raw"])
        for game in frame.drop_duplicates(["game_date", "away", "home"]).itertuples(index=False):
            tips[(game.game_date, game.away, game.home)] = game.tip_time
        if row.format != "classic":
            report.note("salaries", f"skipped {row.file}: {row.format} slate, not classic")
            continue
        candidates.append((row.slate_date, -len(frame), row.file, frame))
    _note_spellings(report, "salaries", "DraftKings (TeamAbbrev and Game Info)", spellings)
    kept: list[DkSlate] = []
    for slate_date, _, file, frame in sorted(candidates, key=lambda c: c[:3]):
        lines = set(zip(frame["dk_id"], frame["salary"], frame["roster_positions"], frame["team"], strict=True))
        twin = next((k for k in kept if k.slate_date == slate_date and lines <= set(zip(
            k.frame["dk_id"], k.frame["salary"], k.frame["roster_positions"], k.frame["team"], strict=True))),
            None)
        if twin is not None:
            same_avg = frame.set_index("dk_id")["avg_points"].round(2).equals(
                twin.frame.set_index("dk_id")["avg_points"].reindex(frame["dk_id"]).round(2))
            why = ("the same players and salaries" if len(lines) == len(twin.frame) else
                   f"a subset ({len(frame)} of {len(twin.frame)} players)")
            report.note("salaries", f"skipped {file}: {why} of {twin.file}"
                        + ("" if same_avg else "; its AvgPointsPerGame holds someone's projections, not DK's"))
            continue
        tag = re.search(r"__([0-9a-f]{8})\.csv$", file)
        digest = tag.group(1) if tag else hashlib.sha256((folder / file).read_bytes()).hexdigest()[:8]
        kept.append(DkSlate(file, slate_date, f"dk-{slate_date.isoformat()}-{digest}", frame))
    report.used("salaries", [folder / "MANIFEST.csv", *(folder / k.file for k in kept)], src)
    return kept, tips


_PRIMARY = ("PG", "SG", "SF", "PF", "C")


def roster_positions_of(primary: list[str]) -> str:
    """DK roster slots for primary positions, in DK's own order: ["SG", "SF"] -> "SG/SF/F/G/UTIL"."""
    slots = [p for p in _PRIMARY if p in primary]
    if set(primary) & {"SF", "PF"}:
        slots.append("F")
    if set(primary) & {"PG", "SG"}:
        slots.append("G")
    return "/".join([*slots, "UTIL"])


def _load_rotoguru(src: Path, report: Report) -> pd.DataFrame:
    paths = sorted((src / "salaries" / "rotoguru").glob("dk_nba_salaries_classic_*.csv"))
    report.used("salaries", paths, src)
    raw = pd.concat([_read_csv(p) for p in paths], ignore_index=True)
    unpriced = raw["salary"].isna()
    report.note("salaries", f"rotoguru: {len(paths)} daily files, {len(raw)} rows; dropped {int(unpriced.sum())} "
                f"rows without a salary (position 'NA/UTIL': listed but not offered that day)")
    raw = raw[~unpriced]
    _note_spellings(report, "salaries", "rotoguru", raw["team"])
    primary = raw["position"].str.split("/").map(lambda parts: [p for p in _PRIMARY if p in parts])
    return pd.DataFrame({
        "game_date": pd.to_datetime(raw["date"]).dt.date, "player_name": raw["name"].str.strip(),
        "team": raw["team"].map(team_code), "positions": primary.map("/".join),
        "roster_positions": primary.map(roster_positions_of), "salary": raw["salary"].astype("int64"),
        "starter": raw["starter"].astype(bool),
    })


def build_salaries(src: Path, slates: list[DkSlate], schedule: pd.DataFrame, people: People,
                   report: Report) -> pd.DataFrame:
    rg = _load_rotoguru(src, report)
    rg["slate_id"] = "rotoguru-" + rg["game_date"].map(date.isoformat)
    rg["source"] = "rotoguru"
    sides = pd.concat([
        schedule.rename(columns={"home_team": "team", "away_team": "opp"}),
        schedule.rename(columns={"away_team": "team", "home_team": "opp"}),
    ])[["game_date", "team", "opp", "tip_time"]]
    rg = rg.merge(sides, on=["game_date", "team"], how="left")
    idle = rg[rg["opp"].isna()]
    report.note("salaries", f"rotoguru rows whose team has no game that day in schedule (kept, opp null): "
                f"{len(idle)}: " + ", ".join(f"{d} {t}" for d, t in sorted(set(zip(idle["game_date"], idle["team"],
                                                                                   strict=True))))
                + " (2020-03-11 UTA@OKC and NOP@SAC were postponed when the season stopped)")
    dk = []
    for slate in slates:
        frame = slate.frame.assign(slate_id=slate.slate_id, source="dk")
        frame["opp"] = frame["home"].where(frame["team"] == frame["away"], frame["away"])
        dk.append(frame)
    out = pd.concat([rg, *dk], ignore_index=True)
    out["player_id"] = [people.resolve(n, s) for n, s in zip(out["player_name"], out["source"], strict=True)]
    out["season"] = out["game_date"].map(season_of)
    played = set(zip(sides["game_date"], sides["team"], strict=True))
    dk_rows = out[out["source"] == "dk"]
    unscheduled = sorted({sid for sid, d, t in zip(dk_rows["slate_id"], dk_rows["game_date"], dk_rows["team"],
                                                   strict=True) if (d, t) not in played})
    report.note("salaries", f"DK slates with games outside the schedule: {', '.join(unscheduled) or 'none'} "
                "(2019-10-13 is a preseason slate: no box scores; its AvgPointsPerGame are 2018-19 averages)")
    for source, part in out.groupby("source"):
        kinds = part["player_id"].str.extract(r"^(name:|bbref:)?")[0].fillna("nba.com id").value_counts()
        report.note("salaries", f"{source}: {len(part)} rows, player_id kinds {dict(sorted(kinds.items()))}")
    out["dk_id"] = out["dk_id"].astype("Int64")
    out["starter"] = out["starter"].astype("boolean")
    return out


# --------------------------------------------------------------------------------------------- odds
def _load_sbr(src: Path, report: Report) -> pd.DataFrame:
    """sportsbookreviewsonline rows (two a game) as one row a game; `spread_home` < 0 when home is favoured."""
    path = src / "odds" / "sbr_2019-20.csv"
    raw = _read_csv(path, encoding="utf-8-sig")
    report.used("odds", [path], src)
    _note_spellings(report, "odds", "sbr_2019-20.csv", raw["Team"])
    close = pd.to_numeric(raw["Close"].astype(str).str.lower().replace("pk", "0"), errors="coerce").abs()
    money = pd.to_numeric(raw["ML"], errors="coerce")
    first, second = raw.iloc[0::2].reset_index(drop=True), raw.iloc[1::2].reset_index(drop=True)
    c1, c2 = close.iloc[0::2].reset_index(drop=True), close.iloc[1::2].reset_index(drop=True)
    ml1, ml2 = money.iloc[0::2].reset_index(drop=True), money.iloc[1::2].reset_index(drop=True)
    if not ((second["Rot"] - first["Rot"] == 1).all() and (first["Date"] == second["Date"]).all()):
        raise ValueError(f"{path}: rows are not in visitor/home pairs; the file's layout changed")
    # the favourite's row carries the spread, the other row the total: the smaller number is the spread
    spread, total = c1.where(c1 < c2, c2), c1.where(c1 >= c2, c2)
    home_favoured = c2 < c1
    out = pd.DataFrame({
        "game_date": [date(y, m, d) for y, m, d in zip(first["Year"], first["Month"], first["Day"], strict=True)],
        "home_team": second["Team"].map(team_code), "away_team": first["Team"].map(team_code),
        "spread_home": spread.where(~home_favoured, -spread), "total": total,
        "moneyline_home": ml2, "moneyline_away": ml1,
        "score_home": second["Final"].astype(float), "score_away": first["Final"].astype(float),
        "neutral": first["VH"] == "N",
    })
    return out


def build_odds(src: Path, report: Report) -> pd.DataFrame:
    path = src / "odds" / "nba_2008-2025_raw.csv"
    raw = _read_csv(path)
    report.used("odds", [path], src)
    report.used("schedule", [path], src)
    raw["game_date"] = pd.to_datetime(raw["date"]).dt.date
    raw = raw[(raw["game_date"] >= date(2018, 7, 1)) & (raw["game_date"] <= LAST_DAY)]
    _note_spellings(report, "odds", "nba_2008-2025_raw.csv", set(raw["home"]) | set(raw["away"]))
    favoured = raw["whos_favored"]
    if not favoured.isin(["home", "away"]).all():
        raise ValueError(f"{path}: whos_favored has values {sorted(set(favoured) - {'home', 'away'})}")
    out = pd.DataFrame({
        "game_date": raw["game_date"], "home_team": raw["home"].map(team_code),
        "away_team": raw["away"].map(team_code),
        "spread_home": raw["spread"].where(favoured == "away", -raw["spread"]).astype(float),
        "total": raw["total"].astype(float), "moneyline_home": raw["moneyline_home"].astype(float),
        "moneyline_away": raw["moneyline_away"].astype(float), "score_home": raw["score_home"].astype(float),
        "score_away": raw["score_away"].astype(float), "playoffs": raw["playoffs"].astype(bool),
        "source": "kaggle_2008_2025",
    })
    sbr = _load_sbr(src, report)
    both = out.merge(sbr, on=["game_date", "home_team", "away_team"], suffixes=("", "_sbr"))
    in_window = out[(out["game_date"] >= sbr["game_date"].min()) & (out["game_date"] <= sbr["game_date"].max())]
    spread_off = both[(both["spread_home"] - both["spread_home_sbr"]).abs() > 0.5]
    report.note("odds", "closing spreads (kaggle vs sbr) that differ by more than 0.5: " + "; ".join(
        f"{r.game_date} {r.away_team}@{r.home_team} {r.spread_home:+} vs {r.spread_home_sbr:+} (moneylines "
        f"{r.moneyline_away:+.0f}/{r.moneyline_home:+.0f})" for r in spread_off.itertuples()))
    total_off = both[(both["total"] - both["total_sbr"]).abs() > 0.5]
    score_off = both[(both["score_home"] != both["score_home_sbr"]) | (both["score_away"] != both["score_away_sbr"])]
    report.note("odds", (
        f"cross-check with sbr_2019-20.csv ({len(sbr)} games, {int(sbr['neutral'].sum())} at a neutral site): "
        f"{len(both)} of {len(in_window)} 2019-20 games found with the same date, home and away team (sbr's "
        f"second row of a neutral-site pair is the designated home team); closing spread differs by more than 0.5 in "
        f"{len(spread_off)}, total in {len(total_off)}, final score in {len(score_off)}"))
    known = set(zip(out["game_date"], out["home_team"], strict=True)) | set(
        zip(out["game_date"], out["away_team"], strict=True))
    missing = sbr[[(d, h) not in known for d, h in zip(sbr["game_date"], sbr["home_team"], strict=True)]]
    if len(missing):
        extra = missing.drop(columns="neutral").assign(playoffs=False, source="sbr_2019_20")
        out = pd.concat([out, extra], ignore_index=True)
    report.note("odds", f"games only in sbr_2019-20.csv, added from it: {len(missing)}")
    out["season"] = out["game_date"].map(season_of)
    return out


# --------------------------------------------------------------------------------------------- injuries
_REPORT_NAME = re.compile(r"Injury-Report_(\d{4})-(\d\d)-(\d\d)_(\d\d)(AM|PM)\.csv")
_NOT_SUBMITTED = "NOT YET SUBMITTED"


def _report_time(path: Path) -> pd.Timestamp:
    match = _REPORT_NAME.fullmatch(path.name)
    if match is None:
        raise ValueError(f"injury report file {path.name!r} is not named Injury-Report_YYYY-MM-DD_HHAM|PM.csv")
    year, month, day, hour, half = match.groups()
    return _eastern_to_utc(date(int(year), int(month), int(day)), int(hour) % 12 + (12 if half == "PM" else 0), 0)


def _read_report(path: Path) -> tuple[pd.DataFrame, int, int]:
    """One injury report: blank cells repeat the cell above; reasons wrapped onto extra lines are rejoined."""
    raw = _read_csv(path, dtype=str)
    for col in ("Game Date", "Game Time", "Matchup", "Team"):
        raw[col] = raw[col].ffill()
    no_player = raw["Player Name"].isna()
    not_submitted = no_player & (raw["Reason"] == _NOT_SUBMITTED)
    fragment = (no_player & ~not_submitted & raw["Reason"].notna()).to_numpy()
    reasons = raw["Reason"].tolist()
    rejoined = 0
    for i in range(len(raw)):
        if not no_player.iloc[i] and pd.isna(reasons[i]):
            parts = [reasons[j] for j in (i - 1, i + 1) if 0 <= j < len(raw) and fragment[j]]
            reasons[i] = " ".join(parts) if parts else None
            rejoined += bool(parts)
    raw["Reason"] = reasons
    return raw[~no_player], int(not_submitted.sum()), rejoined


def build_injuries(src: Path, people: People, report: Report
                   ) -> tuple[pd.DataFrame, dict[tuple[date, str, str], pd.Timestamp]]:
    paths = sorted((src / "injuries" / "2020" / "csv").glob("Injury-Report_*.csv"))
    report.used("injuries", paths, src)
    report.used("schedule", paths, src)
    frames, tips, pending, rejoined = [], {}, 0, 0
    for path in paths:
        rows, not_submitted, fixed = _read_report(path)
        pending += not_submitted
        rejoined += fixed
        rows = rows.assign(report_time=_report_time(path))
        frames.append(rows)
    raw = pd.concat(frames, ignore_index=True)
    bad = sorted(set(raw["Current Status"]) - set(schema.INJURY_STATUSES))
    if bad:
        raise ValueError(f"injury reports hold statuses {bad} outside {schema.INJURY_STATUSES}")
    game_date = pd.to_datetime(raw["Game Date"], format="%m/%d/%Y").dt.date
    for day, time, matchup in set(zip(game_date, raw["Game Time"], raw["Matchup"], strict=True)):
        hour, minute = (int(x) for x in time.split()[0].split(":"))
        away, home = (team_code(t) for t in matchup.split("@"))
        # the report prints "07:30 (ET)" without AM/PM; every NBA tip is between noon and midnight
        tips[(day, away, home)] = _eastern_to_utc(day, hour % 12 + 12, minute)
    _note_spellings(report, "injuries", "injury report (Team column)", raw["Team"])
    names = raw["Player Name"].map(flip_last_first)
    out = pd.DataFrame({
        "season": game_date.map(season_of), "report_time": raw["report_time"].astype("datetime64[us, UTC]"),
        "game_date": game_date, "team": raw["Team"].map(team_code),
        "player_id": [people.resolve(n, "injuries") for n in names], "player_name": names,
        "status": raw["Current Status"], "reason": raw["Reason"], "matchup": raw["Matchup"],
    })
    report.note("injuries", f"{len(paths)} reports, {len(out)} player lines; {pending} 'NOT YET SUBMITTED' team "
                f"lines dropped; {rejoined} reasons rejoined from lines the PDF parse had split")
    return out, tips


# --------------------------------------------------------------------------------------------- players
def build_players(people: People, used: set[str]) -> pd.DataFrame:
    variants = {v for v in people.variants if v[0] in used}
    variants |= {(pid, people.official[pid], "nba_allplayers") for pid in used if pid in people.official}
    out = pd.DataFrame(sorted(variants), columns=["player_id", "player_name", "source"])
    out["name_key"] = out["player_name"].map(name_key)
    out["bbref_slug"] = out["player_id"].map(people.slug)
    out["nba_id"] = out["player_id"].where(out["player_id"].str.fullmatch(r"\d+"))
    return out.drop_duplicates(["name_key", "player_id", "source"], keep="first")


# --------------------------------------------------------------------------------------------- writing
_ARROW = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
          "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
_ANY_TYPES = {"started": "bool", "dk_id": "int", "opp": "str", "starter": "bool", "tip_time": "timestamp",
              "avg_points": "float", "bbref_slug": "str", "nba_id": "str"}
_EXTRA = {"player_logs": {"stats_source": "str"}, "odds": {"source": "str"}, "injuries": {"matchup": "str"}}
_SORT = {"player_logs": ["game_date", "game_id", "team", "player_id"], "schedule": ["game_date", "game_id"],
         "salaries": ["game_date", "slate_id", "player_id"], "odds": ["game_date", "home_team"],
         "injuries": ["report_time", "team", "player_id"], "players": ["player_id", "source", "player_name"]}


def _arrow_schema(table: str) -> pa.Schema:
    kinds = {c: (_ANY_TYPES[c] if k == "any" else k) for c, k in schema.TABLES[table].columns.items()}
    kinds.update(_EXTRA.get(table, {}))
    return pa.schema([pa.field(c, _ARROW[k]) for c, k in kinds.items()])


def write_part(frame: pd.DataFrame, table: str, part: str, out: Path, origin: str) -> Path:
    """Check `frame` against the table's contract, then write it as deterministic parquet; returns the path."""
    arrow_schema = _arrow_schema(table)
    fix = f"fix projections/archive_build.py (build_{table}) or the contract in projections/schema.py"
    schema.TABLES[table].check(frame, stage=STAGE, role=f"output {table}/{part}", origin=origin, fix=fix)
    missing = [c for c in arrow_schema.names if c not in frame.columns]
    if missing:
        raise ContractViolation(f"{STAGE}: output {table}/{part} {origin}: missing extra columns {missing}; {fix}",
                                stage=STAGE, columns=tuple(missing))
    frame = frame[arrow_schema.names].sort_values(_SORT[table], kind="mergesort").reset_index(drop=True)
    arrow = pa.Table.from_pandas(frame, schema=arrow_schema, preserve_index=False).replace_schema_metadata(None)
    path = out / table / f"{part}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(arrow, tmp, compression="zstd", compression_level=9)
    tmp.replace(path)
    schema.TABLES[table].check(pd.read_parquet(path), stage=STAGE, role=f"written {table}/{part}",
                               origin=str(path), fix=fix)
    return path


def _write_by_season(frame: pd.DataFrame, table: str, out: Path, origin: str) -> dict[str, int]:
    counts = {}
    for season, part in sorted(frame.groupby("season"), key=lambda kv: kv[0]):
        write_part(part, table, str(season), out, origin)
        counts[str(season)] = len(part)
    return counts


# --------------------------------------------------------------------------------------------- the build
def _extra_games(odds: pd.DataFrame, games: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Games the odds file lists but no box score covers (December 2020, the 2020 play-in game)."""
    known = set(zip(games["game_date"], games["home_team"], strict=True))
    part = odds[[(d, h) not in known for d, h in zip(odds["game_date"], odds["home_team"], strict=True)]]
    report.note("schedule", f"{len(part)} games from the odds file with no box score: " + ", ".join(
        f"{d} {a}@{h}" for d, a, h in zip(part["game_date"], part["away_team"], part["home_team"], strict=True)
        if d < date(2020, 12, 1)) + (" and the December 2020 games" if (part["season"] == "2020-21").any() else ""))
    return pd.DataFrame({
        "season": part["season"], "game_date": part["game_date"],
        "game_id": [f"{d.isoformat()}-{a}@{h}" for d, a, h in
                    zip(part["game_date"], part["away_team"], part["home_team"], strict=True)],
        "home_team": part["home_team"], "away_team": part["away_team"], "playoffs": part["playoffs"],
    })


def _tips(dk: dict[tuple[date, str, str], pd.Timestamp], injury: dict[tuple[date, str, str], pd.Timestamp],
          report: Report) -> dict[tuple[date, str, str], tuple[pd.Timestamp, str]]:
    tips = {k: (v, "injury_report") for k, v in injury.items()}
    differ = [f"{k[0]} {k[1]}@{k[2]}" for k, v in dk.items() if k in injury and injury[k] != v]
    tips.update({k: (v, "dk") for k, v in dk.items()})
    report.note("schedule", f"tip times: {len(dk)} games from DK Game Info, {len(injury)} from injury reports "
                f"(DK wins where both exist; they disagree on {len(differ)}: {', '.join(sorted(differ)) or '-'})")
    return tips


def _coverage(odds: pd.DataFrame, schedule: pd.DataFrame, report: Report) -> None:
    lines = set(zip(odds["game_date"], odds["home_team"], strict=True))
    games = set(zip(schedule["game_date"], schedule["home_team"], strict=True))
    for season, part in schedule.groupby("season"):
        keys = list(zip(part["game_date"], part["home_team"], strict=True))
        missing = sorted(f"{d} {h}" for d, h in keys if (d, h) not in lines)
        report.note("odds", f"{season}: {len(keys) - len(missing)} of {len(keys)} schedule games have a line; "
                    f"missing: {', '.join(missing) or 'none'}")
    orphans = sorted(f"{d} {h}" for d, h in lines - games)
    report.note("odds", f"odds rows with no schedule game: {len(orphans)} {', '.join(orphans[:10])}")


def _misses(people: People, salaries: pd.DataFrame, report: Report) -> None:
    for source in sorted(people.seen):
        names = people.misses.get(source, Counter())
        report.note("players", f"{source}: {len(people.seen[source])} distinct names, {len(names)} not matched "
                    f"to a box-score or nba.com player (kept as name: ids): {', '.join(sorted(names)) or 'none'}")
    dk = salaries[salaries["source"] == "dk"]
    for slate_id, part in dk.groupby("slate_id"):
        loose = part[part["player_id"].str.startswith("name:")]
        if len(loose):
            report.note("salaries", f"{slate_id}: {len(loose)} of {len(part)} players without a known id: "
                        + ", ".join(sorted(loose["player_name"])))


def build(src: Path, out: Path, tables: tuple[str, ...] = TABLE_NAMES) -> Report:
    """Build `tables` from the data in `src` into `out`; SOURCES.md too when every table is built."""
    if not (src / "PROVENANCE.csv").is_file():
        raise ConfigError(f"{src} is not shared/data/nba (no PROVENANCE.csv); pass --src /path/to/shared/data/nba")
    unknown = sorted(set(tables) - set(TABLE_NAMES))
    if unknown:
        raise ConfigError(f"unknown tables {unknown}; choose from {list(TABLE_NAMES)}")
    report, origin, counts = Report(), f"(built from {src.name}/)", {}
    odds = build_odds(src, report)
    if set(tables) <= {"odds"}:
        counts["odds"] = _write_by_season(odds, "odds", out, origin)
        return report
    logs, slug_to_nba = _join_logs(src, report)
    people = _build_people(logs, slug_to_nba, src, report)
    player_logs = build_player_logs(logs, people)
    slates, dk_tips = _load_dk_slates(src, report)
    injuries, injury_tips = build_injuries(src, people, report)
    schedule = build_schedule(player_logs, _tips(dk_tips, injury_tips, report), odds, report)
    _coverage(odds, schedule, report)
    salaries = build_salaries(src, slates, schedule, people, report)
    _misses(people, salaries, report)
    used = set(player_logs["player_id"]) | set(salaries["player_id"]) | set(injuries["player_id"])
    frames = {"player_logs": player_logs, "schedule": schedule, "salaries": salaries, "odds": odds,
              "injuries": injuries}
    for table in tables:
        if table == "players":
            players = build_players(people, used)
            write_part(players, "players", "all", out, origin)
            counts["players"] = {"all": len(players)}
        else:
            counts[table] = _write_by_season(frames[table], table, out, origin)
        written = {f"{part}.parquet" for part in counts[table]}
        for stale in sorted((out / table).glob("*.parquet")):
            if stale.name not in written:
                stale.unlink()
    if set(tables) == set(TABLE_NAMES):
        (out / "SOURCES.md").write_text(render_sources(src, out, counts, report))
    return report


# --------------------------------------------------------------------------------------------- SOURCES.md
_RENAMED = {"sbr_2019-20.csv": "nba odds 2019-20.csv"}  # local name -> the name PROVENANCE.csv records
_ABOUT = {
    "player_logs": "Basketball-Reference game-finder exports (every game incl. the 2020 bubble and playoffs) "
                   "joined to stats.nba.com LeagueGameLog rows for `player_id`, `game_id` and `plus_minus`; "
                   "box-score numbers are Basketball-Reference's. `started` = bbref `GS`; `stats_source` says "
                   "whether an nba.com row was paired. Games without an nba.com GAME_ID (playoffs, bubble) get "
                   "`<date>-<away>@<home>`; `plus_minus` is null there (bbref exports have no +/-).",
    "schedule": "One row per game of player_logs, plus December 2020 games from the odds file (2020-21 part). "
                "`tip_time` from DraftKings Game Info where a DK file covers the game (`dk`), else from the "
                "official injury report's game time (`injury_report`, bubble and December 2020), else 19:00 "
                "US/Eastern (`default`).",
    "salaries": "rotoguru daily DraftKings salaries (`slate_id` rotoguru-<date>, no DK ids; `positions` derived "
                "from rotoguru's roster-slot list) and every real DraftKings classic export up to 2020-12-31 "
                "(`slate_id` dk-<date>-<8 hex of the file>, `dk_id`, `tip_time`, `avg_points`).",
    "odds": "Closing lines from the Kaggle 2007-2025 file; `spread_home` < 0 when the home team is favoured. "
            "Cross-checked against, and completed from, sportsbookreviewsonline 2019-20.",
    "injuries": "Official NBA injury reports (tables parsed from the PDFs) for 2020-07-30 .. 08-12 (bubble) and "
                "2020-12-22 .. 12-29; `report_time` from the file name (US/Eastern, stored UTC).",
    "players": "Identity map: every name a player goes by in any source, with the `player_id` every table uses "
               "(stats.nba.com id, else `bbref:<slug>`, else `name:<name_key>`).",
}


_QUIRKS = {
    "player_logs": [
        "Basketball-Reference names carry diacritics (`Luka Dončić`), nba.com names do not; nba.com now shows "
        "Enes Kanter as `Enes Freedom` (the name he took in 2021); ten more players go by a different first name "
        "in the two sources (see NAME_ALIASES in projections/identity.py).",
        "The 2020-08-15 MEM@POR play-in game is missing from the Basketball-Reference export, so it has a "
        "schedule and odds row but no box scores.",
        "Both sources give whole minutes; `minutes` is a float for the day a source gives seconds.",
    ],
    "schedule": [
        "Bubble games (2020-07-30 .. 10-11) were at a neutral site; `home_team` is the designated home team.",
        "`default` tip times (19:00 ET) are placeholders: most bubble games tipped at other times.",
        "Postponed games (2020-03-11 UTA@OKC, NOP@SAC) are not in the schedule; rotoguru still lists them.",
    ],
    "salaries": [
        "rotoguru `position` is the DK roster-slot list (`G/PG/SG/UTIL`); `positions` keeps the primary ones in "
        "DK order (`PG/SG`) and `roster_positions` is rebuilt in DK's format (`PG/SG/G/UTIL`).",
        "The DK file named `DKSalaries-july29` holds the 2020-07-30 slate (its Game Info says 07/30/2020).",
        "Two DK files on the same day can be different slates (2020-08-10 early and main): each keeps its own "
        "`slate_id`; copies that differ only in team spellings (NY vs NYK) or line endings are dropped.",
    ],
    "odds": [
        "The Kaggle file gives an unsigned `spread` plus `whos_favored`; moneylines are present for every game "
        "in this range (the file lacks them only from 2023-01-17 on).",
    ],
    "injuries": [
        "Blank cells repeat the value above (Game Date, Game Time, Matchup, Team are forward-filled within a "
        "report); `Player Name` is `Last, First` and is flipped; `Game Time` is printed without AM/PM.",
        "Teams that had not submitted their report appear as `NOT YET SUBMITTED` lines without a player.",
    ],
    "players": [
        "misc/player_map.csv carries a third party's fuzzy matches; entries that contradict the box scores are "
        "rejected (listed above). Player ids for names no box score knows come from stats.nba.com "
        "commonallplayers (careers touching 2015-2024, unique names only).",
    ],
}


def _provenance(src: Path) -> dict[str, list[dict[str, str]]]:
    rows = pd.read_csv(src / "PROVENANCE.csv", dtype=str).fillna("")
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows.to_dict("records"):
        found[Path(row["local_path"]).name].append(row)
    return found


def render_sources(src: Path, out: Path, counts: dict[str, dict[str, int]], report: Report) -> str:
    prov = _provenance(src)
    lines = ["# Sources of the shipped archive", "",
             "Generated by `python -m projections.archive_build` from `shared/data/nba` (real public data, "
             "copied unchanged from public repositories; origins in its PROVENANCE.csv). Do not edit by hand: "
             "rerun the build. Parquet is zstd, rows sorted, no pandas metadata; two builds are byte-identical.",
             ""]
    for table in TABLE_NAMES:
        lines += [f"## {table}", "", _ABOUT[table], "", "| part | rows | bytes |", "|---|---|---|"]
        for part, rows in counts[table].items():
            size = (out / table / f"{part}.parquet").stat().st_size
            lines.append(f"| {table}/{part}.parquet | {rows} | {size} |")
        lines += ["", "Files (path under shared/data/nba -> origin repository, path, commit, license):", ""]
        groups: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for rel in sorted(report.files[table]):
            name = Path(rel).name
            entries = prov.get(_RENAMED.get(name, name), [])
            if entries:
                first = entries[0]
                origin = (first["origin_repo"], str(Path(first["origin_path"]).parent) + "/",
                          first["commit"], first["license"])
            else:
                origin = ("(not in PROVENANCE.csv)", "", "", "")
            groups[origin].append(rel + (f" (recorded as '{_RENAMED[name]}')" if name in _RENAMED else ""))
        for (repo, folder, commit, lic), rels in sorted(groups.items()):
            shown = rels if len(rels) <= 3 else [rels[0], f"... {len(rels) - 2} more ...", rels[-1]]
            lines.append(f"- {repo} `{folder}` @ {commit} ({lic}): {len(rels)} file(s): "
                         + "; ".join(f"`{r}`" for r in shown))
        lines += ["", "Build notes (join rates, gaps, quirks):", ""]
        lines += [f"- {note}" for note in report.notes.get(table, [])]
        lines += [f"- {quirk}" for quirk in _QUIRKS[table]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m projections.archive_build", description=__doc__.split("\n")[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="shared/data/nba (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="archive folder (default: %(default)s)")
    parser.add_argument("--tables", default=",".join(TABLE_NAMES), help="comma list (default: all)")
    args = parser.parse_args(argv)
    try:
        report = build(args.src, args.out, tuple(t for t in args.tables.split(",") if t))
    except ConfigError as exc:
        print(f"archive_build: {exc}", file=sys.stderr)
        return 2
    for table in TABLE_NAMES:
        for note in report.notes.get(table, []):
            print(f"[{table}] {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

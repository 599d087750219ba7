"""salaries: rotoguru daily DraftKings salaries and the real DraftKings classic exports (DKSalaries.csv).

`load_dk_slates` reads the DK files (dropping duplicates and non-classic slates) and every tip time their Game
Info states (`parse_game_info`); `build_salaries` joins both sources to the schedule and resolves player ids.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from projections.archive_build.common import LAST_DAY, Report, eastern_to_utc, note_spellings, read_csv, season_of
from projections.archive_build.players import People
from projections.identity import team_code

_PRIMARY = ("PG", "SG", "SF", "PF", "C")


@dataclass(frozen=True)
class DkSlate:
    file: str
    slate_date: date
    slate_id: str
    frame: pd.DataFrame


def parse_game_info(info: str) -> tuple[str, str, date, int, int]:
    """"MIL@BOS 10/30/2019 07:30PM ET" -> (away, home, game date, hour, minute) in US/Eastern."""
    match = re.fullmatch(r"(\w+)@(\w+) (\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d)([AP]M) ET", str(info).strip())
    if match is None or not (1 <= int(match[6]) <= 12 and int(match[7]) < 60):
        raise ValueError(f"DK Game Info {info!r} is not 'AWY@HOM MM/DD/YYYY HH:MMPM ET'")
    away, home, mon, day, year, hour, minute, half = match.groups()
    hour24 = int(hour) % 12 + (12 if half == "PM" else 0)
    return team_code(away), team_code(home), date(int(year), int(mon), int(day)), hour24, int(minute)


def _load_dk(path: Path) -> pd.DataFrame:
    raw = read_csv(path)
    parsed = [parse_game_info(info) for info in raw["Game Info"]]
    return pd.DataFrame({
        "dk_id": raw["ID"].astype("int64"), "player_name": raw["Name"].str.strip(),
        "positions": raw["Position"], "roster_positions": raw["Roster Position"],
        "salary": raw["Salary"].astype("int64"), "team": raw["TeamAbbrev"].map(team_code),
        "team_raw": raw["TeamAbbrev"],
        "away": [p[0] for p in parsed], "home": [p[1] for p in parsed], "game_date": [p[2] for p in parsed],
        "tip_time": [eastern_to_utc(p[2], p[3], p[4]) for p in parsed],
        "avg_points": raw["AvgPointsPerGame"].astype(float),
    })


def load_dk_slates(src: Path, report: Report) -> tuple[list[DkSlate], dict[tuple[date, str, str], pd.Timestamp]]:
    """Real DraftKings classic slates up to LAST_DAY (duplicates dropped) and every tip time they state."""
    folder = src / "salaries" / "dk"
    manifest = read_csv(folder / "MANIFEST.csv")
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
    note_spellings(report, "salaries", "DraftKings (TeamAbbrev and Game Info)", spellings)
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
    raw = pd.concat([read_csv(p) for p in paths], ignore_index=True)
    unpriced = raw["salary"].isna()
    report.note("salaries", f"rotoguru: {len(paths)} daily files, {len(raw)} rows; dropped {int(unpriced.sum())} "
                f"rows without a salary (position 'NA/UTIL': listed but not offered that day)")
    raw = raw[~unpriced]
    note_spellings(report, "salaries", "rotoguru", raw["team"])
    primary = raw["position"].str.split("/").map(lambda parts: [p for p in _PRIMARY if p in parts])
    return pd.DataFrame({
        "game_date": pd.to_datetime(raw["date"]).dt.date, "player_name": raw["name"].str.strip(),
        "team": raw["team"].map(team_code), "positions": primary.map("/".join),
        "roster_positions": primary.map(roster_positions_of), "salary": raw["salary"].astype("int64"),
        "starter": raw["starter"].astype(bool),
    })


def build_salaries(src: Path, slates: list[DkSlate], schedule: pd.DataFrame, people: People,
                   report: Report) -> pd.DataFrame:
    """The salaries table: rotoguru rows and the kept DK slates, with opponents, tips and player ids."""
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

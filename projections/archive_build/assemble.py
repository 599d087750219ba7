"""`build`: every table in dependency order, checked and written, and SOURCES.md when every table is built.

odds first (it needs nothing else), then the log join and the identity join, player_logs, the DK slates and
injury reports (both give tip times), schedule, salaries and players; the cross-checks between tables go into
the Report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from projections.archive_build.common import TABLE_NAMES, Report
from projections.archive_build.injuries import build_injuries
from projections.archive_build.odds import build_odds
from projections.archive_build.player_logs import build_player_logs, join_logs
from projections.archive_build.players import People, build_people, build_players
from projections.archive_build.salaries import build_salaries, load_dk_slates
from projections.archive_build.schedule import build_schedule, tip_times
from projections.archive_build.sources_md import render_sources
from projections.archive_build.write import write_by_season, write_part
from projections.errors import ConfigError


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
        counts["odds"] = write_by_season(odds, "odds", out, origin)
        return report
    logs, slug_to_nba = join_logs(src, report)
    people = build_people(logs, slug_to_nba, src, report)
    player_logs = build_player_logs(logs, people)
    slates, dk_tips = load_dk_slates(src, report)
    injuries, injury_tips = build_injuries(src, people, report)
    schedule = build_schedule(player_logs, tip_times(dk_tips, injury_tips, report), odds, report)
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
            counts[table] = write_by_season(frames[table], table, out, origin)
        written = {f"{part}.parquet" for part in counts[table]}
        for stale in sorted((out / table).glob("*.parquet")):
            if stale.name not in written:
                stale.unlink()
    if set(tables) == set(TABLE_NAMES):
        (out / "SOURCES.md").write_text(render_sources(src, out, counts, report))
    return report

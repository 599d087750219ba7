"""injuries: the official NBA injury reports (tables parsed from the PDFs), bubble and December 2020.

`read_report` reads one report table the way the PDF prints it (blank cells repeat the cell above, reasons
wrapped onto extra lines are rejoined); projections/sources/files.py reuses it for uploaded reports.
`build_injuries` makes the table and the tip times the reports state.

A report's time is the one its PDF's title prints, as `projections ingest injuries` and the live fetch take it:
the saved files' names are a label, not the time (December 2020's "11AM", "02PM" and "05PM" reports were
published at 1:30, 5:30 and 8:30 PM ET, the bubble's "05PM" at 5:30 PM), and a report dated by its name reached
slates that locked before it was out. Only a table without its PDF beside it is dated by its name.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from projections import schema
from projections.archive_build.common import Report, eastern_to_utc, note_spellings, read_csv, season_of
from projections.archive_build.players import People
from projections.identity import flip_last_first, team_code
from projections.sources.parsers.injury_pdf import title_time

_REPORT_NAME = re.compile(r"Injury-Report_(\d{4})-(\d\d)-(\d\d)_(\d\d)(AM|PM)\.csv")
_NOT_SUBMITTED = "NOT YET SUBMITTED"


def _report_time(path: Path) -> pd.Timestamp:
    """When the report at `path` (a table parsed from a PDF) was published: its PDF's title time (../pdf/<same
    name>.pdf), else the time its name says."""
    pdf = path.parent.parent / "pdf" / f"{path.stem}.pdf"
    when = title_time(pdf.read_bytes()) if pdf.is_file() else None
    return pd.Timestamp(when) if when is not None else _named_time(path)


def _named_time(path: Path) -> pd.Timestamp:
    match = _REPORT_NAME.fullmatch(path.name)
    if match is None:
        raise ValueError(f"injury report file {path.name!r} is not named Injury-Report_YYYY-MM-DD_HHAM|PM.csv")
    year, month, day, hour, half = match.groups()
    return eastern_to_utc(date(int(year), int(month), int(day)), int(hour) % 12 + (12 if half == "PM" else 0), 0)


def read_report(path: Path) -> tuple[pd.DataFrame, int, int]:
    """One injury report: blank cells repeat the cell above; reasons wrapped onto extra lines are rejoined."""
    raw = read_csv(path, dtype=str)
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


def report_tip(day: date, game_time: str) -> pd.Timestamp:
    """A report's Game Time ("07:30 (ET)", printed without AM/PM) on its game date, in UTC: every NBA tip is between
    noon and midnight."""
    hour, minute = (int(x) for x in game_time.split()[0].split(":"))
    return eastern_to_utc(day, hour % 12 + 12, minute)


def report_games(path: Path) -> pd.DataFrame:
    """Every game one report names (Game Date, Game Time, Matchup), those of teams that had not submitted their
    lines too: a game named on 'NOT YET SUBMITTED' lines alone still has its tip (2020-08-01's 3:30 PM UTA@OKC)."""
    raw = read_csv(path, dtype=str)
    games = raw[["Game Date", "Game Time", "Matchup"]].ffill()
    return games.dropna().drop_duplicates()


def build_injuries(src: Path, people: People, report: Report
                   ) -> tuple[pd.DataFrame, dict[tuple[date, str, str], pd.Timestamp]]:
    """The injuries table from every report, and (date, away, home) -> tip time from their Game Time."""
    paths = sorted((src / "injuries" / "2020" / "csv").glob("Injury-Report_*.csv"))
    report.used("injuries", paths, src)
    report.used("schedule", paths, src)
    report.used("injuries", sorted((src / "injuries" / "2020" / "pdf").glob("Injury-Report_*.pdf")), src)
    frames, tips, pending, rejoined, renamed = [], {}, 0, 0, 0
    games = pd.concat([report_games(path) for path in paths], ignore_index=True).drop_duplicates()
    for day, time, matchup in zip(pd.to_datetime(games["Game Date"], format="%m/%d/%Y").dt.date, games["Game Time"],
                                  games["Matchup"], strict=True):
        away, home = (team_code(t) for t in matchup.split("@"))
        tips[(day, away, home)] = report_tip(day, time)
    for path in paths:
        rows, not_submitted, fixed = read_report(path)
        pending += not_submitted
        rejoined += fixed
        when = _report_time(path)
        renamed += when != _named_time(path)
        frames.append(rows.assign(report_time=when))
    raw = pd.concat(frames, ignore_index=True)
    bad = sorted(set(raw["Current Status"]) - set(schema.INJURY_STATUSES))
    if bad:
        raise ValueError(f"injury reports hold statuses {bad} outside {schema.INJURY_STATUSES}")
    game_date = pd.to_datetime(raw["Game Date"], format="%m/%d/%Y").dt.date
    note_spellings(report, "injuries", "injury report (Team column)", raw["Team"])
    names = raw["Player Name"].map(flip_last_first)
    out = pd.DataFrame({
        "season": game_date.map(season_of), "report_time": raw["report_time"].astype("datetime64[us, UTC]"),
        "game_date": game_date, "team": raw["Team"].map(team_code),
        "player_id": [people.resolve(n, "injuries") for n in names], "player_name": names,
        "status": raw["Current Status"], "reason": raw["Reason"], "matchup": raw["Matchup"],
    })
    report.note("injuries", f"{len(paths)} reports, {len(out)} player lines; {pending} 'NOT YET SUBMITTED' team "
                f"lines dropped; {rejoined} reasons rejoined from lines the PDF parse had split; {renamed} reports "
                "published at another time than their file name says (the PDF's title is taken)")
    return out, tips

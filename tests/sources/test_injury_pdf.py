"""The official injury report as the NBA publishes it, a PDF: read into its table, and fetched live (the newest
report of the date, found by asking the date's quarter hours) from a real 127.0.0.1 server serving the real PDFs of
shared/data/nba/injuries (2020: ruled tables; December 2023: no rules, reasons wrapped above and below their line).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from projections import schema
from projections.archive_build import read_report
from projections.settings_tables import LiveSettings
from projections.sources import injuries_live, snapshots
from projections.sources.parsers.injury_pdf import report_table
from tests.conftest import SHARED, run_cli
from tests.net.faultserver import FaultServer

PDFS_2020 = sorted((SHARED / "injuries" / "2020" / "pdf").glob("Injury-Report_*.pdf"))
PDFS_2023 = sorted((SHARED / "injuries" / "2023-12" / "pdf").glob("injury_report_*.pdf"))
DAY = dt.date(2020, 8, 6)


def _rows(table: pd.DataFrame) -> list[tuple[str, ...]]:
    cols = ["Game Date", "Game Time", "Matchup", "Team", "Player Name", "Current Status", "Reason"]
    return [tuple(" ".join(str(v).split()) for v in row) for row in table[cols].fillna("").itertuples(index=False)]


def test_every_2020_report_reads_as_its_published_table() -> None:
    """Each of the 64 official PDFs of 2020 reads as the table published beside it (shared/data/nba/injuries/2020/
    csv, what the archive is built from): every player, status, reason, team, game and time, in order (spaces
    aside: the tables keep a doubled space the PDF does not print)."""
    assert len(PDFS_2020) == 64
    hours = {True: 0, False: 0}
    for path in PDFS_2020:
        content, when = report_table(path.read_bytes(), path.name)
        parsed, _, _ = read_report(io.BytesIO(content))  # type: ignore[arg-type]
        published, _, _ = read_report(path.parent.parent / "csv" / path.with_suffix(".csv").name)
        assert _rows(parsed) == _rows(published), path.name
        local = when.astimezone(injuries_live.EASTERN) if when is not None else None
        assert local is not None and local.minute in (0, 30) and local.date().isoformat() == path.stem[14:24], \
            path.name
        hours[path.stem[-4:] == local.strftime("%I%p")] += 1
    # the title's time is the file's hour (2020-07-30 02PM: 2:00 PM) or half an hour later (05PM: 5:30 PM), but
    # a few December files were saved under another report's name (2020-12-22 02PM holds the 5:30 PM report): the
    # live fetch stamps a report with its title, not with the name it was found under
    assert hours[True] > hours[False] > 0, hours


def _printed_statuses(path: Path) -> int:
    """How many statuses the PDF prints, on all its pages (its plain text, read without the table layout)."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    return len(re.findall(r"\b(?:Out|Doubtful|Questionable|Probable|Available)\b", text))


def test_a_2023_report_without_rules_rejoins_reasons_wrapped_around_their_line() -> None:
    """December 2023's layout has no table rules and centres a two-line reason on its player's line (half above,
    half below), and prints its column headers on the first page only: every player of every page of each report
    comes with a status and a whole reason (the header used to be looked for on each page: only page 1's players,
    about 15 of a report's 120, were read)."""
    assert len(PDFS_2023) == 54
    players = 0
    for path in PDFS_2023:
        content, when = report_table(path.read_bytes(), path.name)
        parsed, _, _ = read_report(io.BytesIO(content))  # type: ignore[arg-type]
        assert set(parsed["Current Status"]) <= set(schema.INJURY_STATUSES), path.name
        assert parsed["Player Name"].str.fullmatch(r"[^,]+, [^,]+").all(), path.name
        assert parsed["Reason"].notna().all() and when is not None, path.name
        assert len(parsed) == _printed_statuses(path), path.name
        players += len(parsed)
    first, _ = report_table(PDFS_2023[0].read_bytes(), PDFS_2023[0].name)
    rows = read_report(io.BytesIO(first))[0].set_index("Player Name")  # type: ignore[arg-type]
    assert rows.loc["Rollins, Ryan", "Reason"] == "Injury/Illness - Right Knee; Right knee strain"
    assert rows.loc["Carter Jr., Wendell", "Reason"] == "Injury/Illness - Left Hand; Fractured third metacarpal"
    # page 2 of 9 (no header): its first player, and the last team's game on the last page
    assert tuple(rows.loc["Morant, Ja", ["Team", "Current Status", "Reason"]]) == (
        "Memphis Grizzlies", "Out", "League Suspension")
    assert rows.loc["Doncic, Luka", "Matchup"] == "MEM@DAL"
    assert players > 6000


def test_the_report_names_asked_are_the_dates_quarter_hours_newest_first() -> None:
    at = dt.datetime(2020, 8, 6, 22, 50, tzinfo=dt.UTC)  # 18:50 US/Eastern
    assert injuries_live.report_names(DAY, at)[:6] == ["06_45PM", "06_30PM", "06PM", "06_15PM", "06_00PM", "05_45PM"]
    assert len(injuries_live.report_names(DAY, at)) == injuries_live.LOOKBACK + 3  # three half hours: hourly too
    assert injuries_live.report_names(DAY, dt.datetime(2020, 8, 6, 3, 50, tzinfo=dt.UTC)) == []  # 23:50 ET the 5th
    assert injuries_live.report_names(DAY, dt.datetime(2020, 8, 6, 4, 10, tzinfo=dt.UTC)) == ["12_00AM"]
    assert injuries_live.report_names(DAY, dt.datetime(2020, 8, 9, tzinfo=dt.UTC))[0] == "11_45PM"


def _env(server: FaultServer, now: str) -> dict[str, str]:
    return {"PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__NOW": now,
            "PROJECTIONS_LIVE__INJURIES__URL": server.url("/inj/Injury-Report_{date}_{report}.pdf"),
            "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
            "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0", "PROJECTIONS_LIVE__HOST_INTERVALS": "{}",
            "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01",
            "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05"}


def test_a_live_fetch_takes_the_newest_published_report_of_the_date(tmp_path: Path) -> None:
    """The day's real reports (11AM, 02PM, 05PM) served as the NBA's server does (any other name: 403). At 15:10 ET
    the names from 03_00PM back are asked until 02PM answers; at 18:50 ET, from 06_45PM back to 05PM (the 5:30 PM
    report): its statuses are those of the table the archive holds for that report, stamped with the report's time
    (its title, 21:30Z), and the PDF is kept."""
    home = tmp_path / "home"
    with FaultServer() as server:
        for path in PDFS_2020:
            if path.stem.startswith("Injury-Report_2020-08-06"):
                server.replay(f"/inj/{path.name}", path.read_bytes())
        early = run_cli(home, "fetch", "injuries", DAY.isoformat(), **_env(server, "2020-08-06T19:10:00Z"))
        before = len(server.requests)
        first = run_cli(home, "fetch", "injuries", DAY.isoformat(), **_env(server, "2020-08-06T22:50:00Z"))
        asked = [r.path.split("2020-08-06_")[1] for r in server.requests]
    assert early.returncode == 0, early.stdout + early.stderr
    assert asked[:before] == ["03_00PM.pdf", "02_45PM.pdf", "02_30PM.pdf", "02PM.pdf"], asked
    assert first.returncode == 0, first.stdout + first.stderr
    assert asked[before:] == ["06_45PM.pdf", "06_30PM.pdf", "06PM.pdf", "06_15PM.pdf", "06_00PM.pdf", "05_45PM.pdf",
                              "05_30PM.pdf", "05PM.pdf"], asked
    entries = snapshots.entries(home, "injuries", DAY)
    assert len(entries) == 2
    newest = snapshots.select(entries, None)
    assert newest is not None
    capture = pd.read_parquet(snapshots.data_path(home, newest))
    assert set(capture["report_time"].astype(str)) == {"2020-08-06 21:30:00+00:00"}
    archive = pd.read_parquet(Path(schema.__file__).parent / "data" / "archive" / "injuries" / "2019-20.parquet")
    report = archive[archive["report_time"] == pd.Timestamp("2020-08-06 21:30", tz="UTC")]  # dated as its title
    assert len(report) > 20
    key = ["game_date", "team", "player_id", "status"]
    assert sorted(map(tuple, capture[key].astype(str).to_numpy())) == sorted(map(tuple, report[key].astype(str)
                                                                                  .to_numpy()))
    assert (snapshots.data_path(home, newest).parent / "raw.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize(("now", "said"), [
    ("2020-08-06T14:00:00Z", "no injury report of 2020-08-06 published yet (asked 10_00AM back to 07_15AM)"),
    ("2020-08-06T18:00:00Z", "after 13:00 ET: the NBA is late or names its reports anew, or live.injuries.url is "
                             "wrong; no status known (`projections ingest injuries FILE` takes a report downloaded "
                             "by hand) (asked 02_00PM back to 11_15AM, each answered 403/404)")],
    ids=["morning", "afternoon"])
def test_a_date_with_no_report_published_is_an_empty_capture_that_says_why(tmp_path: Path, now: str,
                                                                          said: str) -> None:
    """Every name asked answers 404: no status is known, which the capture says (in the afternoon, that something is
    wrong), and the slate goes on: a report the NBA names anew must not stop every run."""
    home = tmp_path / "home"
    with FaultServer() as server:
        result = run_cli(home, "fetch", "injuries", DAY.isoformat(), **_env(server, now))
        asked = len(server.requests)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    assert asked == injuries_live.LOOKBACK + 3 + injuries_live.EVENING + 4  # the evening before asked as well
    assert said in text and "Traceback" not in text
    [entry] = snapshots.entries(home, "injuries", DAY)
    assert entry.rows == 0


def test_live_settings_ask_the_nbas_official_report_unless_told_otherwise() -> None:
    """The default a live user gets (not the constant read back: the settings' own template, and "" turning it off)."""
    assert LiveSettings().url_template("injuries") == \
        "https://ak-static.cms.nba.com/referee/injury/Injury-Report_{date}_{report}.pdf"
    assert LiveSettings(injuries={"url": ""}).url_template("injuries") == ""


def test_a_report_served_cut_short_fails_the_fetch_naming_it(tmp_path: Path) -> None:
    """The newest report served cut off mid-file (a damaged upload): the fetch fails naming the unreadable PDF and
    the fix - no traceback - and records nothing, so the last capture carries on."""
    home = tmp_path / "home"
    whole = next(p for p in PDFS_2020 if p.name == "Injury-Report_2020-08-06_02PM.pdf").read_bytes()
    with FaultServer() as server:
        server.replay("/inj/Injury-Report_2020-08-06_02PM.pdf", whole[: len(whole) // 3])
        result = run_cli(home, "fetch", "injuries", DAY.isoformat(), **_env(server, "2020-08-06T19:10:00Z"))
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "injury report: not a readable PDF" in text and "live.injuries.url" in text and "Traceback" not in text
    assert snapshots.entries(home, "injuries", DAY) == []


def test_a_report_whose_teams_have_not_submitted_yet_is_an_empty_capture(tmp_path: Path) -> None:
    """The 1:30 PM report of 2020-12-24 (saved as its 11AM file) lists Christmas Day's ten teams, every one 'NOT YET
    SUBMITTED': no player, so no status known - a capture of no rows, not a failed fetch (its empty table once had
    no column types and broke the injuries contract)."""
    home = tmp_path / "home"
    report = (SHARED / "injuries" / "2020" / "pdf" / "Injury-Report_2020-12-24_11AM.pdf").read_bytes()
    with FaultServer() as server:
        server.replay("/inj/Injury-Report_2020-12-24_01PM.pdf", report)
        result = run_cli(home, "fetch", "injuries", "2020-12-24", **_env(server, "2020-12-24T18:50:00Z"))
        asked = [r.path.rsplit("_", 1)[-1] for r in server.requests]
    assert result.returncode == 0, result.stdout + result.stderr
    assert asked == ["45PM.pdf", "30PM.pdf", "01PM.pdf"], asked
    [entry] = snapshots.entries(home, "injuries", dt.date(2020, 12, 24))
    assert entry.rows == 0
    assert (snapshots.data_path(home, entry).parent / "raw.pdf").read_bytes() == report


def test_before_the_dates_first_report_the_previous_evenings_report_listing_its_games_is_taken(tmp_path: Path) -> None:
    """Christmas Day 2020 at 11:45 AM ET: its first report (1:30 PM) is not out, and its noon game locks before it.
    The 8:30 PM report of the 24th (saved as its 05PM file, served under the name the NBA gave it, 08PM) lists the
    25th's games: the capture holds those statuses, stamped 8:30 PM of the 24th, as the archive has them. The 23rd's
    8:30 PM report lists the 23rd's games only: a fetch for the 24th takes nothing from it and says so."""
    home = tmp_path / "home"
    pdf = SHARED / "injuries" / "2020" / "pdf"
    with FaultServer() as server:
        for day in ("2020-12-24", "2020-12-23"):
            server.replay(f"/inj/Injury-Report_{day}_08PM.pdf", (pdf / f"Injury-Report_{day}_05PM.pdf").read_bytes())
        christmas = run_cli(home, "fetch", "injuries", "2020-12-25", **_env(server, "2020-12-25T16:45:00Z"))
        asked = [r.path.split("Injury-Report_")[1] for r in server.requests]
        eve = run_cli(home, "fetch", "injuries", "2020-12-24", **_env(server, "2020-12-24T16:45:00Z"))
    assert christmas.returncode == 0, christmas.stdout + christmas.stderr
    assert asked[0] == "2020-12-25_11_45AM.pdf" and asked[-1] == "2020-12-24_08PM.pdf", asked
    assert "statuses from 2020-12-24's evening report" in christmas.stdout + christmas.stderr
    [entry] = snapshots.entries(home, "injuries", dt.date(2020, 12, 25))
    capture = pd.read_parquet(snapshots.data_path(home, entry))
    assert set(capture["report_time"].astype(str)) == {"2020-12-25 01:30:00+00:00"}
    archive = pd.read_parquet(Path(schema.__file__).parent / "data" / "archive" / "injuries" / "2020-21.parquet")
    report = archive[(archive["report_time"] == pd.Timestamp("2020-12-25 01:30", tz="UTC"))
                     & (archive["game_date"] == dt.date(2020, 12, 25))]
    assert len(report) > 10
    key = ["game_date", "team", "player_id", "status"]
    assert sorted(map(tuple, capture[key].astype(str).to_numpy())) == sorted(map(tuple, report[key].astype(str)
                                                                                  .to_numpy()))
    assert eve.returncode == 0, eve.stdout + eve.stderr
    assert "the newest evening report of 2020-12-23 lists none of 2020-12-24's games" in eve.stdout + eve.stderr
    [empty] = snapshots.entries(home, "injuries", dt.date(2020, 12, 24))
    assert empty.rows == 0


def test_a_report_host_refusing_after_a_capture_fails_the_fetch_and_the_capture_carries_on(tmp_path: Path) -> None:
    """At 15:10 ET the 2 PM report of 2020-08-06 is captured; at 18:50 ET every name answers 403 (the host refusing,
    or reports named anew). That is no "none published yet": an empty capture would take the report back from the
    slate. The fetch fails naming it, and the 2 PM capture stays the newest. Kills: a 0-row capture recorded and
    read by the next build (every status of the day lost)."""
    home = tmp_path / "home"
    report = next(p for p in PDFS_2020 if p.name == "Injury-Report_2020-08-06_02PM.pdf").read_bytes()
    with FaultServer() as server:
        server.replay("/inj/Injury-Report_2020-08-06_02PM.pdf", report)
        first = run_cli(home, "fetch", "injuries", DAY.isoformat(), **_env(server, "2020-08-06T19:10:00Z"))
    with FaultServer() as refusing:
        later = run_cli(home, "fetch", "injuries", DAY.isoformat(), **_env(refusing, "2020-08-06T22:50:00Z"))
    assert first.returncode == 0, first.stdout + first.stderr
    text = later.stdout + later.stderr
    assert later.returncode == 1 and "Traceback" not in text, text
    assert "no report of 2020-08-06 answered (asked 06_45PM back to 04_00PM and the evening before" in text, text
    assert "though the report of 2020-08-06 18:00Z was captured" in text and "the last capture carries on" in text
    [entry] = snapshots.entries(home, "injuries", DAY)
    assert entry.rows == 29

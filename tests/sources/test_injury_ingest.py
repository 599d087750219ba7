"""`projections ingest injuries`: the NBA's official injury reports a person downloaded (the real PDFs and tables of
shared/data/nba/injuries) become their dates' injuries captures, each known from the time it was published, so a
slate rebuilt at its lock reads the newest report published before it; a bad file changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from projections.sources import snapshots
from tests.conftest import SHARED, run_cli, run_doit, tree_snapshot

REPORTS = SHARED / "injuries" / "2020"
DAY = dt.date(2020, 8, 6)
PDFS = [REPORTS / "pdf" / f"Injury-Report_2020-08-06_{hour}.pdf" for hour in ("11AM", "02PM", "05PM")]
TABLE = REPORTS / "csv" / "Injury-Report_2020-08-06_05PM.csv"
DEC_2023 = SHARED / "injuries" / "2023-12" / "pdf" / "injury_report_2023-12-01_05PM.pdf"


def _injuries_build(home: Path) -> tuple[str, str, pd.DataFrame]:
    """(the key, what its report source read, the table) of the injuries stage of DAY as built in `home`."""
    from projections.settings import load_settings
    from projections.wiring import make_engine

    engine = make_engine(load_settings(home=home))
    plan = engine.plan("injuries", DAY)
    assert plan.object is not None and plan.key is not None, plan.reason
    read = "; ".join(r.describe for r in plan.resolved.values())
    return plan.key, read, pd.read_parquet(engine.store.path(plan.object, "data.parquet"))


def test_official_pdfs_give_a_past_slate_the_report_it_had_at_its_lock(tmp_path: Path) -> None:
    """The three reports of 2020-08-06 ingested from their PDFs: each is a capture at its title's time, and the
    slate (locked at 4 PM ET) reads the 2 PM report - not the 5:30 PM one published after the lock - with the very
    statuses the archive (built from the tables published beside the PDFs) gives the same slate."""
    home, plain = tmp_path / "home", tmp_path / "plain"
    result = run_cli(home, "ingest", "injuries", *map(str, PDFS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "Injury-Report_2020-08-06_11AM.pdf: injury report of 2020-08-06 at 11:00 AM ET, 19 players of 7 teams "
        "(new snapshot)",
        "Injury-Report_2020-08-06_02PM.pdf: injury report of 2020-08-06 at 02:00 PM ET, 29 players of 9 teams "
        "(new snapshot; also of 2020-08-07, whose games it lists)",
        "Injury-Report_2020-08-06_05PM.pdf: injury report of 2020-08-06 at 05:30 PM ET, 57 players of 17 teams "
        "(new snapshot; published after the slate's lock (04:00 PM ET), so the slate does not read it; also of "
        "2020-08-07, whose games it lists)"]
    found = snapshots.entries(home, "injuries", DAY)
    assert [e.captured_at.isoformat() for e in found] == [
        "2020-08-06T15:00:00+00:00", "2020-08-06T18:00:00+00:00", "2020-08-06T21:30:00+00:00"]
    assert [e.url for e in found] == [f"file:{p.name}" for p in PDFS]
    stored = snapshots.data_path(home, found[1]).parent
    assert (stored / "raw.pdf").read_bytes() == PDFS[1].read_bytes()  # the file as downloaded, kept

    for root in (home, plain):
        result = run_doit(root, "injuries", f"date={DAY}")
        assert result.returncode == 0, result.stdout + result.stderr
    (key, read, table), (plain_key, plain_read, plain_table) = _injuries_build(home), _injuries_build(plain)
    assert key != plain_key  # it read the capture, not the archive
    assert "snapshot injuries 2020-08-06 captured 2020-08-06T18:00:00.000Z" in read, read
    assert "snapshot" not in plain_read, plain_read
    assert len(table) > 0
    pd.testing.assert_frame_equal(table, plain_table)

    again = run_cli(home, "ingest", "injuries", str(PDFS[1]))
    assert again.returncode == 0 and again.stdout.endswith("(already known; also of 2020-08-07, whose games it "
                                                           "lists)\n"), again.stdout
    assert len(snapshots.entries(home, "injuries", DAY)) == 3
    assert len(snapshots.entries(home, "injuries", DAY + dt.timedelta(days=1))) == 2  # the 2 PM and 5:30 PM ones


def test_a_table_needs_the_time_it_was_published(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_cli(home, "ingest", "injuries", str(TABLE))
    assert result.returncode == 2
    assert "a report table carries no time of its own; give --at" in result.stderr, result.stderr
    assert not home.exists()  # nothing written, not even a lock file
    result = run_cli(home, "ingest", "injuries", str(TABLE), "--at", "2020-08-06 17:30")
    assert result.returncode == 0, result.stderr
    assert "injury report of 2020-08-06 at 05:30 PM ET, 57 players of 17 teams (new snapshot; published after the " \
        "slate's lock (04:00 PM ET)" in result.stdout
    [entry] = snapshots.entries(home, "injuries", DAY)
    assert entry.captured_at == dt.datetime(2020, 8, 6, 21, 30, tzinfo=dt.UTC)
    # the table and the PDF of one report are the same injuries
    pdf_home = tmp_path / "pdf"
    assert run_cli(pdf_home, "ingest", "injuries", str(PDFS[2])).returncode == 0
    [pdf_entry] = snapshots.entries(pdf_home, "injuries", DAY)
    assert pdf_entry.data == entry.data


@pytest.mark.parametrize(("args", "says"), [
    (("--at", "2020-08-08 17:30"),
     "the report lists games of 2020-08-06, 2020-08-07 only, none of 2020-08-08 or later"),
    (("--at", "2030-01-01 12:00"), "later than now"),
    (("--at", "tomorrow"), "'tomorrow' is not a time; give 'YYYY-MM-DD HH:MM' (US/Eastern)"),
    # a date alone was taken as its midnight: the afternoon's report known from 00:00, before the slate's lock
    (("--at", "2020-08-06"), "'2020-08-06' is a date without the time the report was published; give "
                             "'YYYY-MM-DD HH:MM' (US/Eastern), e.g. '2019-11-01 17:30', or ISO 8601 with an offset"),
])
def test_a_wrong_time_is_refused_naming_it(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "injuries", str(PDFS[0])).returncode == 0
    before = tree_snapshot(home)
    result = run_cli(home, "ingest", "injuries", str(TABLE), *args, PROJECTIONS_LIVE__NOW="2026-11-27T12:00:00Z")
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert tree_snapshot(home) == before


def test_a_pdf_keeps_the_time_its_title_prints(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_cli(home, "ingest", "injuries", str(PDFS[2]), "--at", "2020-08-06 17:00")
    assert result.returncode == 2
    assert ("its title says it was published 2020-08-06 05:30 PM ET, not 2020-08-06 05:00 PM ET as --at says; "
            "leave out --at") in result.stderr, result.stderr
    assert not home.exists()


def test_files_of_one_call_are_all_read_before_any_is_recorded(tmp_path: Path) -> None:
    """A damaged PDF (a download cut short) or a file that is no report, second of three: nothing is recorded."""
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "injuries", str(DEC_2023)).returncode == 0
    before = tree_snapshot(home)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(PDFS[1].read_bytes()[:5000])
    other = tmp_path / "odds.csv"
    other.write_text("date,home,away\n2020-08-06,LAL,LAC\n")
    for bad, says in ((cut, "cut.pdf: not a readable PDF"),
                      (other, "odds.csv: missing column(s) ['Game Date', 'Game Time'")):
        result = run_cli(home, "ingest", "injuries", str(PDFS[0]), str(bad), str(PDFS[2]))
        assert result.returncode == 2 and says in result.stderr, result.stderr
        assert tree_snapshot(home) == before


def test_a_report_of_a_season_the_root_has_logs_of_names_its_players(tmp_path: Path) -> None:
    """December 2023 (not shipped): once the season's game logs are ingested, a report's players are the nba.com
    ids the logs hold, as a live fetch's would be."""
    home = tmp_path / "home"
    first = run_cli(home, "ingest", "injuries", str(DEC_2023))
    assert first.returncode == 0, first.stderr
    [unknown] = snapshots.entries(home, "injuries", dt.date(2023, 12, 1))
    names = pd.read_parquet(snapshots.data_path(home, unknown))["player_id"]
    assert names.str.startswith("name:").sum() >= 5  # a player new since the shipped seasons: a name only
    logs = run_cli(home, "ingest", "game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv"))
    assert logs.returncode == 0, logs.stderr
    again = run_cli(home, "ingest", "injuries", str(DEC_2023))
    assert again.returncode == 0 and "(new snapshot; also of 2023-12-02, whose games it lists)" in again.stdout, \
        again.stdout
    latest = snapshots.entries(home, "injuries", dt.date(2023, 12, 1))[-1]
    table = pd.read_parquet(snapshots.data_path(home, latest))
    assert len(table) == len(names) == 126
    # every player with a game in the season's logs is named by his id; the few the logs lack (two-way players and
    # Christian Koloko, who played no game that season) keep their names
    logged = set(pd.read_csv(SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv",
                             usecols=["PLAYER_NAME"])["PLAYER_NAME"])
    named = table[~table["player_id"].str.fullmatch(r"\d+")]
    assert len(named) <= 6 and not set(named["player_name"]) & logged, named
    assert len(table) - len(named) >= 120


def test_every_official_report_of_2020_is_taken_with_progress_on_the_way(tmp_path: Path) -> None:
    """The 64 real PDFs of 2020 in one call: a line on stderr every 25 read, then one line each; a report listing no
    player (2020-12-24's 1:30 PM: every team 'not yet submitted') is a capture of no rows."""
    home = tmp_path / "home"
    pdfs = sorted((REPORTS / "pdf").glob("*.pdf"))
    result = run_cli(home, "ingest", "injuries", *map(str, pdfs), timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"injury reports: {n} of 64 read and checked" for n in (25, 50)]
    lines = result.stdout.splitlines()
    assert len(lines) == len(pdfs) == 64 and all("(new snapshot" in line for line in lines)
    assert "Injury-Report_2020-12-24_11AM.pdf: injury report of 2020-12-24 at 01:30 PM ET, 0 players of 0 teams " \
        "(new snapshot)" in lines


def test_an_evening_report_listing_the_next_days_games_is_that_days_capture_too(tmp_path: Path) -> None:
    """2020-12-24's 8:30 PM report lists Christmas's games only (noon tip, the slate's lock): the one report that
    slate had. Ingested, it is a capture of 12-24 (its own date) and of 12-25; Christmas's 1:30 PM report comes
    after the lock and is not read. Kills: a report filed under its own date alone (the 12-25 slate then read no
    report at all, or the 1:30 PM one the archive used to misdate)."""
    home = tmp_path / "home"
    christmas = dt.date(2020, 12, 25)
    evening, next_day = (REPORTS / "pdf" / f"Injury-Report_{name}.pdf" for name in ("2020-12-24_05PM",
                                                                                    "2020-12-25_11AM"))
    result = run_cli(home, "ingest", "injuries", str(evening), str(next_day))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "at 08:30 PM ET, 19 players of 10 teams (new snapshot; also of 2020-12-25, whose games it lists)" \
        in result.stdout.splitlines()[0]
    assert [e.captured_at.isoformat() for e in snapshots.entries(home, "injuries", christmas)] == [
        "2020-12-25T01:30:00+00:00", "2020-12-25T18:30:00+00:00"]
    built = run_doit(home, "injuries", f"date={christmas}")
    assert built.returncode == 0, built.stdout + built.stderr
    from projections.settings import load_settings
    from projections.wiring import make_engine

    engine = make_engine(load_settings(home=home))
    plan = engine.plan("injuries", christmas)
    assert plan.object is not None, plan.reason
    table = pd.read_parquet(engine.store.path(plan.object, "data.parquet"))
    assert set(pd.to_datetime(table["report_time"], utc=True)) == {pd.Timestamp("2020-12-25T01:30:00Z")}
    archive = pd.read_parquet(Path(snapshots.__file__).parents[1] / "data" / "archive" / "injuries" / "2020-21.parquet")
    at_lock = archive[(archive["game_date"] == christmas)
                      & (archive["report_time"] <= pd.Timestamp("2020-12-25T17:00:00Z"))]
    key = ["player_id", "status"]
    assert len(table) == 19 and sorted(map(tuple, table[key].to_numpy())) == sorted(
        map(tuple, at_lock.sort_values("report_time").groupby("player_id").tail(1)[key].to_numpy()))


def test_an_older_report_ingested_does_not_hide_a_newer_one_the_archive_holds(tmp_path: Path) -> None:
    """2020-08-05 (locked at 2:30 PM ET): the archive holds its 11 AM and 2 PM reports. Ingesting the 11 AM table
    again (a capture at 11 AM) must leave the slate on the 2 PM report: Kemba Walker stays Out. Kills: a capture
    that replaced the archive's rows of its date, so the slate went back to 11 AM (Walker, Jamal Crawford unlisted,
    p_play 0.34 and 0.60); the same with the 5:30 PM report of 08-05 filed under 08-06 (LeBron James unlisted)."""
    home, plain = tmp_path / "home", tmp_path / "plain"
    day = dt.date(2020, 8, 5)
    older = REPORTS / "csv" / "Injury-Report_2020-08-05_11AM.csv"
    result = run_cli(home, "ingest", "injuries", str(older), "--at", "2020-08-05 11:00")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [e.captured_at.isoformat() for e in snapshots.entries(home, "injuries", day)] == [
        "2020-08-05T15:00:00+00:00"]
    for root in (home, plain):
        built = run_doit(root, "injuries", f"date={day}")
        assert built.returncode == 0, built.stdout + built.stderr
    from projections.settings import load_settings
    from projections.wiring import make_engine

    tables = []
    for root in (home, plain):
        engine = make_engine(load_settings(home=root))
        plan = engine.plan("injuries", day)
        assert plan.object is not None, plan.reason
        tables.append(pd.read_parquet(engine.store.path(plan.object, "data.parquet")))
    walker = tables[0][tables[0]["player_name"] == "Kemba Walker"]
    assert list(walker["status"]) == ["Out"] and str(walker["report_time"].iloc[0]) == "2020-08-05 18:00:00+00:00"
    pd.testing.assert_frame_equal(tables[0], tables[1])

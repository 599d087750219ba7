"""The shipped archive (projections/data/archive) keeps its contracts, its joins and its bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from projections import schema
from projections.archive_build import TABLE_NAMES, build, season_of
from projections.errors import ConfigError, ContractViolation

REPO = Path(__file__).resolve().parent.parent
ARCHIVE = REPO / "projections" / "data" / "archive"
SLATE = dt.date(2019, 10, 30)
DK_FILE_2019_10_30 = "dk-2019-10-30-cda50cde"


def _data_dir() -> Path | None:
    for candidate in (REPO.parent / "shared" / "data" / "nba", Path("/work/shared/data/nba")):
        if (candidate / "PROVENANCE.csv").is_file():
            return candidate
    return None


DATA = _data_dir()
needs_data = pytest.mark.skipif(
    DATA is None, reason="the real data (shared/data/nba, ../shared/data/nba from the repo) is absent"
)


def _table(name: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted((ARCHIVE / name).glob("*.parquet"))], ignore_index=True)


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_shipped_parts_keep_their_contract(table: str) -> None:
    parts = sorted((ARCHIVE / table).glob("*.parquet"))
    assert parts, f"no parquet under {ARCHIVE / table}; run python -m projections.archive_build"
    for path in parts:
        frame = pd.read_parquet(path)
        schema.TABLES[table].check(frame, stage="test", role=f"shipped {table}", origin=str(path),
                                   fix="rerun python -m projections.archive_build")
        if "season" in frame.columns:
            assert set(frame["season"]) == {path.stem}
        assert len(frame) > 0


def test_expected_parts_and_sizes() -> None:
    names = sorted(str(p.relative_to(ARCHIVE)) for p in ARCHIVE.rglob("*.parquet"))
    assert names == [
        "injuries/2019-20.parquet", "injuries/2020-21.parquet",
        "odds/2018-19.parquet", "odds/2019-20.parquet", "odds/2020-21.parquet",
        "player_logs/2018-19.parquet", "player_logs/2019-20.parquet", "players/all.parquet",
        "salaries/2018-19.parquet", "salaries/2019-20.parquet", "salaries/2020-21.parquet",
        "schedule/2018-19.parquet", "schedule/2019-20.parquet", "schedule/2020-21.parquet",
    ]
    assert sum(p.stat().st_size for p in ARCHIVE.rglob("*")) < 3_000_000


def test_a_broken_frame_is_refused_with_the_table_and_the_fix(tmp_path: Path) -> None:
    from projections.archive_build import write_part

    odds = pd.read_parquet(ARCHIVE / "odds" / "2019-20.parquet").drop(columns=["total"])
    with pytest.raises(ContractViolation, match=r"odds/2019-20.*missing columns \['total'\]"):
        write_part(odds, "odds", "2019-20", tmp_path, "test")
    odds = pd.read_parquet(ARCHIVE / "odds" / "2019-20.parquet")
    odds.loc[0, "home_team"] = None
    with pytest.raises(ContractViolation, match=r"odds/2019-20.*'home_team'.*archive_build"):
        write_part(odds, "odds", "2019-20", tmp_path, "test")
    assert not (tmp_path / "odds" / "2019-20.parquet").exists()


def test_fixture_slate_2019_10_30() -> None:
    schedule = _table("schedule")
    games = schedule[schedule["game_date"] == SLATE]
    assert len(games) == 11
    assert set(games["tip_time_source"]) == {"dk"}
    assert games["tip_time"].min() == pd.Timestamp("2019-10-30 23:00", tz="UTC")  # 7:00 PM ET
    salaries = _table("salaries")
    dk = salaries[salaries["slate_id"] == DK_FILE_2019_10_30]
    assert len(dk) == 367 and dk["dk_id"].notna().all()
    assert not dk["player_id"].str.startswith(("name:", "bbref:")).any()
    logs = _table("player_logs")
    played = logs[logs["game_date"] == SLATE]
    assert len(played) == 235
    # every box-score player of the day is on the DK slate, under the same id, on the same team
    both = played.merge(dk, on="player_id", suffixes=("", "_dk"))
    assert len(both) == len(played)
    assert (both["team"] == both["team_dk"]).all()
    assert played["game_id"].isin(games["game_id"]).all()
    rotoguru = salaries[salaries["slate_id"] == "rotoguru-2019-10-30"]
    assert set(rotoguru["player_id"]) == set(dk["player_id"])


def test_one_id_per_person_across_tables() -> None:
    players = _table("players")
    assert players.groupby("name_key")["player_id"].nunique().max() == 1
    ids = set(players["player_id"])
    for table in ("player_logs", "salaries", "injuries"):
        assert set(_table(table)["player_id"]) <= ids, table
    logs = _table("player_logs")
    assert logs["player_id"].str.fullmatch(r"\d+").all()  # every box-score player has an nba.com id
    # names that differ between sources resolve to one person (nba.com id in brackets)
    for names, nba_id in ((("Mo Bamba", "Mohamed Bamba"), "1628964"),
                          (("Moe Harkless", "Maurice Harkless"), "203090"),
                          (("Guillermo Hernangomez", "Willy Hernangómez"), "1626195")):
        found = players[players["player_name"].isin(names)]
        assert set(found["player_id"]) == {nba_id}, names


def test_bubble_and_injuries() -> None:
    injuries = _table("injuries")
    assert set(injuries["status"]) <= set(schema.INJURY_STATUSES)
    # the report filed as "05PM": its title says 5:30 PM ET, which is when it was published
    first = injuries[injuries["report_time"] == pd.Timestamp("2020-08-06 21:30", tz="UTC")]
    bagley = first[first["player_name"] == "Marvin Bagley III"]
    assert bagley[["team", "status"]].values.tolist() == [["SAC", "Out"]]
    assert bagley["game_date"].iloc[0] == dt.date(2020, 8, 6)
    odds = _table("odds")
    bubble = odds[(odds["game_date"] >= dt.date(2020, 7, 30)) & (odds["game_date"] <= dt.date(2020, 8, 14))]
    assert len(bubble) == 88
    finals = odds[odds["game_date"] == dt.date(2020, 10, 11)]
    assert finals[["home_team", "away_team", "spread_home", "score_home", "score_away"]].values.tolist() == [
        ["MIA", "LAL", 5.5, 93.0, 106.0]]


def test_season_of() -> None:
    assert season_of(dt.date(2019, 4, 10)) == "2018-19"
    assert season_of(dt.date(2020, 10, 11)) == "2019-20"
    assert season_of(dt.date(2020, 12, 22)) == "2020-21"
    with pytest.raises(ValueError, match="outside the seasons"):
        season_of(dt.date(2017, 1, 1))


def test_bad_source_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--src"):
        build(tmp_path, tmp_path / "out")


@needs_data
def test_rebuilding_odds_gives_the_shipped_bytes(tmp_path: Path) -> None:
    assert DATA is not None
    build(DATA, tmp_path, ("odds",))
    for shipped in sorted((ARCHIVE / "odds").glob("*.parquet")):
        assert (tmp_path / "odds" / shipped.name).read_bytes() == shipped.read_bytes(), shipped.name


@needs_data
def test_full_rebuild_matches_the_shipped_archive(tmp_path: Path) -> None:
    """Catches an archive that is stale against the build code as well as any nondeterminism."""
    assert DATA is not None
    build(DATA, tmp_path)
    shipped = sorted(p.relative_to(ARCHIVE) for p in ARCHIVE.rglob("*") if p.is_file())
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == shipped
    for rel in shipped:
        assert (tmp_path / rel).read_bytes() == (ARCHIVE / rel).read_bytes(), str(rel)


@needs_data
def test_each_report_is_dated_by_its_pdfs_title_not_its_file_name() -> None:
    """The saved files' names are labels: December 2020's "11AM" report says "12/22/20 01:30 PM" in its title. A
    report dated by its name reached slates that locked before it was published (the 8:30 PM one, filed "05PM",
    by the 7 PM ET slate of 12-22). The titles are read here with pdfplumber's page text, not the words the build
    reads them from."""
    import re

    import pdfplumber

    assert DATA is not None
    injuries = _table("injuries")
    pdfs = sorted((DATA / "injuries" / "2020" / "pdf").glob("Injury-Report_*.pdf"))
    # 64 reports; 2020-12-24's 1:30 PM one lists its ten teams "NOT YET SUBMITTED" and no player
    assert len(pdfs) == 64 and injuries["report_time"].nunique() == 63
    titled = set()
    for pdf in pdfs:
        with pdfplumber.open(pdf) as doc:
            text = doc.pages[0].extract_text() or ""
        month, day, year, hour, minute, half = re.search(
            r"Injury Report:\s*(\d\d)/(\d\d)/(\d\d)\s+(\d\d):(\d\d)\s*([AP]M)", text).groups()
        local = pd.Timestamp(f"20{year}-{month}-{day} {int(hour) % 12 + (12 if half == 'PM' else 0)}:{minute}",
                             tz="America/New_York")
        titled.add(local.tz_convert("UTC"))
    assert set(injuries["report_time"]) == titled - {pd.Timestamp("2020-12-24 18:30", tz="UTC")}
    december = injuries[injuries["game_date"] == dt.date(2020, 12, 22)]
    assert pd.Timestamp("2020-12-22 18:30", tz="UTC") in set(december["report_time"])  # filed as "11AM"
    assert pd.Timestamp("2020-12-22 16:00", tz="UTC") not in set(december["report_time"])


def test_a_game_the_reports_name_only_as_not_yet_submitted_keeps_its_tip() -> None:
    """2020-08-01's 3:30 PM ET UTA@OKC is named in the reports of 07-31 only on its teams' 'NOT YET SUBMITTED'
    lines; the schedule takes its tip from them (19:30Z), not the 7 PM ET placeholder (it printed 07:00PM ET in
    gold's DraftKings CSV), and so do the salary rows of the date."""
    schedule = _table("schedule")
    game = schedule[(schedule["game_date"] == dt.date(2020, 8, 1)) & (schedule["home_team"] == "OKC")]
    assert game[["away_team", "tip_time_source"]].values.tolist() == [["UTA", "injury_report"]]
    assert game["tip_time"].iloc[0] == pd.Timestamp("2020-08-01 19:30", tz="UTC")
    salaries = _table("salaries")
    rows = salaries[(salaries["game_date"] == dt.date(2020, 8, 1)) & salaries["team"].isin(["UTA", "OKC"])]
    assert len(rows) > 20 and set(rows["tip_time"]) == {pd.Timestamp("2020-08-01 19:30", tz="UTC")}

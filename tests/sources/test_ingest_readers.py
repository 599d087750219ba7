"""The readers of `projections ingest` against the shipped archive: a real file of a season the archive ships reads
as the archive's own rows, and a real file reshaped the way a user's copy goes wrong is refused or taken as
documented. (Mutation audit of projections/sources/files.py and ingest.py: each test names what it pins.)"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from projections.archive import SHIPPED
from projections.sources import files, ingest
from tests.conftest import SHARED
from tests.sources.payloads import csv_bytes

LINES = SHARED / "odds" / "nba_2008-2025_raw.csv"
ODDS_COLUMNS = ["game_date", "home_team", "away_team", "spread_home", "total", "moneyline_home", "moneyline_away",
                "score_home", "score_away", "playoffs"]


def _lines_rows(keep) -> list[dict]:  # type: ignore[no-untyped-def]
    with open(LINES, newline="") as fh:
        return [r for r in csv.DictReader(fh) if keep(r)]


def _by_game(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[ODDS_COLUMNS].sort_values(["game_date", "home_team"]).reset_index(drop=True)


def test_a_lines_file_of_a_shipped_season_reads_as_the_shipped_odds() -> None:
    """The closing-lines file the archive's odds/2019-20 was built from, read by `ingest lines`, gives the very
    same rows: the home spread's sign (negative when the home team is favoured), which moneyline and score is
    whose, the playoff flag ("True"/"False" in the file) and the teams. A flipped sign or swapped sides would
    pass every contract check and invert every game's line."""
    rows = _lines_rows(lambda r: r["season"] == "2020")  # the file's season column names the season's end year
    odds = files.lines(csv_bytes(rows), "lines.csv")
    shipped = pd.read_parquet(SHIPPED / "odds" / "2019-20.parquet")
    assert len(odds) == len(shipped) == 1143 and odds["playoffs"].sum() == 83
    pd.testing.assert_frame_equal(_by_game(odds), _by_game(shipped), check_dtype=False)
    # the convention itself, from the file's own words (equal data could share one wrong sign)
    favoured = pd.Series([r["whos_favored"] for r in rows])
    signed = odds["spread_home"].where(odds["spread_home"] != 0)
    assert (signed[favoured == "home"].dropna() < 0).all() and (signed[favoured == "away"].dropna() > 0).all()
    assert set(odds["source"]) == {"lines.csv"}


LOGS_2019 = SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv"
SCHEDULE_COLUMNS = ["season", "game_date", "game_id", "home_team", "away_team", "playoffs", "tip_time",
                    "tip_time_source", "status"]


def _shipped_schedule() -> pd.DataFrame:
    return pd.read_parquet(SHIPPED / "schedule" / "2019-20.parquet")


def test_a_schedule_built_from_game_logs_is_the_archives_own() -> None:
    """`ingest game-logs` builds a season's schedule from its logs (home and away from MATCHUP's "vs."/"@", tips at
    19:00 ET marked "default"). From the real nba.com 2019-20 logs it gives the shipped schedule's own rows for every
    game the shipped schedule holds with a default tip. Kills: home and away swapped; the home flag read from "@";
    another default tip hour; the tip marked as a real one."""
    games = files.game_logs(LOGS_2019.read_bytes(), "player_logs_2019-20.csv")
    built = ingest.schedule_from_logs(games)
    shipped = _shipped_schedule()
    assert len(built) == built["game_id"].nunique() == 971 and set(built["game_id"]) <= set(shipped["game_id"])
    assert set(built["tip_time_source"]) == {"default"} and set(built["status"]) == {"final"}
    same = shipped[shipped["game_id"].isin(built["game_id"]) & (shipped["tip_time_source"] == "default")]
    assert len(same) > 800
    mine = built.set_index("game_id").loc[same["game_id"]].reset_index()
    pd.testing.assert_frame_equal(mine[SCHEDULE_COLUMNS], same[SCHEDULE_COLUMNS].reset_index(drop=True),
                                  check_dtype=False)


def test_a_season_the_archive_ships_is_kept_not_refused(tmp_path: Path) -> None:
    """A file of a season the archive already has, ingested without --replace, is kept and said to be kept (exit 0),
    not refused as holding "no rows of the season(s) asked for". Kills: `not planned and not report.kept` reduced
    to `not planned`, in prepare_lines and in prepare_game_logs."""
    home = tmp_path / "home"
    lines = csv_bytes(_lines_rows(lambda r: r["date"] == "2019-10-30"))
    with open(LOGS_2019, "rb") as fh:
        logs = b"".join(fh.readline() for _ in range(301))  # the header and 300 real rows
    for prepare, content, tables in ((ingest.prepare_lines, lines, ["odds"]),
                                     (ingest.prepare_game_logs, logs, ["player_logs", "schedule"])):
        prepared = prepare(home, content, "file.csv")
        assert [t for t, planned in prepared.writes if planned] == [] and [t for t, _ in prepared.writes] == tables
        assert prepared.report.kept[0].startswith(f"{tables[0]}/2019-20: the archive already has it (shipped); "
                                                  "pass --replace")
        assert prepared.write(home, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)).written == []
    assert not home.exists()


def test_a_mended_schedule_keeps_the_shipped_tip_times(tmp_path: Path) -> None:
    """An older version's --replace of the nba.com 2019-20 logs wrote a schedule of their 971 games, every tip a
    19:00 default. Ingesting the logs again mends it from the shipped part: the bubble's games come back (tested
    in test_ingest.py) and so do the shipped part's real tip times (DraftKings Game Info, injury reports), which a
    game the two parts share must take from the shipped row, not the default one. Kills: the default row kept
    first when `_archived` drops a game found in both parts."""
    import hashlib

    from projections.archive import add_part, parts
    from projections.sources import tables
    from projections.store import LocalStore

    home = tmp_path / "home"
    content = LOGS_2019.read_bytes()
    shrunk = ingest.schedule_from_logs(files.game_logs(content, "logs.csv"))
    commit = LocalStore(home).commit({"data.parquet": tables.to_parquet(shrunk, "schedule")}, {"kind": "ingest"})
    add_part(home, "schedule", "2019-20", commit.object, ("2019-20",), sha256=hashlib.sha256(content).hexdigest())
    report = ingest.prepare_game_logs(home, content, "logs.csv", replace=True).write(
        home, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert "schedule/2019-20: 1143 rows" in report.written[1], report.written
    (part,) = [p for p in parts(home, "schedule") if "2019-20" in p.seasons]
    mended = pd.read_parquet(part.path).set_index("game_id").sort_index()
    shipped = _shipped_schedule().set_index("game_id").sort_index()
    real = shipped["tip_time_source"] != "default"
    assert real.sum() == 127 and mended.index.equals(shipped.index)  # 2020-08-01's UTA@OKC from its teams'
    # 'not yet submitted' report lines is the 127th
    pd.testing.assert_series_equal(mended["tip_time_source"], shipped["tip_time_source"], check_dtype=False)
    pd.testing.assert_series_equal(mended["tip_time"], shipped["tip_time"], check_dtype=False)


@pytest.mark.parametrize("column, typed, what", [
    ("total", "2215", "a game total (a number from 120 to 330, or blank)"),  # 221.5 without its point
    ("spread", "65", "a point spread (a number from -40 to 40, or blank)"),
    ("moneyline_home", "1500000", "a moneyline (a number from -100000 to 100000, or blank)"),
    ("score_home", "1060", "a score (a number from 0 to 250, or blank)"),
])
def test_a_number_past_its_range_in_a_lines_file_is_refused(column: str, typed: str, what: str) -> None:
    """Real rows of 2023-01-16 with one number mistyped above its range: refused naming the line, the value and
    the range (a value below it is tested in test_ingest.py). Kills: the upper bound of `_numbers` dropped; the
    scores read without a range."""
    rows = _lines_rows(lambda r: r["date"] == "2023-01-16")
    rows[1] = dict(rows[1], **{column: typed})
    with pytest.raises(files.BadFile, match=rf"^lines\.csv: line 3, column '{column}': '{typed}(\.0)?' is not "
                                            + what.replace("(", r"\(").replace(")", r"\)")):
        files.lines(csv_bytes(rows), "lines.csv")


def test_a_line_at_the_edge_of_its_range_is_a_line() -> None:
    """The ranges are inclusive (parsers/common.py), as the live feed's are: a 40-point spread and a 120 total, typed
    into real rows, are read as they are. Kills: the bounds of `_numbers` made exclusive."""
    rows = _lines_rows(lambda r: r["date"] == "2023-01-16")
    rows[0] = dict(rows[0], spread="40", total="120", whos_favored="home")
    odds = files.lines(csv_bytes(rows), "lines.csv")
    assert (odds.loc[0, "spread_home"], odds.loc[0, "total"]) == (-40.0, 120.0)


LOGS_2025 = SHARED / "logs" / "nbacom" / "player_logs_2024-25.csv"


def test_a_neutral_site_game_keeps_its_sides_and_its_place_in_the_schedule() -> None:
    """2024-25's five neutral-site games (Mexico City, Paris twice, the NBA Cup semifinals in Las Vegas) give both
    teams' rows the same MATCHUP, `ATL @ MIL`: MIL's rows are the designated home side, facing ATL. Read as a
    normal `@` row, MIL was its own opponent, both sides were away, and the schedule built from the logs lost the
    games (1225 of 1230; 2024-12-14, both semifinals, read "no NBA games"). Kills: the opponent read as the
    MATCHUP's last code; the home flag read from "vs." alone."""
    with open(LOGS_2025, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["GAME_DATE"] in ("2024-12-13", "2024-12-14")]
    logs = files.game_logs(csv_bytes(rows), "player_logs_2024-25.csv")
    assert not (logs["team"] == logs["opp"]).any()
    sides = logs.drop_duplicates(["game_id", "team"]).set_index("team")
    assert sides.loc["MIL", ["opp", "home"]].tolist() == ["ATL", True]
    assert sides.loc["ATL", ["opp", "home"]].tolist() == ["MIL", False]
    games = ingest.schedule_from_logs(logs)
    semis = games[games["game_date"] == dt.date(2024, 12, 14)]
    assert sorted(zip(semis["home_team"], semis["away_team"], strict=True)) == [("MIL", "ATL"), ("OKC", "HOU")]
    whole = files.game_logs(LOGS_2025.read_bytes(), "player_logs_2024-25.csv")
    assert len(ingest.schedule_from_logs(whole)) == whole["game_id"].nunique() == 1230


LOGS_2022 = SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv"


def test_more_threes_made_than_field_goals_is_no_box_score() -> None:
    """Justin Holiday's real line of 2022-23 (2 of 8, 0 of 6 from three, 4 points) edited to 1 field goal and 2 threes
    made - its points still add up (2 FGM + FG3M + FTM = 4) and no count exceeds its attempts, but a three is a field
    goal: the line cannot be, and the file is refused naming it. Kills: the FG3M <= FGM and FG3A <= FGA rules
    dropped from the box-score checks."""
    with open(LOGS_2022, newline="") as fh:
        rows = [r for _, r in zip(range(60), csv.DictReader(fh), strict=False)]
    assert (rows[28]["PLAYER_NAME"], rows[28]["PTS"], rows[28]["FGM"], rows[28]["FG3A"]) == ("Justin Holiday", "4", "2",
                                                                                              "6")
    rows[28] = dict(rows[28], FGM="1", FG3M="2")
    with pytest.raises(files.BadFile, match=r"^logs\.csv: 1 row\(s\) with more made than attempted, e\.g\. Justin "
                                            r"Holiday on 2022-10-\d\d"):
        files.game_logs(csv_bytes(rows), "logs.csv")


def test_game_ids_a_spreadsheet_stripped_of_their_zeros_are_read_whole() -> None:
    """A logs export opened and saved by a spreadsheet loses the leading zeros of its GAME_IDs (0021900049 ->
    21900049): read, the ids are nba.com's ten digits again, so the logs join the schedule and box scores. Kills:
    the zfill(10) of the game id dropped."""
    with open(LOGS_2019, newline="") as fh:
        rows = [r for _, r in zip(range(300), csv.DictReader(fh), strict=False)]
    whole = files.game_logs(csv_bytes(rows), "logs.csv")
    saved = files.game_logs(csv_bytes([dict(r, GAME_ID=str(int(r["GAME_ID"]))) for r in rows]), "logs.csv")
    assert whole["game_id"].str.fullmatch(r"00219\d{5}").all()
    pd.testing.assert_frame_equal(saved, whole)


def test_a_game_listed_twice_with_two_lines_is_refused() -> None:
    """A lines file holding one game twice with different numbers (two books' closing lines pasted together): which
    line is the game's cannot be told, so the file is refused naming the game - not only an exact duplicate row.
    Kills: the one-line-per-game check keyed on more than (date, home team)."""
    rows = _lines_rows(lambda r: r["date"] == "2023-01-16")
    other = dict(rows[4], total=str(float(rows[4]["total"]) + 1.5), moneyline_home="-150")
    with pytest.raises(files.BadFile, match=r"^lines\.csv: 2 rows repeat a game \(e\.g\. 2023-01-16 \w+@\w+\); "
                                            r"keep one line per game"):
        files.lines(csv_bytes([*rows, other]), "lines.csv")


def test_an_injury_status_the_projections_do_not_know_is_refused() -> None:
    """The real 5 PM report of 2020-08-06 with one player's status edited to "Suspended" (no status of the official
    report): refused naming it and the statuses known, as the live fetch then keeps the last good report - taken,
    the injuries stage would not know whether the player plays. Kills: the status check of `injury_report`
    dropped (the contract checks no value)."""
    content = (SHARED / "injuries" / "2020" / "csv" / "Injury-Report_2020-08-06_05PM.csv").read_bytes()
    edited = content.replace(b",Out,", b",Suspended,", 1)
    assert edited != content
    with pytest.raises(files.BadFile, match=r"^report\.csv: column 'Current Status' holds \['Suspended'\]; expected "
                                            r"\('Out', 'Doubtful', 'Questionable', 'Probable', 'Available'\)"):
        files.injury_report(edited, "report.csv", dt.datetime(2020, 8, 6, 21, tzinfo=dt.UTC), lambda name, team: "0")

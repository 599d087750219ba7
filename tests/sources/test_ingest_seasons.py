"""`projections ingest game-logs`: a row is filed under the season of its GAME_DATE, so a row whose date is not in
the season it says it is of (SEASON_ID, SEASON_LABEL, GAME_ID) is refused - it would have become another season's
logs by itself, or with --replace taken a shipped season's place. `projections ingest lines` the same, by its
`season` column (the year the season ends). Real CLI processes on real files."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from tests.conftest import SHARED, run_cli, tree_snapshot
from tests.sources.test_ingest import rows_of, write_csv

LOGS_2022 = SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv"
LOGS_2023 = SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv"
LINES = SHARED / "odds" / "nba_2008-2025_raw.csv"


@pytest.fixture(scope="module")
def rooted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding an ingested season (2023-24), so a refusal can be seen to change nothing in it."""
    home = tmp_path_factory.mktemp("seasons") / "home"
    result = run_cli(home, "ingest", "game-logs", str(LOGS_2023), timeout=120)
    assert result.returncode == 0, result.stderr
    return home


def _archive(home: Path) -> dict[str, list[str]]:
    from projections.archive import parts

    return {table: [f"{p.name} {p.origin} {p.path.name}" for p in parts(home, table)]
            for table in ("player_logs", "schedule")}


@pytest.mark.parametrize("replace", [(), ("--replace",)], ids=["kept", "replace"])
def test_a_row_dated_in_another_season_is_refused_and_nothing_written(rooted: Path, tmp_path: Path,
                                                                      replace: tuple[str, ...]) -> None:
    """The audit's file: the whole 2022-23 export with one row's GAME_DATE 2019-10-30 (its SEASON_ID, GAME_ID and
    SEASON_LABEL still say 2022-23). It wrote 2022-23 short of that row and "kept player_logs/2019-20" (exit 0);
    with --replace the shipped 2019-20 logs became that one row."""
    text = LOGS_2022.read_text().splitlines(keepends=True)
    assert ",2022-10-28," in text[5]
    text[5] = text[5].replace(",2022-10-28,", ",2019-10-30,")
    path = tmp_path / "logs.csv"
    path.write_text("".join(text))
    before, archive = tree_snapshot(rooted), _archive(rooted)
    result = run_cli(rooted, "ingest", "game-logs", str(path), *replace, timeout=120)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: line 6: GAME_DATE 2019-10-30 is in season "
                                                   "2019-20, but the row's SEASON_ID '22022' says 2022-23"), lines
    assert "fix that row's GAME_DATE" in lines[0]
    assert tree_snapshot(rooted) == before and _archive(rooted) == archive
    assert "2019-20 shipped 2019-20.parquet" in archive["player_logs"]


def test_without_season_columns_the_game_id_says_the_season(rooted: Path, tmp_path: Path) -> None:
    """An export without SEASON_ID and SEASON_LABEL: the GAME_ID's season digits (0022200079: 2022-23) say it."""
    rows = rows_of(LOGS_2022)[:300]
    rows[40] = dict(rows[40], GAME_DATE="2023-10-30")
    path = write_csv(tmp_path / "logs.csv", [{k: v for k, v in r.items() if k not in ("SEASON_ID", "SEASON_LABEL")}
                                             for r in rows])
    before = tree_snapshot(rooted)
    result = run_cli(rooted, "ingest", "game-logs", str(path), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"logs\.csv: line 42: GAME_DATE 2023-10-30 is in season 2023-24, but the row's GAME_ID "
                     rf"'{rows[40]['GAME_ID']}' says 2022-23", result.stderr), result.stderr
    assert tree_snapshot(rooted) == before


def test_a_json_body_names_the_row(rooted: Path, tmp_path: Path) -> None:
    """The endpoint's JSON (what --fetch takes, or a saved response): the row of its result set is named."""
    from tests.sources.payloads import league_game_log

    body = json.loads(league_game_log(dt.date(2022, 11, 1)))
    headers, rows = body["resultSets"][0]["headers"], body["resultSets"][0]["rowSet"]
    rows[2][headers.index("GAME_DATE")] = "2021-11-01"
    path = tmp_path / "logs.json"
    path.write_text(json.dumps(body))
    before = tree_snapshot(rooted)
    result = run_cli(rooted, "ingest", "game-logs", str(path), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "logs.json: row 3: GAME_DATE 2021-11-01 is in season 2021-22, but the row's SEASON_ID " in result.stderr
    assert tree_snapshot(rooted) == before


def test_every_shipped_export_agrees_with_its_seasons() -> None:
    """The real exports (2018-19 .. 2024-25) pass: the check refuses only a row that contradicts itself."""
    from projections.sources import files

    for path in sorted((SHARED / "logs" / "nbacom").glob("player_logs_*.csv")):
        logs = files.game_logs(path.read_bytes(), path.name)
        assert set(logs["season"]) == {path.stem.removeprefix("player_logs_")}


@pytest.mark.parametrize("replace", [(), ("--replace",)], ids=["kept", "replace"])
def test_a_lines_row_dated_in_another_season_is_refused_and_nothing_written(rooted: Path, tmp_path: Path,
                                                                            replace: tuple[str, ...]) -> None:
    """2022-23's closing lines (their `season` column 2023) with one row dated 2019-10-30: `ingest lines` wrote
    2022-23 short of that game and "kept odds/2019-20" (exit 0); with --replace the shipped 2019-20 lines, 1,143
    games, became that one game, and every 2019-20 slate lost its spreads and totals. Refused now, naming the
    file, the row, the season it says it holds and the fix."""
    rows = rows_of(LINES, lambda r: r["season"] == "2023")
    assert len(rows) > 1000 and rows[3]["date"] != "2019-10-30"
    rows[3] = dict(rows[3], date="2019-10-30")
    path = write_csv(tmp_path / "lines.csv", rows)
    before = tree_snapshot(rooted)
    result = run_cli(rooted, "ingest", "lines", str(path), *replace, timeout=120)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines == [f"error: {path}: line 5: date 2019-10-30 is in season 2019-20, but the row's season '2023' says "
                     "2022-23: a row is filed under the season of its date, so it would be filed under 2019-20; fix "
                     "that row's date (or download the season's lines again)"], lines
    assert tree_snapshot(rooted) == before


@pytest.mark.parametrize("replace", [(), ("--replace",)], ids=["kept", "replace"])
def test_a_lines_file_without_its_season_column_is_refused_naming_it(rooted: Path, tmp_path: Path,
                                                                     replace: tuple[str, ...]) -> None:
    """The same file as above without its `season` column: nothing said a row's season, so nothing was checked -
    it wrote 2022-23 and odds/2019-20 of that one game (exit 0), and with --replace the shipped 2019-20 lines
    (1,143 games) became that game. A date alone cannot say it is mistyped (a file may hold many seasons), so the
    column is required: refused, naming it and the layout, before anything is written."""
    rows = rows_of(LINES, lambda r: r["season"] == "2023")
    rows[3] = dict(rows[3], date="2019-10-30")
    path = write_csv(tmp_path / "lines.csv", rows, drop="season")
    before = tree_snapshot(rooted)
    result = run_cli(rooted, "ingest", "lines", str(path), *replace, timeout=120)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: missing column(s) ['season'] of a closing-lines file (the file has "), line
    assert line.endswith("use the closing-lines layout of shared/data/nba/odds/nba_2008-2025_raw.csv (one row a game; "
                         "its season the year the season ends, 2020 for 2019-20: a row whose date is not in it is "
                         "refused)"), line
    assert tree_snapshot(rooted) == before


def test_ingest_lines_help_names_every_column_a_lines_file_needs(tmp_path: Path) -> None:
    """`projections ingest lines --help` described FILE as "date, teams, spread, total, moneylines, scores": no
    `season`, which every lines file now needs, so a file made from the help was refused."""
    from projections.sources.files import LINES_COLUMNS

    result = run_cli(tmp_path / "home", "ingest", "lines", "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert [c for c in LINES_COLUMNS if not re.search(rf"\b{c}\b", said)] == [], said
    assert "season (the year it ends, 2020 for 2019-20)" in said, said


def test_a_lines_row_with_a_blank_season_is_refused_naming_its_line(tmp_path: Path) -> None:
    """A blank `season` cell said nothing either, so that row's date went unchecked."""
    from projections.sources import files
    from tests.sources.payloads import csv_bytes

    rows = rows_of(LINES, lambda r: r["season"] == "2023")[:50]
    rows[3] = dict(rows[3], season=" ", date="2019-10-30")
    with pytest.raises(files.BadFile, match=r"^lines\.csv: line 5, column 'season' is blank \(a cell left empty, or "
                                            r"the file is cut short\); a season is the year it ends"):
        files.lines(csv_bytes(rows), "lines.csv")


def test_a_lines_file_of_another_season_than_asked_is_refused_naming_the_one_it_holds(rooted: Path,
                                                                                    tmp_path: Path) -> None:
    """Ingested as 2022-23, a file of 2023-24 only: refused, naming the season the file holds."""
    path = write_csv(tmp_path / "lines.csv", rows_of(LINES, lambda r: r["season"] == "2024"))
    before = tree_snapshot(rooted)
    result = run_cli(rooted, "ingest", "lines", str(path), "--season", "2022-23", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().endswith("no rows of the season(s) asked for (2022-23): the file holds 2023-24")
    assert tree_snapshot(rooted) == before


def test_the_real_lines_file_agrees_with_its_seasons() -> None:
    """Every row of the shared closing lines, 2007-08 to 2024-25 (the 2020 bubble and the late 2020-21 start
    included), is in the season its `season` column says: the check refuses only a row that contradicts itself."""
    from projections.sources import files

    odds = files.lines(LINES.read_bytes(), LINES.name)
    assert len(odds) > 20_000 and odds["season"].nunique() == 18

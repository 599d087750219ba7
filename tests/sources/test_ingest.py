"""`projections ingest`: another season with the same `doit slate` command; bad files change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from projections.cli import main
from tests.conftest import SHARED, run_cli, run_doit, tree_snapshot

LOGS_2022 = SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv"
LINES = SHARED / "odds" / "nba_2008-2025_raw.csv"
DK_2023 = SHARED / "salaries" / "dk" / "2023-01-16__chasebroder__DKSalaries__d62277f1.csv"
DK_2019 = SHARED / "salaries" / "dk" / "2019-11-01__bradical1379__DKSalaries__f09c750c.csv"
DK_BUBBLE = [SHARED / "salaries" / "dk" / f"2020-08-10__VincentLa__dk_nba_salaries_classic_20200810{tail}.csv"
             for tail in ("", "_early")]  # two slates of one date: no DraftKings player id in common


def rows_of(path: Path, keep: callable = lambda r: True) -> list[dict]:  # type: ignore[valid-type]
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(fh) if keep(r)]


def write_csv(path: Path, rows: list[dict], drop: str | None = None) -> Path:
    fields = [f for f in rows[0] if f != drop]
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(sink.getvalue())
    return path


def _cut(path: Path) -> Path:
    """The file cut off in the middle of its last row (a download that stopped)."""
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b",") - 30])
    return path


def built(home: Path, stage: str, day: dt.date) -> pd.DataFrame:
    """The table a stage of `day` holds, found through the store (its action record)."""
    from projections.settings import load_settings
    from projections.wiring import make_engine

    engine = make_engine(load_settings(home=home))
    plan = engine.plan(stage, day)
    assert plan.object is not None, plan.reason
    return pd.read_parquet(engine.store.path(plan.object, engine.pipeline[stage].main))


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    home = tmp_path / "home"
    monkeypatch.setenv("PROJECTIONS_HOME", str(home))
    for name in ("PROJECTIONS_SOURCE", "PROJECTIONS_CONFIG", "PROJECTIONS_LIVE__NOW"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["ingest", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    run.home = home  # type: ignore[attr-defined]
    return run


def test_a_new_season_runs_with_the_same_command(tmp_path: Path) -> None:
    """2022-23 is not shipped: after ingesting its logs, lines and a real DraftKings file, the stages that read
    those sources build 2023-01-16 with the same doit command as a shipped date. (The full slate also needs
    the season before for calibration - 2021-22 is not in the shared data - so this runs the source stages.)"""
    home = tmp_path / "home"
    for args in (("game-logs", str(LOGS_2022)), ("lines", str(LINES), "--season", "2022-23"),
                 ("dk-salaries", str(DK_2023))):
        result = run_cli(home, "ingest", *args)
        assert result.returncode == 0, result.stdout + result.stderr
    result = run_doit(home, "schedule", "salaries", "game_logs", "odds", "date=2023-01-16")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 built" in result.stdout
    salaries, odds = (built(home, stage, dt.date(2023, 1, 16)) for stage in ("salaries", "odds"))
    dk = pd.read_csv(DK_2023)
    assert set(salaries["dk_id"].astype("int64")) == set(dk["ID"]) and len(salaries) == 66
    assert salaries["player_id"].str.fullmatch(r"\d+").all()  # every DK name found in the ingested nba.com logs
    assert len(odds) == 18 and odds["has_line"].all()  # the 9 games of the day, each with its ingested line
    again = run_doit(home, "schedule", "salaries", "game_logs", "odds", "date=2023-01-16")
    assert "0 built" in again.stdout


def test_seasons_the_archive_has_are_kept_unless_replaced(cli, tmp_path: Path) -> None:
    picked = rows_of(LINES, lambda r: r["date"] in ("2019-10-30", "2023-01-16"))
    path = write_csv(tmp_path / "lines.csv", picked)
    code, out, _ = cli("lines", str(path))
    assert code == 0
    assert "wrote odds/2022-23: 9 rows" in out
    assert "kept  odds/2019-20: the archive already has it (shipped); pass --replace" in out
    code, out, _ = cli("lines", str(path), "--season", "2019-20", "--replace")
    assert code == 0 and "wrote odds/2019-20: 11 rows" in out
    import socket

    from projections.archive import parts
    from projections.store import LocalStore

    (part,) = [p for p in parts(cli.home, "odds") if p.name == "2019-20"]
    manifest = LocalStore(cli.home).manifest(part.object)  # its provenance: what, from which file, when, where
    assert {k: manifest[k] for k in ("kind", "table", "season", "rows", "source_file", "host")} == {
        "kind": "ingest", "table": "odds", "season": "2019-20", "rows": 11, "source_file": "lines.csv",
        "host": socket.gethostname()}
    assert manifest["ingested_at"].endswith("Z") and len(manifest["sha256"]) == 64


def test_a_season_the_file_lacks_names_those_it_holds_and_the_form(cli, tmp_path: Path) -> None:
    """--season 2023-2024 said "no rows of the seasons asked for (['2023-2024'])": not the form, not the file's."""
    path = write_csv(tmp_path / "lines.csv", rows_of(LINES, lambda r: r["date"] == "2023-01-16"))
    code, _, err = cli("lines", str(path), "--season", "2022-2023")
    assert code == 2 and err.strip().endswith("no rows of the season(s) asked for (2022-2023): the file holds "
                                              "2022-23; a season is written YYYY-YY, e.g. 2019-20 (not 2022-2023)"), err
    code, _, err = cli("lines", str(path), "--season", "2019-20")
    assert code == 2 and err.strip().endswith("(2019-20): the file holds 2022-23"), err
    # the whole file, 18 seasons: its newest are named too - the list stopped at "2012-13 ...", so a user asking
    # for a season past the file's last could not tell which that was
    code, _, err = cli("lines", str(LINES), "--season", "2030-31")
    assert code == 2 and err.strip().endswith("(2030-31): the file holds 2007-08, 2008-09, 2009-10 ... 2022-23, "
                                              "2023-24, 2024-25 (18 seasons)"), err


def test_verify_names_a_damaged_archive_ref(cli, tmp_path: Path) -> None:
    """A corrupt ref of an ingested season fails every build that lists the table's parts; verify said ok."""
    picked = rows_of(LINES, lambda r: r["date"] == "2023-01-16")
    assert cli("lines", str(write_csv(tmp_path / "lines.csv", picked)))[0] == 0
    assert run_cli(cli.home, "verify").returncode == 0
    (ref,) = (cli.home / "refs" / "archive" / "odds").glob("*.json")
    ref.write_text(ref.read_text()[:20])
    result = run_cli(cli.home, "verify")
    assert result.returncode == 1 and f"archive ref {ref} is unreadable (" in result.stdout, result.stdout
    assert "remove it and ingest the file again" in result.stdout


def test_gc_keeps_an_ingested_part_no_build_has_read_and_verify_names_one_gone(cli, tmp_path: Path) -> None:
    """An ingested season is named only by its ref until a build reads it: gc must keep it at any grace and
    keep, and verify must name a ref whose object is gone (every build listing the table would stop at it)."""
    import shutil

    from projections.store import LocalStore

    picked = rows_of(LINES, lambda r: r["date"] == "2023-01-16")
    assert cli("lines", str(write_csv(tmp_path / "lines.csv", picked)))[0] == 0
    (ref,) = (cli.home / "refs" / "archive" / "odds").glob("*.json")
    obj = json.loads(ref.read_text())["object"]
    swept = run_cli(cli.home, "gc", "--grace", "0", "--keep", "1")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    store = LocalStore(cli.home)
    assert store.has(obj) and store.verify_object(obj) == [], swept.stdout
    assert run_cli(cli.home, "verify").returncode == 0
    where = store.object_dir(obj)
    where.chmod(0o755)
    shutil.rmtree(where)
    result = run_cli(cli.home, "verify")
    assert result.returncode == 1 and f"archive ref {ref} names object {obj[9:19]}, which is not in the store; " \
        "ingest the file again" in result.stdout, result.stdout


def test_a_damaged_file_is_refused_even_for_a_season_that_would_be_kept(cli, tmp_path: Path) -> None:
    """Without --replace a season the archive has is kept; the file must still be checked, or a damaged export
    is reported as fine ('kept ..., nothing written', exit 0) until the day it is ingested with --replace."""
    picked = rows_of(LINES, lambda r: r["date"] == "2019-10-30")
    path = write_csv(tmp_path / "lines.csv", picked + picked[:1])  # a game twice
    before = tree_snapshot(cli.home)
    code, out, err = cli("lines", str(path))
    assert code == 2 and out == "" and "rows repeat a game" in err, err
    assert tree_snapshot(cli.home) == before


@pytest.mark.parametrize("edit, says", [
    (dict(PTS="-12"), "row(s) with a negative count"),
    (dict(MIN="300"), "row(s) with minutes outside 0..75"),
    (dict(REB="99"), "row(s) with REB is not OREB + DREB"),
    (dict(FGM="40"), "row(s) with more made than attempted"),
])
def test_game_logs_that_cannot_be_a_box_score_are_refused(cli, tmp_path: Path, edit: dict, says: str) -> None:
    rows = rows_of(LOGS_2022)[:200]
    rows[7] = dict(rows[7], **edit)
    before = tree_snapshot(cli.home)
    code, out, err = cli("game-logs", str(write_csv(tmp_path / "logs.csv", rows)))
    assert code == 2 and out == "" and f"1 {says}, e.g. {rows[7]['PLAYER_NAME']} on " in err, err
    assert "a box score adds up" in err
    assert tree_snapshot(cli.home) == before


def test_a_file_piped_in_is_read(tmp_path: Path) -> None:
    """`curl ... | projections ingest dk-salaries /dev/stdin`: a pipe is no regular file, but it is a file."""
    import subprocess
    import sys

    from tests.conftest import REPO, project_env

    home = tmp_path / "home"
    result = subprocess.run([sys.executable, "-m", "projections.cli", "ingest", "dk-salaries", "/dev/stdin"],
                            input=DK_2019.read_bytes(), env=project_env(home), capture_output=True, timeout=300,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr.decode()
    assert b"2019-11-01" in result.stdout and b"268 players" in result.stdout, result.stdout


def test_dk_salaries_are_dated_by_their_content(cli, tmp_path: Path) -> None:
    renamed = tmp_path / "2031-12-25 whatever.csv"
    renamed.write_bytes(DK_2023.read_bytes())
    code, out, _ = cli("dk-salaries", str(renamed))
    assert code == 0 and ": 2023-01-16 slate dk-2023-01-16-" in out and "66 players" in out
    assert (cli.home / "refs" / "snapshots" / "salaries" / "game_date=2023-01-16.jsonl").exists()


@pytest.mark.parametrize("kind, make, expected", [
    ("game-logs", lambda d: write_csv(d / "logs.csv", rows_of(LOGS_2022)[:50], drop="PTS"),
     r"logs\.csv: missing column\(s\) \['PTS'\] of a LeagueGameLog player export .* export the season's player "
     r"game logs from stats\.nba\.com"),
    ("lines", lambda d: write_csv(d / "lines.csv", [dict(r, whos_favored="maybe") for r in
                                                    rows_of(LINES, lambda r: r["date"] == "2023-01-16")]),
     r"lines\.csv: line 2, column 'whos_favored': 'maybe'; it must be 'home' or 'away'"),
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [dict(r, **{"Game Info": "Postponed"}) for r in
                                                               rows_of(DK_2023)]),
     r"DKSalaries\.csv: line 2, column 'Game Info': 'Postponed' .* every row needs 'AWY@HOM MM/DD/YYYY HH:MMPM ET'"),
    ("dk-salaries", lambda d: d / "missing.csv", r"missing\.csv: cannot read it \(No such file or directory\)"),
    ("dk-salaries", lambda d: Path("/dev/zero"), r"/dev/zero: a device, not a file"),  # read until MemoryError
    ("game-logs", lambda d: d, r": a directory, not a file; give the downloaded file itself"),
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [dict(r, Salary="-5000") if i == 1 else r for i, r in
                                                               enumerate(rows_of(DK_2019))]),
     r"DKSalaries\.csv: line 3, column 'Salary': -5000 \(not a salary\); Salary must be a whole number of "
     r"dollars above 0"),
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [dict(r, **{"Game Info": ""}) if i == 4 else r
                                                               for i, r in enumerate(rows_of(DK_2019))]),
     r"DKSalaries\.csv: line 6, column 'Game Info' is blank \(a cell left empty, or the file is cut short\); every "
     r"row needs"),  # a traceback ('float' object has no attribute 'strip')
    ("dk-salaries", lambda d: _cut(write_csv(d / "DKSalaries.csv", rows_of(DK_2019))),
     r"DKSalaries\.csv: line \d+, column '[A-Za-z ]+'(: '.*' \(DK Game Info| is blank)"),  # last row, cut mid-cell
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [dict(r, **{"Roster Position": ""}) if i == 2 else r
                                                               for i, r in enumerate(rows_of(DK_2019))]),
     r"DKSalaries\.csv: line 4, column 'Roster Position' is blank"),  # a TypeError traceback
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [
        dict(r, Position="QB", **{"Roster Position": "QB/UTIL"}) if i == 0 else r
        for i, r in enumerate(rows_of(DK_2019))]),
     r"DKSalaries\.csv: line 2, column 'Position': 'QB' \(QB is no NBA classic position\)"),  # reached gold
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [dict(r, Salary="10800000") if i == 0 else r
                                                               for i, r in enumerate(rows_of(DK_2019))]),
     r"line 2, column 'Salary': '?10800000'? \(not a salary\); .* within DraftKings' classic cap \(\$50,000\)"),
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [
        dict(r, **{"Game Info": r["Game Info"].replace("07:30PM", "31:30PM")}) for r in rows_of(DK_2019)]),
     r"column 'Game Info': '[A-Z]+@[A-Z]+ 11/01/2019 31:30PM ET'"),
    ("lines", lambda d: write_csv(d / "lines.csv", [dict(r, spread="abc") if i == 1 else r for i, r in
                                                    enumerate(rows_of(LINES, lambda r: r["date"] == "2023-01-16"))]),
     r"lines\.csv: line 3, column 'spread': 'abc' is not a point spread \(a number from -40 to 40, or blank\)"),
    ("lines", lambda d: write_csv(d / "lines.csv", [dict(r, total="-50") for r in
                                                    rows_of(LINES, lambda r: r["date"] == "2023-01-16")]),
     r"lines\.csv: line 2, column 'total': '-50' is not a game total"),  # was written: every game without a line
    ("lines", lambda d: write_csv(d / "lines.csv", [dict(r, spread="") for r in
                                                    rows_of(LINES, lambda r: r["date"] == "2023-01-16")]),
     r"lines\.csv: no row has both a spread and a total, so no game has a line"),
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [
        dict(r, **{"Game Info": r["Game Info"].replace("11/01/2019", "11/02/2019")}) for r in rows_of(DK_2019)]),
     r"DKSalaries\.csv: its Game Info dates it 2019-11-02, but BOS, CHI, .* do not play on 2019-11-02 per the "
     r"archive's schedule \(only BKN, .* play then\); the file belongs to another date or was edited"),
    ("dk-salaries", lambda d: write_csv(d / "DKSalaries.csv", [dict(r, Salary="N/A") if i == 2 else r for i, r in
                                                               enumerate(rows_of(DK_2019))]),
     r"DKSalaries\.csv: line 4, column 'Salary': 'N/A' \("),  # was "is blank (a cell left empty, or ... cut short)"
    ("game-logs", lambda d: (d / "logs.csv").write_bytes(LOGS_2022.read_bytes()[:1959648]) and d / "logs.csv",
     r"logs\.csv: line 12960, column 'AST' is blank \(a cell left empty, or the file is cut short\)"),  # cut in
    # mid-row: its AST, STL, BLK, TOV and PF were stored as 0
    ("game-logs", lambda d: write_csv(d / "logs.csv", [dict(r, GAME_DATE="2023-02-30") if i == 3 else r for i, r in
                                                       enumerate(rows_of(LOGS_2022)[:50])]),
     r"^error: [^ ]*logs\.csv: line 5, column 'GAME_DATE': '2023-02-30' is no date"),  # named the file twice, no line
])
def test_a_bad_file_is_refused_naming_file_column_and_fix_and_changes_nothing(cli, tmp_path: Path, kind, make,
                                                                              expected) -> None:
    path = make(tmp_path)
    before = tree_snapshot(cli.home)
    code, out, err = cli(kind, str(path))
    assert code == 2 and out == ""
    assert pytest.importorskip("re").search(expected, err), err
    assert tree_snapshot(cli.home) == before


def test_an_ingested_season_without_starter_flags_can_be_calibrated(tmp_path: Path) -> None:
    """stats.nba.com's game logs (what `ingest game-logs` reads) have no starter flag; the minutes model is
    fitted per role, so the calibration of 2023-24 on the ingested 2022-23 used to die of a singular matrix.
    The five longest-playing players of each team game stand in for the starters. (2023-24's own logs make
    2023-11-01 a date the archive can vouch for; the calibration reads only 2022-23.)"""
    home = tmp_path / "home"
    for args in (("game-logs", str(LOGS_2022)), ("game-logs", str(LOGS_2022.with_name("player_logs_2023-24.csv"))),
                 ("lines", str(LINES), "--season", "2022-23")):
        assert run_cli(home, "ingest", *args).returncode == 0
    result = run_doit(home, "calibration", "date=2023-11-01", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    table = built(home, "calibration", dt.date(2023, 11, 1)).set_index(["group", "name"])["value"]
    scalars = table.loc["scalar"]
    assert scalars["fit_rows"] > 10_000 and 235 < scalars["team_minutes"] < 250, scalars
    starter = table.loc["coef:min_starter"]  # the starters' minutes model was fitted on the stand-in starters
    assert len(starter) >= 10 and starter.notna().all() and 15 < starter["const"] < 35, starter


def test_a_new_export_of_a_slate_replaces_it_and_another_slate_stands_beside_it(cli, tmp_path: Path) -> None:
    """DraftKings player ids belong to one slate: a file sharing them with a slate already recorded for the
    date (a corrected copy, a re-download) replaces it, so the salaries stage never picks the stale copy;
    a slate with other ids (the early slate of the same date) is kept beside it."""
    day = dt.date(2019, 11, 1)
    edited = write_csv(tmp_path / "DKSalaries.csv", [dict(r, Salary="3100") if i == 1 else r for i, r in
                                                       enumerate(rows_of(DK_2019))])
    assert cli("dk-salaries", str(edited))[0] == 0
    code, out, _ = cli("dk-salaries", str(DK_2019))
    assert code == 0 and ", replaces dk-2019-11-01-" in out and "(the same DraftKings slate), 268 players" in out
    held = salaries_held(cli.home, day)
    dk = held[held["source"] == "dk"]  # beside the archive's rotoguru slate of the date, which stays
    assert set(dk["slate_id"]) == {out.split(" slate ")[1].split(",")[0]}
    assert set(held["source"]) == {"dk", "rotoguru"}
    assert dict(zip(dk["dk_id"].astype(int), dk["salary"], strict=True)) == {
        int(r["ID"]): int(r["Salary"]) for r in rows_of(DK_2019)}
    assert len(raw_files(cli.home, day)) == 1  # the replaced copy's raw bytes go with it

    bubble = dt.date(2020, 8, 10)
    for path in DK_BUBBLE:
        code, out, _ = cli("dk-salaries", str(path))
        assert code == 0 and "replaces" not in out, out  # the archive holds these very slates: nothing replaced
    dk = salaries_held(cli.home, bubble).query("source == 'dk'")
    assert dk["slate_id"].nunique() == 2 and len(dk) == sum(len(rows_of(p)) for p in DK_BUBBLE)
    assert len(raw_files(cli.home, bubble)) == 2


def salaries_held(home: Path, day: dt.date) -> pd.DataFrame:
    from projections.sources import snapshots

    entry = snapshots.entries(home, "salaries", day)[-1]
    return pd.read_parquet(snapshots.data_path(home, entry))


def raw_files(home: Path, day: dt.date) -> list[str]:
    from projections.sources import snapshots

    entry = snapshots.entries(home, "salaries", day)[-1]
    return sorted(p.name for p in snapshots.data_path(home, entry).parent.glob("raw-*"))


def test_the_inbox_keeps_every_days_dksalaries_csv(cli, tmp_path: Path) -> None:
    """DraftKings names every export DKSalaries.csv: taken files are kept under their slate, not overwritten."""
    inbox = cli.home / "inbox"
    for path in (DK_2019, DK_2023):
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "DKSalaries.csv").write_bytes(path.read_bytes())
        code, out, _ = cli("inbox")
        assert code == 0 and "(moved to " in out, out
    kept = sorted((inbox / "processed").iterdir())
    assert [p.name[:14] for p in kept] == ["dk-2019-11-01-", "dk-2023-01-16-"]
    assert all(p.name.endswith("__DKSalaries.csv") for p in kept)
    assert [p.read_bytes() for p in kept] == [DK_2019.read_bytes(), DK_2023.read_bytes()]


def test_a_partial_season_is_ingested_with_a_note_on_what_it_means(cli, tmp_path: Path) -> None:
    """A truncated export (or a season under way) is written, and said to be partial: dates outside its span
    are refused by doit, and the whole file later needs --replace."""
    part = write_csv(tmp_path / "logs.csv", rows_of(LOGS_2022)[:999])
    code, out, _ = cli("game-logs", str(part))
    assert code == 0 and "wrote player_logs/2022-23: 999 rows" in out
    (note,) = [line for line in out.splitlines() if line.startswith("note: ") and "who started" not in line]
    assert note.startswith("note: 2022-23 holds 45 games from ") and "a partial season" in note
    assert "ingest it with --replace" in note
    code, out, _ = cli("game-logs", str(LOGS_2022), "--replace")
    assert code == 0 and [line for line in out.splitlines() if line.startswith("note: ")] == [
        "note: player_logs/2022-23: the file does not say who started (a stats.nba.com export never does): starts "
        "are inferred from minutes, which costs accuracy, for this season's slates and the next season's "
        "calibration; `projections ingest game-logs --fetch 2022-23 --replace` fetches them with each game's "
        "starters"]


def test_snapshots_marks_the_one_capture_a_build_uses(cli, tmp_path: Path) -> None:
    """The same file taken again after a corrected copy is a new capture with the same fields as its first
    one: both were marked `*` as used."""
    edited = write_csv(tmp_path / "DKSalaries.csv", [dict(r, Salary="3100") if i == 1 else r for i, r in
                                                       enumerate(rows_of(DK_2019))])
    for path in (DK_2019, edited, DK_2019):
        assert cli("dk-salaries", str(path))[0] == 0
    listed = run_cli(cli.home, "snapshots", "2019-11-01", "salaries", "--json")
    assert listed.returncode == 0, listed.stderr
    captures = json.loads(listed.stdout)["captures"]
    assert [c["used"] for c in captures] == [False, False, True]
    assert captures[0]["object"] == captures[2]["object"] != captures[1]["object"]


def test_replacing_a_shipped_seasons_logs_keeps_its_schedule(cli) -> None:
    """The nba.com logs of 2019-20 stop at the hiatus and carry no tip times: put in place of the shipped logs,
    they must not shrink the shipped schedule (the 2020 bubble, real tips) - the schedule part is left as it is,
    and the notes say so and that starts are now inferred from minutes."""
    from projections.archive import parts
    from projections.archive_calendar import game_dates

    before = game_dates(cli.home)
    assert dt.date(2020, 8, 6) in before
    code, out, _ = cli("game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv"), "--replace")
    assert code == 0 and "wrote player_logs/2019-20: " in out, out
    assert "wrote schedule/" not in out
    assert "note: schedule/2019-20: the archive's 1143 games (and their tip times) are kept" in out
    assert "starts are inferred from minutes" in out
    assert [p.origin for p in parts(cli.home, "schedule") if "2019-20" in p.seasons] == ["shipped"]
    assert game_dates(cli.home) == before


def test_a_new_seasons_logs_without_starts_say_how_to_get_them(cli, tmp_path: Path) -> None:
    """A stats.nba.com export of a season the archive lacks (2022-23) never says who started: the ingest says
    that its roles are inferred from minutes and names the fetch that brings the starts. Before, only a file
    replacing flagged logs had a note; a new season's said nothing, and the first word of it was the next
    season's calibration note."""
    source = SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv"
    part = write_csv(tmp_path / "logs.csv", rows_of(source, lambda r: r["GAME_DATE"] < "2022-10-25"))
    code, out, _ = cli("game-logs", str(part))
    assert code == 0 and "wrote player_logs/2022-23: " in out, out
    (note,) = [line for line in out.splitlines() if "who started" in line]
    assert note.startswith("note: player_logs/2022-23: the file does not say who started") and \
        "`projections ingest game-logs --fetch 2022-23 --replace`" in note


def test_a_date_of_a_season_without_starts_says_so_when_it_builds(tmp_path: Path) -> None:
    """A slate of an ingested stats.nba.com season confirmed no team's starters and said nothing at build time
    (only `projections evaluate`'s lineup_modes said "none"): its lineups line now says so, naming the fetch."""
    home = tmp_path / "home"
    result = run_cli(home, "ingest", "game-logs", str(LOGS_2022.with_name("player_logs_2023-24.csv")))
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_doit(home, "lineups", "date=2023-11-01")
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if " lineups " in line]
    assert "built" in line and "note: starters not confirmed: the 2023-24 game logs do not say who started" in line
    assert "`projections ingest game-logs --fetch 2023-24 --replace`" in line, line
    assert built(home, "lineups", dt.date(2023, 11, 1))["confirmed"].sum() == 0


def test_a_partial_file_replacing_a_season_says_the_history_ends_early(cli, tmp_path: Path) -> None:
    """Logs of 2019-20 up to December only, replacing the shipped season: the schedule goes on, so the note
    says which dates are projected from history that ends early (not that they are refused)."""
    source = SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv"
    part = write_csv(tmp_path / "logs.csv", rows_of(source, lambda r: r["GAME_DATE"] < "2019-12-10"))
    code, out, _ = cli("game-logs", str(part), "--replace")
    assert code == 0, out
    (note,) = [line for line in out.splitlines() if "partial season" in line]
    assert "holds games from 2019-10-22 to 2019-12-09 only" in note and "projected from history" in note


def _early_slate(path: Path, games: tuple[str, ...]) -> Path:
    """Two games of DK_2019 under new DraftKings ids: an early slate of the same date (real players, salaries)."""
    rows = [dict(r, ID=str(int(r["ID"]) + 10**6), **{"Name + ID": f"{r['Name']} ({int(r['ID']) + 10**6})"})
            for r in rows_of(DK_2019, lambda r: r["Game Info"].split(" ")[0] in games)]
    return write_csv(path, rows)


def test_an_early_slate_of_an_archived_date_stands_beside_its_main_slate(cli, tmp_path: Path) -> None:
    """The date's first salary snapshot stood in for the archive's rows of the date: ingesting a 2-game early
    slate of 2019-11-01 hid the archive's 8-game main slate, and gold went from 268 players to 4 teams'."""
    early = _early_slate(tmp_path / "early.csv", ("NY@BOS", "HOU@BKN"))
    code, out, _ = cli("dk-salaries", str(early))
    assert code == 0, out
    assert "(2 games) is kept beside slate dk-2019-11-01-" in out and "(8 games), which the date's projections " \
        "use" in out, out
    result = run_doit(cli.home, "slate", "date=2019-11-01")
    assert result.returncode == 0, result.stdout + result.stderr
    gold = pd.read_csv(cli.home / "gold" / "projections" / "game_date=2019-11-01" / "dk_projections.csv")
    assert len(gold) == len(rows_of(DK_2019)) and gold["TeamAbbrev"].nunique() == 16


@pytest.mark.parametrize("damage, says", [
    (lambda rows: [dict(r, ID=rows[0]["ID"]) if i == 1 else r for i, r in enumerate(rows)],
     "share DraftKings ID"),
    (lambda rows: [dict(r, Salary="10800.7") if i == 0 else r for i, r in enumerate(rows)],
     "line 2, column 'Salary': 10800.7 (not a salary)"),
    (lambda rows: rows[:2], "list players of one team only"),
])
def test_a_damaged_salary_export_is_refused(cli, tmp_path: Path, damage, says: str) -> None:
    """Two players under one DraftKings id (a lineup upload could not tell them apart), a salary with cents
    (stored as whole dollars), the first lines of a file (its games half listed: the build then failed at
    ownership) were all taken."""
    path = write_csv(tmp_path / "DKSalaries.csv", damage(rows_of(DK_2019)))
    code, _, err = cli("dk-salaries", str(path))
    assert code == 2 and says in err and "Traceback" not in err, err
    assert not (cli.home / "snapshots").exists()


def test_a_file_cut_at_a_line_is_taken_with_a_note_naming_the_thin_teams(cli, tmp_path: Path) -> None:
    """(For a date with no slate known yet; a cut copy of a known slate is refused, as the next test shows.)"""
    rows = rows_of(DK_2023)
    code, out, _ = cli("dk-salaries", str(write_csv(tmp_path / "DKSalaries.csv", rows[: len(rows) // 2])))
    assert code == 0, out
    (note,) = [line for line in out.splitlines() if line.startswith("note: ") and "fewer than 8" in line]
    assert "the file may be cut short or filtered" in note


def test_a_partial_lines_file_says_which_games_have_no_line(cli, tmp_path: Path) -> None:
    """A lines file cut at a line boundary was taken without a word (game logs got a partial-season note)."""
    part = write_csv(tmp_path / "lines.csv", rows_of(LINES, lambda r: "2023-01-01" <= r["date"] < "2023-02-01"))
    code, out, _ = cli("lines", str(part))
    assert code == 0, out
    (note,) = [line for line in out.splitlines() if line.startswith("note: ")]
    assert note.startswith("note: odds/2022-23 holds ") and "a partial season" in note and "--replace" in note


def test_where_a_lines_file_lay_is_not_stored(cli, tmp_path: Path) -> None:
    """The lines' `source` column held the path given on the command line: the same file from another folder made
    another archive object, and the store kept the user's paths."""
    rows = rows_of(LINES, lambda r: "2023-01-01" <= r["date"] < "2023-02-01")
    objects = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        code, out, _ = cli("lines", str(write_csv(tmp_path / folder / "lines.csv", rows)), "--replace")
        assert code == 0, out
        objects.append(out.split("(object ")[1].split(")")[0])
    assert objects[0] == objects[1]


def _template(rows: list[dict]) -> bytes:
    """A DraftKings lineup-upload template (the layout of shared/data's showdown template, for a classic slate):
    roster slots and instructions on the left, the salary export's table nine columns in."""
    pad = "," * 9
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    head = ["PG,SG,SF,PF,C,G,F,UTIL,,Instructions", f"{pad}1. Locate the player you want to select in the list below ",
            " "]
    return ("\n".join(head + [pad + line for line in table.getvalue().splitlines()]) + "\n").encode()


def test_other_forms_of_a_salary_file_are_read_or_named(cli, tmp_path: Path) -> None:
    """A lineup-upload template holds the same table (it was 'not a readable CSV (Error tokenizing data...' over two
    lines, with the fix 'pass that file unchanged'); UTF-16 is the same text; another encoding is named, with the
    fix; a preseason file is named as one (it was 'belongs to another date or was edited')."""
    rows = rows_of(DK_2019)
    (tmp_path / "template.csv").write_bytes(_template(rows))
    code, out, err = cli("dk-salaries", str(tmp_path / "template.csv"))
    assert code == 0 and "2019-11-01 slate dk-2019-11-01-" in out and f", {len(rows)} players" in out, out + err
    showdown = SHARED / "salaries" / "dk" / "2023-11-25__mainstringargs__DKSalaries_showdown_template__orig.csv"
    code, _, err = cli("dk-salaries", str(showdown))
    assert code == 2 and "lists ['CPT', 'UTIL']: a showdown or non-NBA-classic slate" in err, err
    (tmp_path / "utf16.csv").write_bytes(DK_2019.read_text().encode("utf-16"))
    code, out, err = cli("dk-salaries", str(tmp_path / "utf16.csv"))
    assert code == 0 and f", {len(rows)} players" in out, out + err
    tab = "".join("\t".join(row) + "\n" for row in csv.reader(io.StringIO(DK_2019.read_text())))
    (tmp_path / "unicode.txt").write_bytes(tab.encode("utf-16"))  # Excel's "Unicode Text": UTF-16, tabs
    (tmp_path / "template16.csv").write_bytes(_template(rows).decode().encode("utf-16"))
    for name in ("unicode.txt", "template16.csv"):
        code, out, err = cli("dk-salaries", str(tmp_path / name))
        assert code == 0 and f", {len(rows)} players" in out, name + out + err
    (tmp_path / "latin1.csv").write_bytes(DK_2019.read_bytes().replace(b"Luka Doncic", "Luka Dončić".encode("cp1250")))
    code, _, err = cli("dk-salaries", str(tmp_path / "latin1.csv"))
    assert code == 2 and "not UTF-8 text (byte " in err and "save it as CSV UTF-8" in err, err
    preseason = SHARED / "salaries" / "dk" / "2019-10-13__markjoeljimenez__DKSalaries__856ab4ae.csv"
    code, _, err = cli("dk-salaries", str(preseason))
    assert code == 2 and "before the 2019-20 regular season opens (2019-10-22): a preseason slate" in err, err


def test_an_inbox_setting_that_names_no_folder_is_refused(cli, tmp_path: Path, monkeypatch) -> None:
    """A live.inbox naming a file or a missing folder read as 'no DKSalaries.csv waiting', exit 0, forever."""
    (tmp_path / "afile").write_text("x")
    for path, says in ((tmp_path / "afile", "is a file, not a folder"), (tmp_path / "typo", "does not exist")):
        monkeypatch.setenv("PROJECTIONS_LIVE__INBOX", str(path))
        code, _, err = cli("inbox")
        assert code == 2 and f"the inbox {path} {says}" in err and "PROJECTIONS_LIVE__INBOX" in err, err
    monkeypatch.delenv("PROJECTIONS_LIVE__INBOX")
    code, out, _ = cli("inbox")  # the default inbox under the data root need not exist yet
    assert code == 0 and "no DKSalaries.csv waiting" in out
    # ... but it says so: a PROJECTIONS_HOME with a typo read as an empty inbox, with no word that none is there
    assert "no DKSalaries.csv waiting (no such folder yet: nothing was ever dropped there - check PROJECTIONS_HOME" \
        in out, out


def test_a_partial_copy_of_a_known_slate_is_refused_and_a_postponed_game_noted(cli, tmp_path: Path) -> None:
    """Any shared DraftKings id made a file 'the same slate', so one game's rows of 2019-11-01's main slate
    replaced all eight games (gold fell to 34 players, exit 0). A copy listing fewer players of a game, or most
    games gone, is refused; a whole game gone (postponed after the export) is taken, and said."""
    rows = rows_of(DK_2019)
    before = tree_snapshot(cli.home)
    for part in ([r for r in rows if r["Game Info"].startswith("NY@BOS")], rows[: len(rows) // 2]):
        code, _, err = cli("dk-salaries", str(write_csv(tmp_path / "DKSalaries.csv", part)))
        assert code == 2 and "a filtered or partial copy would replace the whole slate" in err, err
        assert tree_snapshot(cli.home) == before
    rest = [r for r in rows if not r["Game Info"].startswith("NY@BOS")]
    code, out, err = cli("dk-salaries", str(write_csv(tmp_path / "DKSalaries.csv", rest)))
    assert code == 0 and "note: BOS@NYK left slate dk-2019-11-01-" in out and "(postponed?)" in out, out + err
    assert "the date's projections cover only its games" not in out, out  # it is the main slate still


def test_a_schedule_an_older_version_shrank_is_mended_by_the_next_ingest(cli) -> None:
    """Before the ingest kept the archive's schedule, `ingest game-logs --replace` of the nba.com 2019-20 logs
    wrote a schedule of their 971 games (tips at 19:00, no bubble). Ingesting them again took that part for the
    archive's and kept it; the shipped schedule now takes part, so the bubble's games come back."""
    import hashlib

    from projections.archive import add_part
    from projections.archive_calendar import game_dates
    from projections.ops import leftovers
    from projections.sources import files, ingest, tables
    from projections.store import LocalStore

    content = (SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv").read_bytes()
    shrunk = ingest.schedule_from_logs(files.game_logs(content, "logs.csv"))
    assert len(shrunk) == 971
    cli.home.mkdir(parents=True)
    commit = LocalStore(cli.home).commit({"data.parquet": tables.to_parquet(shrunk, "schedule")}, {"kind": "ingest"})
    add_part(cli.home, "schedule", "2019-20", commit.object, ("2019-20",), sha256=hashlib.sha256(content).hexdigest())
    assert dt.date(2020, 8, 6) not in game_dates(cli.home)  # the old version's root
    assert leftovers.shrunk_schedules(cli.home) == [("2019-20", 971, 1143)]  # projections doctor says so

    code, out, _ = cli("game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2019-20.csv"), "--replace")
    assert code == 0 and "wrote schedule/2019-20: 1143 rows" in out, out
    assert dt.date(2020, 8, 6) in game_dates(cli.home)
    assert leftovers.findings(cli.home) == []


def test_an_early_slate_an_older_version_recorded_alone_is_mended_by_ingesting_again(cli, tmp_path: Path) -> None:
    """An older version recorded an early slate as the date's whole snapshot, which hides the archive's main
    slate; ingesting a file of the date again ('already known' before) now brings the archive's slates in."""
    from projections.sources import snapshots, tables
    from projections.sources.inbox import read_dk

    early = _early_slate(tmp_path / "early.csv", ("NY@BOS", "HOU@BKN"))
    cli.home.mkdir(parents=True)
    day, frame = read_dk(cli.home, early.read_bytes(), "early.csv")
    snapshots.record(cli.home, "salaries", day, files={snapshots.DATA: tables.to_parquet(frame, "salaries")},
                     captured_at=dt.datetime(2019, 11, 1, 4, tzinfo=dt.UTC), url="file:early.csv", rows=len(frame),
                     meta={"slates": sorted(set(frame["slate_id"]))})  # as the older version did
    assert set(salaries_held(cli.home, day)["source"]) == {"dk"}
    code, out, _ = cli("dk-salaries", str(early))
    assert code == 0 and "(8 games), which the date's projections use" in out, out
    held = salaries_held(cli.home, day)
    assert set(held["source"]) == {"dk", "rotoguru"} and held["slate_id"].nunique() == 3


def test_an_archived_slate_an_older_version_recorded_alone_is_mended_by_ingesting_again(cli) -> None:
    """The mend above missed the real files: the archive holds every DraftKings export to 2020-12-31, so the
    older version's lone 2-game slate of 2020-08-10 was one of the archive's slates, and ingesting it again said
    'already known' and kept hiding the 5-game main slate (gold stayed on the 2 games' players)."""
    from projections.ops import leftovers
    from projections.sources import snapshots, tables
    from projections.sources.inbox import read_dk

    late = DK_BUBBLE[0]  # 2 games; DK_BUBBLE[1] is the 5-game main slate, which the archive holds too
    cli.home.mkdir(parents=True)
    day, frame = read_dk(cli.home, late.read_bytes(), late.name)
    snapshots.record(cli.home, "salaries", day, files={snapshots.DATA: tables.to_parquet(frame, "salaries")},
                     captured_at=dt.datetime(2020, 8, 10, 4, tzinfo=dt.UTC), url=f"file:{late.name}",
                     rows=len(frame), meta={"slates": sorted(set(frame["slate_id"]))})  # as the older version did
    ((_, _, _, what, fix),) = leftovers.findings(cli.home)  # projections doctor names the file to ingest again
    assert what.startswith(f"the salary snapshot of {day} an older version recorded from {late.name} alone hides "
                           "the archive's slate(s) dk-2020-08-10-") and fix.startswith(
        f"projections ingest dk-salaries {late.name} (the same file again)"), (what, fix)
    code, out, _ = cli("dk-salaries", str(late))
    assert code == 0 and "already known" not in out and "(5 games), which the date's projections use" in out, out
    held = salaries_held(cli.home, day)
    dk = held[held["source"] == "dk"]
    assert set(held["source"]) == {"dk", "rotoguru"} and len(dk) == sum(len(rows_of(p)) for p in DK_BUBBLE)
    assert not dk.duplicated(["slate_id", "dk_id"]).any() and leftovers.findings(cli.home) == []


def test_doctor_upgrade_check_passes_over_a_snapshot_whose_object_is_gone(cli) -> None:
    """A snapshot index naming an object no longer in the store is `projections verify`'s to name: the upgrade
    check skips it instead of stopping the doctor with the snapshot's read error."""
    import shutil

    from projections.ops import leftovers
    from projections.sources import snapshots, tables
    from projections.sources.inbox import read_dk
    from projections.store import LocalStore

    late = DK_BUBBLE[0]
    cli.home.mkdir(parents=True)
    day, frame = read_dk(cli.home, late.read_bytes(), late.name)
    recorded = snapshots.record(cli.home, "salaries", day, rows=len(frame), url=f"file:{late.name}",
                                files={snapshots.DATA: tables.to_parquet(frame, "salaries")},
                                captured_at=dt.datetime(2020, 8, 10, 4, tzinfo=dt.UTC))
    where = LocalStore(cli.home).object_dir(recorded.entry.object)
    for path in (where, *where.iterdir()):
        path.chmod(0o755)
    shutil.rmtree(where)
    assert leftovers.findings(cli.home) == []


def test_files_of_one_call_are_checked_in_order_before_anything_is_written(cli, tmp_path: Path) -> None:
    """Each file was checked against the date as it stood before the call: a whole export then a partial copy of
    it wrote the first, then refused the second (exit 2 after a write)."""
    early = _early_slate(tmp_path / "early.csv", ("NY@BOS", "HOU@BKN"))  # a slate the date does not hold yet
    rows = rows_of(early)
    part = write_csv(tmp_path / "part.csv", [r for r in rows if r["Game Info"].startswith("NY@BOS")][:10])
    before = tree_snapshot(cli.home)
    code, out, err = cli("dk-salaries", str(early), str(part))
    assert code == 2 and "part.csv: a new export of slate" in err and out == "", out + err
    assert tree_snapshot(cli.home) == before


def test_a_new_export_missing_a_player_or_two_replaces_the_slate(cli, tmp_path: Path) -> None:
    """A player may leave a slate between two exports (waived, traded): refused as 'a part of the slate'."""
    rows = rows_of(DK_2019)
    code, out, err = cli("dk-salaries", str(write_csv(tmp_path / "DKSalaries.csv", rows[:-1])))
    assert code == 0 and ", replaces dk-2019-11-01-" in out and f"{len(rows) - 1} players" in out, out + err


def test_the_inbox_takes_the_newest_export_last_so_the_correction_wins(cli, tmp_path: Path) -> None:
    """Two real exports of one slate, the later correcting the earlier (64 -> 63 players). A browser saves the
    second download as `DKSalaries (1).csv`, which sorts before `DKSalaries.csv`: taken by name, the older file
    replaced the correction."""
    import os

    first = SHARED / "salaries" / "dk" / "2020-08-31__hr23232323__DKSalaries__d39cc26c.csv"
    second = SHARED / "salaries" / "dk" / "2020-08-31__hr23232323__DKSalaries_v2__cb93ff4f.csv"
    if not (first.is_file() and second.is_file()):
        pytest.skip("the 2020-08-31 exports are not here")
    inbox = cli.home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for path, name, mtime in ((first, "DKSalaries.csv", 1_598_868_000), (second, "DKSalaries (1).csv",
                                                                           1_598_871_600)):
        (inbox / name).write_bytes(path.read_bytes())
        os.utime(inbox / name, (mtime, mtime))  # downloaded at 10:00 and 11:00
    code, out, _ = cli("inbox")
    assert code == 0, out
    assert out.index("DKSalaries.csv") < out.index("DKSalaries (1).csv"), out  # taken oldest first
    held = salaries_held(cli.home, dt.date(2020, 8, 31))
    assert len(held[held["source"] == "dk"]) == 63, held["source"].value_counts()  # the correction


def test_a_game_off_the_draftkings_slate_does_not_lock_the_slate(cli, tmp_path: Path, monkeypatch) -> None:
    """2020-08-06: NOP@SAC tipped at 17:30Z, off the real DraftKings slate (its first tip 20:00Z). The date
    locked at 17:30Z, so nothing was fetched after it - the 2 PM injury report, the lineups - though the slate's
    games were hours away (on a weekend, the afternoon timer run did nothing)."""
    import datetime as dt_

    from projections.wiring import make_engine

    day = dt.date(2020, 8, 6)
    dk = SHARED / "salaries" / "dk" / "2020-08-06__VincentLa__DKNBASalaries_Classic_20200806.csv"
    if not dk.is_file():
        pytest.skip(f"{dk} is not here")
    built = run_doit(cli.home, "schedule", f"date={day}")
    assert built.returncode == 0, built.stdout + built.stderr
    # the archive's own DraftKings file of the date locks it at its slate's first tip too (it locked at the date's
    # first tip, 17:30Z, until a file was ingested)
    assert make_engine().lock(day) == dt_.datetime(2020, 8, 6, 20, 0, tzinfo=dt_.UTC)
    code, out, _ = cli("dk-salaries", str(dk))
    assert code == 0, out
    assert make_engine().lock(day) == dt_.datetime(2020, 8, 6, 20, 0, tzinfo=dt_.UTC)  # the slate's own first tip
    from projections.sources import snapshots

    index = snapshots.index_path(cli.home, "salaries", day)  # as older code recorded it: no lock in the line
    lines = [json.loads(line) for line in index.read_text().splitlines()]
    assert lines[-1]["lock"] == "2020-08-06T20:00:00.000Z"
    index.write_text("".join(json.dumps({k: v for k, v in line.items() if k != "lock"}) + "\n" for line in lines))
    assert make_engine().lock(day) == dt_.datetime(2020, 8, 6, 20, 0, tzinfo=dt_.UTC)  # read from its table
    from projections import live_fetch

    monkeypatch.setenv("PROJECTIONS_SOURCE", "live")
    for now, due in (("2020-08-06T19:00:00Z", True), ("2020-08-06T20:00:00Z", False)):
        monkeypatch.setenv("PROJECTIONS_LIVE__NOW", now)
        assert live_fetch.needs_fetch(make_engine(), "odds", day) is due, now  # 19:00Z: still before the lock


def test_a_season_without_lines_is_projected_without_them_and_says_so(tmp_path: Path) -> None:
    """2023-24's game logs ingested, no lines file (as a live season with live.odds.url off): the odds stage used to
    fail ("the archive has no 'odds' table"), stopping the slate; it now builds with no line - the models use league
    means - and its line in the run says so. Ingesting the season's closing lines then gives every game its line."""
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "game-logs", str(SHARED / "logs" / "nbacom" / "player_logs_2023-24.csv")
                   ).returncode == 0
    first = run_doit(home, "odds", "date=2023-11-01")
    assert first.returncode == 0, first.stdout + first.stderr
    (line,) = [t for t in first.stdout.splitlines() if " odds " in t]
    assert "built" in line and "note: no betting line for any game of the date" in line, first.stdout
    assert "`projections ingest lines FILE --season 2023-24` adds the season's closing lines" in line  # not "a season"
    odds = built(home, "odds", dt.date(2023, 11, 1))
    assert len(odds) == 26 and not odds["has_line"].any() and odds["spread"].isna().all()
    assert run_cli(home, "ingest", "lines", str(LINES), "--season", "2023-24").returncode == 0
    again = run_doit(home, "odds", "date=2023-11-01")
    assert again.returncode == 0 and "no betting line" not in again.stdout, again.stdout
    assert built(home, "odds", dt.date(2023, 11, 1))["has_line"].all()

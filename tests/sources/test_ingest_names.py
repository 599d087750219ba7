"""`projections ingest`: a file name holding a newline is said on one line (escaped), in an error and in the line
saying what was taken, so it can neither split the one `error:` line nor forge a line of output. Real CLI
processes on real files."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SHARED, run_cli, tree_snapshot
from tests.sources.test_ingest import DK_2019, rows_of, write_csv

LOGS_2022 = SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv"


def test_a_refused_file_with_a_newline_in_its_name_is_one_error_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "x\nname.csv"
    bad.write_text("garbage\n")
    logs = write_csv(tmp_path / "logs\nfile.csv", [dict(r, MIN="300") if i == 3 else r
                                                   for i, r in enumerate(rows_of(LOGS_2022)[:40])])
    for kind, path, says in (("dk-salaries", bad, "missing column(s)"), ("game-logs", logs, "minutes outside")):
        result = run_cli(home, "ingest", kind, str(path), timeout=120)
        assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        shown = str(path).replace("\n", "\\n")
        assert lines[0].startswith(f"error: {shown}: ") and says in lines[0], lines
    assert tree_snapshot(home) == {}


def test_a_taken_file_with_a_newline_in_its_name_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = tmp_path / "DK\nSalaries.csv"
    path.write_bytes(DK_2019.read_bytes())
    result = run_cli(home, "ingest", "dk-salaries", str(path), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(str(path).replace("\n", "\\n") + ": 2019-11-01 slate "), lines
    assert all(line.startswith(("note: ", str(tmp_path))) for line in lines), lines

"""A full disk under `projections ingest` and `projections report`: one `error:` line naming the file and the fix
(free disk space), exit 2, the archive as it was and no temp file left; and a game-log ingest stopped between its
two parts (player_logs written, schedule not) is completed by running it again. Real CLI and doit processes on
real files; the full disk is the failpoint `file.write=enospc` (every file write fails with ENOSPC, as os.write
does on a full file system; and where this user may mount one, a real tmpfs filled up), the stop
`ingest.part_added=crash` (the process dies right after its first ref)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import SHARED, run_cli, run_doit

LOGS_2022 = SHARED / "logs" / "nbacom" / "player_logs_2022-23.csv"
FULL = "file.write=enospc"


def _files(home: Path, *under: str) -> list[str]:
    return sorted(str(p.relative_to(home)) for d in under if (home / d).exists() for p in (home / d).rglob("*")
                  if not p.is_dir())


def test_a_full_disk_under_ingest_is_one_error_line_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120, PROJECTIONS_FAILPOINTS=FULL)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: ingest game-logs: cannot write {home}/store/tmp/"), lines
    assert "No space left on device (the disk is full); free disk space on the file system holding" in lines[0]
    assert "then run the same command again" in lines[0] and "Traceback" not in result.stderr
    assert _files(home, "refs", "store", "gold") == []  # no ref, no object, nothing staged left behind


def test_a_full_disk_under_report_is_one_error_line_and_leaves_no_temp_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120).returncode == 0
    before = _files(home, "refs", "store", "gold")
    result = run_cli(home, "report", timeout=120, PROJECTIONS_FAILPOINTS=FULL)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: report: cannot write {home}/report/"), lines
    assert lines[0].endswith(".html: No space left on device (the disk is full); free disk space on the file system "
                             f"holding {home}/report (`df -h {home}/report` shows it; `projections gc` deletes the "
                             "objects nothing needs), then run the same command again"), lines
    assert _files(home, "report") == [] and _files(home, "refs", "store", "gold") == before


def test_a_game_log_ingest_stopped_between_its_parts_is_completed_by_running_it_again(tmp_path: Path) -> None:
    """It stopped with player_logs/2022-23 written and the schedule not: the rerun said "kept ... nothing written"
    while `doit slate` called the season outside the archive and suggested that very ingest."""
    home = tmp_path / "home"
    stopped = run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120,
                      PROJECTIONS_FAILPOINTS="ingest.part_added=crash")
    assert stopped.returncode == 137, stopped.stdout + stopped.stderr
    assert _files(home, "refs") == ["refs/archive/player_logs/2022-23.json"]
    outside = run_doit(home, "schedule", "date=2022-10-28", timeout=120)
    assert outside.returncode == 3 and "outside what the archive's schedule covers" in outside.stdout + outside.stderr

    again = run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "wrote schedule/2022-23: 1230 rows" in again.stdout and "kept  player_logs/2022-23" in again.stdout
    assert "note: schedule/2022-23: the archive had player_logs/2022-23 without its schedule" in again.stdout
    assert _files(home, "refs") == ["refs/archive/player_logs/2022-23.json", "refs/archive/schedule/2022-23.json"]

    whole = tmp_path / "whole"  # the schedule is the one an uninterrupted ingest writes
    assert run_cli(whole, "ingest", "game-logs", str(LOGS_2022), timeout=120).returncode == 0
    from projections.archive import parts
    from projections.archive_calendar import game_dates

    assert [p.path.parent.name for p in parts(home, "schedule") if "2022-23" in p.seasons] == \
        [p.path.parent.name for p in parts(whole, "schedule") if "2022-23" in p.seasons]
    assert dt.date(2022, 10, 28) in game_dates(home)
    built = run_doit(home, "schedule", "date=2022-10-28", timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr
    third = run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120)
    assert third.returncode == 0 and "nothing written" in third.stdout, third.stdout


def test_a_real_full_file_system_under_ingest(tmp_path: Path) -> None:
    """The same on a real full file system: a 2 MiB tmpfs, filled (only where this user may mount one)."""
    import os
    import shutil
    import subprocess

    import pytest

    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and the right to mount)")
    try:
        home, filler = mount / "home", mount / "filler"
        with open(filler, "wb") as fh, pytest.raises(OSError):
            while True:  # until the file system is full
                fh.write(b"\0" * 65536)
                fh.flush()
        result = run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120)
        assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "No space left on device (the disk is full); free disk space" in lines[0], lines
        assert _files(home, "refs", "store", "gold") == []
        filler.unlink()
        again = run_cli(home, "ingest", "game-logs", str(LOGS_2022), timeout=120)
        assert again.returncode == 0 and "wrote schedule/2022-23: 1230 rows" in again.stdout, again.stderr
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)

"""The DraftKings inbox is a drop folder other people write to: what lies there is read as a file and no more -
never through a link, never past a size cap, never moved out of the data root, its name never printed raw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from projections.settings_tables import PermissionSettings
from projections.sources import intake
from projections.sources.files import BadFile
from tests.conftest import REPO, ledger_events, project_env, run_cli, tree_snapshot
from tests.sources.test_ingest import DK_2019

DAY = "2019-11-01"  # DK_2019's date: an archived one, so a fetch that takes nothing still succeeds


def _inbox(home: Path) -> Path:
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox


def _ledger_text(home: Path) -> str:
    return "".join(str(e) for e in ledger_events(home))


def _measured(home: Path, *args: str) -> tuple[int, str, int]:
    """(exit code, output, peak resident memory in bytes) of `projections ARGS` run in a process of its own. The
    peak is the process's VmHWM, read until it exits (rusage would count the memory of the test process, whose
    pages the child shares until it execs)."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, "-m", "projections.cli", *args], env=project_env(home), cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, text=True)
        peak = 0
        while proc.poll() is None:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                status = ""
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
            time.sleep(0.02)
        out.seek(0)
        return proc.returncode, out.read(), peak


def test_a_file_larger_than_any_export_is_refused_unread_and_left(tmp_path: Path) -> None:
    """A 3 GB file in the inbox was read whole by every live run (1.5 GB of memory and counting), while
    `ingest inbox` refused it: the inbox reads with the same cap now, and a file over it is refused from its size."""
    small, big = tmp_path / "small", tmp_path / "big"
    for home, size in ((small, 10), (big, 64 * 2**20)):
        with open(_inbox(home) / "huge.csv", "wb") as fh:
            fh.truncate(size)  # sparse: no disk, but every byte reads as a NUL
    code, said_small, rss_small = _measured(small, "fetch", "salaries", DAY)
    assert code == 0, said_small[:2000]
    code, said, rss = _measured(big, "fetch", "salaries", DAY)
    assert rss - rss_small < 32 * 2**20, (rss, rss_small)  # not one copy of the file in memory
    assert code == 0 and "inbox: 0 taken, 1 refused" in said, said[:2000]
    assert "refused huge.csv: more than 4 MiB, more than any DraftKings salary export" in said, said[:2000]
    assert (big / "inbox" / "huge.csv").stat().st_size == 64 * 2**20  # left where it was, like any refused file
    assert any("huge.csv: more than 4 MiB" in str(e.get("rejected")) for e in ledger_events(big))
    # `ingest inbox` and `ingest dk-salaries FILE` refuse it the same way
    inbox = run_cli(big, "ingest", "inbox")
    assert inbox.returncode == 1 and "refused huge.csv: more than 4 MiB" in inbox.stdout, inbox.stdout[:2000]
    named = run_cli(big, "ingest", "dk-salaries", str(big / "inbox" / "huge.csv"))
    assert named.returncode == 2 and "huge.csv: more than 4 MiB" in named.stderr, named.stderr[:2000]


def test_a_link_or_other_non_file_in_the_inbox_is_refused_by_name_and_never_read(tmp_path: Path) -> None:
    """`ln -s /etc/shadow inbox/shadow.csv` had the fetch quote the file's first line in its output and the
    ledger. A link, a pipe or a folder is refused by name, unread; the header of a wrong file is quoted in short."""
    home = tmp_path / "home"
    secret = tmp_path / "secret"
    secret.write_text("root:SECRET-HASH:19000:0:99999:7:::\nbin:*:19000::::::\n")
    inbox = _inbox(home)
    (inbox / "shadow.csv").symlink_to(secret)
    (inbox / "data.csv").symlink_to(DK_2019)  # a good export, but a link: what it points to is not the inbox's
    os.mkfifo(inbox / "pipe.csv")
    (inbox / "folder.csv").mkdir()
    (inbox / "wide.csv").write_text(",".join(f"column{i}" + "x" * 500 for i in range(12)) + "\n1,2\n")
    fetch = run_cli(home, "fetch", "salaries", DAY, timeout=120)
    assert fetch.returncode == 0, fetch.stdout + fetch.stderr
    said = fetch.stdout + fetch.stderr + _ledger_text(home)
    assert "SECRET" not in said and "Harden" not in said, said
    assert "inbox: 0 taken, 5 refused" in fetch.stdout, fetch.stdout
    assert f"refused data.csv -> {DK_2019}: a symbolic link, not a file, so it is not read" in fetch.stdout
    assert "pipe.csv: a named pipe, not a file, so it is not read" in fetch.stderr, fetch.stderr
    assert "folder.csv: a folder, not a file, so it is not read" in fetch.stderr, fetch.stderr
    wide = next(line for line in fetch.stderr.splitlines() if line.startswith("inbox: wide.csv"))
    assert "(the file has ['column0xxx" in wide and len(wide) < 700, wide  # a short excerpt: 6 KB of header
    assert {p.name for p in inbox.iterdir()} == {"shadow.csv", "data.csv", "pipe.csv", "folder.csv", "wide.csv"}
    ingest = run_cli(home, "ingest", "inbox", timeout=120)
    assert ingest.returncode == 1 and "SECRET" not in ingest.stdout + ingest.stderr, ingest.stdout + ingest.stderr
    assert "refused shadow.csv -> " in ingest.stdout and "a symbolic link, not a file" in ingest.stdout


def test_a_processed_folder_linked_out_of_the_data_root_is_refused(tmp_path: Path) -> None:
    """A planted `inbox/processed -> /elsewhere` moved taken files out of the data root. `ingest inbox` refuses
    it before anything is recorded; a live fetch takes the file (it is good) but does not move it, and says why."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    inbox = _inbox(home)
    (inbox / "processed").symlink_to(elsewhere)
    (inbox / "DKSalaries.csv").write_bytes(DK_2019.read_bytes())
    before = tree_snapshot(home)
    ingest = run_cli(home, "ingest", "inbox", timeout=120)
    assert ingest.returncode == 2, ingest.stdout + ingest.stderr
    assert f"error: {inbox / 'processed'} is a symbolic link (to {elsewhere}), not a folder" in ingest.stderr
    assert "replace it with a directory" in ingest.stderr, ingest.stderr
    assert tree_snapshot(home) == before and list(elsewhere.iterdir()) == []
    fetch = run_cli(home, "fetch", "salaries", DAY, timeout=120)
    assert fetch.returncode == 0, fetch.stdout + fetch.stderr
    assert "inbox: 1 taken, 0 refused, 1 left in the inbox (cannot move)" in fetch.stdout, fetch.stdout
    assert f"{inbox / 'processed'} is a symbolic link" in fetch.stderr, fetch.stderr
    assert list(elsewhere.iterdir()) == [] and (inbox / "DKSalaries.csv").is_file()
    # replaced with a directory, as the error says: the next run moves the file there
    (inbox / "processed").unlink()
    (inbox / "processed").mkdir()
    again = run_cli(home, "fetch", "salaries", DAY, timeout=120)
    assert again.returncode == 0 and [p.name[:14] for p in (inbox / "processed").iterdir()] == ["dk-2019-11-01-"]


def test_a_linked_inbox_under_the_data_root_is_refused(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "DKSalaries.csv").write_bytes(DK_2019.read_bytes())
    home.mkdir()
    (home / "inbox").symlink_to(elsewhere)
    for args in (("fetch", "salaries", DAY), ("ingest", "inbox")):
        result = run_cli(home, *args, timeout=120)
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"{home / 'inbox'} is a symbolic link (to {elsewhere}), not a folder" in result.stderr, result.stderr
        assert "or set live.inbox to the folder it points to" in result.stderr
        assert sorted(p.name for p in elsewhere.iterdir()) == ["DKSalaries.csv"]
    # the operator's own live.inbox may be a link: taken as set
    taken = run_cli(home, "ingest", "inbox", PROJECTIONS_LIVE__INBOX=str(home / "inbox"), timeout=120)
    assert taken.returncode == 0 and "(moved to " in taken.stdout, taken.stdout + taken.stderr


def test_a_file_name_with_control_characters_is_printed_quoted(tmp_path: Path) -> None:
    """A dropped file named `evil<ESC>[2J<newline>line.csv` reached the terminal raw: it cleared the screen and
    forged a line of output. Names are quoted as repr quotes them wherever they are printed or recorded."""
    home = tmp_path / "home"
    name = "evil\x1b[2J\nsalaries 2019-11-01: ok.csv"
    (_inbox(home) / name).write_bytes(DK_2019.read_bytes())
    (home / "inbox" / "bad\x1b[31m.csv").write_text("Name\nx\n")
    fetch = run_cli(home, "fetch", "salaries", DAY, timeout=120)
    assert fetch.returncode == 0, fetch.stdout + fetch.stderr
    assert "\x1b" not in fetch.stdout + fetch.stderr and len(fetch.stdout.splitlines()) == 1, fetch.stdout
    assert f"took {name!r} -> {DAY} dk-2019-11-01-" in fetch.stdout, fetch.stdout
    assert "refused 'bad\\x1b[31m.csv': missing column(s)" in fetch.stdout, fetch.stdout
    for args in (("snapshots", DAY, "salaries"), ("history", DAY)):
        shown = run_cli(home, *args, timeout=120)
        assert shown.returncode == 0 and "\x1b" not in shown.stdout, shown.stdout + shown.stderr
    assert [p.name.split("__", 1)[1] for p in (home / "inbox" / "processed").iterdir()] == [name]


def test_a_salary_file_far_larger_than_any_export_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """A 139 MB DraftKings CSV (under ingest's 256 MiB cap) took 46 s and 2 GB of memory to be refused; a
    DraftKings export is under 50 KB, so a file over 4 MiB is refused at once."""
    header, rows = DK_2019.read_bytes().split(b"\n", 1)
    big = tmp_path / "DKSalaries.csv"
    with open(big, "wb") as fh:
        fh.write(header + b"\n")
        while fh.tell() <= 5 * 2**20:
            fh.write(rows)
    code, said, rss = _measured(tmp_path / "home", "ingest", "dk-salaries", str(big))
    assert code == 2 and f"error: {big}: more than 4 MiB, more than any DraftKings salary export" in said, said
    assert rss < 200 * 2**20, rss
    # under the size cap, but far more rows than any slate: refused before its rows are checked one by one
    with open(big, "wb") as fh:
        fh.write(header + b"\n" + rows * 10)
    code, said, _ = _measured(tmp_path / "home", "ingest", "dk-salaries", str(big))
    assert code == 2 and f"error: {big}: 2,680 players, more than any DraftKings slate lists" in said, said


def test_a_file_without_the_columns_is_refused_on_its_header(tmp_path: Path) -> None:
    """The header is checked before the rows are parsed: a file of another kind is refused for its columns (its
    rows, here ragged, are never parsed)."""
    wrong = tmp_path / "export.csv"
    wrong.write_text("Player,Team\nA,B\n" + "x,y,z,w\n" * 1000)
    result = run_cli(tmp_path / "home", "ingest", "dk-salaries", str(wrong), timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"{wrong}: missing column(s) ['Position', 'Name', 'ID'" in result.stderr, result.stderr
    assert "(the file has ['Player', 'Team'])" in result.stderr, result.stderr


def test_a_download_name_with_a_no_break_space_is_shown_and_recorded_as_it_is(tmp_path: Path) -> None:
    """A browser's `DKSalaries 30 Oct 2019 at 10.15\\u202fAM.csv` was shown quoted, and its capture recorded as
    url "file:'DKSalaries ...'" - only control characters are quoted."""
    home = tmp_path / "home"
    name = "DKSalaries 1 Nov 2019 at 10.15\u202fAM.csv"
    (_inbox(home) / name).write_bytes(DK_2019.read_bytes())
    fetch = run_cli(home, "fetch", "salaries", DAY, timeout=120)
    assert fetch.returncode == 0 and f"took {name} -> {DAY}" in fetch.stdout, fetch.stdout + fetch.stderr
    listed = json.loads(run_cli(home, "snapshots", DAY, "salaries", "--json", timeout=120).stdout)
    assert [c["url"] for c in listed["captures"]] == [f"file:{name}"], listed


def test_a_name_that_is_a_spreadsheet_formula_is_refused(tmp_path: Path) -> None:
    """A DraftKings file dropped in the inbox with `=HYPERLINK(...)` as a name passed it through to
    dk_projections.csv, where a spreadsheet runs it when the file is opened. No player's name starts with =, +, -
    or @; the file is refused naming the line, and the real file beside it is taken."""
    home = tmp_path / "home"
    text = DK_2019.read_text()
    evil = text.replace(",James Harden,", ',"=HYPERLINK(""http://evil.example"",""Harden"")",', 1)
    assert evil != text
    (_inbox(home) / "evil.csv").write_text(evil)
    fetch = run_cli(home, "fetch", "salaries", DAY, timeout=120)
    assert fetch.returncode == 0, fetch.stdout + fetch.stderr
    assert "refused evil.csv: line 2, column 'Name': '=HYPERLINK(" in fetch.stdout, fetch.stdout
    assert "starts like a spreadsheet formula" in fetch.stderr and "in plain text" in fetch.stderr, fetch.stderr
    import datetime as dt

    from projections.sources import snapshots

    assert snapshots.entries(home, "salaries", dt.date.fromisoformat(DAY)) == []  # nothing taken
    assert (home / "inbox" / "evil.csv").exists()


def test_a_pipe_longer_than_the_cap_is_refused_not_cut(tmp_path: Path) -> None:
    """A stream has no size to check first: reading exactly the cap took the first `limit` bytes of a longer pipe
    as the whole file, so `ingest ... /dev/stdin` silently ingested a cut file."""
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'wb').write(b'x' * 30)"])
    try:
        with pytest.raises(BadFile, match="stream: more than 0 MiB, more than a test cap"):
            intake.read_file(fifo, limit=20, what="a test cap")
    finally:
        assert writer.wait(timeout=30) == 0
    (tmp_path / "exact").write_bytes(b"x" * 20)
    assert intake.read_file(tmp_path / "exact", limit=20) == b"x" * 20  # the cap itself is no more than the cap


def test_a_dropped_file_another_run_took_meanwhile_is_skipped(tmp_path: Path) -> None:
    """Two runs list the inbox at the same moment and both try to take a file: the one that came second failed on
    a file that is gone (read or moved), where the file was simply taken already."""
    inbox = _inbox(tmp_path)
    gone = inbox / "DKSalaries.csv"
    assert intake.read_dropped(gone, limit=2**20, what="a test cap") is None
    done = intake.processed_path(inbox, "12345", gone.name)
    intake.move_taken(gone, done, PermissionSettings())  # raises nothing
    assert not done.exists() and done.parent.is_dir()

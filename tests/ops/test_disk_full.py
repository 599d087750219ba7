"""A data root on a disk that fills up during a run: every failure is named, no traceback, the alert arrives."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_doit
from tests.ops.receivers import WebhookReceiver


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem (tmpfs): a backfill fills it after a few dates."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_its_dates_by_name_and_the_run_still_alerts(small_disk: Path, webhook: WebhookReceiver):
    """The first failures named the full disk; later ones were tracebacks (the ledger's own write, the lock's
    holder note), the summary was followed by another (run_end), doit exited 3 ('refused to start') and no
    alert was sent: alerts are made from the ledger, which could not be written."""
    home = small_disk / "home"
    result = run_doit(home, "-n", "2", "slate", "date=2019-11-02..2019-11-20",
                      PROJECTIONS_ALERTS__WEBHOOK_URL=webhook.url())
    out = result.stdout + result.stderr
    assert result.returncode in (1, 2), out
    assert "Traceback" not in out and "PythonAction Error" not in out, out
    assert "No space left on device" in out and "free disk space" in out
    assert "date(s) ok" in result.stdout and " failed (" in result.stdout  # the summary counts the failed dates
    assert webhook.posts, out  # the run's alert arrived, whether or not its ledger could record the failures
    text = " ".join(str(p) for p in webhook.posts)
    assert "No space left on device" in text or "could not be written" in text, text


def test_a_disk_full_before_the_run_starts_is_no_traceback(small_disk: Path, webhook: WebhookReceiver):
    """The run's first ledger line (run_start, in the reporter's start) ended in a traceback and exit 3."""
    home = small_disk / "home"
    first = run_doit(home, "slate", "date=2019-11-02")
    assert first.returncode == 0, first.stdout + first.stderr
    for month in (home / "ledger").glob("*.jsonl"):  # a new month's ledger file: its first line needs a new block
        month.rename(month.with_name("2000-01.jsonl"))
    with open(small_disk / "fill", "wb", buffering=0) as sink:  # no byte left (unbuffered: no flush at close to fail)
        try:
            while True:
                sink.write(b"\0" * 65536)
        except OSError:
            pass
    result = run_doit(home, "slate", "date=2019-11-09..2019-11-10", PROJECTIONS_ALERTS__WEBHOOK_URL=webhook.url())
    out = result.stdout + result.stderr
    assert result.returncode in (1, 2) and "Traceback" not in out, out
    assert "the start of this run could not be written to the ledger" in result.stderr, out
    assert "0 date(s) ok" in result.stdout, out
    assert webhook.posts, out

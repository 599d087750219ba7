"""projections/ledger.py: whole lines, whatever state the last one was left in."""

from __future__ import annotations

from pathlib import Path

from projections.ledger import Ledger


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path):
    ledger = Ledger(tmp_path, run="r1")
    first = ledger.append("run_start", game_date="2019-10-30")
    month = ledger.files()[0]
    with open(month, "ab") as fh:  # a line cut off mid-write (a full disk, a hand edit)
        fh.write(b'{"event": "run_start", "ts": "2026-11-2')
    second = ledger.append("run_start", game_date="2019-10-31")
    read = list(Ledger(tmp_path).read(event="run_start"))
    assert [r["game_date"] for r in read] == [first["game_date"], second["game_date"]]
    reader = Ledger(tmp_path)
    assert len(list(reader.read())) == 2 and reader.skipped_lines == 1  # the torn line, counted once
    assert month.read_bytes().endswith(b"\n") and month.read_bytes().count(b"\n") == 3


def test_a_whole_last_line_gets_no_blank_line_before_the_next(tmp_path: Path):
    ledger = Ledger(tmp_path)
    for n in range(3):
        ledger.append("gc", removed=n)
    text = ledger.files()[0].read_bytes()
    assert b"\n\n" not in text and text.count(b"\n") == 3

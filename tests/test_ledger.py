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


def test_fields_left_unset_are_left_out_and_reads_filter_by_date_and_kind(tmp_path: Path):
    """A None field is not written (a reader tells "not known" by its absence, not by a null); read() gives one
    date's events, or one kind's, oldest first."""
    ledger = Ledger(tmp_path, run="r1")
    ledger.append("stage_end", stage="minutes", game_date="2019-10-30", error=None)
    ledger.append("stage_end", stage="rates", game_date="2019-10-31")
    ledger.append("publish", stage="gold", game_date="2019-10-30")
    (first, *_) = Ledger(tmp_path).read()
    assert "error" not in first and first["run"] == "r1"
    assert [(r["event"], r["stage"]) for r in Ledger(tmp_path).read(game_date="2019-10-30")] == [
        ("stage_end", "minutes"), ("publish", "gold")]
    assert [r["stage"] for r in Ledger(tmp_path).read(event="stage_end")] == ["minutes", "rates"]
    assert [r["stage"] for r in Ledger(tmp_path).read(game_date="2019-10-31", event="publish")] == []


def test_last_ended_is_about_the_stage_and_date_named(tmp_path: Path):
    """A failure this process recorded for one date is not taken for another date's (it would go unrecorded),
    nor one recorded before the caller began (`since`) for its own."""
    ledger = Ledger(tmp_path)
    ledger.append("stage_failure", stage="minutes", game_date="2019-10-30")
    assert ledger.last_ended("minutes", "2019-10-30", since=None)
    assert not ledger.last_ended("minutes", "2019-10-31", since=None)
    assert not ledger.last_ended("rates", "2019-10-30", since=None)
    assert not ledger.last_ended("minutes", "2019-10-30", since=ledger.last)  # an earlier build's ending
    ledger.append("stage_end", stage="minutes", game_date="2019-10-30")
    assert not ledger.last_ended("minutes", "2019-10-30", since=None)

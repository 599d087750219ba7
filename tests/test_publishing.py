"""projections.publishing on a real data root: a gold pointer moves only onto an intact object, and each move is
noted, swapped, then recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from projections.errors import StoreCorrupted
from projections.ledger import Ledger
from projections.publishing import Publisher
from projections.store import LocalStore
from tests.conftest import damaged_object

DAY = dt.date(2019, 10, 30)


def _publisher(home: Path) -> tuple[LocalStore, Ledger, Publisher]:
    store, ledger = LocalStore(home), Ledger(home, run="r1")
    return store, ledger, Publisher(home, store, ledger, remote=None,
                                    pointer=lambda asset, day: store.read_pointer(asset, day.isoformat()))


def test_a_move_onto_an_object_damaged_since_its_build_is_refused_and_gold_stays(tmp_path: Path) -> None:
    """Invariant 2: a reader resolving gold sees a verified object. An object damaged after the build that made it
    (between its plan and its publish, or the pointer being behind) is never published: the pointer stays on the
    previous gold, and neither a note nor a ledger line claims a move."""
    home = tmp_path / "home"
    store, ledger, publisher = _publisher(home)
    good = store.commit({"data.parquet": b"yesterday's slate"}, {"stage": "gold"}).object
    assert publisher.publish("gold", "projections", DAY, good, key=None) is True
    bad, _ = damaged_object(store, {"data.parquet": b"today's slate, damaged on disk"})

    with pytest.raises(StoreCorrupted, match="hashes to"):
        publisher.publish("gold", "projections", DAY, bad, key=None)
    assert store.read_pointer("projections", DAY.isoformat()) == good
    assert not list((home / "ledger" / "publishing").glob("*.json"))
    assert [e["object"] for e in ledger.read(event="publish")] == [good]


def test_a_note_that_cannot_be_read_is_dropped_and_records_no_move(tmp_path: Path) -> None:
    """A note of a move (ledger/publishing/<asset>-<date>.json) that is not JSON - cut short by hand or by a tool -
    names no move to record: it is dropped, not left for every later run to trip over, and the ledger gets no
    publish line for it; a readable note whose object the pointer names is recorded, marked recovered."""
    home = tmp_path / "home"
    store, ledger, publisher = _publisher(home)
    obj = store.commit({"data.parquet": b"a slate"}, {"stage": "gold"}).object
    note = publisher.note("projections", DAY)
    note.parent.mkdir(parents=True)
    note.write_bytes(b'{"object": "xxh3-128:')
    publisher.settle("projections", DAY, None)
    assert not note.exists() and list(ledger.read(event="publish")) == []

    store.swap_pointer("projections", DAY.isoformat(), obj)  # a run killed after its swap, before its ledger line
    note.write_text(f'{{"object": "{obj}", "asset": "projections", "game_date": "{DAY}", "run": "r0"}}')
    publisher.settle("projections", DAY, store.read_pointer("projections", DAY.isoformat()))
    assert not note.exists()
    assert [(e["object"], e["recovered"], e["moved_by_run"]) for e in ledger.read(event="publish")] == [
        (obj, True, "r0")]

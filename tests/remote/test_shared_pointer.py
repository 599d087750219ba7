"""The shared gold pointer catches up with this machine's, also when a rebuild makes the gold the local pointer
already names (no local move): a run killed between the local swap and the shared one left the shared pointer
behind, and a later gold rebuild with the same bytes must not leave it there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from projections.remote.cache import pointer_key
from tests.conftest import FIXTURE_DATE, REPO, gold_object, ledger_events, run_cli, run_doit
from tests.remote.conftest import Bucket

GOLD_SAME_BYTES = """

import dataclasses as _dc
import functools as _ft


@_ft.wraps(SPEC.func)
def _same(*args, **kwargs):
    return _same.__wrapped__(*args, **kwargs)  # a logic edit that makes the same bytes


SPEC = _dc.replace(SPEC, func=_same)
"""


def _copy_stages(tmp_path: Path) -> Path:
    """A private copy of dodo.py and the stages package, whose gold stage the test edits."""
    root = tmp_path / "code"
    shutil.copytree(REPO / "stages", root / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    return root


def _shared_pointer(bucket: Bucket) -> dict | None:
    key = f"shared/{pointer_key('projections', FIXTURE_DATE)}"
    if key.removeprefix("shared/") not in bucket.keys("gold/"):
        return None
    return json.loads(bucket.s3().get_object(Bucket=bucket.name, Key=key)["Body"].read())


def test_a_same_bytes_rebuild_still_moves_a_shared_pointer_left_behind(tmp_path: Path, bucket: Bucket) -> None:
    home, code = tmp_path / "home", _copy_stages(tmp_path)
    killed = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code, timeout=180,
                      **bucket.env(PROJECTIONS_FAILPOINTS="pointer.swapped=crash"))
    assert killed.returncode == 137, killed.stdout + killed.stderr
    gold = gold_object(home)
    assert gold is not None  # the local pointer moved ...
    assert _shared_pointer(bucket) is None  # ... the shared one never did

    gold_py = code / "stages" / "gold.py"
    gold_py.write_text(gold_py.read_text() + GOLD_SAME_BYTES)  # gold's key changes: the sync cannot settle it
    rebuilt = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code, timeout=180, **bucket.env())
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "1 built" in rebuilt.stdout and "0 gold pointers moved" in rebuilt.stdout, rebuilt.stdout
    assert gold_object(home) == gold  # the same bytes: no local move ...
    shared = _shared_pointer(bucket)
    assert shared is not None and shared["object"] == gold, shared  # ... but the shared pointer caught up
    assert shared["previous"] is None and shared["generation"] == 1, shared
    built = [e for e in ledger_events(home) if e["event"] == "stage_success"]
    assert built[-1]["stage"] == "gold" and built[-1]["object"] == gold
    moves = [e for e in ledger_events(home) if e["event"] == "publish"]  # the killed run's move, recorded once
    assert [(m.get("previous"), m["object"], m.get("recovered")) for m in moves] == [(None, gold, True)], moves
    assert run_cli(home, "verify", **bucket.env()).returncode == 0


def test_a_look_at_a_date_does_not_move_back_a_shared_pointer_another_machine_moved_on(tmp_path: Path,
                                                                                      bucket: Bucket) -> None:
    """Machine A publishes the date; machine B (another parameter: another key) publishes its own gold after it.
    A's `doit list --status` and `doit slate` moved the shared pointer back to A's older gold (the sync took any
    difference for a move A's run was killed before sharing); it stays B's, and A says the two differ. A move a
    kill did cut off (its note left behind) is still shared by the next look."""
    a, b = tmp_path / "a", tmp_path / "b"
    other = {"PROJECTIONS_PARAMS__OWNERSHIP__VALUE_WEIGHT": "1.2"}
    assert run_doit(a, "slate", f"date={FIXTURE_DATE}", **bucket.env()).returncode == 0
    first = gold_object(a)
    moved = run_doit(b, "slate", f"date={FIXTURE_DATE}", **bucket.env(**other))
    assert moved.returncode == 0, moved.stdout + moved.stderr
    theirs = gold_object(b)
    assert theirs != first and _shared_pointer(bucket)["object"] == theirs  # type: ignore[index]

    for command in ("list", "slate"):
        args = ("list", "--status") if command == "list" else ("slate",)
        looked = run_doit(a, *args, f"date={FIXTURE_DATE}", **bucket.env())
        assert looked.returncode == 0, looked.stdout + looked.stderr
        shared = _shared_pointer(bucket)
        assert shared is not None and shared["object"] == theirs and shared["generation"] == 2, (command, shared)
        assert "the shared gold pointer names" in looked.stderr, looked.stderr
        assert gold_object(a) == first

    # A moves its own pointer again (gone here, by hand) and is killed between the two swaps: its next look shares it
    (a / "gold" / "projections" / f"game_date={FIXTURE_DATE}").unlink()
    cut = run_doit(a, "slate", f"date={FIXTURE_DATE}", **bucket.env(PROJECTIONS_FAILPOINTS="pointer.swapped=crash"))
    assert cut.returncode == 137, cut.stdout + cut.stderr
    assert gold_object(a) == first and _shared_pointer(bucket)["object"] == theirs  # type: ignore[index]
    looked = run_doit(a, "list", "--status", f"date={FIXTURE_DATE}", **bucket.env())
    assert looked.returncode == 0, looked.stdout + looked.stderr
    shared = _shared_pointer(bucket)
    assert shared is not None and (shared["object"], shared["previous"]) == (first, theirs), shared

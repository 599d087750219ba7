"""Golden keys: the exact key of every stage for a fixed input is pinned, so every key change is a deliberate
diff (DVC pins its run-cache path the same way).

A logic edit of a stage changes its code version and so its golden key: after such an edit, review the diff
and run `UPDATE_GOLDEN=1 pytest tests/test_golden_keys.py` to record the new keys with the change.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from projections.hashing import digest_bytes
from projections.pipeline import Stage, code_version
from projections.plan import action_key
from projections.statcache import StatCache
from stages import PIPELINE
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden_keys.json"
DAY = dt.date(2019, 10, 30)
AS_OF = dt.datetime(2019, 10, 30, 23, 0, tzinfo=dt.UTC)


def _key(name: str) -> str:
    stage = PIPELINE[name]
    inputs = {n: digest_bytes(f"fixed input {n}".encode()) for n in [*stage.inputs, *(s.name for s in stage.sources)]}
    return action_key(stage, code=code_version(stage, StatCache(None)), params=stage.params_json(), day=DAY,
                      inputs=inputs, as_of=AS_OF)


def _current() -> dict[str, str]:
    return {name: _key(name) for name in PIPELINE.order}


def test_the_key_function_itself_is_pinned():
    def noop(*, params, ctx):
        return None

    stage = Stage(name="demo", func=noop, doc="a fixed stage")
    key = action_key(stage, code="1+0000000000000000", params={"n": 1}, day=DAY,
                     inputs={"a": digest_bytes(b"a")}, as_of=AS_OF)
    assert key == "xxh3-128:8bd8d2c168bd546f1122e6cf208f5dac", key


def test_as_of_enters_the_key_of_a_stage_that_reads_it_and_only_that():
    """A stage reading ctx.as_of must rebuild when the instant moves; one that does not must not (its sources'
    snapshots, pinned by hash, carry what it knows)."""
    def noop(*, params, ctx):
        return None

    later = AS_OF + dt.timedelta(hours=1)
    for reads, moves in ((True, True), (False, False)):
        stage = Stage(name="demo", func=noop, doc="a fixed stage", uses_as_of=reads)
        keys = {action_key(stage, code="1+0000000000000000", params={}, day=DAY, inputs={}, as_of=when)
                for when in (AS_OF, later)}
        assert len(keys) == (2 if moves else 1), reads


@pytest.mark.parametrize("name", PIPELINE.order)
def test_stage_key_is_pinned(name: str):
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(_current(), indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert _key(name) == golden.get(name), (
        f"the key of stage {name} changed (its code version, params or the key structure): if that is "
        "deliberate, run `UPDATE_GOLDEN=1 pytest tests/test_golden_keys.py` and commit tests/golden_keys.json"
    )

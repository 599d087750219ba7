"""The engine with a shared store (a real S3-compatible server): what it takes from the bucket and what it owes it.

- a shared record whose object is damaged in the bucket is not taken: the stage is stale here and built here;
- a build is shared when it is built (nothing left owed); one whose push a kill cut off (SIGKILL between the
  action record and the push) is owed, and the next run of the data root pushes it first.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.remote.cache import action_key, object_prefix
from projections.store import LocalStore
from tests.conftest import FIXTURE_DATE, like_a_doit_child, run_doit
from tests.remote.conftest import KEY, REGION, SECRET, Bucket

DAY = dt.date.fromisoformat(FIXTURE_DATE)
OTHER_DAY = "2019-10-31"


@pytest.fixture
def engine_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A maker of engines on a data root sharing `bucket`; the process umask put back afterwards."""
    from projections.settings import load_settings
    from projections.wiring import make_engine


    def make(home: Path, bucket: Bucket) -> Any:
        return make_engine(load_settings(home=home, remote={"url": bucket.url, "endpoint_url": bucket.endpoint,
                                                            "key": KEY, "secret": SECRET, "region": REGION}))
    with like_a_doit_child(monkeypatch):
        yield make


def test_a_shared_record_whose_object_is_damaged_is_built_here(bucket: Bucket, tmp_path: Path, engine_on) -> None:
    built = engine_on(tmp_path / "a", bucket).build("schedule", DAY)  # machine A builds and shares it
    assert bucket.keys("actions/") == [action_key(built.key)]
    path = f"{object_prefix(built.object)}/data.parquet"
    body = bucket.s3().get_object(Bucket=bucket.name, Key=f"shared/{path}")["Body"].read()
    bucket.s3().put_object(Bucket=bucket.name, Key=f"shared/{path}", Body=body[:-8])  # damaged in the bucket

    other = engine_on(tmp_path / "b", bucket)  # machine B, a new data root
    plan = other.plan("schedule", DAY, fresh=True)
    assert plan.key == built.key and plan.record is None and not plan.up_to_date
    assert other.store.get_action(built.key) is None  # no record here naming an object that is not here
    again = other.build("schedule", DAY)
    assert (again.object, again.built, again.created) == (built.object, True, True)
    assert other.store.verify_object(built.object) == []


def _keys(home: Path, stage: str, day: str) -> list[str]:
    records = [json.loads(p.read_bytes()) for p in LocalStore(home).iter_action_paths()]
    return [r["key"] for r in records if r.get("stage") == stage and r.get("game_date") == day]


def test_a_build_is_shared_and_a_push_a_kill_cut_off_is_owed_to_the_next_run(bucket: Bucket,
                                                                           tmp_path: Path) -> None:
    home = tmp_path / "home"
    shared = run_doit(home, "schedule", f"date={FIXTURE_DATE}", **bucket.env())
    assert shared.returncode == 0, shared.stdout + shared.stderr
    (key,) = _keys(home, "schedule", FIXTURE_DATE)
    assert action_key(key) in bucket.keys("actions/")
    assert LocalStore(home).unshared_keys() == []  # pushed: nothing owed

    killed = run_doit(home, "schedule", f"date={OTHER_DAY}", PROJECTIONS_FAILPOINTS="action.written=crash",
                      **bucket.env())
    assert killed.returncode == 137, killed.stdout + killed.stderr
    (owed,) = _keys(home, "schedule", OTHER_DAY)
    assert action_key(owed) not in bucket.keys("actions/")
    assert LocalStore(home).unshared_keys() == [owed]  # recorded here, never pushed

    again = run_doit(home, "schedule", f"date={OTHER_DAY}", **bucket.env())
    assert again.returncode == 0, again.stdout + again.stderr
    assert action_key(owed) in bucket.keys("actions/")  # the next run pushed it, though nothing was built
    assert LocalStore(home).unshared_keys() == []

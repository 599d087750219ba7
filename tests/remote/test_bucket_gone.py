"""A shared store whose bucket is deleted under a run, on a real S3-compatible server.

s3fs reports a missing bucket as the FileNotFoundError of a missing key, so every read (get, exists, cat_many,
list) said "absent", and every stage then failed on its lock's write with "writing ... failed
(FileNotFoundError: The specified bucket does not exist)". The bucket gone now marks the store down, like an
endpoint that stops answering: one message naming the bucket and the fix, and nothing more is asked of it.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from projections.errors import StoreError
from projections.remote.bucket import S3Bucket
from tests.conftest import REPO, doit_argv, gold_object, ledger_events, project_env, run_cli, run_doit, tree_snapshot
from tests.remote.conftest import KEY, REGION, SECRET, Bucket

DAYS = ["2019-10-30", "2019-10-31", "2019-11-01"]


def s3(bucket: Bucket) -> S3Bucket:
    return S3Bucket(bucket.url, endpoint_url=bucket.endpoint, key=KEY, secret=SECRET, region=REGION)


def delete_bucket(bucket: Bucket) -> None:
    """Empty the bucket and delete it (again while a lease renewal writes into it meanwhile)."""
    client = bucket.s3()
    for _ in range(50):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket.name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket.name, Key=item["Key"])
        try:
            client.delete_bucket(Bucket=bucket.name)
            return
        except client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] != "BucketNotEmpty":
                raise
    raise AssertionError(f"could not delete bucket {bucket.name}")


GONE = "the shared store's bucket '{name}' does not exist (any more"


@pytest.mark.parametrize("first", ["get", "exists", "cat_many", "list", "put", "delete"])
def test_every_request_to_a_deleted_bucket_says_it_is_gone_and_the_store_is_asked_nothing_more(bucket: Bucket,
                                                                                               first: str):
    store = s3(bucket)
    store.put("locks/date=2019-10-30.json", b"{}")
    assert store.get("missing.json") is None and not store.exists("missing.json")  # absent keys stay absent
    assert store.cat_many(["missing.json"]) == {} and store.list("nothing/") == []
    store.delete("missing.json")
    delete_bucket(bucket)

    requests = {"get": lambda: store.get("locks/date=2019-10-30.json"),
                "exists": lambda: store.exists("objects/ab/cd/manifest.json"),
                "cat_many": lambda: store.cat_many(["gold/projections/game_date=2019-10-30.json"]),
                "list": lambda: store.list("gold/"),
                "put": lambda: store.put("locks/date=2019-10-30.json", b"{}", if_absent=True),
                "delete": lambda: store.delete("x.json")}
    with pytest.raises(StoreError) as first_error:
        requests[first]()
    message = str(first_error.value)
    assert message.startswith(GONE.format(name=bucket.name)), message
    assert "create the bucket, or fix remote.url" in message and bucket.url in message and "\n" not in message
    for name, request in requests.items():  # the rest fail at once, with the same line, nothing "absent"
        with pytest.raises(StoreError) as later:
            request()
        assert str(later.value) == message, name


def test_a_bucket_deleted_mid_run_fails_the_run_with_one_clear_line_and_keeps_the_local_store(tmp_path: Path,
                                                                                              bucket: Bucket):
    home = tmp_path / "home"
    before = run_doit(home, "slate", f"date={DAYS[0]}", timeout=180, **bucket.env())
    assert before.returncode == 0, before.stdout + before.stderr
    gold = gold_object(home, DAYS[0])
    assert gold is not None

    mark = tmp_path / "mark"  # the next run held at its first commit while the bucket is deleted
    env = project_env(home, **bucket.env(PROJECTIONS_FAILPOINTS="commit.staged=wait",
                                         PROJECTIONS_FAILPOINT_MARK=str(mark)))
    proc = subprocess.Popen(doit_argv("slate", f"date={DAYS[1]}..{DAYS[2]}"), env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not mark.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        snapshot = {p: kind for p, kind in tree_snapshot(home).items() if p.startswith(("store/objects", "gold"))}
        delete_bucket(bucket)
    finally:
        Path(f"{mark}.release").touch()
    out, err = proc.communicate(timeout=300)
    both = out + err
    assert proc.returncode == 2 and "Traceback" not in both, both
    assert GONE.format(name=bucket.name) in out and "create the bucket, or fix remote.url" in out, out
    assert "The specified bucket does not exist" not in both, both  # s3fs's words for it, stage after stage
    assert "0 date(s) ok, 2 failed" in out, out
    failures = out.split("\nFailures:\n", 1)[1].split("\ndetails:", 1)[0].splitlines()
    assert len(failures) == 2 and all(GONE.format(name=bucket.name) in line for line in failures), out  # one each

    after = tree_snapshot(home)
    assert {p: after.get(p) for p in snapshot} == snapshot  # nothing built before is gone or changed
    assert gold_object(home, DAYS[0]) == gold and gold_object(home, DAYS[1]) is gold_object(home, DAYS[2]) is None
    assert not [e for e in ledger_events(home) if e["event"] == "publish" and e.get("game_date") != DAYS[0]]
    assert run_cli(home, "verify").returncode == 0

    again = run_doit(home, "slate", f"date={DAYS[1]}", timeout=180, **bucket.env())  # gone before a run: its check
    assert again.returncode == 3 and f"bucket {bucket.name!r} does not exist" in again.stdout + again.stderr, again

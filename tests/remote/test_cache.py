"""The shared store on a real S3-compatible server: conditional writes, push/fetch, pointers, leases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from projections.errors import ConfigError, LockTimeout, StoreError
from projections.hashing import digest_bytes
from projections.remote import make_remote
from projections.remote.bucket import PreconditionFailed, S3Bucket
from projections.remote.cache import ObjectStoreCache, action_key, object_prefix, pointer_key
from projections.remote.lease import LeaseLocks, machine_identity
from projections.settings import load_settings
from projections.store import LocalStore
from tests.remote.conftest import KEY, REGION, SECRET, Bucket


def s3(bucket: Bucket) -> S3Bucket:
    return S3Bucket(bucket.url, endpoint_url=bucket.endpoint, key=KEY, secret=SECRET, region=REGION)


def cache(bucket: Bucket, *, lease_s: float = 30.0, messages: list[str] | None = None,
          local: LocalStore | None = None) -> ObjectStoreCache:
    notify = messages.append if messages is not None else (lambda _m: None)
    return ObjectStoreCache(s3(bucket), lease_s=lease_s, notify=notify, local=local)


def built(home: Path, payload: bytes = b"rows") -> tuple[LocalStore, dict]:
    """A local store holding one committed object and its action record."""
    store = LocalStore(home)
    commit = store.commit({"data.parquet": payload, "extra.csv": b"a,b\n"}, {"stage": "sim", "game_date": "2019-10-30"})
    key = digest_bytes(b"key:" + payload)
    record = {"key": key, "object": commit.object, "stage": "sim", "game_date": "2019-10-30"}
    store.put_action(record)
    return store, record


def test_conditional_writes(bucket: Bucket):
    b = s3(bucket)
    assert b.get("x.json") is None
    first = b.put("x.json", b"1", if_absent=True)
    with pytest.raises(PreconditionFailed):
        b.put("x.json", b"2", if_absent=True)
    second = b.put("x.json", b"3", if_match=first)
    with pytest.raises(PreconditionFailed):
        b.put("x.json", b"4", if_match=first)  # stale ETag: the CAS loses
    assert b.get("x.json") == (b"3", second)
    with pytest.raises(PreconditionFailed):
        b.put("missing.json", b"5", if_match=first)


def test_push_then_fetch_on_another_machine(bucket: Bucket, tmp_path: Path):
    store, record = built(tmp_path / "a")
    c = cache(bucket)
    c.push(record, store)
    where = object_prefix(record["object"])
    assert bucket.keys("objects/") == [f"{where}/data.parquet", f"{where}/extra.csv", f"{where}/manifest.json"]
    assert bucket.keys("actions/") == [action_key(record["key"])]

    other = LocalStore(tmp_path / "b")
    got = cache(bucket).get_action(record["key"])
    assert got == record
    cache(bucket).fetch_object(record["object"], other)
    assert other.verify_object(record["object"]) == []
    assert other.path(record["object"], "manifest.json").read_bytes() == \
        store.path(record["object"], "manifest.json").read_bytes()
    c.push(record, store)  # pushing again changes nothing
    assert len(bucket.keys()) == 4


def test_half_uploaded_object_is_invisible_until_completed(bucket: Bucket, tmp_path: Path):
    store, record = built(tmp_path / "a")
    b = s3(bucket)
    where = object_prefix(record["object"])
    b.put(f"{where}/data.parquet", b"rows")  # a push killed before its manifest: data only
    c = cache(bucket)
    assert not c.has_object(record["object"])
    other = LocalStore(tmp_path / "b")
    c.fetch_object(record["object"], other)
    assert not other.has(record["object"])
    c.push(record, store)  # the next push completes it
    c.fetch_object(record["object"], other)
    assert other.verify_object(record["object"]) == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop", "provenance"])
def test_a_damaged_shared_object_is_refused(bucket: Bucket, tmp_path: Path, damage: str):
    """provenance: the bucket's manifest.json edited (valid JSON, another stage and date) - its seal no longer
    matches; it was taken, and the local commit sealed the edited provenance anew."""
    store, record = built(tmp_path / "a")
    cache(bucket).push(record, store)
    b = s3(bucket)
    path = f"{object_prefix(record['object'])}/data.parquet"
    if damage == "provenance":
        where = f"{object_prefix(record['object'])}/manifest.json"
        manifest = json.loads(b.get(where)[0])
        b.put(where, json.dumps({**manifest, "stage": "ownership", "game_date": "2019-11-30"}).encode())
    elif damage == "flip":
        b.put(path, b"rowz")
    elif damage == "truncate":
        b.put(path, b"ro")
    else:
        b.delete(path)
    messages: list[str] = []
    other = LocalStore(tmp_path / "b")
    cache(bucket, messages=messages).fetch_object(record["object"], other)
    assert not other.has(record["object"])
    assert any("rebuilding it" in m for m in messages), messages


@pytest.mark.parametrize("damage", ["truncate", "manifest"])
def test_a_damaged_shared_object_is_repaired_by_the_machine_that_rebuilds_it(bucket: Bucket, tmp_path: Path,
                                                                             damage: str):
    """The bucket's copy was damaged; the machine that refused it rebuilds the same bytes and pushes: that push
    uploads the object over the damaged one (it skipped it, the manifest being there, so every machine refused
    and rebuilt it at every run), and the next machine fetches it."""
    store, record = built(tmp_path / "a")
    cache(bucket).push(record, store)
    where = object_prefix(record["object"])
    if damage == "truncate":
        s3(bucket).put(f"{where}/data.parquet", b"ro")
    else:
        s3(bucket).put(f"{where}/manifest.json", b"{not json")
    messages: list[str] = []
    c = cache(bucket, messages=messages)
    other = LocalStore(tmp_path / "b")
    c.fetch_object(record["object"], other)
    c.fetch_object(record["object"], other)  # asked again in the same run: not downloaded, not said again
    assert not other.has(record["object"])
    assert sum("rebuilding it" in m for m in messages) == 1, messages
    rebuilt, _ = built(tmp_path / "b")  # the same bytes, built here
    c.push(record, rebuilt)
    third = LocalStore(tmp_path / "c")
    cache(bucket).fetch_object(record["object"], third)
    assert third.verify_object(record["object"]) == []


def test_a_record_naming_a_damaged_object_is_replaced_by_a_different_rebuild(bucket: Bucket, tmp_path: Path):
    store, record = built(tmp_path / "a")
    cache(bucket).push(record, store)
    s3(bucket).put(f"{object_prefix(record['object'])}/data.parquet", b"ro")
    c = cache(bucket)
    c.fetch_object(record["object"], LocalStore(tmp_path / "b"))
    other, _ = built(tmp_path / "b", b"rows, built again")  # not byte-identical this time
    commit = other.commit({"data.parquet": b"rows, built again", "extra.csv": b"a,b\n"}, {"stage": "sim"})
    c.push({**record, "object": commit.object}, other)
    assert cache(bucket).get_action(record["key"])["object"] == commit.object


def test_a_record_naming_a_lost_object_is_replaced(bucket: Bucket, tmp_path: Path):
    store, record = built(tmp_path / "a")
    bogus = {**record, "object": digest_bytes(b"gone")}
    s3(bucket).put(action_key(record["key"]), json.dumps(bogus).encode(), if_absent=True)
    cache(bucket).push(record, store)
    assert cache(bucket).get_action(record["key"])["object"] == record["object"]


def test_pointer_moves_by_cas_with_generations(bucket: Bucket, tmp_path: Path):
    store_a, rec_a = built(tmp_path / "a", b"one")
    _, rec_b = built(tmp_path / "a", b"two")
    c = cache(bucket, local=store_a)
    c.publish("projections", "2019-10-30", rec_a["object"], None)  # pushes the object it names first
    assert c.has_object(rec_a["object"])
    c.publish("projections", "2019-10-30", rec_b["object"], rec_a["object"])
    c.publish("projections", "2019-10-30", rec_b["object"], rec_a["object"])  # same object: no new generation
    raw, _ = s3(bucket).get(pointer_key("projections", "2019-10-30"))
    info = json.loads(raw)
    assert (info["object"], info["generation"], info["previous"]) == (rec_b["object"], 2, rec_a["object"])
    assert c.read_pointers("projections", ["2019-10-30", "2019-10-31"]) == {"2019-10-30": rec_b["object"]}


def test_concurrent_pointer_moves_lose_no_generation(bucket: Bucket, tmp_path: Path):
    stores = [built(tmp_path / f"h{i}", f"obj{i}".encode()) for i in range(4)]
    for store, record in stores:
        cache(bucket).push(record, store)
    errors: list[BaseException] = []

    def move(record: dict) -> None:
        try:
            cache(bucket).publish("projections", "2019-11-01", record["object"], None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=move, args=(r,)) for _, r in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    info = json.loads(s3(bucket).get(pointer_key("projections", "2019-11-01"))[0])
    assert info["generation"] == len(stores)  # every move was a CAS on the one before it
    assert info["object"] in {r["object"] for _, r in stores}


def test_lease_excludes_then_expires(bucket: Bucket):
    clock = [1000.0]
    a = LeaseLocks(s3(bucket), lease_s=10, notify=lambda _m: None, clock=lambda: clock[0])
    b = LeaseLocks(s3(bucket), lease_s=10, notify=lambda _m: None, clock=lambda: clock[0])
    held = a.acquire("date=2019-10-30", timeout=0)
    with pytest.raises(LockTimeout, match="date=2019-10-30"):
        b.acquire("date=2019-10-30", timeout=0.2)
    assert a.renew(held)
    clock[0] += 11  # the holder stopped renewing (killed): its lease ran out
    taken = b.acquire("date=2019-10-30", timeout=0)
    assert not a.renew(held) and held.lost  # the old holder finds out at its next beat
    b.release(taken)
    a.acquire("date=2019-10-30", timeout=0)


def dead_pid() -> int:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(dead.stdout)


def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(bucket: Bucket):
    locks = LeaseLocks(s3(bucket), lease_s=3600, notify=lambda _m: None)
    assert locks.machine == machine_identity() is not None  # this test machine runs Linux with a machine-id
    held = locks.acquire("season=2019-20", timeout=0)
    raw, etag = s3(bucket).get(locks.key("season=2019-20"))
    info = {**json.loads(raw), "pid": dead_pid()}
    s3(bucket).put(locks.key("season=2019-20"), json.dumps(info).encode(), if_match=etag)
    assert not held.lost
    other = LeaseLocks(s3(bucket), lease_s=3600, notify=lambda _m: None)
    other.acquire("season=2019-20", timeout=0)  # the holder's pid is gone: no need to wait an hour


@pytest.mark.parametrize(("holder", "taker", "old", "at_once"), [
    ("vm-a", "vm-a", False, True),  # the same machine: its dead pid is dead
    ("vm-a", "vm-b", False, False),  # a cloned VM / a container with the same --hostname: not ours to judge
    (None, "vm-a", False, False),  # the holder could not tell its machine
    ("vm-a", None, False, False),  # this machine cannot tell its own
    ("vm-a", "vm-a", True, False),  # a lease written before leases named their machine
])
def test_a_dead_pid_frees_a_lease_only_on_the_machine_that_holds_it(bucket: Bucket, holder: str | None,
                                                                    taker: str | None, old: bool, at_once: bool):
    """Two machines with one host name (cloned VMs, containers started with one --hostname) each saw the other's
    live lease as a dead process's (its pid is not alive here) and took it at once: both held the date. Now the
    lease names its machine (machine-id, boot id, pid namespace) and only the same machine takes the shortcut."""
    name = "date=2019-10-30"
    first = LeaseLocks(s3(bucket), lease_s=3600, notify=lambda _m: None, machine=holder)
    first.acquire(name, timeout=0)
    raw, etag = s3(bucket).get(first.key(name))
    info = {**json.loads(raw), "pid": dead_pid()}  # alive on its machine, which this one cannot see
    if old:
        del info["machine"]
    s3(bucket).put(first.key(name), json.dumps(info).encode(), if_match=etag)
    second = LeaseLocks(s3(bucket), lease_s=3600, notify=lambda _m: None, machine=taker)
    if at_once:
        second.acquire(name, timeout=0)
        assert json.loads(s3(bucket).get(first.key(name))[0])["machine"] == taker
    else:
        assert second.holder(name) is not None
        with pytest.raises(LockTimeout, match=name):
            second.acquire(name, timeout=0.2)


def test_a_lease_of_another_machine_with_this_host_name_is_waited_for(bucket: Bucket):
    """The same, with this machine's own identity as the code finds it: a lease from a machine whose host name is
    this one's but whose machine-id differs is held, whatever its pid is here."""
    locks = LeaseLocks(s3(bucket), lease_s=3600, notify=lambda _m: None)
    locks.acquire("date=2019-10-31", timeout=0)
    raw, etag = s3(bucket).get(locks.key("date=2019-10-31"))
    info = {**json.loads(raw), "pid": dead_pid(), "machine": "0123456789abcdef0123456789abcdef/boot/pidns:1"}
    s3(bucket).put(locks.key("date=2019-10-31"), json.dumps(info).encode(), if_match=etag)
    with pytest.raises(LockTimeout, match="date=2019-10-31"):
        LeaseLocks(s3(bucket), lease_s=3600, notify=lambda _m: None).acquire("date=2019-10-31", timeout=0.2)


def test_hold_renews_in_the_background_and_fences_publish(bucket: Bucket, tmp_path: Path):
    store, record = built(tmp_path / "a")
    c = cache(bucket, lease_s=0.6, local=store)
    with c.lock("date=2019-10-30", timeout=1):
        threading.Event().wait(1.5)  # longer than the lease: only renewals keep it
        assert c.locks.holder("date=2019-10-30") is not None
        c.publish("projections", "2019-10-30", record["object"], None)
    assert c.locks.holder("date=2019-10-30") is None  # released on exit

    clock = [2000.0]
    c = cache(bucket, lease_s=30, local=store)  # no heartbeat within this test
    c.locks.clock = lambda: clock[0]
    with c.lock("date=2019-10-31", timeout=1):
        clock[0] += 100  # this process stalled past its lease; another machine takes the date over
        thief = LeaseLocks(s3(bucket), lease_s=30, notify=lambda _m: None, clock=lambda: clock[0])
        thief.acquire("date=2019-10-31", timeout=0)
        assert not c.locks.renew(c._lease("date=2019-10-31"))
        with pytest.raises(StoreError, match="lost its lease"):
            c.publish("projections", "2019-10-31", record["object"], None)

    c = cache(bucket, lease_s=30, local=store)  # the same stall, and the publish comes before any renewal
    c.locks.clock = lambda: clock[0]
    with c.lock("date=2019-11-01", timeout=1):
        clock[0] += 100
        thief = LeaseLocks(s3(bucket), lease_s=30, notify=lambda _m: None, clock=lambda: clock[0])
        thief.acquire("date=2019-11-01", timeout=0)
        with pytest.raises(StoreError, match="lost its lease"):
            c.publish("projections", "2019-11-01", record["object"], None)
    assert c.read_pointer("projections", "2019-11-01") is None


def test_remote_is_off_unless_configured(tmp_path: Path, bucket: Bucket, monkeypatch: pytest.MonkeyPatch):
    for name in list(os.environ):
        if name.startswith("PROJECTIONS_"):
            monkeypatch.delenv(name)
    assert make_remote(load_settings(home=tmp_path)) is None
    with pytest.raises(ConfigError, match="only s3://"):
        make_remote(load_settings(home=tmp_path, remote={"url": "gs://bucket/x"}))
    made = make_remote(load_settings(home=tmp_path, remote={"url": bucket.url, "endpoint_url": bucket.endpoint,
                                                            "key": KEY, "secret": SECRET, "region": REGION}))
    assert isinstance(made, ObjectStoreCache) and made.get_action(digest_bytes(b"nothing")) is None

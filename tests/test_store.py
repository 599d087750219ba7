from __future__ import annotations

import os
import stat

import pytest

from projections.errors import ObjectNotFound, StoreCorrupted, StoreError
from projections.store import MANIFEST, LocalStore


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "home")


def test_commit_names_object_by_content_and_drops_write_bits(store):
    c = store.commit({"data.parquet": b"abc"}, {"stage": "x"})
    assert c.created
    where = store.object_dir(c.object)
    assert where.parent.name == c.object.split(":")[1][:2]
    assert (where / "data.parquet").read_bytes() == b"abc"
    for p in [where / "data.parquet", where / MANIFEST]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o444
    assert stat.S_IMODE(where.stat().st_mode) == 0o555
    assert store.manifest(c.object)["stage"] == "x"
    assert list(store.tmp.iterdir()) == []


def test_same_bytes_same_object_whatever_the_manifest(store):
    a = store.commit({"data.parquet": b"abc"}, {"run": 1})
    b = store.commit({"data.parquet": b"abc"}, {"run": 2})
    assert a.object == b.object and not b.created
    assert store.manifest(a.object)["run"] == 1  # never rewritten
    assert store.commit({"data.parquet": b"abd"}, {}).object != a.object


def test_verify_names_a_flipped_byte(store):
    obj = store.commit({"data.parquet": b"abcdef"}, {}).object
    assert store.verify_object(obj) == []
    path = store.object_dir(obj) / "data.parquet"
    os.chmod(path, 0o644)
    path.write_bytes(b"abcdeF")
    problems = store.verify_object(obj)
    assert problems and "data.parquet" in problems[0] and obj.split(":")[1][:10] in problems[0]
    with pytest.raises(StoreCorrupted, match="next build recreates it"):
        store.check(obj)


def test_verify_names_a_manifest_edited_after_its_commit(store):
    """The manifest is no part of the object's name, so an edit of its provenance (the rows, the inputs, as_of:
    valid JSON, every data file intact) passed verify: the object had changed after its commit, unseen."""
    import json

    obj = store.commit({"data.parquet": b"abcdef"}, {"stage": "sim", "rows": 367, "meta": {"nan": float("nan")},
                                                     "inputs": {"rates": "xxh3-128:" + "1" * 32}}).object
    assert store.verify_object(obj) == []
    path = store.object_dir(obj) / MANIFEST
    os.chmod(path, 0o644)
    manifest = json.loads(path.read_bytes())
    path.write_text(json.dumps({**manifest, "rows": 267}, indent=1, sort_keys=True))
    assert store.verify_object(obj) == [f"object {obj[9:19]}: manifest.json was changed after its commit (its "
                                        "provenance no longer matches its seal); the next build of it sets it "
                                        "aside and writes it again"]
    with pytest.raises(StoreCorrupted, match="changed after its commit"):
        store.check(obj)
    # an object an older version committed carries no seal: its manifest is read as before
    del manifest["manifest_digest"]
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    assert store.verify_object(obj) == []


def test_verify_names_a_truncated_or_missing_file(store):
    obj = store.commit({"a.parquet": b"123456", "b.csv": b"x"}, {}).object
    d = store.object_dir(obj)
    os.chmod(d, 0o755)
    os.chmod(d / "a.parquet", 0o644)
    (d / "a.parquet").write_bytes(b"123")
    (d / "b.csv").unlink()
    problems = " ".join(store.verify_object(obj))
    assert "'a.parquet' hashes to" in problems and "'b.csv' is missing" in problems


def test_refuses_bad_file_names_and_empty_objects(store):
    with pytest.raises(StoreError):
        store.commit({}, {})
    for bad in ["../x", MANIFEST, ".hidden", "sub/../../x", "a/b"]:  # a name with a folder reaches out of it
        with pytest.raises(StoreError, match="invalid object file name"):
            store.commit({bad: b"x"}, {})


def test_action_records_roundtrip_and_unreadable_ones_count_as_missing(store):
    obj = store.commit({"d": b"1"}, {}).object
    key = "xxh3-128:" + "ab" * 16
    assert store.get_action(key) is None
    store.put_action({"key": key, "object": obj})
    assert store.get_action(key)["object"] == obj
    path = next(store.iter_action_paths())
    path.write_text('{"key": "xxh3-128:ab')  # half-written
    assert store.get_action(key) is None


def test_pointer_swap_is_a_relative_symlink_replaced_by_rename(store):
    a = store.commit({"d": b"1"}, {}).object
    b = store.commit({"d": b"2"}, {}).object
    assert store.read_pointer("projections", "2019-10-30") is None
    store.swap_pointer("projections", "2019-10-30", a)
    link = store.pointer_path("projections", "2019-10-30")
    assert link.is_symlink() and not os.readlink(link).startswith("/")
    assert (link / "d").read_bytes() == b"1"
    store.swap_pointer("projections", "2019-10-30", b)
    assert store.read_pointer("projections", "2019-10-30") == b
    assert (link / "d").read_bytes() == b"2"
    assert [p.name for p in link.parent.iterdir()] == ["game_date=2019-10-30"]  # no temp names left
    with pytest.raises(ObjectNotFound):
        store.swap_pointer("projections", "2019-10-31", "xxh3-128:" + "0" * 32)


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_a_pointer_that_is_a_directory_or_a_file_is_never_replaced(store, kind):
    """A copy of the slate put where its pointer goes: the swap said "cannot write to the data root: Is a
    directory" (or, for a file, silently replaced it). It is someone's data: refused, named, left in place."""
    obj = store.commit({"d": b"1"}, {}).object
    link = store.pointer_path("projections", "2019-10-30")
    link.parent.mkdir(parents=True)
    if kind == "directory":
        link.mkdir()
        (link / "d").write_bytes(b"someone's copy")
    else:
        link.write_bytes(b"someone's copy")
    with pytest.raises(StoreCorrupted) as read:
        store.read_pointer("projections", "2019-10-30")
    with pytest.raises(StoreError) as swapped:
        store.swap_pointer("projections", "2019-10-30", obj)
    for message in (str(read.value), str(swapped.value)):
        assert f"gold pointer {link} is a {kind}, not a symlink to a store object, and is never replaced" in message
        assert f"move it out of {link.parent} (or remove it) and rerun the date" in message
    assert "Is a directory" not in str(swapped.value) and "writable" not in str(swapped.value)
    copy = link / "d" if kind == "directory" else link
    assert copy.read_bytes() == b"someone's copy"
    assert sorted(p.name for p in link.parent.iterdir()) == ["game_date=2019-10-30"]  # no temp names left


def test_pointer_that_names_no_object_is_reported(store):
    link = store.pointer_path("projections", "2019-10-30")
    link.parent.mkdir(parents=True)
    os.symlink("../../somewhere/else", link)
    with pytest.raises(StoreCorrupted, match="does not name a store object"):
        store.read_pointer("projections", "2019-10-30")


UNREADABLE = """
import sys
from pathlib import Path
from projections.store import LocalStore
print("\\n".join(LocalStore(Path(sys.argv[1])).verify_object(sys.argv[2], use_cache=sys.argv[3] == "cached")))
"""


@pytest.mark.parametrize("cached", ["cached", "rehash"])
def test_an_object_file_this_user_may_not_read_is_a_problem_not_a_traceback(store, cached):
    """Another user's data.parquet (0400): `doit slate`, `status` and `verify` died with a PermissionError from
    the digest. The object cannot be vouched for: a problem naming the file, its owner and mode and the fix."""
    import subprocess
    import sys

    from tests.conftest import obeying_modes

    obj = store.commit({"data.parquet": b"abc"}, {"stage": "x"}).object
    path = store.object_dir(obj) / "data.parquet"
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
        os.chmod(path, 0o400)
    else:
        os.chmod(path, 0o000)
    result = subprocess.run(obeying_modes([sys.executable, "-c", UNREADABLE, str(store.root), obj, cached]),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    [problem] = result.stdout.splitlines()
    assert problem.startswith(f"object {obj.split(':')[1][:10]}: file 'data.parquet' is unreadable ({path}, owner ")
    assert f"`sudo chmod a+rX {path}`" in problem and "Permission denied" in problem
    if os.geteuid() == 0:
        assert "owner nobody:" in problem and "ask its owner (nobody)" in problem
    os.chmod(path, 0o444)
    assert store.verify_object(obj) == []


def _writable(store, obj):
    where = store.object_dir(obj)
    where.chmod(0o755)
    for f in where.iterdir():
        f.chmod(0o644)
    return where


def test_a_failed_commit_leaves_no_staging_folder(store):
    """A commit that fails after staging (here its shard is a file someone put there) removes what it staged:
    store/tmp holds only the leftovers of killed runs."""
    obj = store.commit({"d": b"1"}, {}).object
    shard = store.object_dir(obj).parent
    shard.chmod(0o755)
    _writable(store, obj)
    import shutil

    shutil.rmtree(shard)
    shard.write_bytes(b"not a shard")
    with pytest.raises(OSError):
        store.commit({"d": b"1"}, {})
    assert list(store.tmp.iterdir()) == []


def test_a_missing_object_is_named_not_a_path_to_nothing(store):
    with pytest.raises(ObjectNotFound, match="is not in the store"):
        store.path("xxh3-128:" + "0" * 32, "data.parquet")


def test_verify_names_a_manifest_that_is_no_object_an_extra_file_and_a_folder_under_another_name(store):
    """Each is a finding with its object named, never an AttributeError or a pass."""
    import shutil

    listed = store.commit({"d": b"1"}, {}).object
    where = _writable(store, listed)
    (where / MANIFEST).write_text("[1, 2]")
    assert store.verify_object(listed) == [f"object {listed[9:19]}: manifest {where / MANIFEST} is not a JSON object"]
    extra = store.commit({"d": b"2"}, {}).object
    (_writable(store, extra) / "stray.csv").write_text("x")
    assert store.verify_object(extra) == [f"object {extra[9:19]}: unexpected file 'stray.csv'"]
    # a whole intact object copied under another object's name: every file matches its manifest, the name not
    source = store.commit({"d": b"3"}, {}).object
    other = "xxh3-128:" + "ab" * 16
    shutil.copytree(store.object_dir(source), store.object_dir(other))
    assert store.verify_object(other) == [f"object {other[9:19]}: content hashes to {source[9:19]}, not to its name"]


def test_a_build_never_uses_an_object_whose_data_file_is_a_symlink(store, tmp_path):
    """Same bytes today through a link, whatever they become tomorrow: check() refuses it (verify names it)."""
    obj = store.commit({"data.csv": b"1,2"}, {}).object
    where = _writable(store, obj)
    copy = tmp_path / "outside.csv"
    copy.write_bytes(b"1,2")
    (where / "data.csv").unlink()
    (where / "data.csv").symlink_to(copy)
    with pytest.raises(StoreCorrupted, match=r"file 'data\.csv' is a symlink, not written by a build"):
        store.check(obj)


def test_an_action_record_for_another_key_or_without_an_object_digest_counts_as_missing(store):
    """A record copied to another key's path, or naming no object digest, would make a stage look built."""
    import json

    obj = store.commit({"d": b"1"}, {}).object
    key, other = "xxh3-128:" + "ab" * 16, "xxh3-128:" + "cd" * 16
    store.put_action({"key": other, "object": obj})
    moved = store._action_path(key)
    moved.parent.mkdir(parents=True, exist_ok=True)
    store._action_path(other).rename(moved)
    assert store.get_action(key) is None
    moved.write_text(json.dumps({"key": key, "object": "data.parquet"}))
    assert store.get_action(key) is None
    moved.write_text(json.dumps({"key": key, "object": obj}))
    assert store.get_action(key) == {"key": key, "object": obj}


def test_unshared_keys_skip_what_is_no_key(store):
    key = "xxh3-128:" + "ab" * 16
    store.mark_unshared(key)
    (store.unshared / "notes.txt").write_text("not a key")
    assert store.unshared_keys() == [key]


def test_removing_a_tree_never_changes_the_mode_of_what_a_link_inside_it_names(store, tmp_path):
    """gc removes a dead writer's staging folder whose write bits are gone; a symlink inside it to a folder
    elsewhere is removed as a link, and that folder keeps its mode."""
    from projections.gc import collect

    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o500)
    staged = store.tmp / "999999999-dead"
    (staged / "part").mkdir(parents=True)
    (staged / "part" / "to_outside").symlink_to(outside)
    (staged / "part").chmod(0o555)
    try:
        collect(store, grace_s=0)
        assert not staged.exists()
        assert outside.is_dir() and stat.S_IMODE(outside.stat().st_mode) == 0o500
    finally:
        outside.chmod(0o700)


def test_verify_rehashes_every_file_whatever_the_stat_cache_says(tmp_path):
    """A build's check trusts the stat cache; `projections verify` must not: a cache entry vouching for a file's
    old bytes (a cache restored from a backup, a clock set back) would hide a damaged object from the one
    command meant to find it."""
    import sqlite3

    from projections.statcache import StatCache, signature
    from tests.conftest import run_cli

    home = tmp_path / "home"
    db = home / "cache" / "stat2.sqlite3"
    caches = [StatCache(db) for _ in range(3)]
    try:
        store = LocalStore(home, stat_cache=caches[0])
        obj = store.commit({"data.parquet": b"abcdef"}, {}).object
        store.check(obj)  # lays out the cache
        path = store.object_dir(obj) / "data.parquet"
        good = store.manifest(obj)["files"]["data.parquet"]["digest"]
        os.chmod(path, 0o644)
        path.write_bytes(b"abcdeF")
        conn = sqlite3.connect(db)
        with conn:
            conn.execute("INSERT OR REPLACE INTO stat2 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         ("file", str(path), *signature(os.stat(path)), good))
        conn.close()
        assert LocalStore(home, stat_cache=caches[1]).verify_object(obj, use_cache=True) == []  # it vouches
        assert "'data.parquet' hashes to" in LocalStore(home, stat_cache=caches[2]).verify_object(obj)[0]
    finally:
        for cache in caches:
            cache.close()
    result = run_cli(home, "verify")
    assert result.returncode == 1 and "'data.parquet' hashes to" in result.stdout, result.stdout

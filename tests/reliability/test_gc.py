"""gc keeps what gold and refs need and the newest N per stage and date; deletes the rest; verify stays clean."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.errors import LockTimeout
from projections.gc import build_guard, collect
from projections.ledger import Ledger
from projections.sources import snapshots
from projections.store import LocalStore
from projections.verify import verify
from tests.conftest import FIXTURE_DATE, damaged_object, gold_object, ledger_events, run_cli, run_doit
from tests.integration.test_invariants import _copy_stages, _edit_gold_logic


def test_gc_deletes_superseded_objects_and_keeps_gold(tmp_path: Path):
    home = tmp_path / "home"
    code = _copy_stages(tmp_path)
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code).returncode == 0
    old_gold = gold_object(home)
    _edit_gold_logic(code)
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code).returncode == 0
    new_gold = gold_object(home)
    assert new_gold != old_gold

    store = LocalStore(home)
    dry = collect(store, keep=1, grace_s=0, dry_run=True)
    assert dry.deleted == [old_gold] and store.has(old_gold)  # a dry run deletes nothing
    listed = run_cli(home, "gc", "--dry-run", "--keep", "1", "--grace", "0")
    assert f"would delete {old_gold[9:19]}  gold {FIXTURE_DATE}\n" in listed.stdout, listed.stdout  # not a bare hash

    report = collect(store, keep=1, grace_s=0, ledger=Ledger(home))
    assert report.deleted == [old_gold] and report.records_deleted == 1
    assert not store.object_dir(old_gold).exists() and store.has(new_gold)
    gone = run_cli(home, "diff", FIXTURE_DATE, old_gold[9:17], new_gold[9:17])
    assert gone.returncode == 2 and f"object {old_gold[9:17]} was deleted by `projections gc` at " in gone.stderr, \
        gone.stderr  # it said only "no object in ... starts with"
    assert run_cli(home, "verify").returncode == 0
    again = run_doit(home, "slate", f"date={FIXTURE_DATE}", code=code)
    assert again.returncode == 0 and "0 built" in again.stdout  # nothing the build needs was collected
    assert [e for e in ledger_events(home) if e["event"] == "gc"]


def test_a_gc_killed_between_a_record_and_its_object_leaves_nothing_verify_names_for_good(tmp_path: Path):
    """gc deleted an object, then its action records: killed in between (a unit's stop timeout, a reboot - the
    timer runs gc after every run), a record of an older key named a missing object, and `projections verify`
    failed on it for good: "the next build redoes that stage", but no build plans an older key again, and no gc
    removed it. Now the records go first, and a record whose object is gone is removed by the next gc."""
    home = tmp_path / "home"
    older = {"PROJECTIONS_PARAMS__OWNERSHIP__VALUE_WEIGHT": "0.8"}
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", **older).returncode == 0
    store = LocalStore(home)
    superseded = collect(store, keep=1, grace_s=0, dry_run=True).deleted  # the default weight's ownership and gold
    assert len(superseded) == 2, superseded

    # what a gc of older code killed between an object and its record left: the object gone, the record kept
    victim = store.object_dir(superseded[0])
    os.chmod(victim, 0o755)
    shutil.rmtree(victim)
    named = run_cli(home, "verify")
    assert named.returncode == 1 and f"names missing object {superseded[0][9:19]}" in named.stdout, named.stdout
    assert run_cli(home, "gc", "--keep", "1", "--grace", "0").returncode == 0
    assert run_cli(home, "verify").returncode == 0  # the record is gone (it stayed, verify failing, for good)

    # a real gc SIGKILLed (os._exit) after an object's records, before the object: verify stays clean
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_PARAMS__OWNERSHIP__VALUE_WEIGHT="0.7")\
        .returncode == 0
    killed = run_cli(home, "gc", "--keep", "1", "--grace", "0", PROJECTIONS_FAILPOINTS="gc.records_deleted=crash")
    assert killed.returncode == 137, killed.stdout + killed.stderr
    assert run_cli(home, "verify").returncode == 0
    orphans = collect(store, keep=1, grace_s=0)
    assert len(orphans.deleted) == 2 and orphans.records_deleted == 1  # the object no record named, and the other
    assert run_cli(home, "verify").returncode == 0
    rerun = run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_PARAMS__OWNERSHIP__VALUE_WEIGHT="0.7")
    assert rerun.returncode == 0 and "0 built" in rerun.stdout


def test_gc_keeps_the_record_of_an_object_it_may_not_see(tmp_path: Path):
    """A record whose object is gone is removed by gc (see above), but an object in a shard this user may not enter
    is not gone: its record stays (os.path.lexists said False for it, and the record was deleted before gc stopped
    on the shard)."""
    from tests.conftest import obeying_modes, project_env

    home = tmp_path / "home"
    store = LocalStore(home)
    obj = store.commit({"data.parquet": b"intact"}, {"stage": "schedule"}).object
    key = "xxh3-128:" + "ab" * 16
    store.put_action({"key": key, "object": obj, "stage": "schedule", "game_date": FIXTURE_DATE})
    shard = store.object_dir(obj).parent
    os.chmod(shard, 0o000)
    try:
        gc = subprocess.run(obeying_modes([sys.executable, "-m", "projections.cli", "gc", "--grace", "0"]),
                            env=project_env(home), capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(shard, 0o755)
    assert gc.returncode != 0 and f"cannot write {shard}" in gc.stderr, gc.stdout + gc.stderr
    assert store.get_action(key) is not None and store.verify_object(obj) == []


def test_a_gc_killed_while_deleting_an_object_leaves_no_half_object(tmp_path: Path):
    """gc deleted an object's files in place: killed partway, the object folder stayed with some of its files, which
    verify named as a damaged object (a file missing, or no manifest) until a gc past the grace period, an hour by
    default. The object is now moved into store/tmp first: killed there, what is left is a leftover verify only notes
    and the next gc removes."""
    home = tmp_path / "home"
    assert run_doit(home, "salaries", f"date={FIXTURE_DATE}").returncode == 0
    store = LocalStore(home)
    orphan = store.commit({"data.parquet": b"nobody needs this", "extra.csv": b"a\n"}, {"stage": "orphan"}).object
    killed = run_cli(home, "gc", "--grace", "0", PROJECTIONS_FAILPOINTS="gc.object_moved=crash")
    assert killed.returncode == 137, killed.stdout + killed.stderr
    assert not store.object_dir(orphan).exists()
    report = run_cli(home, "verify")
    assert report.returncode == 0 and "1 unfinished commit(s)" in report.stdout, report.stdout
    again = collect(store, grace_s=0)
    assert again.deleted == [] and again.tmp_deleted == 1 and not list(store.tmp.iterdir())
    assert run_cli(home, "verify").returncode == 0


def test_gc_grace_period_and_unfinished_commits(tmp_path: Path):
    home = tmp_path / "home"
    assert run_doit(home, "salaries", f"date={FIXTURE_DATE}").returncode == 0
    store = LocalStore(home)
    orphan = store.commit({"data.parquet": b"nobody points here"}, {"stage": "orphan"}).object
    dead_tmp = store.tmp / "999999999-deadbeef"
    dead_tmp.mkdir(parents=True)
    (dead_tmp / "data.parquet").write_bytes(b"half")
    live_tmp = store.tmp / f"{os.getpid()}-alive"
    live_tmp.mkdir()

    young = collect(store, keep=3, grace_s=3600)
    assert orphan not in young.deleted and store.has(orphan)  # too young to go
    assert young.tmp_deleted == 1 and not dead_tmp.exists() and live_tmp.exists()

    old = time.time() - 7200
    os.utime(store.object_dir(orphan), (old, old))
    report = collect(store, keep=3, grace_s=3600)
    assert report.deleted == [orphan]
    shutil.rmtree(live_tmp)
    assert run_cli(home, "verify").returncode == 0


def test_gc_cli_dry_run_and_bad_arguments(tmp_path: Path):
    home = tmp_path / "home"
    assert run_doit(home, "schedule", f"date={FIXTURE_DATE}").returncode == 0
    dry = run_cli(home, "gc", "--dry-run")
    assert dry.returncode == 0 and "would delete 0 objects" in dry.stdout
    bad = run_cli(home, "gc", "--keep", "0")
    assert bad.returncode == 2 and "keep at least 1" in bad.stderr


def test_gc_keeps_what_a_reused_gold_object_was_built_from(tmp_path: Path):
    """An experiment (other sim draws) makes newer records of sim, ownership and gold; going back reuses the
    first objects, whose records are then no longer the newest. gc must keep what that gold came from, or
    the published date turns stale and rebuilds."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    first = gold_object(home)
    tried = []
    for draws in ("1001", "1002"):
        assert run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_PARAMS__SIM__DRAWS=draws).returncode == 0
        tried.append(gold_object(home))
    back = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert back.returncode == 0 and "0 built" in back.stdout and gold_object(home) == first

    store = LocalStore(home)
    report = collect(store, keep=1, grace_s=0, ledger=Ledger(home))
    assert len(report.deleted) == 3 and tried[0] in report.deleted  # the first experiment's sim, ownership, gold
    assert first not in report.deleted and tried[1] not in report.deleted  # gold's, and the newest
    assert run_cli(home, "status", FIXTURE_DATE).returncode == 0
    again = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert again.returncode == 0 and "0 built" in again.stdout, again.stdout
    assert run_cli(home, "verify").returncode == 0


def test_gc_keeps_what_a_run_just_found_up_to_date(tmp_path: Path):
    """Back to the default parameters after an hour of experiments: a run finds the old objects up to date and
    builds on them a moment later, while gc (keep 1) saw them as old and superseded and deleted them under the
    run, which then failed "its input sim is not built". A run's use counts as new for the grace period."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    store = LocalStore(home)
    first = {e["stage"]: e["object"] for e in ledger_events(home) if e["event"] == "stage_success"}
    hours_ago = time.time() - 7200
    for obj in store.iter_objects():
        os.utime(store.object_dir(obj), (hours_ago, hours_ago))
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_PARAMS__SIM__DRAWS="1001").returncode == 0
    checked = run_doit(home, "sim", f"date={FIXTURE_DATE}")  # the default parameters again: all up to date
    assert checked.returncode == 0 and "0 built" in checked.stdout, checked.stdout
    report = collect(store, keep=1, grace_s=3600)
    assert first["sim"] not in report.deleted and store.has(first["sim"])
    assert first["gold"] in report.deleted and first["ownership"] in report.deleted  # unused: collected as before
    again = run_doit(home, "sim", f"date={FIXTURE_DATE}")
    assert again.returncode == 0 and "0 built" in again.stdout, again.stdout


def test_a_command_that_only_looks_refreshes_no_objects_age(tmp_path: Path):
    """`projections status` (or explain, report, serve) planned every stage and so refreshed every object's age: a
    look at an old slate kept everything under it from gc for another grace period."""
    home = tmp_path / "home"
    assert run_doit(home, "schedule", f"date={FIXTURE_DATE}").returncode == 0
    store = LocalStore(home)
    hours_ago = time.time() - 7200
    for obj in store.iter_objects():
        os.utime(store.object_dir(obj), (hours_ago, hours_ago))
    for command in (["status", FIXTURE_DATE], ["explain", FIXTURE_DATE, "schedule"]):
        assert run_cli(home, *command).returncode in (0, 1)
    ages = {obj: store.object_dir(obj).stat().st_mtime for obj in store.iter_objects()}
    assert ages and all(abs(m - hours_ago) < 1 for m in ages.values()), ages
    assert run_doit(home, "schedule", f"date={FIXTURE_DATE}").returncode == 0  # a run's use still counts
    assert any(store.object_dir(obj).stat().st_mtime > hours_ago + 3600 for obj in store.iter_objects())


def test_gc_keeps_objects_other_users_own_and_records_what_it_did(tmp_path: Path, monkeypatch):
    """In a data root shared by a group, a committed object's folder is read-only and its owner's: gc run by
    another user failed on the first one ('cannot create data.parquet ... in .'), having already deleted its own
    objects, left their action records naming nothing (verify failed) and wrote no ledger record. Now the others'
    objects are kept and counted by owner, its own are deleted with their records, and the run is recorded.
    (The suite runs as root, so 'this user' is played by a uid of no one: os.geteuid is that uid here.)"""
    home = tmp_path / "home"
    assert run_doit(home, "salaries", f"date={FIXTURE_DATE}").returncode == 0
    store = LocalStore(home)
    mine, theirs = (store.commit({"data.parquet": f"orphan {n}".encode()}, {"stage": "orphan"}).object
                    for n in (1, 2))
    old = time.time() - 7200
    for obj in (mine, theirs):
        os.utime(store.object_dir(obj), (old, old))
    me = 4242  # no user: the other objects (root's) are someone else's
    os.chown(store.object_dir(mine), me, -1)
    monkeypatch.setattr(os, "geteuid", lambda: me)
    report = collect(store, keep=3, grace_s=3600, ledger=Ledger(home))
    assert report.deleted == [mine] and store.has(theirs) and not store.object_dir(mine).exists()
    assert report.others == {"root": report.others["root"]} and report.others["root"] >= 1
    (event,) = [e for e in ledger_events(home) if e["event"] == "gc"]
    assert event["deleted"] == 1 and event["others"] == report.others


def test_gc_removes_the_temp_link_a_run_killed_while_publishing_left(tmp_path: Path):
    """A run killed between making a pointer's temp link and renaming it over the pointer left
    gold/projections/.game_date=D.<pid>.<hex>.tmp; no later run, gc or verify removed it or said anything."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    folder = home / "gold" / "projections"
    dead = folder / f".game_date={FIXTURE_DATE}.999999999.deadbeef.tmp"
    dead.symlink_to(os.readlink(folder / f"game_date={FIXTURE_DATE}"))
    mine = folder / f".game_date={FIXTURE_DATE}.{os.getpid()}.cafe0123.tmp"  # a live writer's: left alone
    mine.symlink_to(os.readlink(folder / f"game_date={FIXTURE_DATE}"))
    report = collect(LocalStore(home), keep=3, grace_s=3600)
    assert report.tmp_deleted == 1 and not dead.is_symlink() and mine.is_symlink()
    mine.unlink()
    assert run_cli(home, "verify").returncode == 0


def test_gc_deletes_the_damaged_objects_builds_set_aside_and_verify_counts_them(tmp_path: Path):
    """A damaged object a build set aside (store/quarantine, or renamed within its shard when another user owns
    it) was never counted by verify nor deleted by gc: store/quarantine grew for ever, unseen."""
    home = tmp_path / "home"
    store = LocalStore(home)
    files = {"data.csv": b"a,b\n1,2\n"}
    damaged_object(store, files)
    assert store.commit(files, {"kind": "test"}).created  # the build sets the damaged copy aside, writes it anew
    other = store.commit({"data.csv": b"c\n9\n"}, {"kind": "test"}).object
    shard = store.object_dir(other)
    os.chmod(shard, 0o755)
    os.rename(shard, shard.with_name(f"{shard.name}.damaged-1-ab"))  # another user's: set aside in its shard
    assert len(list((home / "store" / "quarantine").iterdir())) == 1

    noted = run_cli(home, "verify")
    assert noted.returncode == 0 and "2 damaged object(s) set aside by builds" in noted.stdout, noted.stdout
    young = run_cli(home, "gc")  # set aside just now: within the grace period
    assert young.returncode == 0 and "damaged" not in young.stdout and len(list(home.rglob("*.damaged-*"))) == 1
    dry = run_cli(home, "gc", "--dry-run", "--grace", "0")
    assert "would delete" in dry.stdout and "2 damaged objects set aside by builds" in dry.stdout, dry.stdout
    assert len(list(home.rglob("*.damaged-*"))) == 1
    done = run_cli(home, "gc", "--grace", "0")
    assert done.returncode == 0 and "deleted" in done.stdout and "2 damaged objects" in done.stdout, done.stdout
    assert not list((home / "store" / "quarantine").iterdir()) and not list(home.rglob("*.damaged-*"))
    assert [e["damaged_deleted"] for e in ledger_events(home) if e["event"] == "gc"] == [2]
    assert "set aside" not in run_cli(home, "verify").stdout


def test_commands_that_only_look_lay_out_no_data_root(tmp_path: Path):
    """`gc --dry-run` on a mistyped PROJECTIONS_HOME created it (locks/), and `doit list --status` laid out a whole
    root (store, gold, ledger, locks, refs)."""
    home = tmp_path / "mistyped"
    for command in (("gc", "--dry-run"), ("gc",), ("report",)):  # report wrote an empty dashboard into it
        result = run_cli(home, *command)
        assert result.returncode == (1 if command == ("report",) else 0), result.stdout + result.stderr
        assert f"no data root at {home}" in result.stderr, result.stdout + result.stderr
    listed = run_doit(home, "list", "--status", f"date={FIXTURE_DATE}")
    assert listed.returncode == 0 and f"schedule:{FIXTURE_DATE}" in listed.stdout, listed.stdout + listed.stderr
    assert not home.exists()
    home.mkdir()
    assert run_doit(home, "list", "--status", f"date={FIXTURE_DATE}").returncode == 0
    assert {p.name for p in home.iterdir()} <= {"cache"}  # a cache at most: no layout, no ledger


def test_gc_and_verify_never_go_through_symlinks_planted_in_the_store(tmp_path: Path):
    """gc deleted a folder outside the data root through a symlinked shard (store/objects/fe -> elsewhere), and
    crashed on a symlinked object folder after making its target writable; verify passed an object whose data
    file was a symlink to an outside copy of the same bytes."""
    home = tmp_path / "home"
    store = LocalStore(home)
    kept = store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"}).object
    outside = tmp_path / "outside"
    planted_obj = outside / "shard" / ("0" * 30)
    planted_obj.mkdir(parents=True)
    (planted_obj / "manifest.json").write_text("precious")
    os.symlink(outside / "shard", store.objects / "fe")  # a whole shard elsewhere
    folder = outside / "folder"
    folder.mkdir()
    (folder / "manifest.json").write_text("precious too")
    os.chmod(folder, 0o500)
    os.symlink(folder, store.object_dir(kept).parent / ("a" * 30))  # an object folder elsewhere
    other = store.commit({"data.csv": b"b\n2\n"}, {"kind": "test"}).object
    copy = outside / "data.csv"
    copy.write_bytes(b"b\n2\n")
    data = store.object_dir(other) / "data.csv"
    os.chmod(data.parent, 0o755)
    data.unlink()
    os.symlink(copy, data)  # same bytes today, whatever they become tomorrow
    third = store.commit({"data.csv": b"c\n3\n"}, {"kind": "test"}).object
    manifest = store.object_dir(third) / "manifest.json"
    os.chmod(manifest.parent, 0o755)
    (outside / "manifest.json").write_bytes(manifest.read_bytes())
    manifest.unlink()
    os.symlink(outside / "manifest.json", manifest)
    (outside / "shard" / f"{'1' * 30}.damaged-1-ab").mkdir()  # "set aside" in the linked shard
    staged = outside / "staged"
    staged.mkdir()
    store.tmp.mkdir(parents=True, exist_ok=True)
    os.symlink(staged, store.tmp / "999999999-dead")  # a dead writer's "staging", elsewhere
    key = "xxh3-128:" + "fa" * 16
    store.put_action({"key": key, "object": kept, "stage": "test"})  # a record of an object gc will delete ...
    record = store._action_path(key)
    shard_elsewhere = outside / "actions-fa"
    os.rename(record.parent, shard_elsewhere)
    os.symlink(shard_elsewhere, record.parent)  # ... in an action shard linked out of the store
    old = time.time() - 7200
    for obj in (kept, other):
        os.utime(store.object_dir(obj), (old, old))

    checked = run_cli(home, "verify")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    for link in (store.objects / "fe", store.object_dir(kept).parent / ("a" * 30), record.parent):
        assert f"{link} is a symlink (to {os.readlink(link)}) in the store, not written by a build" in checked.stdout
    assert f"object {other[9:19]}: file 'data.csv' is a symlink, not written by a build" in checked.stdout
    assert f"object {third[9:19]}: file 'manifest.json' is a symlink, not written by a build" in checked.stdout
    assert checked.stdout.count(" is a symlink") == 5, checked.stdout  # each link named once

    done = run_cli(home, "gc", "--grace", "0", "--keep", "1")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert (planted_obj / "manifest.json").read_text() == "precious"  # gc deleted it through the link
    assert (folder / "manifest.json").read_text() == "precious too"
    assert oct(folder.stat().st_mode & 0o777) == "0o500"  # not made writable on the way
    assert (outside / "shard" / f"{'1' * 30}.damaged-1-ab").is_dir() and staged.is_dir()
    assert (shard_elsewhere / record.name).is_file()  # gc deleted the record through the link
    assert not (store.tmp / "999999999-dead").is_symlink()  # the link itself goes, not what it names
    assert copy.read_bytes() == b"b\n2\n" and not store.has(kept)  # the store's own unreferenced objects do go


def test_gc_deletes_the_stat_caches_runs_set_aside_once_past_the_grace_period(tmp_path: Path):
    """A stat cache a run found unusable is renamed cache/stat2.broken-<pid> and never read again; nothing
    removed them."""
    home = tmp_path / "home"
    store = LocalStore(home)
    store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"})
    (home / "cache").mkdir()
    broken = home / "cache" / "stat2.broken-4242"
    broken.write_bytes(b"not a database" * 100)
    live = home / "cache" / "stat2.sqlite3"
    live.write_bytes(b"in use")
    young = collect(store, keep=3, grace_s=3600)
    assert broken.exists() and young.tmp_deleted == 0  # set aside just now: kept a while, for a look
    dry = collect(store, keep=3, grace_s=0, dry_run=True)
    assert dry.tmp_deleted == 1 and broken.exists()
    done = collect(store, keep=3, grace_s=0)
    assert done.tmp_deleted == 1 and not broken.exists() and live.read_bytes() == b"in use"


def test_verify_names_an_action_record_planted_as_a_symlink_and_gc_leaves_its_target(tmp_path: Path):
    """A record linked into a real action shard (store/actions/xx/<name>.json -> elsewhere) was passed over in
    silence: verify named only a linked shard, not a linked record in the store's own shard."""
    home = tmp_path / "home"
    store = LocalStore(home)
    obj = store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"}).object
    key = "xxh3-128:" + "fa" * 16
    store.put_action({"key": key, "object": obj, "stage": "test"})
    record = store._action_path(key)
    elsewhere = tmp_path / "outside" / "record.json"
    elsewhere.parent.mkdir()
    os.rename(record, elsewhere)
    os.symlink(elsewhere, record)
    report = verify(store)
    assert report.problems == [f"{record} is a symlink (to {elsewhere}) in the store, not written by a build: "
                               "nothing reads or deletes through it; remove the link"], report.problems
    done = collect(store, keep=1, grace_s=0)
    assert done.deleted == [obj] and elsewhere.is_file() and record.is_symlink()


def test_gc_keeps_every_object_a_snapshot_index_names_on_any_line(tmp_path: Path):
    """A snapshot index (refs/snapshots/<table>/game_date=D.jsonl) holds one capture per line: an object named
    only on a later line must be kept like the first, or the as-of join of an older slate finds it gone."""
    home = tmp_path / "home"
    day = dt.date.fromisoformat(FIXTURE_DATE)
    first = dt.datetime(2019, 10, 29, 12, tzinfo=dt.UTC)
    captured = [snapshots.record(home, "schedule", day, files={"data.parquet": f"capture {n}".encode()},
                                 captured_at=first + dt.timedelta(hours=n), url="https://example.test/s", rows=n + 1)
                for n in range(2)]
    index = snapshots.index_path(home, "schedule", day)
    assert len(index.read_text().splitlines()) == 2 and all(r.appended for r in captured)
    orphan = LocalStore(home).commit({"data.csv": b"nobody names me"}, {"kind": "test"}).object
    report = collect(LocalStore(home), keep=1, grace_s=0)
    assert report.deleted == [orphan]
    assert all(LocalStore(home).has(r.entry.object) for r in captured)  # the 2nd line's too


GUARD = """
import sys, time
from pathlib import Path
from projections.gc import build_guard
with build_guard(Path(sys.argv[1]), timeout=None, notify=lambda m: None):
    print("held", flush=True)
    time.sleep(60)
"""

GC_LOCKS = """
import sys, time
from pathlib import Path
from projections.gc import _gc_locks
with _gc_locks(Path(sys.argv[1]), dry_run=False, timeout=None, notify=lambda m: None):
    print("held", flush=True)
    time.sleep(60)
"""


@contextlib.contextmanager
def _held_by(script: str, home: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding a lock (`script` prints "held" once it does), killed on leaving."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_gc_waits_for_a_running_stage_and_gives_up_at_its_timeout(tmp_path: Path):
    """A stage holds the store lock shared while it builds: gc must not take it exclusively meanwhile (it would
    delete what the stage is about to use), so with a short timeout it gives up and deletes nothing."""
    home = tmp_path / "home"
    store = LocalStore(home)
    orphan = store.commit({"data.csv": b"nobody names me"}, {"kind": "test"}).object
    with _held_by(GUARD, home):
        with pytest.raises(LockTimeout, match="waiting for the lock on the store"):
            collect(store, keep=1, grace_s=0, timeout=0.2)
        assert store.has(orphan)
    assert collect(store, keep=1, grace_s=0, timeout=0.2).deleted == [orphan]  # the stage done: gc goes


def test_a_stage_waits_for_a_running_gc_and_gives_up_at_its_timeout(tmp_path: Path):
    """While gc holds its locks (deciding and deleting), no stage may start: with a short timeout the build
    guard gives up, naming the gc that holds them."""
    home = tmp_path / "home"
    with _held_by(GC_LOCKS, home) as proc, pytest.raises(LockTimeout, match=f"held by pid {proc.pid} "), \
            build_guard(home, timeout=0.2, notify=lambda m: None):
        pass
    with build_guard(home, timeout=0.2, notify=lambda m: None):  # gc done: the stage goes
        pass


def test_gc_never_deletes_through_a_store_tmp_planted_as_a_symlink(tmp_path: Path):
    """store/tmp linked to an outside folder: gc took its entries for dead writers' staging folders and deleted
    them there, outside the data root."""
    home = tmp_path / "home"
    store = LocalStore(home)
    store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"})
    outside = tmp_path / "outside"
    (outside / "999999999-x").mkdir(parents=True)
    (outside / "999999999-x" / "keep.txt").write_text("precious")
    store.tmp.rmdir()
    os.symlink(outside, store.tmp)
    report = collect(store, keep=1, grace_s=0)
    assert report.tmp_deleted == 0 and (outside / "999999999-x" / "keep.txt").read_text() == "precious"
    assert store.tmp.is_symlink()


def test_a_gc_stopped_by_an_os_error_does_not_end_as_success(tmp_path: Path, monkeypatch):
    """gc stopped at an object it could not delete (a full disk, an I/O error): it returned as if done, so `projections
    gc` exited 0 with objects it meant to delete still there. It raises, after dropping the records of what it did
    delete and recording that in the ledger."""
    home = tmp_path / "home"
    store = LocalStore(home)
    doomed = sorted(store.commit({"data.csv": f"orphan {n}".encode()}, {"kind": "test"}).object for n in range(2))
    real = LocalStore.delete_object
    calls: list[str] = []

    def delete_once(self: LocalStore, obj: str) -> None:
        calls.append(obj)
        if len(calls) > 1:
            raise OSError(errno.EIO, "Input/output error", str(self.object_dir(obj)))
        real(self, obj)

    monkeypatch.setattr(LocalStore, "delete_object", delete_once)
    with pytest.raises(OSError, match="Input/output error"):
        collect(store, keep=1, grace_s=0, ledger=Ledger(home))
    assert not store.has(doomed[0]) and store.has(doomed[1])
    assert [e["deleted"] for e in ledger_events(home) if e["event"] == "gc"] == [1]


def test_gc_dry_run_keeps_a_dead_writers_staging_folder(tmp_path: Path):
    """`gc --dry-run` deleted the unfinished commits of dead writers in store/tmp, though it only lists what would
    go."""
    home = tmp_path / "home"
    store = LocalStore(home)
    store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"})
    staging = store.tmp / "999999999-deadbeef"
    staging.mkdir()
    (staging / "data.parquet").write_bytes(b"half")
    dry = collect(store, keep=1, grace_s=0, dry_run=True)
    assert dry.tmp_deleted == 1 and (staging / "data.parquet").is_file()
    listed = run_cli(home, "gc", "--dry-run")  # the object is young: only the leftover would go
    assert listed.returncode == 0 and "would delete 0 objects" in listed.stdout and "1 leftovers" in listed.stdout, \
        listed.stdout + listed.stderr
    assert (staging / "data.parquet").is_file()
    assert collect(store, keep=1, grace_s=0).tmp_deleted == 1 and not staging.exists()

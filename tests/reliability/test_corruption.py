"""Corruption: each kind is named by `projections verify` and rebuilt (not used) by the next build."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from projections.hashing import short
from projections.store import LocalStore
from projections.verify import verify
from tests.conftest import FIXTURE_DATE, damaged_object, gold_object, ledger_events, run_cli, run_doit


def _object_of(home: Path, stage: str) -> str:
    return next(e["object"] for e in ledger_events(home) if e["event"] == "stage_success" and e["stage"] == stage)


def _writable(path: Path) -> None:
    os.chmod(path.parent, 0o755)
    if path.exists():
        os.chmod(path, 0o644)


def flip_byte(home: Path) -> str:
    obj = _object_of(home, "salaries")
    path = LocalStore(home).object_dir(obj) / "data.parquet"
    _writable(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    return obj.split(":")[1][:10]


def truncate_parquet(home: Path) -> str:
    obj = _object_of(home, "game_logs")
    path = LocalStore(home).object_dir(obj) / "data.parquet"
    _writable(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return obj.split(":")[1][:10]


def dangling_pointer(home: Path) -> str:
    obj = gold_object(home)
    assert obj is not None
    where = LocalStore(home).object_dir(obj)
    os.chmod(where, 0o755)
    shutil.rmtree(where)
    return "dangling"


def pointer_to_no_object(home: Path) -> str:
    """A gold pointer bent to a path that names no store object (a hand edit, a botched restore)."""
    link = home / "gold" / "projections" / f"game_date={FIXTURE_DATE}"
    link.unlink()
    link.symlink_to("../../store/objects/00/nonexistent")
    return "does not name a store object"


def manifest_removed(home: Path) -> str:
    """An object directory without its manifest (half deleted by hand, half restored): it blocked its stage for
    good ("cannot write to the data root: Directory not empty") and verify called it "not in the store"."""
    obj = _object_of(home, "sim")
    path = LocalStore(home).object_dir(obj) / "manifest.json"
    _writable(path)
    path.unlink()
    return "incomplete, no manifest.json"


def manifest_edited(home: Path) -> str:
    """An object's manifest rewritten as valid JSON with other provenance (a hand edit, a disk error in a digit):
    every data file still matched, so verify said ok and builds kept using it."""
    obj = _object_of(home, "sim")
    path = LocalStore(home).object_dir(obj) / "manifest.json"
    _writable(path)
    manifest = json.loads(path.read_bytes())
    path.write_text(json.dumps({**manifest, "rows": manifest["rows"] + 1}, indent=1, sort_keys=True))
    return "manifest.json was changed after its commit"


def half_written_action(home: Path) -> str:
    store = LocalStore(home)
    obj = _object_of(home, "schedule")
    for path in store.iter_action_paths():
        if obj in path.read_text():
            path.write_text(path.read_text()[:40])
            return path.name[:10]
    raise AssertionError("no action record for the schedule object")


@pytest.mark.parametrize("damage", [flip_byte, truncate_parquet, dangling_pointer, pointer_to_no_object,
                                    manifest_removed, manifest_edited, half_written_action],
                         ids=lambda f: f.__name__)
def test_damage_is_named_by_verify_and_rebuilt_by_the_next_build(tmp_path: Path, damage: Callable[[Path], str]):
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    gold_before = gold_object(home)
    hint = damage(home)

    report = run_cli(home, "verify")
    assert report.returncode == 1, report.stdout
    assert hint in report.stdout, report.stdout
    assert "PROBLEM" in report.stdout

    status = run_doit(home, "list", "--status", f"date={FIXTURE_DATE}")
    assert status.returncode == 0 and "R slate" in status.stdout

    rebuilt = run_doit(home, "slate", f"date={FIXTURE_DATE}")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "built" in rebuilt.stdout or "published" in rebuilt.stdout
    assert "Traceback" not in rebuilt.stderr
    assert gold_object(home) == gold_before  # the same bytes come back
    after = run_cli(home, "verify")
    assert after.returncode == 0, after.stdout


def test_a_dangling_gold_pointer_is_no_gold_to_status_and_diff(tmp_path: Path):
    """status showed the dangling pointer's hash as the date's gold, and diff said "object ... is not in the
    store" with the usage exit code and no fix."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    dangling_pointer(home)
    status = run_cli(home, "status", FIXTURE_DATE)
    assert status.returncode == 1 and f"{FIXTURE_DATE}  STALE       gold: no gold" in status.stdout, status.stdout
    diff = run_cli(home, "diff", FIXTURE_DATE)
    assert diff.returncode == 1 and "(a dangling pointer); `doit slate date=2019-10-30` rebuilds it" in diff.stderr


def test_a_deleted_gold_pointer_is_a_problem_to_verify(tmp_path: Path):
    """`rm gold/projections/game_date=D`: verify said "ok" (status showed no gold) though the ledger records the
    date's publish."""
    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    (home / "gold" / "projections" / f"game_date={FIXTURE_DATE}").unlink()
    found = run_cli(home, "verify")
    assert found.returncode == 1, found.stdout
    assert f"gold pointer projections {FIXTURE_DATE} is gone (the ledger records its publish)" in found.stdout
    assert f"`doit slate date={FIXTURE_DATE}` publishes it again" in found.stdout
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    assert run_cli(home, "verify").returncode == 0


def test_verify_names_an_action_record_whose_object_is_gone(tmp_path: Path):
    """An object removed by hand (not by gc, which drops its records too) left its action record naming nothing:
    verify said ok, though the record's stage has nothing to show for it."""
    store = LocalStore(tmp_path / "home")
    obj = store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"}).object
    key = "xxh3-128:" + "ab" * 16
    store.put_action({"key": key, "object": obj, "stage": "schedule", "game_date": FIXTURE_DATE})
    assert verify(store).ok
    where = store.object_dir(obj)
    os.chmod(where, 0o755)
    shutil.rmtree(where)
    report = verify(store)
    assert report.problems == [f"action record {store._action_path(key)} names missing object {short(obj)}; the "
                               "next build redoes that stage (if it still builds that key), the next "
                               "`projections gc` removes the record"], report.problems


def test_verify_names_an_action_record_whose_key_is_no_digest(tmp_path: Path):
    """A record whose `key` is not a digest (a hand edit, a botched merge) is never found by its key again (a get
    of the key it is filed under rejects it): verify passed it as a good record."""
    store = LocalStore(tmp_path / "home")
    obj = store.commit({"data.csv": b"a\n1\n"}, {"kind": "test"}).object
    key = "xxh3-128:" + "cd" * 16
    store.put_action({"key": key, "object": obj, "stage": "schedule", "game_date": FIXTURE_DATE})
    path = store._action_path(key)
    path.write_text(json.dumps({"key": "schedule 2019-10-30", "object": obj, "stage": "schedule"}))
    report = verify(store)
    assert report.actions == 1
    assert report.problems == [f"action record {path} is unreadable (no key/object digest); the next build redoes "
                               "that stage"], report.problems


def test_verify_names_a_gold_pointer_to_a_damaged_object(tmp_path: Path):
    """A published slate whose object was damaged: verify named the object but not that the date's gold is that
    object, so nothing said which slate to rebuild."""
    store = LocalStore(tmp_path / "home")
    obj, _ = damaged_object(store, {"data.csv": b"player,points\n1,20.5\n"})
    store.put_action({"key": "xxh3-128:" + "ef" * 16, "object": obj, "stage": "gold", "game_date": FIXTURE_DATE})
    store.swap_pointer("projections", FIXTURE_DATE, obj)
    report = verify(store, publishers={"projections": ["gold"]})
    assert f"gold pointer projections {FIXTURE_DATE} names damaged object {short(obj)}; rerun `doit slate " \
        f"date={FIXTURE_DATE}`" in report.problems, report.problems
    assert any(p.startswith(f"object {short(obj)}: file 'data.csv' hashes to ") for p in report.problems)
    assert len(report.problems) == 2, report.problems


def test_verify_names_an_archive_ref_to_a_damaged_object(tmp_path: Path):
    """An ingested part whose object was damaged: every build listing the table stops at it, and verify named
    only the object, not the ref (nor that the fix is to ingest the file again)."""
    home = tmp_path / "home"
    store = LocalStore(home)
    obj, _ = damaged_object(store, {"data.parquet": b"an ingested season of odds"})
    ref = home / "refs" / "archive" / "odds" / "2022-23.json"
    ref.parent.mkdir(parents=True)
    ref.write_text(json.dumps({"object": obj}))
    report = verify(store)
    assert f"archive ref {ref} names damaged object {short(obj)}; ingest the file again" in report.problems, \
        report.problems
    assert len(report.problems) == 2, report.problems  # and the object's own problem


def test_a_damaged_ingested_capture_is_refused_by_the_build_and_named_by_verify(tmp_path: Path):
    """A DraftKings file ingested for 2019-11-05, then one byte of its stored table flipped (a salary of 3100 read
    3101, no parquet error): the build refused nothing and published 18 players at a salary no DraftKings file has,
    and verify said a build would make the object again (none can: it is a source's data). Now the build refuses
    it naming the capture and the fix, gold stays as it was, verify says to ingest the file again; doing so mends."""
    from tests.conftest import SHARED

    home = tmp_path / "home"
    dk = SHARED / "salaries" / "dk" / "2019-11-05__bradical1379__DKSalaries__65c7bab3.csv"
    assert run_cli(home, "ingest", "dk-salaries", str(dk)).returncode == 0
    [line] = (home / "refs" / "snapshots" / "salaries" / "game_date=2019-11-05.jsonl").read_text().splitlines()
    obj = json.loads(line)["object"]
    data = LocalStore(home).object_dir(obj) / "data.parquet"
    os.chmod(data, 0o644)
    flipped = bytearray(data.read_bytes())
    flipped[5147] ^= 1
    data.write_bytes(bytes(flipped))
    report = verify(LocalStore(home))
    assert any(p.startswith(f"object {short(obj)}: file 'data.parquet' hashes to") and
               "a source's data (snapshot salaries 2019-11-05)" in p and "ingest the file" in p
               for p in report.problems), report.problems
    refused = run_doit(home, "slate", "date=2019-11-05")
    assert refused.returncode != 0
    assert f"snapshot salaries 2019-11-05 captured 2019-11-05T05:00:00.000Z ({short(obj)}) is damaged" \
        in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    assert not (home / "gold" / "projections" / "game_date=2019-11-05").exists()
    assert run_cli(home, "ingest", "dk-salaries", str(dk)).returncode == 0
    mended = run_doit(home, "slate", "date=2019-11-05")
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert (home / "gold" / "projections" / "game_date=2019-11-05").is_symlink()


def test_verify_names_a_snapshot_index_line_it_cannot_read_or_whose_object_is_gone(tmp_path: Path):
    """A torn line (a write cut short by hand) drops its capture out of every build with a warning only, and gc
    would then delete its object; a line naming an object not in the store likewise. verify looked at neither."""
    home = tmp_path / "home"
    index = home / "refs" / "snapshots" / "injuries" / "game_date=2020-08-06.jsonl"
    index.parent.mkdir(parents=True)
    gone = "xxh3-128:" + "ab" * 16
    index.write_text('{"object": "xxh3-128:12\n' + json.dumps({"object": gone}) + "\n")
    problems = verify(LocalStore(home)).problems
    assert any(p.startswith(f"snapshot index {index} line 1 is unreadable") for p in problems), problems
    assert f"snapshot index {index} line 2 names object {short(gone)}, which is not in the store; remove the " \
        "line, then ingest the file (or fetch the source) again" in problems, problems

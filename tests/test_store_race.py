"""Two writers committing the same object at once (DESIGN.md invariant 8): writer A stops at the `commit.staged`
failpoint (its files written and fsynced in store/tmp, not yet renamed into place) while writer B, a real
second process, commits the same bytes; then A goes on. A's rename meets B's object: A's commit answers
`created=False` with no error and removes its staging folder. A rename that fails otherwise - the object's
folder there but no object in it (a gc midway through deleting it), the staging folder gone - is raised.

A waits at the failpoint by the test's hook for `commit.staged` (the shipped actions only sleep or die there)."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from projections import failpoints
from projections.store import MANIFEST, LocalStore
from tests.conftest import REPO

FILES = {"data.parquet": b"the same bytes from both writers", "extra.csv": b"a,b\n1,2\n"}

WRITER_B = """
import json, sys
from pathlib import Path
from projections.store import LocalStore
files = {name: data.encode() for name, data in json.loads(sys.argv[2]).items()}
commit = LocalStore(Path(sys.argv[1])).commit(files, {"writer": "B"})
print(json.dumps({"object": commit.object, "created": commit.created}))
"""


def _writer_b(home: Path) -> dict:
    """Commit FILES in a separate process, as another build's writer."""
    done = subprocess.run([sys.executable, "-c", WRITER_B, str(home),
                           json.dumps({n: d.decode() for n, d in FILES.items()})],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _stop_at_staged(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> list[str]:
    """At `commit.staged` run `then` (while A waits there); the points reached, in order."""
    reached: list[str] = []
    shipped = failpoints.hit

    def hit(name: str) -> None:
        reached.append(name)
        if name == "commit.staged":
            then()
        shipped(name)

    monkeypatch.setattr(failpoints, "hit", hit)
    return reached


def _staged(store: LocalStore) -> list[Path]:
    return sorted(store.tmp.iterdir()) if store.tmp.is_dir() else []


def test_a_concurrent_writer_committing_the_same_bytes_first_is_no_error(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    store = LocalStore(home)
    seen: dict = {}

    def b_commits() -> None:
        seen["staging"] = [sorted(p.name for p in folder.iterdir()) for folder in _staged(store)]  # A's, whole
        seen["b"] = _writer_b(home)

    reached = _stop_at_staged(monkeypatch, b_commits)
    a = store.commit(FILES, {"writer": "A"})

    assert seen["staging"] == [sorted([*FILES, MANIFEST])]  # A's folder, complete, waiting to be renamed
    assert seen["b"] == {"object": a.object, "created": True}  # B got there first
    assert (a.object, a.created) == (seen["b"]["object"], False)  # A: the object is there, not made by A
    assert reached == ["commit.staged"]  # A never reached commit.renamed: B's object stands as B wrote it
    assert store.manifest(a.object)["writer"] == "B"
    assert store.verify_object(a.object) == []
    assert _staged(store) == []  # A's staging folder removed
    assert {p.name: p.read_bytes() for p in store.object_dir(a.object).iterdir() if p.name != MANIFEST} == FILES
    assert store.commit(FILES, {"writer": "C"}).created is False  # and the store goes on as usual


def test_a_folder_in_the_way_without_an_object_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The object's folder appears while A waits, holding a data file but no manifest (a gc deleting the object
    midway): the rename fails as it does when a writer won, but the object is not there - raised, not taken."""
    home = tmp_path / "home"
    store = LocalStore(home)
    obj = store.commit(FILES, {"writer": "seed"}).object  # to learn its folder
    shutil.rmtree(store.objects)
    where = store.object_dir(obj)

    def half_deleted() -> None:
        where.mkdir(parents=True)
        (where / "data.parquet").write_bytes(FILES["data.parquet"])

    _stop_at_staged(monkeypatch, half_deleted)
    with pytest.raises(OSError) as raised:
        store.commit(FILES, {"writer": "A"})
    assert raised.value.errno in (errno.ENOTEMPTY, errno.EEXIST)
    assert not store.has(obj)
    assert _staged(store) == []  # its staging folder removed all the same


def test_a_rename_failing_for_another_reason_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging folder removed under A (another process cleaning store/tmp): the rename's own error, raised."""
    home = tmp_path / "home"
    store = LocalStore(home)

    def staging_removed() -> None:
        (staging,) = _staged(store)
        shutil.rmtree(staging)

    _stop_at_staged(monkeypatch, staging_removed)
    with pytest.raises(FileNotFoundError):
        store.commit(FILES, {"writer": "A"})
    assert list(store.objects.rglob(MANIFEST)) == []

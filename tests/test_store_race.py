"""Two writers committing the same object at once (DESIGN.md invariant 8): writer A, a real process, stops at the
`commit.staged` failpoint (its files written and fsynced in store/tmp, not yet renamed into place) while writer B,
another real process, commits the same bytes; then A goes on. A's rename meets B's object: A's commit answers
`created=False` with no error and removes its staging folder. A rename that fails otherwise - the object's
folder there but no object in it (a gc midway through deleting it), the staging folder gone - is raised.

A waits at the failpoint by its `wait` action (projections.failpoints) until the test releases it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from projections.store import MANIFEST, LocalStore
from tests.conftest import REPO

FILES = {"data.parquet": b"the same bytes from both writers", "extra.csv": b"a,b\n1,2\n"}

WRITER = """
import errno, json, sys
from pathlib import Path
from projections.store import LocalStore
files = {name: data.encode() for name, data in json.loads(sys.argv[2]).items()}
try:
    commit = LocalStore(Path(sys.argv[1])).commit(files, {"writer": sys.argv[3]})
except OSError as exc:
    print(json.dumps({"raised": type(exc).__name__, "errno": errno.errorcode.get(exc.errno or 0)}))
else:
    print(json.dumps({"object": commit.object, "created": commit.created}))
"""


def _argv(home: Path, writer: str) -> list[str]:
    return [sys.executable, "-c", WRITER, str(home), json.dumps({n: d.decode() for n, d in FILES.items()}), writer]


def _writer_b(home: Path) -> dict:
    """Commit FILES in a separate process, as another build's writer."""
    done = subprocess.run(_argv(home, "B"), capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@contextmanager
def _a_held_at_staged(home: Path, tmp: Path) -> Iterator[dict]:
    """Writer A in a process of its own, held at `commit.staged` for the body of the `with`; then released, and
    what its commit answered lands in the dict yielded (`a`), with the failpoints it reached (`reached`)."""
    mark = tmp / "mark"
    env = {**os.environ, "PROJECTIONS_FAILPOINTS": "commit.staged=wait,commit.renamed=wait",
           "PROJECTIONS_FAILPOINT_MARK": str(mark)}
    a = subprocess.Popen(_argv(home, "A"), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out: dict = {}
    try:
        deadline = time.monotonic() + 60
        while not (mark.exists() and "commit.staged" in mark.read_text()):
            assert a.poll() is None and time.monotonic() < deadline, "writer A never reached commit.staged"
            time.sleep(0.02)
        yield out
    finally:
        Path(f"{mark}.release").touch()  # releases every wait: commit.renamed too, had A reached it
        stdout, stderr = a.communicate(timeout=60)
    assert a.returncode == 0, stderr
    out["a"] = json.loads(stdout)
    out["reached"] = [line.split()[0] for line in mark.read_text().splitlines()]


def _staged(store: LocalStore) -> list[Path]:
    return sorted(store.tmp.iterdir()) if store.tmp.is_dir() else []


def test_a_concurrent_writer_committing_the_same_bytes_first_is_no_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = LocalStore(home)
    with _a_held_at_staged(home, tmp_path) as held:
        staging = [sorted(p.name for p in folder.iterdir()) for folder in _staged(store)]  # A's, whole
        b = _writer_b(home)
    a = held["a"]

    assert staging == [sorted([*FILES, MANIFEST])]  # A's folder, complete, waiting to be renamed
    assert b == {"object": a["object"], "created": True}  # B got there first
    assert a == {"object": b["object"], "created": False}  # A: the object is there, not made by A
    assert held["reached"] == ["commit.staged"]  # A never reached commit.renamed: B's object stands as B wrote it
    assert store.manifest(a["object"])["writer"] == "B"
    assert store.verify_object(a["object"]) == []
    assert _staged(store) == []  # A's staging folder removed
    assert {p.name: p.read_bytes() for p in store.object_dir(a["object"]).iterdir() if p.name != MANIFEST} == FILES
    assert store.commit(FILES, {"writer": "C"}).created is False  # and the store goes on as usual


def test_a_folder_in_the_way_without_an_object_is_raised(tmp_path: Path) -> None:
    """The object's folder appears while A waits, holding a data file but no manifest (a gc deleting the object
    midway): the rename fails as it does when a writer won, but the object is not there - raised, not taken."""
    home = tmp_path / "home"
    store = LocalStore(home)
    obj = store.commit(FILES, {"writer": "seed"}).object  # to learn its folder
    shutil.rmtree(store.objects)
    where = store.object_dir(obj)

    with _a_held_at_staged(home, tmp_path) as held:
        where.mkdir(parents=True)
        (where / "data.parquet").write_bytes(FILES["data.parquet"])
    assert held["a"]["raised"] == "OSError" and held["a"]["errno"] in ("ENOTEMPTY", "EEXIST"), held
    assert not store.has(obj)
    assert _staged(store) == []  # its staging folder removed all the same


def test_a_rename_failing_for_another_reason_is_raised(tmp_path: Path) -> None:
    """The staging folder removed under A (another process cleaning store/tmp): the rename's own error, raised."""
    home = tmp_path / "home"
    store = LocalStore(home)

    with _a_held_at_staged(home, tmp_path) as held:
        (staging,) = _staged(store)
        shutil.rmtree(staging)
    assert held["a"] == {"raised": "FileNotFoundError", "errno": "ENOENT"}
    assert list(store.objects.rglob(MANIFEST)) == []

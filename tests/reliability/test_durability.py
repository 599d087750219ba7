"""What a power cut keeps is what was fsynced. The SIGKILL tests show a killed run leaves objects and pointers
whole, but a killed process loses nothing the kernel already holds: only the order of fsync and rename calls
keeps an object or a gold pointer whole across a crash of the machine. So a real process commits an object,
swaps a pointer (twice: onto a new date, then over the pointer it made) and writes a file atomically under
strace, and the calls are checked in order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import project_env

CHILD = """
import sys
from pathlib import Path
from projections.store import LocalStore, write_atomic
home = Path(sys.argv[1])
store = LocalStore(home)
made = store.commit({"a.parquet": b"x" * 100, "b.json": b"{}"}, {"stage": "durability"})
store.swap_pointer("projections", "2019-10-30", made.object)
later = store.commit({"a.parquet": b"y" * 100, "b.json": b"{}"}, {"stage": "durability"})
store.swap_pointer("projections", "2019-10-30", later.object)
write_atomic(home / "refs" / "note.json", b"{}")
print(made.object)
"""
CALL = re.compile(r"^\d+\s+(fsync|rename|renameat|renameat2|unlink|unlinkat)\((.*)\)\s+=\s+0$")


def _calls(trace: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(call, paths) per successful fsync, rename or unlink, in order: fsync's fd as strace -y names it, rename's
    two paths, unlink's one (the *at calls' directory fds are AT_FDCWD here: Python passes whole paths)."""
    out = []
    for line in trace.read_text().splitlines():
        found = CALL.match(line)
        if not found:
            continue
        name, args = found.groups()
        if name == "fsync":
            out.append(("fsync", (re.search(r"<(.*)>", args).group(1),)))  # type: ignore[union-attr]
        elif name.startswith("unlink"):
            out.append(("unlink", tuple(re.findall(r'"((?:[^"\\]|\\.)*)"', args)[:1])))
        else:
            paths = re.findall(r'"((?:[^"\\]|\\.)*)"', args)
            out.append(("rename", (paths[0], paths[1])))
    return out


@pytest.fixture
def traced(tmp_path: Path) -> tuple[Path, str, list[tuple[str, tuple[str, ...]]]]:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("needs strace (.ci/run installs it)")
    home = (tmp_path / "home").resolve()
    trace = tmp_path / "trace.txt"
    calls = "trace=fsync,rename,renameat,renameat2,unlink,unlinkat"
    result = subprocess.run([strace, "-f", "-qq", "-y", "-e", calls, "-o", str(trace), sys.executable, "-c", CHILD,
                             str(home)],
                            env=project_env(home), capture_output=True, text=True, timeout=120)
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    return home, result.stdout.strip(), _calls(trace)


def _index(calls: list[tuple[str, tuple[str, ...]]], call: str, test: object) -> int:
    found = [i for i, (name, args) in enumerate(calls) if name == call and test(args)]  # type: ignore[operator]
    assert found, f"no {call} matching {test} in {calls}"
    return found[0]


def test_an_object_is_fsynced_file_by_file_then_its_folder_before_it_is_renamed_into_place(traced):
    home, obj, calls = traced
    hexd = obj.split(":", 1)[1]
    final = str(home / "store" / "objects" / hexd[:2] / hexd[2:])
    moved = _index(calls, "rename", lambda a: a[1] == final)
    staging = calls[moved][1][0]
    assert os.path.dirname(staging) == str(home / "store" / "tmp")
    for name in ("a.parquet", "b.json", "manifest.json"):
        assert _index(calls, "fsync", lambda a, n=name: a[0] == f"{staging}/{n}") < moved, name
    assert _index(calls, "fsync", lambda a: a[0] == staging) < moved  # the folder's entries
    after = calls[moved + 1:]
    assert ("fsync", (os.path.dirname(final),)) in after  # the rename itself, in its shard


def test_a_pointer_swap_and_an_atomic_write_are_fsynced_in_their_folder_after_the_rename(traced):
    home, _, calls = traced
    gold = str(home / "gold" / "projections")
    swapped = _index(calls, "rename", lambda a: a[1] == f"{gold}/game_date=2019-10-30")
    assert ("fsync", (gold,)) in calls[swapped + 1:]
    refs = str(home / "refs")
    written = _index(calls, "rename", lambda a: a[1] == f"{refs}/note.json")
    assert _index(calls, "fsync", lambda a: a[0] == calls[written][1][0]) < written  # the new bytes first
    assert ("fsync", (refs,)) in calls[written + 1:]


def test_a_pointer_moved_again_is_replaced_by_one_rename_never_removed_first(traced):
    """Invariant 2, the design's "never unlink-then-create": between an unlink of the pointer and the rename of
    its successor a reader finds no gold at all (and a crash there leaves none). Both swaps are one rename onto
    the pointer's path, and nothing ever unlinks that path."""
    home, _, calls = traced
    pointer = str(home / "gold" / "projections" / "game_date=2019-10-30")
    assert [args[1] for name, args in calls if name == "rename" and args[1] == pointer] == [pointer, pointer]
    assert [args for name, args in calls if name == "unlink" and args[:1] == (pointer,)] == []

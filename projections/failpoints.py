"""Failpoints: named places in the commit and publish paths where a crash test can stop a real process.

`PROJECTIONS_FAILPOINTS="commit.staged=pause"` makes the process write `<name>` to the file named by
`PROJECTIONS_FAILPOINT_MARK` when it reaches that point and then sleep, so the test can SIGKILL it exactly
there. `=crash` kills the process on the spot (os._exit, no cleanup). `=wait` writes the mark and waits until a
file `<mark>.release` exists, then goes on: a test holds a real process at that point while another process acts
(at most WAIT_S, then it exits 124, so a test that never releases it cannot leave it behind). `=enospc` raises
the OSError a full disk gives (ENOSPC), at that point and every time it is reached again. Unset (the normal
case), `hit()` is a dictionary lookup. Read once, at import: tests set the variables for the child process they
start.
"""

from __future__ import annotations

import errno
import os
import time

_SPEC = os.environ.get("PROJECTIONS_FAILPOINTS", "")
_MARK = os.environ.get("PROJECTIONS_FAILPOINT_MARK", "")
ACTIVE: dict[str, str] = dict(
    item.split("=", 1) for item in _SPEC.split(",") if "=" in item
)

WAIT_S = 120.0

POINTS = (
    "commit.staged",       # object files written and fsynced in store/tmp, not yet renamed into place
    "commit.renamed",      # object renamed into place, write bits not yet dropped
    "action.written",      # action record written, gold pointer not yet moved
    "pointer.symlinked",   # new symlink made under a temp name, not yet renamed over the pointer
    "pointer.swapped",     # pointer renamed over, ledger not yet written
    "file.write",          # a store or atomically replaced file created, its bytes not yet written (=enospc)
    "ingest.part_added",   # an ingest's archive ref written, the next one (its schedule's) not yet
    "gc.records_deleted",  # gc removed an object's action records, not yet the object itself
    "gc.object_moved",     # gc moved an object into store/tmp, not yet deleted it
)


def hit(name: str) -> None:
    action = ACTIVE.get(name)
    if action is None:
        return
    if _MARK:
        with open(_MARK, "a", encoding="utf-8") as fh:
            fh.write(f"{name} {os.getpid()}\n")
    if action == "enospc":  # a full disk: the write fails as os.write does, naming no file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if action == "crash":
        os._exit(137)
    if action == "pause":
        while True:
            time.sleep(0.05)
    if action == "wait" and _MARK:
        release, deadline = f"{_MARK}.release", time.monotonic() + WAIT_S
        while not os.path.exists(release):
            if time.monotonic() > deadline:
                os._exit(124)
            time.sleep(0.02)

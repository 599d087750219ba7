"""Files written so a crash or a full disk never leaves half of one where a reader looks: a new file written and
fsynced (`write_file`), a file replaced by rename (`write_atomic`), a directory's entries made durable
(`fsync_dir`). The store (projections.store) commits its objects with them; refs, action records, notes and the
report's pages are replaced with `write_atomic`.

A write that fails names its file (os.write on a full disk names none), so the error a command shows says where.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from projections import failpoints


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) holding `data`, fsynced. An OSError names `path`; FileExistsError (a
    file, or a symbolic link even to nothing, is there already: it is left as it was) also says what to do."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask (the data-root policy's) decides
    except FileExistsError as exc:
        exc.strerror = (f"File exists: nothing was written and {path.name} was left as it was (this write makes new "
                        "files only, never over one); if it does not belong there, move it away and run again")
        raise
    try:
        failpoints.hit("file.write")
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        if exc.filename is None:  # ENOSPC, EDQUOT, EIO from a write name no file
            exc.filename = str(path)
        raise
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a reader sees the old bytes or the new ones, never a mix. On failure (a full
    disk, an interrupt) `path` is as it was and no temp file is left beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write_file(tmp, data)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename == str(tmp):
            exc.filename = str(path)  # the file it was replacing, not a temp name that is gone
        raise
    fsync_dir(path.parent)

"""Files people hand over: a FILE given to `projections ingest`, and the DraftKings inbox - a drop folder other
people write to, so nothing in it is trusted beyond being a file.

    read_file(path)       a file named on the command line (a pipe too), at most a size cap
    read_dropped(path)    an inbox entry: a regular file only (never a symbolic link, a folder, a pipe or a
                          device, which are refused unopened), at most a size cap
    check_inbox, check_processed
                          an inbox (under the data root) or processed/ folder that is a symbolic link is refused:
                          taken files would move wherever it points
    shown(name)           a name as it may be printed: control characters quoted, never raw on a terminal

A regular file larger than the cap is refused from its size, without a byte read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from projections.errors import ConfigError
from projections.sources.files import BadFile
from projections.textsafe import has_control

if TYPE_CHECKING:
    from projections.settings_tables import PermissionSettings

MAX_BYTES = 256 * 2**20  # far above a season's game logs (about 5 MiB), far below what would exhaust memory
ANY_FILE = "any file ingest reads (a season's game logs are about 5 MiB)"
LINK_SHOWN = 200  # characters of a link's target named in a refusal


def shown(name: str | os.PathLike[str]) -> str:
    """`name` as it is, or quoted as repr quotes it where it holds a control character (ESC or a newline printed
    raw moves the cursor or forges a line of output). Other characters are names' own: a browser's download
    named with a narrow no-break space (`10.15\u202fAM`) is shown, and recorded, as it is."""
    text = os.fspath(name)
    return repr(text) if has_control(text) else text


def _too_big(name: str, limit: int, what: str) -> BadFile:
    return BadFile(f"{name}: more than {limit // 2**20} MiB, more than {what}; check that this is the file meant")


def _read_fd(fd: int, name: str, limit: int, what: str) -> bytes:
    """At most `limit` bytes of an open file (closed here); a regular file larger than that is refused unread."""
    with open(fd, "rb") as fh:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise _too_big(name, limit, what)
        data = fh.read(limit + 1)  # a pipe, or a file that grew: read no more than the limit
    if len(data) > limit:
        raise _too_big(name, limit, what)
    return data


def read_file(path: Path, *, limit: int = MAX_BYTES, what: str = ANY_FILE) -> bytes:
    """The bytes of a file named on the command line, at most `limit`: a pipe (/dev/stdin, <(curl ...)) too."""
    name = shown(path)
    try:
        if path.is_dir() or path.is_char_device() or path.is_block_device():
            raise BadFile(f"{name}: a {'directory' if path.is_dir() else 'device'}, not a file; give the downloaded "
                          "file itself (or pipe it in: /dev/stdin)")
        return _read_fd(os.open(path, os.O_RDONLY | os.O_CLOEXEC), name, limit, what)
    except OSError as exc:
        raise BadFile(f"{name}: cannot read it ({exc.strerror or exc}); check the path") from None


KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
         (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def _not_a_file(path: Path, mode: int) -> BadFile:
    name = shown(path.name)
    if stat.S_ISLNK(mode):
        with contextlib.suppress(OSError):
            target = shown(os.readlink(path))
            name += f" -> {target[:LINK_SHOWN]}{'...' if len(target) > LINK_SHOWN else ''}"
        return BadFile(f"{name}: a symbolic link, not a file, so it is not read (the inbox takes only files dropped "
                       "into it, never what a link points to); put the file itself there, or remove the link")
    kind = next((k for test, k in KINDS if test(mode)), "not a regular file")
    return BadFile(f"{name}: {kind}, not a file, so it is not read (the inbox takes regular files only); move it out "
                   "of the inbox")


def read_dropped(path: Path, *, limit: int, what: str) -> bytes | None:
    """The bytes of an inbox entry, at most `limit`, when it is a regular file (a symbolic link, a folder, a pipe
    or a device is refused unopened: BadFile naming what it is); None when it is gone (another run took it)."""
    name = shown(path.name)
    try:
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            raise _not_a_file(path, mode)
        # no link followed, no pipe waited on, whatever replaced the entry since the look
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _not_a_file(path, stat.S_IFLNK) from None
        raise BadFile(f"{name}: cannot read it ({exc.strerror or exc}); make it readable, or remove it") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_a_file(path, mode)
    try:
        return _read_fd(fd, name, limit, what)
    except OSError as exc:
        raise BadFile(f"{name}: cannot read it ({exc.strerror or exc}); make it readable, or remove it") from None


def waiting(inbox: Path) -> list[Path]:
    """The *.csv entries of the inbox, oldest first (by mtime, then name): taken in that order, a later export of a
    slate replaces an earlier one, so a correction wins over the file it corrects (a browser names the second
    download `DKSalaries (1).csv`, which sorts before `DKSalaries.csv`). Entries that are no regular file are
    listed too, for `read_dropped` to refuse by name."""
    def age(path: Path) -> tuple[int, str]:
        try:
            return os.lstat(path).st_mtime_ns, path.name
        except OSError:  # taken by another run meanwhile: last, and skipped when read
            return 2**63, path.name

    found = [p for p in inbox.glob("*") if p.suffix.lower() == ".csv"] if inbox.is_dir() else []
    return sorted(found, key=age)


def check_inbox(inbox: Path, *, default: bool) -> None:
    """ConfigError for an inbox under the data root (`default`) that is a symbolic link: files would be read from,
    and moved within, wherever it points. A `live.inbox` set to a link is the operator's own choice."""
    if default and inbox.is_symlink():
        raise _linked(inbox, " (or set live.inbox to the folder it points to)")


def check_processed(inbox: Path) -> None:
    """ConfigError for a processed/ folder that is a symbolic link: whoever may drop files into the inbox could
    point it anywhere, and taken files would move there (out of the data root)."""
    if (inbox / "processed").is_symlink():
        raise _linked(inbox / "processed", "")


def _linked(folder: Path, more: str) -> ConfigError:
    target = ""
    with contextlib.suppress(OSError):
        target = f" (to {shown(os.readlink(folder))[:LINK_SHOWN]})"
    return ConfigError(f"{shown(folder)} is a symbolic link{target}, not a folder: taken files would move wherever "
                       f"it points; replace it with a directory (rm {shown(folder)}; mkdir {shown(folder)}){more}")


def processed_path(inbox: Path, slate_id: str, name: str) -> Path:
    """Where a taken file goes: processed/<slate id>__<its name> (DraftKings names every export DKSalaries.csv,
    so the name alone would have each day's file overwrite the last)."""
    return inbox / "processed" / f"{slate_id}__{Path(name).name}"


def move_taken(path: Path, done: Path, policy: PermissionSettings) -> None:
    """Move a taken file to `done` (in processed/, made when missing); the processed/ folder is opened as a
    folder, never through a link, so a link planted there since the check cannot carry the file away. OSError or
    ConfigError where it cannot be made or written."""
    from projections.ops import permissions

    check_processed(done.parent.parent)
    permissions.ensure_dir(done.parent, policy)  # the group's, like the layout
    folder = os.open(done.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        with contextlib.suppress(FileNotFoundError):  # another run took it at the same moment
            os.replace(path, done.name, dst_dir_fd=folder)
    finally:
        os.close(folder)

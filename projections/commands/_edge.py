"""What the commands share at the edge: argparse types for numeric options, and the errors for paths a
command cannot write (a data root of another user, a read-only file system, an `--out` that is a file).

Not a command (the leading underscore keeps `projections.cli` from registering it). Only the standard
library and projections.ops.permissions (which says whose a path is and how to fix it; standard library
only too) are imported here, so `projections --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from projections.errors import ConfigError
from projections.ops.unwritable import REFUSED, existing_ancestor, file_in_the_way, refused_message

# ---- numeric options -----------------------------------------------------------------------------------


def at_least(minimum: int, hint: str = "") -> Callable[[str], int]:
    """An argparse `type=` for a whole number >= `minimum` (argparse then refuses anything else, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small: {hint or f'use {minimum} or more'}")
        return value

    parse.__name__ = "int"
    return parse


def seconds(hint: str = "") -> Callable[[str], float]:
    """An argparse `type=` for a finite number of seconds, 0 or more (`nan`, `inf` and negatives refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"{text} is not a number of seconds, 0 or more{hint and '; ' + hint}")
        return value

    parse.__name__ = "float"
    return parse


def port(text: str) -> int:
    """An argparse `type=` for a TCP port, 1-65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"invalid port {value}: use 1-65535")
    return value


# ---- paths a command writes ------------------------------------------------------------------------------


FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # the disk (or this user's quota) is full


@contextlib.contextmanager
def writes(home: Path, doing: str) -> Iterator[None]:
    """Turn an OSError that means "not allowed to write here" or "no room to write here" (a full disk or quota)
    into a ConfigError (exit 2, one line) naming the path and the fix; any other error passes through unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL:
            raise ConfigError(full_message(exc, home=home, doing=doing)) from None
        if exc.errno not in REFUSED:
            raise
        raise ConfigError(refused_message(exc, home=home, doing=doing)) from None


def full_message(exc: OSError, *, home: Path, doing: str) -> str:
    """One line for a write that found no room: which file, and the fix (free space, then the same command)."""
    path = Path(exc.filename) if exc.filename else home
    where = existing_ancestor(path)
    why = "this user's disk quota is used up" if exc.errno == errno.EDQUOT else "the disk is full"
    gc = "; `projections gc` deletes the objects nothing needs" if where.is_relative_to(home) else ""
    return (f"{doing}: cannot write {path}: {exc.strerror or os.strerror(errno.ENOSPC)} ({why}); free disk space "
            f"on the file system holding {where} (`df -h {where}` shows it{gc}), then run the same command again")


def output_dir(path: Path, *, home: Path, doing: str) -> Path:
    """`path` (absolute) as a directory this process can write into, created when missing; otherwise a
    ConfigError naming the directory and why it cannot be used (a file in the way, a place where nothing can be
    created, no permission to write)."""
    path = path.expanduser().absolute()
    where = file_in_the_way(path)
    if where:
        raise ConfigError(f"{doing}: cannot use {path} as a directory: {where}; name a directory (it is created "
                          "when missing)")
    probe = existing_ancestor(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in REFUSED:
            raise ConfigError(refused_message(exc, home=home, doing=doing)) from None
        if exc.errno in FULL:
            raise ConfigError(full_message(exc, home=home, doing=doing)) from None
        raise ConfigError(f"{doing}: cannot create the directory {path} in {probe} ({exc.strerror}); name a "
                          "directory on a file system where you can write") from None
    if not os.access(path, os.W_OK | os.X_OK):
        denied = OSError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        raise ConfigError(refused_message(denied, home=home, doing=doing))
    return path


def no_root(home: Path) -> str | None:
    """The note for a data root where nothing was ever built (no store/): most likely PROJECTIONS_HOME is unset
    or mistyped in this shell, so what a look finds there (never ran, nothing in the ledger) is not the real
    root's; None for a root with a store."""
    if (home / "store").is_dir():
        return None
    return (f"no data root at {home} (it has no store/): nothing was ever built there; check PROJECTIONS_HOME "
            "(or `home` in projections.toml)")


# ---- errors ------------------------------------------------------------------------------------------------


def failed(args: argparse.Namespace | None, message: str, code: int) -> int:
    """Report an error and return its exit code: `error: MESSAGE` on standard error, and with `--json` also one
    JSON object on standard output ({"ok": false, "error": ..., "exit_code": ...}), so a script reading the
    JSON gets JSON whichever way the command ended."""
    import json
    import sys

    print(f"error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": message, "exit_code": code}))
    return code

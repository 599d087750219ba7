"""Before a build: can the data root take it? Checked changing nothing, so a root that cannot is one clear
error before any stage runs, not a failure at every stage of every date.

- every directory of the layout that exists is writable, and the nearest existing ancestor of those that do not
  (the root itself may not exist yet);
- the permission policy (projections.ops.permissions.preflight: modes, owner, group, the ledger file);
- every lock the build of `dates` takes is, or can become, a lock file (not a directory or a symlink made there).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from projections import locks
from projections.dates import season_of
from projections.errors import ConfigError
from projections.gc import gate_path, store_lock_path
from projections.ops.permissions import not_writable_message

if TYPE_CHECKING:
    from projections.settings_tables import PermissionSettings

LAYOUT = ("", "store", "store/objects", "store/tmp", "store/actions", "store/unshared", "gold", "ledger", "locks",
          "cache")


def check(home: Path, policy: PermissionSettings, dates: Iterable[dt.date] = (), *, seasonal: bool = True) -> None:
    """ConfigError naming the first thing that stops a build of `dates` under `home` (`seasonal`: the pipeline
    has a season-scope stage, whose season locks are checked too)."""
    probe = home
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"data root {home}: {probe} is not a directory; set PROJECTIONS_HOME to a directory")
    for path in [home / part if part else home for part in LAYOUT]:
        if path.exists():
            if not os.access(path, os.W_OK | os.X_OK):
                raise ConfigError(not_writable_message(path))
            continue
        if not os.access(probe, os.W_OK | os.X_OK):
            raise ConfigError(not_writable_message(probe))
        break
    from projections.ops import permissions

    permissions.preflight(home, policy)
    _lock_files(home, dates, seasonal=seasonal)


def _lock_files(home: Path, dates: Iterable[dt.date], *, seasonal: bool) -> None:
    """A lock a build of `dates` takes that cannot be a lock file (a directory, a symlink made there): one
    ConfigError naming each, before anything runs, instead of a failure at every stage."""
    wanted = {gate_path(home): "the gc gate", store_lock_path(home): "the store"}
    for day in dates:
        wanted[home / "locks" / f"date={day.isoformat()}.lock"] = f"slate date {day}"
        if seasonal:
            wanted[home / "locks" / f"season={season_of(day)}.lock"] = f"season {season_of(day)}"
    found = [why for path, what in wanted.items() if (why := locks.unusable(path, what=what))]
    if found:
        raise ConfigError(" | ".join(found))
    for path in wanted:  # a lock file of another user's that this one may not open for writing
        if path.is_file() and not path.is_symlink() and not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(not_writable_message(path).replace("data root ", "lock file ", 1))

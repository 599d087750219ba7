"""The data root's permission policy: directory and file modes, a shared group, an expected owner.

Two schedulers (or a person and a timer) running as different users must both be able to write the data
root. The policy makes that a property of the tree instead of luck:

- `ensure_dir` / `ensure_tree` create directories with `dir_mode` (setgid by default, so everything below
  inherits the group) and `group`; `apply_umask` makes the process create group-writable files and dirs.
  Code that creates below the data root without the settings at hand (snapshot indexes, quarantined objects)
  takes the policy its layout carries: `policy_of`.
- `check_tree` lists every mutable directory and appended-to file (ledger, locks, snapshot indexes) whose
  owner, group or mode breaks the policy; `preflight` does the same for the fixed top-level layout and raises
  ConfigError before a run.
- `repair_tree` applies the policy to what this process may change.

Why a write was refused, or a data root can never be one, is projections.ops.unwritable.

Immutable store objects (`store/objects/<shard>/<hash>/`, read-only by design) are never checked or changed.

Raises:
    ConfigError: a policy naming a user or group that does not exist, a directory this process cannot
        create or fix, or (from `preflight`) a data root that breaks the policy.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from projections.errors import ConfigError
from projections.ops.unwritable import outside_group, owner_detail, read_only

if TYPE_CHECKING:
    from projections.settings_tables import PermissionSettings

# The fixed top-level layout a run writes into (DESIGN.md "Data root").
LAYOUT: tuple[str, ...] = (
    "", "store", "store/objects", "store/tmp", "store/actions", "store/unshared", "refs", "gold", "ledger", "locks",
    "cache",
)  # fmt: skip
DROP = ("inbox", "inbox/processed")  # created with the layout; not preflighted: a run needs it only to take files
# Files appended to or rewritten in place by more than one run: these need the file mode, not just the dir.
# (cache/ is left out: the stat cache creates its database under the policy's umask, and one this user may not
# write it leaves alone and hashes without, so a foreign cache file costs speed, never a run.)
_SHARED_FILE_DIRS = ("ledger", "locks")
# ... and the snapshot indexes, refs/snapshots/<table>/game_date=D.jsonl, appended to by every fetch and ingest
_SHARED_INDEXES = ("refs", "snapshots")


@dataclass(frozen=True)
class Problem:
    """One path that breaks the policy: what it is, what the policy wants, the command that fixes it."""

    path: Path
    owner: str
    group: str
    mode: int
    message: str
    fix: str


@dataclass(frozen=True)
class _Expect:
    uid: int
    gid: int | None
    dir_mode: int
    file_mode: int


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _gid(policy: PermissionSettings) -> int | None:
    if policy.group is None:
        return None
    try:
        return grp.getgrnam(policy.group).gr_gid
    except KeyError:
        raise ConfigError(
            f"permissions.group={policy.group!r} is not a group on this machine; create it "
            f"(`sudo groupadd {policy.group}` and add the users that run the pipeline) or unset "
            "PROJECTIONS_PERMISSIONS__GROUP"
        ) from None


def _expect(home: Path, policy: PermissionSettings) -> _Expect:
    if policy.owner is not None:
        try:
            uid = pwd.getpwnam(policy.owner).pw_uid
        except KeyError:
            raise ConfigError(
                f"permissions.owner={policy.owner!r} is not a user on this machine; fix "
                "PROJECTIONS_PERMISSIONS__OWNER or unset it (the data root's own owner is then expected)"
            ) from None
    else:
        uid = home.stat().st_uid if home.exists() else os.geteuid()
    return _Expect(uid, _gid(policy), policy.dir_mode & 0o7777, policy.file_mode & 0o7777)


def umask_for(policy: PermissionSettings) -> int:
    """The umask that lets plain mkdir/open produce the policy's permission bits (0o002 for 2775/664)."""
    return 0o777 & ~((policy.dir_mode | policy.file_mode) & 0o777)


def apply_umask(policy: PermissionSettings) -> int:
    """Set this process's umask from the policy; returns the previous one. Call once, at the edge."""
    return os.umask(umask_for(policy))


def policy_of(directory: Path) -> PermissionSettings:
    """The policy a directory of the data root carries, for code that creates below it without the settings at
    hand: its mode for directories, that mode's read/write bits for files (2775 -> 664). Its group needs no
    naming: what is created in a setgid directory takes the group by itself. The default policy when
    `directory` is missing or unreadable."""
    from projections.settings_tables import PermissionSettings

    try:
        mode = stat.S_IMODE(directory.stat().st_mode) | 0o700
    except OSError:
        return PermissionSettings()
    return PermissionSettings(dir_mode=mode, file_mode=(mode & 0o666) | 0o600)


def _apply(path: Path, mode: int, gid: int | None) -> None:
    try:
        if gid is not None and path.stat().st_gid != gid:
            os.chown(path, -1, gid)
        os.chmod(path, mode)  # after chown: chown may clear the setgid bit
    except OSError as exc:
        how = ("its file system is mounted read-only: remount it read-write" if exc.errno == errno.EROFS
               else f"run as its owner or root, or fix it by hand: {_fix(path, None, gid, mode)}")
        raise ConfigError(f"cannot apply the data-root policy to {path} ({_describe(path)}): {exc.strerror}; {how}") \
            from exc


def ensure_dir(path: Path, policy: PermissionSettings) -> list[Path]:
    """Create `path` and any missing parents with the policy's mode and group; return what was created.

    An existing directory is left as it is (the preflight reports it if it is wrong).
    """
    gid = _gid(policy)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{probe} is not a directory, so {path} cannot be created; move it away or fix the path")
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            continue  # another run created it at the same moment: fine, it applies the same policy
        except OSError as exc:
            raise ConfigError(_cannot_create(directory, exc)) from exc
        _apply(directory, policy.dir_mode & 0o7777, gid)
    return list(reversed(missing))


def _cannot_create(directory: Path, exc: OSError) -> str:
    parent = directory.parent
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"cannot create {directory}: {parent} is {_describe(parent)} and not writable by "
                f"{user_name(os.geteuid())}; fix its owner or mode, or set PROJECTIONS_HOME elsewhere")
    if exc.errno == errno.EROFS:
        return (f"cannot create {directory}: {parent} is on a read-only file system; remount it read-write, or set "
                "PROJECTIONS_HOME to a directory on a writable file system")
    return (f"cannot create {directory} in {parent}: {exc.strerror}; set PROJECTIONS_HOME to a directory on a "
            "file system where you can write")



def ensure_file(path: Path, policy: PermissionSettings) -> None:
    """Give a file this process just created the policy's file mode and group."""
    _apply(path, policy.file_mode & 0o7777, _gid(policy))


def ensure_tree(home: Path, policy: PermissionSettings) -> list[Path]:
    """Create the data root's fixed layout under the policy, the DraftKings drop folder with it (people of the
    group drop files there by hand: one made by hand takes its maker's umask); return the directories created."""
    created: list[Path] = []
    for rel in (*LAYOUT, *DROP):
        created.extend(ensure_dir(home / rel if rel else home, policy))
    return created


def _describe(path: Path) -> str:
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    return f"owner {user_name(st.st_uid)}:{group_name(st.st_gid)}, mode {stat.S_IMODE(st.st_mode):04o}"


def _fix(path: Path, uid: int | None, gid: int | None, mode: int) -> str:
    steps = []
    if uid is not None or gid is not None:
        who = (user_name(uid) if uid is not None else "") + (f":{group_name(gid)}" if gid is not None else "")
        steps.append(f"sudo chown {who} {path}")
    steps.append(f"sudo chmod {mode:04o} {path}")
    return " && ".join(steps)


def _check(path: Path, st: os.stat_result, want: _Expect, *, is_dir: bool) -> Problem | None:
    mode = stat.S_IMODE(st.st_mode)
    required = want.dir_mode if is_dir else want.file_mode
    wrong: list[str] = []
    if mode & required != required:
        wrong.append(f"mode {mode:04o} lacks {required & ~mode:04o} of the policy's {required:04o}")
    if want.gid is not None and st.st_gid != want.gid:
        wrong.append(f"group {group_name(st.st_gid)}, policy group {group_name(want.gid)}")
    shared = want.gid is not None and st.st_gid == want.gid and mode & stat.S_IWGRP
    if st.st_uid != want.uid and not shared:
        wrong.append(f"owned by {user_name(st.st_uid)}, expected {user_name(want.uid)}")
    if not wrong:
        return None
    kind = "directory" if is_dir else "file"
    uid = want.uid if st.st_uid != want.uid and not shared else None
    gid = want.gid if want.gid is not None and st.st_gid != want.gid else None
    return Problem(
        path=path,
        owner=user_name(st.st_uid),
        group=group_name(st.st_gid),
        mode=mode,
        message=(f"{kind} {path} (owner {user_name(st.st_uid)}:{group_name(st.st_gid)}, mode {mode:04o}): "
                 + "; ".join(wrong) + " - another user or scheduler cannot write here"),
        fix=_fix(path, uid, gid, mode | required),
    )


def _is_object(rel: tuple[str, ...]) -> bool:
    # store/objects/<shard>/<hash>/... is immutable and read-only on purpose
    return len(rel) >= 4 and rel[0] == "store" and rel[1] == "objects"


def _walk(home: Path) -> Iterator[tuple[Path, os.stat_result, bool]]:
    """Every mutable directory under `home` (home included) and every shared file, without following links."""
    stack = [home]
    while stack:
        directory = stack.pop()
        try:
            st = directory.lstat()
        except OSError:
            continue
        yield directory, st, True
        rel = directory.relative_to(home).parts
        if rel[:2] == ("store", "tmp"):
            continue  # staging areas belong to the run that made them
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            child = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if not _is_object((*rel, entry.name)):
                    stack.append(child)
            elif entry.is_file(follow_symlinks=False) and _shared_file(rel, entry.name):
                yield child, entry.stat(follow_symlinks=False), False


def _shared_file(rel: tuple[str, ...], name: str) -> bool:
    """A file several runs (and users) append to, in the directory `rel` below the data root."""
    if rel[:1] and rel[0] in _SHARED_FILE_DIRS:
        return True
    return rel[:2] == _SHARED_INDEXES and name.endswith(".jsonl")


def check_tree(home: Path, policy: PermissionSettings) -> list[Problem]:
    """Every mutable directory (and ledger, lock and snapshot-index file) under `home` that breaks the policy."""
    if not home.is_dir():
        return []
    want = _expect(home, policy)
    problems = [_check(path, st, want, is_dir=is_dir) for path, st, is_dir in _walk(home)]
    return [p for p in problems if p is not None]


def preflight(home: Path, policy: PermissionSettings) -> None:
    """Fail before a run, changing nothing, when the top-level layout is not writable, belongs to another
    user, or - when the policy names a shared group (several users run the pipeline) - breaks the policy.

    A directory of this user whose mode merely differs from the policy (e.g. an `outputs/` checked out 0755)
    is only a doctor warning: its owner can run with it. Raises ConfigError naming every offending path with its owner,
    mode and the command that fixes it.
    """
    want = _expect(home, policy)
    found: list[str] = []
    me = user_name(os.geteuid())
    for rel in LAYOUT:
        path = home / rel if rel else home
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            found.append(f"{path} is not a directory; move it away")
            continue
        problem = _check(path, st, want, is_dir=True)
        if not os.access(path, os.W_OK | os.X_OK) and read_only(path):
            found.append(f"{path} is on a read-only file system; fix: remount it read-write")
        elif not os.access(path, os.W_OK | os.X_OK):
            found.append(f"{path} ({_describe(path)}) is not writable by {me}; fix: "
                         + (problem.fix if problem else f"sudo chown {me} {path}"))
        elif problem is not None and (policy.group or st.st_uid != os.geteuid()):
            # another user's directory (the incident: one scheduler's dirs, another's run) or a shared setup
            found.append(f"{problem.message}; fix: {problem.fix}")
    found.extend(_ledger_unwritable(home, want, me))
    if found:
        raise ConfigError(
            f"data root {home} breaks the permission policy (dir mode {want.dir_mode:04o}"
            + (f", group {policy.group}" if policy.group else "") + "): " + " | ".join(found)
            + "; set PROJECTIONS_HOME to a writable directory, or run `projections doctor` for the whole tree"
        )


def _ledger_unwritable(home: Path, want: _Expect, me: str) -> list[str]:
    """The ledger file a run will append to (this month's), when it exists and this user may not read and write
    it: a run would build, then fail at its last ledger line (its record lost)."""
    from projections.ledger import Ledger

    path = Ledger(home).current()
    try:
        st = path.lstat()
    except OSError:
        return []  # missing: the run creates it, in a directory checked above
    if stat.S_ISREG(st.st_mode) and os.access(path, os.R_OK | os.W_OK):
        return []
    what = "is not a regular file" if not stat.S_ISREG(st.st_mode) else f"is not readable and writable by {me}"
    problem = _check(path, st, want, is_dir=False) if stat.S_ISREG(st.st_mode) else None
    fix = problem.fix if problem else f"sudo chown {me} {path} && sudo chmod {want.file_mode:04o} {path}"
    if not stat.S_ISREG(st.st_mode):
        fix = "move it away (the run creates the file)"
    return [f"the ledger {path} ({_describe(path)}) {what}, and every run appends to it; fix: "
            f"`projections doctor --fix-permissions` (as its owner or root), or {fix}"]


def repair_tree(home: Path, policy: PermissionSettings) -> tuple[list[Path], list[Problem]]:
    """Apply the policy to every offending path this process may change; return (fixed, still broken)."""
    want = _expect(home, policy)
    fixed: list[Path] = []
    left: list[Problem] = []
    for problem in check_tree(home, policy):
        is_dir = problem.path.is_dir()
        try:
            if problem.owner != user_name(want.uid) and os.geteuid() == 0:
                os.chown(problem.path, want.uid, -1)
            _apply(problem.path, problem.mode | (want.dir_mode if is_dir else want.file_mode), want.gid)
        except (ConfigError, OSError):
            left.append(problem)
            continue
        if _check(problem.path, problem.path.stat(), want, is_dir=is_dir) is None:
            fixed.append(problem.path)
        else:
            left.append(problem)
    return fixed, left


def not_writable_message(path: os.PathLike[str]) -> str:
    """The error for a data root this user cannot write: path, owner, mode and the fix."""
    import getpass

    owner, detail = owner_detail(Path(path))
    if read_only(Path(path)):
        return (f"data root {path} is on a read-only file system ({detail}); remount it read-write or set "
                "PROJECTIONS_HOME to a directory on a writable file system")
    me = getpass.getuser()
    group = outside_group(Path(path))
    if owner != me and group is not None:
        # the root already lets its group write: this user is not in that group (or joined it after logging in)
        return (f"data root {path} is not writable by {me} ({detail}): {me} is not in its group {group}; add it "
                f"(`sudo usermod -aG {group} {me}`, then log in again), or run this as {owner or 'its owner'}")
    fix = (f"`chmod u+rwx {path}`" if owner == me else  # another user's root: u+rwx would change the owner's bits
           f"`projections doctor --fix-permissions` run by {owner or 'its owner'}"
           f"{'' if owner == 'root' else ' or root'} (the permission policy: "
           f"a group {me} is in may write), or run this as {owner or 'its owner'}")
    return f"data root {path} is not writable by {me} ({detail}); fix it with {fix}, or set PROJECTIONS_HOME to " \
           "a writable directory"

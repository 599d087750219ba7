"""Why this process cannot write where it must, said with the path, its owner and mode, and the fix: a write the OS
refused (`REFUSED`, `refused_message`), a data root that can never be one (`unusable_root`), a file where a
directory must go (`file_in_the_way`), what a file is when it is no regular one (`kind_of`). The policy itself
(modes, group, owner) is projections.ops.permissions.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import re
import stat
from pathlib import Path

from projections.textsafe import has_control

# the errors that mean "this process may not write here", not "the disk broke"
REFUSED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def kind_of(mode: int) -> str | None:
    """What a file of this mode is ("a directory", "a symbolic link", ...), None for a regular file."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((name for test, name in kinds if test(mode)), None)


def read_only(path: Path) -> bool:
    """True when `path` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def owner_detail(path: Path) -> tuple[str, str]:
    """(`user`, `owner user:group, mode 0755`) of `path`, as far as stat tells."""
    try:
        st = path.stat()
    except OSError as exc:
        return "", f"unreadable: {exc.strerror}"
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return user, f"owner {user}:{group}, mode {stat.S_IMODE(st.st_mode):04o}"


def _me() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def existing_ancestor(path: Path) -> Path:
    """`path` itself, or its nearest ancestor that exists (what decides whether it can be created)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def file_in_the_way(path: Path) -> str | None:
    """Why `path` can never be a directory ("it is a file", "<ancestor>, where it would go, is a file"), or None."""
    probe = existing_ancestor(path)
    if probe.is_dir():
        return None
    return "it is a file" if probe == path else f"{probe}, where it would go, is a file"


# File systems of the kernel's own entries: nothing can be created in them (mkdir in /proc is ENOENT)
_KERNEL_FS = frozenset({"proc", "sysfs", "cgroup", "cgroup2", "devpts", "debugfs", "tracefs", "securityfs", "pstore",
                        "bpf", "efivarfs", "binfmt_misc"})


def _file_system(path: Path) -> str | None:
    """The type of the file system `path` is on (from /proc/self/mountinfo); None when unknown."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        mount, _, fs = line.partition(" - ")
        fields = mount.split()
        if len(fields) < 5 or not fs:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])  # \040 is a space
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fs.split()[0]
    return kind


# the system's own top-level directories (not /mnt, /media, /srv or /opt: a disk of its own is mounted there)
SYSTEM_DIRS = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/proc", "/root",
                         "/run", "/sbin", "/sys", "/tmp", "/usr", "/var"})


def unusable_root(home: Path) -> str | None:
    """Why `home` can never be this user's data root, or None: it (or the part of it that exists) is a file, or
    it is missing and cannot be created - a read-only or kernel file system (/proc), a directory this user may not
    write; a control character in it (a newline would split a systemd unit's line); `/` or a top-level system
    directory (the layout would spread store/, gold/, ledger/ ... among the system's). Each reason names the path
    and the fix."""
    if has_control(str(home)):
        return f"the data root {str(home)!r} holds a control character (a newline?); give a plain path"
    if os.path.realpath(home) in SYSTEM_DIRS:  # also through a link to one, or spelled `//`
        return (f"the data root {home} is a system directory: the layout (store/, gold/, ledger/, ...) would go "
                f"among the system's own; give a directory of its own, e.g. {home / 'projections'}")
    try:
        link = next((p for p in (home, *home.parents) if p.is_symlink() and not p.exists()), None)
        if link is not None:
            return (f"the data root {home} cannot be used: {link} is a symbolic link to {os.readlink(link)}, which "
                    "does not exist; create that directory (or mount the disk it is on), or give another directory")
        probe = existing_ancestor(home)
        if not probe.is_dir():
            where = "is a file" if probe == home else f"cannot be created: {probe} is a file"
            return f"the data root {home} {where}, not a directory; give a directory (created when missing)"
        if probe == home:
            return None  # a directory: whatever is wrong inside it, the commands that write say
        missing = f"the data root {home} does not exist and cannot be created"
        if read_only(probe):
            return (f"{missing}: {probe} is on a read-only file system; remount it read-write, or give a directory "
                    "on a writable file system")
        kind = _file_system(probe)
        if kind in _KERNEL_FS:
            return f"{missing}: {probe} is on the kernel's {kind} file system; give a directory on a disk"
        if not os.access(probe, os.W_OK | os.X_OK):
            me = _me()
            return (f"{missing} by {me}: {probe} ({owner_detail(probe)[1]}) is not writable by {me}; create it as "
                    f"the owner of {probe} (e.g. `sudo mkdir -p {home} && sudo chown {me} {home}`), or give "
                    "another directory")
    except OSError:
        return None  # cannot look (a directory we may not search): the command that uses it says why
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.absolute().relative_to(root.absolute())
    except ValueError:
        return False
    return True


def outside_group(path: Path) -> str | None:
    """The group of `path` when the group may write it and this user is not in that group (the policy holds; the
    user lacks the membership), else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_mode & 0o020 and st.st_gid not in {os.getegid(), *os.getgroups()}:
        from projections.ops.permissions import group_name

        return group_name(st.st_gid)
    return None


def refused_message(exc: OSError, *, home: Path, doing: str) -> str:
    """One line for an OSError saying this process may not write a path: which path, why, and the fix."""
    path = Path(exc.filename) if exc.filename else home
    probe = existing_ancestor(path)
    _, detail = owner_detail(probe)
    unreadable = probe == path and exc.errno != errno.EROFS and os.access(path, os.W_OK) \
        and not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0))
    if unreadable:  # the read was refused, not a write
        head = f"cannot read {path} ({detail}): {exc.strerror}"
    elif probe == path:
        head = f"cannot write {path} ({detail}): {exc.strerror}"
    else:
        head = f"cannot create {path}: {exc.strerror} in {probe} ({detail})"
    if _inside(path, home / "locks"):
        head += f" - a lock file: {doing} must create or open it for writing to take its lock"
    if exc.errno == errno.EROFS:
        fix = (f"the file system of {probe} is mounted read-only; remount it read-write or set PROJECTIONS_HOME to "
               "a writable directory")
    elif _inside(path, home):
        owner = owner_detail(probe)[0]  # of the path refused (another user may have made it), not of the root
        group = outside_group(probe)
        by = f"{owner or 'its owner'}{'' if owner == 'root' else ' or root'}"
        fix = (f"{_me()} is not in its group {group}; add it (`sudo usermod -aG {group} {_me()}`, then log in "
               f"again), or run this command as {owner or 'its owner'}" if group is not None and owner != _me() else
               f"repair the data root with `projections doctor --fix-permissions` (run by {by}), or run this "
               f"command as {owner or 'its owner'}" if owner != _me() else
               f"make {probe} writable (`projections doctor --fix-permissions`)")
    elif unreadable:
        fix = f"make {probe} readable by {_me()}, or choose another directory"
    else:
        fix = f"make {probe} writable by {_me()}, or choose another directory"
    return f"{doing} (as {_me()}): {head}; {fix}"

"""Read crontab lines, for `doctor`: system files (/etc/crontab, /etc/cron.d/*: a user field after the
schedule) and per-user crontabs (spool files, `crontab -l`: no user field).

Environment lines (`NAME=value`) apply to the lines after them, and leading `NAME=value` words of a command
are part of that line's environment, so two cron lines - or a cron line and a unit - can be compared.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@dataclass(frozen=True)
class CronLine:
    source: str  # file path, or "crontab -l"
    line: int
    schedule: str
    user: str | None
    command: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def inline_env(command: str) -> dict[str, str]:
    """`NAME=value` words that set the environment of a command (at its start or after `env`, `&&`, `;`)."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    env: dict[str, str] = {}
    leading = True
    for word in words:
        match = _ASSIGN.match(word)
        if match and leading:
            env[match[1]] = match[2]
        elif word in ("env", "&&", ";", "||") or word.endswith(";"):
            leading = True
        else:
            leading = False
    return env


def parse(text: str, *, source: str, system: bool, owner: str | None = None) -> list[CronLine]:
    """The job lines of one crontab. `system`: lines carry a user field (/etc/crontab, /etc/cron.d)."""
    out: list[CronLine] = []
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match and not line[0].isdigit():
            env[match[1]] = _unquote(match[2])
            continue
        words = line.split(None, 6 if system else 5)
        if line.startswith("@"):
            words = line.split(None, 2 if system else 1)
            schedule, rest = words[0], words[1:]
        else:
            schedule, rest = " ".join(words[:5]), words[5:]
        user: str | None = owner
        if system:
            if len(rest) < 2:
                continue
            user, command = rest[0], rest[1]
        else:
            if not rest:
                continue
            command = rest[0]
        out.append(CronLine(source, number, schedule, user, command, {**env, **inline_env(command)}))
    return out


def _is_system(path: Path) -> bool:
    return path.name == "crontab" or path.parent.name == "cron.d"


def read_file(path: Path) -> list[CronLine]:
    """One crontab file; its format (with or without a user field) follows from where it lives."""
    system = _is_system(path)
    text = path.read_text(errors="replace")
    return parse(text, source=str(path), system=system, owner=None if system else path.name)


def collect(files: Sequence[Path], command: Sequence[str], *, timeout_s: float = 10.0
            ) -> tuple[list[CronLine], list[str]]:
    """Every line of the given files (directories: every file in them) and of `command`'s output.

    Returns (lines, notes); a note says what could not be read. A missing file or a user without a crontab
    is not a note: there is simply nothing scheduled there.
    """
    lines: list[CronLine] = []
    notes: list[str] = []
    paths: list[Path] = []
    for item in files:
        item = item.expanduser()
        if item.is_dir():
            try:
                paths.extend(p for p in sorted(item.iterdir()) if p.is_file() and not p.name.startswith("."))
            except OSError as exc:
                notes.append(f"cannot list {item}: {exc.strerror}")
        elif item.is_file():
            paths.append(item)
    for path in paths:
        try:
            lines.extend(read_file(path))
        except OSError as exc:
            notes.append(f"cannot read {path}: {exc.strerror} (run doctor as root to see every crontab)")
    if command:
        try:
            done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout_s, check=False)
        except FileNotFoundError:
            pass  # no crontab program: cron is not installed, so nothing is scheduled by it
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes.append(f"cannot run {' '.join(command)}: {exc}")
        else:
            if done.returncode == 0:
                lines.extend(parse(done.stdout, source=" ".join(command), system=False))
            elif "no crontab" not in done.stderr.lower():
                notes.append(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[:200]}")
    return lines, notes

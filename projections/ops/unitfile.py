"""Read systemd unit files the way systemd does, for `doctor`.

- Directories are given in priority order (e.g. /etc/systemd/system before /lib/systemd/system): the first
  fragment of a name wins, and a fragment that is a link to /dev/null (or empty) masks the unit.
- Drop-ins `<name>.d/*.conf` (and `<template>@.<type>.d/` for instances) from every directory are applied
  after the fragment in file-name order; a same-named drop-in in an earlier directory hides a later one.
- An empty assignment (`Environment=`, `ExecStart=`) resets that setting's list, as in systemd.
- A unit is enabled when a link of its name sits in some `*.wants/`, `*.requires/` or `*.upholds/` directory.

Nothing here asks the running systemd: doctor must work on a fake tree in tests and on a machine whose
manager is not running. Type-wide drop-ins (`service.d/`) and `-` prefix drop-ins are not read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Scope = Literal["system", "user"]
UNIT_SUFFIXES = (".service", ".timer", ".socket", ".target", ".path", ".mount")
_ENABLE_DIRS = (".wants", ".requires", ".upholds")
_PORT_ARG = re.compile(
    r"(?:--[\w.\-]*port[= ]|(?:^|\s)-p\s+|--bind[= ](?:[\w.\-\[\]:]*:)?|(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]):)"
    r"(\d{2,5})\b"
)
_EXEC_PREFIX = "-@:+!"


@dataclass(frozen=True)
class Directive:
    section: str
    key: str
    value: str
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Layer:
    """One file of a unit: the fragment or one drop-in."""

    path: Path
    directives: tuple[Directive, ...]


def parse(text: str, path: Path) -> tuple[Directive, ...]:
    """Every `Key=Value` of a unit file with its section and line (continuation lines joined)."""
    out: list[Directive] = []
    section = ""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if pending and line[:1] in ("#", ";"):
            continue  # comment lines inside a continuation are skipped, as systemd does
        if line.endswith("\\"):
            pending += line[:-1] + " "
            start = start or number
            continue
        line, first = pending + line, start or number
        pending, start = "", 0
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep:
            out.append(Directive(section, key.strip(), value.strip(), path, first))
    return tuple(out)


def split_assignments(value: str) -> dict[str, str]:
    """`A=1 "B=two words"` -> {"A": "1", "B": "two words"} (an Environment= value)."""
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    return {k: v for k, _, v in (w.partition("=") for w in words if "=" in w)}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile= (comments and `export ` allowed); {} when unreadable."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {}
    out = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


@dataclass(frozen=True)
class Unit:
    name: str
    scope: Scope
    layers: tuple[Layer, ...]
    enabled_by: tuple[Path, ...] = ()

    @property
    def path(self) -> Path:
        return self.layers[0].path

    @property
    def dropins(self) -> tuple[Layer, ...]:
        return self.layers[1:]

    @property
    def kind(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def enabled(self) -> bool:
        return bool(self.enabled_by)

    @property
    def label(self) -> str:
        return f"{self.scope}:{self.name}"

    def directives(self, section: str, key: str, *, layers: int | None = None) -> list[Directive]:
        """The effective assignments of `key` after the first `layers` files (all by default)."""
        out: list[Directive] = []
        for layer in self.layers[:layers]:
            for d in layer.directives:
                if d.section == section and d.key == key:
                    if d.value:
                        out.append(d)
                    else:
                        out.clear()
        return out

    def values(self, section: str, key: str, *, layers: int | None = None) -> list[str]:
        return [d.value for d in self.directives(section, key, layers=layers)]

    def value(self, section: str, key: str) -> str | None:
        found = self.values(section, key)
        return found[-1] if found else None

    def environment(self, *, layers: int | None = None) -> dict[str, str]:
        """Environment= then EnvironmentFile= (which wins), as the service would see them."""
        env: dict[str, str] = {}
        for value in self.values("Service", "Environment", layers=layers):
            env.update(split_assignments(value))
        for value in self.values("Service", "EnvironmentFile", layers=layers):
            env.update(read_env_file(Path(value.lstrip("-"))))
        return env

    def commands(self, *, layers: int | None = None) -> list[str]:
        """Every Exec* command line (prefixes like `-` or `+` removed)."""
        keys = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost")
        return [v.lstrip(_EXEC_PREFIX) for k in keys for v in self.values("Service", k, layers=layers)]

    def ports(self) -> set[int]:
        """Ports the unit wants: --port/--server.port/-p/--bind arguments, *PORT* variables, ListenStream=."""
        found: set[int] = set()
        for command in self.commands():
            found.update(int(m) for m in _PORT_ARG.findall(command))
        for key, value in self.environment().items():
            if "PORT" in key.upper() and value.isdigit():
                found.add(int(value))
        for key in ("ListenStream", "ListenDatagram"):
            for value in self.values("Socket", key):
                tail = value.rsplit(":", 1)[-1]
                if tail.isdigit():
                    found.add(int(tail))
        return {p for p in found if 0 < p < 65536}

    def expand(self, text: str) -> str:
        """Expand the unit-name specifiers %n %N %p %i %j %% in `text`."""
        stem, _, _suffix = self.name.rpartition(".")
        prefix, at, instance = stem.partition("@")
        table = {"n": self.name, "N": stem, "p": prefix, "i": instance if at else "", "j": prefix.split("-")[-1],
                 "%": "%"}
        out, i = [], 0
        while i < len(text):
            if text[i] == "%" and i + 1 < len(text) and text[i + 1] in table:
                out.append(table[text[i + 1]])
                i += 2
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


@dataclass
class UnitSet:
    """Every unit found in one scope's directories."""

    scope: Scope
    dirs: tuple[Path, ...]
    units: dict[str, Unit] = field(default_factory=dict)
    masked: dict[str, Path] = field(default_factory=dict)
    enabled: dict[str, list[Path]] = field(default_factory=dict)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)

    def template_of(self, name: str) -> str | None:
        stem, dot, suffix = name.rpartition(".")
        prefix, at, instance = stem.partition("@")
        return f"{prefix}@.{suffix}" if at and instance and dot else None

    def exists(self, name: str) -> bool:
        """True when systemd could load `name`: its own fragment, or its template's for an instance."""
        if name in self.units:
            return True
        template = self.template_of(name)
        return template is not None and template in self.units


def _is_masked(path: Path) -> bool:
    try:
        if path.is_symlink() and str(path.resolve()) == "/dev/null":
            return True
        return path.stat().st_size == 0
    except OSError:
        return False


def _dropins(dirs: Sequence[Path], name: str, template: str | None) -> list[Path]:
    chosen: dict[str, Path] = {}
    for directory in dirs:
        for owner in (name, template):
            if owner is None:
                continue
            dropin_dir = directory / f"{owner}.d"
            if dropin_dir.is_dir():
                for conf in dropin_dir.glob("*.conf"):
                    chosen.setdefault(conf.name, conf)
    return [chosen[n] for n in sorted(chosen)]


def scan(dirs: Sequence[Path], scope: Scope) -> UnitSet:
    """Every unit, drop-in and enablement link under `dirs` (highest priority first)."""
    expanded = tuple(d.expanduser() for d in dirs)
    found = UnitSet(scope, expanded)
    fragments: dict[str, Path] = {}
    for directory in expanded:
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir()):
            name = entry.name
            if entry.is_dir() and not entry.is_symlink() and name.endswith(_ENABLE_DIRS):
                for link in sorted(entry.iterdir()):
                    if link.name.endswith(UNIT_SUFFIXES):
                        found.enabled.setdefault(link.name, []).append(link)
            elif name.endswith(UNIT_SUFFIXES) and name not in fragments and name not in found.masked:
                if _is_masked(entry):
                    found.masked[name] = entry
                elif entry.is_file():
                    fragments[name] = entry
                else:
                    found.unreadable.append((entry, "a dangling link or not a regular file"))
    for name, path in fragments.items():
        try:
            layers = [Layer(path, parse(path.read_text(errors="replace"), path))]
        except OSError as exc:
            found.unreadable.append((path, exc.strerror or str(exc)))
            continue
        for conf in _dropins(expanded, name, found.template_of(name)):
            try:
                layers.append(Layer(conf, parse(conf.read_text(errors="replace"), conf)))
            except OSError as exc:
                found.unreadable.append((conf, exc.strerror or str(exc)))
        enabled_by = tuple(link for link_name, links in found.enabled.items() for link in links
                           if link_name == name or found.template_of(link_name) == name)
        found.units[name] = Unit(name, scope, tuple(layers), enabled_by)
    return found


def timer_target(timer: Unit) -> str:
    """The unit a timer starts: its Unit=, else the service of the same name."""
    return timer.value("Timer", "Unit") or timer.name.removesuffix(".timer") + ".service"

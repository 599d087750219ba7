"""The unit and crontab checks of `projections doctor` (projections.ops.doctor): who schedules the pipeline
(schedule, drift), where a failure goes (onfailure), what is left over (legacy), what a drop-in changes (override),
whether the generated units are installed as `projections systemd` makes them (generated), and ports (port).
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from projections.errors import ConfigError
from projections.ops import permissions
from projections.ops.finding import Finding
from projections.ops.inventory import Inventory, Runner
from projections.ops.systemd import render_units, unit_names
from projections.ops.unitfile import Scope, Unit, UnitSet

# Variables that legitimately differ between a unit and a crontab line.
_DRIFT_IGNORED = frozenset({"PATH", "SHELL", "MAILTO", "HOME", "LOGNAME", "USER", "PYTHONUNBUFFERED", "LANG"})


def unit_findings(inv: Inventory, python: str | None, project_dir: Path | None) -> list[Finding]:
    """The findings of the schedule, drift, onfailure, legacy, override, generated and port checks, in that order.
    With `python` and `project_dir`, installed generated units are also compared with what `render_units` makes."""
    runners = inv.runners()
    return [*_schedule(inv, runners), *_onfailure(inv, runners), *_legacy(inv, runners), *_override(inv),
            *_generated(inv, python, project_dir), *_ports(inv)]


def _ctl(scope: Scope | None) -> str:
    return "systemctl --user" if scope == "user" else "systemctl"


def _pipeline_units(inv: Inventory) -> Iterator[tuple[UnitSet, Unit]]:
    """Every unit, system then user, that belongs to the pipeline, with the set it is in (its scope, its neighbours)."""
    for units in inv.sets:
        for unit in units.units.values():
            if inv.belongs(unit, units):
                yield units, unit


def _running(runners: list[Runner]) -> set[str]:
    """The labels of the units that run the pipeline."""
    return {r.unit.label for r in runners if r.unit is not None}


# ------------------------------------------------------------------------------------------ schedulers


def _schedule(inv: Inventory, runners: list[Runner]) -> list[Finding]:
    if not runners:
        return [Finding("warning", "schedule", "-", "nothing schedules the pipeline: no enabled timer, boot unit or "
                        "crontab line runs it", "projections systemd --user (or --system), then the steps it prints")]
    canonical = next((r for r in runners if r.ours), runners[0])
    out = [Finding("ok", "schedule", canonical.where, f"{canonical.label} runs the pipeline: {canonical.trigger}")]
    others = [r for r in runners if r is not canonical]
    for r in others:
        out.append(Finding("error", "duplicate", r.where,
                           f"{r.label} also runs the pipeline ({r.trigger}: {r.command}); {canonical.label} already "
                           f"does, so {len(runners)} schedulers build the same slate", r.stop_fix()))
    if not canonical.ours:
        out.append(Finding("warning", "schedule", canonical.where,
                           f"the pipeline is run by {canonical.label}, not by the generated units",
                           "projections systemd --user (or --system), then remove the old scheduler"))
    if others:
        keys = sorted({k for r in runners for k in r.env} - _DRIFT_IGNORED)
        for key in keys:
            values = {r.label: r.env.get(key) for r in runners}
            if len(set(values.values())) > 1:
                shown = "; ".join(f"{'(unset)' if v is None else '(empty)' if v == '' else v} in {label}"
                                  for label, v in values.items())
                out.append(Finding("error", "drift", ", ".join(r.where for r in runners),
                                   f"{key} differs between the schedulers: {shown}",
                                   f"keep one scheduler (see `duplicate`) and set {key} in one place"))
    return out


def _onfailure(inv: Inventory, runners: list[Runner]) -> list[Finding]:
    out: list[Finding] = []
    running = _running(runners)
    for units, unit in _pipeline_units(inv):
        if unit.kind not in ("service", "timer"):
            continue
        directives = unit.directives("Unit", "OnFailure")
        for d in directives:
            for raw in d.value.split():
                target = unit.expand(raw)
                if not units.exists(target):
                    out.append(Finding(
                        "error", "onfailure", d.where,
                        f"{unit.label}: OnFailure={raw} names {target}, which does not exist in the {units.scope} "
                        f"unit directories, so a failure of {unit.name} reaches nobody",
                        f"projections systemd --{units.scope} installs a handler that exists; or point "
                        f"OnFailure= at an installed unit"))
        if not directives and unit.label in running:
            out.append(Finding("warning", "onfailure", str(unit.path),
                               f"{unit.label} runs the pipeline with no OnFailure=: when it fails nobody hears",
                               f"replace it with the generated units (projections systemd --{units.scope})"))
    return out


def _legacy(inv: Inventory, runners: list[Runner]) -> list[Finding]:
    out: list[Finding] = []
    running = _running(runners)
    for units, unit in _pipeline_units(inv):
        if inv.ours(unit) or inv.excluded(unit):
            continue
        ctl = _ctl(units.scope)
        if unit.enabled:
            links = ", ".join(str(p) for p in unit.enabled_by)
            wanted_by = ", ".join(sorted({p.parent.name for p in unit.enabled_by}))
            out.append(Finding("error", "legacy", links,
                               f"{unit.label} is enabled ({wanted_by}) "
                               f"but is not one of the generated units: {' ; '.join(unit.commands()) or unit.path}",
                               f"{ctl} disable --now {unit.name} && rm {unit.path}"))
        elif unit.kind == "service" and unit.label not in running and "@." not in unit.name:
            out.append(Finding("warning", "legacy", str(unit.path),
                               f"{unit.label} belongs to the pipeline but nothing starts it (a leftover)",
                               f"rm {unit.path} && {ctl} daemon-reload"))
    return out


def _override(inv: Inventory) -> list[Finding]:
    out: list[Finding] = []
    for _, unit in _pipeline_units(inv):
        for index, layer in enumerate(unit.dropins, start=1):
            out.extend(_dropin_changes(unit, index, layer.path))
    return out


def _dropin_changes(unit: Unit, index: int, path: Path) -> list[Finding]:
    before, after = index, index + 1
    layer = unit.layers[index]
    fix = f"remove {path} (or `{_ctl(unit.scope)} revert {unit.name}`) and regenerate the units if needed"
    out: list[Finding] = []
    env_before, env_after = unit.environment(layers=before), unit.environment(layers=after)
    changed = [f"{k}={env_before[k]} -> {env_after[k]}" for k in env_before
               if k in env_after and env_after[k] != env_before[k]]
    dropped = [f"{k}={env_before[k]}" for k in env_before if k not in env_after]
    added = [f"{k}={env_after[k]}" for k in env_after if k not in env_before]
    if dropped:
        out.append(Finding("error", "override", str(path), f"{unit.label}: this drop-in clears Environment, dropping "
                           f"{', '.join(dropped)}", fix))
    if changed:
        out.append(Finding("error", "override", str(path), f"{unit.label}: this drop-in flips "
                           f"{', '.join(changed)}", fix))
    if added:
        out.append(Finding("warning", "override", str(path), f"{unit.label}: this drop-in adds {', '.join(added)}",
                           fix))
    keys = sorted({(d.section, d.key) for d in layer.directives} - {("Service", "Environment")})
    for section, key in keys:
        old, new = unit.values(section, key, layers=before), unit.values(section, key, layers=after)
        if old == new:
            continue
        if old and not new:
            out.append(Finding("error", "override", str(path),
                               f"{unit.label}: this drop-in clears {key}= (was {' ; '.join(old)})", fix))
        else:
            was = " ; ".join(old) if old else "(unset)"
            out.append(Finding("warning", "override", str(path),
                               f"{unit.label}: this drop-in changes {key}= from {was} to {' ; '.join(new)}", fix))
    return out


def _generated(inv: Inventory, python: str | None, project_dir: Path | None) -> list[Finding]:
    names = unit_names(inv.settings)
    out: list[Finding] = []
    installed = [(units, units.units[names.timer]) for units in inv.sets if names.timer in units.units]
    if not installed:
        return [Finding("warning", "generated", "-", f"the generated timer {names.timer} is not installed",
                        "projections systemd --user (or --system)")]
    for units, timer in installed:
        ctl = _ctl(units.scope)
        if not timer.enabled:
            out.append(Finding("warning", "generated", str(timer.path), f"{timer.label} is installed but not enabled, "
                               "so it never fires", f"{ctl} enable --now {names.timer}"))
        elif units.scope == "user":
            me = permissions.user_name(os.geteuid())
            if not (inv.settings.doctor.linger_dir / me).exists():
                out.append(Finding("warning", "generated", str(timer.path), f"{timer.label} runs only while {me} is "
                                   "logged in (lingering is off)", f"loginctl enable-linger {me}"))
        if timer.enabled and inv.settings.source == "archive":  # today lies beyond the shipped seasons
            out.append(Finding("warning", "generated", str(timer.path), f"{timer.label} runs today's slate, but "
                               "source is \"archive\": every daily run is refused (exit 3) and alerted",
                               "set source = \"live\" in projections.toml (and the live.* endpoints)"))
        service = units.units.get(names.service)
        if service is None:
            out.append(Finding("error", "generated", str(timer.path), f"{timer.label} starts {names.service}, which "
                               "is not installed", f"projections systemd --{units.scope}"))
            continue
        for command in service.commands():
            program = command.split()[0] if command.split() else ""
            if program and not os.access(program, os.X_OK):
                out.append(Finding("error", "generated", str(service.path), f"{service.label} runs {program}, which "
                                   "does not exist or is not executable (a moved or deleted virtualenv?)",
                                   f"projections systemd --{units.scope} from the current virtualenv"))
        if python and project_dir:
            try:
                wanted = render_units(inv.settings, scope=units.scope, python=python, project_dir=project_dir)
            except ConfigError as exc:
                out.append(Finding("warning", "generated", str(project_dir), f"cannot render the units: {exc}"))
                continue
            for name, content in wanted.items():
                unit = units.units.get(name)
                if unit is not None and unit.path.read_text(errors="replace") != content:
                    out.append(Finding("warning", "generated", str(unit.path), f"{unit.label} differs from what "
                                       f"`projections systemd --{units.scope}` generates now",
                                       f"projections systemd --{units.scope} && {ctl} daemon-reload"))
    if not out:
        out.append(Finding("ok", "generated", ", ".join(str(t.path) for _, t in installed),
                           f"{names.timer} is installed and enabled"))
    return out



def _ports(inv: Inventory) -> list[Finding]:
    wanted: dict[int, list[Unit]] = {}
    for _, unit in _pipeline_units(inv):
        if "@." not in unit.name:
            for port in unit.ports():
                wanted.setdefault(port, []).append(unit)
    out: list[Finding] = []
    for port, users in sorted(wanted.items()):
        if len(users) > 1:
            out.append(Finding("error", "port", ", ".join(str(u.path) for u in users),
                               f"port {port} is wanted by {' and '.join(u.label for u in users)}: one fails to bind "
                               "and, with Restart=, restarts forever", "give each its own port, or disable the legacy "
                               "one (see `legacy`)"))
    host, port = inv.settings.serve_host, inv.settings.serve_port
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                out.append(Finding("warning", "port", f"{host}:{port}", f"serve_port {port} is already taken by "
                                   "another process: `projections serve` would not start",
                                   f"ss -ltnp 'sport = :{port}' shows who holds it; stop it or set "
                                   "PROJECTIONS_SERVE_PORT"))
    return out

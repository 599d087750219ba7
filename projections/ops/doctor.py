"""`projections doctor`: everything that schedules, configures or blocks the pipeline on this machine.

Checks (each finding has a severity, what, where, and the fix):
    schedule     every systemd unit and crontab line that runs the pipeline; duplicates across schedulers
    drift        environment variables that differ between duplicates
    onfailure    OnFailure= targets that do not exist; runners with no OnFailure= at all
    legacy       enabled units that belong to the pipeline but are not the generated ones
    override     drop-ins that clear, drop or flip a setting of a pipeline unit
    generated    the generated units: present, enabled, interpreter exists, same as `projections systemd`
    port         two units wanting the same port; serve_port taken by another process
    data-root    directories and appended-to files (ledger, locks, snapshot indexes) whose owner, group or mode
                 break the policy
    upgrade      what an older version left that is mended by hand once (ops/leftovers.py)
    alerts       whether each alert channel answers, and a webhook URL the receiver refuses

Exit status (`exit_code`): 1 when any finding is an error, else 0.
"""

from __future__ import annotations

import errno
import io
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from projections.errors import ConfigError
from projections.ops import channels, permissions
from projections.ops.inventory import Inventory, Runner, take_inventory
from projections.ops.systemd import render_units, unit_names
from projections.ops.unitfile import Scope, Unit
from projections.settings import Settings

Severity = Literal["error", "warning", "ok"]
_ORDER = {"error": 0, "warning": 1, "ok": 2}
# Variables that legitimately differ between a unit and a crontab line.
_DRIFT_IGNORED = frozenset({"PATH", "SHELL", "MAILTO", "HOME", "LOGNAME", "USER", "PYTHONUNBUFFERED", "LANG"})
_MAX_DATA_ROOT = 10


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str
    where: str
    message: str
    fix: str = ""


def _ctl(scope: Scope | None) -> str:
    return "systemctl --user" if scope == "user" else "systemctl"


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
    running = {r.unit.label for r in runners if r.unit is not None}
    for units in inv.sets:
        for unit in units.units.values():
            if not inv.belongs(unit, units) or unit.kind not in ("service", "timer"):
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
    running = {r.unit.label for r in runners if r.unit is not None}
    for units in inv.sets:
        for unit in units.units.values():
            if inv.ours(unit) or not inv.belongs(unit, units) or inv.excluded(unit):
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
    for units in inv.sets:
        for unit in units.units.values():
            if not unit.dropins or not inv.belongs(unit, units):
                continue
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


# ----------------------------------------------------------------------------------------- machine


def _ports(inv: Inventory) -> list[Finding]:
    wanted: dict[int, list[Unit]] = {}
    for units in inv.sets:
        for unit in units.units.values():
            if inv.belongs(unit, units) and "@." not in unit.name:
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


def _data_root(settings: Settings) -> list[Finding]:
    home = settings.home
    if not home.exists():
        return [Finding("ok", "data-root", str(home), "does not exist yet; a run creates it under the policy")]
    try:
        problems = permissions.check_tree(home, settings.permissions)
    except ConfigError as exc:
        return [Finding("error", "data-root", str(home), str(exc))]
    if not os.access(home, os.W_OK | os.X_OK):  # the policy may hold and still not let this user in (its group)
        return [Finding("error", "data-root", str(home), permissions.not_writable_message(home))]
    out = [Finding("error", "data-root", str(p.path), p.message, p.fix) for p in problems[:_MAX_DATA_ROOT]]
    if len(problems) > _MAX_DATA_ROOT:
        out.append(Finding("error", "data-root", str(home), f"and {len(problems) - _MAX_DATA_ROOT} more paths break "
                           "the policy", "projections doctor --fix-permissions, as the owner or root"))
    if not out:
        policy = settings.permissions
        out.append(Finding("ok", "data-root", str(home), f"follows the policy (directories {policy.dir_mode:04o}, "
                           f"ledger and index files {policy.file_mode:04o})"))
    return out


def _packages() -> list[Finding]:
    """The packages the code needs that this Python lacks (a `git pull` added one): every run would be refused."""
    from projections import requirements

    gone = requirements.missing()
    if gone:
        return [Finding("error", "packages", sys.executable, f"lacks {', '.join(gone)}, which the code needs: every "
                        "run is refused until they are installed", requirements.install_command())]
    old = requirements.outdated()
    if old:
        return [Finding("error", "packages", sys.executable, f"has {', '.join(old)}: the code declares newer (a pull "
                        "raised the bound); a run may fail anywhere until they are upgraded",
                        requirements.install_command())]
    return [Finding("ok", "packages", sys.executable, "has every package the code needs, at the versions declared")]


def _alerts(settings: Settings) -> list[Finding]:
    if not channels.configured(settings.alerts):
        return [Finding("warning", "alerts", "settings.alerts", "no alert channel is configured: a failed run "
                        "reaches nobody", "set PROJECTIONS_ALERTS__WEBHOOK_URL or __SMTP_HOST and __SMTP_TO, then "
                        "projections alert --test")]
    out = []
    for d in channels.probe(settings.alerts):
        if d.ok:
            out.append(Finding("ok", "alerts", d.target, f"{d.channel} {d.detail}"))
        else:
            fix = d.fix or "check the alerts settings and the network"
            out.append(Finding("error", "alerts", d.target, f"{d.channel} {d.detail}",
                               f"{fix}, then projections alert --test"))
    return out


def _season(settings: Settings) -> list[Finding]:
    """Live mode: whether the archive holds the game logs of the season before the one the daily runs project (the
    calibration fits on it): a live run fetches them when it does not, which it cannot with live.game_logs unset."""
    import datetime as dt

    from projections.archive import live_configured, parts, previous_season
    from projections.dates import EASTERN, season_of

    if settings.source != "live":
        return []
    today = (settings.live.now or dt.datetime.now(dt.UTC)).astimezone(EASTERN).date()
    season = season_of(today if not 7 <= today.month <= 9 else dt.date(today.year, 10, 1))  # summer: the next one
    prior = previous_season(season)
    if any(prior in p.seasons for p in parts(settings.home, "player_logs")):
        return [Finding("ok", "season", prior, f"the archive holds {prior}'s game logs, which {season}'s calibration "
                        "fits on")]
    if live_configured("player_logs", settings):
        return [Finding("ok", "season", prior, f"the archive lacks {prior}'s game logs, which {season}'s calibration "
                        "fits on: the next live run fetches them (live.game_logs), once")]
    return [Finding("error", "season", prior, f"the archive lacks {prior}'s game logs, which {season}'s calibration "
                    "fits on, and live.game_logs.url is unset, so no run can fetch them: every slate of "
                    f"{season} fails at its calibration", f"projections ingest game-logs FILE ({prior}'s LeagueGameLog "
                    "export), or set live.game_logs.url")]


def _secrets_file() -> list[Finding]:
    """The settings file holding a secret that every user may read (ops.settings_secrets)."""
    from projections.ops.settings_secrets import world_readable_secrets

    found = world_readable_secrets()
    if found is None:
        return []
    path, keys = found
    return [Finding("warning", "secrets", str(path), f"the settings file holds secrets ({', '.join(keys[:4])}) and "
                    "every user of this machine may read it",
                    f"chmod o-r {path} (the data root's group still reads it)")]


def run_doctor(
    settings: Settings, *, python: str | None = None, project_dir: Path | None = None, probe_alerts: bool = True
) -> list[Finding]:
    """Every finding, errors first. With `python` and `project_dir`, installed generated units are also
    compared with what `render_units` makes from them now."""
    inv = take_inventory(settings)
    runners = inv.runners()
    findings = [Finding("warning", "inventory", "-", note) for note in inv.notes]
    findings += _schedule(inv, runners)
    findings += _onfailure(inv, runners)
    findings += _legacy(inv, runners)
    findings += _override(inv)
    findings += _generated(inv, python, project_dir)
    findings += _ports(inv)
    findings += _data_root(settings)
    findings += _season(settings)
    if settings.home.is_dir():  # what an older version left that this one reads differently
        from projections.ops import leftovers

        findings += [Finding(*f) for f in leftovers.findings(settings.home)]
    findings += _secrets_file()
    findings += _packages()
    if probe_alerts:
        findings += _alerts(settings)
    return sorted(findings, key=lambda f: _ORDER[f.severity])


def exit_code(findings: Sequence[Finding]) -> int:
    return 1 if any(f.severity == "error" for f in findings) else 0


def format_findings(findings: Sequence[Finding], *, width: int = 160) -> str:
    """A plain-text table (severity, check, where, message, fix) and a one-line summary."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column, ratio in (("severity", None), ("check", None), ("where", 3), ("what", 5), ("fix", 4)):
        table.add_column(column, ratio=ratio, overflow="fold", no_wrap=ratio is None)
    for f in findings:
        table.add_row(f.severity.upper() if f.severity != "ok" else "ok", f.check, f.where, f.message, f.fix)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False,
                      soft_wrap=False, emoji=False, markup=False)
    console.print(table)
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    console.print(f"{errors} error(s), {warnings} warning(s), {len(findings) - errors - warnings} ok")
    return buffer.getvalue()

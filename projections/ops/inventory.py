"""What on this machine belongs to the pipeline, and what actually starts it - for `doctor`.

A unit *belongs* when its name, commands or environment mention one of `doctor.match` (or a timer starts
such a unit); a crontab line belongs when its command does. Commands matching `doctor.exclude` (the alert
unit, `projections serve`) belong but never run the pipeline.

A *runner* is something that starts the pipeline on its own: a belonging service started by an enabled timer,
a belonging oneshot service enabled at boot, or a belonging crontab line. Exactly one runner - the generated
timer - is the healthy state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from projections.ops.crontab import CronLine, collect
from projections.ops.systemd import unit_names
from projections.ops.unitfile import Scope, Unit, UnitSet, scan, timer_target
from projections.settings import Settings


@dataclass(frozen=True)
class Runner:
    kind: Literal["systemd", "cron"]
    label: str  # system:foo.service, or the crontab line's file:line
    where: str
    command: str
    env: dict[str, str]
    trigger: str
    ours: bool
    scope: Scope | None = None
    unit: Unit | None = None
    starter: Unit | None = None  # the timer (or the service itself) whose enablement makes it run
    cron: CronLine | None = None

    def stop_fix(self) -> str:
        """The command(s) that stop this runner for good."""
        if self.cron is not None:
            source = self.cron.source
            how = "`crontab -e`" if source.startswith("crontab") else f"edit {source}"
            return f"delete line {self.cron.line} ({how})"
        assert self.starter is not None and self.scope is not None
        ctl = "systemctl" if self.scope == "system" else "systemctl --user"
        units = [self.starter] + ([self.unit] if self.unit is not None and self.unit is not self.starter else [])
        files = " ".join(str(layer.path) for u in units for layer in u.layers)
        return f"{ctl} disable --now {self.starter.name} && rm {files} && {ctl} daemon-reload"


def _hits(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n.lower() in lowered for n in needles if n)


@dataclass
class Inventory:
    settings: Settings
    system: UnitSet
    user: UnitSet
    cron: list[CronLine]
    notes: list[str] = field(default_factory=list)

    @property
    def sets(self) -> tuple[UnitSet, UnitSet]:
        return (self.system, self.user)

    def ours(self, unit: Unit) -> bool:
        names = unit_names(self.settings)
        return unit.name in names.all() or unit.name.startswith(names.alert_template.split("@")[0] + "@")

    def excluded(self, unit: Unit) -> bool:
        """Mentions the project but only runs the alert handler, `serve` and the like."""
        commands = unit.commands()
        return bool(commands) and all(_hits(c, self.settings.doctor.exclude) for c in commands)

    def _mentions(self, unit: Unit) -> bool:
        match = self.settings.doctor.match
        text = " ".join([unit.name, *unit.commands(), *(f"{k}={v}" for k, v in unit.environment().items())])
        return _hits(text, match)

    def belongs(self, unit: Unit, units: UnitSet) -> bool:
        if self.ours(unit) or self._mentions(unit):
            return True
        if unit.kind == "timer":
            target = units.units.get(timer_target(unit))
            return target is not None and (self.ours(target) or self._mentions(target))
        return False

    def belonging(self) -> list[Unit]:
        return [u for units in self.sets for u in units.units.values() if self.belongs(u, units)]

    def timers_of(self, service: Unit, units: UnitSet) -> list[Unit]:
        return [t for t in units.units.values() if t.kind == "timer" and timer_target(t) == service.name]

    def runners(self) -> list[Runner]:
        out: list[Runner] = []
        for units in self.sets:
            for unit in units.units.values():
                if unit.kind != "service" or "@." in unit.name or not self.belongs(unit, units) \
                        or self.excluded(unit):
                    continue
                command = " ; ".join(unit.commands()) or "(no ExecStart)"
                starters = [t for t in self.timers_of(unit, units) if t.enabled]
                oneshot = (unit.value("Service", "Type") or "simple") == "oneshot"
                if unit.enabled and oneshot:
                    starters.append(unit)
                for starter in starters:
                    if starter is unit:
                        link = unit.enabled_by[0]
                        trigger = f"enabled at boot ({link.parent.name})"
                    else:
                        trigger = f"timer {starter.name} ({', '.join(starter.values('Timer', 'OnCalendar')) or '?'})"
                    out.append(Runner("systemd", unit.label, str(unit.path), command, unit.environment(), trigger,
                                      self.ours(unit), units.scope, unit, starter))
        for line in self.cron:
            if _hits(line.command, self.settings.doctor.match) and not _hits(line.command,
                                                                             self.settings.doctor.exclude):
                out.append(Runner("cron", f"cron {line.where}", line.where, line.command, dict(line.env),
                                  f"cron {line.schedule}" + (f" as {line.user}" if line.user else ""), False,
                                  cron=line))
        return out


def take_inventory(settings: Settings) -> Inventory:
    """Scan the configured unit directories and crontabs (nothing is asked of a running systemd)."""
    doctor = settings.doctor
    system = scan(doctor.system_unit_dirs, "system")
    user = scan(doctor.user_unit_dirs, "user")
    cron, notes = collect(doctor.crontab_files, doctor.crontab_command)
    for units in (system, user):
        notes.extend(f"cannot read {path}: {why}" for path, why in units.unreadable)
    return Inventory(settings, system, user, cron, notes)

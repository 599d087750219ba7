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

Exit status (`exit_code`): 1 when any finding is an error, else 0. The unit and crontab checks (schedule to port)
are projections.ops.doctor_units; a Finding is projections.ops.finding's.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from projections.errors import ConfigError
from projections.ops import channels, permissions
from projections.ops.doctor_units import unit_findings
from projections.ops.finding import Finding, Severity
from projections.ops.inventory import take_inventory
from projections.settings import Settings

__all__ = ["Finding", "Severity", "exit_code", "format_findings", "run_doctor"]

_ORDER = {"error": 0, "warning": 1, "ok": 2}
_MAX_DATA_ROOT = 10


# ----------------------------------------------------------------------------------------- machine


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
    findings = [Finding("warning", "inventory", "-", note) for note in inv.notes]
    findings += unit_findings(inv, python, project_dir)
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

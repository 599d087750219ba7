"""Alerts: what they say, when a run sends them, and the record of every delivery - failed ones included.

    send_alert(settings, alert, ledger=...)      every configured channel; `alert` / `alert_failure` ledger lines
    notify_run(settings, ledger)                 after a run: one alert per failed (or stale) date, capped
    unit_failed(settings, unit, ...)             the OnFailure= handler: what failed, unless already alerted (with
                                                 settings that do not load, [alerts] alone and that error as why)
    send_test_alert(settings, ledger=...)        `projections alert --test`

Each alert names the slate date, the stage, the error and the command that shows the details. Sending
never raises: a channel that fails is printed and recorded in the ledger, so a broken alert path is itself
visible (`projections doctor` also probes the channels).
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from projections.dates import slate_date_today
from projections.errors import ConfigError, ProjectionsError
from projections.fetch import FetchPolicy
from projections.ledger import Ledger
from projections.ops.channels import Delivery, configured, deliver
from projections.ops.permissions import ensure_dir
from projections.redaction import redact
from projections.settings import Settings
from projections.settings_tables import PermissionSettings

Kind = Literal["stage_failure", "fetch_failure", "stale", "unit_failed", "test", "summary"]
FAILURE_EVENTS = ("stage_failure", "fetch_failure")
Echo = Callable[[str], None]
_MAX_ERROR = 1500


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


END_TO_HANDLER_S = 300  # a failed unit's handler runs at once: a run whose last line is older is another run
RUN_STAGES = "the run's stages"  # the stage of an alert about a whole run that ended badly without a failure


@dataclass(frozen=True)
class Alert:
    date: str
    stage: str
    error: str
    command: str
    kind: Kind = "stage_failure"
    run: str = ""
    host: str = field(default_factory=socket.gethostname)

    @property
    def subject(self) -> str:
        if self.kind == "test":
            return f"projections: test alert from {self.host}"
        if self.kind == "stale" and self.stage == RUN_STAGES:
            return f"projections: the run of slate {self.date} ended with stages not built"
        if self.kind == "stale":
            return f"projections: slate {self.date} ended stale ({self.stage})"
        if self.kind == "summary":
            return f"projections: {self.stage} for {self.date}"
        return f"projections: {self.stage} failed for slate {self.date}"

    def text(self) -> str:
        error = self.error if len(self.error) <= _MAX_ERROR else self.error[:_MAX_ERROR] + " … (truncated)"
        lines = [
            f"date: {self.date}",
            f"stage: {self.stage}",
            f"error: {error}",
            f"details: {self.command}",
            f"host: {self.host}" + (f"  run: {self.run}" if self.run else ""),
        ]
        return "\n".join(lines)


def _record(ledger: Ledger | None, event: str, echo: Echo, **fields: Any) -> None:
    if ledger is None:
        return
    try:
        ledger.append(event, **fields)
    except OSError as exc:
        echo(f"could not record `{event}` in the ledger {ledger.dir}: {exc}")


def _prepare(ledger: Ledger | None, policy: PermissionSettings, echo: Echo) -> None:
    """Create a missing ledger directory under the data-root policy (an alert may be the first write)."""
    if ledger is None or ledger.dir.exists():
        return
    try:
        ensure_dir(ledger.dir, policy)
    except ConfigError as exc:
        echo(f"cannot create the ledger directory: {exc}")


def send_alert(
    settings: Settings,
    alert: Alert,
    *,
    ledger: Ledger | None,
    policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
    echo: Echo = _stderr,
) -> list[Delivery]:
    """Send `alert` through every configured channel; record and print each failure. Never raises."""
    alerts = settings.alerts
    _prepare(ledger, settings.permissions, echo)
    common = {"kind": alert.kind, "game_date": alert.date, "stage": alert.stage, "run": alert.run or None}
    if not configured(alerts):
        why = ("no alert channel is configured - set PROJECTIONS_ALERTS__WEBHOOK_URL or "
               "PROJECTIONS_ALERTS__SMTP_HOST and __SMTP_TO (or [alerts] in projections.toml)")
        echo(f"ALERT NOT SENT: {alert.subject}: {why}")
        _record(ledger, "alert_failure", echo, channel="none", error=why, **common)
        return []
    secrets = [v.get_secret_value() for v in (alerts.webhook_url, alerts.smtp_password) if v is not None]
    text = redact(alert.text(), secrets)
    try:
        deliveries = deliver(alerts, alert.subject, text, policy=policy, client=client)
    except Exception as exc:  # a bug in delivery must not take the run (or the OnFailure unit) down with it
        detail = redact(f"{type(exc).__name__}: {exc}", secrets)
        deliveries = [Delivery(channel, "?", False, 0, f"internal error: {detail}") for channel in configured(alerts)]
    for d in deliveries:
        if d.ok:
            _record(ledger, "alert", echo, channel=d.channel, target=d.target, attempts=d.attempts, **common)
        else:
            _record(ledger, "alert_failure", echo, channel=d.channel, target=d.target, attempts=d.attempts,
                    error=d.detail, **common)
            where = f" (recorded in {ledger.dir})" if ledger is not None else ""
            echo(f"ALERT NOT DELIVERED via {d.channel} to {d.target}: {d.detail}{where}")
    return deliveries


def exit_code(deliveries: Sequence[Delivery], *, need_all: bool = True) -> int:
    """0 when the alert got through (every channel, or with need_all=False at least one), else 1."""
    if not deliveries:
        return 1
    ok = [d.ok for d in deliveries]
    return 0 if (all(ok) if need_all else any(ok)) else 1


def send_test_alert(
    settings: Settings,
    *,
    ledger: Ledger | None,
    policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
    echo: Echo = _stderr,
    today: dt.date | None = None,
) -> list[Delivery]:
    """`projections alert --test`: one test message through every configured channel, naming the configured
    details command as a failure alert would."""
    date = (today or slate_date_today()).isoformat()
    alert = Alert(
        date=date,
        stage="(test)",
        error="this is a test of the alert path (`projections alert --test`); nothing failed (the details line "
              "is the command a failure alert names)",
        command=settings.alerts.details_command.format(date=date),
        kind="test",
    )
    return send_alert(settings, alert, ledger=ledger, policy=policy, client=client, echo=echo)


# ------------------------------------------------------------------------------------------ run alerts


def span_of(dates: Sequence[str]) -> str:
    """The dates as one date or A..B ("?" for none)."""
    dates = sorted(dates)
    if not dates:
        return "?"
    return dates[0] if len(dates) == 1 else f"{dates[0]}..{dates[-1]}"


def failure_label(event: Mapping[str, Any]) -> str:
    """What failed, as an alert names it: the stage, or `fetch SOURCE` for a live fetch that gave up."""
    if event.get("event") == "fetch_failure":
        return f"fetch {event.get('source') or '?'}"
    return str(event.get("stage") or "?")


def failure_error(event: Mapping[str, Any]) -> str:
    """The recorded error; for a fetch, also the stages that could not run without its snapshot."""
    error = str(event.get("error") or "(no message recorded)")
    if event.get("event") == "fetch_failure":
        readers = [str(r) for r in event.get("readers") or []]
        if readers:
            error += (f"\n(not run: the stages that read the {event.get('source') or '?'} snapshot - "
                      f"{', '.join(readers)} - and the stages after them)")
    return error


def _details(details: str, date: str, failed: Sequence[Mapping[str, Any]]) -> str:
    """The details command; a fetch failure is shown by `projections history`, not by status (whose stages
    merely never ran), so that command is added when the configured one is not it already."""
    command = details.format(date=date)
    if any(f.get("event") == "fetch_failure" for f in failed) and "projections history" not in command:
        command += f"; projections history {date}"
    return command


def alerts_for_run(
    events: Iterable[Mapping[str, Any]],
    *,
    run: str,
    stale: Iterable[tuple[str, str]] = (),
    details: str = "projections status {date}",
    limit: int = 5,
) -> list[Alert]:
    """The alerts a finished run owes: one per date with a failed stage or live fetch (its first failure,
    naming the others), one per date left stale without a failure (`stale`: (date, stage) pairs the caller
    found still stale), and, when a run ended badly with neither, one for the run. More than `limit` collapse
    into a summary."""
    mine = [e for e in events if e.get("run") == run]
    failures: dict[str, list[Mapping[str, Any]]] = {}
    for e in mine:
        if e.get("event") in FAILURE_EVENTS:
            failures.setdefault(str(e.get("game_date", "?")), []).append(e)
    out: list[Alert] = []
    for date, failed in failures.items():
        first = failed[0]
        label = failure_label(first)
        error = failure_error(first)
        others = sorted({failure_label(f) for f in failed[1:]} - {label})
        if others:
            error += f"\n(also failed: {', '.join(others)})"
        kind: Kind = "fetch_failure" if first.get("event") == "fetch_failure" else "stage_failure"
        out.append(Alert(date, label, error, _details(details, date, failed), kind, run))
    left: dict[str, list[str]] = {}
    for date, stage in stale:
        if date not in failures:
            left.setdefault(date, []).append(stage)
    for date, stages in left.items():
        out.append(Alert(date, ", ".join(sorted(set(stages))), "the run finished but these stages are still stale "
                         "(not built or not published)", details.format(date=date), "stale", run))
    end = next((e for e in reversed(mine) if e.get("event") == "run_end"), None)
    if not out and end is not None and (end.get("ok") is False or end.get("not_run")):
        start = next((e for e in mine if e.get("event") == "run_start"), {})
        date = span_of([str(d) for d in start.get("dates") or []])
        problems = "; ".join(end.get("failures") or []) or "no stage failure was recorded"
        out.append(Alert(date, RUN_STAGES, f"the run ended with failed={end.get('failed', 0)}, "
                         f"not_run={end.get('not_run', 0)}: {problems}", details.format(date=date), "stale", run))
    if len(out) > limit:
        kept, rest = out[: limit - 1], out[limit - 1 :]
        date = span_of([a.date for a in rest])
        listed = "; ".join(f"{a.date} {a.stage}" for a in rest)
        out = [*kept, Alert(date, f"{len(rest)} more failed or stale dates", listed, details.format(date=date),
                            "summary", run)]
    return out


def notify_run(
    settings: Settings,
    ledger: Ledger,
    *,
    stale: Iterable[tuple[str, str]] = (),
    policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
    echo: Echo = _stderr,
) -> list[Delivery]:
    """After a run (`ledger.run`): send what `alerts_for_run` finds. Never raises; [] when all went well."""
    try:
        events = list(ledger.read())
    except (OSError, ProjectionsError) as exc:  # a ledger another user's (ConfigError)
        echo(f"cannot read the ledger {ledger.dir} to decide on alerts: {exc}")
        events = []
    found = alerts_for_run(events, run=ledger.run, stale=stale, details=settings.alerts.details_command,
                           limit=settings.alerts.max_per_run)
    out: list[Delivery] = []
    for alert in found:
        out.extend(send_alert(settings, alert, ledger=ledger, policy=policy, client=client, echo=echo))
    return out


# ------------------------------------------------------------------------------- OnFailure= handler


def _when(event: Mapping[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(event.get("ts", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def alert_for_unit_failure(
    settings: Settings,
    unit: str,
    *,
    events: Iterable[Mapping[str, Any]],
    scope: Literal["system", "user"],
    monitor: Mapping[str, str],
    now: dt.datetime,
    settings_error: str | None = None,
) -> Alert | None:
    """What to say when systemd reports `unit` failed; None when that run's alert was already delivered.

    The run is the one whose run_start carries `monitor["MONITOR_INVOCATION_ID"]` (systemd >= 251 passes
    it to OnFailure units): when no run does, the service failed before recording one. Without an invocation
    id, it is the latest run that started within the service's timeout. `settings_error`: the settings do not
    load (the handler then alerts with [alerts] alone) - the reason a run that recorded nothing failed.
    """
    all_events = list(events)
    journal = f"journalctl {'--user ' if scope == 'user' else ''}-u {unit} -n 200 --no-pager"
    starts = [e for e in all_events if e.get("event") == "run_start"]
    invocation = monitor.get("MONITOR_INVOCATION_ID")
    if invocation:
        start = next((e for e in reversed(starts) if e.get("invocation") == invocation), None)
    elif settings_error is None:  # (settings that do not load now stopped this run before it recorded one)
        start = None
        began = _when(starts[-1]) if starts else None
        if began is not None and now - began <= dt.timedelta(seconds=settings.schedule.timeout_s + 600):
            start = starts[-1]
            own = [e for e in all_events if e.get("run") == start.get("run")]
            ended = _when(own[-1]) if any(e.get("event") == "run_end" for e in own) else None
            if ended is not None and now - ended > dt.timedelta(seconds=END_TO_HANDLER_S):
                start = None  # that run ended (its last line, its alerts included) well before this failure: an
                # earlier run, not the failed unit's
    else:
        start = None
    keys = ("MONITOR_SERVICE_RESULT", "MONITOR_EXIT_CODE", "MONITOR_EXIT_STATUS")
    result = ", ".join(f"{k.removeprefix('MONITOR_').lower()}={monitor[k]}" for k in keys if monitor.get(k))
    if start is None:
        date = slate_date_today(now).isoformat()
        which = ", ".join(([f"invocation {invocation}"] if invocation else []) + ([result] if result else []))
        head = f"{unit} failed before the pipeline recorded a run{f' ({which})' if which else ''}"
        if settings_error is not None:
            return Alert(date, unit, f"{head}: the settings do not load, so doit refused to start - "
                         f"{settings_error}", journal, "unit_failed")
        return Alert(date, unit, f"{head}: usually doit refused to start (exit status 3: a bad date or variable, an "
                     "invalid setting, or a date the archive does not cover) - its ERROR: line in the journal says "
                     "which and how to fix it; otherwise the journal has the traceback", journal, "unit_failed")
    result = f" ({result})" if result else ""
    if settings_error is not None:
        result += f"\n(the settings do not load now either: {settings_error})"
    run = str(start.get("run", ""))
    mine = [e for e in all_events if e.get("run") == run]
    if any(e.get("event") == "alert" for e in mine):
        return None
    dates = [str(d) for d in start.get("dates") or []]
    date = span_of(dates)
    details = f"{journal}; {settings.alerts.details_command.format(date=date)}"
    failed = next((e for e in mine if e.get("event") in FAILURE_EVENTS), None)
    if failed is not None:
        day = str(failed.get("game_date", date))
        if failed.get("event") == "fetch_failure" and "projections history" not in details:
            details += f"; projections history {day}"
        return Alert(day, failure_label(failed), failure_error(failed) + result, details, "unit_failed", run)
    if not any(e.get("event") == "run_end" for e in mine):
        return Alert(date, unit, f"the run was cut off before it finished (killed, timed out or out of memory)"
                     f"{result}", details, "unit_failed", run)
    return Alert(date, unit, f"{unit} failed after the run ended{result}", details, "unit_failed", run)


def unit_failed(
    settings: Settings,
    unit: str,
    *,
    scope: Literal["system", "user"],
    ledger: Ledger | None,
    monitor: Mapping[str, str],
    now: dt.datetime | None = None,
    policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
    echo: Echo = _stderr,
    settings_error: str | None = None,
) -> int:
    """`projections alert --unit-failed UNIT`: alert unless already alerted; 0 when delivered (or not needed).

    `settings_error`: the settings do not load and `settings` holds [alerts] alone (settings.load_alert_settings);
    the alert names that error. `ledger` None: no data root to read or record in (`home` does not load)."""
    now = now or dt.datetime.now(dt.UTC)
    events: list[Mapping[str, Any]] = []
    if ledger is not None:
        try:
            events = list(ledger.read())
        except (OSError, ProjectionsError) as exc:
            echo(f"cannot read the ledger {ledger.dir}: {exc}; alerting without the run's details")
    alert = alert_for_unit_failure(settings, unit, events=events, scope=scope, monitor=monitor, now=now,
                                   settings_error=settings_error)
    if alert is None:
        echo(f"{unit} failed; its run was already alerted (see the `alert` lines in {ledger.dir if ledger else '-'})")
        return 0
    deliveries = send_alert(settings, alert, ledger=ledger, policy=policy, client=client, echo=echo)
    return exit_code(deliveries, need_all=False)

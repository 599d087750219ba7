"""Alerts: what they say, when a run sends them, and the record of every delivery - failed ones included.

    send_alert(settings, alert, ledger=...)      every configured channel; `alert` / `alert_failure` ledger lines
    notify_run(settings, ledger)                 after a run: one alert per failed (or stale) date, capped, and
                                                 one for files the DraftKings inbox refused; a refused file, and
                                                 a feed the run fell back from, once a date
    unit_alert.unit_failed(settings, unit, ...)  the OnFailure= handler (its own module)
    send_test_alert(settings, ledger=...)        `projections alert --test`

Each alert names the slate date, the stage, the error and the command that shows the details. Sending
never raises: a channel that fails is printed and recorded in the ledger, so a broken alert path is itself
visible (`projections doctor` also probes the channels).
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
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
from projections.ops.alert_once import alerted_fallbacks, alerted_notices, fallback_key, fallbacks, notices
from projections.ops.channels import Delivery, configured, deliver
from projections.ops.permissions import ensure_dir
from projections.redaction import redact
from projections.settings import Settings
from projections.settings_tables import PermissionSettings

Kind = Literal["stage_failure", "fetch_failure", "stale", "unit_failed", "test", "summary", "inbox_refused",
               "source_warning"]
FAILURE_EVENTS = ("stage_failure", "fetch_failure")
Echo = Callable[[str], None]
_MAX_ERROR = 1500


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
        if self.kind == "inbox_refused":
            return f"projections: the DraftKings inbox refused a file (slate {self.date})"
        if self.kind == "source_warning":
            return f"projections: {self.stage} came without news for slate {self.date}"
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
    echo: Echo = to_stderr,
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
    echo: Echo = to_stderr,
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
        command=details_template(settings).format(date=date),
        kind="test",
    )
    return send_alert(settings, alert, ledger=ledger, policy=policy, client=client, echo=echo)


def details_template(settings: Settings) -> str:
    """The configured details command, run against the data root this process used: the person reading the
    alert types it in another shell, whose PROJECTIONS_HOME (or working folder, for the default relative
    `outputs`) is not the service's. A template that sets the variable itself, or is not a `projections`
    command, is left as it is."""
    template = settings.alerts.details_command
    if "PROJECTIONS_HOME" in template or not template.startswith("projections "):
        return template
    home = shlex.quote(str(settings.home.resolve())).replace("{", "{{").replace("}", "}}")
    return f"PROJECTIONS_HOME={home} {template}"


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


def failure_error(event: Mapping[str, Any], *, fell_back: bool = False) -> str:
    """The recorded error; for a fetch, also the stages that could not run without its snapshot (unless the run
    `fell_back` on an earlier capture, and they ran)."""
    error = str(event.get("error") or "(no message recorded)")
    if event.get("event") == "fetch_failure" and not fell_back:
        readers = [str(r) for r in event.get("readers") or []]
        if readers:
            error += (f"\n(not run: the stages that read the {event.get('source') or '?'} snapshot - "
                      f"{', '.join(readers)} - and the stages after them)")
    return error


def _details(details: str, date: str, failed: Sequence[Mapping[str, Any]]) -> str:
    """The details command; a fetch failure is shown by `projections history`, not by status (whose stages
    merely never ran), so that command is added when the configured one is not it already."""
    command = details.format(date=date)
    return with_history(command, date) if any(f.get("event") == "fetch_failure" for f in failed) else command


def with_history(command: str, day: str) -> str:
    """`command` and `projections history DAY` after it (unless it is that already), for the same data root."""
    if "projections history" in command:
        return command
    home = re.search(r"PROJECTIONS_HOME=('[^']*'|\S+) ", command)  # a shell sets it for one command only
    return f"{command}; {home.group(0) if home else ''}projections history {day}"


def alerts_for_run(
    events: Iterable[Mapping[str, Any]],
    *,
    run: str,
    stale: Iterable[tuple[str, str]] = (),
    details: str = "projections status {date}",
    limit: int = 5,
) -> list[Alert]:
    """The alerts a finished run owes: one per date with a failed stage or live fetch (its first failure,
    naming the others; a date whose only failures are fetches the run fell back from, with the errors an earlier
    run's delivered alert of the date named, is not alerted again), one per date left stale without a failure
    (`stale`: (date, stage) pairs the caller found still stale), one for the files the DraftKings inbox refused
    and one per source whose fetch succeeded with a warning (a feed answering without the news it exists for, e.g.
    no injury report all afternoon) - each once per slate date: not again when an earlier run delivered it - and,
    when a run ended badly with none of these, one for the run. More than `limit` collapse into a summary."""
    events = list(events)
    mine = [e for e in events if e.get("run") == run]
    failures: dict[str, list[Mapping[str, Any]]] = {}
    for e in mine:
        if e.get("event") in FAILURE_EVENTS:
            failures.setdefault(str(e.get("game_date", "?")), []).append(e)
    fallen = fallbacks(mine)
    fallen_before = alerted_fallbacks(events, run)
    out: list[Alert] = []
    for date, failed in failures.items():
        first = failed[0]
        went_on = {fallback_key(f) for f in failed} <= fallen.keys()
        if went_on and {fallback_key(f) for f in failed} <= fallen_before:
            continue  # a feed still down, the run going on with its last capture: alerted once a date
        label = failure_label(first)
        error = failure_error(first, fell_back=fallback_key(first) in fallen)
        others = sorted({failure_label(f) for f in failed[1:]} - {label})
        if others:
            error += f"\n(also failed: {', '.join(others)})"
        error += "".join(f"\nfetch {source} fell back: the stages read its last good capture, of {when}, and the run "
                         "went on" for (day, source, _), when in fallen.items() if day == date)
        kind: Kind = "fetch_failure" if first.get("event") == "fetch_failure" else "stage_failure"
        out.append(Alert(date, label, error, _details(details, date, failed), kind, run))
    left: dict[str, list[str]] = {}
    for date, stage in stale:
        if date not in failures:
            left.setdefault(date, []).append(stage)
    for date, stages in left.items():
        out.append(Alert(date, ", ".join(sorted(set(stages))), "the run finished but these stages are still stale "
                         "(not built or not published)", details.format(date=date), "stale", run))
    for noted, kind in (("rejected", "inbox_refused"), ("warning", "source_warning")):
        alerted = alerted_notices(events, run, noted, kind)
        for date, source, found, held in notices(mine, noted):
            new = [r for r in found if (date, r) not in alerted]
            if new and date not in failures:
                error = _refused_error(new, held) if kind == "inbox_refused" else "; ".join(new)
                out.append(Alert(date, "inbox" if kind == "inbox_refused" else f"fetch {source}", error,
                                 details.format(date=date), kind, run))
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


def _refused_error(refused: Sequence[str], held: str) -> str:
    """One alert for the files the DraftKings inbox refused: the slate was built all the same - from an earlier
    file, or the archive - so nothing else would tell the person who dropped a correction that it was not taken."""
    return "; ".join(refused[:3]) + (f" (and {len(refused) - 3} more)" if len(refused) > 3 else "") + \
        f"\nthe refused file(s) stay in the inbox; the slate stands on {held}"


def notify_run(
    settings: Settings,
    ledger: Ledger,
    *,
    stale: Iterable[tuple[str, str]] = (),
    policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
    echo: Echo = to_stderr,
) -> list[Delivery]:
    """After a run (`ledger.run`): send what `alerts_for_run` finds. Never raises; [] when all went well."""
    try:
        events = list(ledger.read())
    except (OSError, ProjectionsError) as exc:  # a ledger another user's (ConfigError)
        echo(f"cannot read the ledger {ledger.dir} to decide on alerts: {exc}")
        events = []
    found = alerts_for_run(events, run=ledger.run, stale=stale, details=details_template(settings),
                           limit=settings.alerts.max_per_run)
    out: list[Delivery] = []
    for alert in found:
        out.extend(send_alert(settings, alert, ledger=ledger, policy=policy, client=client, echo=echo))
    return out

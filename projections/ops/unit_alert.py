"""The OnFailure= handler: systemd runs `projections alert --unit-failed UNIT` when the pipeline's unit fails.

It alerts what failed - the run's first failure, a run cut off (killed, timed out, out of memory), or a unit
that failed before the pipeline recorded a run (a bad setting, a date the archive does not cover) - unless that
run already sent its alert. With settings that do not load, it alerts with [alerts] alone and names that error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import httpx

from projections.dates import slate_date_today
from projections.errors import ProjectionsError
from projections.fetch import FetchPolicy
from projections.ledger import Ledger
from projections.ops.alerts import (
    FAILURE_EVENTS,
    Alert,
    Echo,
    details_template,
    exit_code,
    failure_error,
    failure_label,
    send_alert,
    span_of,
    to_stderr,
    with_history,
)
from projections.settings import Settings

END_TO_HANDLER_S = 300  # a failed unit's handler runs at once: a run whose last line is older is another run


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
    id, it is the latest run of a service (its run_start has an invocation) that started within the service's
    timeout. `settings_error`: the settings do not
    load (the handler then alerts with [alerts] alone) - the reason a run that recorded nothing failed.
    """
    all_events = list(events)
    journal = f"journalctl {'--user ' if scope == 'user' else ''}-u {unit} -n 200 --no-pager"
    # the unit runs doit: a `projections fetch` by hand records a run too, but never the unit's
    starts = [e for e in all_events if e.get("event") == "run_start" and e.get("program") != "projections"]
    invocation = monitor.get("MONITOR_INVOCATION_ID")
    if invocation:
        start = next((e for e in reversed(starts) if e.get("invocation") == invocation), None)
    elif settings_error is None:  # (settings that do not load now stopped this run before it recorded one)
        start = None
        # a service's run carries systemd's INVOCATION_ID (systemd >= 232), a run by hand none: never the unit's
        starts = [e for e in starts if e.get("invocation")]
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
    details = f"{journal}; {details_template(settings).format(date=date)}"
    failed = next((e for e in mine if e.get("event") in FAILURE_EVENTS), None)
    if failed is not None:
        day = str(failed.get("game_date", date))
        if failed.get("event") == "fetch_failure":
            details = with_history(details, day)
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
    echo: Echo = to_stderr,
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

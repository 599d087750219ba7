"""`projections alert --test` | `projections alert --unit-failed UNIT [--scope system|user]`.

--test          send a test message through every configured channel (webhook, email), naming the configured
                details command (alerts.details_command) as a failure alert would; exit 1 unless all of them
                accepted it.
--unit-failed   the generated OnFailure= handler (systemd passes the failed unit as %i). It finds that unit's
                run in the ledger (by $MONITOR_INVOCATION_ID; without one, the latest recent run) and alerts with
                the failed stage, its error and the journalctl command - or, when no run carries that id, says
                the unit failed before the pipeline recorded a run (doit refused to start: see the journal).
                When the run's own alert was already delivered it sends nothing. Exit 1 when no channel
                took the alert (the failure is in the ledger and the journal).
                When the settings do not load (a broken projections.toml, a bad value: the likely reason the
                unit failed), it alerts with the [alerts] settings alone - from the environment and the file,
                the rest ignored - naming the settings error; when [alerts] itself is broken it exits 2 with
                the error (in the journal).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("alert", help="send a test alert, or the alert for a failed systemd unit",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--test", action="store_true", help="send a test message through every configured channel")
    what.add_argument("--unit-failed", metavar="UNIT", help="alert that UNIT failed (the OnFailure= handler)")
    p.add_argument("--scope", choices=("system", "user"), default="system", help="where UNIT runs (default system)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    from projections.errors import ConfigError
    from projections.ledger import Ledger
    from projections.ops import alerts, unit_alert
    from projections.ops.permissions import apply_umask
    from projections.settings import load_alert_settings, load_settings

    if args.test:
        settings = load_settings()
        apply_umask(settings.permissions)  # the ledger file it may create follows the data-root policy
        deliveries = alerts.send_test_alert(settings, ledger=Ledger(settings.home))
        for d in deliveries:  # a failed one is said once, by the alert path (ALERT NOT DELIVERED ...)
            if d.ok:
                print(f"sent   {d.channel:<7} {d.target}  {d.detail}")
        return alerts.exit_code(deliveries)
    monitor = {k: v for k, v in os.environ.items() if k.startswith("MONITOR_")}
    problem: str | None = None
    try:
        settings = load_settings()
        home: Path | None = settings.home
        apply_umask(settings.permissions)  # systemd's umask is 022: the month's ledger file would be 0644
    except ConfigError as exc:
        # most likely why the unit failed: alert with [alerts] alone rather than not at all
        problem = str(exc)
        try:
            settings, home = load_alert_settings()
        except ConfigError as broken:
            raise ConfigError(f"cannot alert that {args.unit_failed} failed: even the [alerts] settings alone do not "
                              f"load - {broken} (the settings as a whole: {problem})") from None
        print(f"settings do not load ({problem}); alerting with the [alerts] settings alone", file=sys.stderr)
    ledger = Ledger(home) if home is not None else None
    return unit_alert.unit_failed(settings, args.unit_failed, scope=args.scope, ledger=ledger, monitor=monitor,
                                  settings_error=problem)

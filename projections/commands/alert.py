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

    from projections.ledger import Ledger
    from projections.ops import alerts
    from projections.settings import load_settings

    settings = load_settings()
    ledger = Ledger(settings.home)
    if args.test:
        deliveries = alerts.send_test_alert(settings, ledger=ledger)
        for d in deliveries:
            print(f"{'sent' if d.ok else 'FAILED':<6} {d.channel:<7} {d.target}  {d.detail}")
        return alerts.exit_code(deliveries)
    monitor = {k: v for k, v in os.environ.items() if k.startswith("MONITOR_")}
    return alerts.unit_failed(settings, args.unit_failed, scope=args.scope, ledger=ledger, monitor=monitor)

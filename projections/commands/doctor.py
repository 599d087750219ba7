"""`projections doctor`: everything on this machine that schedules, configures or blocks the pipeline.

Prints one row per finding (severity, check, where, what, fix): every systemd unit and crontab line that
runs the pipeline, duplicates and their environment drift, OnFailure= targets that do not exist, enabled
legacy units, drop-ins that clear or flip a setting, port conflicts, data-root owner/mode problems, and
whether each alert channel answers (a webhook answering 401/403/404/410, a revoked or mistyped URL, is an
error). Exit status: 1 when any finding is an error, else 0.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="find duplicate/drifted/legacy schedulers, overrides, ports, data-root modes",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the findings as a JSON list (an object "
                                                           "{\"ok\": false, \"error\": ...} when it cannot run)")
    p.add_argument("--no-alert-probe", action="store_true", help="do not contact the alert channels")
    p.add_argument("--fix-permissions", action="store_true",
                   help="first apply the data-root policy to every path this user may change")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json
    import shutil
    import sys

    import projections
    from projections.ops import doctor, permissions
    from projections.settings import load_settings

    settings = load_settings()
    if args.fix_permissions:
        fixed, left = permissions.repair_tree(settings.home, settings.permissions)
        print(f"fixed {len(fixed)} path(s) under {settings.home}; {len(left)} left for their owner or root",
              file=sys.stderr)
    findings = doctor.run_doctor(settings, python=sys.executable,
                                 project_dir=Path(projections.__file__).resolve().parents[1],
                                 probe_alerts=not args.no_alert_probe)
    if args.json:
        print(json.dumps([dataclasses.asdict(f) for f in findings], indent=1))
    else:
        print(doctor.format_findings(findings, width=max(shutil.get_terminal_size((160, 24)).columns, 100)), end="")
    return doctor.exit_code(findings)

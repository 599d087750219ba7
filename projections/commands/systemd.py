"""`projections systemd --user|--system [--dry-run]`: write (or print) the one generated schedule.

    <unit>.service          runs `doit slate` (today's slate date) through this project's interpreter
    <unit>.timer            at schedule.times in schedule.timezone (settings)
    <unit>-alert@.service   the OnFailure= handler: `projections alert --unit-failed %i`

The timer is linked into timers.target.wants (what `systemctl enable` does); the systemctl commands still
needed are printed. Run `projections doctor` afterwards: it lists any other scheduler still running the job.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("systemd", help="write (or print) the one service + timer + OnFailure alert unit",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--user", dest="scope", action="store_const", const="user", help="a user unit (~/.config)")
    scope.add_argument("--system", dest="scope", action="store_const", const="system", help="a system unit (/etc)")
    p.add_argument("--dry-run", action="store_true", help="print the units instead of writing them")
    p.add_argument("--unit-dir", type=Path, help="install here (default: first doctor.<scope>_unit_dirs entry)")
    p.add_argument("--project-dir", type=Path, help="the directory holding dodo.py (default: this checkout)")
    p.add_argument("--run-as", metavar="USER", help="User= of a --system service (default: schedule.user, "
                   "else the data root's owner, else $SUDO_USER)")
    p.add_argument("--no-enable", action="store_true", help="do not link the timer into timers.target.wants")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    import projections
    from projections.ops import systemd
    from projections.settings import load_settings

    if args.run_as is not None and args.scope == "user":
        from projections.errors import ConfigError

        raise ConfigError(f"--run-as {args.run_as} sets User= of a --system service; a --user unit runs as the user "
                          "who installs it: drop --run-as, or install with --system (as root)")
    settings = load_settings()
    project_dir = args.project_dir or Path(projections.__file__).resolve().parents[1]
    environment = {"PROJECTIONS_CONFIG": os.environ["PROJECTIONS_CONFIG"]} if os.environ.get("PROJECTIONS_CONFIG") \
        else {}
    # the unit carries PROJECTIONS_HOME (and PROJECTIONS_CONFIG) only: other settings set in this shell would
    # silently differ in the daily run, and may be secrets a world-readable unit file must not hold
    fields = set(type(settings).model_fields) - {"home"}
    left_out = sorted(k for k in os.environ if k.startswith("PROJECTIONS_")
                      and k[len("PROJECTIONS_"):].split("__")[0].lower() in fields)
    if left_out:
        where = os.environ.get("PROJECTIONS_CONFIG") or str(settings.home / "projections.toml")
        print(f"note: the units do not carry {', '.join(left_out)}, set in this shell: the timer's runs will not see "
              f"{'it' if len(left_out) == 1 else 'them'}; put such settings in {where}, which every run reads",
              file=sys.stderr)
    user = args.run_as
    if user is None and args.scope == "system" and not settings.home.exists():
        user = os.environ.get("SUDO_USER")  # the CLI edge reads the environment, the library does not
    systemd.check_accounts(settings, args.scope, user)
    if args.scope == "system":  # what systemd accepts and every run then fails on: say it now
        runs_as = user or settings.schedule.user or systemd.default_user(settings)
        for note in systemd.access_notes(settings, runs_as, sys.executable, project_dir):
            print(f"warning: {note}", file=sys.stderr)
    if settings.source == "archive":  # today is beyond the shipped seasons: every daily run would be refused
        where = os.environ.get("PROJECTIONS_CONFIG") or str(settings.home / "projections.toml")
        archive_note = (f"note: source is \"archive\", so the timer's daily run of today's slate will be refused "
                        f"(exit 3, an alert every day): set source = \"live\" in {where} (and the live.* endpoints) "
                        "for daily runs")
    else:
        archive_note = ""
    if args.dry_run:
        units = systemd.render_units(settings, scope=args.scope, python=sys.executable, project_dir=project_dir,
                                     user=user, environment=environment)
        print(systemd.render_text(units, args.unit_dir or systemd.unit_dir_for(settings, args.scope)), end="")
        if archive_note:
            print(archive_note, file=sys.stderr)
        return 0
    installed = systemd.install_units(settings, scope=args.scope, python=sys.executable, project_dir=project_dir,
                                      unit_dir=args.unit_dir, user=user, environment=environment,
                                      enable=not args.no_enable)
    for path in installed.written:
        print(f"wrote   {path}")
    if installed.enabled is not None:
        print(f"enabled {installed.enabled}")
    print("then run:\n" + "".join(f"  {step}\n" for step in installed.next_steps), end="")
    if archive_note:
        print(archive_note, file=sys.stderr)
    return 0

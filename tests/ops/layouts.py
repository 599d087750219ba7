"""The machine of the incident, as real files under a temporary root (see issue 5).

    etc/systemd/system/          nba-live.service + .timer (enabled), LIVE_DISABLE_TIP_WINDOW=0,
                                 OnFailure= a handler that does not exist, a drop-in that clears Environment;
                                 nba-rebuild.service: a legacy oneshot enabled in multi-user.target.wants;
                                 nba-dashboard.service on port 8501 (with an ExecStart-replacing drop-in)
    home/alice/.config/systemd/user/
                                 nba-live.service + .timer (enabled) with LIVE_DISABLE_TIP_WINDOW=1 and a drop-in
                                 that flips LIVE_USE_CONFIRMED_LINEUPS and clears OnFailure=;
                                 nba-dashboard-dev.service, also on port 8501
    etc/crontab                  the same job again from cron
    outputs/gold                 created by another scheduler: root-owned (nobody when tests run as root), 0755
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from projections.ops import permissions
from projections.settings_tables import PermissionSettings

NOBODY = 65534


@dataclass(frozen=True)
class Incident:
    root: Path
    system: Path
    user: Path
    crontab: Path
    home: Path
    foreign_dir: Path
    owner: str | None  # the expected data-root owner to configure (None: the data root's own owner)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"))
    return path


def enable(unit_dir: Path, target: str, name: str, *, absolute_to: Path | None = None) -> Path:
    """Link `name` into `<unit_dir>/<target>.wants/` as `systemctl enable` does."""
    wants = unit_dir / f"{target}.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / name
    link.symlink_to(absolute_to or unit_dir / name)
    return link


LIVE_SERVICE = """
[Unit]
Description=NBA live slate (legacy)
OnFailure=notify-failure@%n.service

[Service]
Type=oneshot
WorkingDirectory=/opt/nba
Environment=PROJECTIONS_HOME=/srv/nba/outputs LIVE_DISABLE_TIP_WINDOW={tip} LIVE_USE_CONFIRMED_LINEUPS=1
ExecStart=/opt/nba/.venv/bin/python -m doit -f /opt/nba/dodo.py slate
"""

LIVE_TIMER = """
[Unit]
Description=NBA live slate timer

[Timer]
OnCalendar=*-*-* {when}
Unit=nba-live.service

[Install]
WantedBy=timers.target
"""

DASHBOARD = """
[Unit]
Description=NBA dashboard

[Service]
ExecStart=/opt/nba/.venv/bin/streamlit run /opt/nba/projections/dashboard.py {port_arg}
Restart=always
"""


def build_incident(root: Path) -> Incident:
    system = root / "etc/systemd/system"
    user = root / "home/alice/.config/systemd/user"
    (root / "lib/systemd/system").mkdir(parents=True)

    write(system / "nba-live.service", LIVE_SERVICE.format(tip=0))
    write(system / "nba-live.timer", LIVE_TIMER.format(when="10:00"))
    enable(system, "timers.target", "nba-live.timer")
    write(system / "nba-live.service.d/override.conf", """
[Service]
Environment=
Environment=PROJECTIONS_HOME=/srv/nba/outputs LIVE_DISABLE_TIP_WINDOW=0
""")
    write(system / "nba-rebuild.service", """
[Unit]
Description=one-off rebuild of every slate (should have been removed)

[Service]
Type=oneshot
ExecStart=/opt/nba/.venv/bin/python /opt/nba/projections/scripts/rebuild_all.py

[Install]
WantedBy=multi-user.target
""")
    enable(system, "multi-user.target", "nba-rebuild.service",
           absolute_to=Path("/etc/systemd/system/nba-rebuild.service"))  # a real machine's absolute link
    write(system / "nba-dashboard.service", DASHBOARD.format(port_arg="--server.port 8501"))
    write(system / "nba-dashboard.service.d/exec.conf", """
[Service]
ExecStart=
ExecStart=/opt/nba/.venv/bin/streamlit run /opt/nba/projections/dashboard.py --server.port 8501 --server.headless true
""")

    write(user / "nba-live.service", LIVE_SERVICE.format(tip=1))
    write(user / "nba-live.timer", LIVE_TIMER.format(when="10:05"))
    enable(user, "timers.target", "nba-live.timer")
    write(user / "nba-live.service.d/10-lineups.conf", """
[Unit]
OnFailure=

[Service]
Environment=LIVE_USE_CONFIRMED_LINEUPS=0
""")
    write(user / "nba-dashboard-dev.service", DASHBOARD.format(port_arg="--server.port=8501"))

    crontab = write(root / "etc/crontab", """
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
# m h dom mon dow user  command
17 *    * * *   root    cd / && run-parts --report /etc/cron.hourly
30 17 * * * alice cd /opt/nba && LIVE_DISABLE_TIP_WINDOW=1 .venv/bin/python -m doit -f dodo.py slate >>/tmp/nba.log
""")

    home = root / "outputs"
    policy = PermissionSettings()
    permissions.ensure_tree(home, policy)
    foreign = home / "gold"
    os.chmod(foreign, 0o755)
    owner = None
    if os.geteuid() == 0:
        os.chown(foreign, NOBODY, -1)
    else:
        owner = "root"  # cannot chown as a normal user: expect another owner instead
    return Incident(root, system, user, crontab, home, foreign, owner)

"""`projections doctor` on the incident's machine (real files under tmp_path) and on a clean generated one."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from projections.ops import doctor, permissions, systemd
from projections.ops.crontab import inline_env, parse
from projections.ops.doctor import Finding
from projections.ops.unitfile import scan
from projections.settings import Settings
from tests.ops.conftest import REPO, MakeSettings
from tests.ops.layouts import Incident, build_incident, write
from tests.ops.receivers import WebhookReceiver, closed_port


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """Another process's server, holding a port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def having(findings: list[Finding], severity: str, check: str, *parts: str) -> list[Finding]:
    """The findings of `severity` and `check` whose where+message+fix contain every part."""
    return [f for f in findings if f.severity == severity and f.check == check
            and all(p in f"{f.where} {f.message} {f.fix}" for p in parts)]


@pytest.fixture
def incident(tmp_path: Path) -> Incident:
    return build_incident(tmp_path)


@pytest.fixture
def incident_settings(make_settings: MakeSettings, incident: Incident, listening: socket.socket) -> Settings:
    perms = {"owner": incident.owner} if incident.owner else {}
    return make_settings(home=incident.home, serve_port=listening.getsockname()[1], permissions=perms)


def test_doctor_reports_every_part_of_the_incident(incident: Incident, incident_settings: Settings) -> None:
    findings = doctor.run_doctor(incident_settings, python=sys.executable, project_dir=REPO)
    text = doctor.format_findings(findings, width=400)

    def one(severity: str, check: str, *parts: str) -> Finding:
        found = having(findings, severity, check, *parts)
        assert found, f"no {severity} {check} finding with {parts} in:\n{text}"
        return found[0]

    # every scheduler that runs the job: the first is kept, the rest are duplicates
    one("ok", "schedule", "system:nba-live.service runs the pipeline", "timer nba-live.timer")
    dup_user = one("error", "duplicate", "user:nba-live.service also runs the pipeline", "4 schedulers")
    assert dup_user.fix.startswith("systemctl --user disable --now nba-live.timer && rm ")
    one("error", "duplicate", "cron", f"{incident.crontab}:5", "as alice", "delete line 5")
    one("error", "duplicate", "system:nba-rebuild.service also runs the pipeline", "enabled at boot")
    # the drifted environment between the duplicates
    one("error", "drift", "LIVE_DISABLE_TIP_WINDOW differs", "0 in system:nba-live.service",
        "1 in user:nba-live.service", f"1 in cron {incident.crontab}:5")
    # the OnFailure= handler that does not exist
    one("error", "onfailure", f"{incident.system}/nba-live.service:3",
        "OnFailure=notify-failure@%n.service names notify-failure@nba-live.service.service, which does not exist")
    one("warning", "onfailure", "user:nba-live.service runs the pipeline with no OnFailure=")
    # the enabled legacy units
    one("error", "legacy", "system:nba-rebuild.service is enabled (multi-user.target.wants)",
        "systemctl disable --now nba-rebuild.service")
    one("error", "legacy", "user:nba-live.timer is enabled (timers.target.wants)")
    # what the drop-ins change
    one("error", "override", "nba-live.service.d/override.conf",
        "clears Environment, dropping LIVE_USE_CONFIRMED_LINEUPS=1")
    one("error", "override", "10-lineups.conf", "flips LIVE_USE_CONFIRMED_LINEUPS=1 -> 0")
    one("error", "override", "10-lineups.conf", "clears OnFailure= (was notify-failure@%n.service)")
    one("warning", "override", "exec.conf", "changes ExecStart=", "--server.headless true")
    # two units on one port, and a process already holding serve_port
    one("error", "port", "port 8501 is wanted by system:nba-dashboard.service and user:nba-dashboard-dev.service")
    one("warning", "port", f"serve_port {incident_settings.serve_port} is already taken")
    # the directory another scheduler created
    root_owned = one("error", "data-root", str(incident.foreign_dir), "mode 0755 lacks 2020 of the policy's 2775")
    if incident.owner is None:
        assert "owned by nobody, expected root" in root_owned.message
    # the generated units are missing, and no alert would reach anyone
    one("warning", "generated", "projections-slate.timer is not installed")
    one("warning", "alerts", "no alert channel is configured")

    assert doctor.exit_code(findings) == 1
    assert findings == sorted(findings, key=lambda f: ["error", "warning", "ok"].index(f.severity))
    for needle in ("ERROR", "duplicate", "LIVE_DISABLE_TIP_WINDOW differs", "port 8501", "error(s)"):
        assert needle in text


def test_an_alert_channel_that_does_not_answer_is_an_error(incident_settings: Settings) -> None:
    with closed_port() as sock:
        settings = incident_settings.model_copy(update={"alerts": incident_settings.alerts.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": sock.getsockname()[1], "smtp_to": ("ops@example.org",)})})
        findings = doctor.run_doctor(settings)
    [down] = having(findings, "error", "alerts", "email does not answer", "Connection refused")
    assert down.fix.endswith("projections alert --test")


class _Revoked(BaseHTTPRequestHandler):
    """A webhook receiver that no longer knows the URL: it answers every HEAD with the server's `status`."""

    server: _RevokedServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.send_response_only(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _RevokedServer(ThreadingHTTPServer):
    status = 404


@contextlib.contextmanager
def answering(status: int) -> Iterator[str]:
    """The URL of a loopback receiver answering HEAD with `status`."""
    with _RevokedServer(("127.0.0.1", 0), _Revoked) as httpd:
        httpd.status = status
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01})
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}/services/T0001/B0002/s3cr3tWebhookToken"
        finally:
            httpd.shutdown()
            thread.join()


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_webhook_the_receiver_refuses_is_an_error(make_settings: MakeSettings, status: int) -> None:
    """`alert --test` would fail with "revoked or mistyped": doctor must not call that URL ok."""
    with answering(status) as url:
        findings = doctor.run_doctor(make_settings(alerts={"webhook_url": url}))
    [refused] = having(findings, "error", "alerts", f"webhook refuses the URL (HTTP {status} to HEAD)",
                       "revoked or mistyped")
    assert refused.where.startswith("http://127.0.0.1:") and refused.where.endswith("/…")
    assert refused.fix == ("fix alerts.webhook_url (PROJECTIONS_ALERTS__WEBHOOK_URL or [alerts] in projections.toml), "
                           "then projections alert --test")
    assert not having(findings, "ok", "alerts") and doctor.exit_code(findings) == 1
    assert "s3cr3tWebhookToken" not in doctor.format_findings(findings, width=400)


def install_clean(make_settings: MakeSettings, tmp_path: Path, webhook: WebhookReceiver, scope: str) -> Settings:
    settings = make_settings(serve_port=free_port(), alerts={"webhook_url": webhook.url()}, source="live")
    systemd.install_units(settings, scope=scope, python=sys.executable, project_dir=REPO)  # type: ignore[arg-type]
    permissions.ensure_tree(settings.home, settings.permissions)
    write(tmp_path / "etc/crontab", "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n")
    write(tmp_path / "lib/systemd/system/cron.service", "[Service]\nExecStart=/usr/sbin/cron -f\n")
    return settings


@pytest.mark.parametrize("scope", ["system", "user"])
def test_clean_generated_layout_has_nothing_to_report(
    make_settings: MakeSettings, tmp_path: Path, webhook: WebhookReceiver, scope: str
) -> None:
    settings = install_clean(make_settings, tmp_path, webhook, scope)
    if scope == "user":
        write(settings.doctor.linger_dir / permissions.user_name(__import__("os").geteuid()), "")
    findings = doctor.run_doctor(settings, python=sys.executable, project_dir=REPO)
    text = doctor.format_findings(findings)
    assert [f for f in findings if f.severity != "ok"] == [], text
    assert doctor.exit_code(findings) == 0
    assert having(findings, "ok", "schedule", f"{scope}:projections-slate.service runs the pipeline")
    assert having(findings, "ok", "alerts", "webhook answers")
    assert webhook.posts == []  # probing the channel sends no message


def test_doctor_notices_drift_from_the_generated_units(
    make_settings: MakeSettings, tmp_path: Path, webhook: WebhookReceiver
) -> None:
    settings = install_clean(make_settings, tmp_path, webhook, "system")
    service = tmp_path / "etc/systemd/system/projections-slate.service"
    service.write_text(service.read_text().replace(sys.executable, "/opt/old-venv/bin/python"))
    write(tmp_path / "var/lib/systemd/linger/nobody", "")
    findings = doctor.run_doctor(settings, python=sys.executable, project_dir=REPO)
    assert having(findings, "error", "generated", "runs /opt/old-venv/bin/python, which does not exist")
    assert having(findings, "warning", "generated", "differs from what `projections systemd --system` generates")
    (tmp_path / "etc/systemd/system/timers.target.wants/projections-slate.timer").unlink()
    findings = doctor.run_doctor(settings)
    assert having(findings, "warning", "generated", "installed but not enabled", "systemctl enable --now")
    assert having(findings, "warning", "schedule", "nothing schedules the pipeline")


def test_a_timer_in_archive_mode_is_a_warning(make_settings: MakeSettings, tmp_path: Path,
                                             webhook: WebhookReceiver) -> None:
    """Archive mode: today lies beyond the shipped seasons, so every daily run is refused (exit 3) and alerted -
    `projections systemd` says so when it writes the units, but doctor called the timer ok."""
    settings = install_clean(make_settings, tmp_path, webhook, "system")
    archive = settings.model_copy(update={"source": "archive"})
    findings = doctor.run_doctor(archive)
    assert having(findings, "warning", "generated", 'source is "archive": every daily run is refused',
                  'set source = "live"')
    assert not having(findings, "ok", "generated")


def test_user_timer_without_linger_is_a_warning(make_settings: MakeSettings, tmp_path: Path,
                                                 webhook: WebhookReceiver) -> None:
    settings = install_clean(make_settings, tmp_path, webhook, "user")
    findings = doctor.run_doctor(settings)
    assert having(findings, "warning", "generated", "lingering is off", "loginctl enable-linger")
    assert doctor.exit_code(findings) == 0


def test_the_same_generated_timer_in_both_scopes_is_a_duplicate(
    make_settings: MakeSettings, tmp_path: Path, webhook: WebhookReceiver
) -> None:
    settings = install_clean(make_settings, tmp_path, webhook, "system")
    systemd.install_units(settings, scope="user", python=sys.executable, project_dir=REPO)
    findings = doctor.run_doctor(settings)
    assert having(findings, "error", "duplicate", "user:projections-slate.service also runs the pipeline",
                  "system:projections-slate.service already does")
    assert doctor.exit_code(findings) == 1


# --------------------------------------------------------------------------------- readers underneath


def test_unit_reader_resets_masks_and_priorities(tmp_path: Path) -> None:
    etc, lib = tmp_path / "etc", tmp_path / "lib"
    write(lib / "a.service", "[Service]\nEnvironment=X=lib\nExecStart=/bin/lib\n")
    write(etc / "a.service", "[Service]\nEnvironment=X=1 \"Y=two words\"\nExecStart=/bin/true \\\n  --flag\n")
    write(lib / "a.service.d/20-b.conf", "[Service]\nEnvironment=Z=lib\n")
    write(etc / "a.service.d/20-b.conf", "[Service]\nEnvironment=Z=etc\n")  # same name: /etc hides /lib
    write(lib / "a.service.d/10-a.conf", "[Service]\n# comment\nEnvironment=\nEnvironment=Y=reset\n")
    write(lib / "masked.service", "[Service]\nExecStart=/bin/x\n")
    (etc / "masked.service").symlink_to("/dev/null")
    write(lib / "t@.service", "[Service]\nExecStart=/bin/echo %i\n")
    units = scan([etc, lib], "system")
    a = units.units["a.service"]
    assert a.path == etc / "a.service"
    assert [layer.path.name for layer in a.dropins] == ["10-a.conf", "20-b.conf"]
    assert a.dropins[1].path == etc / "a.service.d/20-b.conf"
    assert a.environment(layers=1) == {"X": "1", "Y": "two words"}
    assert a.environment() == {"Y": "reset", "Z": "etc"}
    assert a.commands() == ["/bin/true  --flag"]
    assert "masked.service" in units.masked and "masked.service" not in units.units
    assert units.exists("t@foo.service") and not units.exists("u@foo.service")
    assert a.expand("x@%n-%p-%i%%") == "x@a.service-a-%"


def test_crontab_reader_system_user_formats_and_env() -> None:
    system = parse("MAILTO=ops\nFOO = 'bar baz'\n@reboot root /bin/boot\n0 10 * * 1-5 alice A=1 B=2 run && C=3 go\n",
                   source="/etc/crontab", system=True)
    assert [(c.schedule, c.user, c.line) for c in system] == [("@reboot", "root", 3), ("0 10 * * 1-5", "alice", 4)]
    assert system[1].command == "A=1 B=2 run && C=3 go"
    assert system[1].env == {"MAILTO": "ops", "FOO": "bar baz", "A": "1", "B": "2", "C": "3"}
    [spool] = parse("*/5 * * * * /usr/bin/python -m doit slate\n", source="crontab -l", system=False, owner="bob")
    assert (spool.user, spool.command) == ("bob", "/usr/bin/python -m doit slate")
    assert inline_env("env X=1 python run.py Y=2") == {"X": "1"}


def test_crontab_collect_reads_dirs_spools_and_the_command(tmp_path: Path) -> None:
    from projections.ops.crontab import collect

    write(tmp_path / "etc/cron.d/nba", "0 10 * * * nba /opt/nba/.venv/bin/python -m doit slate\n")
    write(tmp_path / "spool/crontabs/bob", "5 4 * * * /home/bob/run.sh\n")
    listing = [sys.executable, "-c", "print('15 9 * * * python -m doit -f /x/dodo.py slate')"]
    lines, notes = collect([tmp_path / "etc/cron.d", tmp_path / "spool/crontabs", tmp_path / "missing"], listing)
    assert [(c.source, c.user, c.schedule) for c in lines] == [
        (str(tmp_path / "etc/cron.d/nba"), "nba", "0 10 * * *"),
        (str(tmp_path / "spool/crontabs/bob"), "bob", "5 4 * * *"),
        (" ".join(listing), None, "15 9 * * *"),
    ]
    assert notes == []
    assert collect([], ["/nonexistent/crontab", "-l"]) == ([], [])  # no cron installed: nothing to report
    failing = [sys.executable, "-c", "import sys; sys.exit('crontab: permission denied')"]
    assert collect([], failing)[1][0].endswith("exited 1: crontab: permission denied")
    none_yet = [sys.executable, "-c", "import sys; sys.exit('no crontab for alice')"]
    assert collect([], none_yet) == ([], [])


def test_doctor_runs_against_this_machine_without_raising(make_settings: MakeSettings, tmp_path: Path) -> None:
    """The real /etc/systemd/system, /lib/systemd/system and crontabs: whatever they hold, doctor reports it."""
    from projections.settings_tables import DoctorSettings

    settings = make_settings(doctor=DoctorSettings().model_dump())
    findings = doctor.run_doctor(settings, probe_alerts=False)
    assert findings and doctor.exit_code(findings) in (0, 1)
    assert doctor.format_findings(findings).rstrip().endswith(" ok")


def test_doctor_checks_and_fixes_the_snapshot_indexes_every_run_appends_to(tmp_path: Path) -> None:
    """A 0644 refs/snapshots/<table>/*.jsonl (another group member cannot append the next capture) was not
    checked: `doctor --fix-permissions` said the data root followed the policy and left it 0644."""
    import json
    import os
    import stat

    from projections.settings_tables import PermissionSettings
    from tests.conftest import run_cli

    home = tmp_path / "home"
    permissions.ensure_tree(home, PermissionSettings())
    index = home / "refs" / "snapshots" / "odds" / "game_date=2019-10-30.jsonl"
    permissions.ensure_dir(index.parent, PermissionSettings())
    index.write_text("{}\n")
    os.chmod(index, 0o644)

    def data_root(*args: str) -> list[dict[str, Any]]:
        result = run_cli(home, "doctor", "--json", "--no-alert-probe", *args, timeout=300)
        return [f for f in json.loads(result.stdout) if f["check"] == "data-root"]

    [found] = data_root()
    assert found["severity"] == "error" and found["where"] == str(index), found
    assert "mode 0644 lacks 0020 of the policy's 0664" in found["message"]
    assert found["fix"] == f"sudo chmod 0664 {index}"
    [after] = data_root("--fix-permissions")
    assert after["severity"] == "ok" and "ledger and index files 0664" in after["message"], after
    assert stat.S_IMODE(index.stat().st_mode) == 0o664


def test_a_drifted_value_cleared_by_an_override_reads_as_empty() -> None:
    """`Environment=PROJECTIONS_HOME=` in an override clears it: the drift row printed the empty value as
    nothing at all ('PROJECTIONS_HOME differs ...:  in user:...')."""
    from projections.ops.crontab import CronLine
    from projections.ops.doctor_units import _schedule
    from projections.ops.inventory import Runner

    cron = CronLine(source="/etc/crontab", line=5, schedule="0 10 * * *", user="alice", command="doit slate")
    runners = [Runner("cron", label, label, "doit slate", env, "daily", ours=False, cron=cron)
               for label, env in (("cron a", {"PROJECTIONS_HOME": "/srv/nba"}), ("cron b", {"PROJECTIONS_HOME": ""}),
                                  ("cron c", {}))]
    [drift] = [f for f in _schedule(None, runners) if f.check == "drift"]  # type: ignore[arg-type]
    assert drift.message == ("PROJECTIONS_HOME differs between the schedulers: /srv/nba in cron a; (empty) in cron b;"
                             " (unset) in cron c"), drift.message


def test_a_world_readable_settings_file_with_a_secret_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    """With the recommended 664 policy, projections.toml holding the webhook URL (its token) was readable by every
    user of the box, who could send alerts with it; the generated units keep secrets out, doctor said nothing."""
    import os

    from projections.ops.doctor import _secrets_file

    toml = tmp_path / "projections.toml"
    toml.write_text('[alerts]\nwebhook_url = "https://hooks.example/T0/TOKEN"\n')
    monkeypatch.setenv("PROJECTIONS_CONFIG", str(toml))
    os.chmod(toml, 0o664)
    [finding] = _secrets_file()
    assert finding.severity == "warning" and finding.check == "secrets" and f"chmod o-r {toml}" in finding.fix
    assert "TOKEN" not in finding.message + finding.fix
    os.chmod(toml, 0o660)
    assert _secrets_file() == []


@pytest.mark.parametrize("text, key", [
    ('[live.odds]\napi_key = "K3Y-abcdef"\n', "live.odds.api_key"),
    ('[live]\nstats_base = "https://user:PASS@stats.example/api"\n', "live.stats_base"),
    ('alerts.webhook_url = "https://hooks.example/T0/TOKEN"\n', "alerts.webhook_url"),
    ('[alerts]\n"smtp_password" = "hunter22"\n', "alerts.smtp_password"),
    ('[live.odds]\nurl = "https://odds.example/v1?apiKey=abcdef123"\n', "live.odds.url"),
])
def test_every_kind_of_secret_in_a_world_readable_settings_file_is_found(tmp_path: Path, monkeypatch, text: str,
                                                                         key: str) -> None:
    """Only a plain `webhook_url =` or `smtp_password =` line warned: an API key, a password in a URL, a dotted or
    a quoted key did not."""
    import os

    from projections.ops.doctor import _secrets_file

    toml = tmp_path / "projections.toml"
    base = '[live.odds]\napi_key_header = "X-Api-Key"\n' if "live.odds" not in text else '[schedule]\nunit = "nba"\n'
    toml.write_text(base)
    os.chmod(toml, 0o664)
    monkeypatch.setenv("PROJECTIONS_CONFIG", str(toml))
    assert _secrets_file() == []  # no secret, no warning (a header's name is no secret)
    toml.write_text(text + base)
    [finding] = _secrets_file()
    assert f"({key})" in finding.message, finding.message
    for secret in ("K3Y-abcdef", "PASS", "TOKEN", "hunter22", "abcdef123"):
        assert secret not in finding.message + finding.fix


def test_settings_without_secrets_are_not_flagged() -> None:
    """The documented default header `x-nba-stats-token = "true"` and a details command with `--sort-key=` were
    reported as secrets."""
    from projections.ops.settings_secrets import secret_keys

    text = ('[live]\nstats_base = "https://stats.nba.com/stats"\n[live.stats_headers]\n"x-nba-stats-token" = "true"\n'
            '"x-nba-stats-origin" = "stats"\n[live.odds]\napi_key_header = "X-Api-Key"\napi_key_prefix = "Bearer "\n'
            'headers = { "X-Session-Token" = "public" }\n'
            '[alerts]\nsmtp_user = "nba"\ndetails_command = "projections status {date} --sort-key=salary {{x}}"\n')
    assert secret_keys(text) == []


def test_live_mode_says_whether_the_season_before_is_in_the_archive(make_settings: MakeSettings,
                                                                    tmp_path: Path) -> None:
    """The calibration fits on the season before: in live mode the doctor says whether the archive holds it, that
    the next run fetches it when it does not, and that nothing can when live.game_logs.url is unset (an error: every
    slate of the season would fail). In the summer the season ahead is the one that counts."""
    home = tmp_path / "home"
    held = doctor.run_doctor(make_settings(home=home, source="live", live={"now": "2019-11-05T15:00:00Z"}),
                             probe_alerts=False)
    assert having(held, "ok", "season", "2018-19", "the archive holds 2018-19's game logs, which 2019-20's")
    ahead = doctor.run_doctor(make_settings(home=home, source="live", live={"now": "2026-08-01T15:00:00Z"}),
                              probe_alerts=False)
    assert having(ahead, "ok", "season", "2025-26", "lacks 2025-26's game logs, which 2026-27's calibration",
                  "the next live run fetches them (live.game_logs), once")
    unset = doctor.run_doctor(make_settings(home=home, source="live", live={"now": "2026-11-27T15:00:00Z",
                                                                              "game_logs": {"url": ""}}),
                              probe_alerts=False)
    assert having(unset, "error", "season", "2025-26", "no run can fetch them: every slate of 2026-27 fails",
                  "projections ingest game-logs FILE")
    assert doctor.exit_code(unset) == 1
    assert not [f for f in doctor.run_doctor(make_settings(home=home), probe_alerts=False) if f.check == "season"]

"""The generated units: their content, their install, and `systemd-analyze verify` where it exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from projections.errors import ConfigError
from projections.ops import systemd
from tests.ops.conftest import REPO, MakeSettings

PYTHON = sys.executable


def sections(content: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in content.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            current = line.strip("[]")
            out[current] = []
        else:
            out[current].append(line)
    return out


def test_system_units_content(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings(
        schedule={"times": ["10:00", "17:30"], "timezone": "America/New_York", "user": "nba"},
        alerts={"webhook_url": "https://hooks.example.org/services/T1/B2/s3cr3tWebhookToken",
                "smtp_password": "hunter2-smtp-password"},
        permissions={"group": "nba"},
    )
    units = systemd.render_units(settings, scope="system", python=PYTHON, project_dir=REPO)
    assert list(units) == ["projections-slate.service", "projections-slate.timer", "projections-slate-alert@.service"]

    service = sections(units["projections-slate.service"])
    assert "OnFailure=projections-slate-alert@%n.service" in service["Unit"]
    assert service["Service"] == [
        "Type=oneshot",
        f"WorkingDirectory={REPO}",
        f"Environment=PROJECTIONS_HOME={tmp_path / 'outputs'}",
        "Environment=PYTHONUNBUFFERED=1",
        "UMask=0002",
        "User=nba",
        "Group=nba",
        "TimeoutStartSec=14400",
        "SyslogIdentifier=projections-slate",
        f"ExecStart={PYTHON} -m doit -f {REPO / 'dodo.py'} slate",  # today's slate: the dodo's default date
        f"ExecStartPost=-{PYTHON} -m projections.cli gc --keep 3",  # a daily root stays bounded
    ]
    assert "Install" not in service  # only the timer starts it: nothing runs it at boot behind the timer's back

    timer = sections(units["projections-slate.timer"])
    assert timer["Timer"] == [
        "OnCalendar=*-*-* 10:00:00 America/New_York",
        "OnCalendar=*-*-* 17:30:00 America/New_York",
        "Persistent=true",
        "AccuracySec=1min",
        "Unit=projections-slate.service",
    ]
    assert timer["Install"] == ["WantedBy=timers.target"]

    alert = sections(units["projections-slate-alert@.service"])
    assert alert["Service"][-1] == f"ExecStart={PYTHON} -m projections.cli alert --unit-failed %i --scope system"
    assert "OnFailure" not in units["projections-slate-alert@.service"].replace("# No OnFailure=", "")
    everything = "".join(units.values())
    assert "s3cr3tWebhookToken" not in everything and "hunter2" not in everything  # unit files are world-readable


def test_user_units_have_no_user_and_quote_odd_paths(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings(home=tmp_path / "my data %d", schedule={"unit": "nba-slate", "times": ["9:05"]})
    units = systemd.render_units(settings, scope="user", python=PYTHON, project_dir=REPO,
                                 environment={"PROJECTIONS_CONFIG": "/etc/nba/projections.toml"})
    service = units["nba-slate.service"]
    assert f'Environment="PROJECTIONS_HOME={tmp_path}/my data %%d"' in service
    assert "Environment=PROJECTIONS_CONFIG=/etc/nba/projections.toml" in service
    assert "User=" not in service and "network-online" not in service
    assert "OnFailure=nba-slate-alert@%n.service" in service
    assert "OnCalendar=*-*-* 09:05:00 America/New_York" in units["nba-slate.timer"]
    assert units["nba-slate-alert@.service"].rstrip().endswith("--unit-failed %i --scope user")


def test_system_service_runs_as_the_data_root_owner_by_default(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings()
    me = systemd._user_name(os.geteuid())
    assert f"User={me}\n" in systemd.render_units(settings, scope="system", python=PYTHON, project_dir=REPO)[
        "projections-slate.service"]
    settings.home.mkdir()
    if os.geteuid() == 0:  # `sudo projections systemd --system` must not make the run root's
        os.chown(settings.home, 65534, 65534)
        service = systemd.render_units(settings, scope="system", python=PYTHON, project_dir=REPO)
        assert f"User={systemd._user_name(65534)}\n" in service["projections-slate.service"]
    explicit = systemd.render_units(settings, scope="system", python=PYTHON, project_dir=REPO, user="alice")
    assert "User=alice\n" in explicit["projections-slate.service"]


def test_install_refuses_a_user_or_group_that_does_not_exist(make_settings: MakeSettings, tmp_path: Path) -> None:
    """`--run-as nosuchuser` wrote User=nosuchuser: systemd takes the file and fails every run (217/USER)."""
    unit_dir = tmp_path / "units"
    cases = [
        (make_settings(), "nosuchuser", "--run-as nosuchuser: no such user on this machine, so the service "
         "(User=nosuchuser) could never start; create it (sudo useradd --system nosuchuser) or pass an existing "
         "user to --run-as"),
        (make_settings(schedule={"user": "ghost"}), None, "schedule.user = 'ghost': no such user on this machine"),
        (make_settings(permissions={"group": "nosuchgroup"}), "root", "permissions.group = 'nosuchgroup': no such "
         "group on this machine, so the service (Group=nosuchgroup) could never start; create it"),
    ]
    for settings, user, message in cases:
        with pytest.raises(ConfigError) as caught:
            systemd.install_units(settings, scope="system", python=PYTHON, project_dir=REPO, unit_dir=unit_dir,
                                  user=user, enable=False)
        assert str(caught.value).startswith(message), str(caught.value)
        assert not unit_dir.exists()
    installed = systemd.install_units(make_settings(), scope="system", python=PYTHON, project_dir=REPO,
                                      unit_dir=unit_dir, user="root", enable=False)
    assert "User=root\n" in installed.written[0].read_text()


def test_the_cli_refuses_run_as_a_user_that_does_not_exist(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    unit_dir = tmp_path / "units"
    for extra in (["--no-enable"], ["--dry-run"]):
        result = run_cli(tmp_path / "home", "systemd", "--system", "--run-as", "nosuchuser", "--unit-dir",
                         str(unit_dir), *extra)
        assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
        assert result.stderr.startswith("error: --run-as nosuchuser: no such user on this machine"), result.stderr
        assert len(result.stderr.splitlines()) == 1 and not unit_dir.exists()
    user = run_cli(tmp_path / "home", "systemd", "--user", "--run-as", "nobody", "--dry-run")  # it said nothing
    assert user.returncode == 2 and user.stdout == "", user.stdout + user.stderr  # and wrote no User=
    assert user.stderr.startswith("error: --run-as nobody sets User= of a --system service; a --user unit runs as "
                                  "the user who installs it"), user.stderr


def test_the_cli_warns_that_archive_mode_cannot_run_today(tmp_path: Path) -> None:
    """With source left at "archive" (the default), the timer's daily run of today's slate is refused every day:
    the units were written without a word of it."""
    from tests.conftest import run_cli

    archive = run_cli(tmp_path / "home", "systemd", "--user", "--dry-run")
    assert archive.returncode == 0, archive.stderr
    assert "note: source is \"archive\", so the timer's daily run of today's slate will be refused" in archive.stderr
    assert f"set source = \"live\" in {tmp_path / 'home' / 'projections.toml'}" in archive.stderr
    live = run_cli(tmp_path / "home", "systemd", "--user", "--dry-run", PROJECTIONS_SOURCE="live")
    assert live.returncode == 0 and "source is" not in live.stderr, live.stderr


@pytest.mark.parametrize(("override", "match"), [
    ({"schedule": {"times": ["25:00"]}}, r"schedule.times: '25:00' is not HH:MM"),
    ({"schedule": {"times": []}}, r"schedule.times: no time given"),
    ({"schedule": {"timezone": "Mars/Olympus"}}, r"'Mars/Olympus' is not an IANA time zone"),
    ({"schedule": {"unit": "slate.service"}}, r"schedule.unit: 'slate.service' is not a usable unit name"),
    ({"schedule": {"unit": "slate@x"}}, r"not a usable unit name"),
])
def test_bad_schedule_settings_are_config_errors(make_settings: MakeSettings, override: dict, match: str) -> None:
    """Refused when settings load, so doctor and every other command say it, not only `projections systemd`."""
    with pytest.raises(ConfigError, match=match):
        make_settings(**override)


def test_seconds_in_a_time_reach_the_timer(make_settings: MakeSettings) -> None:
    settings = make_settings(schedule={"times": ["9:05", "17:30:15"], "timezone": "Europe/Paris"})
    assert systemd.on_calendar(settings) == ["*-*-* 09:05:00 Europe/Paris", "*-*-* 17:30:15 Europe/Paris"]


def test_bad_interpreter_or_project_dir(make_settings: MakeSettings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'python3' is not an absolute path"):
        systemd.render_units(make_settings(), scope="user", python="python3", project_dir=REPO)
    with pytest.raises(ConfigError, match=r"dodo.py does not exist: pass the project directory"):
        systemd.render_units(make_settings(), scope="user", python=PYTHON, project_dir=tmp_path)


def test_install_writes_units_and_enables_the_timer(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings()
    installed = systemd.install_units(settings, scope="user", python=PYTHON, project_dir=REPO)
    unit_dir = tmp_path / "home/alice/.config/systemd/user"
    assert installed.unit_dir == unit_dir
    assert [p.name for p in installed.written] == [
        "projections-slate.service", "projections-slate.timer", "projections-slate-alert@.service"]
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in installed.written)
    link = unit_dir / "timers.target.wants" / "projections-slate.timer"
    assert installed.enabled == link and os.readlink(link) == str(unit_dir / "projections-slate.timer")
    assert installed.next_steps[1:3] == (
        "systemctl --user daemon-reload", "systemctl --user start projections-slate.timer")
    assert installed.next_steps[0].startswith("loginctl enable-linger")
    rendered = systemd.render_units(settings, scope="user", python=PYTHON, project_dir=REPO)
    assert {p.name: p.read_text() for p in installed.written} == rendered
    again = systemd.install_units(settings, scope="user", python=PYTHON, project_dir=REPO)  # idempotent
    assert again.written == installed.written and sorted(p.name for p in unit_dir.iterdir()) == sorted(
        [*rendered, "timers.target.wants"])


def test_dry_run_text_names_each_file(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings()
    units = systemd.render_units(settings, scope="system", python=PYTHON, project_dir=REPO)
    text = systemd.render_text(units, systemd.unit_dir_for(settings, "system"))
    assert f"# {tmp_path}/etc/systemd/system/projections-slate.timer\n" in text
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("scope", ["system", "user"])
def test_systemd_analyze_verify_accepts_the_units(make_settings: MakeSettings, tmp_path: Path, scope: str) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here, so the units cannot be verified by systemd itself")
    settings = make_settings(home=tmp_path / "data root")
    installed = systemd.install_units(settings, scope=scope, python=PYTHON, project_dir=REPO,  # type: ignore[arg-type]
                                      unit_dir=tmp_path / "units", enable=False)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    argv = [analyze, "verify", *(["--user"] if scope == "user" else []), *map(str, installed.written)]
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "warning"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # verify prints (and still exits 0 for) unknown keys and unparsable values: none may concern our files
    assert str(installed.unit_dir) not in output, output


@pytest.mark.parametrize("where", ["file", "under-a-file", "proc"])
def test_a_unit_dir_that_cannot_be_a_directory_is_a_config_error(make_settings: MakeSettings, tmp_path: Path,
                                                                  where: str) -> None:
    blocker = tmp_path / "units.conf"
    blocker.write_text("not a directory\n")
    unit_dir = {"file": blocker, "under-a-file": blocker / "user", "proc": Path("/proc/projections-units")}[where]
    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("no procfs here")
    with pytest.raises(ConfigError) as caught:
        systemd.install_units(make_settings(), scope="user", python=PYTHON, project_dir=REPO, unit_dir=unit_dir)
    message = str(caught.value)
    assert str(unit_dir) in message and "--unit-dir" in message, message
    if where != "proc":
        assert "is a file" in message and blocker.read_text() == "not a directory\n"


def test_settings_set_only_in_the_shell_are_named_as_left_out_of_the_units(tmp_path: Path) -> None:
    """The unit carries PROJECTIONS_HOME (and PROJECTIONS_CONFIG) only: a parameter set in the installing shell
    would silently differ in the timer's runs, so the command names it and where it belongs instead."""
    from tests.conftest import run_cli

    home = tmp_path / "home"
    result = run_cli(home, "systemd", "--user", "--dry-run", PROJECTIONS_PARAMS__SIM__DRAWS="500",
                     PROJECTIONS_SOURCE="archive", PROJECTIONS_FAILPOINTS="")
    assert result.returncode == 0, result.stderr
    assert "PARAMS__SIM__DRAWS" not in result.stdout  # not written into the unit
    assert result.stderr.startswith("note: the units do not carry PROJECTIONS_PARAMS__SIM__DRAWS, PROJECTIONS_SOURCE, "
                                    "set in this shell: the timer's runs will not see them; put such settings in "
                                    f"{home / 'projections.toml'}, which every run reads\n")
    home.mkdir(parents=True, exist_ok=True)
    (home / "projections.toml").write_text('source = "live"\n')
    quiet = run_cli(home, "systemd", "--user", "--dry-run")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


def test_a_system_service_user_who_could_not_run_it_is_warned_about(tmp_path: Path) -> None:
    """`--system --run-as nobody` wrote a unit whose user could not write the data root (root's, 0755) - nor, on
    this machine, reach the interpreter under /root - and said nothing: systemd takes it, every run fails."""
    import os

    from tests.conftest import run_cli

    if os.geteuid() != 0:
        pytest.skip("needs root: the data root must belong to another user than nobody")
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    unit_dir = tmp_path / "units"
    result = run_cli(home, "systemd", "--system", "--dry-run", "--run-as", "nobody", "--unit-dir", str(unit_dir))
    assert result.returncode == 0 and "User=nobody" in result.stdout, result.stdout + result.stderr
    assert f"warning: nobody cannot write the data root {home}: every run would be refused" in result.stderr, \
        result.stderr
    fine = run_cli(home, "systemd", "--system", "--dry-run", "--run-as", "root", "--unit-dir", str(unit_dir))
    assert fine.returncode == 0 and "warning:" not in fine.stderr, fine.stderr  # root reaches all of it


@pytest.mark.parametrize("where", ["environment", "project_dir", "run_as"])
def test_a_newline_never_reaches_a_unit_file(make_settings: MakeSettings, tmp_path: Path, where: str) -> None:
    """A newline in a value written into a unit started a directive of its own: PROJECTIONS_HOME (now refused
    by the settings, below) or any other value with `\\nExecStartPre=/bin/touch /tmp/pwned` ran that command as
    the unit's user."""
    evil = "x\nExecStartPre=/bin/touch /tmp/pwned"
    checkout = tmp_path / evil  # a real checkout with a newline in its name
    checkout.mkdir(parents=True)
    (checkout / "dodo.py").write_text("")
    kwargs: dict = {"environment": {"PROJECTIONS_CONFIG": f"/etc/{evil}"}} if where == "environment" else \
        {"project_dir": checkout} if where == "project_dir" else {"user": evil}
    kwargs.setdefault("project_dir", REPO)
    with pytest.raises(ConfigError, match="holds a control character"):
        systemd.render_units(make_settings(), scope="system", python=PYTHON, **kwargs)


def test_a_data_root_with_a_newline_is_refused_before_any_unit_is_written(tmp_path: Path) -> None:
    units = tmp_path / "units"
    env = {**os.environ, "PROJECTIONS_HOME": f"{tmp_path}/root\nExecStartPre=/bin/touch {tmp_path}/pwned"}
    result = subprocess.run([sys.executable, "-m", "projections.cli", "systemd", "--user", "--unit-dir", str(units)],
                            env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 2 and "holds a control character" in result.stderr, result.stdout + result.stderr
    assert not units.exists() and "\n" not in result.stderr.rstrip("\n")  # named with the newline escaped


def test_the_service_collects_garbage_after_a_run_unless_told_not_to(make_settings: MakeSettings,
                                                                     tmp_path: Path) -> None:
    """The gc line the service runs after a successful slate is a working command (run here as systemd would, on
    a data root with a slate built: it deletes nothing a build needs, exit 0); `schedule.gc_keep = 0` leaves it out."""
    import shlex
    import subprocess

    from tests.conftest import gold_object, project_env, run_doit

    home = tmp_path / "home"
    assert run_doit(home, "slate", "date=2019-10-30").returncode == 0
    settings = make_settings(home=home, schedule={"gc_keep": 2})
    service = sections(systemd.render_units(settings, scope="user", python=PYTHON, project_dir=REPO)
                       ["projections-slate.service"])["Service"]
    [post] = [line for line in service if line.startswith("ExecStartPost=")]
    assert post.startswith("ExecStartPost=-")  # a failing gc does not fail the run
    before = gold_object(home, "2019-10-30")
    ran = subprocess.run(shlex.split(post.removeprefix("ExecStartPost=-")), env=project_env(home), cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith("gc: deleted 0 objects") and gold_object(home, "2019-10-30") == before, ran.stdout
    off = make_settings(home=home, schedule={"gc_keep": 0})
    unit = systemd.render_units(off, scope="user", python=PYTHON, project_dir=REPO)["projections-slate.service"]
    assert "ExecStartPost" not in unit and "gc" not in unit

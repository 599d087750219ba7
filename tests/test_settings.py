"""Settings errors: an empty path, a broken or misspelt projections.toml, a config path that is a directory -
each a clear ConfigError naming the variable or the file and the fix, never a traceback nor the current
directory taken for the data root."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections import fastpath
from projections.errors import ConfigError
from projections.settings import load_settings
from tests.conftest import FIXTURE_DATE, doit_argv, project_env, run_cli, run_doit

BROKEN_TOML = "this is not toml [\n"
MISSPELT_TOML = 'serve_prot = 9000\nsoruce = "live"\n'


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean PROJECTIONS_* environment whose data root is tmp_path/home (the toml goes there)."""
    import os

    for name in list(os.environ):
        if name.startswith("PROJECTIONS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PROJECTIONS_HOME", str(home))
    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    yield home


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# ---- 1. an empty path is an error, not the current directory ----------------------------------------------


def test_an_empty_projections_home_is_refused_by_the_cli(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run([sys.executable, "-m", "projections.cli", "status", FIXTURE_DATE],
                            env=project_env(tmp_path / "home", PROJECTIONS_HOME=""), cwd=work,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PROJECTIONS_HOME" in result.stderr and "unset it or give a path" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _listing(work) == []


def test_an_empty_projections_home_is_refused_by_doit(tmp_path: Path):
    """`PROJECTIONS_HOME= doit slate` used to build into doit's directory (the checkout)."""
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(doit_argv("-d", str(work), "slate", f"date={FIXTURE_DATE}"),
                            env=project_env(tmp_path / "home", PROJECTIONS_HOME=""), cwd=work,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode != 0, result.stdout + result.stderr
    assert result.stderr.startswith("ERROR: ") and "Traceback" not in result.stderr, result.stderr
    assert "PROJECTIONS_HOME" in result.stderr and "unset it or give a path" in result.stderr, result.stderr
    assert _listing(work) == []


@pytest.mark.parametrize("name", ["PROJECTIONS_HOME", "PROJECTIONS_CONFIG", "PROJECTIONS_LIVE__INBOX",
                                  "PROJECTIONS_DOCTOR__LINGER_DIR"])
@pytest.mark.parametrize("value", ["", "  "])
def test_every_empty_path_variable_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"{name}\b.*unset it or give a path"):
        load_settings()
    with pytest.raises(ConfigError, match=rf"{name}\b.*unset it or give a path"):
        fastpath.settings()


def test_an_empty_path_in_the_file_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch):
    toml = env / "projections.toml"
    toml.write_text('home = ""\n[live]\ninbox = ""\n')
    monkeypatch.delenv("PROJECTIONS_HOME")  # else it would win over the file's home
    monkeypatch.setenv("PROJECTIONS_CONFIG", str(toml))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "(home: " in message and "; live.inbox: " in message and "unset it or give a path" in message, message
    assert message.endswith(f"fix {toml}"), message


# ---- 2. a malformed file is a ConfigError naming the file, line and column ------------------------------


def test_a_malformed_toml_file_names_the_file_line_and_column(env: Path):
    toml = env / "projections.toml"
    toml.write_text('source = "archive"\n' + BROKEN_TOML)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(toml) in message and "line 2, column 6" in message, message
    assert "Expected '=' after a key" in message and "this is not toml [" in message, message
    with pytest.raises(ConfigError, match="line 2, column 6"):
        fastpath.settings()


def test_a_malformed_line_holding_a_secret_is_not_quoted_back(env: Path):
    """The error is printed, logged and put in the journal: a webhook URL carries its token."""
    (env / "projections.toml").write_text('[alerts]\nwebhook_url = "https://hooks.example/T0/TOKEN_7f3a\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "line 2" in message and "(the line reads 'webhook_url = ...')" in message, message
    assert "TOKEN_7f3a" not in message and "hooks.example" not in message


def test_a_settings_file_saved_with_a_byte_order_mark_is_read(env: Path):
    """Some editors start a UTF-8 file with a BOM, which tomllib refuses ('Invalid statement' at line 1)."""
    (env / "projections.toml").write_bytes(b'\xef\xbb\xbfserve_port = 9000\nsource = "archive"\n')
    assert load_settings().serve_port == 9000
    assert fastpath.settings().serve_port == 9000


def test_a_toml_file_that_is_not_utf8_is_a_config_error(env: Path):
    (env / "projections.toml").write_bytes(b'source = "archive"\nserve_host = "\xff"\n')
    with pytest.raises(ConfigError, match=r"projections.toml.*line 2.*UTF-8"):
        load_settings()


def test_a_malformed_toml_file_is_a_clean_error_from_the_cli_and_doit(home: Path):
    home.mkdir()
    toml = home / "projections.toml"
    toml.write_text(BROKEN_TOML)
    cli = run_cli(home, "status", FIXTURE_DATE, timeout=120)
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "Traceback" not in cli.stderr and str(toml) in cli.stderr and "line 1, column 6" in cli.stderr
    doit = run_doit(home, "slate", f"date={FIXTURE_DATE}", timeout=120)
    assert doit.returncode != 0 and "Traceback" not in doit.stderr, doit.stderr
    lines = doit.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), doit.stderr
    assert str(toml) in lines[0] and "line 1, column 6" in lines[0] and "Expected '='" in lines[0]
    assert sorted(p.name for p in home.iterdir()) == ["projections.toml"]  # nothing was started


# ---- 3. unknown keys in the file and unknown environment variables are refused ---------------------------


def test_unknown_top_level_keys_in_the_file_are_refused(env: Path):
    toml = env / "projections.toml"
    toml.write_text(MISSPELT_TOML)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(toml) in message, message
    assert "serve_prot" in message and "did you mean serve_port?" in message, message
    assert "soruce" in message and "did you mean source?" in message, message
    with pytest.raises(ConfigError, match="serve_prot"):
        fastpath.settings()


def test_unknown_keys_are_refused_by_the_cli(home: Path):
    home.mkdir()
    (home / "projections.toml").write_text(MISSPELT_TOML)
    result = run_cli(home, "status", FIXTURE_DATE, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "serve_prot" in result.stderr and "serve_port" in result.stderr and "Traceback" not in result.stderr


def test_a_misspelt_nested_key_names_the_closest_setting(env: Path):
    (env / "projections.toml").write_text('[alerts]\nwebhok_url = "http://127.0.0.1:9/hook"\n')
    with pytest.raises(ConfigError, match=r"alerts.webhok_url: not a setting \(did you mean alerts.webhook_url\?\)"):
        load_settings()


def test_a_misspelt_table_in_the_environment_names_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch):
    """PROJECTIONS_LIVE__ODD__URL (odds misspelt) was refused as `live.odd: not a setting ...; fix the
    PROJECTIONS_* environment variable or projections.toml`: the variable that set it was never named."""
    monkeypatch.setenv("PROJECTIONS_LIVE__ODD__URL", "http://127.0.0.1:9/odds")
    with pytest.raises(ConfigError, match=r"PROJECTIONS_LIVE__ODD__URL \(live.odd\): not a setting \(did you mean "
                                          r"live.odds\?\)\); fix PROJECTIONS_LIVE__ODD__URL$"):
        load_settings()


@pytest.mark.parametrize("where", ["environment", "file"])
def test_parameters_of_an_unknown_stage_name_where_they_were_set(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 where: str):
    """`[params.simm]` or PROJECTIONS_PARAMS__SIMM__DRAWS was refused naming the stage meant but not where it was
    set, unlike every other settings error."""
    from projections.params import unknown_stages

    if where == "file":
        (env / "projections.toml").write_text("[params.simm]\ndraws = 500\n")
        fix = f"fix [params.simm] in {env / 'projections.toml'}"
    else:
        monkeypatch.setenv("PROJECTIONS_PARAMS__SIMM__DRAWS", "500")
        fix = "fix PROJECTIONS_PARAMS__SIMM__DRAWS"
    assert "simm" in load_settings().params  # refused by the engine, which knows the stages
    error = str(unknown_stages(["simm"], ["sim", "gold"]))
    assert "did you mean sim for simm?" in error and error.endswith(fix), error


def test_a_retired_parameter_an_older_version_pinned_says_what_replaced_it(env: Path):
    """An older version's `[params.minutes] probable = 0.9` (a factor on P(plays)) refused every run after the
    upgrade with "did you mean probable_sits?" - a factor on P(sits), where the old value means the opposite."""
    from pydantic import ValidationError

    from projections.params import invalid_params
    from stages.minutes import Params

    (env / "projections.toml").write_text("[params.minutes]\nprobable = 0.9\n")
    with pytest.raises(ValidationError) as caught:
        Params.model_validate(load_settings().params["minutes"])
    error = str(invalid_params("minutes", caught.value, Params))
    assert "probable: retired: it scaled a Probable player's P(plays); probable_sits now scales his P(sits)" \
        in error and "did you mean" not in error, error
    assert error.endswith(f"fix probable in [params.minutes] of {env / 'projections.toml'}"), error


def test_keys_the_loader_accepts_are_not_refused(env: Path):
    (env / "projections.toml").write_text('SERVE_PORT = 9001\n[params.lineups]\nmode = "none"\n')
    settings = load_settings()
    assert settings.serve_port == 9001 and settings.params == {"lineups": {"mode": "none"}}


@pytest.mark.parametrize(("name", "closest"), [
    ("PROJECTIONS_SOURCES", "PROJECTIONS_SOURCE"),
    ("PROJECTIONS_SERVE_PROT", "PROJECTIONS_SERVE_PORT"),
    ("PROJECTIONS_PARAM__LINEUPS__MODE", "PROJECTIONS_PARAMS__LINEUPS__MODE"),
    ("PROJECTIONS_ALERTS_WEBHOOK_URL", "PROJECTIONS_ALERTS__WEBHOOK_URL"),
    ("projections_soruce", "PROJECTIONS_SOURCE"),  # the loader reads names in any case, so they are checked so
    ("PROJECTIONS_SERVE_PORT__X", "PROJECTIONS_SERVE_PORT"),
])
def test_unknown_environment_variables_are_refused_naming_the_closest(
    env: Path, monkeypatch: pytest.MonkeyPatch, name: str, closest: str
):
    """A typo in a variable ran the default silently (`PROJECTIONS_SOURCES=live` built from the archive), while
    the same typo in the file was refused. The variables the code reads for itself stay allowed."""
    for allowed in ("PROJECTIONS_STATS", "PROJECTIONS_FAILPOINTS", "PROJECTIONS_FAILPOINT_MARK",
                    "PROJECTIONS_SHARED_DIR", "PROJECTIONS_PARAMS__LINEUPS__MODE", "PROJECTIONS_LIVE__ODDS__API_KEY"):
        monkeypatch.setenv(allowed, "1")
    monkeypatch.setenv(name, "live")
    with pytest.raises(ConfigError, match=rf"^invalid settings in the environment \({name}: not a setting.*"
                                          rf"did you mean {closest}\?\)\); rename or unset it"):
        load_settings()
    with pytest.raises(ConfigError, match=name):
        fastpath.settings()


def test_an_unknown_variable_is_refused_by_doit_and_the_cli(home: Path):
    doit = run_doit(home, "slate", f"date={FIXTURE_DATE}", timeout=120, PROJECTIONS_SOURCES="live")
    assert doit.returncode == 3, doit.stdout + doit.stderr
    lines = doit.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and "Traceback" not in doit.stderr, doit.stderr
    assert "PROJECTIONS_SOURCES: not a setting (did you mean PROJECTIONS_SOURCE?)" in lines[0]
    assert not home.exists()  # nothing was built in the default mode
    cli = run_cli(home, "status", FIXTURE_DATE, timeout=120, PROJECTIONS_PARAM__LINEUPS__MODE="none")
    assert cli.returncode == 2 and "Traceback" not in cli.stderr, cli.stdout + cli.stderr
    assert "did you mean PROJECTIONS_PARAMS__LINEUPS__MODE?" in cli.stderr


def test_a_setting_in_lowercase_is_refused_by_doit_after_a_cached_run(home: Path):
    """The settings loader reads names in any case, but doit's cached settings, PROJECTIONS_CONFIG and the
    units read capitals: `projections_home=... doit slate` built into the cached run's root."""
    assert run_doit(home, "schedule", f"date={FIXTURE_DATE}", timeout=120).returncode == 0  # caches settings
    other = home.parent / "other"
    doit = run_doit(home, "schedule", f"date={FIXTURE_DATE}", timeout=120, projections_home=str(other))
    assert doit.returncode == 3, doit.stdout + doit.stderr
    assert "projections_home: write it in capitals, PROJECTIONS_HOME" in doit.stderr and not other.exists()
    cli = run_cli(home, "status", FIXTURE_DATE, timeout=120, projections_params__lineups__mode="none")
    assert cli.returncode == 2 and "write it in capitals, PROJECTIONS_PARAMS__LINEUPS__MODE" in cli.stderr


def test_a_file_changed_after_a_cached_load_is_checked_again(env: Path):
    toml = env / "projections.toml"
    toml.write_text("serve_port = 9001\n")
    assert fastpath.settings().serve_port == 9001
    assert fastpath.settings().serve_port == 9001  # from the cache
    toml.write_text("serve_port = 9001\nserve_prot = 9002\n")
    with pytest.raises(ConfigError, match="serve_prot"):
        fastpath.settings()


# ---- 4. PROJECTIONS_CONFIG naming a directory -------------------------------------------------------------


def test_projections_config_naming_a_directory_says_so(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROJECTIONS_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=rf"PROJECTIONS_CONFIG={tmp_path} is a directory.*a TOML file") as caught:
        load_settings()
    assert "does not exist" not in str(caught.value)
    monkeypatch.setenv("PROJECTIONS_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_a_directory_named_projections_toml_in_the_data_root_is_refused(env: Path):
    (env / "projections.toml").mkdir()
    with pytest.raises(ConfigError, match=r"projections.toml is a directory"):
        load_settings()


# ---- an environment value that is not JSON -----------------------------------------------------------------


def test_a_nested_variable_that_is_not_json_is_a_config_error(env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROJECTIONS_PARAMS", "{bad")
    with pytest.raises(ConfigError, match=r"PROJECTIONS_PARAMS.*JSON"):
        load_settings()


# ---- alerts: the details command template and the email recipients ------------------------------------------


@pytest.mark.parametrize(("template", "problem"), [
    ("see {day}", "names the unknown field {day}"),
    ("projections status {date} {}", "names the unknown field {}"),
    ("projections status {", "is not a valid template"),
    ("projections status {date.year}", "cannot be filled in"),
    ("x {date!r:>99999999}", "formats a field ({date!r:>99999999}): fields are put in as they are"),
    ("x {date:^30}", "formats a field ({date:^30})"),
])
def test_a_details_command_alerts_cannot_fill_in_is_refused(
    env: Path, monkeypatch: pytest.MonkeyPatch, template: str, problem: str
):
    """A typo here used to lose every failure alert ("alert not sent: 'day'") and crash the OnFailure handler."""
    monkeypatch.setenv("PROJECTIONS_ALERTS__DETAILS_COMMAND", template)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "PROJECTIONS_ALERTS__DETAILS_COMMAND (alerts.details_command)" in message, message
    assert problem in message and "the fields allowed are {date}" in message, message


def test_a_details_command_typo_in_the_file_names_the_file(env: Path):
    toml = env / "projections.toml"
    toml.write_text('[alerts]\ndetails_command = "ssh nba projections status {day}"\n')
    with pytest.raises(ConfigError, match=r"alerts.details_command: .*unknown field \{day\}.*\{date\}") as caught:
        load_settings()
    assert str(caught.value).endswith(f"fix {toml}")
    toml.write_text('[alerts]\ndetails_command = "projections history {date} # {{not a field}}"\n')
    assert load_settings().alerts.details_command == "projections history {date} # {{not a field}}"


def test_alert_test_refuses_a_details_command_typo(home: Path):
    result = run_cli(home, "alert", "--test", timeout=120, PROJECTIONS_ALERTS__DETAILS_COMMAND="see {day}",
                     PROJECTIONS_ALERTS__WEBHOOK_URL="http://127.0.0.1:9/hook")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sent" not in result.stdout and "Traceback" not in result.stderr
    assert "PROJECTIONS_ALERTS__DETAILS_COMMAND" in result.stderr and "{day}" in result.stderr, result.stderr


def test_alert_test_says_an_undelivered_channel_once(home: Path):
    """A dead webhook was said twice: `FAILED webhook ...` and `ALERT NOT DELIVERED via webhook ...`."""
    result = run_cli(home, "alert", "--test", timeout=120, PROJECTIONS_ALERTS__WEBHOOK_URL="http://127.0.0.1:9/hook")
    assert result.returncode == 1, result.stdout + result.stderr
    said = (result.stdout + result.stderr).count("Connection refused; 2)")
    assert said == 1 and "ALERT NOT DELIVERED via webhook" in result.stderr, result.stdout + result.stderr


BOTH = ("ops@example.org", "oncall@example.org")


def test_smtp_to_from_the_environment_takes_one_address_or_a_list(env: Path, monkeypatch: pytest.MonkeyPatch):
    """One address is what the README and the "no alert channel" message suggest; it was refused as bad JSON."""
    for value, expected in (("ops@example.org", BOTH[:1]), ("ops@example.org, oncall@example.org,", BOTH),
                            ('["ops@example.org", "oncall@example.org"]', BOTH)):
        monkeypatch.setenv("PROJECTIONS_ALERTS__SMTP_TO", value)
        assert load_settings().alerts.smtp_to == expected, value


def test_smtp_to_from_the_file_takes_one_address_or_a_list(env: Path):
    for value, expected in (('"ops@example.org"', BOTH[:1]), ('"ops@example.org,oncall@example.org"', BOTH),
                            ('["ops@example.org", "oncall@example.org"]', BOTH)):
        (env / "projections.toml").write_text(f"[alerts]\nsmtp_to = {value}\n")
        assert load_settings().alerts.smtp_to == expected, value


def test_smtp_to_that_is_no_address_names_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROJECTIONS_ALERTS__SMTP_TO", '["ops@example.org"')
    with pytest.raises(ConfigError, match=r"PROJECTIONS_ALERTS__SMTP_TO \(alerts.smtp_to\): .*separated by commas"):
        load_settings()


# ---- permission modes are octal, however they are written --------------------------------------------------


@pytest.mark.parametrize("text", [
    "[permissions]\ndir_mode = 2775\nfile_mode = 664\n",
    '[permissions]\ndir_mode = "2775"\nfile_mode = "0664"\n',
    '[permissions]\ndir_mode = "0o2775"\nfile_mode = "0o664"\n',
    "[permissions]\ndir_mode = 0o2775  # TOML's own octal literal\nfile_mode = 664\n",
    "permissions.dir_mode = 0o2_775\npermissions.file_mode = 664\n",
    "permissions = { dir_mode = 2775, file_mode = 0o664 }\n",
], ids=["int", "text", "0o-text", "0o-literal", "dotted", "inline"])
def test_modes_in_the_file_are_octal_however_written(env: Path, text: str):
    """`dir_mode = 2775`, as the README writes it, was read as decimal: data root d-ws-w-rwt, ledger --w--w-r--."""
    (env / "projections.toml").write_text(text)
    policy = load_settings().permissions
    assert (policy.dir_mode, policy.file_mode) == (0o2775, 0o664)
    # in Python an int is the mode itself, as os.chmod takes it
    assert load_settings(permissions={"dir_mode": 0o2770, "file_mode": 0o644}).permissions.file_mode == 0o644


@pytest.mark.parametrize("value", ["2770", "0o2770", "02770"])
def test_modes_in_the_environment_are_octal(env: Path, monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("PROJECTIONS_PERMISSIONS__DIR_MODE", value)
    monkeypatch.setenv("PROJECTIONS_PERMISSIONS__FILE_MODE", "660")
    assert (load_settings().permissions.dir_mode, load_settings().permissions.file_mode) == (0o2770, 0o660)
    monkeypatch.delenv("PROJECTIONS_PERMISSIONS__DIR_MODE")
    monkeypatch.delenv("PROJECTIONS_PERMISSIONS__FILE_MODE")
    monkeypatch.setenv("PROJECTIONS_PERMISSIONS", '{"dir_mode": 2770, "file_mode": 660}')
    assert (load_settings().permissions.dir_mode, load_settings().permissions.file_mode) == (0o2770, 0o660)


@pytest.mark.parametrize(("value", "problem"), [
    ("9999", "'9999' is not an octal mode"),
    ('"777x"', "'777x' is not an octal mode"),
    ("0o17777", "'0o17777' is not an octal mode"),  # more than 7777
    ("1.5", "1.5 is not a mode"),
    ("555", "0555 does not give the owner rwx"),
])
def test_a_dir_mode_that_is_no_octal_mode_is_refused(env: Path, value: str, problem: str):
    toml = env / "projections.toml"
    toml.write_text(f"[permissions]\ndir_mode = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"permissions.dir_mode: {problem}" in message and message.endswith(f"fix {toml}"), message


@pytest.mark.parametrize(("value", "problem"), [
    ("444", "0444 does not give the owner rw"),
    ("2664", "2664 sets setuid/setgid/sticky bits"),
    ("778", "'778' is not an octal mode"),
])
def test_a_bad_file_mode_names_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch, value: str, problem: str):
    monkeypatch.setenv("PROJECTIONS_PERMISSIONS__FILE_MODE", value)
    with pytest.raises(ConfigError, match=rf"PROJECTIONS_PERMISSIONS__FILE_MODE \(permissions.file_mode\): {problem}"):
        load_settings()


def test_a_build_under_the_documented_modes_gets_those_modes(home: Path, tmp_path: Path):
    """The README's policy, written as the README writes it, on a real build: directories 2775, ledger 664."""
    import stat

    toml = tmp_path / "projections.toml"
    toml.write_text("[permissions]\ndir_mode = 2775\nfile_mode = 664\n")
    result = run_doit(home, "schedule", f"date={FIXTURE_DATE}", timeout=300, PROJECTIONS_CONFIG=str(toml))
    assert result.returncode == 0, result.stdout + result.stderr
    for path in (home, home / "ledger", home / "store" / "objects"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o2775, path
    [ledger] = (home / "ledger").glob("*.jsonl")
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o664


# ---- serve_port ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [0, 65536, 99999, -1])
def test_a_serve_port_out_of_range_is_refused(env: Path, port: int):
    (env / "projections.toml").write_text(f"serve_port = {port}\n")
    with pytest.raises(ConfigError, match=r"\(serve_port: Input should be (greater|less) than or equal to"):
        load_settings()


def test_doctor_refuses_a_serve_port_out_of_range_in_one_line(home: Path):
    """It died with `OverflowError: bind(): port must be 0-65535`; doit accepted the setting."""
    home.mkdir()
    (home / "projections.toml").write_text("serve_port = 99999\n")
    result = run_cli(home, "doctor", "--no-alert-probe", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: invalid settings (serve_port: ") and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and str(home / "projections.toml") in result.stderr
    doit = run_doit(home, "slate", f"date={FIXTURE_DATE}", timeout=120)
    assert doit.returncode == 3 and doit.stderr.startswith("ERROR: invalid settings (serve_port: "), doit.stderr


@pytest.mark.parametrize(("text", "setting"), [
    ("serve_port = true\n", "serve_port"),
    ("lock_timeout_s = false\n", "lock_timeout_s"),
    ("dask_workers = true\n", "dask_workers"),
    ("[alerts]\nsmtp_port = true\n", "alerts.smtp_port"),
    ("[schedule]\ntimeout_s = true\n", "schedule.timeout_s"),
    ("[live]\nmax_attempts = true\n", "live.max_attempts"),
    ('[live.host_intervals]\n"stats.nba.com" = true\n', "live.host_intervals.stats.nba.com"),
    ("[remote]\nlease_s = true\n", "remote.lease_s"),
])
def test_a_boolean_for_a_number_is_refused(env: Path, text: str, setting: str):
    """`serve_port = true` was read as port 1 (pydantic takes true for 1)."""
    toml = env / "projections.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"({setting}: " in message and "is a boolean, not a number: write the number itself" in message, message
    assert message.endswith(f"fix {toml}"), message


@pytest.mark.parametrize("port", [0, 65536])
def test_an_smtp_port_out_of_range_is_refused(env: Path, port: int):
    (env / "projections.toml").write_text(f"[alerts]\nsmtp_port = {port}\n")
    with pytest.raises(ConfigError, match=r"\(alerts.smtp_port: Input should be (greater|less) than or equal to"):
        load_settings()


def test_numbers_from_the_environment_are_still_read_from_text(env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROJECTIONS_SERVE_PORT", "9000")
    monkeypatch.setenv("PROJECTIONS_LIVE__MAX_ATTEMPTS", "2")
    settings = load_settings()
    assert (settings.serve_port, settings.live.max_attempts) == (9000, 2)


# ---- lock_timeout_s, timezone, alerts.webhook_url -----------------------------------------------------------


def test_a_negative_lock_timeout_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch):
    """-5 was taken, and a run waiting for a lock said 'gave up after -5 s'; 0 means: do not wait at all."""
    monkeypatch.setenv("PROJECTIONS_LOCK_TIMEOUT_S", "-5")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == ("invalid settings (PROJECTIONS_LOCK_TIMEOUT_S (lock_timeout_s): Input should be "
                                 "greater than or equal to 0); fix PROJECTIONS_LOCK_TIMEOUT_S")
    monkeypatch.setenv("PROJECTIONS_LOCK_TIMEOUT_S", "0")
    assert load_settings().lock_timeout_s == 0


@pytest.mark.parametrize("variable, value, says", [
    ("PROJECTIONS_ALERTS__TIMEOUT_S", "0", "greater than 0"),  # was raised to 1 ms without a word
    ("PROJECTIONS_ALERTS__ATTEMPTS", "0", "greater than or equal to 1"),  # was raised to 1 without a word
    ("PROJECTIONS_LIVE__READ_TIMEOUT_S", "inf", "a finite number"),  # a fetch that may never end
    ("PROJECTIONS_LOCK_TIMEOUT_S", "nan", "a finite number"),
])
def test_alert_tries_and_timeouts_that_cannot_work_are_refused(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                                variable: str, value: str, says: str):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert f"invalid settings ({variable} (" in str(caught.value) and says in str(caught.value)
    assert str(caught.value).endswith(f"; fix {variable}")


def test_a_top_level_timezone_that_is_no_zone_is_refused(env: Path):
    """Only schedule.timezone was checked: `timezone = "Mars/X"` was taken."""
    toml = env / "projections.toml"
    toml.write_text('timezone = "Mars/X"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (f"invalid settings (timezone: 'Mars/X' is not an IANA time zone (e.g. "
                                 f"America/New_York)); fix {toml}")
    toml.write_text('timezone = "Europe/Paris"\n')
    assert load_settings().timezone == "Europe/Paris"


@pytest.mark.parametrize("url", ["not a url TOKEN_7f3a", "hooks.example/T0/TOKEN_7f3a", "ftp://hooks.example/TOKEN_7f3a",
                                 "https://:TOKEN_7f3a@/T0"])
def test_a_webhook_url_that_is_no_url_is_refused_without_quoting_it(env: Path, url: str):
    """It was only refused when an alert was sent, i.e. when a run had already failed."""
    toml = env / "projections.toml"
    toml.write_text(f'[alerts]\nwebhook_url = "{url}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("invalid settings (alerts.webhook_url: not an http(s) URL with a host ("), message
    assert "e.g. https://hooks.slack.com/services/" in message and message.endswith(f"fix {toml}"), message
    assert "TOKEN_7f3a" not in message and "hooks.example" not in message, message


def test_a_webhook_url_from_the_environment_is_checked_and_empty_means_none(
    env: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PROJECTIONS_ALERTS__WEBHOOK_URL", "hooks.example/T0/TOKEN_7f3a")
    with pytest.raises(ConfigError, match=r"^invalid settings \(PROJECTIONS_ALERTS__WEBHOOK_URL "
                       r"\(alerts.webhook_url\): not an http\(s\) URL.*; fix PROJECTIONS_ALERTS__WEBHOOK_URL$"):
        load_settings()
    monkeypatch.setenv("PROJECTIONS_ALERTS__WEBHOOK_URL", "")
    assert load_settings().alerts.webhook_url.get_secret_value() == ""  # type: ignore[union-attr]
    monkeypatch.setenv("PROJECTIONS_ALERTS__WEBHOOK_URL", "http://127.0.0.1:9/hooks/T0/TOKEN_7f3a")
    assert load_settings().alerts.webhook_url.get_secret_value().endswith("TOKEN_7f3a")  # type: ignore[union-attr]


# ---- a data root that can never be one ----------------------------------------------------------------------


@pytest.mark.parametrize("below", ["", "sub"])
@pytest.mark.parametrize("command", [["status", FIXTURE_DATE], ["gc", "--dry-run"], ["snapshots", FIXTURE_DATE],
                                     ["ingest", "inbox"], ["doctor", "--no-alert-probe"]])
def test_a_data_root_that_is_a_file_is_one_line_for_every_command(tmp_path: Path, below: str, command: list[str]):
    """`PROJECTIONS_HOME=<a file> projections status` ended in a NotADirectoryError traceback (doctor said the
    file followed the policy, ingest said the inbox was empty)."""
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    home = blocker / below if below else blocker
    result = run_cli(home, *command, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert f"PROJECTIONS_HOME (home): the data root {home} " in result.stderr
    assert f"{blocker} is a file, not a directory" in result.stderr or f"{home} is a file" in result.stderr
    assert blocker.read_text() == "x"


def test_a_data_root_in_a_kernel_file_system_is_one_line(tmp_path: Path):
    """`PROJECTIONS_HOME=/proc/nope doit slate` ended in a FileNotFoundError traceback."""
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    home = Path("/proc/projections-nope")
    doit = run_doit(home, "slate", f"date={FIXTURE_DATE}", timeout=120)
    assert doit.returncode == 3, doit.stdout + doit.stderr
    assert doit.stderr.startswith("ERROR: ") and len(doit.stderr.splitlines()) == 1, doit.stderr
    assert f"the data root {home} does not exist and cannot be created: /proc is on the kernel's proc" in doit.stderr
    cli = run_cli(home, "status", FIXTURE_DATE, timeout=120)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr and "/proc is on the kernel's" in cli.stderr


def test_a_data_root_behind_a_dangling_symlink_names_the_link(tmp_path: Path):
    """A home on a disk that is not mounted (a symlink to nowhere) was "cannot create .../store: No such file"."""
    link = tmp_path / "projections"
    link.symlink_to(tmp_path / "unmounted" / "projections")
    for home in (link, link / "root"):
        doit = run_doit(home, "slate", f"date={FIXTURE_DATE}", timeout=120)
        assert doit.returncode == 3 and len(doit.stderr.splitlines()) == 1, doit.stdout + doit.stderr
        assert f"{link} is a symbolic link to {tmp_path / 'unmounted' / 'projections'}, which does not exist" \
            in doit.stderr
    assert not (tmp_path / "unmounted").exists()


READ_ONLY = """
root="$1"
shift
mount -t tmpfs -o ro tmpfs "$root" || exit 99
for home in "$root" "$root/home"; do PROJECTIONS_HOME="$home" "$@"; echo "exit $?"; done
"""


def test_a_read_only_data_root_says_remount_not_chmod(tmp_path: Path):
    """On a read-only mount doit said `... is not writable ... e.g. chmod u+rwx`: no chmod fixes that."""
    import shutil

    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no util-linux unshare: cannot mount a read-only file system for the test")
    mounted = tmp_path / "ro"
    mounted.mkdir()
    # a private mount namespace: the read-only mount goes away with the process
    argv = [unshare, "--mount", "sh", "-c", READ_ONLY, "sh", str(mounted), *doit_argv("slate", f"date={FIXTURE_DATE}")]
    env = project_env(mounted)
    del env["PROJECTIONS_HOME"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if result.returncode == 99 or "unshare failed" in result.stderr:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    assert result.stdout.split() == ["exit", "3", "exit", "3"], result.stdout + result.stderr
    first, second = result.stderr.strip().splitlines()
    assert first.startswith(f"ERROR: data root {mounted} is on a read-only file system (owner "), first
    assert first.endswith("remount it read-write or set PROJECTIONS_HOME to a directory on a writable file system")
    assert "chmod" not in first
    assert second.startswith(f"ERROR: invalid settings (PROJECTIONS_HOME (home): the data root {mounted / 'home'} "
                             f"does not exist and cannot be created: {mounted} is on a read-only file system; "
                             "remount it read-write"), second


def test_list_settings_take_commas_in_the_environment_and_one_value_in_the_file(
    env: Path, monkeypatch: pytest.MonkeyPatch
):
    """`PROJECTIONS_SCHEDULE__TIMES=10:00, 17:30` was refused as bad JSON of PROJECTIONS_SCHEDULE (not even the
    variable set), and `times = "09:00"` in the file as "not a valid tuple"."""
    monkeypatch.setenv("PROJECTIONS_SCHEDULE__TIMES", "10:00, 17:30:15")
    monkeypatch.setenv("PROJECTIONS_DOCTOR__MATCH", "projections")
    settings = load_settings()
    assert settings.schedule.times == ("10:00", "17:30:15") and settings.doctor.match == ("projections",)
    monkeypatch.setenv("PROJECTIONS_SCHEDULE__TIMES", "25:00")
    with pytest.raises(ConfigError, match=r"PROJECTIONS_SCHEDULE__TIMES \(schedule.times\): '25:00' is not HH:MM"):
        load_settings()
    monkeypatch.delenv("PROJECTIONS_SCHEDULE__TIMES")
    (env / "projections.toml").write_text('[schedule]\ntimes = "09:00"\n')
    assert load_settings().schedule.times == ("09:00",)


@pytest.mark.parametrize(("value", "expected"), [("/tmp/units", ("/tmp/units",)), ("/a, /b", ("/a", "/b")),
                                                 ('["/a", "/b"]', ("/a", "/b"))])
def test_path_lists_take_one_path_or_commas_in_the_environment(monkeypatch: pytest.MonkeyPatch, value: str,
                                                               expected: tuple[str, ...]):
    """`PROJECTIONS_DOCTOR__USER_UNIT_DIRS=/tmp/x` was refused as 'PROJECTIONS_DOCTOR: Expecting value: line 1
    column 1', naming neither the variable nor the field: path lists took JSON only."""
    monkeypatch.setenv("PROJECTIONS_DOCTOR__USER_UNIT_DIRS", value)
    monkeypatch.setenv("PROJECTIONS_DOCTOR__CRONTAB_FILES", value)
    settings = load_settings()
    assert settings.doctor.user_unit_dirs == tuple(Path(p) for p in expected)
    assert settings.doctor.crontab_files == tuple(Path(p) for p in expected)


@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_path_list_is_refused(monkeypatch: pytest.MonkeyPatch, value: str):
    """Read as no path at all, doctor silently scanned no crontab (the README says an empty path is refused)."""
    monkeypatch.setenv("PROJECTIONS_DOCTOR__CRONTAB_FILES", value)
    with pytest.raises(ConfigError, match=r"PROJECTIONS_DOCTOR__CRONTAB_FILES \(doctor.crontab_files\): .*at least 1"):
        load_settings()


@pytest.mark.parametrize("home", ["/", "//", "/usr", "/tmp", "link"])
def test_a_system_directory_is_no_data_root(tmp_path: Path, home: str):
    """`PROJECTIONS_HOME=/ doit slate` (as root) laid out /store, /gold, /ledger, /locks, /refs, /inbox, /cache.
    Checked on the rule and on `status` (which lays out nothing either way), so that this test, failing, does not
    do what it guards against."""
    from projections.ops.unwritable import unusable_root

    if home == "link":
        (tmp_path / "link").symlink_to("/")
        home = str(tmp_path / "link")
    problem = unusable_root(Path(home))
    assert problem is not None and "is a system directory" in problem and "give a directory of its own" in problem
    cli = run_cli(Path(home), "status", FIXTURE_DATE, timeout=120)
    assert cli.returncode == 2 and "is a system directory" in cli.stderr, cli.stdout + cli.stderr
    assert len(cli.stderr.splitlines()) == 1, cli.stderr


@pytest.mark.parametrize("mount", ["/mnt", "/srv", "/opt", "/media"])
def test_a_disk_mounted_at_a_top_level_mount_point_can_be_the_data_root(mount: str):
    """/mnt was refused with the system's directories: a dedicated disk is mounted right there (a cloud VM's
    resource disk at /mnt), and every run was refused."""
    from projections.ops.unwritable import unusable_root

    assert "system directory" not in (unusable_root(Path(mount)) or "")


def test_a_settings_file_that_is_no_regular_file_is_refused(env: Path):
    """<home>/projections.toml as a FIFO (or a link to /dev/zero): it was passed over without a word, so settings a
    user meant to give went unread; PROJECTIONS_CONFIG naming the same was refused already."""
    import os

    os.mkfifo(env / "projections.toml")
    with pytest.raises(ConfigError, match=r"projections\.toml is not a regular file; settings are read from a TOML"):
        load_settings()

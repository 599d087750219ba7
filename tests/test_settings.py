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


# ---- 3. unknown keys in the file are refused, unknown environment variables ignored ----------------------


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


def test_keys_the_loader_accepts_are_not_refused(env: Path):
    (env / "projections.toml").write_text('SERVE_PORT = 9001\n[params.lineups]\nmode = "none"\n')
    settings = load_settings()
    assert settings.serve_port == 9001 and settings.params == {"lineups": {"mode": "none"}}


def test_unknown_environment_variables_stay_ignored(env: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("PROJECTIONS_STATS", "PROJECTIONS_FAILPOINTS", "PROJECTIONS_SERVE_PROT"):
        monkeypatch.setenv(name, "1")
    assert load_settings().serve_port == 8765
    assert fastpath.settings().serve_port == 8765


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

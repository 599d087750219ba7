"""Usage mistakes on the `projections` command line: refused at once with exit 2 and one line naming the
argument (or directory, or table) and the fix - never a traceback, never accepted and acted on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from projections.cli import build_parser, main
from tests.conftest import FIXTURE_DATE, ledger_events, run_cli

BELOW_MINIMUM = [
    (["diff", FIXTURE_DATE, "aaaa", "bbbb", "--top", "0"], "--top"),
    (["diff", FIXTURE_DATE, "--top", "-3"], "--top"),
    (["diff", FIXTURE_DATE, "--top", "ten"], "--top"),
    (["serve", "--refresh", "-1"], "--refresh"),
    (["serve", "--refresh", "nan"], "--refresh"),
    (["serve", "--port", "0"], "--port"),
    (["serve", "--port", "70000"], "--port"),
    (["gc", "--keep", "0"], "--keep"),
    (["gc", "--keep", "-2", "--dry-run"], "--keep"),
    (["gc", "--grace", "-1"], "--grace"),
    (["gc", "--grace", "nan"], "--grace"),  # nan would compare false with every age: no grace period at all
]


@pytest.mark.parametrize("argv, option", BELOW_MINIMUM, ids=[" ".join(a) for a, _ in BELOW_MINIMUM])
def test_numeric_options_out_of_range_are_refused_by_the_parser(argv: list[str], option: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # refused while parsing: nothing runs (an accepted `serve --refresh -1` would start serving)
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()  # the usage (a long one wraps), then the error
    usage, error = lines[0], lines[-1]
    assert usage.startswith(f"usage: projections {argv[0]} ") and captured.out == ""
    assert sum(line.startswith("error: ") for line in lines) == 1
    assert error.startswith(f"error: projections {argv[0]}: argument {option}: "), captured.err


def test_a_usage_mistake_with_json_prints_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    """A mistake argparse finds (an option out of range, an unknown command) ends as every error does: with
    `--json`, one JSON object on standard output beside the usage and `error:` lines on standard error."""
    for argv in (["diff", FIXTURE_DATE, "--top", "0", "--json"], ["bogus", "--json"], ["status", "--jsn"]):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        error = captured.err.splitlines()[-1]
        assert error.startswith("error: projections"), captured.err
        if "--json" in argv:
            assert json.loads(captured.out) == {"ok": False, "error": error.removeprefix("error: "), "exit_code": 2}
        else:
            assert captured.out == "" and "unrecognized arguments: --jsn" in error


@pytest.mark.parametrize("argv, hint", [
    (["stauts", FIXTURE_DATE], "; did you mean status?"),
    (["ingest", "dk-salary", "DKSalaries.csv"], "; did you mean dk-salaries?"),
    (["help"], "; `projections --help` lists them, and `projections COMMAND --help` one's options"),
    (["ingest", "help"], "; `projections ingest --help` lists them, and `projections ingest KIND --help` one's "
                         "options"),
])
def test_an_unknown_command_names_the_one_meant(argv: list[str], hint: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`projections stauts` listed the fifteen commands and no more; doit names the task meant ("did you mean
    minutes?"), so the other half of the project's command line does too."""
    assert main(argv) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("error: projections") and "invalid choice" in error and error.endswith(hint), error


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    """`projections --version` said "the following arguments are required: COMMAND" (exit 2)."""
    from importlib.metadata import version

    result = run_cli(tmp_path / "home", "--version")
    assert result.returncode == 0 and result.stdout == f"projections {version('projections')}\n", result
    assert result.stderr == ""


UNKNOWN_OPTIONS = [
    (["status", FIXTURE_DATE, "--jsno"], "projections status", "did you mean --json?"),
    (["gc", "--dryrun"], "projections gc", "did you mean --dry-run?"),
    (["ingest", "injuries", "report.pdf", "--att", "x"], "projections ingest injuries", "did you mean --at?"),
    (["verify", "extra"], "projections verify", ""),
]


@pytest.mark.parametrize("argv, command, hint", UNKNOWN_OPTIONS, ids=[" ".join(a) for a, _, _ in UNKNOWN_OPTIONS])
def test_an_unknown_option_is_blamed_on_its_command(argv: list[str], command: str, hint: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`projections status --jsno` printed the top-level usage (`usage: projections [-h] COMMAND ...`) and
    `error: projections: unrecognized arguments`: the command's usage and name, the option meant, and its --help."""
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"usage: {command} "), lines
    assert lines[-1].startswith(f"error: {command}: unrecognized arguments: "), lines
    assert hint in lines[-1] and f"`{command} --help`" in lines[-1], lines


def test_every_command_and_argument_has_a_help_text() -> None:
    """`projections ingest dk-salaries --help` (and `inbox`, `injuries`) printed a bare usage: no description,
    a positional `files` explained nowhere. Every command says what it does, every argument what it takes."""
    import argparse

    missing = []

    def walk(parser: argparse.ArgumentParser) -> None:
        if not parser.description:
            missing.append(parser.prog)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
            elif not action.help:
                missing.append(f"{parser.prog} {action.dest}")

    walk(build_parser())
    assert missing == []


def test_in_range_values_still_parse() -> None:
    parser = build_parser()
    assert parser.parse_args(["diff", FIXTURE_DATE, "--top", "1"]).top == 1
    assert parser.parse_args(["serve", "--refresh", "0", "--port", "8765"]).refresh == 0.0
    args = parser.parse_args(["gc", "--keep", "1", "--grace", "0"])
    assert (args.keep, args.grace) == (1, 0.0)


def test_diff_top_zero_is_a_usage_error_not_a_traceback(home: Path) -> None:
    result = run_cli(home, "diff", FIXTURE_DATE, "aaaa", "bbbb", "--top", "0")
    assert result.returncode == 2 and "argument --top" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_snapshots_refuses_an_unknown_table_like_fetch(home: Path) -> None:
    snap = run_cli(home, "snapshots", FIXTURE_DATE, "bogus")
    fetch = run_cli(home, "fetch", "bogus", FIXTURE_DATE)
    for result in (snap, fetch):
        assert result.returncode == 2, result.stdout + result.stderr
        assert "'bogus'" in result.stderr and "player_logs" in result.stderr and "odds" in result.stderr
        assert "Traceback" not in result.stderr
    assert snap.stderr == fetch.stderr  # the same refusal
    assert snap.stdout == ""


def test_fetch_and_snapshots_take_a_stage_that_reads_one_table_as_that_table(home: Path) -> None:
    # game_logs reads player_logs only: named by its stage, the fetch is of player_logs (here refused by the
    # loopback port nothing serves: exit 1 naming the table, not exit 2 "no live backend")
    fetch = run_cli(home, "fetch", "game_logs", FIXTURE_DATE, PROJECTIONS_LIVE__STATS_BASE="http://127.0.0.1:9/stats",
                    PROJECTIONS_LIVE__MAX_ATTEMPTS="1")
    assert fetch.returncode == 1 and "fetch failed: player_logs: " in fetch.stderr, fetch.stdout + fetch.stderr
    assert [e["source"] for e in ledger_events(home) if e["event"] == "fetch_failure"] == ["player_logs"]
    # a run of its own in history (it read "(no run_start) ... UNFINISHED: no run_end (killed, or still running)")
    history = run_cli(home, "history", FIXTURE_DATE).stdout
    assert f"projections fetch player_logs {FIXTURE_DATE}  [{FIXTURE_DATE}]  FAILED in " in history, history
    assert "UNFINISHED" not in history and "no run_start" not in history, history
    snap = run_cli(home, "snapshots", FIXTURE_DATE, "game_logs", "--json")
    assert snap.returncode == 0 and json.loads(snap.stdout)["captures"] == [], snap.stderr
    # a stage reading no live table, or several (lineups is a table itself), is refused listing both forms
    for name in ("minutes", "calibration"):
        refused = run_cli(home, "fetch", name, FIXTURE_DATE)
        assert refused.returncode == 2 and f"no live backend for {name!r}" in refused.stderr, refused.stderr
        assert "'player_logs'" in refused.stderr and "a stage that reads one: game_logs (player_logs)" in refused.stderr
    inbox = run_cli(home, "fetch", "salaries", FIXTURE_DATE)  # an empty inbox on an archived date
    said = f"salaries {FIXTURE_DATE}: inbox: 0 taken, 0 refused; no snapshot for {FIXTURE_DATE}: the archive's " \
        "salaries stand"  # it stopped at "the archive's"
    assert inbox.returncode == 0 and inbox.stdout.strip() == said, inbox.stdout + inbox.stderr


@pytest.mark.parametrize("where", ["file", "under-a-file", "proc"])
def test_report_out_that_cannot_be_a_directory(home: Path, tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "report.html"
    blocker.write_text("<html></html>")
    out = {"file": blocker, "under-a-file": blocker / "pages", "proc": Path("/proc/projections-report")}[where]
    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("no procfs here")
    (home / "store").mkdir(parents=True)  # a data root (report refuses one where nothing was ever built)
    result = run_cli(home, "report", "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr
    assert str(out) in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "<html></html>"


@pytest.mark.parametrize("where", ["file", "proc"])
def test_systemd_unit_dir_that_cannot_be_a_directory(home: Path, tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "units"
    blocker.write_text("x")
    unit_dir = blocker if where == "file" else Path("/proc/projections-units")
    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("no procfs here")
    result = run_cli(home, "systemd", "--user", "--unit-dir", str(unit_dir), "--no-enable")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and str(unit_dir) in result.stderr, result.stderr
    assert "--unit-dir" in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "x"


JSON_FAILURES = [
    (["status", "--json", "date=2019-13-40"], 2, "2019-13-40"),  # bad usage, raised up to the command line
    (["history", "--json", "2019-02-30"], 2, "2019-02-30"),
    (["diff", FIXTURE_DATE, "abcd", "--json"], 2, "two objects"),
    (["evaluate", "2019-10-30", "--json"], 1, "no gold slate"),  # nothing built yet
    (["snapshots", FIXTURE_DATE, "bogus", "--json"], 2, "bogus"),
]


@pytest.mark.parametrize("argv, code, named", JSON_FAILURES, ids=[" ".join(a) for a, _, _ in JSON_FAILURES])
def test_a_failed_json_command_still_prints_json(home: Path, argv: list[str], code: int, named: str) -> None:
    # a script reading `--json` output gets one JSON object whichever way the command ended; people still read
    # the error on standard error
    result = run_cli(home, *argv)
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and named in result.stderr, result.stderr
    body = json.loads(result.stdout)
    assert body == {"ok": False, "error": result.stderr.removeprefix("error: ").strip(), "exit_code": code}


def test_verify_json_on_a_missing_root_prints_json(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "no-such-root", "verify", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["ok"] is False and "no-such-root" in body["error"], body


def test_escape_sequences_a_feed_left_in_the_ledger_do_not_reach_the_terminal(tmp_path: Path) -> None:
    """A feed's 404 page quoted in a fetch error set the terminal's title and cleared the screen when
    `projections history` printed it."""
    from projections.ledger import Ledger

    home = tmp_path / "home"
    Ledger(home).append("fetch_failure", source="odds", game_date=FIXTURE_DATE,
                        error="HTTP 404 Not Found: \x1b]0;PWNED\x07\x1b[2J\x1b[31mFAKE ERROR\r")
    result = run_cli(home, "history", FIXTURE_DATE)
    assert result.returncode == 0, result.stderr
    assert "fetch FAILED: HTTP 404 Not Found: \\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31mFAKE ERROR" in result.stdout
    assert not any(c in result.stdout + result.stderr for c in "\x1b\x07\r"), result.stdout


def test_one_line_and_visible() -> None:
    from projections.textsafe import one_line, visible

    assert visible("a\tb\nc\x1b[2J\x9b\x7f") == "a\tb\nc\\x1b[2J\\x9b\\x7f"
    assert one_line("Evil\nfake line.csv\r\t\x00") == "Evil\\nfake line.csv\\r\\t\\x00"
    assert one_line("Luka Dončić") == "Luka Dončić"  # letters outside ASCII are not control characters


def test_a_bugs_traceback_is_escaped_and_exits_1(capfd: pytest.CaptureFixture[str]) -> None:
    """An unexpected exception's traceback was printed by Python after the command's escaped streams were put
    back: a feed value quoted in it (here the exception's message) reached the terminal raw."""
    import argparse

    from projections.cli import run_visibly

    def buggy(args: argparse.Namespace) -> int:
        print("before", "\x1b[2J", file=sys.stderr)
        sys.stderr.writelines(["lines \x1b]0;T\x07\n"])
        raise ValueError("bad value \x1b]0;PWNED\x07\x1b[31m from a feed")

    assert run_visibly(buggy, argparse.Namespace()) == 1
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" in err and "ValueError: bad value \\x1b]0;PWNED\\x07" in err, err
    assert "before \\x1b[2J" in err and "lines \\x1b]0;T\\x07" in err
    assert "\x1b" not in err and "\x07" not in err
    assert sys.stderr.__class__.__name__ != "Visible"  # the real streams are back

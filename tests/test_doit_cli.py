"""projections/doit_cli.py: the command line as doit reads it."""

from __future__ import annotations

import pytest

from projections.doit_cli import command_line, named_tasks


@pytest.mark.parametrize(("argv", "command", "names"), [
    (["slate", "date=2019-10-30"], "run", ["slate"]),
    (["-n", "2", "-P", "thread", "minutes:2019-10-30", "gold"], "run", ["minutes:2019-10-30", "gold"]),
    (["-r", "json", "slate"], "run", ["slate"]),  # -r takes a value: json is no task
    (["-f", "dodo.py", "run", "--db-file=x", "sim"], "run", ["sim"]),  # the loader's options before the command
    (["list", "--template", "{name}", "--status", "rates"], "list", ["rates"]),
    (["info", "gold:2019-10-30"], "info", ["gold:2019-10-30"]),
    (["help", "run"], "help", ["run"]),
    (["run", "--no-such-option", "slate"], "run", []),  # doit itself says what is wrong
    ([], "run", []),
])
def test_command_line_reads_tasks_as_doit_does(argv: list[str], command: str, names: list[str]):
    assert command_line(["doit", *argv])[:2] == (command, names)


def test_named_tasks_split_stage_and_date_and_skip_help():
    assert named_tasks(["doit", "-n", "2", "minutes:2019-10-30", "slate"]) == [("minutes", "2019-10-30"),
                                                                              ("slate", None)]
    assert named_tasks(["doit", "help", "minutes"]) == []

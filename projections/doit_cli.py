"""The doit command line as this project reads it: its variables (`date=`, `executor=`, `workers=`), the tasks it
names (`slate`, `minutes`, `minutes:2019-10-30`) and what is wrong with them, read with doit's own option parsers
so an option's value is never taken for a task.

Everything here runs while doit generates the tasks (from dodo.py), before anything is built: a mistake is an
InvalidCommand, which doit prints as one `ERROR:` line with exit 3.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from doit import get_var
from doit.exceptions import InvalidCommand

from projections.doit_reporter import CLUSTER, SLATE

if TYPE_CHECKING:
    from projections.engine import Engine

VARIABLES = ("date", "executor", "workers")
DOIT_COMMANDS = frozenset({"run", "list", "info", "help", "clean", "forget", "ignore", "auto", "dumpdb", "strace",
                           "tabcompletion", "reset-dep"})
LISTINGS = frozenset({"list", "info", "help"})  # commands that only print
# doit's commands for its own task state (dep_file), which this project does not keep: what is up to date is
# whether the store holds a stage's object for its current key, so these would print "forgetting minutes" and
# change nothing
STATELESS = {
    "forget": "there is nothing to forget: a stage is up to date when the store holds its object for its current "
              "key (`projections explain DATE STAGE` says why it is or is not); a damaged object is found by "
              "`projections verify` and rebuilt by the next run",
    "ignore": "a run builds every stage the date needs; to build part of it name a stage (`doit minutes "
              "date=...`), to stop a daily run disable its timer (`projections doctor` lists it)",
    "reset-dep": "there is no dependency file to reset: keys come from the inputs' hashes, the parameters and the "
                 "code, so a rerun after any change rebuilds exactly what it changed",
    "clean": "stages write only to the store; `projections gc` deletes the objects nothing needs (`--dry-run` "
             "lists them first)",
}


def doit_command(argv: list[str] | None = None) -> str:
    """The doit command this process runs: `list`, `help`, ... or `run` (a task name, or none)."""
    return command_line(argv).command


def check_command() -> None:
    """Refuse doit's commands for a task state this project does not keep (`doit forget`, `ignore`, `reset-dep`,
    `clean`), and `strace` (a task's file_deps and targets: stages have none), naming what does that job here."""
    command = doit_command()
    if command == "strace":
        raise InvalidCommand(STRACE)
    if command in STATELESS:
        raise InvalidCommand(f"`doit {command}` does nothing in this project, whose stages keep no doit state; "
                             f"{STATELESS[command]}")


def refused_command(name: str, purpose: str, message: str) -> type:
    """A doit command that refuses in one line (exit 3): `doit help` lists it as refused, not with doit's text.
    Registered in pyproject.toml ([tool.doit.plugins.command]), so doit runs it without loading dodo.py. From
    another folder (`doit -f CHECKOUT/dodo.py`) doit does not read that file: `check_command` refuses the same
    commands when dodo.py loads, except `dumpdb`, which loads none (doit's own 'db file doesn't exist' there)."""
    from doit.cmd_base import Command

    class Refused(Command):
        doc_purpose = f"refused: {purpose}"
        doc_usage = ""
        doc_description = message

        def execute(self, opt_values: dict[str, Any], pos_args: list[str]) -> int:
            sys.stderr.write(f"ERROR: {message}\n")
            return 3

    Refused.name = name
    Refused.__name__ = Refused.__qualname__ = f"Refused_{name.replace('-', '_')}"
    return Refused


def _stateless(name: str) -> type:
    return refused_command(name, "this project keeps no doit state", f"`doit {name}` does nothing in this project, "
                           f"whose stages keep no doit state; {STATELESS[name]}")


DumpDb = refused_command("dumpdb", "this project keeps no doit state (see `projections history`)",
                         "`doit dumpdb` has nothing to show: stages keep no doit state; what ran, when and what it "
                         "made is in the ledger (`projections history DATE`), and what a stage's key is made of in "
                         "`projections explain DATE STAGE`")
Forget, Ignore, ResetDep, Clean = (_stateless(n) for n in ("forget", "ignore", "reset-dep", "clean"))
STRACE = ("`doit strace` has nothing to trace in this project: it lists a task's file_deps and targets, and stages "
          "have none - they read their inputs from the store by hash and commit objects to it (`projections explain "
          "DATE STAGE` names what a stage read), and it would build the stage outside a run, unrecorded; build one "
          "stage with `doit STAGE date=...`")
Strace = refused_command("strace", "stages read and write only the store (see `projections explain`)", STRACE)


def check_variables() -> None:
    """Refuse a `name=value` argument this project does not read (a typo like `dates=` would otherwise be
    ignored silently and the run would build today)."""
    from doit import doit_cmd

    given = getattr(doit_cmd, "_CMDLINE_VARS", None) or {}
    unknown = sorted(set(given) - set(VARIABLES))
    if unknown:
        raise InvalidCommand(f"unknown variable(s) {', '.join(f'{u}=' for u in unknown)}; this project reads "
                             f"{', '.join(f'{v}=' for v in VARIABLES)} (e.g. `doit slate date=2019-10-30`)")
    for name in VARIABLES:  # doit keeps the last of `date=A date=B`: the first would be dropped silently
        twice = [a for a in sys.argv[1:] if a.startswith(f"{name}=")]
        if len(twice) > 1:
            raise InvalidCommand(f"{name}= is given {len(twice)} times ({' '.join(twice)}); give it once"
                                 + (" (a range A..B or a list A,B)" if name == "date" else ""))


class CommandLine(NamedTuple):
    command: str  # run, list, info, ...
    tasks: list[str]  # the task names given to it
    options: dict[str, Any]  # its options as doit parsed them (process: -n, ...); {} when doit cannot parse them


def command_line(argv: list[str] | None = None) -> CommandLine:
    """The doit command, the task names given to it and its options, read by doit's own option parsers, as doit
    reads them: an option's value (`-r json`, `-P thread`) is no task name, and neither is a `name=value`.
    Parsed once per command line: task generation asks several times."""
    return _parse(tuple((sys.argv if argv is None else argv)[1:]))


@functools.lru_cache(maxsize=8)
def _parse(argv: tuple[str, ...]) -> CommandLine:
    from doit.cmd_base import DodoTaskLoader, DoitCmdBase
    from doit.cmdparse import CmdOption, CmdParse, CmdParseError
    from doit.doit_cmd import DoitMain

    args = list(argv)
    loader = list(DodoTaskLoader.cmd_options)
    with contextlib.suppress(CmdParseError):  # as doit: the loader's options may come before the command
        args = CmdParse([CmdOption(o) for o in loader]).parse_only(args)[1]
    args = [a for a in args if a.startswith("-") or "=" not in a]
    name = args.pop(0) if args and args[0] in DOIT_COMMANDS else "run"
    command = {c.get_name(): c for c in DoitMain.DOIT_CMDS}.get(name)
    if command is None:  # a plugin's command
        return CommandLine(name, [], {})
    options = [*command.base_options, *loader] if issubclass(command, DoitCmdBase) else []
    try:
        params, tasks = CmdParse([CmdOption(o) for o in [*options, *command.cmd_options]]).parse(args)
    except CmdParseError:  # doit says what is wrong with its own options
        return CommandLine(name, [], {})
    return CommandLine(name, tasks, dict(params))


def named_tasks(argv: list[str] | None = None) -> list[tuple[str, str | None]]:
    """The tasks the command line names, as (stage or slate, date or None): `minutes:2019-10-30` ->
    ("minutes", "2019-10-30"); `help`'s arguments are commands or tasks to describe, not to run."""
    command, names, _ = command_line(argv)
    if command in ("help", "tabcompletion", "dumpdb"):
        return []
    return [(name, day or None) for name, _, day in (n.partition(":") for n in names)]


def check_command_line(engine: Engine, argv: list[str] | None = None) -> None:
    """Refuse a task name that no task has (`doit minute`, `doit minutes:2019-10-3`) before anything else is
    looked at, naming the tasks there are; doit's own error would come only after the dates were checked."""
    stages = list(engine.pipeline.order)
    known = [SLATE, *stages]
    if engine.settings.source == "live":
        known += [f"fetch_{key}" for key in engine.pipeline.fetchers()]
    if (get_var("executor") or engine.settings.executor) != "local":
        known.append(CLUSTER)
    processes = command_line(argv).options.get("num_process", 0)
    if isinstance(processes, int) and processes < 0:
        raise InvalidCommand(f"-n {processes}: -n is how many processes build at once, 1 or more (e.g. `doit -n 2 "
                             "slate date=...`); leave it out to build in this one")
    given = named_tasks(argv)
    if command_line(argv).options.get("single") and (not given or {n for n, _ in given} & {SLATE, CLUSTER}):
        named = "" if given else f"with no task named runs the default, {SLATE}; "
        raise InvalidCommand(f"-s runs the tasks named without what they need; {named}{SLATE} is a name for the "
                             f"stages of its dates, so `-s {SLATE}` builds nothing: build the dates with `doit {SLATE} "
                             "date=...`, or run one stage on inputs already built with `doit -s STAGE date=...`")
    for name, day in given:
        task = f"{name}:{day}" if day else name
        if name == "--":
            continue
        if name.startswith("--date") or _a_date(name):
            raise InvalidCommand(f"no task {task!r}: dates are given as date=YYYY-MM-DD, a range date=A..B or a "
                                 "list date=A,B (`doit slate date=2019-10-30`)")
        if name.startswith("-"):  # an option after a task name is that task's option: doit names what is wrong
            if name.split("=")[0] in _doit_options(command_line(argv).command) and given[0][0] != name:
                raise InvalidCommand(f"{name} is an option of `doit`, not of a task: put it before the task names "
                                     f"(`doit {name.split('=')[0]} ... {given[0][0]} date=...`)")
            break
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise InvalidCommand(f"no task {task!r}: {hint}tasks are {SLATE} and the stages {', '.join(stages)}, "
                                 f"each alone (every selected date) or as STAGE:YYYY-MM-DD (`doit list` lists them)")
        if day and name in (SLATE, CLUSTER):
            raise InvalidCommand(f"no task {task!r}: {name} takes its dates from date= (`doit {name} date={day}`); "
                                 "STAGE:YYYY-MM-DD names one stage of one date")
        if day:
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise InvalidCommand(f"no task {task!r}: {day!r} is not a date; name one date as "
                                     f"{name}:YYYY-MM-DD, or several with date= (`doit {name} date=A..B`)") from None


@functools.lru_cache(maxsize=4)
def _doit_options(command: str) -> frozenset[str]:
    """The flags doit's `command` takes (`-n`, `--process`, ...), loader options included."""
    from doit.cmd_base import DodoTaskLoader, DoitCmdBase
    from doit.doit_cmd import DoitMain

    cmd = {c.get_name(): c for c in DoitMain.DOIT_CMDS}.get(command)
    if cmd is None:
        return frozenset()
    opts = [*cmd.cmd_options, *((*cmd.base_options, *DodoTaskLoader.cmd_options) if issubclass(cmd, DoitCmdBase)
                                else ())]
    return frozenset({f"-{o['short']}" for o in opts if o.get("short")} | {f"--{o['long']}" for o in opts
                                                                            if o.get("long")})


def task_name_dates(argv: list[str] | None = None) -> str | None:
    """`doit minutes:2019-10-30` (a task name as `doit list` prints it) without date=: that date, as a date=
    value ("2019-10-30,2019-10-31" for several); None when no task name carries one."""
    return ",".join(sorted({day for _, day in named_tasks(argv) if day})) or None


def _a_date(text: str) -> bool:
    return text[:4].isdigit() and text[4:5] == "-"

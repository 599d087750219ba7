"""`projections`: the command line around the store (the build itself runs through `doit`).

Commands live in projections/commands/, one module each; run `projections COMMAND --help` for one.
Every command exits 0 when all is well, 1 when it found problems, 2 on bad usage or settings.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import select
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from projections import commands
from projections.commands._edge import failed
from projections.errors import ProjectionsError
from projections.textsafe import Visible

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A mistake in the command line (argparse's `error`), raised so `main` can report it as every error is."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors `main` reports: the usage line and `error: ...` on standard error,
    and with `--json` one JSON object on standard output too (`failed`), as every other error of a command."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message + _command_hint(self, message))


def _command_hint(parser: argparse.ArgumentParser, message: str) -> str:
    """For a command (or ingest KIND) not known, the one probably meant: `projections stauts` -> status."""
    import difflib
    import re

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = re.match(r"argument ([A-Z]+): invalid choice: '([^']*)'", message)
    if not subs or not found:
        return ""
    if found[2] == "help":  # named as the usage line names it: COMMAND, or ingest's KIND
        return f"; `{parser.prog} --help` lists them, and `{parser.prog} {found[1]} --help` one's options"
    close = difflib.get_close_matches(found[2], list(subs[0].choices), n=1)
    return f"; did you mean {close[0]}?" if close else ""


class _Version(argparse.Action):
    """`--version`: the installed version, looked up only when asked (the package metadata lookup costs every other
    command 5-40 ms at start)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import version

        print(f"projections {version('projections')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="projections", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args, extra = parser.parse_known_args(words)
        if extra:  # argparse would blame `projections` and print its usage: the command's own is the one to read
            _unrecognized(parser, args, extra)
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        return failed(argparse.Namespace(json="--json" in words), f"{exc.parser.prog}: {exc}", 2)
    return run_visibly(args.handler, args)


def _unrecognized(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> NoReturn:
    """The usage error for words the command given does not take, raised by that command's parser (its usage
    line is the one printed: `projections status ...`, `projections ingest injuries ...`), naming the option
    probably meant (`--jsno` -> `--json`)."""
    import difflib

    while True:  # down to the innermost command given
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen not in (subs[0].choices if subs else {}):
            break
        parser = subs[0].choices[chosen]
    options = [o for a in parser._actions for o in a.option_strings]
    hints = [f"did you mean {close[0]}?" for word in extra if word.startswith("-")
             and (close := difflib.get_close_matches(word.split("=")[0], options, n=1))]
    parser.error(f"unrecognized arguments: {' '.join(extra)}" + (f" ({'; '.join(hints)})" if hints else "")
                 + f"; `{parser.prog} --help` lists what it takes")


def run_visibly(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command with stdout and stderr escaped: what it prints may quote a feed, a file name or a player name,
    and no escape sequence reaches the terminal - a bug's traceback (which may quote one too) included."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Visible(sys.stdout), Visible(sys.stderr)
    try:
        return _run(handler, args)
    except Exception:  # a bug: its traceback, as Python would print it (exit 1), but escaped
        traceback.print_exc()
        return 1
    finally:
        sys.stdout, sys.stderr = streams


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        code = handler(args)
        sys.stdout.flush()  # inside the try: a reader gone by now is a broken pipe too
        return code
    except BrokenPipeError:
        if not stdout_closed():
            raise
        # the reader went away (`projections status | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # 128 + SIGPIPE, what the shell reports for a tool stopped by a closed pipe
    except ProjectionsError as exc:
        return failed(args, str(exc), 2)
    except ModuleNotFoundError:  # a package the code declares is not installed (a pull added it, or it went)
        from projections import requirements

        try:
            requirements.check()
        except ProjectionsError as exc:
            return failed(args, str(exc), 2)
        raise  # not one the code declares: a bug, with its traceback
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def stdout_closed() -> bool:
    """True when standard output is a pipe or socket whose reader has gone (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


if __name__ == "__main__":
    sys.exit(main())

"""What `doit slate` shows on a terminal (projections.doit_reporter): each line coloured by what happened, and a
progress bar (done/total, elapsed, ETA, the stage running) under the lines."""

from __future__ import annotations

import os
from typing import Any

from projections.textsafe import visible


class Live:
    """The terminal's progress bar (rich): done/total, elapsed, ETA and what is running, under the lines."""

    def __init__(self, outstream: Any) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(file=outstream, highlight=False)
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                 console=self.console, transient=True)
        self.task = self.progress.add_task("slate", total=None)
        self.progress.start()

    def update(self, *, total: int, done: int, running: list[str]) -> None:
        what = running[0] if running else "checking"
        if len(running) > 1:
            what += f" (+{len(running) - 1})"
        self.progress.update(self.task, total=total or None, completed=done, description=what)

    def print(self, line: str, style: str) -> None:
        self.console.print(visible(line), style=style, markup=False, soft_wrap=True)

    def stop(self) -> None:
        self.progress.stop()


STYLE = {"built": "green", "published": "green", "up to date": "dim", "FAILED": "bold red", "skipped": "yellow",
          "fetched": "cyan", "downloaded": "cyan", "no games": "yellow", "FELL BACK": "bold yellow"}


def on_terminal(outstream: Any) -> bool:
    """Whether the run's output is a terminal that takes colour and a progress bar."""
    isatty = getattr(outstream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb" and "NO_COLOR" not in os.environ

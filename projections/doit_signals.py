"""Signals that end a `doit` run: Ctrl-C (SIGINT) and SIGTERM end it with one line, recorded, no traceback.

Imported first by dodo.py (before doit's own modules load), so a Ctrl-C while tasks are generated is one line too.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_INTERRUPT = {"said": False, "signal": ""}  # whether a run's summary said it was interrupted; "SIGTERM" if so


def quiet_interrupt() -> None:
    """Ctrl-C ends `doit` without a traceback: the run's summary says "interrupted" (SlateReporter), or, before
    a run began (while tasks were being generated), one line says nothing was built. Python still exits 130.

    SIGTERM (`systemctl stop`, a unit's timeout, `kill`) is taken the same way, so the run is recorded as
    interrupted (it ended with no line and no run_end: history showed it unfinished for good); the process then
    still dies of SIGTERM, as a service manager expects. Forked workers keep SIGTERM's default."""
    import signal

    default = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            default(kind, exc, tb)
            return
        if not _INTERRUPT["said"]:
            sys.stderr.write("interrupted before the run began: nothing was built\n")
        if _INTERRUPT["signal"] == "SIGTERM":
            sys.stderr.flush()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    def terminated(signum: int, frame: Any) -> None:
        _INTERRUPT["signal"] = "SIGTERM"
        raise KeyboardInterrupt

    sys.excepthook = hook
    signal.signal(signal.SIGTERM, terminated)
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))

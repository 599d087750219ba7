"""`doit -n N`: a worker that dies (the out-of-memory killer, a stray `kill -9`) fails the run instead of hanging it.

doit's parallel runner waits on its result queue for a message from every job it handed out; a worker killed in
the middle of a job never sends one, so the run waited forever, the surviving worker idle beside it (under
systemd, until the unit's timeout hours later). A watchdog thread started with the workers polls them; when one
ends without being told to (a non-zero exit code), it puts a message on the result queue that makes the runner
stop the others. The run then ends as a failure, naming the worker, its signal and the fix, and is recorded and
alerted like any failed run. What was built stays; the same command finishes the rest.

doit has no hook for this: two methods of its MRunner are wrapped (doit 0.36-0.37, the versions pyproject.toml
allows; on another doit nothing is changed).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

POLL_S = 0.5


class WorkerDied(Exception):
    """A worker of `doit -n N` ended while the run still needed it (raised in the main process by doit's runner
    from the watchdog's message)."""


def _why(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        hint = ": the out-of-memory killer, or a kill -9" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"


def _watch(procs: list[Any], result_q: Any, done: threading.Event) -> None:
    while not done.wait(POLL_S):
        for proc in procs:
            code = proc.exitcode
            if code in (-signal.SIGTERM, -signal.SIGINT) and done.wait(2.0):
                return  # stopped with the run (a Ctrl-C or `systemctl stop` reaches the whole process group)
            if code not in (None, 0):
                result_q.put({"exit": WorkerDied, "exception": (
                    f"ERROR: worker process {proc.pid} of this run {_why(code)}; the stages it was building were "
                    "not finished and the run stopped (what was built stays) - run the same command again, with "
                    "fewer workers (-n) if memory ran out")})
                return


def _start_processes(original: Any) -> Any:
    def start(self: Any, job_q: Any, result_q: Any) -> list[Any]:
        procs: list[Any] = original(self, job_q, result_q)
        if not all(hasattr(proc, "exitcode") for proc in procs):  # `-P thread`: threads die with the process
            return procs
        done = threading.Event()
        self._projections_watch = done
        threading.Thread(target=_watch, args=(procs, result_q, done), daemon=True, name="worker-watch").start()
        return procs

    return start


def _run_tasks(original: Any) -> Any:
    def run_tasks(self: Any, task_dispatcher: Any) -> None:
        from doit.runner import FAILURE

        try:
            original(self, task_dispatcher)
        except WorkerDied as exc:  # doit has stopped the other workers: the run ends as a failed one
            self.reporter.runtime_error(str(exc))
            self.final_result = FAILURE
        finally:
            watch = getattr(self, "_projections_watch", None)
            if watch is not None:
                watch.set()

    return run_tasks


def watch_workers() -> None:
    """Wrap doit's MRunner so a dead worker ends the run (once per process; a no-op on another doit)."""
    import doit
    from doit.runner import MRunner

    if tuple(doit.__version__[:2]) not in ((0, 36), (0, 37)) or getattr(MRunner, "_projections_watched", False):
        return
    MRunner._run_start_processes = _start_processes(MRunner._run_start_processes)
    MRunner.run_tasks = _run_tasks(MRunner.run_tasks)
    MRunner._projections_watched = True

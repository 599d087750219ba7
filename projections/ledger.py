"""The append-only ledger: one JSON line per event, never rewritten.

    ledger/<YYYY-MM>.jsonl    events by the UTC month they happened in

Events: run_start, run_end, stage_start, stage_success, stage_cached, stage_failure, publish, alert,
alert_failure, gc; with a shared store also stage_fetched, stage_shared and publish_shared. Each line is written
with a single O_APPEND write, so concurrent writers never interleave inside a line and a SIGKILL leaves whole
lines only. A last line torn some other way (a full disk, an edit) is ended before the next record, so that
record is whole. Readers skip (and count) any line they cannot parse;
a file they may not read at all (another user's) is a ConfigError naming it, its owner and mode, and the fix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from projections.errors import ConfigError


def utc_now() -> dt.datetime:
    """The wall clock, for the engine's records only (stages never read it)."""
    return dt.datetime.now(dt.UTC)


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Ledger:
    def __init__(self, root: Path, *, run: str = "") -> None:
        self.dir = root / "ledger"
        self.run = run
        self._host = socket.gethostname()
        self.skipped_lines = 0
        self.last: dict[str, Any] | None = None  # the record this process appended last

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        now = utc_now()
        record = {"ts": iso(now), "event": event, "host": self._host, "pid": os.getpid()}
        if self.run:
            record["run"] = self.run
        record.update({k: v for k, v in fields.items() if v is not None})
        line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode()
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / f"{now:%Y-%m}.jsonl", os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o664)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn last line (a full disk, a hand edit) stays
                line = b"\n" + line  # alone: this record is not glued onto it and lost with it
            os.write(fd, line)
        finally:
            os.close(fd)
        self.last = record
        return record

    def last_ended(self, stage: str, game_date: str, *, since: dict[str, Any] | None) -> bool:
        """Whether the record this process appended last, after `since` (the `last` a caller noted when it began),
        ends `stage` of `game_date` as a failure or an off day (so the caller does not record its failure twice).
        An interruption is not asked about: a build that records one goes on up as KeyboardInterrupt or
        SystemExit, never as the error a caller records."""
        last = self.last
        return (last is not None and last is not since and last.get("event") in ("stage_failure", "no_games")
                and last.get("stage") == stage and last.get("game_date") == game_date)

    def files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*.jsonl"))

    def current(self) -> Path:
        """The file the next event is appended to (this UTC month's)."""
        return self.dir / f"{utc_now():%Y-%m}.jsonl"

    def read(self, *, game_date: str | None = None, event: str | None = None) -> Iterator[dict[str, Any]]:
        """Every event, oldest first, optionally only those of one slate date or one kind.

        Raises ConfigError for a ledger file this user may not read."""
        for path in self.files():
            try:
                fh = open(path, "rb")  # noqa: SIM115 - closed by the `with` below; only the open is guarded
            except OSError as exc:
                raise ConfigError(unreadable_message(path, exc)) from None
            with fh:
                for raw in fh:
                    if not raw.strip():
                        continue
                    try:
                        record = json.loads(raw)
                    except ValueError:
                        self.skipped_lines += 1
                        continue
                    if not isinstance(record, dict):
                        self.skipped_lines += 1
                        continue
                    if game_date is not None and record.get("game_date") != game_date:
                        continue
                    if event is not None and record.get("event") != event:
                        continue
                    yield record


def unreadable_message(path: Path, exc: OSError) -> str:
    """One line for a ledger file that cannot be read: the path, its owner and mode, and the fix."""
    from projections.ops.unwritable import owner_detail

    owner, detail = owner_detail(path)
    return (f"cannot read the ledger {path} ({detail}): {exc.strerror or exc}; every run appends to it, so it must "
            "be readable and writable by each user that runs the pipeline: repair the data root with "
            f"`projections doctor --fix-permissions` (as its owner or root), or run this as {owner or 'its owner'}")

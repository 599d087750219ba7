"""One exception tree, every message actionable.

    ProjectionsError
    ├── ConfigError            bad settings, CLI arguments or data root (nothing was started)
    │   └── InvalidDate        a `date=` value that is not a date, a range or a list of dates
    ├── ContractViolation      a stage's input or output broke its contract (nothing was published)
    ├── SourceError            a source has nothing usable for a date at as_of
    │   └── FetchError         the network gave up after every retry
    ├── StoreError
    │   ├── StoreCorrupted     an object's bytes no longer match its name
    │   └── ObjectNotFound     a hash that names no object in the store
    ├── StageError             a stage function raised; wraps the original exception
    └── LockTimeout            another run held a lock for longer than we were willing to wait

A message says what failed, where, and how to fix it. Library errors are wrapped where they cross into
this project (`raise FetchError(...) from exc`).
"""

from __future__ import annotations


class ProjectionsError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(ProjectionsError):
    """Settings, command-line arguments or the data root are unusable."""


class InvalidDate(ConfigError):
    """A `date=` value that is not `YYYY-MM-DD`, `A..B` or a comma list of those."""


class ContractViolation(ProjectionsError):
    """A frame crossing a stage boundary does not have the promised shape."""

    def __init__(self, message: str, *, stage: str = "", columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.stage = stage
        self.columns = columns


class SourceError(ProjectionsError):
    """A source has nothing usable for a slate date at its as_of."""


class NoGames(SourceError):
    """The slate date has no NBA games (an off day): nothing to build. A run over a range, or the daily run
    of today, skips such a date; one asked for by name fails with this message."""


class FetchError(SourceError):
    """An HTTP fetch failed for good: retries exhausted, or an error that retrying cannot fix. `status`: the HTTP
    status of the last answer, when it was one (a 404 for a page not published, say)."""

    def __init__(self, message: str, *, url: str = "", attempts: int = 0, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts
        self.status = status


class StoreError(ProjectionsError):
    """The content-addressed store cannot do what was asked."""


class StoreCorrupted(StoreError):
    """An object's bytes no longer hash to its name (or a record is unreadable)."""


class ObjectNotFound(StoreError):
    """No object with this hash exists in the store."""


class StageError(ProjectionsError):
    """A stage function raised an exception that is not one of ours."""


class LockTimeout(ProjectionsError):
    """Gave up waiting for a lock another process holds."""

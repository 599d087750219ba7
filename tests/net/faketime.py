"""A fake clock for retry tests: time moves only when something sleeps on it, and every sleep is recorded."""

from __future__ import annotations


class FakeTime:
    """Pass `.clock` and `.sleep` to a FetchPolicy; assert on `.sleeps`."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

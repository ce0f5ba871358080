"""A clock that moves only when the test moves it, for code that takes a `clock` callable."""

from __future__ import annotations


class Clock:
    """Call it for the time; `clock.now += 30` lets 30 seconds pass."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

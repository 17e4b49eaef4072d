"""The sandbox's movable clock: the wall clock plus an offset that only grows (time never runs backwards for
the bot, as it never does in production). No discord import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import system_clock


class ClockError(ValueError):
    """A move the sandbox refuses (backwards, or too far); the text is shown to the person."""


MAX_JUMP = timedelta(days=366)


class SandboxClock:
    """Callable like `bot.clock.system_clock`; `advance` and `move_to` move "now" for every feature at
    once."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        if offset < timedelta():
            raise ClockError("the sandbox clock cannot start behind the wall clock")
        self.offset = offset

    def __call__(self) -> datetime:
        return system_clock() + self.offset

    def advance(self, delta: timedelta) -> datetime:
        if delta <= timedelta():
            raise ClockError("The clock only moves forward.")
        if delta > MAX_JUMP:
            raise ClockError("Move the clock by at most a year at a time.")
        self.offset += delta
        return self()

    def move_to(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ClockError("Give the time with its time zone.")
        return self.advance(when.astimezone(UTC) - self())

"""The one clock. Every service takes a `Clock` (a callable returning an aware UTC datetime) from the bot,
so tests, benchmarks and the sandbox move time for every feature at once. Nothing outside this module reads
the wall clock for "now"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def to_ms(dt: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (how times are stored)."""
    if dt.tzinfo is None:
        raise ValueError("stored times must be timezone-aware")
    return int(round(dt.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)

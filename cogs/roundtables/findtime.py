"""findtime: starts where every place is inside its working hours (09:00–18:00, Mon–Fri).

Pure: takes (label, IANA zone) places, a duration, `now` and a horizon. Candidate starts are
every 30 minutes; consecutive good starts form a window, and each window is offered once at
its most comfortable start (the one furthest from anyone's 09:00 or 18:00). Windows are
ranked by that comfort margin (in half hours), then by date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.timeparse import get_zone

DAY_START = time(9, 0)
DAY_END = time(18, 0)
STEP = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    window_start: datetime  # earliest good start of this window
    window_end: datetime  # latest good start of this window
    margin_min: int  # minutes between the closest working-day edge and the meeting


def _margin(start: datetime, end: datetime, zones: Sequence[object]) -> int | None:
    best: int | None = None
    for zone in zones:
        ls = start.astimezone(zone)  # type: ignore[arg-type]
        le = end.astimezone(zone)  # type: ignore[arg-type]
        if ls.weekday() >= 5:
            return None
        day_start = datetime.combine(ls.date(), DAY_START, tzinfo=ls.tzinfo)
        day_end = datetime.combine(ls.date(), DAY_END, tzinfo=ls.tzinfo)
        if ls.replace(tzinfo=None) < day_start.replace(tzinfo=None) or le.date() != ls.date():
            return None
        if le.replace(tzinfo=None) > day_end.replace(tzinfo=None):
            return None
        m = min(
            int((ls.replace(tzinfo=None) - day_start.replace(tzinfo=None)).total_seconds() // 60),
            int((day_end.replace(tzinfo=None) - le.replace(tzinfo=None)).total_seconds() // 60),
        )
        best = m if best is None else min(best, m)
    return best


def find_slots(
    zones: Sequence[str],
    *,
    duration: timedelta,
    now: datetime,
    within_days: int = 14,
    limit: int = 10,
) -> list[Slot]:
    """Best slots first. Empty when no start in the horizon suits everyone."""
    tzs = [get_zone(z) for z in dict.fromkeys(zones)]
    now = now.astimezone(UTC)
    first = now.replace(second=0, microsecond=0)
    rem = first.minute % 30
    first += timedelta(minutes=(30 - rem) if rem or first < now else 0)
    if first < now:
        first += STEP
    horizon = now + timedelta(days=within_days)
    windows: list[list[tuple[datetime, int]]] = []
    current: list[tuple[datetime, int]] = []
    t = first
    while t <= horizon:
        m = _margin(t, t + duration, tzs)
        if m is None:
            if current:
                windows.append(current)
                current = []
        else:
            current.append((t, m))
        t += STEP
    if current:
        windows.append(current)
    slots: list[Slot] = []
    for w in windows:
        best_t, best_m = max(w, key=lambda p: (p[1], -p[0].timestamp()))
        slots.append(Slot(best_t, best_t + duration, w[0][0], w[-1][0], best_m))
    slots.sort(key=lambda s: (-(s.margin_min // 30), s.start))
    return slots[:limit]

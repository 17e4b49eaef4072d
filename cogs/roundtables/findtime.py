"""findtime: starts where every place is inside its working hours (default 09:00–18:00) on one of its
working days (each place's weekend from its country, bot/workweek.py: Friday–Saturday in Riyadh).

Pure: takes IANA zones (with each place's weekend), a duration, `now` and a horizon. Candidate starts
are every 30 minutes; consecutive good starts form a window, and each window is offered once at its
most comfortable start (the one furthest from anyone's start or end of the working day). Windows are
ranked by that comfort margin (in half hours), then by date. With `allow_early_late`, a meeting may
reach up to EARLY_LATE before the working day or after it (a negative margin, so it ranks after every
slot inside working hours).

`hour_kinds` classifies each half hour of the coming days per place for the findtime picture: working,
early/late, night, or weekend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from bot.i18n import N_
from bot.timeparse import get_zone
from bot.workweek import weekend_days, zone_country

DAY_START = time(9, 0)
DAY_END = time(18, 0)
STEP = timedelta(minutes=30)
EARLY_LATE = timedelta(hours=2)  # how far before or after the working day "early/late" reaches
MIN_HOURS = timedelta(hours=1)

Kind = Literal["work", "edge", "night", "weekend"]
_HOURS_RE = re.compile(
    r"^\s*(\d{1,2})(?:[:h.](\d{2})|h)?\s*(?:-|–|—|to)\s*(\d{1,2})(?:[:h.](\d{2})|h)?\s*$", re.IGNORECASE
)


def parse_hours(text: str) -> tuple[time, time]:
    """`09-18`, `8:30–17:00`, `9h-17h30`: the working window, at least an hour, within one day."""
    m = _HOURS_RE.match(text)
    if not m:
        raise InvalidInput(N_("Give working hours as start-end in 24-hour time, e.g. `09-18` or "
                              "`08:30-17:00`."))
    h1, m1, h2, m2 = (int(g) if g else 0 for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2) or m1 % 30 or m2 % 30:
        raise InvalidInput(N_("Give working hours as start-end in 24-hour time, e.g. `09-18` or "
                              "`08:30-17:00`. Minutes are :00 or :30."))
    start = time(h1, m1)
    end = time(23, 59) if h2 == 24 else time(h2, m2)
    if datetime.combine(date.min, end) - datetime.combine(date.min, start) < MIN_HOURS:
        raise InvalidInput(N_("The working hours must start before they end and span at least one hour, "
                              "e.g. `09-18`."))
    return start, end


def place_weekend(zone: str, country: str | None = None) -> frozenset[int]:
    """A place's weekend days: from its country when known, else from its zone's country."""
    return weekend_days(country or zone_country(zone))


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    window_start: datetime  # earliest good start of this window
    window_end: datetime  # latest good start of this window
    margin_min: int  # minutes between the closest working-day edge and the meeting


def _margin(start: datetime, end: datetime, places: Sequence[tuple[ZoneInfo, frozenset[int]]],
            hours: tuple[time, time], floor_min: int) -> int | None:
    best: int | None = None
    for zone, weekend in places:
        ls = start.astimezone(zone).replace(tzinfo=None)
        le = end.astimezone(zone).replace(tzinfo=None)
        if ls.weekday() in weekend or le.date() != ls.date():
            return None
        day_start = datetime.combine(ls.date(), hours[0])
        day_end = datetime.combine(ls.date(), hours[1])
        m = min(int((ls - day_start).total_seconds() // 60), int((day_end - le).total_seconds() // 60))
        if m < floor_min:
            return None
        best = m if best is None else min(best, m)
    return best


def find_slots(
    zones: Sequence[str],
    *,
    duration: timedelta,
    now: datetime,
    within_days: int = 14,
    limit: int = 10,
    weekends: Sequence[frozenset[int]] | None = None,
    hours: tuple[time, time] = (DAY_START, DAY_END),
    allow_early_late: bool = False,
) -> list[Slot]:
    """Best slots first. Empty when no start in the horizon suits everyone. `weekends[i]` is the weekend
    of `zones[i]` (default: from the zone's country)."""
    if weekends is None:
        weekends = [place_weekend(z) for z in zones]
    places = [(get_zone(z), w) for z, w in dict.fromkeys(zip(zones, weekends, strict=True))]
    floor_min = -int(EARLY_LATE.total_seconds() // 60) if allow_early_late else 0
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
        m = _margin(t, t + duration, places, hours, floor_min)
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


def hour_kind(at: datetime, zone: ZoneInfo, weekend: frozenset[int], hours: tuple[time, time]) -> Kind:
    """What the instant is for a place: inside working hours, early/late (within EARLY_LATE of them),
    night, or a weekend day."""
    local = at.astimezone(zone).replace(tzinfo=None)
    if local.weekday() in weekend:
        return "weekend"
    day_start = datetime.combine(local.date(), hours[0])
    day_end = datetime.combine(local.date(), hours[1])
    if day_start <= local < day_end:
        return "work"
    if day_start - EARLY_LATE <= local < day_end + EARLY_LATE:
        return "edge"
    return "night"


def hour_kinds(zone: str, weekend: frozenset[int], *, start: datetime, steps: int,
               hours: tuple[time, time] = (DAY_START, DAY_END)) -> tuple[Kind, ...]:
    """The kind of each half hour from `start` (UTC), classified at the middle of the half hour."""
    tz = get_zone(zone)
    mid = start.astimezone(UTC) + STEP / 2
    return tuple(hour_kind(mid + i * STEP, tz, weekend, hours) for i in range(steps))

"""The one iCalendar (RFC 5545) writer: calendars with their VTIMEZONE blocks in the compact yearly form.

Contract:
- `write_calendar` puts the VTIMEZONE of every zone the events use (DTSTART, DTEND, EXDATE, RECURRENCE-ID
  carrying a zoneinfo zone) before the events, each zone written once.
- A zone is written the way Outlook and Google write theirs: its transitions over the years the calendar
  covers (from the year before its first date to three years after the later of its last date and now) are
  read from zoneinfo and grouped into runs of one transition a year with the same month, wall-clock time,
  offsets and day rule (`BYDAY=2SU`, `BYDAY=-1SU`, `BYMONTHDAY=…`, or a weekday on or after a day). A run
  becomes one DAYLIGHT or STANDARD block with `RRULE:FREQ=YEARLY;…` (with `UNTIL` when the rule ended
  before the last year looked at), so a zone with today's rules has exactly one of each. Desktop Outlook
  ignores RDATE in VTIMEZONE; this form is the one it reads.
- A transition that fits no yearly rule (a one-off change, a zone whose dates follow a lunar calendar) is
  its own block with that DTSTART: explicit transitions, only for such zones.
- A zone without transitions in that span gets one STANDARD block.
- `restamp` sets every DTSTAMP of a calendar built with `STAMP_PLACEHOLDER`: the live feed hashes the
  content without it, then serves it with the time that content last changed.
Pure: no I/O, no clock (callers pass `now`), no discord import.
"""

from __future__ import annotations

import calendar as _calendar
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Timezone, TimezoneDaylight, TimezoneStandard

__all__ = [
    "STAMP_PLACEHOLDER", "Transition", "restamp", "transitions", "vtimezone", "write_calendar", "zones_of",
]

_DAY = timedelta(days=1)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Far enough back that a zone's first block starts before any event (RFC 5545 needs one block in force).
_EPOCH_LOCAL = datetime(1970, 1, 1)  # noqa: DTZ001 - a VTIMEZONE DTSTART is local (floating) time
STAMP_PLACEHOLDER = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Transition:
    at: datetime  # the UTC instant of the change
    offset_from: timedelta
    offset_to: timedelta
    dst: bool  # the offset after the change is daylight saving time
    name: str  # the abbreviation after the change ("CEST")

    @property
    def local(self) -> datetime:
        """Wall-clock time of the change in the offset before it (a VTIMEZONE block's DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    off = at.astimezone(zone).utcoffset()
    return off if off is not None else timedelta(0)


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[Transition]:
    """Every change of UTC offset in [start, end), to the second: a day-by-day scan, then bisection."""
    out: list[Transition] = []
    t = start.astimezone(UTC)
    end = end.astimezone(UTC)
    prev = _offset(zone, t)
    while t < end:
        nxt = min(t + _DAY, end)
        off = _offset(zone, nxt)
        if off != prev:
            lo, hi = t, nxt  # offset(lo) == prev, offset(hi) != prev
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid <= lo:
                    mid = lo + timedelta(seconds=1)
                if _offset(zone, mid) == prev:
                    lo = mid
                else:
                    hi = mid
            after = hi.astimezone(zone)
            to = _offset(zone, hi)
            out.append(Transition(hi, prev, to, bool(after.dst()), after.tzname() or ""))
            prev = to
            # a second change on the same day is found from the instant after this one
            t = hi
            continue
        prev = off
        t = nxt
    return out


@functools.lru_cache(maxsize=256)
def _year_transitions(name: str, first_year: int, last_year: int) -> tuple[Transition, ...]:
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    return tuple(transitions(ZoneInfo(name), start, datetime(last_year + 1, 1, 1, tzinfo=UTC)))


def _day_rules(local: datetime) -> list[tuple[str, ...]]:
    """The yearly day rules this date satisfies, in order of preference."""
    day, wd = local.day, _WEEKDAYS[local.weekday()]
    mdays = _calendar.monthrange(local.year, local.month)[1]
    rules: list[tuple[str, ...]] = []
    if day + 7 > mdays:
        rules.append(("byday", f"-1{wd}"))
    if day <= 28:
        rules.append(("byday", f"{(day - 1) // 7 + 1}{wd}"))
    rules.append(("bymonthday", str(day)))
    for first in range(max(1, day - 6), day + 1):  # "Friday on or after the 23rd"
        rules.append(("onafter", wd, str(first)))
    return rules


def _signature(t: Transition) -> tuple[object, ...]:
    loc = t.local
    return (t.dst, t.offset_from, t.offset_to, t.name, loc.month, loc.time())


def _runs(trs: Sequence[Transition]) -> list[tuple[list[Transition], tuple[str, ...] | None]]:
    """Group transitions into runs that one yearly rule describes; (run, rule) with rule None for one."""
    kinds: dict[tuple[object, ...], list[Transition]] = {}
    order: list[tuple[object, ...]] = []
    for t in trs:
        sig = _signature(t)
        if sig not in kinds:
            kinds[sig] = []
            order.append(sig)
        kinds[sig].append(t)
    out: list[tuple[list[Transition], tuple[str, ...] | None]] = []
    for sig in order:
        run: list[Transition] = []
        common: list[tuple[str, ...]] = []
        for t in kinds[sig]:
            rules = _day_rules(t.local)
            if run and t.local.year == run[-1].local.year + 1:
                keep = [r for r in common if r in rules]
                if keep:
                    run.append(t)
                    common = keep
                    continue
            if run:
                out.append((run, common[0] if len(run) > 1 else None))
            run, common = [t], rules
        if run:
            out.append((run, common[0] if len(run) > 1 else None))
    out.sort(key=lambda rr: rr[0][0].at)
    return out


def _rrule(rule: tuple[str, ...], month: int, until: datetime | None) -> dict[str, object]:
    value: dict[str, object] = {"freq": "YEARLY", "bymonth": month}
    if rule[0] == "byday":
        value["byday"] = rule[1]
    elif rule[0] == "bymonthday":
        value["bymonthday"] = int(rule[1])
    else:
        first = int(rule[2])
        value["byday"] = rule[1]
        value["bymonthday"] = list(range(first, first + 7))
    if until is not None:
        value["until"] = until
    return value


def vtimezone(name: str, start: datetime, end: datetime) -> Timezone:
    """The VTIMEZONE of an IANA zone for a calendar whose dates lie in [start, end] (see the contract)."""
    zone = ZoneInfo(name)
    first_year = start.astimezone(UTC).year - 1
    last_year = max(end.astimezone(UTC).year, start.astimezone(UTC).year) + 3
    span_start = datetime(first_year, 1, 1, tzinfo=UTC)
    trs = _year_transitions(name, first_year, last_year)
    tz = Timezone()
    tz.add("tzid", name)
    if not trs:
        off = _offset(zone, span_start)
        block: TimezoneDaylight | TimezoneStandard = TimezoneStandard()
        block.add("dtstart", _EPOCH_LOCAL)
        block.add("tzoffsetfrom", off)
        block.add("tzoffsetto", off)
        block.add("tzname", span_start.astimezone(zone).tzname() or name)
        tz.add_component(block)
        return tz
    for run, rule in _runs(trs):
        head = run[0]
        block = TimezoneDaylight() if head.dst else TimezoneStandard()
        block.add("dtstart", head.local)
        block.add("tzoffsetfrom", head.offset_from)
        block.add("tzoffsetto", head.offset_to)
        if head.name:
            block.add("tzname", head.name)
        if rule is not None:
            open_ended = run[-1].local.year >= last_year
            block.add("rrule", _rrule(rule, head.local.month, None if open_ended else run[-1].at))
        tz.add_component(block)
    return tz


def _zone_name(value: object) -> str | None:
    dt = getattr(value, "dt", value)
    if isinstance(dt, datetime) and isinstance(dt.tzinfo, ZoneInfo) and dt.tzinfo.key != "UTC":
        return dt.tzinfo.key
    return None


def zones_of(events: Iterable[Component]) -> tuple[list[str], list[datetime]]:
    """The zones the events' dates use (first-seen order) and every aware date they carry."""
    zones: list[str] = []
    dates: list[datetime] = []
    for ev in events:
        for prop in ("dtstart", "dtend", "recurrence-id", "exdate"):
            raw = ev.get(prop)
            if raw is None:
                continue
            values: list[object] = []
            for item in raw if isinstance(raw, list) else [raw]:
                values.extend(getattr(item, "dts", [item]))
            for v in values:
                dt = getattr(v, "dt", v)
                if isinstance(dt, datetime) and dt.tzinfo is not None:
                    dates.append(dt)
                name = _zone_name(v)
                if name is not None and name not in zones:
                    zones.append(name)
    return zones, dates


def write_calendar(
    events: Sequence[Component],
    *,
    prodid: str,
    name: str | None,
    now: datetime,
    method: str | None = "PUBLISH",
) -> bytes:
    """The .ics bytes: the calendar's properties, the VTIMEZONEs the events use, then the events."""
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    zones, dates = zones_of(events)
    if zones:
        lo = min([*dates, now])
        hi = max([*dates, now])
        for z in zones:
            cal.add_component(vtimezone(z, lo, hi))
    for ev in events:
        cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


def restamp(data: bytes, stamp: datetime) -> bytes:
    """A calendar whose events were built with DTSTAMP `STAMP_PLACEHOLDER`, with `stamp` there instead
    (the feed hashes its content without the stamp, then serves it with the time that content changed)."""
    return data.replace(
        b"DTSTAMP:" + STAMP_PLACEHOLDER.strftime("%Y%m%dT%H%M%SZ").encode(),
        b"DTSTAMP:" + stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode(),
    )

"""bot/ical.py: VTIMEZONE in the compact yearly-rule form, read back by a second library (vobject, which
builds each zone from the file's own VTIMEZONE, not from the TZID name), for weekly series across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar, Event

from bot.db import Database
from bot.ical import transitions, vtimezone, write_calendar
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from cogs.mous.ics import build_ics as mou_ics
from cogs.mous.service import DueItem
from cogs.roundtables import recurrence
from cogs.roundtables.ics import build_ics
from cogs.roundtables.service import RoundtableService

G = 42
HOST = 7


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _vobject_instants(data: bytes) -> list[datetime]:
    """Every occurrence of the file's series as vobject expands it, in UTC. vobject keeps the first zone
    it read under each TZID for the whole process: forget them, so this file's own VTIMEZONE is used."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    registry.clear()
    registry["UTC"] = vobject.icalendar.utc
    cal = vobject.readOne(data.decode())
    main = next(ev for ev in cal.vevent_list if "recurrence_id" not in ev.contents)
    start = main.dtstart.value
    # proof that vobject used the file's VTIMEZONE, not a zone database looked up by name
    assert type(start.tzinfo).__name__ == "_tzicalvtz"
    return [d.astimezone(UTC) for d in main.getrruleset(addRDate=True)]


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        ("America/Los_Angeles", datetime(2026, 2, 3, 9, 0)),  # noqa: DTZ001 - local wall time
        ("Europe/Paris", datetime(2026, 3, 2, 18, 30)),  # noqa: DTZ001
        ("Australia/Sydney", datetime(2026, 3, 4, 8, 0)),  # noqa: DTZ001
        ("Asia/Tokyo", datetime(2026, 3, 5, 10, 0)),  # noqa: DTZ001
        ("Africa/Nairobi", datetime(2026, 3, 5, 14, 0)),  # noqa: DTZ001
    ],
)
async def test_weekly_series_across_dst_read_by_vobject(db: Database, zone: str, first: datetime) -> None:
    clock = Clock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    settings = SettingsService(db)
    svc = RoundtableService(db, Scheduler(db, clock=clock), settings=settings, clock=clock)
    start = recurrence.localize(first, ZoneInfo(zone))
    rt = await svc.create(G, HOST, title="Cities & climate", start=start, tz=zone, repeat="weekly", count=60)
    data = build_ics(rt, await svc.overrides(rt), include_link=False, now=clock.now)
    text = data.decode()
    # the compact form: no RDATE; VTIMEZONE before the events; DST zones get one DAYLIGHT + one STANDARD
    assert "RDATE" not in text
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    if zone in ("Asia/Tokyo", "Africa/Nairobi"):
        assert text.count("BEGIN:STANDARD") == 1 and "BEGIN:DAYLIGHT" not in text
        assert "RRULE:FREQ=YEARLY" not in text
    else:
        assert text.count("BEGIN:STANDARD") == 1 and text.count("BEGIN:DAYLIGHT") == 1
        assert text.count("RRULE:FREQ=YEARLY") == 2
    stored = [o.start for o in await svc.occurrences(rt, after=start - timedelta(seconds=1), limit=100)]
    assert len(stored) == 60
    assert _vobject_instants(data) == stored
    # the series really crosses DST changes (the local hour holds while the UTC hour moves)
    assert len({s.astimezone(UTC).hour for s in stored}) == (1 if zone in ("Asia/Tokyo", "Africa/Nairobi")
                                                              else 2)


def test_rules_are_what_outlook_writes() -> None:
    tz = vtimezone("America/Los_Angeles", datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    text = tz.to_ical().decode()
    assert "BYDAY=2SU;BYMONTH=3" in text and "BYDAY=1SU;BYMONTH=11" in text
    assert "TZOFFSETFROM:-0800" in text and "TZOFFSETTO:-0700" in text
    sydney = vtimezone("Australia/Sydney", datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    s = sydney.to_ical().decode()
    assert "BYDAY=1SU;BYMONTH=10" in s and "BYDAY=1SU;BYMONTH=4" in s


def test_a_wrong_rule_would_be_caught() -> None:
    """The vobject comparison can fail: a VTIMEZONE with the wrong Sunday moves occurrences."""
    zone = ZoneInfo("Europe/Paris")
    ev = Event()
    ev.add("uid", "x")
    ev.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
    first = datetime(2026, 3, 16, 18, 0, tzinfo=zone)
    ev.add("dtstart", first)
    ev.add("rrule", {"freq": "weekly", "count": 4})
    data = write_calendar([ev], prodid="-//t//", name=None, now=first)
    right = [(first.replace(tzinfo=None) + timedelta(weeks=i)).replace(tzinfo=zone).astimezone(UTC)
             for i in range(4)]
    assert _vobject_instants(data) == right
    wrong = data.replace(b"BYDAY=-1SU;BYMONTH=3", b"BYDAY=2SU;BYMONTH=3")
    assert wrong != data and _vobject_instants(wrong) != right


def test_irregular_zone_falls_back_to_explicit_transitions() -> None:
    """Casablanca's DST pauses for Ramadan (dates follow the lunar calendar): no yearly rule fits, so each
    transition is its own block; and every instant still comes back right through vobject."""
    zone = ZoneInfo("Africa/Casablanca")
    first = datetime(2026, 1, 5, 12, 0, tzinfo=zone)
    ev = Event()
    ev.add("uid", "x")
    ev.add("dtstamp", first)
    ev.add("dtstart", first)
    ev.add("rrule", {"freq": "weekly", "count": 80})
    data = write_calendar([ev], prodid="-//t//", name=None, now=first)
    text = data.decode()
    blocks = text.count("BEGIN:STANDARD") + text.count("BEGIN:DAYLIGHT")
    trs = transitions(zone, datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
    assert len(trs) >= 8 and blocks >= len(trs)
    expected = [(first.replace(tzinfo=None) + timedelta(weeks=i)).replace(tzinfo=zone).astimezone(UTC)
                for i in range(80)]
    assert _vobject_instants(data) == expected


def test_rule_change_gets_until() -> None:
    """A span across a change of rules (the US in 2007) ends the old rule with UNTIL."""
    tz = vtimezone("America/New_York", datetime(2005, 6, 1, tzinfo=UTC), datetime(2006, 6, 1, tzinfo=UTC))
    text = tz.to_ical().decode()
    assert "UNTIL=2006" in text and "BYDAY=2SU;BYMONTH=3" in text and "BYDAY=1SU;BYMONTH=4" in text


def test_mou_calendar_goes_through_the_same_writer() -> None:
    item = DueItem(on=date(2027, 4, 1), what="expiry", agreement_id=3, title="Lyon–Montréal")
    data = mou_ics(G, [item], now=datetime(2026, 1, 1, tzinfo=UTC))
    cal = Calendar.from_ical(data)
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [f"mou-{G}-3-expiry-2027-04-01@attache"]
    assert b"CALSCALE:GREGORIAN" in data and not cal.walk("VTIMEZONE")

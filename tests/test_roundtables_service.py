"""Roundtables service: recurrence across DST, validation, capacity/waitlist, jobs, findtime, .ics."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from bot import MIGRATIONS_DIR
from bot.db import Database
from bot.errors import Conflict, InvalidInput, PermissionDenied
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from bot.timeparse import to_unix
from cogs.roundtables import recurrence
from cogs.roundtables.findtime import find_slots
from cogs.roundtables.ics import build_ics, uid_for
from cogs.roundtables.service import (
    Roundtable,
    RoundtableService,
    is_stale,
    split_where,
    validate_offsets,
)

G = 111
HOST = 1000


def wall(*parts: int) -> datetime:
    """A naive wall-clock datetime (recurrence works on local wall time)."""
    return datetime(*parts, tzinfo=UTC).replace(tzinfo=None)  # type: ignore[misc]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """Core + roundtables migrations only (other features' migrations are placeholders here), so
    these tests depend on nothing but the schema they exercise."""
    mig = tmp_path / "migrations"
    mig.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        num = int(f.name[:3])
        if f.name.startswith(("001-", "004-")):
            shutil.copy(f, mig / f.name)
        elif num < 4:
            (mig / f.name).write_text("-- placeholder\n")
    database = Database(tmp_path / "rt.db")
    await database.connect()
    await database.migrate(mig)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))


@pytest.fixture
async def svc(db: Database, clock: Clock) -> RoundtableService:
    sched = Scheduler(db, clock=clock)
    settings = SettingsService(db)
    await settings.set(G, "announcements_channel_id", 555, actor_id=None)
    return RoundtableService(db, sched, settings=settings, clock=clock)


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


# ----------------------------------------------------------------------------- recurrence


@pytest.mark.parametrize(
    ("tz", "first_local"),
    [
        ("America/Los_Angeles", wall(2026, 2, 3, 9, 0)),  # DST starts 8 Mar, ends 1 Nov
        ("Europe/Paris", wall(2026, 2, 3, 9, 0)),  # 29 Mar / 25 Oct
        ("Australia/Sydney", wall(2026, 2, 3, 9, 0)),  # southern: DST ends 5 Apr, starts 4 Oct
        ("America/Santiago", wall(2026, 2, 3, 9, 0)),  # southern, other rules
        ("Asia/Seoul", wall(2026, 2, 3, 9, 0)),  # no DST
    ],
)
def test_weekly_keeps_wall_clock_across_dst(tz: str, first_local: datetime) -> None:
    zone = ZoneInfo(tz)
    start = recurrence.localize(first_local, zone)
    series = recurrence.Series(start, tz, "FREQ=WEEKLY;BYDAY=TU", timedelta(hours=1))
    starts = recurrence.raw_starts(series, limit=52)
    assert len(starts) == 52
    offsets = set()
    for s in starts:
        loc = local(s, tz)
        assert (loc.hour, loc.minute, loc.weekday()) == (9, 0, 1), s
        offsets.add(loc.utcoffset())
    if tz != "Asia/Seoul":
        assert len(offsets) == 2  # the UTC instant really moved with DST
    # consecutive occurrences are 7 days apart in wall time, 7 days ± 1 h in real time
    gaps = {b - a for a, b in zip(starts, starts[1:], strict=False)}
    assert gaps <= {timedelta(days=7), timedelta(days=7, hours=1), timedelta(days=7, hours=-1)}


def test_la_weekly_in_march_and_november() -> None:
    start = recurrence.localize(wall(2026, 3, 3, 9), ZoneInfo("America/Los_Angeles"))
    series = recurrence.Series(start, "America/Los_Angeles", "FREQ=WEEKLY;BYDAY=TU", timedelta(hours=1))
    starts = recurrence.raw_starts(series, limit=40)
    assert starts[0] == datetime(2026, 3, 3, 17, tzinfo=UTC)  # PST
    assert starts[1] == datetime(2026, 3, 10, 16, tzinfo=UTC)  # PDT
    nov = [s for s in starts if local(s, "America/Los_Angeles").month == 11]
    assert nov[0] == datetime(2026, 11, 3, 17, tzinfo=UTC)  # back to PST, still 09:00 local


def test_dst_gap_moves_forward_and_fold_takes_first() -> None:
    zone = ZoneInfo("Europe/Paris")
    start = recurrence.localize(wall(2026, 3, 22, 2, 30), zone)
    series = recurrence.Series(start, "Europe/Paris", "FREQ=WEEKLY;BYDAY=SU", timedelta(hours=1))
    starts = recurrence.raw_starts(series, limit=40)
    gap = [s for s in starts if s.date() == date(2026, 3, 29)][0]
    assert local(gap, "Europe/Paris").hour == 3 and local(gap, "Europe/Paris").minute == 30  # 02:30 skipped
    fold = [s for s in starts if local(s, "Europe/Paris").date() == date(2026, 10, 25)][0]
    assert fold == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # first 02:30 (CEST, +02:00)
    sydney = ZoneInfo("Australia/Sydney")
    s2 = recurrence.localize(wall(2026, 9, 27, 2, 30), sydney)
    syd = recurrence.raw_starts(recurrence.Series(s2, "Australia/Sydney", "FREQ=WEEKLY;BYDAY=SU",
                                                  timedelta(hours=1)), limit=2)
    assert local(syd[1], "Australia/Sydney").hour == 3  # 4 Oct 02:30 does not exist in Sydney


def test_monthly_positions() -> None:
    tue = wall(2026, 1, 6, 18)  # first Tuesday of January
    assert recurrence.base_rule("monthly", tue) == "FREQ=MONTHLY;BYDAY=+1TU"
    fri = wall(2026, 1, 30, 18)  # fifth (= last) Friday
    assert recurrence.base_rule("monthly", fri) == "FREQ=MONTHLY;BYDAY=-1FR"
    assert recurrence.base_rule("monthly-last", wall(2026, 1, 23, 18)) == "FREQ=MONTHLY;BYDAY=-1FR"
    zone = ZoneInfo("Asia/Tokyo")
    series = recurrence.Series(recurrence.localize(fri, zone), "Asia/Tokyo", "FREQ=MONTHLY;BYDAY=-1FR",
                               timedelta(hours=1))
    days = [local(s, "Asia/Tokyo").date() for s in recurrence.raw_starts(series, limit=4)]
    assert days == [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27), date(2026, 4, 24)]
    assert "last Friday" in recurrence.describe("monthly-last", "FREQ=MONTHLY;BYDAY=-1FR", fri)
    assert "first Tuesday" in recurrence.describe("monthly", "FREQ=MONTHLY;BYDAY=+1TU", tue)


def test_until_is_inclusive_of_the_local_day() -> None:
    zone = ZoneInfo("Pacific/Auckland")
    start = recurrence.localize(wall(2026, 1, 6, 9), zone)
    until = recurrence.localize(wall(2026, 1, 27, 23, 59, 59), zone)
    rule = recurrence.with_end("FREQ=WEEKLY;BYDAY=TU", count=None, until_utc=until)
    assert rule.endswith("Z")
    starts = recurrence.raw_starts(recurrence.Series(start, "Pacific/Auckland", rule, timedelta(hours=1)))
    assert len(starts) == 4


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("FREQ=HOURLY", "more often than once a day"),
        ("FREQ=MINUTELY;INTERVAL=5", "more often than once a day"),
        ("FREQ=WEEKLY;BYHOUR=9,10", "BYHOUR"),
        ("BYDAY=MO", "no FREQ"),
        ("FREQ=WEEKLY;BYDAY=XX", "couldn't read"),
        ("FREQ=FORTNIGHTLY", "couldn't read"),
        ("FREQ=WEEKLY;UNTIL=20200101T000000Z", "no upcoming occurrence"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no upcoming occurrence"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20300101", "COUNT or UNTIL"),
        ("FREQ=WEEKLY\nEXDATE:20260101", "one line"),
    ],
)
def test_bad_rrules_are_refused(text: str, needle: str) -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    zone = ZoneInfo("Europe/Paris")
    with pytest.raises(InvalidInput) as err:
        rule = recurrence.normalise_user_rule(text)
        recurrence.validate(rule, wall(2026, 1, 6, 10), zone, now=now)
    assert needle in err.value.message


def test_user_rrule_reanchors_dtstart() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    rule = recurrence.normalise_user_rule("RRULE:FREQ=MONTHLY;BYDAY=+2WE;COUNT=3")
    first = recurrence.validate(rule, wall(2026, 1, 6, 10), ZoneInfo("Europe/Paris"), now=now)
    assert first == wall(2026, 1, 14, 10)


def test_parse_repeat_and_where() -> None:
    assert recurrence.parse_repeat("every 2 weeks") == ("biweekly", None)
    assert recurrence.parse_repeat(None) == ("none", None)
    assert recurrence.parse_repeat("rrule:freq=daily;count=3") == ("rrule", "FREQ=DAILY;COUNT=3")
    with pytest.raises(InvalidInput):
        recurrence.parse_repeat("sometimes")
    # typed in French or Spanish, with or without accents
    assert recurrence.parse_repeat("Toutes les deux semaines") == ("biweekly", None)
    assert recurrence.parse_repeat("hebdomadaire") == ("weekly", None)
    assert recurrence.parse_repeat("Último") == ("monthly-last", None)
    assert recurrence.parse_repeat("cada mes") == ("monthly", None)
    assert split_where("https://meet.example/abc, Room 4") == ("https://meet.example/abc", "Room 4")
    assert split_where("Town hall, Lyon") == (None, "Town hall, Lyon")
    assert split_where("https://x.example/y") == ("https://x.example/y", None)


# ----------------------------------------------------------------------------- create / validate


async def test_create_validation(svc: RoundtableService, clock: Clock) -> None:
    future = clock.now + timedelta(days=2)
    with pytest.raises(InvalidInput, match="past"):
        await svc.create(G, HOST, title="x", start=clock.now - timedelta(hours=1), tz="UTC")
    with pytest.raises(InvalidInput, match="from 5 minutes"):
        await svc.create(G, HOST, title="x", start=future, tz="UTC", duration_min=4)
    with pytest.raises(InvalidInput, match="from 5 minutes"):
        await svc.create(G, HOST, title="x", start=future, tz="UTC", duration_min=721)
    with pytest.raises(InvalidInput, match="title"):
        await svc.create(G, HOST, title="t" * 101, start=future, tz="UTC")
    with pytest.raises(InvalidInput, match="agenda"):
        await svc.create(G, HOST, title="ok", start=future, tz="UTC", agenda="a" * 2001)
    with pytest.raises(InvalidInput, match="more often"):
        await svc.create(G, HOST, title="ok", start=future, tz="UTC", repeat="FREQ=HOURLY")
    with pytest.raises(InvalidInput, match="only makes sense"):
        await svc.create(G, HOST, title="ok", start=future, tz="UTC", count=3)
    assert await svc.list_upcoming(G) == []  # nothing half-created


async def test_create_schedules_next_occurrence_jobs(
    svc: RoundtableService, clock: Clock, db: Database
) -> None:
    start = recurrence.localize(wall(2026, 1, 13, 9), ZoneInfo("America/Los_Angeles"))
    rt = await svc.create(G, HOST, title="Climate", start=start, tz="America/Los_Angeles", repeat="weekly",
                          where="https://meet.example/x Paris office", capacity=5)
    assert rt.rrule == "FREQ=WEEKLY;BYDAY=TU"
    assert rt.next_occ == start and rt.next_start == start
    assert rt.link == "https://meet.example/x" and rt.place == "Paris office"
    assert svc.scheduler is not None
    jobs = await svc.scheduler.pending(G, f"rt:{rt.id}:")
    keys = {j.dedupe_key: j for j in jobs}
    base = f"rt:{rt.id}:occ:{to_unix(start)}:"
    assert set(keys) == {base + "r1440", base + "r15", base + "end"}
    assert keys[base + "r1440"].due_at == start - timedelta(hours=24)
    assert keys[base + "r15"].target == "555"
    assert keys[base + "end"].due_at == start + timedelta(hours=1)
    audit_rows = await db.fetchval("SELECT COUNT(*) FROM audit WHERE action = 'roundtable.schedule'")
    assert audit_rows == 1


async def test_advance_moves_to_next_occurrence(svc: RoundtableService, clock: Clock) -> None:
    start = clock.now + timedelta(days=1)
    rt = await svc.create(G, HOST, title="Weekly", start=start, tz="Europe/Paris", repeat="weekly", count=2)
    clock.now = start + timedelta(hours=1, minutes=1)
    rt2 = await svc.advance(G, rt.id, to_unix(start))
    assert rt2 is not None and rt2.next_occ == start + timedelta(days=7) and rt2.last_start == start
    assert svc.scheduler is not None
    pending = await svc.scheduler.pending(G, f"rt:{rt.id}:")
    assert {j.dedupe_key.split(":")[3] for j in pending} == {str(to_unix(start + timedelta(days=7)))}
    # a stale advance job for the old occurrence does nothing
    assert await svc.advance(G, rt.id, to_unix(start)) is None
    clock.now = start + timedelta(days=7, hours=2)
    rt3 = await svc.advance(G, rt.id, to_unix(start + timedelta(days=7)))
    assert rt3 is not None and rt3.status == "done" and rt3.next_occ is None
    assert (await svc.list_past(G))[0].id == rt.id


# ----------------------------------------------------------------------------- RSVPs


async def test_fifty_simultaneous_going_on_capacity_ten(
    svc: RoundtableService, clock: Clock, db: Database
) -> None:
    rt = await svc.create(
        G, HOST, title="Small room", start=clock.now + timedelta(days=3), tz="UTC", capacity=10
    )
    users = list(range(1, 51))
    results = await asyncio.gather(*(svc.rsvp(G, rt.id, u, "going") for u in users))
    statuses = [r.status for r in results]
    assert statuses.count("going") == 10 and statuses.count("waitlist") == 40
    assert rt.next_occ is not None
    counts = await svc.counts(G, rt.id, rt.next_occ)
    assert (counts.going, counts.waitlist) == (10, 40)
    att = await svc.attendees(G, rt.id, rt.next_occ)
    going = [a.user_id for a in att if a.status == "going"]
    waiting = [a.user_id for a in att if a.status == "waitlist"]
    assert going == users[:10]  # gather starts them in order; the transaction serialises them
    assert waiting == users[10:]
    assert [r.waitlist_position for r in results[10:13]] == [1, 2, 3]
    # a going member declines: the first on the waitlist is promoted, and told
    res = await svc.rsvp(G, rt.id, 3, "declined")
    assert res.promoted == (11,)
    assert (res.counts.going, res.counts.waitlist, res.counts.declined) == (10, 39, 1)
    # pressing Going twice changes nothing
    again = await svc.rsvp(G, rt.id, 1, "going")
    assert not again.changed and again.status == "going"
    # the declined member asks again: back of the queue
    back = await svc.rsvp(G, rt.id, 3, "going")
    assert back.status == "waitlist" and back.waitlist_position == 40
    # waitlisted member switching to maybe leaves the queue without promoting anyone
    m = await svc.rsvp(G, rt.id, 12, "maybe")
    assert m.promoted == () and m.counts.going == 10
    assert await db.fetchval("SELECT COUNT(*) FROM audit WHERE action = 'roundtable.rsvp'") == 53


async def test_capacity_increase_promotes_in_order(svc: RoundtableService, clock: Clock) -> None:
    rt = await svc.create(G, HOST, title="Room", start=clock.now + timedelta(days=3), tz="UTC", capacity=1)
    for u in (7, 8, 9):
        await svc.rsvp(G, rt.id, u, "going")
    res = await svc.edit(G, rt.id, HOST, is_moderator=False, capacity=2)
    assert res.promoted == (8,)
    with pytest.raises(PermissionDenied):
        await svc.edit(G, rt.id, 42, is_moderator=False, capacity=3)
    await svc.edit(G, rt.id, 42, is_moderator=True, capacity=3)


async def test_rsvp_refused_for_old_buttons_and_cancelled(svc: RoundtableService, clock: Clock) -> None:
    rt = await svc.create(G, HOST, title="W", start=clock.now + timedelta(days=1), tz="UTC", repeat="weekly")
    with pytest.raises(Conflict, match="passed or was cancelled"):
        await svc.rsvp(G, rt.id, 5, "going", occ_key=rt.start - timedelta(days=7))
    await svc.cancel(G, rt.id, HOST, is_moderator=False, scope="all")
    with pytest.raises(Conflict, match="cancelled"):
        await svc.rsvp(G, rt.id, 5, "going")


# ----------------------------------------------------------------------------- edit / cancel


async def test_cancel_this_skips_and_schedules_following(svc: RoundtableService, clock: Clock) -> None:
    start = clock.now + timedelta(days=2)
    rt = await svc.create(G, HOST, title="Series", start=start, tz="Australia/Sydney", repeat="weekly")
    await svc.rsvp(G, rt.id, 21, "going")
    await svc.rsvp(G, rt.id, 22, "maybe")
    res = await svc.cancel(G, rt.id, HOST, is_moderator=False, scope="this")
    assert res.going == (21,) and not res.whole_series
    assert res.roundtable.status == "scheduled"
    assert res.roundtable.next_occ == start + timedelta(days=7)
    assert svc.scheduler is not None
    pending = await svc.scheduler.pending(G, f"rt:{rt.id}:")
    assert pending and all(f":occ:{to_unix(start + timedelta(days=7))}:" in j.dedupe_key for j in pending)
    res2 = await svc.cancel(G, rt.id, HOST, is_moderator=False, scope="all")
    assert res2.roundtable.status == "cancelled"
    assert await svc.scheduler.pending(G, f"rt:{rt.id}:") == []


async def test_edit_move_this_occurrence_and_series(svc: RoundtableService, clock: Clock) -> None:
    start = clock.now + timedelta(days=2)
    rt = await svc.create(G, HOST, title="Series", start=start, tz="UTC", repeat="weekly")
    await svc.rsvp(G, rt.id, 31, "going")
    moved_to = start + timedelta(hours=3)
    res = await svc.edit(G, rt.id, HOST, is_moderator=False, start=moved_to, scope="this")
    assert res.roundtable.next_occ == start and res.roundtable.next_start == moved_to
    assert res.going == (31,)
    assert svc.scheduler is not None
    jobs = {j.dedupe_key: j for j in await svc.scheduler.pending(G, f"rt:{rt.id}:")}
    assert jobs[f"rt:{rt.id}:occ:{to_unix(start)}:r15"].due_at == moved_to - timedelta(minutes=15)
    occs = await svc.occurrences(res.roundtable, limit=3)
    assert [o.start for o in occs] == [moved_to, start + timedelta(days=7), start + timedelta(days=14)]
    # move the whole series a day later: weekday changes, answers follow the next occurrence
    res2 = await svc.edit(G, rt.id, HOST, is_moderator=False, start=start + timedelta(days=1), scope="all")
    assert res2.roundtable.next_start == start + timedelta(days=1)
    assert res2.going == (31,)
    assert res2.roundtable.rrule is not None and res2.roundtable.rrule != rt.rrule


async def test_notes_only_after_start(svc: RoundtableService, clock: Clock) -> None:
    start = clock.now + timedelta(hours=2)
    rt = await svc.create(G, HOST, title="N", start=start, tz="UTC")
    with pytest.raises(InvalidInput, match="once the meeting has started"):
        await svc.add_notes(G, rt.id, HOST, "summary", is_moderator=False)
    clock.now = start + timedelta(minutes=10)
    with pytest.raises(PermissionDenied):
        await svc.add_notes(G, rt.id, 99, "summary", is_moderator=False)
    _, note, occ_start = await svc.add_notes(G, rt.id, HOST, "We agreed on X.", is_moderator=False)
    assert occ_start == start and note.text == "We agreed on X."
    assert (await svc.notes(G, rt.id))[0].text == "We agreed on X."


async def test_guild_isolation(svc: RoundtableService, clock: Clock) -> None:
    rt = await svc.create(G, HOST, title="Mine", start=clock.now + timedelta(days=1), tz="UTC")
    with pytest.raises(Exception, match="no roundtable"):
        await svc.get(G + 1, rt.id)
    assert await svc.list_upcoming(G + 1) == []


def test_stale_rule_and_offsets() -> None:
    start = datetime(2026, 1, 10, 12, tzinfo=UTC)
    due24 = start - timedelta(hours=24)
    assert not is_stale(1440, start, due24, due24 + timedelta(minutes=59))
    assert is_stale(1440, start, due24, due24 + timedelta(minutes=61))
    due15 = start - timedelta(minutes=15)
    assert not is_stale(15, start, due15, start - timedelta(minutes=1))
    assert is_stale(15, start, due15, start)
    assert validate_offsets([15, 1440]) == [1440, 15]
    with pytest.raises(InvalidInput):
        validate_offsets([1])


# ----------------------------------------------------------------------------- findtime


def test_findtime_overlap_and_none() -> None:
    now = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
    slots = find_slots(
        ["Europe/Paris", "America/New_York"], duration=timedelta(hours=1), now=now, within_days=7
    )
    assert slots
    for s in slots:
        for tz in ("Europe/Paris", "America/New_York"):
            a, b = local(s.start, tz), local(s.end, tz)
            assert a.weekday() < 5 and a.hour >= 9 and (b.hour, b.minute) <= (18, 0) and a.date() == b.date()
    # Paris 09-18 and New York 09-18 overlap 15:00-18:00 Paris; the best start is mid-window
    assert local(slots[0].start, "Europe/Paris").hour in (15, 16)
    assert len({local(s.start, "UTC").date() for s in slots}) == len(slots)  # one per window (day)
    # Seoul 09:00-11:00 is Los Angeles 16:00-18:00 the day before: exactly one start fits 2 hours, none fits 3
    two = find_slots(["Asia/Seoul", "America/Los_Angeles"], duration=timedelta(hours=2), now=now)
    assert two and all(s.window_start == s.window_end and s.margin_min == 0 for s in two)
    assert all(local(s.start, "Asia/Seoul").hour == 9 for s in two)
    assert find_slots(["Asia/Seoul", "America/Los_Angeles"], duration=timedelta(hours=3), now=now) == []
    assert find_slots(["Asia/Seoul", "Europe/Paris", "America/Los_Angeles"], duration=timedelta(minutes=30),
                      now=now) == []


def test_findtime_skips_weekends_in_each_zone() -> None:
    now = datetime(2026, 1, 9, 20, 0, tzinfo=UTC)  # Friday evening UTC = Saturday in Auckland
    slots = find_slots(
        ["Pacific/Auckland", "Asia/Tokyo"], duration=timedelta(hours=1), now=now, within_days=4
    )
    assert slots
    assert all(local(s.start, "Pacific/Auckland").weekday() < 5 for s in slots)
    assert all(local(s.start, "Asia/Tokyo").weekday() < 5 for s in slots)


# ----------------------------------------------------------------------------- .ics


async def test_ics_round_trip_same_occurrences(svc: RoundtableService, clock: Clock) -> None:
    start = recurrence.localize(wall(2026, 2, 3, 9), ZoneInfo("America/Los_Angeles"))
    rt: Roundtable = await svc.create(
        G,
        HOST,
        title="Cities & climate",
        start=start,
        tz="America/Los_Angeles",
        repeat="weekly",
        count=40,
        where="https://meet.example/z",
    )
    # skip the second occurrence and move the third
    clock.now = start + timedelta(hours=2)
    rt = await svc.advance(G, rt.id, to_unix(start)) or rt
    await svc.cancel(G, rt.id, HOST, is_moderator=False, scope="this")
    rt = await svc.get(G, rt.id)
    third = start + timedelta(days=14)
    await svc.edit(G, rt.id, HOST, is_moderator=False, start=third + timedelta(hours=2), scope="this")
    rt = await svc.get(G, rt.id)
    ov = await svc.overrides(rt)
    data = build_ics(rt, ov, include_link=False, now=clock.now)
    assert b"meet.example" not in data  # the link only goes to those going

    cal = Calendar.from_ical(data)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 2 and {str(e["UID"]) for e in events} == {uid_for(rt)}
    assert cal.walk("VTIMEZONE") and str(cal.walk("VTIMEZONE")[0]["TZID"]) == "America/Los_Angeles"
    main = next(e for e in events if "RECURRENCE-ID" not in e)
    dtstart = main.decoded("DTSTART")
    assert dtstart.tzinfo is not None and str(main["DTSTART"].params["TZID"]) == "America/Los_Angeles"
    rule = main["RRULE"].to_ical().decode()
    expanded = [d.astimezone(UTC) for d in rrulestr(rule, dtstart=dtstart)]
    exdates = {d.dt.astimezone(UTC) for ex in (main.get("EXDATE") if isinstance(main.get("EXDATE"), list)
                                               else [main.get("EXDATE")]) for d in ex.dts}
    moved = {e.decoded("RECURRENCE-ID").astimezone(UTC): e.decoded("DTSTART").astimezone(UTC)
             for e in events if "RECURRENCE-ID" in e}
    from_ics = sorted(moved.get(d, d) for d in expanded if d not in exdates)
    ours = [start] + [o.start for o in await svc.occurrences(rt, after=start + timedelta(hours=1), limit=100)]
    assert from_ics == sorted(ours)
    assert len(expanded) == 40
    # every occurrence stays 09:00 in Los Angeles (except the moved one)
    assert all(local(d, "America/Los_Angeles").hour == 9 for d in expanded)
    assert from_ics[1] == third + timedelta(hours=2)


@settings(max_examples=60, deadline=None)
@given(
    tz=st.sampled_from(["America/Los_Angeles", "Europe/London", "Australia/Sydney", "Pacific/Auckland",
                        "America/Santiago", "Asia/Tehran", "Australia/Lord_Howe"]),
    day=st.integers(0, 364),
    minute=st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 15),
    kind=st.sampled_from(["weekly", "biweekly", "monthly", "monthly-last"]),
)
def test_property_local_wall_time_is_kept(tz: str, day: int, minute: int, kind: str) -> None:
    zone = ZoneInfo(tz)
    first = wall(2026, 1, 1) + timedelta(days=day, minutes=minute)
    rule = recurrence.base_rule(kind, first)
    assert rule is not None
    series = recurrence.Series(recurrence.localize(first, zone), tz, rule, timedelta(hours=1))
    for s in recurrence.raw_starts(series, limit=30):
        loc = s.astimezone(zone)
        if (loc.hour, loc.minute) != (first.hour, first.minute):
            # only a DST gap may shift it, forward, by the gap
            naive = loc.replace(tzinfo=None)
            intended = naive.replace(hour=first.hour, minute=first.minute)
            assert naive > intended and naive - intended <= timedelta(hours=1)
        assert loc.weekday() == first.weekday() or (loc.hour, loc.minute) != (first.hour, first.minute)


def test_until_is_described_as_the_series_local_day_in_each_language() -> None:
    """The last day of a series with an end date is the day in the series' zone (the stored UNTIL is that
    day's end in UTC), in words in the reader's language."""
    zone = ZoneInfo("Pacific/Auckland")
    start = recurrence.localize(wall(2026, 1, 6, 9), zone).astimezone(zone)  # a Tuesday there
    rule = recurrence.with_end("FREQ=WEEKLY;BYDAY=TU", count=None,
                               until_utc=recurrence.localize(wall(2026, 1, 27, 23, 59, 59), zone))
    assert "UNTIL=20260127T105959Z" in rule
    assert recurrence.describe("weekly", rule, start, "en") == "weekly on Tuesday, until 27 January 2026"
    assert recurrence.describe("weekly", rule, start, "fr").endswith("jusqu'au 27 janvier 2026")
    assert recurrence.describe("weekly", rule, start, "es").endswith("hasta el 27 de enero de 2026")
    hand_typed = "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260310"
    assert recurrence.describe("weekly", hand_typed, start, "en").endswith("until 10 March 2026")

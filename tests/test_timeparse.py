"""Tests for bot.timeparse: parsing user-typed times, DST edges, zones, Discord timestamps."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import timeparse as tp
from bot.timeparse import (
    TimeParseError,
    check_local,
    discord_ts,
    discord_ts_pair,
    format_local,
    from_unix,
    get_zone,
    humanize_duration,
    is_ambiguous,
    is_nonexistent,
    local_times_line,
    parse_date,
    parse_duration,
    parse_when,
    resolve_local,
    search_zones,
    to_unix,
    to_utc,
    utcnow,
    zone_label,
)

# Wednesday 2026-05-20, 10:00 UTC = 12:00 in Paris (CEST, +02:00) = 03:00 in Los Angeles (PDT).
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)
TODAY = date(2026, 5, 20)
PARIS = ZoneInfo("Europe/Paris")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def naive(*args: int) -> datetime:
    """A naive wall-clock datetime."""
    return datetime(*args, tzinfo=UTC).replace(tzinfo=None)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


# --------------------------------------------------------------------------- #
# parse_when: accepted formats
# --------------------------------------------------------------------------- #

WHEN_CASES: list[tuple[str, str, datetime]] = [
    # ISO and friends
    ("2026-12-03 15:00", "Europe/Paris", paris(2026, 12, 3, 15)),
    ("2026-12-03T15:00", "Europe/Paris", paris(2026, 12, 3, 15)),
    ("2026-12-03T15:00:30", "Europe/Paris", paris(2026, 12, 3, 15, 0, 30)),
    ("2026-12-03", "Europe/Paris", paris(2026, 12, 3, 0)),  # bare date = midnight local
    ("2026/12/03", "Europe/Paris", paris(2026, 12, 3, 0)),
    ("20261203T1500", "Europe/Paris", paris(2026, 12, 3, 15)),
    ("2026-12-03 15:00", "UTC", utc(2026, 12, 3, 15)),
    ("2026-12-03 15:00", "utc", utc(2026, 12, 3, 15)),
    ("2026-12-03 15:00", "asia/seoul", utc(2026, 12, 3, 6)),
    # month names, am/pm
    ("3 Dec 2026 3pm", "Europe/Paris", paris(2026, 12, 3, 15)),
    ("3 December 2026 3:30 p.m.", "Europe/Paris", paris(2026, 12, 3, 15, 30)),
    ("December 3rd, 2026 at 3:00 PM", "Europe/Paris", paris(2026, 12, 3, 15)),
    ("3rd of December 2026", "Europe/Paris", paris(2026, 12, 3)),
    ("Thursday 3 Dec 2026 09:00", "Europe/Paris", paris(2026, 12, 3, 9)),
    ("Dec 3 15:00", "Europe/Paris", paris(2026, 12, 3, 15)),  # no year -> next occurrence
    ("Dec 3", "Europe/Paris", paris(2026, 12, 3)),
    ("May 20", "Europe/Paris", paris(2026, 5, 20)),  # today counts for a bare date
    ("May 20 13:00", "Europe/Paris", paris(2026, 5, 20, 13)),  # later today
    ("May 20 11:00", "Europe/Paris", paris(2027, 5, 20, 11)),  # already passed -> next year
    ("Jan 5", "Europe/Paris", paris(2027, 1, 5)),
    ("Feb 29", "Europe/Paris", paris(2028, 2, 29)),  # next leap year
    # numeric dates whose order is obvious
    ("25/12/2026", "Europe/Paris", paris(2026, 12, 25)),
    ("12/25/2026", "Europe/Paris", paris(2026, 12, 25)),
    ("25.12.2026 18:00", "Europe/Paris", paris(2026, 12, 25, 18)),
    ("5/5/2026 10:00", "Europe/Paris", paris(2026, 5, 5, 10)),
    # day words
    ("tomorrow 09:30", "Europe/Paris", paris(2026, 5, 21, 9, 30)),
    ("tomorrow at 9", "Europe/Paris", paris(2026, 5, 21, 9)),
    ("9am tomorrow", "Europe/Paris", paris(2026, 5, 21, 9)),
    ("tomorrow", "Europe/Paris", paris(2026, 5, 21, 0)),
    ("today 18:00", "Europe/Paris", paris(2026, 5, 20, 18)),
    ("today 08:00", "Europe/Paris", paris(2026, 5, 20, 8)),  # explicit "today" may be in the past
    ("tonight", "Europe/Paris", paris(2026, 5, 20, 20)),
    ("tonight 9", "Europe/Paris", paris(2026, 5, 20, 21)),
    ("tonight at 10:30", "Europe/Paris", paris(2026, 5, 20, 22, 30)),
    ("tonight midnight", "Europe/Paris", paris(2026, 5, 21, 0)),
    # weekdays (NOW is a Wednesday, 12:00 in Paris)
    ("next monday 10:00", "Europe/Paris", paris(2026, 5, 25, 10)),
    ("monday 10am", "Europe/Paris", paris(2026, 5, 25, 10)),
    ("mon 10am", "Europe/Paris", paris(2026, 5, 25, 10)),
    ("friday at 9.30pm", "Europe/Paris", paris(2026, 5, 22, 21, 30)),
    ("3pm on friday", "Europe/Paris", paris(2026, 5, 22, 15)),
    ("wednesday 13:00", "Europe/Paris", paris(2026, 5, 20, 13)),  # later today -> today
    ("wednesday 11:00", "Europe/Paris", paris(2026, 5, 27, 11)),  # earlier today -> next week
    ("this wednesday 13:00", "Europe/Paris", paris(2026, 5, 20, 13)),
    ("next wednesday 13:00", "Europe/Paris", paris(2026, 5, 27, 13)),  # "next" = strictly after today
    ("thurs", "Europe/Paris", paris(2026, 5, 21)),
    ("next thursday", "Europe/Paris", paris(2026, 5, 21)),
    # bare times -> next occurrence
    ("15:00", "Europe/Paris", paris(2026, 5, 20, 15)),
    ("11:00", "Europe/Paris", paris(2026, 5, 21, 11)),
    ("3pm", "Europe/Paris", paris(2026, 5, 20, 15)),
    ("3 PM", "Europe/Paris", paris(2026, 5, 20, 15)),
    ("at 7:45am", "Europe/Paris", paris(2026, 5, 21, 7, 45)),
    ("12am", "Europe/Paris", paris(2026, 5, 21, 0)),
    ("15h30", "Europe/Paris", paris(2026, 5, 20, 15, 30)),
    ("noon", "Europe/Paris", paris(2026, 5, 21, 12)),  # it is exactly noon: next one is tomorrow
    ("midnight", "Europe/Paris", paris(2026, 5, 21, 0)),
    ("  Tomorrow   09:30 ", "Europe/Paris", paris(2026, 5, 21, 9, 30)),
    ("１５：００", "Europe/Paris", paris(2026, 5, 20, 15)),  # full-width digits
    # relative: exact durations from now
    ("in 2 hours", "Europe/Paris", NOW + timedelta(hours=2)),
    ("in 90 minutes", "Europe/Paris", NOW + timedelta(minutes=90)),
    ("in 3 days", "Europe/Paris", NOW + timedelta(days=3)),
    ("in 1 week", "Europe/Paris", NOW + timedelta(weeks=1)),
    ("in 1.5 hours", "Europe/Paris", NOW + timedelta(minutes=90)),
    ("in 1h30", "Europe/Paris", NOW + timedelta(minutes=90)),
    ("in 2 hours and 15 minutes", "Europe/Paris", NOW + timedelta(hours=2, minutes=15)),
    ("in an hour", "Europe/Paris", NOW + timedelta(hours=1)),
    ("in half an hour", "Europe/Paris", NOW + timedelta(minutes=30)),
    ("in 45s", "Europe/Paris", NOW + timedelta(seconds=45)),
    ("90 minutes from now", "Europe/Paris", NOW + timedelta(minutes=90)),
    ("now", "Europe/Paris", NOW),
    # relative months/years step the local calendar
    ("in 6 months", "Europe/Paris", paris(2026, 11, 20, 12)),
    ("in 1 year", "Europe/Paris", paris(2027, 5, 20, 12)),
    # explicit zone/offset in the text overrides the zone argument
    ("15:00 UTC", "Europe/Paris", utc(2026, 5, 20, 15)),
    ("15:00 GMT", "Europe/Paris", utc(2026, 5, 20, 15)),
    ("2026-12-03T15:00Z", "Europe/Paris", utc(2026, 12, 3, 15)),
    ("2026-12-03T15:00+09:00", "Europe/Paris", utc(2026, 12, 3, 6)),
    ("2026-12-03 15:00 -0330", "Europe/Paris", utc(2026, 12, 3, 18, 30)),
    ("2026-12-03 15:00 UTC+9", "Europe/Paris", utc(2026, 12, 3, 6)),
    ("2026-12-03 15:00 GMT-3", "Europe/Paris", utc(2026, 12, 3, 18)),
    ("2026-12-03 15:00 UTC+05:30", "Europe/Paris", utc(2026, 12, 3, 9, 30)),
    ("2026-12-03 15:00 Asia/Tokyo", "Europe/Paris", utc(2026, 12, 3, 6)),
    ("2026-12-03 15:00 america/los_angeles", "Europe/Paris", utc(2026, 12, 3, 23)),
    ("tomorrow 15:00 UTC", "Europe/Paris", utc(2026, 5, 21, 15)),
    ("tomorrow 15:00+09:00", "Europe/Paris", utc(2026, 5, 21, 6)),
    # range edges
    ("9999-12-31 23:59", "UTC", utc(9999, 12, 31, 23, 59)),
    ("0001-01-01 00:00", "UTC", utc(1, 1, 1)),
]


@pytest.mark.parametrize(("text", "zone", "expected"), WHEN_CASES)
def test_parse_when_accepts(text: str, zone: str, expected: datetime) -> None:
    result = parse_when(text, zone, now=NOW)
    assert result == expected
    assert result.tzinfo is UTC


def test_parse_when_accepts_zoneinfo_object_and_non_utc_now() -> None:
    now_in_tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert parse_when("tomorrow 09:30", PARIS, now=now_in_tokyo) == paris(2026, 5, 21, 9, 30)


def test_parse_when_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("15:00", "UTC", now=datetime(2026, 5, 20))  # noqa: DTZ001


def test_parse_when_bad_zone_argument() -> None:
    with pytest.raises(TimeParseError, match="Unknown time zone"):
        parse_when("15:00", "Mars/Olympus_Mons", now=NOW)


WHEN_ERRORS: list[tuple[str, str]] = [
    ("", "Please type"),
    ("   ", "Please type"),
    ("x" * 101, "too long"),
    ("32 Dec", "no day 32"),
    ("31 Feb 2026", "February 2026 has only 28 days"),
    ("29 Feb 2027", "February 2027 has only 28 days"),
    ("30 feb", "February has only 29 days"),
    ("2026-13-01", "no month 13"),
    ("2026-12-03 25:00", "hours go from 00 to 23"),
    ("25:00", "hours go from 00 to 23"),
    ("12:60", "minutes from 00 to 59"),
    ("tomorrow 24:30", "hours go from 00 to 23"),
    ("13pm", "with am/pm the hour goes from 1 to 12"),
    ("0am", "with am/pm the hour goes from 1 to 12"),
    ("10000-01-01", "years 1 to 9999"),
    ("in 99999999 years", "years 1 to 9999"),
    ("in 999999999999 weeks", "years 1 to 9999"),
    ("3/12/2026", "could mean 3 December or March 12"),
    ("3.12.2026", "could mean 3 December or March 12"),
    ("3/12", "could mean"),
    ("3 Dec 26", "four digits"),
    ("Dec 2026", "needs a day"),
    ("december", "needs a day"),
    ("2026", "couldn't read"),
    ("15", "couldn't read"),
    ("banana", "couldn't read"),
    ("the day after the party", "couldn't read"),
    ("in a while", "couldn't read"),
    ("in 1.5 months", "whole number of months"),
    ("2 hours", "Did you mean `in 2 hours`"),
    ("Monday 3 Dec 2026", "is a Thursday, not a Monday"),
    ("15:00 PST", "abbreviations"),
    ("15:00 cet", "abbreviations"),
    ("15:00 +15:00", "offsets go from -12:00 to +14:00"),
    ("15:00 -13:00", "offsets go from -12:00 to +14:00"),
    ("15:00 Europe/Pariss", "Unknown time zone"),
    ("15:00 Europe/Paris Asia/Tokyo", "more than one time zone"),
    ("15:00+09:00 Asia/Tokyo", "both a time zone and a UTC offset"),
    ("UTC", "no date or time"),
    (".", "couldn't read"),
    ("-5", "couldn't read"),
    ("t", "couldn't read"),
]


@pytest.mark.parametrize(("text", "fragment"), WHEN_ERRORS)
def test_parse_when_rejects(text: str, fragment: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, "Europe/Paris", now=NOW)
    assert fragment in str(info.value)
    assert len(str(info.value)) < 400


def test_error_messages_are_user_facing() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("32 Dec", "Europe/Paris", now=NOW)
    message = str(info.value)
    assert message.startswith("“32 Dec”")
    assert "`2026-12-03 15:00`" in message and "`in 2 hours`" in message


def test_error_message_echo_is_sanitised() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("@everyone `code` <@123>", "UTC", now=NOW)
    message = str(info.value)
    assert "@everyone" not in message and "<@123>" not in message
    assert "`code`" not in message


def test_non_string_input_is_a_parse_error() -> None:
    with pytest.raises(TimeParseError):
        parse_when(None, "UTC", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(TimeParseError):
        parse_date(12, today=TODAY)  # type: ignore[arg-type]


def test_out_of_range_after_zone_conversion() -> None:
    # 0001-01-01 00:00 in Tokyo (LMT +09:18:59) is before year 1 in UTC.
    with pytest.raises(TimeParseError, match="years 1 to 9999"):
        parse_when("0001-01-01 00:00", "Asia/Tokyo", now=NOW)
    with pytest.raises(TimeParseError, match="years 1 to 9999"):
        parse_when("9999-12-31 23:00", "America/Los_Angeles", now=NOW)
    with pytest.raises(TimeParseError, match="years 1 to 9999"):
        parse_when("tomorrow", "UTC", now=utc(9999, 12, 31, 12))


# --------------------------------------------------------------------------- #
# DST gaps and folds
# --------------------------------------------------------------------------- #


def _transitions(zone_name: str, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each transition in ``year``, found by scanning."""
    zone = ZoneInfo(zone_name)
    out = []
    day = utc(year, 1, 1)
    while day.year == year:
        next_day = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != next_day.astimezone(zone).utcoffset():
            t = day
            prev = t.astimezone(zone).utcoffset()
            while t < next_day:  # find the exact instant, in 15-minute steps
                t += timedelta(minutes=15)
                offset = t.astimezone(zone).utcoffset()
                if offset != prev:
                    assert prev is not None and offset is not None
                    out.append((t, prev, offset))
                    prev = offset
        day = next_day
    return out


# Hard-coded known 2026 instants: (zone, wall time, kind)
KNOWN_DST: list[tuple[str, datetime, str]] = [
    ("America/Los_Angeles", naive(2026, 3, 8, 2, 30), "gap"),
    ("America/Los_Angeles", naive(2026, 11, 1, 1, 30), "fold"),
    ("America/Tijuana", naive(2026, 3, 8, 2, 0), "gap"),
    ("America/Tijuana", naive(2026, 11, 1, 1, 59), "fold"),
    ("Europe/Paris", naive(2026, 3, 29, 2, 30), "gap"),
    ("Europe/Paris", naive(2026, 10, 25, 2, 30), "fold"),
    ("Australia/Sydney", naive(2026, 10, 4, 2, 30), "gap"),  # southern spring: early October
    ("Australia/Sydney", naive(2026, 4, 5, 2, 30), "fold"),  # southern autumn: early April
    # the edges of the windows are fine
    ("America/Los_Angeles", naive(2026, 3, 8, 1, 59), "ok"),
    ("America/Los_Angeles", naive(2026, 3, 8, 3, 0), "ok"),
    ("America/Los_Angeles", naive(2026, 11, 1, 0, 59), "ok"),
    ("America/Los_Angeles", naive(2026, 11, 1, 2, 0), "ok"),
    ("Europe/Paris", naive(2026, 3, 29, 3, 0), "ok"),
    ("Europe/Paris", naive(2026, 10, 25, 3, 0), "ok"),
    ("Australia/Sydney", naive(2026, 10, 4, 3, 0), "ok"),
    ("Australia/Sydney", naive(2026, 4, 5, 3, 0), "ok"),
    # China has no DST: nothing is nonexistent or ambiguous
    ("Asia/Shanghai", naive(2026, 3, 8, 2, 30), "ok"),
    ("Asia/Shanghai", naive(2026, 3, 29, 2, 30), "ok"),
    ("Asia/Shanghai", naive(2026, 10, 25, 2, 30), "ok"),
    ("Asia/Shanghai", naive(2026, 11, 1, 1, 30), "ok"),
]


@pytest.mark.parametrize(("zone_name", "wall", "kind"), KNOWN_DST)
def test_known_dst_instants(zone_name: str, wall: datetime, kind: str) -> None:
    zone = ZoneInfo(zone_name)
    assert is_nonexistent(wall, zone) is (kind == "gap")
    assert is_ambiguous(wall, zone) is (kind == "fold")
    text = f"{wall:%Y-%m-%d %H:%M}"
    if kind == "ok":
        assert check_local(wall, zone) == wall.replace(tzinfo=zone)
        assert parse_when(text, zone_name, now=NOW) == wall.replace(tzinfo=zone).astimezone(UTC)
    else:
        with pytest.raises(TimeParseError):
            check_local(wall, zone)
        with pytest.raises(TimeParseError):
            parse_when(text, zone_name, now=NOW)


@pytest.mark.parametrize(
    ("zone_name", "count"),
    [
        ("America/Los_Angeles", 2),
        ("America/Tijuana", 2),
        ("Europe/Paris", 2),
        ("Australia/Sydney", 2),
        ("Asia/Shanghai", 0),
    ],
)
def test_dst_windows_found_by_scanning(zone_name: str, count: int) -> None:
    zone = ZoneInfo(zone_name)
    transitions = _transitions(zone_name, 2026)
    assert len(transitions) == count
    for instant, before, after in transitions:
        change = after - before
        if change > timedelta(0):  # clocks jump forward: [T+before, T+after) is skipped
            start = (instant + before).replace(tzinfo=None)
            kind_check, other_check = is_nonexistent, is_ambiguous
        else:  # clocks go back: [T+after, T+before) happens twice
            start = (instant + after).replace(tzinfo=None)
            kind_check, other_check = is_ambiguous, is_nonexistent
        span = abs(change)
        for minutes in range(0, int(span.total_seconds() // 60), 15):
            wall = start + timedelta(minutes=minutes)
            assert kind_check(wall, zone), wall
            assert not other_check(wall, zone), wall
            with pytest.raises(TimeParseError):
                check_local(wall, zone)
        for outside in (start - timedelta(minutes=1), start + span):
            assert not is_nonexistent(outside, zone) and not is_ambiguous(outside, zone), outside
            check_local(outside, zone)


def test_gap_message_explains_and_suggests_the_hour_after() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("2026-03-08 02:30", "America/Los_Angeles", now=NOW)
    message = str(info.value)
    assert "doesn't exist in America/Los_Angeles" in message
    assert "jump forward" in message
    assert "`2026-03-08 03:30`" in message
    # the suggestion parses
    assert parse_when("2026-03-08 03:30", "America/Los_Angeles", now=NOW) == utc(2026, 3, 8, 10, 30)


def test_fold_message_offers_both_offsets_and_they_parse() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("2026-11-01 01:30", "America/Los_Angeles", now=NOW)
    message = str(info.value)
    assert "happens twice" in message
    assert "`2026-11-01 01:30-07:00`" in message and "`2026-11-01 01:30-08:00`" in message
    first = parse_when("2026-11-01 01:30-07:00", "America/Los_Angeles", now=NOW)
    second = parse_when("2026-11-01 01:30-08:00", "America/Los_Angeles", now=NOW)
    assert (first, second) == (utc(2026, 11, 1, 8, 30), utc(2026, 11, 1, 9, 30))


def test_sydney_fold_message_offsets() -> None:
    with pytest.raises(TimeParseError) as info:
        check_local(naive(2026, 4, 5, 2, 30), ZoneInfo("Australia/Sydney"))
    assert "+11:00" in str(info.value) and "+10:00" in str(info.value)


def test_half_hour_gap_lord_howe() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")  # 30-minute DST shift
    gap = [t for t in _transitions("Australia/Lord_Howe", 2026) if t[2] > t[1]][0]
    wall = (gap[0] + gap[1]).replace(tzinfo=None) + timedelta(minutes=15)
    with pytest.raises(TimeParseError) as info:
        check_local(wall, zone)
    assert "half an hour" in str(info.value)
    assert resolve_local(wall, zone).replace(tzinfo=None) == wall + timedelta(minutes=30)


def test_dst_edges_via_day_words() -> None:
    # "02:30" typed on the eve of the Paris spring-forward night does not exist
    eve = paris(2026, 3, 28, 20)
    with pytest.raises(TimeParseError, match="doesn't exist"):
        parse_when("02:30", "Europe/Paris", now=eve)
    with pytest.raises(TimeParseError, match="doesn't exist"):
        parse_when("tomorrow 02:30", "Europe/Paris", now=eve)
    with pytest.raises(TimeParseError, match="happens twice"):
        parse_when("sunday 02:30", "Europe/Paris", now=paris(2026, 10, 24, 12))


def test_relative_durations_ignore_dst() -> None:
    before_gap = paris(2026, 3, 29, 1, 30)
    assert parse_when("in 1 hour", "Europe/Paris", now=before_gap) == before_gap + timedelta(hours=1)
    assert parse_when("in 1 day", "Europe/Paris", now=before_gap) == before_gap + timedelta(hours=24)


def test_relative_months_land_leniently_in_gap() -> None:
    # 2026-02-28 02:30 + 1 month = 2026-03-28 02:30: an ordinary wall time
    assert parse_when("in 1 month", "Europe/Paris", now=paris(2026, 2, 28, 2, 30)) == paris(
        2026, 3, 28, 2, 30
    )
    # 2026-01-29 02:30 + 2 months = 2026-03-29 02:30, which is skipped -> 03:30 (no error)
    assert parse_when("in 2 months", "Europe/Paris", now=paris(2026, 1, 29, 2, 30)) == paris(
        2026, 3, 29, 3, 30
    )
    # 2026-09-25 02:30 + 1 month = 2026-10-25 02:30, which happens twice -> the first one (+02:00)
    assert parse_when("in 1 month", "Europe/Paris", now=paris(2026, 9, 25, 2, 30)) == utc(2026, 10, 25, 0, 30)


def test_month_end_clamp_in_parse_when() -> None:
    now = datetime(2026, 1, 31, 9, 0, tzinfo=PARIS).astimezone(UTC)
    assert parse_when("in 1 month", "Europe/Paris", now=now) == paris(2026, 2, 28, 9)


def test_check_local_helpers_validate_input() -> None:
    with pytest.raises(ValueError, match="naive"):
        check_local(NOW, PARIS)
    with pytest.raises(ValueError, match="naive"):
        is_nonexistent(NOW, PARIS)
    result = check_local(naive(2026, 7, 1, 12), PARIS)
    assert result.tzinfo is PARIS and result.utcoffset() == timedelta(hours=2)


def test_resolve_local() -> None:
    la = ZoneInfo("America/Los_Angeles")
    assert resolve_local(naive(2026, 3, 8, 2, 30), la).astimezone(UTC) == utc(2026, 3, 8, 10, 30)
    assert resolve_local(naive(2026, 11, 1, 1, 30), la).astimezone(UTC) == utc(2026, 11, 1, 8, 30)


def test_dst_checks_at_the_ends_of_time() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    for wall in (naive(1, 1, 1), naive(9999, 12, 31, 23, 59)):
        assert not is_nonexistent(wall, tokyo)
        assert not is_ambiguous(wall, tokyo)


# --------------------------------------------------------------------------- #
# parse_date
# --------------------------------------------------------------------------- #

DATE_CASES: list[tuple[str, date, date]] = [
    ("2026-12-03", TODAY, date(2026, 12, 3)),
    ("3 Dec 2026", TODAY, date(2026, 12, 3)),
    ("December 3rd, 2026", TODAY, date(2026, 12, 3)),
    ("25/12/2026", TODAY, date(2026, 12, 25)),
    ("Dec 3", TODAY, date(2026, 12, 3)),
    ("May 20", TODAY, date(2026, 5, 20)),  # today counts
    ("May 19", TODAY, date(2027, 5, 19)),
    ("today", TODAY, TODAY),
    ("tomorrow", TODAY, date(2026, 5, 21)),
    ("friday", TODAY, date(2026, 5, 22)),
    ("wednesday", TODAY, TODAY),
    ("next wednesday", TODAY, date(2026, 5, 27)),
    ("in 30 days", TODAY, date(2026, 6, 19)),
    ("in 2 weeks", TODAY, date(2026, 6, 3)),
    ("in 6 months", TODAY, date(2026, 11, 20)),
    ("in 2 years", TODAY, date(2028, 5, 20)),
    ("30 days from now", TODAY, date(2026, 6, 19)),
    ("in 1 month", date(2026, 1, 31), date(2026, 2, 28)),  # month-end clamp
    ("in 1 month", date(2028, 1, 31), date(2028, 2, 29)),
    ("in 6 months", date(2026, 8, 31), date(2027, 2, 28)),
    ("in 1 year", date(2028, 2, 29), date(2029, 2, 28)),
    ("0001-01-01", TODAY, date(1, 1, 1)),
    ("9999-12-31", TODAY, date(9999, 12, 31)),
]


@pytest.mark.parametrize(("text", "today", "expected"), DATE_CASES)
def test_parse_date_accepts(text: str, today: date, expected: date) -> None:
    result = parse_date(text, today=today)
    assert result == expected
    assert type(result) is date


DATE_ERRORS: list[tuple[str, str]] = [
    ("", "Please type"),
    ("x" * 101, "too long"),
    ("Dec 2026", "needs a day"),
    ("31 Feb 2026", "only 28 days"),
    ("2026-13-01", "no month 13"),
    ("3/12/2026", "could mean"),
    ("3 Dec 2026 3pm", "only need a date"),
    ("2026-12-03 15:00", "only need a date"),
    ("in 2 hours", "days, weeks, months or years"),
    ("in 1.5 days", "whole number of days"),
    ("30 days", "Did you mean `in 30 days`"),
    ("in 8000 years", "years 1 to 9999"),
    ("10000-01-01", "years 1 to 9999"),
    ("3 Dec 26", "four digits"),
    ("banana", "couldn't read"),
]


@pytest.mark.parametrize(("text", "fragment"), DATE_ERRORS)
def test_parse_date_rejects(text: str, fragment: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_date(text, today=TODAY)
    assert fragment in str(info.value)


def test_parse_date_accepts_datetime_as_today() -> None:
    assert parse_date("tomorrow", today=NOW) == date(2026, 5, 21)


# --------------------------------------------------------------------------- #
# Durations
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", timedelta(minutes=90)),
        ("90m", timedelta(minutes=90)),
        ("90 min", timedelta(minutes=90)),
        ("90 minutes", timedelta(minutes=90)),
        ("1h30", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("1:30", timedelta(minutes=90)),
        ("1:30:15", timedelta(minutes=90, seconds=15)),
        ("1.5h", timedelta(minutes=90)),
        ("1,5 h", timedelta(minutes=90)),
        ("2 hours", timedelta(hours=2)),
        ("an hour", timedelta(hours=1)),
        ("1 hour and 30 minutes", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1 week", timedelta(weeks=1)),
        ("for 45 min", timedelta(minutes=45)),
        ("30s", timedelta(seconds=30)),
        ("520 weeks", timedelta(weeks=520)),
    ],
)
def test_parse_duration_accepts(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0", "longer than zero"),
        ("0:00", "longer than zero"),
        ("0.001s", "longer than zero"),
        ("-5", "negative"),
        ("-1h", "negative"),
        ("11 years", "Months and years"),
        ("3 months", "Months and years"),
        ("530 weeks", "at most 10 years"),
        ("99999999999 hours", "at most 10 years"),
        ("1:75", "couldn't read"),
        ("abc", "couldn't read"),
        ("", "Please type"),
        ("1 parsec", "couldn't read"),
    ],
)
def test_parse_duration_rejects(text: str, fragment: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_duration(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(minutes=90), "1 h 30 min"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=1, hours=3), "1 day 3 h"),
        (timedelta(hours=5), "5 h"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(seconds=90), "1 min 30 s"),
        (timedelta(seconds=20), "20 s"),
        (timedelta(0), "0 min"),
        (timedelta(minutes=-90), "-1 h 30 min"),
    ],
)
def test_humanize_duration(td: timedelta, expected: str) -> None:
    assert humanize_duration(td) == expected


# --------------------------------------------------------------------------- #
# Zones
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("  EUROPE/PARIS ", "Europe/Paris"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("america/los angeles", "America/Los_Angeles"),
        ("America / Los_Angeles", "America/Los_Angeles"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ],
)
def test_get_zone(name: str, key: str) -> None:
    zone = get_zone(name)
    assert isinstance(zone, ZoneInfo) and zone.key == key


def test_get_zone_suggestions() -> None:
    with pytest.raises(TimeParseError) as info:
        get_zone("Europe/Pariss")
    message = str(info.value)
    assert message.startswith("Unknown time zone “Europe/Pariss”. Use an IANA name such as Europe/Paris")
    assert "`Europe/Paris`" in message
    with pytest.raises(TimeParseError, match="America/Los_Angeles"):
        get_zone("Los Angeles")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "x" * 65,
        "../../etc/passwd",
        "/etc/localtime",
        "localtime",
        "Europe/Paris\x00",
        "Mars/Base",
        "😀",
    ],
)
def test_get_zone_rejects(name: str) -> None:
    with pytest.raises(TimeParseError):
        get_zone(name)


def test_get_zone_rejects_non_string() -> None:
    with pytest.raises(TimeParseError):
        get_zone(None)  # type: ignore[arg-type]


def test_search_zones() -> None:
    assert search_zones("los ang")[0] == "America/Los_Angeles"
    assert search_zones("LOS_ANG")[0] == "America/Los_Angeles"
    assert search_zones("paris") == ["Europe/Paris"]
    assert search_zones("york") == ["America/New_York"]
    assert search_zones("new")[0] == "America/New_York"  # city prefix first
    assert search_zones("europe/pa")[0] == "Europe/Paris"
    assert "America/Argentina/Buenos_Aires" in search_zones("buenos")
    assert len(search_zones("a")) == 25
    assert len(search_zones("a", limit=5)) == 5
    assert search_zones("a", limit=0) == []
    assert search_zones("zzzzzz") == []
    assert search_zones("x" * 500) == []
    assert all("Etc/" not in z and not z.startswith("US/") for z in search_zones("e", limit=1000))


def test_search_zones_default_list() -> None:
    default = search_zones("")
    assert 10 <= len(default) <= 25
    assert "UTC" in default and "Europe/Paris" in default and "America/New_York" in default
    assert search_zones("   ", limit=3) == default[:3]
    for key in default:
        get_zone(key)


def test_zone_label() -> None:
    assert zone_label("America/Los_Angeles") == "Los Angeles"
    assert zone_label(get_zone("America/Argentina/Buenos_Aires")) == "Buenos Aires"
    assert zone_label("UTC") == "UTC"


# --------------------------------------------------------------------------- #
# Conversions, Discord timestamps, local display
# --------------------------------------------------------------------------- #


def test_unix_round_trip_and_discord_ts() -> None:
    dt = utc(2026, 12, 3, 15)
    assert to_unix(dt) == 1796310000
    assert from_unix(1796310000) == dt
    assert from_unix(1796310000).tzinfo is UTC
    assert to_unix(dt.astimezone(PARIS)) == 1796310000
    assert discord_ts(dt) == "<t:1796310000:F>"
    assert discord_ts(dt, "R") == "<t:1796310000:R>"
    assert discord_ts_pair(dt) == "<t:1796310000:F> (<t:1796310000:R>)"
    for style in "tTdDfFR":
        assert discord_ts(dt, style).endswith(f":{style}>")


def test_to_unix_floors() -> None:
    assert to_unix(utc(1969, 12, 31, 23, 59, 59) + timedelta(microseconds=500_000)) == -1
    assert to_unix(utc(1, 1, 1)) == -62135596800


@pytest.mark.parametrize("style", ["", "x", "FF", "r", None])
def test_discord_ts_rejects_bad_style(style: str) -> None:
    with pytest.raises(ValueError, match="style"):
        discord_ts(NOW, style)


def test_naive_datetimes_are_programming_errors() -> None:
    naive = datetime(2026, 5, 20, 10)  # noqa: DTZ001
    for func in (to_utc, to_unix, discord_ts):
        with pytest.raises(ValueError, match="aware"):
            func(naive)


def test_from_unix_out_of_range() -> None:
    for bad in (1e20, -1e20, float("nan"), float("inf")):
        with pytest.raises(TimeParseError):
            from_unix(bad)


def test_to_utc_and_utcnow() -> None:
    assert to_utc(datetime(2026, 7, 1, 12, tzinfo=PARIS)) == utc(2026, 7, 1, 10)
    assert to_utc(datetime(2026, 7, 1, 12, tzinfo=PARIS)).tzinfo is UTC
    with pytest.raises(TimeParseError):
        to_utc(datetime(1, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")))
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_format_local() -> None:
    dt = utc(2026, 12, 3, 0)  # Thursday
    assert format_local(dt, "Asia/Seoul") == "09:00"
    assert format_local(dt, PARIS) == "01:00"
    assert format_local(dt, "America/Los_Angeles", with_day=True) == "Wed 2 Dec 16:00"
    ref = dt.astimezone(PARIS)
    assert format_local(dt, "America/Los_Angeles", relative_to=ref) == "16:00 (previous day)"
    assert format_local(dt, "Asia/Seoul", relative_to=ref) == "09:00"
    assert format_local(utc(2026, 12, 3, 23), "Asia/Seoul", relative_to=ref) == "08:00 (next day)"
    # Kiritimati (+14) vs Baker Island-ish (-12): dates two days apart
    far = format_local(
        utc(2026, 12, 3, 11),
        "Pacific/Kiritimati",
        relative_to=utc(2026, 12, 2, 11).astimezone(timezone(timedelta(hours=-12))),
    )
    assert far == "01:00 (Fri 4 Dec)"


def test_local_times_line() -> None:
    dt = utc(2026, 12, 3, 0)
    places = [
        ("Seoul", "Asia/Seoul"),
        ("Paris", "Europe/Paris"),
        ("Los Angeles", "America/Los_Angeles"),
        ("Paris", "Europe/Paris"),  # duplicate label: shown once
        ("Nowhere", "Mars/Base"),  # unknown zone: skipped
        ("", "Pacific/Auckland"),  # empty label: city name
    ]
    line = local_times_line(dt, places, reference_zone="Europe/Paris")
    assert line == "09:00 Seoul · 01:00 Paris · 16:00 Los Angeles (previous day) · 13:00 Auckland"
    assert local_times_line(dt, [], reference_zone="UTC") == ""
    line_seoul = local_times_line(dt, places[:3], reference_zone="Asia/Seoul")
    assert line_seoul == "09:00 Seoul · 01:00 Paris · 16:00 Los Angeles (previous day)"
    line_la = local_times_line(dt, places[:3], reference_zone="America/Los_Angeles")
    assert line_la == "09:00 Seoul (next day) · 01:00 Paris (next day) · 16:00 Los Angeles"


# --------------------------------------------------------------------------- #
# Pinning dateutil's private parser (bot.timeparse relies on parser._parse)
# --------------------------------------------------------------------------- #


def test_dateutil_fields_pinned() -> None:
    fields = tp._dateutil_fields("3 dec 2026 3pm", "3 Dec 2026 3pm", tp.WHEN_HINT, "a date")
    assert (fields.year, fields.month, fields.day, fields.hour, fields.minute) == (2026, 12, 3, 15, None)
    assert fields.century_specified
    fields = tp._dateutil_fields("dec 3", "Dec 3", tp.WHEN_HINT, "a date")
    assert (fields.year, fields.month, fields.day) == (None, 12, 3)
    fields = tp._dateutil_fields("3 dec 26", "3 Dec 26", tp.WHEN_HINT, "a date")
    assert fields.year == 26 and not fields.century_specified


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #

_TOKENS = [
    "in", "2", "hours", "dec", "3", "2026", "-", "/", ":", "15", "00", "pm", "am", "utc", "+", "09", "z", "t",
    "monday", "next", "tonight", "tomorrow", "at", "europe/paris", "1", "13", "31", "feb", "29",
    "9999", "0001",
    "10000", ".", ",", "h", "30", "months", "years", "1.5", "gmt", "pst", "noon", "midnight", "١",
    "２", "\u200b",
    "\x00", "ß", "İ", "ﷺ", "of", "and", "99999999999999999999",
]  # fmt: skip
_texts = st.one_of(
    st.text(),
    st.text(min_size=90, max_size=2000),
    st.lists(st.sampled_from(_TOKENS), max_size=8).map(" ".join),
    st.lists(st.sampled_from(_TOKENS), max_size=8).map("".join),
)
_nows = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))  # noqa: DTZ001
_zones = st.sampled_from(
    ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Tokyo", "Australia/Lord_Howe", "Pacific/Kiritimati"]
)
_fast = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_quick = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fast
@given(text=_texts, zone=_zones, now=_nows)
def test_parse_when_total(text: str, zone: str, now: datetime) -> None:
    try:
        result = parse_when(text, zone, now=now)
    except TimeParseError as exc:
        assert str(exc)
    else:
        assert isinstance(result, datetime) and result.tzinfo is UTC


@_fast
@given(text=_texts, today=st.dates())
def test_parse_date_total(text: str, today: date) -> None:
    try:
        result = parse_date(text, today=today)
    except TimeParseError as exc:
        assert str(exc)
    else:
        assert type(result) is date


@_fast
@given(text=_texts)
def test_parse_duration_total(text: str) -> None:
    try:
        result = parse_duration(text)
    except TimeParseError:
        pass
    else:
        assert timedelta(0) < result <= tp.MAX_DURATION


_aware_zones = st.sampled_from(
    [
        ZoneInfo(name)
        for name in ("UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Etc/GMT+12")
    ]
    + [timezone(timedelta(hours=14)), timezone(-timedelta(hours=23, minutes=59)), UTC]
)


@_fast
@given(dt=st.datetimes(timezones=_aware_zones), style=st.sampled_from("tTdDfFR"))
def test_discord_ts_total(dt: datetime, style: str) -> None:
    try:
        markup = discord_ts(dt, style)
    except TimeParseError:
        return
    match = re.fullmatch(r"<t:(-?\d+):([tTdDfFR])>", markup)
    assert match is not None and match.group(2) == style
    seconds = int(match.group(1))
    try:
        back = from_unix(seconds)
    except TimeParseError:  # instant outside years 1..9999 in UTC
        return
    assert back <= dt < back + timedelta(seconds=1)


@_fast
@given(
    wall=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),  # noqa: DTZ001
    zone=_zones,
)
def test_gap_fold_classification_consistent(wall: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    nonexistent, ambiguous = is_nonexistent(wall, tz), is_ambiguous(wall, tz)
    assert not (nonexistent and ambiguous)
    if nonexistent or ambiguous:
        with pytest.raises(TimeParseError):
            check_local(wall, tz)
    else:
        aware = check_local(wall, tz)
        assert aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    resolved = resolve_local(wall, tz)
    assert resolved.tzinfo is tz


@_quick
@given(query=st.text(max_size=80), limit=st.integers(min_value=-5, max_value=40))
def test_search_zones_total(query: str, limit: int) -> None:
    result = search_zones(query, limit)
    assert len(result) <= max(limit, 0)
    assert len(set(result)) == len(result)


@_quick
@given(name=st.text(max_size=80))
def test_get_zone_total(name: str) -> None:
    try:
        zone = get_zone(name)
    except TimeParseError as exc:
        assert str(exc)
    else:
        assert isinstance(zone, ZoneInfo)

"""User-typed dates and times -> aware UTC datetimes, plus Discord timestamp helpers.

Why this file is long (~1.3k lines): it is one grammar. Every parse_* entry point shares the same
private building blocks (normalising the text, the error messages with their hints, zone tokens
inside the text, DST gap/fold checks, dateutil's field extraction), so splitting it would scatter
those helpers across modules or make them public. The separable parts (zone lookup and search,
durations) are each under 200 lines; taking them out would still leave ~1k lines here. Zone search
is being reworked into bot/places.py's one ranking; split it out there.

Pure module: no Discord imports, no I/O, no mutable global state (only a lazily
computed, immutable cache of the IANA zone list).  :func:`utcnow` is the only
function that reads the wall clock; every parser takes ``now``/``today`` as an
argument.

Rules callers must know
-----------------------
* :func:`parse_when` always returns an aware datetime in UTC (``tzinfo=UTC``).
  It does **not** reject times in the past; callers decide whether that is OK.
* A date typed without a time (``2026-12-03``, ``3 Dec``, ``tomorrow``,
  ``monday``) means **00:00 local time** on that day.  ``tonight`` means 20:00,
  and ``tonight 9`` means 21:00.
* A date without a year is its next occurrence that is not in the past: the
  date may be today; with a time, the instant must not be before ``now``.
* A bare time (``15:00``, ``3pm``, ``noon``, ``midnight``) is its next
  occurrence: today if still ahead, otherwise tomorrow.
* ``monday 10am`` / ``this monday 10am`` is the next Monday, today included if
  10:00 is still ahead.  ``next monday`` is the first Monday strictly after
  today.  A bare ``monday`` is 00:00 on the next Monday, today included.
* Numeric dates with separators (``/``, ``.``, ``-``) are accepted only when
  the order is obvious: ``25/12/2026`` and ``12/25/2026`` both mean 25 December
  and ``5/5/2026`` is fine, but ``3/12/2026`` is rejected with a message asking
  for ``2026-12-03`` or ``3 Dec 2026``.  Year-first forms (``2026-12-03``,
  ``2026/12/03``, ``20261203``) are always year-month-day.
* Two-digit years (``3 Dec 26``) are rejected: write the year in full.
* ``in N seconds/minutes/hours/days/weeks`` (also ``N hours from now``) is an
  exact duration from ``now`` (a day is 24 h), with no DST checks.
  ``in N months/years`` steps the local calendar (month-end clamp: Jan 31 + 1
  month = Feb 28/29); if that lands in a DST gap it moves forward by the gap,
  in a fold it takes the first occurrence.
* ``UTC``, ``GMT``, ``Z``, an offset (``+09:00``, ``-0330``, ``UTC+9``) or an
  IANA name (``Europe/Paris``) inside the text overrides ``zone``.  Ambiguous
  abbreviations (``PST``, ``CET``, ``IST``...) are rejected with a hint.
* Local wall times that do not exist (DST gap) or happen twice (DST fold) in the
  zone raise :class:`TimeParseError`, whose message suggests a fix.
* Every user-input problem raises :class:`TimeParseError` (a ``ValueError``)
  whose ``str()`` is a short sentence fit to show the user.  Programming errors
  (naive ``now``, aware datetime passed to :func:`check_local`, bad Discord
  style) raise plain ``ValueError``/``TypeError``.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from fractions import Fraction
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton
from dateutil import parser as du_parser
from dateutil.relativedelta import relativedelta

from bot.clock import system_clock
from bot.i18n import (
    ENGLISH,
    N_,
    PSEUDO,
    Localized,
    Msg,
    format_duration,
    format_list,
    month_name,
    nt,
    render,
    t,
    weekday_name,
)
from bot.text import md_line
from bot.timewords import to_english

__all__ = [
    "DISCORD_STYLES",
    "TimeParseError",
    "check_local",
    "discord_ts",
    "discord_ts_pair",
    "format_local",
    "from_unix",
    "get_zone",
    "humanize_duration",
    "is_ambiguous",
    "is_nonexistent",
    "local_times_line",
    "parse_date",
    "parse_duration",
    "parse_when",
    "resolve_local",
    "search_zones",
    "to_unix",
    "to_utc",
    "utcnow",
    "zone_label",
]

log = logging.getLogger(__name__)

MAX_INPUT_LENGTH = 100
MAX_ZONE_NAME_LENGTH = 64
MAX_DURATION = timedelta(days=3653)  # ~10 years
MAX_OFFSET = timedelta(hours=14)  # furthest real UTC offsets: +14:00 ...
MIN_OFFSET = timedelta(hours=12)  # ... and -12:00
DISCORD_STYLES = frozenset("tTdDfFR")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Messages are catalog ids (bot/i18n.py): a TimeParseError carries a `Msg` whose parts (the member's text,
# a month, a weekday, a hint) are rendered in the reader's language by the error funnel.
WHEN_HINT = N_("Try `2026-12-03 15:00`, `3 Dec 2026 3pm`, `tomorrow 09:30` or `in 2 hours`.")
DATE_HINT = N_("Try `2026-12-03`, `3 Dec 2026`, `tomorrow` or `in 30 days`.")
DURATION_HINT = N_("Try `90` (minutes), `90m`, `1h30`, `1:30`, `1.5h` or `2 hours`.")
ZONE_HINT = N_("Use an IANA name such as Europe/Paris or America/Los_Angeles.")
RANGE_MESSAGE = N_("That's too far in the past or future: I can only handle years 1 to 9999.")
# What the member was asked for ("date", "when", "duration"): one whole sentence each.
_UNREADABLE = {
    "date": N_("I couldn't read {text} as a date. {hint}"),
    "when": N_("I couldn't read {text} as a date or time. {hint}"),
    "duration": N_("I couldn't read {text} as a duration. {hint}"),
}
_PLEASE_TYPE = {
    "date": N_("Please type a date. {hint}"),
    "when": N_("Please type a date or time. {hint}"),
    "duration": N_("Please type a duration. {hint}"),
}
_TOO_LONG = {
    "date": N_("That's too long for a date (at most {limit} characters). {hint}"),
    "when": N_("That's too long for a date or time (at most {limit} characters). {hint}"),
    "duration": N_("That's too long for a duration (at most {limit} characters). {hint}"),
}
_WHOLE = {
    "years": N_("{text}: please use a whole number of years. {hint}"),
    "months": N_("{text}: please use a whole number of months. {hint}"),
    "weeks": N_("{text}: please use a whole number of weeks. {hint}"),
    "days": N_("{text}: please use a whole number of days. {hint}"),
}
_BAD_CLOCK = N_("{text} isn't a valid time: hours go from 00 to 23 and minutes from 00 to 59. {hint}")
_DID_YOU_MEAN_IN = N_("Did you mean `in {rest}`? {hint}")

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Exceptions that library code (dateutil, datetime arithmetic) may raise on odd
# input; parse_* functions turn them into TimeParseError.
_WRAPPED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    ArithmeticError,  # OverflowError, ZeroDivisionError, decimal errors
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    AssertionError,
)


class TimeParseError(ValueError):
    """A problem with what the user typed.  ``str(exc)`` is the user-facing sentence in English;
    ``exc.msg`` is the same message as a catalog template with its parts, ``exc.text(lang)`` it in `lang`."""

    def __init__(self, message: str | Msg) -> None:
        self.msg = message if isinstance(message, Msg) else Msg(message)
        self.message = str(self.msg)
        super().__init__(self.message)

    def text(self, lang: str) -> str:
        return render(lang, self.msg)


def _english(lang: str) -> bool:
    """English words as this module always wrote them (the pseudo-locale too: it shows the layout)."""
    return lang in (ENGLISH, PSEUDO)


class _Month(Localized):
    """A month's name ("March", "mars", "marzo"), with its year when given."""

    __slots__ = ("month", "year")

    def __init__(self, month: int, year: int | None = None) -> None:
        self.month = month
        self.year = year

    def localize(self, lang: str) -> str:
        if _english(lang):
            return _MONTH_NAMES[self.month - 1] + (f" {self.year}" if self.year is not None else "")
        if self.year is None:
            return month_name(lang, self.month)
        return str(format_skeleton("yMMMM", date(self.year, self.month, 1), locale=lang))


class _Weekday(Localized):
    __slots__ = ("weekday",)

    def __init__(self, weekday: int) -> None:
        self.weekday = weekday

    def localize(self, lang: str) -> str:
        if _english(lang):
            return _WEEKDAY_NAMES[self.weekday]
        return weekday_name(lang, self.weekday)


class _DayMonth(Localized):
    """A day of a month without a year: "3 December" (or "December 3" when `month_first`), "3 décembre"."""

    __slots__ = ("day", "month", "month_first")

    def __init__(self, day: int, month: int, *, month_first: bool = False) -> None:
        self.day, self.month, self.month_first = day, month, month_first

    def localize(self, lang: str) -> str:
        if _english(lang):
            name = _MONTH_NAMES[self.month - 1]
            return f"{name} {self.day}" if self.month_first else f"{self.day} {name}"
        return str(format_skeleton("MMMMd", date(2000, self.month, self.day), locale=lang))


class _Date(Localized):
    """A calendar date: "3 December 2026", "3 décembre 2026", "3 de diciembre de 2026"."""

    __slots__ = ("day",)

    def __init__(self, day: date) -> None:
        self.day = day

    def localize(self, lang: str) -> str:
        if _english(lang):
            return f"{self.day.day} {_MONTH_NAMES[self.day.month - 1]} {self.day.year}"
        return str(format_date(self.day, "long", locale=lang))


def calendar_date(day: date) -> Localized:
    """A date in words in each reader's language ("3 December 2026", "3 décembre 2026"), for a value of a
    catalog message (bot.i18n.render localizes it)."""
    return _Date(day)


class _Span(Localized):
    """A DST jump: "an hour", "half an hour", else its length ("1 h 30 min", "1 heure et 30 minutes")."""

    __slots__ = ("span",)

    def __init__(self, span: timedelta) -> None:
        self.span = span

    def localize(self, lang: str) -> str:
        if self.span == timedelta(hours=1):
            return t(lang, N_("an hour"))
        if self.span == timedelta(minutes=30):
            return t(lang, N_("half an hour"))
        if _english(lang):
            return humanize_duration(self.span)
        hours, rest = divmod(int(abs(self.span.total_seconds())), 3600)
        pieces = [format_duration(lang, timedelta(hours=hours))] if hours else []
        if rest // 60 or not pieces:
            pieces.append(format_duration(lang, timedelta(minutes=rest // 60)))
        return format_list(lang, pieces)


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #


def _quote(text: object, limit: int = 40) -> str:
    """Echo user input safely inside a message: one line, no backticks/mentions, short."""
    raw = text if isinstance(text, str) else repr(text)
    raw = raw[: limit * 4]
    cleaned = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    cleaned = md_line(
        cleaned.replace("`", "'").replace("@", "@\u200b"), limit
    )  # no markdown, link or mention
    return f"“{cleaned}”"


def _unreadable(text: object, hint: str, what: str = "date") -> TimeParseError:
    return TimeParseError(Msg(_UNREADABLE[what], text=_quote(text), hint=Msg(hint)))


def _hinted(template: str, hint: str) -> TimeParseError:
    return TimeParseError(Msg(template, hint=Msg(hint)))


def _error(template: str, text: object, hint: str | None = None, **fmt: Any) -> TimeParseError:
    """A message about the member's `text` (quoted as {text}), with its {hint} when given."""
    if hint is not None:
        fmt["hint"] = Msg(hint)
    return TimeParseError(Msg(template, text=_quote(text), **fmt))


def _range_error() -> TimeParseError:
    return TimeParseError(RANGE_MESSAGE)


_DASHES = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2044": "/",
        "\u2215": "/",
        "\u2236": ":",
    }
)


def _normalize(text: object, hint: str, what: str) -> str:
    """Validate and normalise raw user text (length, Unicode, digits, whitespace)."""
    if not isinstance(text, str) or not text.strip():
        raise _hinted(_PLEASE_TYPE[what], hint)
    stripped = text.strip()
    if len(stripped) > MAX_INPUT_LENGTH:
        raise TimeParseError(Msg(_TOO_LONG[what], limit=MAX_INPUT_LENGTH, hint=Msg(hint)))
    s = unicodedata.normalize("NFKC", stripped).translate(_DASHES)
    chars: list[str] = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat == "Nd" and not ch.isascii():
            chars.append(str(unicodedata.decimal(ch, 0)))
        elif cat in ("Cf", "Cs", "Co", "Cn"):
            continue  # zero-width and other invisible characters
        elif cat == "Cc" or cat.startswith("Z"):
            chars.append(" ")
        else:
            chars.append(ch)
    s = " ".join("".join(chars).split())
    if not s:
        raise _hinted(_PLEASE_TYPE[what], hint)
    if len(s) > MAX_INPUT_LENGTH:
        raise TimeParseError(Msg(_TOO_LONG[what], limit=MAX_INPUT_LENGTH, hint=Msg(hint)))
    return s


_LEADING_FILLER_RE = re.compile(r"^(?:(?:at|on)\s+|@\s*)")


def _strip_filler(low: str) -> str:
    low = _LEADING_FILLER_RE.sub("", low)
    return low.rstrip(" .!,;?").strip()


def _require_aware(dt: datetime, name: str = "datetime") -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return dt


def _require_naive(dt: datetime) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, not {type(dt).__name__}")
    if dt.tzinfo is not None:
        raise ValueError("expected a naive (wall-clock) datetime")
    return dt


def _zone_name(zone: tzinfo) -> str:
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else str(zone)


def _fmt_wall(dt: datetime) -> str:
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}"
    if dt.second:
        text += f":{dt.second:02d}"
    return text


def _fmt_offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    total = abs(int(offset.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    if seconds:
        text += f":{seconds:02d}"
    return text


def _fmt_day(d: date, lang: str = ENGLISH) -> str:
    """Thu 3 Dec / jeu. 3 déc. / jue, 3 dic."""
    if not _english(lang):
        return str(format_skeleton("MMMEd", d, locale=lang))
    return f"{_WEEKDAY_NAMES[d.weekday()][:3]} {d.day} {_MONTH_NAMES[d.month - 1][:3]}"


# --------------------------------------------------------------------------- #
# Time zones
# --------------------------------------------------------------------------- #

_EXCLUDED_ZONE_KEYS = frozenset({"localtime", "Factory", "posixrules"})
_SEARCH_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
_COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Cairo",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Mexico_City",
    "America/Denver",
    "America/Los_Angeles",
)
_ZONE_CHARS_RE = re.compile(r"[A-Za-z0-9_+\-/]+")


@functools.cache
def _zone_keys() -> Mapping[str, str]:
    """Lower-cased IANA key -> canonical key, for every zone we accept (computed once)."""
    keys: dict[str, str] = {}
    for key in zoneinfo.available_timezones():
        if key in _EXCLUDED_ZONE_KEYS or key.startswith(("posix/", "right/")):
            continue
        keys[key.lower()] = key
    return MappingProxyType(keys)


@functools.cache
def _search_keys() -> tuple[str, ...]:
    """Zones offered by autocomplete: real Area/City zones plus UTC, sorted."""
    keys = _zone_keys().values()
    return tuple(sorted(k for k in keys if k == "UTC" or ("/" in k and k.split("/", 1)[0] in _SEARCH_AREAS)))


@functools.cache
def _city_index() -> Mapping[str, str]:
    """Lower-cased city part (underscores as spaces) -> first matching zone key."""
    cities: dict[str, str] = {}
    for key in _search_keys():
        city = key.rsplit("/", 1)[-1].replace("_", " ").lower()
        cities.setdefault(city, key)
    return MappingProxyType(cities)


def zone_label(zone: ZoneInfo | str) -> str:
    """Human label for a zone: ``America/Los_Angeles`` -> ``Los Angeles``; ``UTC`` -> ``UTC``."""
    name = zone if isinstance(zone, str) else _zone_name(zone)
    return name.rsplit("/", 1)[-1].replace("_", " ")


def _suggest_zones(query: str) -> list[str]:
    cleaned = "".join(ch for ch in query if ch.isascii() and (ch.isalnum() or ch in "/_+- "))
    cleaned = " ".join(cleaned.split())[:MAX_ZONE_NAME_LENGTH]
    if not cleaned:
        return []
    found = search_zones(cleaned, limit=3)
    if found:
        return found
    lowered = cleaned.lower()
    keys = _zone_keys()
    suggestions: list[str] = []
    for match in difflib.get_close_matches(lowered.replace(" ", "_"), list(keys), n=3, cutoff=0.6):
        suggestions.append(keys[match])
    cities = _city_index()
    for match in difflib.get_close_matches(lowered.replace("_", " "), list(cities), n=3, cutoff=0.7):
        if cities[match] not in suggestions:
            suggestions.append(cities[match])
    return suggestions[:3]


def get_zone(name: str) -> ZoneInfo:
    """Case-insensitive IANA zone lookup (``europe/paris``, ``UTC``...).

    Raises :class:`TimeParseError` with up to three suggestions for unknown names.
    """
    if not isinstance(name, str) or not name.strip():
        raise _hinted(N_("Please give a time zone. {hint}"), ZONE_HINT)
    raw = name.strip()
    if len(raw) > MAX_ZONE_NAME_LENGTH:
        raise _hinted(N_("That time zone name is too long. {hint}"), ZONE_HINT)
    cleaned = "_".join(re.sub(r"\s*/\s*", "/", raw).split())
    key = _zone_keys().get(cleaned.lower()) if _ZONE_CHARS_RE.fullmatch(cleaned) else None
    if key is None:
        suggestions = _suggest_zones(raw)
        if suggestions:
            shown = ", ".join(f"`{s}`" for s in suggestions)
            raise _error(N_("Unknown time zone {text}. {hint} Did you mean {zones}?"), raw, ZONE_HINT,
                         zones=shown)
        raise _error(N_("Unknown time zone {text}. {hint}"), raw, ZONE_HINT)
    try:
        return ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:  # pragma: no cover - broken tzdata
        raise _error(N_("Time zone {text} is not available here. {hint}"), raw, ZONE_HINT) from exc


def search_zones(query: str, limit: int = 25) -> list[str]:
    """Zones matching ``query`` for autocomplete, best first, at most ``limit``.

    Matches case-insensitively anywhere in the name; spaces match underscores
    (``los ang`` -> ``America/Los_Angeles``).  Exact city matches come first,
    then cities starting with the query, then other prefix matches, then
    substrings; common zones first within a group.  Empty query -> common zones.
    """
    if limit <= 0:
        return []
    available = _zone_keys()
    q = " ".join(query.split()).lower().replace("_", " ") if isinstance(query, str) else ""
    q = re.sub(r"\s*/\s*", "/", q)
    if not q:
        return [z for z in _COMMON_ZONES if z.lower() in available][:limit]
    if len(q) > MAX_ZONE_NAME_LENGTH:
        return []
    common = {z: i for i, z in enumerate(_COMMON_ZONES)}
    scored: list[tuple[int, int, str]] = []
    for key in _search_keys():
        spaced = key.lower().replace("_", " ")
        city = spaced.rsplit("/", 1)[-1]
        if city == q or spaced == q:
            rank = 0
        elif city.startswith(q):
            rank = 1
        elif spaced.startswith(q) or any(part.startswith(q) for part in spaced.split("/")):
            rank = 2
        elif any(word.startswith(q) for word in city.split()):
            rank = 3
        elif q in spaced:
            rank = 4
        else:
            continue
        scored.append((rank, common.get(key, len(common)), key))
    scored.sort()
    return [key for _, _, key in scored[:limit]]


def _coerce_zone(zone: ZoneInfo | str | tzinfo) -> tzinfo:
    if isinstance(zone, str):
        return get_zone(zone)
    if isinstance(zone, tzinfo):
        return zone
    raise TypeError(f"zone must be a ZoneInfo or an IANA name, not {type(zone).__name__}")


# --------------------------------------------------------------------------- #
# DST gaps and folds
# --------------------------------------------------------------------------- #


def _offsets(wall: datetime, zone: tzinfo) -> tuple[timedelta | None, timedelta | None]:
    return (
        wall.replace(tzinfo=zone, fold=0).utcoffset(),
        wall.replace(tzinfo=zone, fold=1).utcoffset(),
    )


def is_nonexistent(naive: datetime, zone: ZoneInfo) -> bool:
    """True if the wall time ``naive`` is skipped in ``zone`` (DST gap).

    A wall time is nonexistent if converting it to UTC and back does not give
    the same wall time.
    """
    wall = _require_naive(naive).replace(fold=0)
    try:
        back = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        # Conversion leaves years 1..9999; fall back on PEP 495 semantics: in a gap
        # fold=0 uses the (smaller) offset from before the transition.
        before, after = _offsets(wall, zone)
        return before is not None and after is not None and after > before
    return back != wall


def is_ambiguous(naive: datetime, zone: ZoneInfo) -> bool:
    """True if the wall time ``naive`` happens twice in ``zone`` (DST fold)."""
    wall = _require_naive(naive).replace(fold=0)
    before, after = _offsets(wall, zone)
    return before != after and not is_nonexistent(wall, zone)


def _gap_message(wall: datetime, zone: tzinfo) -> Msg:
    before, after = _offsets(wall, zone)
    jump = (after - before) if before is not None and after is not None else timedelta(hours=1)
    try:
        suggestion = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        suggestion = wall + jump
    return Msg(
        N_("{wall} doesn't exist in {zone}: the clocks jump forward {span} there, so that time is skipped. "
           "Try `{suggestion}` instead."),
        wall=_fmt_wall(wall), zone=_zone_name(zone), span=_Span(jump), suggestion=_fmt_wall(suggestion),
    )


def _fold_message(wall: datetime, zone: tzinfo) -> Msg:
    first, second = _offsets(wall, zone)
    assert first is not None and second is not None
    stamp = _fmt_wall(wall)
    return Msg(
        N_("{wall} happens twice in {zone} because the clocks go back {span} there. Add the UTC offset to "
           "pick one: `{first}` (the first) or `{second}` (the second)."),
        wall=stamp, zone=_zone_name(zone), span=_Span(first - second),
        first=stamp + _fmt_offset(first), second=stamp + _fmt_offset(second),
    )


def check_local(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive wall time; raise :class:`TimeParseError` if it is
    nonexistent (DST gap) or ambiguous (DST fold).  Returns an aware datetime in ``zone``."""
    wall = _require_naive(naive).replace(fold=0)
    if is_nonexistent(wall, zone):
        raise TimeParseError(_gap_message(wall, zone))
    if is_ambiguous(wall, zone):
        raise TimeParseError(_fold_message(wall, zone))
    return wall.replace(tzinfo=zone)


def resolve_local(naive: datetime, zone: ZoneInfo) -> datetime:
    """Lenient :func:`check_local` (for recurrences/calendar arithmetic): a time in a
    DST gap moves forward by the gap (02:30 -> 03:30), an ambiguous time takes the
    first occurrence.  Returns an aware datetime in ``zone``."""
    wall = _require_naive(naive).replace(fold=0)
    if is_nonexistent(wall, zone):
        return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return wall.replace(tzinfo=zone)


# --------------------------------------------------------------------------- #
# Conversions and Discord timestamps
# --------------------------------------------------------------------------- #


def utcnow() -> datetime:
    """The wall clock (bot.clock.system_clock). Services and cogs use the bot's injected clock instead."""
    return system_clock()


def to_utc(dt: datetime) -> datetime:
    """Convert an aware datetime to UTC.  Naive input is a programming error (ValueError)."""
    _require_aware(dt)
    try:
        return dt.astimezone(UTC)
    except OverflowError as exc:
        raise _range_error() from exc


def to_unix(dt: datetime) -> int:
    """Whole seconds since the Unix epoch (floored) for an aware datetime."""
    _require_aware(dt)
    return (dt - EPOCH) // timedelta(seconds=1)


def from_unix(ts: float) -> datetime:
    """Aware UTC datetime from a Unix timestamp; out-of-range/NaN -> TimeParseError."""
    try:
        return EPOCH + timedelta(seconds=ts)
    except (OverflowError, ValueError, TypeError) as exc:
        raise _range_error() from exc


def discord_ts(dt: datetime, style: str = "F") -> str:
    """Discord timestamp markup ``<t:UNIX:STYLE>``; ``style`` is one of ``tTdDfFR``."""
    if not isinstance(style, str) or len(style) != 1 or style not in DISCORD_STYLES:
        raise ValueError(
            f"Discord timestamp style must be one of {''.join(sorted(DISCORD_STYLES))}, not {style!r}"
        )
    try:
        seconds = to_unix(dt)
    except (OverflowError, ArithmeticError) as exc:  # pragma: no cover - aware subtraction cannot overflow
        raise _range_error() from exc
    return f"<t:{seconds}:{style}>"


def discord_ts_pair(dt: datetime) -> str:
    """Full date/time plus relative time: ``<t:X:F> (<t:X:R>)``."""
    return f"{discord_ts(dt, 'F')} ({discord_ts(dt, 'R')})"


# --------------------------------------------------------------------------- #
# Local time display
# --------------------------------------------------------------------------- #


def _day_suffix(local_day: date, reference_day: date, lang: str = ENGLISH) -> str:
    diff = (local_day - reference_day).days
    if diff == 0:
        return ""
    if diff == 1:
        return " " + t(lang, N_("(next day)"))
    if diff == -1:
        return " " + t(lang, N_("(previous day)"))
    return f" ({_fmt_day(local_day, lang)})"


def format_local(
    dt: datetime,
    zone: ZoneInfo | str,
    *,
    with_day: bool = False,
    relative_to: datetime | None = None,
    lang: str = ENGLISH,
) -> str:
    """Wall time of ``dt`` in ``zone`` as ``HH:MM`` (24 h).

    ``with_day`` prefixes the day: ``Thu 3 Dec 09:00``.  If ``relative_to`` is
    given, `` (next day)``/`` (previous day)`` (or the day, for larger gaps) is
    appended when the local calendar date differs from ``relative_to``'s own
    calendar date (taken in ``relative_to``'s tzinfo, or as-is if naive).  Day names and markers are
    in ``lang``.
    """
    _require_aware(dt)
    tz = _coerce_zone(zone)
    try:
        local = dt.astimezone(tz)
    except OverflowError as exc:
        raise _range_error() from exc
    text = f"{local.hour:02d}:{local.minute:02d}"
    if with_day:
        text = f"{_fmt_day(local.date(), lang)} {text}"
    if relative_to is not None:
        text += _day_suffix(local.date(), relative_to.date(), lang)
    return text


def local_times_line(
    dt: datetime, places: Sequence[tuple[str, str]], *, reference_zone: str, lang: str = ENGLISH
) -> str:
    """``09:00 Seoul · 02:00 Paris · 17:00 Los Angeles (previous day)``.

    ``places`` are (label, IANA zone) pairs; order is kept, repeated labels are
    shown once, an empty label falls back to the zone's city, and entries with an
    unknown zone are skipped (and logged).  The day markers are relative to the
    calendar date of ``dt`` in ``reference_zone``.
    """
    _require_aware(dt)
    ref_zone = get_zone(reference_zone)
    try:
        reference_day = dt.astimezone(ref_zone).date()
    except OverflowError as exc:
        raise _range_error() from exc
    seen: set[str] = set()
    parts: list[str] = []
    for label, zone_name in places:
        try:
            tz = get_zone(zone_name)
        except TimeParseError:
            log.warning("local_times_line: skipping unknown time zone %r", zone_name)
            continue
        shown = " ".join(str(label).split()) or zone_label(tz)
        if shown in seen:
            continue
        seen.add(shown)
        try:
            local = dt.astimezone(tz)
        except OverflowError as exc:
            raise _range_error() from exc
        suffix = _day_suffix(local.date(), reference_day, lang)
        parts.append(f"{local.hour:02d}:{local.minute:02d} {shown}{suffix}")
    return " · ".join(parts)


# --------------------------------------------------------------------------- #
# Durations
# --------------------------------------------------------------------------- #

_UNIT_ALIASES: dict[str, str] = {}
for _unit, _aliases in {
    "seconds": ("s", "sec", "secs", "second", "seconds"),
    "minutes": ("m", "mn", "min", "mins", "minute", "minutes"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "days": ("d", "day", "days"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "months": ("mo", "mos", "mth", "mths", "month", "months"),
    "years": ("y", "yr", "yrs", "year", "years"),
}.items():
    for _alias in _aliases:
        _UNIT_ALIASES[_alias] = _unit
del _unit, _aliases, _alias

_UNIT_SECONDS: dict[str, int] = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_NUMBER = r"\d{1,12}(?:[.,]\d{1,9})?|half\s+an?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_COMPONENT_RE = re.compile(rf"(?P<num>{_NUMBER})\s*(?P<unit>[a-z]+)")
_SEPARATOR_RE = re.compile(r"(?:\s+|\s*,\s*|\s*\band\b\s*)*")
_TRAILING_MINUTES_RE = re.compile(r"(?P<num>\d{1,2})\s*$")


def _to_fraction(num: str) -> Fraction:
    num = " ".join(num.split())
    if num.startswith("half"):
        return Fraction(1, 2)
    if num in _NUMBER_WORDS:
        return Fraction(_NUMBER_WORDS[num])
    return Fraction(num.replace(",", "."))


def _parse_components(body: str) -> dict[str, Fraction] | None:
    """``2 hours 30 min``/``1h30``/``an hour and a half``-ish -> {unit: amount}, or None."""
    out: dict[str, Fraction] = {}
    pos = 0
    last_unit = ""
    body = body.strip()
    while pos < len(body):
        separator = _SEPARATOR_RE.match(body, pos)
        if separator is not None:
            pos = separator.end()
        if pos >= len(body):
            break
        m = _COMPONENT_RE.match(body, pos)
        if m is None or m.group("unit") not in _UNIT_ALIASES:
            trailing = _TRAILING_MINUTES_RE.fullmatch(body, pos)
            if trailing is not None and last_unit == "hours" and "minutes" not in out:
                out["minutes"] = Fraction(int(trailing.group("num")))
                break
            return None
        unit = _UNIT_ALIASES[m.group("unit")]
        out[unit] = out.get(unit, Fraction(0)) + _to_fraction(m.group("num"))
        last_unit = unit
        pos = m.end()
    return out or None


def _exact_seconds(components: Mapping[str, Fraction]) -> Fraction:
    return sum(
        (amount * _UNIT_SECONDS[unit] for unit, amount in components.items() if unit in _UNIT_SECONDS),
        Fraction(0),
    )


_MINUTES_ONLY_RE = re.compile(r"\d{1,9}(?:[.,]\d{1,9})?")
_HMS_RE = re.compile(r"(?P<h>\d{1,5}):(?P<m>\d{2})(?::(?P<s>\d{2}))?")


def parse_duration(text: str) -> timedelta:
    """``90`` (minutes), ``90m``, ``90 min``, ``1h30``, ``1:30``, ``1.5h``, ``2 hours``...

    Result is rounded to whole seconds; must be > 0 and at most ~10 years.
    """
    s = _normalize(text, DURATION_HINT, "duration")
    low = _strip_filler(to_english(s.lower()))
    if low.startswith("-"):
        raise _hinted(N_("A duration can't be negative. {hint}"), DURATION_HINT)
    if low.startswith("for "):
        low = low[4:].strip()
    seconds: Fraction
    try:
        if _MINUTES_ONLY_RE.fullmatch(low):
            seconds = Fraction(low.replace(",", ".")) * 60
        elif (hms := _HMS_RE.fullmatch(low)) is not None:
            minutes, secs = int(hms.group("m")), int(hms.group("s") or 0)
            if minutes > 59 or secs > 59:
                raise _unreadable(text, DURATION_HINT, "duration")
            seconds = Fraction(int(hms.group("h")) * 3600 + minutes * 60 + secs)
        else:
            components = _parse_components(low)
            if components is None:
                raise _unreadable(text, DURATION_HINT, "duration")
            if "months" in components or "years" in components:
                raise TimeParseError(Msg(
                    N_("Months and years vary in length, so use days or weeks for a duration. {hint}"),
                    hint=Msg(DURATION_HINT),
                ))
            seconds = _exact_seconds(components)
        rounded = round(seconds)
    except TimeParseError:
        raise
    except _WRAPPED_ERRORS as exc:
        raise _unreadable(text, DURATION_HINT, "duration") from exc
    if rounded <= 0:
        raise _hinted(N_("A duration has to be longer than zero. {hint}"), DURATION_HINT)
    if rounded > MAX_DURATION.total_seconds():
        raise TimeParseError(N_("That's too long: a duration can be at most 10 years."))
    return timedelta(seconds=rounded)


def humanize_duration(td: timedelta, lang: str = ENGLISH) -> str:
    """``1 h 30 min``, ``2 days``, ``1 day 3 h``, ``45 min``, ``1 min 30 s``, ``20 s``; the days in
    ``lang`` ("2 jours", "2 días"; h, min and s are written so in all three).

    Seconds are only shown below one hour; negative durations get a leading ``-``.
    """
    total = int(td.total_seconds())
    if total < 0:
        return "-" + humanize_duration(timedelta(seconds=-total), lang)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(nt(lang, "{n} day", "{n} days", days, n=days))
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if seconds and not days and not hours:
        parts.append(f"{seconds} s")
    return " ".join(parts) if parts else "0 min"


# --------------------------------------------------------------------------- #
# Parsing building blocks
# --------------------------------------------------------------------------- #

_RELATIVE_RES = (
    re.compile(r"in\s+(?P<body>.+)"),
    re.compile(r"(?P<body>.+?)\s+(?:from\s+now|later)"),
)


def _match_relative(low: str) -> str | None:
    for regex in _RELATIVE_RES:
        m = regex.fullmatch(low)
        if m is not None:
            return m.group("body")
    return None


_WEEKDAY_RE_PART = (
    r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
)
_DAYWORD = (
    r"(?P<day>today|tonight|(?:the\s+)?day\s+after\s+tomorrow|overmorrow|tomorrow|tomorow|tommorow|tmrw|tmr"
    rf"|(?:(?P<mod>next|this|coming)\s+)?{_WEEKDAY_RE_PART})"
)
_DAY_FIRST_RE = re.compile(rf"{_DAYWORD}(?:(?:\s*,\s*|\s+)(?:at\s+|@\s*)?(?P<clock>.+))?")
_DAY_LAST_RE = re.compile(rf"(?P<clock>.+?)(?:\s*,\s*|\s+)(?:on\s+)?{_DAYWORD}")
_WEEKDAY_ONLY_RE = re.compile(rf"(?:(?P<mod>next|this|coming)\s+)?{_WEEKDAY_RE_PART}")


def _weekday_index(word: str) -> int:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(word[:3])


_CLOCK_RE = re.compile(
    r"(?P<h>\d{1,2})(?:(?P<sep>[:h.])(?P<m>\d{2})(?::(?P<s>\d{2}))?|(?P<hsuffix>h))?"
    r"\s*(?P<ampm>[ap]\.?\s?m\.?|[ap])?"
)


def _parse_clock(text: str, *, bare_ok: bool, evening: bool = False) -> time | None:
    """``15:00``, ``3pm``, ``9.30am``, ``15h30``, ``noon``... -> time, or None if not a clock.

    Raises TimeParseError for something clock-shaped with impossible values.
    """
    t = text.strip()
    if t.startswith("at "):
        t = t[3:].strip()
    if t in ("noon", "midday", "12 noon"):
        return time(12)
    if t in ("midnight", "12 midnight"):
        return time(0)
    m = _CLOCK_RE.fullmatch(t)
    if m is None:
        return None
    ampm = m.group("ampm")
    if m.group("sep") == "." and not (ampm or bare_ok):
        return None
    has_clock_marks = m.group("m") is not None or m.group("hsuffix") is not None or ampm is not None
    if not (has_clock_marks or bare_ok):
        return None
    hour = int(m.group("h"))
    minute = int(m.group("m") or 0)
    second = int(m.group("s") or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise _error(N_("{text} isn't a valid time: with am/pm the hour goes from 1 to 12. {hint}"),
                         text, WHEN_HINT)
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    elif evening and 1 <= hour <= 11:
        hour += 12
    if hour > 23 or minute > 59 or second > 59:
        raise _error(_BAD_CLOCK, text, WHEN_HINT)
    return time(hour, minute, second)


# Time zone tokens inside the text.
_IANA_TOKEN_RE = re.compile(r"[a-z][a-z0-9_+\-]*(?:/[a-z0-9_+\-]+)+")
_UTC_NAME_RE = re.compile(
    r"(?:^|(?<=\s)|(?<=\d))(?:utc|gmt)(?:\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?$"
)
_Z_RE = re.compile(r"(?<=\d)z$")
_OFFSET_RE = re.compile(
    r"(?:(?<=\d:\d\d)|(?<=[ap]m)|(?<=\s))(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$"
)
_ABBREVIATIONS = frozenset(
    {
        "pst", "pdt", "mst", "mdt", "cst", "cdt", "est", "edt", "akst", "akdt", "hst",
        "bst", "ist", "cet", "cest", "eet", "eest", "wet", "wib", "msk", "sgt", "hkt",
        "jst", "kst", "aest", "aedt", "acst", "acdt", "awst", "nzst", "nzdt", "brt",
        "pht", "sast", "gst", "pt", "et", "ct", "mt",
    }
)  # fmt: skip


def _fixed_offset(sign: str, hours: str, minutes: str | None, text: object) -> tzinfo:
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if int(minutes or 0) > 59 or offset > (MAX_OFFSET if sign == "+" else MIN_OFFSET):
        raise _error(N_("{text} has a UTC offset I can't use: offsets go from -12:00 to +14:00. {hint}"),
                     text, WHEN_HINT)
    if offset == timedelta(0):
        return UTC
    return timezone(-offset if sign == "-" else offset)


def _extract_zone(low: str, text: object) -> tuple[str, tzinfo | None]:
    """Strip an explicit zone/offset from the text; return (rest, zone or None)."""
    found: tzinfo | None = None
    kept: list[str] = []
    for token in low.split():
        bare = token.strip(",;()")
        if _IANA_TOKEN_RE.fullmatch(bare):
            if found is not None:
                raise _error(N_("{text} names more than one time zone. {hint}"), text, WHEN_HINT)
            found = get_zone(bare)
        else:
            kept.append(token)
    rest = " ".join(kept)

    offset: tzinfo | None = None
    m = _UTC_NAME_RE.search(rest)
    if m is not None:
        offset = UTC if m.group("sign") is None else _fixed_offset(m["sign"], m["h"], m["m"], text)
    else:
        m = _Z_RE.search(rest) or _OFFSET_RE.search(rest)
        if m is not None:
            offset = UTC if m.group(0) == "z" else _fixed_offset(m["sign"], m["h"], m["m"], text)
    if m is not None:
        rest = rest[: m.start()].strip(" ,")
    if offset is not None:
        if found is not None:
            raise _error(N_("{text} has both a time zone and a UTC offset; give only one. {hint}"),
                         text, WHEN_HINT)
        found = offset
    return rest, found


def _reject_abbreviations(rest: str, text: object) -> None:
    for word in re.findall(r"[a-z]+", rest):
        if word in _ABBREVIATIONS:
            raise TimeParseError(Msg(
                N_("Time zone abbreviations like “{abbreviation}” are ambiguous. Use a UTC offset "
                   "(`15:00-08:00`, `15:00 UTC+9`) or an IANA name (`15:00 America/Los_Angeles`)."),
                abbreviation=word.upper(),
            ))


@dataclass(frozen=True, slots=True)
class _Fields:
    """What dateutil found in the text; None means 'not typed'."""

    year: int | None
    month: int | None
    day: int | None
    weekday: int | None
    hour: int | None
    minute: int | None
    second: int | None
    microsecond: int | None
    tzname: str | None
    tzoffset: int | None
    century_specified: bool

    @property
    def has_date(self) -> bool:
        return any(v is not None for v in (self.year, self.month, self.day, self.weekday))

    @property
    def has_time(self) -> bool:
        return any(v is not None for v in (self.hour, self.minute, self.second, self.microsecond))


class _ParserInfo(du_parser.parserinfo):
    """dateutil vocabulary, plus: never guess the century of two-digit years."""

    # dateutil takes any number of spellings per weekday; its type stubs say two.
    WEEKDAYS: list[tuple[str, ...]] = [  # type: ignore[assignment]
        ("Mon", "Monday"),
        ("Tue", "Tues", "Tuesday"),
        ("Wed", "Weds", "Wednesday"),
        ("Thu", "Thur", "Thurs", "Thursday"),
        ("Fri", "Friday"),
        ("Sat", "Saturday"),
        ("Sun", "Sunday"),
    ]

    def convertyear(self, year: int, century_specified: bool = False) -> int:
        # dateutil would map 26 -> 2026 using the machine's clock; we reject
        # two-digit years instead (see _build_wall), so keep the value as typed.
        return year


@functools.cache
def _dateutil_parser() -> du_parser.parser:
    return du_parser.parser(_ParserInfo())


_NUMERIC_DATE_RE = re.compile(
    r"(?<![\d/.\-:])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{1,4}))?(?![\d/.\-:])"
)


def _numeric_day_first(low: str, text: object, hint: str) -> bool:
    """Decide d/m vs m/d for numeric dates; raise if it can't be told apart."""
    day_first = False
    for m in _NUMERIC_DATE_RE.finditer(low):
        a, b = int(m.group("a")), int(m.group("b"))
        if 1 <= a <= 12 and 1 <= b <= 12 and a != b:
            raise _error(
                N_("{text} could mean {first} or {second}. Write the date as year-month-day (`2026-12-03`) "
                   "or with the month's name (`3 Dec 2026`)."),
                text, first=_DayMonth(a, b), second=_DayMonth(b, a, month_first=True),
            )
        if a > 12:
            day_first = True
    return day_first


def _dateutil_fields(low: str, text: object, hint: str, what: str) -> _Fields:
    day_first = _numeric_day_first(low, text, hint)
    # dateutil's public parse() cannot tell which fields were typed (it fills them
    # from a default) and consults the machine's clock/local zone; _parse() returns
    # exactly what was found.  Behaviour is pinned by tests/test_timeparse.py.
    parser: Any = _dateutil_parser()  # `_parse` is not in dateutil's type stubs
    res, _ = parser._parse(low, dayfirst=day_first, yearfirst=False)
    if res is None or len(res) == 0:
        raise _unreadable(text, hint, what)
    return _Fields(
        year=res.year,
        month=res.month,
        day=res.day,
        weekday=res.weekday,
        hour=res.hour,
        minute=res.minute,
        second=res.second,
        microsecond=res.microsecond,
        tzname=res.tzname,
        tzoffset=res.tzoffset,
        century_specified=bool(getattr(res, "century_specified", False)),
    )


def _check_day_month(f: _Fields, text: object, hint: str) -> tuple[int, int]:
    month, day = f.month, f.day
    assert month is not None and day is not None
    if not 1 <= month <= 12:
        raise _error(N_("{text}: there's no month {month}. {hint}"), text, hint, month=month)
    if f.year is not None and not 1 <= f.year <= 9999:
        raise _range_error()
    leap_ok_year = f.year if f.year is not None else 2000  # year-less: allow 29 Feb
    last_day = _days_in_month(leap_ok_year, month)
    if not 1 <= day <= last_day:
        raise _error(N_("{text} isn't a real date: {month} has only {days} days. {hint}"), text, hint,
                     month=_Month(month, f.year), days=last_day)
    return month, day


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _clock_from_fields(f: _Fields, text: object) -> time:
    if f.hour is None:
        raise _unreadable(text, WHEN_HINT)
    hour, minute, second = f.hour, f.minute or 0, f.second or 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise _error(_BAD_CLOCK, text, WHEN_HINT)
    return time(hour, minute, second, f.microsecond or 0)


def _next_clock(clock: time, now_local: datetime) -> datetime:
    candidate = datetime.combine(now_local.date(), clock)
    if candidate <= now_local:
        candidate += timedelta(days=1)
    return candidate


def _build_wall(f: _Fields, now_local: datetime, text: object, *, date_only: bool) -> datetime:
    """Turn dateutil fields into a naive wall datetime (00:00 if no time was typed)."""
    hint = DATE_HINT if date_only else WHEN_HINT
    what = "date" if date_only else "when"
    if f.tzname is not None or f.tzoffset is not None:
        if f.tzname is not None and f.tzname.lower() not in ("utc", "gmt", "z"):
            _reject_abbreviations(f.tzname.lower(), text)
        raise _unreadable(text, hint, what)
    if date_only and f.has_time:
        raise _error(N_("{text} has a time in it, but I only need a date. {hint}"), text, hint)
    if not f.has_date:
        if date_only:
            raise _unreadable(text, hint, what)
        return _next_clock(_clock_from_fields(f, text), now_local)
    if f.month is None or f.day is None:
        if f.month is not None and f.year is not None and not f.century_specified:
            # "32 Dec": dateutil reads 32 as a two-digit year
            raise _error(N_("{text} isn't a real date: {month} has no day {day}. {hint}"), text, hint,
                         month=_Month(f.month), day=f.year)
        if f.month is not None:
            raise _error(N_("{text} needs a day of the month too, e.g. `3 Dec 2026`. {hint}"), text, hint)
        raise _unreadable(text, hint, what)
    if f.year is not None and not f.century_specified:
        raise _error(N_("{text}: please write the year with four digits, e.g. `2026`. {hint}"), text, hint)
    month, day = _check_day_month(f, text, hint)
    clock = _clock_from_fields(f, text) if f.has_time else time(0)
    if f.year is not None:
        result = datetime.combine(date(f.year, month, day), clock)
    else:
        result = _next_yearless(month, day, clock, now_local, has_time=f.has_time)
    if f.weekday is not None and result.weekday() != f.weekday:
        raise TimeParseError(Msg(
            N_("{date} is a {weekday}, not a {other}. {hint}"), date=_Date(result.date()),
            weekday=_Weekday(result.weekday()), other=_Weekday(f.weekday), hint=Msg(hint),
        ))
    return result


def _next_yearless(month: int, day: int, clock: time, now_local: datetime, *, has_time: bool) -> datetime:
    for year in range(now_local.year, min(now_local.year + 9, 10000)):
        if day > _days_in_month(year, month):
            continue  # 29 February in a non-leap year
        candidate = datetime.combine(date(year, month, day), clock)
        if (candidate >= now_local) if has_time else (candidate.date() >= now_local.date()):
            return candidate
    raise _range_error()


def _finish(wall: datetime, zone: tzinfo) -> datetime:
    aware = check_local(wall, zone)  # type: ignore[arg-type]  # any tzinfo works
    try:
        return aware.astimezone(UTC)
    except OverflowError as exc:
        raise _range_error() from exc


# --------------------------------------------------------------------------- #
# parse_when / parse_date
# --------------------------------------------------------------------------- #


def parse_when(text: str, zone: ZoneInfo | str, *, now: datetime) -> datetime:
    """Parse a user-typed date/time as wall-clock time in ``zone``; return aware UTC.

    See the module docstring for the accepted forms and rules.  Raises
    :class:`TimeParseError` (user-facing message) for anything it can't use.
    """
    tz = _coerce_zone(zone)
    now_utc = _require_aware(now, "now")
    s = _normalize(text, WHEN_HINT, "when")
    try:
        now_utc = now_utc.astimezone(UTC)
        return _parse_when(s, tz, now_utc, text)
    except TimeParseError:
        raise
    except OverflowError as exc:
        raise _range_error() from exc
    except _WRAPPED_ERRORS as exc:
        raise _unreadable(text, WHEN_HINT, "when") from exc


def _parse_when(s: str, tz: tzinfo, now_utc: datetime, text: str) -> datetime:
    low = _strip_filler(to_english(s.lower()))
    if low in ("now", "right now"):
        return now_utc

    body = _match_relative(low)
    if body is not None:
        components = _parse_components(body)
        if components is None:
            raise _unreadable(text, WHEN_HINT, "when")
        return _apply_relative(components, tz, now_utc, text)

    rest, override = _extract_zone(low, text)
    rest = _strip_filler(rest)
    zone = override if override is not None else tz
    if not rest:
        if override is None:
            raise _unreadable(text, WHEN_HINT, "when")
        raise _error(N_("{text} has a time zone but no date or time. {hint}"), text, WHEN_HINT)
    _reject_abbreviations(rest, text)
    now_local = now_utc.astimezone(zone).replace(tzinfo=None)

    wall = _parse_dayword(rest, now_local)
    if wall is None:
        clock = _parse_clock(rest, bare_ok=False)
        if clock is not None:
            wall = _next_clock(clock, now_local)
    if wall is None:
        if _parse_components(rest) is not None:
            raise TimeParseError(Msg(_DID_YOU_MEAN_IN, rest=rest, hint=Msg(WHEN_HINT)))
        fields = _dateutil_fields(rest, text, WHEN_HINT, "when")
        wall = _build_wall(fields, now_local, text, date_only=False)
    return _finish(wall, zone)


def _parse_dayword(rest: str, now_local: datetime) -> datetime | None:
    """``today``/``tomorrow``/``tonight``/``[next] monday`` with an optional time."""
    m = _DAY_FIRST_RE.fullmatch(rest) or _DAY_LAST_RE.fullmatch(rest)
    if m is None:
        return None
    day_word = m.group("day")
    clock_text = m.group("clock")
    evening = day_word == "tonight"
    clock: time | None = None
    if clock_text:
        clock = _parse_clock(clock_text, bare_ok=True, evening=evening)
        if clock is None:
            return None  # e.g. "monday 3 dec": let dateutil have a go
    today = now_local.date()
    if m.group("wd") is not None:
        wanted = _weekday_index(m.group("wd"))
        delta = (wanted - today.weekday()) % 7
        if m.group("mod") in ("next", "coming"):
            delta = delta or 7
        elif delta == 0 and clock is not None and datetime.combine(today, clock) <= now_local:
            delta = 7
        day = today + timedelta(days=delta)
    elif day_word == "today":
        day = today
    elif day_word == "tonight":
        day = today
        if clock is None:
            clock = time(20)
        elif clock == time(0):
            day = today + timedelta(days=1)
    elif day_word.split()[-2:-1] == ["after"] or day_word == "overmorrow":  # the day after tomorrow
        day = today + timedelta(days=2)
    else:  # tomorrow and its misspellings
        day = today + timedelta(days=1)
    return datetime.combine(day, clock or time(0))


def _whole(amount: Fraction, unit: str, text: object, hint: str) -> int:
    if amount.denominator != 1:
        raise _error(_WHOLE[unit], text, hint)
    return int(amount)


def _apply_relative(components: Mapping[str, Fraction], tz: tzinfo, now_utc: datetime, text: str) -> datetime:
    years = _whole(components.get("years", Fraction(0)), "years", text, WHEN_HINT)
    months = _whole(components.get("months", Fraction(0)), "months", text, WHEN_HINT)
    exact = _exact_seconds(components)
    if exact > 10000 * 366 * 86400 or abs(years) > 10000 or abs(months) > 120000:
        raise _range_error()
    try:
        base = now_utc
        if years or months:
            local = now_utc.astimezone(tz).replace(tzinfo=None) + relativedelta(years=years, months=months)
            base = resolve_local(local, tz).astimezone(UTC)  # type: ignore[arg-type]
        return base + timedelta(microseconds=round(exact * 1_000_000))
    except (OverflowError, ValueError) as exc:  # "year 10026 is out of range"
        raise _range_error() from exc


def parse_date(text: str, *, today: date) -> date:
    """Parse a user-typed calendar date (no time of day).

    Accepts ISO and named-month dates, ``today``, ``tomorrow``, ``[next] friday``,
    ``in 30 days``/``in 2 weeks``/``in 6 months``/``in 2 years`` (calendar
    arithmetic, month-end clamped).  A date without a year is its next
    occurrence, today included.  Raises :class:`TimeParseError`.
    """
    if isinstance(today, datetime):
        today = today.date()
    if not isinstance(today, date):
        raise TypeError("today must be a date")
    s = _normalize(text, DATE_HINT, "date")
    try:
        return _parse_date(s, today, text)
    except TimeParseError:
        raise
    except OverflowError as exc:
        raise _range_error() from exc
    except _WRAPPED_ERRORS as exc:
        raise _unreadable(text, DATE_HINT) from exc


def _parse_date(s: str, today: date, text: str) -> date:
    low = _strip_filler(to_english(s.lower()))
    if low == "today":
        return today
    if low in ("day after tomorrow", "the day after tomorrow", "overmorrow"):
        return today + timedelta(days=2)
    if low in ("tomorrow", "tomorow", "tommorow", "tmrw", "tmr"):
        return today + timedelta(days=1)
    m = _WEEKDAY_ONLY_RE.fullmatch(low)
    if m is not None:
        delta = (_weekday_index(m.group("wd")) - today.weekday()) % 7
        if m.group("mod") in ("next", "coming"):
            delta = delta or 7
        return today + timedelta(days=delta)

    body = _match_relative(low)
    if body is not None:
        components = _parse_components(body)
        if components is None:
            raise _unreadable(text, DATE_HINT)
        if any(unit in components for unit in ("seconds", "minutes", "hours")):
            raise _hinted(N_("For a date, count in days, weeks, months or years. {hint}"), DATE_HINT)
        amounts = {
            unit: _whole(components.get(unit, Fraction(0)), unit, text, DATE_HINT)
            for unit in ("days", "weeks", "months", "years")
        }
        try:
            return today + relativedelta(
                days=amounts["days"], weeks=amounts["weeks"], months=amounts["months"], years=amounts["years"]
            )
        except (OverflowError, ValueError) as exc:  # "year 10026 is out of range"
            raise _range_error() from exc

    if _parse_components(low) is not None:
        raise TimeParseError(Msg(_DID_YOU_MEAN_IN, rest=low, hint=Msg(DATE_HINT)))
    fields = _dateutil_fields(low, text, DATE_HINT, "date")
    now_local = datetime.combine(today, time(0))
    return _build_wall(fields, now_local, text, date_only=True).date()

"""Recurring roundtables: RRULE building, validation and expansion in local wall-clock time.

Rules of this module (pure: no I/O, no discord):

* A series is anchored at DTSTART, a *naive local* datetime in the zone it was planned in.
  Expansion runs `dateutil.rrule` on naive local datetimes, so a 09:00 Los Angeles weekly
  stays 09:00 in Los Angeles across March and November.
* Each local occurrence is then attached to the zone with `bot.timeparse.resolve_local`:
  an occurrence falling in a DST gap moves forward by the gap (02:30 → 03:30), an
  ambiguous one (DST fold) takes the first of the two instants (fold=0). This is also what
  calendar clients do with a TZID DTSTART, so the .ics file expands to the same instants.
* Stored rules are RRULE *values* (no ``RRULE:`` prefix, no DTSTART) with UNTIL in UTC
  (``UNTIL=20261231T225959Z``), as RFC 5545 requires with a TZID DTSTART. For expansion
  UNTIL is converted back to local wall time.
* Sub-daily rules are refused: FREQ=SECONDLY/MINUTELY/HOURLY, BYHOUR/BYMINUTE/BYSECOND
  (the time of day comes from the start), or any rule whose occurrences come less than
  a day apart.
* Every expansion is bounded: `compile_rule` returns a :class:`BoundedRule`, whose iteration
  stops at a horizon (~10 years past the point of interest) even when no date matches. Plain
  dateutil would search day after day up to year 9999 for a rule such as
  ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`` (seconds of CPU holding the event loop); bounded, a
  hopeless rule is refused in milliseconds.
"""

from __future__ import annotations

import datetime as _datetime_module
import functools
import logging
import re
import types
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateutil.rrule as _du_rrule
from dateutil.rrule import rrule, rrulestr

from bot.errors import InvalidInput
from bot.i18n import ENGLISH, N_, Localized, Msg, nt, t, weekday_name
from bot.timeparse import calendar_date, get_zone, resolve_local

REPEAT_KINDS = ("none", "weekly", "biweekly", "monthly", "monthly-last", "rrule")
REPEAT_ALIASES = {
    "": "none",
    "none": "none",
    "no": "none",
    "once": "none",
    "never": "none",
    "weekly": "weekly",
    "every week": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "every 2 weeks": "biweekly",
    "every two weeks": "biweekly",
    "monthly": "monthly",
    "monthly-last": "monthly-last",
    "monthly last": "monthly-last",
    "last": "monthly-last",
    # French and Spanish, as typed without the autocomplete (matched without accents)
    "aucune": "none", "jamais": "none", "une fois": "none", "non": "none",
    "ninguna": "none", "nunca": "none", "una vez": "none",
    "hebdomadaire": "weekly", "chaque semaine": "weekly", "toutes les semaines": "weekly",
    "semanal": "weekly", "cada semana": "weekly", "todas las semanas": "weekly",
    "toutes les 2 semaines": "biweekly", "toutes les deux semaines": "biweekly",
    "tous les quinze jours": "biweekly", "quinzomadaire": "biweekly",
    "cada 2 semanas": "biweekly", "cada dos semanas": "biweekly", "quincenal": "biweekly",
    "mensuel": "monthly", "mensuelle": "monthly", "chaque mois": "monthly", "tous les mois": "monthly",
    "mensual": "monthly", "cada mes": "monthly", "todos los meses": "monthly",
    "dernier": "monthly-last", "mensuel dernier": "monthly-last", "dernier du mois": "monthly-last",
    "ultimo": "monthly-last", "mensual ultimo": "monthly-last", "ultimo del mes": "monthly-last",
}
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# "monthly on the first Tuesday": one whole sentence per weekday position (the ordinal agrees with the
# weekday in French and Spanish, and its place in the sentence differs)
_MONTHLY = {
    1: N_("monthly on the first {day}"), 2: N_("monthly on the second {day}"),
    3: N_("monthly on the third {day}"), 4: N_("monthly on the fourth {day}"),
    -1: N_("monthly on the last {day}"),
}
_FORBIDDEN_FREQ = ("SECONDLY", "MINUTELY", "HOURLY")
_FORBIDDEN_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART", "BYSETPOS=0")
_UNTIL_RE = re.compile(r"UNTIL=(\d{8})(?:T(\d{6})(Z?))?", re.IGNORECASE)
_RULE_CHARS_RE = re.compile(r"^[A-Z0-9=;,+\-]+$")
log = logging.getLogger(__name__)

HORIZON = timedelta(days=3653)  # never look further than ~10 years ahead
MAX_RULE_LENGTH = 300
SCAN_LIMIT = 5000



@dataclass(frozen=True, slots=True)
class Series:
    """What expansion needs: first start (UTC), planned zone, rule (None = one-off), duration."""

    start: datetime
    tz: str
    rule: str | None
    duration: timedelta

    @property
    def zone(self) -> ZoneInfo:
        return get_zone(self.tz)

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.zone).replace(tzinfo=None)


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """Wall time → aware UTC: DST gap moves forward by the gap, a fold takes the first instant."""
    return resolve_local(naive, zone).astimezone(UTC)


def parse_repeat(text: str | None) -> tuple[str, str | None]:
    """User `repeat` option → (kind, custom RRULE text or None)."""
    raw = " ".join((text or "").split())
    low = raw.lower()
    if low in REPEAT_ALIASES:
        return REPEAT_ALIASES[low], None
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", low) if not unicodedata.combining(ch))
    if folded in REPEAT_ALIASES:
        return REPEAT_ALIASES[folded], None
    if low.startswith(("monthly (", "weekly (")):  # autocomplete labels such as "monthly (first Tuesday)"
        return ("monthly-last" if "last" in low else "monthly") if low.startswith(
            "monthly"
        ) else "weekly", None
    up = raw.upper()
    if up.startswith("RRULE:"):
        up = up[6:]
    if "FREQ=" in up:
        return "rrule", up.replace(" ", "")
    raise InvalidInput(
        Msg("I don't know the repeat “{raw}”. "
                          "Use `weekly`, `every 2 weeks`, `monthly` (same weekday position, "
                          "e.g. first Tuesday), `monthly-last` (e.g. last Friday) or an RRULE such as "
                          "`FREQ=WEEKLY;BYDAY=TU,TH`.", raw=raw[:60])
    )


def monthly_position(local: datetime) -> int:
    """Weekday position of a date in its month: 1..4, or -1 for a fifth (= last) one."""
    n = (local.day - 1) // 7 + 1
    return -1 if n >= 5 else n


def base_rule(kind: str, local_start: datetime) -> str | None:
    day = _DAYS[local_start.weekday()]
    if kind == "none":
        return None
    if kind == "weekly":
        return f"FREQ=WEEKLY;BYDAY={day}"
    if kind == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}"
    if kind == "monthly":
        return f"FREQ=MONTHLY;BYDAY={monthly_position(local_start):+d}{day}"
    if kind == "monthly-last":
        return f"FREQ=MONTHLY;BYDAY=-1{day}"
    raise InvalidInput(
        Msg("Unknown repeat kind “{kind}”. "
                          "Use `weekly`, `every 2 weeks`, `monthly` (same weekday position, "
                          "e.g. first Tuesday), `monthly-last` (e.g. last Friday) or an RRULE such as "
                          "`FREQ=WEEKLY;BYDAY=TU,TH`.", kind=kind[:60])
    )


def _strip_end(rule: str) -> str:
    parts = [p for p in rule.split(";") if p and not p.upper().startswith(("COUNT=", "UNTIL="))]
    return ";".join(parts)


def with_end(rule: str, *, count: int | None, until_utc: datetime | None) -> str:
    """Replace the rule's end (COUNT/UNTIL) with the given one (both None = keep the rule's own)."""
    if count is None and until_utc is None:
        return rule
    if count is not None and until_utc is not None:
        raise InvalidInput(N_("Give either a number of occurrences or an end date, not both."))
    body = _strip_end(rule)
    if count is not None:
        return f"{body};COUNT={count}"
    assert until_utc is not None
    return f"{body};UNTIL={until_utc.astimezone(UTC):%Y%m%dT%H%M%S}Z"


def _local_rule_text(rule: str, zone: ZoneInfo) -> str:
    """UNTIL in UTC (or floating) → local naive wall time, as dateutil wants with a naive DTSTART."""

    def repl(m: re.Match[str]) -> str:
        day, clock, z = m.group(1), m.group(2), m.group(3)
        if clock is None:
            # a bare date means "through that day" in the planned zone
            return f"UNTIL={day}T235959"
        if not z:
            return f"UNTIL={day}T{clock}"
        utc = datetime.strptime(day + clock, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        local = utc.astimezone(zone).replace(tzinfo=None)
        return f"UNTIL={local:%Y%m%dT%H%M%S}"

    return _UNTIL_RE.sub(repl, rule)


# dateutil's private rrule internals (`_iter`, `_freq`, ...) are not in its type stubs.
_RRULE_PRIVATE: Any = rrule


@functools.lru_cache(maxsize=32)
def _iter_until_year(last_year: int) -> Callable[[rrule], Iterator[datetime]] | None:
    """dateutil's own `rrule._iter`, run with `datetime.MAXYEAR` seen as `last_year`.

    dateutil stops expanding only at year 9999 when nothing matches (its UNTIL is checked on
    matches only); its loop ends at ``year > datetime.MAXYEAR`` for every frequency. The same
    code object with a `datetime` module whose MAXYEAR is `last_year` stops there instead: same
    results up to that year, never a scan of millennia. None when dateutil's internals differ
    (then BoundedRule falls back on the plain iteration, still capped in matches)."""
    code = _RRULE_PRIVATE._iter.__code__
    if getattr(_du_rrule, "datetime", None) is not _datetime_module or "MAXYEAR" not in code.co_names \
            or code.co_freevars:
        log.warning("dateutil's rrule internals changed; rule expansion is bounded by matches only")
        return None
    shim = types.ModuleType("datetime")
    shim.__dict__.update(_datetime_module.__dict__)
    shim.MAXYEAR = last_year  # type: ignore[attr-defined]
    env = dict(_du_rrule.__dict__)
    env["datetime"] = shim
    return types.FunctionType(code, env, "_iter")


class BoundedRule(rrule):
    """An rrule whose iteration ends after `last_year` (see `_iter_until_year`)."""

    _last_year: int = _datetime_module.MAXYEAR

    def _iter(self) -> Iterator[datetime]:
        bounded = _iter_until_year(self._last_year)
        if bounded is None:  # pragma: no cover - only with an unexpected dateutil
            yield from _RRULE_PRIVATE._iter(self)
            return
        yield from bounded(self)


def compile_rule(rule: str, local_start: datetime, zone: ZoneInfo, *, stop: datetime | None = None) -> rrule:
    """The rrule for a stored rule anchored at a naive local start, expanding no further than
    the year after `stop` (naive local; default: `local_start` + HORIZON)."""
    parsed = rrulestr(_local_rule_text(rule, zone), dtstart=local_start)
    assert isinstance(parsed, rrule)
    parsed_private: Any = parsed  # its private fields are not in dateutil's stubs
    bounded = BoundedRule(
        parsed_private._freq, dtstart=parsed_private._dtstart, interval=parsed_private._interval,
        wkst=parsed_private._wkst, count=parsed_private._count, until=parsed_private._until, cache=False,
        **parsed_private._original_rule,
    )
    end = stop if stop is not None else _plus(local_start, HORIZON)
    bounded._last_year = min(end.year + 1, _datetime_module.MAXYEAR)
    return bounded


def _plus(base: datetime, delta: timedelta) -> datetime:
    """base + delta, clamped at the end of year 9999 instead of overflowing."""
    try:
        return base + delta
    except OverflowError:
        return datetime(9999, 12, 31, 23, 59, 59)  # noqa: DTZ001 - naive local wall time, as dateutil wants


def normalise_user_rule(text: str) -> str:
    """Syntax-level checks of a typed RRULE; returns it upper-cased, one RRULE value."""
    rule = text.strip().upper().replace(" ", "")
    if rule.startswith("RRULE:"):
        rule = rule[6:]
    if not rule or len(rule) > MAX_RULE_LENGTH:
        raise InvalidInput(
            Msg("That RRULE is empty or too long (at most {max} characters). "
               "Use `weekly`, `every 2 weeks`, `monthly` (same weekday position, "
               "e.g. first Tuesday), `monthly-last` (e.g. last Friday) or an RRULE such as "
               "`FREQ=WEEKLY;BYDAY=TU,TH`.", max=MAX_RULE_LENGTH)
        )
    if "\n" in text or not _RULE_CHARS_RE.match(rule):
        raise InvalidInput(N_(
            "An RRULE is one line of `NAME=VALUE` parts separated by `;`, for example "
            "`FREQ=MONTHLY;BYDAY=+1TU;COUNT=6`. Don't include DTSTART, EXDATE or line breaks."
        ))
    freq = re.search(r"(?:^|;)FREQ=([A-Z]+)", rule)
    if freq is None:
        raise InvalidInput(N_("That RRULE has no FREQ. "
                              "Use `weekly`, `every 2 weeks`, `monthly` (same weekday position, "
                              "e.g. first Tuesday), `monthly-last` (e.g. last Friday) or an RRULE such as "
                              "`FREQ=WEEKLY;BYDAY=TU,TH`."))
    if freq.group(1) in _FORBIDDEN_FREQ:
        raise InvalidInput(
            Msg("FREQ={freq} would make a roundtable more often than once a day. "
                "Roundtables can repeat daily at most: use DAILY, WEEKLY, MONTHLY or YEARLY.",
                freq=freq.group(1))
        )
    for part in _FORBIDDEN_PARTS:
        if part in rule:
            name = part.split("=")[0]
            if name == "BYSETPOS":
                raise InvalidInput(N_("BYSETPOS=0 is not valid in an RRULE."))
            raise InvalidInput(
                Msg("Leave {name} out of the RRULE: the time of day and first date come from `when`.",
                    name=name)
            )
    if "COUNT=" in rule and "UNTIL=" in rule:
        raise InvalidInput(N_("An RRULE can have COUNT or UNTIL, not both."))
    return rule


def validate(rule: str, local_start: datetime, zone: ZoneInfo, *, now: datetime) -> datetime:
    """Check a rule anchored at `local_start` and return its first occurrence (naive local).

    Refuses rules dateutil cannot parse, rules with no occurrence after `now` within the horizon
    (~10 years), and rules whose occurrences come less than a day apart. Bounded: at most ~11
    years of dateutil's loop and 400 matches are looked at, whatever the rule."""
    horizon = _plus(local_start, HORIZON)
    try:
        compiled = compile_rule(rule, local_start, zone, stop=horizon)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidInput(
            Msg("I couldn't read that RRULE ({error}). "
                              "Use `weekly`, `every 2 weeks`, `monthly` (same weekday position, "
                              "e.g. first Tuesday), `monthly-last` (e.g. last Friday) or an RRULE such as "
                              "`FREQ=WEEKLY;BYDAY=TU,TH`.", error=str(exc)[:120])
        ) from exc
    first: datetime | None = None
    previous: datetime | None = None
    now_local = now.astimezone(zone).replace(tzinfo=None)
    seen_future = False
    try:
        for i, occ in enumerate(compiled):
            if occ > horizon or i > 400:
                break
            if first is None:
                first = occ
            if previous is not None and occ - previous < timedelta(hours=23):
                raise InvalidInput(N_(
                    "That RRULE repeats more often than once a day (e.g. several times on one day). "
                    "Roundtables can repeat daily at most."
                ))
            previous = occ
            if occ > now_local:
                seen_future = True
            if i >= 60 and seen_future:
                break
    except (ValueError, OverflowError) as exc:  # e.g. a date past year 9999
        raise InvalidInput(
            Msg("That RRULE runs past the end of the calendar ({error}). "
               "Use `weekly`, `every 2 weeks`, `monthly` (same weekday position, "
               "e.g. first Tuesday), `monthly-last` (e.g. last Friday) or an RRULE such as "
               "`FREQ=WEEKLY;BYDAY=TU,TH`.", error=str(exc)[:80])
        ) from exc
    if first is None or not seen_future:
        raise InvalidInput(N_(
            "That RRULE gives no upcoming occurrence in the next 10 years from the start you gave (check "
            "COUNT, UNTIL and BY… parts: e.g. BYMONTH=2;BYMONTHDAY=30 never happens)."
        ))
    return first


def iter_starts(series: Series, *, after: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
    """(original start UTC, local naive) of each raw occurrence in order, from the first one
    whose start is > `after` minus a day of slack (callers filter precisely). Bounded to ~10 years
    past `after` (or the start): dateutil's loop never runs further, even when nothing matches."""
    zone = series.zone
    local_start = series.local_start
    if series.rule is None:
        yield series.start, local_start
        return
    base = after if after is not None and after > series.start else series.start
    try:
        limit = base + HORIZON
    except OverflowError:
        limit = datetime.max.replace(tzinfo=UTC)
    stop = _plus(base.astimezone(zone).replace(tzinfo=None), HORIZON + timedelta(days=2))
    compiled = compile_rule(series.rule, local_start, zone, stop=stop)
    if after is not None:
        threshold = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=2)
        source: Iterator[datetime] = (
            compiled.xafter(threshold, inc=True) if threshold > local_start else iter(compiled)
        )
    else:
        source = iter(compiled)
    for local in source:
        try:
            utc = localize(local, zone)
        except OverflowError:
            return
        if utc > limit:
            return
        yield utc, local


def raw_starts(series: Series, *, after: datetime | None = None, limit: int = 100) -> list[datetime]:
    out: list[datetime] = []
    for utc, _ in iter_starts(series, after=after):
        if after is not None and utc <= after:
            continue
        out.append(utc)
        if len(out) >= limit:
            break
    return out


def count_or_until(rule: str | None) -> tuple[int | None, str | None]:
    if not rule:
        return None, None
    count = re.search(r"COUNT=(\d+)", rule)
    until = _UNTIL_RE.search(rule)
    return (int(count.group(1)) if count else None), (until.group(1) if until else None)


def describe(kind: str, rule: str | None, local_start: datetime, lang: str = ENGLISH) -> str:
    """Human wording of the recurrence in `lang`: 'weekly on Tuesday', 'monthly on the last Friday'."""
    day = weekday_name(lang, local_start.weekday())
    if kind == "none" or not rule:
        return t(lang, "once")
    if kind == "weekly":
        text = t(lang, "weekly on {day}", day=day)
    elif kind == "biweekly":
        text = t(lang, "every 2 weeks on {day}", day=day)
    elif kind in ("monthly", "monthly-last"):
        m = re.search(r"BYDAY=([+-]?\d)", rule)
        pos = int(m.group(1)) if m else monthly_position(local_start)
        text = t(lang, _MONTHLY.get(pos, _MONTHLY[-1]), day=day)
    else:
        shown = "`" + _strip_end(rule)[:150] + "`"
        text = t(lang, "custom rule {rule}", rule=shown)
    count, until = count_or_until(rule)
    if count:
        text = nt(lang, "{repeat}, {n} time", "{repeat}, {n} times", count, repeat=text)
    elif until:
        last = _until_day(rule, local_start).localize(lang)
        text = t(lang, "{repeat}, until {date}", repeat=text, date=last)
    return text


def _until_day(rule: str, local_start: datetime) -> Localized:
    """The last day of a series with an UNTIL, as a date in the member's language ("3 December 2026",
    "3 décembre 2026"): the day in the series' own zone (an UNTIL is stored as the UTC instant of that day's
    end there; a hand-typed one may be a plain date)."""
    m = _UNTIL_RE.search(rule)
    assert m is not None
    ymd = m.group(1)
    day = _datetime_module.date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    if m.group(2) and m.group(3) and local_start.tzinfo is not None:
        instant = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        day = instant.astimezone(local_start.tzinfo).date()
    return calendar_date(day)

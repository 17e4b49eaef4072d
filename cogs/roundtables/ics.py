"""iCalendar (RFC 5545) export of a roundtable, built with the `icalendar` library.

One VEVENT per roundtable with a stable UID; DTSTART/DTEND carry TZID = the planned zone
(its VTIMEZONE in yearly-rule form, written by `bot.ical`), the series' RRULE (UNTIL in UTC), skipped
occurrences as EXDATE, and each moved occurrence as an extra VEVENT with the same UID and a RECURRENCE-ID.
`events_for` gives the components (the live feed combines several roundtables in one calendar).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from icalendar import Event, vRecur

from bot.i18n import ENGLISH, t
from bot.ical import write_calendar
from bot.timeparse import from_unix, get_zone
from cogs.roundtables.service import FORMAT_LABEL, Roundtable, RoundtableService

PRODID = "-//Attache//Roundtables//EN"


def uid_for(rt: Roundtable) -> str:
    return f"roundtable-{rt.guild_id}-{rt.id}@attache"


def _description(rt: Roundtable, include_link: bool, lang: str = ENGLISH) -> str:
    """The event's description in `lang` (a calendar app shows it as plain text)."""
    parts = []
    if rt.agenda:
        parts.append(rt.agenda)
    fmt = t(lang, FORMAT_LABEL[rt.format]) if rt.format in FORMAT_LABEL else rt.format
    parts.append(t(lang, "Format: {format}", format=fmt))
    if rt.place:
        parts.append(t(lang, "Place: {place}", place=rt.place))
    if rt.link and (include_link or rt.link_public):
        parts.append(t(lang, "Link: {link}", link=rt.link))
    parts.append(t(lang, "Host: Discord user {id}", id=rt.host_id))
    return "\n\n".join(parts)


def build_ics(
    rt: Roundtable,
    overrides: dict[int, tuple[str, int | None]],
    *,
    include_link: bool,
    now: datetime,
    lang: str = ENGLISH,
) -> bytes:
    events = events_for(rt, overrides, include_link=include_link, stamp=now, lang=lang)
    return write_calendar(events, prodid=PRODID, name=rt.title, now=now)


def events_for(
    rt: Roundtable,
    overrides: dict[int, tuple[str, int | None]],
    *,
    include_link: bool,
    stamp: datetime,
    lang: str = ENGLISH,
) -> list[Event]:
    """The VEVENTs of one roundtable: the series (or the single meeting), then each moved occurrence."""
    zone = get_zone(rt.tz)
    uid = uid_for(rt)
    start = rt.start.astimezone(zone)
    location = rt.place or (rt.link if rt.link and (include_link or rt.link_public) else None)

    def base_event(dtstart: datetime) -> Event:
        ev = Event()
        ev.add("uid", uid)
        ev.add("dtstamp", stamp)
        ev.add("summary", rt.title)
        ev.add("dtstart", dtstart)
        ev.add("dtend", dtstart + rt.duration)
        ev.add("description", _description(rt, include_link, lang))
        if location:
            ev.add("location", location)
        if rt.link and (include_link or rt.link_public):
            ev.add("url", rt.link)
        ev.add("status", "CANCELLED" if rt.status == "cancelled" else "CONFIRMED")
        return ev

    main = base_event(start)
    moved: list[Event] = []
    if rt.rrule:
        main.add("rrule", vRecur.from_ical(rt.rrule))
        skipped = sorted(k for k, (action, _) in overrides.items() if action == "skip")
        if skipped:
            main.add("exdate", [from_unix(k).astimezone(zone) for k in skipped])
        for key_s, (action, new_s) in sorted(overrides.items()):
            if action != "move" or new_s is None:
                continue
            ev = base_event(from_unix(new_s).astimezone(zone))
            ev.add("recurrence-id", from_unix(key_s).astimezone(zone))
            ev.add("sequence", 1)
            moved.append(ev)
    return [main, *moved]


class RoundtableFeed:
    """The roundtables' side of a member's live calendar feed (`bot.contracts.RoundtableCalendar`)."""

    def __init__(self, svc: RoundtableService,
                 language: Callable[[int, int], Awaitable[str]] | None = None) -> None:
        self.svc = svc
        self._language = language  # (guild, member) -> the member's language; English without it

    async def feed_events(self, guild_id: int, user_id: int, *, everything: bool, stamp: datetime
                          ) -> list[Event]:
        rows = [(rt, mine, await self.svc.overrides(rt))
                for rt, mine in await self.svc.feed_roundtables(guild_id, user_id, everything=everything)]
        lang = await self._language(guild_id, user_id) if self._language is not None else ENGLISH

        def build() -> list[Event]:  # hundreds of components: CPU work, off the event loop
            return [ev for rt, mine, ov in rows
                    for ev in events_for(rt, ov, include_link=mine, stamp=stamp, lang=lang)]

        return await asyncio.to_thread(build)

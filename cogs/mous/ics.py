"""An iCalendar (.ics) file of every MOU deadline: all-day events with stable UIDs (written by `bot.ical`)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from icalendar import Event

from bot.i18n import ENGLISH, t
from bot.ical import write_calendar
from cogs.mous.service import DueItem, MouService

PRODID = "-//Attaché//MOU tracker//EN"


def due_text(item: DueItem, lang: str = ENGLISH) -> str:
    """What falls due, in `lang`: "expires", "renewal-notice deadline", "milestone: …"."""
    if item.what == "expiry":
        return t(lang, "expires")
    if item.what == "notice":
        return t(lang, "renewal-notice deadline")
    return t(lang, "milestone: {description}", description=item.detail)


def deadline_events(
    guild_id: int, items: Sequence[DueItem], *, stamp: datetime, lang: str = ENGLISH
) -> list[Event]:
    """One all-day VEVENT per deadline (expiry, renewal notice, milestone), its texts in `lang`."""
    out: list[Event] = []
    for i in items:
        ev = Event()
        what = f"ms{i.milestone_id}" if i.what == "milestone" else i.what
        ev.add("uid", f"mou-{guild_id}-{i.agreement_id}-{what}-{i.on.isoformat()}@attache")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", i.on)
        ev.add("dtend", i.on + timedelta(days=1))
        what_due = due_text(i, lang)
        ev.add("summary", f"#{i.agreement_id} {i.title}: {what_due}"[:250])
        ev.add("description", t(lang, "Agreement #{id} — {title}\n{what}", id=i.agreement_id, title=i.title,
                                what=what_due))
        ev.add("transp", "TRANSPARENT")
        out.append(ev)
    return out


def build_ics(
    guild_id: int, items: Sequence[DueItem], *, now: datetime, guild_name: str = "", lang: str = ENGLISH
) -> bytes:
    name = t(lang, "Agreements — {server}", server=guild_name) if guild_name else t(lang, "Agreements")
    return write_calendar(
        deadline_events(guild_id, items, stamp=now, lang=lang), prodid=PRODID, name=name, now=now,
        method=None,
    )


class DeadlineFeed:
    """The MOU tracker's side of a member's live calendar feed (`bot.contracts.AgreementCalendar`)."""

    def __init__(self, svc: MouService, language: Callable[[int, int], Awaitable[str]] | None = None) -> None:
        self.svc = svc
        # (guild, member) -> the language of the feed's texts: the member's, else the server's (as the
        # roundtables of the same feed); English without it
        self._language = language

    async def deadline_events(self, guild_id: int, owner_id: int | None, *, stamp: datetime,
                              reader_id: int | None = None) -> list[Event]:
        items = await self.svc.deadlines(guild_id, owner_id=owner_id)
        reader = owner_id if reader_id is None else reader_id
        lang = ENGLISH if self._language is None or reader is None else await self._language(guild_id, reader)
        return await asyncio.to_thread(  # CPU: off the loop
            functools.partial(deadline_events, guild_id, items, stamp=stamp, lang=lang))

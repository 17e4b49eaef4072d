"""An iCalendar (.ics) file of every MOU deadline: all-day events with stable UIDs (written by `bot.ical`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Event

from bot.ical import write_calendar
from cogs.mous.service import DueItem, MouService, describe_due

PRODID = "-//Attaché//MOU tracker//EN"


def deadline_events(guild_id: int, items: Sequence[DueItem], *, stamp: datetime) -> list[Event]:
    """One all-day VEVENT per deadline (expiry, renewal notice, milestone)."""
    out: list[Event] = []
    for i in items:
        ev = Event()
        what = f"ms{i.milestone_id}" if i.what == "milestone" else i.what
        ev.add("uid", f"mou-{guild_id}-{i.agreement_id}-{what}-{i.on.isoformat()}@attache")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", i.on)
        ev.add("dtend", i.on + timedelta(days=1))
        ev.add("summary", f"#{i.agreement_id} {i.title}: {describe_due(i)}"[:250])
        ev.add("description", f"Agreement #{i.agreement_id} — {i.title}\n{describe_due(i)}")
        ev.add("transp", "TRANSPARENT")
        out.append(ev)
    return out


def build_ics(guild_id: int, items: Sequence[DueItem], *, now: datetime, guild_name: str = "") -> bytes:
    return write_calendar(
        deadline_events(guild_id, items, stamp=now), prodid=PRODID,
        name=f"Agreements{' — ' + guild_name if guild_name else ''}", now=now, method=None,
    )


class DeadlineFeed:
    """The MOU tracker's side of a member's live calendar feed (`bot.contracts.AgreementCalendar`)."""

    def __init__(self, svc: MouService) -> None:
        self.svc = svc

    async def deadline_events(self, guild_id: int, owner_id: int | None, *, stamp: datetime) -> list[Event]:
        items = await self.svc.deadlines(guild_id, owner_id=owner_id)
        return await asyncio.to_thread(deadline_events, guild_id, items, stamp=stamp)  # CPU: off the loop

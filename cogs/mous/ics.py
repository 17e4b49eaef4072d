"""An iCalendar (.ics) file of every MOU deadline: all-day events with stable UIDs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from cogs.mous.service import DueItem, describe_due


def build_ics(guild_id: int, items: Sequence[DueItem], *, now: datetime, guild_name: str = "") -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Attaché//MOU tracker//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Agreements{' — ' + guild_name if guild_name else ''}")
    for i in items:
        ev = Event()
        what = f"ms{i.milestone_id}" if i.what == "milestone" else i.what
        ev.add("uid", f"mou-{guild_id}-{i.agreement_id}-{what}-{i.on.isoformat()}@attache")
        ev.add("dtstamp", now)
        ev.add("dtstart", i.on)
        ev.add("dtend", i.on + timedelta(days=1))
        ev.add("summary", f"#{i.agreement_id} {i.title}: {describe_due(i)}"[:250])
        ev.add("description", f"Agreement #{i.agreement_id} — {i.title}\n{describe_due(i)}")
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()

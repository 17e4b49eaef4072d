"""Pure renderers for roundtables (embeds and message text), always within Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import discord

from bot.embeds import COLOUR, COLOUR_WARN, clip, make_embed, md, md_line, member_ref, one_line
from bot.timeparse import discord_ts, discord_ts_pair, format_local, humanize_duration, zone_label
from cogs.roundtables.findtime import DAY_END, DAY_START, Slot
from cogs.roundtables.service import Attendee, Counts, Note, Occurrence, Roundtable

FORMAT_LABEL = {"virtual": "Virtual", "in-person": "In person", "hybrid": "Hybrid"}
STATUS_LABEL = {"going": "Going", "waitlist": "On the waitlist", "maybe": "Maybe", "declined": "Can't go"}


def title_line(rt: Roundtable) -> str:
    return f"#{rt.id} · {md_line(rt.title, 100)}"


def counts_text(rt: Roundtable, c: Counts) -> str:
    cap = f" / {rt.capacity}" if rt.capacity else ""
    text = f"✅ Going **{c.going}{cap}** · ❔ Maybe **{c.maybe}** · ✖️ Can't go **{c.declined}**"
    if c.waitlist:
        text += f" · ⏳ Waitlist **{c.waitlist}**"
    return text


def where_text(rt: Roundtable, *, show_link: bool) -> str:
    parts = [FORMAT_LABEL.get(rt.format, rt.format)]
    if rt.place:
        parts.append(md(rt.place, 200))
    if rt.link:
        if show_link or rt.link_public:
            parts.append(md_line(rt.link, 500))
        else:
            parts.append("link sent to those going")
    return " · ".join(parts)


def announcement_embed(
    rt: Roundtable, occ: Occurrence | None, counts: Counts, local_line: str | None
) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    if rt.status == "cancelled":
        desc = "**Cancelled.**"
        colour = COLOUR_WARN
    elif occ is None:
        desc = "This roundtable is over." if rt.status == "done" else "No upcoming meeting."
        colour = COLOUR_WARN
    else:
        desc = f"{discord_ts_pair(occ.start)} · {humanize_duration(occ.end - occ.start)}"
        if occ.moved:
            desc += f"\n*Moved from {discord_ts(occ.key, 'f')}.*"
        colour = COLOUR
    if local_line and occ is not None and rt.status == "scheduled":
        fields.append(("Local times", md(local_line, 1024), False))
    fields.append(("Where", where_text(rt, show_link=False), True))
    fields.append(("Host", member_ref(rt.host_id), True))
    if rt.recurring:
        fields.append(("Repeats", md(rt.repeat_text, 1024), True))
    if rt.agenda:
        fields.append(("Agenda", md(rt.agenda, 1024), False))
    if rt.status == "scheduled" and occ is not None:
        fields.append(("Answers", counts_text(rt, counts), False))
    return make_embed(
        md_line(rt.title, 256), desc, fields=fields, colour=colour,
        footer=f"Roundtable #{rt.id} · planned in {rt.tz} · /roundtable show {rt.id}",
    )


def list_page(
    title: str, rts: Sequence[Roundtable], counts: dict[int, Counts], *, past: bool = False,
) -> discord.Embed:
    """One page of a list (the paginator adds "Page 2/3+")."""
    lines: list[str] = []
    for rt in rts:
        if past:
            when = rt.last_start or rt.start
            tail = {"cancelled": " · cancelled", "done": " · finished"}.get(rt.status, "")
            lines.append(f"**{title_line(rt)}** — {discord_ts(when, 'f')}{tail}")
        else:
            c = counts.get(rt.id, Counts())
            cap = f"/{rt.capacity}" if rt.capacity else ""
            rep = " · 🔁" if rt.recurring else ""
            wait = f" (+{c.waitlist} waiting)" if c.waitlist else ""
            when = rt.next_start or rt.start
            lines.append(f"**{title_line(rt)}** — {discord_ts(when, 'f')} ({discord_ts(when, 'R')}) · "
                         f"{c.going}{cap} going{wait}{rep}")
    return make_embed(title, "\n".join(lines), footer="details: /roundtable show")


def mention_list(ids: Sequence[int], limit: int = 1000) -> str:
    out = ""
    for i, uid in enumerate(ids):
        piece = (" " if out else "") + f"<@{uid}>"
        if len(out) + len(piece) > limit - 12:
            return out + f" +{len(ids) - i} more"
        out += piece
    return out or "—"


def show_embed(
    rt: Roundtable,
    occ: Occurrence | None,
    upcoming: Sequence[Occurrence],
    attendees: Sequence[Attendee],
    notes: Sequence[Note],
    local_line: str | None,
    *,
    show_link: bool,
) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    status = {"scheduled": "Scheduled", "cancelled": "Cancelled", "done": "Finished"}[rt.status]
    desc = f"**{status}**"
    if occ is not None and rt.status == "scheduled":
        desc += f" · next: {discord_ts_pair(occ.start)} · {humanize_duration(occ.end - occ.start)}"
    if local_line and occ is not None:
        fields.append(("Local times", md(local_line, 1024), False))
    fields.append(("Where", where_text(rt, show_link=show_link), True))
    fields.append(("Host", member_ref(rt.host_id), True))
    fields.append(("Capacity", str(rt.capacity) if rt.capacity else "no limit", True))
    if rt.recurring:
        fields.append(("Repeats", md(rt.repeat_text, 1024), False))
        if len(upcoming) > 1:
            fields.append(("Next dates", "\n".join(discord_ts(o.start, "f") + (" (moved)" if o.moved else "")
                                                   for o in upcoming[:5]), False))
    if rt.agenda:
        fields.append(("Agenda", md(rt.agenda, 1024), False))
    if occ is not None:
        groups: dict[str, list[int]] = {"going": [], "waitlist": [], "maybe": [], "declined": []}
        for a in attendees:
            groups[a.status].append(a.user_id)
        for key in ("going", "waitlist", "maybe", "declined"):
            if groups[key]:
                fields.append((f"{STATUS_LABEL[key]} ({len(groups[key])})", mention_list(groups[key]), False))
    for n in notes[:2]:
        fields.append((f"Notes — {format_local(n.occ, rt.tz, with_day=True)} ({zone_label(rt.tz)})",
                       md(n.text, 1024), False))
    return make_embed(title_line(rt), desc, fields=fields, footer=f"Planned in {rt.tz}")


def rsvp_reply(rt: Roundtable, occ: Occurrence, status: str, position: int | None, changed: bool) -> str:
    when = discord_ts(occ.start, "F")
    title = md_line(rt.title, 100)
    if status == "going":
        text = f"✅ You're going to **{title}** on {when}."
        if rt.link:
            text += f"\nMeeting link: {md_line(rt.link, 500)}"
        if rt.place:
            text += f"\nPlace: {md(rt.place, 200)}"
        text += "\nTurn reminder DMs on or off with `/roundtable reminders`."
    elif status == "waitlist":
        text = (f"⏳ **{title}** is full. You're **#{position}** on the waitlist; "
                "I'll tell you if a place frees up.")
    elif status == "maybe":
        text = f"❔ Noted as maybe for **{title}** on {when}."
    else:
        text = f"✖️ Noted: you can't go to **{title}** on {when}."
    if not changed:
        text = "(No change.) " + text
    return text


def reminder_text(rt: Roundtable, occ: Occurrence, mentions: str) -> str:
    head = (
        f"⏰ **{md_line(rt.title, 100)}** starts {discord_ts(occ.start, 'R')} ({discord_ts(occ.start, 'F')})."
    )
    return f"{head}\n{mentions}" if mentions else head


def reminder_dm(rt: Roundtable, occ: Occurrence, local_line: str | None) -> str:
    text = f"⏰ Reminder: **{md_line(rt.title, 100)}** starts {discord_ts_pair(occ.start)}."
    if local_line:
        text += f"\n{md(local_line, 500)}"
    if rt.link:
        text += f"\nMeeting link: {md_line(rt.link, 500)}"
    if rt.place:
        text += f"\nPlace: {md(rt.place, 200)}"
    text += "\n(You get these because you turned on `/roundtable reminders`.)"
    return text


def notes_embed(rt: Roundtable, note: Note, occ_start: datetime) -> discord.Embed:
    return make_embed(
        f"Notes: {md_line(rt.title, 200)}", md(note.text, 4000),
        fields=[("Meeting", discord_ts(occ_start, "F"), True), ("By", member_ref(note.author_id), True)],
        footer=f"Roundtable #{rt.id}",
    )


def hours_text(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


def findtime_embed(
    places: Sequence[tuple[str, str]], slots: Sequence[Slot], minutes: int, days: int, *,
    hours: tuple[time, time] = (DAY_START, DAY_END), early_late: bool = False,
) -> discord.Embed:
    names = ", ".join(md_line(p[0], 40) for p in places)
    window = hours_text(hours)
    if not slots:
        advice = ("Try a shorter meeting, fewer cities or wider `hours`." if early_late else
                  "Try a shorter meeting, fewer cities, wider `hours`, or `allow_early_late: True` "
                  "(up to 2 hours before or after the working day).")
        return make_embed(
            "No common working time",
            f"There is no {minutes}-minute slot in the next {days} days when {names} are all between "
            f"{window}{' (give or take 2 hours)' if early_late else ''} on one of their working days. "
            + advice,
            colour=COLOUR_WARN,
        )
    lines = []
    for i, s in enumerate(slots, start=1):
        local = " · ".join(
            f"{format_local(s.start, tz)} {md_line(label, 40)}" for label, tz in places
        )
        span = ""
        if s.window_end > s.window_start:
            start, end = discord_ts(s.window_start, "t"), discord_ts(s.window_end, "t")
            span = f"\n  any start from {start} to {end} works"
        early = " (early or late for someone)" if s.margin_min < 0 else ""
        lines.append(f"**{i}.** {discord_ts(s.start, 'F')}{early}\n  {local}{span}")
    footer = (f"{minutes} min · working hours {window} on each city's working days (its country's "
              f"weekend) · next {days} days")
    if early_late:
        footer += " · early/late allowed (2 h either side)"
    return make_embed(f"Best times for {clip(names, 200)}", "\n".join(lines)[:4000], footer=footer)


# -- the findtime picture and poll (plain text: image labels, alt text, poll answers) ------------------
def findtime_picture_title(places: Sequence[tuple[str, str]]) -> str:
    return "Best times for " + ", ".join(one_line(p[0], 40) for p in places)


def findtime_picture_subtitle(hours: tuple[time, time], days: int, shown_days: int) -> str:
    more = f" (first {shown_days} of {days} days shown; the list has every slot)" if days > shown_days else ""
    return (f"Columns: half hours in UTC{more} · shading: each city's local time, working hours "
            f"{hours_text(hours)} on its working days")


def findtime_row_label(label: str, zone: str) -> str:
    name, city = one_line(label, 40), zone_label(zone)
    return name if name == city else f"{name} ({city})"


def slot_text(start: datetime, end: datetime) -> str:
    """A slot as plain text in UTC (poll answers cannot show Discord timestamps): at most 55 characters."""
    return f"{start:%a %d %b %H:%M}–{end:%H:%M} UTC"


def findtime_alt(places: Sequence[tuple[str, str]], slots: Sequence[Slot], days: int,
                 hours: tuple[time, time]) -> str:
    names = ", ".join(one_line(p[0], 40) for p in places)
    best = "; ".join(f"{i}. {slot_text(s.start, s.end)}" for i, s in enumerate(slots, start=1))
    return (f"Grid of the next {days} days in UTC, one row per city ({names}), each half hour shaded as "
            f"working hours ({hours_text(hours)} local), early or late, night, or weekend. "
            + (f"Best slots, outlined and numbered: {best}." if slots else "No slot suits every city."))


POLL_ANSWER_MAX = 55
POLL_QUESTION_MAX = 300


def poll_question(places: Sequence[tuple[str, str]]) -> str:
    names = ", ".join(one_line(p[0], 40) for p in places)
    return clip(f"When should we meet? ({names})", POLL_QUESTION_MAX)


def poll_answers(slots: Sequence[Slot]) -> list[str]:
    return [clip(f"{i}. {slot_text(s.start, s.end)}", POLL_ANSWER_MAX) for i, s in enumerate(slots, start=1)]


def poll_content(slots: Sequence[Slot], author_id: int) -> str:
    lines = [f"{member_ref(author_id)} asks when to meet; each option in your own time:"]
    lines += [f"**{i}.** {discord_ts(s.start, 'F')} ({discord_ts(s.start, 'R')})"
              for i, s in enumerate(slots, start=1)]
    return "\n".join(lines)


def poll_posted(channel_id: int, hours: int) -> str:
    return f"Poll posted in <#{channel_id}>, open for {hours} hour{'s' if hours != 1 else ''}."

"""Pure renderers for roundtables (embeds and message text), always within Discord's limits, in the
reader's language (`lang`: the member's for a reply, the server's for a post, the recipient's for a DM)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import discord

from bot.embeds import COLOUR, COLOUR_WARN, clip, make_embed, md, md_line, member_ref, one_line
from bot.i18n import ENGLISH, N_, format_list, format_number, month_name, nt, t, weekday_name
from bot.timeparse import discord_ts, discord_ts_pair, format_local, humanize_duration, zone_label
from cogs.roundtables.findtime import DAY_END, DAY_START, Slot
from cogs.roundtables.pictures import LEGEND
from cogs.roundtables.service import FORMAT_LABEL, Attendee, Counts, Note, Occurrence, Roundtable

STATUS_LABEL = {"going": N_("Going"), "waitlist": N_("On the waitlist"), "maybe": N_("Maybe"),
                "declined": N_("Can't go")}
STATE_LABEL = {"scheduled": N_("Scheduled"), "cancelled": N_("Cancelled"), "done": N_("Finished")}
# what an edit changed: the service's names, each a catalog id (shown in the notice and the reply)
CHANGES = frozenset({N_("title"), N_("agenda"), N_("duration"), N_("place"), N_("capacity"),
                     N_("link visibility"), N_("time zone"), N_("time"), N_("time (this occurrence)"),
                     N_("cancelled")})


def change_names(lang: str, changes: Sequence[str]) -> str:
    """What an edit changed, as a list in `lang` ("title, time and capacity")."""
    return format_list(lang, [t(lang, c) if c in CHANGES else c for c in changes])


def title_line(rt: Roundtable) -> str:
    return f"#{rt.id} · {md_line(rt.title, 100)}"


def counts_text(rt: Roundtable, c: Counts, *, lang: str = ENGLISH) -> str:
    going = f"{c.going} / {rt.capacity}" if rt.capacity else str(c.going)
    text = t(lang, "✅ Going **{going}** · ❔ Maybe **{maybe}** · ✖️ Can't go **{declined}**",
             going=going, maybe=c.maybe, declined=c.declined)
    if c.waitlist:
        text += " · " + t(lang, "⏳ Waitlist **{n}**", n=c.waitlist)
    return text


def where_text(rt: Roundtable, *, show_link: bool, lang: str = ENGLISH) -> str:
    parts = [t(lang, FORMAT_LABEL[rt.format]) if rt.format in FORMAT_LABEL else rt.format]
    if rt.place:
        parts.append(md(rt.place, 200))
    if rt.link:
        if show_link or rt.link_public:
            parts.append(md_line(rt.link, 500))
        else:
            parts.append(t(lang, "link sent to those going"))
    return " · ".join(parts)


def announcement_embed(
    rt: Roundtable, occ: Occurrence | None, counts: Counts, local_line: str | None, *, lang: str = ENGLISH
) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    if rt.status == "cancelled":
        desc = t(lang, "**Cancelled.**")
        colour = COLOUR_WARN
    elif occ is None:
        desc = t(lang, "This roundtable is over.") if rt.status == "done" else t(lang, "No upcoming meeting.")
        colour = COLOUR_WARN
    else:
        desc = f"{discord_ts_pair(occ.start)} · {humanize_duration(occ.end - occ.start, lang)}"
        if occ.moved:
            desc += "\n" + t(lang, "*Moved from {when}.*", when=discord_ts(occ.key, "f"))
        colour = COLOUR
    if local_line and occ is not None and rt.status == "scheduled":
        fields.append((t(lang, "Local times"), md(local_line, 1024), False))
    fields.append((t(lang, "Where"), where_text(rt, show_link=False, lang=lang), True))
    fields.append((t(lang, "Host"), member_ref(rt.host_id), True))
    if rt.recurring:
        fields.append((t(lang, "Repeats"), md(rt.repeat_in(lang), 1024), True))
    if rt.agenda:
        fields.append((t(lang, "Agenda"), md(rt.agenda, 1024), False))
    if rt.status == "scheduled" and occ is not None:
        fields.append((t(lang, "Answers"), counts_text(rt, counts, lang=lang), False))
    return make_embed(
        md_line(rt.title, 256), desc, fields=fields, colour=colour,
        footer=t(lang, "Roundtable #{id} · planned in {zone} · /roundtable show {id}", id=rt.id, zone=rt.tz),
    )


def list_page(
    title: str, rts: Sequence[Roundtable], counts: dict[int, Counts], *, past: bool = False,
    lang: str = ENGLISH,
) -> discord.Embed:
    """One page of a list (the paginator adds "Page 2/3+"); `title` is already in `lang`."""
    lines: list[str] = []
    for rt in rts:
        if past:
            when = rt.last_start or rt.start
            tail = {"cancelled": " · " + t(lang, "cancelled"),
                    "done": " · " + t(lang, "finished")}.get(rt.status, "")
            lines.append(f"**{title_line(rt)}** — {discord_ts(when, 'f')}{tail}")
        else:
            c = counts.get(rt.id, Counts())
            going = f"{c.going}/{rt.capacity}" if rt.capacity else str(c.going)
            rep = " · 🔁" if rt.recurring else ""
            wait = " " + t(lang, "(+{n} waiting)", n=c.waitlist) if c.waitlist else ""
            when = rt.next_start or rt.start
            lines.append(f"**{title_line(rt)}** — {discord_ts(when, 'f')} ({discord_ts(when, 'R')}) · "
                         + t(lang, "{going} going", going=going) + f"{wait}{rep}")
    return make_embed(title, "\n".join(lines), footer=t(lang, "details: /roundtable show"))


def mention_list(ids: Sequence[int], limit: int = 1000, *, lang: str = ENGLISH) -> str:
    out = ""
    for i, uid in enumerate(ids):
        piece = (" " if out else "") + f"<@{uid}>"
        if len(out) + len(piece) > limit - 24:
            return out + " " + t(lang, "+{n} more", n=len(ids) - i)
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
    lang: str = ENGLISH,
) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    desc = f"**{t(lang, STATE_LABEL[rt.status])}**"
    if occ is not None and rt.status == "scheduled":
        desc += " · " + t(lang, "next: {when} · {length}", when=discord_ts_pair(occ.start),
                          length=humanize_duration(occ.end - occ.start, lang))
    if local_line and occ is not None:
        fields.append((t(lang, "Local times"), md(local_line, 1024), False))
    fields.append((t(lang, "Where"), where_text(rt, show_link=show_link, lang=lang), True))
    fields.append((t(lang, "Host"), member_ref(rt.host_id), True))
    capacity = format_number(lang, rt.capacity) if rt.capacity else t(lang, "no limit")
    fields.append((t(lang, "Capacity"), capacity, True))
    if rt.recurring:
        fields.append((t(lang, "Repeats"), md(rt.repeat_in(lang), 1024), False))
        if len(upcoming) > 1:
            moved = " " + t(lang, "(moved)")
            dates = "\n".join(discord_ts(o.start, "f") + (moved if o.moved else "") for o in upcoming[:5])
            fields.append((t(lang, "Next dates"), dates, False))
    if rt.agenda:
        fields.append((t(lang, "Agenda"), md(rt.agenda, 1024), False))
    if occ is not None:
        groups: dict[str, list[int]] = {"going": [], "waitlist": [], "maybe": [], "declined": []}
        for a in attendees:
            groups[a.status].append(a.user_id)
        for key in ("going", "waitlist", "maybe", "declined"):
            if groups[key]:
                fields.append((f"{t(lang, STATUS_LABEL[key])} ({len(groups[key])})",
                               mention_list(groups[key], lang=lang), False))
    for n in notes[:2]:
        when = format_local(n.occ, rt.tz, with_day=True, lang=lang)
        fields.append((t(lang, "Notes — {when} ({zone})", when=when,
                         zone=zone_label(rt.tz)), md(n.text, 1024), False))
    return make_embed(title_line(rt), desc, fields=fields, footer=t(lang, "Planned in {zone}", zone=rt.tz))


def rsvp_reply(rt: Roundtable, occ: Occurrence, status: str, position: int | None, changed: bool, *,
               lang: str = ENGLISH) -> str:
    when = discord_ts(occ.start, "F")
    title = md_line(rt.title, 100)
    if status == "going":
        text = t(lang, "✅ You're going to **{title}** on {when}.", title=title, when=when)
        if rt.link:
            text += "\n" + t(lang, "Meeting link: {link}", link=md_line(rt.link, 500))
        if rt.place:
            text += "\n" + t(lang, "Place: {place}", place=md(rt.place, 200))
        text += "\n" + t(lang, "Turn reminder DMs on or off with `/roundtable reminders`.")
    elif status == "waitlist":
        text = t(lang, "⏳ **{title}** is full. You're **#{position}** on the waitlist; "
                       "I'll tell you if a place frees up.", title=title, position=position)
    elif status == "maybe":
        text = t(lang, "❔ Noted as maybe for **{title}** on {when}.", title=title, when=when)
    else:
        text = t(lang, "✖️ Noted: you can't go to **{title}** on {when}.", title=title, when=when)
    if not changed:
        text = t(lang, "(No change.) {text}", text=text)
    return text


def reminder_text(rt: Roundtable, occ: Occurrence, mentions: str, *, lang: str = ENGLISH) -> str:
    head = t(lang, "⏰ **{title}** starts {relative} ({when}).", title=md_line(rt.title, 100),
             relative=discord_ts(occ.start, "R"), when=discord_ts(occ.start, "F"))
    return f"{head}\n{mentions}" if mentions else head


def reminder_dm(rt: Roundtable, occ: Occurrence, local_line: str | None, *, lang: str = ENGLISH) -> str:
    text = t(lang, "⏰ Reminder: **{title}** starts {when}.", title=md_line(rt.title, 100),
             when=discord_ts_pair(occ.start))
    if local_line:
        text += f"\n{md(local_line, 500)}"
    if rt.link:
        text += "\n" + t(lang, "Meeting link: {link}", link=md_line(rt.link, 500))
    if rt.place:
        text += "\n" + t(lang, "Place: {place}", place=md(rt.place, 200))
    text += "\n" + t(lang, "(You get these because you turned on `/roundtable reminders`.)")
    return text


def notes_embed(rt: Roundtable, note: Note, occ_start: datetime, *, lang: str = ENGLISH) -> discord.Embed:
    return make_embed(
        t(lang, "Notes: {title}", title=md_line(rt.title, 200)), md(note.text, 4000),
        fields=[(t(lang, "Meeting"), discord_ts(occ_start, "F"), True),
                (t(lang, "By"), member_ref(note.author_id), True)],
        footer=t(lang, "Roundtable #{id}", id=rt.id),
    )


def hours_text(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


def _names(lang: str, places: Sequence[tuple[str, str]], *, markdown: bool) -> str:
    return format_list(lang, [md_line(p[0], 40) if markdown else one_line(p[0], 40) for p in places])


def findtime_embed(
    places: Sequence[tuple[str, str]], slots: Sequence[Slot], minutes: int, days: int, *,
    hours: tuple[time, time] = (DAY_START, DAY_END), early_late: bool = False, lang: str = ENGLISH,
) -> discord.Embed:
    names = _names(lang, places, markdown=True)
    window = hours_text(hours)
    if not slots:
        advice = (t(lang, "Try a shorter meeting, fewer cities or wider `hours`.") if early_late else
                  t(lang, "Try a shorter meeting, fewer cities, wider `hours`, or `allow_early_late: True` "
                          "(up to 2 hours before or after the working day)."))
        text = (t(lang, "There is no {minutes}-minute slot in the next {days} days when {names} are all "
                        "between "
                        "{window} (give or take 2 hours) on one of their working days.",
                  minutes=minutes, days=days, names=names, window=window) if early_late else
                t(lang, "There is no {minutes}-minute slot in the next {days} days when {names} are all "
                        "between "
                        "{window} on one of their working days.",
                  minutes=minutes, days=days, names=names, window=window))
        return make_embed(t(lang, "No common working time"), f"{text} {advice}", colour=COLOUR_WARN)
    lines = []
    for i, s in enumerate(slots, start=1):
        local = " · ".join(
            f"{format_local(s.start, tz, lang=lang)} {md_line(label, 40)}" for label, tz in places
        )
        span = ""
        if s.window_end > s.window_start:
            start, end = discord_ts(s.window_start, "t"), discord_ts(s.window_end, "t")
            span = "\n  " + t(lang, "any start from {start} to {end} works", start=start, end=end)
        early = " " + t(lang, "(early or late for someone)") if s.margin_min < 0 else ""
        lines.append(f"**{i}.** {discord_ts(s.start, 'F')}{early}\n  {local}{span}")
    footer = t(lang, "{minutes} min · working hours {window} on each city's working days (its country's "
                     "weekend) · next {days} days", minutes=minutes, window=window, days=days)
    if early_late:
        footer += " · " + t(lang, "early/late allowed (2 h either side)")
    return make_embed(t(lang, "Best times for {names}", names=clip(names, 200)), "\n".join(lines)[:4000],
                      footer=footer)


# -- the findtime picture and poll (plain text: image labels, alt text, poll answers) ------------------
def findtime_picture_title(places: Sequence[tuple[str, str]], *, lang: str = ENGLISH) -> str:
    return t(lang, "Best times for {names}", names=_names(lang, places, markdown=False))


def findtime_picture_subtitle(hours: tuple[time, time], days: int, shown_days: int, *,
                              lang: str = ENGLISH) -> str:
    if days > shown_days:
        return t(lang, "Columns: half hours in UTC (first {shown} of {days} days shown; the list has every "
                       "slot) "
                       "· shading: each city's local time, working hours {window} on its working days",
                 shown=shown_days, days=days, window=hours_text(hours))
    return t(lang, "Columns: half hours in UTC · shading: each city's local time, working hours {window} on "
                   "its working days", window=hours_text(hours))


def findtime_legend(*, lang: str = ENGLISH) -> tuple[str, ...]:
    """The picture's legend in `lang`: working hours, early/late, night, weekend, the outlined best slots."""
    return tuple(t(lang, text) for text in LEGEND)


def findtime_row_label(label: str, zone: str) -> str:
    name, city = one_line(label, 40), zone_label(zone)
    return name if name == city else f"{name} ({city})"


def slot_text(start: datetime, end: datetime, *, lang: str = ENGLISH) -> str:
    """A slot as plain text in UTC (poll answers cannot show Discord timestamps): at most 55 characters."""
    day = weekday_name(lang, start.weekday(), "abbreviated")
    month = month_name(lang, start.month, "abbreviated")
    return f"{day} {start:%d} {month} {start:%H:%M}–{end:%H:%M} UTC"


def findtime_alt(places: Sequence[tuple[str, str]], slots: Sequence[Slot], days: int,
                 hours: tuple[time, time], *, lang: str = ENGLISH) -> str:
    names = _names(lang, places, markdown=False)
    best = "; ".join(f"{i}. {slot_text(s.start, s.end, lang=lang)}" for i, s in enumerate(slots, start=1))
    grid = t(lang, "Grid of the next {days} days in UTC, one row per city ({names}), each half hour "
                   "shaded as "
                   "working hours ({window} local), early or late, night, or weekend.",
             days=days, names=names, window=hours_text(hours))
    tail = (t(lang, "Best slots, outlined and numbered: {best}.", best=best) if slots
            else t(lang, "No slot suits every city."))
    return f"{grid} {tail}"


POLL_ANSWER_MAX = 55
POLL_QUESTION_MAX = 300


def poll_question(places: Sequence[tuple[str, str]], *, lang: str = ENGLISH) -> str:
    return clip(t(lang, "When should we meet? ({names})", names=_names(lang, places, markdown=False)),
                POLL_QUESTION_MAX)


def poll_answers(slots: Sequence[Slot], *, lang: str = ENGLISH) -> list[str]:
    return [clip(f"{i}. {slot_text(s.start, s.end, lang=lang)}", POLL_ANSWER_MAX)
            for i, s in enumerate(slots, start=1)]


def poll_content(slots: Sequence[Slot], author_id: int, *, lang: str = ENGLISH) -> str:
    lines = [t(lang, "{member} asks when to meet; each option in your own time:",
               member=member_ref(author_id))]
    lines += [f"**{i}.** {discord_ts(s.start, 'F')} ({discord_ts(s.start, 'R')})"
              for i, s in enumerate(slots, start=1)]
    return "\n".join(lines)


def poll_posted(channel_id: int, hours: int, *, lang: str = ENGLISH) -> str:
    channel = f"<#{channel_id}>"
    return nt(lang, "Poll posted in {channel}, open for {n} hour.",
              "Poll posted in {channel}, open for {n} hours.",
              hours, channel=channel)

"""Pure renderers for the MOU tracker (embeds and message text within Discord's limits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import discord

from bot.embeds import (
    COLOUR,
    COLOUR_OK,
    COLOUR_WARN,
    chunk_lines,
    clip,
    make_embed,
    md,
    md_line,
    member_ref,
    one_line,
)
from bot.fanout import pack
from bot.i18n import ENGLISH, N_, format_list, format_number, month_name, nt, t
from cogs.mous import planning as P
from cogs.mous.ics import due_text
from cogs.mous.pictures import TimelineBar, TimelineData
from cogs.mous.service import (
    KIND_LABELS,
    AgreementDetail,
    Digest,
    DueItem,
    ListRow,
    ReminderContext,
    Timeline,
)

STATUS_ICON = {
    "draft": "📝", "negotiating": "💬", "signed": "✍️", "active": "🟢", "expiring": "🟠",
    "expired": "🔴", "renewed": "🔁", "terminated": "⛔",
}
# Statuses, kinds, signature modes and e-signature states are shown by their names, which are catalog ids
# (the command tree's choice names); the history's field names below are marked here.
FIELD_NAMES = {
    "title": N_("title"), "reason": N_("reason"), "text": N_("text"), "description": N_("description"),
    "city": N_("city"), "on": N_("on"), "term": N_("term"), "by": N_("by"), "status": N_("status"),
    "kind": N_("kind"), "expires": N_("expires"), "notice_days": N_("notice days"),
    "auto_renew": N_("auto renew"), "signed": N_("signed"), "effective": N_("effective"),
    "signature_mode": N_("signature mode"), "focus_areas": N_("focus areas"), "summary": N_("summary"),
    "links": N_("links"),
}


def field_name(lang: str, key: str) -> str:
    return t(lang, FIELD_NAMES[key]) if key in FIELD_NAMES else key.replace("_", " ")


def _short_date(lang: str, d: date) -> str:
    """15 Jan 2026 / 15 janv. 2026 / 15 ene 2026: for text drawn in a picture or its alt text (no
    Discord timestamps there)."""
    return f"{d.day:02d} {month_name(lang, d.month, 'abbreviated')} {d.year}"


def _stamp(d: date, zone: str, style: str = "D") -> str:
    """A Discord timestamp of a calendar day in the server's zone (each client shows it in its language)."""
    return f"<t:{P.date_ts(d, zone)}:{style}>"


def _mention(user_id: int) -> str:
    return f"<@{user_id}>"


def day(d: date | None, zone: str, *, relative: bool = True) -> str:
    if d is None:
        return "—"
    ts = P.date_ts(d, zone)
    return f"<t:{ts}:D>" + (f" (<t:{ts}:R>)" if relative else "")


def days_left(d: date, today: date, lang: str = ENGLISH) -> str:
    n = (d - today).days
    if n > 0:
        return nt(lang, "{n} day left", "{n} days left", n)
    if n == 0:
        return t(lang, "today")
    return nt(lang, "{n} day ago", "{n} days ago", -n)


def _kind_label(lang: str, kind: str) -> str:
    return t(lang, KIND_LABELS.get(kind, kind))


def detail_embed(d: AgreementDetail, lang: str = ENGLISH) -> discord.Embed:
    a = d.agreement
    z = d.zone
    lines = [t(lang, "{icon} **{status}** · {kind} · term {term}", icon=STATUS_ICON.get(a.status, ""),
               status=t(lang, a.status), kind=_kind_label(lang, a.kind), term=a.term).strip()]
    if d.dormant:
        lines.append(t(lang, "💤 **Dormant**: no activity logged for a long time. `/mou log` records one."))
    if a.status == "terminated" and a.terminated_reason:
        lines.append(t(lang, "Terminated: {reason}", reason=md(a.terminated_reason, 300)))
    if a.summary:
        lines.append("")
        lines.append(md(a.summary, 2000))
    party_lines = []
    for p in d.parties:
        line = f"{p.position}. {md_line(p.label, 80)}"
        if p.is_ours:
            line += " " + t(lang, "★ ours")
        if p.esign_status != "n/a":
            line += " · " + t(lang, "e-sign: {status}", status=t(lang, p.esign_status))
        party_lines.append(line)
    parties = "\n".join(party_lines)
    dates = [
        t(lang, "Signed: {day}", day=day(a.signed_on, z, relative=False)),
        t(lang, "Effective: {day}", day=day(a.effective_on, z, relative=False)),
    ]
    if a.expires_on is not None:
        dates.append(t(lang, "Expires: {day} · {left}", day=day(a.expires_on, z),
                       left=days_left(a.expires_on, d.today, lang)))
        if a.notice_days and a.notice_on is not None:
            dates.append(nt(lang, "Renewal notice by: {day} ({n} day before)",
                            "Renewal notice by: {day} ({n} days before)", a.notice_days,
                            day=day(a.notice_on, z)))
    else:
        dates.append(t(lang, "Expires: open-ended"))
    dates.append(t(lang, "Auto-renew: {yes_no} · Signature: {mode}",
                   yes_no=t(lang, "yes") if a.auto_renew else t(lang, "no"), mode=t(lang, a.signature_mode)))
    offsets = a.remind_offsets
    dates.append(
        t(lang, "Reminders: {offsets} days before expiry",
          offsets=format_list(lang, [format_number(lang, o) for o in offsets]))
        if offsets else t(lang, "Reminders: server default")
    )
    fields: list[tuple[str, str, bool]] = [
        (t(lang, "Parties"), parties or "—", False),
        (t(lang, "Dates"), "\n".join(dates), False),
        (t(lang, "Owners"), " ".join(f"<@{o}>" for o in d.owners) or "—", False),
    ]
    if a.focus_areas:
        fields.append((t(lang, "Focus areas"), md(a.focus_areas, 1000), False))
    if a.links:
        fields.append((t(lang, "Documents"), "\n".join(md_line(link, 200) for link in a.links), False))
    if d.milestones:
        ms = []
        for m in d.milestones[:12]:
            mark = "✅" if m.done else ("⚠️" if m.due_on < d.today else "◻️")
            extra = (" — " + t(lang, "done by {member}", member=_mention(m.done_by))
                     if m.done and m.done_by else "")
            ms.append(f"{mark} `#{m.id}` <t:{P.date_ts(m.due_on, z)}:D> {md_line(m.description, 120)}{extra}")
        if len(d.milestones) > 12:
            ms.append(t(lang, "… and {more} more", more=format_number(lang, len(d.milestones) - 12)))
        fields.append((t(lang, "Milestones"), "\n".join(ms), False))
    if d.activity:
        acts = [f"<t:{P.date_ts(x.happened_on, z)}:D> {md_line(x.text, 150)}" for x in d.activity]
        last = t(lang, "Last activity {when}", when=days_left(d.activity[0].happened_on, d.today, lang))
        fields.append((t(lang, "Recent activity"), "\n".join(acts) + f"\n*{last}*", False))
    if len(d.terms) > 1:
        terms = []
        for x in d.terms[-5:]:
            line = t(lang, "Term {term}: {start} → {end}", term=x.term, start=x.starts_on or "?",
                     end=x.expires_on or t(lang, "open"))
            terms.append(line + (f" ({t(lang, x.outcome)})" if x.outcome else ""))
        fields.append((t(lang, "Terms"), "\n".join(terms), False))
    if d.history:
        hist = [f"<t:{int(h.at.timestamp())}:d> " + member_ref(h.actor_id, missing="Attaché")
                + f" {h.action.removeprefix('mou.')}" + _changes_summary(h.changes, lang) for h in d.history]
        fields.append((t(lang, "History"), "\n".join(hist), False))
    colour = COLOUR_WARN if a.status in ("expiring", "expired") or d.dormant else (
        COLOUR_OK if a.status in ("active", "renewed", "signed") else COLOUR)
    return make_embed(f"#{a.id} · {md_line(a.title, 150)}", "\n".join(lines), fields=fields, colour=colour,
                      footer=t(lang, "Owners and moderators can edit · /mou update, /mou renew, /mou log"))


def _changes_summary(ch: dict[str, object], lang: str = ENGLISH) -> str:
    parts = []
    for k, v in list(ch.items())[:3]:
        if isinstance(v, dict) and "to" in v:
            parts.append(f"{field_name(lang, k)} → {md_line(str(v['to']), 40)}")
        elif k in ("title", "reason", "text", "description", "city", "on", "owner", "term", "by"):
            parts.append(f"{field_name(lang, k)}: {md_line(str(v), 40)}" if k != "owner" else f"<@{v}>")
    return (": " + ", ".join(parts)) if parts else ""


def list_pages(
    rows: Sequence[ListRow], total: int, today: date, zone: str, title: str, lang: str = ENGLISH
) -> list[discord.Embed]:
    lines = []
    for r in rows:
        nxt = (
            " · " + t(lang, "next {day} ({left})", day=_stamp(r.next_on, zone),
                      left=days_left(r.next_on, today, lang))
            if r.next_on else ""
        )
        exp = (" · " + t(lang, "expires {day}", day=_stamp(r.expires_on, zone))
               if r.expires_on else "")
        lines.append(f"{STATUS_ICON.get(r.status, '')} `#{r.id}` **{md_line(r.title, 80)}** — "
                     f"{md_line(r.parties, 80)} · {t(lang, r.status)}{exp}{nxt}")
    if total > len(rows):
        footer = nt(lang, "{n} agreement; showing the first {shown} — narrow with filters",
                    "{n} agreements; showing the first {shown} — narrow with filters", total,
                    shown=format_number(lang, len(rows)))
    else:
        footer = nt(lang, "{n} agreement", "{n} agreements", total)
    if not lines:
        return [make_embed(title, t(lang, "No agreements match."), footer=footer)]
    return [make_embed(title, chunk, footer=footer) for chunk in chunk_lines(lines, limit=3900, per_page=12)]


def _due_line(i: DueItem, zone: str, today: date, lang: str = ENGLISH) -> str:
    return (f"<t:{P.date_ts(i.on, zone)}:D> ({days_left(i.on, today, lang)}) · `#{i.agreement_id}` "
            f"**{md_line(i.title, 70)}** — {md_line(due_text(i, lang), 120)}")


def upcoming_pages(items: Sequence[DueItem], days: int, today: date, zone: str,
                   total: int | None = None, lang: str = ENGLISH) -> list[discord.Embed]:
    title = nt(lang, "Due in the next {n} day", "Due in the next {n} days", days)
    if not items:
        return [make_embed(title, t(lang, "Nothing is due in this window."))]
    total = max(total or 0, len(items))
    if total > len(items):
        footer = nt(lang, "{n} item; showing the first {shown} — use a shorter window",
                    "{n} items; showing the first {shown} — use a shorter window", total,
                    shown=format_number(lang, len(items)))
    else:
        footer = nt(lang, "{n} item", "{n} items", total)
    lines = [_due_line(i, zone, today, lang) for i in items]
    return [make_embed(title, chunk, footer=footer) for chunk in chunk_lines(lines, limit=3900, per_page=15)]


DIGEST_SECTION_MAX = 15


def digest_embeds(dg: Digest, zone: str, dormant_months: int, lang: str = ENGLISH) -> list[discord.Embed]:
    """One embed per non-empty section, each at most DIGEST_SECTION_MAX lines (the rest counted)."""
    out: list[discord.Embed] = []

    def section(title: str, lines: list[str], colour: discord.Colour, total: int) -> None:
        if not lines:
            return
        shown = lines[:DIGEST_SECTION_MAX]
        more = max(total, len(lines)) - len(shown)
        text = "\n".join(shown) + (
            "\n" + t(lang, "… and {more} more: `/mou upcoming` or `/mou list`",
                     more=format_number(lang, more))
            if more else ""
        )
        out.append(make_embed(title, clip(text, 1400), colour=colour))

    n_exp, n_due, n_over, n_dorm = (max(c, len(x)) for c, x in zip(
        dg.counts, (dg.expiring, dg.milestones, dg.overdue, dg.dormant), strict=True))
    section(t(lang, "Expiring in the next 90 days ({count})", count=format_number(lang, n_exp)),
            [_due_line(i, zone, dg.today, lang) for i in dg.expiring], COLOUR_WARN, n_exp)
    section(t(lang, "Milestones due in the next 30 days ({count})", count=format_number(lang, n_due)),
            [_due_line(i, zone, dg.today, lang) for i in dg.milestones], COLOUR, n_due)
    section(t(lang, "Overdue milestones ({count})", count=format_number(lang, n_over)),
            [_due_line(i, zone, dg.today, lang) for i in dg.overdue], COLOUR_WARN, n_over)
    section(
        t(lang, "Dormant: no activity for {months}+ months ({count})",
          months=format_number(lang, dormant_months), count=format_number(lang, n_dorm)),
        [
            f"`#{aid}` **{md_line(title, 80)}** — "
            + (t(lang, "last activity {day}", day=_stamp(last, zone)) if last
               else t(lang, "last activity never logged"))
            for aid, title, last in dg.dormant
        ],
        COLOUR,
        n_dorm,
    )
    return out


DIGEST_HEADING = N_("📋 **Weekly agreements digest**")


def reminder_text(ctx: ReminderContext, *, mention: bool = True, lang: str = ENGLISH) -> str:
    a = ctx.agreement
    z = ctx.zone
    who = " ".join(f"<@{o}>" for o in ctx.owners) if mention else ""
    parties = " · ".join(md_line(p.city_name, 40) for p in ctx.parties[:6])
    head = f"**#{a.id} {md_line(a.title, 120)}** ({parties})"
    if ctx.what == "expiry":
        assert a.expires_on is not None
        body = nt(lang, "⏳ {head} expires {day} ({when}) — {n} day to go.",
                  "⏳ {head} expires {day} ({when}) — {n} days to go.", ctx.offset or 0, head=head,
                  day=_stamp(a.expires_on, z), when=_stamp(a.expires_on, z, "R"))
        if a.notice_on is not None and a.notice_days:
            body += " " + t(lang, "Renewal notice is due by {day}.", day=_stamp(a.notice_on, z))
        body += " " + t(lang, "Renew with `/mou renew {id}`.", id=a.id)
    elif ctx.what == "notice":
        assert a.expires_on is not None
        body = t(lang, "📮 Today is the renewal-notice deadline of {head}: it expires {day}.", head=head,
                 day=_stamp(a.expires_on, z))
        body += " " + (t(lang, "It renews automatically unless notice is given.") if a.auto_renew
                       else t(lang, "Decide now: `/mou renew {id}` or `/mou terminate {id}`.", id=a.id))
    else:
        assert ctx.milestone is not None
        body = t(lang, "📌 Milestone due today for {head}: {description}.", head=head,
                 description=md_line(ctx.milestone.description, 300))
        body += " " + t(lang, "Mark it with `/mou milestone done {id} {milestone}`.", id=a.id,
                        milestone=ctx.milestone.id)
    return clip(f"{who} {body}".strip(), 2000)


# -- the timeline picture (plain text: drawn in an image, or an attachment's alt text) ------------------
TIMELINE_LEGEND = (
    N_("Renewal-notice period"), N_("Notice deadline"), N_("Expiry"), N_("Milestone"), N_("today")
)


def timeline_data(tl: Timeline, lang: str = ENGLISH) -> TimelineData:
    bars = tuple(TimelineBar(f"#{r.agreement_id} {one_line(r.title, 80)}", r.expires_on, r.notice_on,
                             r.milestones) for r in tl.rows)
    more = tl.total - len(tl.rows)
    events: list[str] = []
    for r in tl.rows[:12]:
        parts = []
        if r.notice_on is not None and tl.today <= r.notice_on <= tl.until:
            parts.append(t(lang, "notice deadline {date}", date=_short_date(lang, r.notice_on)))
        if r.expires_on is not None and tl.today <= r.expires_on <= tl.until:
            parts.append(t(lang, "expires {date}", date=_short_date(lang, r.expires_on)))
        if r.milestones:
            parts.append(nt(lang, "{n} milestone (first {date})", "{n} milestones (first {date})",
                            len(r.milestones), date=_short_date(lang, min(r.milestones))))
        what = ", ".join(parts) or t(lang, "notice period running")
        events.append(f"#{r.agreement_id} {one_line(r.title, 60)}: {what}")
    alt = nt(lang, "Timeline from {start} (today) to {end}: {n} agreement with a deadline.",
             "Timeline from {start} (today) to {end}: {n} agreements with a deadline.", tl.total,
             start=_short_date(lang, tl.today), end=_short_date(lang, tl.until))
    if events:
        alt += " " + "; ".join(events) + "."
    legend = tuple(t(lang, x) for x in TIMELINE_LEGEND)
    return TimelineData(
        title=t(lang, "Agreements: what falls due"),
        subtitle=nt(lang, "{start} to {end} · {n} agreement with a deadline or an open milestone",
                    "{start} to {end} · {n} agreements with a deadline or an open milestone", tl.total,
                    start=_short_date(lang, tl.today), end=_short_date(lang, tl.until)),
        today=tl.today, until=tl.until, bars=bars,
        more=nt(lang, "+ {n} more agreement: see the list", "+ {n} more agreements: see the list", more)
        if more > 0 else "",
        legend=(legend[0], legend[1], legend[2], legend[3], legend[4]), alt=alt, lang=lang,
    )


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    """One reminder message: the indices of the reminders it carries, its text, and the members it may
    ping (a channel post pings exactly the owners of its reminders; a DM pings no one)."""

    indices: tuple[int, ...]
    content: str
    embeds: tuple[discord.Embed, ...]
    owners: tuple[int, ...]


def reminder_line(ctx: ReminderContext, *, name_owners: bool, lang: str = ENGLISH) -> str:
    """One reminder in a combined message: its text, then the members it is for (only its own)."""
    text = reminder_text(ctx, mention=False, lang=lang)
    if name_owners and ctx.owners:
        text += " · " + " ".join(f"<@{o}>" for o in ctx.owners)
    return clip(text, 1500)


def reminder_messages(
    ctxs: Sequence[ReminderContext], *, channel: bool, lang: str = ENGLISH
) -> list[ReminderMessage]:
    """The reminders due together in one channel (channel=True) or one owner's DMs, in as few messages as
    fit Discord's limits (bot/fanout.pack). A reminder alone is one plain message, as it always was."""

    def single(i: int) -> ReminderMessage:
        c = ctxs[i]
        return ReminderMessage((i,), reminder_text(c, mention=channel, lang=lang), (),
                               c.owners if channel else ())

    if len(ctxs) == 1:
        return [single(0)]
    packs = pack([reminder_line(c, name_owners=channel, lang=lang) for c in ctxs],
                 [c.owners for c in ctxs] if channel else None)
    out: list[ReminderMessage] = []
    for p in packs:
        if len(p.indices) == 1:
            out.append(single(p.indices[0]))
            continue
        content = nt(lang, "⏰ **{n} agreement reminder**", "⏰ **{n} agreement reminders**", len(p.indices))
        if channel and p.owners:
            content += " · " + " ".join(f"<@{o}>" for o in p.owners)
        embeds = tuple(discord.Embed(description=b, colour=COLOUR_WARN) for b in p.blocks)
        out.append(ReminderMessage(p.indices, clip(content, 2000), embeds, p.owners if channel else ()))
    return out

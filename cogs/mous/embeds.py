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
from cogs.mous import planning as P
from cogs.mous.pictures import TimelineBar, TimelineData
from cogs.mous.service import (
    KIND_LABELS,
    AgreementDetail,
    Digest,
    DueItem,
    ListRow,
    ReminderContext,
    Timeline,
    describe_due,
)

STATUS_ICON = {
    "draft": "📝", "negotiating": "💬", "signed": "✍️", "active": "🟢", "expiring": "🟠",
    "expired": "🔴", "renewed": "🔁", "terminated": "⛔",
}


def day(d: date | None, zone: str, *, relative: bool = True) -> str:
    if d is None:
        return "—"
    ts = P.date_ts(d, zone)
    return f"<t:{ts}:D>" + (f" (<t:{ts}:R>)" if relative else "")


def days_left(d: date, today: date) -> str:
    n = (d - today).days
    if n > 1:
        return f"{n} days left"
    if n == 1:
        return "1 day left"
    if n == 0:
        return "today"
    return f"{-n} day{'s' if n != -1 else ''} ago"


def detail_embed(d: AgreementDetail) -> discord.Embed:
    a = d.agreement
    z = d.zone
    lines = [
        f"{STATUS_ICON.get(a.status, '')} **{a.status}** · {KIND_LABELS.get(a.kind, a.kind)} · term {a.term}"
    ]
    if d.dormant:
        lines.append("💤 **Dormant**: no activity logged for a long time. `/mou log` records one.")
    if a.status == "terminated" and a.terminated_reason:
        lines.append(f"Terminated: {md(a.terminated_reason, 300)}")
    if a.summary:
        lines.append("")
        lines.append(md(a.summary, 2000))
    parties = "\n".join(
        f"{p.position}. {md_line(p.label, 80)}" + (" ★ ours" if p.is_ours else "")
        + (f" · e-sign: {p.esign_status}" if p.esign_status != "n/a" else "")
        for p in d.parties
    )
    dates = [
        f"Signed: {day(a.signed_on, z, relative=False)}",
        f"Effective: {day(a.effective_on, z, relative=False)}",
    ]
    if a.expires_on is not None:
        dates.append(f"Expires: {day(a.expires_on, z)} · {days_left(a.expires_on, d.today)}")
        if a.notice_days and a.notice_on is not None:
            dates.append(f"Renewal notice by: {day(a.notice_on, z)} ({a.notice_days} days before)")
    else:
        dates.append("Expires: open-ended")
    dates.append(f"Auto-renew: {'yes' if a.auto_renew else 'no'} · Signature: {a.signature_mode}")
    offsets = a.remind_offsets
    dates.append(
        "Reminders: "
        + (", ".join(f"{o}d" for o in offsets) + " before expiry" if offsets else "server default")
    )
    fields: list[tuple[str, str, bool]] = [
        ("Parties", parties or "—", False),
        ("Dates", "\n".join(dates), False),
        ("Owners", " ".join(f"<@{o}>" for o in d.owners) or "—", False),
    ]
    if a.focus_areas:
        fields.append(("Focus areas", md(a.focus_areas, 1000), False))
    if a.links:
        fields.append(("Documents", "\n".join(md_line(link, 200) for link in a.links), False))
    if d.milestones:
        ms = []
        for m in d.milestones[:12]:
            mark = "✅" if m.done else ("⚠️" if m.due_on < d.today else "◻️")
            extra = f" — done by <@{m.done_by}>" if m.done and m.done_by else ""
            ms.append(f"{mark} `#{m.id}` <t:{P.date_ts(m.due_on, z)}:D> {md_line(m.description, 120)}{extra}")
        if len(d.milestones) > 12:
            ms.append(f"… and {len(d.milestones) - 12} more")
        fields.append(("Milestones", "\n".join(ms), False))
    if d.activity:
        acts = [f"<t:{P.date_ts(x.happened_on, z)}:D> {md_line(x.text, 150)}" for x in d.activity]
        last = f"Last activity {days_left(d.activity[0].happened_on, d.today)}"
        fields.append(("Recent activity", "\n".join(acts) + f"\n*{last}*", False))
    if len(d.terms) > 1:
        terms = [
            f"Term {t.term}: {t.starts_on or '?'} → {t.expires_on or 'open'}"
            + (f" ({t.outcome})" if t.outcome else "")
            for t in d.terms[-5:]
        ]
        fields.append(("Terms", "\n".join(terms), False))
    if d.history:
        hist = [f"<t:{int(h.at.timestamp())}:d> " + member_ref(h.actor_id, missing="Attaché")
                + f" {h.action.removeprefix('mou.')}" + _changes_summary(h.changes) for h in d.history]
        fields.append(("History", "\n".join(hist), False))
    colour = COLOUR_WARN if a.status in ("expiring", "expired") or d.dormant else (
        COLOUR_OK if a.status in ("active", "renewed", "signed") else COLOUR)
    return make_embed(f"#{a.id} · {md_line(a.title, 150)}", "\n".join(lines), fields=fields, colour=colour,
                      footer="Owners and moderators can edit · /mou update, /mou renew, /mou log")


def _changes_summary(ch: dict[str, object]) -> str:
    parts = []
    for k, v in list(ch.items())[:3]:
        if isinstance(v, dict) and "to" in v:
            parts.append(f"{k} → {md_line(str(v['to']), 40)}")
        elif k in ("title", "reason", "text", "description", "city", "on", "owner", "term", "by"):
            parts.append(f"{k}: {md_line(str(v), 40)}" if k != "owner" else f"<@{v}>")
    return (": " + ", ".join(parts)) if parts else ""


def list_pages(
    rows: Sequence[ListRow], total: int, today: date, zone: str, title: str
) -> list[discord.Embed]:
    lines = []
    for r in rows:
        nxt = (
            f" · next <t:{P.date_ts(r.next_on, zone)}:D> ({days_left(r.next_on, today)})" if r.next_on else ""
        )
        exp = f" · expires <t:{P.date_ts(r.expires_on, zone)}:D>" if r.expires_on else ""
        lines.append(f"{STATUS_ICON.get(r.status, '')} `#{r.id}` **{md_line(r.title, 80)}** — "
                     f"{md_line(r.parties, 80)} · {r.status}{exp}{nxt}")
    footer = f"{total} agreement{'s' if total != 1 else ''}"
    if total > len(rows):
        footer += f"; showing the first {len(rows)} — narrow with filters"
    if not lines:
        return [make_embed(title, "No agreements match.", footer=footer)]
    return [make_embed(title, chunk, footer=footer) for chunk in chunk_lines(lines, limit=3900, per_page=12)]


def _due_line(i: DueItem, zone: str, today: date) -> str:
    return (f"<t:{P.date_ts(i.on, zone)}:D> ({days_left(i.on, today)}) · `#{i.agreement_id}` "
            f"**{md_line(i.title, 70)}** — {md_line(describe_due(i), 120)}")


def upcoming_pages(items: Sequence[DueItem], days: int, today: date, zone: str,
                   total: int | None = None) -> list[discord.Embed]:
    title = f"Due in the next {days} day{'s' if days != 1 else ''}"
    if not items:
        return [make_embed(title, "Nothing is due in this window.")]
    total = max(total or 0, len(items))
    footer = f"{total} item{'s' if total != 1 else ''}"
    if total > len(items):
        footer += f"; showing the first {len(items)} — use a shorter window"
    lines = [_due_line(i, zone, today) for i in items]
    return [make_embed(title, chunk, footer=footer) for chunk in chunk_lines(lines, limit=3900, per_page=15)]


DIGEST_SECTION_MAX = 15


def digest_embeds(dg: Digest, zone: str, dormant_months: int) -> list[discord.Embed]:
    """One embed per non-empty section, each at most DIGEST_SECTION_MAX lines (the rest counted)."""
    out: list[discord.Embed] = []

    def section(title: str, lines: list[str], colour: discord.Colour, total: int) -> None:
        if not lines:
            return
        shown = lines[:DIGEST_SECTION_MAX]
        more = max(total, len(lines)) - len(shown)
        text = "\n".join(shown) + (f"\n… and {more} more: `/mou upcoming` or `/mou list`" if more else "")
        out.append(make_embed(title, clip(text, 1400), colour=colour))

    n_exp, n_due, n_over, n_dorm = (max(c, len(x)) for c, x in zip(
        dg.counts, (dg.expiring, dg.milestones, dg.overdue, dg.dormant), strict=True))
    section(f"Expiring in the next 90 days ({n_exp})",
            [_due_line(i, zone, dg.today) for i in dg.expiring], COLOUR_WARN, n_exp)
    section(f"Milestones due in the next 30 days ({n_due})",
            [_due_line(i, zone, dg.today) for i in dg.milestones], COLOUR, n_due)
    section(f"Overdue milestones ({n_over})",
            [_due_line(i, zone, dg.today) for i in dg.overdue], COLOUR_WARN, n_over)
    section(
        f"Dormant: no activity for {dormant_months}+ months ({n_dorm})",
        [
            f"`#{aid}` **{md_line(title, 80)}** — last activity "
            + (f"<t:{P.date_ts(last, zone)}:D>" if last else "never logged")
            for aid, title, last in dg.dormant
        ],
        COLOUR,
        n_dorm,
    )
    return out


def reminder_text(ctx: ReminderContext, *, mention: bool = True) -> str:
    a = ctx.agreement
    z = ctx.zone
    who = " ".join(f"<@{o}>" for o in ctx.owners) if mention else ""
    parties = " · ".join(md_line(p.city_name, 40) for p in ctx.parties[:6])
    head = f"**#{a.id} {md_line(a.title, 120)}** ({parties})"
    if ctx.what == "expiry":
        assert a.expires_on is not None
        body = (f"⏳ {head} expires <t:{P.date_ts(a.expires_on, z)}:D> (<t:{P.date_ts(a.expires_on, z)}:R>)"
                f" — {ctx.offset} days to go.")
        if a.notice_on is not None and a.notice_days:
            body += f" Renewal notice is due by <t:{P.date_ts(a.notice_on, z)}:D>."
        body += f" Renew with `/mou renew {a.id}`."
    elif ctx.what == "notice":
        assert a.expires_on is not None
        body = (f"📮 Today is the renewal-notice deadline of {head}: it expires "
                f"<t:{P.date_ts(a.expires_on, z)}:D>. "
                + ("It renews automatically unless notice is given." if a.auto_renew
                   else f"Decide now: `/mou renew {a.id}` or `/mou terminate {a.id}`."))
    else:
        assert ctx.milestone is not None
        body = (f"📌 Milestone due today for {head}: {md_line(ctx.milestone.description, 300)}. "
                f"Mark it with `/mou milestone done {a.id} {ctx.milestone.id}`.")
    return clip(f"{who} {body}".strip(), 2000)


# -- the timeline picture (plain text: drawn in an image, or an attachment's alt text) ------------------
TIMELINE_LEGEND = ("Renewal-notice period", "Notice deadline", "Expiry", "Milestone", "today")


def timeline_data(tl: Timeline) -> TimelineData:
    bars = tuple(TimelineBar(f"#{r.agreement_id} {one_line(r.title, 80)}", r.expires_on, r.notice_on,
                             r.milestones) for r in tl.rows)
    more = tl.total - len(tl.rows)
    events: list[str] = []
    for r in tl.rows[:12]:
        parts = []
        if r.notice_on is not None and tl.today <= r.notice_on <= tl.until:
            parts.append(f"notice deadline {r.notice_on:%d %b %Y}")
        if r.expires_on is not None and tl.today <= r.expires_on <= tl.until:
            parts.append(f"expires {r.expires_on:%d %b %Y}")
        if r.milestones:
            parts.append(f"{len(r.milestones)} milestone{'s' if len(r.milestones) != 1 else ''} "
                         f"(first {min(r.milestones):%d %b %Y})")
        what = ", ".join(parts) or "notice period running"
        events.append(f"#{r.agreement_id} {one_line(r.title, 60)}: {what}")
    alt = (f"Timeline from {tl.today:%d %b %Y} (today) to {tl.until:%d %b %Y}: {tl.total} agreement"
           f"{'s' if tl.total != 1 else ''} with a deadline. " + ("; ".join(events) + "." if events else ""))
    return TimelineData(
        title="Agreements: what falls due",
        subtitle=f"{tl.today:%d %b %Y} to {tl.until:%d %b %Y} · {tl.total} agreement"
                 f"{'s' if tl.total != 1 else ''} with a deadline or an open milestone",
        today=tl.today, until=tl.until, bars=bars,
        more=f"+ {more} more agreement{'s' if more != 1 else ''}: see the list" if more > 0 else "",
        legend=TIMELINE_LEGEND, alt=alt,
    )


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    """One reminder message: the indices of the reminders it carries, its text, and the members it may
    ping (a channel post pings exactly the owners of its reminders; a DM pings no one)."""

    indices: tuple[int, ...]
    content: str
    embeds: tuple[discord.Embed, ...]
    owners: tuple[int, ...]


def reminder_line(ctx: ReminderContext, *, name_owners: bool) -> str:
    """One reminder in a combined message: its text, then the members it is for (only its own)."""
    text = reminder_text(ctx, mention=False)
    if name_owners and ctx.owners:
        text += " · " + " ".join(f"<@{o}>" for o in ctx.owners)
    return clip(text, 1500)


def reminder_messages(ctxs: Sequence[ReminderContext], *, channel: bool) -> list[ReminderMessage]:
    """The reminders due together in one channel (channel=True) or one owner's DMs, in as few messages as
    fit Discord's limits (bot/fanout.pack). A reminder alone is one plain message, as it always was."""

    def single(i: int) -> ReminderMessage:
        c = ctxs[i]
        return ReminderMessage((i,), reminder_text(c, mention=channel), (), c.owners if channel else ())

    if len(ctxs) == 1:
        return [single(0)]
    packs = pack([reminder_line(c, name_owners=channel) for c in ctxs],
                 [c.owners for c in ctxs] if channel else None)
    out: list[ReminderMessage] = []
    for p in packs:
        if len(p.indices) == 1:
            out.append(single(p.indices[0]))
            continue
        content = f"⏰ **{len(p.indices)} agreement reminders**"
        if channel and p.owners:
            content += " · " + " ".join(f"<@{o}>" for o in p.owners)
        embeds = tuple(discord.Embed(description=b, colour=COLOUR_WARN) for b in p.blocks)
        out.append(ReminderMessage(p.indices, clip(content, 2000), embeds, p.owners if channel else ()))
    return out

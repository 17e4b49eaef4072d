"""Pure render functions for the best-practice library: every embed fits Discord's limits.

Every function takes the reader's language (`lang`): a reply's is the member's, a post's (review card,
announcement) the server's, a DM's the recipient's. Member text (titles, cities, reasons) shows as typed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import discord

from bot.embeds import (
    COLOUR,
    COLOUR_ERROR,
    COLOUR_OK,
    COLOUR_WARN,
    FIELD_VALUE_MAX,
    chunk_lines,
    clip,
    make_embed,
    md,
    md_line,
    member_ref,
    one_line,
)

__all__ = ["md", "md_line"]  # the kernel's escape (bot.embeds), re-exported for the practice views
from bot.i18n import ENGLISH, N_, Msg, format_number, language_name, nt, t
from bot.interactions import fill_parts
from cogs.practices.pictures import ChartData, MapData
from cogs.practices.service import (
    DUPLICATE_REASON,
    PAGE_SIZE,
    STATUS_LABELS,
    Counts,
    LibraryMap,
    Practice,
    SearchResult,
    Stats,
    decision_phrase,
)
from cogs.practices.stemming import LANGUAGE_NAMES

STATUS_COLOURS = {
    "pending": COLOUR_WARN, "changes_requested": COLOUR_WARN, "approved": COLOUR_OK,
    "rejected": COLOUR_ERROR, "archived": discord.Colour.dark_grey(),
}


def ts(dt: datetime | None, style: str = "R") -> str:
    return f"<t:{int(dt.timestamp())}:{style}>" if dt else "—"


_MARK = re.compile("([\x02\x03])")


def highlight(snippet: str, limit: int = 300) -> str:
    """An FTS5 snippet with \\x02…\\x03 markers → escaped text where only the match is bold."""
    snippet = " ".join(snippet.split())
    parts: list[str] = []
    bold = False
    for piece in _MARK.split(snippet):
        if piece == "\x02":
            if not bold:
                parts.append("**")
                bold = True
        elif piece == "\x03":
            if bold:
                parts.append("**")
                bold = False
        elif piece:
            parts.append(md(piece))
    if bold:
        parts.append("**")
    out = "".join(parts)
    out = out.replace("****", "")
    if len(out) > limit:  # cut on plain text only: never leave a ** open
        plain = md(snippet.replace("\x02", "").replace("\x03", ""))
        return clip(plain, limit)
    return out


def city_line(p: Practice) -> str:
    return md_line(p.city_label, 120)


def contact_line(p: Practice, lang: str = ENGLISH) -> str:
    if p.contact_user_id:
        return f"<@{p.contact_user_id}>" + (f" ({md_line(p.contact_text, 150)})" if p.contact_text else "")
    if p.contact_text:
        return md_line(p.contact_text, 200)
    return t(lang, "the submitter, {member}", member=member_ref(p.submitter_id))


def status_label(status: str, lang: str = ENGLISH) -> str:
    return t(lang, STATUS_LABELS.get(status, status))


def topics_line(topics: Sequence[str], lang: str = ENGLISH) -> str:
    """Topics by their names in `lang` (the same names as the command's topic choices)."""
    return ", ".join(t(lang, topic) for topic in topics)


# The regions of the library's statistics (records.region_of), marked for the catalogs.
REGION_NAMES = (N_("Africa"), N_("Asia"), N_("Europe"), N_("North America"), N_("South America"),
                N_("Oceania"), N_("Antarctica"), N_("Unknown"))


def practice_embed(p: Practice, counts: Counts | None = None, *, heading: str | None = None,
                   lang: str = ENGLISH) -> discord.Embed:
    """The full practice (show, announcement, review card); `heading` is a catalog id ("New practice")."""
    fields: list[tuple[str, str, bool]] = [
        (t(lang, "City"), city_line(p), True),
        (t(lang, "Topics"), topics_line(p.topics, lang), True),
    ]
    if p.sdgs:
        fields.append((t(lang, "SDGs"), ", ".join(str(s) for s in p.sdgs), True))
    if p.network_name:
        fields.append((t(lang, "Network"), md_line(p.network_name, 200), True))
    if p.year_started:
        fields.append((t(lang, "Started"), str(p.year_started), True))
    if p.language:
        fields.append((t(lang, "Language"), md_line(_language_label(p.language, lang), 40), True))
    fields.append((t(lang, "Contact"), contact_line(p, lang), True))
    for name, value in ((N_("Approach"), p.approach), (N_("Results and evidence"), p.results),
                        (N_("Lessons for other cities"), p.lessons)):
        if value:
            fields.append((t(lang, name), md(value, FIELD_VALUE_MAX), False))
    if p.links:
        fields.append((t(lang, "Links"), "\n".join(md_line(u, 200) for u in p.links), False))
    if counts is not None:
        useful = nt(lang, "👍 {n} found it useful", "👍 {n} found it useful", counts.useful)
        adopted = nt(lang, "🏙️ adopted in {n} city", "🏙️ adopted in {n} cities", counts.adopted)
        line = f"{useful} · {adopted}"
        if counts.adopting_cities:
            line += ": " + md_line(", ".join(counts.adopting_cities), 600)
        fields.append((t(lang, "Community"), line, False))
    if p.status == "rejected" and p.duplicate_of:
        footer = t(lang, "Practice #{id} · {status} · duplicate of #{original}", id=p.id,
                   status=status_label(p.status, lang), original=p.duplicate_of)
    else:
        footer = t(lang, "Practice #{id} · {status}", id=p.id, status=status_label(p.status, lang))
    title = md_line(p.title, 240)
    return make_embed(
        t(lang, "{heading}: {title}", heading=t(lang, heading), title=title) if heading else title,
        md(p.summary, 1500),
        fields=fields,
        footer=footer,
        colour=STATUS_COLOURS.get(p.status, COLOUR),
        timestamp=p.approved_at or p.created_at,
    )


def review_card(p: Practice, *, similar: Sequence[Practice] = (), resubmitted: bool = False,
                edited: bool = False, lang: str = ENGLISH) -> discord.Embed:
    heading = N_("Resubmitted") if resubmitted else N_("Edited, to review") if edited else N_("To review")
    e = practice_embed(p, heading=heading, lang=lang)
    submitted = t(lang, "Submitted by {member} {when}", member=member_ref(p.submitter_id),
                  when=ts(p.created_at))
    e.description = clip(submitted + "\n\n" + (e.description or ""), 1800)
    if similar:
        e.add_field(name=t(lang, "Possible duplicates"),
                    value=clip("\n".join(f"#{s.id} {md_line(s.title, 120)} ({status_label(s.status, lang)})"
                                         for s in similar), FIELD_VALUE_MAX), inline=False)
    return e


def describe_decision(p: Practice, lang: str = ENGLISH) -> str:
    """'approved by <@1> <t:…:R>' — the latest decision on a practice."""
    template, parts = decision_phrase(p)
    return fill_parts(t(lang, template), parts, lang)


def shown_reason(p: Practice, lang: str = ENGLISH) -> str:
    """The decision's reason as the reader reads it: the duplicate reason the library stores in English
    ("Duplicate of #3: title") in `lang`, a moderator's own words as they wrote them."""
    reason = p.reason or ""
    head = str(Msg(DUPLICATE_REASON, id=p.duplicate_of, title=""))  # the English the library stored
    if p.duplicate_of and reason.startswith(head):
        return t(lang, DUPLICATE_REASON, id=p.duplicate_of, title=reason.removeprefix(head))
    return reason


def decided_card(p: Practice, lang: str = ENGLISH) -> discord.Embed:
    """The review card after a decision: who decided what, when, and why."""
    label = status_label(p.status, lang)
    e = practice_embed(p, heading=label[:1].upper() + label[1:], lang=lang)
    # not .capitalize(): it would lower-case <t:…:R> into an invalid <t:…:r>
    phrase = describe_decision(p, lang)
    text = f"**{phrase[:1].upper()}{phrase[1:]}**"
    if p.reason:
        text += "\n" + t(lang, "Reason: {reason}", reason=md(shown_reason(p, lang), 1000))
    e.description = clip(text + "\n\n" + (e.description or ""), 1800)
    return e


# What the submitter is told of a decision: (in a named server, without one), one whole message per case.
_DECISION_MESSAGES = {
    "approved": (
        N_("✅ Your practice #{id} “{title}” on **{server}** was approved and is now in the library."),
        N_("✅ Your practice #{id} “{title}” was approved and is now in the library."),
    ),
    "changes_requested": (
        N_("✏️ A moderator asked for changes to your practice #{id} “{title}” on **{server}**. "
           "Use `/practice edit id:{id}` to update it; it goes back to review when you save."),
        N_("✏️ A moderator asked for changes to your practice #{id} “{title}”. "
           "Use `/practice edit id:{id}` to update it; it goes back to review when you save."),
    ),
    "duplicate": (
        N_("Your practice #{id} “{title}” on **{server}** was closed as a duplicate of #{original}."),
        N_("Your practice #{id} “{title}” was closed as a duplicate of #{original}."),
    ),
    "rejected": (
        N_("Your practice #{id} “{title}” on **{server}** was not accepted."),
        N_("Your practice #{id} “{title}” was not accepted."),
    ),
    "other": (
        N_("Your practice #{id} “{title}” on **{server}** is now {status}."),
        N_("Your practice #{id} “{title}” is now {status}."),
    ),
}


def decision_message(p: Practice, guild_name: str | None, lang: str = ENGLISH) -> str:
    case = ("duplicate" if p.status == "rejected" and p.duplicate_of
            else p.status if p.status in _DECISION_MESSAGES else "other")
    named, unnamed = _DECISION_MESSAGES[case]
    fmt = {"id": p.id, "title": md_line(p.title, 150), "original": p.duplicate_of,
           "status": status_label(p.status, lang)}
    head = t(lang, named, server=md_line(guild_name, 100), **fmt) if guild_name else t(lang, unnamed, **fmt)
    if p.reason and not p.duplicate_of:
        head += "\n" + t(lang, "Reason: {reason}", reason=md(p.reason, 1000))
    return clip(head, 1900)


def _language_label(code: str, lang: str = ENGLISH) -> str:
    """A practice's language as members read it: the catalog languages by name (in the reader's language),
    others as typed."""
    if code not in LANGUAGE_NAMES:
        return code
    name = language_name(code, lang)
    return name[:1].upper() + name[1:]


def hit_lines(
    result: SearchResult, start: int = 0, stop: int | None = None, lang: str = ENGLISH
) -> list[str]:
    out = []
    for h in result.hits[start:stop]:
        where = md_line(f"{h.city_name}, {h.country}" if h.country else h.city_name, 80)
        snippet = highlight(h.snippet, 300) if h.snippet else ""
        out.append(
            f"**#{h.id} · {md_line(h.title, 150)}**\n📍 {where} · {topics_line(h.topics, lang)} · "
            f"{md_line(_language_label(h.language, lang), 40)}"
            + (f"\n> {snippet}" if snippet else "")
        )
    return out


def _filter_value(option: str, value: str, lang: str) -> str:
    """A search filter's value as the reader reads it: a topic's name, a language's name."""
    if option == "topic":
        return t(lang, value)
    if option == "language":
        return _language_label(value, lang)
    return value


def search_page_count(result: SearchResult) -> int:
    return -(-len(result.hits) // PAGE_SIZE)


def search_page(result: SearchResult, query: str | None, index: int, lang: str = ENGLISH) -> discord.Embed:
    """Page `index` (five hits) of the results; pages are rendered when first shown."""
    filters = ", ".join(f"{k}: {md_line(_filter_value(k, v, lang), 60)}" for k, v in result.filters)
    head = ""
    if result.corrected is not None:
        head = t(lang, "No results for “{query}”. Showing results for **{corrected}**.",
                 query=md_line(query, 100), corrected=md_line(" ".join(result.corrected), 100)) + "\n\n"
    title = (t(lang, "Practices matching “{query}”", query=md_line(query, 80)) if result.terms
             else t(lang, "Approved practices"))
    n = len(result.hits)
    if result.more or not result.complete:  # not complete: only the first page is ranked yet
        footer_bits = [t(lang, "{n}+ results", n=format_number(lang, n))]
    else:
        footer_bits = [nt(lang, "{n} result", "{n} results", n)]
    if filters:
        footer_bits.append(t(lang, "filters: {filters}", filters=filters))
    if result.more:
        footer_bits.append(t(lang, "refine the query to see the rest"))
    footer = " · ".join(footer_bits)
    lines = hit_lines(result, index * PAGE_SIZE, (index + 1) * PAGE_SIZE, lang)
    return make_embed(title, head + "\n\n".join(lines), footer=footer)


def search_pages(result: SearchResult, query: str | None, lang: str = ENGLISH) -> list[discord.Embed]:
    return [search_page(result, query, i, lang) for i in range(search_page_count(result))]


def no_results_message(query: str | None, result: SearchResult, lang: str = ENGLISH) -> str:
    q = md_line(query, 100)
    if result.filters:
        names = ", ".join(f"`{k}`" for k, _ in result.filters)
        if result.terms:
            return t(lang, "No approved practice matches “{query}” with these filters. Try removing a filter "
                           "({names}) or using fewer words.", query=q, names=names)
        return t(lang, "No approved practice with these filters. Try removing a filter ({names}) or using "
                       "fewer words.", names=names)
    if result.terms:
        return t(lang, "No approved practice matches “{query}”. Try fewer or different words, or browse with "
                       "`/practice search` and a topic.", query=q)
    return t(lang, "No approved practice yet. Share one with `/practice share`.")


def list_pages(
    title: str, practices: Sequence[Practice], *, footer: str | None = None, lang: str = ENGLISH
) -> list[discord.Embed]:
    lines = []
    for p in practices:
        extra = ""
        if p.status in ("changes_requested", "rejected") and p.reason:
            extra = f"\n  ↳ {md_line(shown_reason(p, lang), 150)}"
        lines.append(
            f"**#{p.id}** {md_line(p.title, 120)} · {city_line(p)} · *{status_label(p.status, lang)}* "
            f"{ts(p.updated_at)}{extra}"
        )
    return [make_embed(title, chunk, footer=footer) for chunk in chunk_lines(lines, limit=3800, per_page=10)]


def _bars(items: Sequence[tuple[str, int]], lang: str, limit: int = 1000) -> str:
    lines = [f"{md_line(name, 100)}: **{format_number(lang, n)}**" for name, n in items if n]
    return clip("\n".join(lines), limit) or t(lang, "none yet")


def _sdg(lang: str, n: int) -> str:
    return t(lang, "SDG {n}", n=n)


def stats_embed(s: Stats, guild_name: str | None = None, lang: str = ENGLISH) -> discord.Embed:
    fields = [
        (t(lang, "By topic"), _bars([(t(lang, k), n) for k, n in s.by_topic], lang), True),
        (t(lang, "By SDG"), _bars([(_sdg(lang, k), n) for k, n in s.by_sdg], lang), True),
        (t(lang, "By region"), _bars([(t(lang, k), n) for k, n in s.by_region], lang), True),
        (t(lang, "By country"), _bars(s.by_country[:30], lang), True),
    ]
    gaps = []
    if s.missing_topics:
        gaps.append(t(lang, "Topics with no practice: {topics}", topics=topics_line(s.missing_topics, lang)))
    if s.missing_regions:
        gaps.append(t(lang, "Regions with no practice: {regions}",
                      regions=", ".join(t(lang, r) for r in s.missing_regions)))
    if gaps:
        fields.append((t(lang, "What the library lacks"), clip("\n".join(gaps), 1000), False))
    title = (t(lang, "Best-practice library — {server}", server=md_line(guild_name, 100)) if guild_name
             else t(lang, "Best-practice library"))
    return make_embed(
        title,
        nt(lang, "**{n}** approved practice · {open} waiting for review",
           "**{n}** approved practices · {open} waiting for review", s.total,
           open=format_number(lang, s.open)),
        fields=fields,
    )


# -- the library's pictures (plain text: drawn in an image, or an attachment's alt text) ----------------
INHABITED = (N_("Africa"), N_("Asia"), N_("Europe"), N_("North America"), N_("South America"), N_("Oceania"))


def stats_chart_data(s: Stats, guild_name: str | None = None, lang: str = ENGLISH) -> ChartData:
    gaps_t, gaps_r = set(s.missing_topics), set(s.missing_regions)
    by_topic = sorted(s.by_topic, key=lambda kv: (-kv[1], kv[0]))
    topics = tuple((t(lang, k), n, k in gaps_t) for k, n in by_topic)
    sdgs = tuple((_sdg(lang, k), n, False) for k, n in sorted(s.by_sdg))
    counted = dict(s.by_region)
    regions = tuple(sorted(((t(lang, r), counted.get(r, 0), r in gaps_r) for r in (*INHABITED, *(
        r for r in counted if r not in INHABITED))), key=lambda x: (-x[1], x[0])))
    named = [*(t(lang, k) for k in s.missing_topics), *(t(lang, r) for r in s.missing_regions)]
    gap_note = t(lang, "Gaps (no approved practice yet): {gaps}", gaps=", ".join(named)) if named else ""
    where = f" — {one_line(guild_name, 80)}" if guild_name else ""
    most = ", ".join(f"{k} {format_number(lang, n)}" for k, n, _g in topics[:3] if n)
    alt = " ".join([
        nt(lang, "Bar charts of the {n} approved practice{where}: by topic, by SDG and by region.",
           "Bar charts of the {n} approved practices{where}: by topic, by SDG and by region.", s.total,
           where=where),
        t(lang, "Most practices: {most}.", most=most),
        t(lang, "Highlighted gaps: {gaps}.", gaps=", ".join(named)) if named
        else t(lang, "No topic or region is missing."),
    ])
    return ChartData(
        title=t(lang, "Best-practice library{where}", where=where),
        subtitle=nt(lang, "{n} approved practice · {open} waiting for review · a practice counts once under "
                          "each of its topics and SDGs",
                    "{n} approved practices · {open} waiting for review · a practice counts once under "
                    "each of its topics and SDGs", s.total, open=format_number(lang, s.open)),
        panels=((t(lang, "By topic"), topics), (t(lang, "By SDG"), sdgs), (t(lang, "By region"), regions)),
        gap_note=gap_note, alt=alt, gap_label=t(lang, "gap"), lang=lang,
    )


def _cities(lang: str, n: int) -> str:
    return nt(lang, "{n} city", "{n} cities", n)


def stats_map_data(m: LibraryMap, guild_name: str | None = None, lang: str = ENGLISH) -> MapData:
    where = f" — {one_line(guild_name, 80)}" if guild_name else ""
    n_p, n_a = sum(p.count for p in m.practices), sum(p.count for p in m.adoptions)
    top = ", ".join(f"{one_line(p.name, 40)} ({format_number(lang, p.count)})" for p in m.practices[:5])
    practiced, adopting = _cities(lang, len(m.practices)), _cities(lang, len(m.adoptions))
    if top:
        alt = t(lang, "World map{where}: {cities} with approved practices (blue dots sized by count; most: "
                      "{top}) and {adopting} that adopted one (orange rings).", where=where, cities=practiced,
                top=top, adopting=adopting)
    else:
        alt = t(lang, "World map{where}: {cities} with approved practices (blue dots sized by count) and "
                      "{adopting} that adopted one (orange rings).", where=where, cities=practiced,
                adopting=adopting)
    if m.unplaced:
        alt += " " + nt(lang, "{n} practice from cities typed as free text is not on the map.",
                        "{n} practices from cities typed as free text are not on the map.", m.unplaced)
    bits = [
        nt(lang, "{n} approved practice in {cities}", "{n} approved practices in {cities}", n_p,
           cities=practiced),
        nt(lang, "{n} adoption in {cities}", "{n} adoptions in {cities}", n_a, cities=adopting),
    ]
    if m.unplaced:
        bits.append(t(lang, "{n} without a directory city", n=format_number(lang, m.unplaced)))
    bits.append(t(lang, "base map: Natural Earth"))
    return MapData(
        title=t(lang, "Where the practices come from{where}", where=where),
        subtitle=" · ".join(bits),
        practices=m.practices, adoptions=m.adoptions,
        legend=(t(lang, "Approved practices from the city (dot size: how many)"),
                t(lang, "Adoptions by the city")),
        alt=alt,
    )


def announcement_embed(p: Practice, lang: str = ENGLISH) -> discord.Embed:
    e = practice_embed(p, heading=N_("New practice"), lang=lang)
    e.description = clip(
        (e.description or "") + "\n\n" + t(lang, "Questions for the contact? Ask in the thread below."), 2000
    )
    return e

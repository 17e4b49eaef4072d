"""Pure render functions for the best-practice library: every embed fits Discord's limits."""

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
from bot.interactions import fill_parts
from cogs.practices.pictures import ChartData, MapData
from cogs.practices.service import (
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


def contact_line(p: Practice) -> str:
    if p.contact_user_id:
        return f"<@{p.contact_user_id}>" + (f" ({md_line(p.contact_text, 150)})" if p.contact_text else "")
    if p.contact_text:
        return md_line(p.contact_text, 200)
    return f"the submitter, {member_ref(p.submitter_id)}"


def practice_embed(p: Practice, counts: Counts | None = None, *, heading: str | None = None) -> discord.Embed:
    """The full practice (show, announcement, review card)."""
    fields: list[tuple[str, str, bool]] = [
        ("City", city_line(p), True),
        ("Topics", ", ".join(p.topics), True),
    ]
    if p.sdgs:
        fields.append(("SDGs", ", ".join(str(s) for s in p.sdgs), True))
    if p.network_name:
        fields.append(("Network", md_line(p.network_name, 200), True))
    if p.year_started:
        fields.append(("Started", str(p.year_started), True))
    if p.language:
        fields.append(("Language", md_line(_language_label(p.language), 40), True))
    fields.append(("Contact", contact_line(p), True))
    for name, value in (("Approach", p.approach), ("Results and evidence", p.results),
                        ("Lessons for other cities", p.lessons)):
        if value:
            fields.append((name, md(value, FIELD_VALUE_MAX), False))
    if p.links:
        fields.append(("Links", "\n".join(md_line(u, 200) for u in p.links), False))
    if counts is not None:
        cities = "city" if counts.adopted == 1 else "cities"
        line = f"👍 {counts.useful} found it useful · 🏙️ adopted in {counts.adopted} {cities}"
        if counts.adopting_cities:
            line += ": " + md_line(", ".join(counts.adopting_cities), 600)
        fields.append(("Community", line, False))
    footer = f"Practice #{p.id} · {STATUS_LABELS[p.status]}"
    if p.status == "rejected" and p.duplicate_of:
        footer += f" · duplicate of #{p.duplicate_of}"
    title = md_line(p.title, 240)
    return make_embed(
        f"{heading}: {title}" if heading else title,
        md(p.summary, 1500),
        fields=fields,
        footer=footer,
        colour=STATUS_COLOURS.get(p.status, COLOUR),
        timestamp=p.approved_at or p.created_at,
    )


def review_card(p: Practice, *, similar: Sequence[Practice] = (), resubmitted: bool = False,
                edited: bool = False) -> discord.Embed:
    e = practice_embed(
        p, heading="Resubmitted" if resubmitted else "Edited, to review" if edited else "To review"
    )
    e.description = clip(
        f"Submitted by {member_ref(p.submitter_id)} {ts(p.created_at)}\n\n" + (e.description or ""), 1800
    )
    if similar:
        e.add_field(name="Possible duplicates",
                    value=clip("\n".join(f"#{s.id} {md_line(s.title, 120)} ({STATUS_LABELS[s.status]})"
                                         for s in similar), FIELD_VALUE_MAX), inline=False)
    return e


def describe_decision(p: Practice) -> str:
    """'approved by <@1> <t:…:R>' — the latest decision on a practice."""
    return fill_parts(*decision_phrase(p))


def decided_card(p: Practice) -> discord.Embed:
    """The review card after a decision: who decided what, when, and why."""
    e = practice_embed(p, heading=STATUS_LABELS[p.status].capitalize())
    phrase = describe_decision(p)  # not .capitalize(): it would lower-case <t:…:R> into an invalid <t:…:r>
    text = f"**{phrase[:1].upper()}{phrase[1:]}**"
    if p.reason:
        text += f"\nReason: {md(p.reason, 1000)}"
    e.description = clip(text + "\n\n" + (e.description or ""), 1800)
    return e


def decision_message(p: Practice, guild_name: str | None) -> str:
    where = f" on **{md_line(guild_name, 100)}**" if guild_name else ""
    title = md_line(p.title, 150)
    if p.status == "approved":
        head = f"✅ Your practice #{p.id} “{title}”{where} was approved and is now in the library."
    elif p.status == "changes_requested":
        head = (f"✏️ A moderator asked for changes to your practice #{p.id} “{title}”{where}. "
                f"Use `/practice edit id:{p.id}` to update it; it goes back to review when you save.")
    elif p.status == "rejected" and p.duplicate_of:
        head = f"Your practice #{p.id} “{title}”{where} was closed as a duplicate of #{p.duplicate_of}."
    elif p.status == "rejected":
        head = f"Your practice #{p.id} “{title}”{where} was not accepted."
    else:
        head = f"Your practice #{p.id} “{title}”{where} is now {STATUS_LABELS[p.status]}."
    if p.reason and not p.duplicate_of:
        head += f"\nReason: {md(p.reason, 1000)}"
    return clip(head, 1900)


def _language_label(code: str) -> str:
    """A practice's language as members read it: the catalog languages by name, others as typed."""
    return LANGUAGE_NAMES.get(code, code)


def hit_lines(result: SearchResult, start: int = 0, stop: int | None = None) -> list[str]:
    out = []
    for h in result.hits[start:stop]:
        where = md_line(f"{h.city_name}, {h.country}" if h.country else h.city_name, 80)
        snippet = highlight(h.snippet, 300) if h.snippet else ""
        out.append(
            f"**#{h.id} · {md_line(h.title, 150)}**\n📍 {where} · {', '.join(h.topics)} · "
            f"{md_line(_language_label(h.language), 40)}"
            + (f"\n> {snippet}" if snippet else "")
        )
    return out


def search_page_count(result: SearchResult) -> int:
    return -(-len(result.hits) // PAGE_SIZE)


def search_page(result: SearchResult, query: str | None, index: int) -> discord.Embed:
    """Page `index` (five hits) of the results; pages are rendered when first shown."""
    filters = ", ".join(f"{k}: {md_line(v, 60)}" for k, v in result.filters)
    head = ""
    if result.corrected is not None:
        corrected = md_line(" ".join(result.corrected), 100)
        head = f"No results for “{md_line(query, 100)}”. Showing results for **{corrected}**.\n\n"
    title = f"Practices matching “{md_line(query, 80)}”" if result.terms else "Approved practices"
    plus = (
        "+" if result.more or not result.complete else ""
    )  # not complete: only the first pages are ranked yet
    footer_bits = [f"{len(result.hits)}{plus} result{'s' if len(result.hits) != 1 or plus else ''}"]
    if filters:
        footer_bits.append(f"filters: {filters}")
    if result.more:
        footer_bits.append("refine the query to see the rest")
    footer = " · ".join(footer_bits)
    lines = hit_lines(result, index * PAGE_SIZE, (index + 1) * PAGE_SIZE)
    return make_embed(title, head + "\n\n".join(lines), footer=footer)


def search_pages(result: SearchResult, query: str | None) -> list[discord.Embed]:
    return [search_page(result, query, i) for i in range(search_page_count(result))]


def no_results_message(query: str | None, result: SearchResult) -> str:
    what = f"No approved practice matches “{md_line(query, 100)}”" if result.terms else "No approved practice"
    if result.filters:
        names = ", ".join(f"`{k}`" for k, _ in result.filters)
        return f"{what} with these filters. Try removing a filter ({names}) or using fewer words."
    if result.terms:
        return f"{what}. Try fewer or different words, or browse with `/practice search` and a topic."
    return f"{what} yet. Share one with `/practice share`."


def list_pages(
    title: str, practices: Sequence[Practice], *, footer: str | None = None
) -> list[discord.Embed]:
    lines = []
    for p in practices:
        extra = ""
        if p.status in ("changes_requested", "rejected") and p.reason:
            extra = f"\n  ↳ {md_line(p.reason, 150)}"
        lines.append(
            f"**#{p.id}** {md_line(p.title, 120)} · {city_line(p)} · *{STATUS_LABELS[p.status]}* "
            f"{ts(p.updated_at)}{extra}"
        )
    return [make_embed(title, chunk, footer=footer) for chunk in chunk_lines(lines, limit=3800, per_page=10)]


def _bars(items: Sequence[tuple[str, int]], limit: int = 1000) -> str:
    lines = [f"{md_line(name, 100)}: **{n}**" for name, n in items if n]
    return clip("\n".join(lines), limit) or "none yet"


def stats_embed(s: Stats, guild_name: str | None = None) -> discord.Embed:
    fields = [
        ("By topic", _bars(s.by_topic), True),
        ("By SDG", _bars([(f"SDG {n}", c) for n, c in s.by_sdg]), True),
        ("By region", _bars(s.by_region), True),
        ("By country", _bars(s.by_country[:30]), True),
    ]
    gaps = []
    if s.missing_topics:
        gaps.append("Topics with no practice: " + ", ".join(s.missing_topics))
    if s.missing_regions:
        gaps.append("Regions with no practice: " + ", ".join(s.missing_regions))
    if gaps:
        fields.append(("What the library lacks", clip("\n".join(gaps), 1000), False))
    return make_embed(
        "Best-practice library" + (f" — {md_line(guild_name, 100)}" if guild_name else ""),
        f"**{s.total}** approved practice{'s' if s.total != 1 else ''} · {s.open} waiting for review",
        fields=fields,
    )


# -- the library's pictures (plain text: drawn in an image, or an attachment's alt text) ----------------
INHABITED = ("Africa", "Asia", "Europe", "North America", "South America", "Oceania")


def stats_chart_data(s: Stats, guild_name: str | None = None) -> ChartData:
    gaps_t, gaps_r = set(s.missing_topics), set(s.missing_regions)
    topics = tuple((t, n, t in gaps_t) for t, n in sorted(s.by_topic, key=lambda kv: (-kv[1], kv[0])))
    sdgs = tuple((f"SDG {k}", n, False) for k, n in sorted(s.by_sdg))
    counted = dict(s.by_region)
    regions = tuple(sorted(((r, counted.get(r, 0), r in gaps_r) for r in (*INHABITED, *(
        r for r in counted if r not in INHABITED))), key=lambda x: (-x[1], x[0])))
    named = [*s.missing_topics, *s.missing_regions]
    gap_note = ("Gaps (no approved practice yet): " + ", ".join(named)) if named else ""
    where = f" — {one_line(guild_name, 80)}" if guild_name else ""
    alt = (f"Bar charts of the {s.total} approved practices{where}: by topic, by SDG and by region. "
           + "Most practices: " + ", ".join(f"{t} {n}" for t, n, _g in topics[:3] if n) + ". "
           + (f"Highlighted gaps: {', '.join(named)}." if named else "No topic or region is missing."))
    return ChartData(
        title=f"Best-practice library{where}",
        subtitle=f"{s.total:,} approved practice{'s' if s.total != 1 else ''} · {s.open:,} waiting for "
                 "review · a practice counts once under each of its topics and SDGs",
        panels=(("By topic", topics), ("By SDG", sdgs), ("By region", regions)),
        gap_note=gap_note, alt=alt,
    )


def _cities(n: int) -> str:
    return f"{n:,} cit{'y' if n == 1 else 'ies'}"


def stats_map_data(m: LibraryMap, guild_name: str | None = None) -> MapData:
    where = f" — {one_line(guild_name, 80)}" if guild_name else ""
    n_p, n_a = sum(p.count for p in m.practices), sum(p.count for p in m.adoptions)
    top = ", ".join(f"{one_line(p.name, 40)} ({p.count})" for p in m.practices[:5])
    unplaced = (f" {m.unplaced} practice{'s' if m.unplaced != 1 else ''} from cities typed as free text "
                "are not on the map." if m.unplaced else "")
    alt = (f"World map{where}: {_cities(len(m.practices))} with approved practices (blue dots sized by count"
           + (f"; most: {top}" if top else "") + f") and {_cities(len(m.adoptions))} that adopted one "
           f"(orange rings).{unplaced}")
    return MapData(
        title=f"Where the practices come from{where}",
        subtitle=f"{n_p:,} approved practice{'s' if n_p != 1 else ''} in {_cities(len(m.practices))} · "
                 f"{n_a:,} adoption{'s' if n_a != 1 else ''} in {_cities(len(m.adoptions))}"
                 + (f" · {m.unplaced:,} without a directory city" if m.unplaced else "")
                 + " · base map: Natural Earth",
        practices=m.practices, adoptions=m.adoptions,
        legend=("Approved practices from the city (dot size: how many)", "Adoptions by the city"),
        alt=alt,
    )


def announcement_embed(p: Practice) -> discord.Embed:
    e = practice_embed(p, heading="New practice")
    e.description = clip(
        (e.description or "") + "\n\nQuestions for the contact? Ask in the thread below.", 2000
    )
    return e

"""Render helpers that keep every outgoing message inside Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import discord

from bot.i18n import ENGLISH, t
from bot.retention import FORMER_MEMBER, FORMER_MEMBER_LABEL
from bot.text import clip, md, md_line, one_line, user_text

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CUSTOM_ID_MAX = 100

COLOUR = discord.Colour(0x2B6CB0)
COLOUR_OK = discord.Colour(0x2F855A)
COLOUR_WARN = discord.Colour(0xC05621)
COLOUR_ERROR = discord.Colour(0xC53030)

# Member text lives in bot.text (discord-free, so services can escape what they put in error messages).
__all__ = ["clip", "md", "md_line", "one_line", "user_text"]


def embed_length(embed: discord.Embed) -> int:
    return len(embed)


def make_embed(
    title: str | None = None,
    description: str | None = None,
    *,
    fields: Iterable[tuple[str, str, bool]] = (),
    footer: str | None = None,
    colour: discord.Colour = COLOUR,
    url: str | None = None,
    timestamp: datetime | None = None,
    author: str | None = None,
    lang: str = ENGLISH,
) -> discord.Embed:
    """Build an embed clipped to every per-field limit and to 6,000 characters overall.

    Fields past 25 are dropped (the footer says so); the description is cut first when
    the total would exceed 6,000."""
    embed = discord.Embed(
        title=clip(title, TITLE_MAX) or None,
        description=clip(description, DESCRIPTION_MAX) or None,
        colour=colour,
        url=url,
        timestamp=timestamp,
    )
    if author:
        embed.set_author(name=clip(author, AUTHOR_MAX))
    all_fields = [(n, v, i) for n, v, i in fields]
    dropped = max(0, len(all_fields) - FIELDS_MAX)
    if dropped:
        all_fields = all_fields[: FIELDS_MAX]
        footer = f"{footer} · " if footer else ""
        footer += t(lang, "{n} more not shown", n=dropped)
    for name, value, inline in all_fields:
        embed.add_field(
            name=clip(name, FIELD_NAME_MAX) or "\u200b",
            value=clip(value, FIELD_VALUE_MAX) or "—",
            inline=inline,
        )
    if footer:
        embed.set_footer(text=clip(footer, FOOTER_MAX))
    fit_embed(embed)
    return embed


def fit_embed(embed: discord.Embed, budget: int = EMBED_TOTAL_MAX) -> discord.Embed:
    """Shrink an embed in place until len(embed) <= budget: description, then fields from the end."""
    over = len(embed) - budget
    if over <= 0:
        return embed
    if embed.description:
        keep = max(0, len(embed.description) - over)
        embed.description = clip(embed.description, keep) if keep > 1 else None
    while len(embed) > budget and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > budget and embed.footer.text:
        embed.set_footer(text=None)
    if len(embed) > budget and embed.title:
        embed.title = clip(embed.title, max(1, len(embed.title) - (len(embed) - budget)))
    return embed


def fit_embeds(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """Keep a message's embeds within 6,000 characters combined (and 10 embeds)."""
    out: list[discord.Embed] = []
    used = 0
    for e in list(embeds)[:10]:
        room = EMBED_TOTAL_MAX - used
        if room < 50:
            break
        fit_embed(e, room)
        used += len(e)
        out.append(e)
    return out


def chunk_lines(
    lines: Sequence[str], *, limit: int = DESCRIPTION_MAX, per_page: int | None = None
) -> list[str]:
    """Join lines into pages, each at most `limit` characters (and `per_page` lines)."""
    pages: list[str] = []
    cur: list[str] = []
    size = 0
    for line in lines:
        line = clip(line, limit)
        extra = len(line) + (1 if cur else 0)
        if cur and (size + extra > limit or (per_page and len(cur) >= per_page)):
            pages.append("\n".join(cur))
            cur, size = [], 0
            extra = len(line)
        cur.append(line)
        size += extra
    if cur:
        pages.append("\n".join(cur))
    return pages


def choice_name(text: str) -> str:
    """An autocomplete choice name: 1–100 characters on one line."""
    return clip(" ".join(text.split()), CHOICE_NAME_MAX) or "—"


def member_ref(user_id: int | None, *, missing: str = "—", lang: str = ENGLISH) -> str:
    """A member mention, or "a former member" (in `lang`) for a row whose member asked to be forgotten."""
    if user_id is None:
        return missing
    if user_id == FORMER_MEMBER:
        return t(lang, FORMER_MEMBER_LABEL)
    return f"<@{user_id}>"

"""What `/help` shows: pure functions of the command entries the cog builds from the command tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.embeds import chunk_lines, make_embed
from bot.i18n import ENGLISH, N_, t

FOOTER = N_("Click a command to fill it in. /help command: shows one command's options and an example.")


@dataclass(frozen=True, slots=True)
class HelpOption:
    name: str
    description: str
    required: bool
    kind: str  # "text", "whole number", "member", "channel", …
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HelpEntry:
    path: str  # "practice search"
    description: str
    mention: str  # "</practice search:123…>", or "`/practice search`" when the id is unknown
    feature: str
    options: tuple[HelpOption, ...]
    example: str
    who: str  # "everyone", "moderators", "Manage Server"


def help_line(entry: HelpEntry) -> str:
    return f"{entry.mention} — {entry.description}"


def help_pages(
    sections: Sequence[tuple[str, Sequence[HelpEntry]]], lang: str = ENGLISH
) -> list[discord.Embed]:
    """One page (or more, within Discord's limits) per feature, in the order given."""
    pages: list[discord.Embed] = []
    for title, entries in sections:
        for i, chunk in enumerate(chunk_lines([help_line(e) for e in entries], limit=3900)):
            pages.append(
                make_embed(
                    t(lang, "Attaché help — {feature}", feature=title) + (f" ({i + 1})" if i else ""),
                    chunk,
                    footer=t(lang, FOOTER),
                )
            )
    return pages


def option_line(option: HelpOption, lang: str = ENGLISH) -> str:
    need = t(lang, "(required)") if option.required else t(lang, "(optional)")
    line = f"`{option.name}` {need} {option.kind} — {option.description}"
    if option.choices:
        line += t(lang, " · one of: {choices}", choices=", ".join(f"`{c}`" for c in option.choices[:25]))
    return line


def command_embed(entry: HelpEntry, lang: str = ENGLISH) -> discord.Embed:
    """One command: what it does, who may use it, every option, an example."""
    options = "\n".join(option_line(o, lang) for o in entry.options) or t(lang, "No options.")
    body = t(
        lang,
        "{command} — {description}\n\n**Options**\n{options}\n\n**Example**\n`{example}`",
        command=entry.mention,
        description=entry.description,
        options=options,
        example=entry.example,
    )
    return make_embed(
        f"/{entry.path}",
        body,
        fields=[(t(lang, "Who"), entry.who, True), (t(lang, "Feature"), entry.feature, True)],
        footer=t(lang, "Options marked (optional) can be left out."),
    )

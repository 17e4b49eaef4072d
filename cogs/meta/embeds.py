"""What `/help` shows: pure functions of the command entries the cog builds from the command tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.embeds import chunk_lines, make_embed

FOOTER = "Click a command to fill it in. /help command: shows one command's options and an example."


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


def help_pages(sections: Sequence[tuple[str, Sequence[HelpEntry]]]) -> list[discord.Embed]:
    """One page (or more, within Discord's limits) per feature, in the order given."""
    pages: list[discord.Embed] = []
    for title, entries in sections:
        for i, chunk in enumerate(chunk_lines([help_line(e) for e in entries], limit=3900)):
            pages.append(make_embed(f"Attaché help — {title}" + (f" ({i + 1})" if i else ""), chunk,
                                    footer=FOOTER))
    return pages


def option_line(option: HelpOption) -> str:
    bits = [f"`{option.name}`", "(required)" if option.required else "(optional)", option.kind]
    line = " ".join(bits) + f" — {option.description}"
    if option.choices:
        line += " · one of: " + ", ".join(f"`{c}`" for c in option.choices[:25])
    return line


def command_embed(entry: HelpEntry) -> discord.Embed:
    """One command: what it does, who may use it, every option, an example."""
    options = "\n".join(option_line(o) for o in entry.options) or "No options."
    body = (f"{entry.mention} — {entry.description}\n\n**Options**\n{options}\n\n"
            f"**Example**\n`{entry.example}`")
    return make_embed(f"/{entry.path}", body,
                      fields=[("Who", entry.who, True), ("Feature", entry.feature, True)],
                      footer="Options marked (optional) can be left out.")

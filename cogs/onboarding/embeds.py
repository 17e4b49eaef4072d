"""What the welcome message and the setup view show (pure functions of the settings)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.embeds import COLOUR_OK, make_embed
from bot.settings import SETUP_STEPS, GuildSettings
from bot.text import md_line

# What each `/setup` step is for (keys of bot.settings.SETUP_STEPS).
STEP_PURPOSE: dict[str, str] = {
    "announcements_channel_id": "approved practices, roundtables, reminders and the MOU digest go here",
    "review_channel_id": "new practice submissions wait here for a moderator",
    "moderator_role_id": "its members curate practices and moderate (Manage Messages works without it)",
    "timezone": "the server's own time zone for dates typed without one, reminders and digests",
}


def step_value(key: str, gs: GuildSettings) -> str:
    value = gs.get(key)
    if value is None:
        if key == "timezone":
            return f"not set ({gs.default_timezone}, the bot's default, applies)"
        return "not set"
    if key == "moderator_role_id":
        return f"<@&{value}>"
    if key == "timezone":
        return f"**{md_line(str(value), 64)}**"
    return f"<#{value}>"


def checklist(gs: GuildSettings) -> list[str]:
    """One line per setup step: done or not, its value, what it is for."""
    lines = []
    for n, (key, label) in enumerate(SETUP_STEPS, start=1):
        mark = "✅" if gs.get(key) is not None else "⬜"
        lines.append(f"{mark} **{n}. {label}**: {step_value(key, gs)}\n-# {STEP_PURPOSE[key]}")
    return lines


def welcome_embed(guild_name: str, gs: GuildSettings) -> discord.Embed:
    """The one message posted when the bot joins a server."""
    steps = "\n".join(checklist(gs))
    description = (
        f"Hello, {md_line(guild_name, 100)}! Attaché helps your network share **best practices**, meet in "
        "**roundtables** across time zones, keep a **directory** of cities and networks, and track "
        "**MOUs**.\n\n"
        "**Setup checklist** (members with Manage Server: press **Set up** below, or run `/setup`):\n"
        f"{steps}\n\n"
        "**Then, everyone:** `/profile set` (your city and time zone), `/practice share`, "
        "`/roundtable schedule`, and `/help` for every command. Every command already works while setup "
        "is unfinished; a feature that needs a missing step says which one."
    )
    return make_embed("Thanks for adding Attaché", description,
                      footer="Only members with Manage Server can use Set up.")


def setup_embed(gs: GuildSettings, notes: Sequence[str] = ()) -> discord.Embed:
    """The setup view's message: the checklist, and what the last choice did."""
    missing = [label for key, label in SETUP_STEPS if gs.get(key) is None]
    head = ("Every step is done. You can change any of them here or with `/settings`."
            if not missing else
            "Pick below; each choice is saved at once. Still to do: " + ", ".join(missing) + ".")
    body = "\n".join([head, "", *checklist(gs)] + (["", *notes] if notes else []))
    return make_embed("Set up Attaché", body, colour=COLOUR_OK if not missing else discord.Colour(0x2B6CB0),
                      footer="For another time zone, pick “Another zone…” and type its IANA name.")

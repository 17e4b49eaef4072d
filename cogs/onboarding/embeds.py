"""What the welcome message and the setup view show (pure functions of the settings), in a language."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.embeds import COLOUR_OK, make_embed
from bot.i18n import ENGLISH, LANGUAGE_KEY, N_, Msg, format_list, language_name, render, t
from bot.settings import SETUP_STEPS, GuildSettings
from bot.text import md_line

# What each `/setup` step is for (keys of bot.settings.SETUP_STEPS).
STEP_PURPOSE: dict[str, str] = {
    "announcements_channel_id": N_("approved practices, roundtables, reminders and the MOU digest go here"),
    "review_channel_id": N_("new practice submissions wait here for a moderator"),
    "moderator_role_id": N_("its members curate practices and moderate (Manage Messages works without it)"),
    "timezone": N_("the server's own time zone for dates typed without one, reminders and digests"),
}


def step_value(key: str, gs: GuildSettings, lang: str) -> str:
    value = gs.get(key)
    if value is None:
        if key == "timezone":
            return t(lang, "not set ({zone}, the bot's default, applies)", zone=gs.default_timezone)
        return t(lang, "not set")
    if key == "moderator_role_id":
        return f"<@&{value}>"
    if key == "timezone":
        return f"**{md_line(str(value), 64)}**"
    return f"<#{value}>"


def checklist(gs: GuildSettings, lang: str) -> list[str]:
    """One line per setup step: done or not, its value, what it is for."""
    lines = []
    for n, (key, label) in enumerate(SETUP_STEPS, start=1):
        mark = "✅" if gs.get(key) is not None else "⬜"
        lines.append(f"{mark} **{n}. {t(lang, label)}**: {step_value(key, gs, lang)}\n"
                     f"-# {t(lang, STEP_PURPOSE[key])}")
    return lines


def language_line(gs: GuildSettings, lang: str) -> str:
    """The language of the server's posts (optional step: automatic follows the server's Discord language)."""
    chosen = gs.get(LANGUAGE_KEY)
    if chosen is None:
        return t(lang, "🌐 **Language of posts**: automatic (the server's Discord language)")
    return t(lang, "🌐 **Language of posts**: {language}", language=language_name(str(chosen)))


def welcome_embed(guild_name: str, gs: GuildSettings, lang: str = ENGLISH) -> discord.Embed:
    """The one message posted when the bot joins a server, in the server's language."""
    description = t(
        lang,
        "Hello, {server}! Attaché helps your network share **best practices**, meet in **roundtables** "
        "across time zones, keep a **directory** of cities and networks, and track **MOUs**.\n\n"
        "**Setup checklist** (members with Manage Server: press **Set up** below, or run `/setup`):\n"
        "{steps}\n\n"
        "**Then, everyone:** `/profile set` (your city and time zone), `/practice share`, "
        "`/roundtable schedule`, and `/help` for every command. Every command already works while setup "
        "is unfinished; a feature that needs a missing step says which one.",
        server=md_line(guild_name, 100), steps="\n".join(checklist(gs, lang)),
    )
    return make_embed(t(lang, "Thanks for adding Attaché"), description,
                      footer=t(lang, "Only members with Manage Server can use Set up."))


def setup_embed(gs: GuildSettings, lang: str, notes: Sequence[str | Msg] = ()) -> discord.Embed:
    """The setup view's message: the checklist, and what the last choice did."""
    missing = [t(lang, label) for key, label in SETUP_STEPS if gs.get(key) is None]
    head = (t(lang, "Every step is done. You can change any of them here or with `/settings`.")
            if not missing else
            t(lang, "Pick below; each choice is saved at once. Still to do: {steps}.",
              steps=format_list(lang, missing)))
    body = "\n".join([head, "", *checklist(gs, lang), language_line(gs, lang)]
                     + (["", *(render(lang, n) for n in notes)] if notes else []))
    return make_embed(t(lang, "Set up Attaché"), body,
                      colour=COLOUR_OK if not missing else discord.Colour(0x2B6CB0),
                      footer=t(lang, "For another time zone, pick “Another zone…” and type its IANA name."))

"""/calendar: a member's private live calendar feed (thin glue; rules in service.py, HTTP in bot/web.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import ICS_LIMIT, expensive
from bot.errors import InvalidInput
from bot.interactions import acknowledge_first, reply
from cogs.calendar.service import PREFIX, CalendarFeeds, FeedOptions, Subscription

if TYPE_CHECKING:
    from bot.app import AttacheBot

FEEDS_OFF = (
    "The server owner hasn't enabled calendar feeds: whoever runs Attaché has to turn on its web "
    "endpoint (`[web]` in the bot's config) first. Meanwhile `/roundtable ics` and `/mou ics` give you "
    "calendar files."
)
ALREADY = (
    "You already have a calendar feed in this server; it now shows what you chose. {options}\n"
    "Its address was shown once, when you subscribed. Lost it? `/calendar reset` gives you a new one "
    "(the old one stops working)."
)
DEADLINE_LABEL = {"mine": "the agreements you own", "all": "every agreement of this server", "none": "none"}


def options_text(opts: FeedOptions) -> str:
    rts = ("every roundtable of this server" if opts.all_roundtables
           else "the roundtables you host or answered Going to")
    return f"Roundtables: {rts}. Agreement deadlines: {DEADLINE_LABEL[opts.deadlines]}."


def address_text(https_url: str, head: str, opts: FeedOptions) -> str:
    webcal = "webcal://" + https_url.split("://", 1)[1]
    return (
        f"{head}\n"
        f"**Subscribe** (Apple Calendar, Outlook): `{webcal}`\n"
        f"**Or add by URL** (Google Calendar: Other calendars → From URL): {https_url}\n"
        f"{options_text(opts)}\n"
        "Keep this address private: anyone who has it sees this calendar, meeting links included. Attaché "
        "keeps only a fingerprint of it and can't show it again; `/calendar reset` gives you a new one and "
        "the old one stops working at once. Calendar apps pick up changes at their next refresh."
    )


@app_commands.guild_only()
class Calendar(commands.GroupCog, group_name="calendar", group_description="Your live calendar feed"):
    feature_title = "Calendar feed"

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.svc = CalendarFeeds(bot.db, bot.features, clock=bot.clock)
        super().__init__()

    async def cog_load(self) -> None:
        if self.bot.web is not None:
            self.bot.web.route(PREFIX, self.svc.serve)
        self.bot.status_providers.append(self.status_lines)

    async def cog_unload(self) -> None:
        if self.bot.web is not None:
            self.bot.web.unroute(PREFIX)
        if self.status_lines in self.bot.status_providers:
            self.bot.status_providers.remove(self.status_lines)

    async def status_lines(self, guild: discord.Guild) -> list[tuple[str, str]]:
        if self.bot.web is None:
            return [("Calendar feeds", "off (the bot's config has no `[web]` section)")]
        return [("Calendar feeds", f"on: members' feeds are served at {self.bot.web.public_url(PREFIX)}/…")]

    def _url(self, guild_id: int, sub: Subscription) -> str:
        if self.bot.web is None or sub.token is None:
            raise InvalidInput(FEEDS_OFF)
        return self.bot.web.public_url(self.svc.path(guild_id, sub.token))

    @acknowledge_first()
    @app_commands.command(
        name="subscribe", description="Your private calendar feed of roundtables and deadlines"
    )
    @app_commands.describe(
        all_roundtables="Every roundtable of this server, not only those you're going to",
        deadlines="Which agreement deadlines to include (default: the agreements you own)",
    )
    @app_commands.choices(deadlines=[app_commands.Choice(name=n, value=v) for n, v in (
        ("the agreements I own", "mine"), ("every agreement of this server", "all"), ("none", "none"))])
    @expensive(*ICS_LIMIT)
    async def subscribe(self, interaction: discord.Interaction[Any], all_roundtables: bool | None = None,
                        deadlines: str | None = None) -> None:
        assert interaction.guild_id is not None
        if self.bot.web is None:
            raise InvalidInput(FEEDS_OFF)
        sub = await self.svc.subscribe(interaction.guild_id, interaction.user.id,
                                       all_roundtables=all_roundtables, deadlines=deadlines)
        if not sub.created:
            await reply(interaction, ALREADY.format(options=options_text(sub.options)))
            return
        await reply(interaction, address_text(self._url(interaction.guild_id, sub),
                                              "📅 Your private calendar feed for this server:", sub.options))

    @acknowledge_first()
    @app_commands.command(name="reset", description="A new address for your calendar feed; the old one stops")
    @expensive(*ICS_LIMIT)
    async def reset(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        if self.bot.web is None:
            raise InvalidInput(FEEDS_OFF)
        sub = await self.svc.reset(interaction.guild_id, interaction.user.id)
        head = ("📅 Your new calendar feed address (the old one no longer works; update your calendar app):"
                if not sub.created else "📅 Your private calendar feed for this server:")
        await reply(interaction, address_text(self._url(interaction.guild_id, sub), head, sub.options))

"""/calendar: a member's private live calendar feed (thin glue; rules in service.py, HTTP in bot/web.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import ICS_LIMIT, expensive
from bot.errors import InvalidInput
from bot.i18n import ENGLISH, N_, t
from bot.interactions import acknowledge_first, reply
from bot.translator import lang_for_interaction
from cogs.calendar.service import PREFIX, CalendarFeeds, FeedOptions, Subscription

if TYPE_CHECKING:
    from bot.app import AttacheBot

FEEDS_OFF = N_(
    "The server owner hasn't enabled calendar feeds: whoever runs Attaché has to turn on its web "
    "endpoint (`[web]` in the bot's config) first. Meanwhile `/roundtable ics` and `/mou ics` give you "
    "calendar files."
)
ALREADY = N_(
    "You already have a calendar feed in this server; it now shows what you chose. {options}\n"
    "Its address was shown once, when you subscribed. Lost it? `/calendar reset` gives you a new one "
    "(the old one stops working)."
)
DEADLINE_LABEL = {"mine": N_("the agreements you own"), "all": N_("every agreement of this server"),
                  "none": N_("none")}
NEW_FEED = N_("📅 Your private calendar feed for this server:")
RESET_FEED = N_("📅 Your new calendar feed address (the old one no longer works; update your calendar app):")


def options_text(opts: FeedOptions, lang: str = ENGLISH) -> str:
    rts = (t(lang, "every roundtable of this server") if opts.all_roundtables
           else t(lang, "the roundtables you host or answered Going to"))
    return t(lang, "Roundtables: {roundtables}. Agreement deadlines: {deadlines}.", roundtables=rts,
             deadlines=t(lang, DEADLINE_LABEL[opts.deadlines]))


def address_text(https_url: str, head: str, opts: FeedOptions, lang: str = ENGLISH) -> str:
    webcal = "webcal://" + https_url.split("://", 1)[1]
    return t(
        lang,
        "{head}\n"
        "**Subscribe** (Apple Calendar, Outlook): `{webcal}`\n"
        "**Or add by URL** (Google Calendar: Other calendars → From URL): {url}\n"
        "{options}\n"
        "Keep this address private: anyone who has it sees this calendar, meeting links included. Attaché "
        "keeps only a fingerprint of it and can't show it again; `/calendar reset` gives you a new one and "
        "the old one stops working at once. Calendar apps pick up changes at their next refresh.",
        head=head, webcal=webcal, url=https_url, options=options_text(opts, lang),
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
        lang = await self.bot.languages.for_guild(guild.id)
        if self.bot.web is None:
            return [(t(lang, "Calendar feeds"), t(lang, "off (the bot's config has no `[web]` section)"))]
        return [(t(lang, "Calendar feeds"), t(lang, "on: members' feeds are served at {url}/…",
                                              url=self.bot.web.public_url(PREFIX)))]

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
    @app_commands.choices(deadlines=[app_commands.Choice(name="the agreements I own", value="mine"),
                                     app_commands.Choice(name="every agreement of this server", value="all"),
                                     app_commands.Choice(name="none", value="none")])
    @expensive(*ICS_LIMIT)
    async def subscribe(self, interaction: discord.Interaction[Any], all_roundtables: bool | None = None,
                        deadlines: str | None = None) -> None:
        assert interaction.guild_id is not None
        if self.bot.web is None:
            raise InvalidInput(FEEDS_OFF)
        sub = await self.svc.subscribe(interaction.guild_id, interaction.user.id,
                                       all_roundtables=all_roundtables, deadlines=deadlines)
        lang = lang_for_interaction(interaction)
        if not sub.created:
            await reply(interaction, t(lang, ALREADY, options=options_text(sub.options, lang)))
            return
        await reply(interaction, address_text(self._url(interaction.guild_id, sub), t(lang, NEW_FEED),
                                              sub.options, lang))

    @acknowledge_first()
    @app_commands.command(name="reset", description="A new address for your calendar feed; the old one stops")
    @expensive(*ICS_LIMIT)
    async def reset(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        if self.bot.web is None:
            raise InvalidInput(FEEDS_OFF)
        sub = await self.svc.reset(interaction.guild_id, interaction.user.id)
        lang = lang_for_interaction(interaction)
        head = t(lang, RESET_FEED if not sub.created else NEW_FEED)
        await reply(interaction, address_text(self._url(interaction.guild_id, sub), head, sub.options, lang))

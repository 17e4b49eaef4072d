"""Getting started: the welcome message when the bot joins a server, and `/setup`.

The welcome is claimed once per server (cogs/onboarding/service.py) in the transaction that enqueues
the job posting it: a restart, a second GUILD_CREATE or a quick re-invitation never posts it twice.
It goes to the server's system channel, else the first text channel where the bot may write; when it
may write nowhere nothing is posted (logged) and a later invitation tries again."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import manage_guild_only, moderator_role_problem
from bot.errors import InvalidInput
from bot.i18n import LANGUAGE_KEY, N_, Msg, t
from bot.interactions import reply
from bot.scheduler import Job, PermanentJobError, SkipJob
from bot.translator import lang_for_interaction
from cogs.onboarding.embeds import setup_embed, welcome_embed
from cogs.onboarding.service import WELCOME_KIND, WelcomeService
from cogs.onboarding.views import SetupButton, SetupView, welcome_view

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)


def can_post(channel: discord.abc.GuildChannel, me: discord.Member) -> bool:
    perms = channel.permissions_for(me)
    return perms.view_channel and perms.send_messages and perms.embed_links


def welcome_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The system channel if the bot may post there, else the first text channel (in the server's
    order) where it may; None when there is none."""
    me = guild.me
    if me is None:
        return None
    candidates: list[discord.TextChannel] = []
    if guild.system_channel is not None:
        candidates.append(guild.system_channel)
    candidates += sorted(guild.text_channels, key=lambda c: (c.position, c.id))
    return next((c for c in candidates if can_post(c, me)), None)


class Onboarding(commands.Cog):
    feature_title = "Getting started"

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.welcomes = WelcomeService(bot.db, bot.scheduler, clock=bot.clock)

    async def cog_load(self) -> None:
        self.bot.scheduler.register(WELCOME_KIND, self._welcome_job)
        self.bot.add_dynamic_items(SetupButton)
        self.bot.guild_join_hooks.append(self._joined)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister(WELCOME_KIND)
        self.bot.remove_dynamic_items(SetupButton)
        if self._joined in self.bot.guild_join_hooks:
            self.bot.guild_join_hooks.remove(self._joined)

    # -- the welcome message ------------------------------------------------------------------------
    async def _joined(self, guild: discord.Guild) -> None:
        if await self.welcomes.claim(guild.id):
            log.info("joined guild %s: welcome message queued", guild.id)
        else:
            log.info("joined guild %s again: it was welcomed before", guild.id)

    async def _welcome_job(self, job: Job) -> int:
        guild = self.bot.get_guild(job.guild_id)
        if guild is None:
            await self.welcomes.release(job.guild_id)
            raise SkipJob(Msg(N_("The bot is no longer in that server.")))
        channel = welcome_channel(guild)
        if channel is None:
            log.warning("guild %s: no channel where I may post the welcome message (View Channel, Send "
                        "Messages, Embed Links); nothing posted", guild.id)
            await self.welcomes.release(guild.id)
            raise SkipJob(Msg(N_("No channel where the bot may post the welcome message.")))
        gs = await self.bot.settings.get(guild.id)
        lang = await self.bot.languages.for_guild(guild.id)  # a post: the server's language
        try:
            msg = await self.bot.post(channel.id, embeds=[welcome_embed(guild.name, gs, lang)],
                                      view=welcome_view(lang), nonce=job.nonce)
        except (discord.NotFound, discord.Forbidden) as exc:
            await self.welcomes.release(guild.id)
            raise PermanentJobError(Msg(N_("could not post the welcome message in channel {channel}"),
                                        channel=f"<#{channel.id}>")) from exc
        await self.welcomes.posted(guild.id, channel.id, msg.id)
        return channel.id  # where it went (for run_now)

    # -- /setup and the setup view ------------------------------------------------------------------
    @app_commands.command(name="setup",
                          description="Set up Attaché here: channels, moderator role, time zone")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @manage_guild_only()
    async def setup_command(self, interaction: discord.Interaction[Any]) -> None:
        await self.open_setup(interaction)

    async def open_setup(self, interaction: discord.Interaction[Any]) -> None:
        """The setup view, to this member only (Manage Server is checked before, and on every choice)."""
        assert interaction.guild_id is not None
        gs = await self.bot.settings.get(interaction.guild_id)
        lang = lang_for_interaction(interaction)
        view = SetupView(interaction.user.id, lang, gs.get(LANGUAGE_KEY))
        await reply(interaction, embed=setup_embed(gs, lang), view=view)
        view.message = await interaction.original_response()

    def _channel_note(self, guild: discord.Guild | None, channel_id: int) -> Msg | None:
        if guild is None or guild.me is None:
            return None
        channel = guild.get_channel(channel_id)
        if channel is not None and not can_post(channel, guild.me):
            mention = f"<#{channel_id}>"
            return Msg("⚠️ I can't post in {channel} yet: give me View Channel, Send Messages and Embed Links "
                       "there.", channel=mention)
        return None

    async def choose(self, interaction: discord.Interaction[Any], key: str, value: Any) -> None:
        """Save one step and show the new checklist in place (acknowledged before the write)."""
        assert interaction.guild_id is not None
        value = self.bot.settings.specs[key].validate(value)  # a typo is refused before anything else
        if not interaction.response.is_done():
            await interaction.response.defer()  # a silent update of the setup message
        gs = await self.bot.settings.set(interaction.guild_id, key, value, actor_id=interaction.user.id)
        note = self._channel_note(interaction.guild, int(value)) if key.endswith("_channel_id") else None
        await interaction.edit_original_response(
            embed=setup_embed(gs, lang_for_interaction(interaction), [note] if note else []))

    async def choose_role(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        lang = lang_for_interaction(interaction)
        problem = moderator_role_problem(role, lang)
        if problem is not None:
            raise InvalidInput(problem + " " + t(lang, "The moderator role is unchanged."))
        await self.choose(interaction, "moderator_role_id", role.id)

    async def choose_language(self, interaction: discord.Interaction[Any], language: str | None) -> None:
        """The language of the server's posts (None: automatic, the server's Discord language), as
        `/settings language` saves it; Manage Server was checked on this choice (the view's guard)."""
        await self.choose(interaction, LANGUAGE_KEY, language)

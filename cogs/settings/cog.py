"""/settings: the server's configuration (Manage Server required)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import manage_guild_only, moderator_only, moderator_role_problem
from bot.embeds import clip, make_embed
from bot.errors import InvalidInput
from bot.i18n import LANGUAGE_KEY, N_, Msg, available_languages, language_name, render, t
from bot.interactions import acknowledge_first, reply
from bot.limits import (
    DEFAULT_EVENT_SLOTS,
    DEFAULT_PER_HOUR,
    EVENT_SLOTS_KEY,
    GUILD_EVENT_SLOTS,
    KINDS,
    LIMITS_KEY,
)
from bot.scheduler import reason_text
from bot.settings import missing_setup
from bot.timeparse import discord_ts, from_unix
from bot.transformers import ZoneOption
from bot.translator import lang_for_interaction

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

AUTOMATIC = "auto"
# Each language by its own name (how a member recognises theirs), discovered from the catalogs.
LANGUAGE_CHOICES = [
    *(app_commands.Choice(name=language_name(lang), value=lang) for lang in available_languages()),
    app_commands.Choice(name=N_("Automatic (the server's Discord language)"), value=AUTOMATIC),
]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Settings(
    commands.GroupCog, group_name="settings", group_description="Attaché's settings for this server"
):
    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        super().__init__()

    async def _set(self, interaction: discord.Interaction[Any], key: str, value: Any, done: Msg) -> None:
        """Save a setting and confirm it in the member's language."""
        assert interaction.guild_id is not None
        await self.bot.settings.set(interaction.guild_id, key, value, actor_id=interaction.user.id)
        await reply(interaction, render(lang_for_interaction(interaction), done))

    @app_commands.command(name="show", description="Show this server's Attaché settings and delivery status")
    @moderator_only()  # read-only: moderators see the delivery errors too (Manage Server counts as moderator)
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild is not None
        lang = lang_for_interaction(interaction)
        gs = await self.bot.settings.get(interaction.guild.id)
        missing = missing_setup(gs)
        setup_line = (
            t(lang, "Every step is done; `/setup` changes them.")
            if not missing
            else t(lang, "Missing: {steps}. Run `/setup` (Manage Server) to finish; everything else "
                         "already works.", steps=", ".join(f"**{render(lang, m)}**" for m in missing))
        )
        fields: list[tuple[str, str, bool]] = [(t(lang, "Setup"), setup_line, False)]
        fields.extend((label, value, True) for label, value in self.bot.settings.describe(gs, lang))
        for provider in self.bot.status_providers:
            try:
                provided = await provider(interaction.guild)
                fields.extend((render(lang, n), render(lang, v), False) for n, v in provided)
            except Exception:
                log.exception("status provider failed")
        failures = await self.bot.scheduler.recent_failures(interaction.guild.id)
        if failures:
            lines = [
                f"{discord_ts(from_unix(f['finished_ms'] / 1000), 'R')} `{f['kind']}`"
                + (f" → <#{f['target']}>" if f["target"] and str(f["target"]).isdigit() else "")
                + f": {clip(reason_text(lang, f['last_error']), 150)}"
                for f in failures
            ]
            fields.append((t(lang, "Last delivery errors"), "\n".join(lines), False))
        else:
            fields.append((t(lang, "Last delivery errors"), t(lang, "none"), False))
        await reply(interaction, embed=make_embed(t(lang, "Attaché settings"), None, fields=fields))

    @acknowledge_first()
    @app_commands.command(name="moderator-role", description="Set the role whose members curate and moderate")
    @app_commands.describe(role="The moderator role")
    @manage_guild_only()
    async def moderator_role(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        lang = lang_for_interaction(interaction)
        problem = moderator_role_problem(role, lang)
        if problem is not None:
            raise InvalidInput(f"{problem} {t(lang, 'The moderator role is unchanged.')}")
        await self._set(interaction, "moderator_role_id", role.id,
                        Msg("Moderator role set to {role}.", role=role.mention))

    @acknowledge_first()
    @app_commands.command(name="review-channel", description="Set the channel where submissions are reviewed")
    @app_commands.describe(channel="Channel for review cards")
    @manage_guild_only()
    async def review_channel(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        await self._set(
            interaction, "review_channel_id", channel.id, Msg("Review cards will go to {channel}.",
                                                              channel=channel.mention)
        )

    @acknowledge_first()
    @app_commands.command(
        name="announcements-channel", description="Set the channel for announcements and reminder posts"
    )
    @app_commands.describe(channel="Channel for roundtable, practice and reminder posts")
    @manage_guild_only()
    async def announcements_channel(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        await self._set(
            interaction,
            "announcements_channel_id",
            channel.id,
            Msg("Announcements will go to {channel}.", channel=channel.mention),
        )

    @acknowledge_first()
    @app_commands.command(name="timezone", description="Set the server's default time zone (IANA name)")
    @app_commands.describe(zone="An IANA time zone such as Europe/Paris")
    @manage_guild_only()
    async def timezone(self, interaction: discord.Interaction[Any], zone: ZoneOption) -> None:
        assert interaction.guild_id is not None
        gs = await self.bot.settings.set(interaction.guild_id, "timezone", zone, actor_id=interaction.user.id)
        zone_shown = f"**{gs.timezone}**"
        await reply(interaction, t(lang_for_interaction(interaction), "Server time zone set to {zone}.",
                                   zone=zone_shown))

    @acknowledge_first()
    @app_commands.command(name="language", description="Set the language of Attaché's posts in this server")
    @app_commands.describe(language="The language of announcements, reminders and review cards")
    @app_commands.choices(language=LANGUAGE_CHOICES)
    @manage_guild_only()
    async def language(self, interaction: discord.Interaction[Any], language: str) -> None:
        if language == AUTOMATIC:
            await self._set(interaction, LANGUAGE_KEY, None, Msg(
                "Posts in this server will follow the server's Discord language. Replies always follow each "
                "member's own Discord language."))
            return
        shown = language_name(language, lang_for_interaction(interaction))  # "French", "francés"…
        await self._set(interaction, LANGUAGE_KEY, language, Msg(
            "Posts in this server (announcements, reminders, review cards) will be in {language}. Replies "
            "always follow each member's own Discord language.", language=shown))

    # -- limits (bot/limits.py) -------------------------------------------------------------------
    @acknowledge_first()
    @app_commands.command(
        name="creation-limit", description="How many of one kind a member may create per hour"
    )
    @app_commands.describe(
        kind="What is created", per_hour=f"Per member per hour (default {DEFAULT_PER_HOUR}; 0: no limit)"
    )
    @app_commands.choices(kind=[app_commands.Choice(name=k.plural, value=k.key) for k in KINDS.values()])
    @manage_guild_only()
    async def creation_limit(
        self, interaction: discord.Interaction[Any], kind: str, per_hour: app_commands.Range[int, 0, 1000]
    ) -> None:
        assert interaction.guild_id is not None
        values = dict((await self.bot.settings.get(interaction.guild_id)).get(LIMITS_KEY) or {})
        values[kind] = per_hour
        if per_hour == 0:
            done = Msg("Creating {kind}: no limit (moderators are exempt).", kind=Msg(KINDS[kind].plural))
        else:
            done = Msg("Creating {kind}: at most {count} per member per hour (moderators are exempt).",
                       kind=Msg(KINDS[kind].plural), count=per_hour)
        await self._set(interaction, LIMITS_KEY, values, done)

    @acknowledge_first()
    @app_commands.command(
        name="event-slots", description="How many of the server's 100 scheduled events the bot may use"
    )
    @app_commands.describe(
        count=f"Events the roundtable mirror may use (default {DEFAULT_EVENT_SLOTS}; 0: none)"
    )
    @manage_guild_only()
    async def event_slots(
        self, interaction: discord.Interaction[Any], count: app_commands.Range[int, 0, GUILD_EVENT_SLOTS]
    ) -> None:
        await self._set(interaction, EVENT_SLOTS_KEY, count, Msg(
            "The Events-tab mirror may use at most {count} of the server's {total} scheduled events; "
            "roundtables beyond that are still created, just not mirrored.",
            count=count, total=GUILD_EVENT_SLOTS))

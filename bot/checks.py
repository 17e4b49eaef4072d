"""Permission checks shared by every cog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.app import AttacheBot


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            "Only moderators can do that: members with the server's moderator role "
            "(see `/settings show`) or the Manage Messages permission."
        )


class NotInGuild(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__("This command only works inside a server.")


async def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    """The configured moderator role, or Manage Messages / Administrator, makes a moderator."""
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return False
    perms = interaction.permissions
    if perms.administrator or perms.manage_messages or perms.manage_guild:
        return True
    bot: AttacheBot = interaction.client  # type: ignore[assignment]
    role_id = (await bot.settings.get(interaction.guild.id)).moderator_role_id
    return role_id is not None and any(r.id == role_id for r in member.roles)


def guild_only_check() -> Any:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise NotInGuild()
        return True

    return app_commands.check(predicate)


def moderator_only() -> Any:
    """Runtime moderator check (the Discord-side default_permissions is only a hint)."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise NotInGuild()
        if not await is_moderator(interaction):
            raise NotModerator()
        return True

    return app_commands.check(predicate)


def manage_guild_only() -> Any:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise NotInGuild()
        if not (interaction.permissions.manage_guild or interaction.permissions.administrator):
            raise app_commands.CheckFailure("You need the Manage Server permission to change Attaché's settings.")
        return True

    return app_commands.check(predicate)


def _member_key(interaction: discord.Interaction[Any]) -> tuple[int | None, int]:
    return (interaction.guild_id, interaction.user.id)


def expensive(rate: int, per: float) -> Any:
    """Per-member cooldown (per server) for a command that costs real work: search, exports,
    calendar files, findtime. `rate` uses per `per` seconds; one more is refused, ephemerally, with
    "Slow down: you can use this again <t:…:R>" (bot.interactions.describe_error).

    Put it ABOVE `moderator_only()` so a refused non-moderator does not use up a turn. The bot's
    `cooldown_scale` attribute multiplies `per` (0 turns cooldowns off, e.g. for benchmarks)."""

    def factory(interaction: discord.Interaction[Any]) -> app_commands.Cooldown | None:
        scale = float(getattr(interaction.client, "cooldown_scale", 1.0))
        if scale <= 0:
            return None
        return app_commands.Cooldown(rate, per * scale)

    return app_commands.checks.dynamic_cooldown(factory, key=_member_key)


# The limits, in one place (listed in README, "Cooldowns").
SEARCH_LIMIT = (5, 10.0)  # /practice search
EXPORT_LIMIT = (2, 60.0)  # /practice export, /mou export, /network export (CSV then JSON is fine)
FINDTIME_LIMIT = (3, 30.0)  # /roundtable findtime
ICS_LIMIT = (3, 30.0)  # /roundtable ics, /mou ics

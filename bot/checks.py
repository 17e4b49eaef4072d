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

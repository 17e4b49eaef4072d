"""Replying to interactions, and the one error funnel every command and view goes through."""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot.embeds import COLOUR_ERROR, CONTENT_MAX, clip, fit_embeds, make_embed, md_line
from bot.errors import UserFacingError
from bot.timeparse import TimeParseError

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


async def reply(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: Sequence[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
    file: discord.File | None = None,
    allowed_mentions: discord.AllowedMentions = NO_MENTIONS,
) -> None:
    """Respond, or follow up when the interaction was already answered (deferred)."""
    kwargs: dict[str, Any] = {"ephemeral": ephemeral, "allowed_mentions": allowed_mentions}
    if content is not None:
        kwargs["content"] = clip(content, CONTENT_MAX)
    all_embeds = list(embeds or []) + ([embed] if embed is not None else [])
    if all_embeds:
        kwargs["embeds"] = fit_embeds(all_embeds)
    if view is not None:
        kwargs["view"] = view
    if file is not None:
        kwargs["file"] = file
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def error_embed(message: str) -> discord.Embed:
    return make_embed(description=message, colour=COLOUR_ERROR)


def describe_error(error: BaseException) -> tuple[str, bool]:
    """(message for the user, expected?) for an error raised by a command or view."""
    inner = error
    if isinstance(inner, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = inner.__cause__ or getattr(inner, "original", inner)
    if isinstance(inner, UserFacingError):
        return inner.message, True
    if isinstance(inner, TimeParseError):
        return str(inner), True
    if isinstance(inner, app_commands.CommandOnCooldown):
        return f"Slow down: you can use this again <t:{int(discord.utils.utcnow().timestamp() + inner.retry_after) + 1}:R>.", True
    if isinstance(inner, app_commands.MissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in inner.missing_permissions)
        return f"You need the {perms} permission for that.", True
    if isinstance(inner, app_commands.BotMissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in inner.missing_permissions)
        return f"I need the {perms} permission here for that. Ask a server admin.", True
    if isinstance(inner, app_commands.NoPrivateMessage):
        return "This command only works inside a server.", True
    if isinstance(inner, app_commands.CheckFailure):
        text = str(inner) or "You can't use this command here."
        return text, True
    if isinstance(inner, app_commands.TransformerError):
        return f"I couldn't understand “{md_line(str(inner.value), 100)}”.", True
    if isinstance(inner, discord.Forbidden):
        return "Discord refused that: I'm missing a permission in this channel. Ask a server admin.", True
    if isinstance(inner, sqlite3.OperationalError):
        storage = storage_problem(inner)
        if storage is not None:
            log.error("storage problem: %s", inner)
            return storage, True
    return "", False


def storage_problem(exc: sqlite3.Error) -> str | None:
    """A user-facing sentence for a database that cannot take writes (disk full, read-only), else None.
    SQLite rolls the transaction back, so nothing of the action was saved."""
    text = str(exc).lower()
    if "database or disk is full" in text:
        return ("The bot's storage is full, so I couldn't save that and nothing was changed. "
                "Reading still works; please tell a server admin.")
    if "readonly database" in text or "read-only" in text:
        return ("The bot's database is read-only right now, so I couldn't save that and nothing was changed. "
                "Reading still works; please tell a server admin.")
    return None


async def handle_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    message, expected = describe_error(error)
    if not expected:
        ref = secrets.token_hex(4)
        cmd = interaction.command.qualified_name if interaction.command else (interaction.data or {}).get("custom_id")
        log.error("unhandled error [ref %s] in %s (guild %s, user %s)", ref, cmd, interaction.guild_id,
                  interaction.user.id, exc_info=error)
        message = f"Something went wrong on my side. Nothing was changed unless I said so. Reference: `{ref}`."
    try:
        await reply(interaction, embed=error_embed(message), ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id, exc_info=True)


class AttacheTree(app_commands.CommandTree[Any]):
    """Command tree whose errors all go through `handle_error`."""

    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        await handle_error(interaction, error)

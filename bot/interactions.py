"""Replying to interactions, and the one error funnel every command and view goes through."""

from __future__ import annotations

import functools
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.embeds import COLOUR_ERROR, CONTENT_MAX, clip, fit_embeds, make_embed, md_line
from bot.errors import Mention, Moment, Part, UserFacingError, Value
from bot.i18n import ENGLISH, N_, render, t
from bot.timeparse import TimeParseError
from bot.translator import lang_for_interaction

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()

# Marks a slash command that acknowledges before it writes (see `acknowledge_first`).
ACK_EXTRA = "acknowledge_first"

# A coroutine function, or a slash command already built from one (see `acknowledge_first`).
F = TypeVar("F", bound=Callable[..., Awaitable[Any]] | app_commands.Command[Any, ..., Any])


async def acknowledge(
    interaction: discord.Interaction[Any], *, ephemeral: bool = True, update: bool = False
) -> None:
    """Answer Discord now, before any write, unless the interaction was already answered.

    A command or modal gets "thinking…" (deferred, `ephemeral` as its reply will be; `reply` then
    follows up). A button or select with update=True gets a silent deferred update (the pressed
    message can then be edited with `edit_original_response`). Once acknowledged, the 3-second
    window no longer matters: a slow write can never end as "interaction failed" on a saved change."""
    if interaction.response.is_done():
        return
    if update and interaction.type is discord.InteractionType.component:
        await interaction.response.defer()
    else:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)


def _interaction_arg(args: Sequence[Any], kwargs: dict[str, Any]) -> discord.Interaction[Any]:
    for value in (*args, *kwargs.values()):
        if isinstance(value, discord.Interaction):
            return value
    raise TypeError("acknowledge_first: the decorated callback takes no discord.Interaction")


def acknowledge_first(*, ephemeral: bool = True, update: bool = False) -> Callable[[F], F]:
    """Acknowledge the interaction (see `acknowledge`) before the decorated code writes anything.

    * On a slash command, put it ABOVE `@app_commands.command(...)` / `@group.command(...)`: it adds
      the acknowledgement as the command's last check, so it runs after every permission check (a
      refused member gets a plain refusal) and before the options are resolved and the callback
      runs. The command is marked in `command.extras["acknowledge_first"]` (the permission-matrix
      tests check every writing command has it, or opens a modal whose submission has it).
    * On a modal's `on_submit`, a button/select callback or any coroutine taking an interaction, it
      acknowledges before calling it.

    A command that opens a modal can't use it (a deferred interaction can't open one): decorate what
    the modal's submission runs instead."""

    def decorate(func: F) -> F:
        if isinstance(func, app_commands.Command):
            command = func

            async def ack_check(interaction: discord.Interaction[Any]) -> bool:
                try:
                    await acknowledge(interaction, ephemeral=ephemeral)
                except discord.HTTPException as exc:  # not acknowledged: don't write either
                    raise app_commands.CommandInvokeError(interaction.command or command, exc) from exc
                return True

            func.checks.append(ack_check)
            func.extras[ACK_EXTRA] = {"ephemeral": ephemeral}
            return func
        if isinstance(func, app_commands.Group | app_commands.ContextMenu):
            raise TypeError("acknowledge_first goes on a slash command, a modal submission or a callback")

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            await acknowledge(_interaction_arg(args, kwargs), ephemeral=ephemeral, update=update)
            return await func(*args, **kwargs)

        wrapper.__attache_acknowledge_first__ = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


async def reply(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: Sequence[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
    file: discord.File | None = None,
    files: Sequence[discord.File] = (),
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
    if files:
        kwargs["files"] = list(files)
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def error_embed(message: str) -> discord.Embed:
    return make_embed(description=message, colour=COLOUR_ERROR)


def fill_parts(template: str, parts: Mapping[str, Part], lang: str = ENGLISH) -> str:
    """A message template (str.format) with its named parts (bot.errors) filled in: members and times as
    Discord mentions and timestamps, values as they are, phrases translated into `lang` (the template
    itself is translated by the caller)."""
    if not parts:
        return template
    return template.format(**{k: _part(v, lang) for k, v in parts.items()})


def _part(part: Part, lang: str) -> str:
    if isinstance(part, Mention):
        return f"<@{part.user_id}>"
    if isinstance(part, Moment):
        return f"<t:{int(part.at.timestamp())}:{part.style}>"
    if isinstance(part, Value):
        return part.text
    return fill_parts(t(lang, part.template), dict(part.parts), lang)


def shown_parts(parts: Mapping[str, Part], lang: str = ENGLISH) -> dict[str, str]:
    """Named parts as shown in `lang`: members and times as Discord mentions and timestamps, values as they
    are, phrases translated."""
    return {k: _part(v, lang) for k, v in parts.items()}


def error_text(error: UserFacingError, lang: str = ENGLISH) -> str:
    """An error's message as shown in Discord, in `lang` (its English text is the message id): its named
    parts as mentions, timestamps, values and translated phrases."""
    if error.msg is not None:
        return render(lang, error.msg.with_values(**shown_parts(error.parts, lang)))
    if error.parts:
        return fill_parts(t(lang, error.template), error.parts, lang)
    return t(lang, error.message)


def _permission_names(names: Sequence[str]) -> str:
    return ", ".join(p.replace("_", " ").title() for p in names)


def describe_error(error: BaseException, lang: str = ENGLISH) -> tuple[str, bool]:
    """(message for the user in `lang`, expected?) for an error raised by a command or view."""
    inner = error
    if isinstance(inner, app_commands.CommandInvokeError | app_commands.TransformerError):
        cause = inner.__cause__
        inner = cause if cause is not None else getattr(inner, "original", inner)
    if isinstance(inner, UserFacingError):
        return error_text(inner, lang), True
    if isinstance(inner, TimeParseError):
        return inner.text(lang), True
    if isinstance(inner, app_commands.CommandOnCooldown):
        at = int(discord.utils.utcnow().timestamp() + inner.retry_after) + 1
        when = f"<t:{at}:R>"
        return t(lang, "Slow down: you can use this again {when}.", when=when), True
    if isinstance(inner, app_commands.MissingPermissions):
        perms = _permission_names(inner.missing_permissions)
        return t(lang, "You need the {permissions} permission for that.", permissions=perms), True
    if isinstance(inner, app_commands.BotMissingPermissions):
        perms = _permission_names(inner.missing_permissions)
        return t(lang, "I need the {permissions} permission here for that. Ask a server admin.",
                 permissions=perms), True
    if isinstance(inner, app_commands.NoPrivateMessage):
        return t(lang, "This command only works inside a server."), True
    if isinstance(inner, app_commands.CheckFailure):
        text = str(inner) or N_("You can't use this command here.")
        return t(lang, text), True
    if isinstance(inner, app_commands.TransformerError):
        return t(lang, "I couldn't understand “{value}”.", value=md_line(str(inner.value), 100)), True
    if isinstance(inner, discord.Forbidden):
        return t(lang, "Discord refused that: I'm missing a permission in this channel. "
                       "Ask a server admin."), True
    if isinstance(inner, sqlite3.OperationalError):
        storage = storage_problem(inner)
        if storage is not None:
            log.error("storage problem: %s", inner)
            return t(lang, storage), True
    return "", False


STORAGE_FULL = N_(
    "The bot's storage is full, so I couldn't save that and nothing was changed. "
    "Reading still works; please tell a server admin."
)
STORAGE_READ_ONLY = N_(
    "The bot's database is read-only right now, so I couldn't save that and nothing was changed. "
    "Reading still works; please tell a server admin."
)


def storage_problem(exc: sqlite3.Error) -> str | None:
    """A user-facing sentence (English; a message id) for a database that cannot take writes (disk full,
    read-only), else None. SQLite rolls the transaction back, so nothing of the action was saved."""
    text = str(exc).lower()
    if "database or disk is full" in text:
        return STORAGE_FULL
    if "readonly database" in text or "read-only" in text:
        return STORAGE_READ_ONLY
    return None


async def handle_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    lang = lang_for_interaction(interaction)
    message, expected = describe_error(error, lang)
    if not expected:
        ref = secrets.token_hex(4)
        cmd = (
            interaction.command.qualified_name
            if interaction.command
            else dict(interaction.data or {}).get("custom_id")
        )
        log.error("unhandled error [ref %s] in %s (guild %s, user %s)", ref, cmd, interaction.guild_id,
                  interaction.user.id, exc_info=error)
        shown = f"`{ref}`"
        message = t(
            lang, "Something went wrong on my side. Nothing was changed unless I said so. Reference: {ref}.",
            ref=shown,
        )
    try:
        await reply(interaction, embed=error_embed(message), ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id, exc_info=True)


class AttacheTree(app_commands.CommandTree[Any]):
    """Command tree whose errors all go through `handle_error`."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await handle_error(interaction, error)

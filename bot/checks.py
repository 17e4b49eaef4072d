"""Permission checks shared by every cog.

Rights come from the member's roles at SERVER level (`server_permissions`), never from
`interaction.permissions`, which Discord computes with the channel's overwrites: a member given
Manage Messages in one channel is not a moderator. Every moderator / Manage Server check of the
bot goes through `is_moderator` / `has_manage_server` here, and forms and buttons re-check them
when they are used (`bot.ui.run_guard`). `role_grant_problem` is the one rule for a role the bot
may hand out (the verified-representative role)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.errors import PermissionDenied
from bot.i18n import ENGLISH, N_, t
from bot.limits import CreationLimits

if TYPE_CHECKING:
    from bot.app import AttacheBot


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(N_(
            "Only moderators can do that: members with the server's moderator role "
            "(see `/settings show`) or the Manage Messages permission server-wide."
        ))


class NotManager(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            N_("You need the Manage Server permission (server-wide) to change Attaché's settings.")
        )


class NotInGuild(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(N_("This command only works inside a server."))


# A right checked when a form or button is USED (raises a UserFacingError / CheckFailure to refuse).
Guard = Callable[[discord.Interaction[Any]], Awaitable[None]]


def server_permissions(member: discord.abc.User | None) -> discord.Permissions:
    """The member's permissions from their roles at server level (owner and Administrator give all),
    ignoring every channel overwrite. Nothing when the server's roles are not known."""
    if not isinstance(member, discord.Member):
        return discord.Permissions.none()
    guild = member.guild
    if guild.owner_id == member.id:
        return discord.Permissions.all()
    if guild.get_role(guild.id) is None:  # the @everyone role: the guild's roles are not cached
        return discord.Permissions.none()
    return member.guild_permissions


def _member(interaction: discord.Interaction[Any]) -> discord.Member | None:
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return None
    return member


async def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    """The configured moderator role, or Manage Server / Manage Messages / Administrator server-wide."""
    member = _member(interaction)
    if member is None or interaction.guild is None:
        return False
    perms = server_permissions(member)
    if perms.administrator or perms.manage_messages or perms.manage_guild:
        return True
    bot: AttacheBot = interaction.client
    role_id = (await bot.settings.get(interaction.guild.id)).moderator_role_id
    return role_id is not None and member.get_role(role_id) is not None


def has_manage_server(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server (or Administrator, or ownership) server-wide."""
    perms = server_permissions(_member(interaction))
    return perms.manage_guild or perms.administrator


async def require_moderator(interaction: discord.Interaction[Any]) -> None:
    """A Guard: refuses anyone who is not a moderator now."""
    if not await is_moderator(interaction):
        raise PermissionDenied(str(NotModerator()))


async def require_manager(interaction: discord.Interaction[Any]) -> None:
    """A Guard: refuses anyone without Manage Server (server-wide) now."""
    if interaction.guild_id is None:
        raise PermissionDenied(str(NotInGuild()))
    if not has_manage_server(interaction):
        raise PermissionDenied(str(NotManager()))


# The right a command's runtime check demands, marked on the check itself so `/help` can hide what a
# member may not use (`command_right`); the decorators below set it.
Right = str
EVERYONE, MODERATOR, MANAGER = "everyone", "moderator", "manager"
_RIGHT_ATTR = "attache_right"


def _mark(predicate: Any, right: Right) -> Any:
    setattr(predicate, _RIGHT_ATTR, right)
    return predicate


def command_right(command: app_commands.Command[Any, ..., Any] | app_commands.Group) -> Right:
    """MANAGER, MODERATOR or EVERYONE: the strongest right the checks of `command` (and its groups)
    demand. Commands open to owners and moderators (edit your own practice…) count as EVERYONE."""
    rights: set[str] = set()
    node: Any = command
    while node is not None:
        rights.update(getattr(check, _RIGHT_ATTR, EVERYONE) for check in getattr(node, "checks", []))
        node = getattr(node, "parent", None)
    for right in (MANAGER, MODERATOR):
        if right in rights:
            return right
    return EVERYONE


async def member_rights(interaction: discord.Interaction[Any]) -> set[Right]:
    """The rights the member has here, now (EVERYONE always; in a server also MODERATOR / MANAGER)."""
    rights = {EVERYONE}
    if interaction.guild_id is None:
        return rights
    if has_manage_server(interaction):
        rights.add(MANAGER)
    if await is_moderator(interaction):
        rights.add(MODERATOR)
    return rights


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

    return app_commands.check(_mark(predicate, MODERATOR))


def manage_guild_only() -> Any:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise NotInGuild()
        if not has_manage_server(interaction):
            raise NotManager()
        return True

    return app_commands.check(_mark(predicate, MANAGER))


# -- roles the bot hands out or trusts ------------------------------------------------------------

# Permissions a role the bot hands out must not carry (a member must not get them by verification), with
# their names as Discord shows them (message ids: shown in the reader's language).
ELEVATED_PERMISSIONS: dict[str, str] = {
    "administrator": N_("Administrator"),
    "manage_guild": N_("Manage Server"),
    "manage_roles": N_("Manage Roles"),
    "manage_channels": N_("Manage Channels"),
    "manage_messages": N_("Manage Messages"),
    "manage_webhooks": N_("Manage Webhooks"),
    "manage_events": N_("Manage Events"),
    "ban_members": N_("Ban Members"),
    "kick_members": N_("Kick Members"),
    "moderate_members": N_("Moderate Members"),
    "mention_everyone": N_("Mention Everyone"),
}


def elevated_permissions(permissions: discord.Permissions) -> list[str]:
    """The names of the elevated permissions in `permissions` (empty when none)."""
    return [label for flag, label in ELEVATED_PERMISSIONS.items() if getattr(permissions, flag)]


def moderator_role_problem(role: discord.Role, lang: str = ENGLISH) -> str | None:
    """Why `role` can't be the moderator role, in `lang` (None when it can)."""
    if role.is_default():
        return t(lang, "`@everyone` can't be the moderator role: every member would be a moderator. "
                       "Pick a role only your moderators have.")
    if role.managed:
        return t(lang, "{role} is managed by a bot or an integration, so you can't choose who has it. "
                       "Pick a role your server gives by hand.", role=role.mention)
    # A role with elevated permissions (a server's usual "Mods" with Kick Members) is fine here: Attaché only
    # trusts this role, it never hands it out (roles it grants go through role_grant_problem).
    return None


def role_grant_problem(
    role: discord.Role, *, me: discord.Member | None, admin: discord.Member | None = None, lang: str = ENGLISH
) -> str | None:
    """Why the bot must not hand out `role`, in `lang` (None when it is safe): `@everyone`, a managed role,
    a role carrying an elevated permission, a role at or above the bot's top role (`me`), or, when an admin
    picks it, at or above that admin's top role (the server owner is above every role). Pure: no I/O."""
    if role.is_default():
        return t(lang, "`@everyone` can't be handed out: every member already has it.")
    if role.managed:
        return t(lang, "{role} is managed by a bot or an integration; it can't be handed out.",
                 role=role.mention)
    elevated = elevated_permissions(role.permissions)
    if elevated:
        return t(lang, "{role} carries {permissions}: verification would hand that to members. "
                       "Pick (or make) a role without elevated permissions.",
                 role=role.mention, permissions=", ".join(t(lang, name) for name in elevated))
    if admin is not None and admin.guild.owner_id != admin.id and role >= admin.top_role:
        return t(lang, "{role} is at or above your highest role; you can only pick a role below it.",
                 role=role.mention)
    if me is not None and role >= me.top_role:
        return t(lang, "{role} is at or above my highest role, so I couldn't give it. "
                       "Move my role above it, or pick a lower role.", role=role.mention)
    return None


def _member_key(interaction: discord.Interaction[Any]) -> tuple[int | None, int]:
    return (interaction.guild_id, interaction.user.id)


class MemberCooldowns:
    """One command's per-member (per server) cooldown buckets. discord.py's `dynamic_cooldown` walks every
    bucket on every use to drop the expired ones, so its cost grows with the members active in the last
    `per` seconds (thousands on a busy shard); here that sweep runs at most once per `per` seconds."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._buckets: dict[tuple[int | None, int], tuple[app_commands.Cooldown, float]] = {}
        self._swept = 0.0

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, key: tuple[int | None, int], now: float, scale: float = 1.0) -> float | None:
        """Count one use at `now` (seconds); the seconds to wait when it is one too many, else None."""
        if scale <= 0:
            return None
        per = self.per * scale
        if now - self._swept >= per:
            self._buckets = {k: v for k, v in self._buckets.items() if v[1] >= now}
            self._swept = now
        held = self._buckets.get(key)
        bucket = held[0] if held is not None and held[0].per == per else app_commands.Cooldown(self.rate, per)
        retry_after = bucket.update_rate_limit(now)
        self._buckets[key] = (bucket, now + per)
        return retry_after


def expensive(rate: int, per: float) -> Any:
    """Per-member cooldown (per server) for a command that costs real work: search, exports,
    calendar files, findtime. `rate` uses per `per` seconds; one more is refused, ephemerally, with
    "Slow down: you can use this again <t:…:R>" (bot.interactions.describe_error).

    Put it ABOVE `moderator_only()` so a refused non-moderator does not use up a turn. The bot's
    `cooldown_scale` attribute multiplies `per` (0 turns cooldowns off, e.g. for benchmarks)."""
    book = MemberCooldowns(rate, per)

    def predicate(interaction: discord.Interaction[Any]) -> bool:
        scale = float(getattr(interaction.client, "cooldown_scale", 1.0))
        retry_after = book.hit(_member_key(interaction), interaction.created_at.timestamp(), scale)
        if retry_after is None:
            return True
        raise app_commands.CommandOnCooldown(app_commands.Cooldown(rate, per * scale), retry_after)

    return app_commands.check(predicate)


# The limits, in one place (listed in README, "Cooldowns").
SEARCH_LIMIT = (5, 10.0)  # /practice search
EXPORT_LIMIT = (2, 60.0)  # /practice export, /mou export, /network export (CSV then JSON is fine)
FINDTIME_LIMIT = (3, 30.0)  # /roundtable findtime
ICS_LIMIT = (3, 30.0)  # /roundtable ics, /mou ics, /calendar subscribe and reset


# -- creation limits (the rules and SQL are bot.limits.CreationLimits) --------------------------


def _limits(interaction: discord.Interaction[Any]) -> CreationLimits:
    limits: CreationLimits = interaction.client.limits
    return limits


async def check_creation(interaction: discord.Interaction[Any], kind: str) -> None:
    """Early check before a form opens (so nobody types a whole form to be refused)."""
    if interaction.guild_id is None or await is_moderator(interaction):
        return
    await _limits(interaction).check(interaction.guild_id, interaction.user.id, kind)


@contextlib.asynccontextmanager
async def creation_limit(interaction: discord.Interaction[Any], kind: str) -> AsyncIterator[None]:
    """Wrap the service call that creates a `kind`: refused (nothing saved) past the member's limit."""
    guild_id = interaction.guild_id
    exempt = guild_id is None or await is_moderator(interaction)
    async with _limits(interaction).creating(guild_id or 0, interaction.user.id, kind, exempt=exempt):
        yield

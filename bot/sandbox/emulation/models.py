"""The fake's world: users, guilds, roles, members and channels, and their JSON payloads."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

DISCORD_EPOCH_MS = 1420070400000


class Perm:
    """Permission bits used by the fake (same values as ``discord.Permissions``)."""

    CREATE_INSTANT_INVITE = 1 << 0
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADMINISTRATOR = 1 << 3
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    CREATE_EVENTS = 1 << 44
    ALL = (1 << 53) - 1

    # What @everyone gets in a new guild, roughly Discord's default.
    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS
    )
    # The bot's own role: broad, but not ADMINISTRATOR, so a test can take one permission away.
    BOT_DEFAULT = (
        EVERYONE_DEFAULT
        | MANAGE_MESSAGES
        | MANAGE_ROLES
        | MANAGE_EVENTS
        | MANAGE_THREADS
        | CREATE_PRIVATE_THREADS
    )


class Snowflakes:
    """Increasing snowflake ids (timestamp bits are real, so discord.py's snowflake_time works)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            value = (ms << 22) | (next(self._counter) & 0xFFF)
            if value <= self._last:
                value = self._last + 1
            self._last = value
            return value


def iso(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).isoformat()


class World(Protocol):
    """What the model objects need from the fake server."""

    ids: Snowflakes
    users: dict[int, User]

    def emit(self, event: str, data: dict[str, Any]) -> None: ...

    def listening(self, event: str, guild_id: int | None) -> bool: ...


@dataclass(eq=False)
class User:
    id: int
    name: str
    bot: bool = False
    dms_open: bool = True
    global_name: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name if self.global_name is not None else self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 1
    managed: bool = False
    color: int = 0
    mentionable: bool = False

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class Overwrite:
    """One channel permission overwrite: for a role (type 0; the guild id is @everyone) or a member (type
    1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(eq=False)
class Channel:
    """A guild text channel (type 0), a public thread (type 11) or a DM channel (type 1).
    ``overwrites`` are its permission overwrites (threads use their parent's), set with
    ``Guild.set_overwrite``."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    recipient: User | None = None
    deleted: bool = False
    auto_archive_duration: int = 1440
    created_at: str = field(default_factory=iso)
    overwrites: list[Overwrite] = field(default_factory=list)

    def to_payload(self) -> dict[str, Any]:
        if self.type == 1:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.recipient.to_payload()],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.overwrites],
            "nsfw": False,
            "topic": self.topic,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }
        if self.type in (10, 11, 12):
            data.pop("permission_overwrites")
            data.pop("topic")
            data.pop("position")
            data.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=1,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": self.created_at,
                    "locked": False,
                    "create_timestamp": self.created_at,
                },
            )
        return data

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass(eq=False)
class Member:
    user: User
    guild: Guild
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def dms_open(self) -> bool:
        return self.user.dms_open

    @dms_open.setter
    def dms_open(self, value: bool) -> None:
        self.user.dms_open = value

    @property
    def permissions(self) -> int:
        """Guild-level permissions (from the roles, no channel overwrite; see ``permissions_in``)."""
        if self.guild.owner_id == self.id:
            return Perm.ALL
        value = self.guild.everyone.permissions
        for role in self.roles:
            value |= role.permissions
        return Perm.ALL if value & Perm.ADMINISTRATOR else value

    def permissions_in(self, channel: Channel | None) -> int:
        """Permissions in ``channel`` as Discord computes them: the guild-level value, then the
        @everyone overwrite, then the member's roles' overwrites (all denies, then all allows), then
        the member's own overwrite. Owner and Administrator keep everything; without View Channel
        nothing is left. A thread uses its parent's overwrites."""
        base = self.permissions
        if channel is None or channel.guild_id != self.guild.id or base & Perm.ADMINISTRATOR:
            return base
        if channel.type in (10, 11, 12) and channel.parent_id is not None:
            parent = self.guild.get_channel(channel.parent_id)
            if parent is not None:
                channel = parent
        by_id = {(o.type, o.id): o for o in channel.overwrites}
        value = base
        everyone = by_id.get((0, self.guild.id))
        if everyone is not None:
            value = (value & ~everyone.deny) | everyone.allow
        deny = allow = 0
        for role in self.roles:
            o = by_id.get((0, role.id))
            if o is not None:
                deny |= o.deny
                allow |= o.allow
        value = (value & ~deny) | allow
        own = by_id.get((1, self.id))
        if own is not None:
            value = (value & ~own.deny) | own.allow
        return value if value & Perm.VIEW_CHANNEL else 0

    def has(self, permission: int) -> bool:
        return self.permissions & permission == permission

    @property
    def top_position(self) -> int:
        return max((r.position for r in self.roles), default=0)

    def to_payload(
        self, *, with_user: bool = True, with_permissions: bool = False, channel: Channel | None = None
    ) -> dict[str, Any]:
        """``with_permissions``: the ``permissions`` field of interaction payloads, computed in ``channel``
        (with its overwrites) like Discord does; guild-level when no channel is given."""
        data: dict[str, Any] = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r.id) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_payload()
        if with_permissions:
            data["permissions"] = str(self.permissions_in(channel))
        return data


class Guild:
    """A guild in the fake world. Changes made after the bot connected are sent over the gateway."""

    def __init__(self, world: World, guild_id: int, name: str, owner_id: int) -> None:
        self._world = world
        self.id = guild_id
        self.name = name
        self.owner_id = owner_id
        self.roles: list[Role] = [Role(id=guild_id, guild_id=guild_id, name="@everyone", position=0)]
        self.roles[0].permissions = Perm.EVERYONE_DEFAULT
        self.channels: list[Channel] = []
        self.members: dict[int, Member] = {}
        self.bot_role: Role | None = None
        self.system_channel_id: int | None = None  # where Discord posts join messages (may be unset)
        self.joined_at = iso()
        self._next_position = 1
        self.preferred_locale = "en-US"  # the server's Discord language (Server Settings > Community)

    def __repr__(self) -> str:
        return f"<fake Guild id={self.id} name={self.name!r}>"

    # -- lookups --------------------------------------------------------------

    @property
    def everyone(self) -> Role:
        return self.roles[0]

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels if c.type == 0 and not c.deleted]

    @property
    def default_channel(self) -> Channel:
        channels = self.text_channels
        if not channels:
            raise LookupError(f"guild {self.id} has no text channel; add one with add_text_channel()")
        return channels[0]

    def get_role(self, role_id: int) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def get_channel(self, channel_id: int) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def get_member(self, user_id: int) -> Member | None:
        return self.members.get(user_id)

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.name == name)

    def channel(self, name: str) -> Channel:
        return next(c for c in self.channels if c.name == name and not c.deleted)

    # -- changes --------------------------------------------------------------

    def add_text_channel(
        self, name: str, *, topic: str | None = None, channel_id: int | None = None
    ) -> Channel:
        """A text channel; ``channel_id`` fixes its id (the sandbox keeps ids stable across restarts)."""
        channel = Channel(
            id=channel_id or self._world.ids.next(),
            name=name,
            type=0,
            guild_id=self.id,
            position=len(self.channels),
            topic=topic,
        )
        self.channels.append(channel)
        self._world.emit("CHANNEL_CREATE", channel.to_payload())
        return channel

    def set_preferred_locale(self, locale: str) -> None:
        """Change the server's Discord language (GUILD_UPDATE), as an admin does in the server settings."""
        self.preferred_locale = locale
        payload = self.to_payload()
        for key in ("channels", "members", "threads", "voice_states", "presences", "guild_scheduled_events"):
            payload.pop(key, None)
        self._world.emit("GUILD_UPDATE", payload)

    def add_role(
        self, name: str, *, permissions: int = 0, position: int | None = None, managed: bool = False,
        role_id: int | None = None,
    ) -> Role:
        if position is None:
            position = self._next_position
            self._next_position += 1
        role = Role(
            id=role_id or self._world.ids.next(),
            guild_id=self.id,
            name=name,
            permissions=permissions,
            position=position,
            managed=managed,
        )
        self.roles.append(role)
        self._world.emit("GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.to_payload()})
        return role

    def edit_role(self, role: Role, *, permissions: int | None = None, name: str | None = None) -> Role:
        if permissions is not None:
            role.permissions = permissions
        if name is not None:
            role.name = name
        self._world.emit("GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": role.to_payload()})
        return role

    def set_overwrite(
        self, channel: Channel, target: Role | Member, *, allow: int = 0, deny: int = 0
    ) -> Overwrite | None:
        """Set (or, with allow=deny=0, remove) the overwrite of ``target`` (a role, @everyone, or a
        member) on ``channel``, like Discord's PUT /channels/{id}/permissions/{overwrite}; sends
        CHANNEL_UPDATE."""
        otype = 1 if isinstance(target, Member) else 0
        channel.overwrites = [o for o in channel.overwrites if (o.type, o.id) != (otype, target.id)]
        overwrite = None
        if allow or deny:
            overwrite = Overwrite(id=target.id, type=otype, allow=allow, deny=deny)
            channel.overwrites.append(overwrite)
        self._world.emit("CHANNEL_UPDATE", channel.to_payload())
        return overwrite

    def set_bot_permissions(self, permissions: int) -> None:
        """Replace the permissions of the bot's role (e.g. ``Perm.BOT_DEFAULT & ~Perm.MANAGE_EVENTS``)."""
        assert self.bot_role is not None
        self.edit_role(self.bot_role, permissions=permissions)

    def add_member(
        self,
        user_id: int | None = None,
        *,
        name: str | None = None,
        roles: list[Role | int] | None = None,
        dms_open: bool | None = None,
        nick: str | None = None,
        bot: bool = False,
    ) -> Member:
        """Add a member (a new user, or the existing user ``user_id``). ``dms_open=False`` makes DMs to
        them fail with 403/50007; None keeps an existing user's setting (new users: open)."""
        user = self._world.users.get(user_id) if user_id is not None else None
        if user is None:
            uid = user_id if user_id is not None else self._world.ids.next()
            user = User(id=uid, name=name or f"user{uid % 100000}", bot=bot, dms_open=dms_open is not False)
            self._world.users[uid] = user
        elif dms_open is not None:
            user.dms_open = dms_open
        member = Member(user=user, guild=self, roles=[self._resolve_role(r) for r in roles or []], nick=nick)
        self.members[user.id] = member
        if self._world.listening("GUILD_MEMBER_ADD", self.id):  # a world of 500,000 members builds fast
            self._world.emit("GUILD_MEMBER_ADD", {**member.to_payload(), "guild_id": str(self.id)})
        return member

    def add_member_role(self, member: Member, role: Role | int) -> None:
        resolved = self._resolve_role(role)
        if resolved not in member.roles:
            member.roles.append(resolved)
        self._member_updated(member)

    def remove_member_role(self, member: Member, role: Role | int) -> None:
        resolved = self._resolve_role(role)
        if resolved in member.roles:
            member.roles.remove(resolved)
        self._member_updated(member)

    def remove_member(self, member: Member) -> None:
        self.members.pop(member.id, None)
        self._world.emit("GUILD_MEMBER_REMOVE", {"guild_id": str(self.id), "user": member.user.to_payload()})

    def _member_updated(self, member: Member) -> None:
        self._world.emit("GUILD_MEMBER_UPDATE", {**member.to_payload(), "guild_id": str(self.id)})

    def _resolve_role(self, role: Role | int) -> Role:
        if isinstance(role, Role):
            return role
        found = self.get_role(role)
        if found is None:
            raise LookupError(f"guild {self.id} has no role {role}")
        return found

    # -- payloads -------------------------------------------------------------

    def to_payload(
        self, *, scheduled_events: list[dict[str, Any]] | None = None, only_member: int | None = None
    ) -> dict[str, Any]:
        """``only_member``: list that member alone (what Discord sends without GUILD_PRESENCES), without
        building every member's payload first (a server of thousands, thousands of times at start-up)."""
        channels = [c for c in self.channels if not c.deleted]
        if only_member is None:
            members = [m.to_payload() for m in self.members.values()]
        else:
            member = self.members.get(only_member)
            members = [member.to_payload()] if member is not None else []
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": None if self.system_channel_id is None else str(self.system_channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "widget_enabled": False,
            "roles": [r.to_payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "soundboard_sounds": [],
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "members": members,
            "channels": [c.to_payload() for c in channels if c.type in (0, 2, 4, 5, 13, 15, 16)],
            "threads": [c.to_payload() for c in channels if c.type in (10, 11, 12)],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": scheduled_events or [],
            "incidents_data": None,
        }

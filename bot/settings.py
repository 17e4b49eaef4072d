"""Per-guild settings: typed key/value pairs, validated, audited. No discord import."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot import audit
from bot.clock import Clock, system_clock, to_ms
from bot.db import Database
from bot.errors import InvalidInput

log = logging.getLogger(__name__)

Validator = Callable[[Any], Any]
ChangeListener = Callable[[int, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    label: str
    default: Any
    validate: Validator
    render: Callable[[Any], str] = str
    # What shows while the setting is unset, given the guild's settings (e.g. the bot default in effect).
    render_unset: Callable[[GuildSettings], str] | None = None


def _snowflake_or_none(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise InvalidInput("Expected a Discord id.")
    return v


def _zone(v: Any) -> str | None:
    if v is None:
        return None
    from bot.timeparse import get_zone

    return str(get_zone(str(v)).key)


# The steps of `/setup` (cogs/onboarding), in order: (setting key, the step's name). A feature that needs
# one of these settings and finds it missing names the step with `setup_hint(key)`.
SETUP_STEPS: tuple[tuple[str, str], ...] = (
    ("announcements_channel_id", "Announcements channel"),
    ("review_channel_id", "Review channel"),
    ("moderator_role_id", "Moderator role"),
    ("timezone", "Time zone"),
)


def setup_hint(key: str) -> str:
    """Where a missing setting is set: "`/setup` → Review channel"."""
    return f"`/setup` → {dict(SETUP_STEPS)[key]}"


def missing_setup(gs: GuildSettings) -> list[str]:
    """The names of the `/setup` steps this server has not done yet, in order."""
    return [label for key, label in SETUP_STEPS if gs.get(key) is None]


CORE_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "moderator_role_id",
        "Moderator role",
        None,
        _snowflake_or_none,
        lambda v: f"<@&{v}>" if v else f"not set (Manage Messages) · {setup_hint('moderator_role_id')}",
    ),
    SettingSpec(
        "review_channel_id",
        "Review channel",
        None,
        _snowflake_or_none,
        lambda v: f"<#{v}>" if v else f"**not set** · {setup_hint('review_channel_id')}",
    ),
    SettingSpec(
        "announcements_channel_id",
        "Announcements channel",
        None,
        _snowflake_or_none,
        lambda v: f"<#{v}>" if v else f"**not set** · {setup_hint('announcements_channel_id')}",
    ),
    SettingSpec(
        "timezone",
        "Time zone",
        None,
        _zone,
        str,
        render_unset=lambda gs: f"{gs.default_timezone} (the bot's default)",
    ),
)


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    default_timezone: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def moderator_role_id(self) -> int | None:
        return self.values.get("moderator_role_id")

    @property
    def review_channel_id(self) -> int | None:
        return self.values.get("review_channel_id")

    @property
    def announcements_channel_id(self) -> int | None:
        return self.values.get("announcements_channel_id")

    @property
    def timezone(self) -> str:
        """The server's IANA zone, or the bot's configured default."""
        return self.values.get("timezone") or self.default_timezone

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


class SettingsService:
    """Settings of every guild; features add their own keys with `register()`."""

    def __init__(self, db: Database, *, default_timezone: str = "UTC", clock: Clock = system_clock) -> None:
        self.clock = clock
        self.db = db
        self.default_timezone = default_timezone
        self.specs: dict[str, SettingSpec] = {s.key: s for s in CORE_SPECS}
        self._cache: dict[int, GuildSettings] = {}
        # async fn(guild_id, key), called after a setting changed (e.g. to re-plan reminders)
        self.on_change: list[ChangeListener] = []

    def register(self, spec: SettingSpec) -> None:
        self.specs[spec.key] = spec

    async def get(self, guild_id: int) -> GuildSettings:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        rows = await self.db.fetchall("SELECT key, value FROM guild_settings WHERE guild_id = ?", (guild_id,))
        values: dict[str, Any] = {k: s.default for k, s in self.specs.items()}
        for r in rows:
            values[r["key"]] = json.loads(r["value"])
        gs = GuildSettings(guild_id, self.default_timezone, values)
        self._cache[guild_id] = gs
        return gs

    async def set(self, guild_id: int, key: str, value: Any, *, actor_id: int | None) -> GuildSettings:
        spec = self.specs.get(key)
        if spec is None:
            raise InvalidInput(f"Unknown setting “{key}”.")
        clean = spec.validate(value)
        old = (await self.get(guild_id)).get(key)
        now = to_ms(self.clock())
        async with self.db.transaction():
            if clean is None:
                await self.db.execute(
                    "DELETE FROM guild_settings WHERE guild_id = ? AND key = ?", (guild_id, key)
                )
            else:
                await self.db.execute(
                    "INSERT INTO guild_settings (guild_id, key, value, updated_ms, updated_by) VALUES (?, ?, "
                    "?, ?, ?) ON CONFLICT (guild_id, key) DO UPDATE SET value = excluded.value, "
                    "updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
                    (guild_id, key, json.dumps(clean), now, actor_id),
                )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="settings.set", entity="settings",
                entity_id=key, changes={"key": key, "from": old, "to": clean}, at=self.clock(),
            )
        self._cache.pop(guild_id, None)
        for listener in list(self.on_change):
            try:
                await listener(guild_id, key)
            except Exception:
                log.exception("settings change listener failed for %s in guild %s", key, guild_id)
        return await self.get(guild_id)

    def invalidate(self, guild_id: int | None = None) -> None:
        if guild_id is None:
            self._cache.clear()
        else:
            self._cache.pop(guild_id, None)

    def describe(self, gs: GuildSettings) -> list[tuple[str, str]]:
        """(label, rendered value) for every known setting, core first. An unset setting with a
        `render_unset` shows what is in effect instead (the zone the bot falls back to)."""
        out: list[tuple[str, str]] = []
        for s in self.specs.values():
            value = gs.get(s.key, s.default)
            out.append((s.label, s.render_unset(gs) if value is None and s.render_unset else s.render(value)))
        return out

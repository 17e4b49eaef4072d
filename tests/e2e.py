"""End-to-end harness: the real AttacheBot, through discord.py's own HTTP and gateway code,
against the loopback fake Discord in bot/sandbox/emulation.

    async def test_something(started_bot: World) -> None:
        w = started_bot
        res = await w.fake.invoke(w.guild, w.alice, "help")
        assert res.ephemeral

`World` has the fake, the bot, one guild with channels `general`, `reviews`, `announcements`,
a `Moderators` role (Manage Messages is NOT on it: the role itself is configured as the moderator
role), and members: `admin` (Manage Server), `mod` (Moderators role), `alice`, `bob`, `carol`, `dave`.
Settings are preset (review and announcements channels, moderator role, server zone UTC) unless
the `bot_factory(configure=False)` form is used. `bot_factory` starts extra bots (restarts) on the
same database and takes `scheduler_clock=` for tests that move time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio

from bot.app import AttacheBot, create_bot
from bot.config import Config, parse_config
from bot.sandbox.emulation import Channel, FakeDiscord, Guild, Member, Perm, Role, run_bot
from cogs.directory.service import DirectoryService
from cogs.mous.service import MouService
from cogs.practices.service import PracticeService
from cogs.roundtables.service import RoundtableService


class MovableClock:
    """An injectable scheduler clock that runs with real time, offset by `jump_to`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)


def _loaded(bot: AttacheBot, cog_name: str, attr: str) -> Any:
    # discord.py re-imports an extension's modules on each load, so compare by name, not by class.
    cog = bot.get_cog(cog_name)
    assert cog is not None, f"the {cog_name} feature is not loaded"
    return getattr(cog, attr)


def directory_service(bot: AttacheBot) -> DirectoryService:
    """A loaded feature's service, for assertions (features reach each other through `bot.features` only)."""
    return cast(DirectoryService, _loaded(bot, "Directory", "svc"))


def practice_service(bot: AttacheBot) -> PracticeService:
    return cast(PracticeService, _loaded(bot, "Practices", "service"))


def mou_service(bot: AttacheBot) -> MouService:
    return cast(MouService, _loaded(bot, "Mous", "svc"))


def roundtable_service(bot: AttacheBot) -> RoundtableService:
    return cast(RoundtableService, _loaded(bot, "Roundtables", "svc"))


@dataclass
class World:
    fake: FakeDiscord
    bot: AttacheBot
    guild: Guild
    general: Channel
    reviews: Channel
    announcements: Channel
    moderators: Role
    admin: Member
    mod: Member
    alice: Member
    bob: Member
    carol: Member
    dave: Member
    config: Config
    extra: dict[str, Any] = field(default_factory=dict)


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    raw: dict[str, Any] = {
        "database_path": "attache.db",
        "sync_commands": "global",
        "log_level": "DEBUG",
        "default_timezone": "UTC",
    }
    raw.update(overrides)
    return parse_config(raw, base_dir=tmp_path)


def populate(fake: FakeDiscord, name: str = "City Diplomacy") -> dict[str, Any]:
    guild = fake.add_guild(name=name)
    general = guild.add_text_channel("general")
    reviews = guild.add_text_channel("reviews")
    announcements = guild.add_text_channel("announcements")
    moderators = guild.add_role("Moderators", permissions=0)
    managers = guild.add_role("Server managers", permissions=Perm.MANAGE_GUILD)
    return {
        "guild": guild,
        "general": general,
        "reviews": reviews,
        "announcements": announcements,
        "moderators": moderators,
        "admin": guild.add_member(name="admin", roles=[managers]),
        "mod": guild.add_member(name="mod", roles=[moderators]),
        "alice": guild.add_member(name="alice"),
        "bob": guild.add_member(name="bob"),
        "carol": guild.add_member(name="carol"),
        "dave": guild.add_member(name="dave", dms_open=False),
    }


async def configure(bot: AttacheBot, parts: dict[str, Any]) -> None:
    gid = parts["guild"].id
    admin = parts["admin"].id
    await bot.settings.set(gid, "review_channel_id", parts["reviews"].id, actor_id=admin)
    await bot.settings.set(gid, "announcements_channel_id", parts["announcements"].id, actor_id=admin)
    await bot.settings.set(gid, "moderator_role_id", parts["moderators"].id, actor_id=admin)


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[AttacheBot]]


@pytest_asyncio.fixture
async def fake(fake_discord: FakeDiscord) -> FakeDiscord:
    return fake_discord


@pytest.fixture
def bot_factory(fake_discord: FakeDiscord, tmp_path: Path) -> BotFactory:
    """`async with bot_factory(config=None, scheduler_clock=None) as bot:` — a started bot."""

    @contextlib.asynccontextmanager
    async def factory(
        config: Config | None = None,
        scheduler_clock: Callable[[], datetime] | None = None,
        extensions: list[str] | None = None,
    ) -> AsyncIterator[AttacheBot]:
        cfg = config or make_config(tmp_path)
        kwargs: dict[str, Any] = {}
        if scheduler_clock is not None:
            kwargs["scheduler_clock"] = scheduler_clock
        if extensions is not None:
            kwargs["extensions"] = extensions
        bot = create_bot(cfg, **kwargs)
        async with run_bot(fake_discord, bot) as running:
            yield running

    return factory


@contextlib.asynccontextmanager
async def start_world(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    *,
    scheduler_clock: Callable[[], datetime] | None = None,
    extensions: list[str] | None = None,
    configure_settings: bool = True,
    config_overrides: dict[str, Any] | None = None,
) -> AsyncIterator[World]:
    """Like the `started_bot` fixture, with options (an injected clock, a subset of extensions, config keys
    such as `web`)."""
    parts = populate(fake_discord)
    cfg = make_config(tmp_path, **(config_overrides or {}))
    kwargs: dict[str, Any] = {}
    if scheduler_clock is not None:
        kwargs["scheduler_clock"] = scheduler_clock
        fake_discord.clock = scheduler_clock  # Discord's "now" moves with the bot's
    if extensions is not None:
        kwargs["extensions"] = extensions
    bot = create_bot(cfg, **kwargs)
    async with run_bot(fake_discord, bot):
        await fake_discord.wait_commands_synced()
        if configure_settings:
            await configure(bot, parts)
        yield World(fake=fake_discord, bot=bot, config=cfg, **parts)


@pytest_asyncio.fixture
async def started_bot(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    parts = populate(fake_discord)
    cfg = make_config(tmp_path)
    bot = create_bot(cfg)
    async with run_bot(fake_discord, bot):
        await fake_discord.wait_commands_synced()
        await configure(bot, parts)
        yield World(fake=fake_discord, bot=bot, config=cfg, **parts)

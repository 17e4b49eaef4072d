"""Sample data for `attache sandbox`, written through the features' own services (no discord import).

Each feature may ship `cogs/<feature>/sample.py` with
`async def seed_sample(ctx: SampleContext) -> list[str]` (the lines it reports), and optionally
`async def after_start(bot, ctx: StartContext) -> list[str]` to post what the demo needs once the bot is
connected; they run in FEATURE_ORDER (the directory first: the others name its cities), on the
sandbox database before the bot starts, so every feature reads the rows fresh when it loads. The kernel part
(the server's settings) is written here."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass
from typing import Any

import cogs
from bot.clock import Clock
from bot.db import Database
from bot.sandbox import demo
from bot.scheduler import Scheduler
from bot.settings import SettingsService

log = logging.getLogger(__name__)

FEATURE_ORDER = ("directory", "practices", "roundtables", "mous")
SAMPLE_KEY = "sandbox.seeded"


@dataclass(frozen=True)
class SampleContext:
    """What a feature's `seed_sample` gets: the sandbox database and the kernel services on it."""

    db: Database
    scheduler: Scheduler
    settings: SettingsService
    clock: Clock
    guild_id: int = demo.GUILD_ID


@dataclass(frozen=True)
class StartContext:
    """What a feature's optional `after_start(bot, ctx)` gets, once the bot is connected to the emulation."""

    guild_id: int = demo.GUILD_ID
    announcements_channel_id: int = demo.channel("announcements").id


def feature_samples() -> list[tuple[str, Any]]:
    """(feature, sample module) of every feature that ships one, directory first."""
    found: list[tuple[str, Any]] = []
    for info in pkgutil.iter_modules(cogs.__path__):
        if not info.ispkg:
            continue
        try:
            module: Any = importlib.import_module(f"cogs.{info.name}.sample")
        except ModuleNotFoundError as exc:
            if exc.name != f"cogs.{info.name}.sample":
                raise
            continue
        found.append((info.name, module))
    rank = {name: i for i, name in enumerate(FEATURE_ORDER)}
    return sorted(found, key=lambda item: (rank.get(item[0], len(rank)), item[0]))


async def configure_server(settings: SettingsService) -> None:
    """The demo server is set up as a secretariat would: review and announcements channels, moderators."""
    admin = demo.member("admin").id
    gid = demo.GUILD_ID
    await settings.set(gid, "review_channel_id", demo.channel("review").id, actor_id=admin)
    await settings.set(gid, "announcements_channel_id", demo.channel("announcements").id, actor_id=admin)
    await settings.set(gid, "moderator_role_id", demo.MOD_ROLE_ID, actor_id=admin)
    await settings.set(gid, "timezone", "Europe/Paris", actor_id=admin)


async def is_seeded(db: Database) -> bool:
    return await db.fetchval("SELECT value FROM meta WHERE key = ?", (SAMPLE_KEY,)) is not None


async def seed(db: Database, clock: Clock, *, default_timezone: str = "UTC") -> list[str]:
    """Write the sample data once (a no-op on a database already seeded); returns what was made."""
    if await is_seeded(db):
        return []
    scheduler = Scheduler(db, clock=clock)  # not started: jobs are written, the bot's scheduler runs them
    settings = SettingsService(db, default_timezone=default_timezone, clock=clock)
    await configure_server(settings)
    ctx = SampleContext(db=db, scheduler=scheduler, settings=settings, clock=clock)
    report: list[str] = []
    for name, module in feature_samples():
        lines = await module.seed_sample(ctx)
        log.info("sandbox: %s sample data: %s", name, "; ".join(lines))
        report.extend(lines)
    await db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (SAMPLE_KEY, clock().isoformat()),
    )
    return report


async def after_start(bot: Any) -> list[str]:
    """Run each feature's `after_start(bot, ctx)`, if it has one (messages the demo needs in the
    emulation)."""
    ctx = StartContext()
    report: list[str] = []
    for name, module in feature_samples():
        hook = getattr(module, "after_start", None)
        if hook is None:
            continue
        try:
            report.extend(await hook(bot, ctx))
        except Exception:
            log.exception("sandbox: %s could not prepare its sample messages", name)
    return report

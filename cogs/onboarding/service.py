"""The welcome message's bookkeeping: one per server (no discord import)."""

from __future__ import annotations

from datetime import datetime

from bot.clock import Clock, system_clock, to_ms
from bot.db import Database
from bot.scheduler import Scheduler

WELCOME_KIND = "onboarding.welcome"
WELCOME_KEY = "onboarding:welcome"


class WelcomeService:
    def __init__(self, db: Database, scheduler: Scheduler, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.scheduler = scheduler
        self.clock = clock

    async def claim(self, guild_id: int) -> bool:
        """Claim this server's welcome and enqueue the job that posts it, in one transaction; False when
        it was claimed before (already welcomed, or being welcomed)."""
        now: datetime = self.clock()
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO guild_welcomes (guild_id, claimed_ms) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO NOTHING", (guild_id, to_ms(now)))
            if not await self.db.fetchval("SELECT changes()"):
                return False
            await self.scheduler.schedule(WELCOME_KIND, now, guild_id=guild_id, dedupe_key=WELCOME_KEY)
        return True

    async def posted(self, guild_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE guild_welcomes SET channel_id = ?, message_id = ? WHERE guild_id = ?",
            (channel_id, message_id, guild_id))

    async def release(self, guild_id: int) -> None:
        """Nothing was posted (no channel to write in): a later invitation may try again."""
        await self.db.execute(
            "DELETE FROM guild_welcomes WHERE guild_id = ? AND message_id IS NULL", (guild_id,))

    async def welcome_message(self, guild_id: int) -> tuple[int, int] | None:
        row = await self.db.fetchone(
            "SELECT channel_id, message_id FROM guild_welcomes WHERE guild_id = ? AND message_id IS NOT NULL",
            (guild_id,))
        return None if row is None else (int(row["channel_id"]), int(row["message_id"]))

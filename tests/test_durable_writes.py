"""Durable, ordered writes.

* MOU re-planning (after a settings change, at start-up, after the digest) reads and writes in one
  transaction: a `/mou update` that lands meanwhile is never overwritten with stale dates.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.db import Database
from bot.scheduler import Scheduler
from cogs.mous.service import SETTING_SPECS, Actor, MouService
from cogs.settings.service import SettingsService

G = 1001
OWNER = Actor(501)


# -- MOU re-planning vs a concurrent update ---------------------------------------------------------
@pytest.fixture
async def mou_svc(db: Database) -> AsyncIterator[MouService]:
    settings = SettingsService(db, default_timezone="UTC")
    for spec in SETTING_SPECS:
        settings.register(spec)
    await settings.set(G, "announcements_channel_id", 777, actor_id=None)
    yield MouService(db, Scheduler(db, clock=lambda: datetime(2026, 1, 15, 12, 0, tzinfo=UTC)), settings)


async def _reminders(svc: MouService, agreement_id: int) -> dict[str, datetime]:
    return {j.dedupe_key: j.original_due_at for j in await svc.scheduler.pending(G, f"mou:{agreement_id}:")}


@pytest.mark.parametrize("which", ["replan_guild", "replan"])
async def test_replan_never_overwrites_a_concurrent_update(mou_svc: MouService, which: str) -> None:
    svc = mou_svc
    a = await svc.create(G, OWNER, kind="sister-city", title="Seoul–Paris", parties=["Seoul, KR", "Paris, FR"],
                         signed="2025-06-01", expires="2026-12-31", notice_days=90, owner_ids=[OWNER.id])
    before = await _reminders(svc, a.id)
    assert before and all(d.year == 2026 for k, d in before.items() if ":exp:" in k)

    # A pause between the re-plan's reads and its writes, long enough for an update to land in
    # between if nothing stops it (the old code read outside its transaction).
    original = svc._pending_map
    reached = asyncio.Event()

    async def paused(guild_id: int, prefix: str) -> dict[str, Any]:
        if not reached.is_set():
            reached.set()
            await asyncio.sleep(0.3)
        return await original(guild_id, prefix)

    svc._pending_map = paused  # type: ignore[method-assign]
    updated: list[str] = []

    async def update() -> None:
        await reached.wait()
        await svc.update(G, OWNER, a.id, expires="2031-06-30")
        updated.append("done")

    replan = svc.replan_guild(G, reconcile=False) if which == "replan_guild" else svc.replan(G, a.id)
    writer = asyncio.create_task(update())  # created outside the re-plan's transaction
    await asyncio.gather(replan, writer)
    svc._pending_map = original  # type: ignore[method-assign]
    assert updated == ["done"]

    after = await _reminders(svc, a.id)
    expiry = {k: d for k, d in after.items() if ":exp:" in k}
    assert expiry, after
    stale = sorted(k for k, d in expiry.items() if d.year < 2031)
    assert not stale, f"reminders planned from the old expiry overwrote the update's: {stale}"
    # and the stored plan is exactly what the stored agreement asks for: a fresh re-plan changes nothing
    stats = await svc.replan(G, a.id)
    assert (stats.scheduled, stats.cancelled) == (0, 0)

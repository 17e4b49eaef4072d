"""`attache sandbox` sample data for roundtables: a weekly series starting in two days, with answers from the
demo liaisons, marked "(sample)". No discord import."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.sandbox import demo
from bot.sandbox.seed import SampleContext, StartContext
from cogs.roundtables.service import RoundtableService

ANSWERS = {"sandiego": "going", "seoul": "going", "nairobi": "going", "tijuana": "maybe", "paris": "declined"}


async def seed_sample(ctx: SampleContext) -> list[str]:
    svc = RoundtableService(ctx.db, ctx.scheduler, settings=ctx.settings, clock=ctx.clock)
    now = ctx.clock()
    start = (now + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    rt = await svc.create(
        ctx.guild_id,
        demo.member("paris").id,
        title="Climate adaptation peer exchange (sample)",
        start=start,
        tz="Europe/Paris",
        duration_min=60,
        format="virtual",
        where="https://meet.example.org/climate",
        repeat="weekly",
        count=6,
        agenda=f"Heat plans, water reuse and financing. {demo.SAMPLE_NOTE}",
    )
    for key, answer in ANSWERS.items():
        await svc.rsvp(ctx.guild_id, rt.id, demo.member(key).id, answer)
        if answer == "going":
            await svc.set_reminders(ctx.guild_id, demo.member(key).id, True)  # reminder DMs, to watch them
    return [f"roundtable #{rt.id}: a weekly series of 6 from {start.isoformat()} with {len(ANSWERS)} answers"]


async def after_start(bot: Any, ctx: StartContext) -> list[str]:
    """Every sandbox start: post each upcoming roundtable's card with its RSVP buttons in #announcements (the
    emulation keeps messages in memory only, so a restart would otherwise leave no card to press), and mirror
    it in the server's Events tab."""
    cog = bot.get_cog("Roundtables")
    if cog is None:
        return []
    upcoming = await cog.svc.list_upcoming(ctx.guild_id)
    for rt in upcoming:
        await cog.post_announcement(rt, ctx.announcements_channel_id)
        await cog.sync_mirror(rt)
    return [f"{len(upcoming)} roundtable card(s) posted in #announcements"]

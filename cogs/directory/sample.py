"""`attache sandbox` sample data for the directory: the reference data (data/seed/) and the profiles of the
demo server's liaisons. No discord import."""

from __future__ import annotations

from bot.sandbox import demo
from bot.sandbox.seed import SampleContext
from cogs.directory.service import DirectoryService


async def seed_sample(ctx: SampleContext) -> list[str]:
    svc = DirectoryService(ctx.db, clock=ctx.clock)
    report = await svc.seed()  # the same path as `attache db seed`
    made = 0
    for person in demo.MEMBERS:
        if person.city is None or person.title is None:
            continue
        await svc.set_profile(
            ctx.guild_id,
            person.id,
            city=person.city,
            title=person.title,
            office=person.office,
            languages=person.languages,
            expertise=person.expertise,
            timezone=person.timezone,
            dm_ok=True,
        )
        made += 1
    return [f"reference directory loaded ({report})", f"{made} liaison profiles"]

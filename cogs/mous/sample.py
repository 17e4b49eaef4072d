"""`attache sandbox` sample data for the agreement tracker: agreements whose deadlines fall in the next
weeks, so renewal reminders and the digest fire when the sandbox clock moves. Marked "(sample)". No discord
import."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox import demo
from bot.sandbox.seed import SampleContext
from cogs.mous.records import Actor
from cogs.mous.service import MouService

# (kind, title, parties, years since signing, days until expiry, notice days, owner)
AGREEMENTS = (
    (
        "cooperation-agreement",
        "Border water and mobility cooperation",
        ("San Diego", "Tijuana"),
        3,
        20,
        30,
        "sandiego",
    ),
    ("mou", "Smart-city knowledge exchange", ("Seoul", "Paris"), 2, 45, 60, "seoul"),
    ("sister-city", "Nairobi–Paris cultural partnership", ("Nairobi", "Paris"), 5, 12, 14, "nairobi"),
)


async def seed_sample(ctx: SampleContext) -> list[str]:
    svc = MouService(ctx.db, ctx.scheduler, ctx.settings)
    today = ctx.clock().date()
    made: list[str] = []
    for kind, title, parties, years, days, notice, owner in AGREEMENTS:
        owner_id = demo.member(owner).id
        agreement = await svc.create(
            ctx.guild_id,
            Actor(id=demo.member("moderator").id, moderator=True),
            kind=kind,
            title=f"{title} (sample)",
            parties=parties,
            signed=(today - timedelta(days=365 * years)).isoformat(),
            expires=(today + timedelta(days=days)).isoformat(),
            notice_days=notice,
            owner_ids=(owner_id,),
            summary=demo.SAMPLE_NOTE,
        )
        made.append(f"#{agreement.id} expires in {days} days")
    return [f"{len(made)} sample agreements ({'; '.join(made)})"]

"""`attache sandbox` sample data for the practice library: a dozen practices in several review states, each
marked "(sample)". No discord import."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox import demo
from bot.sandbox.seed import SampleContext
from cogs.practices.service import Draft, Meta, PracticeService


@dataclass(frozen=True)
class _Sample:
    member: str
    city: str
    topics: tuple[str, ...]
    title: str
    summary: str
    approach: str
    outcome: str  # "approve", "request_changes", "reject" or "pending"
    sdgs: tuple[int, ...] = ()


SAMPLES: tuple[_Sample, ...] = (
    _Sample(
        "sandiego",
        "San Diego",
        ("climate", "water"),
        "Binational water reuse pilot",
        "San Diego and Tijuana share treated-water data to plan reuse across the border.",
        "A joint technical committee meets monthly; both utilities publish a shared dashboard.",
        "approve",
        (6, 11),
    ),
    _Sample(
        "tijuana",
        "Tijuana",
        ("migration", "inclusion"),
        "One-stop welcome centre for returnees",
        "Services for deported and returning residents in one building near the border crossing.",
        "City, state and NGOs staff desks for ID papers, jobs, health and housing.",
        "approve",
        (10, 16),
    ),
    _Sample(
        "seoul",
        "Seoul",
        ("technology", "governance"),
        "Open data for city diplomacy",
        "A public catalogue of the city's international agreements and their results.",
        "Each agreement gets a page with partners, dates and yearly outcomes, updated by the owners.",
        "approve",
        (16, 17),
    ),
    _Sample(
        "paris",
        "Paris",
        ("culture", "resilience"),
        "Heat-wave cultural refuges",
        "Museums and libraries open as cool rooms with programmes during heat waves.",
        "An alert plan lists venues, opening hours and staff; the city pays extra hours.",
        "approve",
        (3, 11),
    ),
    _Sample(
        "nairobi",
        "Nairobi",
        ("urban-planning", "health"),
        "Market street redesign with traders",
        "Traders co-designed shade, water points and waste collection for a central market street.",
        "Six workshops with trader associations; a pilot block first, then the whole street.",
        "approve",
        (11,),
    ),
    _Sample(
        "sandiego",
        "San Diego",
        ("trade", "economy"),
        "Cross-border small business mentoring",
        "Firms on both sides of the border mentor each other on export paperwork.",
        "A chamber of commerce pairs firms; the city hosts quarterly meet-ups.",
        "approve",
        (8,),
    ),
    _Sample(
        "seoul",
        "Seoul",
        ("climate",),
        "District heating from data-centre heat",
        "Waste heat from a data centre warms 3,000 flats through the district network.",
        "A public-private contract sets the heat price for 15 years.",
        "approve",
        (7, 13),
    ),
    _Sample(
        "paris",
        "Paris",
        ("education", "culture"),
        "Twin-school exchanges by video",
        "Classes in twinned cities meet by video every month and plan one joint project a year.",
        "Teachers get a kit and a contact in the twin city's education office.",
        "approve",
        (4,),
    ),
    _Sample(
        "nairobi",
        "Nairobi",
        ("food", "resilience"),
        "Urban farming on school grounds",
        "School plots grow vegetables for school meals and teach pupils farming.",
        "The county provides seeds and water tanks; parents run the plots in holidays.",
        "pending",
        (2, 4),
    ),
    _Sample(
        "tijuana",
        "Tijuana",
        ("security", "human-rights"),
        "Community mediators in border districts",
        "Trained residents mediate neighbour disputes before they reach the police.",
        "A twelve-week course, a small stipend and a referral line to social services.",
        "pending",
        (16,),
    ),
    _Sample(
        "seoul",
        "Seoul",
        ("technology",),
        "Chatbot for foreign residents",
        "A multilingual chatbot answers foreign residents' questions about city services.",
        "Built on the city's call-centre answers; reviewed monthly by the foreign residents' council.",
        "request_changes",
        (10,),
    ),
    _Sample(
        "paris",
        "Paris",
        ("economy",),
        "Tourist tax rebate for local shops",
        "A short note on a proposed rebate.",
        "Not yet written up.",
        "reject",
        (),
    ),
)

REASONS = {
    "request_changes": "Please add results: how many residents used it in the first year?",
    "reject": "Too short to help another city; please share it again with the approach and results.",
}


async def seed_sample(ctx: SampleContext) -> list[str]:
    # No scheduler: seeding announces nothing and sends no notices; the bot shows the library as it is.
    svc = PracticeService(ctx.db, clock=ctx.clock)
    moderator = demo.member("moderator").id
    counts: dict[str, int] = {}
    for sample in SAMPLES:
        practice = await svc.submit(
            ctx.guild_id,
            demo.member(sample.member).id,
            Draft(
                title=f"{sample.title} (sample)",
                summary=sample.summary,
                approach=sample.approach,
                lessons=demo.SAMPLE_NOTE,
            ),
            Meta(city_name=sample.city, topics=sample.topics, sdgs=sample.sdgs),
        )
        if sample.outcome != "pending":
            await svc.decide(
                ctx.guild_id,
                practice.id,
                actor_id=moderator,
                action=sample.outcome,
                reason=REASONS.get(sample.outcome),
            )
        counts[sample.outcome] = counts.get(sample.outcome, 0) + 1
    return [f"{len(SAMPLES)} sample practices ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))})"]

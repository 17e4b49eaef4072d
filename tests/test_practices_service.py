"""Service tests for the best-practice library: real SQLite with the real migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import audit
from bot.db import Database, latest_version, list_migrations
from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.interactions import error_text
from bot.scheduler import Scheduler
from cogs.practices import search as fts
from cogs.practices.service import (
    FIRST_RESULTS,
    Draft,
    Meta,
    PracticeService,
    SearchFilters,
    parse_links,
    parse_sdgs,
    parse_topics,
    split_city_text,
    title_similarity,
)

G1, G2 = 1001, 2002
ALICE, BOB, MOD, MOD2 = 11, 12, 90, 91


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def svc(db: Database) -> PracticeService:
    return PracticeService(db, clock=Clock())


def draft(title: str = "Cool roofs for heat resilience", **kw: str) -> Draft:
    base = {
        "summary": "Summers got hotter and poorer districts suffered most.",
        "approach": "We painted school roofs white and planted street trees.",
        "results": "Surface temperatures fell by 5 degrees.",
        "lessons": "Start with public buildings; the procurement is simpler.",
    }
    base.update(kw)
    return Draft(title, **base)


def meta(city: str = "Lyon", **kw: object) -> Meta:
    base: dict[str, object] = {"topics": ("climate",), "country": "FR"}
    base.update(kw)
    return Meta(city_name=city, **base)  # type: ignore[arg-type]


async def approved(svc: PracticeService, title: str, guild: int = G1, **kw: object) -> int:
    d_kw = {k: v for k, v in kw.items() if k in ("summary", "approach", "results", "lessons")}
    m_kw = {k: v for k, v in kw.items() if k not in d_kw}
    p = await svc.submit(guild, ALICE, draft(title, **d_kw), meta(**m_kw))  # type: ignore[arg-type]
    await svc.decide(guild, p.id, actor_id=MOD, action="approve")
    return p.id


# -- parsing -----------------------------------------------------------------------------------
def test_parse_topics_sdgs_links() -> None:
    assert parse_topics("Climate, water ; urban planning") == ("climate", "water", "urban-planning")
    with pytest.raises(InvalidInput, match="Unknown topic"):
        parse_topics("climate, weather")
    with pytest.raises(InvalidInput):
        parse_topics("")
    assert parse_sdgs("SDG 11, 13 11") == (11, 13)
    with pytest.raises(InvalidInput, match="17 SDGs"):
        parse_sdgs("18")
    with pytest.raises(InvalidInput):
        parse_sdgs("eleven")
    assert parse_links("https://a.org/x, http://b.com") == ("https://a.org/x", "http://b.com")
    with pytest.raises(InvalidInput, match="valid"):
        parse_links("javascript:alert(1)")
    with pytest.raises(InvalidInput, match="At most 5"):
        parse_links(" ".join(f"https://e{i}.org" for i in range(6)))
    assert split_city_text("Lyon, fr") == ("Lyon", "FR")
    assert split_city_text("Portland") == ("Portland", None)
    assert title_similarity("Cool roofs for heat", "Cool Roofs for Heat!") == 1.0
    assert title_similarity("Cool roofs", "Bike lanes") == 0.0


# -- records and state machine ---------------------------------------------------------------
async def test_submit_validates_and_records(svc: PracticeService, db: Database) -> None:
    p = await svc.submit(
        G1, ALICE, draft(), meta(sdgs=(11, 13), links=("https://lyon.fr/roofs",), year_started=2019)
    )
    assert (
        p.status == "pending" and p.submitter_id == ALICE and p.sdgs == (11, 13) and p.topics == ("climate",)
    )
    assert p.links == ("https://lyon.fr/roofs",) and p.country == "FR"
    entries = await audit.entries(db, G1, entity="practice")
    assert [e.action for e in entries] == ["practice.submit"]
    assert [r.action for r in await svc.revisions(G1, p.id)] == ["submit"]
    with pytest.raises(InvalidInput, match="Title can't be empty"):
        await svc.submit(G1, ALICE, draft("   "), meta())
    with pytest.raises(InvalidInput, match="limit is 150"):
        await svc.submit(G1, ALICE, draft("x" * 151), meta())
    with pytest.raises(InvalidInput, match="year started"):
        await svc.submit(G1, ALICE, draft(), meta(year_started=3000))
    # nothing half-saved by the failures
    assert len(await svc.mine(G1, ALICE)) == 1


async def test_state_machine(svc: PracticeService) -> None:
    p = await svc.submit(G1, ALICE, draft(), meta())
    with pytest.raises(InvalidInput, match="reason"):
        await svc.decide(G1, p.id, actor_id=MOD, action="reject", reason="  ")
    p = await svc.decide(G1, p.id, actor_id=MOD, action="request_changes", reason="Add results, please.")
    assert p.status == "changes_requested" and p.reason == "Add results, please." and p.decided_by == MOD
    p, resubmitted = await svc.edit(G1, p.id, actor_id=ALICE, is_moderator=False,
                                    draft=draft(results="Temperatures fell 5 °C in 2 years."))
    assert resubmitted and p.status == "pending"
    p = await svc.decide(G1, p.id, actor_id=MOD, action="approve")
    assert p.status == "approved" and p.approved_at is not None
    with pytest.raises(Conflict) as lost:
        await svc.decide(G1, p.id, actor_id=MOD2, action="reject", reason="no")
    assert "already approved by <@90>" in error_text(lost.value)  # as the member sees it
    p = await svc.archive(G1, p.id, actor_id=MOD)
    assert p.status == "archived"
    with pytest.raises(Conflict):
        await svc.archive(G1, p.id, actor_id=MOD)
    q = await svc.submit(G1, BOB, draft("Other"), meta())
    with pytest.raises(InvalidInput, match="Only approved"):
        await svc.archive(G1, q.id, actor_id=MOD)
    q = await svc.decide(G1, q.id, actor_id=MOD, action="reject", reason="Out of scope.")
    assert q.status == "rejected"
    actions = [r.action for r in await svc.revisions(G1, p.id)]
    assert actions == ["submit", "request_changes", "edit", "approve", "archive"]


async def test_concurrent_decision_reports_the_earlier_one(svc: PracticeService) -> None:
    p = await svc.submit(G1, ALICE, draft(), meta())
    seen = p.version  # both moderators look at the same card
    await svc.decide(
        G1, p.id, actor_id=MOD, action="request_changes", reason="Needs data", expected_version=seen
    )
    with pytest.raises(Conflict) as err:
        await svc.decide(G1, p.id, actor_id=MOD2, action="approve", expected_version=seen)
    assert "changes requested by <@90>" in error_text(err.value) and "<t:" in error_text(err.value)
    assert (await svc.get(G1, p.id)).status == "changes_requested"


async def test_duplicate(svc: PracticeService) -> None:
    a = await approved(svc, "Cool roofs")
    b = await svc.submit(G1, BOB, draft("Cool roofs again"), meta())
    with pytest.raises(InvalidInput):
        await svc.mark_duplicate(G1, b.id, b.id, actor_id=MOD)
    b = await svc.mark_duplicate(G1, b.id, a, actor_id=MOD)
    assert b.status == "rejected" and b.duplicate_of == a and f"#{a}" in (b.reason or "")
    c = await svc.submit(G1, BOB, draft("Third"), meta())
    with pytest.raises(InvalidInput, match="rejected"):
        await svc.mark_duplicate(G1, c.id, b.id, actor_id=MOD)


async def test_edit_permissions(svc: PracticeService) -> None:
    p = await svc.submit(G1, ALICE, draft(), meta())
    with pytest.raises(PermissionDenied, match="submitter or a moderator"):
        await svc.edit(G1, p.id, actor_id=BOB, is_moderator=False, draft=draft("Mine now"))
    with pytest.raises(InvalidInput, match="Nothing changed"):
        await svc.edit(G1, p.id, actor_id=ALICE, is_moderator=False, draft=draft())
    p, _ = await svc.edit(G1, p.id, actor_id=ALICE, is_moderator=False, draft=draft("Better title"))
    with pytest.raises(Conflict, match="changed while you were editing"):
        await svc.edit(G1, p.id, actor_id=ALICE, is_moderator=False, draft=draft("Stale"), expected_version=1)
    await svc.decide(G1, p.id, actor_id=MOD, action="approve")
    with pytest.raises(PermissionDenied, match="only moderators"):
        await svc.edit(G1, p.id, actor_id=ALICE, is_moderator=False, draft=draft("After approval"))
    p, resub = await svc.edit(G1, p.id, actor_id=MOD, is_moderator=True, draft=draft("Moderator fix"))
    assert p.status == "approved" and not resub
    res = await svc.search(G1, "moderator fix")
    assert [h.id for h in res.hits] == [p.id]
    assert not (await svc.search(G1, "better title")).hits
    revs = await svc.revisions(G1, p.id)
    assert revs[-1].changes["title"] == ["Better title", "Moderator fix"]


async def test_guild_isolation(svc: PracticeService) -> None:
    pid = await approved(svc, "Heat shelters in libraries")
    with pytest.raises(NotFound):
        await svc.get(G2, pid)
    with pytest.raises(NotFound):
        await svc.decide(G2, pid, actor_id=MOD, action="reject", reason="x")
    with pytest.raises(NotFound):
        await svc.endorse(G2, pid, BOB)
    assert not (await svc.search(G2, "heat")).hits
    assert not (await svc.search(G2, None)).hits
    assert await svc.autocomplete(G2, "heat") == []
    assert await svc.queue(G2) == [] and await svc.mine(G2, ALICE) == []
    assert (await svc.stats(G2)).total == 0 and await svc.export_rows(G2) == []
    assert await svc.approved_count_for_city(G2, None, "Lyon") == 0
    assert await svc.approved_count_for_city(G1, None, "lyon") == 1
    # a word only another guild uses is never offered as a correction here
    assert (await svc.search(G2, "shelterz")).corrected is None


async def test_endorse_and_adopt_once_per_member(svc: PracticeService) -> None:
    pid = await approved(svc, "Participatory budgeting")
    added, c = await svc.endorse(G1, pid, BOB)
    assert added and c.useful == 1
    added, c = await svc.endorse(G1, pid, BOB)
    assert not added and c.useful == 1
    await svc.endorse(G1, pid, ALICE)
    added, c = await svc.adopt(G1, pid, BOB, city_id=None, city_name="Porto", country="pt")
    assert added and c.adopted == 1 and c.adopting_cities == ("Porto, PT",)
    added, c = await svc.adopt(G1, pid, BOB, city_id=None, city_name="Braga", country="PT")
    assert not added and c.adopted == 1
    assert (await svc.counts(G1, pid)).useful == 2
    pending = await svc.submit(G1, ALICE, draft("Not yet"), meta())
    with pytest.raises(InvalidInput, match="only approved"):
        await svc.endorse(G1, pending.id, BOB)


# -- search ------------------------------------------------------------------------------------
async def test_search_ranking_filters_prefix_and_typos(svc: PracticeService) -> None:
    body = await approved(svc, "Neighbourhood cooling plan",
                          approach="Resilience hubs in every district, with resilience training.")
    title = await approved(
        svc, "Flood resilience for coastal districts", topics=("resilience", "water"), sdgs=(13,)
    )
    summ = await approved(svc, "Street trees", summary="Urban resilience starts with shade.", city="Porto",
                          country="PT", network_name="ICLEI")
    await svc.submit(G1, ALICE, draft("Resilience pending", summary="resilience"), meta())  # not approved

    res = await svc.search(G1, "resilience")
    assert [h.id for h in res.hits] == [title, summ, body]
    assert "\x02" in res.hits[0].snippet and "\x03" in res.hits[0].snippet
    assert [h.id for h in (await svc.search(G1, "resil")).hits] == [title, summ, body]  # prefix on last word
    assert [h.id for h in (await svc.search(G1, "resilience coastal")).hits] == [title]
    assert [h.id for h in (await svc.search(G1, "resilience", SearchFilters(topic="water"))).hits] == [title]
    assert [h.id for h in (await svc.search(G1, "resilience", SearchFilters(sdg=13))).hits] == [title]
    assert [h.id for h in (await svc.search(G1, "resilience", SearchFilters(city_name="porto"))).hits] == [
        summ
    ]
    assert [h.id for h in (await svc.search(G1, None, SearchFilters(network_name="iclei"))).hits] == [summ]
    assert not (await svc.search(G1, "resilience", SearchFilters(topic="water", city_name="Porto"))).hits
    typo = await svc.search(G1, "resilence")
    assert typo.corrected == ("resilience",) and [h.id for h in typo.hits] == [title, summ, body]
    typo2 = await svc.search(G1, "costal flood")
    assert typo2.corrected == ("coastal", "flood") and [h.id for h in typo2.hits] == [title]
    assert not (await svc.search(G1, "zzzzqqq")).hits
    # browse without words: newest approved first
    assert [h.id for h in (await svc.search(G1, "")).hits] == [summ, title, body]


async def test_search_pages_and_more_flag(svc: PracticeService) -> None:
    for i in range(7):
        await approved(svc, f"Water practice {i}")
    res = await svc.search(G1, "water", limit=5)
    assert len(res.hits) == 5 and res.more
    res = await svc.search(G1, "water", first=None)
    assert len(res.hits) == 7 and not res.more


async def test_archived_and_rejected_leave_the_index(svc: PracticeService, db: Database) -> None:
    pid = await approved(svc, "Heat wardens")
    assert (await svc.search(G1, "wardens")).hits
    edited, _ = await svc.edit(G1, pid, actor_id=MOD, is_moderator=True,
                               draft=draft("Heat stewards", summary="Stewards check on elderly residents."))
    assert not (await svc.search(G1, "wardens")).hits
    assert [h.id for h in (await svc.search(G1, "stewards")).hits] == [pid]
    await svc.archive(G1, pid, actor_id=MOD)
    assert not (await svc.search(G1, "stewards")).hits
    for table in ("practices_fts", "practices_head"):
        await db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table}_docsize") == 0  # no entry left behind
    # the contentless ranking index: consistent, and neither the old title nor the guild tag is left
    await db.execute("INSERT INTO practices_rank (practices_rank) VALUES ('integrity-check')")
    for match in ('title : "wardens"', 'title : "stewards"', f'tags : "g{G1}"'):
        assert (
            await db.fetchval("SELECT COUNT(*) FROM practices_rank WHERE practices_rank MATCH ?", (match,))
            == 0
        )


async def test_search_tiers_title_then_summary_then_body(svc: PracticeService) -> None:
    # many mentions in the body never outrank one in the summary, which never outranks the title
    body = await approved(svc, "Street lighting", approach="Canopy " * 60)
    summ = await approved(svc, "Shade plan", summary="A canopy over the market.")
    title = await approved(svc, "Tree canopy for schools")
    assert [h.id for h in (await svc.search(G1, "canopy")).hits] == [title, summ, body]
    # a page already full from the title tier does not need the others
    assert [h.id for h in (await svc.search(G1, "canopy", limit=1)).hits] == [title]
    # words spread over title and body are found together
    both = await svc.search(G1, "canopy lighting")
    assert [h.id for h in both.hits] == [body]


async def test_title_matches_rank_shortest_title_first_then_newest(svc: PracticeService) -> None:
    """bm25's order for title matches (each word once in the title): the shorter the title, the
    better; equal lengths, the newest first. practices_rank gives it by key order, with no cap."""
    long = await approved(svc, "Water metering for every household in the city")
    older_pair = await approved(svc, "Water kiosks")
    short = await approved(svc, "Water")
    newer_pair = await approved(svc, "Leakage water")
    other_guild = await approved(svc, "Water", guild=G2)
    summary_only = await approved(svc, "Rain barrels", summary="Water for gardens.")
    got = [h.id for h in (await svc.search(G1, "water")).hits]
    assert got == [short, newer_pair, older_pair, long, summary_only]
    assert [h.id for h in (await svc.search(G2, "water")).hits] == [other_guild]
    # several words: all of them in the title, same order rule; prefix on the last word
    assert [h.id for h in (await svc.search(G1, "water kio")).hits] == [older_pair]
    # an edited title moves in the ranking, and its old words leave the index
    await svc.edit(G1, short, actor_id=MOD, is_moderator=True, draft=draft("Water fountains in every park"))
    got = [h.id for h in (await svc.search(G1, "water")).hits]
    assert got == [newer_pair, older_pair, short, long, summary_only]


async def test_topic_and_sdg_filter_together_is_one_tag(svc: PracticeService) -> None:
    """A topic and an SDG filter match practices that have both (any of their topics with any of
    their SDGs), in every tier, and nothing else."""
    both = await approved(svc, "Clinic gardens", topics=("health", "food"), sdgs=(2, 3))
    in_summary = await approved(
        svc, "Kitchen plots", summary="Clinic patients grow food.", topics=("food",), sdgs=(3,)
    )
    topic_only = await approved(svc, "Clinic outreach", topics=("food",), sdgs=(10,))
    await approved(svc, "Clinic staffing", topics=("health",), sdgs=(10,))
    await approved(svc, "Clinic gardens", guild=G2, topics=("food",), sdgs=(3,))

    async def ids(topic: str | None, sdg: int | None) -> list[int]:
        return [h.id for h in (await svc.search(G1, "clinic", SearchFilters(topic=topic, sdg=sdg))).hits]

    assert await ids("food", 3) == [both, in_summary]
    assert await ids("health", 2) == [both]
    assert await ids("food", None) == [topic_only, both, in_summary]  # equal title lengths: newest first
    assert await ids(None, 10) == [topic_only + 1, topic_only]
    assert await ids("climate", 3) == []


async def test_search_candidate_cap_ranks_the_newest_matches(
    svc: PracticeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Patched in the module the service's class was built from: a test that unloads an extension makes
    # discord.py drop cogs.* from sys.modules, so a later import is another module object than the one
    # this test module's PracticeService uses.
    ranking_globals = type(svc)._tiers.__globals__

    # the word is in the summaries: the tiers that rank with bm25 (title matches are never capped)
    ids = [
        await approved(svc, f"Practice number {i}", summary=f"Compost {'hubs ' * (i % 3)}in every district.")
        for i in range(8)
    ]
    full = [h.id for h in (await svc.search(G1, "compost", first=None)).hits]
    assert sorted(full) == sorted(ids)
    monkeypatch.setitem(ranking_globals, "CANDIDATE_BUDGET", 3)
    monkeypatch.setitem(ranking_globals, "TIER_MIN_CANDIDATES", 3)
    capped = [h.id for h in (await svc.search(G1, "compost", first=None)).hits]
    # only the newest matches are ranked per tier, so a capped search still answers, from the newest
    assert capped and set(capped) <= set(ids) and set(ids[-3:]) <= set(capped)


async def test_small_server_ranking_is_the_capped_tiers_ranking(
    svc: PracticeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server (or a filter) holding fewer practices than a tier's cap ranks all its matches directly
    (its tag inside the FTS query, no count, no floor): the very ranking the counted tiers give, with
    another server's matching practices in the same index."""
    topics = ("climate", "water", "urban-planning")
    for i in range(24):
        await approved(svc, f"{'Flood ' if i % 4 == 0 else ''}plan {i}", topics=(topics[i % 3],),
                       summary=f"{'Flood maps and ' * (i % 3)}drains {i}.",
                       approach=f"{'Rain gardens for flood water. ' * (i % 5)}Step {i}.")
    for i in range(30):  # the other server: newer matches of the same words
        await approved(svc, f"Flood plan elsewhere {i}", guild=G2, summary="Flood drains.")
    queries = [("flood", SearchFilters()), ("flood drains", SearchFilters()), ("rain", SearchFilters()),
               ("flood", SearchFilters(topic="water")), ("flo", SearchFilters(language="en")),
               ("garden", SearchFilters(topic="urban-planning"))]

    async def rankings() -> list[list[int]]:
        svc._small_cache.clear()
        return [[h.id for h in (await svc.search(G1, q, f, first=None)).hits] for q, f in queries]

    direct = await rankings()  # fewer than TIER_MIN_CANDIDATES practices: ranked directly
    assert all(direct) and len(direct[0]) > 10
    assert svc._small_cache and all(small for _, small in svc._small_cache.values())
    # now "big": counted, capped tiers (patched where the class looks, as in the candidate cap test)
    monkeypatch.setitem(type(svc)._small.__globals__, "TIER_MIN_CANDIDATES", 1)
    assert await rankings() == direct
    assert not any(small for _, small in svc._small_cache.values())


async def test_search_equal_scores_rank_newest_first(svc: PracticeService) -> None:
    # same word count, one mention each: equal bm25 in every tier, so the newest comes first
    ids = [await approved(svc, f"Compost hubs {w}") for w in ("north", "south", "east", "west")]
    assert [h.id for h in (await svc.search(G1, "compost")).hits] == ids[::-1]
    assert [h.id for h in (await svc.search(G1, "compost", SearchFilters(topic="climate"))).hits] == ids[::-1]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "heat*",
        "-heat",
        "title:heat",
        "(heat",
        "heat)",
        "NEAR(heat cool)",
        "heat AND",
        "OR",
        "NOT heat",
        "^heat",
        "heat + cool",
        "{title}: x",
        "'; DROP TABLE practices; --",
        "*",
        "héat",
        "🔥 heat",
        "a" * 500,
    ],
)
async def test_fts_syntax_is_just_words(svc: PracticeService, query: str) -> None:
    await approved(svc, "Heat and cool roofs")
    res = await svc.search(G1, query)
    assert isinstance(res.hits, tuple)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
    | st.lists(
        st.sampled_from(
            [
                '"',
                "*",
                "-",
                ":",
                "(",
                ")",
                "NEAR",
                "AND",
                "OR",
                "NOT",
                "^",
                "+",
                "{",
                "}",
                "heat",
                "x",
                " ",
                ",",
                "title",
                "\x00",
                "'",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_match_expression_never_raises_in_fts5(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('heat and cool', 'near title')")
    expr = fts.match_expression(fts.words(text))
    if expr is not None:
        conn.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t)", (expr,)).fetchall()
    conn.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60), topic=st.sampled_from([None, "climate", "water"]))
async def test_service_search_fuzz(svc: PracticeService, query: str, topic: str | None) -> None:
    res = await svc.search(G1, query, SearchFilters(topic=topic))
    assert len(res.hits) <= 50


def test_edit_distance_and_corrections() -> None:
    assert fts.edit_distance("resilence", "resilience", 2) == 1
    assert fts.edit_distance("costal", "coastal", 2) == 1
    assert fts.edit_distance("abcd", "bacd", 2) == 1  # transposition
    assert fts.edit_distance("abc", "xyz", 1) == 2
    vocab = [("resilience", 10), ("residents", 50), ("resilient", 3)]
    assert fts.best_corrections("resilence", vocab)[0] == "resilience"
    assert fts.best_corrections("cat", vocab) == []
    assert fts.words("Héllo, WORLD! a_b NEAR(x)") == ["hello", "world", "a", "b", "near", "x"]
    assert fts.match_expression(["heat", "cool"]) == '"heat" AND "cool"*'
    assert fts.match_expression(["heat", "co"]) == '"heat" AND "co"'


# -- queue, mine, stats, export ------------------------------------------------------------
async def test_queue_mine_stats_export_similar(svc: PracticeService) -> None:
    a = await svc.submit(G1, ALICE, draft("First"), meta())
    b = await svc.submit(G1, BOB, draft("Second"), meta(city="Nairobi", country="KE", topics=("health",)))
    await svc.decide(G1, b.id, actor_id=MOD, action="request_changes", reason="More detail")
    c = await approved(svc, "Third", city="Nairobi", country="KE", topics=("health", "water"), sdgs=(3, 6))
    assert [p.id for p in await svc.queue(G1)] == [a.id, b.id]
    assert [p.id for p in await svc.mine(G1, BOB)] == [b.id]
    s = await svc.stats(G1)
    assert s.total == 1 and s.open == 2
    assert dict(s.by_topic)["health"] == 1 and dict(s.by_sdg)[6] == 1
    assert dict(s.by_country) == {"KE": 1} and dict(s.by_region) == {"Africa": 1}
    assert "climate" in s.missing_topics and "Europe" in s.missing_regions
    rows = await svc.export_rows(G1)
    assert (
        [r["id"] for r in rows] == [c]
        and rows[0]["topics"] == ["health", "water"]
        and rows[0]["sdgs"] == [3, 6]
    )
    sim = await svc.similar(G1, "the first!", city_id=None, city_name="lyon")
    assert [p.id for p in sim] == [a.id]
    assert await svc.similar(G1, "First", city_id=None, city_name="Paris") == []
    ac = await svc.autocomplete(G1, "thi")
    assert ac == [(c, "Third", "approved")]
    assert (await svc.autocomplete(G1, str(a.id)))[0][0] == a.id


async def test_stats_reused_until_the_library_changes(svc: PracticeService, db: Database) -> None:
    """The counts are computed once per library version; every kind of write bumps the version (the
    database's triggers), whoever writes: the service, another process, a server's purge."""
    first = await approved(svc, "First", topics=("health",))
    v1 = await svc.library_version(G1)
    s1 = await svc.stats(G1)
    assert await svc.stats(G1) is s1 and await svc.library_version(G1) == v1  # reused, not recomputed
    assert await svc.library_version(G2) == 0  # another server's counter is its own
    await approved(svc, "Second", topics=("water",))
    s2 = await svc.stats(G1)
    assert s2 is not s1 and s2.total == 2 and dict(s2.by_topic)["water"] == 1
    # a write outside the service (the CLI import, another process) is seen too
    await db.execute("UPDATE practices SET topics_mask = 1 WHERE guild_id = ? AND id = ?", (G1, first))
    assert await svc.library_version(G1) > v1 + 1
    s3 = await svc.stats(G1)
    assert s3 is not s2 and dict(s3.by_topic)["health"] == 0
    # a change of something the counts do not show leaves them be
    version = await svc.library_version(G1)
    await db.execute("UPDATE practices SET review_message_id = 5 WHERE guild_id = ?", (G1,))
    assert await svc.library_version(G1) == version and await svc.stats(G1) is s3
    await db.execute("DELETE FROM practices WHERE guild_id = ?", (G1,))
    assert (await svc.stats(G1)).total == 0
    await db.execute("DELETE FROM practice_library_versions WHERE guild_id = ?", (G1,))
    await db.execute("DELETE FROM practices WHERE guild_id = ?", (G1,))  # a purge leaves no counter row
    assert await db.fetchval("SELECT COUNT(*) FROM practice_library_versions WHERE guild_id = ?", (G1,)) == 0


async def test_search_through_read_connections_sees_committed_writes(svc: PracticeService) -> None:
    await svc.open_readers(2)
    try:
        assert svc.read_pool is not None
        assert not (await svc.search(G1, "wetlands")).hits
        pid = await approved(svc, "Wetlands restored upstream")
        results = await asyncio.gather(*(svc.search(G1, "wetlands") for _ in range(6)))
        assert all([h.id for h in r.hits] == [pid] for r in results)
        assert "\x02" in results[0].hits[0].snippet
        await svc.archive(G1, pid, actor_id=MOD)
        assert not (await svc.search(G1, "wetlands")).hits
    finally:
        await svc.close_readers()
    assert svc.read_pool is None and (await svc.search(G1, "")).hits == ()


async def test_rank_first_falls_back_when_another_guild_owns_the_best_matches(svc: PracticeService) -> None:
    theirs = [await approved(svc, f"Compost compost compost {i}", guild=G2) for i in range(12)]
    ours = [await approved(svc, "Compost hubs in parks"), await approved(svc, "Neighbourhood compost")]
    got = [h.id for h in (await svc.search(G1, "compost", limit=1)).hits]
    assert len(got) == 1 and got[0] in ours
    assert sorted(h.id for h in (await svc.search(G1, "compost")).hits) == sorted(ours)
    assert len((await svc.search(G2, "compost", first=None)).hits) == len(theirs)


async def test_first_pages_first_then_the_rest_in_the_same_order(svc: PracticeService) -> None:
    """A search answers with its first page as soon as it is sure; complete() ranks the
    rest, and the whole list is exactly the ranking done at once, whichever tiers hold the hits."""
    for i in range(7):
        await approved(svc, f"Flood maps {'for schools ' * (i % 3)}{i}")  # title tier
    for i in range(6):
        await approved(svc, f"Summary {i}", summary=f"Flood {'warnings ' * (i % 2)}by text.")  # title+summary
    for i in range(5):
        await approved(svc, f"Body {i}", approach=f"We mapped every flood {i}.")  # body only
    full = await svc.search(G1, "flood", first=None)
    assert full.complete and len(full.hits) == 18
    part = await svc.search(G1, "flood")
    assert not part.complete and not part.more
    assert [h.id for h in part.hits] == [h.id for h in full.hits[:FIRST_RESULTS]]
    assert part.hits[0].snippet  # the first page comes with its snippets
    done = await svc.complete(part)
    assert done.complete and [h.id for h in done.hits] == [h.id for h in full.hits]
    assert done.hits[0].snippet == part.hits[0].snippet  # what was shown keeps its snippet
    assert await svc.complete(done) is done
    # few enough hits: complete at once
    small = await svc.search(G1, "warnings")
    assert small.complete and len(small.hits) == 3
    # filters and corrections keep the same contract
    f = SearchFilters(topic="climate")
    part = await svc.search(G1, "flod", f)
    assert part.corrected == ("flood",) and not part.complete
    assert [h.id for h in (await svc.complete(part)).hits] == [h.id for h in full.hits]


async def test_decision_on_a_version_edited_since_reports_the_edit(svc: PracticeService) -> None:
    p = await svc.submit(G1, ALICE, draft(), meta())
    seen = p.version  # the card the moderator is looking at
    await svc.edit(G1, p.id, actor_id=ALICE, is_moderator=False, draft=draft(results="Now with figures."))
    with pytest.raises(Conflict, match="was edited") as err:
        await svc.decide(G1, p.id, actor_id=MOD, action="approve", expected_version=seen)
    assert f"/practice show id:{p.id}" in err.value.message
    assert (await svc.get(G1, p.id)).status == "pending"


async def test_topic_and_sdg_filters_follow_edits_archive_and_guilds(svc: PracticeService) -> None:
    """Topic/SDG filters read practices_fts_tags (kept by triggers): it follows metadata edits, leaves
    with archiving, and never lets another guild's practices through."""
    pid = await approved(svc, "Rain gardens for flood resilience", topics=("water",), sdgs=(6,))
    other = await approved(svc, "Rain gardens for flood resilience", guild=G2, topics=("water",), sdgs=(6,))
    only = SearchFilters(topic="water", sdg=6)
    assert [h.id for h in (await svc.search(G1, "rain", only)).hits] == [pid]
    assert [h.id for h in (await svc.search(G2, "rain", only)).hits] == [other]
    await svc.edit(G1, pid, actor_id=MOD, is_moderator=True, meta=meta(topics=("health",), sdgs=(3,)))
    assert not (await svc.search(G1, "rain", SearchFilters(topic="water"))).hits
    assert not (await svc.search(G1, "rain", SearchFilters(sdg=6))).hits
    assert [h.id for h in (await svc.search(G1, "rain", SearchFilters(topic="health", sdg=3))).hits] == [pid]
    assert [h.id for h in (await svc.search(G2, "rain", only)).hits] == [other]
    await svc.archive(G1, pid, actor_id=MOD)
    assert not (await svc.search(G1, "rain", SearchFilters(topic="health"))).hits


async def test_migration_006_indexes_the_practices_already_approved(tmp_path: Path) -> None:
    """An installation upgraded from schema 5 finds its approved practices through practices_rank
    (title tier, guild and filter tags) without re-approving anything."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for mig in list_migrations()[:5]:
        conn.executescript(f"BEGIN;{mig.sql()};PRAGMA user_version={mig.version};COMMIT;")
    rows = [  # id, guild, status, topics (water = bit 13), SDGs (6 = bit 5), title
        (1, G1, "approved", 1 << 13, 1 << 5, "Leak detection with acoustic sensors"),
        (2, G1, "pending", 1 << 13, 1 << 5, "Leak detection pilot"),
        (3, G2, "approved", 1 << 13, 1 << 5, "Leak detection"),
    ]
    conn.executemany(
        "INSERT INTO practices (id, guild_id, status, topics_mask, sdgs_mask, city_name, submitter_id, "
        "created_ms, updated_ms, approved_ms, title, summary, approach) "
        "VALUES (?, ?, ?, ?, ?, 'Lyon', 1, 0, 0, 0, ?, 'Pipes leaked.', 'Sensors.')", rows)
    conn.commit()
    conn.close()
    d = Database(path)
    await d.connect()
    try:
        assert (await d.migrate())[1] == latest_version()
        svc = PracticeService(d, clock=Clock())
        assert [h.id for h in (await svc.search(G1, "leak")).hits] == [1]
        assert [h.id for h in (await svc.search(G1, "leak", SearchFilters(topic="water", sdg=6))).hits] == [1]
        assert not (await svc.search(G1, "leak", SearchFilters(topic="water", sdg=7))).hits
        assert [h.id for h in (await svc.search(G2, "detection")).hits] == [3]
        # the summary index (with its tags) is rebuilt too
        assert [h.id for h in (await svc.search(G1, "pipes", SearchFilters(topic="water"))).hits] == [1]
        assert not (await svc.search(G1, "pipes", SearchFilters(topic="health"))).hits
        assert (await svc.search(G1, "pipez")).corrected == ("pipes",)
    finally:
        await d.close()


async def test_vocabulary_kept_loaded_follows_changes(
    svc: PracticeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the vocabulary kept loaded, nothing is loaded at start-up; a guild's first misspelt search
    is corrected from the index and loads that guild's vocabulary, so the next ones are corrected from
    memory; a change to the library makes the loaded copy stale at once (lookups go to the index until
    the reload)."""
    from cogs.practices import ranking as service_mod

    monkeypatch.setattr(service_mod, "VOCAB_RELOAD_DELAY", 0.0)
    await approved(svc, "Heat wardens for elderly residents")
    await svc.keep_vocabulary_loaded()
    assert svc._vocab_task is None and not svc._vocab_guilds  # nothing at start-up
    assert (await svc.search(G1, "wardenz")).corrected == ("wardens",)
    assert svc._vocab_task is not None
    await svc._vocab_task
    assert list(svc._vocab_guilds) == [G1] and "wardens" in dict(svc._vocab_guilds[G1][1]["wa"])
    queries: list[str] = []
    real_run = svc._run

    async def spy(steps: Any) -> Any:
        def wrapped() -> Any:
            sql, params = next(steps)
            try:
                while True:
                    queries.append(sql)
                    sql, params = steps.send((yield sql, params))
            except StopIteration as stop:
                return stop.value
        return await real_run(wrapped())

    monkeypatch.setattr(svc, "_run", spy)
    res = await svc.search(G1, "warddens")
    assert res.corrected == ("wardens",) and res.hits
    assert not any("practice_terms" in q for q in queries)  # from memory
    # a new word: the loaded copy is stale at once, so the index answers until the reload
    await approved(svc, "Cooling shelters in libraries")
    queries.clear()
    assert (await svc.search(G1, "shelterz")).corrected == ("shelters",)
    assert any("practice_terms" in q for q in queries)
    task = svc._vocab_task
    assert task is not None
    await task
    assert svc._vocab_guilds[G1][0] == svc._vocab_generation
    assert "shelters" in dict(svc._vocab_guilds[G1][1]["sh"])
    await svc.stop_vocabulary()
    assert svc._vocab_task is None


async def test_loaded_vocabularies_are_bounded(svc: PracticeService) -> None:
    """At most VOCAB_MAX_TERMS terms stay loaded: the guild that misspelt least recently is dropped first,
    and its lookups go back to the index (still correct)."""
    await approved(svc, "Heat wardens for elderly residents")
    await approved(svc, "Desalination plant", guild=G2, summary="Desalination of sea water.")
    await svc.keep_vocabulary_loaded()
    n1 = await svc.load_vocabulary(G1)
    n2 = await svc.load_vocabulary(G2)
    assert list(svc._vocab_guilds) == [G1, G2] and svc._vocab_terms == n1 + n2
    svc.vocab_max_terms = n1 + n2 - 1
    await svc.load_vocabulary(G1)  # G1 again: now the most recent, G2 the oldest
    assert list(svc._vocab_guilds) == [G1] and svc._vocab_terms == n1
    assert (await svc.search(G2, "desalinatoin")).corrected == ("desalination",)
    await svc.stop_vocabulary()


# -- servers don't see each other (issue 11) -----------------------------------------------------
async def test_suggestions_come_from_this_guilds_vocabulary_only(svc: PracticeService) -> None:
    """Another server's word is never suggested, and never hides this server's own correction (the
    closer word "desalination" exists only in G2; G1's nearest word is "desalinator")."""
    for i in range(3):
        await approved(svc, f"Desalination plant {i}", guild=G2, summary="Desalination of sea water.")
    assert (await svc.search(G2, "desalinatoin")).corrected == ("desalination",)
    assert (await svc.search(G1, "desalinatoin")).corrected is None  # G1 has no such word at all
    ours = await approved(svc, "A solar desalinator for the harbour")
    for loaded in (False, True):  # looked up in the index, then from the loaded vocabulary
        if loaded:
            await svc.load_vocabulary(G1)
        res = await svc.search(G1, "desalinatoin")
        assert res.corrected == ("desalinator",) and [h.id for h in res.hits] == [ours]
        bucket = await _bucket(svc, G1, "de")
        assert "desalinator" in dict(bucket) and "desalination" not in dict(bucket), bucket
    # a word only another server has is not "known" here: searched as is, it finds this server's
    # practice through the stem the two words share (desalin), never the other server's
    res = await svc.search(G1, "desalination")
    assert res.corrected is None and [h.id for h in res.hits] == [ours]


async def _bucket(svc: PracticeService, guild: int, key: str) -> list[tuple[str, int]]:
    steps = svc._vocab_bucket(guild, key)
    try:
        sql, params = next(steps)
        while True:
            sql, params = steps.send(await svc.db.fetchall(sql, params))
    except StopIteration as stop:
        return list(stop.value)


async def test_vocabulary_counts_follow_edits_and_decisions_per_guild(
    svc: PracticeService, db: Database
) -> None:
    a = await approved(svc, "Tidal gardens", summary="Gardens on the tidal flats.")
    await approved(svc, "Tidal gardens", guild=G2, summary="Gardens.")
    terms = {
        r[0]: r[1]
        for r in await db.fetchall("SELECT term, docs FROM practice_terms WHERE guild_id = ?", (G1,))
    }
    assert terms["tidal"] == 1 and terms["gardens"] == 1 and terms["flats"] == 1
    await svc.edit(G1, a, actor_id=MOD, is_moderator=True, draft=draft("Tidal orchards", summary="Orchards."))
    terms = {
        r[0]: r[1]
        for r in await db.fetchall("SELECT term, docs FROM practice_terms WHERE guild_id = ?", (G1,))
    }
    assert "gardens" not in terms and "flats" not in terms and terms["orchards"] == 1
    await svc.archive(G1, a, actor_id=MOD)
    assert await db.fetchval("SELECT COUNT(*) FROM practice_terms WHERE guild_id = ?", (G1,)) == 0
    assert (
        await db.fetchval("SELECT docs FROM practice_terms WHERE guild_id = ? AND term = 'gardens'", (G2,))
        == 1
    )


async def test_another_guilds_newer_matches_never_push_ours_out(
    svc: PracticeService, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bm25 tiers rank a capped number of the newest matches: of this server only. G2's many
    newer matches (more than the cap) leave G1's results and their order exactly as they were."""
    from cogs.practices import ranking as service_mod

    monkeypatch.setattr(service_mod, "CANDIDATE_BUDGET", 20)
    monkeypatch.setattr(service_mod, "TIER_MIN_CANDIDATES", 20)
    # the word is in the summaries (and the bodies): the capped bm25 tiers, not the title walk
    ours = [
        await approved(svc, f"Practice number {i}", summary=f"Compost {'hubs ' * (i % 3)}in every district.")
        for i in range(12)
    ]
    body = [
        await approved(svc, f"Other practice {i}", approach="Compost bins for every school.")
        for i in range(3)
    ]
    queries = ("compost", "compost hubs", "compost*", "district compost")
    before = {q: (await svc.search(G1, q, first=None)) for q in queries}
    assert sorted(h.id for h in before["compost"].hits) == sorted(ours + body)
    # far more than the cap, all newer, all matching in every tier
    await db.executemany(
        "INSERT INTO practices (guild_id, status, topics_mask, city_name, submitter_id, created_ms, "
        "updated_ms, approved_ms, title, summary, approach) "
        "VALUES (?, 'approved', 1, 'Oslo', 5, 0, 0, 0, ?, ?, ?)",
        [
            (G2, f"Compost depot {i}", "Compost hubs in every district, compost everywhere.", "Compost.")
            for i in range(60)
        ],
    )
    for q in queries:
        after = await svc.search(G1, q, first=None)
        assert [h.id for h in after.hits] == [h.id for h in before[q].hits], q
        assert after.more == before[q].more
    assert len((await svc.search(G2, "compost", first=None)).hits) == 50


async def test_titles_under_review_only_for_their_submitter_and_moderators(svc: PracticeService) -> None:
    ok = await approved(svc, "Harbour ferries on schedule")
    mine = (await svc.submit(G1, ALICE, draft("Harbour ferries at night"), meta())).id
    theirs = (await svc.submit(G1, BOB, draft("Harbour ferries for freight"), meta())).id
    rejected = (await svc.submit(G1, BOB, draft("Harbour ferries everywhere"), meta())).id
    await svc.decide(G1, rejected, actor_id=MOD, action="reject", reason="Too vague.")
    changes = (await svc.submit(G1, BOB, draft("Harbour ferries, electric"), meta())).id
    await svc.decide(G1, changes, actor_id=MOD, action="request_changes", reason="Add numbers.")

    def ids(rows: Any) -> set[int]:
        return {r[0] for r in rows}

    for cur in ("", "harbour", "ferries", str(theirs)[:1]):
        alice = ids(await svc.autocomplete(G1, cur, viewer_id=ALICE))
        assert theirs not in alice and rejected not in alice and changes not in alice, cur
    assert ids(await svc.autocomplete(G1, "harbour", viewer_id=ALICE)) == {ok, mine}
    assert ids(await svc.autocomplete(G1, "harbour", viewer_id=BOB)) == {ok, theirs, rejected, changes}
    assert ids(await svc.autocomplete(G1, "harbour")) == {ok, mine, theirs, rejected, changes}  # a moderator
    similar = {p.id for p in await svc.similar(G1, "Harbour ferries", city_id=None, city_name="Lyon",
                                               viewer_id=ALICE, threshold=0.1)}
    assert similar == {ok, mine}
    similar = {p.id for p in await svc.similar(G1, "Harbour ferries", city_id=None, city_name="Lyon",
                                               viewer_id=BOB, threshold=0.1)}
    assert similar == {ok, theirs, changes}  # rejected ones are never duplicates candidates
    similar = {p.id for p in await svc.similar(G1, "Harbour ferries", city_id=None, city_name="Lyon",
                                               threshold=0.1)}
    assert similar == {ok, mine, theirs, changes}


async def test_migration_007_indexes_per_guild_from_schema_6(tmp_path: Path) -> None:
    """An installation upgraded from schema 6 keeps finding its approved practices, now per guild
    (counts, caps, suggestions), with the vocabulary of each guild built from what was approved."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for mig in list_migrations()[:6]:
        conn.executescript(f"BEGIN;{mig.sql()};PRAGMA user_version={mig.version};COMMIT;")
    rows = [  # id, guild, status, title, summary
        (1, G1, "approved", "Leak detection with acoustic sensors", "Pipes leaked under the old town."),
        (2, G1, "pending", "Leak detection pilot", "Secret pending pipeline words."),
        (3, G2, "approved", "Desalination for the islands", "Pipes and pumps."),
        (4, G1, "approved", "Rain gardens", "Pipes overflowed after storms."),
    ]
    conn.executemany(
        "INSERT INTO practices (id, guild_id, status, topics_mask, sdgs_mask, city_name, submitter_id, "
        "created_ms, updated_ms, approved_ms, title, summary, approach) "
        "VALUES (?, ?, ?, 8192, 32, 'Lyon', 1, 0, 0, 0, ?, ?, 'Sensors.')", rows)
    conn.commit()
    conn.close()
    d = Database(path)
    await d.connect()
    try:
        assert (await d.migrate())[1] == latest_version() >= 7
        svc = PracticeService(d, clock=Clock())
        assert [h.id for h in (await svc.search(G1, "leak")).hits] == [1]
        assert sorted(h.id for h in (await svc.search(G1, "pipes")).hits) == [1, 4]
        assert [h.id for h in (await svc.search(G2, "pipes")).hits] == [3]
        assert sorted(h.id for h in (await svc.search(G1, "sensors")).hits) == [1, 4]  # the body tier
        assert (await svc.search(G1, "pipez")).corrected == ("pipes",)
        assert (await svc.search(G1, "desalinatoin")).corrected is None  # G2's word
        assert (await svc.search(G2, "desalinatoin")).corrected == ("desalination",)
        terms = {
            (r[0], r[1]): r[2] for r in await d.fetchall("SELECT guild_id, term, docs FROM practice_terms")
        }
        assert terms[(G1, "pipes")] == 2 and terms[(G2, "pipes")] == 1
        assert (G1, "secret") not in terms and (G1, "pumps") not in terms  # pending; the other guild
        for table in ("practices_fts", "practices_head"):
            await d.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        # the triggers keep it from now on
        await svc.decide(G1, 2, actor_id=MOD, action="approve")
        assert (await svc.search(G1, "secert")).corrected == ("secret",)
    finally:
        await d.close()


async def test_no_notice_is_enqueued_for_a_former_member(db: Database) -> None:
    """A member who asked to be forgotten (submitter id FORMER_MEMBER) is never sent a decision notice; the
    announcement of an approval still is."""
    from bot.retention import FORMER_MEMBER

    clock = Clock()
    sched = Scheduler(db, clock=clock)
    s = PracticeService(db, clock=clock, scheduler=sched)
    gone = await s.submit(G1, FORMER_MEMBER, draft("Kept after its author left"), meta())
    here = await s.submit(G1, ALICE, draft("Still with us"), meta())
    await s.decide(G1, gone.id, actor_id=MOD, action="approve")
    await s.decide(G1, here.id, actor_id=MOD, action="approve")
    kinds = [
        (r["dedupe_key"], r["kind"])
        for r in await db.fetchall("SELECT dedupe_key, kind FROM jobs ORDER BY id")
    ]
    notices = [k for k, kind in kinds if kind == "practice.notice"]
    announcements = [k for k, kind in kinds if kind == "practice.announce"]
    assert len(notices) == 1 and str(here.id) in notices[0]
    assert len(announcements) == 2

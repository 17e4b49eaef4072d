"""The counts /practice stats reads (practice_library_counts, kept by triggers) stay exactly what counting
the library from scratch gives, through every kind of write, per server."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.db import Database, latest_version, list_migrations
from bot.retention import purge_guild
from bot.scheduler import Scheduler
from cogs.practices.service import Draft, Meta, PracticeService
from cogs.privacy.service import PrivacyService

G1, G2 = 1001, 2002
ALICE, BOB, CAROL, MOD = 11, 12, 13, 90


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


FROM_SCRATCH = """
SELECT guild_id, 'status', status, COUNT(*) FROM practices GROUP BY 1, 2, 3
UNION ALL SELECT guild_id, 'topics', topics_mask, COUNT(*) FROM practices WHERE status = 'approved'
    GROUP BY 1, 2, 3
UNION ALL SELECT guild_id, 'sdgs', sdgs_mask, COUNT(*) FROM practices WHERE status = 'approved'
    GROUP BY 1, 2, 3
UNION ALL SELECT guild_id, 'country', COALESCE(country, ''), COUNT(*) FROM practices WHERE status = 'approved'
    GROUP BY 1, 2, 3
UNION ALL SELECT guild_id, 'city', city_id, COUNT(*) FROM practices
    WHERE status = 'approved' AND city_id IS NOT NULL GROUP BY 1, 2, 3
UNION ALL SELECT a.guild_id, 'adopted', a.city_id, COUNT(*) FROM practice_adoptions a
    JOIN practices p ON p.id = a.practice_id WHERE p.status = 'approved' AND a.city_id IS NOT NULL
    GROUP BY 1, 2, 3
"""


async def assert_exact(db: Database) -> set[tuple[Any, ...]]:
    kept = {tuple(r) for r in await db.fetchall(
        "SELECT guild_id, dim, item, n FROM practice_library_counts WHERE n <> 0")}
    counted = {tuple(r) for r in await db.fetchall(FROM_SCRATCH)}
    assert kept == counted
    assert not await db.fetchval("SELECT COUNT(*) FROM practice_library_counts WHERE n < 0")
    return kept


async def city(db: Database, name: str) -> tuple[int, str]:
    row = await db.fetchone(
        "SELECT id, country FROM cities WHERE guild_id IS NULL AND name = ? AND latitude IS NOT NULL "
        "ORDER BY population DESC LIMIT 1", (name,))
    assert row is not None
    return int(row["id"]), str(row["country"])


def draft(title: str) -> Draft:
    return Draft(title, "A summary of the practice.", "What the city did, step by step.", "", "")


async def test_counts_follow_every_write_exactly(seeded_db: Database) -> None:
    db = seeded_db
    svc = PracticeService(db, clock=Clock())
    lyon, paris, nairobi = await city(db, "Lyon"), await city(db, "Paris"), await city(db, "Nairobi")

    async def submit(guild: int, who: int, title: str, where: tuple[int, str] | None, **kw: Any) -> int:
        m = Meta(city_name=title.split()[0], city_id=where[0] if where else None,
                 country=where[1] if where else None, **{"topics": ("climate",), **kw})
        return (await svc.submit(guild, who, draft(title), m)).id

    ids = [await submit(G1, ALICE, "Lyon roofs", lyon, sdgs=(11, 13)),
           await submit(G1, BOB, "Paris bikes", paris, topics=("urban-planning", "climate")),
           await submit(G1, ALICE, "Somewhere free text", None),
           await submit(G2, ALICE, "Nairobi markets", nairobi, topics=("economy",)),
           await submit(G1, CAROL, "Lyon schools", lyon, topics=("education",))]
    await assert_exact(db)
    for pid, g in zip(ids[:4], (G1, G1, G1, G2), strict=True):
        await svc.decide(g, pid, actor_id=MOD, action="approve")
    await svc.decide(G1, ids[4], actor_id=MOD, action="request_changes", reason="More detail, please.")
    await assert_exact(db)

    # adoptions, some by cities of the directory and some typed as text, in both servers
    await svc.adopt(G1, ids[0], BOB, city_id=paris[0], city_name="Paris", country="FR")
    await svc.adopt(G1, ids[0], CAROL, city_id=nairobi[0], city_name="Nairobi", country="KE")
    await svc.adopt(G1, ids[1], ALICE, city_id=lyon[0], city_name="Lyon", country="FR")
    await svc.adopt(G1, ids[1], CAROL, city_id=None, city_name="Villeneuve", country="FR")
    await svc.adopt(G2, ids[3], BOB, city_id=lyon[0], city_name="Lyon", country="FR")
    await svc.adopt(G1, ids[0], BOB, city_id=paris[0], city_name="Paris", country="FR")  # again: no change
    await assert_exact(db)

    # edits: topics, SDGs, city and country change; a changes_requested practice goes back to pending
    await svc.edit(G1, ids[0], actor_id=MOD, is_moderator=True,
                   meta=Meta(city_name="Nairobi", city_id=nairobi[0], country="KE", topics=("water",),
                             sdgs=(6,)))
    await svc.edit(G1, ids[4], actor_id=CAROL, is_moderator=False,
                   meta=Meta(city_name="Paris", city_id=paris[0], country="FR", topics=("education",)))
    await assert_exact(db)

    # archive and reject take practices (and their adoptions) off the counts
    await svc.archive(G1, ids[1], actor_id=MOD)
    await svc.decide(G1, ids[4], actor_id=MOD, action="reject", reason="Out of scope.")
    kept = await assert_exact(db)
    assert (G1, "adopted", lyon[0], 1) not in kept  # the archived practice's adoption left the map
    assert (G2, "adopted", lyon[0], 1) in kept  # the other server's stays

    # forget-me deletes the member's submissions still under review and their adoptions
    pending = await submit(G1, BOB, "Paris night buses", paris)
    await assert_exact(db)
    await PrivacyService(db, Scheduler(db)).forget(G1, BOB)
    assert await db.fetchval("SELECT COUNT(*) FROM practices WHERE id = ?", (pending,)) == 0
    await assert_exact(db)

    # deleting a practice deletes its adoptions too (ON DELETE CASCADE); deleting a city of the directory
    # sets the practices' and adoptions' city to NULL
    await db.execute("DELETE FROM practices WHERE id = ?", (ids[0],))
    await assert_exact(db)
    await db.execute("UPDATE cities SET guild_id = ? WHERE id = ?", (G2, nairobi[0]))
    await db.execute("DELETE FROM cities WHERE id = ?", (nairobi[0],))
    await assert_exact(db)

    # a server's purge leaves none of its counts behind, and the other server's intact
    g2_before = {r for r in await assert_exact(db) if r[0] == G2}
    await purge_guild(db, G1, batch=2)
    after = await assert_exact(db)
    assert not await db.fetchval("SELECT COUNT(*) FROM practice_library_counts WHERE guild_id = ?", (G1,))
    assert {r for r in after if r[0] == G2} == g2_before


async def test_stats_and_map_read_the_kept_counts(seeded_db: Database) -> None:
    """The stats and the map equal the counts computed over the practices (the queries they replaced)."""
    db = seeded_db
    svc = PracticeService(db, clock=Clock())
    lyon, paris = await city(db, "Lyon"), await city(db, "Paris")
    places = ((lyon, ("climate",)), (lyon, ("water", "climate")), (paris, ("economy",)))
    for i, (where, topics) in enumerate(places):
        m = Meta(city_name="x", city_id=where[0], country=where[1], topics=topics, sdgs=(i + 1,))
        p = await svc.submit(G1, ALICE, draft(f"Practice {i}"), m)
        await svc.decide(G1, p.id, actor_id=MOD, action="approve")
    p = await svc.submit(G1, ALICE, draft("Free text one"), Meta(city_name="Atlantis", topics=("water",)))
    await svc.decide(G1, p.id, actor_id=MOD, action="approve")
    await svc.submit(G1, BOB, draft("Waiting"), Meta(city_name="Lyon", topics=("water",)))
    await svc.adopt(G1, p.id, BOB, city_id=paris[0], city_name="Paris", country="FR")
    await svc.submit(G2, BOB, draft("Elsewhere"), Meta(city_name="Lyon", city_id=lyon[0], topics=("water",)))

    stats = await svc.stats(G1)
    assert stats.total == 4 and stats.open == 1
    assert dict(stats.by_topic)["climate"] == 2 and dict(stats.by_topic)["water"] == 2
    assert dict(stats.by_country) == {"FR": 3, "??": 1}
    assert {s: n for s, n in stats.by_sdg if n} == {1: 1, 2: 1, 3: 1}
    m = await svc.library_map(G1)
    assert [(pt.name, pt.count) for pt in m.practices] == [("Lyon", 2), ("Paris", 1)]
    assert [(pt.name, pt.count) for pt in m.adoptions] == [("Paris", 1)]
    assert m.unplaced == 1
    assert (await svc.stats(G2)).total == 0 and (await svc.library_map(G2)).practices == ()


async def test_migration_backfills_the_counts_of_an_existing_library(tmp_path: Path) -> None:
    """An installation upgraded from the schema before the kept counts gets them counted from its data."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    migrations = list_migrations()
    before = next(i for i, m in enumerate(migrations) if "practice-library-counts" in m.path.name)
    for mig in migrations[:before]:
        conn.executescript(f"BEGIN;{mig.sql()};PRAGMA user_version={mig.version};COMMIT;")
    conn.execute("INSERT INTO cities (id, name, key, country, timezone, latitude, longitude) "
                 "VALUES (7, 'Lyon', 'lyon', 'FR', 'Europe/Paris', 45.75, 4.85)")
    conn.executemany(
        "INSERT INTO practices (id, guild_id, status, topics_mask, sdgs_mask, city_id, city_name, country, "
        "submitter_id, created_ms, updated_ms, title, summary, approach) "
        "VALUES (?, ?, ?, ?, ?, ?, 'Lyon', ?, 1, 0, 0, 'A title', 'A summary.', 'An approach.')",
        [(1, G1, "approved", 1, 4, 7, "FR"), (2, G1, "approved", 3, 0, None, None),
         (3, G1, "pending", 1, 0, 7, "FR"), (4, G2, "archived", 1, 0, 7, "FR")])
    conn.executemany(
        "INSERT INTO practice_adoptions (guild_id, practice_id, user_id, city_id, city_name, country, at_ms) "
        "VALUES (?, ?, ?, 7, 'Lyon', 'FR', 0)", [(G1, 1, 5), (G1, 2, 6), (G2, 4, 5)])
    conn.commit()
    conn.close()
    d = Database(path)
    await d.connect()
    try:
        assert (await d.migrate())[1] == latest_version()
        kept = await assert_exact(d)
        assert (G1, "status", "approved", 2) in kept and (G1, "adopted", 7, 2) in kept
        assert not [r for r in kept if r[0] == G2 and r[1] != "status"]
        stats = await PracticeService(d, clock=Clock()).stats(G1)
        assert (stats.total, stats.open, dict(stats.by_country)) == (2, 1, {"FR": 1, "??": 1})
    finally:
        await d.close()

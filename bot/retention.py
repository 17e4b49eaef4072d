"""Data that does not stay forever: retention pruning and the purge of a server the bot left.

Both delete in batches (`BATCH` rows per transaction, yielding to the event loop between), so the
write lock is never held for long and members' commands keep being answered meanwhile.

The tables of a server are found from the schema, not from a list: every table with a `guild_id`
column (tests/test_db.py checks that every content table has one). Rows whose `guild_id` is NULL are
shared reference data (gazetteer, seed networks) and are never touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import to_ms
from bot.db import Database
from bot.i18n import N_

log = logging.getLogger(__name__)

BATCH = 1000

# Who a row is attributed to once its member asked to be forgotten (`/privacy forget-me`): columns
# that must hold a member (practices.submitter_id, roundtables.host_id, audit.actor_id…) get this id,
# which renders as "a former member". Discord never issues snowflake 0.
FORMER_MEMBER = 0
FORMER_MEMBER_LABEL = N_("a former member")  # a catalog id: shown with t(lang, …)

Pause = Callable[[], Awaitable[None]]


async def _yield() -> None:
    await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class GuildTable:
    name: str
    key: tuple[str, ...]  # primary key columns, or ("rowid",)


@dataclass(slots=True)
class PurgeResult:
    guild_id: int
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def guild_tables(db: Database) -> list[GuildTable]:
    """Every table with a guild_id column, children before the tables they reference (so a batch never
    cascades into an unbounded number of child rows)."""
    names = [r[0] for r in await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    tables: dict[str, GuildTable] = {}
    refs: dict[str, set[str]] = {}
    for name in names:
        cols = await db.fetchall("SELECT name, pk FROM pragma_table_info(?)", (name,))
        if "guild_id" not in {c[0] for c in cols}:
            continue
        pk = tuple(c[0] for c in sorted((c for c in cols if c[1] > 0), key=lambda c: c[1]))
        tables[name] = GuildTable(name, pk or ("rowid",))
        refs[name] = {
            r[0] for r in await db.fetchall('SELECT "table" FROM pragma_foreign_key_list(?)', (name,))
        }
    ordered: list[GuildTable] = []
    seen: set[str] = set()

    def visit(name: str, path: frozenset[str]) -> None:
        if name in seen or name in path:
            return
        # every table that references `name` goes first
        for child, parents in refs.items():
            if name in parents and child != name:
                visit(child, path | {name})
        seen.add(name)
        ordered.append(tables[name])

    for name in sorted(tables):
        visit(name, frozenset())
    return ordered


async def _delete_batched(db: Database, table: GuildTable, where: str, params: tuple[object, ...],
                          batch: int, pause: Pause) -> int:
    """DELETE … WHERE <where> in batches of `batch` rows, one short transaction each."""
    key = ", ".join(table.key)
    lhs = f"({key})" if len(table.key) > 1 else key
    # Table and column names come from the schema (sqlite_master), never from user input.
    sql = (f"DELETE FROM \"{table.name}\" WHERE {lhs} IN "
           f"(SELECT {key} FROM \"{table.name}\" WHERE {where} LIMIT ?)")
    total = 0
    while True:
        async with db.transaction():
            n = await db.execute(sql, (*params, batch))
        total += n
        if n < batch:
            return total
        await pause()


async def purge_guild(
    db: Database, guild_id: int, *, batch: int = BATCH, pause: Pause = _yield
) -> PurgeResult:
    """Delete every row of one server, in every table with a guild_id, its departure record last."""
    result = PurgeResult(guild_id)
    tables = [t for t in await guild_tables(db) if t.name != "guild_departures"]
    for table in tables:
        n = await _delete_batched(db, table, "guild_id = ?", (guild_id,), batch, pause)
        if n:
            result.rows[table.name] = n
    n = await db.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))
    if n:
        result.rows["guild_departures"] = n
    log.info("purged guild %s: %d row(s) in %d table(s)", guild_id, result.total, len(result.rows))
    return result


async def departures_due(db: Database, now: datetime, grace_days: int) -> list[int]:
    """Servers the bot left at least `grace_days` ago."""
    cutoff = to_ms(now - timedelta(days=grace_days))
    rows = await db.fetchall(
        "SELECT guild_id FROM guild_departures WHERE left_ms <= ? ORDER BY left_ms", (cutoff,)
    )
    return [int(r[0]) for r in rows]


@dataclass(frozen=True, slots=True)
class PruneResult:
    jobs: int
    audit: int


async def prune(db: Database, now: datetime, *, jobs_days: int, audit_days: int, batch: int = BATCH,
                pause: Pause = _yield) -> PruneResult:
    """Delete finished jobs older than `jobs_days` and audit rows older than `audit_days`, in batches."""
    job_cutoff = to_ms(now - timedelta(days=jobs_days))
    audit_cutoff = to_ms(now - timedelta(days=audit_days))
    jobs = await _delete_batched(
        db, GuildTable("jobs", ("id",)),
        "status IN ('done', 'failed', 'skipped', 'cancelled') AND COALESCE(finished_ms, updated_ms) < ?",
        (job_cutoff,), batch, pause)
    audit = await _delete_batched(
        db, GuildTable("audit", ("id",)), "at_ms < ?", (audit_cutoff,), batch, pause
    )
    if jobs or audit:
        log.info(
            "retention: pruned %d finished job(s) older than %d days and %d audit row(s) older than %d days",
            jobs,
            jobs_days,
            audit,
            audit_days,
        )
    return PruneResult(jobs, audit)

"""The audit log: every member or moderator write, recorded in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import from_ms, to_ms
from bot.db import Database
from bot.export import Column, NameLookup, id_cell, member_ids, write_csv


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    guild_id: int
    actor_id: int | None
    action: str
    entity: str
    entity_id: str | None
    at: datetime
    changes: dict[str, Any]


def _compact(value: Any, limit: int = 300) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    if isinstance(value, dict):
        return {str(k): _compact(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_compact(v, limit) for v in value][:50]
    return value


async def record(
    db: Database,
    *,
    guild_id: int,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    changes: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Write one audit row. Call it inside the transaction of the write it describes."""
    await db.execute(
        "INSERT INTO audit (guild_id, actor_id, action, entity, entity_id, at_ms, changes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            guild_id,
            actor_id,
            action,
            entity,
            None if entity_id is None else str(entity_id),
            to_ms(at or db.clock()),
            json.dumps(_compact(changes or {}), ensure_ascii=False, default=str, separators=(",", ":")),
        ),
    )


async def record_many(
    db: Database,
    *,
    guild_id: int,
    actor_id: int | None,
    action: str,
    entity: str,
    items: Iterable[tuple[str | int | None, dict[str, Any] | None]],
    at: datetime | None = None,
) -> int:
    """`record` for many rows of one action at once (entity id and changes each), in one statement: a
    start-up that moves 2,000 agreements' statuses writes their audit rows together. Inside the caller's
    transaction. Returns how many rows."""
    at_ms = to_ms(at or db.clock())
    rows = [
        (guild_id, actor_id, action, entity, None if entity_id is None else str(entity_id), at_ms,
         json.dumps(_compact(changes or {}), ensure_ascii=False, default=str, separators=(",", ":")))
        for entity_id, changes in items
    ]
    if rows:
        await db.executemany(
            "INSERT INTO audit (guild_id, actor_id, action, entity, entity_id, at_ms, changes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


async def entries(
    db: Database,
    guild_id: int,
    *,
    actor_id: int | None = None,
    entity: str | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Newest first, this guild only."""
    sql = "SELECT * FROM audit WHERE guild_id = ?"
    params: list[Any] = [guild_id]
    if actor_id is not None:
        sql += " AND actor_id = ?"
        params.append(actor_id)
    if entity:
        sql += " AND entity = ?"
        params.append(entity)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    rows = await db.fetchall(sql, params)
    return [
        AuditEntry(
            id=r["id"],
            guild_id=r["guild_id"],
            actor_id=r["actor_id"],
            action=r["action"],
            entity=r["entity"],
            entity_id=r["entity_id"],
            at=from_ms(r["at_ms"]),
            changes=json.loads(r["changes"]),
        )
        for r in rows
    ]


async def entity_kinds(db: Database, guild_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT DISTINCT entity FROM audit WHERE guild_id = ? ORDER BY entity LIMIT 25", (guild_id,)
    )
    return [r[0] for r in rows]


# -- export ------------------------------------------------------------------------------------
EXPORT_MAX_ROWS = 50_000
AUDIT_COLUMNS: list[Column | str] = [
    "id",
    "at_utc",
    Column("actor_id", "member"),
    "action",
    "entity",
    "entity_id",
    "changes",
]


async def export_csv(db: Database, guild_id: int, *, actor_id: int | None = None, entity: str | None = None,
                     names: NameLookup | None = None) -> tuple[int, bytes]:
    """(rows, CSV bytes) of this guild's audit log, newest first, at most EXPORT_MAX_ROWS rows.

    `changes` is the stored JSON as one text cell (neutralised like every cell); an entity id that
    is a Discord id (a profile's member) is written as text like the actor's."""
    rows = await entries(db, guild_id, actor_id=actor_id, entity=entity, limit=EXPORT_MAX_ROWS)
    records = [{
        "id": e.id, "at_utc": e.at.isoformat(timespec="seconds"), "actor_id": e.actor_id, "action": e.action,
        "entity": e.entity,
        "entity_id": id_cell(e.entity_id) if e.entity_id and e.entity_id.isdigit() and len(e.entity_id) >= 15
        else e.entity_id,
        "changes": json.dumps(e.changes, ensure_ascii=False, separators=(",", ":")),
    } for e in rows]
    known = await names(member_ids(records, AUDIT_COLUMNS)) if names is not None and records else {}
    return len(records), write_csv(AUDIT_COLUMNS, records, names=known)


# -- taking data back (/privacy forget-me, /profile clear) ----------------------------------------
REMOVED = "[removed]"


def scrub_values(value: Any) -> Any:
    """The same shape with every value dropped: keys stay (what changed), values become "[removed]"."""
    if isinstance(value, dict):
        return {k: scrub_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_values(v) for v in value]
    return None if value is None or isinstance(value, bool) else REMOVED


def replace_id(value: Any, user_id: int, by: int) -> Any:
    """Every occurrence of a member id (as a number or a digit string) replaced by `by`."""
    if isinstance(value, dict):
        return {k: replace_id(v, user_id, by) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_id(v, user_id, by) for v in value]
    if (isinstance(value, int) and not isinstance(value, bool) and value == user_id) or value == str(user_id):
        return by
    return value


def _dump(changes: Any) -> str:
    return json.dumps(changes, ensure_ascii=False, default=str, separators=(",", ":"))


async def scrub_entity(db: Database, guild_id: int, entity: str, entity_id: str | int) -> int:
    """Keep the audit rows of one entity (e.g. a member's profile) but drop the values they hold."""
    rows = await db.fetchall(
        "SELECT id, changes FROM audit WHERE guild_id = ? AND entity = ? AND entity_id = ?",
        (guild_id, entity, str(entity_id)),
    )
    for r in rows:
        await db.execute(
            "UPDATE audit SET changes = ? WHERE id = ?", (_dump(scrub_values(json.loads(r[1]))), r[0])
        )
    return len(rows)


async def forget_member(db: Database, guild_id: int, user_id: int, *, former: int) -> int:
    """A member asked to be forgotten in one server: their own rows keep the action but lose the values
    and name `former` as actor; the profile rows about them lose the values and their id; any other row
    that names them (an owner added, a waitlist promotion) names `former` instead. Returns rows changed."""
    changed = 0
    rows = await db.fetchall(
        "SELECT id, actor_id, entity, entity_id, changes FROM audit WHERE guild_id = ? AND "
        "(actor_id = ? OR (entity = 'profile' AND entity_id = ?) OR instr(changes, ?) > 0)",
        (guild_id, user_id, str(user_id), str(user_id)))
    for r in rows:
        changes = json.loads(r["changes"])
        own = r["actor_id"] == user_id or (r["entity"] == "profile" and r["entity_id"] == str(user_id))
        new = scrub_values(changes) if own else replace_id(changes, user_id, former)
        await db.execute(
            "UPDATE audit SET actor_id = CASE WHEN actor_id = ? THEN ? ELSE actor_id END, "
            "entity_id = CASE WHEN entity_id = ? THEN ? ELSE entity_id END, changes = ? WHERE id = ?",
            (user_id, former, str(user_id), str(former), _dump(new), r["id"]))
        changed += 1
    return changed

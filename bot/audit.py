"""The audit log: every member or moderator write, recorded in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db import Database
from bot.export import Column, NameLookup, id_cell, member_ids, write_csv
from bot.scheduler import from_ms, system_clock, to_ms


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
            to_ms(at or system_clock()),
            json.dumps(_compact(changes or {}), ensure_ascii=False, default=str, separators=(",", ":")),
        ),
    )


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
    rows = await db.fetchall("SELECT DISTINCT entity FROM audit WHERE guild_id = ? ORDER BY entity LIMIT 25", (guild_id,))
    return [r[0] for r in rows]


# -- export ------------------------------------------------------------------------------------
EXPORT_MAX_ROWS = 50_000
AUDIT_COLUMNS: list[Column | str] = ["id", "at_utc", Column("actor_id", "member"), "action", "entity", "entity_id",
                                     "changes"]


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

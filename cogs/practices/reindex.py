"""The Python step of the search-languages migration (data/migrations/*-search-languages.sql): every
practice's language normalised and its text stemmed into practices.ix_*, in batches, with progress
logged. Runs inside the migration's transaction (bot.db.Database.migrate), with the index triggers
dropped, so nothing is indexed twice; the SQL after the step indexes the approved practices again.
No discord import."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiosqlite

from cogs.practices.stemming import index_columns, language_code

log = logging.getLogger(__name__)

BATCH = 2000

_SELECT = (
    "SELECT id, language, title, summary, approach, results, lessons FROM practices "
    "WHERE id > ? ORDER BY id LIMIT ?"
)
_UPDATE = (
    "UPDATE practices SET language = ?, ix_title = ?, ix_summary = ?, ix_approach = ?, ix_results = ?, "
    "ix_lessons = ? WHERE id = ?"
)


def stem_rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    """(language, five stemmed columns, id) for each (id, language, five texts) row."""
    out: list[tuple[Any, ...]] = []
    for pid, language, title, summary, approach, results, lessons in rows:
        lang = language_code(language)
        out.append((lang, *index_columns(title, summary, approach, results or "", lessons or "", lang), pid))
    return out


async def reindex(conn: aiosqlite.Connection, *, batch: int = BATCH) -> int:
    """Stem every practice (the stemming runs in a worker thread, a batch at a time). Returns the
    number of practices."""
    total_row = await (await conn.execute("SELECT count(*) FROM practices")).fetchone()
    total = int(total_row[0]) if total_row else 0
    log.info("search index: stemming %d practices in their languages", total)
    done, last = 0, 0
    while True:
        cur = await conn.execute(_SELECT, (last, batch))
        rows = list(await cur.fetchall())
        await cur.close()
        if not rows:
            break
        updates = await asyncio.to_thread(stem_rows, rows)
        await conn.executemany(_UPDATE, updates)
        done += len(rows)
        last = rows[-1][0]
        log.info("search index: %d/%d practices stemmed", done, total)
    return done

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.db import (
    Database,
    DatabaseError,
    DatabaseLocked,
    DatabaseTooNew,
    ProcessLock,
    backup_file,
    check_file,
    latest_version,
    list_migrations,
    placeholders,
)


def schema_of(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    return [(n, " ".join(s.split())) for n, s in rows]


async def test_pragmas(db: Database) -> None:
    assert (await db.fetchval("PRAGMA journal_mode")).lower() == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") == 5000
    assert await db.fetchval("PRAGMA synchronous") == 1  # NORMAL
    assert await db.user_version() == latest_version()


def test_migrations_are_numbered_without_gaps() -> None:
    migs = list_migrations()
    assert [m.version for m in migs] == list(range(1, len(migs) + 1))


@pytest.mark.parametrize("start", range(0, latest_version()))
async def test_upgrade_from_every_older_version(tmp_path: Path, start: int) -> None:
    fresh = tmp_path / "fresh.db"
    d = Database(fresh)
    await d.connect()
    await d.migrate()
    await d.close()

    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    for mig in list_migrations()[:start]:
        conn.executescript(f"BEGIN;{mig.sql()};PRAGMA user_version={mig.version};COMMIT;")
    conn.close()
    d = Database(old)
    await d.connect()
    before, after = await d.migrate()
    await d.close()
    assert (before, after) == (start, latest_version())
    assert schema_of(old) == schema_of(fresh)


async def test_newer_database_refuses(tmp_path: Path) -> None:
    p = tmp_path / "new.db"
    conn = sqlite3.connect(p)
    conn.execute(f"PRAGMA user_version = {latest_version() + 5}")
    conn.close()
    d = Database(p)
    await d.connect()
    with pytest.raises(DatabaseTooNew, match="Upgrade Attaché"):
        await d.migrate()
    await d.close()


async def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    mig_dir = tmp_path / "migs"
    mig_dir.mkdir()
    (mig_dir / "001-ok.sql").write_text("CREATE TABLE a (x INTEGER);")
    (mig_dir / "002-bad.sql").write_text("CREATE TABLE b (x INTEGER);\nINSERT INTO nope VALUES (1);")
    d = Database(tmp_path / "m.db")
    await d.connect()
    with pytest.raises(DatabaseError, match="002-bad.sql"):
        await d.migrate(mig_dir)
    assert await d.user_version() == 1
    assert await d.fetchval("SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0
    await d.close()


async def test_not_sqlite_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.db"
    p.write_text("this is a text file, not a database\n" * 10)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        await Database(p).connect()
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        check_file(p)


async def test_query_helper_parameters_and_transactions(db: Database) -> None:
    await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    evil = "x'); DROP TABLE t; --"
    rid = await db.execute("INSERT INTO t (name) VALUES (?)", (evil,))
    assert rid == 1
    assert await db.fetchval("SELECT name FROM t WHERE id = ?", (rid,)) == evil
    ids = [1, 2, 3]
    assert placeholders(len(ids)) == "?, ?, ?"
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute("INSERT INTO t (name) VALUES (?)", ("rolled back",))
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT count(*) FROM t") == 1
    async with db.transaction():
        await db.execute("INSERT INTO t (name) VALUES (?)", ("kept",))
        async with db.transaction():  # nested joins
            await db.execute("INSERT INTO t (name) VALUES (?)", ("kept too",))
    assert await db.fetchval("SELECT count(*) FROM t") == 3


async def test_transactions_do_not_interleave(db: Database) -> None:
    await db.execute("CREATE TABLE c (n INTEGER)")
    await db.execute("INSERT INTO c VALUES (0)")

    async def bump() -> None:
        async with db.transaction():
            n = await db.fetchval("SELECT n FROM c")
            await asyncio.sleep(0)
            await db.execute("UPDATE c SET n = ?", (n + 1,))

    await asyncio.gather(*(bump() for _ in range(50)))
    assert await db.fetchval("SELECT n FROM c") == 50


async def test_backup_and_check(tmp_path: Path, db: Database) -> None:
    await db.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
    target = tmp_path / "backup.db"
    backup_file(db.path, target)
    result = check_file(target)
    assert result["ok"] and result["version"] == latest_version()
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT value FROM meta WHERE key='k'").fetchone()[0] == "v"
    conn.close()
    with pytest.raises(DatabaseError, match="already exists"):
        backup_file(db.path, target)
    online = tmp_path / "online.db"
    await db.backup_to(online)
    assert check_file(online)["ok"]


def test_process_lock(tmp_path: Path) -> None:
    a = ProcessLock(tmp_path / "x.db")
    b = ProcessLock(tmp_path / "x.db")
    a.acquire()
    with pytest.raises(DatabaseLocked, match="Another Attaché process"):
        b.acquire()
    a.release()
    b.acquire()
    b.release()


async def test_migration_with_trigger_end_is_fine_but_begin_is_refused(tmp_path: Path) -> None:
    mig_dir = tmp_path / "migs"
    mig_dir.mkdir()
    (mig_dir / "001-trigger.sql").write_text(
        "CREATE TABLE a (x INTEGER);\nCREATE TABLE log (x INTEGER);\n"
        "CREATE TRIGGER a_ins AFTER INSERT ON a\nBEGIN\n  INSERT INTO log VALUES (new.x);\nEND;\n"
    )
    d = Database(tmp_path / "t.db")
    await d.connect()
    assert await d.migrate(mig_dir) == (0, 1)
    (mig_dir / "002-txn.sql").write_text("BEGIN;\nCREATE TABLE b (x INTEGER);\nCOMMIT;\n")
    with pytest.raises(DatabaseError, match="BEGIN/COMMIT"):
        await d.migrate(mig_dir)
    await d.close()


# Tables without guild_id: installation metadata, public reference data, and full-text index tables
# whose rows are keyed to a guild-owned content row.
GLOBAL_TABLES = {"meta", "seed_agreements", "sdgs"}
GLOBAL_PREFIXES = ("practices_fts", "practices_head", "practices_rank", "practices_vocab")


async def test_every_content_table_has_guild_id(db: Database) -> None:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    missing = []
    for (name,) in rows:
        cols = {r[1] for r in await db.fetchall("SELECT * FROM pragma_table_info(?)", (name,))}
        if "guild_id" not in cols and name not in GLOBAL_TABLES and not name.startswith(GLOBAL_PREFIXES):
            missing.append(name)
    assert missing == []

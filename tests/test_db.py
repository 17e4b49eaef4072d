from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from bot.db import (
    Database,
    DatabaseError,
    DatabaseLocked,
    DatabaseTooNew,
    ProcessLock,
    ReadPool,
    backup_file,
    check_file,
    latest_version,
    list_migrations,
    placeholders,
    sqlite_uri,
)


def schema_of(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS "
            "NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name"
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
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    missing = []
    for (name,) in rows:
        cols = {r[1] for r in await db.fetchall("SELECT * FROM pragma_table_info(?)", (name,))}
        if "guild_id" not in cols and name not in GLOBAL_TABLES and not name.startswith(GLOBAL_PREFIXES):
            missing.append(name)
    assert missing == []


# -- the reader pool ------------------------------------------------------------------------------
async def _reader_db(tmp_path: Path, name: str = "readers.db") -> Database:
    db = Database(tmp_path / name)
    await db.connect()
    await db.execute("CREATE TABLE t (guild_id INTEGER NOT NULL, v INTEGER NOT NULL)")
    await db.executemany("INSERT INTO t (guild_id, v) VALUES (?, ?)", [(1, i) for i in range(5)])
    return db


def _count_twice(
    path: Path, threads: list[str]
) -> Generator[tuple[str, tuple[Any, ...]], list[Any], tuple[int, int]]:
    """Counts the rows, commits a row from another connection, counts again: both counts come from
    the read program's one snapshot."""
    threads.append(threading.current_thread().name)
    first = yield "SELECT COUNT(*) FROM t", ()
    other = sqlite3.connect(sqlite_uri(path), uri=True, isolation_level=None)
    try:
        other.execute("INSERT INTO t (guild_id, v) VALUES (1, 99)")
    finally:
        other.close()
    threads.append(threading.current_thread().name)
    second = yield "SELECT COUNT(*) FROM t", ()
    threads.append(threading.current_thread().name)
    return int(first[0][0]), int(second[0][0])


async def test_readers_run_a_program_in_one_thread_and_one_snapshot(tmp_path: Path) -> None:
    db = await _reader_db(tmp_path)
    try:
        await db.open_readers(2)
        assert isinstance(db.readers, ReadPool) and db.readers.size == 2
        await db.open_readers(5)  # already open: unchanged
        assert db.readers.size == 2
        threads: list[str] = []
        assert await db.read(_count_twice(db.path, threads)) == (5, 5)
        # every statement ran in one worker thread, off the event loop's thread
        assert len(set(threads)) == 1 and threads[0].startswith("db-reader")
        assert threads[0] != threading.current_thread().name
        # the next read sees the row committed meanwhile (WAL readers see every committed write)
        assert await db.read(_count_twice(db.path, [])) == (6, 6)
        await db.execute("INSERT INTO t (guild_id, v) VALUES (2, 7)")
        assert (await db.read(_count_twice(db.path, [])))[0] == 8
    finally:
        await db.close()
    assert db.readers is None  # closing the database closes its readers


async def test_readers_are_read_only_and_errors_reach_the_caller(tmp_path: Path) -> None:
    db = await _reader_db(tmp_path)
    try:
        await db.open_readers(1)

        def write() -> Generator[tuple[str, tuple[Any, ...]], list[Any], None]:
            yield "INSERT INTO t (guild_id, v) VALUES (1, 1)", ()

        with pytest.raises(sqlite3.OperationalError, match="readonly|read-only"):
            await db.read(write())

        def broken() -> Generator[tuple[str, tuple[Any, ...]], list[Any], None]:
            yield "SELECT nope FROM t", ()

        with pytest.raises(sqlite3.OperationalError, match="nope"):
            await db.read(broken())
        # the one connection went back to the pool each time
        assert await db.read(_count_twice(db.path, [])) == (5, 5)
        assert await db.fetchval("SELECT COUNT(*) FROM t") == 6
    finally:
        await db.close()


async def test_a_cancelled_read_gives_its_connection_back(tmp_path: Path) -> None:
    db = await _reader_db(tmp_path)
    try:
        await db.open_readers(1)
        started = threading.Event()

        def slow() -> Generator[tuple[str, tuple[Any, ...]], list[Any], int]:
            started.set()
            time.sleep(0.3)
            rows = yield "SELECT COUNT(*) FROM t", ()
            return int(rows[0][0])

        task = asyncio.create_task(db.read(slow()))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the pool's only connection is back once the thread finished: the next read gets it
        assert await asyncio.wait_for(db.read(_count_twice(db.path, [])), 5) == (5, 5)
    finally:
        await db.close()


async def test_reads_run_in_parallel_on_the_pool(tmp_path: Path) -> None:
    db = await _reader_db(tmp_path)
    try:
        await db.open_readers(3)
        inside = 0
        peak = 0
        lock = threading.Lock()

        def held() -> Generator[tuple[str, tuple[Any, ...]], list[Any], int]:
            nonlocal inside, peak
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.2)
            rows = yield "SELECT COUNT(*) FROM t", ()
            with lock:
                inside -= 1
            return int(rows[0][0])

        assert await asyncio.gather(*(db.read(held()) for _ in range(3))) == [5, 5, 5]
        assert peak == 3
    finally:
        await db.close()


async def test_without_readers_a_program_runs_through_the_connection(tmp_path: Path) -> None:
    mem = Database(":memory:")
    await mem.connect()
    try:
        await mem.open_readers(2)  # in memory: nothing to share, no pool
        assert mem.readers is None
        await mem.execute("CREATE TABLE t (guild_id INTEGER NOT NULL, v INTEGER NOT NULL)")

        def two() -> Generator[tuple[str, tuple[Any, ...]], list[Any], list[int]]:
            a = yield "SELECT COUNT(*) FROM t", ()
            b = yield "SELECT 41 + ?", (1,)
            return [int(a[0][0]), int(b[0][0])]

        # inside a transaction of this task, its own uncommitted writes are visible
        async with mem.transaction():
            await mem.execute("INSERT INTO t (guild_id, v) VALUES (1, 1)")
            assert await mem.read(two()) == [1, 42]
    finally:
        await mem.close()
    db = await _reader_db(tmp_path)
    try:
        await db.open_readers(0)
        assert db.readers is None and await db.read(_count_twice(db.path, [])) == (5, 6)
        with pytest.raises(ValueError):
            ReadPool(db.path, 0)
    finally:
        await db.close()

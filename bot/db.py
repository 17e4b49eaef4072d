"""One aiosqlite connection per process: pragmas, a parameter-only query helper,
transactions, migrations, online backup, the single-instance process lock, and an optional pool
of read-only connections (`Database.open_readers` / `Database.read`) for heavy reads."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import fcntl
import importlib
import logging
import os
import re
import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

from bot import MIGRATIONS_DIR
from bot.clock import Clock, system_clock

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")
# A read program: a generator that yields (sql, params) statements and is sent each one's rows back,
# and returns its result. Written once, it runs either in one worker-thread call on a pooled
# read-only connection, or statement by statement through the bot's connection (see Database.read).
ReadSteps = Generator[tuple[str, Params], list[Any], T]

_MIGRATION_RE = re.compile(r"^(\d{3,})[-_].+\.sql$")
# Transaction control inside a migration would break the runner's own transaction. A trigger's
# BEGIN … END; is fine: only a bare BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION]; or COMMIT/END
# TRANSACTION/ROLLBACK counts.
_TXN_RE = re.compile(
    r"^\s*(BEGIN(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?(\s+TRANSACTION)?\s*;|COMMIT\b|END\s+TRANSACTION\b|ROLLBACK\b)",
    re.IGNORECASE | re.MULTILINE,
)
# A migration that needs Python (work SQL cannot do, such as stemming every practice's text) names
# the step on a line of its own: `-- python: package.module:function`. The runner calls
# `await function(connection)` (the raw aiosqlite connection, inside the migration's transaction: the
# step must not commit) at that point, between the SQL before and after the line. Steps are named by
# module, not by migration number, so renumbering a migration keeps its step.
_STEP_RE = re.compile(r"^--\s*python:\s*([A-Za-z_][\w.]*):([A-Za-z_]\w*)\s*$", re.MULTILINE)
MigrationStep = Callable[[aiosqlite.Connection], Awaitable[None]]


class DatabaseError(Exception):
    """A storage problem with a message fit for an operator."""


class DatabaseTooNew(DatabaseError):
    pass


class DatabaseLocked(DatabaseError):
    pass


# Files the bot creates (the database, and through it its -wal/-shm/-journal, whose mode SQLite copies
# from the database file; backups; the lock file) are readable by their owner only: they hold members'
# data, and a backup is a full copy of it.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def sqlite_uri(path: str | os.PathLike[str], **params: str) -> str:
    """A `file:` URI that SQLite reads back as exactly `path`, whatever its name holds.

    SQLite parses URIs (and, built with SQLITE_USE_URI as many are, even plain names starting with
    `file:`): an unquoted `?` or `#` ends the path and `%xx` is decoded, so `backups #1?/x.db` would
    open (and create) `backups `. Every byte outside the unreserved set is percent-encoded here."""
    absolute = os.path.abspath(os.fspath(path))
    uri = "file://" + urllib.parse.quote(os.fsencode(absolute), safe="/")
    return f"{uri}?{urllib.parse.urlencode(params)}" if params else uri


def create_private_file(path: Path, *, exclusive: bool = False) -> bool:
    """Create `path` empty with owner-only permissions (parents too, owner-only) before SQLite opens it.

    Returns True if this call created it; an existing file is left alone, or refused with
    FileExistsError when `exclusive`."""
    for folder in reversed(path.absolute().parents):  # each missing folder owner-only (mkdir's parents=True
        if not folder.is_dir():                        # would give the intermediate ones the umask's mode)
            if folder.exists():
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
            folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        if exclusive:
            raise
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # whatever the umask
    finally:
        os.close(fd)
    return True


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def list_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Numbered migrations in order; numbers must run 1, 2, 3... with no gaps or repeats."""
    found: list[Migration] = []
    for p in sorted(directory.glob("*.sql")):
        m = _MIGRATION_RE.match(p.name)
        if m:
            found.append(Migration(int(m.group(1)), p.stem, p))
    found.sort(key=lambda m: m.version)
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise DatabaseError(f"Migration numbering broken at {mig.path.name}: expected {expected:03d}.")
    return found


class MigrationStepError(Exception):
    """A migration's Python step could not be found."""


def _resolve_step(module: str, name: str) -> MigrationStep:
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise MigrationStepError(f"its step {module}:{name} cannot be loaded ({exc})") from exc
    if not callable(fn):
        raise MigrationStepError(f"its step {module}:{name} is not a function")
    step: MigrationStep = fn
    return step


def split_statements(sql: str) -> list[str]:
    """The complete SQL statements of a script, in order (a trigger's BEGIN … END; stays whole);
    comments and blank text between them dropped."""
    out: list[str] = []
    buf = ""
    for piece in sql.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if _has_code(buf):
                out.append(buf.strip())
            buf = ""
    if _has_code(buf.rstrip(";")):
        raise DatabaseError(f"incomplete SQL statement at the end of a migration: {buf.strip()[:80]!r}")
    return out


def _has_code(sql: str) -> bool:
    without = re.sub(r"--[^\n]*", "", sql)
    return bool(without.replace(";", "").strip())


def latest_version(directory: Path = MIGRATIONS_DIR) -> int:
    migs = list_migrations(directory)
    return migs[-1].version if migs else 0


def placeholders(n: int) -> str:
    """`?, ?, ?` for an IN clause of n parameters (n >= 1)."""
    if n < 1:
        raise ValueError("placeholders() needs at least one parameter")
    return ", ".join("?" * n)


class _Tx:
    """Marker for the transaction owned by the current task."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db


def run_read_steps(conn: sqlite3.Connection, steps: ReadSteps[T]) -> T:
    """Drive `steps` on a plain sqlite3 connection, in one read transaction (one snapshot)."""
    conn.execute("BEGIN")
    try:
        sql, params = next(steps)
        while True:
            rows = conn.execute(sql, params).fetchall()
            sql, params = steps.send(rows)
    except StopIteration as stop:
        return stop.value
    finally:
        conn.execute("COMMIT")


class ReadPool:
    """A few query-only sqlite3 connections to one database file, each used by one worker thread at
    a time: with WAL, readers see every committed write and run in parallel with each other and
    with the writer (sqlite3 releases the GIL while it steps). Opened by `Database.open_readers`."""

    def __init__(self, path: str | os.PathLike[str], size: int) -> None:
        if size < 1:
            raise ValueError("a read pool needs at least one connection")
        self.path = os.fspath(path)
        self.size = size
        self._idle: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()
        self._all: list[sqlite3.Connection] = []
        self._executor: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="db-reader")
        loop = asyncio.get_running_loop()
        for _ in range(self.size):
            conn = await loop.run_in_executor(self._executor, self._connect)
            self._all.append(conn)
            self._idle.put_nowait(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(sqlite_uri(self.path), uri=True, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in ("PRAGMA query_only = ON", "PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY"):
            conn.execute(pragma)
        return conn

    @property
    def is_open(self) -> bool:
        return self._executor is not None

    async def close(self) -> None:
        conns, self._all = self._all, []
        executor, self._executor = self._executor, None
        if executor is not None:  # let running reads finish before their connections close
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        for conn in conns:
            conn.close()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(conn)` on an idle connection, in one worker-thread call. The thread hands back the
        result and the connection together, in one wake-up of the event loop; the connection goes
        back to the pool even if the awaiting task was cancelled."""
        conn = await self._idle.get()
        executor = self._executor
        if executor is None:
            self._idle.put_nowait(conn)
            raise DatabaseError("the read pool is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()

        def finish(error: BaseException | None, value: Any) -> None:
            self._idle.put_nowait(conn)
            if fut.done():  # the read was cancelled meanwhile
                return
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

        def work() -> None:
            value: Any = None
            error: BaseException | None = None
            try:
                value = fn(conn)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                error = exc
            try:
                loop.call_soon_threadsafe(finish, error, value)
            except RuntimeError:  # the loop is closed: the bot is stopping
                pass

        executor.submit(work)
        return await fut

    async def run_steps(self, steps: ReadSteps[T]) -> T:
        """A read program to its end on one connection, in one read transaction (one snapshot)."""
        return await self.run(lambda conn: run_read_steps(conn, steps))


class Database:
    """The process's one SQLite connection.

    Statements always take parameters; SQL text never contains user input. Every
    statement is serialised through one lock, and `transaction()` holds that lock for
    its whole body, so one user action is one atomic transaction. Calls made by the
    task that holds a transaction join it.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Clock = system_clock) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self.clock = clock  # the bot's one clock: what `bot.audit.record` stamps rows with
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._current: contextvars.ContextVar[_Tx | None] = contextvars.ContextVar(
            f"attache_tx_{id(self)}", default=None
        )
        self.query_count = 0
        self.readers: ReadPool | None = None  # open_readers(): read-only connections for heavy reads

    # -- lifecycle -------------------------------------------------------------------
    async def connect(self) -> None:
        if self._conn is not None:
            return
        if str(self.path) != ":memory:":
            _refuse_non_sqlite(self.path)
            try:
                create_private_file(self.path)
            except OSError as exc:
                raise DatabaseError(f"Cannot create database {self.path}: {exc}") from exc
            target, uri = sqlite_uri(self.path), True
        else:
            target, uri = ":memory:", False
        try:
            conn = await aiosqlite.connect(target, uri=uri, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseError(f"Cannot open database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA temp_store=MEMORY")
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise DatabaseError(f"{self.path} is not a usable SQLite database: {exc}") from exc
        self._conn = conn
        log.info("database opened: %s", self.path)

    async def close(self) -> None:
        await self.close_readers()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                log.debug("PRAGMA optimize failed on close", exc_info=True)
            await conn.close()
            log.info("database closed: %s", self.path)

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise DatabaseError("Database is not open.")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    # -- read-only connections ---------------------------------------------------------
    async def open_readers(self, count: int) -> None:
        """Serve `read()` from `count` read-only connections in worker threads (WAL readers run in
        parallel and never wait for the one read-write connection). A no-op when the pool is already
        open (its size stays), when count <= 0, or for an in-memory database (no file to share)."""
        if count <= 0 or self.readers is not None or str(self.path) == ":memory:":
            return
        pool = ReadPool(self.path, count)
        await pool.open()
        self.readers = pool

    async def close_readers(self) -> None:
        pool, self.readers = self.readers, None
        if pool is not None:
            await pool.close()

    async def read(self, steps: ReadSteps[T]) -> T:
        """Run a read program (see ReadSteps) to its end and return its result: with readers open,
        in ONE worker-thread call on a pooled read-only connection, in one read transaction (one
        snapshot, off the event loop); without, statement by statement through this connection
        (uncommitted writes of a transaction this task holds are then visible)."""
        if self.readers is not None:
            return await self.readers.run_steps(steps)
        try:
            sql, params = next(steps)
            while True:
                rows = await self.fetchall(sql, params)
                sql, params = steps.send(rows)
        except StopIteration as stop:
            return stop.value

    # -- queries ---------------------------------------------------------------------
    @asynccontextmanager
    async def _access(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._current.get() is not None:
            yield self.conn
            return
        async with self._lock:
            yield self.conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns lastrowid for INSERT, else rowcount."""
        async with self._access() as conn:
            self.query_count += 1
            cur = await conn.execute(sql, params)
            try:
                if sql.lstrip()[:6].upper() == "INSERT":
                    return int(cur.lastrowid or 0)
                return cur.rowcount
            finally:
                await cur.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        async with self._access() as conn:
            self.query_count += 1
            cur = await conn.executemany(sql, rows)
            try:
                return cur.rowcount
            finally:
                await cur.close()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._access() as conn:
            self.query_count += 1
            return list(await conn.execute_fetchall(sql, params))  # one hop to the db thread

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._access() as conn:
            self.query_count += 1
            cur = await conn.execute(sql, params)
            try:
                return await cur.fetchone()
            finally:
                await cur.close()

    async def fetchval(self, sql: str, params: Params = (), default: Any = None) -> Any:
        row = await self.fetchone(sql, params)
        return default if row is None else row[0]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """`async with db.transaction():` — BEGIN IMMEDIATE … COMMIT, ROLLBACK on error.

        Nested use by the same task joins the outer transaction."""
        if self._current.get() is not None:
            yield self
            return
        async with self._lock:
            token = self._current.set(_Tx(self))
            try:
                self.query_count += 1
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    # SQLite has already rolled back by itself after some errors (SQLITE_FULL, IOERR,
                    # NOMEM): a second ROLLBACK would fail and hide the real error.
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise
                else:
                    try:
                        await self.conn.execute("COMMIT")
                    except BaseException:
                        if self.conn.in_transaction:
                            await self.conn.execute("ROLLBACK")
                        raise
            finally:
                self._current.reset(token)

    # -- schema ----------------------------------------------------------------------
    async def user_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version", default=0))

    async def migrate(self, directory: Path = MIGRATIONS_DIR) -> tuple[int, int]:
        """Apply pending migrations, each in its own transaction. Returns (before, after)."""
        migrations = list_migrations(directory)
        latest = migrations[-1].version if migrations else 0
        async with self._lock:
            cur = await self.conn.execute("PRAGMA user_version")
            row = await cur.fetchone()
            await cur.close()
            before = int(row[0]) if row else 0
            if before > latest:
                raise DatabaseTooNew(
                    f"The database {self.path} is at schema version {before}, but this Attaché only knows "
                    f"versions up to {latest}. Upgrade Attaché, or restore a backup made by this version."
                )
            for mig in migrations:
                if mig.version <= before:
                    continue
                body = mig.sql()
                if _TXN_RE.search(body):
                    raise DatabaseError(f"{mig.path.name}: migrations must not contain BEGIN/COMMIT.")
                try:
                    if _STEP_RE.search(body):
                        await self._migrate_with_steps(mig, body)
                    else:
                        script = f"BEGIN IMMEDIATE;\n{body}\n;PRAGMA user_version = {mig.version};\nCOMMIT;"
                        await self.conn.executescript(script)
                except (sqlite3.Error, MigrationStepError) as exc:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise DatabaseError(
                        f"Migration {mig.path.name} failed and was rolled back: {exc}"
                    ) from exc
                log.info("applied migration %s", mig.path.name)
        return before, latest if latest > before else before

    async def _migrate_with_steps(self, mig: Migration, body: str) -> None:
        """A migration with Python steps, in one transaction: its SQL statement by statement (a
        script would commit first), each step where its line stands, then the version."""
        await self.conn.execute("BEGIN IMMEDIATE")
        pos = 0
        for m in [*_STEP_RE.finditer(body), None]:
            for statement in split_statements(body[pos:m.start() if m else len(body)]):
                await self.conn.execute(statement)
            if m is None:
                break
            step = _resolve_step(m.group(1), m.group(2))
            log.info("migration %s: running %s:%s", mig.path.name, m.group(1), m.group(2))
            await step(self.conn)
            pos = m.end()
        await self.conn.execute(f"PRAGMA user_version = {int(mig.version)}")
        await self.conn.execute("COMMIT")

    async def backup_to(self, target: str | os.PathLike[str]) -> None:
        """Online backup of the open database to a new file (SQLite backup API)."""
        tgt = Path(target)
        try:
            create_private_file(tgt, exclusive=True)
        except FileExistsError:
            raise DatabaseError(f"{tgt} already exists; choose a new file name for the backup.") from None
        async with self._lock:
            dest = sqlite3.connect(sqlite_uri(tgt), uri=True)
            try:
                await self.conn.backup(dest)
                _self_contained(dest)
            finally:
                dest.close()


def _refuse_non_sqlite(path: Path) -> None:
    """A non-empty file that is not SQLite gets a clear error instead of a cryptic one later."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"Cannot read database file {path}: {exc}") from exc
    if head and head != b"SQLite format 3\x00":
        raise DatabaseError(
            f"{path} exists but is not an SQLite database. Move it away or fix database_path."
        )


def _self_contained(conn: sqlite3.Connection) -> None:
    """A backup is one file: rollback-journal mode (the copied header says WAL), so opening it later,
    even read-only by `attache db check`, leaves no -wal/-shm beside it. The bot sets WAL again when it
    opens a restored copy."""
    conn.execute("PRAGMA journal_mode=DELETE").fetchall()


def backup_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> int:
    """Blocking online backup from one file to another (safe while the bot runs). Returns pages copied."""
    src_path = Path(source)
    if not src_path.exists():
        raise DatabaseError(f"No database at {src_path}.")
    _refuse_non_sqlite(src_path)
    tgt = Path(target)
    try:
        # Created here, exclusively and owner-only: never over an existing file (nor the database itself).
        # A missing folder is created (owner-only), so `backups/2026-01-31/attache.db` works from cron.
        create_private_file(tgt, exclusive=True)
    except FileExistsError:
        raise DatabaseError(f"{tgt} already exists; choose a new file name for the backup.") from None
    except OSError as exc:
        raise DatabaseError(f"Cannot create the backup file {tgt}: {exc}. Nothing was written.") from exc
    try:
        src = sqlite3.connect(sqlite_uri(src_path, mode="ro"), uri=True, timeout=10)
        dst = sqlite3.connect(sqlite_uri(tgt), uri=True)
    except sqlite3.Error as exc:
        tgt.unlink(missing_ok=True)
        raise DatabaseError(f"Backup to {tgt} failed: {exc}. Nothing was written.") from exc
    try:
        # One step, in one read transaction (WAL: the bot keeps writing meanwhile). A stepwise backup
        # restarts from page 1 whenever another process commits between steps, so while the bot was
        # busy it never finished.
        src.backup(dst)
        _self_contained(dst)
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        dst.close()
        tgt.unlink(missing_ok=True)  # no half-written backup left behind
        if isinstance(exc, sqlite3.OperationalError):  # e.g. the target's disk is full
            raise DatabaseError(f"Backup to {tgt} failed: {exc}. Nothing was written.") from exc
        raise DatabaseError(f"{src_path} is not a usable SQLite database: {exc}") from exc
    finally:
        dst.close()
        src.close()
    return pages


def check_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Blocking integrity check: integrity_check, foreign_key_check and schema version."""
    p = Path(path)
    if not p.exists():
        raise DatabaseError(f"No database at {p}.")
    _refuse_non_sqlite(p)
    try:
        conn = sqlite3.connect(sqlite_uri(p, mode="ro"), uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise DatabaseError(f"Cannot open {p}: {exc}") from exc
    try:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{p} is not a usable SQLite database: {exc}") from exc
    finally:
        conn.close()
    latest = latest_version()
    return {
        "ok": integrity == ["ok"] and not fk and version <= latest,
        "integrity": integrity,
        "foreign_key_violations": len(fk),
        "version": version,
        "latest": latest,
    }


class ProcessLock:
    """An exclusive lock file beside the database, held for the bot process's life."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(str(db_path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseLocked(
                f"Another Attaché process is already running on this database ({self.path} is locked). "
                "Stop it first: two instances would post the same reminders twice."
            ) from None
        with contextlib.suppress(OSError):
            os.fchmod(fd, PRIVATE_FILE_MODE)  # a lock file left by an older version
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class _HasDatabasePath(Protocol):
    @property
    def database_path(self) -> Path: ...


@contextmanager
def exclusive_cli_lock(
    target: _HasDatabasePath | str | os.PathLike[str], action: str
) -> Iterator[ProcessLock]:
    """`with exclusive_cli_lock(config, "db migrate"):` — a command-line command that writes takes the
    bot's single-instance lock for its whole run, and refuses (DatabaseLocked, one line) while a bot
    process runs on that database: a migration, seed or import under a live bot would race its writes."""
    path = Path(target if isinstance(target, (str, os.PathLike)) else target.database_path)
    lock = ProcessLock(path)
    try:
        lock.acquire()
    except DatabaseLocked:
        raise DatabaseLocked(
            f"Attaché is running on {path} ({lock.path} is locked): stop the bot, then run "
            f"`attache {action}` again. Nothing was changed."
        ) from None
    try:
        yield lock
    finally:
        lock.release()

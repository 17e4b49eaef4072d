"""Every hot query starts from its guild index (or the job index): `EXPLAIN QUERY PLAN` over the statements
the real bot runs for `/practice search`, `/roundtable list`, the RSVP button, `/mou upcoming`, `/settings
show` and the scheduler's due-job claim.

The statements are recorded as the bot runs them (a trace on its writer connection and on every read-only
connection), on a database holding 40 servers' data with planner statistics (ANALYZE), as a hosted bot has.
A statement passes when no table is read whole, and its first table access is a search through an index
that leads with `guild_id` (or with the id of one guild-scoped parent row, such as an RSVP's roundtable),
through a primary key, through a full-text index, or (the jobs table) through one of the scheduler's job
indexes. A new hot statement that scans, or starts anywhere else, fails here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.db as db_module
from bot.sandbox.emulation import FakeDiscord
from tests.e2e import start_world

OTHER_GUILDS = 40
JOB_INDEXES = {"jobs_pending_due", "jobs_running", "jobs_guild_status"}
SKIP = ("INSERT", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "ANALYZE", "CREATE", "--")
ACCESS = re.compile(r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?(?: USING (.*))?$")


class Trace:
    def __init__(self) -> None:
        self.label: str | None = None
        self.statements: dict[str, set[str]] = {}

    def __call__(self, sql: str) -> None:
        if self.label is not None and not sql.lstrip().upper().startswith(SKIP):
            self.statements.setdefault(self.label, set()).add(sql.strip())


def _seed_other_guilds(path: Path) -> None:
    """Rows of many servers, so that the planner's statistics look like a hosted bot's."""
    conn = sqlite3.connect(path)
    now_s = int(datetime.now(UTC).timestamp())
    with conn:
        for g in range(1, OTHER_GUILDS + 1):
            gid = 9_000_000 + g
            conn.executemany(
                "INSERT INTO practices (guild_id, status, topics_mask, city_name, submitter_id, created_ms, "
                "updated_ms, approved_ms, title, summary, approach) VALUES (?, 'approved', 1, 'Lyon', 1, "
                "?, ?, ?, ?, 'Climate plan summary', 'Climate approach')",
                [(gid, i, i, i, f"Climate heat plan {g}-{i}") for i in range(25)],
            )
            conn.executemany(
                "INSERT INTO roundtables (guild_id, title, host_id, start_s, tz, duration_min, status, "
                "next_occ_s, next_start_s, created_ms, updated_ms) VALUES (?, ?, 1, ?, 'UTC', 60, "
                "'scheduled', ?, ?, 0, 0)",
                [(gid, f"Roundtable {i}", now_s + i * 3600, now_s + i * 3600, now_s + i * 3600)
                 for i in range(1, 5)],
            )
            rt_ids = [r[0] for r in conn.execute("SELECT id FROM roundtables WHERE guild_id = ?", (gid,))]
            conn.executemany(
                "INSERT INTO roundtable_rsvps (guild_id, roundtable_id, occ_s, user_id, status, seq, "
                "updated_ms) SELECT guild_id, id, next_occ_s, ?, 'going', ?, 0 FROM roundtables WHERE id = ?",
                [(u, u, rt) for rt in rt_ids for u in range(1, 21)],
            )
            conn.executemany(
                "INSERT INTO mou_agreements (guild_id, kind, title, summary, focus_areas, links, expires_on, "
                "notice_on, notice_days, status, term, created_ms, created_by, updated_ms) VALUES (?, 'mou', "
                "?, '', '', '[]', ?, ?, 30, 'active', 1, 0, 1, 0)",
                [(gid, f"Agreement {i}", f"2027-0{i}-01", f"2026-1{i - 1}-01") for i in range(1, 9)],
            )
            conn.executemany(
                "INSERT INTO jobs (guild_id, kind, dedupe_key, due_ms, original_due_ms, status, created_ms, "
                "updated_ms) VALUES (?, 'core.post', ?, ?, ?, ?, 0, 0)",
                [(gid, f"k{i}", (now_s + 86400 * i) * 1000, (now_s + 86400 * i) * 1000,
                  "pending" if i % 2 else "done") for i in range(1, 21)],
            )
            conn.execute("INSERT INTO guild_settings (guild_id, key, value, updated_ms) VALUES (?, "
                         "'timezone', '\"Europe/Paris\"', 0)", (gid,))
        conn.execute("ANALYZE")
    conn.close()


def _plan(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]


def _leading_column(conn: sqlite3.Connection, index: str) -> str | None:
    rows = conn.execute(f"PRAGMA index_xinfo('{index}')").fetchall()
    keyed = [r for r in rows if r[5]]  # key columns, in order
    if not keyed:
        return None
    return str(keyed[0][2]) if keyed[0][2] is not None else "<expression>"


def _problems(conn: sqlite3.Connection, sql: str, virtual: set[str]) -> list[str]:
    problems: list[str] = []
    first = True
    for detail in _plan(conn, sql):
        m = ACCESS.match(detail)
        if m is None:
            continue
        kind, table, using = m.group(1), m.group(2), m.group(3) or ""
        if table in virtual or "VIRTUAL TABLE" in using:
            first = False  # the full-text index: where a search starts, by design
            continue
        if table not in _tables(conn):
            continue  # a CTE, subquery or constant row
        if kind == "SCAN" and not using.startswith("COVERING INDEX") and "INDEX" not in using:
            problems.append(f"reads all of {table}: {detail}")
            continue
        if kind == "SCAN":
            problems.append(f"walks a whole index of {table}: {detail}")
            continue
        if first:
            first = False
            index = re.search(r"INDEX (\w+)", using)
            if "PRIMARY KEY" in using or (index and index.group(1).startswith("sqlite_autoindex")):
                continue
            if index is None:
                problems.append(f"starts from no index: {detail}")
            elif table == "jobs" and index.group(1) in JOB_INDEXES:
                continue
            elif not _guild_scoped(conn, table, _leading_column(conn, index.group(1))):
                problems.append(f"starts from {index.group(1)}, not a guild index: {detail}")
    return problems


def _guild_scoped(conn: sqlite3.Connection, table: str, column: str | None) -> bool:
    """`guild_id`, or a reference to one row of a table that has a guild (`roundtable_rsvps.roundtable_id`):
    an index leading with either reaches one server's rows without touching another's."""
    if column == "guild_id":
        return True
    for fk in conn.execute(f"PRAGMA foreign_key_list('{table}')"):
        parent, from_col = fk[2], fk[3]
        columns = {c[1] for c in conn.execute(f"PRAGMA table_info('{parent}')")}
        if from_col == column and "guild_id" in columns:
            return True
    return False


_TABLES: dict[int, set[str]] = {}


def _tables(conn: sqlite3.Connection) -> set[str]:
    key = id(conn)
    if key not in _TABLES:
        _TABLES[key] = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return _TABLES[key]


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trace]:
    t = Trace()
    original = db_module.ReadPool._connect

    def connect(self: Any) -> sqlite3.Connection:
        conn = original(self)
        conn.set_trace_callback(t)
        return conn

    monkeypatch.setattr(db_module.ReadPool, "_connect", connect)
    yield t


async def test_hot_queries_start_from_their_guild_index(
    fake_discord: FakeDiscord, tmp_path: Path, trace: Trace
) -> None:
    fake = fake_discord
    async with start_world(fake, tmp_path) as w:
        _seed_other_guilds(w.config.database_path)
        await w.bot.db.conn.set_trace_callback(trace)
        gid = w.guild.id
        # this server's own rows: a practice, a roundtable with its RSVP buttons, an agreement
        await w.bot.db.execute(
            "INSERT INTO practices (guild_id, status, topics_mask, city_name, submitter_id, created_ms, "
            "updated_ms, approved_ms, title, summary, approach) VALUES (?, 'approved', 1, 'Lyon', ?, 1, 1, "
            "1, 'Climate heat plan', 'Climate summary', 'Climate approach')",
            (gid, w.alice.id),
        )
        start = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 09:00")
        mark = fake.mark()
        res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                                {"title": "Heat plans", "when": start, "timezone": "UTC", "where": "Lyon"})
        assert "Scheduled" in res.text, res.text
        msg = await fake.wait_for_message(w.announcements, lambda m: bool(m.get("components")), after=mark)
        going = next(c["custom_id"] for row in msg["components"] for c in row["components"]
                     if c["custom_id"].endswith(":going"))
        await w.bot.db.execute(
            "INSERT INTO mou_agreements (guild_id, kind, title, summary, focus_areas, links, expires_on, "
            "notice_on, notice_days, status, term, created_ms, created_by, updated_ms) VALUES (?, 'mou', "
            "'Lyon–Porto', '', '', '[]', ?, ?, 30, 'active', 1, 0, ?, 0)",
            (gid, (datetime.now(UTC) + timedelta(days=20)).date().isoformat(),
             (datetime.now(UTC) + timedelta(days=5)).date().isoformat(), w.alice.id),
        )

        # start-up work that reads whole tables by design (the MOU re-plan) is over before anything is traced
        startup = getattr(w.bot.get_cog("Mous"), "_startup", None)
        if startup is not None:
            await startup
        trace.label = "practice search"
        for query in ("climate", "climate heat", "climte"):
            res = await fake.invoke(w.guild, w.bob, "practice search", {"query": query})
            assert res.callback is not None
        trace.label = "roundtable list"
        res = await fake.invoke(w.guild, w.bob, "roundtable list")
        assert "Heat plans" in res.text, res.text
        trace.label = "rsvp"
        res = await fake.click(w.guild, w.bob, msg, going)
        assert res.callback is not None
        trace.label = "mou upcoming"
        res = await fake.invoke(w.guild, w.carol, "mou upcoming", {"days": 90})
        assert res.callback is not None
        trace.label = "settings"
        res = await fake.invoke(w.guild, w.admin, "settings show")
        assert res.embed is not None
        trace.label = "due-job claim"
        await w.bot.scheduler.run_due(datetime.now(UTC) + timedelta(hours=2))
        trace.label = None

    assert set(trace.statements) == {
        "practice search", "roundtable list", "rsvp", "mou upcoming", "settings", "due-job claim"
    }, set(trace.statements)
    conn = sqlite3.connect(w.config.database_path)
    virtual = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")}
    virtual |= {t for v in virtual for t in _tables(conn) if t.startswith(v + "_")}
    failures = []
    checked = 0
    for label, statements in sorted(trace.statements.items()):
        for sql in sorted(statements):
            if not re.search(r"\b(FROM|UPDATE)\b", sql, re.IGNORECASE):
                continue
            checked += 1
            for problem in _problems(conn, sql, virtual):
                failures.append(f"[{label}] {problem}\n    {sql[:300]}")
    conn.close()
    assert checked >= 12, checked
    assert not failures, "\n".join(failures)

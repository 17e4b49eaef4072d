"""One user action is one transaction: a practice approval and an RSVP are never half-written.

Two ways of interrupting them:
* injected failure after the N-th statement of the action, for every N (in process);
* SIGKILL of a child process approving practices and pressing RSVP in a tight loop, at random
  moments, many times (tests/soak/crash_child.py).
After each interruption the database must hold each action entirely or not at all:
the practice status, its revision row, its audit row and its full-text index entries; the RSVP
row, the waitlist/promotions and the audit row (the RSVP table must equal a replay of the audit
log), and `PRAGMA integrity_check` is ok.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.db import Database
from cogs.practices.service import Draft, Meta, PracticeService, rank_id
from cogs.roundtables.service import RoundtableService

ROOT = Path(__file__).resolve().parent.parent
GUILD = 1001
MOD = 7
HOST = 8
USERS = list(range(100, 116))
CAPACITY = 4
KILLS = 15


class InjectedFault(Exception):
    pass


def _inject_after(db: Database, n: int) -> Callable[[], int]:
    """Make the n-th statement (0-based) run through `db` raise; returns a counter of statements run."""
    count = 0

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def inner(*args: Any, **kwargs: Any) -> Any:
            nonlocal count
            if count == n:
                count += 1
                raise InjectedFault(f"injected after {n} statements")
            count += 1
            return await fn(*args, **kwargs)
        return inner

    for name in ("execute", "executemany", "fetchall", "fetchone"):
        setattr(db, name, wrap(getattr(Database, name).__get__(db)))
    return lambda: count


def _uninject(db: Database) -> None:
    for name in ("execute", "executemany", "fetchall", "fetchone"):
        db.__dict__.pop(name, None)


async def _submit(svc: PracticeService, i: int) -> int:
    p = await svc.submit(
        GUILD, 50 + i % 5,
        Draft(f"Crash practice {i}", "A summary of the practice.", "The approach taken."),
        Meta(city_name="Lyon", topics=("climate",)),
    )
    return p.id


async def _roundtable(db: Database) -> int:
    svc = RoundtableService(db)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    rt = await svc.create(GUILD, HOST, title="Crash roundtable", start=start, tz="UTC", capacity=CAPACITY)
    return rt.id


# -- invariants -------------------------------------------------------------------------------------------

def check_database(path: Path, rt_ids: list[int]) -> dict[str, int]:
    """Every action all-or-nothing; returns counts of what is there."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # the full-text indexes are sound and hold exactly the approved practices
        indexed: dict[str, set[int]] = {}
        for fts in ("practices_fts", "practices_head", "practices_rank"):
            conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
            indexed[fts] = {rank_id(r[0]) if fts == "practices_rank" else r[0] for r in conn.execute(
                f"SELECT rowid FROM {fts} WHERE {fts} MATCH 'crash'")}
        approved = 0
        approved_ids: set[int] = set()
        for pid, status, version, decided_by in conn.execute(
            "SELECT id, status, version, decided_by FROM practices WHERE guild_id = ?", (GUILD,)
        ):
            revs = [r[0] for r in conn.execute(
                "SELECT action FROM practice_revisions WHERE guild_id = ? AND practice_id = ? ORDER BY id",
                (GUILD, pid))]
            audits = [
                r[0]
                for r in conn.execute(
                    "SELECT action FROM audit WHERE guild_id = ? AND "
                    "entity = 'practice' AND entity_id = ? ORDER BY id",
                    (GUILD, str(pid)),
                )
            ]
            if status == "approved":
                approved += 1
                approved_ids.add(pid)
                assert revs == ["submit", "approve"], (pid, revs)
                assert audits == ["practice.submit", "practice.approve"], (pid, audits)
                assert (version, decided_by) == (2, MOD), (pid, version, decided_by)
            else:
                assert status == "pending", (pid, status)
                assert revs == ["submit"] and audits == ["practice.submit"], (pid, revs, audits)
                assert (version, decided_by) == (1, None), (pid, version, decided_by)
        for fts, ids in indexed.items():
            assert ids == approved_ids, (fts, sorted(ids ^ approved_ids)[:10])
        presses = 0
        for rt_id in rt_ids:
            rows = conn.execute(
                "SELECT occ_s, user_id, status, seq FROM roundtable_rsvps "
                "WHERE guild_id = ? AND roundtable_id = ?",
                (GUILD, rt_id),
            ).fetchall()
            occs = {r[0] for r in rows}
            # replay the audit log: each press sets the presser's answer and the promoted members' "going"
            replay: dict[int, str] = {}
            for entity_id, actor, changes in conn.execute(
                "SELECT entity_id, actor_id, changes FROM audit WHERE guild_id = ? AND action = "
                "'roundtable.rsvp' ORDER BY id",
                (GUILD,),
            ):
                if not entity_id.startswith(f"{rt_id}:"):
                    continue
                occs.add(int(entity_id.split(":")[1]))
                ch = json.loads(changes)
                replay[actor] = ch["to"]
                for uid in ch.get("promoted") or []:
                    replay[uid] = "going"
                presses += 1
            assert len(occs) <= 1
            table = {r[1]: r[2] for r in rows}
            assert table == replay, (table, replay)
            going = sum(1 for s in table.values() if s == "going")
            waiting = sum(1 for s in table.values() if s == "waitlist")
            assert going <= CAPACITY and (waiting == 0 or going == CAPACITY), (going, waiting)
            assert len({r[3] for r in rows}) == len(rows)  # press order (seq) is unique
        return {"approved": approved, "rsvp_presses": presses}
    finally:
        conn.close()


# -- failure injected after every statement ------------------------------------------------------------------

async def test_failure_after_every_statement_leaves_no_half_action(tmp_path: Path) -> None:
    path = tmp_path / "attache.db"
    db = Database(path)
    await db.connect()
    await db.migrate()
    practices = PracticeService(db)
    roundtables = RoundtableService(db)
    rt_id = await _roundtable(db)
    cuts = {"approve": 0, "rsvp": 0}
    rolled_back = {"approve": 0, "rsvp": 0}
    try:
        # a practice approval cut after 0, 1, 2, ... statements
        n = 0
        while True:
            pid = await _submit(practices, n)
            ran = _inject_after(db, n)
            try:
                await practices.decide(GUILD, pid, actor_id=MOD, action="approve")
                finished = True
            except InjectedFault:
                finished = False
            finally:
                _uninject(db)
            check_database(path, [rt_id])
            status = await db.fetchval("SELECT status FROM practices WHERE id = ?", (pid,))
            assert status == "approved" or not finished
            rolled_back["approve"] += status == "pending"
            if finished:
                assert ran() <= n
                break
            cuts["approve"] += 1
            n += 1
        # RSVPs cut after every statement: a Going that fills the last place, one that is waitlisted,
        # and a Can't go that promotes the first on the waitlist
        script = [(USERS[i], "going") for i in range(CAPACITY + 2)] + [(USERS[0], "declined")]
        for user, answer in script:
            n = 0
            while True:
                ran = _inject_after(db, n)
                presses = check_database(path, [rt_id])["rsvp_presses"]
                try:
                    await roundtables.rsvp(GUILD, rt_id, user, answer)
                    finished = True
                except InjectedFault:
                    finished = False
                finally:
                    _uninject(db)
                rolled_back["rsvp"] += check_database(path, [rt_id])["rsvp_presses"] == presses
                if finished:
                    break
                cuts["rsvp"] += 1
                n += 1
        counts = check_database(path, [rt_id])
        assert counts["rsvp_presses"] == len(script)
        going = await db.fetchall(
            "SELECT user_id FROM roundtable_rsvps WHERE roundtable_id = ? AND status = 'going' ORDER BY seq",
            (rt_id,),
        )
        assert sorted(r[0] for r in going) == sorted(USERS[1:CAPACITY + 1])
    finally:
        await db.close()
    print(f"\ncrash atomicity (injected): approval cut at {cuts['approve']} points "  # noqa: T201 - the counts go into docs/reliability.md
          f"({rolled_back['approve']} rolled back whole, the rest after the commit), "
          f"RSVPs cut at {cuts['rsvp']} points ({rolled_back['rsvp']} rolled back whole); 0 half-written")
    assert rolled_back["approve"] >= 3 and rolled_back["rsvp"] >= 20


# -- SIGKILL of a process in the middle of user actions ------------------------------------------------------


async def test_sigkill_mid_action_never_leaves_half_written_rows(tmp_path: Path) -> None:
    path = tmp_path / "attache.db"
    db = Database(path)
    await db.connect()
    await db.migrate()
    practices = PracticeService(db)
    async with db.transaction():  # one transaction: fast set-up
        for i in range(1000):
            await _submit(practices, i)
    rt_id = await _roundtable(db)
    await db.close()
    rng = random.Random()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = 0
    before = check_database(path, [rt_id])
    for i in range(KILLS):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.soak.crash_child", str(path), str(GUILD), str(rt_id), str(MOD),
            ",".join(map(str, USERS)), str(rng.randrange(1 << 30)),
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line == b"READY\n", (line, await proc.stderr.read() if proc.stderr else b"")
        await asyncio.sleep(rng.uniform(0.01, 0.25))
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = await proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")[-2000:]
        after = check_database(path, [rt_id])  # raises on any half-written action
        assert after["approved"] >= before["approved"] and after["rsvp_presses"] >= before["rsvp_presses"]
        before = after
        if i == 0:
            assert after["approved"] + after["rsvp_presses"] > 0, "the child did nothing before the kill"
    print(f"\ncrash atomicity (SIGKILL): {kills} kills, {before['approved']} approvals and "  # noqa: T201 - the counts go into docs/reliability.md
          f"{before['rsvp_presses']} RSVP presses committed, 0 half-written")
    assert kills == KILLS

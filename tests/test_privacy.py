"""Data a member can take back (issue 11): /privacy forget-me, /profile clear scrubbing the audit, the bot
removed from a server (nothing more posted there; an outage changes nothing), `attache db purge-guild`,
retention pruning in batches, and the new owner's "Remove me as owner" button."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot import retention
from bot.db import Database
from bot.retention import FORMER_MEMBER
from bot.sandbox.emulation import FakeDiscord
from bot.scheduler import Job, Scheduler, to_ms
from cogs.privacy.service import MEMBER_COLUMNS
from tests.e2e import MovableClock, World, mou_service, start_world

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Rain gardens against street flooding"
DRAFT = {"title": TITLE, "summary": "Storms flooded the old town twice a year.",
         "approach": "We replaced parking strips with rain gardens.", "results": "", "lessons": ""}


@pytest_asyncio.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    clock = MovableClock()
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock) as w:
        w.extra["clock"] = clock
        yield w


async def eventually(probe: Any, limit: float = 8.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {limit}s")
        await asyncio.sleep(0.02)


def button(message: dict[str, Any], label: str) -> str:
    for row in message.get("components") or []:
        for c in row.get("components") or []:
            if c.get("type") == 2 and str(c.get("label", "")).startswith(label):
                return str(c["custom_id"])
    raise AssertionError(f"no button {label!r} in {message.get('components')}")


async def share_practice(w: World, member: Any, title: str) -> int:
    res = await w.fake.invoke(w.guild, member, "practice share", {"city": "Lyon, FR", "topic": "resilience"})
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(w.guild, member, res, {**DRAFT, "title": title})
    await done.wait_for_message()
    m = re.search(r"Practice \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    return int(m.group(1))


async def schedule_roundtable(w: World, host: Any, title: str, start: datetime) -> int:
    mark = w.fake.mark()
    res = await w.fake.invoke(w.guild, host, "roundtable schedule",
                              {"title": title, "when": start.strftime("%Y-%m-%d %H:%M"), "timezone": "UTC"})
    assert "Scheduled" in res.text, res.text
    msg = await w.fake.wait_for_message(w.announcements, lambda m: bool(m.get("components")), after=mark)
    return int(button(msg, "Going").split(":")[2])


async def add_mou(w: World, who: Any, title: str, owner: Any | None = None) -> int:
    opts: dict[str, Any] = {"kind": "mou", "title": title, "city_a": "Seoul, KR", "city_b": "Paris, FR"}
    if owner is not None:
        opts["owner"] = owner.id
    res = await w.fake.invoke(w.guild, who, "mou add", opts)
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(w.guild, who, res, {"mou_add_summary": "Culture exchanges"})
    m = re.search(r"#(\d+)\*\* recorded", done.content)
    assert m, done.text
    return int(m.group(1))


async def audit_rows(db: Database, guild_id: int) -> list[dict[str, Any]]:
    return [
        dict(r) for r in await db.fetchall("SELECT * FROM audit WHERE guild_id = ? ORDER BY id", (guild_id,))
    ]


# -- /privacy forget-me ------------------------------------------------------------------------------
async def test_forget_me_removes_member_data_here_only_and_keeps_the_library(world: World) -> None:
    w = world
    fake, db = w.fake, w.bot.db
    alice = w.alice.id
    # the same member in a second server, with a profile there
    other = fake.add_guild(name="Second server")
    other.add_text_channel("general")
    other.add_member(alice)
    await fake.sync_gateway()
    res = await fake.invoke(other, alice, "profile set", {"title": "Adviser OCTOPLAZA"})
    assert "OCTOPLAZA" in res.text, res.text

    res = await fake.invoke(
        w.guild, w.alice, "profile set", {"city": "Lyon, FR", "title": "Head of ZEBRAFJORD"}
    )
    assert "ZEBRAFJORD" in res.text, res.text
    res = await fake.invoke(w.guild, w.alice, "roundtable reminders", {"state": "on"})
    assert res.ephemeral
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    bobs_rt = await schedule_roundtable(w, w.bob, "Heat plans", start)
    alices_rt = await schedule_roundtable(w, w.alice, "Alice hosts", start + timedelta(hours=3))
    res = await fake.invoke(w.guild, w.alice, "roundtable rsvp", {"id": bobs_rt, "response": "going"})
    assert "going" in res.text.lower(), res.text
    aid = await add_mou(w, w.bob, "Seoul–Paris", owner=w.alice)
    await eventually(lambda: fake.dms(w.alice))  # the new-owner notice (tested below)
    res = await fake.invoke(w.guild, w.alice, "mou owner add", {"id": aid, "member": w.carol.id})
    assert "Owners of" in res.content, res.text
    shared = await share_practice(w, w.alice, TITLE)
    res = await fake.invoke(w.guild, w.mod, "practice approve", {"id": shared})
    await res.wait_for_message()
    pending = await share_practice(w, w.alice, "Unpublished idea about bikes")

    # ask, and confirm with the button
    res = await fake.invoke(w.guild, w.alice, "privacy forget-me")
    assert res.ephemeral and "a former member" in res.text and "1 practice" in res.text, res.text
    assert await db.fetchval("SELECT COUNT(*) FROM profiles WHERE guild_id = ? AND user_id = ?",
                             (w.guild.id, alice)) == 1  # nothing happens before the confirmation
    # someone else cannot press it
    refused = await fake.click(w.guild, w.bob, res, button(res.message or {}, "Forget me"))
    assert refused.ephemeral and "someone else" in refused.text
    await fake.click(w.guild, w.alice, res, button(res.message or {}, "Forget me"))
    done = await eventually(lambda: "Done" in (fake.get_message(res.message["id"]) or {}).get("content", "")  # type: ignore[index]
                            and fake.get_message(res.message["id"]))  # type: ignore[index]
    assert done["flags"] & 64

    g = w.guild.id
    for table in ("profiles", "roundtable_rsvps", "roundtable_reminder_prefs", "mou_owners",
                  "practice_endorsements", "practice_adoptions"):
        n = await db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE guild_id = ? AND user_id = ?", (g, alice))
        assert n == 0, table
    assert await db.fetchval("SELECT COUNT(*) FROM mou_owners WHERE guild_id = ? AND agreement_id = ?",
                             (g, aid)) == 1  # carol stays
    assert (await db.fetchone("SELECT submitter_id, status FROM practices WHERE id = ?", (shared,)))[:] == (
        FORMER_MEMBER, "approved")
    assert await db.fetchval("SELECT COUNT(*) FROM practices WHERE id = ?", (pending,)) == 0
    assert await db.fetchval("SELECT host_id FROM roundtables WHERE id = ?", (alices_rt,)) == FORMER_MEMBER
    # nothing in this server's tables names her any more
    for (table,) in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                      "'sqlite_%' AND name NOT LIKE 'practices_%'"):
        cols = [r[1] for r in await db.fetchall("SELECT * FROM pragma_table_info(?)", (table,))]
        if "guild_id" not in cols:
            continue
        for col in cols:
            n = await db.fetchval(f'SELECT COUNT(*) FROM "{table}" WHERE guild_id = ? AND '
                                  f'(CAST("{col}" AS TEXT) = ? OR instr(CAST("{col}" AS TEXT), ?) > 0)',
                                  (g, str(alice), str(alice)))
            assert n == 0, (table, col)
    # the audit keeps the rows, not the values
    rows = await audit_rows(db, g)
    blob = json.dumps(rows)
    assert "ZEBRAFJORD" not in blob and str(alice) not in blob
    mine = [r for r in rows if r["action"] == "profile.set"]
    assert mine and all(r["actor_id"] == FORMER_MEMBER for r in mine)
    assert "[removed]" in mine[0]["changes"] and "title" in mine[0]["changes"]
    forgot = [r for r in rows if r["action"] == "member.forget"]
    assert len(forgot) == 1 and forgot[0]["actor_id"] == FORMER_MEMBER
    # the other server is untouched
    assert await db.fetchval("SELECT title FROM profiles WHERE guild_id = ? AND user_id = ?",
                             (other.id, alice)) == "Adviser OCTOPLAZA"
    assert "OCTOPLAZA" in json.dumps(await audit_rows(db, other.id))

    # every rendering says "a former member"
    res = await fake.invoke(w.guild, w.carol, "practice show", {"id": shared})
    assert "a former member" in res.text and f"<@{alice}>" not in res.text, res.text
    res = await fake.invoke(w.guild, w.carol, "roundtable show", {"id": alices_rt})
    assert "a former member" in res.text and f"<@{alice}>" not in res.text, res.text
    res = await fake.invoke(w.guild, w.mod, "practice export", {"format": "csv"})
    await res.wait_for_message()
    data = res.files[0].data
    assert b"a former member" in data and str(alice).encode() not in data
    res = await fake.invoke(w.guild, w.mod, "practice export", {"format": "json"})
    await res.wait_for_message()
    exported = json.loads(res.files[0].data)
    former = [p for p in exported if p["id"] == shared]
    assert former and former[0]["submitter_id"] is None and former[0]["submitter_name"] == "a former member"
    assert str(alice) not in res.files[0].data.decode()
    res = await fake.invoke(w.guild, w.mod, "audit")
    assert "a former member" in res.text and "ZEBRAFJORD" not in res.text
    assert fake.violations == [] and fake.unhandled == []


async def test_profile_clear_scrubs_the_audit_rows_of_the_profile(world: World) -> None:
    w = world
    res = await w.fake.invoke(
        w.guild, w.alice, "profile set", {"title": "Head of ZEBRAFJORD", "office": "Mayor"}
    )
    assert "ZEBRAFJORD" in res.text
    res = await w.fake.invoke(w.guild, w.alice, "profile clear")
    assert "deleted" in res.text
    rows = [r for r in await audit_rows(w.bot.db, w.guild.id) if r["entity"] == "profile"]
    assert [r["action"] for r in rows] == ["profile.set", "profile.clear"]
    assert "ZEBRAFJORD" not in rows[0]["changes"] and "Mayor" not in rows[0]["changes"]
    changes = json.loads(rows[0]["changes"])
    assert changes["title"] == {"from": None, "to": "[removed]"}  # the field stays named, the value is gone


# -- the bot removed from a server ---------------------------------------------------------------------
async def _roundtable_with_reminders(w: World) -> tuple[int, datetime]:
    res = await w.fake.invoke(w.guild, w.bob, "roundtable reminders", {"state": "on"})
    assert res.ephemeral
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    rt = await schedule_roundtable(w, w.alice, "Heat plans", start)
    res = await w.fake.invoke(w.guild, w.bob, "roundtable rsvp", {"id": rt, "response": "going"})
    assert "going" in res.text.lower()
    return rt, start


def posts_to(w: World, channel_id: int, mark: int) -> list[Any]:
    return [
        r
        for r in w.fake.requests[mark:]
        if r.method == "POST" and r.path == f"/channels/{channel_id}/messages"
    ]


async def test_bot_removed_from_server_posts_nothing_more_there(world: World) -> None:
    w = world
    rt, start = await _roundtable_with_reminders(w)
    g = w.guild.id
    assert len(await w.bot.scheduler.pending(g, f"rt:{rt}:")) == 3
    w.fake.remove_bot_from_guild(w.guild)
    await w.fake.sync_gateway()
    row = await eventually(
        lambda: w.bot.db.fetchone("SELECT left_ms FROM guild_departures WHERE guild_id = ?", (g,))
    )
    assert row["left_ms"] > 0
    assert await w.bot.scheduler.pending(g) == []
    statuses = {r[0] for r in await w.bot.db.fetchall("SELECT status FROM jobs WHERE guild_id = ?", (g,))}
    assert statuses == {"cancelled"}
    # a feature planning for that server afterwards plans nothing
    await w.bot.scheduler.schedule(
        "core.post",
        start,
        guild_id=g,
        dedupe_key="late",
        target=w.announcements.id,
        payload={"content": "late"},
    )
    assert await w.bot.scheduler.pending(g) == []

    mark = len(w.fake.requests)
    bob_dms = len(w.fake.dms(w.bob))
    w.extra["clock"].jump_to(start + timedelta(minutes=1))
    w.bot.scheduler.wake()
    await asyncio.sleep(0.5)
    await w.bot.scheduler.drain()
    assert posts_to(w, w.announcements.id, mark) == []
    assert len(w.fake.dms(w.bob)) == bob_dms
    assert not any(r.method == "POST" and "/messages" in r.path for r in w.fake.requests[mark:])

    # invited back: the departure is cleared and new jobs are accepted again (cancelled ones stay so)
    w.fake.add_bot_to_guild(w.guild)
    await w.fake.sync_gateway()
    await eventually(lambda: g not in w.bot.scheduler.departed)
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM guild_departures WHERE guild_id = ?", (g,)) == 0
    await w.bot.scheduler.schedule(
        "core.post",
        start,
        guild_id=g,
        dedupe_key="back",
        target=w.announcements.id,
        payload={"content": "back"},
    )
    keys = {j.dedupe_key for j in await w.bot.scheduler.pending(g)}
    assert "back" in keys and not any(k.startswith(f"rt:{rt}:") for k in keys)  # cancelled stay cancelled


async def test_outage_changes_nothing_and_the_reminder_fires(world: World) -> None:
    w = world
    rt, start = await _roundtable_with_reminders(w)
    w.fake.guild_outage(w.guild)
    await w.fake.sync_gateway()
    assert w.guild.id not in w.bot.scheduler.departed
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM guild_departures") == 0
    assert len(await w.bot.scheduler.pending(w.guild.id, f"rt:{rt}:")) == 3
    mark = w.fake.mark()
    w.extra["clock"].jump_to(start - timedelta(hours=24) + timedelta(seconds=1))
    w.bot.scheduler.wake()
    await w.fake.wait_for_message(w.announcements, lambda m: "⏰" in (m.get("content") or ""), after=mark)
    await w.fake.wait_for_dm(w.bob, lambda m: "Heat plans" in json.dumps(m))
    w.fake.end_guild_outage(w.guild)
    await w.fake.sync_gateway()
    assert w.guild.id not in w.bot.scheduler.departed


async def test_a_claimed_job_of_a_server_just_left_is_not_sent(db: Database) -> None:
    now = datetime.now(UTC)
    sched = Scheduler(db, clock=lambda: now, per_target_batch=5)
    sent: list[str] = []

    async def handler(job: Job) -> None:
        sent.append(job.dedupe_key)
        if job.dedupe_key == "a":  # the GUILD_DELETE arrives while the first of the group is being sent
            await sched.guild_left(7)

    sched.register("k", handler)
    for key in ("a", "b", "c"):
        await sched.schedule("k", now - timedelta(seconds=1), guild_id=7, dedupe_key=key, target=1)
    await sched.run_due(now)
    assert sent == ["a"]
    rows = dict(await db.fetchall("SELECT dedupe_key, status FROM jobs ORDER BY dedupe_key"))
    assert rows == {"a": "done", "b": "cancelled", "c": "cancelled"}


# -- attache db purge-guild --------------------------------------------------------------------------------
def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "config.toml").write_text(
        'database_path = "attache.db"\nlog_level = "WARNING"\n', encoding="utf-8"
    )
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "config.toml"), *args],
                          cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)


async def guild_row_counts(db_path: Path, guild_id: int) -> dict[str, int]:
    db = Database(db_path)
    await db.connect()
    try:
        return {t.name: int(await db.fetchval(f'SELECT COUNT(*) FROM "{t.name}" WHERE guild_id = ?',
                                              (guild_id,)))
                for t in await retention.guild_tables(db)}
    finally:
        await db.close()


async def test_purge_guild_cli_refuses_while_the_bot_runs_then_deletes_every_row(
        fake_discord: FakeDiscord, tmp_path: Path) -> None:
    async with start_world(fake_discord, tmp_path) as w:
        fake = w.fake
        other = fake.add_guild(name="Second server")
        other.add_text_channel("general")
        other.add_member(w.alice.id)
        await fake.sync_gateway()
        await fake.invoke(other, w.alice.id, "profile set", {"title": "Stays"})
        await fake.invoke(w.guild, w.alice, "profile set", {"city": "Lyon, FR", "title": "Goes"})
        await share_practice(w, w.alice, TITLE)
        await schedule_roundtable(w, w.bob, "Heat plans", datetime.now(UTC) + timedelta(days=3))
        await add_mou(w, w.bob, "Seoul–Paris", owner=w.carol)
        await fake.invoke(w.guild, w.admin, "city add", {"name": "Zebrafjord", "country": "NO",
                                                         "timezone": "Europe/Oslo"})
        gid, other_id = w.guild.id, other.id
        r = await asyncio.to_thread(cli, tmp_path, "db", "purge-guild", str(gid))
        assert r.returncode == 3 and "is running on" in r.stderr and "Nothing was changed" in r.stderr
    before = await guild_row_counts(tmp_path / "attache.db", gid)
    assert sum(before.values()) > 20 and before["practices"] == 1 and before["audit"] > 0
    other_before = await guild_row_counts(tmp_path / "attache.db", other_id)
    r = await asyncio.to_thread(cli, tmp_path, "db", "purge-guild", str(gid))
    assert r.returncode == 0, r.stderr
    assert f"server {gid}" in r.stdout
    assert sum((await guild_row_counts(tmp_path / "attache.db", gid)).values()) == 0
    assert await guild_row_counts(tmp_path / "attache.db", other_id) == other_before
    r = await asyncio.to_thread(cli, tmp_path, "db", "purge-guild", "not-a-number")
    assert r.returncode == 2 and "server id" in r.stderr


async def test_purge_guild_deletes_in_batches_and_children_first(db: Database) -> None:
    ms = to_ms(datetime.now(UTC))
    await db.executemany(
        "INSERT INTO audit (guild_id, actor_id, action, entity, at_ms) VALUES (?, 1, 'x', 'y', ?)",
        [(5, ms)] * 2500 + [(6, ms)] * 3,
    )
    await db.executemany("INSERT INTO profiles (guild_id, user_id, updated_ms) VALUES (?, ?, ?)",
                         [(5, u, ms) for u in range(1, 1201)])
    pauses = 0

    async def pause() -> None:
        nonlocal pauses
        pauses += 1

    res = await retention.purge_guild(db, 5, batch=1000, pause=pause)
    assert res.rows == {"audit": 2500, "profiles": 1200}
    assert pauses == 3  # 2 full audit batches + 1 full profile batch, a yield after each
    assert await db.fetchval("SELECT COUNT(*) FROM audit WHERE guild_id = 6") == 3
    names = [t.name for t in await retention.guild_tables(db)]
    assert names.index("practice_revisions") < names.index("practices")
    assert names.index("mou_owners") < names.index("mou_agreements")


# -- retention ------------------------------------------------------------------------------------------
async def test_retention_prunes_old_finished_jobs_and_audit_in_batches(db: Database) -> None:
    now = datetime.now(UTC)
    old, recent = to_ms(now - timedelta(days=91)), to_ms(now - timedelta(days=10))
    rows = []
    for i in range(2300):
        status = ("done", "failed", "skipped", "cancelled")[i % 4]
        rows.append((1, "k", f"old{i}", old, old, status, old, old, old))
    rows += [(1, "k", f"recent{i}", recent, recent, "done", recent, recent, recent) for i in range(5)]
    rows += [(1, "k", f"pending{i}", old, old, "pending", old, old, None) for i in range(5)]
    await db.executemany(
        "INSERT INTO jobs (guild_id, kind, dedupe_key, due_ms, original_due_ms, status, created_ms, "
        "updated_ms, finished_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    very_old = to_ms(now - timedelta(days=731))
    await db.executemany(
        "INSERT INTO audit (guild_id, actor_id, action, entity, at_ms) VALUES (1, 1, 'a', 'e', ?)",
        [(very_old,)] * 1500 + [(recent,)] * 4,
    )
    batches: list[int] = []

    async def pause() -> None:
        batches.append(1)

    res = await retention.prune(db, now, jobs_days=90, audit_days=730, batch=1000, pause=pause)
    assert (res.jobs, res.audit) == (2300, 1500)
    assert len(batches) == 3  # 1000 + 1000 (+300) jobs, 1000 (+500) audit: never more than 1000 rows at once
    left = {r[0] for r in await db.fetchall("SELECT dedupe_key FROM jobs")}
    assert left == {f"recent{i}" for i in range(5)} | {f"pending{i}" for i in range(5)}
    assert await db.fetchval("SELECT COUNT(*) FROM audit") == 4


async def test_daily_maintenance_job_prunes_purges_departed_servers_and_reschedules(world: World) -> None:
    w = world
    db, sched = w.bot.db, w.bot.scheduler
    jobs = await sched.pending(0, "core:maintenance:")
    assert len(jobs) == 1
    due = jobs[0].due_at
    ancient = to_ms(due - timedelta(days=800))
    await db.execute(
        "INSERT INTO audit (guild_id, actor_id, action, entity, at_ms) VALUES (?, 1, 'old', 'e', ?)",
        (w.guild.id, ancient),
    )
    await db.execute(
        "INSERT INTO jobs (guild_id, kind, dedupe_key, due_ms, original_due_ms, status, created_ms, "
        "updated_ms, finished_ms) VALUES (?, 'k', 'ancient', ?, ?, 'done', ?, ?, ?)",
        (w.guild.id, ancient, ancient, ancient, ancient, ancient),
    )
    gone = 424242424242424242  # a server the bot left 31 days before the run
    await db.execute("INSERT INTO guild_departures (guild_id, left_ms) VALUES (?, ?)",
                     (gone, to_ms(due - timedelta(days=31))))
    await db.execute(
        "INSERT INTO profiles (guild_id, user_id, title, updated_ms) VALUES (?, 1, 'x', 0)", (gone,)
    )
    recent_gone = 525252525252525252  # left 2 days before: inside the grace period
    await db.execute("INSERT INTO guild_departures (guild_id, left_ms) VALUES (?, ?)",
                     (recent_gone, to_ms(due - timedelta(days=2))))
    await db.execute("INSERT INTO profiles (guild_id, user_id, title, updated_ms) VALUES (?, 1, 'y', 0)",
                     (recent_gone,))
    w.extra["clock"].jump_to(due + timedelta(seconds=1))
    sched.wake()
    await eventually(lambda: _done(sched, jobs[0].dedupe_key))
    assert await db.fetchval("SELECT COUNT(*) FROM audit WHERE action = 'old'") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM jobs WHERE dedupe_key = 'ancient'") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM profiles WHERE guild_id = ?", (gone,)) == 0
    assert await db.fetchval("SELECT COUNT(*) FROM guild_departures WHERE guild_id = ?", (gone,)) == 0
    assert await db.fetchval("SELECT COUNT(*) FROM profiles WHERE guild_id = ?", (recent_gone,)) == 1
    nxt = await sched.pending(0, "core:maintenance:")
    assert len(nxt) == 1 and timedelta(hours=23) < nxt[0].due_at - due <= timedelta(days=1)


async def _done(sched: Scheduler, key: str) -> bool:
    return await sched.job_status(0, key) == "done"


# -- MOU owners are told, and can remove themselves ---------------------------------------------------
async def test_new_owner_is_told_and_can_remove_themselves(world: World) -> None:
    w = world
    fake, db = w.fake, w.bot.db
    aid = await add_mou(w, w.bob, "Seoul–Paris friendship")
    assert fake.dms(w.bob) == []  # bob made himself owner: nothing to tell
    res = await fake.invoke(w.guild, w.bob, "mou owner add", {"id": aid, "member": w.alice.id})
    assert "Owners of" in res.content
    dm = await fake.wait_for_dm(w.alice, lambda m: "made you an owner" in (m.get("content") or ""))
    assert f"#{aid}" in dm["content"] and "Seoul" in dm["content"]
    custom_id = button(dm, "Remove me as owner")
    await eventually(lambda: db.fetchval("SELECT status = 'done' FROM jobs WHERE kind = 'mou.owner_notice' "
                                         "AND guild_id = ?", (w.guild.id,)))

    # someone else pressing it (a crafted or forwarded press) is refused, and nothing changes
    refused = await fake.click(None, w.carol.id, dm, custom_id)
    assert refused.ephemeral and "only they can use it" in refused.text
    assert w.alice.id in await mou_service(w.bot).owners(w.guild.id, aid)
    res = await fake.click(None, w.alice.id, dm, custom_id)
    assert res.ephemeral and "no longer an owner" in res.text, res.text
    assert await mou_service(w.bot).owners(w.guild.id, aid) == (w.bob.id,)
    rows = await db.fetchall("SELECT actor_id, action FROM audit WHERE action = 'mou.owner.leave'")
    assert [tuple(r) for r in rows] == [(w.alice.id, "mou.owner.leave")]
    again = await fake.click(None, w.alice.id, dm, custom_id)
    assert again.ephemeral and "not an owner" in again.text

    # /mou add owner: tells that member too; as the only owner they may still remove themselves
    aid2 = await add_mou(w, w.bob, "Lyon–Turin", owner=w.carol)
    dm2 = await fake.wait_for_dm(w.carol, lambda m: f"#{aid2}" in (m.get("content") or ""))
    res = await fake.click(None, w.carol.id, dm2, button(dm2, "Remove me as owner"))
    assert "no longer an owner" in res.text, res.text
    assert await mou_service(w.bot).owners(w.guild.id, aid2) == ()
    assert fake.violations == [] and fake.unhandled == []


# -- the list of member columns follows the schema -------------------------------------------------------
async def test_every_member_column_is_handled_by_forget_me(db: Database) -> None:
    member_col = re.compile(r"^(user_id|actor_id|submitter_id|host_id|author_id|contact_user_id|.*_by)$")
    missing = []
    for (table,) in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                      "'sqlite_%'"):
        cols = {r[1] for r in await db.fetchall("SELECT * FROM pragma_table_info(?)", (table,))}
        for col in cols:
            if not member_col.match(col):
                continue
            own_rows = col == "user_id" and "guild_id" in cols  # deleted by forget-me
            if not own_rows and (table, col) not in MEMBER_COLUMNS:
                missing.append((table, col))
    assert missing == []


def test_former_member_renders_without_a_mention() -> None:
    from bot.embeds import member_ref

    assert member_ref(FORMER_MEMBER) == "a former member"
    assert member_ref(123) == "<@123>"
    assert member_ref(None, missing="Attaché") == "Attaché"

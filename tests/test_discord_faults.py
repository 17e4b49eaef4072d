"""Discord faults end to end (hardening issue: "Discord faults").

The fake Discord answers 429 (route and global), 500, 502 and 503 to a scheduled reminder post and
to an interaction followup; drops the gateway (resumable and not) while reminders fall due; and a
channel is deleted or the bot loses Send Messages before a reminder. Each test checks the posts the
fake received and the `jobs` table: nothing doubled, nothing lost, failures visible to moderators.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import bot.app as app_module
from bot.sandbox.emulation import FakeDiscord, Perm
from tests.e2e import MovableClock, World, start_world

EXTENSIONS = ["cogs.settings", "cogs.meta", "cogs.roundtables"]
CHANNEL_POST = r"^/channels/{cid}/messages$"
FOLLOWUP = r"^/webhooks/\d+/[^/]+$"


@pytest_asyncio.fixture
async def world(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(EXTENSIONS))
    clock = MovableClock()
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock, extensions=EXTENSIONS) as w:
        w.extra["clock"] = clock
        yield w


def buttons(message: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in message.get("components") or []:
        for c in row.get("components") or []:
            if c.get("custom_id"):  # link buttons (add to calendar) have a url instead
                out[c["custom_id"].rsplit(":", 1)[-1]] = c["custom_id"]
    return out


async def schedule_roundtable(w: World, title: str = "Heat plans") -> tuple[int, datetime, dict[str, Any]]:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    mark = w.fake.mark()
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": title, "when": start.strftime("%Y-%m-%d %H:%M"), "timezone": "UTC"})
    assert "Scheduled" in res.text, res.text
    msg = await w.fake.wait_for_message(w.announcements, lambda m: bool(m.get("components")), after=mark)
    rt_id = int(next(iter(buttons(msg).values())).split(":")[2])
    res = await w.fake.click(w.guild, w.bob, msg, buttons(msg)["going"])
    assert "You're going" in res.text
    return rt_id, start, msg


def reminder_posts(w: World) -> list[dict[str, Any]]:
    return [m for m in w.fake.channel_messages(w.announcements) if "⏰" in (m.get("content") or "")]


def reminder_requests(w: World) -> list[Any]:
    return [
        r
        for r in w.fake.requests
        if r.method == "POST"
        and r.path == f"/channels/{w.announcements.id}/messages"
        and "⏰" in ((r.json or {}).get("content") or "")
    ]


async def job_row(w: World, key: str) -> Any:
    return await w.bot.db.fetchone("SELECT status, attempts, last_error, due_ms FROM jobs WHERE guild_id = ? "
                                   "AND dedupe_key = ?", (w.guild.id, key))


async def wait_status(w: World, key: str, statuses: tuple[str, ...], limit: float = 10.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        row = await job_row(w, key)
        if row is not None and row["status"] in statuses:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"job {key} is {row and dict(row)}, not {statuses}")
        await asyncio.sleep(0.02)


async def fire_reminder(w: World, rt_id: int, start: datetime) -> str:
    """Move the scheduler's clock past the 24-hour reminder and wake it; returns its dedupe key."""
    key = f"rt:{rt_id}:occ:{int(start.timestamp())}:r1440"
    w.extra["clock"].jump_to(start - timedelta(hours=24) + timedelta(seconds=1))
    w.bot.scheduler.wake()
    return key


async def assert_jobs_intact(w: World, rt_id: int, start: datetime, reminder_status: str) -> None:
    """One row per job of the occurrence (none doubled, none lost), with the expected states."""
    occ = int(start.timestamp())
    rows = await w.bot.db.fetchall(
        "SELECT dedupe_key, status FROM jobs WHERE guild_id = ? AND dedupe_key LIKE ? ORDER BY dedupe_key",
        (w.guild.id, f"rt:{rt_id}:%"),
    )
    assert {r["dedupe_key"]: r["status"] for r in rows} == {
        f"rt:{rt_id}:occ:{occ}:end": "pending",
        f"rt:{rt_id}:occ:{occ}:r15": "pending",
        f"rt:{rt_id}:occ:{occ}:r1440": reminder_status,
    }


# ------------------------------------------------------------------ 429 / 5xx on a scheduled post

FAULTS = {
    "429-route": dict(status=429, retry_after=0.3),
    "429-global": dict(status=429, retry_after=0.3, is_global=True),
    "500": dict(status=500),
    "502": dict(status=502),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_reminder_post_survives_429_and_5xx(world: World, fault: str) -> None:
    """discord.py waits (retry_after, or its 5xx backoff) and sends again: one post, job done once."""
    w = world
    rt_id, start, _ = await schedule_roundtable(w)
    w.fake.fail_next("POST", CHANNEL_POST.format(cid=w.announcements.id), **FAULTS[fault])  # type: ignore[arg-type]
    began = time.monotonic()
    key = await fire_reminder(w, rt_id, start)
    post = await w.fake.wait_for_message(w.announcements, lambda m: "⏰" in (m.get("content") or ""))
    waited = time.monotonic() - began
    row = await wait_status(w, key, ("done",))
    assert w.fake.faults_triggered == [
        f"POST /channels/{w.announcements.id}/messages -> {FAULTS[fault]['status']}"
    ]
    assert len(reminder_requests(w)) == 2  # refused once, sent again
    assert len(reminder_posts(w)) == 1 and f"<@{w.bob.id}>" in post["content"]
    assert row["attempts"] == 1  # retried inside the HTTP client: one scheduler attempt
    assert waited >= (0.3 if fault.startswith("429") else 1.0)  # it waited before retrying
    await assert_jobs_intact(w, rt_id, start, "done")
    w.fake.assert_clean()


async def test_reminder_post_retried_by_scheduler_after_server_error(world: World) -> None:
    """A 5xx that discord.py does not retry itself (503) fails the attempt; the scheduler re-queues
    the job with backoff and posts it once, with the same nonce, when the retry falls due."""
    w = world
    rt_id, start, _ = await schedule_roundtable(w)
    w.fake.fail_next("POST", CHANNEL_POST.format(cid=w.announcements.id), 503)
    key = await fire_reminder(w, rt_id, start)
    row = await wait_status(w, key, ("pending",), limit=5)
    for _ in range(100):
        row = await job_row(w, key)
        if row["attempts"] == 1 and row["last_error"]:
            break
        await asyncio.sleep(0.02)
    assert row["status"] == "pending" and row["attempts"] == 1 and "503" in row["last_error"], dict(row)
    assert reminder_posts(w) == []
    retry_at = datetime.fromtimestamp(row["due_ms"] / 1000, UTC)
    w.extra["clock"].jump_to(retry_at + timedelta(seconds=1))
    w.bot.scheduler.wake()
    await w.fake.wait_for_message(w.announcements, lambda m: "⏰" in (m.get("content") or ""))
    row = await wait_status(w, key, ("done",))
    assert row["attempts"] == 2
    sent = reminder_requests(w)
    assert len(sent) == 2 and sent[0].json["nonce"] == sent[1].json["nonce"]
    assert len(reminder_posts(w)) == 1
    await assert_jobs_intact(w, rt_id, start, "done")
    w.fake.assert_clean()


# ------------------------------------------------------------------ 429 / 5xx on an interaction followup

@pytest.mark.parametrize("fault", list(FAULTS))
async def test_interaction_followup_survives_429_and_5xx(world: World, fault: str) -> None:
    """/roundtable schedule defers, then answers with a followup: the followup is sent again after
    the fault, exactly once, and the roundtable is created and announced once."""
    w = world
    w.fake.fail_next("POST", FOLLOWUP, **FAULTS[fault])  # type: ignore[arg-type]
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    res = await w.fake.invoke(
        w.guild,
        w.alice,
        "roundtable schedule",
        {"title": "Followup", "when": start.strftime("%Y-%m-%d %H:%M"), "timezone": "UTC"},
        timeout=15,
    )
    assert res.deferred and res.ephemeral
    assert "Scheduled" in res.text, res.text
    assert len(res.followup_ids) == 1
    assert len(w.fake.faults_triggered) == 1
    assert len([r for r in w.fake.requests if r.method == "POST" and r.path.startswith("/webhooks/")]) == 2
    assert len([m for m in w.fake.channel_messages(w.announcements) if m.get("components")]) == 1
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM roundtables WHERE guild_id = ?", (w.guild.id,)) == 1
    w.fake.assert_clean()


async def test_interaction_callback_survives_429(world: World) -> None:
    """The initial interaction response itself rate limited: answered once, after the wait."""
    w = world
    w.fake.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", 429, retry_after=0.2)
    res = await w.fake.invoke(w.guild, w.alice, "roundtable list")
    assert res.ephemeral and "No upcoming roundtables" in res.text
    assert len(w.fake.faults_triggered) == 1
    w.fake.assert_clean()


# ------------------------------------------------------------------ gateway drops

@pytest.mark.parametrize("resumable", [True, False], ids=["resume", "reidentify"])
async def test_gateway_drop_keeps_commands_and_posts_due_reminders_once(
    world: World, resumable: bool
) -> None:
    w = world
    fake = w.fake
    rt_id, start, msg = await schedule_roundtable(w)
    identifies, resumes = fake.identify_count, fake.resume_count
    await fake.drop_gateway(resumable=resumable, wait=False)
    key = await fire_reminder(w, rt_id, start)  # falls due while the bot is disconnected
    await fake.wait_ready()
    assert (fake.resume_count > resumes) if resumable else (fake.identify_count > identifies)
    await wait_status(w, key, ("done",))
    assert len(reminder_posts(w)) == 1
    # commands and buttons keep working after the reconnect
    res = await fake.invoke(w.guild, w.carol, "roundtable show", {"id": rt_id})
    assert "Heat plans" in res.text
    res = await fake.click(w.guild, w.carol, msg, buttons(msg)["going"])
    assert "You're going" in res.text
    # a second drop, then another reminder due: still exactly one post each
    await fake.drop_gateway(resumable=resumable)
    w.extra["clock"].jump_to(start - timedelta(minutes=15) + timedelta(seconds=1))
    w.bot.scheduler.wake()
    await wait_status(w, f"rt:{rt_id}:occ:{int(start.timestamp())}:r15", ("done",))
    await asyncio.sleep(0.2)
    assert len(reminder_posts(w)) == 2
    assert len(reminder_requests(w)) == 2
    occ = int(start.timestamp())
    rows = await w.bot.db.fetchall(
        "SELECT dedupe_key, status FROM jobs WHERE guild_id = ? AND dedupe_key LIKE ?",
        (w.guild.id, f"rt:{rt_id}:%"),
    )
    assert {r["dedupe_key"]: r["status"] for r in rows} == {
        f"rt:{rt_id}:occ:{occ}:end": "pending", f"rt:{rt_id}:occ:{occ}:r15": "done",
        f"rt:{rt_id}:occ:{occ}:r1440": "done"}
    fake.assert_clean()


# ------------------------------------------------------------------ channel gone / permission removed

@pytest.mark.parametrize("how", ["channel-deleted", "send-messages-removed"])
async def test_undeliverable_reminder_fails_at_once_and_is_shown(
    world: World, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    w = world
    fake = w.fake
    rt_id, start, _ = await schedule_roundtable(w)
    if how == "channel-deleted":
        fake.delete_channel(w.announcements)
    else:
        w.guild.set_bot_permissions(Perm.BOT_DEFAULT & ~Perm.SEND_MESSAGES)
        w.guild.edit_role(w.guild.everyone, permissions=Perm.EVERYONE_DEFAULT & ~Perm.SEND_MESSAGES)
    await fake.sync_gateway()
    caplog.set_level(logging.INFO)
    key = await fire_reminder(w, rt_id, start)
    row = await wait_status(w, key, ("failed",))
    assert row["attempts"] == 1  # failed at once: no retry
    status = 404 if how == "channel-deleted" else 403
    sent = reminder_requests(w)
    assert len(sent) == 1 and len([r for r in sent if r.status == status]) == 1
    assert str(w.announcements.id) in row["last_error"]
    assert reminder_posts(w) == []
    # the failure is logged with the channel
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(str(w.announcements.id) in line and "failed" in line for line in lines), lines
    # nothing left to retry later
    await asyncio.sleep(0.2)
    assert len(reminder_requests(w)) == 1
    await assert_jobs_intact(w, rt_id, start, "failed")
    # moderators see it in /settings show
    for who in (w.admin, w.mod):
        res = await fake.invoke(w.guild, who, "settings show")
        assert res.ephemeral
        embed = res.embeds[0]
        errors = next(f["value"] for f in embed["fields"] if f["name"] == "Last delivery errors")
        assert f"<#{w.announcements.id}>" in errors and "roundtable.reminder" in errors, errors
        assert ("Unknown Channel" if status == 404 else "Missing Permissions") in errors, errors
    res = await fake.invoke(w.guild, w.bob, "settings show")
    assert "Last delivery errors" not in res.text
    fake.assert_clean()

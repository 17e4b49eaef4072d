"""Foundation end to end: login, command sync, /help, /settings, a scheduled post, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import Database
from bot.sandbox.emulation import FakeDiscord
from tests.e2e import World, make_config, populate


async def test_login_sync_help_and_settings(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    assert fake.sync_count >= 1
    names = {c["name"] for c in fake.commands_for()}
    assert {"help", "settings", "audit"} <= names
    assert fake.intents is not None and fake.intents & (1 << 1) == 0  # no GUILD_MEMBERS privileged intent

    res = await fake.invoke(w.guild, w.alice, "help")
    assert res.ephemeral
    text = " ".join((e.get("title") or "") + (e.get("description") or "") for e in res.embeds)
    assert "/settings show" in text or "/help" in text

    # a plain member cannot change settings; nothing changes
    res = await fake.invoke(w.guild, w.alice, "settings timezone", options={"zone": "Europe/Paris"})
    assert res.ephemeral and "Manage Server" in str(res.embeds)
    assert (await w.bot.settings.get(w.guild.id)).timezone == "UTC"

    res = await fake.invoke(w.guild, w.admin, "settings timezone", options={"zone": "europe/paris"})
    assert "Europe/Paris" in (res.content or "")
    assert (await w.bot.settings.get(w.guild.id)).timezone == "Europe/Paris"

    res = await fake.invoke(w.guild, w.admin, "settings timezone", options={"zone": "Mars/Olympus"})
    assert res.ephemeral and "Unknown time zone" in str(res.embeds)

    choices = await fake.autocomplete(w.guild, w.admin, "settings timezone", focused="zone", value="los ang")
    assert any(c["value"] == "America/Los_Angeles" for c in choices) and len(choices) <= 25

    res = await fake.invoke(w.guild, w.admin, "settings show")
    shown = str(res.embeds)
    assert "Europe/Paris" in shown and str(w.announcements.id) in shown

    # audit: moderators only, and it lists the settings change
    res = await fake.invoke(w.guild, w.alice, "audit")
    assert "Only moderators" in str(res.embeds)
    res = await fake.invoke(w.guild, w.mod, "audit")
    assert "settings.set" in str(res.embeds)
    fake.assert_clean()


async def wait_status(w: World, key: str, status: str) -> None:
    for _ in range(100):
        if await w.bot.scheduler.job_status(w.guild.id, key) == status:
            return
        await asyncio.sleep(0.05)
    assert await w.bot.scheduler.job_status(w.guild.id, key) == status


async def test_scheduled_job_posts_at_due_time(started_bot: World) -> None:
    w = started_bot
    due = datetime.now(UTC) + timedelta(milliseconds=400)
    await w.bot.scheduler.schedule(
        "core.post", due, guild_id=w.guild.id, dedupe_key="test:hello",
        payload={"content": "Reminder: roundtable @everyone in 15 minutes"}, target=w.general.id,
    )
    assert w.fake.channel_messages(w.general) == []
    msg = await w.fake.wait_for_message(w.general, timeout=5)
    posted_at = datetime.now(UTC)
    assert posted_at >= due
    assert (posted_at - due).total_seconds() < 1.0
    assert "Reminder: roundtable" in msg["content"]
    assert msg.get("mention_everyone") in (None, False)
    await wait_status(w, "test:hello", "done")
    await asyncio.sleep(0.3)
    assert len(w.fake.channel_messages(w.general)) == 1
    w.fake.assert_clean()


async def test_deleted_channel_fails_job_and_shows_in_settings(started_bot: World) -> None:
    w = started_bot
    gone = w.guild.add_text_channel("temporary")
    w.fake.delete_channel(gone)
    await w.bot.scheduler.schedule(
        "core.post", datetime.now(UTC), guild_id=w.guild.id, dedupe_key="test:gone",
        payload={"content": "x"}, target=gone.id,
    )
    await wait_status(w, "test:gone", "failed")
    res = await w.fake.invoke(w.guild, w.admin, "settings show")
    assert str(gone.id) in str(res.embeds)


async def test_restart_fires_overdue_job_exactly_once(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    from bot.app import create_bot
    from bot.sandbox.emulation import run_bot

    parts = populate(fake_discord)
    cfg = make_config(tmp_path)
    # A job that fell due while the bot was down, and one left `running` by a process that died mid-send
    db = Database(cfg.database_path)
    await db.connect()
    await db.migrate()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    for key, status in (("overdue", "pending"), ("interrupted", "running")):
        await db.execute(
            "INSERT INTO jobs (guild_id, kind, dedupe_key, due_ms, original_due_ms, payload, target, status, "
            "attempts, created_ms, updated_ms) VALUES (?, 'core.post', ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (parts["guild"].id, key, now_ms - 60_000, now_ms - 60_000, f'{{"content": "{key}"}}',
             str(parts["general"].id), status, now_ms, now_ms),
        )
    await db.close()

    for _ in range(2):  # start, close, start again in the same loop: each job posts once overall
        bot = create_bot(cfg)
        async with run_bot(fake_discord, bot):
            for _ in range(100):
                if len(fake_discord.channel_messages(parts["general"])) >= 2:
                    break
                await asyncio.sleep(0.05)
        assert bot.is_closed()
        leaked = [t for t in asyncio.all_tasks() if not t.done() and (t.get_name().startswith("attache")
                  or "scheduler" in repr(t.get_coro()))]
        assert leaked == []
        assert not bot.db.is_open
    contents = sorted(m["content"] for m in fake_discord.channel_messages(parts["general"]))
    assert contents == ["interrupted", "overdue"]
    # the second start did not re-sync unchanged commands
    assert fake_discord.sync_count == 1
    fake_discord.assert_clean()


async def test_interrupted_send_that_already_went_out_is_not_duplicated(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The process died after Discord accepted the post but before the job was marked done:
    the resend carries the same nonce and Discord (the fake) drops the duplicate."""
    from bot.app import create_bot
    from bot.sandbox.emulation import run_bot
    from bot.scheduler import Job, from_ms

    parts = populate(fake_discord)
    cfg = make_config(tmp_path)
    bot = create_bot(cfg)
    async with run_bot(fake_discord, bot):
        now = datetime.now(UTC)
        await bot.scheduler.schedule(
            "core.post",
            now + timedelta(hours=1),
            guild_id=parts["guild"].id,
            dedupe_key="dup",
            payload={"content": "once"},
            target=parts["general"].id,
        )
        row = await bot.db.fetchone("SELECT * FROM jobs WHERE dedupe_key = 'dup'")
        job = Job(id=row["id"], guild_id=row["guild_id"], kind="core.post", dedupe_key="dup",
                  due_at=from_ms(row["due_ms"]), original_due_at=from_ms(row["original_due_ms"]),
                  payload={"content": "once"}, target=row["target"], attempts=1, resumed=False)
        await bot.post(int(job.target or 0), "once", nonce=job.nonce)  # the send that "went out"
        await bot.db.execute("UPDATE jobs SET status = 'running', due_ms = ? WHERE id = ?",
                             (row["due_ms"] - 7_200_000, row["id"]))
    bot = create_bot(cfg)
    async with run_bot(fake_discord, bot):
        for _ in range(60):
            if await bot.scheduler.job_status(parts["guild"].id, "dup") == "done":
                break
            await asyncio.sleep(0.05)
        assert await bot.scheduler.job_status(parts["guild"].id, "dup") == "done"
    assert [m["content"] for m in fake_discord.channel_messages(parts["general"])] == ["once"]


async def test_second_instance_on_same_database_refuses(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    import pytest

    from bot.app import create_bot
    from bot.db import DatabaseLocked
    from bot.sandbox.emulation import FakeDiscordTimeout, run_bot

    populate(fake_discord)
    cfg = make_config(tmp_path)
    async with run_bot(fake_discord, create_bot(cfg)):
        second = create_bot(cfg)
        with pytest.raises((DatabaseLocked, FakeDiscordTimeout)) as err:
            async with run_bot(fake_discord, second):
                pass
        assert "Another Attaché process" in repr(err.value) or isinstance(err.value, DatabaseLocked)


async def test_help_pages_with_buttons(started_bot: World) -> None:
    w = started_bot
    res = await w.fake.invoke(w.guild, w.alice, "help")
    ids = res.custom_ids
    assert len(ids) == 4  # « ‹ › »
    first_title = res.embeds[0]["title"]
    nxt = await w.fake.click(w.guild, w.alice, res, ids[2])
    assert nxt.callback_type == 7  # edit in place
    assert nxt.callback_data["embeds"][0]["title"] != first_title
    assert "Page 2/" in nxt.callback_data["embeds"][0]["footer"]["text"]
    w.fake.assert_clean()


async def test_unexpected_error_gets_reference_id_in_reply_and_log(
    started_bot: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import re

    w = started_bot

    async def boom(*args: object, **kwargs: object) -> list[dict[str, object]]:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(w.bot.scheduler, "recent_failures", boom)
    with caplog.at_level(logging.ERROR, logger="bot.interactions"):
        res = await w.fake.invoke(w.guild, w.admin, "settings show")
    text = str(res.embeds)
    assert res.ephemeral and "Something went wrong" in text and "database exploded" not in text
    ref = re.search(r"Reference: `([0-9a-f]{8})`", text)
    assert ref is not None
    logged = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log, with the same reference
    w.fake.assert_clean()

"""Roundtables end to end through discord.py and the fake Discord.

schedule → announcement with buttons → three members RSVP by button → counts update in place →
the 24-hour reminder is posted at its due time mentioning only those going → cancel notifies them
and leaves no pending job; plus refusals, the Events-tab mirror being off without Manage Events,
and buttons that keep working after a restart.

The bot here loads only the core cogs and roundtables (other features have their own e2e tests),
and its scheduler runs on a clock the test can move forward.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio

import bot.app as app_module
from bot.app import AttacheBot, create_bot
from bot.config import Config
from bot.sandbox.emulation import FakeDiscord, Perm, run_bot
from tests.e2e import MovableClock, World, configure, make_config, populate

EXTENSIONS = ["cogs.settings", "cogs.meta", "cogs.roundtables"]


@pytest_asyncio.fixture
async def rt_world(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(EXTENSIONS))
    parts = populate(fake_discord)
    cfg = make_config(tmp_path)
    clock = MovableClock()
    bot = create_bot(cfg, scheduler_clock=clock)
    async with run_bot(fake_discord, bot):
        await fake_discord.wait_commands_synced()
        await configure(bot, parts)
        yield World(fake=fake_discord, bot=bot, config=cfg, extra={"clock": clock, "tmp": tmp_path}, **parts)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    out = {}
    for row in message.get("components") or []:
        for c in row.get("components") or []:
            if c.get("custom_id"):  # link buttons (add to calendar) have a url instead
                out[c["custom_id"].rsplit(":", 1)[-1]] = c["custom_id"]
    return out


def links(message: dict[str, Any]) -> dict[str, str]:
    """The link buttons of a message: label -> url."""
    return {c["label"]: c["url"] for row in message.get("components") or []
            for c in row.get("components") or [] if c.get("url")}


def link_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def field(message: dict[str, Any], name: str) -> str:
    for e in message.get("embeds") or []:
        for f in e.get("fields") or []:
            if f["name"] == name:
                return str(f["value"])
    return ""


def when_text(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


async def schedule(w: World, **options: Any) -> tuple[int, dict[str, Any]]:
    mark = w.fake.mark()
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule", options)
    assert res.ephemeral and "Scheduled" in res.text, res.text
    msg = await w.fake.wait_for_message(w.announcements, lambda m: bool(m.get("components")), after=mark)
    rt_id = int(next(iter(buttons(msg).values())).split(":")[2])
    return rt_id, msg


async def test_schedule_rsvp_remind_cancel(rt_world: World) -> None:
    w = rt_world
    fake, bot = w.fake, w.bot
    cog: Any = bot.get_cog("Roundtables")
    clock: MovableClock = w.extra["clock"]
    start_local = (datetime.now(UTC) + timedelta(days=3)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Seoul")
    )
    start_local = start_local.replace(hour=9, minute=0, second=0, microsecond=0)
    rt_id, msg = await schedule(
        w, title="Heat action plans", when=when_text(start_local), timezone="Asia/Seoul", capacity=10,
        where="https://meet.example/heat, Seoul City Hall", repeat="weekly", agenda="Share @everyone plans",
    )
    start = start_local.astimezone(UTC)

    # the announcement: Discord timestamps, local times, place, no link, three persistent buttons
    emb = msg["embeds"][0]
    assert f"<t:{int(start.timestamp())}:F>" in emb["description"]
    assert "09:00 Seoul" in field(msg, "Local times")
    assert "Seoul City Hall" in field(msg, "Where")
    assert "meet.example" not in str(msg)
    assert "@\u200beveryone" in field(msg, "Agenda")
    assert set(buttons(msg)) == {"going", "maybe", "no"}
    assert all(len(cid) <= 100 for cid in buttons(msg).values())
    # add-to-calendar links on the public announcement: times in UTC, the place, never the private link
    cal = links(msg)
    assert set(cal) == {"Google Calendar", "Outlook"} and all(len(u) <= 512 for u in cal.values())
    g, o = link_query(cal["Google Calendar"]), link_query(cal["Outlook"])
    end = start_local.astimezone(UTC) + timedelta(hours=1)
    assert g["text"] == "Heat action plans" and g["location"] == "Seoul City Hall"
    assert g["dates"] == (f"{start_local.astimezone(UTC):%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}")
    assert o["startdt"] == f"{start_local.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" and o["subject"] == g["text"]
    assert "Share @everyone plans" in g["details"] and "Share @everyone plans" in o["body"]

    choices = await fake.autocomplete(w.guild, w.carol, "roundtable show", focused="id", value="heat")
    assert choices and choices[0]["value"] == rt_id and len(choices) <= 25

    # the Events-tab mirror of the next occurrence
    events = [e for e in fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]
    assert len(events) == 1 and events[0]["entity_type"] == 3
    assert datetime.fromisoformat(events[0]["scheduled_start_time"]) == start
    assert events[0]["entity_metadata"]["location"] == "Seoul City Hall"

    # three members answer by button
    ids = buttons(msg)
    res_a = await fake.click(w.guild, w.alice, msg, ids["going"])
    res_b = await fake.click(w.guild, w.bob, msg, ids["going"])
    res_c = await fake.click(w.guild, w.carol, msg, ids["maybe"])
    for res in (res_a, res_b, res_c):
        assert res.ephemeral
    assert "https://meet.example/heat" in res_a.text and "https://meet.example/heat" in res_b.text
    assert "meet.example" not in res_c.text
    # the Going reply (seen only by the member) carries the link in its calendar buttons too
    going_links = {c["label"]: c["url"] for row in res_a.components for c in row["components"]}
    assert set(going_links) == {"Google Calendar", "Outlook"}
    assert "https://meet.example/heat" in link_query(going_links["Google Calendar"])["details"]
    assert "https://meet.example/heat" in link_query(going_links["Outlook"])["body"]
    assert not res_c.components  # a "maybe" gets no calendar buttons
    await cog.wait_idle()
    current = fake.get_message(msg["id"])
    assert current is not None
    assert "Going **2 / 10**" in field(current, "Answers") and "Maybe **1**" in field(current, "Answers")
    assert set(buttons(current)) == {"going", "maybe", "no"}  # still there after the edit

    # bob turns on reminder DMs; the 24-hour reminder fires at its due time
    await fake.invoke(w.guild, w.bob, "roundtable reminders", {"state": "on"})
    jobs = {j.dedupe_key: j for j in await bot.scheduler.pending(w.guild.id, f"rt:{rt_id}:")}
    occ_s = int(start.timestamp())
    assert set(jobs) == {
        f"rt:{rt_id}:occ:{occ_s}:r1440",
        f"rt:{rt_id}:occ:{occ_s}:r15",
        f"rt:{rt_id}:occ:{occ_s}:end",
    }
    due = jobs[f"rt:{rt_id}:occ:{occ_s}:r1440"].due_at
    assert due == start - timedelta(hours=24)
    mark = fake.mark()
    clock.jump_to(due + timedelta(seconds=1))
    bot.scheduler.wake()
    reminder = await fake.wait_for_message(w.announcements, lambda m: "⏰" in m["content"], after=mark)
    assert f"<@{w.alice.id}>" in reminder["content"] and f"<@{w.bob.id}>" in reminder["content"]
    assert f"<@{w.carol.id}>" not in reminder["content"]
    assert set(links(reminder)) == {"Google Calendar", "Outlook"} and "meet.example" not in str(reminder)
    sent = [
        r
        for r in fake.requests
        if r.method == "POST"
        and r.path == f"/channels/{w.announcements.id}/messages"
        and "⏰" in ((r.json or {}).get("content") or "")
    ]
    assert len(sent) == 1
    allowed = sent[0].json["allowed_mentions"]
    assert sorted(int(u) for u in allowed["users"]) == sorted([w.alice.id, w.bob.id])
    assert allowed["parse"] == [] and sent[0].json.get("nonce")
    dm = await fake.wait_for_dm(w.bob, lambda m: "Reminder" in m["content"])
    assert "https://meet.example/heat" in dm["content"]  # going members get the link in their reminder
    assert "https://meet.example/heat" in link_query(links(dm)["Outlook"])["body"]
    assert fake.dms(w.alice) == []  # alice did not opt in
    for _ in range(100):  # the scheduler records results in batches just after the send
        if await bot.scheduler.job_status(w.guild.id, f"rt:{rt_id}:occ:{occ_s}:r1440") == "done":
            break
        await asyncio.sleep(0.02)
    assert await bot.scheduler.job_status(w.guild.id, f"rt:{rt_id}:occ:{occ_s}:r1440") == "done"

    # cancel: those going are told, no job is left, the event is gone, the buttons are removed
    mark = fake.mark()
    res = await fake.invoke(w.guild, w.bob, "roundtable cancel", {"id": rt_id})
    assert "Only the host" in str(res.embeds)
    res = await fake.invoke(w.guild, w.alice, "roundtable cancel", {"id": rt_id, "occurrence": "all"})
    assert "2 members going were notified" in res.text
    await cog.wait_idle()
    note = await fake.wait_for_message(w.announcements, lambda m: "cancelled" in m["content"], after=mark)
    assert f"<@{w.alice.id}>" in note["content"] and f"<@{w.bob.id}>" in note["content"]
    assert f"<@{w.carol.id}>" not in note["content"]
    assert await bot.scheduler.pending(w.guild.id, f"rt:{rt_id}:") == []
    assert not [e for e in fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]
    final = fake.get_message(msg["id"])
    assert final is not None and buttons(final) == {} and "Cancelled" in final["embeds"][0]["description"]
    fake.assert_clean()


async def test_refusals_lose_nothing(rt_world: World) -> None:
    w = rt_world
    fake = w.fake
    past = datetime.now(UTC) - timedelta(hours=2)
    for options, needle in (
        ({"title": "Old", "when": when_text(past), "timezone": "UTC"}, "past"),
        ({"title": "Gap", "when": "2030-03-31 02:30", "timezone": "Europe/Paris"}, "doesn't exist"),
        ({"title": "Too long", "when": "2030-01-10 10:00", "timezone": "UTC", "duration": "13h"}, "12 hours"),
        (
            {"title": "Hourly", "when": "2030-01-10 10:00", "timezone": "UTC", "repeat": "FREQ=HOURLY"},
            "once a day",
        ),
        (
            {"title": "Bad", "when": "2030-01-10 10:00", "timezone": "UTC", "repeat": "FREQ=WEEKLY;BYDAY=XX"},
            "couldn't read",
        ),
    ):
        res = await fake.invoke(w.guild, w.alice, "roundtable schedule", options)
        assert res.ephemeral and needle in str(res.embeds), (options, res.embeds)
    res = await fake.invoke(w.guild, w.alice, "roundtable list")
    assert "No upcoming roundtables" in res.text
    assert [m for m in fake.channel_messages(w.announcements) if m.get("components")] == []
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime", {"cities": "Asia/Seoul"})
    assert "two to ten" in str(res.embeds)
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Asia/Seoul; America/Los_Angeles", "duration": "3h"})
    assert "No common working time" in str(res.embeds)
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Europe/Paris; America/New_York", "within_days": 7})
    assert "Best times" in str(res.embeds) and "<t:" in str(res.embeds)
    fake.assert_clean()


async def test_mirror_off_without_manage_events_and_ics(rt_world: World) -> None:
    w = rt_world
    w.guild.set_bot_permissions(Perm.BOT_DEFAULT & ~Perm.MANAGE_EVENTS)
    rt_id, msg = await schedule(w, title="No events", when=when_text(datetime.now(UTC) + timedelta(days=2)),
                                timezone="Africa/Nairobi", repeat="every 2 weeks", occurrences=4)
    res = await w.fake.invoke(w.guild, w.admin, "settings show")
    shown = str(res.embeds)
    assert "Roundtable events mirror" in shown and "Manage Events" in shown
    res = await w.fake.invoke(w.guild, w.bob, "roundtable ics", {"id": rt_id})
    assert res.files and res.files[0].filename == f"roundtable-{rt_id}.ics"
    body = res.files[0].data.decode()
    rrule = next(line for line in body.splitlines() if line.startswith("RRULE:"))
    assert {"FREQ=WEEKLY", "INTERVAL=2", "COUNT=4"} <= set(rrule[6:].split(";"))
    assert (
        "BEGIN:VTIMEZONE" in body and "TZID:Africa/Nairobi" in body and "DTSTART;TZID=Africa/Nairobi:" in body
    )
    assert not [e for e in w.fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]
    w.fake.assert_clean()


async def test_buttons_survive_restart(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(EXTENSIONS))
    parts = populate(fake_discord)
    cfg: Config = make_config(tmp_path)

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[AttacheBot]:
        bot = create_bot(cfg)
        async with run_bot(fake_discord, bot):
            yield bot

    async with running() as bot:
        await fake_discord.wait_commands_synced()
        await configure(bot, parts)
        w = World(fake=fake_discord, bot=bot, config=cfg, **parts)
        rt_id, msg = await schedule(
            w,
            title="Persistent",
            when=when_text(datetime.now(UTC) + timedelta(days=1)),
            timezone="UTC",
            capacity=1,
        )
    async with running() as bot:
        res = await fake_discord.click(parts["guild"], parts["bob"], msg, buttons(msg)["going"])
        assert res.ephemeral and "You're going" in res.text
        res = await fake_discord.click(parts["guild"], parts["carol"], msg, buttons(msg)["going"])
        assert "waitlist" in res.text
        res = await fake_discord.click(parts["guild"], parts["bob"], msg, buttons(msg)["no"])
        await bot.get_cog("Roundtables").wait_idle()  # type: ignore[union-attr]
        promoted = await fake_discord.wait_for_dm(parts["carol"], lambda m: "place opened up" in m["content"])
        assert "Persistent" in promoted["content"]
        current = fake_discord.get_message(msg["id"])
        assert current is not None and "Going **1 / 1**" in field(current, "Answers")
    fake_discord.assert_clean()


async def test_edit_moves_next_meeting_and_notifies_going(rt_world: World) -> None:
    w = rt_world
    fake, bot = w.fake, w.bot
    cog: Any = bot.get_cog("Roundtables")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    rt_id, msg = await schedule(w, title="Series", when=when_text(start), timezone="UTC", repeat="weekly")
    first_going = buttons(msg)["going"]
    await fake.click(w.guild, w.bob, msg, first_going)
    res = await fake.invoke(w.guild, w.carol, "roundtable edit", {"id": rt_id, "duration": "2h"})
    assert "Only the host" in str(res.embeds)
    moved = start + timedelta(hours=5)
    mark = fake.mark()
    res = await fake.invoke(w.guild, w.alice, "roundtable edit",
                            {"id": rt_id, "when": when_text(moved), "occurrence": "this"})
    assert "1 member going was notified" in res.text
    await cog.wait_idle()
    note = await fake.wait_for_message(w.announcements, lambda m: "was updated" in m["content"], after=mark)
    assert f"<@{w.bob.id}>" in note["content"] and f"<t:{int(moved.timestamp())}:F>" in note["content"]
    jobs = {j.dedupe_key: j.due_at for j in await bot.scheduler.pending(w.guild.id, f"rt:{rt_id}:")}
    key = f"rt:{rt_id}:occ:{int(start.timestamp())}:"
    assert jobs == {key + "r1440": moved - timedelta(hours=24), key + "r15": moved - timedelta(minutes=15),
                    key + "end": moved + timedelta(hours=1)}
    events = [e for e in fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]
    assert len(events) == 1 and datetime.fromisoformat(events[0]["scheduled_start_time"]) == moved
    current = fake.get_message(msg["id"])
    assert current is not None and f"<t:{int(moved.timestamp())}:F>" in current["embeds"][0]["description"]
    assert "Moved from" in current["embeds"][0]["description"]
    # bob's answer stays with the moved meeting; the buttons still name the original occurrence
    assert buttons(current)["going"] == first_going
    res = await fake.invoke(w.guild, w.bob, "roundtable show", {"id": rt_id})
    assert "Going (1)" in str(res.embeds)
    fake.assert_clean()


async def test_series_moves_on_after_a_meeting(rt_world: World) -> None:
    w = rt_world
    fake, bot = w.fake, w.bot
    clock: MovableClock = w.extra["clock"]
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    rt_id, msg = await schedule(
        w, title="Weekly sync", when=when_text(start), timezone="UTC", repeat="weekly", duration="30m"
    )
    await fake.click(w.guild, w.bob, msg, buttons(msg)["going"])
    # the 24-hour reminder was already past when scheduled: only the 15-minute one and the end job exist
    keys = {j.dedupe_key.rsplit(":", 1)[-1] for j in await bot.scheduler.pending(w.guild.id, f"rt:{rt_id}:")}
    assert keys == {"r15", "end"}
    # notes only once the meeting has started
    res = await fake.invoke(w.guild, w.alice, "roundtable notes", {"id": rt_id, "text": "We agreed."})
    assert "once the meeting has started" in str(res.embeds)
    clock.jump_to(start + timedelta(minutes=31))
    bot.scheduler.wake()
    nxt = start + timedelta(days=7)
    for _ in range(200):
        current = fake.get_message(msg["id"])
        if current is not None and f"<t:{int(nxt.timestamp())}:F>" in current["embeds"][0]["description"]:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the announcement did not move on to the next meeting")
    assert buttons(current)["going"].endswith(f":{int(nxt.timestamp())}:going")
    assert "Going **0**" in field(current, "Answers")  # answers are per meeting
    pending = {j.dedupe_key for j in await bot.scheduler.pending(w.guild.id, f"rt:{rt_id}:")}
    assert pending == {f"rt:{rt_id}:occ:{int(nxt.timestamp())}:{k}" for k in ("r1440", "r15", "end")}
    # the 15-minute reminder of the first meeting was skipped (it was due after nothing could be posted)
    assert not [m for m in fake.channel_messages(w.announcements) if "⏰" in m["content"]]
    # the announcement's buttons now answer for the next meeting
    res = await fake.click(w.guild, w.carol, msg, buttons(current)["going"])
    assert f"<t:{int(nxt.timestamp())}:F>" in res.text
    res = await fake.invoke(w.guild, w.alice, "roundtable notes", {"id": rt_id, "text": "We agreed on X."})
    assert "Notes saved" in res.text
    posted = await fake.wait_for_message(w.announcements, lambda m: bool(m.get("embeds"))
                                         and "Notes" in (m["embeds"][0].get("title") or ""))
    assert "We agreed on X." in posted["embeds"][0]["description"]
    res = await fake.invoke(w.guild, w.alice, "roundtable list", {"when": "past"})
    assert "Weekly sync" in str(res.embeds)
    fake.assert_clean()


async def test_mirror_edits_an_uncached_event_and_replaces_one_discord_refuses(rt_world: World) -> None:
    """The mirror goes through discord.py's public scheduled-event API: an event missing from the
    library's cache is fetched by id and edited in place; an edit Discord refuses (not 403/404) is
    replaced by a fresh event, so the roundtable keeps exactly one."""
    w = rt_world
    fake, bot = w.fake, w.bot
    cog: Any = bot.get_cog("Roundtables")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    rt_id, _msg = await schedule(w, title="Mirror", when=when_text(start), timezone="UTC")
    await cog.wait_idle()

    def events() -> list[dict[str, Any]]:
        return [e for e in fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]

    assert len(events()) == 1
    first = events()[0]
    guild = bot.get_guild(w.guild.id)
    assert guild is not None
    guild._scheduled_events.pop(int(first["id"]), None)  # as if the bot never saw its creation
    assert guild.get_scheduled_event(int(first["id"])) is None

    res = await fake.invoke(w.guild, w.alice, "roundtable edit", {"id": rt_id, "title": "Mirror renamed"})
    assert "Updated" in res.text, res.text
    await cog.wait_idle()
    assert [(e["id"], e["name"]) for e in events()] == [(first["id"], "Mirror renamed")]
    assert events()[0]["entity_type"] == 3 and events()[0]["channel_id"] is None

    fake.fail_next("PATCH", r"/guilds/\d+/scheduled-events/\d+$", 400, code=180000, message="Cannot edit")
    res = await fake.invoke(w.guild, w.alice, "roundtable edit", {"id": rt_id, "title": "Mirror again"})
    assert "Updated" in res.text, res.text
    await cog.wait_idle()
    now = events()
    assert len(now) == 1 and now[0]["id"] != first["id"] and now[0]["name"] == "Mirror again"
    assert int(first["id"]) in fake.deleted_scheduled_events
    assert datetime.fromisoformat(now[0]["scheduled_start_time"]) == start
    assert now[0]["entity_metadata"]["location"]
    fake.assert_clean()

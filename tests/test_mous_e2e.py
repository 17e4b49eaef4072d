"""MOU tracker end to end through discord.py and the fake Discord.

add (slash command + modal) → reminders planned → the clock jumps to a reminder → a post in the
announcements channel mentioning only the owners, plus DMs → renew → the old term's reminders are
cancelled and the new term's planned; refusals for non-owners; the weekly digest lists exactly the
right rows; a restart posts nothing twice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

import bot.app as app_module
from bot.app import create_bot
from bot.sandbox.emulation import FakeDiscord, run_bot
from cogs.mous import planning as P
from cogs.mous.service import Actor, MouService
from tests.e2e import MovableClock, World, configure, make_config, mou_service, populate

EXTENSIONS = ["cogs.settings", "cogs.meta", "cogs.mous"]
ZONE = "Europe/Paris"


@pytest_asyncio.fixture
async def mou_world(
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
        await bot.settings.set(parts["guild"].id, "timezone", ZONE, actor_id=parts["admin"].id)
        yield World(fake=fake_discord, bot=bot, config=cfg, extra={"clock": clock}, **parts)


def svc_of(w: World) -> MouService:
    return mou_service(w.bot)


def today_of(w: World) -> date:
    return P.local_today(w.extra["clock"](), ZONE)


async def pending(w: World, prefix: str) -> dict[str, datetime]:
    return {j.dedupe_key: j.due_at for j in await w.bot.scheduler.pending(w.guild.id, prefix)}


async def test_add_remind_renew(mou_world: World) -> None:
    w = mou_world
    fake, bot = w.fake, w.bot
    today = today_of(w)
    expires = today + timedelta(days=40)
    res = await fake.invoke(
        w.guild,
        w.alice,
        "mou add",
        {
            "kind": "sister-city",
            "title": "Seoul–Paris friendship",
            "city_a": "Seoul, KR",
            "city_b": "Paris, FR",
            "signed": (today - timedelta(days=365)).isoformat(),
            "expires": expires.isoformat(),
            "notice_days": 20,
        },
    )
    assert res.modal is not None, res.text
    done = await fake.submit_modal(w.guild, w.alice, res, {
        "mou_add_summary": "Culture and youth exchanges. @everyone welcome",
        "mou_add_links": "https://example.org/mou.pdf",
    })
    m = re.search(r"#(\d+)\*\* recorded", done.content)
    assert m, done.text
    aid = int(m.group(1))
    assert done.ephemeral and "Seoul" in done.text and "@\u200beveryone" in done.text

    # a second owner, whose DMs are closed: the reminder still goes out
    res = await fake.invoke(w.guild, w.alice, "mou owner add", {"id": aid, "member": w.dave.id})
    assert "Owners of" in res.content

    # someone else cannot edit; the error names the owners; nothing changed
    res = await fake.invoke(w.guild, w.bob, "mou update", {"id": aid, "title": "Hijacked"})
    assert res.ephemeral and "Only the owners" in res.text
    assert (await svc_of(w).get(w.guild.id, aid)).title == "Seoul–Paris friendship"
    # a refused status move names the allowed ones
    res = await fake.invoke(w.guild, w.alice, "mou update", {"id": aid, "status": "draft"})
    assert "`expiring`" in res.text and "Nothing was saved" in res.text

    # reminders planned: 30 and 7 days before expiry, notice deadline, status moves (180/90 are past)
    keys = await pending(w, f"mou:{aid}:t1:")
    assert set(keys) == {f"mou:{aid}:t1:{k}" for k in
                         ("exp:30d", "exp:7d", "notice", "status:expiring", "status:expired")}
    due = keys[f"mou:{aid}:t1:exp:30d"]
    assert due == P.local_instant(expires - timedelta(days=30), 9, ZONE)

    # time passes: the 30-day reminder is posted, mentioning only the owners
    mark = fake.mark()
    w.extra["clock"].jump_to(due + timedelta(minutes=1))
    bot.scheduler.wake()
    msg = await fake.wait_for_message(w.announcements, lambda x: "30 days to go" in x["content"], after=mark)
    assert f"<@{w.alice.id}>" in msg["content"] and f"<@{w.dave.id}>" in msg["content"]
    assert f"<@{w.bob.id}>" not in msg["content"]
    body = next(r.json for r in fake.requests
                if r.method == "POST" and r.path == f"/channels/{w.announcements.id}/messages"
                and isinstance(r.json, dict) and "30 days to go" in (r.json.get("content") or ""))
    allowed = body["allowed_mentions"]
    assert sorted(int(u) for u in allowed["users"]) == sorted([w.alice.id, w.dave.id])
    assert not allowed.get("parse") and not allowed.get("roles")
    dm = await fake.wait_for_dm(w.alice, lambda x: "30 days to go" in x["content"])
    assert "<@" not in dm["content"]
    await bot.scheduler.drain()
    assert fake.dms(w.dave) == []  # closed DMs: skipped quietly
    assert await bot.scheduler.job_status(w.guild.id, f"mou:{aid}:t1:exp:30d") == "done"

    # the notice window opens at local midnight (status moves to expiring on its own), and the
    # notice-deadline reminder goes out at 09:00
    assert keys[f"mou:{aid}:t1:status:expiring"] < keys[f"mou:{aid}:t1:notice"]
    w.extra["clock"].jump_to(keys[f"mou:{aid}:t1:notice"] + timedelta(minutes=1))
    bot.scheduler.wake()
    await fake.wait_for_message(
        w.announcements, lambda x: "renewal-notice deadline" in x["content"], after=mark
    )
    await bot.scheduler.drain()
    assert (await svc_of(w).get(w.guild.id, aid)).status == "expiring"

    # renew: old term's reminders cancelled, new term's planned
    new_expiry = expires + timedelta(days=5 * 365)
    res = await fake.invoke(w.guild, w.alice, "mou renew", {"id": aid, "new_expiry": new_expiry.isoformat()})
    assert "renewed" in res.content, res.text
    assert await pending(w, f"mou:{aid}:t1:") == {}
    for k in ("exp:7d", "status:expired"):
        assert await bot.scheduler.job_status(w.guild.id, f"mou:{aid}:t1:{k}") == "cancelled"
    new = await pending(w, f"mou:{aid}:t2:")
    assert new[f"mou:{aid}:t2:exp:180d"] == P.local_instant(new_expiry - timedelta(days=180), 9, ZONE)
    a = await svc_of(w).get(w.guild.id, aid)
    assert a.term == 2 and a.status == "renewed"

    # show: dates as Discord timestamps, term history; list and upcoming answer too
    res = await fake.invoke(w.guild, w.carol, "mou show", {"id": aid})
    assert "<t:" in res.text and "Term 1" in res.text and "Owners" in res.text
    res = await fake.invoke(w.guild, w.carol, "mou list", {})
    assert f"`#{aid}`" in res.text
    res = await fake.invoke(w.guild, w.carol, "mou upcoming", {"days": 3650})
    assert "renewal-notice deadline" in res.text
    res = await fake.invoke(w.guild, w.carol, "mou export", {"format": "json"})
    assert "Only moderators" in res.text
    res = await fake.invoke(w.guild, w.mod, "mou export", {"format": "csv"})
    assert res.files and "Seoul–Paris friendship" in res.files[0].data.decode("utf-8-sig")
    res = await fake.invoke(w.guild, w.carol, "mou ics", {})
    assert res.files and "BEGIN:VEVENT" in res.files[0].text
    choices = await fake.autocomplete(w.guild, w.carol, "mou show", "id", "Seoul")
    assert choices and choices[0]["value"] == aid
    fake.assert_clean()


async def test_weekly_digest_lists_exactly_the_right_rows(mou_world: World) -> None:
    w = mou_world
    fake, bot = w.fake, w.bot
    svc = svc_of(w)
    g = w.guild.id
    alice = Actor(w.alice.id)
    digest_jobs = await pending(w, "mou:digest:")
    assert digest_jobs == {}  # no agreements yet, no digest
    t = today_of(w)
    soon = await svc.create(
        g,
        alice,
        kind="mou",
        title="Expiring soon",
        parties=["Lyon", "Turin"],
        signed=(t - timedelta(days=400)).isoformat(),
        expires=(t + timedelta(days=60)).isoformat(),
    )
    far = await svc.create(
        g,
        alice,
        kind="mou",
        title="Far away",
        parties=["Lyon", "Kyoto"],
        signed=(t - timedelta(days=10)).isoformat(),
        expires=(t + timedelta(days=900)).isoformat(),
    )
    await svc.create(g, alice, kind="other", title="Just a draft", parties=["Lyon", "Quebec"])
    ended = await svc.create(
        g,
        alice,
        kind="mou",
        title="Ended",
        parties=["Lyon", "Oslo"],
        signed=(t - timedelta(days=10)).isoformat(),
        expires=(t + timedelta(days=30)).isoformat(),
    )
    ms_due = await svc.add_milestone(
        g, alice, far.id, (t + timedelta(days=12)).isoformat(), "Annual exchange"
    )
    await svc.add_milestone(g, alice, far.id, (t + timedelta(days=60)).isoformat(), "Too far out")
    ms_over = await svc.add_milestone(g, alice, far.id, (t - timedelta(days=3)).isoformat(), "Report overdue")
    await svc.add_milestone(g, alice, ended.id, (t + timedelta(days=5)).isoformat(), "Never mind")
    await svc.terminate(g, alice, ended.id, "merged into another agreement")
    await svc.log_activity(g, alice, far.id, "Video call")

    digest_jobs = await pending(w, "mou:digest:")
    assert len(digest_jobs) == 1
    (key, at), = digest_jobs.items()
    local = at.astimezone(ZoneInfo(ZONE))
    assert local.weekday() == 0 and local.hour == 9  # Monday 09:00, server time (defaults)

    mark = fake.mark()
    w.extra["clock"].jump_to(at + timedelta(minutes=1))
    bot.scheduler.wake()
    msg = await fake.wait_for_message(
        w.announcements, lambda x: "Weekly agreements digest" in x["content"], after=mark
    )
    sections = {e["title"].split(" (")[0]: e.get("description", "") for e in msg["embeds"]}
    # the timeline picture of the coming 90 days goes with it, with its alt text
    (timeline,) = fake.message_files(msg)
    assert timeline.filename == "agreements-timeline.png" and timeline.data.startswith(b"\x89PNG")
    assert timeline.description and f"#{soon.id} Expiring soon" in timeline.description
    day = P.local_today(at, ZONE)
    assert day >= t
    assert set(sections) == {"Expiring in the next 90 days", "Milestones due in the next 30 days",
                             "Overdue milestones"}
    assert re.findall(r"`#(\d+)`", sections["Expiring in the next 90 days"]) == [str(soon.id)]
    due_text = sections["Milestones due in the next 30 days"]
    assert "Annual exchange" in due_text and "Too far out" not in due_text and "Never mind" not in due_text
    assert re.findall(r"`#(\d+)`", due_text) == [str(far.id)]
    assert "Report overdue" in sections["Overdue milestones"]
    assert ms_due.id != ms_over.id
    # the next week's digest is scheduled; the one that ran is done
    await bot.scheduler.drain()
    nxt = await pending(w, "mou:digest:")
    assert list(nxt.values()) == [at + timedelta(days=7)]
    assert await bot.scheduler.job_status(g, key) == "done"
    assert fake.assert_clean() is None


async def test_empty_digest_posts_nothing_and_restart_posts_nothing_twice(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(EXTENSIONS))
    parts = populate(fake_discord)
    cfg = make_config(tmp_path)
    clock = MovableClock()
    bot = create_bot(cfg, scheduler_clock=clock)
    async with run_bot(fake_discord, bot):
        await fake_discord.wait_commands_synced()
        await configure(bot, parts)
        svc: MouService = mou_service(bot)
        g = parts["guild"].id
        t = P.local_today(clock(), "UTC")
        a = await svc.create(
            g,
            Actor(parts["alice"].id),
            kind="mou",
            title="Open-ended",
            parties=["Lyon", "Oslo"],
            signed=t.isoformat(),
        )
        await svc.log_activity(g, Actor(parts["alice"].id), a.id, "Kick-off")
        (key, at), = {j.dedupe_key: j.due_at for j in await bot.scheduler.pending(g, "mou:digest:")}.items()
        mark = fake_discord.mark()
        clock.jump_to(at + timedelta(minutes=1))
        bot.scheduler.wake()
        for _ in range(200):
            if await bot.scheduler.job_status(g, key) == "done":
                break
            await bot.scheduler.drain()
            await asyncio.sleep(0.01)
        assert await bot.scheduler.job_status(g, key) == "done"
        assert [m for m in fake_discord.channel_messages(parts["announcements"]) if int(m["id"]) > mark] == []
    # restart on the same database: start-up re-planning schedules nothing new and posts nothing
    before = len(fake_discord.channel_messages(parts["announcements"]))
    bot2 = create_bot(cfg, scheduler_clock=clock)
    async with run_bot(fake_discord, bot2):
        await bot2.scheduler.run_due(wait=True)
        assert len(fake_discord.channel_messages(parts["announcements"])) == before
        assert len(await bot2.scheduler.pending(g, "mou:digest:")) == 1
    fake_discord.assert_clean()


async def test_mou_in_french_and_spanish(mou_world: World) -> None:
    """Replies in each member's language (a French and a Spanish client), the reminder post in the server's
    language, the owner notice and reminder DMs in each recipient's; an English member still reads English."""
    w = mou_world
    fake, bot, gid = w.fake, w.bot, w.guild.id
    await bot.settings.set(gid, "language", "fr", actor_id=w.admin.id)
    today = today_of(w)
    expires = today + timedelta(days=40)
    res = await fake.invoke(w.guild, w.alice, "mou add", {
        "kind": "sister-city", "title": "Seoul–Paris friendship", "city_a": "Seoul, KR",
        "city_b": "Paris, FR", "signed": (today - timedelta(days=365)).isoformat(),
        "expires": expires.isoformat(), "notice_days": 20,
    }, locale="fr")
    assert res.modal is not None, res.text
    assert res.modal["title"] == "Accord : Seoul–Paris friendship"
    labels = [c["components"][0]["label"] for c in res.modal["components"]]
    assert labels == ["Résumé", "Services ou domaines d'action", "Liens des documents (un par ligne)"], labels
    done = await fake.submit_modal(w.guild, w.alice, res, {"mou_add_summary": "Culture"}, locale="fr")
    m = re.search(r"\*\*n° (\d+)\*\* enregistré", done.content)
    assert m, done.text
    aid = int(m.group(1))
    fields = {f["name"]: f["value"] for f in done.embeds[0]["fields"]}
    assert "Parties" in fields and "Responsables" in fields and "Expire : " in fields["Dates"]

    # a Spanish member: the card in Spanish; a refusal naming the owner, in Spanish
    shown = await fake.invoke(w.guild, w.bob, "mou show", {"id": aid}, locale="es-ES")
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert {"Partes", "Fechas", "Responsables"} <= set(fields), fields
    assert "Renovación automática: no" in fields["Fechas"]
    refused = await fake.invoke(w.guild, w.bob, "mou update", {"id": aid, "title": "Hijacked"},
                                locale="es-ES")
    assert refused.ephemeral
    assert f"Solo los responsables del acuerdo n.º {aid} (<@{w.alice.id}>) y los moderadores" in refused.text
    missing = await fake.invoke(w.guild, w.bob, "mou show", {"id": 999}, locale="es-ES")
    assert "No hay ningún acuerdo n.º 999 en este servidor." in missing.text

    # bob made an owner: the notice DM and its button in his language (his last client: Spanish)
    res = await fake.invoke(w.guild, w.alice, "mou owner add", {"id": aid, "member": w.bob.id}, locale="fr")
    assert res.content.startswith(f"Responsables du n° {aid} : ")
    dm = await fake.wait_for_dm(w.bob, lambda x: f"n.º {aid}" in (x.get("content") or ""))
    assert "le nombró responsable del acuerdo" in dm["content"], dm["content"]
    button = dm["components"][0]["components"][0]
    assert button["label"] == "Quitarme de responsable"

    # the 30-day reminder: posted in the server's language (French), DMs in each owner's
    keys = await pending(w, f"mou:{aid}:t1:")
    mark = fake.mark()
    w.extra["clock"].jump_to(keys[f"mou:{aid}:t1:exp:30d"] + timedelta(minutes=1))
    bot.scheduler.wake()
    post = await fake.wait_for_message(w.announcements, lambda x: "plus que 30 jours" in x["content"],
                                       after=mark)
    assert "Renouvelez avec `/mou renew" in post["content"]
    dm_fr = await fake.wait_for_dm(w.alice, lambda x: "plus que 30 jours" in (x.get("content") or ""))
    assert "<@" not in dm_fr["content"]
    dm_es = await fake.wait_for_dm(w.bob, lambda x: "quedan 30 días" in (x.get("content") or ""))
    assert "Renueve con `/mou renew" in dm_es["content"]
    await bot.scheduler.drain()

    # bob leaves with the button, answered in Spanish; an English member still reads English
    left = await fake.click(None, w.bob.id, dm, button["custom_id"], locale="es-ES")
    assert left.ephemeral and f"Ya no es responsable del acuerdo n.º {aid}" in left.text, left.text
    english = await fake.invoke(w.guild, w.carol, "mou show", {"id": aid})
    assert {f["name"] for f in english.embeds[0]["fields"]} >= {"Parties", "Dates", "Owners"}
    assert fake.violations == [] and fake.unhandled == []

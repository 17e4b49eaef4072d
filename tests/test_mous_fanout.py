"""Same-channel fan-out end to end, against the fake Discord's per-channel rate limit (5 posts per 5 s).

N reminders fall due in one channel in the same minute: they arrive in a few combined posts, each item
naming only its own owners and each post's allowed_mentions letting exactly those owners be pinged; each
owner's DMs are combined the same way. A post that fails part-way and a restart in the middle lose and
double nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.app as app_module
from bot.app import create_bot
from bot.fanout import pack
from bot.sandbox.emulation import FakeDiscord, run_bot
from bot.sandbox.emulation.ratelimit import ChannelRateLimits
from cogs.mous import planning as P
from cogs.mous.service import Actor
from tests.e2e import MovableClock, configure, make_config, mou_service, populate

EXTENSIONS = ["cogs.settings", "cogs.meta", "cogs.mous"]
N = 60
ITEM = re.compile(r"Report R(\d{3})")


def _posts(fake: FakeDiscord, channel_id: int, after: int) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests[after:]
            if r.method == "POST" and r.path == f"/channels/{channel_id}/messages" and r.status == 200
            and isinstance(r.json, dict)]


def _items(body: dict[str, Any]) -> list[tuple[int, set[int]]]:
    """(item number, the members it names) for each reminder in a message body."""
    texts = [body.get("content") or ""] if not body.get("embeds") else \
        [b for e in body["embeds"] for b in (e.get("description") or "").split("\n\n")]
    out = []
    for t in texts:
        m = ITEM.search(t)
        if m:
            out.append((int(m.group(1)), {int(x) for x in re.findall(r"<@!?(\d+)>", t)}))
    return out


def test_pack_keeps_order_and_limits() -> None:
    texts = [f"item {i} " + "x" * 290 for i in range(100)]
    owners = [[i % 90] for i in range(100)]
    packs = pack(texts, owners, owners_max=30)
    assert [i for p in packs for i in p.indices] == list(range(100))
    for p in packs:
        assert len(p.blocks) <= 10 and all(len(b) <= 4000 for b in p.blocks)
        assert sum(len(b) for b in p.blocks) <= 5600 and len(p.owners) <= 30
        assert set(p.owners) == {owners[i][0] for i in p.indices}


async def test_same_minute_reminders_combined_paced_and_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(EXTENSIONS))
    clock = MovableClock()
    cfg = make_config(tmp_path)
    async with FakeDiscord(rate_limits=True) as fake:
        parts = populate(fake)
        gid, chan = parts["guild"].id, parts["announcements"].id
        members = [parts["alice"], parts["bob"], parts["carol"], parts["dave"]]  # dave's DMs are closed
        owners_of: dict[int, set[int]] = {}
        async with run_bot(fake, create_bot(cfg, scheduler_clock=clock)) as bot:
            await fake.wait_commands_synced()
            await configure(bot, parts)
            # the set-up's own notices in the announcements channel don't count against the reminders' pace
            fake.rate_limits = ChannelRateLimits()
            svc = mou_service(bot)
            day = P.local_today(clock(), "UTC") + timedelta(days=3)
            for i in range(N):
                own = {members[i % 4].id} | ({members[(i + 1) % 4].id} if i % 3 == 0 else set())
                owners_of[i] = own
                a = await svc.create(gid, Actor(parts["admin"].id, moderator=True), kind="mou",
                                     title=f"Agreement {i}", parties=["Lyon", "Turin"], owner_ids=sorted(own))
                await svc.add_milestone(gid, Actor(parts["admin"].id, moderator=True), a.id, day.isoformat(),
                                        f"Report R{i:03d}")
            due = P.local_instant(day, 9, "UTC")
            jobs = [j for j in await bot.scheduler.pending(gid, "mou:") if j.kind == P.REMIND_KIND]
            assert len(jobs) == N and {j.due_at for j in jobs} == {due}
            # the second combined post fails (a 503, which discord.py does not retry itself): the batch
            # is retried (after a restart, below)
            mark = len(fake.requests)
            fake.fail_next("POST", rf"^/channels/{chan}/messages$", 503, times=1, skip=1)
            clock.jump_to(due + timedelta(seconds=5))
            bot.scheduler.wake()
            await fake.wait_for_message(chan, lambda m: "agreement reminders" in (m.get("content") or ""))
            for _ in range(200):  # until the failed post was answered and its batch recorded
                statuses = {await bot.scheduler.job_status(gid, j.dedupe_key) for j in jobs}
                if "running" not in statuses:
                    break
                await bot.scheduler.drain()
            assert fake.faults_triggered
        # restart on the same database, past the retry time
        clock.jump_to(due + timedelta(minutes=1))
        async with run_bot(fake, create_bot(cfg, scheduler_clock=clock)) as bot:
            bot.scheduler.wake()
            for _ in range(400):
                statuses = {await bot.scheduler.job_status(gid, j.dedupe_key) for j in jobs}
                if statuses == {"done"}:
                    break
                clock.jump_to(clock() + timedelta(seconds=2))
                bot.scheduler.wake()
                await fake.sync_gateway()
            assert statuses == {"done"}
        posts = _posts(fake, chan, mark)
        seen: dict[int, int] = {}
        for body in posts:
            items = _items(body)
            assert len(items) > 1
            allowed = body["allowed_mentions"]
            assert not allowed.get("parse") and not allowed.get("roles")
            named = set().union(*(who for _, who in items))
            assert {int(u) for u in allowed["users"]} == named
            for n, who in items:
                assert who == owners_of[n]  # each item names only its own owners
                seen[n] = seen.get(n, 0) + 1
        assert seen == {i: 1 for i in range(N)}  # none lost, none doubled
        texts = [f"x{' ' * 300}" for _ in range(N)]
        assert len(posts) <= len(pack(texts)) + 1  # combined: a few posts, not N
        assert fake.rate_limits is not None
        for m in members[:3]:
            got: dict[int, int] = {}
            for dm in fake.dms(m):
                for n, _ in _items(dm):
                    got[n] = got.get(n, 0) + 1
            assert got == {n: 1 for n, own in owners_of.items() if m.id in own}
        assert not fake.dms(members[3])
        assert fake.violations == [] and fake.unhandled == []

"""Sharding: `shards = "auto"` or a count runs the bot as discord.py's AutoShardedBot, end to end against a
fake Discord that shards like Discord (GET /gateway/bot recommends a count, IDENTIFY carries
`[shard_id, shard_count]`, each guild's events go to shard `(guild_id >> 22) % shard_count`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

import bot.app as app
from bot.app import AttacheBot, ShardedAttacheBot, create_bot
from bot.config import ConfigError
from bot.sandbox.emulation import FakeDiscord, Guild, Perm, run_bot
from tests.e2e import make_config


def _guild_on_shard(fake: FakeDiscord, shard: int, count: int, name: str) -> Guild:
    """A guild whose id puts it on `shard` of `count` (the id's timestamp bits decide, as on Discord)."""
    base = fake.ids.next() >> 22
    ms = base + (shard - base) % count
    guild = fake.add_guild((ms << 22) | 7, name=name)
    assert fake.shard_of(guild, count) == shard
    return guild


def test_config_shards() -> None:
    base = Path("/tmp")
    assert make_config(base).shards is None and not make_config(base).sharded
    auto = make_config(base, shards="auto")
    assert auto.sharded and auto.shard_count is None
    two = make_config(base, shards=2)
    assert two.sharded and two.shard_count == 2
    for bad in (0, -1, "two", True, 1.5, 5000):
        with pytest.raises(ConfigError, match="shards"):
            make_config(base, shards=bad)
    assert type(create_bot(make_config(base))) is AttacheBot
    assert isinstance(create_bot(two), ShardedAttacheBot)


@pytest.mark.parametrize("shards", ["auto", 2])
async def test_commands_work_in_guilds_on_both_shards(tmp_path: Path, shards: Any) -> None:
    async with FakeDiscord(shards=2) as fake:
        guilds = [_guild_on_shard(fake, s, 2, f"Shard {s} city") for s in (0, 1)]
        assert [fake.shard_of(g, 2) for g in guilds] == [0, 1]
        managers = [g.add_role("Server managers", permissions=Perm.MANAGE_GUILD) for g in guilds]
        admins = [g.add_member(name=f"admin{i}", roles=[managers[i]]) for i, g in enumerate(guilds)]
        bot = create_bot(make_config(tmp_path, shards=shards))
        assert isinstance(bot, ShardedAttacheBot)
        async with run_bot(fake, bot):
            await fake.wait_commands_synced()
            # one IDENTIFY per shard, each with its [shard_id, shard_count]; READY lists only its guilds
            assert sorted(p["shard"] for p in fake.identify_payloads) == [[0, 2], [1, 2]]
            assert bot.shard_count == 2 and fake.shard_count == 2
            for i, g in enumerate(guilds):
                cached = bot.get_guild(g.id)
                assert cached is not None and cached.shard_id == i
            # a gateway event after start-up reaches the bot on the guild's own shard
            late = guilds[1].add_text_channel("late-news")
            await fake.sync_gateway()
            assert bot.get_channel(late.id) is not None
            zones = ["Europe/Lisbon", "Asia/Tokyo"]
            for g, admin, zone in zip(guilds, admins, zones, strict=True):
                res = await fake.invoke(g, admin, "settings timezone", options={"zone": zone})
                assert zone in res.text, res.text
            for g, admin, zone in zip(guilds, admins, zones, strict=True):
                res = await fake.invoke(g, admin, "settings show")
                assert res.embed is not None
                assert [f["value"] for f in res.embed["fields"] if f["name"] == "Time zone"] == [zone]
            # concurrent commands on both shards at once
            results = await asyncio.gather(
                *(fake.invoke(g, a, "settings show") for g, a in zip(guilds * 5, admins * 5, strict=True))
            )
            assert all(r.embed is not None for r in results)
        fake.assert_clean()


async def test_dms_and_unsharded_clients_use_shard_zero(tmp_path: Path) -> None:
    async with FakeDiscord(shards=2) as fake:
        guild = _guild_on_shard(fake, 1, 2, "One")
        admin = guild.add_member(name="admin", roles=[guild.add_role("M", permissions=Perm.MANAGE_GUILD)])
        bot = create_bot(make_config(tmp_path))  # no `shards`: one connection carries every guild
        assert type(bot) is AttacheBot
        async with run_bot(fake, bot):
            await fake.wait_commands_synced()
            assert [p.get("shard") for p in fake.identify_payloads] in ([None], [[0, 1]])
            assert fake.shard_count == 1
            res = await fake.invoke(guild, admin, "settings show")
            assert res.embed is not None
        fake.assert_clean()


async def test_identify_pacing_follows_max_concurrency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord allows `max_concurrency` IDENTIFYs per 5 s, shard i in bucket i % max_concurrency."""
    monkeypatch.setattr(app, "IDENTIFY_INTERVAL_S", 0.3)
    bot = create_bot(make_config(tmp_path, shards=4))
    assert isinstance(bot, ShardedAttacheBot)

    class Limits:
        max_concurrency = 2

    async def limits() -> Any:
        return Limits()

    monkeypatch.setattr(bot, "fetch_session_start_limits", limits)
    started: list[float] = []
    t0 = time.perf_counter()
    for shard in range(4):
        await bot.before_identify_hook(shard, initial=shard == 0)
        started.append(time.perf_counter() - t0)
    assert started[1] < 0.15  # shards 0 and 1 are in different buckets: no wait
    assert 0.25 <= started[2] < 0.6  # shard 2 shares bucket 0 with shard 0
    assert started[3] - started[2] < 0.15  # bucket 1's interval has passed meanwhile

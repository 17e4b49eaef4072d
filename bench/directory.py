"""Directory benchmark: the gazetteer plus 2,000 networks, 200,000 memberships and 20,000 profiles.

    /tmp/venv/bin/python bench/directory.py [--quick]

Reports autocomplete p50/p99 in the service (target <= 10 ms), `/city show` and `/network shared`
p50/p99 through the whole interaction path (the real bot, discord.py's HTTP and gateway code and
the loopback fake Discord; target <= 100 ms), and the process's peak resident memory after loading.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_bot
from bot.sandbox.emulation import FakeDiscord, run_bot
from tests.e2e import configure, make_config, populate

NETWORKS = 2000
MEMBERSHIPS = 200_000
PROFILES = 20_000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def line(name: str, samples: list[float], target: float) -> str:
    ms = [x * 1000 for x in samples]
    p99 = pct(ms, 99)
    return (f"{name:<34} n={len(ms):>5}  p50 {statistics.median(ms):7.2f} ms  p99 {p99:7.2f} ms  "
            f"max {max(ms):7.2f} ms  target <= {target:g} ms  {'OK' if p99 <= target else 'MISSED'}")


async def load(bot: object, guild_id: int, rng: random.Random) -> dict[str, float]:
    db = bot.db  # type: ignore[attr-defined]
    svc = bot.get_cog("Directory").svc  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    cities = [r[0] for r in await db.fetchall(
        "SELECT id FROM cities WHERE guild_id IS NULL ORDER BY population DESC LIMIT 8000")]
    have = int(await db.fetchval("SELECT COUNT(*) FROM networks"))
    topics = ["climate", "resilience", "health", "culture", "economy", "migration", "water", "governance"]
    nets = [
        (f"bench-net-{i}", f"Bench Network {i} for {rng.choice(topics).title()} Cities", f"BN{i}",
         1950 + i % 70, f";{rng.choice(topics)};", rng.choice(["global", "regional", "national"]))
        for i in range(NETWORKS - have)
    ]
    async with db.transaction():
        await db.executemany(
            "INSERT INTO networks (guild_id, slug, name, acronym, founded_year, focus, scope, origin, "
            "updated_ms) VALUES (NULL, ?, ?, ?, ?, ?, ?, 'seed', 0)",
            nets,
        )
    net_ids = [r[0] for r in await db.fetchall("SELECT id FROM networks")]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < MEMBERSHIPS:
        # Big cities join more networks: a skewed pick, like the real world.
        pairs.add((rng.choice(net_ids), cities[int(len(cities) * rng.random() ** 2)]))
    names = {
        r[0]: (r[1], r[2])
        for r in await db.fetchall("SELECT id, name, country FROM cities WHERE guild_id IS NULL")
    }
    rows = [(n, c, names[c][0], names[c][1], rng.choice(["member", "founding", "observer", "host"]),
             rng.randint(1980, 2024)) for n, c in pairs]
    async with db.transaction():
        await db.executemany(
            "INSERT INTO memberships (guild_id, network_id, city_id, member_name, country, category, "
            "joined_year, origin) VALUES (NULL, ?, ?, ?, ?, ?, ?, 'seed')",
            rows,
        )
    profiles = [(guild_id, 10_000_000 + i, cities[int(len(cities) * rng.random() ** 3)], f"Officer {i}",
                 "International Relations", 0) for i in range(PROFILES)]
    async with db.transaction():
        await db.executemany(
            "INSERT INTO profiles (guild_id, user_id, city_id, "
            "title, office, updated_ms) VALUES (?, ?, ?, ?, ?, ?)",
            profiles,
        )
    await db.execute("ANALYZE")
    svc._invalidate_networks()
    return {"load_s": time.perf_counter() - t0}


async def main(quick: bool) -> None:
    rng = random.Random(5)
    n_auto = 500 if quick else 3000
    n_cmd = 50 if quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake:
            parts = populate(fake)
            bot = create_bot(make_config(Path(tmp)))
            bot.cooldown_scale = 0  # measure latency, not the per-member cooldowns
            t0 = time.perf_counter()
            async with run_bot(fake, bot):
                await fake.wait_commands_synced()
                start_s = time.perf_counter() - t0
                await configure(bot, parts)
                guild = parts["guild"]
                svc = bot.get_cog("Directory").svc  # type: ignore[attr-defined]
                stats = await load(bot, guild.id, rng)
                counts = {t: await bot.db.fetchval(f"SELECT COUNT(*) FROM {t}")
                          for t in ("cities", "city_names", "networks", "memberships", "profiles")}
                rss = rss_mb()
                print(f"start (migrate + gazetteer/seed load + login): {start_s:.2f} s; synthetic load "
                      f"{stats['load_s']:.1f} s")
                print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
                print(f"peak RSS after loading: {rss:.0f} MB (whole process: bot, fake Discord, harness)")

                big = [r[0] for r in await bot.db.fetchall(
                    "SELECT name FROM cities WHERE guild_id IS NULL ORDER BY population DESC LIMIT 3000")]
                queries = []
                for _ in range(n_auto):
                    name = rng.choice(big)
                    queries.append(name[: rng.randint(1, min(8, len(name)))])
                auto: list[float] = []
                for q in queries:
                    t = time.perf_counter()
                    res = await svc.search_cities(q, guild_id=guild.id)
                    auto.append(time.perf_counter() - t)
                    assert len(res) <= 25
                mauto: list[float] = []
                for q in queries[:n_auto // 3]:
                    t = time.perf_counter()
                    await svc.search_member_cities(guild.id, q)
                    mauto.append(time.perf_counter() - t)
                nauto: list[float] = []
                for _ in range(n_auto // 3):
                    q = rng.choice(
                        ["c4", "clim", "bench net 1", "eurocit", "resil", "BN12", "health", "mayors", "x"]
                    )
                    t = time.perf_counter()
                    await svc.search_networks(q, 25, guild_id=guild.id)
                    nauto.append(time.perf_counter() - t)
                print(line("autocomplete cities (service)", auto, 10))
                print(line("autocomplete members' cities", mauto, 10))
                print(line("autocomplete networks (service)", nauto, 10))

                # Whole interaction path: the fake Discord sends the interaction, the bot answers over HTTP.
                top = [(r[0], r[1]) for r in await bot.db.fetchall(
                    "SELECT c.id, COUNT(*) FROM memberships m JOIN cities c ON c.id = m.city_id "
                    "GROUP BY c.id ORDER BY COUNT(*) DESC LIMIT 400")]
                alice = parts["alice"]
                ac_e2e: list[float] = []
                for q in queries[: n_cmd]:
                    t = time.perf_counter()
                    await fake.autocomplete(guild, alice, "city show", focused="city", value=q)
                    ac_e2e.append(time.perf_counter() - t)
                show: list[float] = []
                for _ in range(n_cmd):
                    cid = rng.choice(top)[0]
                    t = time.perf_counter()
                    res = await fake.invoke(guild, alice, "city show", options={"city": str(cid)})
                    show.append(time.perf_counter() - t)
                    assert res.embed is not None, res
                shared: list[float] = []
                for _ in range(n_cmd):
                    a, b = rng.sample(top, 2)
                    t = time.perf_counter()
                    res = await fake.invoke(guild, alice, "network shared",
                                            options={"city_a": str(a[0]), "city_b": str(b[0])})
                    shared.append(time.perf_counter() - t)
                    assert res.embed is not None, res
                print(line("autocomplete /city show (e2e)", ac_e2e, 50))
                print(line("/city show (e2e)", show, 100))
                print(line("/network shared (e2e)", shared, 100))
                print(
                    f"busiest city: {top[0][1]} memberships; fake Discord violations: {len(fake.violations)}"
                )
                print(f"peak RSS at the end: {rss_mb():.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    asyncio.run(main(ap.parse_args().quick))

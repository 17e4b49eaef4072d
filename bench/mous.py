"""MOU tracker benchmark (issues 6 and 16): 20,000 agreements with 100,000 milestones in one server.

Measures
  * planning every reminder from scratch (start-up after a restore: empty jobs table) —
    `MouService.replan_all()`, i.e. status reconcile + pure planning + scheduler upserts — beside its
    floor: inserting the same job rows with one batched statement on the same connection;
  * the same re-plan when nothing changed (a normal restart: fingerprints compared, nothing written);
  * same-channel fan-out: 10, 200 and 2,000 reminders due in one channel in the same minute, delivered by
    the real bot against the fake Discord's per-channel rate limit (5 posts per 5 s): posts sent and the
    time until the last one is delivered (combined posts, and each owner's DMs combined);
  * the weekly digest's build time (queries + embeds);
  * `/mou upcoming` latency through the whole interaction path (fake Discord gateway →
    discord.py → the bot → HTTP callback back to the fake), p50/p95/p99. Target p99 <= 100 ms.

Run:  .venv/bin/python bench/mous.py [--agreements 20000] [--milestones 100000] [--queries 200]
           [--fanout 10,200,2000]
Runtime: about three minutes. The last line is `RESULT {json}` with plan_s, plan_floor_s,
replan_unchanged_s and fanout ({"10": {"posts": n, "seconds": s}, …}).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.app as app_module  # noqa: E402
from bot.app import create_bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.sandbox.emulation import FakeDiscord, run_bot  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from bot.settings import SettingsService  # noqa: E402
from cogs.mous import embeds as E  # noqa: E402
from cogs.mous import planning as P  # noqa: E402
from cogs.mous.service import SETTING_SPECS, MouService  # noqa: E402
from tests.e2e import MovableClock, configure, populate  # noqa: E402

TARGET_MS = 100.0
CITIES = ["Seoul", "Paris", "Lyon", "Kyoto", "Oslo", "Turin", "Quebec", "Porto", "Accra", "Lima", "Perth",
          "Busan", "Nantes", "Hanoi", "Dakar", "Bogotá", "Leipzig", "Malmö", "Curitiba", "Osaka"]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def generate(path: Path, guild_id: int, owners: list[int], n_agreements: int, n_milestones: int) -> None:
    rnd = random.Random(6)
    today = datetime.now(UTC).date()
    now_ms = int(time.time() * 1000)
    conn = sqlite3.connect(path)
    agreements, terms, parties, owner_rows = [], [], [], []
    for i in range(1, n_agreements + 1):
        status = rnd.choices(["active", "signed", "draft", "negotiating", "terminated", "renewed"],
                             [70, 5, 8, 7, 5, 5])[0]
        signed = (
            today - timedelta(days=rnd.randint(30, 3000)) if status not in ("draft", "negotiating") else None
        )
        expires = today + timedelta(days=rnd.randint(-200, 3650)) if rnd.random() < 0.85 else None
        if signed and expires and expires <= signed:
            expires = signed + timedelta(days=365)
        nd = rnd.choice([30, 60, 90, 180])
        notice = (expires - timedelta(days=nd)).isoformat() if expires else None
        agreements.append(
            (
                i,
                guild_id,
                rnd.choice(["mou", "sister-city", "friendship-city", "cooperation-agreement"]),
                f"Agreement {i} {rnd.choice(CITIES)}",
                "",
                "",
                "[]",
                signed.isoformat() if signed else None,
                signed.isoformat() if signed else None,
                expires.isoformat() if expires else None,
                notice,
                0,
                nd,
                status,
                json.dumps([120, 30]) if i % 10 == 0 else None,
                1,
                (today - timedelta(days=rnd.randint(0, 400))).isoformat() if rnd.random() < 0.6 else None,
                now_ms - rnd.randint(0, 10**10),
                owners[0],
                now_ms,
            )
        )
        terms.append(
            (
                guild_id,
                i,
                1,
                signed.isoformat() if signed else None,
                expires.isoformat() if expires else None,
                now_ms,
            )
        )
        a, b = rnd.sample(CITIES, 2)
        parties += [(guild_id, i, 1, a, "XX"), (guild_id, i, 2, b, "YY")]
        owner_rows.append((guild_id, i, rnd.choice(owners), now_ms))
    conn.executemany(
        "INSERT INTO mou_agreements (id, guild_id, kind, title, summary, focus_areas, links, signed_on, "
        "effective_on, expires_on, notice_on, auto_renew, notice_days, status, remind_offsets, term, "
        "last_activity_on, created_ms, created_by, updated_ms) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        agreements,
    )
    conn.executemany(
        "INSERT INTO mou_terms (guild_id, agreement_id, term, starts_on, expires_on, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        terms,
    )
    conn.executemany("INSERT INTO mou_parties (guild_id, agreement_id, position, city_name, country) "
                     "VALUES (?, ?, ?, ?, ?)", parties)
    conn.executemany("INSERT INTO mou_owners (guild_id, agreement_id, user_id, added_ms) VALUES (?, ?, ?, ?)",
                     owner_rows)
    ms = []
    for _ in range(n_milestones):
        due = today + timedelta(days=rnd.randint(-365, 3 * 365))
        done = now_ms if rnd.random() < 0.2 else None
        ms.append(
            (
                guild_id,
                rnd.randint(1, n_agreements),
                due.isoformat(),
                "Annual exchange / report",
                done,
                now_ms,
            )
        )
    conn.executemany(
        "INSERT INTO mou_milestones (guild_id, agreement_id, due_on, description, done_ms, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ms,
    )
    conn.commit()
    conn.close()


async def standalone(path: Path, guild_id: int, channel_id: int) -> dict[str, float]:
    db = Database(path)
    await db.connect()
    settings = SettingsService(db, default_timezone="UTC")
    for spec in SETTING_SPECS:
        settings.register(spec)
    await settings.set(guild_id, "timezone", "Europe/Paris", actor_id=None)
    await settings.set(guild_id, "announcements_channel_id", channel_id, actor_id=None)
    svc = MouService(db, Scheduler(db), settings)
    t0 = time.perf_counter()
    stats = await svc.replan_all()
    plan_s = time.perf_counter() - t0
    print(f"  plan from scratch:       {plan_s:7.2f} s  ({stats.agreements} agreements, "
          f"{stats.scheduled} jobs scheduled, {stats.status_changes} statuses corrected)")
    # The floor: the same job rows, inserted with one batched statement on the same connection.
    cols = ("guild_id, kind, dedupe_key, due_ms, original_due_ms, payload, target, status, attempts, "
            "created_ms, updated_ms")
    rows = [tuple(r) for r in await db.fetchall(f"SELECT {cols} FROM jobs WHERE guild_id = ?", (guild_id,))]
    await db.execute("DELETE FROM jobs WHERE guild_id = ?", (guild_id,))
    t0 = time.perf_counter()
    async with db.transaction():
        await db.executemany(f"INSERT INTO jobs ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    floor_s = time.perf_counter() - t0
    print(f"  floor (one batched INSERT of the same {len(rows)} rows): {floor_s:.2f} s "
          f"-> plan = {plan_s / floor_s:.1f}x the floor (target <= 3x)")
    fresh = MouService(db, Scheduler(db), settings)  # a restart: nothing cached
    t0 = time.perf_counter()
    stats = await fresh.replan_all()
    replan_s = time.perf_counter() - t0
    print(
        f"  re-plan, nothing changed:{replan_s:7.2f} s  ({stats.extra.get('replanned', 0)} re-planned, "
        f"{stats.scheduled} scheduled, {stats.cancelled} cancelled; target <= 0.3 s)"
    )
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        dg = await svc.digest(guild_id)
        cfg = await svc.config(guild_id)
        E.digest_embeds(dg, cfg.zone, cfg.dormant_months)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"  digest build:            {min(times):7.1f} ms best, {max(times):.1f} ms worst of 5 "
          f"(totals: expiring {dg.counts[0]}, milestones {dg.counts[1]}, overdue {dg.counts[2]}, "
          f"dormant {dg.counts[3]}; up to 50 rows each fetched, 15 shown)")
    t0 = time.perf_counter()
    items, total = await svc.upcoming(guild_id, 30)
    print(f"  upcoming(30) service:    {(time.perf_counter() - t0) * 1000:7.1f} ms ({total} items, first "
          f"{len(items)} shown)")
    await db.close()
    return {"plan_s": round(plan_s, 3), "plan_floor_s": round(floor_s, 3),
            "replan_unchanged_s": round(replan_s, 3)}


def generate_due(path: Path, guild_id: int, owners: list[int], n: int, day: str) -> None:
    """n draft agreements, each with one open milestone due on `day`: n reminders due in the same minute."""
    now_ms = int(time.time() * 1000)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO mou_agreements (id, guild_id, kind, title, status, term, created_ms, created_by, "
        "updated_ms) VALUES (?, ?, 'mou', ?, 'draft', 1, ?, ?, ?)",
        [(i, guild_id, f"Agreement {i} {CITIES[i % len(CITIES)]}", now_ms, owners[0], now_ms)
         for i in range(1, n + 1)])
    conn.executemany("INSERT INTO mou_parties (guild_id, agreement_id, position, city_name, country) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [(guild_id, i, pos, CITIES[(i + pos) % len(CITIES)], "XX") for i in range(1, n + 1)
                      for pos in (1, 2)])
    conn.executemany("INSERT INTO mou_owners (guild_id, agreement_id, user_id, added_ms) VALUES (?, ?, ?, ?)",
                     [(guild_id, i, owners[i % len(owners)], now_ms) for i in range(1, n + 1)])
    conn.executemany("INSERT INTO mou_milestones (guild_id, agreement_id, due_on, description, created_ms) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [(guild_id, i, day, f"Annual report {i}", now_ms) for i in range(1, n + 1)])
    conn.commit()
    conn.close()


async def fanout(n: int) -> dict[str, float]:
    """n reminders due in one channel in the same minute, through the real bot against the fake Discord's
    per-channel rate limit: channel posts sent, DMs sent, seconds until the last reminder is delivered."""
    tmp = Path(tempfile.mkdtemp(prefix="mou-fanout-"))
    cfg = parse_config({"database_path": "attache.db", "sync_commands": "global", "log_level": "WARNING",
                        "default_timezone": "UTC"}, base_dir=tmp)
    clock = MovableClock()
    async with FakeDiscord(rate_limits=True) as fake:
        parts = populate(fake)
        gid, chan = parts["guild"].id, parts["announcements"].id
        owners = [parts[x].id for x in ("alice", "bob", "carol")]
        db = Database(cfg.database_path)
        await db.connect()
        await db.migrate()
        await db.close()
        day = P.local_today(clock(), "UTC") + timedelta(days=2)
        generate_due(cfg.database_path, gid, owners, n, day.isoformat())
        bot = create_bot(cfg, scheduler_clock=clock)
        async with run_bot(fake, bot):
            await fake.wait_commands_synced()
            await configure(bot, parts)
            svc = next(c for c in bot.cogs.values() if hasattr(c, "svc") and hasattr(c, "deliveries")).svc
            await svc.replan_all()
            keys = [j.dedupe_key for j in await bot.scheduler.pending(gid, "mou:") if j.kind == P.REMIND_KIND]
            assert len(keys) == n, (len(keys), n)
            mark = len(fake.requests)
            clock.jump_to(P.local_instant(day, 9, "UTC"))
            t0 = time.perf_counter()
            bot.scheduler.wake()
            while True:
                left = await db_count_pending(bot, gid)
                if left == 0:
                    break
                await asyncio.sleep(0.2)
            seconds = time.perf_counter() - t0
            sent = [r for r in fake.requests[mark:] if r.method == "POST" and r.status == 200
                    and r.path.endswith("/messages")]
            posts = sum(1 for r in sent if r.path == f"/channels/{chan}/messages")
            limited = len(fake.rate_limits.limited) if fake.rate_limits else 0
            fake.assert_clean()
    print(f"  fan-out {n:>5} reminders: {posts:>4} channel posts + {len(sent) - posts} DMs in "
          f"{seconds:6.1f} s "
          f"({limited} requests answered 429; one post per reminder would take ~{max(0, n - 5):.0f} s)")
    return {"posts": posts, "seconds": round(seconds, 2)}


async def db_count_pending(bot: object, guild_id: int) -> int:
    db = bot.db  # type: ignore[attr-defined]
    return int(await db.fetchval(
        "SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND kind = ? AND status IN ('pending', 'running')",
        (guild_id, P.REMIND_KIND), default=0))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agreements", type=int, default=20_000)
    ap.add_argument("--milestones", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--fanout", default="10,200,2000")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="mou-bench-"))
    cfg = parse_config({"database_path": "attache.db", "sync_commands": "global", "log_level": "WARNING",
                        "default_timezone": "UTC"}, base_dir=tmp)
    app_module.discover_extensions = lambda: ["cogs.settings", "cogs.meta", "cogs.mous"]  # type: ignore[assignment]
    async with FakeDiscord() as fake:
        parts = populate(fake)
        gid = parts["guild"].id
        owners = [parts[n].id for n in ("alice", "bob", "carol")]
        db = Database(cfg.database_path)
        await db.connect()
        await db.migrate()
        await db.close()
        t0 = time.perf_counter()
        generate(cfg.database_path, gid, owners, args.agreements, args.milestones)
        print(f"MOU benchmark: {args.agreements} agreements, {args.milestones} milestones "
              f"(generated in {time.perf_counter() - t0:.1f} s)")
        result: dict[str, object] = dict(await standalone(cfg.database_path, gid, parts["announcements"].id))

        bot = create_bot(cfg)
        bot.cooldown_scale = 0  # measure latency, not the per-member cooldowns
        t0 = time.perf_counter()
        async with run_bot(fake, bot):
            await fake.wait_commands_synced()
            print(f"  bot start (incl. start-up re-plan): {time.perf_counter() - t0:.2f} s")
            await configure(bot, parts)
            for days in (30, 90):
                lat = []
                for i in range(args.queries):
                    member = parts[("alice", "bob", "carol")[i % 3]]
                    t0 = time.perf_counter()
                    res = await fake.invoke(parts["guild"], member, "mou upcoming", {"days": days})
                    lat.append((time.perf_counter() - t0) * 1000)
                    assert res.embed is not None
                p99 = pct(lat, 99)
                verdict = "OK " if p99 <= TARGET_MS else "SLOW"
                print(f"  {verdict} /mou upcoming days={days:<3} n={len(lat)}  p50={pct(lat, 50):6.1f} ms  "
                      f"p95={pct(lat, 95):6.1f} ms  p99={p99:6.1f} ms  max={max(lat):6.1f} ms")
            fake.assert_clean()
    result["fanout"] = {str(n): await fanout(n) for n in (int(x) for x in args.fanout.split(",") if x)}
    print("RESULT " + json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    asyncio.run(main())

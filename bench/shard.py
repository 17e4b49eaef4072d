"""One full shard (issue 16): one bot process (`python -m bot run`, as deployed) serving 2,500 servers.

Each server is configured (announcements and review channels, moderator role, time zone) and has 200 members,
40 practices, 4 roundtables (one weekly, one monthly, two one-off; 20 RSVPs on each next occurrence), 8
agreements (with 5 milestones each) and 20 profiles: the totals of today's benches (100,000 practices, 10,000
roundtables, 200,000 RSVPs, 20,000 agreements, 100,000 milestones, 50,000 profiles), spread across servers.
The fake Discord runs in this process; its cost is not the bot's.

Measured, for each shard layout (`--shards`, default "1,2": no sharding, then `shards = 2`):
  * serving_s:  process start → READY and all 2,500 GUILD_CREATEs processed (every shard) → a first command
                answered;
  * rss_mb:     the bot process's peak resident memory (VmHWM) at the end of the run;
  * p50/p99 of `/practice search`, `/roundtable list`, the RSVP button and `/mou upcoming` (latency: sending
    the interaction → the bot's first response), from 50 members of 50 different servers using the bot at
    the same time (`p99_ms`): each sends one, reads the answer, pauses 0.5–1.5 s (THINK_S) and sends the
    next, for `--steady` seconds — 50 commands a second in all;
  * the herd (`herd_p99_ms`): the same 50 send the same interaction at the same instant, `--rounds` times
    per kind — the worst case, where the 50th answer waits for the 49 before it;
  * the burst: a roundtable reminder due at the same second in every server (put in the jobs table before
    the start, as the durable scheduler would hold it); time from due to the last delivery, lateness p99,
    reminders lost or doubled, and the p99 of the four interactions, which the 50 members go on sending at
    the same pace throughout the burst.
Floor: `/help` (no database work) through the same path, sent the same ways, in the same run.

The seeded database is cached under /tmp (attache-bench-shard-<schema>-<date>.db, rebuilt daily because its
jobs are planned against the date; building takes a few minutes, the 100,000 practices come from the cached
bench/startup.py database); `--fresh` rebuilds. A first, unmeasured start seeds the gazetteer, plans every
agreement's reminders and syncs the commands; each measured run starts from a copy of its database.

    python bench/shard.py                 # both layouts; ends with RESULT {json}
    python bench/shard.py --shards 2 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import practices as practices_bench  # noqa: E402
from bench import startup as startup_bench  # noqa: E402
from bench.startup import BotProcess, settle, vm_hwm_mb  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.sandbox.emulation import Channel, FakeDiscord, Guild, Member, Perm, Role  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from cogs.roundtables.service import REMINDER_KIND  # noqa: E402

GUILDS, MEMBERS, PRACTICES, ROUNDTABLES, RSVPS, AGREEMENTS, MILESTONES, PROFILES = (
    2500,
    200,
    40,
    4,
    20,
    8,
    5,
    20,
)
SCHEMA = "v1"
BASE_MS = (
    1_200_000_000_000  # snowflake timestamp bits of the first server; the next ones follow, one ms apart
)
USER_BASE = 1 << 52
ZONES = (
    "Europe/Paris",
    "America/New_York",
    "Asia/Seoul",
    "UTC",
    "Africa/Nairobi",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Sydney",
)
CONCURRENT = 50
# The steady load: each of the 50 members sends a command, reads the answer, and sends the next one after a
# pause drawn from THINK_S (seconds): one command a second each on average, 50 a second in all, far above a
# shard's usual few a second, and the fastest a member types a slash command or clicks a button.
THINK_S = (0.5, 1.5)
STEADY_S = 30.0  # seconds of steady load measured before the burst
CHECKIN = "Network check-in"  # the roundtable whose reminder makes the burst
TARGETS = {"serving_s": 15.0, "rss_mb": 400.0, "p99_ms": 100.0, "burst_p99_ms": 250.0}


def gid(i: int) -> int:
    """Server i's id: consecutive timestamp bits, so with n shards server i is on shard i % n."""
    return ((BASE_MS + i) << 22) | 1


def ids_of(i: int) -> dict[str, int]:
    g = gid(i)
    return {
        "guild": g,
        "general": g + 1,
        "announcements": g + 2,
        "reviews": g + 3,
        "moderators": g + 4,
        "managers": g + 5,
    }


def user(i: int, k: int) -> int:
    return USER_BASE + i * MEMBERS + k


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


# ------------------------------------------------------------------------------------------- the world
def build_world(fake: FakeDiscord) -> list[Guild]:
    """2,500 servers with fixed ids (the cached database refers to them), 200 members each."""
    guilds = []
    for i in range(GUILDS):
        ids = ids_of(i)
        g = fake.add_guild(ids["guild"], name=f"City network {i}", channels=())
        for n, name in enumerate(("general", "announcements", "reviews")):
            g.channels.append(Channel(id=ids[name], name=name, type=0, guild_id=g.id, position=n))
        g.roles.append(
            Role(id=ids["moderators"], guild_id=g.id, name="Moderators", permissions=0, position=1)
        )
        g.roles.append(
            Role(
                id=ids["managers"], guild_id=g.id, name="Managers", permissions=Perm.MANAGE_GUILD, position=2
            )
        )
        for k in range(MEMBERS):
            roles = [g.roles[-1]] if k == 0 else []
            g.add_member(user(i, k), name=f"m{i}-{k}", roles=roles)
        guilds.append(g)
    return guilds


# ------------------------------------------------------------------------------------------- the data
async def build(path: Path) -> None:
    t = time.perf_counter()
    source = await startup_bench.ensure_db(False)  # 100,000 generated practices in one server
    db = Database(path)
    await db.connect()
    await db.migrate()
    await db.close()
    rng = random.Random(16)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
    conn.execute("BEGIN")
    # Practices: the generated library dealt out, 40 to each server (FTS kept by the triggers).
    cols = (
        "status, topics_mask, sdgs_mask, city_name, country, version, created_ms, updated_ms, approved_ms, "
        "title, summary, approach, results, lessons"
    )
    conn.execute(
        f"INSERT INTO practices (guild_id, submitter_id, {cols}) SELECT "
        f"((? + (rn % ?)) << 22) | 1, ? + (rn % ?) * ? + (rn / ?) % ?, {cols} FROM "
        f"(SELECT row_number() OVER (ORDER BY id) - 1 AS rn, * FROM src.practices) WHERE rn < ?",
        (BASE_MS, GUILDS, USER_BASE, GUILDS, MEMBERS, GUILDS, MEMBERS, GUILDS * PRACTICES),
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    now_s, now_ms = int(now.timestamp()), int(now.timestamp() * 1000)
    settings, rts, rsvps, agreements = [], [], [], []
    rt_id = ag_id = 0
    party_rows, term_rows, owner_rows, milestone_rows, profile_rows = [], [], [], [], []
    for i in range(GUILDS):
        ids = ids_of(i)
        g = ids["guild"]
        zone = ZONES[i % len(ZONES)]
        for key, value in (
            ("announcements_channel_id", ids["announcements"]),
            ("review_channel_id", ids["reviews"]),
            ("moderator_role_id", ids["moderators"]),
            ("timezone", zone),
        ):
            settings.append((g, key, json.dumps(value), now_ms, user(i, 0)))
        for n, (title, repeat, rrule) in enumerate(
            (
                (CHECKIN, "none", None),
                ("Climate roundtable", "weekly", "FREQ=WEEKLY"),
                ("Mayors' monthly", "monthly", "FREQ=MONTHLY"),
                ("Migration workshop", "none", None),
            )
        ):
            rt_id += 1
            start = now_s + rng.randint(20, 200) * 86400 + rng.randint(0, 23) * 3600
            rts.append(
                (
                    rt_id,
                    g,
                    title,
                    "Agenda " * 10,
                    user(i, 1 + n),
                    start,
                    zone,
                    60,
                    "virtual",
                    f"https://meet.example/{rt_id}",
                    None,
                    0,
                    rng.choice((None, 30, 100)),
                    repeat,
                    rrule,
                    "scheduled",
                    start,
                    start,
                    None,
                    now_ms,
                    now_ms,
                )
            )
            for seq, k in enumerate(rng.sample(range(MEMBERS), RSVPS), start=1):
                rsvps.append(
                    (
                        g,
                        rt_id,
                        start,
                        user(i, k),
                        rng.choices(("going", "maybe", "declined"), (6, 3, 1))[0],
                        seq,
                        now_ms,
                    )
                )
        for n in range(AGREEMENTS):
            ag_id += 1
            signed = now.date() - timedelta(days=rng.randint(30, 3000))
            expires = now.date() + timedelta(days=rng.randint(20, 1500))
            notice = expires - timedelta(days=90)
            agreements.append(
                (
                    ag_id,
                    g,
                    rng.choice(("mou", "sister-city", "cooperation-agreement")),
                    f"Agreement {n} of server {i}",
                    "",
                    "",
                    "[]",
                    signed.isoformat(),
                    signed.isoformat(),
                    expires.isoformat(),
                    notice.isoformat(),
                    0,
                    90,
                    "active",
                    None,
                    1,
                    None,
                    now_ms,
                    user(i, 0),
                    now_ms,
                )
            )
            term_rows.append((g, ag_id, 1, signed.isoformat(), expires.isoformat(), now_ms))
            party_rows += [(g, ag_id, 1, "Lyon", "FR"), (g, ag_id, 2, "Porto", "PT")]
            owner_rows.append((g, ag_id, user(i, 2 + n), now_ms))
            for _ in range(MILESTONES):
                due = now.date() + timedelta(days=rng.randint(-100, 900))
                milestone_rows.append((g, ag_id, due.isoformat(), "Annual exchange", None, now_ms))
        for k in range(PROFILES):
            profile_rows.append(
                (
                    g,
                    user(i, k),
                    None,
                    "Officer",
                    "International relations",
                    "en, fr",
                    "climate",
                    zone,
                    1,
                    0,
                    now_ms,
                )
            )
    conn.executemany(
        "INSERT INTO guild_settings (guild_id, key, value, updated_ms, updated_by) VALUES (?, ?, ?, ?, ?)",
        settings,
    )
    conn.executemany(
        "INSERT INTO roundtables (id, guild_id, title, agenda, host_id, start_s, tz, duration_min, format, "
        "link, place, link_public, capacity, repeat, rrule, status, next_occ_s, next_start_s, last_start_s, "
        "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rts,
    )
    conn.executemany(
        "INSERT INTO roundtable_rsvps (guild_id, roundtable_id, occ_s, user_id, status, seq, "
        "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rsvps,
    )
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
        term_rows,
    )
    conn.executemany(
        "INSERT INTO mou_parties (guild_id, agreement_id, position, city_name, country) "
        "VALUES (?, ?, ?, ?, ?)",
        party_rows,
    )
    conn.executemany(
        "INSERT INTO mou_owners (guild_id, agreement_id, user_id, added_ms) VALUES (?, ?, ?, ?)", owner_rows
    )
    conn.executemany(
        "INSERT INTO mou_milestones (guild_id, agreement_id, due_on, description, done_ms, "
        "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
        milestone_rows,
    )
    conn.executemany(
        "INSERT INTO profiles (guild_id, user_id, city_id, title, office, languages, expertise, timezone, "
        "dm_ok, verified, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        profile_rows,
    )
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE src")
    conn.execute("INSERT INTO practices_fts (practices_fts) VALUES ('optimize')")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"  built the 2,500-server database in {time.perf_counter() - t:.1f}s -> {path}")


def cache_paths() -> tuple[Path, Path, Path]:
    day = datetime.now(UTC).date().isoformat()
    stem = f"/tmp/attache-bench-shard-{SCHEMA}-{practices_bench.SCHEMA_VERSION}-{day}"
    return Path(stem + ".db"), Path(stem + "-warm.db"), Path(stem + "-commands.json")


async def ensure_db(fake: FakeDiscord, fresh: bool, tmp: Path) -> Path:
    """The cached database after its first start (gazetteer seeded, every reminder planned, commands synced);
    the fake learns the synced commands from the cache when the start is not repeated."""
    raw, warm, commands = cache_paths()
    if fresh or not warm.exists() or not commands.exists():
        for p in (raw, warm):
            practices_bench._remove(p)
        await build(raw)
        shutil.copyfile(raw, warm)
        t = time.perf_counter()
        bot = BotProcess(fake, tmp, warm, sync=True)
        await bot.start()
        await bot.wait_ready(600)
        await fake.wait_commands_synced(timeout=120)
        await settle(bot.pid, quiet_s=2.0, limit_s=300)
        await bot.stop()
        commands.write_text(json.dumps(fake.global_commands), encoding="utf-8")
        print(
            f"  first start (gazetteer, reminders planned, commands synced): {time.perf_counter() - t:.1f}s"
        )
    else:
        fake.global_commands.extend(json.loads(commands.read_text(encoding="utf-8")))
    return warm


async def plant_burst(db_path: Path, due: datetime) -> int:
    """One roundtable reminder due at `due` in every server, as the scheduler holds it (the reminder 5 minutes
    before each server's check-in)."""
    db = Database(db_path)
    await db.connect()
    scheduler = Scheduler(db)
    rows = await db.fetchall(
        "SELECT id, guild_id, next_occ_s, next_start_s FROM roundtables WHERE title = ?", (CHECKIN,)
    )
    async with db.transaction():
        for r in rows:
            i = (int(r["guild_id"]) >> 22) - BASE_MS
            await scheduler.schedule(
                REMINDER_KIND,
                due,
                guild_id=int(r["guild_id"]),
                dedupe_key=f"rt:{r['id']}:occ:{r['next_occ_s']}:r5",
                payload={
                    "rt": int(r["id"]),
                    "occ": int(r["next_occ_s"]),
                    "start": int(r["next_start_s"]),
                    "offset": 5,
                },
                target=str(ids_of(i)["announcements"]),
            )
    await db.close()
    return len(rows)


# ------------------------------------------------------------------------------------------- measuring
class Driver:
    """50 members of 50 different servers (spread over the shards) send the same interaction at once."""

    def __init__(self, fake: FakeDiscord, guilds: list[Guild]) -> None:
        self.fake = fake
        step = GUILDS // CONCURRENT
        self.guilds = [guilds[j * step + j % 2] for j in range(CONCURRENT)]  # both parities: both shards
        self.next_member = [20] * CONCURRENT  # members 0..19 have profiles; a fresh member per command
        self.rsvp_messages: dict[int, dict[str, Any]] = {}
        self.words = [
            "climate",
            "flood resilience",
            "migrants integration",
            "budget",
            "housing",
            "heatwave shelters",
            "startups",
            "water leakage",
        ]

    def member(self, j: int) -> Member:
        k = self.next_member[j]
        self.next_member[j] = 20 + (k - 19) % (MEMBERS - 20)
        found = self.guilds[j].get_member(user(self._index(j), k))
        assert found is not None
        return found

    def _index(self, j: int) -> int:
        return (self.guilds[j].id >> 22) - BASE_MS

    async def prepare_rsvp(self) -> None:
        """A roundtable announcement (with its RSVP buttons) in each of the 50 servers, by a member."""
        when = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d 10:00")

        async def one(j: int) -> None:
            g = self.guilds[j]
            announcements = g.get_channel(ids_of(self._index(j))["announcements"])
            assert announcements is not None
            mark = self.fake.mark()
            res = await self.fake.invoke(
                g,
                self.member(j),
                "roundtable schedule",
                {"title": f"Bench session {j}", "when": when, "where": "Online"},
            )
            assert "Scheduled" in res.text, res.text
            self.rsvp_messages[j] = await self.fake.wait_for_message(
                announcements, lambda m: bool(m.get("components")), after=mark, timeout=60
            )

        await asyncio.gather(*(one(j) for j in range(CONCURRENT)))

    async def send(self, kind: str, j: int, r: int) -> float:
        g, m = self.guilds[j], self.member(j)
        t0 = time.perf_counter()
        if kind == "search":
            res = await self.fake.invoke(
                g, m, "practice search", {"query": self.words[(j + r) % len(self.words)]}
            )
        elif kind == "list":
            res = await self.fake.invoke(g, m, "roundtable list")
        elif kind == "rsvp":
            msg = self.rsvp_messages[j]
            choice = ("going", "maybe", "no")[r % 3]
            cid = next(
                c["custom_id"]
                for row in msg["components"]
                for c in row["components"]
                if c["custom_id"].endswith(":" + choice)
            )
            res = await self.fake.click(g, m, msg, cid)
        elif kind == "upcoming":
            res = await self.fake.invoke(g, m, "mou upcoming", {"days": 365})
        else:
            res = await self.fake.invoke(g, m, "help")
        took = (time.perf_counter() - t0) * 1000
        assert res.callback is not None, (kind, res)
        return took

    async def round(self, kind: str, r: int) -> list[float]:
        return list(await asyncio.gather(*(self.send(kind, j, r) for j in range(CONCURRENT))))

    async def steady(self, kinds: tuple[str, ...], until: Any, seed: int) -> dict[str, list[float]]:
        """The 50 members at once, each at a member's pace (see THINK_S): send one of `kinds` (in turn,
        each member starting at its own), wait for the answer, pause, and again, until `until()` is true.
        Latencies by kind."""
        lat: dict[str, list[float]] = {k: [] for k in kinds}
        rng = random.Random(seed)
        pauses = [[rng.uniform(*THINK_S) for _ in range(4096)] for _ in range(CONCURRENT)]

        async def member_loop(j: int) -> None:
            await asyncio.sleep(pauses[j][-1] - THINK_S[0])  # the 50 do not start in step
            n = 0
            while not until():
                kind = kinds[(j + n) % len(kinds)]
                lat[kind].append(await self.send(kind, j, n))
                await asyncio.sleep(pauses[j][n % 4095])
                n += 1

        await asyncio.gather(*(member_loop(j) for j in range(CONCURRENT)))
        return lat


KINDS = ("search", "list", "rsvp", "upcoming")


async def run_layout(
    fake: FakeDiscord,
    guilds: list[Guild],
    warm: Path,
    tmp: Path,
    shards: int,
    rounds: int,
    burst_delay: float,
    steady_s: float = STEADY_S,
) -> dict[str, Any]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"shards{shards}-", dir=tmp))
    db_copy = run_dir / "attache.db"
    shutil.copyfile(warm, db_copy)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=burst_delay)
    planted = await plant_burst(db_copy, due)
    announcements = {ids_of(i)["announcements"] for i in range(GUILDS)}
    deliveries: dict[str, list[float]] = defaultdict(list)

    def on_message(message: dict[str, Any]) -> None:
        if int(message["channel_id"]) in announcements and CHECKIN in (message.get("content") or ""):
            deliveries[message["channel_id"]].append(time.time())

    fake.on_message = on_message
    extra = f"shards = {shards}\n" if shards > 1 else ""
    bot = BotProcess(fake, run_dir, db_copy, extra_config=extra)
    out: dict[str, Any] = {"shards": shards}
    try:
        await bot.start()
        ready_s = await bot.wait_ready(300)
        driver = Driver(fake, guilds)
        await driver.send("help", 0, 0)
        out["serving_s"] = time.perf_counter() - bot.started
        out["ready_s"] = ready_s
        await driver.prepare_rsvp()
        # 1. The herd: the 50 send the same interaction at the same instant, `rounds` times per kind (the
        #    worst case: 50 arrivals queue behind each other).
        herd: dict[str, list[float]] = {k: [] for k in (*KINDS, "floor")}
        for r in range(rounds + 1):
            for kind in (*KINDS, "floor"):
                got = await driver.round(kind, r)
                if r:  # round 0 warms up
                    herd[kind].extend(got)
        out["herd"] = herd
        # 2. The steady load (THINK_S): STEADY_S seconds, ending at least 3 s before the burst.
        stop_at = min(time.time() + steady_s, due.timestamp() - 3)
        if stop_at - time.time() < 10:
            print(f"  (only {stop_at - time.time():.0f}s of steady load fit before the burst: "
                  "raise --burst-delay)")
        out["lat"] = await driver.steady((*KINDS, "floor"), lambda: time.time() >= stop_at, seed=shards)
        # 3. The burst: at the due second, every server's reminder falls due while the members go on at
        #    the same pace, until every reminder is delivered (or two minutes pass).
        await asyncio.sleep(max(0.0, due.timestamp() - time.time()))
        limit = time.time() + 120
        during = await driver.steady(KINDS, lambda: time.time() >= limit or len(deliveries) >= planted,
                                     seed=shards + 100)
        burst_lat = [v for vs in during.values() for v in vs]
        await asyncio.sleep(2.0)  # late doubles would show now
        times = [t for ts in deliveries.values() for t in ts]
        lateness = [(min(ts) - due.timestamp()) * 1000 for ts in deliveries.values()]
        out["burst"] = {
            "due": planted,
            "delivered": len(deliveries),
            "doubled": sum(len(ts) - 1 for ts in deliveries.values()),
            "last_s": round(max(times) - due.timestamp(), 3) if times else None,
            "lateness_p99_ms": round(pct(lateness, 99), 1) if lateness else None,
            "p99_ms": round(pct(burst_lat, 99), 1),
            "p50_ms": round(pct(burst_lat, 50), 1),
            "interactions": len(burst_lat),
        }
        out["rss_mb"] = vm_hwm_mb(bot.pid)
    finally:
        fake.on_message = None
        await bot.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    return out


def report(res: dict[str, Any]) -> None:
    lat = res["lat"]
    print(f"-- shards: {res['shards'] if res['shards'] > 1 else 'none (one connection)'}")
    print(
        f"  serving {res['serving_s']:.2f}s (READY + {GUILDS:,} GUILD_CREATE processed at "
        f"{res['ready_s']:.2f}s); peak RSS {res['rss_mb']:.0f} MB"
    )
    print(f"  steady: {CONCURRENT} members, one command each every {THINK_S[0]}-{THINK_S[1]} s:")
    for kind in (*KINDS, "floor"):
        v = lat[kind]
        name = "floor (/help)" if kind == "floor" else kind
        print(
            f"    {name:<14} n={len(v):>4}  p50 {pct(v, 50):7.1f} ms  p99 {pct(v, 99):7.1f} ms  "
            f"max {max(v):7.1f} ms"
        )
    print(f"  herd: the {CONCURRENT} send the same interaction at the same instant:")
    for kind in (*KINDS, "floor"):
        v = res["herd"][kind]
        name = "floor (/help)" if kind == "floor" else kind
        print(f"    {name:<14} n={len(v):>4}  p50 {pct(v, 50):7.1f} ms  p99 {pct(v, 99):7.1f} ms")
    b = res["burst"]
    print(
        f"  burst: {b['delivered']}/{b['due']} delivered, {b['doubled']} doubled, last {b['last_s']}s "
        f"after due, lateness p99 {b['lateness_p99_ms']} ms; interactions during it: n={b['interactions']} "
        f"p50 {b['p50_ms']} ms p99 {b['p99_ms']} ms"
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", default="1,2", help="layouts to run: 1 = no sharding, n = `shards = n`")
    ap.add_argument("--rounds", type=int, default=5, help="herd rounds: 50 interactions at once, per kind")
    ap.add_argument("--steady", type=float, default=STEADY_S, help="seconds of steady load before the burst")
    ap.add_argument(
        "--burst-delay",
        type=float,
        default=90.0,
        help="seconds from the copy of the database to the burst (serving, the herd and the steady load "
        "fit in it)",
    )
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached database")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    layouts = [int(x) for x in args.shards.split(",") if x.strip()]
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="attache-bench-shard-") as tmp_s:
        tmp = Path(tmp_s)
        async with FakeDiscord(default_timeout=300, shards=max(layouts)) as fake:
            guilds = build_world(fake)
            print(
                f"one shard: {GUILDS:,} servers x {MEMBERS} members, {PRACTICES} practices, {ROUNDTABLES} "
                f"roundtables, {AGREEMENTS} agreements, {PROFILES} profiles each (world built in "
                f"{time.perf_counter() - t:.1f}s)"
            )
            warm = await ensure_db(fake, args.fresh, tmp)
            results = []
            for shards in layouts:
                results.append(
                    await run_layout(fake, guilds, warm, tmp, shards, args.rounds, args.burst_delay,
                                     args.steady)
                )
                report(results[-1])
            problems = fake.violations + fake.unhandled
            if problems:
                print(f"  fake Discord saw problems: {problems[:5]}")
    first = results[0]
    summary = {
        "guilds": GUILDS,
        "serving_s": round(first["serving_s"], 3),
        "rss_mb": round(first["rss_mb"], 1),
        "p99_ms": {k: round(pct(first["lat"][k], 99), 1) for k in KINDS},
        "p50_ms": {k: round(pct(first["lat"][k], 50), 1) for k in KINDS},
        "floor_p99_ms": round(pct(first["lat"]["floor"], 99), 1),
        "load": f"{CONCURRENT} members in {CONCURRENT} servers, each one command every "
                f"{THINK_S[0]}-{THINK_S[1]} s",
        "herd_p99_ms": {k: round(pct(first["herd"][k], 99), 1) for k in (*KINDS, "floor")},
        "burst": first["burst"],
        "layouts": {
            str(r["shards"]): {
                "serving_s": round(r["serving_s"], 3),
                "rss_mb": round(r["rss_mb"], 1),
                "p99_ms": {k: round(pct(r["lat"][k], 99), 1) for k in KINDS},
                "herd_p99_ms": {k: round(pct(r["herd"][k], 99), 1) for k in KINDS},
                "burst": r["burst"],
            }
            for r in results
        },
        "targets": TARGETS,
        "elapsed_s": round(time.perf_counter() - t, 1),
    }
    print("RESULT " + json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())

"""Pictures benchmark (issue 15): the cost of each image at the benchmark sizes, and what drawing does to
the rest of the bot.

Data, in one server: 10,000 roundtables (bench/roundtables.py's seed), 100,000 approved practices from the
3,000 most populous cities of the gazetteer with 20,000 adoptions, 20,000 agreements with 100,000
milestones (bench/mous.py's generator).

Per image (findtime grid, library chart, library map, agreements timeline), p50/p99 in ms of
  * query:    the data the picture shows, computed afresh (for the library: after its version changed),
              alone (the floor the text version pays already);
  * draw:     the bare drawing of that data on the calling thread (the floor of the picture itself);
  * render:   query + drawing through the picture service's worker thread, the data changed and the
              picture cache emptied each time; target p99 <= 300 ms;
  * cached:   asking again with nothing changed: the library's counts reused (one row read), the
              findtime and timeline data queried again, and the cached picture.
Interaction latency: `/help` through the whole path (fake Discord gateway → discord.py → the bot → HTTP
callback back to the fake), p50/p99 in ms, alone (the floor) and while a task keeps the picture worker
busy drawing pictures whose data changes every time; target p99 <= 100 ms while images render.

Run:  python bench/pictures.py   (about two minutes; ends with one line `RESULT {json}`)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.app as app_module  # noqa: E402
from bench.mous import generate as generate_agreements  # noqa: E402
from bench.roundtables import seed as seed_roundtables  # noqa: E402
from bot.app import AttacheBot, create_bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.pictures import Kit, Picture  # noqa: E402
from bot.sandbox.emulation import FakeDiscord, run_bot  # noqa: E402
from cogs.mous import embeds as ME  # noqa: E402
from cogs.mous.pictures import draw_timeline  # noqa: E402
from cogs.practices import embeds as PE  # noqa: E402
from cogs.practices.pictures import draw_chart, draw_map  # noqa: E402
from cogs.roundtables import embeds as RE  # noqa: E402
from cogs.roundtables.findtime import find_slots, place_weekend  # noqa: E402
from cogs.roundtables.pictures import draw_findtime, grid_data, shown_days  # noqa: E402
from tests.e2e import configure, mou_service, populate, practice_service  # noqa: E402

PICTURE_TARGET_MS = 300.0
INTERACTION_TARGET_MS = 100.0
EXTENSIONS = ["cogs.settings", "cogs.meta", "cogs.directory", "cogs.roundtables", "cogs.practices",
              "cogs.mous"]
FINDTIME_PLACES = [("Seoul", "Asia/Seoul"), ("Paris", "Europe/Paris"), ("Riyadh", "Asia/Riyadh"),
                   ("São Paulo", "America/Sao_Paulo"), ("Montréal", "America/Toronto")]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(pct(values, 50), 1), "p99": round(pct(values, 99), 1), "n": len(values)}


async def seed_practices(bot: AttacheBot, guild_id: int, n: int, n_adoptions: int) -> None:
    rng = random.Random(15)
    cities = await bot.db.fetchall(
        "SELECT id, name, country FROM cities WHERE guild_id IS NULL AND latitude IS NOT NULL "
        "ORDER BY population DESC LIMIT 3000")
    now_ms = int(time.time() * 1000)
    rows = []
    for i in range(n):
        c = cities[min(int(rng.expovariate(0.01)), len(cities) - 1)]
        topics = sum(1 << t for t in rng.sample(range(15), rng.choice((1, 1, 2, 3))))  # "food" stays a gap
        sdgs = sum(1 << s for s in rng.sample(range(17), rng.randint(0, 3)))
        rows.append((guild_id, "approved", topics, sdgs, c["id"], c["name"], c["country"], 1000 + i % 500,
                     now_ms, now_ms, now_ms, f"Practice {i} in {c['name']}", "A short summary.",
                     "The approach.", "The results.", "The lessons."))
    # The search indexes are not what the pictures read: this throwaway database skips filling them (their
    # insert triggers cost minutes at 100,000 practices on a loaded machine).
    triggers = await bot.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'practices%insert'")
    for t in triggers:
        await bot.db.execute(f"DROP TRIGGER {t['name']}")
    async with bot.db.transaction():
        await bot.db.executemany(
            "INSERT INTO practices (guild_id, status, topics_mask, sdgs_mask, city_id, city_name, country, "
            "submitter_id, created_ms, updated_ms, approved_ms, title, summary, approach, results, lessons) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        adoptions = []
        for u in range(n_adoptions):
            c = rng.choice(cities)
            adoptions.append((guild_id, rng.randint(1, n), 20_000_000 + u, c["id"], c["name"], c["country"],
                              now_ms))
        await bot.db.executemany(
            "INSERT OR IGNORE INTO practice_adoptions (guild_id, practice_id, user_id, city_id, city_name, "
            "country, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)", adoptions)
    await bot.db.execute("ANALYZE")


Query = Callable[[], Awaitable[Any]]
Draw = Callable[[Kit, Any], Picture]


async def measure(bot: AttacheBot, kind: str, guild_id: int, query: Query, draw: Draw, n: int,
                  changed: Callable[[], Awaitable[None]] | None = None) -> dict[str, Any]:
    """`changed()` marks the data as changed (the library's version), so `query` computes afresh."""
    pictures = bot.pictures
    q, d, r, c = [], [], [], []
    for _ in range(n):
        if changed is not None:
            await changed()
        t0 = time.perf_counter()
        data = await query()
        q.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        pictures.draw_now(draw, data)
        d.append((time.perf_counter() - t0) * 1000)
        pictures.clear()
        if changed is not None:
            await changed()
        t0 = time.perf_counter()
        picture = await pictures.render(kind, guild_id, await query(), draw)
        r.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        assert await pictures.render(kind, guild_id, await query(), draw) is picture
        c.append((time.perf_counter() - t0) * 1000)
    out = {"query": summary(q), "draw": summary(d), "render": summary(r), "cached": summary(c),
           "size": [picture.width, picture.height], "png_kb": round(len(picture.png) / 1024)}
    verdict = "OK  " if out["render"]["p99"] <= PICTURE_TARGET_MS else "SLOW"
    print(f"  {verdict}{kind:<16} query p50/p99 {out['query']['p50']:6.1f}/{out['query']['p99']:6.1f} ms · "
          f"draw {out['draw']['p50']:6.1f}/{out['draw']['p99']:6.1f} · render {out['render']['p50']:6.1f}/"
          f"{out['render']['p99']:6.1f} · cached {out['cached']['p50']:6.1f}/{out['cached']['p99']:6.1f} · "
          f"{picture.width}x{picture.height} px, {out['png_kb']} KB")
    return out


async def interactions(fake: FakeDiscord, parts: dict[str, Any], n: int) -> list[float]:
    lat = []
    for i in range(n):
        member = parts[("alice", "bob", "carol")[i % 3]]
        t0 = time.perf_counter()
        res = await fake.invoke(parts["guild"], member, "help")
        lat.append((time.perf_counter() - t0) * 1000)
        assert res.embeds
    return lat


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roundtables", type=int, default=10_000)
    ap.add_argument("--practices", type=int, default=100_000)
    ap.add_argument("--agreements", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=20, help="measurements per image")
    ap.add_argument("--queries", type=int, default=200, help="/help calls per interaction run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="pictures-bench-"))
    cfg = parse_config({"database_path": "attache.db", "sync_commands": "global", "log_level": "WARNING",
                        "default_timezone": "UTC"}, base_dir=tmp)
    app_module.discover_extensions = lambda: list(EXTENSIONS)  # type: ignore[assignment]
    async with FakeDiscord() as fake:
        parts = populate(fake)
        gid = parts["guild"].id
        bot = create_bot(cfg)
        bot.cooldown_scale = 0
        async with run_bot(fake, bot):
            await fake.wait_commands_synced()
            await configure(bot, parts)
            t0 = time.perf_counter()
            hosts = [parts[n].id for n in ("alice", "bob", "carol")]
            await seed_roundtables(bot.db, gid, hosts, args.roundtables, args.roundtables * 3)
            print(f"  seeded roundtables ({time.perf_counter() - t0:.1f} s)", flush=True)
            await seed_practices(bot, gid, args.practices, args.practices // 5)
            print(f"  seeded practices ({time.perf_counter() - t0:.1f} s)", flush=True)
            await asyncio.to_thread(generate_agreements, cfg.database_path, gid, hosts, args.agreements,
                                    args.agreements * 5)
            print(f"Pictures benchmark: {args.roundtables:,} roundtables, {args.practices:,} practices, "
                  f"{args.agreements:,} agreements (seeded in {time.perf_counter() - t0:.1f} s)")
            practices, mous = practice_service(bot), mou_service(bot)
            now = datetime.now(UTC)

            async def findtime_data() -> Any:
                weekends = [place_weekend(z) for _l, z in FINDTIME_PLACES]
                slots = find_slots([z for _l, z in FINDTIME_PLACES], duration=timedelta(hours=1), now=now,
                                   within_days=14, weekends=weekends, allow_early_late=True)
                hours = (dtime(9), dtime(18))
                return grid_data(
                    [(RE.findtime_row_label(lb, z), z, w) for (lb, z), w in zip(FINDTIME_PLACES, weekends,
                                                                                 strict=True)],
                    slots, now=now, within_days=14, hours=hours,
                    title=RE.findtime_picture_title(FINDTIME_PLACES),
                    subtitle=RE.findtime_picture_subtitle(hours, 14, shown_days(14)),
                    alt=RE.findtime_alt(FINDTIME_PLACES, slots, shown_days(14), hours))

            async def chart_data() -> Any:
                return PE.stats_chart_data(await practices.stats(gid), "Bench")

            async def map_data() -> Any:
                return PE.stats_map_data(await practices.library_map(gid), "Bench")

            async def timeline_data() -> Any:
                return ME.timeline_data(await mous.timeline(gid, 90))

            async def library_changed() -> None:  # what any write to the library does (migration 013)
                await bot.db.execute(
                    "UPDATE practice_library_versions SET version = version + 1 WHERE guild_id = ?", (gid,))

            images = {}
            for kind, query, draw, changed in (("findtime", findtime_data, draw_findtime, None),
                                               ("practice-chart", chart_data, draw_chart, library_changed),
                                               ("practice-map", map_data, draw_map, library_changed),
                                               ("mou-timeline", timeline_data, draw_timeline, None)):
                images[kind] = await measure(bot, kind, gid, query, draw, args.rounds, changed)

            # Interactions alone, then while the picture worker draws without pause.
            await interactions(fake, parts, 20)  # warm up
            alone = await interactions(fake, parts, args.queries)
            datas = [(kind, await q(), d) for kind, q, d in (("findtime", findtime_data, draw_findtime),
                                                            ("practice-chart", chart_data, draw_chart),
                                                            ("practice-map", map_data, draw_map),
                                                            ("mou-timeline", timeline_data, draw_timeline))]
            drawn = 0

            async def keep_drawing() -> None:
                nonlocal drawn
                i = 0
                while True:
                    kind, data, draw = datas[i % len(datas)]
                    bot.pictures.clear()
                    await bot.pictures.render(kind, gid, data, draw)
                    drawn += 1
                    i += 1

            busy = asyncio.create_task(keep_drawing())
            try:
                during = await interactions(fake, parts, args.queries)
            finally:
                busy.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await busy
            a, b = summary(alone), summary(during)
            verdict = "OK  " if b["p99"] <= INTERACTION_TARGET_MS else "SLOW"
            print(f"  {verdict}/help alone          p50 {a['p50']:6.1f} ms  p99 {a['p99']:6.1f} ms")
            print(f"  {verdict}/help while drawing  p50 {b['p50']:6.1f} ms  p99 {b['p99']:6.1f} ms "
                  f"({drawn} pictures drawn meanwhile)")
            fake.assert_clean()
    ok = (all(v["render"]["p99"] <= PICTURE_TARGET_MS for v in images.values())
          and b["p99"] <= INTERACTION_TARGET_MS)
    result = {"bench": "pictures", "roundtables": args.roundtables, "practices": args.practices,
              "agreements": args.agreements, "images_ms": images,
              "interaction_ms": {"alone": a, "while_drawing": b, "pictures_drawn": drawn},
              "targets_ms": {"picture_p99": PICTURE_TARGET_MS, "interaction_p99": INTERACTION_TARGET_MS},
              "ok": ok}
    print("RESULT " + json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

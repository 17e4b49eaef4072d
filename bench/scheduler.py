"""Scheduler benchmark.

    python -m bench.scheduler            # full run (~2.5 minutes: two 60 s windows)
    python -m bench.scheduler --quick    # 10 s windows, for a smoke run

With 100,000 pending jobs in the table it reports:
  (a) jobs dispatched per second when 10,000 fall due at once (no-op handler),
  (b) lateness p50/p99 for jobs falling due over a window (default 60 s),
  (c) dispatcher wake-ups and SQL queries issued while nothing is due (default 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db import Database
from bot.scheduler import Job, Scheduler, to_ms

TOTAL = 100_000
BURST = 10_000
CHANNELS = 200


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


async def fill(db: Database, now: datetime, *, burst: int, total: int) -> None:
    now_ms = to_ms(now)
    far = to_ms(now + timedelta(days=30))
    rows = []
    for i in range(total):
        due = now_ms - 1000 if i < burst else far + i * 1000
        rows.append((1 + i % 7, "bench.noop", f"bench:{i}", due, due, "{}", str(1000 + i % CHANNELS),
                     "pending", 0, now_ms, now_ms))
    async with db.transaction():
        await db.executemany(
            "INSERT INTO jobs (guild_id, kind, dedupe_key, due_ms, original_due_ms, payload, target, status, "
            "attempts, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def main(window: float, path: Path) -> dict[str, float]:
    db = Database(path)
    await db.connect()
    await db.migrate()
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    await fill(db, now, burst=BURST, total=TOTAL)
    fill_s = time.perf_counter() - t0

    done = asyncio.Event()
    count = 0

    async def noop(job: Job) -> None:
        nonlocal count
        count += 1
        if count >= BURST:
            done.set()

    sched = Scheduler(db, batch_size=500, per_target_batch=20)
    sched.register("bench.noop", noop)
    # (a) burst throughput
    t0 = time.perf_counter()
    await sched.start()
    await asyncio.wait_for(done.wait(), 120)
    # wait until the results are recorded as done in the database
    while await db.fetchval("SELECT count(*) FROM jobs WHERE status = 'done'") < BURST:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    burst_s = time.perf_counter() - t0
    rate = BURST / burst_s

    # (b) lateness for jobs spread over the window
    n_window = int(50 * window)
    sched.stats.lateness_ms.clear()
    sched.stats.record_lateness = True
    start = datetime.now(UTC) + timedelta(seconds=1)
    for i in range(n_window):
        due = start + timedelta(seconds=window * i / n_window)
        await sched.schedule("bench.noop", due, guild_id=1, dedupe_key=f"late:{i}", target=str(2000 + i % 50))
    await asyncio.sleep(window + 2)
    lat = list(sched.stats.lateness_ms)
    sched.stats.record_lateness = False

    # (c) idle: nothing due for 30 days
    wake0, q0 = sched.stats.wakeups, db.query_count
    await asyncio.sleep(window)
    idle_wakeups = sched.stats.wakeups - wake0
    idle_queries = db.query_count - q0

    await sched.stop()
    pending = await db.fetchval("SELECT count(*) FROM jobs WHERE status = 'pending'")
    await db.close()
    return {
        "pending_jobs_in_table": pending,
        "fill_seconds": round(fill_s, 2),
        "burst_jobs": BURST,
        "burst_seconds": round(burst_s, 3),
        "burst_jobs_per_second": round(rate),
        "lateness_jobs": len(lat),
        "lateness_p50_ms": round(statistics.median(lat), 1) if lat else float("nan"),
        "lateness_p99_ms": round(pct(lat, 99), 1),
        "lateness_max_ms": round(max(lat), 1) if lat else float("nan"),
        "idle_window_seconds": window,
        "idle_wakeups": idle_wakeups,
        "idle_sql_queries": idle_queries,
    }


def run() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 s windows instead of 60 s")
    ap.add_argument("--window", type=float, default=None, help="seconds for the lateness and idle windows")
    args = ap.parse_args()
    window = args.window or (10.0 if args.quick else 60.0)
    with tempfile.TemporaryDirectory() as tmp:
        res = asyncio.run(main(window, Path(tmp) / "bench.db"))
    print(json.dumps(res, indent=2))
    targets = [
        ("burst >= 2000 jobs/s", res["burst_jobs_per_second"] >= 2000),
        ("lateness p99 <= 250 ms", res["lateness_p99_ms"] <= 250),
        ("idle wake-ups <= 1", res["idle_wakeups"] <= 1),
    ]
    for name, ok in targets:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    print(f"(python {sys.version.split()[0]}, sqlite in WAL mode, one aiosqlite connection)")


if __name__ == "__main__":
    run()

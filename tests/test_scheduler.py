from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.db import Database
from bot.scheduler import Job, PermanentJobError, Scheduler, SkipJob


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def sched(db: Database, clock: FakeClock) -> Scheduler:
    return Scheduler(db, clock=clock, backoff_base=10, max_attempts=3)


async def status(db: Database, key: str) -> str:
    return await db.fetchval("SELECT status FROM jobs WHERE dedupe_key = ?", (key,))


async def test_runs_due_jobs_once_in_due_order(sched: Scheduler, clock: FakeClock, db: Database) -> None:
    seen: list[str] = []

    async def handler(job: Job) -> None:
        seen.append(job.dedupe_key)

    sched.register("t", handler)
    await sched.schedule("t", T0 + timedelta(minutes=2), guild_id=1, dedupe_key="b")
    await sched.schedule("t", T0 + timedelta(minutes=1), guild_id=1, dedupe_key="a")
    await sched.schedule("t", T0 + timedelta(minutes=9), guild_id=1, dedupe_key="later")
    assert await sched.run_due() == 0
    clock.advance(minutes=5)
    assert await sched.run_due() == 2
    assert seen == ["a", "b"]
    assert await sched.run_due() == 0  # never twice
    assert await status(db, "a") == "done"
    assert await status(db, "later") == "pending"


async def test_dedupe_reschedule_and_cancel(sched: Scheduler, clock: FakeClock, db: Database) -> None:
    seen: list[dict[str, object]] = []

    async def handler(job: Job) -> None:
        seen.append(job.payload)

    sched.register("t", handler)
    await sched.schedule("t", T0 + timedelta(minutes=1), guild_id=1, dedupe_key="k", payload={"v": 1})
    await sched.schedule("t", T0 + timedelta(minutes=3), guild_id=1, dedupe_key="k", payload={"v": 2})
    assert await db.fetchval("SELECT count(*) FROM jobs") == 1
    clock.advance(minutes=2)
    assert await sched.run_due() == 0  # moved later
    clock.advance(minutes=2)
    assert await sched.run_due() == 1
    assert seen == [{"v": 2}]
    # same due time again after it fired: no re-arm (fires once)
    await sched.schedule("t", T0 + timedelta(minutes=3), guild_id=1, dedupe_key="k", payload={"v": 2})
    assert await sched.run_due() == 0
    # cancel by key and by prefix, guild-scoped
    await sched.schedule("t", clock.now + timedelta(hours=1), guild_id=1, dedupe_key="rt:1:24h")
    await sched.schedule("t", clock.now + timedelta(hours=1), guild_id=1, dedupe_key="rt:1:15m")
    await sched.schedule("t", clock.now + timedelta(hours=1), guild_id=2, dedupe_key="rt:1:15m")
    await sched.schedule("t", clock.now + timedelta(hours=1), guild_id=1, dedupe_key="rt:10:15m")
    assert await sched.cancel_prefix(1, "rt:1:") == 2
    assert await sched.cancel(2, "rt:1:15m") == 1
    assert [j.dedupe_key for j in await sched.pending(1)] == ["rt:10:15m"]
    clock.advance(hours=2)
    assert await sched.run_due() == 1


async def test_retry_with_backoff_then_fail(sched: Scheduler, clock: FakeClock, db: Database) -> None:
    calls = 0

    async def flaky(job: Job) -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("502 from discord")

    sched.register("t", flaky)
    await sched.schedule("t", T0, guild_id=1, dedupe_key="x")
    assert await sched.run_due() == 1
    assert await status(db, "x") == "pending"
    assert await sched.run_due() == 0  # backing off
    clock.advance(minutes=1)
    assert await sched.run_due() == 1
    clock.advance(minutes=5)
    assert await sched.run_due() == 1
    assert calls == 3
    assert await status(db, "x") == "failed"
    row = await db.fetchone("SELECT attempts, last_error FROM jobs WHERE dedupe_key='x'")
    assert row["attempts"] == 3 and "502" in row["last_error"]
    fails = await sched.recent_failures(1)
    assert fails and fails[0]["kind"] == "t"


async def test_permanent_error_and_skip(sched: Scheduler, clock: FakeClock, db: Database) -> None:
    async def gone(job: Job) -> None:
        raise PermanentJobError("channel 42 not found")

    async def skip(job: Job) -> None:
        raise SkipJob("meeting cancelled")

    sched.register("gone", gone)
    sched.register("skip", skip)
    await sched.schedule("gone", T0, guild_id=1, dedupe_key="g")
    await sched.schedule("skip", T0, guild_id=1, dedupe_key="s")
    await sched.run_due()
    assert await status(db, "g") == "failed"
    assert await status(db, "s") == "skipped"


async def test_stale_rule_skips_old_jobs(sched: Scheduler, clock: FakeClock, db: Database) -> None:
    ran: list[str] = []

    async def handler(job: Job) -> None:
        ran.append(job.dedupe_key)

    sched.register("t", handler, stale=lambda job, now: now - job.original_due_at > timedelta(hours=1))
    await sched.schedule("t", T0, guild_id=1, dedupe_key="old")
    await sched.schedule("t", T0 + timedelta(hours=2, minutes=30), guild_id=1, dedupe_key="recent")
    clock.advance(hours=3)
    await sched.run_due()
    assert ran == ["recent"]
    assert await status(db, "old") == "skipped"


async def test_interrupted_job_is_resent_with_same_nonce(db: Database, clock: FakeClock) -> None:
    nonces: list[tuple[str, bool]] = []

    async def dies(job: Job) -> None:
        nonces.append((job.nonce, job.resumed))
        raise asyncio.CancelledError  # the process "dies" mid-send

    s1 = Scheduler(db, clock=clock)
    s1.register("t", dies)
    await s1.schedule("t", T0, guild_id=1, dedupe_key="n")
    await s1.run_due()  # the send task dies; nothing records a result
    assert await status(db, "n") == "running"

    async def ok(job: Job) -> None:
        nonces.append((job.nonce, job.resumed))

    s2 = Scheduler(db, clock=clock)
    s2.register("t", ok)
    assert await s2.recover() == 1
    assert await s2.run_due() == 1
    assert nonces[0][0] == nonces[1][0] and len(nonces[0][0]) <= 25
    assert nonces[1][1] is True
    assert await status(db, "n") == "done"


async def test_unknown_kind_fails_clearly(sched: Scheduler, db: Database) -> None:
    await sched.schedule("nobody.handles", T0, guild_id=1, dedupe_key="u")
    await sched.run_due()
    assert await status(db, "u") == "failed"


async def test_busy_target_does_not_block_others(db: Database) -> None:
    """A channel with many jobs is served a few at a time; another channel's job goes first."""
    order: list[str] = []
    gate = asyncio.Event()

    async def handler(job: Job) -> None:
        if job.target == "busy":
            await gate.wait()
        order.append(f"{job.target}:{job.dedupe_key}")

    sched = Scheduler(db, per_target_batch=2)
    sched.register("t", handler)
    now = datetime.now(UTC)
    for i in range(10):
        await sched.schedule(
            "t", now - timedelta(seconds=10 - i), guild_id=1, dedupe_key=f"b{i}", target="busy"
        )
    await sched.schedule("t", now, guild_id=1, dedupe_key="q", target="quiet")
    await sched.start()
    try:
        for _ in range(100):
            if "quiet:q" in order:
                break
            await asyncio.sleep(0.01)
        assert order == ["quiet:q"]  # served while the busy channel is still stuck
        gate.set()
        for _ in range(200):
            if len(order) == 11:
                break
            await asyncio.sleep(0.01)
        assert order[1:] == [f"busy:b{i}" for i in range(10)]  # in due order, each once
    finally:
        await sched.stop()
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE status = 'done'") == 11


async def test_at_most_concurrency_handlers_run_at_once(db: Database) -> None:
    """A burst of due jobs for many channels runs `concurrency` handlers at a time, and all of them."""
    running = peak = 0
    done: list[str] = []

    async def handler(job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done.append(job.dedupe_key)

    sched = Scheduler(db, concurrency=3)
    sched.register("t", handler)
    now = datetime.now(UTC)
    for i in range(12):
        await sched.schedule("t", now, guild_id=1, dedupe_key=f"k{i}", target=f"channel{i}")
    assert await sched.run_due(now + timedelta(seconds=1)) == 12
    assert peak == 3 and sorted(done) == sorted(f"k{i}" for i in range(12))


async def test_dispatcher_sleeps_until_due_and_wakes_for_sooner_job(db: Database) -> None:
    fired: list[tuple[str, datetime]] = []

    async def handler(job: Job) -> None:
        fired.append((job.dedupe_key, datetime.now(UTC)))

    sched = Scheduler(db)
    sched.register("t", handler)
    await sched.schedule("t", datetime.now(UTC) + timedelta(hours=5), guild_id=1, dedupe_key="far")
    await sched.start()
    try:
        await asyncio.sleep(0.05)
        wakeups_idle = sched.stats.wakeups
        due = datetime.now(UTC) + timedelta(milliseconds=200)
        await sched.schedule("t", due, guild_id=1, dedupe_key="soon")
        for _ in range(100):
            if fired:
                break
            await asyncio.sleep(0.02)
        assert [k for k, _ in fired] == ["soon"]
        late = (fired[0][1] - due).total_seconds()
        assert -0.01 <= late < 0.25
        await asyncio.sleep(0.3)
        # idle again: the far job is hours away, so no further wake-ups beyond the ones caused above
        assert sched.stats.wakeups - wakeups_idle <= 3
    finally:
        await sched.stop()
    assert not sched.running


async def test_schedule_many_same_rules_as_schedule(sched: Scheduler, clock: FakeClock, db: Database) -> None:
    from bot.scheduler import JobSpec

    seen: list[str] = []

    async def handler(job: Job) -> None:
        seen.append(job.dedupe_key)

    sched.register("t", handler)
    specs = [JobSpec("t", T0 + timedelta(minutes=i), 1, f"m{i}", {"i": i}, "chan") for i in range(5)]
    assert await sched.schedule_many(specs) == 5
    assert await sched.schedule_many(specs[:2]) == 2  # upsert, no duplicates
    assert await db.fetchval("SELECT count(*) FROM jobs") == 5
    clock.advance(minutes=10)
    await sched.run_due()
    assert sorted(seen) == [f"m{i}" for i in range(5)]
    await sched.schedule_many(specs)  # already fired at the same times: not re-armed
    assert await sched.run_due() == 0

"""Soak: the real `attache run` process, 1,000 reminders, SIGKILLed at random moments >= 20 times.

Opt-in (about 2-3 minutes): `python -m pytest -m soak -s tests/test_soak.py`.

Reminders are planted through the feature services on the bot's database file while the bot is
stopped (what `/roundtable schedule` and `/mou add` write):

* 480 roundtable reminders scheduled ahead, due at the whole minutes of a ~2-minute window
  (roundtable times are whole minutes): half are the 24-hour reminder of a roundtable starting
  24 h after a mark, half the 15-minute reminder of one starting 15 minutes after a mark;
* 500 MOU expiry reminders, created in batches between the runs, each due today at the server's
  reminder hour (already passed: the reminder is caught up as soon as the bot is back);
* 20 roundtable reminders planted during one longer outage: 15-minute reminders (already due) of
  roundtables starting at the next minute, with the bot back only after that start, so the
  documented catch-up rule must skip them (a 15-minute reminder after the meeting started).

The bot is SIGKILLed 1-8 s after each start (random), restarted on the same database, until the
window has passed and at least 20 kills happened; a last run drains and stops on SIGTERM. Then
each due reminder must have been posted exactly once (counted by its nonce in what the fake
received), or be `skipped` by the documented catch-up rule; DMs to MOU owners likewise.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.db import ProcessLock
from bot.sandbox.emulation import FakeDiscord
from bot.scheduler import to_ms
from bot.timeparse import from_unix
from cogs.mous.planning import STALE_AFTER
from cogs.roundtables.service import is_stale
from tests.soak import Planter, bot_env, local_zone_for_daytime, read_jobs, start_bot_process, tally, utcnow

pytestmark = pytest.mark.soak

N_RT = 480  # scheduled ahead, due in the window
N_LATE = 20  # planted during one outage that outlasts their meeting's start: skipped by the catch-up rule
N_MOU = 500
MIN_KILLS = 20
WINDOW_S = 120
LEAD_S = 25  # first due mark at least this far after planting
MOU_DAYS = 30
POST_LATENCY = (0.01, 0.02)  # seconds before / after the fake creates a message


def _messages_by_nonce(msgs: list[dict]) -> Counter[str]:
    return Counter(m["nonce"] for m in msgs if m.get("nonce"))


def _raw_posts_by_nonce(fake: FakeDiscord, channel_id: int) -> Counter[str]:
    path = f"/channels/{channel_id}/messages"
    return Counter(
        r.json["nonce"] for r in fake.requests
        if r.method == "POST" and r.path == path and isinstance(r.json, dict) and r.json.get("nonce")
    )


def _add_post_latency(fake: FakeDiscord, before: float, after: float) -> None:
    """Like the real Discord, a message POST takes a while, and the message exists a little before the
    answer reaches the bot: a kill in that gap is a post that went out unconfirmed."""
    for i, (method, regex, handler) in enumerate(fake._routes):
        if method == "POST" and regex.match("/channels/1/messages"):
            async def slow(req, _h=handler):
                await asyncio.sleep(before)
                res = await _h(req)
                await asyncio.sleep(after)
                return res
            fake._routes[i] = (method, regex, slow)


def _skip_ok(job) -> bool:
    """The documented catch-up rule allowed this skip."""
    if job.finished_ms is None:
        return False
    now = from_unix(job.finished_ms // 1000)
    due = from_unix(job.original_due_ms // 1000)
    if job.kind == "roundtable.reminder":
        return is_stale(int(job.payload["offset"]), from_unix(int(job.payload["start"])), due, now)
    return now - due > STALE_AFTER


def _pending_due(path: Path, now_ms: int) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE kind IN ('roundtable.reminder', 'mou.remind') "
            "AND status IN ('pending', 'running') AND due_ms <= ?", (now_ms,)).fetchone()[0])
    finally:
        conn.close()


async def test_soak_sigkill_restart(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    fake = fake_discord
    _add_post_latency(fake, POST_LATENCY[0], POST_LATENCY[1])
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    guild = fake.add_guild(name="Soak")
    announcements = guild.add_text_channel("announcements")
    host = guild.add_member(name="host")
    owner = guild.add_member(name="owner")
    db_path = tmp_path / "bot.db"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        'database_path = "bot.db"\nlog_level = "INFO"\nsync_commands = "global"\n', encoding="utf-8"
    )
    env = bot_env(fake.api_base, fake.gateway_url)
    t_begin = time.monotonic()

    # -- plant the roundtables (ahead) and the server settings -----------------------------------------
    now = utcnow()
    first = (now + timedelta(seconds=LEAD_S + 59)).replace(second=0, microsecond=0)
    marks = [m for m in (first + timedelta(minutes=i) for i in range(WINDOW_S // 60 + 1))
             if m <= now + timedelta(seconds=LEAD_S + WINDOW_S)]  # the 2 or 3 whole minutes of the window
    zone, hour = local_zone_for_daytime(now)
    async with Planter(db_path) as pl:
        for key, value in (("announcements_channel_id", announcements.id), ("timezone", zone),
                           ("mou_reminder_hour", hour), ("mou_remind_offsets", [MOU_DAYS])):
            await pl.settings.set(guild.id, key, value, actor_id=host.id)
        for i in range(N_RT):
            mark = marks[i % len(marks)]
            start = mark + (timedelta(hours=24) if i % 2 == 0 else timedelta(minutes=15))
            await pl.roundtable(guild.id, host.id, f"Soak roundtable {i:04d}", start)
        today = utcnow().astimezone(ZoneInfo(zone)).date()
    window_end = marks[-1]
    rt_jobs = [j for j in read_jobs(db_path) if j.kind == "roundtable.reminder"
               and j.original_due_ms <= to_ms(window_end)]
    assert len(rt_jobs) == N_RT, f"planted {len(rt_jobs)} roundtable reminders in the window"
    print(f"\nsoak seed {seed}: planted {N_RT} roundtable reminders due at "  # noqa: T201 - the counts go into docs/reliability.md
          f"{', '.join(m.strftime('%H:%M:%S') for m in marks)} UTC ({time.monotonic() - t_begin:.1f} s)")

    # -- kill / restart loop ------------------------------------------------------------------------------
    kills = 0
    runs = 0
    early_exits: list[str] = []
    mou_made = 0
    batch = -(-N_MOU // MIN_KILLS)
    late_start: datetime | None = None
    outage_s = 0.0
    while (kills < MIN_KILLS or mou_made < N_MOU or late_start is None
           or utcnow() < window_end + timedelta(seconds=3)):
        nxt = (utcnow() + timedelta(seconds=60)).replace(second=0, microsecond=0)
        if (
            late_start is None
            and kills >= 3
            and timedelta(seconds=2) < nxt - utcnow() <= timedelta(seconds=10)
        ):
            # one longer outage: roundtables starting at the next minute whose 15-minute reminder is
            # already due; the bot is back only after they started, so the reminders are too late
            late_start = nxt
            async with Planter(db_path) as pl:
                for i in range(N_LATE):
                    await pl.roundtable(guild.id, host.id, f"Soak late roundtable {i:02d}", late_start)
            t_out = time.monotonic()
            await asyncio.sleep((late_start - utcnow()).total_seconds() + 1.0)
            outage_s = time.monotonic() - t_out
        if mou_made < N_MOU:
            async with Planter(db_path) as pl:
                for _ in range(min(batch, N_MOU - mou_made)):
                    await pl.agreement(guild.id, owner.id, f"Soak agreement {mou_made:04d}", today, MOU_DAYS)
                    mou_made += 1
        runs += 1
        proc = await start_bot_process(cfg, tmp_path, env, tmp_path / f"run-{runs:02d}.log")
        await asyncio.sleep(rng.uniform(1.0, 8.0))
        if proc.returncode is not None:
            tail = (tmp_path / f"run-{runs:02d}.log").read_text(errors="replace")[-3000:]
            early_exits.append(f"run {runs} exited early with {proc.returncode}:\n{tail}")
        else:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        await proc.wait()
        # the kernel released the flock of the dead process: the lock file is there but free
        assert Path(str(db_path) + ".lock").exists()  # noqa: ASYNC240
        lock = ProcessLock(db_path)
        lock.acquire()
        lock.release()

    # -- final run: drain, then a clean SIGTERM --------------------------------------------------------------
    runs += 1
    proc = await start_bot_process(cfg, tmp_path, env, tmp_path / f"run-{runs:02d}.log")
    deadline = time.monotonic() + 60
    await fake.wait_ready(timeout=60)
    while _pending_due(db_path, to_ms(utcnow())) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the db
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)  # let the last results flush
    proc.send_signal(signal.SIGTERM)
    rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0, (tmp_path / f"run-{runs:02d}.log").read_text(errors="replace")[-3000:]

    # -- count -----------------------------------------------------------------------------------------------
    jobs = read_jobs(db_path)
    end_ms = to_ms(datetime.now(UTC))
    posts = _messages_by_nonce(fake.channel_messages(announcements))
    raw = _raw_posts_by_nonce(fake, announcements.id)
    t = tally(jobs, posts, raw, end_ms, _skip_ok)
    mou_jobs = [j for j in jobs if j.kind == "mou.remind"]
    dm_posts = _messages_by_nonce(fake.dms(owner))
    dm_nonce = {j.id: j.job.nonce_for(f"dm:{owner.id}") for j in mou_jobs if j.job is not None}  # one per DM
    dm_dupes = sum(1 for j in mou_jobs if dm_posts.get(dm_nonce[j.id], 0) > 1)
    dm_missing = sum(1 for j in mou_jobs if j.status == "done" and dm_posts.get(dm_nonce[j.id], 0) == 0)
    known = {j.nonce for j in jobs}
    stray = sum(n for nonce, n in posts.items() if nonce not in known)
    resumed = sum(1 for j in jobs if j.resumed)
    statuses = Counter(j.status for j in jobs if j.original_due_ms <= end_ms)
    logs = "".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("run-*.log")))  # noqa: ASYNC240
    interrupted = logs.count("were interrupted mid-send")
    elapsed = time.monotonic() - t_begin
    print(  # noqa: T201 - the counts go into docs/reliability.md
        f"soak: {runs} runs, {kills} SIGKILLs, {fake.identify_count} IDENTIFYs, one {outage_s:.0f} s outage, "
        f"{elapsed:.0f} s\n  reminders due: {t.due} "
        f"({len([j for j in jobs if j.kind == 'roundtable.reminder' and j.original_due_ms <= end_ms])} "
        f"roundtable, {len([j for j in mou_jobs if j.original_due_ms <= end_ms])} MOU); job statuses "
        f"{dict(statuses)}\n  posted exactly once: {t.posted_once}, skipped by the catch-up rule: "
        f"{t.skipped}, duplicates: {t.duplicates}, lost: {t.lost}, stray posts: {stray}\n  raw POSTs with a "
        f"reminder nonce: {t.raw_posts} (resends absorbed by enforce_nonce: {t.absorbed_resends}); jobs "
        f"resent after a kill: {resumed}; restarts that found jobs mid-send: {interrupted}\n  owner DMs: "
        f"{sum(dm_posts.values())} for {len(mou_jobs)} MOU reminders, duplicates "
        f"{dm_dupes}, missing {dm_missing}; early exits: {len(early_exits)}"
    )
    assert not early_exits, "\n".join(early_exits)
    assert kills >= MIN_KILLS
    assert t.due == N_RT + N_LATE + N_MOU
    assert t.skipped == N_LATE  # exactly the reminders whose meeting started during the outage
    assert t.duplicates == 0 and t.lost == 0, t.problems[:20]
    assert t.posted_once + t.skipped == t.due
    assert stray == 0
    assert dm_dupes == 0 and dm_missing == 0
    assert fake.violations == [] and fake.unhandled == []

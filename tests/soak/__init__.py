"""Helpers for the crash/restart tests: plant reminders through the feature services on a database
file while the bot is stopped, and read back what happened (jobs table + what the fake received)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.db import Database
from bot.scheduler import Job, Scheduler, _row_to_job
from bot.settings import SettingsService
from cogs.mous.service import SETTING_SPECS, Actor, MouService
from cogs.roundtables.service import RoundtableService

ROOT = Path(__file__).resolve().parents[2]
REMINDER_KINDS = ("roundtable.reminder", "mou.remind")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Planter:
    """The feature services on the bot's database file, with a scheduler that only writes jobs
    (never started): exactly what `/roundtable schedule` and `/mou add` would write."""

    def __init__(self, path: Path) -> None:
        self.db = Database(path)
        self.scheduler = Scheduler(self.db)
        self.settings = SettingsService(self.db, default_timezone="UTC")
        for spec in SETTING_SPECS:
            self.settings.register(spec)
        self.rt = RoundtableService(self.db, self.scheduler, settings=self.settings)
        self.mou = MouService(self.db, self.scheduler, self.settings)

    async def __aenter__(self) -> Planter:
        await self.db.connect()
        await self.db.migrate()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.db.close()

    async def roundtable(self, guild_id: int, host_id: int, title: str, start: datetime) -> int:
        rt = await self.rt.create(guild_id, host_id, title=title, start=start, tz="UTC", duration_min=60)
        return rt.id

    async def agreement(self, guild_id: int, owner_id: int, title: str, today: date, days: int) -> int:
        """An active agreement expiring in `days` days whose `days`-day expiry reminder is due today
        at the server's reminder hour (the guild's offsets are set to `[days]`)."""
        a = await self.mou.create(
            guild_id,
            Actor(owner_id, moderator=True),
            kind="mou",
            title=title,
            parties=["Lyon, FR", "Porto, PT"],
            signed=(today - timedelta(days=365)).isoformat(),
            expires=(today + timedelta(days=days)).isoformat(),
            notice_days=0,
            owner_ids=[owner_id],
        )
        return a.id


def local_zone_for_daytime(now: datetime) -> tuple[str, int]:
    """A fixed-offset IANA zone in which it is now between 08:00 and 15:59, and that local hour:
    a reminder at that hour today is at most an hour old and no date boundary is near."""
    for off in range(-12, 15):
        local = now + timedelta(hours=off)
        if 8 <= local.hour <= 15:
            name = "Etc/UTC" if off == 0 else f"Etc/GMT{'-' if off > 0 else '+'}{abs(off)}"
            return name, local.hour
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class JobRow:
    id: int
    kind: str
    dedupe_key: str
    status: str
    due_ms: int
    original_due_ms: int
    finished_ms: int | None
    attempts: int
    resumed: bool
    last_error: str | None
    nonce: str
    payload: dict[str, Any]
    job: Job | None = None  # for the nonces of its other sends (`Job.nonce_for`, e.g. each owner's DM)


def read_jobs(path: Path, kinds: tuple[str, ...] = REMINDER_KINDS) -> list[JobRow]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            f"SELECT * FROM jobs WHERE kind IN ({', '.join('?' * len(kinds))}) ORDER BY id", kinds
        ).fetchall()
    finally:
        conn.close()
    out = []
    for r in rows:
        job = _row_to_job(r)
        out.append(JobRow(r["id"], r["kind"], r["dedupe_key"], r["status"], r["due_ms"], r["original_due_ms"],
                          r["finished_ms"], r["attempts"], bool(r["resumed"]), r["last_error"], job.nonce,
                          job.payload, job))
    return out


@dataclass
class Tally:
    due: int = 0
    posted_once: int = 0
    skipped: int = 0
    duplicates: int = 0
    lost: int = 0
    raw_posts: int = 0
    absorbed_resends: int = 0
    problems: list[str] = field(default_factory=list)


def tally(jobs: list[JobRow], posts: Counter[str], raw: Counter[str], now_ms: int,
          skip_ok: Any = None) -> Tally:
    """Each job due by `now_ms`: posted exactly once (by nonce), or skipped by the catch-up rule
    (`skip_ok(job) -> bool`) and not posted."""
    t = Tally()
    for j in jobs:
        if j.original_due_ms > now_ms:
            continue
        t.due += 1
        n = posts.get(j.nonce, 0)
        t.raw_posts += raw.get(j.nonce, 0)
        if n > 1:
            t.duplicates += 1
            t.problems.append(f"{j.dedupe_key}: posted {n} times")
        elif n == 1:
            t.posted_once += 1
            if j.status != "done" and j.status != "skipped":
                t.problems.append(f"{j.dedupe_key}: posted but status {j.status}")
        elif j.status == "skipped" and (skip_ok is None or skip_ok(j)):
            t.skipped += 1
        else:
            t.lost += 1
            t.problems.append(f"{j.dedupe_key}: not posted, status {j.status} ({j.last_error})")
    t.absorbed_resends = t.raw_posts - t.posted_once
    return t


def bot_env(api_base: str, gateway: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(DISCORD_TOKEN="fake-token", ATTACHE_DISCORD_API_BASE=api_base, ATTACHE_DISCORD_GATEWAY=gateway,
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


async def start_bot_process(
    cfg: Path, cwd: Path, env: dict[str, str], log_path: Path
) -> asyncio.subprocess.Process:
    fh = log_path.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(cfg), "run",
            cwd=cwd, env=env, stdout=fh, stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        fh.close()

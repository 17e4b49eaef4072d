"""The one durable dispatcher.

Jobs live in the `jobs` table. One task sleeps until the next due job (or at most an
hour), and is woken early when a sooner job is scheduled or the job it waits for is
cancelled: nothing polls. Due jobs are claimed (pending → running) in one batched
UPDATE before any handler runs, and completed in batches; a job still `running` at
start-up (the process died mid-send) is sent again with the same nonce, which Discord
uses (`enforce_nonce`) to drop a duplicate of a post that already went out.

Sends are grouped by target (a channel id): one target's jobs run one after another,
different targets run concurrently, and a target that is busy is not claimed again
until it is free, so one busy channel never holds up everyone else. At most `concurrency` handlers
run at once, whatever was claimed: a burst (a reminder due in 2,500 servers at 09:00) then queues
only a few database reads and posts ahead of a member's command, instead of a whole batch.

Batch kinds (`register_batch`): the jobs of one kind, guild and target whose original due times fall in
the same window (a minute) are handed to one handler call, which can combine them into fewer sends (a
channel's reminders of the day in a few posts instead of one each). The handler reports an outcome per
job; an exception it raises applies to every job of the call, and retried jobs share one retry time, so
they meet in one batch again. Making each send of a batch happen once is the handler's part (see
bot/fanout.py): the scheduler only guarantees that a job is claimed by one batch at a time.

Servers the bot was removed from (`guild_left`) get nothing more: their pending jobs are cancelled
at once, new ones are not created, and a job of theirs already claimed is cancelled instead of sent.
`guild_returned` (the bot was added back) lifts that for new jobs; cancelled jobs stay cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.clock import Clock, from_ms, system_clock, to_ms
from bot.db import Database
from bot.i18n import N_, Msg, available_languages, lookup, render, t

log = logging.getLogger(__name__)

Handler = Callable[["Job"], Awaitable[Any]]  # the result is returned by `run_now`
# A batch handler gets the claimed jobs of one batch and returns, per job id, None (done) or the exception
# that job ended with (SkipJob, PermanentJobError, or anything else: retried); a job left out is done.
BatchHandler = Callable[[list["Job"]], Awaitable[dict[int, BaseException | None]]]
StaleRule = Callable[["Job", datetime], bool]
ErrorClass = Literal["retry", "fail"]

MAX_IDLE_SLEEP = 3600.0  # one safety wake-up an hour at most

# Create or re-arm a job by (guild_id, dedupe_key); see Scheduler.schedule for the rules.
_UPSERT_SQL = """
            INSERT INTO jobs (guild_id, kind, dedupe_key, due_ms, original_due_ms, payload, target,
                              status, attempts, created_ms, updated_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
            ON CONFLICT (guild_id, dedupe_key) DO UPDATE SET
                kind = excluded.kind, due_ms = excluded.due_ms, original_due_ms = excluded.original_due_ms,
                payload = excluded.payload, target = excluded.target, status = 'pending', attempts = 0,
                resumed = 0, last_error = NULL, finished_ms = NULL, updated_ms = excluded.updated_ms
            WHERE jobs.status IN ('pending', 'failed', 'cancelled', 'skipped')
               OR (jobs.status = 'done' AND jobs.original_due_ms != excluded.original_due_ms)
            """


class _JobOutcome(Exception):
    """A handler's reason, as English text (logs) or a `Msg` (stored so that `/settings show` and the
    commands that ran the job show it in their reader's language: `reason_text`)."""

    def __init__(self, reason: str | Msg = "") -> None:
        self.msg: Msg | None = reason if isinstance(reason, Msg) else None
        super().__init__(str(reason))


class SkipJob(_JobOutcome):
    """Raised by a handler: this job no longer matters; mark it skipped."""


class PermanentJobError(_JobOutcome):
    """Raised by a handler: retrying cannot help; mark the job failed now."""


CANCELLED_LEFT = N_("cancelled: the bot was removed from this server")
_STORED = '{"msg":'  # how a stored message starts (JSON: {"msg": template, "fmt": {...}, "en": English})


def _plain_values(fmt: dict[str, Any]) -> dict[str, Any]:
    """A message's values as JSON: a `Msg` stays a message, a number a number, anything else its English."""
    out: dict[str, Any] = {}
    for k, v in fmt.items():
        if isinstance(v, Msg):
            out[k] = {"msg": v.msgid, "fmt": _plain_values(v.fmt)}
        else:
            out[k] = v if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
    return out


def stored_reason(reason: str | Msg) -> str:
    """What a job's `last_error` holds for `reason`: plain text as it is; a `Msg` as JSON with its English
    text, so it is read in any language later (`reason_text`)."""
    if not isinstance(reason, Msg):
        return reason[:500]
    stored = json.dumps({"msg": reason.msgid, "fmt": _plain_values(reason.fmt), "en": str(reason)[:500]},
                        ensure_ascii=False, separators=(",", ":"))
    return stored if len(stored) <= 4000 else str(reason)[:500]


def _as_msg(data: dict[str, Any]) -> Msg:
    return Msg(str(data["msg"]), **{k: _as_msg(v) if isinstance(v, dict) else v
                                    for k, v in dict(data.get("fmt") or {}).items()})


def stored_msg(stored: str | None) -> Msg | None:
    """The message a `last_error` holds (see `stored_reason`), else None (plain text)."""
    if not stored or not stored.startswith(_STORED):
        return None
    try:
        data = json.loads(stored)
        return _as_msg(data)
    except (ValueError, KeyError, TypeError):
        return None


def reason_text(lang: str, stored: str | None) -> str:
    """A job's `last_error` in `lang`: a stored message rendered; a constant reason marked with N_ (with or
    without the "skipped: " / "PermanentJobError: " prefix) translated; any other text (a Discord error,
    an exception) as it is."""
    msg = stored_msg(stored)
    if msg is not None:
        return render(lang, msg)
    text = stored or ""
    for prefix in ("PermanentJobError: ", "SkipJob: ", "skipped: "):
        bare = text.removeprefix(prefix)
        if bare != text and any(lookup(other, bare) is not None for other in available_languages()):
            return t(lang, bare)  # a known reason: without the prefix, in any language
    return t(lang, text) if text else ""


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    guild_id: int
    kind: str
    dedupe_key: str
    due_at: datetime
    original_due_at: datetime
    payload: dict[str, Any]
    target: str | None
    attempts: int
    resumed: bool

    @property
    def nonce(self) -> str:
        """A stable message nonce (<= 25 chars) for this logical job and due time."""
        raw = f"{self.guild_id}:{self.dedupe_key}:{to_ms(self.original_due_at)}".encode()
        return hashlib.blake2b(raw, digest_size=12).hexdigest()[:25]

    def nonce_for(self, destination: str | int) -> str:
        """The nonce of one send of this job when it sends more than one (a channel post and each
        owner's DM, an announcement and its thread message): distinct per destination, and the same
        on every attempt, so a resend after a crash is dropped by Discord (`enforce_nonce`) while no
        two sends of one job ever share a nonce."""
        raw = f"{self.guild_id}:{self.dedupe_key}:{to_ms(self.original_due_at)}:{destination}".encode()
        return hashlib.blake2b(raw, digest_size=12).hexdigest()[:25]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job for `Scheduler.schedule_many`."""

    kind: str
    due_at: datetime
    guild_id: int
    dedupe_key: str
    payload: dict[str, Any] | None = None
    target: str | int | None = None
    body: str | None = None  # the payload already encoded as JSON (a planner making thousands at once)


@dataclass(slots=True)
class _Kind:
    handler: Handler
    stale: StaleRule | None
    batch: BatchHandler | None = None
    window_ms: int = 60_000
    batch_limit: int = 1000


@dataclass(slots=True)
class SchedulerStats:
    wakeups: int = 0
    rounds: int = 0
    dispatched: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    lateness_ms: list[float] = field(default_factory=list)
    record_lateness: bool = False


def default_classify(exc: BaseException) -> ErrorClass:
    return "retry"


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = system_clock,
        batch_size: int = 500,
        per_target_batch: int = 5,
        max_attempts: int = 5,
        concurrency: int = 6,
        classify_error: Callable[[BaseException], ErrorClass] = default_classify,
        backoff_base: float = 5.0,
        backoff_cap: float = 900.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.batch_size = batch_size
        self.per_target_batch = per_target_batch
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.classify_error = classify_error
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats = SchedulerStats()
        self._slots = asyncio.Semaphore(concurrency)  # handlers running at once
        self._kinds: dict[str, _Kind] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._groups: set[asyncio.Task[None]] = set()
        self._busy: set[str] = set()
        self._inflight = 0
        self._results: list[tuple[str, int, Any]] = []
        self._next_due_ms: int | None = None
        self._stopping = False
        self._idle = asyncio.Event()
        # Servers the bot was removed from (table guild_departures, loaded at start).
        self.departed: set[int] = set()

    # -- registration --------------------------------------------------------------
    def register(self, kind: str, handler: Handler, *, stale: StaleRule | None = None) -> None:
        """Register the handler for a job kind; `stale(job, now)` → True skips a job too old to matter."""
        self._kinds[kind] = _Kind(handler, stale)

    def register_batch(self, kind: str, handler: BatchHandler, *, stale: StaleRule | None = None,
                       window: timedelta = timedelta(minutes=1), limit: int = 1000) -> None:
        """Register a batch handler: the jobs of `kind` with the same guild and target whose original due
        times fall in the same `window` are handed over together (at most `limit` per call)."""

        async def one(job: Job) -> None:  # `run_now` and a lone job: a batch of one
            outcome = (await handler([job])).get(job.id)
            if outcome is not None:
                raise outcome

        self._kinds[kind] = _Kind(one, stale, handler, int(window.total_seconds() * 1000), limit)

    def unregister(self, kind: str) -> None:
        self._kinds.pop(kind, None)

    # -- scheduling API (callable inside a db transaction) -------------------------
    async def schedule(
        self,
        kind: str,
        due_at: datetime,
        *,
        guild_id: int,
        dedupe_key: str,
        payload: dict[str, Any] | None = None,
        target: str | int | None = None,
    ) -> None:
        """Create or reschedule the job named by (guild_id, dedupe_key).

        A pending, failed, cancelled or skipped job is reset to pending. A done job is left
        alone when its due time is unchanged (it already fired) and re-armed when the time moved.
        A running job is left to finish."""
        due = to_ms(due_at)
        if guild_id in self.departed:
            log.debug(
                "scheduler: not scheduling %s for guild %s: the bot left that server", dedupe_key, guild_id
            )
            return
        now = to_ms(self.clock())
        body = json.dumps(payload or {}, separators=(",", ":"), ensure_ascii=False)
        tgt = None if target is None else str(target)
        await self.db.execute(_UPSERT_SQL, (guild_id, kind, dedupe_key, due, due, body, tgt, now, now))
        if self._next_due_ms is None or due < self._next_due_ms:
            self._next_due_ms = due
            self._wake.set()

    async def schedule_many(self, jobs: Iterable[JobSpec]) -> int:
        """`schedule()` for many jobs in one statement (same upsert rules) and one wake-up."""
        now = to_ms(self.clock())
        rows = []
        earliest: int | None = None
        for spec in jobs:
            if spec.guild_id in self.departed:
                continue
            due = to_ms(spec.due_at)
            earliest = due if earliest is None else min(earliest, due)
            body = spec.body if spec.body is not None else json.dumps(
                spec.payload or {}, separators=(",", ":"), ensure_ascii=False)
            tgt = None if spec.target is None else str(spec.target)
            rows.append((spec.guild_id, spec.kind, spec.dedupe_key, due, due, body, tgt, now, now))
        if not rows:
            return 0
        await self.db.executemany(_UPSERT_SQL, rows)
        if earliest is not None and (self._next_due_ms is None or earliest < self._next_due_ms):
            self._next_due_ms = earliest
            self._wake.set()
        return len(rows)

    async def cancel(self, guild_id: int, dedupe_key: str) -> int:
        """Cancel one pending job; returns how many were cancelled (0 or 1)."""
        n = await self.db.execute(
            "UPDATE jobs SET status = 'cancelled', updated_ms = ?, finished_ms = ? "
            "WHERE guild_id = ? AND dedupe_key = ? AND status = 'pending'",
            (to_ms(self.clock()), to_ms(self.clock()), guild_id, dedupe_key),
        )
        if n:
            self._wake.set()
        return n

    async def cancel_prefix(self, guild_id: int, prefix: str) -> int:
        """Cancel every pending job of the guild whose dedupe key starts with prefix."""
        if not prefix:
            raise ValueError("cancel_prefix needs a non-empty prefix")
        now = to_ms(self.clock())
        n = await self.db.execute(
            "UPDATE jobs SET status = 'cancelled', updated_ms = ?, finished_ms = ? "
            "WHERE guild_id = ? AND dedupe_key >= ? AND dedupe_key < ? AND status = 'pending'",
            (now, now, guild_id, prefix, prefix + "\U0010ffff"),
        )
        if n:
            self._wake.set()
        return n

    async def pending(self, guild_id: int, prefix: str = "") -> list[Job]:
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE guild_id = ? AND status = 'pending' AND dedupe_key >= ? AND dedupe_key "
            "< ? ORDER BY due_ms, id",
            (guild_id, prefix, prefix + "\U0010ffff"),
        )
        return [_row_to_job(r) for r in rows]

    async def job_status(self, guild_id: int, dedupe_key: str) -> str | None:
        return await self.db.fetchval(
            "SELECT status FROM jobs WHERE guild_id = ? AND dedupe_key = ?", (guild_id, dedupe_key)
        )

    async def recent_failures(self, guild_id: int, limit: int = 5) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT kind, target, last_error, finished_ms, dedupe_key FROM jobs "
            "WHERE guild_id = ? AND status = 'failed' ORDER BY finished_ms DESC LIMIT ?",
            (guild_id, limit),
        )
        return [dict(r) for r in rows]

    async def run_now(self, guild_id: int, dedupe_key: str) -> tuple[str, Any] | None:
        """Claim one pending job and run its handler in this task, now, whatever its due time.

        For a notice enqueued in the transaction of a decision (so a crash right after the commit
        still delivers it) that the command then tries to deliver at once, to tell the member how it
        went. Returns (status, detail): ("done", the handler's result), or ("skipped" | "failed" |
        "retry", the reason). None when the job was not pending (the dispatcher already has it, or it
        is finished): then nothing ran here. The claim is the same as the dispatcher's, so the job is
        sent once; a retry is left to the dispatcher with its usual backoff."""
        rows = await self.db.fetchall(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_ms = ? "
            "WHERE guild_id = ? AND dedupe_key = ? AND status = 'pending' RETURNING *",
            (to_ms(self.clock()), guild_id, dedupe_key),
        )
        if not rows:
            return None
        job = _row_to_job(rows[0])
        value = await self._run_one(job)
        outcome = next(((st, extra) for st, jid, extra in self._results if jid == job.id), None)
        try:
            await self._flush()
        except sqlite3.Error:
            pass  # logged by _flush; kept in memory and recorded on the next round
        if outcome is None:  # the dispatcher's round recorded it meanwhile
            row = await self.db.fetchone("SELECT status, last_error FROM jobs WHERE id = ?", (job.id,))
            status = str(row["status"]) if row else "done"
            outcome = ("retry" if status == "pending" else status, row["last_error"] if row else None)
        status, extra = outcome
        if status == "done":
            return "done", value
        if status == "retry" and isinstance(extra, tuple):
            extra = extra[1]
        msg = stored_msg(extra) if isinstance(extra, str) else None
        return status, msg if msg is not None else str(extra or "").removeprefix("skipped: ")

    # -- servers the bot left ------------------------------------------------------------
    async def load_departed(self) -> set[int]:
        """Read the servers the bot was removed from (start-up)."""
        rows = await self.db.fetchall("SELECT guild_id FROM guild_departures")
        self.departed = {int(r[0]) for r in rows}
        return self.departed

    async def guild_left(self, guild_id: int, *, at: datetime | None = None) -> int:
        """The bot was removed from a server: record when, and cancel its pending jobs at once, in one
        transaction. From now on no job of that server is created or sent. Returns how many were cancelled."""
        now = to_ms(at or self.clock())
        self.departed.add(guild_id)  # before the first await: a group about to send sees it
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO guild_departures (guild_id, left_ms) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET left_ms = excluded.left_ms", (guild_id, now))
            n = await self.db.execute(
                "UPDATE jobs SET status = 'cancelled', updated_ms = ?, finished_ms = ?, "
                "last_error = ? WHERE guild_id = ? AND status = 'pending'",
                (now, now, CANCELLED_LEFT, guild_id))
        self._wake.set()
        log.info("scheduler: removed from guild %s; %d pending job(s) cancelled", guild_id, n)
        return n

    async def guild_returned(self, guild_id: int) -> bool:
        """The bot is in the server again: new jobs are accepted (cancelled ones stay cancelled)."""
        if guild_id not in self.departed:
            return False
        await self.db.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))
        self.departed.discard(guild_id)
        log.info("scheduler: back in guild %s; its jobs are scheduled again", guild_id)
        return True

    def forget_departed(self, guild_id: int) -> None:
        """After a purge: the server's rows (its departure record included) are gone."""
        self.departed.discard(guild_id)

    def wake(self) -> None:
        """Re-evaluate now (tests that move an injected clock call this)."""
        self._next_due_ms = None
        self._wake.set()

    # -- lifecycle -------------------------------------------------------------------
    async def recover(self) -> int:
        """Jobs left `running` by a dead process go back to pending, flagged as resumed."""
        n = await self.db.execute(
            "UPDATE jobs SET status = 'pending', resumed = 1 WHERE status = 'running'"
        )
        if n:
            log.warning(
                "scheduler: %d job(s) were interrupted mid-send; they will be resent with their nonce", n
            )
        return n

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        await self.recover()
        await self.load_departed()
        self._task = asyncio.create_task(self._run(), name="attache-scheduler")

    async def stop(self, grace: float = 5.0) -> None:
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._groups:
            done, pending = await asyncio.wait(set(self._groups), timeout=grace)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending)
        if self.db.is_open:
            try:
                await self._flush()
            except sqlite3.Error:
                pass  # logged by _flush; those jobs stay 'running' and are re-sent (same nonce) at next start

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self._flush()
                    claimed = await self.run_due(self.clock(), wait=False)
                    if claimed:
                        await asyncio.sleep(0)
                        continue
                    timeout = await self._sleep_seconds()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("scheduler round failed; retrying in 5 s")
                    timeout = 5.0
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
                self.stats.wakeups += 1
        except asyncio.CancelledError:
            pass

    async def _sleep_seconds(self) -> float:
        if self._inflight >= self.batch_size:
            self._next_due_ms = None
            return MAX_IDLE_SLEEP  # a finishing group wakes us
        row = await self.db.fetchone(
            "SELECT MIN(due_ms) FROM jobs WHERE status = 'pending'"
            + (" AND COALESCE(target, '') NOT IN (SELECT value FROM json_each(?))" if self._busy else ""),
            (json.dumps(sorted(self._busy)),) if self._busy else (),
        )
        nxt = row[0] if row and row[0] is not None else None
        self._next_due_ms = nxt
        if nxt is None:
            return MAX_IDLE_SLEEP
        delay = (nxt - to_ms(self.clock())) / 1000
        return min(max(delay, 0.0), MAX_IDLE_SLEEP)

    # -- dispatch --------------------------------------------------------------------
    async def run_due(self, now: datetime | None = None, *, wait: bool = True) -> int:
        """Claim and start every job due at `now`; with wait=True (tests), wait for them and
        record the results before returning. Returns the number of jobs claimed."""
        now = now or self.clock()
        total = 0
        while True:
            capacity = self.batch_size - self._inflight
            if capacity <= 0:
                break
            jobs = await self._claim(to_ms(now), capacity)
            if not jobs:
                break
            total += len(jobs)
            self.stats.rounds += 1
            self._start_groups(jobs, now)
            if not wait:
                break
            await self.drain()
        if wait:
            await self.drain()
        return total

    async def drain(self) -> None:
        """Wait for in-flight sends and record their results."""
        while self._groups:
            await asyncio.wait(set(self._groups))
        await self._flush()

    async def _claim(self, now_ms: int, limit: int) -> list[Job]:
        busy = json.dumps(sorted(self._busy))
        rows = await self.db.fetchall(
            """
            UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_ms = :now
            WHERE id IN (
                SELECT id FROM (
                    SELECT id, due_ms, ROW_NUMBER() OVER (
                        PARTITION BY COALESCE(target, '#' || id) ORDER BY due_ms, id) AS rn
                    FROM (
                        SELECT id, target, due_ms FROM jobs
                        WHERE status = 'pending' AND due_ms <= :now
                          AND COALESCE(target, '') NOT IN (SELECT value FROM json_each(:busy))
                        ORDER BY due_ms LIMIT :scan
                    )
                ) WHERE rn <= :per_target ORDER BY due_ms, id LIMIT :limit
            )
            RETURNING *
            """,
            {
                "now": now_ms,
                "busy": busy,
                "scan": limit * 4,
                "per_target": self.per_target_batch,
                "limit": limit,
            },
        )
        jobs = [_row_to_job(r) for r in rows]
        jobs.sort(key=lambda j: (j.due_at, j.id))
        return jobs

    def _start_groups(self, jobs: list[Job], now: datetime) -> None:
        groups: dict[str, list[Job]] = {}
        for job in jobs:
            key = job.target if job.target is not None else f"#{job.id}"
            groups.setdefault(key, []).append(job)
        for key, group in groups.items():
            if not key.startswith("#"):
                self._busy.add(key)
            self._inflight += len(group)
            task = asyncio.create_task(self._run_group(key, group, now), name=f"attache-job-{key}")
            self._groups.add(task)
            task.add_done_callback(self._groups.discard)

    async def _run_group(self, key: str, jobs: list[Job], claimed_at: datetime) -> None:
        extra = 0
        try:
            batches: dict[tuple[str, int, int], list[Job]] = {}
            order: list[Job | tuple[str, int, int]] = []
            for job in jobs:
                kind = self._kinds.get(job.kind)
                if kind is None or kind.batch is None or job.target is None:
                    order.append(job)
                    continue
                bkey = (job.kind, job.guild_id, to_ms(job.original_due_at) // kind.window_ms)
                if bkey not in batches:
                    batches[bkey] = []
                    order.append(bkey)
                batches[bkey].append(job)
            for item in order:
                if isinstance(item, Job):
                    async with self._slots:  # at most `concurrency` handlers at once
                        await self._run_one(item)
                else:
                    extra += await self._run_batch(batches[item])
        finally:
            self._busy.discard(key)
            self._inflight -= len(jobs) + extra
            self._wake.set()

    async def _run_one(self, job: Job) -> Any:
        kind = self._kinds.get(job.kind)
        now = self.clock()
        if job.guild_id in self.departed:
            # Claimed before the bot was removed from the server: never sent.
            log.info("scheduler: not sending %s job %d: the bot was removed from guild %s",
                     job.kind, job.id, job.guild_id)
            self._results.append(("cancelled", job.id, CANCELLED_LEFT))
            return
        if kind is None:
            log.error("scheduler: no handler for job kind %r (job %d); marking failed", job.kind, job.id)
            reason = stored_reason(Msg(N_("no handler for jobs of kind {kind}"), kind=job.kind))
            self._results.append(("failed", job.id, reason))
            self.stats.failed += 1
            return
        if kind.stale is not None:
            try:
                stale = kind.stale(job, now)
            except Exception:
                log.exception("scheduler: stale rule for %s failed", job.kind)
                stale = False
            if stale:
                log.info("scheduler: skipping %s job %d (%s): too late, due %s", job.kind, job.id,
                         job.dedupe_key, job.original_due_at.isoformat())
                self._results.append(("skipped", job.id, _too_late(job)))
                self.stats.skipped += 1
                return
        self.stats.dispatched += 1
        if self.stats.record_lateness:
            self.stats.lateness_ms.append((now - job.due_at).total_seconds() * 1000)
        value: Any = None
        try:
            value = await kind.handler(job)
        except SkipJob as exc:
            reason = stored_reason(exc.msg) if exc.msg else f"skipped: {exc}"[:500]
            self._results.append(("skipped", job.id, reason))
            self.stats.skipped += 1
        except PermanentJobError as exc:
            self._fail(job, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any handler error is classified, logged and retried
            verdict = self.classify_error(exc)
            if verdict == "fail" or job.attempts >= self.max_attempts:
                self._fail(job, exc)
            else:
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (job.attempts - 1))
                delay *= random.uniform(0.8, 1.2)
                log.warning("scheduler: %s job %d failed (attempt %d/%d), retrying in %.0f s: %s",
                            job.kind, job.id, job.attempts, self.max_attempts, delay, exc)
                retry_at = to_ms(self.clock() + timedelta(seconds=delay))
                self._results.append(("retry", job.id, (retry_at, _err(exc))))
                self.stats.retried += 1
        else:
            self._results.append(("done", job.id, None))
            self.stats.done += 1
        return value

    # -- batches ------------------------------------------------------------------------
    async def _run_batch(self, jobs: list[Job]) -> int:
        """Run one batch (same kind, guild, target and window): claim the rest of it that is due, gate each
        job (departed server, stale), call the handler once, record each job's outcome. Returns how many
        jobs it claimed on top of `jobs`."""
        first = jobs[0]
        kind = self._kinds[first.kind]
        assert kind.batch is not None and first.target is not None
        lo = to_ms(first.original_due_at) // kind.window_ms * kind.window_ms
        now = self.clock()
        more: list[Job] = []
        if len(jobs) < kind.batch_limit:
            rows = await self.db.fetchall(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_ms = :now WHERE id IN ("
                "SELECT id FROM jobs WHERE status = 'pending' AND guild_id = :g AND kind = :k "
                "AND target = :t AND original_due_ms >= :lo AND original_due_ms < :hi AND due_ms <= :now "
                "ORDER BY due_ms, id LIMIT :n) RETURNING *",
                {"now": to_ms(now), "g": first.guild_id, "k": first.kind, "t": first.target, "lo": lo,
                 "hi": lo + kind.window_ms, "n": kind.batch_limit - len(jobs)})
            more = sorted((_row_to_job(r) for r in rows), key=lambda j: (j.due_at, j.id))
            self._inflight += len(more)
        live: list[Job] = []
        for job in jobs + more:
            if self._gate(job, kind, now):
                live.append(job)
        if not live:
            return len(more)
        self.stats.dispatched += len(live)
        if self.stats.record_lateness:
            self.stats.lateness_ms.extend((now - j.due_at).total_seconds() * 1000 for j in live)
        try:
            outcomes: dict[int, BaseException | None] = await kind.batch(live)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - applies to every job of the batch, classified below
            outcomes = {j.id: error for j in live}
        attempts = max(j.attempts for j in live)
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
        retry_at = to_ms(self.clock() + timedelta(seconds=delay))  # one time for all: they batch again
        for job in live:
            outcome = outcomes.get(job.id)
            if outcome is None:
                self._results.append(("done", job.id, None))
                self.stats.done += 1
            elif isinstance(outcome, SkipJob):
                self._results.append(("skipped", job.id, f"skipped: {outcome}"[:500]))
                self.stats.skipped += 1
            elif isinstance(outcome, PermanentJobError) or self.classify_error(outcome) == "fail" \
                    or job.attempts >= self.max_attempts:
                self._fail(job, outcome)
            else:
                log.warning("scheduler: %s job %d failed in a batch (attempt %d/%d), retrying in %.0f s: %s",
                            job.kind, job.id, job.attempts, self.max_attempts, delay, outcome)
                self._results.append(("retry", job.id, (retry_at, _err(outcome))))
                self.stats.retried += 1
        return len(more)

    def _gate(self, job: Job, kind: _Kind, now: datetime) -> bool:
        """Whether a claimed job of a batch may run: not when the bot left its server, nor when stale."""
        if job.guild_id in self.departed:
            self._results.append(("cancelled", job.id, CANCELLED_LEFT))
            return False
        try:
            stale = kind.stale is not None and kind.stale(job, now)
        except Exception:
            log.exception("scheduler: stale rule for %s failed", job.kind)
            stale = False
        if stale:
            self._results.append(("skipped", job.id, _too_late(job)))
            self.stats.skipped += 1
        return not stale

    def _fail(self, job: Job, exc: BaseException) -> None:
        log.error("scheduler: %s job %d for target %s failed permanently after %d attempt(s): %s",
                  job.kind, job.id, job.target, job.attempts, _err(exc))
        self._results.append(("failed", job.id, _err(exc)))
        self.stats.failed += 1

    async def _flush(self) -> None:
        if not self._results:
            return
        results, self._results = self._results, []
        now = to_ms(self.clock())
        done = [jid for st, jid, _ in results if st == "done"]
        other = [(st, jid, extra) for st, jid, extra in results if st != "done"]
        try:
            async with self.db.transaction():
                if done:
                    await self.db.execute(
                        "UPDATE jobs SET status = 'done', finished_ms = ?, updated_ms = ?, last_error = NULL "
                        "WHERE status = 'running' AND id IN (SELECT value FROM json_each(?))",
                        (now, now, json.dumps(done)),
                    )
                for st, jid, extra in other:
                    if st == "retry":
                        retry_at, err = extra
                        await self.db.execute(
                            "UPDATE jobs SET status = 'pending', due_ms = ?, last_error = ?, updated_ms = ? "
                            "WHERE status = 'running' AND id = ?",
                            (retry_at, err, now, jid),
                        )
                    else:
                        await self.db.execute(
                            "UPDATE jobs SET status = ?, last_error = ?, finished_ms = ?, updated_ms = ? "
                            "WHERE status = 'running' AND id = ?",
                            (st, extra, now, now, jid),
                        )
        except BaseException as exc:
            # Never lose a result silently: keep it for the next flush (every round, and at stop). The
            # jobs stay 'running' in the database meanwhile, so none is claimed and sent again; after
            # a crash, start-up re-sends them with the same nonce and Discord drops the duplicate.
            self._results = results + self._results
            if not isinstance(exc, asyncio.CancelledError):
                log.error("scheduler: could not record %d job result(s) (%s); kept in memory and retried "
                          "on the next round", len(results), _err(exc))
            raise


def _err(exc: BaseException) -> str:
    if isinstance(exc, _JobOutcome) and exc.msg is not None:
        return stored_reason(exc.msg)
    text = f"{type(exc).__name__}: {exc}"
    return text[:500]


def _too_late(job: Job) -> str:
    return stored_reason(Msg(N_("skipped: too late to matter (due {due} UTC)"),
                             due=f"{job.original_due_at:%Y-%m-%d %H:%M}"))


def _row_to_job(r: Any) -> Job:
    return Job(
        id=r["id"],
        guild_id=r["guild_id"],
        kind=r["kind"],
        dedupe_key=r["dedupe_key"],
        due_at=from_ms(r["due_ms"]),
        original_due_at=from_ms(r["original_due_ms"]),
        payload=json.loads(r["payload"] or "{}"),
        target=r["target"],
        attempts=r["attempts"],
        resumed=bool(r["resumed"]),
    )

"""Reminders and status changes: per-agreement offsets, the plan (cogs/mous/planning.py) diffed
against the scheduler's pending jobs, automatic status changes and renewals, the weekly digest job,
the deadlines list. No discord import."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from bot.clock import to_ms
from bot.errors import InvalidInput
from bot.scheduler import JobSpec
from cogs.mous import planning as P
from cogs.mous.records import (
    IN_FORCE_SQL,
    LIVE_SQL,
    Actor,
    Agreement,
    DueItem,
    MouParts,
    PlanStats,
    ReminderContext,
    _agreement,
    _d,
    _milestone,
    _plan_agreement,
    _plan_row,
)

log = logging.getLogger(__name__)


class RemindersMixin(MouParts):
    """Scheduling what is due."""

    async def set_offsets(
        self, guild_id: int, actor: Actor, agreement_id: int, text: str
    ) -> tuple[int, ...] | None:
        """`180,90,30,7` for this agreement; `default` to follow the server default again."""
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        if text.strip().lower() in ("default", "reset", "server"):
            offsets: tuple[int, ...] | None = None
        else:
            try:
                offsets = P.parse_offsets(text)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE mou_agreements SET remind_offsets = ?, updated_ms = ? WHERE id = ?",
                (json.dumps(list(offsets)) if offsets is not None else None, to_ms(self.now()), agreement_id),
            )
            await self._audit(guild_id, actor.id, "mou.remind", agreement_id,
                              {"from": list(a.remind_offsets) if a.remind_offsets else "default",
                               "to": list(offsets) if offsets else "default"})
            await self.replan(guild_id, agreement_id)
        return offsets

    # -- planning ------------------------------------------------------------------------------
    async def _pending_map(self, guild_id: int, prefix: str) -> dict[str, tuple[datetime, dict[str, Any]]]:
        jobs = await self.scheduler.pending(guild_id, prefix)
        return {
            j.dedupe_key: (j.original_due_at, j.payload)
            for j in jobs
            if j.kind in (P.REMIND_KIND, P.STATUS_KIND)
        }

    async def _apply(self, guild_id: int, diff: P.PlanDiff, target: int | None, stats: PlanStats) -> None:
        for key in diff.cancel:
            stats.cancelled += await self.scheduler.cancel(guild_id, key)
        stats.scheduled += await self.scheduler.schedule_many(
            JobSpec(job.kind, job.due, guild_id, job.key, job.payload_dict(),
                    target if job.kind == P.REMIND_KIND else None)
            for job in diff.schedule
        )

    async def tracked_count(self, guild_id: int) -> int:
        """Agreements of the guild that are not terminated."""
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM mou_agreements WHERE guild_id = ? AND status != 'terminated'", (guild_id,),
            default=0))

    async def has_agreements(self, guild_id: int) -> bool:
        return bool(
            await self.db.fetchval("SELECT 1 FROM mou_agreements WHERE guild_id = ? LIMIT 1", (guild_id,))
        )

    async def replan(self, guild_id: int, agreement_id: int) -> PlanStats:
        """Re-plan one agreement's jobs (call inside the write's transaction). The agreement, its
        milestones and pending jobs are read in the same transaction that writes the new plan, so a
        concurrent update can never be overwritten with a plan made from its old dates."""
        async with self.db.transaction():
            cfg = await self.config(guild_id)
            a = await self.get(guild_id, agreement_id)
            ms = [
                P.PlanMilestone(m.id, m.due_on, m.done) for m in await self.milestones(guild_id, agreement_id)
            ]
            desired = P.plan_agreement(_plan_agreement(a), ms, zone=cfg.zone, hour=cfg.hour,
                                       default_offsets=cfg.offsets, now=self.now())
            diff = P.diff_plan(desired, await self._pending_map(guild_id, P.agreement_prefix(agreement_id)))
            stats = PlanStats(agreements=1, unchanged=len(desired) - len(diff.schedule))
            await self._apply(guild_id, diff, cfg.channel_id, stats)
        return stats

    async def replan_guild(self, guild_id: int, *, reconcile: bool = True) -> PlanStats:
        """Correct statuses the scheduler may have skipped (downtime), then re-plan every agreement
        of the guild against its pending jobs in one pass, and make sure the digest is scheduled."""
        stats = PlanStats()
        if reconcile:
            cfg = await self.config(guild_id)
            stats.status_changes = await self.reconcile_statuses(
                guild_id, P.local_today(self.now(), cfg.zone)
            )
        # One transaction from the first read to the last write: a `/mou update` that lands meanwhile
        # waits for it and then re-plans from its own dates, instead of being overwritten by this
        # plan made from the dates read before it.
        async with self.db.transaction():
            return await self._replan_guild_locked(guild_id, stats)

    async def _replan_guild_locked(self, guild_id: int, stats: PlanStats) -> PlanStats:
        """`replan_guild` inside its transaction."""
        cfg = await self.config(guild_id)
        now = self.now()
        rows = await self.db.fetchall(
            "SELECT id, term, status, effective_on, expires_on, notice_days, remind_offsets, auto_renew "
            f"FROM mou_agreements WHERE guild_id = ? AND status IN {LIVE_SQL}", (guild_id,))
        mrows = await self.db.fetchall(
            f"SELECT m.id, m.agreement_id, m.due_on FROM mou_milestones m JOIN mou_agreements a "
            f"ON a.id = m.agreement_id WHERE m.guild_id = ? AND m.done_ms IS NULL AND a.status IN {LIVE_SQL}",
            (guild_id,))
        by_agreement: dict[int, list[P.PlanMilestone]] = {}
        for r in mrows:
            by_agreement.setdefault(r["agreement_id"], []).append(
                P.PlanMilestone(r["id"], date.fromisoformat(r["due_on"]), False))
        desired: dict[str, P.PlannedJob] = {}
        for r in rows:
            desired.update(P.plan_agreement(_plan_row(r), by_agreement.get(r["id"], ()), zone=cfg.zone,
                                            hour=cfg.hour, default_offsets=cfg.offsets, now=now))
        pending = await self._pending_map(guild_id, "mou:")
        diff = P.diff_plan(desired, {k: v for k, v in pending.items() if not k.startswith("mou:digest")})
        stats.agreements = len(rows)
        stats.unchanged = len(desired) - len(diff.schedule)
        await self._apply(guild_id, diff, cfg.channel_id, stats)
        await self.ensure_digest(guild_id)
        return stats

    async def replan_all(self) -> PlanStats:
        """Start-up: every guild with agreements (statuses corrected, jobs re-planned)."""
        total = PlanStats()
        for (gid,) in await self.db.fetchall("SELECT DISTINCT guild_id FROM mou_agreements"):
            s = await self.replan_guild(gid)
            total.agreements += s.agreements
            total.scheduled += s.scheduled
            total.cancelled += s.cancelled
            total.unchanged += s.unchanged
            total.status_changes += s.status_changes
        return total

    async def reconcile_statuses(self, guild_id: int, today: date) -> int:
        """Apply the automatic status moves the dates imply (e.g. after downtime). Returns how many."""
        rows = await self.db.fetchall(
            "SELECT id, status, effective_on, expires_on, notice_days, auto_renew, term FROM mou_agreements "
            "WHERE guild_id = ? AND status IN ('signed', 'active', 'expiring', 'renewed', 'expired')",
            (guild_id,),
        )
        n = 0
        for r in rows:
            new = P.desired_status(r["status"], effective=_d(r["effective_on"]), expires=_d(r["expires_on"]),
                                   notice_days=r["notice_days"], today=today)
            if new == r["status"]:
                continue
            if new == "expired" and r["auto_renew"] and r["status"] != "expired":
                await self.auto_renew(guild_id, r["id"])
            else:
                await self._auto_status(guild_id, r["id"], r["status"], new)
            n += 1
        return n

    async def _auto_status(self, guild_id: int, agreement_id: int, old: str, new: str) -> None:
        async with self.db.transaction():
            n = await self.db.execute(
                "UPDATE mou_agreements SET status = ?, updated_ms "
                "= ? WHERE guild_id = ? AND id = ? AND status = ?",
                (new, to_ms(self.now()), guild_id, agreement_id, old),
            )
            if not n:
                return
            if new == "expired":
                await self.db.execute(
                    "UPDATE mou_terms SET outcome = 'expired' WHERE agreement_id = ? AND outcome IS NULL",
                    (agreement_id,))
            await self._audit(
                guild_id, None, "mou.status.auto", agreement_id, {"status": {"from": old, "to": new}}
            )
            await self.replan(guild_id, agreement_id)

    async def auto_renew(self, guild_id: int, agreement_id: int) -> Agreement:
        a = await self.get(guild_id, agreement_id)
        assert a.expires_on is not None
        new = P.renewal_expiry(a.effective_on, a.expires_on)
        today = await self.today(guild_id)
        while new <= today:
            new = P.renewal_expiry(a.expires_on, new)
        return await self.renew(guild_id, None, agreement_id, new, reason="auto-renew")

    async def apply_status_job(self, guild_id: int, payload: dict[str, Any]) -> str | None:
        """Handler body of a `mou.status` job: returns the new status, or None when nothing changed."""
        r = await self.db.fetchone("SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?",
                                   (guild_id, int(payload.get("agreement_id", 0))))
        if r is None or r["term"] != payload.get("term"):
            return None
        a = _agreement(r)
        today = await self.today(guild_id)
        new = P.desired_status(a.status, effective=a.effective_on, expires=a.expires_on,
                               notice_days=a.notice_days, today=today)
        if new == a.status:
            return None
        if new == "expired" and a.auto_renew:
            renewed = await self.auto_renew(guild_id, a.id)
            return renewed.status
        await self._auto_status(guild_id, a.id, a.status, new)
        return new

    async def reminder_context(self, guild_id: int, payload: dict[str, Any]) -> ReminderContext | str:
        """What a `mou.remind` job should say, or a reason (str) to skip it."""
        aid = int(payload.get("agreement_id", 0))
        r = await self.db.fetchone(
            "SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?", (guild_id, aid)
        )
        if r is None:
            return f"agreement {aid} no longer exists"
        a = _agreement(r)
        if a.term != payload.get("term"):
            return f"agreement {aid} moved to term {a.term}"
        what = str(payload.get("what"))
        milestone = None
        if what == "milestone":
            if a.status not in P.MILESTONE_LIVE:
                return f"agreement {aid} is {a.status}"
            mr = await self.db.fetchone("SELECT * FROM mou_milestones WHERE guild_id = ? AND id = ?",
                                        (guild_id, int(payload.get("milestone_id", 0))))
            if mr is None:
                return "milestone deleted"
            milestone = _milestone(mr)
            if milestone.done:
                return "milestone already done"
        elif a.status not in P.DATED:
            return f"agreement {aid} is {a.status}"
        cfg = await self.config(guild_id)
        return ReminderContext(
            a,
            await self.parties(guild_id, aid),
            await self.owners(guild_id, aid),
            what,
            date.fromisoformat(str(payload.get("on"))),
            payload.get("offset"),
            milestone,
            cfg.zone,
        )

    # -- digest scheduling -------------------------------------------------------------------
    async def ensure_digest(self, guild_id: int, *, after: datetime | None = None) -> datetime:
        """Make sure exactly one pending digest job exists, at the next configured slot."""
        cfg = await self.config(guild_id)
        at = P.next_digest(after or self.now(), zone=cfg.zone, weekday=cfg.digest_day, hour=cfg.digest_hour)
        key = f"mou:digest:{P.local_today(at, cfg.zone).isoformat()}"
        async with self.db.transaction():
            for j in await self.scheduler.pending(guild_id, "mou:digest:"):
                if j.dedupe_key != key:
                    await self.scheduler.cancel(guild_id, j.dedupe_key)
            await self.scheduler.schedule(P.DIGEST_KIND, at, guild_id=guild_id, dedupe_key=key,
                                          payload={"week_of": P.local_today(at, cfg.zone).isoformat()})
        return at

    async def deadlines(self, guild_id: int, *, owner_id: int | None = None) -> list[DueItem]:
        """Every current deadline (expiries, notice deadlines, open milestones) for the .ics file."""
        owner_sql = "" if owner_id is None else \
            " AND EXISTS (SELECT 1 FROM mou_owners o WHERE o.agreement_id = a.id AND o.user_id = :owner)"
        params: dict[str, Any] = {"g": guild_id, "owner": owner_id}
        rows = await self.db.fetchall(
            f"SELECT a.id, a.title, a.expires_on, a.notice_on, a.notice_days FROM mou_agreements a "
            f"WHERE a.guild_id = :g AND a.status IN {IN_FORCE_SQL} AND a.expires_on IS NOT NULL{owner_sql}",
            params,
        )
        items: list[DueItem] = []
        for r in rows:
            items.append(DueItem(date.fromisoformat(r["expires_on"]), "expiry", r["id"], r["title"]))
            if r["notice_on"] and r["notice_days"] > 0:
                items.append(DueItem(date.fromisoformat(r["notice_on"]), "notice", r["id"], r["title"],
                                     f"expires {r['expires_on']}"))
        ms = await self.db.fetchall(
            f"SELECT m.id, m.agreement_id, m.due_on, m.description, a.title FROM mou_milestones m "
            f"JOIN mou_agreements a ON a.id = m.agreement_id WHERE m.guild_id = :g AND m.done_ms IS NULL "
            f"AND a.status IN {LIVE_SQL}{owner_sql}", params)
        for r in ms:
            items.append(DueItem(date.fromisoformat(r["due_on"]), "milestone", r["agreement_id"], r["title"],
                                 r["description"], r["id"]))
        items.sort(key=lambda i: (i.on, i.agreement_id, i.what))
        return items


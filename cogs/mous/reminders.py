"""Reminders and status changes: per-agreement offsets, the plan (cogs/mous/planning.py) diffed
against the scheduler's pending jobs, automatic status changes and renewals, the weekly digest job,
the deadlines list. No discord import."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from bot import audit
from bot.clock import to_ms
from bot.errors import InvalidInput
from bot.i18n import N_, Msg
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
            except P.PlanningInputError as exc:
                raise InvalidInput(exc.msg) from None
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
    # Each agreement carries a plan revision (mou_agreements.plan_rev), raised by triggers whenever its plan
    # inputs or milestones change (migration 016). Its jobs' fingerprint (planning.plan_fingerprint: the
    # server's plan signature and that revision) is stored beside them (mou_plan_state), in the same
    # transaction. A re-plan selects, in one indexed query, the agreements whose fingerprint differs and
    # reads the inputs of those only, so re-planning an unchanged server (every start) reads and writes
    # nothing else.

    async def _plan_rows(self, guild_id: int, agreement_id: int | None = None, *,
                         changed_since: str | None = None) -> list[Any]:
        """The guild's agreements (or one) with their plan inputs, open milestones, plan revision and stored
        fingerprint; with `changed_since` (the server's plan signature), only those whose stored
        fingerprint is not that signature at their current revision."""
        where = "" if agreement_id is None else " AND a.id = :aid"
        if changed_since is not None:
            where += " AND (s.fingerprint IS NULL OR s.fingerprint <> :sig || '#' || a.plan_rev)"
        return await self.db.fetchall(
            "SELECT a.id, a.term, a.status, a.effective_on, a.expires_on, a.notice_days, a.remind_offsets, "
            "a.auto_renew, (SELECT group_concat(m.id || '@' || m.due_on) FROM mou_milestones m "
            "INDEXED BY mou_milestones_agreement "
            "WHERE m.agreement_id = a.id AND m.guild_id = :g AND m.done_ms IS NULL) AS ms, "
            "a.plan_rev, s.fingerprint AS fp "
            "FROM mou_agreements a LEFT JOIN mou_plan_state s ON s.agreement_id = a.id AND s.guild_id = :g "
            f"WHERE a.guild_id = :g{where}", {"g": guild_id, "aid": agreement_id, "sig": changed_since})

    async def _pending_map(self, guild_id: int, prefix: str) -> dict[str, tuple[datetime, dict[str, Any]]]:
        jobs = await self.scheduler.pending(guild_id, prefix)
        return {
            j.dedupe_key: (j.original_due_at, j.payload)
            for j in jobs
            if j.kind in (P.REMIND_KIND, P.STATUS_KIND)
        }

    async def _plan(self, guild_id: int, rows: list[Any], stats: PlanStats, *, force: bool,
                    total: int | None = None) -> None:
        """Re-plan the agreements of `rows` whose fingerprint changed (all of them with force), inside the
        caller's transaction: diff against their pending jobs, apply, store the new fingerprints. `total`:
        how many agreements the guild has, when `rows` holds only the changed ones."""
        cfg = await self.config(guild_id)
        now = self.now()
        sig = P.config_signature(cfg.zone, cfg.hour, cfg.offsets, cfg.channel_id)
        changed: list[tuple[P.PlanAgreement, str, str | None]] = []
        for r in rows:
            fp = P.plan_fingerprint(sig, r["plan_rev"])
            if force or fp != r["fp"]:
                changed.append((_plan_row(r), fp, r["ms"]))
        total = len(rows) if total is None else total
        stats.agreements += total
        stats.extra["skipped"] = stats.extra.get("skipped", 0) + total - len(changed)
        if not changed:
            return
        ids = {a.id for a, _, _ in changed}
        pending: dict[str, tuple[datetime, dict[str, Any]]] = {}
        if len(changed) > 50:  # one read of the server's pending MOU jobs beats one per agreement
            for key, v in (await self._pending_map(guild_id, "mou:")).items():
                head = key.split(":", 2)[1]
                if head.isdigit() and int(head) in ids:
                    pending[key] = v
        else:
            for aid in ids:
                pending.update(await self._pending_map(guild_id, P.agreement_prefix(aid)))
        desired: dict[str, P.PlannedJob] = {}
        for a, _, ms in changed:
            desired.update(P.plan_agreement(a, P.parse_milestones(ms), zone=cfg.zone, hour=cfg.hour,
                                            default_offsets=cfg.offsets, now=now))
        diff = P.diff_plan(desired, pending)
        stats.unchanged += len(desired) - len(diff.schedule)
        stats.extra["replanned"] = stats.extra.get("replanned", 0) + len(changed)
        await self._apply(guild_id, diff, cfg.channel_id, stats)
        if guild_id in self.scheduler.departed:
            return  # no job was written: plan again when the bot is back (the guild-return hook)
        await self.db.executemany(
            "INSERT INTO mou_plan_state (agreement_id, guild_id, fingerprint, planned_ms) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (agreement_id) DO UPDATE SET guild_id = excluded.guild_id, "
            "fingerprint = excluded.fingerprint, planned_ms = excluded.planned_ms",
            [(a.id, guild_id, fp, to_ms(now)) for a, fp, _ in changed])

    async def _apply(self, guild_id: int, diff: P.PlanDiff, target: int | None, stats: PlanStats) -> None:
        for key in diff.cancel:
            stats.cancelled += await self.scheduler.cancel(guild_id, key)
        remind_target = P.reminder_target(guild_id, target)
        stats.scheduled += await self.scheduler.schedule_many(
            JobSpec(job.kind, job.due, guild_id, job.key,
                    target=remind_target if job.kind == P.REMIND_KIND else None, body=job.body or None,
                    payload=None if job.body else job.payload_dict())
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
            rows = await self._plan_rows(guild_id, agreement_id)
            if not rows:
                await self.get(guild_id, agreement_id)  # raises NotFound
            stats = PlanStats()
            await self._plan(guild_id, rows, stats, force=True)
        return stats

    async def replan_guild(self, guild_id: int, *, reconcile: bool = True, force: bool = False) -> PlanStats:
        """Correct statuses the scheduler may have skipped (downtime), then re-plan every agreement of the
        guild whose plan inputs changed since it was last planned (every one with force: when its jobs
        may have been cancelled behind the plan's back, e.g. the bot was removed from the server and is
        back), and make sure the digest is scheduled."""
        stats = PlanStats()
        # One transaction from the first read to the last write: a `/mou update` that lands meanwhile
        # waits for it and then re-plans from its own dates, instead of being overwritten by this
        # plan made from the dates read before it.
        async with self.db.transaction():
            if reconcile:
                cfg = await self.config(guild_id)
                stats.status_changes = await self.reconcile_statuses(
                    guild_id, P.local_today(self.now(), cfg.zone)
                )
            if force:
                await self._plan(guild_id, await self._plan_rows(guild_id), stats, force=True)
            else:
                cfg = await self.config(guild_id)
                sig = P.config_signature(cfg.zone, cfg.hour, cfg.offsets, cfg.channel_id)
                total = int(await self.db.fetchval(
                    "SELECT COUNT(*) FROM mou_agreements WHERE guild_id = ?", (guild_id,), default=0))
                await self._plan(guild_id, await self._plan_rows(guild_id, changed_since=sig), stats,
                                 force=False, total=total)
            await self.ensure_digest(guild_id)
        return stats

    async def guild_returned(self, guild_id: int) -> None:
        """The bot is back in a server: its pending jobs were cancelled when it left, so plan them all."""
        await self.replan_guild(guild_id, force=True)

    async def replan_all(self) -> PlanStats:
        """Start-up: every guild with agreements (statuses corrected, changed plans re-planned)."""
        total = PlanStats()
        for (gid,) in await self.db.fetchall("SELECT DISTINCT guild_id FROM mou_agreements"):
            s = await self.replan_guild(gid)
            total.agreements += s.agreements
            total.scheduled += s.scheduled
            total.cancelled += s.cancelled
            total.unchanged += s.unchanged
            total.status_changes += s.status_changes
            for k, v in s.extra.items():
                total.extra[k] = total.extra.get(k, 0) + v
        return total

    async def reconcile_statuses(self, guild_id: int, today: date) -> int:
        """Apply the automatic status moves the dates imply (e.g. after downtime), in one transaction,
        each with its audit row. Returns how many. The moved agreements' jobs are re-planned by the
        caller's plan (their fingerprints changed with their status); renewals re-plan themselves."""
        async with self.db.transaction():
            rows = await self.db.fetchall(
                "SELECT id, status, effective_on, expires_on, notice_days, auto_renew, term "
                "FROM mou_agreements WHERE guild_id = :g AND ("
                # a superset of the agreements whose dates move their status (desired_status decides)
                "status IN ('signed', 'expiring', 'expired') OR (status IN ('active', 'renewed') "
                "AND expires_on IS NOT NULL AND date(expires_on, -notice_days || ' days') <= :today))",
                {"g": guild_id, "today": today.isoformat()},
            )
            moves: list[tuple[int, str, str]] = []
            renewed = 0
            for r in rows:
                new = P.desired_status(r["status"], effective=_d(r["effective_on"]),
                                       expires=_d(r["expires_on"]), notice_days=r["notice_days"], today=today)
                if new == r["status"]:
                    continue
                if new == "expired" and r["auto_renew"] and r["status"] != "expired":
                    await self.auto_renew(guild_id, r["id"])
                    renewed += 1
                else:
                    moves.append((r["id"], r["status"], new))
            if not moves:
                return renewed
            now_ms = to_ms(self.now())
            await self.db.executemany(
                "UPDATE mou_agreements SET status = ?, updated_ms = ? "
                "WHERE guild_id = ? AND id = ? AND status = ?",
                [(new, now_ms, guild_id, aid, old) for aid, old, new in moves])
            await self.db.executemany(
                "UPDATE mou_terms SET outcome = 'expired' WHERE guild_id = ? AND agreement_id = ? "
                "AND outcome IS NULL", [(guild_id, aid) for aid, _, new in moves if new == "expired"])
            await audit.record_many(
                self.db, guild_id=guild_id, actor_id=None, action="mou.status.auto", entity="agreement",
                at=self.now(), items=[(aid, {"status": {"from": old, "to": new}}) for aid, old, new in moves])
        return renewed + len(moves)

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

    async def reminder_context(self, guild_id: int, payload: dict[str, Any]) -> ReminderContext | Msg:
        """What a `mou.remind` job should say, or a reason (a Msg) to skip it."""
        aid = int(payload.get("agreement_id", 0))
        r = await self.db.fetchone(
            "SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?", (guild_id, aid)
        )
        if r is None:
            return Msg(N_("agreement #{id} no longer exists"), id=aid)
        a = _agreement(r)
        if a.term != payload.get("term"):
            return Msg(N_("agreement #{id} moved to term {term}"), id=aid, term=a.term)
        what = str(payload.get("what"))
        milestone = None
        if what == "milestone":
            if a.status not in P.MILESTONE_LIVE:
                return Msg(N_("agreement #{id} is {status}"), id=aid, status=P.StatusName(a.status))
            mr = await self.db.fetchone("SELECT * FROM mou_milestones WHERE guild_id = ? AND id = ?",
                                        (guild_id, int(payload.get("milestone_id", 0))))
            if mr is None:
                return Msg(N_("milestone deleted"))
            milestone = _milestone(mr)
            if milestone.done:
                return Msg(N_("milestone already done"))
        elif a.status not in P.DATED:
            return Msg(N_("agreement #{id} is {status}"), id=aid, status=P.StatusName(a.status))
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


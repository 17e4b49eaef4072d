"""Agreements: reads (detail, lists, upcoming deadlines, the digest), edit rights, and every write to an
agreement, its parties, terms, activity and milestones; each write one transaction with its audit row
and the re-planned reminders. No discord import.

Why this file is over 700 lines: the writes share one pattern (load, check the status machine and the
editor's right, write, audit, re-plan in one transaction) and the reads share the same row mapping;
owners, reminders and exports are already their own modules."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from bot import audit
from bot.clock import from_ms, to_ms
from bot.errors import InvalidInput, Mention, NotFound, PermissionDenied
from bot.i18n import N_, Msg
from bot.text import md_line
from cogs.mous import planning as P
from cogs.mous.records import (
    DIGEST_ROWS,
    FOCUS_MAX,
    IN_FORCE_SQL,
    LIST_LIMIT,
    LIVE_SQL,
    LOG_MAX,
    MAX_OWNERS,
    MAX_PARTIES,
    MILESTONE_MAX,
    REASON_MAX,
    SUMMARY_MAX,
    TIMELINE_ROWS,
    UPCOMING_LIMIT,
    Activity,
    Actor,
    Agreement,
    AgreementDetail,
    Digest,
    DueItem,
    HistoryEntry,
    ListRow,
    Milestone,
    MouParts,
    Party,
    Term,
    Timeline,
    TimelineRow,
    _agreement,
    _d,
    _milestone,
    _party,
    clean_text,
    clean_title,
    parse_day,
    parse_links,
)

log = logging.getLogger(__name__)

STATUS_NAMES = ", ".join(P.STATUSES)
KIND_NAMES = ", ".join(P.KINDS)
# The refusal names up to five owners (as mentions); one template per count, each a catalog id.
ONLY_OWNERS = (
    N_("Only the owners of agreement #{id} and moderators can change it."),
    N_("Only the owners of agreement #{id} ({owner0}) and moderators can change it."),
    N_("Only the owners of agreement #{id} ({owner0}, {owner1}) and moderators can change it."),
    N_("Only the owners of agreement #{id} ({owner0}, {owner1}, {owner2}) and moderators can change it."),
    N_("Only the owners of agreement #{id} ({owner0}, {owner1}, {owner2}, {owner3}) and moderators can "
       "change it."),
    N_("Only the owners of agreement #{id} ({owner0}, {owner1}, {owner2}, {owner3}, {owner4}) and "
       "moderators can change it."),
)


def transition_error(old: str, new: str, *, nothing_saved: bool = False) -> InvalidInput:
    """The refusal of a status move old -> new that is not allowed (planning.transition_error's message)."""
    msg = P.transition_error(old, new, nothing_saved=nothing_saved)
    if msg is None:  # pragma: no cover - callers check can_transition first
        raise ValueError(f"{old} -> {new} is allowed")
    return InvalidInput(msg)


class AgreementsMixin(MouParts):
    """Agreements and their parties, terms, activity and milestones."""

    # -- reads ----------------------------------------------------------------------------
    async def _row(self, guild_id: int, agreement_id: int) -> Any:
        r = await self.db.fetchone("SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?",
                                   (guild_id, agreement_id))
        if r is None:
            raise NotFound(Msg(
                N_("There is no agreement #{id} on this server. `/mou list` shows them."),
                id=agreement_id,
            ))
        return r

    async def get(self, guild_id: int, agreement_id: int) -> Agreement:
        return _agreement(await self._row(guild_id, agreement_id))

    async def owners(self, guild_id: int, agreement_id: int) -> tuple[int, ...]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM mou_owners WHERE guild_id = ? "
            "AND agreement_id = ? ORDER BY added_ms, user_id",
            (guild_id, agreement_id),
        )
        return tuple(r[0] for r in rows)

    async def parties(self, guild_id: int, agreement_id: int) -> tuple[Party, ...]:
        rows = await self.db.fetchall(
            "SELECT * FROM mou_parties WHERE guild_id = ? AND agreement_id = ? ORDER BY position",
            (guild_id, agreement_id))
        return tuple(_party(r) for r in rows)

    async def milestones(self, guild_id: int, agreement_id: int) -> tuple[Milestone, ...]:
        rows = await self.db.fetchall(
            "SELECT * FROM mou_milestones WHERE guild_id = ? AND agreement_id = ? ORDER BY due_on, id",
            (guild_id, agreement_id))
        return tuple(_milestone(r) for r in rows)

    def is_dormant(self, a: Agreement, today: date, months: int) -> bool:
        if a.status not in P.IN_FORCE:
            return False
        last = a.last_activity_on or P.local_today(a.created_at, "UTC")
        return last < P.add_months(today, -months)

    async def detail(self, guild_id: int, agreement_id: int) -> AgreementDetail:
        a = await self.get(guild_id, agreement_id)
        cfg = await self.config(guild_id)
        today = P.local_today(self.now(), cfg.zone)
        acts = await self.db.fetchall(
            "SELECT * FROM mou_activity WHERE guild_id = ? AND agreement_id = ? "
            "ORDER BY happened_on DESC, id DESC LIMIT 5", (guild_id, agreement_id))
        terms = await self.db.fetchall(
            "SELECT * FROM mou_terms WHERE guild_id = ? AND agreement_id = ? ORDER BY term",
            (guild_id, agreement_id),
        )
        hist = await self.db.fetchall(
            "SELECT at_ms, actor_id, action, changes FROM audit WHERE guild_id = ? AND entity = 'agreement' "
            "AND entity_id = ? ORDER BY id DESC LIMIT 10", (guild_id, str(agreement_id)))
        return AgreementDetail(
            agreement=a,
            parties=await self.parties(guild_id, agreement_id),
            owners=await self.owners(guild_id, agreement_id),
            milestones=await self.milestones(guild_id, agreement_id),
            activity=tuple(
                Activity(r["id"], date.fromisoformat(r["happened_on"]), r["text"], r["author_id"])
                for r in acts
            ),
            terms=tuple(
                Term(
                    r["term"], _d(r["starts_on"]), _d(r["expires_on"]), r["outcome"], from_ms(r["created_ms"])
                )
                for r in terms
            ),
            history=tuple(
                HistoryEntry(from_ms(r["at_ms"]), r["actor_id"], r["action"], json.loads(r["changes"]))
                for r in hist
            ),
            dormant=self.is_dormant(a, today, cfg.dormant_months),
            today=today,
            zone=cfg.zone,
        )

    async def list_agreements(
        self, guild_id: int, *, city: str | None = None, status: str | None = None,
        expiring_within_days: int | None = None, owner_id: int | None = None, limit: int = LIST_LIMIT,
    ) -> tuple[list[ListRow], int]:
        """Filtered agreements, soonest upcoming deadline (notice, expiry or open milestone) first.
        Returns (rows, total matching)."""
        today = await self.today(guild_id)
        where = ["a.guild_id = :g"]
        params: dict[str, Any] = {"g": guild_id, "today": today.isoformat(), "limit": limit}
        if status:
            if status not in P.STATUSES:
                raise InvalidInput(Msg(N_("Unknown status. Use one of: {choices}."), choices=STATUS_NAMES))
            where.append("a.status = :status")
            params["status"] = status
        if expiring_within_days is not None:
            where.append(f"a.status IN {IN_FORCE_SQL} AND a.expires_on BETWEEN :today AND :until")
            params["until"] = (today + timedelta(days=expiring_within_days)).isoformat()
        if owner_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM mou_owners o WHERE o.agreement_id = a.id AND o.user_id = :owner)"
            )
            params["owner"] = owner_id
        if city:
            c = city.strip()
            if c.isascii() and c.isdigit() and len(c) <= 18:
                where.append(
                    "EXISTS (SELECT 1 FROM mou_parties p WHERE p.agreement_id = a.id AND p.city_id = :cid)"
                )
                params["cid"] = int(c)
            else:
                name = c.split(",")[0].strip()
                where.append("EXISTS (SELECT 1 FROM mou_parties p WHERE p.agreement_id = a.id "
                             "AND p.city_name = :cname COLLATE NOCASE)")
                params["cname"] = name
        cond = " AND ".join(where)
        total = int(
            await self.db.fetchval(f"SELECT COUNT(*) FROM mou_agreements a WHERE {cond}", params) or 0
        )
        rows = await self.db.fetchall(
            f"""
            SELECT a.id, a.kind, a.title, a.status, a.expires_on,
                   (SELECT MIN(d) FROM (
                        SELECT a.notice_on AS d WHERE a.notice_on >= :today AND a.status IN {IN_FORCE_SQL}
                        UNION ALL SELECT a.expires_on WHERE a.expires_on >= :today AND a.status IN
                        {IN_FORCE_SQL}
                        UNION ALL SELECT MIN(m.due_on) FROM mou_milestones m
                            WHERE m.agreement_id = a.id AND m.done_ms IS NULL AND m.due_on >= :today
                              AND a.status IN {LIVE_SQL})) AS next_on,
                   (SELECT group_concat(p.city_name, ' · ') FROM
                        (SELECT city_name FROM mou_parties WHERE agreement_id = a.id ORDER BY position) p) AS
                        parties
            FROM mou_agreements a WHERE {cond}
            ORDER BY next_on IS NULL, next_on, a.id LIMIT :limit
            """,
            params,
        )
        return [ListRow(r["id"], r["kind"], r["title"], r["status"], _d(r["expires_on"]), _d(r["next_on"]),
                        r["parties"] or "") for r in rows], total

    async def upcoming(self, guild_id: int, days: int, *, today: date | None = None,
                       limit: int = UPCOMING_LIMIT) -> tuple[list[DueItem], int]:
        """Everything due from today to today + days: expiries, notice deadlines, open milestones.
        Returns (the first `limit` items by date, total count)."""
        today = today or await self.today(guild_id)
        until = (today + timedelta(days=days)).isoformat()
        t = today.isoformat()
        items: list[DueItem] = []
        rows = await self.db.fetchall(
            f"SELECT id, title, expires_on, notice_on, notice_days FROM mou_agreements "
            f"WHERE guild_id = ? AND status IN {IN_FORCE_SQL} AND expires_on BETWEEN ? AND ? "
            f"UNION SELECT id, title, expires_on, notice_on, notice_days FROM mou_agreements "
            f"WHERE guild_id = ? AND status IN {IN_FORCE_SQL} AND notice_on BETWEEN ? AND ?",
            (guild_id, t, until, guild_id, t, until),
        )
        for r in rows:
            exp = date.fromisoformat(r["expires_on"])
            if t <= r["expires_on"] <= until:
                items.append(DueItem(exp, "expiry", r["id"], r["title"]))
            if r["notice_on"] and t <= r["notice_on"] <= until and r["notice_days"] > 0:
                items.append(DueItem(date.fromisoformat(r["notice_on"]), "notice", r["id"], r["title"],
                                     f"expires {exp.isoformat()}"))
        ms = await self.db.fetchall(
            f"SELECT m.id, m.agreement_id, m.due_on, m.description, a.title FROM mou_milestones m "
            f"JOIN mou_agreements a ON a.id = m.agreement_id "
            "WHERE m.guild_id = ? AND m.done_ms IS NULL AND m.due_on BETWEEN ? AND ? AND a.status IN "
            f"{LIVE_SQL} ORDER BY m.due_on, m.agreement_id, m.id LIMIT ?",
            (guild_id, t, until, limit),
        )
        n_ms = len(ms)
        if n_ms >= limit:
            n_ms = int(
                await self.db.fetchval(
                    f"SELECT COUNT(*) FROM mou_milestones m JOIN mou_agreements a ON a.id = m.agreement_id "
                    "WHERE m.guild_id = ? AND m.done_ms IS NULL AND "
                    f"m.due_on BETWEEN ? AND ? AND a.status IN {LIVE_SQL}",
                    (guild_id, t, until),
                )
                or 0
            )
        total = len(items) + n_ms
        for r in ms:
            items.append(DueItem(date.fromisoformat(r["due_on"]), "milestone", r["agreement_id"], r["title"],
                                 r["description"], r["id"]))
        items.sort(key=lambda i: (i.on, i.agreement_id, i.what, i.milestone_id or 0))
        return items[:limit], total

    async def timeline(self, guild_id: int, days: int, *, today: date | None = None,
                       limit: int = TIMELINE_ROWS) -> Timeline:
        """The agreements with an expiry, a renewal-notice deadline or an open milestone from today to
        today + days (or a notice period running through today), soonest first, at most `limit` rows."""
        today = today or await self.today(guild_id)
        until = today + timedelta(days=days)
        t, u = today.isoformat(), until.isoformat()
        rows = await self.db.fetchall(
            f"SELECT id, title, expires_on, notice_on, notice_days FROM mou_agreements "
            f"WHERE guild_id = ? AND status IN {IN_FORCE_SQL} AND expires_on BETWEEN ? AND ? "
            f"UNION SELECT id, title, expires_on, notice_on, notice_days FROM mou_agreements "
            f"WHERE guild_id = ? AND status IN {IN_FORCE_SQL} AND notice_on BETWEEN ? AND ?",
            (guild_id, t, u, guild_id, t, u),
        )
        ms = await self.db.fetchall(
            f"SELECT m.agreement_id, m.due_on, a.title, a.expires_on, a.notice_on, a.notice_days "
            f"FROM mou_milestones m JOIN mou_agreements a ON a.id = m.agreement_id "
            f"WHERE m.guild_id = ? AND m.done_ms IS NULL AND m.due_on BETWEEN ? AND ? AND a.status IN "
            f"{LIVE_SQL} ORDER BY m.due_on, m.id LIMIT ?",
            (guild_id, t, u, UPCOMING_LIMIT),
        )
        found: dict[int, dict[str, Any]] = {}
        for r in rows:
            found[r["id"]] = {"title": r["title"], "expires": _d(r["expires_on"]),
                              "notice": _d(r["notice_on"]) if r["notice_days"] else None, "ms": []}
        for r in ms:
            entry = found.setdefault(r["agreement_id"], {
                "title": r["title"], "expires": _d(r["expires_on"]),
                "notice": _d(r["notice_on"]) if r["notice_days"] else None, "ms": []})
            entry["ms"].append(date.fromisoformat(r["due_on"]))

        def first(item: tuple[int, dict[str, Any]]) -> tuple[date, int]:
            aid, e = item
            dates = [d for d in (e["notice"], e["expires"], *e["ms"]) if d is not None and d >= today]
            return (min(dates) if dates else until, aid)

        ordered = sorted(found.items(), key=first)
        out = tuple(TimelineRow(aid, e["title"], e["expires"], e["notice"], tuple(e["ms"]))
                    for aid, e in ordered[:limit])
        return Timeline(today, until, out, len(found))

    async def digest(self, guild_id: int, *, today: date | None = None) -> Digest:
        cfg = await self.config(guild_id)
        today = today or P.local_today(self.now(), cfg.zone)
        t = today.isoformat()
        exp = await self.db.fetchall(
            f"SELECT id, title, expires_on, status FROM mou_agreements WHERE guild_id = ? "
            f"AND status IN {IN_FORCE_SQL} AND expires_on BETWEEN ? AND ? ORDER BY expires_on, id",
            (guild_id, t, (today + timedelta(days=90)).isoformat()))
        expiring = tuple(
            DueItem(date.fromisoformat(r["expires_on"]), "expiry", r["id"], r["title"], r["status"])
            for r in exp
        )
        ms_sql = (
            "SELECT m.id, m.agreement_id, m.due_on, m.description, a.title FROM mou_milestones m "
            "JOIN mou_agreements a ON a.id = m.agreement_id WHERE m.guild_id = ? AND m.done_ms IS NULL "
            f"AND a.status IN {LIVE_SQL} "
        )
        cnt_sql = (
            "SELECT COUNT(*) FROM mou_milestones m JOIN mou_agreements a ON a.id = m.agreement_id "
            f"WHERE m.guild_id = ? AND m.done_ms IS NULL AND a.status IN {LIVE_SQL} "
        )
        in30 = (today + timedelta(days=30)).isoformat()
        due = await self.db.fetchall(ms_sql + "AND m.due_on BETWEEN ? AND ? ORDER BY m.due_on, m.id LIMIT ?",
                                     (guild_id, t, in30, DIGEST_ROWS))
        n_due = int(
            await self.db.fetchval(cnt_sql + "AND m.due_on BETWEEN ? AND ?", (guild_id, t, in30)) or 0
        )
        over = await self.db.fetchall(ms_sql + "AND m.due_on < ? ORDER BY m.due_on, m.id LIMIT ?",
                                      (guild_id, t, DIGEST_ROWS))
        n_over = int(await self.db.fetchval(cnt_sql + "AND m.due_on < ?", (guild_id, t)) or 0)

        def items(rows: Iterable[Any]) -> tuple[DueItem, ...]:
            return tuple(DueItem(date.fromisoformat(r["due_on"]), "milestone", r["agreement_id"], r["title"],
                                 r["description"], r["id"]) for r in rows)

        cutoff = P.add_months(today, -cfg.dormant_months).isoformat()
        dorm = await self.db.fetchall(
            f"SELECT id, title, last_activity_on FROM mou_agreements WHERE guild_id = ? "
            f"AND status IN {IN_FORCE_SQL} "
            "AND COALESCE(last_activity_on, date(created_ms / 1000, 'unixepoch')) < ? "
            "ORDER BY COALESCE(last_activity_on, date(created_ms / 1000, 'unixepoch')), id",
            (guild_id, cutoff))
        dormant = tuple((r["id"], r["title"], _d(r["last_activity_on"])) for r in dorm[:DIGEST_ROWS])
        return Digest(today, expiring[:DIGEST_ROWS], items(due), items(over), dormant,
                      (len(expiring), n_due, n_over, len(dorm)))

    # -- permissions ------------------------------------------------------------------------
    async def ensure_can_edit(self, guild_id: int, agreement_id: int, actor: Actor) -> None:
        if actor.moderator:
            return
        owners = await self.owners(guild_id, agreement_id)
        if actor.id not in owners:
            named = {f"owner{i}": Mention(o) for i, o in enumerate(owners[:5])}
            raise PermissionDenied(Msg(ONLY_OWNERS[len(named)], id=agreement_id), **named)

    # -- writes -------------------------------------------------------------------------------
    async def _audit(self, guild_id: int, actor_id: int | None, action: str, agreement_id: int,
                     changes: dict[str, Any]) -> None:
        await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action=action, entity="agreement",
                           entity_id=agreement_id, changes=changes, at=self.now())

    async def create(
        self, guild_id: int, actor: Actor, *, kind: str, title: str, parties: Sequence[str],
        signed: str | None = None, effective: str | None = None, expires: str | None = None,
        notice_days: int | None = None, owner_ids: Sequence[int] = (), summary: str = "",
        links: str = "", focus_areas: str = "", auto_renew: bool = False,
    ) -> Agreement:
        prepared = await self.prepare_create(guild_id, kind=kind, title=title, parties=parties, signed=signed,
                                             effective=effective, expires=expires, notice_days=notice_days)
        return await self.create_prepared(guild_id, actor, prepared, owner_ids=owner_ids, summary=summary,
                                          links=links, focus_areas=focus_areas, auto_renew=auto_renew)

    async def prepare_create(
        self, guild_id: int, *, kind: str, title: str, parties: Sequence[str], signed: str | None = None,
        effective: str | None = None, expires: str | None = None, notice_days: int | None = None,
    ) -> dict[str, Any]:
        """Validate everything typed in `/mou add` before the modal opens (nothing is written)."""
        if kind not in P.KINDS:
            raise InvalidInput(Msg(N_("Unknown kind. Use one of: {choices}."), choices=KIND_NAMES))
        today = await self.today(guild_id)
        resolved = [await self.resolve_party(guild_id, p) for p in parties]
        keys = {(p.city_id, p.name.casefold(), p.country) for p in resolved}
        if len(keys) < len(resolved):
            raise InvalidInput(N_("An agreement needs two different cities."))
        s = parse_day(signed, today) if signed else None
        e = parse_day(effective, today) if effective else s
        x = parse_day(expires, today) if expires else None
        nd = 90 if notice_days is None else notice_days
        if not 0 <= nd <= 3650:
            raise InvalidInput(N_("Notice days must be between 0 and 3650."))
        if x is not None and e is not None and x <= e:
            raise InvalidInput(Msg(
                N_("The expiry ({expiry}) must come after the start ({start})."),
                expiry=x.isoformat(), start=e.isoformat(),
            ))
        return {"kind": kind, "title": clean_title(title), "parties": resolved, "signed": s, "effective": e,
                "expires": x, "notice_days": nd}

    async def create_prepared(
        self, guild_id: int, actor: Actor, prepared: dict[str, Any], *, owner_ids: Sequence[int] = (),
        summary: str = "", links: str = "", focus_areas: str = "", auto_renew: bool = False,
    ) -> Agreement:
        summary = clean_text(summary, SUMMARY_MAX, "summary")
        link_list = parse_links(links)
        focus = clean_text(focus_areas, FOCUS_MAX, "focus_areas")
        owners = list(dict.fromkeys(owner_ids or [actor.id]))[:MAX_OWNERS]
        now = self.now()
        cfg = await self.config(guild_id)
        today = P.local_today(now, cfg.zone)
        s, e, x, nd = prepared["signed"], prepared["effective"], prepared["expires"], prepared["notice_days"]
        status = "signed" if s is not None else "draft"
        status = P.desired_status(status, effective=e, expires=x, notice_days=nd, today=today)
        ms = to_ms(now)
        async with self.db.transaction():
            aid = await self.db.execute(
                "INSERT INTO mou_agreements (guild_id, kind, title, summary, focus_areas, links, signed_on, "
                "effective_on, expires_on, notice_on, auto_renew, notice_days, status, term, created_ms, "
                "created_by, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                (guild_id, prepared["kind"], prepared["title"], summary, focus, json.dumps(list(link_list)),
                 P.iso(s), P.iso(e), P.iso(x), P.iso(P.notice_deadline(x, nd)), int(auto_renew), nd, status,
                 ms, actor.id, ms),
            )
            await self.db.execute(
                "INSERT INTO mou_terms (guild_id, agreement_id, term, starts_on, expires_on, created_ms, "
                "created_by) VALUES (?, ?, 1, ?, ?, ?, ?)",
                (guild_id, aid, P.iso(e), P.iso(x), ms, actor.id),
            )
            for pos, p in enumerate(prepared["parties"], start=1):
                await self.db.execute(
                    "INSERT INTO mou_parties (guild_id, agreement_id, position, city_id, city_name, country) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, aid, pos, p.city_id, p.name, p.country))
            for uid in owners:
                await self.db.execute(
                    "INSERT INTO mou_owners (guild_id, agreement_id, "
                    "user_id, added_ms, added_by) VALUES (?, ?, ?, ?, ?)",
                    (guild_id, aid, uid, ms, actor.id),
                )
                await self._notify_new_owner(guild_id, aid, uid, actor.id, now)
            await self._audit(guild_id, actor.id, "mou.add", aid, {
                "kind": prepared["kind"], "title": prepared["title"], "status": status,
                "parties": [p.name for p in prepared["parties"]], "signed": P.iso(s), "expires": P.iso(x),
                "owners": owners})
            await self.replan(guild_id, aid)
            if not await self.scheduler.pending(guild_id, "mou:digest:"):
                await self.ensure_digest(guild_id)
        return await self.get(guild_id, aid)

    async def add_party(self, guild_id: int, actor: Actor, agreement_id: int, city: str, *,
                        ours: bool = False) -> Party:
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        if a.status == "terminated":
            raise InvalidInput(N_("This agreement is terminated; it can't take new parties."))
        p = await self.resolve_party(guild_id, city)
        existing = await self.parties(guild_id, agreement_id)
        if any((p.city_id is not None and e.city_id == p.city_id)
               or (e.city_name.casefold() == p.name.casefold() and e.country == p.country) for e in existing):
            raise InvalidInput(Msg(
                N_("{city} is already a party to agreement #{id}."),
                city=md_line(p.name, 100), id=agreement_id,
            ))
        if len(existing) >= MAX_PARTIES:
            raise InvalidInput(Msg(N_("An agreement can have at most {max} parties."), max=MAX_PARTIES))
        async with self.db.transaction():
            if ours:
                await self.db.execute(
                    "UPDATE mou_parties SET is_ours = 0 WHERE guild_id = ? AND agreement_id = ?",
                    (guild_id, agreement_id),
                )
            pos = int(
                await self.db.fetchval(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM mou_parties WHERE agreement_id = ?",
                    (agreement_id,),
                )
            )
            pid = await self.db.execute(
                "INSERT INTO mou_parties (guild_id, agreement_id, position, city_id, city_name, country, "
                "is_ours) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (guild_id, agreement_id, pos, p.city_id, p.name, p.country, int(ours)),
            )
            await self._touch(guild_id, agreement_id)
            await self._audit(
                guild_id, actor.id, "mou.party.add", agreement_id, {"city": p.name, "ours": ours}
            )
        return Party(pid, pos, p.city_id, p.name, p.country, ours, "n/a")

    async def set_party(self, guild_id: int, actor: Actor, agreement_id: int, party: str, *,
                        ours: bool | None = None, esign: str | None = None) -> Party:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        ps = await self.parties(guild_id, agreement_id)
        target = self._find_party(ps, party)
        if esign is not None and esign not in P.ESIGN_STATUSES:
            raise InvalidInput(Msg(
                N_("E-signature status must be one of: {choices}."),
                choices=", ".join(P.ESIGN_STATUSES),
            ))
        if ours is None and esign is None:
            raise InvalidInput(N_("Say what to change: `ours` and/or `esign`."))
        async with self.db.transaction():
            if ours:
                await self.db.execute(
                    "UPDATE mou_parties SET is_ours = 0 WHERE guild_id = ? AND agreement_id = ?",
                    (guild_id, agreement_id),
                )
            if ours is not None:
                await self.db.execute(
                    "UPDATE mou_parties SET is_ours = ? WHERE id = ?", (int(ours), target.id)
                )
            if esign is not None:
                await self.db.execute(
                    "UPDATE mou_parties SET esign_status = ? WHERE id = ?", (esign, target.id)
                )
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.party.set", agreement_id,
                              {"party": target.city_name, "ours": ours, "esign": esign})
        return next(p for p in await self.parties(guild_id, agreement_id) if p.id == target.id)

    @staticmethod
    def _find_party(parties: Sequence[Party], text: str) -> Party:
        t = text.strip()
        for p in parties:
            if (
                t == str(p.position)
                or t == f"p{p.id}"
                or (t.isascii() and t.isdigit() and len(t) <= 19 and p.city_id == int(t))
            ):
                return p
        name = t.split(",")[0].strip().casefold()
        for p in parties:
            if p.city_name.casefold() == name:
                return p
        names = ", ".join(f"{p.position}. {md_line(p.city_name, 60)}" for p in parties)
        raise NotFound(Msg(
            N_("No party “{party}” on this agreement. Parties: {names}."),
            party=md_line(t, 50), names=names,
        ))

    async def _touch(self, guild_id: int, agreement_id: int) -> None:
        await self.db.execute("UPDATE mou_agreements SET updated_ms = ? WHERE guild_id = ? AND id = ?",
                              (to_ms(self.now()), guild_id, agreement_id))

    async def update(
        self, guild_id: int, actor: Actor, agreement_id: int, *, status: str | None = None,
        title: str | None = None, kind: str | None = None, signed: str | None = None,
        effective: str | None = None, expires: str | None = None, notice_days: int | None = None,
        auto_renew: bool | None = None, signature_mode: str | None = None, summary: str | None = None,
        focus_areas: str | None = None, links: str | None = None,
    ) -> tuple[Agreement, dict[str, Any]]:
        """Change only the given fields (last writer wins per field). Returns (agreement, changes).

        The row is read, checked and written in one transaction, so fields derived from several
        others (notice deadline, status, the term's dates, reminders) come from the row as stored
        when this writer runs, never from a copy read before a concurrent update landed."""
        async with self.db.transaction():
            return await self._update(
                guild_id, actor, agreement_id, status=status, title=title, kind=kind, signed=signed,
                effective=effective, expires=expires, notice_days=notice_days, auto_renew=auto_renew,
                signature_mode=signature_mode, summary=summary, focus_areas=focus_areas, links=links)

    async def _update(
        self, guild_id: int, actor: Actor, agreement_id: int, *, status: str | None,
        title: str | None, kind: str | None, signed: str | None,
        effective: str | None, expires: str | None, notice_days: int | None,
        auto_renew: bool | None, signature_mode: str | None, summary: str | None,
        focus_areas: str | None, links: str | None,
    ) -> tuple[Agreement, dict[str, Any]]:
        """`update` inside its transaction."""
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        cfg = await self.config(guild_id)
        today = P.local_today(self.now(), cfg.zone)
        sets: dict[str, Any] = {}
        changes: dict[str, Any] = {}

        def put(col: str, new: Any, old: Any, shown: Any = None) -> None:
            if new != old:
                sets[col] = new
                changes[col] = {
                    "from": old if shown is None else shown[0],
                    "to": new if shown is None else shown[1],
                }

        if title is not None:
            put("title", clean_title(title), a.title)
        if kind is not None:
            if kind not in P.KINDS:
                raise InvalidInput(Msg(N_("Unknown kind. Use one of: {choices}."), choices=KIND_NAMES))
            put("kind", kind, a.kind)
        if summary is not None:
            put("summary", clean_text(summary, SUMMARY_MAX, "summary"), a.summary)
        if focus_areas is not None:
            put("focus_areas", clean_text(focus_areas, FOCUS_MAX, "focus_areas"), a.focus_areas)
        if links is not None:
            ls = parse_links(links)
            if ls != a.links:
                sets["links"] = json.dumps(list(ls))
                changes["links"] = {"from": list(a.links), "to": list(ls)}
        if signature_mode is not None:
            if signature_mode not in P.SIGNATURE_MODES:
                raise InvalidInput(Msg(
                    N_("Signature mode must be one of: {choices}."),
                    choices=", ".join(P.SIGNATURE_MODES),
                ))
            put("signature_mode", signature_mode, a.signature_mode)
        if auto_renew is not None:
            put("auto_renew", int(auto_renew), int(a.auto_renew))

        def day_or_none(text: str) -> date | None:
            return (
                None
                if text.strip().lower() in ("none", "-", "clear", "never", "open-ended")
                else parse_day(text, today)
            )

        s = day_or_none(signed) if signed is not None else a.signed_on
        e = day_or_none(effective) if effective is not None else a.effective_on
        if signed is not None and effective is None and a.effective_on is None:
            e = s
        x = day_or_none(expires) if expires is not None else a.expires_on
        nd = notice_days if notice_days is not None else a.notice_days
        if not 0 <= nd <= 3650:
            raise InvalidInput(N_("Notice days must be between 0 and 3650."))
        if x is not None and e is not None and x <= e:
            raise InvalidInput(Msg(
                N_("The expiry ({expiry}) must come after the start ({start}). Nothing was saved."),
                expiry=x.isoformat(), start=e.isoformat(),
            ))
        put("signed_on", P.iso(s), P.iso(a.signed_on))
        put("effective_on", P.iso(e), P.iso(a.effective_on))
        put("expires_on", P.iso(x), P.iso(a.expires_on))
        put("notice_days", nd, a.notice_days)
        new_status = a.status
        if status is not None:
            if status not in P.STATUSES:
                raise InvalidInput(Msg(N_("Unknown status. Use one of: {choices}."), choices=STATUS_NAMES))
            if status == "renewed":
                raise InvalidInput(N_("Use `/mou renew` to renew: it records the new term and its expiry."))
            if status == "terminated":
                raise InvalidInput(N_("Use `/mou terminate` with a reason to terminate an agreement."))
            if not P.can_transition(a.status, status):
                raise transition_error(a.status, status, nothing_saved=True)
            if status == "signed" and s is None:
                s = today
                put("signed_on", P.iso(s), P.iso(a.signed_on))
                if e is None:
                    e = s
                    put("effective_on", P.iso(e), P.iso(a.effective_on))
            new_status = status
        dates_changed = any(k in sets for k in ("effective_on", "expires_on", "notice_days"))
        if status is not None or dates_changed:
            new_status = P.desired_status(new_status, effective=e, expires=x, notice_days=nd, today=today)
        put("status", new_status, a.status)
        if "expires_on" in sets or "notice_days" in sets:
            sets["notice_on"] = P.iso(P.notice_deadline(x, nd))
        if not sets:
            return a, {}
        sets["updated_ms"] = to_ms(self.now())
        cols = ", ".join(f"{k} = :{k}" for k in sets)
        async with self.db.transaction():
            await self.db.execute(
                f"UPDATE mou_agreements SET {cols} WHERE guild_id = :g AND id = :id",
                {**sets, "g": guild_id, "id": agreement_id})
            if "effective_on" in sets or "expires_on" in sets:
                await self.db.execute(
                    "UPDATE mou_terms SET starts_on = ?, expires_on = ? WHERE agreement_id = ? AND term = ?",
                    (P.iso(e), P.iso(x), agreement_id, a.term))
            await self._audit(guild_id, actor.id, "mou.update", agreement_id, changes)
            await self.replan(guild_id, agreement_id)
        return await self.get(guild_id, agreement_id), changes

    async def renew(self, guild_id: int, actor: Actor | None, agreement_id: int, new_expiry: str | date,
                    *, reason: str = "renewal") -> Agreement:
        """Close the current term (outcome `renewed`) and open the next one, linked to it;
        cancel the old term's reminders and plan the new ones."""
        a = await self.get(guild_id, agreement_id)
        if actor is not None:
            await self.ensure_can_edit(guild_id, agreement_id, actor)
        cfg = await self.config(guild_id)
        today = P.local_today(self.now(), cfg.zone)
        if a.status not in P.IN_FORCE and a.status != "expired":
            raise InvalidInput(Msg(
                N_("Only an agreement that is signed, active, expiring, renewed or expired can be renewed; "
                   "#{id} is **{status}**."),
                id=a.id, status=a.status,
            ))
        x = new_expiry if isinstance(new_expiry, date) else parse_day(new_expiry, today)
        floor = max(d for d in (a.expires_on, today) if d is not None)
        if x <= floor:
            raise InvalidInput(Msg(N_("The new expiry must be after {floor}."), floor=floor.isoformat()))
        starts = (
            (a.expires_on + timedelta(days=1))
            if a.expires_on is not None and a.expires_on >= today
            else today
        )
        status = P.desired_status(
            "renewed", effective=starts, expires=x, notice_days=a.notice_days, today=today
        )
        ms = to_ms(self.now())
        async with self.db.transaction():
            cur = await self.db.fetchval("SELECT id FROM mou_terms WHERE agreement_id = ? AND term = ?",
                                         (agreement_id, a.term))
            await self.db.execute(
                "UPDATE mou_terms SET outcome = 'renewed' WHERE agreement_id = ? AND term = ?",
                (agreement_id, a.term),
            )
            await self.db.execute(
                "INSERT INTO mou_terms (guild_id, agreement_id, term, previous_term_id, starts_on, "
                "expires_on, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    agreement_id,
                    a.term + 1,
                    cur,
                    P.iso(starts),
                    P.iso(x),
                    ms,
                    actor.id if actor else None,
                ),
            )
            await self.db.execute(
                "UPDATE mou_agreements SET term = ?, expires_on = ?, notice_on = ?, status = ?, effective_on "
                "= ?, updated_ms = ? WHERE guild_id = ? AND id = ?",
                (
                    a.term + 1,
                    P.iso(x),
                    P.iso(P.notice_deadline(x, a.notice_days)),
                    status,
                    P.iso(starts),
                    ms,
                    guild_id,
                    agreement_id,
                ),
            )
            await self.scheduler.cancel_prefix(guild_id, P.term_prefix(agreement_id, a.term))
            await self._audit(guild_id, actor.id if actor else None, "mou.renew", agreement_id, {
                "term": a.term + 1, "expires": {"from": P.iso(a.expires_on), "to": P.iso(x)},
                "status": {"from": a.status, "to": status}, "by": reason})
            await self.replan(guild_id, agreement_id)
        return await self.get(guild_id, agreement_id)

    async def terminate(self, guild_id: int, actor: Actor, agreement_id: int, reason: str) -> Agreement:
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        reason = clean_text(reason, REASON_MAX, "reason", required=True)
        if a.status == "terminated":
            raise InvalidInput(Msg(
                N_("Agreement #{id} is already terminated; its status can no longer change."),
                id=agreement_id,
            ))
        if not P.can_transition(a.status, "terminated"):
            raise transition_error(a.status, "terminated")
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE mou_agreements SET status = 'terminated', terminated_reason = ?, updated_ms = ? "
                "WHERE guild_id = ? AND id = ?", (reason, to_ms(self.now()), guild_id, agreement_id))
            await self.db.execute(
                "UPDATE mou_terms SET outcome = 'terminated' WHERE "
                "agreement_id = ? AND term = ? AND outcome IS NULL",
                (agreement_id, a.term),
            )
            await self.scheduler.cancel_prefix(guild_id, P.agreement_prefix(agreement_id))
            await self._audit(guild_id, actor.id, "mou.terminate", agreement_id,
                              {"status": {"from": a.status, "to": "terminated"}, "reason": reason})
        return await self.get(guild_id, agreement_id)

    async def log_activity(self, guild_id: int, actor: Actor, agreement_id: int, text: str,
                           on: str | None = None) -> Activity:
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        body = clean_text(text, LOG_MAX, "activity_note", required=True)
        today = await self.today(guild_id)
        d = parse_day(on, today) if on else today
        if d > today + timedelta(days=1):
            raise InvalidInput(N_("Log what happened, not plans: the date can't be in the future. "
                                  "Use `/mou milestone add` for things to come."))
        async with self.db.transaction():
            aid = await self.db.execute(
                "INSERT INTO mou_activity (guild_id, agreement_id, happened_on, text, author_id, created_ms) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, agreement_id, d.isoformat(), body, actor.id, to_ms(self.now())),
            )
            last = max(x for x in (a.last_activity_on, d) if x is not None)
            await self.db.execute(
                "UPDATE mou_agreements SET last_activity_on = ?, updated_ms = ? WHERE id = ?",
                (last.isoformat(), to_ms(self.now()), agreement_id),
            )
            await self._audit(
                guild_id, actor.id, "mou.log", agreement_id, {"on": d.isoformat(), "text": body}
            )
        return Activity(aid, d, body, actor.id)

    async def add_milestone(self, guild_id: int, actor: Actor, agreement_id: int, on: str,
                            description: str) -> Milestone:
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        if a.status in ("terminated", "expired"):
            raise InvalidInput(Msg(
                N_("Agreement #{id} is {status}; renew it before planning milestones."),
                id=agreement_id, status=a.status,
            ))
        desc = clean_text(
            " ".join(description.split()), MILESTONE_MAX, "milestone_description", required=True
        )
        d = parse_day(on, await self.today(guild_id))
        async with self.db.transaction():
            mid = await self.db.execute(
                "INSERT INTO mou_milestones (guild_id, agreement_id, due_on, description, created_ms, "
                "created_by) VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, agreement_id, d.isoformat(), desc, to_ms(self.now()), actor.id),
            )
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.milestone.add", agreement_id,
                              {"milestone": mid, "on": d.isoformat(), "description": desc})
            await self.replan(guild_id, agreement_id)
        return Milestone(mid, agreement_id, d, desc, None, None)

    async def done_milestone(
        self, guild_id: int, actor: Actor, agreement_id: int, milestone_id: int
    ) -> Milestone:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        r = await self.db.fetchone(
            "SELECT * FROM mou_milestones WHERE guild_id = ? AND agreement_id = ? AND id = ?",
            (guild_id, agreement_id, milestone_id),
        )
        if r is None:
            raise NotFound(Msg(
                N_("Agreement #{id} has no milestone #{milestone}. `/mou show` lists them."),
                id=agreement_id, milestone=milestone_id,
            ))
        m = _milestone(r)
        if m.done:
            raise InvalidInput(Msg(
                N_("Milestone #{milestone} was already marked done."),
                milestone=milestone_id,
            ))
        now = self.now()
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE mou_milestones SET done_ms = ?, done_by = ? WHERE id = ? AND done_ms IS NULL",
                (to_ms(now), actor.id, milestone_id),
            )
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.milestone.done", agreement_id,
                              {"milestone": milestone_id, "description": m.description})
            await self.replan(guild_id, agreement_id)
        return Milestone(m.id, agreement_id, m.due_on, m.description, now, actor.id)

    async def search(self, guild_id: int, query: str, limit: int = 25) -> list[tuple[int, str, str]]:
        """Autocomplete: (id, title, status) by id prefix or title words, most recently updated first."""
        q = query.strip().lstrip("#")
        if q.isdigit():
            rows = await self.db.fetchall(
                "SELECT id, title, status FROM mou_agreements WHERE guild_id = ? AND CAST(id AS TEXT) LIKE ? "
                "ORDER BY id LIMIT ?", (guild_id, q + "%", limit))
        else:
            rows = await self.db.fetchall(
                "SELECT id, title, status FROM mou_agreements WHERE guild_id = ? AND title LIKE ? "
                "ORDER BY status = 'terminated', updated_ms DESC LIMIT ?", (guild_id, f"%{q}%", limit))
        return [(r["id"], r["title"], r["status"]) for r in rows]


"""The best-practice library's state machine: submissions, decisions (conditional on the version the
moderator saw), edits, duplicates, archive, endorsements, adoptions, stats and export. One
transaction with an audit row and a revision row per write. No discord import.

`LibraryMixin` is one half of `PracticeService` (cogs/practices/service.py); search is the other."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bot import audit
from bot.clock import Clock, from_ms, to_ms
from bot.db import Database, placeholders
from bot.errors import Conflict, InvalidInput, Moment, NotFound, PermissionDenied, Phrase, Value
from bot.i18n import N_, Msg
from bot.retention import FORMER_MEMBER
from bot.scheduler import Scheduler
from cogs.practices.records import (
    _COLUMNS,
    ANNOUNCE_KIND,
    CITY_MAX,
    DECISIONS,
    DUPLICATE_REASON,
    INHABITED_REGIONS,
    NOTICE_GRACE,
    NOTICE_KIND,
    REASON_MAX,
    STATUS_LABELS,
    STATUSES,
    TOPICS,
    VISIBLE_TO,
    Counts,
    Draft,
    LibraryMap,
    MapPoint,
    Meta,
    Practice,
    Revision,
    Stats,
    _row_to_practice,
    announce_key,
    clean_text,
    decision_phrase,
    mask_sdgs,
    mask_topics,
    notice_key,
    region_of,
    sdgs_mask,
    title_similarity,
    topics_mask,
    validate_draft,
    validate_meta,
)
from cogs.practices.stemming import index_columns

log = logging.getLogger(__name__)

# What a refused decision did not do (a whole clause per action: each language words it its own way).
NOT_DONE = {
    "approve": N_("I did not approve it"),
    "request_changes": N_("I did not request changes on it"),
    "reject": N_("I did not reject it"),
    "close": N_("I did not close it"),
    "archive": N_("I did not archive it"),
    "edit": N_("I did not edit it"),
}

T = TypeVar("T")


async def _stemmed(d: Draft, language: str) -> tuple[str, str, str, str, str]:
    """The practice's indexed columns (stemming.index_columns), computed in a worker thread: a long
    practice is thousands of words."""
    return await asyncio.to_thread(index_columns, d.title, d.summary, d.approach, d.results, d.lessons,
                                   language)


class LibraryMixin:
    """Records and their curation. Needs `db`, `clock` and `scheduler` (set by PracticeService)."""

    db: Database
    clock: Clock
    scheduler: Scheduler | None
    _library_memo: dict[tuple[str, int], tuple[int, Any]]  # (what, guild) -> (library version, value)

    def _vocab_changed(self) -> None:
        """The library's text changed (the search vocabulary overrides this to go stale)."""

    async def get(self, guild_id: int, practice_id: int) -> Practice:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? AND id = ?", (guild_id, practice_id)
        )
        if row is None:
            raise NotFound(N_("There is no practice #{id} in this server."), id=Value(str(practice_id)))
        return _row_to_practice(row)

    async def counts(self, guild_id: int, practice_id: int) -> Counts:
        useful = await self.db.fetchval(
            "SELECT COUNT(*) FROM practice_endorsements WHERE guild_id = ? AND practice_id = ?",
            (guild_id, practice_id), 0,
        )
        rows = await self.db.fetchall(
            "SELECT city_name, country, COUNT(*) AS n FROM practice_adoptions WHERE guild_id = ? AND "
            "practice_id = ? GROUP BY city_name COLLATE NOCASE, country ORDER BY n DESC, city_name LIMIT 10",
            (guild_id, practice_id),
        )
        adopted = await self.db.fetchval(
            "SELECT COUNT(*) FROM practice_adoptions WHERE guild_id = ? AND practice_id = ?",
            (guild_id, practice_id), 0,
        )
        cities = tuple(f"{r['city_name']}, {r['country']}" if r["country"] else r["city_name"] for r in rows)
        return Counts(int(useful), int(adopted), cities)

    async def revisions(self, guild_id: int, practice_id: int, limit: int = 50) -> list[Revision]:
        rows = await self.db.fetchall(
            "SELECT actor_id, action, at_ms, changes FROM practice_revisions WHERE guild_id = ? AND "
            "practice_id = ? ORDER BY id LIMIT ?",
            (guild_id, practice_id, limit),
        )
        return [
            Revision(r["actor_id"], r["action"], from_ms(r["at_ms"]), json.loads(r["changes"])) for r in rows
        ]

    async def queue(self, guild_id: int, limit: int = 200) -> list[Practice]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? AND status IN ('pending', "
            "'changes_requested') ORDER BY created_ms, id LIMIT ?",
            (guild_id, limit),
        )
        return [_row_to_practice(r) for r in rows]

    async def mine(self, guild_id: int, user_id: int, limit: int = 100) -> list[Practice]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id "
            "= ? AND submitter_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, user_id, limit),
        )
        return [_row_to_practice(r) for r in rows]

    async def similar(
        self,
        guild_id: int,
        title: str,
        *,
        city_id: int | None,
        city_name: str,
        exclude_id: int | None = None,
        threshold: float = 0.5,
        viewer_id: int | None = None,
    ) -> list[Practice]:
        """Practices of the same city whose title looks like `title` (possible duplicates).

        `viewer_id`: the member who will read them, when not a moderator: practices still under
        review are listed only if they are theirs (see VISIBLE_TO)."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? "
            "AND ((? IS NOT NULL AND city_id = ?) OR city_name = ? COLLATE NOCASE) "
            "AND status IN ('pending', 'changes_requested', 'approved') AND id IS NOT ? "
            f"{VISIBLE_TO if viewer_id is not None else ''}ORDER BY id LIMIT 500",
            (
                guild_id,
                city_id,
                city_id,
                city_name,
                exclude_id,
                *((viewer_id,) if viewer_id is not None else ()),
            ),
        )
        scored = [(title_similarity(title, r["title"]), _row_to_practice(r)) for r in rows]
        return [p for s, p in sorted(scored, key=lambda x: -x[0]) if s >= threshold][:5]

    async def autocomplete(
        self, guild_id: int, current: str, *, statuses: Sequence[str] | None = None, limit: int = 25,
        viewer_id: int | None = None,
    ) -> list[tuple[int, str, str]]:
        """(id, title, status) matching an id or words of the title, newest first.

        `viewer_id`: the member who will read them, when not a moderator: only approved practices
        and their own (see VISIBLE_TO)."""
        statuses = tuple(statuses or STATUSES)
        cur = current.strip().lstrip("#")
        visible = VISIBLE_TO if viewer_id is not None else ""
        viewer = (viewer_id,) if viewer_id is not None else ()
        if cur.isdigit():
            rows = await self.db.fetchall(
                "SELECT id, title, status FROM practices WHERE guild_id = ? AND status IN "
                f"({placeholders(len(statuses))}) AND CAST(id AS "
                f"TEXT) LIKE ? {visible}ORDER BY id DESC LIMIT ?",
                (guild_id, *statuses, cur + "%", *viewer, limit),
            )
        else:
            like = "%" + cur.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = await self.db.fetchall(
                "SELECT id, title, status FROM practices WHERE guild_id = ? AND status IN "
                f"({placeholders(len(statuses))}) AND title LIKE "
                f"? ESCAPE '\\' {visible}ORDER BY id DESC LIMIT ?",
                (guild_id, *statuses, like, *viewer, limit),
            )
        return [(r["id"], r["title"], r["status"]) for r in rows]

    async def known_cities(self, guild_id: int, current: str, limit: int = 25) -> list[str]:
        like = current.strip().replace("%", "").replace("_", "") + "%"
        rows = await self.db.fetchall(
            "SELECT city_name, COUNT(*) AS n FROM practices WHERE guild_id = ? AND city_name LIKE ? "
            "GROUP BY city_name COLLATE NOCASE ORDER BY n DESC LIMIT ?",
            (guild_id, like, limit),
        )
        return [r["city_name"] for r in rows]

    async def known_networks(self, guild_id: int, current: str, limit: int = 25) -> list[str]:
        like = "%" + current.strip().replace("%", "").replace("_", "") + "%"
        rows = await self.db.fetchall(
            "SELECT network_name, COUNT(*) AS n FROM practices WHERE guild_id = ? AND network_name IS NOT "
            "NULL AND network_name LIKE ? GROUP BY network_name COLLATE NOCASE ORDER BY n DESC LIMIT ?",
            (guild_id, like, limit),
        )
        return [r["network_name"] for r in rows]

    async def approved_count_for_city(self, guild_id: int, city_id: int | None, city_name: str) -> int:
        """Approved practices of a city (by id when known, else by name) — used by the directory."""
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM practices WHERE guild_id = ? AND status = 'approved' "
                "AND ((? IS NOT NULL AND city_id = ?) OR (city_name = ? COLLATE NOCASE "
                "AND (? IS NULL OR city_id IS NULL)))",
                (guild_id, city_id, city_id, city_name, city_id), 0,
            )
        )

    # -- writes ------------------------------------------------------------------------------
    async def _revision(
        self,
        guild_id: int,
        practice_id: int,
        actor_id: int | None,
        action: str,
        changes: dict[str, Any],
        now: int,
    ) -> None:
        await self.db.execute(
            "INSERT INTO practice_revisions (guild_id, practice_id, actor_id, action, at_ms, changes) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, practice_id, actor_id, action, now,
             json.dumps(changes, ensure_ascii=False, default=str, separators=(",", ":"))),
        )

    async def submit(self, guild_id: int, submitter_id: int, draft: Draft, meta: Meta) -> Practice:
        now_dt = self.clock()
        d = validate_draft(draft)
        m = validate_meta(meta, now=now_dt)
        now = to_ms(now_dt)
        ix = await _stemmed(d, m.language)
        async with self.db.transaction():
            pid = await self.db.execute(
                "INSERT INTO practices (guild_id, status, topics_mask, sdgs_mask, city_id, network_id, "
                "city_name, country, network_name, submitter_id, contact_user_id, contact_text, "
                "year_started, links, language, created_ms, updated_ms, title, summary, approach, results, "
                "lessons, ix_title, ix_summary, ix_approach, ix_results, ix_lessons) "
                "VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?)",
                (
                    guild_id,
                    topics_mask(m.topics),
                    sdgs_mask(m.sdgs),
                    m.city_id,
                    m.network_id,
                    m.city_name,
                    m.country,
                    m.network_name,
                    submitter_id,
                    m.contact_user_id,
                    m.contact_text,
                    m.year_started,
                    json.dumps(list(m.links)),
                    m.language,
                    now,
                    now,
                    d.title,
                    d.summary,
                    d.approach,
                    d.results,
                    d.lessons,
                    *ix,
                ),
            )
            await self._revision(guild_id, pid, submitter_id, "submit", {"title": d.title}, now)
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=submitter_id,
                action="practice.submit",
                entity="practice",
                entity_id=pid,
                changes={"title": d.title, "city": m.city_name, "topics": list(m.topics)},
                at=now_dt,
            )
        return await self.get(guild_id, pid)

    async def _conflict(self, guild_id: int, practice_id: int, attempted: str) -> Conflict:
        p = await self.get(guild_id, practice_id)
        if p.status == "pending" and (p.decided_by is None or (p.decided_at and p.updated_at > p.decided_at)):
            # still open, but not the version the moderator looked at: it was edited meanwhile
            return Conflict(
                N_("Practice #{id} was edited {edited}, after the version you saw, so {not_done}. "
                   "Read the latest version (`/practice show id:{id}`) and decide again."),
                id=Value(str(p.id)), edited=Moment(p.updated_at), not_done=Phrase(NOT_DONE[attempted]),
            )
        phrase, parts = decision_phrase(p)
        return Conflict(
            N_("Practice #{id} was already {phrase}, so {not_done}. "
               "Reload it (`/practice show id:{id}`) and decide again if you still want to."),
            id=Value(str(p.id)), phrase=Phrase.of(phrase, **parts), not_done=Phrase(NOT_DONE[attempted]),
        )

    async def decide(
        self, guild_id: int, practice_id: int, *, actor_id: int, action: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> Practice:
        """approve / request_changes / reject an open practice (moderators; the cog checks)."""
        if action not in DECISIONS:
            raise InvalidInput(N_("Unknown decision “{action}”."), action=Value(action[:40]))
        new_status, needs_reason, audit_action = DECISIONS[action]
        reason = clean_text(reason) or None
        if needs_reason and not reason:
            raise InvalidInput(N_("Give a reason: the submitter will read it."))
        if reason and len(reason) > REASON_MAX:
            raise InvalidInput(N_("The reason is {n} characters; the limit is {limit}."),
                               n=Value(str(len(reason))), limit=Value(str(REASON_MAX)))
        verb = action  # a key of NOT_DONE
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            current = await self.get(guild_id, practice_id)
            version = current.version if expected_version is None else expected_version
            n = await self.db.execute(
                "UPDATE practices SET status = ?, decided_by = ?, decided_ms = ?, reason = ?, updated_ms = "
                "?, version = version + 1, approved_ms = CASE WHEN ? = 'approved' THEN ? ELSE approved_ms "
                "END WHERE guild_id = ? AND id = ? AND version = "
                "? AND status IN ('pending', 'changes_requested')",
                (new_status, actor_id, now, reason, now, new_status, now, guild_id, practice_id, version),
            )
            if n != 1:
                raise await self._conflict(guild_id, practice_id, verb)
            await self._revision(
                guild_id,
                practice_id,
                actor_id,
                action,
                {"status": [current.status, new_status], "reason": reason},
                now,
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action=audit_action,
                entity="practice",
                entity_id=practice_id,
                changes={"status": [current.status, new_status], "reason": reason},
                at=now_dt,
            )
            await self._enqueue_notices(guild_id, practice_id, version + 1, announce=new_status == "approved",
                                        notify=current.submitter_id != FORMER_MEMBER)
        if new_status == "approved":
            self._vocab_changed()
        return await self.get(guild_id, practice_id)

    async def _enqueue_notices(self, guild_id: int, practice_id: int, version: int, *, announce: bool,
                               notify: bool = True) -> None:
        """Inside the decision's transaction: the submitter's notice (none for a former member, who asked to
        be
        forgotten), and the announcement of an approval."""
        if self.scheduler is None:
            return
        due = self.scheduler.clock() + NOTICE_GRACE
        payload = {"practice": practice_id, "version": version}
        if notify:
            await self.scheduler.schedule(NOTICE_KIND, due, guild_id=guild_id,
                                          dedupe_key=notice_key(practice_id, version), payload=payload)
        if announce:
            await self.scheduler.schedule(ANNOUNCE_KIND, due, guild_id=guild_id,
                                          dedupe_key=announce_key(practice_id, version), payload=payload)

    async def mark_duplicate(
        self,
        guild_id: int,
        practice_id: int,
        of_id: int,
        *,
        actor_id: int,
        expected_version: int | None = None,
    ) -> Practice:
        if practice_id == of_id:
            raise InvalidInput(N_("A practice can't be a duplicate of itself."))
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            current = await self.get(guild_id, practice_id)
            original = await self.get(guild_id, of_id)
            if original.status == "rejected":
                raise InvalidInput(
                    N_("#{id} is rejected (itself a duplicate); point to the practice that stays open.")
                    if original.duplicate_of
                    else N_("#{id} is rejected; point to the practice that stays open."),
                    id=Value(str(of_id)),
                )
            version = current.version if expected_version is None else expected_version
            # stored in English (exports, the audit log); shown in the reader's language (embeds.shown_reason)
            reason = str(Msg(DUPLICATE_REASON, id=of_id, title=original.title))[:REASON_MAX]
            n = await self.db.execute(
                "UPDATE practices SET status = 'rejected', duplicate_of = ?, decided_by = ?, decided_ms = ?, "
                "reason = ?, updated_ms = ?, version = version + 1 "
                "WHERE guild_id = ? AND id = ? AND version = ? AND "
                "status IN ('pending', 'changes_requested', 'approved')",
                (of_id, actor_id, now, reason, now, guild_id, practice_id, version),
            )
            if n != 1:
                raise await self._conflict(guild_id, practice_id, "close")
            await self._revision(
                guild_id, practice_id, actor_id, "duplicate", {"status": [current.status, "rejected"],
                                                               "duplicate_of": of_id}, now,
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action="practice.duplicate",
                entity="practice",
                entity_id=practice_id,
                changes={"status": [current.status, "rejected"], "duplicate_of": of_id},
                at=now_dt,
            )
            await self._enqueue_notices(guild_id, practice_id, version + 1, announce=False,
                                        notify=current.submitter_id != FORMER_MEMBER)
        self._vocab_changed()
        return await self.get(guild_id, practice_id)

    async def archive(
        self, guild_id: int, practice_id: int, *, actor_id: int, expected_version: int | None = None
    ) -> Practice:
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            current = await self.get(guild_id, practice_id)
            if current.status != "approved":
                if current.status == "archived":
                    raise await self._conflict(guild_id, practice_id, "archive")
                raise InvalidInput(
                    N_("Only approved practices can be archived; #{id} is {status}."),
                    id=Value(str(practice_id)), status=Phrase(STATUS_LABELS[current.status]),
                )
            version = current.version if expected_version is None else expected_version
            n = await self.db.execute(
                "UPDATE practices SET status = 'archived', decided_by = ?, decided_ms = ?, updated_ms = ?, "
                "version = version + 1 WHERE guild_id = ? AND id = ? AND version = ? AND status = 'approved'",
                (actor_id, now, now, guild_id, practice_id, version),
            )
            if n != 1:
                raise await self._conflict(guild_id, practice_id, "archive")
            await self._revision(
                guild_id, practice_id, actor_id, "archive", {"status": ["approved", "archived"]}, now
            )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="practice.archive", entity="practice",
                entity_id=practice_id, changes={"status": ["approved", "archived"]}, at=now_dt,
            )
        self._vocab_changed()
        return await self.get(guild_id, practice_id)

    def check_can_edit(self, p: Practice, actor_id: int, *, is_moderator: bool) -> None:
        if is_moderator:
            return
        if p.submitter_id != actor_id:
            raise PermissionDenied(N_("Only the submitter or a moderator can edit this practice."))
        if not p.is_open:
            raise PermissionDenied(
                N_("This practice is {status}; only moderators can edit it now. "
                   "Ask one if something needs fixing."),
                status=Phrase(STATUS_LABELS[p.status]),
            )

    async def edit(
        self,
        guild_id: int,
        practice_id: int,
        *,
        actor_id: int,
        is_moderator: bool,
        draft: Draft | None = None,
        meta: Meta | None = None,
        expected_version: int | None = None,
    ) -> tuple[Practice, bool]:
        """Apply new texts and/or metadata. Returns (practice, resubmitted) where resubmitted is
        True when a `changes_requested` practice went back to `pending`."""
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            p = await self.get(guild_id, practice_id)
            self.check_can_edit(p, actor_id, is_moderator=is_moderator)
            if expected_version is not None and expected_version != p.version:
                phrase, parts = decision_phrase(p)
                raise Conflict(
                    N_("Practice #{id} changed while you were editing it (it is now {phrase}). "
                       "Run `/practice edit` again to start from the latest version."),
                    id=Value(str(p.id)), phrase=Phrase.of(phrase, **parts),
                )
            d = validate_draft(draft) if draft is not None else p.draft
            m = validate_meta(meta, now=now_dt) if meta is not None else None
            changes: dict[str, list[Any]] = {}
            for name in ("title", "summary", "approach", "results", "lessons"):
                old, new = getattr(p, name), getattr(d, name)
                if old != new:
                    changes[name] = [old, new]
            new_vals: dict[str, Any] = {}
            if m is not None:
                for name in (
                    "city_id",
                    "city_name",
                    "country",
                    "topics",
                    "sdgs",
                    "network_id",
                    "network_name",
                    "year_started",
                    "contact_user_id",
                    "contact_text",
                    "links",
                    "language",
                ):
                    old, new = getattr(p, name), getattr(m, name)
                    if old != new:
                        changes[name] = [list(old) if isinstance(old, tuple) else old,
                                         list(new) if isinstance(new, tuple) else new]
                    new_vals[name] = new
            resubmitted = p.status == "changes_requested"
            if not changes and not resubmitted:
                raise InvalidInput(N_("Nothing changed."))
            status = "pending" if resubmitted else p.status
            if resubmitted:
                changes["status"] = [p.status, status]
            mm = m or Meta(
                city_name=p.city_name,
                topics=p.topics,
                city_id=p.city_id,
                country=p.country,
                sdgs=p.sdgs,
                network_id=p.network_id,
                network_name=p.network_name,
                year_started=p.year_started,
                contact_user_id=p.contact_user_id,
                contact_text=p.contact_text,
                links=p.links,
                language=p.language,
            )
            ix = await _stemmed(d, mm.language)
            n = await self.db.execute(
                "UPDATE practices SET title = ?, summary = ?, approach = ?, results = ?, lessons = ?, "
                "ix_title = ?, ix_summary = ?, ix_approach = ?, ix_results = ?, ix_lessons = ?, "
                "city_id = ?, city_name = ?, country = ?, topics_mask = ?, sdgs_mask = ?, network_id = ?, "
                "network_name = ?, year_started = ?, contact_user_id = ?, contact_text = ?, links = ?, "
                "language = ?, status = ?, updated_ms = ?, version = "
                "version + 1 WHERE guild_id = ? AND id = ? AND version = ?",
                (
                    d.title,
                    d.summary,
                    d.approach,
                    d.results,
                    d.lessons,
                    *ix,
                    mm.city_id,
                    mm.city_name,
                    mm.country,
                    topics_mask(mm.topics),
                    sdgs_mask(mm.sdgs),
                    mm.network_id,
                    mm.network_name,
                    mm.year_started,
                    mm.contact_user_id,
                    mm.contact_text,
                    json.dumps(list(mm.links)),
                    mm.language,
                    status,
                    now,
                    guild_id,
                    practice_id,
                    p.version,
                ),
            )
            if n != 1:  # cannot happen inside the transaction, but never overwrite silently
                raise await self._conflict(guild_id, practice_id, "edit")
            await self._revision(guild_id, practice_id, actor_id, "edit", changes, now)
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="practice.edit", entity="practice",
                entity_id=practice_id, changes={k: v for k, v in changes.items()}, at=now_dt,
            )
        if p.status == "approved":
            self._vocab_changed()
        return await self.get(guild_id, practice_id), resubmitted

    async def set_review_message(
        self, guild_id: int, practice_id: int, channel_id: int, message_id: int
    ) -> None:
        await self.db.execute(
            "UPDATE practices SET review_channel_id = ?, review_message_id = ? WHERE guild_id = ? AND id = ?",
            (channel_id, message_id, guild_id, practice_id),
        )

    async def set_announcement(
        self, guild_id: int, practice_id: int, channel_id: int, message_id: int, thread_id: int | None
    ) -> None:
        await self.db.execute(
            "UPDATE practices SET announce_channel_id = ?, announce_message_id = ?, thread_id = ? "
            "WHERE guild_id = ? AND id = ?",
            (channel_id, message_id, thread_id, guild_id, practice_id),
        )

    async def require_approved(self, guild_id: int, practice_id: int) -> Practice:
        p = await self.get(guild_id, practice_id)
        if p.status != "approved":
            raise InvalidInput(
                N_("Practice #{id} is {status}; only approved practices take votes."),
                id=Value(str(p.id)), status=Phrase(STATUS_LABELS[p.status]),
            )
        return p

    async def endorse(self, guild_id: int, practice_id: int, user_id: int) -> tuple[bool, Counts]:
        """Mark useful; (False, counts) when this member already did."""
        now_dt = self.clock()
        async with self.db.transaction():
            await self.require_approved(guild_id, practice_id)
            await self.db.execute(
                "INSERT INTO practice_endorsements (guild_id, practice_id, user_id, at_ms) VALUES (?, ?, ?, "
                "?) ON CONFLICT (practice_id, user_id) DO NOTHING",
                (guild_id, practice_id, user_id, to_ms(now_dt)),
            )
            added = await self.db.fetchval("SELECT changes()") == 1
            if added:
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=user_id, action="practice.useful", entity="practice",
                    entity_id=practice_id, at=now_dt,
                )
        return added, await self.counts(guild_id, practice_id)

    async def adopt(
        self, guild_id: int, practice_id: int, user_id: int, *, city_id: int | None, city_name: str,
        country: str | None,
    ) -> tuple[bool, Counts]:
        """Record that this member's city adopted the practice; (False, counts) when already recorded."""
        city = " ".join(clean_text(city_name).split())
        if not city:
            raise InvalidInput(N_("Tell me which city adopted it."))
        if len(city) > CITY_MAX:
            raise InvalidInput(N_("The city name is too long (limit {limit} characters)."),
                               limit=Value(str(CITY_MAX)))
        now_dt = self.clock()
        async with self.db.transaction():
            await self.require_approved(guild_id, practice_id)
            await self.db.execute(
                "INSERT INTO practice_adoptions (guild_id, practice_id, user_id, city_id, city_name, "
                "country, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (practice_id, user_id) DO NOTHING",
                (
                    guild_id,
                    practice_id,
                    user_id,
                    city_id,
                    city,
                    (country or "").upper() or None,
                    to_ms(now_dt),
                ),
            )
            added = await self.db.fetchval("SELECT changes()") == 1
            if added:
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=user_id, action="practice.adopt", entity="practice",
                    entity_id=practice_id, changes={"city": city}, at=now_dt,
                )
        return added, await self.counts(guild_id, practice_id)

    async def adoption_of(self, guild_id: int, practice_id: int, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT city_name FROM practice_adoptions WHERE guild_id = ? AND practice_id = ? AND user_id = ?",
            (guild_id, practice_id, user_id),
        )
        return row["city_name"] if row else None

    # -- stats and export -------------------------------------------------------------------
    async def library_version(self, guild_id: int) -> int:
        """A counter the database bumps on every change to the server's practices or adoptions
        (data/migrations/013-practice-library-version.sql): one row, read in microseconds."""
        return int(await self.db.fetchval(
            "SELECT version FROM practice_library_versions WHERE guild_id = ?", (guild_id,), 0) or 0)

    async def _current(self, what: str, guild_id: int, compute: Callable[[int], Awaitable[T]]) -> T:
        """`compute(guild_id)`, reused while the library's version is unchanged (the kept counts are a few
        hundred rows to read and sum; asking again for the same counts takes one indexed row)."""
        version = await self.library_version(guild_id)  # read first: a change meanwhile recomputes next time
        memo = self._library_memo
        hit = memo.get((what, guild_id))
        if hit is not None and hit[0] == version:
            value: T = hit[1]
            return value
        value = await compute(guild_id)
        memo[(what, guild_id)] = (version, value)
        return value

    async def stats(self, guild_id: int) -> Stats:
        return await self._current("stats", guild_id, self._stats)

    async def library_map(self, guild_id: int) -> LibraryMap:
        return await self._current("map", guild_id, self._library_map)

    async def _counts(self, guild_id: int, dims: tuple[str, ...]) -> dict[str, list[tuple[Any, int]]]:
        """The server's kept counts (data/migrations/014-practice-library-counts.sql) of some dimensions,
        as {dimension: [(item, n), …]}: a few hundred indexed rows, whatever the size of the library."""
        marks = ", ".join("?" * len(dims))
        rows = await self.db.fetchall(
            f"SELECT dim, item, n FROM practice_library_counts WHERE guild_id = ? AND dim IN ({marks}) "
            "AND n > 0", (guild_id, *dims))
        out: dict[str, list[tuple[Any, int]]] = {d: [] for d in dims}
        for r in rows:
            out[r["dim"]].append((r["item"], int(r["n"])))
        return out

    async def _stats(self, guild_id: int) -> Stats:
        # Read from the counts the database keeps as the library changes (one row per status, topic set,
        # SDG set and country), not counted over the practices (100,000 at the benchmark size).
        counts = await self._counts(guild_id, ("status", "topics", "sdgs", "country"))
        status_n = dict(counts["status"])
        open_count = status_n.get("pending", 0) + status_n.get("changes_requested", 0)
        topic_n = dict.fromkeys(TOPICS, 0)
        sdg_n = dict.fromkeys(range(1, 18), 0)
        country_n: dict[str, int] = {}
        region_n: dict[str, int] = {}
        total = sum(n for _mask, n in counts["topics"])  # every practice has at least one topic
        for mask, n in counts["topics"]:
            for t in mask_topics(mask):
                topic_n[t] += n
        for mask, n in counts["sdgs"]:
            for s in mask_sdgs(mask):
                sdg_n[s] += n
        for code, n in counts["country"]:  # '' stands for an unknown country
            cc = code or "??"
            country_n[cc] = country_n.get(cc, 0) + n
            reg = region_of(code or None)
            region_n[reg] = region_n.get(reg, 0) + n
        inhabited = INHABITED_REGIONS
        return Stats(
            total=total, open=int(open_count),
            by_topic=tuple(sorted(topic_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_sdg=tuple(sorted(sdg_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_country=tuple(sorted(country_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_region=tuple(sorted(region_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            missing_topics=tuple(t for t, n in topic_n.items() if n == 0),
            missing_regions=tuple(r for r in inhabited if region_n.get(r, 0) == 0),
        )

    async def _library_map(self, guild_id: int) -> LibraryMap:
        """Cities with approved practices, and cities that adopted one, with their counts (kept by the
        database as the library changes; the cities' coordinates joined as read)."""
        sql = ("SELECT c.name, c.latitude, c.longitude, k.n FROM practice_library_counts k "
               "JOIN cities c ON c.id = k.item WHERE k.guild_id = ? AND k.dim = ? AND k.n > 0 "
               "AND c.latitude IS NOT NULL AND c.longitude IS NOT NULL ORDER BY k.n DESC, c.id")
        rows = await self.db.fetchall(sql, (guild_id, "city"))
        adopted = await self.db.fetchall(sql, (guild_id, "adopted"))
        placed = sum(int(r["n"]) for r in rows)
        total = int(await self.db.fetchval(
            "SELECT n FROM practice_library_counts WHERE guild_id = ? AND dim = 'status' "
            "AND item = 'approved'", (guild_id,), 0) or 0)

        def points(found: Sequence[Any]) -> tuple[MapPoint, ...]:
            return tuple(MapPoint(r["name"], float(r["latitude"]), float(r["longitude"]), int(r["n"]))
                         for r in found)

        return LibraryMap(points(rows), points(adopted), total - placed)

    async def export_rows(self, guild_id: int) -> list[dict[str, Any]]:
        """The approved library, one dict per practice, topics and SDGs as lists."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS}, "
            "(SELECT COUNT(*) FROM practice_endorsements e WHERE e.practice_id = practices.id) AS useful, "
            "(SELECT COUNT(*) FROM practice_adoptions a WHERE a.practice_id = practices.id) AS adopted "
            "FROM practices WHERE guild_id = ? AND status = 'approved' ORDER BY id",
            (guild_id,),
        )
        out: list[dict[str, Any]] = []
        for r in rows:
            p = _row_to_practice(r)
            out.append(
                {
                    "id": p.id,
                    "title": p.title,
                    "summary": p.summary,
                    "approach": p.approach,
                    "results": p.results,
                    "lessons": p.lessons,
                    "city": p.city_name,
                    "city_id": p.city_id,
                    "country": p.country,
                    "topics": list(p.topics),
                    "sdgs": list(p.sdgs),
                    "network": p.network_name,
                    "network_id": p.network_id,
                    "year_started": p.year_started,
                    "contact_user_id": p.contact_user_id,
                    "contact": p.contact_text,
                    "links": list(p.links),
                    "language": p.language,
                    "submitter_id": p.submitter_id,  # the writer shows FORMER_MEMBER as "a former member"
                    "approved_at": p.approved_at.isoformat() if p.approved_at else None,
                    "useful": int(r["useful"]),
                    "adopted": int(r["adopted"]),
                }
            )
        return out

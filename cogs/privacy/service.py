"""/privacy forget-me: a member takes their data back from one server (rules + SQL, no discord).

What happens, in ONE transaction (all or nothing):

* Rows that are the member's own are deleted: every row of this server in a table with a `user_id`
  column (profile, RSVPs, reminder preferences, agreement ownerships, "useful" and "adopted" marks, and
  whatever per-member table a later feature adds; found from the schema).
* Practices they submitted that never reached the library (pending, changes requested, rejected) are
  deleted. What they shared with the library (approved or archived practices) stays, attributed to
  `FORMER_MEMBER`, which every rendering shows as "a former member"; a moderator can archive it.
* Columns that name them on other rows: the ones that must name a member (submitter, roundtable host,
  note author, revision and audit actor) name `FORMER_MEMBER`; the optional ones ("created by",
  "verified by", "added by", the practice contact…) become NULL. `MEMBER_COLUMNS` lists them;
  tests/test_privacy.py fails when a migration adds a member column this list does not know.
* Jobs whose payload or key names them (a DM addressed to them) are deleted, pending or finished.
* The audit log keeps every row but drops the values: rows they made, and rows about their profile,
  keep the action and the names of the fields, with "[removed]" for each value and `FORMER_MEMBER`
  as the actor; other rows that name them (an owner added, a waitlist promotion) name
  `FORMER_MEMBER` instead. One new row (action `member.forget`, actor `FORMER_MEMBER`) records that
  a member was forgotten, with counts only.

Other servers are not touched: every statement filters on the guild.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot import audit
from bot.db import Database
from bot.retention import FORMER_MEMBER
from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

# (table, column) -> what the column becomes when the member it names is forgotten.
# "former": it must name a member, so it names FORMER_MEMBER; "null": it is optional, so it is cleared.
# Tables with a `user_id` column are the member's own rows and are deleted (see module docstring).
MEMBER_COLUMNS: dict[tuple[str, str], str] = {
    ("audit", "actor_id"): "former",  # rewritten by bot.audit.forget_member, with the values
    ("practices", "submitter_id"): "former",
    ("practices", "contact_user_id"): "null",
    ("practices", "decided_by"): "null",
    ("practice_revisions", "actor_id"): "former",
    ("roundtables", "host_id"): "former",
    ("roundtable_notes", "author_id"): "former",
    ("profiles", "verified_by"): "null",
    ("guild_settings", "updated_by"): "null",
    ("cities", "created_by"): "null",
    ("networks", "created_by"): "null",
    ("memberships", "created_by"): "null",
    ("mou_agreements", "created_by"): "null",
    ("mou_terms", "created_by"): "null",
    ("mou_owners", "added_by"): "null",
    ("mou_milestones", "created_by"): "null",
    ("mou_milestones", "done_by"): "null",
    ("mou_activity", "author_id"): "null",
}

# Practice statuses that are part of the library (kept, attributed to a former member).
KEPT_PRACTICE_STATUSES = ("approved", "archived")

ProfileRemover = Callable[[int, int], Awaitable[bool]]


@dataclass(slots=True)
class ForgetResult:
    deleted: dict[str, int] = field(default_factory=dict)  # table -> own rows deleted
    practices_kept: int = 0  # in the library, now "a former member"'s
    submissions_deleted: int = 0  # never reached the library
    attributions: int = 0  # other rows that named them
    jobs_cancelled: int = 0  # jobs addressed to them, deleted
    audit_rows: int = 0

    @property
    def own_rows(self) -> int:
        return sum(self.deleted.values())


@dataclass(frozen=True, slots=True)
class Preview:
    """What forget-me would change, for the confirmation prompt."""

    profile: bool
    rsvps: int
    ownerships: int
    reminder_prefs: bool
    practices_kept: int
    submissions: int


async def _member_tables(db: Database) -> list[str]:
    """Tables of server content that hold one member's own rows (a guild_id and a user_id column)."""
    out = []
    for (name,) in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"):
        cols = {r[0] for r in await db.fetchall("SELECT name FROM pragma_table_info(?)", (name,))}
        if {"guild_id", "user_id"} <= cols:
            out.append(name)
    return out


class PrivacyService:
    def __init__(self, db: Database, scheduler: Scheduler) -> None:
        self.db = db
        self.scheduler = scheduler

    async def preview(self, guild_id: int, user_id: int) -> Preview:
        async def count(sql: str, *params: object) -> int:
            return int(await self.db.fetchval(sql, (guild_id, user_id, *params), default=0))

        kept = ", ".join(f"'{s}'" for s in KEPT_PRACTICE_STATUSES)
        return Preview(
            profile=bool(await count("SELECT COUNT(*) FROM profiles WHERE guild_id = ? AND user_id = ?")),
            rsvps=await count("SELECT COUNT(*) FROM roundtable_rsvps WHERE guild_id = ? AND user_id = ?"),
            ownerships=await count("SELECT COUNT(*) FROM mou_owners WHERE guild_id = ? AND user_id = ?"),
            reminder_prefs=bool(
                await count(
                    "SELECT COUNT(*) FROM roundtable_reminder_prefs WHERE guild_id = ? AND user_id = ?"
                )
            ),
            practices_kept=await count(
                "SELECT COUNT(*) FROM practices WHERE guild_id = "
                f"? AND submitter_id = ? AND status IN ({kept})"
            ),
            submissions=await count(
                f"SELECT COUNT(*) FROM practices WHERE guild_id = ? AND submitter_id = ? "
                f"AND status NOT IN ({kept})"
            ),
        )

    async def forget(self, guild_id: int, user_id: int, *,
                     remove_profile: ProfileRemover | None = None) -> ForgetResult:
        """Forget one member in one server (see the module docstring). `remove_profile(guild, user)` lets
        the directory delete the profile itself (its caches follow); it runs inside the same transaction."""
        if user_id == FORMER_MEMBER:
            raise ValueError("not a member id")
        res = ForgetResult()
        kept = ", ".join(f"'{s}'" for s in KEPT_PRACTICE_STATUSES)
        async with self.db.transaction():
            if remove_profile is not None and await remove_profile(guild_id, user_id):
                res.deleted["profiles"] = 1
            # Submissions that never reached the library go; the library keeps the rest.
            res.submissions_deleted = await self.db.execute(
                f"DELETE FROM practices WHERE guild_id = ? AND submitter_id = ? AND status NOT IN ({kept})",
                (guild_id, user_id))
            res.practices_kept = await self.db.execute(
                "UPDATE practices SET submitter_id = ? WHERE guild_id = ? AND submitter_id = ?",
                (FORMER_MEMBER, guild_id, user_id))
            for table in await _member_tables(self.db):
                # Table names come from the schema, never from user input.
                n = await self.db.execute(
                    f'DELETE FROM "{table}" WHERE guild_id = ? AND user_id = ?', (guild_id, user_id))
                if n:
                    res.deleted[table] = res.deleted.get(table, 0) + n
            existing = await self._existing_columns()
            for (table, column), mode in MEMBER_COLUMNS.items():
                if (table, column) not in existing or table == "audit":
                    continue
                new = FORMER_MEMBER if mode == "former" else None
                res.attributions += await self.db.execute(
                    f'UPDATE "{table}" SET "{column}" = ? WHERE guild_id = ? AND "{column}" = ?',
                    (new, guild_id, user_id))
            # Jobs that name them (a DM addressed to them, pending or already sent) are deleted; a job being
            # sent at this very moment is left to finish.
            res.jobs_cancelled = await self.db.execute(
                "DELETE FROM jobs WHERE guild_id = ? AND status != 'running' AND (instr(dedupe_key, ?) > 0 "
                "OR (instr(payload, ?) > 0 AND EXISTS "
                "(SELECT 1 FROM json_tree(jobs.payload) AS t WHERE t.atom IN (?, ?))))",
                (guild_id, str(user_id), str(user_id), user_id, str(user_id)),
            )
            res.audit_rows = await audit.forget_member(self.db, guild_id, user_id, former=FORMER_MEMBER)
            counts = {
                "own_rows": res.own_rows, "practices_kept": res.practices_kept,
                "submissions_deleted": res.submissions_deleted, "jobs_cancelled": res.jobs_cancelled,
                "audit_rows_scrubbed": res.audit_rows,
            }
            await audit.record(self.db, guild_id=guild_id, actor_id=FORMER_MEMBER, action="member.forget",
                               entity="member", entity_id=None, changes=counts)
        log.info("guild %s: a member was forgotten (%s)", guild_id, json.dumps(counts))
        return res

    async def _existing_columns(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for table in {t for t, _ in MEMBER_COLUMNS}:
            for (col,) in await self.db.fetchall("SELECT name FROM pragma_table_info(?)", (table,)):
                out.add((table, col))
        return out

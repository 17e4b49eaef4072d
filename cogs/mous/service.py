"""MOU tracker service: agreements, terms, parties, owners, milestones, activity, reminders.

No discord import. Every user action is one transaction with an audit row (entity
`agreement`, entity_id = the agreement id; that audit trail is the agreement's history).
Reminder jobs are re-planned inside the same transaction: the desired plan is computed by
`planning.plan_agreement` and diffed against the scheduler's pending jobs, so exactly the
affected jobs are cancelled or (re)scheduled.

Concurrent edits: each update writes only the fields it was given (`UPDATE … SET f = ?` for
those fields alone), so two owners editing different fields both keep their change; on the
same field the last writer wins. The audit log keeps both.

This module is the facade: `MouService` joins the parts, one sub-domain per module —
  records.py     limits, labels, settings validators, the dataclasses, parsing, row mapping;
  agreements.py  reads, edit rights and every write to an agreement (AgreementsMixin);
  owners.py      owners and the new-owner notice (OwnersMixin);
  reminders.py   reminder planning, automatic status changes, the digest job (RemindersMixin);
  exports.py     the CSV/JSON export (ExportsMixin);
  planning.py    the pure reminder plan.
It keeps the context (settings, clock, today) and the links to the directory. Every name those
modules define for callers is importable from here as before.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from bot.contracts import AgreementLine
from bot.db import Database
from bot.errors import InvalidInput
from bot.i18n import N_, Msg
from bot.places import Places
from bot.scheduler import Scheduler
from cogs.mous import planning as P
from cogs.mous.agreements import AgreementsMixin
from cogs.mous.exports import ExportsMixin
from cogs.mous.owners import OwnersMixin
from cogs.mous.records import (
    AGREEMENT_COLUMNS,
    DAY_MAX,
    DAY_MIN,
    DIGEST_ROWS,
    FOCUS_MAX,
    IN_FORCE_SQL,
    KIND_LABELS,
    LINK_MAX,
    LINKS_MAX,
    LIST_LIMIT,
    LIVE_SQL,
    LOG_MAX,
    MAX_OWNERS,
    MAX_PARTIES,
    MILESTONE_MAX,
    OWNER_NOTICE_KIND,
    REASON_MAX,
    SETTING_SPECS,
    SUMMARY_MAX,
    TIMELINE_ROWS,
    TITLE_MAX,
    UPCOMING_LIMIT,
    Activity,
    Actor,
    Agreement,
    AgreementDetail,
    Digest,
    DueItem,
    GuildPlanConfig,
    HistoryEntry,
    ListRow,
    Milestone,
    Party,
    PartyInput,
    PlanStats,
    ReminderContext,
    Term,
    Timeline,
    TimelineRow,
    _d,
    clean_text,
    clean_title,
    describe_due,
    parse_day,
    parse_links,
)
from cogs.mous.reminders import RemindersMixin

log = logging.getLogger(__name__)

__all__ = [  # what callers import from here
    "AGREEMENT_COLUMNS",
    "Activity",
    "Actor",
    "Agreement",
    "AgreementDetail",
    "DAY_MAX",
    "DAY_MIN",
    "DIGEST_ROWS",
    "Digest",
    "DueItem",
    "FOCUS_MAX",
    "GuildPlanConfig",
    "HistoryEntry",
    "IN_FORCE_SQL",
    "KIND_LABELS",
    "LINKS_MAX",
    "LINK_MAX",
    "LIST_LIMIT",
    "LIVE_SQL",
    "LOG_MAX",
    "ListRow",
    "MAX_OWNERS",
    "MAX_PARTIES",
    "MILESTONE_MAX",
    "Milestone",
    "MouService",
    "OWNER_NOTICE_KIND",
    "Party",
    "PartyInput",
    "PlanStats",
    "REASON_MAX",
    "ReminderContext",
    "SETTING_SPECS",
    "SUMMARY_MAX",
    "TIMELINE_ROWS",
    "TITLE_MAX",
    "Term",
    "Timeline",
    "TimelineRow",
    "UPCOMING_LIMIT",
    "clean_text",
    "clean_title",
    "describe_due",
    "parse_day",
    "parse_links",
]


class MouService(AgreementsMixin, OwnersMixin, RemindersMixin, ExportsMixin):
    """The MOU tracker of one installation; every method is scoped to one guild."""

    def __init__(self, db: Database, scheduler: Scheduler, settings: Any,
                 places: Places | None = None) -> None:
        self.db = db
        self.scheduler = scheduler
        self.settings = settings
        # Cities as every feature sees them (bot/places.py): the directory's when it is loaded, else as typed.
        self.places = places or Places(self._server_zone)

    async def _server_zone(self, guild_id: int) -> str:
        return str((await self.settings.get(guild_id)).timezone)

    # -- context ------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.scheduler.clock()

    async def config(self, guild_id: int) -> GuildPlanConfig:
        gs = await self.settings.get(guild_id)
        offsets = gs.get("mou_remind_offsets") or list(P.DEFAULT_OFFSETS)
        return GuildPlanConfig(
            zone=gs.timezone, hour=int(gs.get("mou_reminder_hour", 9)), offsets=tuple(offsets),
            dormant_months=int(gs.get("mou_dormant_months", 6)), digest_day=int(gs.get("mou_digest_day", 0)),
            digest_hour=int(gs.get("mou_digest_hour", 9)), channel_id=gs.announcements_channel_id,
        )

    async def today(self, guild_id: int) -> date:
        return P.local_today(self.now(), (await self.config(guild_id)).zone)

    # -- cities ---------------------------------------------------------------------------
    async def resolve_party(self, guild_id: int, text: str) -> PartyInput:
        raw = " ".join((text or "").split())
        if not raw:
            raise InvalidInput(N_("Name a city for each party."))
        ref = await self.places.resolve_city(raw, guild_id=guild_id)  # the directory's city, else as typed
        if not ref.known and raw.isdigit():
            raise InvalidInput(Msg(N_("No city with id {id}. Type the city's name instead."), id=raw))
        return PartyInput(ref.city_id, ref.name, ref.country)

    async def search_cities(self, guild_id: int, query: str) -> list[tuple[str, str]]:
        """Autocomplete (label, value) pairs from the directory, else from cities already used here."""
        if self.places.provider is not None:
            cities = await self.places.city_choices(query, guild_id=guild_id)
            return [(c.label, str(c.city_id)) for c in cities]
        rows = await self.db.fetchall(
            "SELECT city_name, country, COUNT(*) AS n FROM mou_parties WHERE guild_id = ? AND city_name LIKE "
            "? GROUP BY city_name COLLATE NOCASE, country ORDER BY n DESC, city_name LIMIT 25",
            (guild_id, f"%{query.strip()}%"),
        )
        out = []
        for r in rows:
            label = f"{r['city_name']}, {r['country']}" if r["country"] else r["city_name"]
            out.append((label, label[:100]))
        return out

    async def dm_ok(self, guild_id: int, user_id: int) -> bool:
        return await self.places.dm_ok(guild_id, user_id)

    async def city_agreements(self, guild_id: int, city_id: int | None, city_name: str,
                              limit: int = 10) -> list[AgreementLine]:
        """Contract for the directory (bot.contracts.CityAgreements): this server's agreements involving
        this city, as data (the city card renders them)."""
        rows = await self.db.fetchall(
            """
            SELECT DISTINCT a.id, a.kind, a.status, a.expires_on, a.title FROM mou_agreements a
            JOIN mou_parties p ON p.agreement_id = a.id
            WHERE a.guild_id = ? AND (p.city_id = ? OR p.city_name = ? COLLATE NOCASE)
            ORDER BY a.status = 'terminated', a.expires_on IS NULL, a.expires_on, a.id LIMIT ?
            """,
            (guild_id, city_id if city_id is not None else -1, city_name, limit),
        )
        if not rows:
            return []
        zone = (await self.config(guild_id)).zone
        out = []
        for r in rows:
            ps = await self.parties(guild_id, r["id"])
            others = tuple(p.city_name for p in ps if not (
                (city_id is not None and p.city_id == city_id) or p.city_name.lower() == city_name.lower()))
            out.append(AgreementLine(r["id"], r["kind"], KIND_LABELS.get(r["kind"], r["kind"]), r["status"],
                                     others, _d(r["expires_on"]), zone))
        return out

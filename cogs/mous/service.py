"""MOU tracker service: agreements, terms, parties, owners, milestones, activity, reminders.

No discord import. Every user action is one transaction with an audit row (entity
`agreement`, entity_id = the agreement id; that audit trail is the agreement's history).
Reminder jobs are re-planned inside the same transaction: the desired plan is computed by
`planning.plan_agreement` and diffed against the scheduler's pending jobs, so exactly the
affected jobs are cancelled or (re)scheduled.

Concurrent edits: each update writes only the fields it was given (`UPDATE … SET f = ?` for
those fields alone), so two owners editing different fields both keep their change; on the
same field the last writer wins. The audit log keeps both.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot import audit
from bot.db import Database
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.export import Column, NameLookup, id_text, write_csv
from bot.scheduler import JobSpec, Scheduler, from_ms, to_ms
from bot.text import md_line
from cogs.mous import planning as P
from cogs.settings.service import SettingSpec

log = logging.getLogger(__name__)

OWNER_NOTICE_KIND = "mou.owner_notice"

TITLE_MAX = 150
SUMMARY_MAX = 2000
FOCUS_MAX = 300
LINK_MAX = 500
LINKS_MAX = 10
LOG_MAX = 1000
MILESTONE_MAX = 300
REASON_MAX = 500
MAX_PARTIES = 20
MAX_OWNERS = 10
LIST_LIMIT = 250
UPCOMING_LIMIT = 300
DIGEST_ROWS = 50

KIND_LABELS = {
    "mou": "MOU",
    "sister-city": "Sister-city agreement",
    "friendship-city": "Friendship-city agreement",
    "cooperation-agreement": "Cooperation agreement",
    "other": "Agreement",
}

LIVE_SQL = "('draft', 'negotiating', 'signed', 'active', 'expiring', 'renewed')"
# The columns of agreements.csv (bot.export writes it: owner ids as text with their names beside them).
AGREEMENT_COLUMNS: list[Column | str] = [
    "id", "kind", "title", "status", "parties", "signed_on", "effective_on", "expires_on", "notice_days",
    "notice_on", "auto_renew", "term", "signature_mode", Column("owner_ids", "member"), "focus_areas", "links",
    "open_milestones", "milestones", "last_activity_on", "summary",
]
IN_FORCE_SQL = "('signed', 'active', 'expiring', 'renewed')"


# -- settings -------------------------------------------------------------------------------

def _int_range(lo: int, hi: int, what: str) -> Callable[[Any], int]:
    def validate(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InvalidInput(f"{what} must be a whole number from {lo} to {hi}.")
        return v
    return validate


def _offsets_setting(v: Any) -> list[int]:
    if isinstance(v, str):
        try:
            return list(P.parse_offsets(v))
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    if isinstance(v, list | tuple) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return _offsets_setting(",".join(str(x) for x in v))
    raise InvalidInput("Reminder offsets are days before expiry, e.g. `180,90,30,7`.")


SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("mou_remind_offsets", "MOU reminders (days before expiry)", list(P.DEFAULT_OFFSETS),
                _offsets_setting, lambda v: ", ".join(str(x) for x in v)),
    SettingSpec("mou_reminder_hour", "MOU reminder hour (server time)", 9, _int_range(0, 23, "The hour"),
                lambda v: f"{int(v):02d}:00"),
    SettingSpec("mou_digest_day", "MOU digest day", 0, _int_range(0, 6, "The day"),
                lambda v: P.WEEKDAYS[int(v)].title()),
    SettingSpec("mou_digest_hour", "MOU digest hour (server time)", 9, _int_range(0, 23, "The hour"),
                lambda v: f"{int(v):02d}:00"),
    SettingSpec("mou_dormant_months", "MOU dormant after (months without activity)", 6,
                _int_range(1, 60, "Months"), lambda v: f"{v} months"),
)


# -- records ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    moderator: bool = False


@dataclass(frozen=True, slots=True)
class PartyInput:
    city_id: int | None
    name: str
    country: str | None


@dataclass(frozen=True, slots=True)
class Party:
    id: int
    position: int
    city_id: int | None
    city_name: str
    country: str | None
    is_ours: bool
    esign_status: str

    @property
    def label(self) -> str:
        return f"{self.city_name}, {self.country}" if self.country else self.city_name


@dataclass(frozen=True, slots=True)
class Milestone:
    id: int
    agreement_id: int
    due_on: date
    description: str
    done_at: datetime | None
    done_by: int | None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    happened_on: date
    text: str
    author_id: int | None


@dataclass(frozen=True, slots=True)
class Term:
    term: int
    starts_on: date | None
    expires_on: date | None
    outcome: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor_id: int | None
    action: str
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Agreement:
    id: int
    guild_id: int
    kind: str
    title: str
    summary: str
    focus_areas: str
    links: tuple[str, ...]
    signed_on: date | None
    effective_on: date | None
    expires_on: date | None
    notice_on: date | None
    auto_renew: bool
    notice_days: int
    status: str
    signature_mode: str
    remind_offsets: tuple[int, ...] | None
    term: int
    last_activity_on: date | None
    terminated_reason: str | None
    created_at: datetime
    created_by: int | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class AgreementDetail:
    agreement: Agreement
    parties: tuple[Party, ...]
    owners: tuple[int, ...]
    milestones: tuple[Milestone, ...]
    activity: tuple[Activity, ...]
    terms: tuple[Term, ...]
    history: tuple[HistoryEntry, ...]
    dormant: bool
    today: date
    zone: str


@dataclass(frozen=True, slots=True)
class ListRow:
    id: int
    kind: str
    title: str
    status: str
    expires_on: date | None
    next_on: date | None
    parties: str


@dataclass(frozen=True, slots=True)
class DueItem:
    on: date
    what: str  # "expiry" | "notice" | "milestone"
    agreement_id: int
    title: str
    detail: str = ""
    milestone_id: int | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    today: date
    expiring: tuple[DueItem, ...]
    milestones: tuple[DueItem, ...]
    overdue: tuple[DueItem, ...]
    dormant: tuple[tuple[int, str, date | None], ...]  # (id, title, last activity)
    counts: tuple[int, int, int, int] = (0, 0, 0, 0)  # totals of the four sections (rows are capped)

    @property
    def empty(self) -> bool:
        return not (self.expiring or self.milestones or self.overdue or self.dormant)


@dataclass(frozen=True, slots=True)
class ReminderContext:
    agreement: Agreement
    parties: tuple[Party, ...]
    owners: tuple[int, ...]
    what: str
    on: date
    offset: int | None
    milestone: Milestone | None
    zone: str


@dataclass(slots=True)
class PlanStats:
    agreements: int = 0
    scheduled: int = 0
    cancelled: int = 0
    unchanged: int = 0
    status_changes: int = 0
    extra: dict[str, int] = field(default_factory=dict)


# -- helpers --------------------------------------------------------------------------------

_URL = re.compile(r"^https?://\S{3,}$", re.I)


def clean_text(text: str | None, limit: int, what: str, *, required: bool = False) -> str:
    t = (text or "").replace("\r\n", "\n").strip()
    if required and not t:
        raise InvalidInput(f"The {what} can't be empty.")
    if len(t) > limit:
        raise InvalidInput(f"The {what} is {len(t)} characters long; the limit is {limit}. Nothing was saved.")
    return t


def clean_title(text: str) -> str:
    return clean_text(" ".join((text or "").split()), TITLE_MAX, "title", required=True)


def parse_links(text: str | None) -> tuple[str, ...]:
    if not text or not text.strip():
        return ()
    parts = [p.strip() for p in re.split(r"[\s,]+", text) if p.strip()]
    out: list[str] = []
    for p in parts:
        if not _URL.match(p) or len(p) > LINK_MAX:
            raise InvalidInput(f"“{md_line(p, 60)}” is not a web link. Links must start with http:// or https://. Nothing was saved.")
        if p not in out:
            out.append(p)
    if len(out) > LINKS_MAX:
        raise InvalidInput(f"At most {LINKS_MAX} links, please. Nothing was saved.")
    return tuple(out)


def parse_day(text: str, today: date) -> date:
    """A user-typed calendar date through bot.timeparse.parse_date (fallback: ISO / `in N months`)."""
    try:
        from bot.timeparse import TimeParseError, parse_date
    except ImportError:  # pragma: no cover - timeparse is core
        try:
            return P.parse_day_fallback(text, today)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    try:
        day = parse_date(text, today=today)
    except TimeParseError as exc:
        raise InvalidInput(str(exc)) from None
    # Reminders and notice deadlines are computed up to ten years either side of these dates:
    # year 1 or 9999 would overflow `date` (and no agreement is that old or that long).
    if not DAY_MIN <= day <= DAY_MAX:
        raise InvalidInput(f"{day.isoformat()} is out of range: agreement dates go from {DAY_MIN.year} to "
                           f"{DAY_MAX.year}. Nothing was saved.")
    return day


DAY_MIN = date(1800, 1, 1)
DAY_MAX = date(2999, 12, 31)


def _d(v: str | None) -> date | None:
    return date.fromisoformat(v) if v else None


def _agreement(r: Any) -> Agreement:
    offsets = json.loads(r["remind_offsets"]) if r["remind_offsets"] else None
    return Agreement(
        id=r["id"], guild_id=r["guild_id"], kind=r["kind"], title=r["title"], summary=r["summary"],
        focus_areas=r["focus_areas"], links=tuple(json.loads(r["links"] or "[]")),
        signed_on=_d(r["signed_on"]), effective_on=_d(r["effective_on"]), expires_on=_d(r["expires_on"]),
        notice_on=_d(r["notice_on"]), auto_renew=bool(r["auto_renew"]), notice_days=r["notice_days"],
        status=r["status"], signature_mode=r["signature_mode"],
        remind_offsets=tuple(offsets) if offsets is not None else None, term=r["term"],
        last_activity_on=_d(r["last_activity_on"]), terminated_reason=r["terminated_reason"],
        created_at=from_ms(r["created_ms"]), created_by=r["created_by"],
    )


def _party(r: Any) -> Party:
    return Party(r["id"], r["position"], r["city_id"], r["city_name"], r["country"], bool(r["is_ours"]),
                 r["esign_status"])


def _milestone(r: Any) -> Milestone:
    return Milestone(r["id"], r["agreement_id"], date.fromisoformat(r["due_on"]), r["description"],
                     from_ms(r["done_ms"]) if r["done_ms"] is not None else None, r["done_by"])


def _plan_agreement(a: Agreement) -> P.PlanAgreement:
    return P.PlanAgreement(a.id, a.term, a.status, a.effective_on, a.expires_on, a.notice_days,
                           a.remind_offsets, a.auto_renew)


def _plan_row(r: Any) -> P.PlanAgreement:
    offsets = json.loads(r["remind_offsets"]) if r["remind_offsets"] else None
    return P.PlanAgreement(r["id"], r["term"], r["status"], _d(r["effective_on"]), _d(r["expires_on"]),
                           r["notice_days"], tuple(offsets) if offsets is not None else None,
                           bool(r["auto_renew"]))


@dataclass(frozen=True, slots=True)
class GuildPlanConfig:
    zone: str
    hour: int
    offsets: tuple[int, ...]
    dormant_months: int
    digest_day: int
    digest_hour: int
    channel_id: int | None


class MouService:
    def __init__(self, db: Database, scheduler: Scheduler, settings: Any,
                 directory: Callable[[], Any] | None = None) -> None:
        self.db = db
        self.scheduler = scheduler
        self.settings = settings
        self._directory = directory or (lambda: None)

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
            raise InvalidInput("Name a city for each party.")
        if len(raw) > 100:
            raise InvalidInput("A city name is at most 100 characters.")
        directory = self._directory()
        if directory is not None:
            try:
                city = await directory.resolve_city(raw, guild_id=guild_id)
            except NotFound:
                city = None  # not in the directory: keep it as free text
            if city is not None:
                return PartyInput(city.id, city.name, city.country)
        m = re.match(r"^(.*?),\s*([A-Za-z]{2})$", raw)
        if m and m.group(1).strip():
            return PartyInput(None, m.group(1).strip(), m.group(2).upper())
        if raw.isdigit():
            raise InvalidInput(f"No city with id {raw}. Type the city's name instead.")
        return PartyInput(None, raw, None)

    async def search_cities(self, guild_id: int, query: str) -> list[tuple[str, str]]:
        """Autocomplete (label, value) pairs from the directory, else from cities already used here."""
        directory = self._directory()
        if directory is not None:
            try:
                cities = await directory.search_cities(query, guild_id=guild_id, limit=25)
                return [(c.label, str(c.id)) for c in cities]
            except Exception:
                log.exception("directory city search failed")
        rows = await self.db.fetchall(
            "SELECT city_name, country, COUNT(*) AS n FROM mou_parties WHERE guild_id = ? AND city_name LIKE ? "
            "GROUP BY city_name COLLATE NOCASE, country ORDER BY n DESC, city_name LIMIT 25",
            (guild_id, f"%{query.strip()}%"),
        )
        out = []
        for r in rows:
            label = f"{r['city_name']}, {r['country']}" if r["country"] else r["city_name"]
            out.append((label, label[:100]))
        return out

    async def dm_ok(self, guild_id: int, user_id: int) -> bool:
        directory = self._directory()
        if directory is None:
            return True
        try:
            profile = await directory.get_profile(guild_id, user_id)
        except Exception:
            log.exception("directory profile lookup failed; assuming DMs are welcome")
            return True
        return True if profile is None else bool(getattr(profile, "dm_ok", True))

    # -- reads ----------------------------------------------------------------------------
    async def _row(self, guild_id: int, agreement_id: int) -> Any:
        r = await self.db.fetchone("SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?",
                                   (guild_id, agreement_id))
        if r is None:
            raise NotFound(f"There is no agreement #{agreement_id} on this server. `/mou list` shows them.")
        return r

    async def get(self, guild_id: int, agreement_id: int) -> Agreement:
        return _agreement(await self._row(guild_id, agreement_id))

    async def owners(self, guild_id: int, agreement_id: int) -> tuple[int, ...]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM mou_owners WHERE guild_id = ? AND agreement_id = ? ORDER BY added_ms, user_id",
            (guild_id, agreement_id))
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
            "SELECT * FROM mou_terms WHERE guild_id = ? AND agreement_id = ? ORDER BY term", (guild_id, agreement_id))
        hist = await self.db.fetchall(
            "SELECT at_ms, actor_id, action, changes FROM audit WHERE guild_id = ? AND entity = 'agreement' "
            "AND entity_id = ? ORDER BY id DESC LIMIT 10", (guild_id, str(agreement_id)))
        return AgreementDetail(
            agreement=a,
            parties=await self.parties(guild_id, agreement_id),
            owners=await self.owners(guild_id, agreement_id),
            milestones=await self.milestones(guild_id, agreement_id),
            activity=tuple(Activity(r["id"], date.fromisoformat(r["happened_on"]), r["text"], r["author_id"])
                           for r in acts),
            terms=tuple(Term(r["term"], _d(r["starts_on"]), _d(r["expires_on"]), r["outcome"],
                             from_ms(r["created_ms"])) for r in terms),
            history=tuple(HistoryEntry(from_ms(r["at_ms"]), r["actor_id"], r["action"], json.loads(r["changes"]))
                          for r in hist),
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
                raise InvalidInput(f"Unknown status. Use one of: {', '.join(P.STATUSES)}.")
            where.append("a.status = :status")
            params["status"] = status
        if expiring_within_days is not None:
            where.append(f"a.status IN {IN_FORCE_SQL} AND a.expires_on BETWEEN :today AND :until")
            params["until"] = (today + timedelta(days=expiring_within_days)).isoformat()
        if owner_id is not None:
            where.append("EXISTS (SELECT 1 FROM mou_owners o WHERE o.agreement_id = a.id AND o.user_id = :owner)")
            params["owner"] = owner_id
        if city:
            c = city.strip()
            if c.isascii() and c.isdigit() and len(c) <= 18:
                where.append("EXISTS (SELECT 1 FROM mou_parties p WHERE p.agreement_id = a.id AND p.city_id = :cid)")
                params["cid"] = int(c)
            else:
                name = c.split(",")[0].strip()
                where.append("EXISTS (SELECT 1 FROM mou_parties p WHERE p.agreement_id = a.id "
                             "AND p.city_name = :cname COLLATE NOCASE)")
                params["cname"] = name
        cond = " AND ".join(where)
        total = int(await self.db.fetchval(f"SELECT COUNT(*) FROM mou_agreements a WHERE {cond}", params) or 0)
        rows = await self.db.fetchall(
            f"""
            SELECT a.id, a.kind, a.title, a.status, a.expires_on,
                   (SELECT MIN(d) FROM (
                        SELECT a.notice_on AS d WHERE a.notice_on >= :today AND a.status IN {IN_FORCE_SQL}
                        UNION ALL SELECT a.expires_on WHERE a.expires_on >= :today AND a.status IN {IN_FORCE_SQL}
                        UNION ALL SELECT MIN(m.due_on) FROM mou_milestones m
                            WHERE m.agreement_id = a.id AND m.done_ms IS NULL AND m.due_on >= :today
                              AND a.status IN {LIVE_SQL})) AS next_on,
                   (SELECT group_concat(p.city_name, ' · ') FROM
                        (SELECT city_name FROM mou_parties WHERE agreement_id = a.id ORDER BY position) p) AS parties
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
            f"WHERE m.guild_id = ? AND m.done_ms IS NULL AND m.due_on BETWEEN ? AND ? AND a.status IN {LIVE_SQL} "
            f"ORDER BY m.due_on, m.agreement_id, m.id LIMIT ?",
            (guild_id, t, until, limit),
        )
        n_ms = len(ms)
        if n_ms >= limit:
            n_ms = int(await self.db.fetchval(
                f"SELECT COUNT(*) FROM mou_milestones m JOIN mou_agreements a ON a.id = m.agreement_id "
                f"WHERE m.guild_id = ? AND m.done_ms IS NULL AND m.due_on BETWEEN ? AND ? AND a.status IN {LIVE_SQL}",
                (guild_id, t, until)) or 0)
        total = len(items) + n_ms
        for r in ms:
            items.append(DueItem(date.fromisoformat(r["due_on"]), "milestone", r["agreement_id"], r["title"],
                                 r["description"], r["id"]))
        items.sort(key=lambda i: (i.on, i.agreement_id, i.what, i.milestone_id or 0))
        return items[:limit], total

    async def digest(self, guild_id: int, *, today: date | None = None) -> Digest:
        cfg = await self.config(guild_id)
        today = today or P.local_today(self.now(), cfg.zone)
        t = today.isoformat()
        exp = await self.db.fetchall(
            f"SELECT id, title, expires_on, status FROM mou_agreements WHERE guild_id = ? "
            f"AND status IN {IN_FORCE_SQL} AND expires_on BETWEEN ? AND ? ORDER BY expires_on, id",
            (guild_id, t, (today + timedelta(days=90)).isoformat()))
        expiring = tuple(DueItem(date.fromisoformat(r["expires_on"]), "expiry", r["id"], r["title"], r["status"])
                         for r in exp)
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
        n_due = int(await self.db.fetchval(cnt_sql + "AND m.due_on BETWEEN ? AND ?", (guild_id, t, in30)) or 0)
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

    async def city_agreement_lines(self, guild_id: int, city_id: int | None, city_name: str,
                                   limit: int = 10) -> list[str]:
        """Contract for the directory: one short line per agreement involving this city."""
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
            others = [p.city_name for p in ps
                      if not ((city_id is not None and p.city_id == city_id) or p.city_name.lower() == city_name.lower())]
            line = f"#{r['id']} {KIND_LABELS.get(r['kind'], r['kind'])}"
            if others:
                line += " with " + ", ".join(others[:3]) + (f" +{len(others) - 3}" if len(others) > 3 else "")
            line += f" · {r['status']}"
            if r["expires_on"]:
                line += f" · expires <t:{P.date_ts(date.fromisoformat(r['expires_on']), zone)}:D>"
            out.append(line)
        return out

    # -- permissions ------------------------------------------------------------------------
    async def ensure_can_edit(self, guild_id: int, agreement_id: int, actor: Actor) -> None:
        if actor.moderator:
            return
        owners = await self.owners(guild_id, agreement_id)
        if actor.id not in owners:
            who = ", ".join(f"<@{o}>" for o in owners[:5]) or "its owners"
            raise PermissionDenied(
                f"Only the owners of agreement #{agreement_id} ({who}) and moderators can change it.")

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
            raise InvalidInput(f"Unknown kind. Use one of: {', '.join(P.KINDS)}.")
        today = await self.today(guild_id)
        resolved = [await self.resolve_party(guild_id, p) for p in parties]
        keys = {(p.city_id, p.name.casefold(), p.country) for p in resolved}
        if len(keys) < len(resolved):
            raise InvalidInput("An agreement needs two different cities.")
        s = parse_day(signed, today) if signed else None
        e = parse_day(effective, today) if effective else s
        x = parse_day(expires, today) if expires else None
        nd = 90 if notice_days is None else notice_days
        if not 0 <= nd <= 3650:
            raise InvalidInput("Notice days must be between 0 and 3650.")
        if x is not None and e is not None and x <= e:
            raise InvalidInput(f"The expiry ({x.isoformat()}) must come after the start ({e.isoformat()}).")
        return {"kind": kind, "title": clean_title(title), "parties": resolved, "signed": s, "effective": e,
                "expires": x, "notice_days": nd}

    async def create_prepared(
        self, guild_id: int, actor: Actor, prepared: dict[str, Any], *, owner_ids: Sequence[int] = (),
        summary: str = "", links: str = "", focus_areas: str = "", auto_renew: bool = False,
    ) -> Agreement:
        summary = clean_text(summary, SUMMARY_MAX, "summary")
        link_list = parse_links(links)
        focus = clean_text(focus_areas, FOCUS_MAX, "focus areas")
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
                "INSERT INTO mou_terms (guild_id, agreement_id, term, starts_on, expires_on, created_ms, created_by) "
                "VALUES (?, ?, 1, ?, ?, ?, ?)", (guild_id, aid, P.iso(e), P.iso(x), ms, actor.id))
            for pos, p in enumerate(prepared["parties"], start=1):
                await self.db.execute(
                    "INSERT INTO mou_parties (guild_id, agreement_id, position, city_id, city_name, country) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, aid, pos, p.city_id, p.name, p.country))
            for uid in owners:
                await self.db.execute(
                    "INSERT INTO mou_owners (guild_id, agreement_id, user_id, added_ms, added_by) VALUES (?, ?, ?, ?, ?)",
                    (guild_id, aid, uid, ms, actor.id))
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
            raise InvalidInput("This agreement is terminated; it can't take new parties.")
        p = await self.resolve_party(guild_id, city)
        existing = await self.parties(guild_id, agreement_id)
        if any((p.city_id is not None and e.city_id == p.city_id)
               or (e.city_name.casefold() == p.name.casefold() and e.country == p.country) for e in existing):
            raise InvalidInput(f"{p.name} is already a party to agreement #{agreement_id}.")
        if len(existing) >= MAX_PARTIES:
            raise InvalidInput(f"An agreement can have at most {MAX_PARTIES} parties.")
        async with self.db.transaction():
            if ours:
                await self.db.execute("UPDATE mou_parties SET is_ours = 0 WHERE guild_id = ? AND agreement_id = ?",
                                      (guild_id, agreement_id))
            pos = int(await self.db.fetchval(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM mou_parties WHERE agreement_id = ?", (agreement_id,)))
            pid = await self.db.execute(
                "INSERT INTO mou_parties (guild_id, agreement_id, position, city_id, city_name, country, is_ours) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (guild_id, agreement_id, pos, p.city_id, p.name, p.country, int(ours)))
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.party.add", agreement_id, {"city": p.name, "ours": ours})
        return Party(pid, pos, p.city_id, p.name, p.country, ours, "n/a")

    async def set_party(self, guild_id: int, actor: Actor, agreement_id: int, party: str, *,
                        ours: bool | None = None, esign: str | None = None) -> Party:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        ps = await self.parties(guild_id, agreement_id)
        target = self._find_party(ps, party)
        if esign is not None and esign not in P.ESIGN_STATUSES:
            raise InvalidInput(f"E-signature status must be one of: {', '.join(P.ESIGN_STATUSES)}.")
        if ours is None and esign is None:
            raise InvalidInput("Say what to change: `ours` and/or `esign`.")
        async with self.db.transaction():
            if ours:
                await self.db.execute("UPDATE mou_parties SET is_ours = 0 WHERE guild_id = ? AND agreement_id = ?",
                                      (guild_id, agreement_id))
            if ours is not None:
                await self.db.execute("UPDATE mou_parties SET is_ours = ? WHERE id = ?", (int(ours), target.id))
            if esign is not None:
                await self.db.execute("UPDATE mou_parties SET esign_status = ? WHERE id = ?", (esign, target.id))
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.party.set", agreement_id,
                              {"party": target.city_name, "ours": ours, "esign": esign})
        return next(p for p in await self.parties(guild_id, agreement_id) if p.id == target.id)

    @staticmethod
    def _find_party(parties: Sequence[Party], text: str) -> Party:
        t = text.strip()
        for p in parties:
            if t == str(p.position) or t == f"p{p.id}" or (t.isascii() and t.isdigit() and len(t) <= 19 and p.city_id == int(t)):
                return p
        name = t.split(",")[0].strip().casefold()
        for p in parties:
            if p.city_name.casefold() == name:
                return p
        names = ", ".join(f"{p.position}. {md_line(p.city_name, 60)}" for p in parties)
        raise NotFound(f"No party “{md_line(t, 50)}” on this agreement. Parties: {names}.")

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
                changes[col] = {"from": old if shown is None else shown[0], "to": new if shown is None else shown[1]}

        if title is not None:
            put("title", clean_title(title), a.title)
        if kind is not None:
            if kind not in P.KINDS:
                raise InvalidInput(f"Unknown kind. Use one of: {', '.join(P.KINDS)}.")
            put("kind", kind, a.kind)
        if summary is not None:
            put("summary", clean_text(summary, SUMMARY_MAX, "summary"), a.summary)
        if focus_areas is not None:
            put("focus_areas", clean_text(focus_areas, FOCUS_MAX, "focus areas"), a.focus_areas)
        if links is not None:
            ls = parse_links(links)
            if ls != a.links:
                sets["links"] = json.dumps(list(ls))
                changes["links"] = {"from": list(a.links), "to": list(ls)}
        if signature_mode is not None:
            if signature_mode not in P.SIGNATURE_MODES:
                raise InvalidInput(f"Signature mode must be one of: {', '.join(P.SIGNATURE_MODES)}.")
            put("signature_mode", signature_mode, a.signature_mode)
        if auto_renew is not None:
            put("auto_renew", int(auto_renew), int(a.auto_renew))

        def day_or_none(text: str) -> date | None:
            return None if text.strip().lower() in ("none", "-", "clear", "never", "open-ended") else parse_day(text, today)

        s = day_or_none(signed) if signed is not None else a.signed_on
        e = day_or_none(effective) if effective is not None else a.effective_on
        if signed is not None and effective is None and a.effective_on is None:
            e = s
        x = day_or_none(expires) if expires is not None else a.expires_on
        nd = notice_days if notice_days is not None else a.notice_days
        if not 0 <= nd <= 3650:
            raise InvalidInput("Notice days must be between 0 and 3650.")
        if x is not None and e is not None and x <= e:
            raise InvalidInput(f"The expiry ({x.isoformat()}) must come after the start ({e.isoformat()}). Nothing was saved.")
        put("signed_on", P.iso(s), P.iso(a.signed_on))
        put("effective_on", P.iso(e), P.iso(a.effective_on))
        put("expires_on", P.iso(x), P.iso(a.expires_on))
        put("notice_days", nd, a.notice_days)
        new_status = a.status
        if status is not None:
            if status not in P.STATUSES:
                raise InvalidInput(f"Unknown status. Use one of: {', '.join(P.STATUSES)}.")
            if status == "renewed":
                raise InvalidInput("Use `/mou renew` to renew: it records the new term and its expiry.")
            if status == "terminated":
                raise InvalidInput("Use `/mou terminate` with a reason to terminate an agreement.")
            err = P.transition_error(a.status, status)
            if err:
                raise InvalidInput(err + " Nothing was saved.")
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
            allowed = "signed, active, expiring, renewed or expired"
            raise InvalidInput(f"Only an agreement that is {allowed} can be renewed; #{a.id} is **{a.status}**.")
        x = new_expiry if isinstance(new_expiry, date) else parse_day(new_expiry, today)
        floor = max(d for d in (a.expires_on, today) if d is not None)
        if x <= floor:
            raise InvalidInput(f"The new expiry must be after {floor.isoformat()}.")
        starts = (a.expires_on + timedelta(days=1)) if a.expires_on is not None and a.expires_on >= today else today
        status = P.desired_status("renewed", effective=starts, expires=x, notice_days=a.notice_days, today=today)
        ms = to_ms(self.now())
        async with self.db.transaction():
            cur = await self.db.fetchval("SELECT id FROM mou_terms WHERE agreement_id = ? AND term = ?",
                                         (agreement_id, a.term))
            await self.db.execute("UPDATE mou_terms SET outcome = 'renewed' WHERE agreement_id = ? AND term = ?",
                                  (agreement_id, a.term))
            await self.db.execute(
                "INSERT INTO mou_terms (guild_id, agreement_id, term, previous_term_id, starts_on, expires_on, "
                "created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, agreement_id, a.term + 1, cur, P.iso(starts), P.iso(x), ms,
                 actor.id if actor else None))
            await self.db.execute(
                "UPDATE mou_agreements SET term = ?, expires_on = ?, notice_on = ?, status = ?, effective_on = ?, "
                "updated_ms = ? WHERE guild_id = ? AND id = ?",
                (a.term + 1, P.iso(x), P.iso(P.notice_deadline(x, a.notice_days)), status, P.iso(starts), ms,
                 guild_id, agreement_id))
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
        err = P.transition_error(a.status, "terminated") if a.status != "terminated" else \
            f"Agreement #{agreement_id} is already terminated; its status can no longer change."
        if err:
            raise InvalidInput(err)
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE mou_agreements SET status = 'terminated', terminated_reason = ?, updated_ms = ? "
                "WHERE guild_id = ? AND id = ?", (reason, to_ms(self.now()), guild_id, agreement_id))
            await self.db.execute(
                "UPDATE mou_terms SET outcome = 'terminated' WHERE agreement_id = ? AND term = ? AND outcome IS NULL",
                (agreement_id, a.term))
            await self.scheduler.cancel_prefix(guild_id, P.agreement_prefix(agreement_id))
            await self._audit(guild_id, actor.id, "mou.terminate", agreement_id,
                              {"status": {"from": a.status, "to": "terminated"}, "reason": reason})
        return await self.get(guild_id, agreement_id)

    async def log_activity(self, guild_id: int, actor: Actor, agreement_id: int, text: str,
                           on: str | None = None) -> Activity:
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        body = clean_text(text, LOG_MAX, "activity note", required=True)
        today = await self.today(guild_id)
        d = parse_day(on, today) if on else today
        if d > today + timedelta(days=1):
            raise InvalidInput("Log what happened, not plans: the date can't be in the future. "
                               "Use `/mou milestone add` for things to come.")
        async with self.db.transaction():
            aid = await self.db.execute(
                "INSERT INTO mou_activity (guild_id, agreement_id, happened_on, text, author_id, created_ms) "
                "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, agreement_id, d.isoformat(), body, actor.id, to_ms(self.now())))
            last = max(x for x in (a.last_activity_on, d) if x is not None)
            await self.db.execute("UPDATE mou_agreements SET last_activity_on = ?, updated_ms = ? WHERE id = ?",
                                  (last.isoformat(), to_ms(self.now()), agreement_id))
            await self._audit(guild_id, actor.id, "mou.log", agreement_id, {"on": d.isoformat(), "text": body})
        return Activity(aid, d, body, actor.id)

    async def add_milestone(self, guild_id: int, actor: Actor, agreement_id: int, on: str,
                            description: str) -> Milestone:
        a = await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        if a.status in ("terminated", "expired"):
            raise InvalidInput(f"Agreement #{agreement_id} is {a.status}; renew it before planning milestones.")
        desc = clean_text(" ".join(description.split()), MILESTONE_MAX, "milestone description", required=True)
        d = parse_day(on, await self.today(guild_id))
        async with self.db.transaction():
            mid = await self.db.execute(
                "INSERT INTO mou_milestones (guild_id, agreement_id, due_on, description, created_ms, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, agreement_id, d.isoformat(), desc, to_ms(self.now()), actor.id))
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.milestone.add", agreement_id,
                              {"milestone": mid, "on": d.isoformat(), "description": desc})
            await self.replan(guild_id, agreement_id)
        return Milestone(mid, agreement_id, d, desc, None, None)

    async def done_milestone(self, guild_id: int, actor: Actor, agreement_id: int, milestone_id: int) -> Milestone:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        r = await self.db.fetchone("SELECT * FROM mou_milestones WHERE guild_id = ? AND agreement_id = ? AND id = ?",
                                   (guild_id, agreement_id, milestone_id))
        if r is None:
            raise NotFound(f"Agreement #{agreement_id} has no milestone #{milestone_id}. `/mou show` lists them.")
        m = _milestone(r)
        if m.done:
            raise InvalidInput(f"Milestone #{milestone_id} was already marked done.")
        now = self.now()
        async with self.db.transaction():
            await self.db.execute("UPDATE mou_milestones SET done_ms = ?, done_by = ? WHERE id = ? AND done_ms IS NULL",
                                  (to_ms(now), actor.id, milestone_id))
            await self._touch(guild_id, agreement_id)
            await self._audit(guild_id, actor.id, "mou.milestone.done", agreement_id,
                              {"milestone": milestone_id, "description": m.description})
            await self.replan(guild_id, agreement_id)
        return Milestone(m.id, agreement_id, m.due_on, m.description, now, actor.id)

    async def add_owner(self, guild_id: int, actor: Actor, agreement_id: int, user_id: int) -> tuple[int, ...]:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        owners = await self.owners(guild_id, agreement_id)
        if user_id in owners:
            raise InvalidInput(f"<@{user_id}> already owns agreement #{agreement_id}.")
        if len(owners) >= MAX_OWNERS:
            raise InvalidInput(f"An agreement can have at most {MAX_OWNERS} owners.")
        async with self.db.transaction():
            now = self.now()
            await self.db.execute(
                "INSERT INTO mou_owners (guild_id, agreement_id, user_id, added_ms, added_by) VALUES (?, ?, ?, ?, ?)",
                (guild_id, agreement_id, user_id, to_ms(now), actor.id))
            await self._audit(guild_id, actor.id, "mou.owner.add", agreement_id, {"owner": user_id})
            await self._notify_new_owner(guild_id, agreement_id, user_id, actor.id, now)
        return await self.owners(guild_id, agreement_id)

    async def _notify_new_owner(self, guild_id: int, agreement_id: int, user_id: int, actor_id: int,
                                now: datetime) -> None:
        """Tell a member someone else made them an owner: a DM job, in the transaction of the write (so it
        survives a crash right after the commit; its nonce keeps it to one DM)."""
        if user_id == actor_id:
            return
        await self.scheduler.schedule(
            OWNER_NOTICE_KIND, now, guild_id=guild_id,
            dedupe_key=f"mou:{agreement_id}:owner:{user_id}:{to_ms(now)}",
            payload={"agreement_id": agreement_id, "user": user_id, "by": actor_id})

    async def owner_notice(self, guild_id: int, payload: dict[str, Any]) -> tuple[Agreement, int, int] | str:
        """(agreement, new owner, who added them) for an owner notice job, or why it no longer matters."""
        aid, uid = int(payload.get("agreement_id", 0)), int(payload.get("user", 0))
        try:
            a = await self.get(guild_id, aid)
        except NotFound:
            return f"agreement {aid} is gone"
        if uid not in await self.owners(guild_id, aid):
            return "no longer an owner"
        if not await self.dm_ok(guild_id, uid):
            return "the owner's profile declines DMs"
        return a, uid, int(payload.get("by", 0))

    async def leave_as_owner(self, guild_id: int, agreement_id: int, user_id: int) -> Agreement:
        """The "Remove me as owner" button: only an owner of this agreement of this server may use it, for
        themselves. Unlike `/mou owner remove` it may leave the agreement without an owner (a moderator then
        adds one): nobody has to stay responsible for what someone else gave them."""
        async with self.db.transaction():
            a = await self.get(guild_id, agreement_id)
            n = await self.db.execute(
                "DELETE FROM mou_owners WHERE guild_id = ? AND agreement_id = ? AND user_id = ?",
                (guild_id, agreement_id, user_id))
            if not n:
                raise PermissionDenied(f"You are not an owner of agreement #{agreement_id}, so there is nothing "
                                       "to remove you from.")
            await self._audit(guild_id, user_id, "mou.owner.leave", agreement_id, {"owner": user_id})
        return a

    async def remove_owner(self, guild_id: int, actor: Actor, agreement_id: int, user_id: int) -> tuple[int, ...]:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        owners = await self.owners(guild_id, agreement_id)
        if user_id not in owners:
            raise InvalidInput(f"<@{user_id}> is not an owner of agreement #{agreement_id}.")
        if len(owners) == 1:
            raise InvalidInput("An agreement needs at least one owner: add the new owner first.")
        async with self.db.transaction():
            await self.db.execute("DELETE FROM mou_owners WHERE guild_id = ? AND agreement_id = ? AND user_id = ?",
                                  (guild_id, agreement_id, user_id))
            await self._audit(guild_id, actor.id, "mou.owner.remove", agreement_id, {"owner": user_id})
        return await self.owners(guild_id, agreement_id)

    async def set_offsets(self, guild_id: int, actor: Actor, agreement_id: int, text: str) -> tuple[int, ...] | None:
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
            await self.db.execute("UPDATE mou_agreements SET remind_offsets = ?, updated_ms = ? WHERE id = ?",
                                  (json.dumps(list(offsets)) if offsets is not None else None, to_ms(self.now()),
                                   agreement_id))
            await self._audit(guild_id, actor.id, "mou.remind", agreement_id,
                              {"from": list(a.remind_offsets) if a.remind_offsets else "default",
                               "to": list(offsets) if offsets else "default"})
            await self.replan(guild_id, agreement_id)
        return offsets

    # -- planning ------------------------------------------------------------------------------
    async def _pending_map(self, guild_id: int, prefix: str) -> dict[str, tuple[datetime, dict[str, Any]]]:
        jobs = await self.scheduler.pending(guild_id, prefix)
        return {j.dedupe_key: (j.original_due_at, j.payload) for j in jobs if j.kind in (P.REMIND_KIND, P.STATUS_KIND)}

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
        return bool(await self.db.fetchval("SELECT 1 FROM mou_agreements WHERE guild_id = ? LIMIT 1", (guild_id,)))

    async def replan(self, guild_id: int, agreement_id: int) -> PlanStats:
        """Re-plan one agreement's jobs (call inside the write's transaction). The agreement, its
        milestones and pending jobs are read in the same transaction that writes the new plan, so a
        concurrent update can never be overwritten with a plan made from its old dates."""
        async with self.db.transaction():
            cfg = await self.config(guild_id)
            a = await self.get(guild_id, agreement_id)
            ms = [P.PlanMilestone(m.id, m.due_on, m.done) for m in await self.milestones(guild_id, agreement_id)]
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
            stats.status_changes = await self.reconcile_statuses(guild_id, P.local_today(self.now(), cfg.zone))
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
            "WHERE guild_id = ? AND status IN ('signed', 'active', 'expiring', 'renewed', 'expired')", (guild_id,))
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
                "UPDATE mou_agreements SET status = ?, updated_ms = ? WHERE guild_id = ? AND id = ? AND status = ?",
                (new, to_ms(self.now()), guild_id, agreement_id, old))
            if not n:
                return
            if new == "expired":
                await self.db.execute(
                    "UPDATE mou_terms SET outcome = 'expired' WHERE agreement_id = ? AND outcome IS NULL",
                    (agreement_id,))
            await self._audit(guild_id, None, "mou.status.auto", agreement_id, {"status": {"from": old, "to": new}})
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
        r = await self.db.fetchone("SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?", (guild_id, aid))
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
        return ReminderContext(a, await self.parties(guild_id, aid), await self.owners(guild_id, aid), what,
                               date.fromisoformat(str(payload.get("on"))), payload.get("offset"), milestone, cfg.zone)

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

    # -- export ------------------------------------------------------------------------------
    async def export_records(self, guild_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall("SELECT * FROM mou_agreements WHERE guild_id = ? ORDER BY id", (guild_id,))
        parties = await self.db.fetchall("SELECT * FROM mou_parties WHERE guild_id = ? ORDER BY agreement_id, position",
                                         (guild_id,))
        owners = await self.db.fetchall("SELECT agreement_id, user_id FROM mou_owners WHERE guild_id = ? "
                                        "ORDER BY agreement_id, added_ms", (guild_id,))
        mss = await self.db.fetchall("SELECT * FROM mou_milestones WHERE guild_id = ? ORDER BY agreement_id, due_on, id",
                                     (guild_id,))
        by: dict[int, dict[str, list[Any]]] = {}
        for p in parties:
            pp = _party(p)
            by.setdefault(p["agreement_id"], {}).setdefault("parties", []).append(
                {"city": pp.city_name, "country": pp.country, "city_id": pp.city_id, "ours": pp.is_ours,
                 "esign": pp.esign_status})
        for o in owners:
            by.setdefault(o["agreement_id"], {}).setdefault("owners", []).append(o["user_id"])
        for m in mss:
            mm = _milestone(m)
            by.setdefault(m["agreement_id"], {}).setdefault("milestones", []).append(
                {"id": mm.id, "date": mm.due_on.isoformat(), "description": mm.description, "done": mm.done,
                 "done_by": mm.done_by})
        out = []
        for r in rows:
            a = _agreement(r)
            d = asdict(a)
            for k, v in list(d.items()):
                if isinstance(v, date | datetime):
                    d[k] = v.isoformat()
                elif isinstance(v, tuple):
                    d[k] = list(v)
            extra = by.get(a.id, {})
            d["parties"] = extra.get("parties", [])
            d["owners"] = extra.get("owners", [])
            d["milestones"] = extra.get("milestones", [])
            out.append(d)
        return out

    async def export(self, guild_id: int, fmt: str, names: NameLookup | None = None) -> tuple[str, bytes]:
        """(file name, bytes) of every agreement of the guild; gzipped past 8 MiB.

        CSV through the shared writer (bot.export); `names` looks up the display names of the owners
        and of whoever marked milestones done (ids are written as text beside them)."""
        records = await self.export_records(guild_id)
        wanted = {int(o) for d in records for o in d["owners"]}
        wanted |= {int(m["done_by"]) for d in records for m in d["milestones"] if m["done_by"]}
        known = await names(wanted) if names is not None and wanted else {}
        if fmt == "json":
            for d in records:
                d["guild_id"] = id_text(d["guild_id"])
                d["created_by"] = id_text(d["created_by"]) if d["created_by"] else None
                d["owner_names"] = [known.get(int(o)) for o in d["owners"]]
                d["owners"] = [id_text(o) for o in d["owners"]]
                for m in d["milestones"]:
                    m["done_by"] = id_text(m["done_by"]) if m["done_by"] else None
            data = json.dumps(records, ensure_ascii=False, indent=1).encode()
            name = "agreements.json"
        elif fmt == "csv":
            rows = [{
                **{k: d[k] for k in ("id", "kind", "title", "status", "signed_on", "effective_on", "expires_on",
                                     "notice_days", "notice_on", "term", "signature_mode", "focus_areas",
                                     "last_activity_on", "summary")},
                "parties": "; ".join((f"{p['city']}, {p['country']}" if p["country"] else p["city"])
                                     + (" (ours)" if p["ours"] else "") for p in d["parties"]),
                "auto_renew": int(d["auto_renew"]), "owner_ids": d["owners"], "links": " ".join(d["links"]),
                "open_milestones": sum(1 for m in d["milestones"] if not m["done"]),
                "milestones": "; ".join(f"{m['date']} {'[done] ' if m['done'] else ''}{m['description']}"
                                        for m in d["milestones"]),
            } for d in records]
            data = write_csv(AGREEMENT_COLUMNS, rows, names=known)
            name = "agreements.csv"
        else:
            raise InvalidInput("Export format is `csv` or `json`.")
        if len(data) > 8 * 1024 * 1024:
            return name + ".gz", gzip.compress(data)
        return name, data

    async def deadlines(self, guild_id: int, *, owner_id: int | None = None) -> list[DueItem]:
        """Every current deadline (expiries, notice deadlines, open milestones) for the .ics file."""
        owner_sql = "" if owner_id is None else \
            " AND EXISTS (SELECT 1 FROM mou_owners o WHERE o.agreement_id = a.id AND o.user_id = :owner)"
        params: dict[str, Any] = {"g": guild_id, "owner": owner_id}
        rows = await self.db.fetchall(
            f"SELECT a.id, a.title, a.expires_on, a.notice_on, a.notice_days FROM mou_agreements a "
            f"WHERE a.guild_id = :g AND a.status IN {IN_FORCE_SQL} AND a.expires_on IS NOT NULL{owner_sql}", params)
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


def describe_due(item: DueItem) -> str:
    if item.what == "expiry":
        return "expires"
    if item.what == "notice":
        return "renewal-notice deadline"
    return f"milestone: {item.detail}"


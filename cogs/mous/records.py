"""MOU records and their rules, without I/O: limits, labels, the settings' validators, the dataclasses
the service returns, parsing what members type, row mapping. No discord import."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.clock import from_ms
from bot.db import Database
from bot.errors import InvalidInput
from bot.export import Column
from bot.i18n import N_, Msg
from bot.scheduler import Scheduler
from bot.settings import SettingSpec
from bot.text import md_line
from cogs.mous import planning as P

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
    "mou": N_("MOU"),
    "sister-city": N_("Sister-city agreement"),
    "friendship-city": N_("Friendship-city agreement"),
    "cooperation-agreement": N_("Cooperation agreement"),
    "other": N_("Agreement"),
}

LIVE_SQL = "('draft', 'negotiating', 'signed', 'active', 'expiring', 'renewed')"
# The columns of agreements.csv (bot.export writes it: owner ids as text with their names beside them).
AGREEMENT_COLUMNS: list[Column | str] = [
    "id",
    "kind",
    "title",
    "status",
    "parties",
    "signed_on",
    "effective_on",
    "expires_on",
    "notice_days",
    "notice_on",
    "auto_renew",
    "term",
    "signature_mode",
    Column("owner_ids", "member"),
    "focus_areas",
    "links",
    "open_milestones",
    "milestones",
    "last_activity_on",
    "summary",
]
TIMELINE_ROWS = 25  # agreements drawn on the timeline picture (the text lists every item)
IN_FORCE_SQL = "('signed', 'active', 'expiring', 'renewed')"


# -- settings -------------------------------------------------------------------------------

def _int_range(lo: int, hi: int, what: str) -> Callable[[Any], int]:
    def validate(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InvalidInput(Msg(what, low=lo, high=hi))
        return v
    return validate


def _offsets_setting(v: Any) -> list[int]:
    if isinstance(v, str):
        try:
            return list(P.parse_offsets(v))
        except P.PlanningInputError as exc:
            raise InvalidInput(exc.msg) from None
    if isinstance(v, list | tuple) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return _offsets_setting(",".join(str(x) for x in v))
    raise InvalidInput(N_("Reminder offsets are days before expiry, e.g. `180,90,30,7`."))


SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("mou_remind_offsets", N_("MOU reminders (days before expiry)"), list(P.DEFAULT_OFFSETS),
                _offsets_setting, lambda v: ", ".join(str(x) for x in v)),
    SettingSpec("mou_reminder_hour", N_("MOU reminder hour (server time)"), 9,
                _int_range(0, 23, N_("The hour must be a whole number from {low} to {high}.")),
                lambda v: f"{int(v):02d}:00"),
    SettingSpec("mou_digest_day", N_("MOU digest day"), 0,
                _int_range(0, 6, N_("The day must be a whole number from {low} to {high}.")),
                lambda v: P.WEEKDAYS[int(v)].title()),
    SettingSpec("mou_digest_hour", N_("MOU digest hour (server time)"), 9,
                _int_range(0, 23, N_("The hour must be a whole number from {low} to {high}.")),
                lambda v: f"{int(v):02d}:00"),
    SettingSpec("mou_dormant_months", N_("MOU dormant after (months without activity)"), 6,
                _int_range(1, 60, N_("Months must be a whole number from {low} to {high}.")),
                lambda v: Msg("{months} months", months=v)),
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
class TimelineRow:
    """One agreement on the timeline: its expiry, renewal-notice deadline and open milestones."""

    agreement_id: int
    title: str
    expires_on: date | None
    notice_on: date | None  # the renewal-notice deadline; the notice period runs from it to the expiry
    milestones: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class Timeline:
    today: date
    until: date
    rows: tuple[TimelineRow, ...]
    total: int  # agreements with something in the window (rows are capped)


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


EMPTY_TEXT = {  # clean_text's refusals, one catalog id per field it checks
    "title": N_("The title can't be empty."),
    "reason": N_("The reason can't be empty."),
    "activity_note": N_("The activity note can't be empty."),
    "milestone_description": N_("The milestone description can't be empty."),
}
LONG_TEXT = {
    "title": N_("The title is {length} characters long; the limit is {limit}. Nothing was saved."),
    "reason": N_("The reason is {length} characters long; the limit is {limit}. Nothing was saved."),
    "summary": N_("The summary is {length} characters long; the limit is {limit}. Nothing was saved."),
    "focus_areas": N_("The focus areas are {length} characters long; the limit is {limit}. Nothing was "
                      "saved."),
    "activity_note": N_("The activity note is {length} characters long; the limit is {limit}. Nothing was "
                        "saved."),
    "milestone_description": N_("The milestone description is {length} characters long; the limit is "
                                "{limit}. Nothing was saved."),
}


def clean_text(text: str | None, limit: int, what: str, *, required: bool = False) -> str:
    t = (text or "").replace("\r\n", "\n").strip()
    if required and not t:
        raise InvalidInput(EMPTY_TEXT.get(what, N_("This text can't be empty.")))
    if len(t) > limit:
        template = LONG_TEXT.get(what, N_("This text is {length} characters long; the limit is {limit}. "
                                          "Nothing was saved."))
        raise InvalidInput(Msg(template, length=len(t), limit=limit))
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
            raise InvalidInput(Msg(
                N_("“{link}” is not a web link. Links must start with http:// or https://. "
                   "Nothing was saved."),
                link=md_line(p, 60),
            ))
        if p not in out:
            out.append(p)
    if len(out) > LINKS_MAX:
        raise InvalidInput(Msg(N_("At most {max} links, please. Nothing was saved."), max=LINKS_MAX))
    return tuple(out)


def parse_day(text: str, today: date) -> date:
    """A user-typed calendar date through bot.timeparse.parse_date (fallback: ISO / `in N months`)."""
    try:
        from bot.timeparse import TimeParseError, parse_date
    except ImportError:  # pragma: no cover - timeparse is core
        try:
            return P.parse_day_fallback(text, today)
        except P.PlanningInputError as exc:
            raise InvalidInput(exc.msg) from None
    try:
        day = parse_date(text, today=today)
    except TimeParseError as exc:
        raise InvalidInput(exc.msg) from None
    # Reminders and notice deadlines are computed up to ten years either side of these dates:
    # year 1 or 9999 would overflow `date` (and no agreement is that old or that long).
    if not DAY_MIN <= day <= DAY_MAX:
        raise InvalidInput(Msg(
            N_("{day} is out of range: agreement dates go from {first} to {last}. Nothing was saved."),
            day=day.isoformat(), first=DAY_MIN.year, last=DAY_MAX.year,
        ))
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


def describe_due(item: DueItem) -> str:
    if item.what == "expiry":
        return N_("expires")
    if item.what == "notice":
        return N_("renewal-notice deadline")
    return f"milestone: {item.detail}"



class MouParts:
    """What every part of MouService shares: its state, and (for the type checker) the methods one part
    calls on another. MouService (cogs/mous/service.py) joins the parts."""

    db: Database
    scheduler: Scheduler
    settings: Any

    if TYPE_CHECKING:
        def now(self) -> datetime: ...
        async def config(self, guild_id: int) -> GuildPlanConfig: ...
        async def today(self, guild_id: int) -> date: ...
        async def resolve_party(self, guild_id: int, text: str) -> PartyInput: ...
        async def dm_ok(self, guild_id: int, user_id: int) -> bool: ...
        async def get(self, guild_id: int, agreement_id: int) -> Agreement: ...
        async def owners(self, guild_id: int, agreement_id: int) -> tuple[int, ...]: ...
        async def parties(self, guild_id: int, agreement_id: int) -> tuple[Party, ...]: ...
        async def milestones(self, guild_id: int, agreement_id: int) -> tuple[Milestone, ...]: ...
        async def ensure_can_edit(self, guild_id: int, agreement_id: int, actor: Actor) -> None: ...
        async def _audit(self, guild_id: int, actor_id: int | None, action: str, agreement_id: int,
                         changes: dict[str, Any]) -> None: ...
        async def renew(self, guild_id: int, actor: Actor | None, agreement_id: int, new_expiry: str | date,
                        *, reason: str = "renewal") -> Agreement: ...
        async def _notify_new_owner(self, guild_id: int, agreement_id: int, user_id: int, actor_id: int,
                                    now: datetime) -> None: ...
        async def replan(self, guild_id: int, agreement_id: int) -> PlanStats: ...
        async def ensure_digest(self, guild_id: int, *, after: datetime | None = None) -> datetime: ...


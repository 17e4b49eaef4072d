"""Pure rules of the MOU tracker: the status machine, calendar arithmetic and reminder planning.

Nothing here touches the database, Discord or the wall clock: every function takes `today`
or `now` explicitly, so the rules are tested directly.

Dates are calendar dates (`datetime.date`). A date-based event fires at a fixed local hour
(the server's `mou_reminder_hour`, default 09:00) in the server's time zone on that day, and
is converted to UTC for the scheduler. Status changes fire at local midnight: an agreement
enters `expiring` at 00:00 on its renewal-notice deadline and `expired` at 00:00 on the day
after its expiry date (the expiry date is the last day it is in force).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from json.encoder import encode_basestring as _json_text  # json's own (C) string encoder
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.i18n import N_, Localized, Msg, format_list, t

KINDS: tuple[str, ...] = ("mou", "sister-city", "friendship-city", "cooperation-agreement", "other")
STATUSES: tuple[str, ...] = (
    "draft", "negotiating", "signed", "active", "expiring", "expired", "renewed", "terminated",
)
SIGNATURE_MODES: tuple[str, ...] = ("wet-ink", "e-signature", "both")
ESIGN_STATUSES: tuple[str, ...] = ("n/a", "pending", "sent", "signed", "declined")

# The status machine. `renewed` means "in force again after a renewal" (a new term is open):
# it behaves like `active` and moves to `expiring`/`expired` on the new dates.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("negotiating", "signed", "terminated"),
    "negotiating": ("draft", "signed", "terminated"),
    "signed": ("active", "expiring", "expired", "terminated"),
    "active": ("expiring", "expired", "renewed", "terminated"),
    "expiring": ("active", "expired", "renewed", "terminated"),
    "expired": ("active", "renewed", "terminated"),
    "renewed": ("active", "expiring", "expired", "terminated"),
    "terminated": (),
}
IN_FORCE: frozenset[str] = frozenset({"signed", "active", "expiring", "renewed"})
# Statuses whose expiry reminders and status jobs are planned.
DATED: frozenset[str] = IN_FORCE
# Statuses whose milestone reminders are planned (not after the agreement has ended).
MILESTONE_LIVE: frozenset[str] = frozenset({"draft", "negotiating", *IN_FORCE})

DEFAULT_OFFSETS: tuple[int, ...] = (180, 90, 30, 7)
MAX_OFFSETS = 10
MAX_OFFSET_DAYS = 3650
STALE_AFTER = timedelta(days=1)  # a reminder more than a day late (after downtime) is skipped


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def can_transition(old: str, new: str) -> bool:
    return old == new or new in TRANSITIONS.get(old, ())


class StatusName(Localized):
    """A status as the reader reads it (the word of its command choice): "draft", "brouillon", "borrador"."""

    __slots__ = ("status",)

    def __init__(self, status: str) -> None:
        self.status = status

    def localize(self, lang: str) -> str:
        return t(lang, self.status)


class StatusNames(Localized):
    """Statuses as the reader reads them, as code: "`negotiating`, `signed`, or `terminated`"."""

    __slots__ = ("statuses",)

    def __init__(self, statuses: Iterable[str]) -> None:
        self.statuses = tuple(statuses)

    def localize(self, lang: str) -> str:
        return format_list(lang, [f"`{t(lang, s)}`" for s in self.statuses], style="or")


def transition_error(old: str, new: str, *, nothing_saved: bool = False) -> Msg | None:
    """Why old → new is not allowed (a message shown in the reader's language), else None."""
    if can_transition(old, new):
        return None
    allowed = allowed_transitions(old)
    if not allowed:
        if nothing_saved:
            return Msg(
                N_("This agreement is **{status}**; its status can no longer change. Nothing was saved."),
                status=StatusName(old))
        return Msg(N_("This agreement is **{status}**; its status can no longer change."),
                   status=StatusName(old))
    if nothing_saved:
        return Msg(
            N_("An agreement that is **{status}** can move to {allowed}, not `{new}`. Nothing was saved."),
            status=StatusName(old), allowed=StatusNames(allowed), new=StatusName(new))
    return Msg(N_("An agreement that is **{status}** can move to {allowed}, not `{new}`."),
               status=StatusName(old), allowed=StatusNames(allowed), new=StatusName(new))


class PlanningInputError(ValueError):
    """Member text these rules cannot read: `msg` is shown in the reader's language; `str()` is English."""

    def __init__(self, msg: Msg) -> None:
        self.msg = msg
        super().__init__(str(msg))


# -- calendar arithmetic ----------------------------------------------------------------

def iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def parse_iso(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def add_months(d: date, months: int) -> date:
    """Calendar months with month-end clamping: 31 Jan + 1 month = 28/29 Feb."""
    return d + relativedelta(months=months)


def add_years(d: date, years: int) -> date:
    """29 Feb + 1 year = 28 Feb."""
    return d + relativedelta(years=years)


def notice_deadline(expires: date | None, notice_days: int) -> date | None:
    return expires - timedelta(days=notice_days) if expires is not None else None


@lru_cache(maxsize=1 << 16)
def local_instant(d: date, hour: int, zone: str, minute: int = 0) -> datetime:
    """The UTC instant of `hour:minute` local time in `zone` on day `d`.

    Non-existent local times (spring-forward gap) resolve forwards, ambiguous ones
    (fall-back) to the first occurrence — zoneinfo's fold=0 semantics. Cached (a pure function of
    its arguments): a server's reminders fall on a few thousand distinct days at one hour."""
    local = datetime.combine(d, time(hour, minute), tzinfo=ZoneInfo(zone))
    # Round-trip through UTC normalises a time inside a DST gap.
    return local.astimezone(UTC)


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def date_ts(d: date, zone: str) -> int:
    """Unix seconds for local noon of `d` in the server zone: a Discord `<t:…:D>` timestamp that
    shows the same calendar day for viewers within ±11 hours of the server."""
    return int(local_instant(d, 12, zone).timestamp())


_REL = re.compile(
    r"^\s*(?:in\s+)?(\d{1,4})\s*(d|day|days|w|wk|week|weeks|m|mo|month|months|y|yr|year|years)\s*$", re.I
)


def parse_day_fallback(text: str, today: date) -> date:
    """ISO dates, `today`, `tomorrow`, and `in N days|weeks|months|years` (month ends clamp).

    Used when bot.timeparse.parse_date is not available. Raises ValueError with a message
    fit for a user."""
    t = text.strip().lower()
    if t == "today":
        return today
    if t == "tomorrow":
        return today + timedelta(days=1)
    m = _REL.match(t)
    if m:
        n = int(m.group(1))
        unit = m.group(2)[0]
        if unit == "d":
            return today + timedelta(days=n)
        if unit == "w":
            return today + timedelta(weeks=n)
        if unit == "m":
            return add_months(today, n)
        return add_years(today, n)
    try:
        return date.fromisoformat(t)
    except ValueError:
        pass
    raise PlanningInputError(Msg(
        N_("I couldn't read “{text}” as a date. Use YYYY-MM-DD (e.g. 2027-03-31) or “in 6 months”."),
        text=text[:50]))


def parse_offsets(text: str) -> tuple[int, ...]:
    """`180,90,30,7` → (180, 90, 30, 7): unique, sorted descending, each 1..3650 days."""
    parts = [
        p.strip().lower().removesuffix("d").strip() for p in re.split(r"[,\s;]+", text.strip()) if p.strip()
    ]
    if not parts:
        raise PlanningInputError(
            Msg(N_("Give one or more numbers of days before expiry, e.g. `180,90,30,7`.")))
    out: set[int] = set()
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            raise PlanningInputError(Msg(
                N_("“{text}” is not a number of days. Use whole numbers like `180,90,30,7`."), text=p[:20]))
        n = int(p)
        if not 1 <= n <= MAX_OFFSET_DAYS:
            raise PlanningInputError(Msg(
                N_("{n} is out of range: offsets are 1 to {max} days before expiry."), n=n,
                max=MAX_OFFSET_DAYS))
        out.add(n)
    if len(out) > MAX_OFFSETS:
        raise PlanningInputError(Msg(N_("At most {max} offsets, please."), max=MAX_OFFSETS))
    return tuple(sorted(out, reverse=True))


def renewal_expiry(starts: date | None, expires: date) -> date:
    """Auto-renewal: extend by the length of the term just ending (in whole months, at least 12)."""
    months = 12
    if starts is not None and starts < expires:
        rd = relativedelta(expires, starts)
        months = max(12, rd.years * 12 + rd.months + (1 if rd.days >= 15 else 0))
    return add_months(expires, months)


# -- status ------------------------------------------------------------------------------

def desired_status(status: str, *, effective: date | None, expires: date | None, notice_days: int,
                   today: date) -> str:
    """The status the dates imply for an agreement currently in `status` (automatic moves only).

    draft, negotiating and terminated are never changed automatically. A signed agreement
    becomes active on its effective date; anything in force enters `expiring` once the notice
    window is open and `expired` after the expiry date; moving the expiry later brings an
    expiring/expired agreement back to `active` (or keeps `renewed`)."""
    if status not in IN_FORCE and status != "expired":
        return status
    if expires is not None and today > expires:
        return "expired"
    if expires is not None and today >= expires - timedelta(days=notice_days):
        return "expiring"
    if status == "signed":
        if effective is not None and today >= effective:
            return "active"
        return "signed"
    if status in ("expiring", "expired"):
        return "active"
    return status


def next_midnight_after(d: date, zone: str) -> datetime:
    return local_instant(d + timedelta(days=1), 0, zone)


# -- reminder planning ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlanAgreement:
    id: int
    term: int
    status: str
    effective: date | None
    expires: date | None
    notice_days: int
    offsets: tuple[int, ...] | None  # None: server default
    auto_renew: bool = False


@dataclass(frozen=True, slots=True)
class PlanMilestone:
    id: int
    due: date
    done: bool


@dataclass(frozen=True, slots=True)
class PlannedJob:
    key: str
    kind: str  # "mou.remind" or "mou.status"
    due: datetime
    payload: tuple[tuple[str, object], ...]
    body: str = ""  # the payload as the jobs table stores it (encode_payload), made once with the plan

    def payload_dict(self) -> dict[str, object]:
        return dict(self.payload)


def encode_payload(items: Sequence[tuple[str, object]]) -> str:
    """A plan job's payload as JSON, exactly as `json.dumps(dict(items), separators=(",", ":"),
    ensure_ascii=False)` writes it, without its general machinery: a plan writes one per job (131,000 for
    20,000 agreements), and the values are only whole numbers and short texts."""
    parts = []
    for key, value in items:
        if isinstance(value, bool) or value is None or not isinstance(value, int | str):
            return json.dumps(dict(items), separators=(",", ":"), ensure_ascii=False)
        parts.append(f"{_json_text(key)}:{value if isinstance(value, int) else _json_text(value)}")
    return "{" + ",".join(parts) + "}"


REMIND_KIND = "mou.remind"
STATUS_KIND = "mou.status"
DIGEST_KIND = "mou.digest"


def reminder_target(guild_id: int, channel_id: int | None) -> str:
    """The scheduler target of a server's reminder jobs: its announcements channel, else one name for the
    server (reminders then go by DM only). Jobs of one target due in the same minute are delivered
    together (combined posts and DMs)."""
    return str(channel_id) if channel_id is not None else f"mou-dm:{guild_id}"


def agreement_prefix(agreement_id: int) -> str:
    return f"mou:{agreement_id}:"


def term_prefix(agreement_id: int, term: int) -> str:
    return f"mou:{agreement_id}:t{term}:"


def plan_agreement(
    a: PlanAgreement,
    milestones: Iterable[PlanMilestone],
    *,
    zone: str,
    hour: int,
    default_offsets: Sequence[int],
    now: datetime,
) -> dict[str, PlannedJob]:
    """Every job the agreement should have pending, keyed by dedupe key.

    Items whose time is more than STALE_AFTER in the past are left out (they already fired
    or are too late to matter), so a re-plan after downtime keeps the recent ones and the
    stale rule skips them if they are still late when they run."""
    out: dict[str, PlannedJob] = {}
    floor = now - STALE_AFTER
    pre = term_prefix(a.id, a.term)
    # Each job's payload is written out here as the JSON the jobs table stores (a plan makes 131,000 of
    # them for 20,000 agreements): the values are whole numbers, ISO dates and the fixed words below, none
    # of which JSON escapes. tests/test_mous_service.py checks each body against json.dumps.
    ids = (("agreement_id", a.id), ("term", a.term))
    tail = f'"agreement_id":{a.id},"term":{a.term}}}'

    def add(key: str, kind: str, due: datetime, items: tuple[tuple[str, object], ...], body: str) -> None:
        if due >= floor:
            out[pre + key] = PlannedJob(pre + key, kind, due, items + ids, body + tail)

    if a.status in DATED and a.expires is not None:
        offsets = a.offsets if a.offsets is not None else tuple(default_offsets)
        for off in offsets:
            on = (a.expires - timedelta(days=off)).isoformat()
            add(f"exp:{off}d", REMIND_KIND, local_instant(a.expires - timedelta(days=off), hour, zone),
                (("what", "expiry"), ("offset", off), ("on", on)),
                f'{{"what":"expiry","offset":{off},"on":"{on}",')
        if a.notice_days > 0:
            nd = a.expires - timedelta(days=a.notice_days)
            on = nd.isoformat()
            add("notice", REMIND_KIND, local_instant(nd, hour, zone), (("what", "notice"), ("on", on)),
                f'{{"what":"notice","on":"{on}",')
            add("status:expiring", STATUS_KIND, local_instant(nd, 0, zone), (("to", "expiring"),),
                '{"to":"expiring",')
        to = "renew" if a.auto_renew else "expired"
        add("status:expired", STATUS_KIND, next_midnight_after(a.expires, zone), (("to", to),),
            f'{{"to":"{to}",')
    if a.status == "signed" and a.effective is not None:
        add("status:active", STATUS_KIND, local_instant(a.effective, 0, zone), (("to", "active"),),
            '{"to":"active",')
    if a.status in MILESTONE_LIVE:
        for m in milestones:
            if m.done:
                continue
            due = local_instant(m.due, hour, zone)
            if due < floor:
                continue
            on = m.due.isoformat()
            key = f"{pre}ms:{m.id}"
            out[key] = PlannedJob(
                key, REMIND_KIND, due, (("what", "milestone"), ("milestone_id", m.id), ("on", on), *ids),
                f'{{"what":"milestone","milestone_id":{m.id},"on":"{on}",{tail}')
    return out


# The version of the planning rules above: bump it when `plan_agreement` would plan differently from
# the same inputs, so the next start re-plans every agreement once.
PLAN_VERSION = 1


def config_signature(zone: str, hour: int, default_offsets: Sequence[int], channel_id: int | None) -> str:
    """The server settings every agreement's plan depends on (the channel is the jobs' target)."""
    return f"v{PLAN_VERSION}|{zone}|{hour}|{','.join(map(str, default_offsets))}|{channel_id}"


def plan_fingerprint(config: str, revision: int) -> str:
    """What an agreement's pending jobs were planned from: the server's plan signature (config_signature)
    and the agreement's plan revision (mou_agreements.plan_rev, raised by triggers whenever its dates,
    status, offsets or milestones change). Equal fingerprints mean the pending jobs are still the plan
    (items only drop out of a plan as they become stale, and the stale rule skips those when they run).
    The re-plan query compares them in SQL as `signature || '#' || plan_rev`: keep the two in step."""
    return f"{config}#{revision}"


def parse_milestones(text: str | None) -> list[PlanMilestone]:
    """The open milestones of `plan_fingerprint`'s "id@YYYY-MM-DD,…" text."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        mid, _, due = part.partition("@")
        out.append(PlanMilestone(int(mid), date.fromisoformat(due), False))
    return out


@dataclass(frozen=True, slots=True)
class PlanDiff:
    cancel: tuple[str, ...]
    schedule: tuple[PlannedJob, ...]


def diff_plan(
    desired: dict[str, PlannedJob], pending: dict[str, tuple[datetime, dict[str, object]]]
) -> PlanDiff:
    """Compare the desired plan with the pending jobs (key → (original due, payload)).

    Pending jobs not in the plan are cancelled; planned jobs that are missing or whose due time
    or payload changed are (re)scheduled; identical ones are left alone."""
    cancel = tuple(sorted(k for k in pending if k not in desired))
    todo: list[PlannedJob] = []
    for key, job in desired.items():
        cur = pending.get(key)
        if cur is None or cur[0] != job.due or cur[1] != job.payload_dict():
            todo.append(job)
    todo.sort(key=lambda j: (j.due, j.key))
    return PlanDiff(cancel, tuple(todo))


def next_digest(now: datetime, *, zone: str, weekday: int, hour: int) -> datetime:
    """The next weekly digest instant strictly after `now` (weekday 0 = Monday, server-local hour)."""
    today = local_today(now, zone)
    d = today + timedelta(days=(weekday - today.weekday()) % 7)
    for _ in range(3):
        at = local_instant(d, hour, zone)
        if at > now:
            return at
        d += timedelta(days=7)
    return local_instant(d, hour, zone)


WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

"""Roundtables: rules and SQL. No discord import.

Why this file stays whole (~1.1k lines): it is one sub-domain, a series and its occurrences. RSVPs,
notes, per-occurrence overrides and reminder jobs are all keyed by the occurrence, and every write
re-plans that occurrence's jobs in the same transaction through the same occurrence model
(`_effective`, `next_occurrence`); cutting RSVPs or the mirror out would split that model across
files. The pure parts already live beside it: recurrence.py (rules), findtime.py (finding a time
for several zones), ics.py (calendar files).

Occurrences are keyed by their ORIGINAL start (UTC seconds, `occ_s`) even when moved, so
RSVPs, overrides and reminder jobs stay attached to the same occurrence. Only the next
occurrence of a series (the first whose end is still ahead) has pending jobs:

    rt:<id>:occ:<occ_s>:r<minutes>   reminder `minutes` before the start
    rt:<id>:occ:<occ_s>:end          `roundtable.advance` at the end: moves on to the next one

Every member/moderator write is one transaction with an audit row.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol

from bot import audit
from bot.clock import Clock, from_ms, system_clock
from bot.db import Database, placeholders
from bot.errors import Conflict, InvalidInput, Mention, Moment, NotFound, PermissionDenied
from bot.export import Column, NameLookup, member_ids, write_csv
from bot.i18n import N_, Msg
from bot.scheduler import Scheduler
from bot.text import md_line
from bot.timeparse import from_unix, get_zone, to_unix
from cogs.roundtables import recurrence

log = logging.getLogger(__name__)

FORMATS = ("virtual", "in-person", "hybrid")
FORMAT_LABEL = {"virtual": N_("Virtual"), "in-person": N_("In person"), "hybrid": N_("Hybrid")}  # shown
RESPONSES = ("going", "maybe", "declined")
TITLE_MAX = 100
AGENDA_MAX = 2000
PLACE_MAX = 200
LINK_MAX = 500
NOTES_MAX = 4000
MIN_DURATION = 5
MAX_DURATION = 12 * 60
MAX_CAPACITY = 10_000
MAX_COUNT = 500
DEFAULT_OFFSETS = (1440, 15)
OFFSETS_KEY = "roundtable_reminder_offsets"
REMINDER_KIND = "roundtable.reminder"
ADVANCE_KIND = "roundtable.advance"
# Telling members about a committed change (edit, cancel; a place that opened up) is a job enqueued in
# the change's transaction, so a crash right after the commit still delivers it, once (its nonces).
# The cog runs it at once (`Scheduler.run_now`); the grace only delays the dispatcher's own attempt.
NOTIFY_KIND = "roundtable.notify"
FEED_LIMIT = 500  # roundtables in one member's live calendar feed
FEED_KEEP_DAYS = 30  # a cancelled or finished roundtable stays in feeds this long after its last change
NOTIFY_GRACE = timedelta(seconds=15)
LATE_LIMIT = timedelta(hours=1)
# Who may change a roundtable: one whole sentence per action (a catalog id each).
HostAction = Literal["edit", "cancel", "export", "notes"]
HOST_ONLY: dict[str, str] = {
    "edit": N_("Only the host ({host}) or a moderator can edit this roundtable."),
    "cancel": N_("Only the host ({host}) or a moderator can cancel this roundtable."),
    "export": N_("Only the host ({host}) or a moderator can export the attendees of this roundtable."),
    "notes": N_("Only the host ({host}) or a moderator can add notes to this roundtable."),
}
_URL_RE = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)

# The columns of a roundtable's attendee export (bot.export writes it: member ids as text, names beside).
ATTENDEE_COLUMNS: list[Column | str] = [
    "roundtable_id", "roundtable", "meeting_utc", Column("member_id", "member"), "answer", "city", "country",
    "title", "office", "answered_utc",
]


class SettingsLike(Protocol):
    async def get(self, guild_id: int) -> Any: ...



# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Roundtable:
    id: int
    guild_id: int
    title: str
    agenda: str | None
    host_id: int
    start: datetime
    tz: str
    duration_min: int
    format: str
    link: str | None
    place: str | None
    link_public: bool
    capacity: int | None
    repeat: str
    rrule: str | None
    status: str
    next_occ: datetime | None
    next_start: datetime | None
    last_start: datetime | None
    channel_id: int | None
    message_id: int | None
    event_id: int | None

    @property
    def recurring(self) -> bool:
        return self.rrule is not None

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_min)

    @property
    def series(self) -> recurrence.Series:
        return recurrence.Series(self.start, self.tz, self.rrule, self.duration)

    @property
    def next_end(self) -> datetime | None:
        return None if self.next_start is None else self.next_start + self.duration

    def repeat_in(self, lang: str) -> str:
        """How it repeats, in `lang` ("weekly on Tuesday", "chaque semaine le mardi")."""
        local = self.start.astimezone(get_zone(self.tz)).replace(tzinfo=None)
        return recurrence.describe(self.repeat, self.rrule, local, lang)


@dataclass(frozen=True, slots=True)
class Occurrence:
    key: datetime  # original start, UTC
    start: datetime  # effective start (moved or not)
    end: datetime
    moved: bool = False

    @property
    def key_s(self) -> int:
        return to_unix(self.key)


@dataclass(frozen=True, slots=True)
class Counts:
    going: int = 0
    waitlist: int = 0
    maybe: int = 0
    declined: int = 0


@dataclass(frozen=True, slots=True)
class Attendee:
    user_id: int
    status: str
    seq: int


@dataclass(frozen=True, slots=True)
class RsvpResult:
    roundtable: Roundtable
    occurrence: Occurrence
    status: str  # final status of the member: going / waitlist / maybe / declined
    changed: bool
    waitlist_position: int | None
    promoted: tuple[int, ...]
    counts: Counts
    notice_key: str | None = None  # the NOTIFY_KIND job telling the promoted members


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """Outcome of an edit or a cancel, for the cog to notify and re-render."""

    roundtable: Roundtable
    before: Roundtable
    occurrence: Occurrence | None  # the occurrence concerned (edit/cancel "this"), else the old next one
    going: tuple[int, ...]  # going members of that occurrence (to notify)
    promoted: tuple[int, ...] = ()
    changes: tuple[str, ...] = ()
    whole_series: bool = True
    notice_key: str | None = None  # the NOTIFY_KIND job telling those going (and those promoted)


@dataclass(frozen=True, slots=True)
class Note:
    roundtable_id: int
    occ: datetime
    text: str
    author_id: int


def _dt(s: int | None) -> datetime | None:
    return None if s is None else from_unix(s)


def _row(r: Any) -> Roundtable:
    return Roundtable(
        id=r["id"], guild_id=r["guild_id"], title=r["title"], agenda=r["agenda"], host_id=r["host_id"],
        start=from_unix(r["start_s"]), tz=r["tz"], duration_min=r["duration_min"], format=r["format"],
        link=r["link"], place=r["place"], link_public=bool(r["link_public"]), capacity=r["capacity"],
        repeat=r["repeat"], rrule=r["rrule"], status=r["status"], next_occ=_dt(r["next_occ_s"]),
        next_start=_dt(r["next_start_s"]), last_start=_dt(r["last_start_s"]), channel_id=r["channel_id"],
        message_id=r["message_id"], event_id=r["event_id"],
    )


def split_where(where: str | None) -> tuple[str | None, str | None]:
    """'https://meet.example/x, Room 4' → (link, place). Either may be None."""
    if not where or not where.strip():
        return None, None
    text = " ".join(where.split())
    m = _URL_RE.search(text)
    link = m.group(0).rstrip(".,;)") if m else None
    place = text
    if link:
        place = (text[: m.start()] + text[m.end():]).strip(" ,;-·|") if m else text
    if link and len(link) > LINK_MAX:
        raise InvalidInput(
            Msg("That link is too long (at most {n} characters).", n=LINK_MAX)
        )
    if place and len(place) > PLACE_MAX:
        raise InvalidInput(
            Msg("The place is too long (at most {n} characters).", n=PLACE_MAX)
        )
    return link, (place or None)


def validate_offsets(value: Any) -> list[int] | None:
    """Setting validator: 1–4 reminder offsets in minutes, each from 5 minutes to 7 days."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= 4:
        raise InvalidInput(N_("Give one to four reminder times, such as `24h, 15m`."))
    out: list[int] = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or not 5 <= v <= 7 * 1440:
            raise InvalidInput(N_("Each reminder must be from 5 minutes to 7 days before the start."))
        if v not in out:
            out.append(v)
    return sorted(out, reverse=True)


def render_offsets(value: Any) -> Msg:
    vals = value or list(DEFAULT_OFFSETS)
    return Msg("{times} before", times=", ".join(offset_label(v) for v in vals))


def offset_label(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440 * 24} h"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    if minutes > 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min"


def is_stale(offset_min: int, occ_start: datetime, due: datetime, now: datetime) -> bool:
    """A reminder of an hour or more ahead is stale when more than an hour late; a shorter
    one is stale once the meeting has started."""
    if now >= occ_start:
        return True
    return offset_min >= 60 and now - due > LATE_LIMIT


# --------------------------------------------------------------------------- service


class RoundtableService:
    def __init__(
        self,
        db: Database,
        scheduler: Scheduler | None = None,
        *,
        settings: SettingsLike | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.scheduler = scheduler
        self.settings = settings
        self.clock = clock

    # -- helpers -------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    async def offsets(self, guild_id: int) -> list[int]:
        if self.settings is None:
            return list(DEFAULT_OFFSETS)
        gs = await self.settings.get(guild_id)
        vals = gs.get(OFFSETS_KEY) if hasattr(gs, "get") else None
        return list(vals) if vals else list(DEFAULT_OFFSETS)

    async def _announce_channel(self, guild_id: int) -> int | None:
        if self.settings is None:
            return None
        return (await self.settings.get(guild_id)).announcements_channel_id

    async def get(self, guild_id: int, rt_id: int) -> Roundtable:
        r = await self.db.fetchone(
            "SELECT * FROM roundtables WHERE guild_id = ? AND id = ?", (guild_id, rt_id)
        )
        if r is None:
            raise NotFound(
                Msg("There's no roundtable #{id} in this server. `/roundtable list` shows them.", id=rt_id)
            )
        return _row(r)

    async def overrides(self, rt: Roundtable) -> dict[int, tuple[str, int | None]]:
        rows = await self.db.fetchall(
            "SELECT occ_s, action, new_start_s FROM roundtable_overrides "
            "WHERE guild_id = ? AND roundtable_id = ?",
            (rt.guild_id, rt.id),
        )
        return {r["occ_s"]: (r["action"], r["new_start_s"]) for r in rows}

    def _effective(
        self, rt: Roundtable, overrides: dict[int, tuple[str, int | None]], *, after: datetime, limit: int,
        include_ongoing: bool,
    ) -> list[Occurrence]:
        """Occurrences (overrides applied, skips dropped) whose end (ongoing) or start is after `after`."""
        dur = rt.duration
        out: list[Occurrence] = []
        moved_keys: set[int] = set()
        for key_s, (action, new_s) in overrides.items():
            if action == "move" and new_s is not None:
                moved_keys.add(key_s)
                start = from_unix(new_s)
                edge = start + dur if include_ongoing else start
                if edge > after:
                    out.append(Occurrence(from_unix(key_s), start, start + dur, True))
        scanned = 0
        found = 0
        for utc, _local in recurrence.iter_starts(rt.series, after=after - dur):
            scanned += 1
            if scanned > recurrence.SCAN_LIMIT:
                break
            edge = utc + dur if include_ongoing else utc
            if edge <= after:
                continue
            key_s = to_unix(utc)
            if key_s in overrides:
                continue
            out.append(Occurrence(utc, utc, utc + dur))
            found += 1
            if found >= limit:
                break
        out.sort(key=lambda o: (o.start, o.key))
        return out[:limit]

    async def occurrences(
        self, rt: Roundtable, *, after: datetime | None = None, limit: int = 10, include_ongoing: bool = True
    ) -> list[Occurrence]:
        ov = await self.overrides(rt)
        return self._effective(
            rt, ov, after=after or self.now(), limit=limit, include_ongoing=include_ongoing
        )

    async def occurrence(self, rt: Roundtable, key: datetime) -> Occurrence | None:
        """The occurrence with this original start, if it is one of the series and not skipped."""
        key_s = to_unix(key)
        ov = await self.overrides(rt)
        if key_s in ov:
            action, new_s = ov[key_s]
            if action == "skip" or new_s is None:
                return None
            start = from_unix(new_s)
            return Occurrence(key, start, start + rt.duration, True)
        for utc in recurrence.raw_starts(rt.series, after=key - timedelta(seconds=1), limit=1):
            if utc == key:
                return Occurrence(key, key, key + rt.duration)
        return None

    async def next_occurrence(self, rt: Roundtable) -> Occurrence | None:
        if rt.next_occ is None or rt.next_start is None:
            return None
        return Occurrence(
            rt.next_occ, rt.next_start, rt.next_start + rt.duration, rt.next_occ != rt.next_start
        )

    # -- jobs ----------------------------------------------------------------------
    async def _schedule_jobs(self, rt: Roundtable, occ: Occurrence, now: datetime) -> int:
        """Pending reminders + the end-of-occurrence advance job for one occurrence."""
        if self.scheduler is None:
            return 0
        channel = await self._announce_channel(rt.guild_id)
        n = 0
        base = f"rt:{rt.id}:occ:{occ.key_s}:"
        for off in await self.offsets(rt.guild_id):
            due = occ.start - timedelta(minutes=off)
            if is_stale(off, occ.start, due, now):
                continue
            await self.scheduler.schedule(
                REMINDER_KIND, due, guild_id=rt.guild_id, dedupe_key=f"{base}r{off}",
                payload={"rt": rt.id, "occ": occ.key_s, "start": to_unix(occ.start), "offset": off},
                target=channel,
            )
            n += 1
        await self.scheduler.schedule(
            ADVANCE_KIND, occ.end, guild_id=rt.guild_id, dedupe_key=f"{base}end",
            payload={"rt": rt.id, "occ": occ.key_s},
        )
        return n + 1

    async def _enqueue_notice(
        self, rt: Roundtable, *, going: Sequence[int] = (), changes: Sequence[str] = (), whole: bool = True,
        occ: Occurrence | None = None, promoted: Sequence[int] = (), promoted_occ: Occurrence | None = None,
        channel_id: int | None = None,
    ) -> str | None:
        """Inside the change's transaction: the job that tells those going (and those promoted from the
        waitlist). Its key is not under `rt:<id>:`, so a later edit's job cancelling leaves it alone."""
        if self.scheduler is None or not (going or promoted):
            return None
        key = f"rtn:{rt.id}:{secrets.token_hex(6)}"
        await self.scheduler.schedule(
            NOTIFY_KIND,
            self.scheduler.clock() + NOTIFY_GRACE,
            guild_id=rt.guild_id,
            dedupe_key=key,
            payload={
                "rt": rt.id,
                "going": list(going),
                "changes": list(changes),
                "whole": whole,
                "occ": to_unix(occ.start) if occ else None,
                "promoted": list(promoted),
                "promoted_occ": to_unix(promoted_occ.start) if promoted_occ else None,
                "channel": channel_id,
            },
        )
        return key

    async def _cancel_jobs(self, rt: Roundtable, occ_key: datetime | None = None) -> int:
        if self.scheduler is None:
            return 0
        prefix = f"rt:{rt.id}:" if occ_key is None else f"rt:{rt.id}:occ:{to_unix(occ_key)}:"
        return await self.scheduler.cancel_prefix(rt.guild_id, prefix)

    async def reschedule_jobs(self, rt: Roundtable) -> int:
        """Cancel the series' pending jobs and schedule the next occurrence's (settings change, bench)."""
        async with self.db.transaction():
            await self._cancel_jobs(rt)
            occ = await self.next_occurrence(rt)
            if occ is None or rt.status != "scheduled":
                return 0
            return await self._schedule_jobs(rt, occ, self.now())

    async def _set_next(self, rt: Roundtable, now: datetime) -> Roundtable:
        """Recompute the current/next occurrence, store it and return the updated record."""
        ov = await self.overrides(rt)
        nxt = self._effective(rt, ov, after=now, limit=1, include_ongoing=True)
        occ = nxt[0] if nxt else None
        status = rt.status
        if occ is None and status == "scheduled":
            status = "done"
        await self.db.execute(
            "UPDATE roundtables SET next_occ_s = ?, next_start_s = ?, status = ?, updated_ms = ? "
            "WHERE guild_id = ? AND id = ?",
            (
                occ.key_s if occ else None, to_unix(occ.start) if occ else None, status,
                int(now.timestamp() * 1000), rt.guild_id, rt.id,
            ),
        )
        return replace(
            rt, next_occ=occ.key if occ else None, next_start=occ.start if occ else None, status=status
        )

    # -- create --------------------------------------------------------------------
    async def create(
        self,
        guild_id: int,
        host_id: int,
        *,
        title: str,
        start: datetime,
        tz: str,
        duration_min: int = 60,
        format: str = "virtual",
        where: str | None = None,
        capacity: int | None = None,
        repeat: str | None = None,
        agenda: str | None = None,
        count: int | None = None,
        until: date | None = None,
        link_public: bool = False,
    ) -> Roundtable:
        now = self.now()
        title = " ".join((title or "").split())
        if not title:
            raise InvalidInput(N_("Give the roundtable a title."))
        if len(title) > TITLE_MAX:
            raise InvalidInput(
                Msg("The title is {n} characters long; keep it to {max}.", n=len(title), max=TITLE_MAX)
            )
        agenda = (agenda or "").strip() or None
        if agenda and len(agenda) > AGENDA_MAX:
            raise InvalidInput(
                Msg("The agenda is {n} characters long; keep it to {max}.", n=len(agenda), max=AGENDA_MAX)
            )
        self._check_duration(duration_min)
        if format not in FORMATS:
            raise InvalidInput(
                Msg("Format must be one of: {formats}.", formats=", ".join(FORMATS))
            )
        self._check_capacity(capacity)
        zone = get_zone(tz)
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        start = start.astimezone(UTC).replace(second=0, microsecond=0)
        if start <= now:
            if start.year >= 1970:
                raise InvalidInput(
                    N_("That time is in the past (it was {start}). Pick a time that is still ahead."),
                    start=Moment(start),
                )
            raise InvalidInput(N_("That time is in the past. Pick a time that is still ahead."))
        self._check_ahead(start, now)
        link, place = split_where(where)
        if format == "in-person" and link and not place:
            place = None
        kind, custom = recurrence.parse_repeat(repeat)
        local_start = start.astimezone(zone).replace(tzinfo=None)
        rule: str | None
        if kind == "rrule":
            assert custom is not None
            rule = recurrence.normalise_user_rule(custom)
        else:
            rule = recurrence.base_rule(kind, local_start)
        if count is not None and not 1 <= count <= MAX_COUNT:
            raise InvalidInput(
                Msg("The number of occurrences must be from 1 to {max}.", max=MAX_COUNT)
            )
        until_utc: datetime | None = None
        if until is not None:
            if until > (start + recurrence.HORIZON).date():
                raise InvalidInput(N_("The end date can be at most 10 years after the first meeting."))
            until_utc = recurrence.localize(datetime.combine(until, time(23, 59, 59)), zone)
            if until_utc < start:
                raise InvalidInput(N_("The end date is before the first meeting."))
        if rule is None and (count is not None or until is not None):
            raise InvalidInput(N_("An end (occurrences or until) only makes sense with `repeat`."))
        if rule is not None:
            rule = recurrence.with_end(rule, count=count, until_utc=until_utc)
            first_local = recurrence.validate(rule, local_start, zone, now=now)
            if first_local != local_start:
                # DTSTART must be the first occurrence (RFC 5545): re-anchor on the rule's first match.
                start = recurrence.localize(first_local, zone)
                if kind != "rrule":  # pragma: no cover - built rules always match their start
                    rule = recurrence.with_end(recurrence.base_rule(kind, first_local) or "", count=count,
                                               until_utc=until_utc)
        now_ms = int(now.timestamp() * 1000)
        async with self.db.transaction():
            rt_id = await self.db.execute(
                "INSERT INTO roundtables (guild_id, title, agenda, host_id, start_s, tz, duration_min, "
                "format, link, place, link_public, capacity, repeat, rrule, status, created_ms, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?)",
                (
                    guild_id,
                    title,
                    agenda,
                    host_id,
                    to_unix(start),
                    zone.key,
                    duration_min,
                    format,
                    link,
                    place,
                    int(link_public),
                    capacity,
                    kind,
                    rule,
                    now_ms,
                    now_ms,
                ),
            )
            rt = await self.get(guild_id, rt_id)
            rt = await self._set_next(rt, now)
            occ = await self.next_occurrence(rt)
            if occ is not None:
                await self._schedule_jobs(rt, occ, now)
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=host_id,
                action="roundtable.schedule",
                entity="roundtable",
                entity_id=rt_id,
                changes={
                    "title": title,
                    "start": start.isoformat(),
                    "tz": zone.key,
                    "repeat": rule or "none",
                    "duration_min": duration_min,
                    "capacity": capacity,
                },
                at=now,
            )
        return rt

    @staticmethod
    def _check_ahead(start: datetime, now: datetime) -> None:
        """Refuse a start further ahead than the expansion horizon (and year-9999 overflows)."""
        if start - now > recurrence.HORIZON:
            raise InvalidInput(N_("That's too far ahead: roundtables can be planned at most 10 years ahead."))

    @staticmethod
    def _check_duration(minutes: int) -> None:
        if not MIN_DURATION <= minutes <= MAX_DURATION:
            raise InvalidInput(
                Msg("A roundtable lasts from {min} minutes to {max} hours (you gave {given} minutes).",
                    min=MIN_DURATION, max=MAX_DURATION // 60, given=minutes)
            )

    @staticmethod
    def _check_capacity(capacity: int | None) -> None:
        if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
            raise InvalidInput(
                Msg("Capacity must be from 1 to {max} (or leave it empty for no limit).", max=MAX_CAPACITY)
            )

    async def set_message(
        self, guild_id: int, rt_id: int, channel_id: int | None, message_id: int | None
    ) -> None:
        await self.db.execute(
            "UPDATE roundtables SET channel_id = ?, message_id = ? WHERE guild_id = ? AND id = ?",
            (channel_id, message_id, guild_id, rt_id),
        )

    async def set_event(self, guild_id: int, rt_id: int, event_id: int | None) -> None:
        await self.db.execute(
            "UPDATE roundtables SET event_id = ? WHERE guild_id = ? AND id = ?", (event_id, guild_id, rt_id)
        )

    # -- listing -------------------------------------------------------------------
    async def list_upcoming(self, guild_id: int, *, limit: int = 100, offset: int = 0) -> list[Roundtable]:
        rows = await self.db.fetchall(
            "SELECT * FROM roundtables WHERE guild_id = ? AND status = 'scheduled' AND next_start_s IS NOT "
            "NULL ORDER BY next_start_s, id LIMIT ? OFFSET ?",
            (guild_id, limit, offset),
        )
        return [_row(r) for r in rows]

    async def list_past(self, guild_id: int, *, limit: int = 100, offset: int = 0) -> list[Roundtable]:
        rows = await self.db.fetchall(
            "SELECT * FROM roundtables WHERE guild_id = ? AND (last_start_s IS NOT NULL OR status != "
            "'scheduled') ORDER BY COALESCE(last_start_s, start_s) "
            "DESC, id DESC LIMIT ? OFFSET ?",  # roundtables_past index
            (guild_id, limit, offset),
        )
        return [_row(r) for r in rows]

    async def list_mine(
        self, guild_id: int, user_id: int, *, limit: int = 100, offset: int = 0
    ) -> list[Roundtable]:
        rows = await self.db.fetchall(
            "SELECT r.* FROM roundtables r WHERE r.guild_id = ? AND r.status = 'scheduled' "
            "AND r.next_start_s IS NOT NULL AND r.id IN ("
            "  SELECT id FROM roundtables WHERE guild_id = ? AND host_id = ? AND status = 'scheduled' "
            "  UNION SELECT v.roundtable_id FROM roundtable_rsvps v JOIN roundtables t "
            "    ON t.id = v.roundtable_id AND v.occ_s = t.next_occ_s "
            "  WHERE v.guild_id = ? AND v.user_id = ? AND v.status IN ('going', 'waitlist', 'maybe')) "
            "ORDER BY r.next_start_s, r.id LIMIT ? OFFSET ?",
            (guild_id, guild_id, user_id, guild_id, user_id, limit, offset),
        )
        return [_row(r) for r in rows]

    async def feed_roundtables(
        self, guild_id: int, user_id: int, *, everything: bool, limit: int = FEED_LIMIT
    ) -> list[tuple[Roundtable, bool]]:
        """A member's live calendar feed: (roundtable, may see its link) for those they host or answered
        Going to (any meeting: the whole series is theirs), or every roundtable of the server when
        `everything`. Cancelled or finished ones stay FEED_KEEP_DAYS after their last change, so calendars
        that already hold them learn of it. Newest first when there are more than `limit`."""
        since_ms = to_unix(self.now() - timedelta(days=FEED_KEEP_DAYS)) * 1000
        mine = ("r.host_id = :u OR EXISTS (SELECT 1 FROM roundtable_rsvps v WHERE v.guild_id = :g "
                "AND v.roundtable_id = r.id AND v.user_id = :u AND v.status = 'going')")
        rows = await self.db.fetchall(
            f"SELECT r.*, ({mine}) AS mine FROM roundtables r WHERE r.guild_id = :g "
            f"AND (r.status = 'scheduled' OR r.updated_ms >= :since) AND (:all OR {mine}) "
            "ORDER BY r.id DESC LIMIT :limit",
            {"g": guild_id, "u": user_id, "since": since_ms, "all": int(everything), "limit": limit},
        )
        return [(_row(r), bool(r["mine"])) for r in reversed(rows)]

    async def search(self, guild_id: int, query: str, *, limit: int = 25) -> list[Roundtable]:
        """Autocomplete: by id or title substring, upcoming first."""
        q = " ".join((query or "").split())[:100]
        out: list[Roundtable] = []
        if q.lstrip("#").isascii() and q.lstrip("#").isdigit() and len(q.lstrip("#")) <= 18:
            r = await self.db.fetchone(
                "SELECT * FROM roundtables WHERE guild_id = ? AND id = ?", (guild_id, int(q.lstrip("#")))
            )
            if r is not None:
                out.append(_row(r))
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self.db.fetchall(
            "SELECT * FROM roundtables WHERE guild_id = ? AND title LIKE ? ESCAPE '\\' "
            "ORDER BY status = 'scheduled' DESC, COALESCE(next_start_s, "
            "0) = 0, next_start_s, id DESC LIMIT ?",
            (guild_id, pattern, limit),
        )
        out.extend(_row(r) for r in rows if not out or r["id"] != out[0].id)
        return out[:limit]

    async def going_counts(self, guild_id: int, rts: Sequence[Roundtable]) -> dict[int, Counts]:
        """Going/waitlist counts of each roundtable's next occurrence, in one indexed query."""
        ids = [rt.id for rt in rts if rt.next_occ is not None]
        if not ids:
            return {}
        rows = await self.db.fetchall(
            "SELECT r.id AS rid, "
            " (SELECT COUNT(*) FROM roundtable_rsvps v WHERE v.guild_id = r.guild_id AND v.roundtable_id = "
            "r.id   AND v.occ_s = r.next_occ_s "
            "  AND v.status = 'going') AS going, "
            " (SELECT COUNT(*) FROM roundtable_rsvps v WHERE v.guild_id = r.guild_id AND v.roundtable_id = "
            "r.id   AND v.occ_s = r.next_occ_s "
            "  AND v.status = 'waitlist') AS waitlist "
            "FROM roundtables r WHERE r.guild_id = ? AND r.id IN (SELECT value FROM json_each(?))",
            (guild_id, json.dumps(ids)),
        )
        return {r["rid"]: Counts(going=r["going"], waitlist=r["waitlist"]) for r in rows}

    # -- RSVPs ---------------------------------------------------------------------
    async def counts(self, guild_id: int, rt_id: int, occ_key: datetime) -> Counts:
        rows = await self.db.fetchall(
            "SELECT status, COUNT(*) AS n FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? "
            "AND occ_s = ? GROUP BY status",
            (guild_id, rt_id, to_unix(occ_key)),
        )
        return Counts(**{r["status"]: r["n"] for r in rows})

    async def attendees(self, guild_id: int, rt_id: int, occ_key: datetime) -> list[Attendee]:
        rows = await self.db.fetchall(
            "SELECT user_id, status, seq FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? "
            "AND occ_s = ? ORDER BY CASE status WHEN 'going' THEN 0 WHEN 'waitlist' THEN 1 WHEN 'maybe' THEN "
            "2 ELSE 3 END, seq",
            (guild_id, rt_id, to_unix(occ_key)),
        )
        return [Attendee(r["user_id"], r["status"], r["seq"]) for r in rows]

    async def going_ids(self, guild_id: int, rt_id: int, occ_key: datetime) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? AND occ_s = ? "
            "AND status = 'going' ORDER BY seq",
            (guild_id, rt_id, to_unix(occ_key)),
        )
        return [r[0] for r in rows]

    async def status_of(self, guild_id: int, rt_id: int, occ_key: datetime, user_id: int) -> str | None:
        return await self.db.fetchval(
            "SELECT status FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? AND occ_s = ? "
            "AND user_id = ?",
            (guild_id, rt_id, to_unix(occ_key), user_id),
        )

    async def _promote(self, rt: Roundtable, occ_s: int) -> tuple[int, ...]:
        """Fill free places from the waitlist in press order. Inside the caller's transaction."""
        if rt.capacity is None:
            limit = -1  # everyone waiting gets in
        else:
            going = await self.db.fetchval(
                "SELECT COUNT(*) FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? AND occ_s = "
                "? AND status = 'going'",
                (rt.guild_id, rt.id, occ_s),
            )
            limit = rt.capacity - int(going)
            if limit <= 0:
                return ()
        rows = await self.db.fetchall(
            "UPDATE roundtable_rsvps SET status = 'going' WHERE guild_id = ? AND roundtable_id = ? AND occ_s "
            "= ? AND user_id IN (SELECT user_id FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = "
            "?  AND occ_s = ? AND status = 'waitlist' ORDER BY seq LIMIT ?) RETURNING user_id, seq",
            (rt.guild_id, rt.id, occ_s, rt.guild_id, rt.id, occ_s, limit),
        )
        return tuple(r[0] for r in sorted(rows, key=lambda r: r[1]))

    async def rsvp(
        self, guild_id: int, rt_id: int, user_id: int, response: str, *, occ_key: datetime | None = None
    ) -> RsvpResult:
        """One press: going / maybe / declined, atomically (capacity, waitlist, promotion)."""
        if response not in RESPONSES:
            raise InvalidInput(N_("Answer going, maybe or declined."))
        now = self.now()
        async with self.db.transaction():
            rt = await self.get(guild_id, rt_id)
            if rt.status == "cancelled":
                raise Conflict(
                    Msg("**{title}** was cancelled.", title=md_line(rt.title, 100))
                )
            occ = await self.next_occurrence(rt)
            if occ is None or rt.status != "scheduled":
                raise Conflict(
                    Msg("**{title}** has no upcoming meeting to answer for.", title=md_line(rt.title, 100))
                )
            if occ_key is not None and occ_key != occ.key:
                raise Conflict(
                    Msg("Those buttons are for a meeting that has passed or was cancelled. "
                       "The next one is {next}; use the buttons on the current announcement "
                       "or `/roundtable rsvp {id}`.", id=rt.id), next=Moment(occ.start, "F")
                )
            if occ.end <= now:
                raise Conflict(N_("That meeting is over."))
            occ_s = occ.key_s
            cur = await self.db.fetchone(
                "SELECT status, seq FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? AND occ_s "
                "= ? AND user_id = ?",
                (guild_id, rt.id, occ_s, user_id),
            )
            old = cur["status"] if cur else None
            promoted: tuple[int, ...] = ()
            notice: str | None = None
            new = old
            if response == "going":
                if old not in ("going", "waitlist"):
                    new = "going"
                    if rt.capacity is not None:
                        going = await self.db.fetchval(
                            "SELECT COUNT(*) FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? "
                            "AND occ_s = ? AND status = 'going'",
                            (guild_id, rt.id, occ_s),
                        )
                        if int(going) >= rt.capacity:
                            new = "waitlist"
            else:
                new = response
            changed = new != old
            if changed:
                seq = await self.db.fetchval(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM roundtable_rsvps WHERE guild_id = ? AND "
                    "roundtable_id = ? AND occ_s = ?",
                    (guild_id, rt.id, occ_s),
                )
                await self.db.execute(
                    "INSERT INTO roundtable_rsvps (guild_id, roundtable_id, occ_s, user_id, status, seq, "
                    "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (roundtable_id, occ_s, user_id) DO "
                    "UPDATE SET status = excluded.status, seq = "
                    "excluded.seq, updated_ms = excluded.updated_ms",
                    (guild_id, rt.id, occ_s, user_id, new, seq, int(now.timestamp() * 1000)),
                )
                if old == "going":
                    promoted = await self._promote(rt, occ_s)
                    notice = await self._enqueue_notice(rt, promoted=promoted, promoted_occ=occ)
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=user_id, action="roundtable.rsvp", entity="rsvp",
                    entity_id=f"{rt.id}:{occ_s}",
                    changes={"from": old, "to": new, "promoted": list(promoted)}, at=now,
                )
            position = None
            if new == "waitlist":
                position = int(
                    await self.db.fetchval(
                        "SELECT COUNT(*) FROM roundtable_rsvps WHERE guild_id = ? AND roundtable_id = ? AND "
                        "occ_s = ? AND status = 'waitlist' AND seq <= (SELECT seq FROM roundtable_rsvps "
                        "WHERE guild_id = ? AND roundtable_id = ? AND occ_s = ? AND user_id = ?)",
                        (guild_id, rt.id, occ_s, guild_id, rt.id, occ_s, user_id),
                    )
                )
            counts = await self.counts(guild_id, rt.id, occ.key)
        assert new is not None
        return RsvpResult(rt, occ, new, changed, position, promoted, counts, notice)

    # -- attendee export --------------------------------------------------------------
    async def attendee_export(self, guild_id: int, rt_id: int, actor_id: int, *, is_moderator: bool,
                              names: NameLookup | None = None) -> tuple[Roundtable, int, bytes]:
        """(roundtable, rows, CSV bytes): every answer to every meeting of the roundtable, with the
        member's profile city, title and office. Host or moderators only (answers are personal data)."""
        rt = await self.get(guild_id, rt_id)
        self._require_host(rt, actor_id, is_moderator, "export")
        rows = await self.db.fetchall(
            "SELECT r.occ_s, o.new_start_s, r.user_id, r.status, r.seq, r.updated_ms, c.name AS city, "
            "c.country, p.title, p.office FROM roundtable_rsvps r "
            "LEFT JOIN roundtable_overrides o ON o.roundtable_id = r.roundtable_id AND o.occ_s = r.occ_s "
            "AND o.action = 'move' "
            "LEFT JOIN profiles p ON p.guild_id = r.guild_id AND p.user_id = r.user_id "
            "LEFT JOIN cities c ON c.id = p.city_id "
            "WHERE r.guild_id = ? AND r.roundtable_id = ? "
            "ORDER BY r.occ_s, CASE r.status WHEN 'going' THEN 0 WHEN 'waitlist' THEN 1 WHEN 'maybe' THEN 2 "
            "ELSE 3 END, r.seq",
            (guild_id, rt.id),
        )
        records = [{
            "roundtable_id": rt.id, "roundtable": rt.title,
            "meeting_utc": from_unix(r["new_start_s"] or r["occ_s"]).isoformat(), "member_id": r["user_id"],
            "answer": r["status"], "city": r["city"], "country": r["country"], "title": r["title"],
            "office": r["office"], "answered_utc": from_ms(r["updated_ms"]).isoformat(timespec="seconds"),
        } for r in rows]
        known = await names(member_ids(records, ATTENDEE_COLUMNS)) if names is not None and records else {}
        return rt, len(records), write_csv(ATTENDEE_COLUMNS, records, names=known)

    # -- permissions ---------------------------------------------------------------
    @staticmethod
    def _require_host(rt: Roundtable, actor_id: int, is_moderator: bool, what: HostAction) -> None:
        if actor_id != rt.host_id and not is_moderator:
            raise PermissionDenied(HOST_ONLY[what], host=Mention(rt.host_id))

    # -- edit ----------------------------------------------------------------------
    async def edit(
        self,
        guild_id: int,
        rt_id: int,
        actor_id: int,
        *,
        is_moderator: bool,
        start: datetime | None = None,
        tz: str | None = None,
        duration_min: int | None = None,
        where: str | None = None,
        capacity: int | None = None,
        agenda: str | None = None,
        title: str | None = None,
        link_public: bool | None = None,
        scope: str = "all",
        notify_channel: int | None = None,
    ) -> ChangeResult:
        """Change a roundtable. `scope="this"` with `start` moves only the next occurrence.
        `notify_channel`: where to tell those going when no announcements channel is known."""
        now = self.now()
        if scope not in ("this", "all"):
            raise InvalidInput(N_("Occurrence must be `this` or `all`."))
        async with self.db.transaction():
            before = await self.get(guild_id, rt_id)
            self._require_host(before, actor_id, is_moderator, "edit")
            if before.status != "scheduled":
                cannot = (N_("**{title}** is cancelled; it can't be edited.") if before.status == "cancelled"
                          else N_("**{title}** is over; it can't be edited."))
                raise Conflict(
                    Msg(cannot, title=md_line(before.title, 100))
                )
            occ = await self.next_occurrence(before)
            sets: dict[str, Any] = {}
            changes: list[str] = []
            if title is not None:
                t = " ".join(title.split())
                if not t or len(t) > TITLE_MAX:
                    raise InvalidInput(
                        Msg("The title must be 1 to {max} characters.", max=TITLE_MAX)
                    )
                sets["title"] = t
                changes.append(N_("title"))
            if agenda is not None:
                a = agenda.strip()
                if len(a) > AGENDA_MAX:
                    raise InvalidInput(
                        Msg("The agenda is {n} characters long; keep it to {max}.", n=len(a), max=AGENDA_MAX)
                    )
                sets["agenda"] = a or None
                changes.append(N_("agenda"))
            if duration_min is not None:
                self._check_duration(duration_min)
                sets["duration_min"] = duration_min
                changes.append(N_("duration"))
            if where is not None:
                link, place = split_where(where)
                sets["link"], sets["place"] = link, place
                changes.append(N_("place"))
            if capacity is not None:
                self._check_capacity(capacity if capacity > 0 else None)
                sets["capacity"] = capacity if capacity > 0 else None
                changes.append(N_("capacity"))
            if link_public is not None:
                sets["link_public"] = int(link_public)
                changes.append(N_("link visibility"))
            zone_name = before.tz
            if tz is not None:
                zone_name = get_zone(tz).key
                if zone_name != before.tz:
                    sets["tz"] = zone_name
                    changes.append(N_("time zone"))
            move_this = False
            if start is not None:
                start = start.astimezone(UTC).replace(second=0, microsecond=0)
                if start <= now:
                    raise InvalidInput(N_("That time is in the past. Pick a time that is still ahead."))
                self._check_ahead(start, now)
                if scope == "this" and before.recurring:
                    if occ is None:
                        raise Conflict(N_("There is no upcoming occurrence to move."))
                    move_this = True
                    changes.append(N_("time (this occurrence)"))
                else:
                    changes.append(N_("time"))
            elif "tz" in sets and before.recurring:
                # keep the same instant; the series now repeats in the new zone's wall-clock time
                start = before.start
            if not changes:
                raise InvalidInput(N_("Nothing to change: give at least one option to edit."))

            # Re-anchor a series (or move a one-off) when the start or zone changes.
            if start is not None and not move_this:
                zone = get_zone(zone_name)
                local = start.astimezone(zone).replace(tzinfo=None)
                rule = before.rrule
                if rule is not None:
                    count, _ = recurrence.count_or_until(rule)
                    end_part = [p for p in rule.split(";") if p.startswith(("COUNT=", "UNTIL="))]
                    if before.repeat != "rrule":
                        rule = recurrence.base_rule(before.repeat, local) or ""
                        if end_part:
                            rule += ";" + end_part[0]
                    first = recurrence.validate(rule, local, zone, now=now)
                    start = recurrence.localize(first, zone)
                    sets["rrule"] = rule
                sets["start_s"] = to_unix(start)
            if move_this:
                assert occ is not None and start is not None
                await self.db.execute(
                    "INSERT INTO roundtable_overrides (guild_id, roundtable_id, occ_s, action, new_start_s, "
                    "created_ms) VALUES (?, ?, ?, 'move', ?, ?) ON CONFLICT (roundtable_id, occ_s) DO UPDATE "
                    "SET action = 'move', new_start_s = excluded.new_start_s",
                    (guild_id, before.id, occ.key_s, to_unix(start), int(now.timestamp() * 1000)),
                )
            if sets:
                cols = ", ".join(f"{k} = ?" for k in sets)  # keys are literals chosen above
                await self.db.execute(
                    f"UPDATE roundtables SET {cols}, updated_ms = ? WHERE guild_id = ? AND id = ?",
                    (*sets.values(), int(now.timestamp() * 1000), guild_id, before.id),
                )
            rt = await self.get(guild_id, before.id)
            going_occ = occ
            if "start_s" in sets:
                # the series was re-anchored: old skips/moves no longer name its occurrences
                await self.db.execute(
                    "DELETE FROM roundtable_overrides WHERE guild_id = ? AND roundtable_id = ?",
                    (guild_id, rt.id),
                )
            rt = await self._set_next(rt, now)
            new_occ = await self.next_occurrence(rt)
            if occ is not None and new_occ is not None and occ.key != new_occ.key:
                # bring the next occurrence's answers along to the new next occurrence
                await self.db.execute(
                    "UPDATE OR REPLACE roundtable_rsvps SET occ_s = ? WHERE guild_id = ? AND roundtable_id = "
                    "? AND occ_s = ?",
                    (new_occ.key_s, guild_id, rt.id, occ.key_s),
                )
            going = tuple(await self.going_ids(guild_id, rt.id, new_occ.key)) if new_occ else ()
            promoted: tuple[int, ...] = ()
            if new_occ is not None and "capacity" in sets:
                promoted = await self._promote(rt, new_occ.key_s)
            await self._cancel_jobs(rt)
            if new_occ is not None:
                await self._schedule_jobs(rt, new_occ, now)
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="roundtable.edit", entity="roundtable",
                entity_id=rt.id, changes={k: v for k, v in sets.items()} | {"scope": scope}, at=now,
            )
            notice = await self._enqueue_notice(
                rt,
                going=going,
                changes=changes,
                whole=not move_this,
                occ=new_occ or going_occ,
                promoted=promoted,
                promoted_occ=new_occ,
                channel_id=notify_channel,
            )
        return ChangeResult(
            rt, before, new_occ or going_occ, going, promoted, tuple(changes), not move_this, notice
        )

    # -- cancel --------------------------------------------------------------------
    async def cancel(
        self, guild_id: int, rt_id: int, actor_id: int, *, is_moderator: bool, scope: str = "all",
        notify_channel: int | None = None,
    ) -> ChangeResult:
        """Cancel the whole roundtable, or (scope="this") only its next occurrence (a skip)."""
        now = self.now()
        if scope not in ("this", "all"):
            raise InvalidInput(N_("Occurrence must be `this` or `all`."))
        async with self.db.transaction():
            before = await self.get(guild_id, rt_id)
            self._require_host(before, actor_id, is_moderator, "cancel")
            if before.status == "cancelled":
                raise Conflict(
                    Msg("**{title}** is already cancelled.", title=md_line(before.title, 100))
                )
            if before.status == "done":
                raise Conflict(
                    Msg("**{title}** is already over.", title=md_line(before.title, 100))
                )
            occ = await self.next_occurrence(before)
            going = tuple(await self.going_ids(guild_id, before.id, occ.key)) if occ else ()
            whole = scope == "all" or not before.recurring
            if whole:
                await self.db.execute(
                    "UPDATE roundtables SET status = 'cancelled', "
                    "updated_ms = ? WHERE guild_id = ? AND id = ?",
                    (int(now.timestamp() * 1000), guild_id, before.id),
                )
                await self._cancel_jobs(before)
                rt = await self.get(guild_id, before.id)
            else:
                assert occ is not None
                await self.db.execute(
                    "INSERT INTO roundtable_overrides (guild_id, roundtable_id, occ_s, action, new_start_s, "
                    "created_ms) VALUES (?, ?, ?, 'skip', NULL, ?) ON CONFLICT (roundtable_id, occ_s) DO "
                    "UPDATE SET action = 'skip', new_start_s = NULL",
                    (guild_id, before.id, occ.key_s, int(now.timestamp() * 1000)),
                )
                await self._cancel_jobs(before, occ.key)
                rt = await self._set_next(before, now)
                if rt.status == "done":  # that was the last one
                    await self.db.execute(
                        "UPDATE roundtables SET status = 'cancelled' WHERE guild_id = ? AND id = ?",
                        (guild_id, rt.id),
                    )
                    rt = replace(rt, status="cancelled")
                nxt = await self.next_occurrence(rt)
                if nxt is not None:
                    await self._schedule_jobs(rt, nxt, now)
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action="roundtable.cancel",
                entity="roundtable",
                entity_id=before.id,
                changes={
                    "scope": "all" if whole else "this",
                    "occurrence": occ.start.isoformat() if occ else None,
                    "notified": len(going),
                },
                at=now,
            )
            notice = await self._enqueue_notice(rt, going=going, changes=("cancelled",), whole=whole, occ=occ,
                                                channel_id=notify_channel)
        return ChangeResult(rt, before, occ, going, (), ("cancelled",), whole, notice)

    # -- advance (scheduler) -------------------------------------------------------
    async def advance(self, guild_id: int, rt_id: int, occ_s: int | None = None) -> Roundtable | None:
        """After an occurrence ends: record it as past, move to the next one and schedule its jobs.
        Returns the updated roundtable, or None when there was nothing to do."""
        now = self.now()
        async with self.db.transaction():
            row = await self.db.fetchone(
                "SELECT * FROM roundtables WHERE guild_id = ? AND id = ?", (guild_id, rt_id)
            )
            if row is None:
                return None
            rt = _row(row)
            if rt.status != "scheduled":
                return None
            if occ_s is not None and rt.next_occ is not None and to_unix(rt.next_occ) != occ_s:
                return None  # stale job: the roundtable already moved on or was edited
            cur = await self.next_occurrence(rt)
            last = rt.last_start
            if cur is not None and cur.end <= now:
                last = cur.start
                await self._cancel_jobs(rt, cur.key)  # anything of it still pending is moot now
                await self.db.execute(
                    "UPDATE roundtables SET last_start_s = ? WHERE guild_id = ? AND id = ?",
                    (to_unix(cur.start), guild_id, rt.id),
                )
            rt = replace(rt, last_start=last)
            rt = await self._set_next(rt, now)
            nxt = await self.next_occurrence(rt)
            if nxt is not None and (cur is None or nxt.key != cur.key):
                await self._schedule_jobs(rt, nxt, now)
            elif nxt is not None and cur is not None and nxt.key == cur.key and cur.end > now:
                # not over yet (moved later?): make sure its end job exists
                await self._schedule_jobs(rt, nxt, now)
        return rt

    # -- notes ---------------------------------------------------------------------
    async def add_notes(
        self, guild_id: int, rt_id: int, actor_id: int, text: str, *, is_moderator: bool
    ) -> tuple[Roundtable, Note, datetime]:
        now = self.now()
        text = (text or "").strip()
        if not text:
            raise InvalidInput(N_("Write the notes in `text`."))
        if len(text) > NOTES_MAX:
            raise InvalidInput(
                Msg("Notes are {n} characters long; keep them to {max}.", n=len(text), max=NOTES_MAX)
            )
        async with self.db.transaction():
            rt = await self.get(guild_id, rt_id)
            self._require_host(rt, actor_id, is_moderator, "notes")
            ov = await self.overrides(rt)
            # the most recent occurrence that has started
            started: Occurrence | None = None
            cur = await self.next_occurrence(rt)
            if cur is not None and cur.start <= now:
                started = cur
            elif rt.last_start is not None:
                past = [
                    o
                    for o in self._effective(
                        rt, ov, after=rt.last_start - timedelta(seconds=1), limit=3, include_ongoing=False
                    )
                    if o.start <= now
                ]
                started = (
                    past[-1]
                    if past
                    else Occurrence(rt.last_start, rt.last_start, rt.last_start + rt.duration)
                )
            if started is None:
                if cur is not None:
                    raise InvalidInput(
                        N_("Notes can be added once the meeting has started. It starts {start}."),
                        start=Moment(cur.start))
                raise InvalidInput(N_("Notes can be added once the meeting has started."))
            await self.db.execute(
                "INSERT INTO roundtable_notes (guild_id, roundtable_id, occ_s, text, author_id, at_ms) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (roundtable_id, occ_s) DO UPDATE SET "
                "text = excluded.text, author_id = excluded.author_id, at_ms = excluded.at_ms",
                (guild_id, rt.id, started.key_s, text, actor_id, int(now.timestamp() * 1000)),
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action="roundtable.notes",
                entity="roundtable",
                entity_id=rt.id,
                changes={"occurrence": started.start.isoformat(), "length": len(text)},
                at=now,
            )
        return rt, Note(rt.id, started.key, text, actor_id), started.start

    async def notes(self, guild_id: int, rt_id: int, limit: int = 3) -> list[Note]:
        rows = await self.db.fetchall(
            "SELECT * FROM roundtable_notes WHERE guild_id = ? "
            "AND roundtable_id = ? ORDER BY occ_s DESC LIMIT ?",
            (guild_id, rt_id, limit),
        )
        return [Note(r["roundtable_id"], from_unix(r["occ_s"]), r["text"], r["author_id"]) for r in rows]

    # -- reminder preferences ------------------------------------------------------
    async def set_reminders(self, guild_id: int, user_id: int, on: bool) -> None:
        now = self.now()
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO roundtable_reminder_prefs (guild_id, user_id, dm, updated_ms) VALUES (?, ?, ?, "
                "?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
                "dm = excluded.dm, updated_ms = excluded.updated_ms",
                (guild_id, user_id, int(on), int(now.timestamp() * 1000)),
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=user_id,
                action="roundtable.reminders",
                entity="roundtable",
                entity_id=None,
                changes={"dm": on},
                at=now,
            )

    async def dm_opted_in(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        if not user_ids:
            return set()
        ids = list(user_ids)
        out: set[int] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = await self.db.fetchall(
                f"SELECT user_id FROM roundtable_reminder_prefs WHERE guild_id = ? AND dm = 1 "
                f"AND user_id IN ({placeholders(len(chunk))})",
                (guild_id, *chunk),
            )
            out.update(r[0] for r in rows)
        return out

    # -- Events-tab mirror state ---------------------------------------------------
    async def mirror_off_reason(self, guild_id: int) -> tuple[str, datetime] | None:
        r = await self.db.fetchone(
            "SELECT mirror_off_reason, mirror_off_ms FROM roundtable_guild_state WHERE guild_id = ?",
            (guild_id,),
        )
        if r is None or r[0] is None:
            return None
        return r[0], from_unix(r[1] / 1000)

    async def mirrored_count(self, guild_id: int, *, exclude_id: int | None = None) -> int:
        """How many of the server's scheduled events the mirror uses (roundtables with an event)."""
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM roundtables WHERE guild_id = ? AND event_id IS NOT NULL AND id != ?",
            (guild_id, exclude_id if exclude_id is not None else -1),
        ) or 0)

    async def set_mirror_off(self, guild_id: int, reason: str | None) -> None:
        now_ms = int(self.now().timestamp() * 1000)
        await self.db.execute(
            "INSERT INTO roundtable_guild_state (guild_id, mirror_off_reason, mirror_off_ms) VALUES (?, ?, "
            "?) ON CONFLICT (guild_id) DO UPDATE SET mirror_off_reason = excluded.mirror_off_reason, "
            "mirror_off_ms = excluded.mirror_off_ms",
            (guild_id, reason, now_ms if reason else None),
        )


OffsetsProvider = Callable[[int], Awaitable[list[int]]]

"""Limits per member and per server: one mechanism for every creation path.

* **Creations per member.** A member may create at most N roundtables, practices, agreements and
  milestones per hour in a server (N per kind, default 10, a server setting; 0 turns a kind's limit
  off). Moderators (`bot.checks.is_moderator`) are exempt. The count comes from the rows the member
  created in the last hour (each kind's table has its creator and creation time), so it survives
  restarts and needs no bookkeeping. The check and the insert run in ONE transaction (the feature's
  own transaction joins it), so two quick requests can't both take the last place. One more is
  refused, ephemerally, with the time the member can try again (`<t:…:R>`), and nothing is saved.
* **Scheduled-event slots.** Discord allows 100 scheduled events per server; the bot uses at most
  `event_slots` of them (default 50, a server setting) for its Events-tab mirror of roundtables.

`CreationLimits` has no discord import (rules and SQL); `bot.checks.creation_limit(interaction, kind)` and
`bot.checks.check_creation(interaction, kind)` are the small glue the cogs call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock, system_clock
from bot.db import Database
from bot.errors import InvalidInput, UserFacingError
from bot.i18n import N_, Localized, Msg, t
from bot.settings import SettingSpec

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
DEFAULT_PER_HOUR = 10
MAX_PER_HOUR = 1000
LIMITS_KEY = "creation_limits"
EVENT_SLOTS_KEY = "event_slots"
GUILD_EVENT_SLOTS = 100  # Discord's limit of scheduled events per server
DEFAULT_EVENT_SLOTS = 50


@dataclass(frozen=True, slots=True)
class Kind:
    key: str
    plural: str  # a catalog id ("roundtables"), shown in the reader's language
    table: str  # the rows of this kind, with their creator column and `created_ms`
    creator: str
    refusal: str  # the catalog id of the message when the limit is reached ({n}, {when})


# Each kind's rows are read newest first from the window (index on (guild_id, creator…) where one exists;
# agreements and milestones are filtered per server).
KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("roundtable", N_("roundtables"), "roundtables", "host_id",
             N_("You've created {n} roundtables in the last hour, the most this server allows. "
                "You can create another {when}. Nothing was saved.")),
        Kind("practice", N_("practices"), "practices", "submitter_id",
             N_("You've created {n} practices in the last hour, the most this server allows. "
                "You can create another {when}. Nothing was saved.")),
        Kind("agreement", N_("agreements"), "mou_agreements", "created_by",
             N_("You've created {n} agreements in the last hour, the most this server allows. "
                "You can create another {when}. Nothing was saved.")),
        Kind("milestone", N_("milestones"), "mou_milestones", "created_by",
             N_("You've created {n} milestones in the last hour, the most this server allows. "
                "You can create another {when}. Nothing was saved.")),
    )
}


class TooManyCreations(UserFacingError):
    """Shown to the member in their language (ephemeral)."""

    def __init__(self, kind: Kind, per_hour: int, retry_at: datetime) -> None:
        self.retry_at = retry_at
        when = f"<t:{int(retry_at.timestamp())}:R>"
        super().__init__(Msg(kind.refusal, n=per_hour, when=when))


# --------------------------------------------------------------------------- settings


def validate_limits(value: Any) -> dict[str, int] | None:
    """{kind: per hour} with known kinds and 0..MAX_PER_HOUR; None (or all defaults) = defaults."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(N_("Creation limits are a number per kind."))
    out: dict[str, int] = {}
    for k, v in value.items():
        if k not in KINDS:
            raise InvalidInput(Msg(N_("Unknown kind “{kind}”: use one of {kinds}."), kind=str(k)[:30],
                                   kinds=", ".join(KINDS)))
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_PER_HOUR:
            raise InvalidInput(Msg(N_("A limit is a whole number from 0 (no limit) to {max} per hour."),
                                   max=MAX_PER_HOUR))
        if v != DEFAULT_PER_HOUR:
            out[k] = v
    return out or None


class _LimitsShown(Localized):
    """"roundtables 10/h · practices no limit · …", each kind's name in the reader's language."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values

    def localize(self, lang: str) -> str:
        parts = []
        for k in KINDS.values():
            n = self.values.get(k.key, DEFAULT_PER_HOUR)
            kind = t(lang, k.plural)
            parts.append(t(lang, "{kind} no limit", kind=kind) if n == 0 else f"{kind} {n}/h")
        return " · ".join(parts)


def render_limits(value: Any) -> Msg:
    return Msg(N_("{limits} per member (moderators exempt)"), limits=_LimitsShown(dict(value or {})))


def validate_event_slots(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= GUILD_EVENT_SLOTS:
        raise InvalidInput(Msg(N_("Give a number of event slots from 0 (no mirror) to {max}."),
                               max=GUILD_EVENT_SLOTS))
    return None if value == DEFAULT_EVENT_SLOTS else value


def render_event_slots(value: Any) -> Msg:
    n = DEFAULT_EVENT_SLOTS if value is None else int(value)
    return Msg(N_("at most {n} of the server's {total} scheduled events"), n=n, total=GUILD_EVENT_SLOTS)


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(LIMITS_KEY, N_("Creation limits"), None, validate_limits, render_limits),
    SettingSpec(EVENT_SLOTS_KEY, N_("Events-tab share"), None, validate_event_slots, render_event_slots),
)


class SettingsLike(Protocol):
    async def get(self, guild_id: int) -> Any: ...


# --------------------------------------------------------------------------- service


class CreationLimits:
    def __init__(self, db: Database, settings: SettingsLike, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    async def per_hour(self, guild_id: int, kind: str) -> int:
        values = (await self.settings.get(guild_id)).get(LIMITS_KEY) or {}
        return int(values.get(kind, DEFAULT_PER_HOUR))

    async def event_slots(self, guild_id: int) -> int:
        value = (await self.settings.get(guild_id)).get(EVENT_SLOTS_KEY)
        return DEFAULT_EVENT_SLOTS if value is None else int(value)

    async def check(self, guild_id: int, user_id: int, kind: str) -> None:
        """Raise TooManyCreations when the member has used up this kind's limit for the hour."""
        spec = KINDS[kind]
        limit = await self.per_hour(guild_id, kind)
        if limit <= 0:
            return
        now = self.clock()
        cutoff = int((now - WINDOW).timestamp() * 1000)
        rows = await self.db.fetchall(
            f"SELECT created_ms FROM {spec.table} WHERE guild_id = ? AND {spec.creator} = ? "
            "AND created_ms >= ? ORDER BY created_ms DESC LIMIT ?", (guild_id, user_id, cutoff, limit))
        if len(rows) >= limit:
            oldest_counted = int(rows[limit - 1][0])  # the creation that frees a place when it ages out
            retry_at = datetime.fromtimestamp(oldest_counted / 1000, UTC) + WINDOW
            log.info("guild %s: member %s reached the %s limit (%d/h)", guild_id, user_id, kind, limit)
            raise TooManyCreations(spec, limit, max(retry_at, now + timedelta(seconds=1)))

    @contextlib.asynccontextmanager
    async def creating(self, guild_id: int, user_id: int, kind: str, *, exempt: bool) -> AsyncIterator[None]:
        """`async with limits.creating(...): await service.create(...)` — the count and the feature's
        insert in one transaction (the service's `db.transaction()` joins this one)."""
        if exempt:
            yield
            return
        async with self.db.transaction():
            await self.check(guild_id, user_id, kind)
            yield

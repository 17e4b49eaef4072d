"""Live calendar feeds: one secret feed per member and server (rules + SQL, no discord import).

- A feed's address is `<public_url>/calendar/<guild id>/<token>.ics`; the token (256 random bits) is shown
  once, to the member; only its SHA-256 is stored. `/calendar reset` replaces it: the old address answers
  404 at once. A member in two servers has one feed per server, and a feed shows only its server.
- The feed holds the roundtables the member hosts or answered Going to (every roundtable of the server
  with `all_roundtables`) and the deadlines of the agreements they own (every agreement's with
  `deadlines = all`, none with `none`), read from the features through `bot.features` at each request, so
  a change in Attaché shows at the calendar app's next poll. A feature that is not loaded adds nothing.
- HTTP caching: the ETag is the hash of the calendar's content; Last-Modified is when that content last
  changed (stored with the hash); a request with a matching If-None-Match (or, without one, an
  If-Modified-Since not older than that) gets 304 and no body. Every event's DTSTAMP is that instant.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from icalendar import Event

from bot import audit
from bot.clock import Clock, from_ms, system_clock, to_ms
from bot.contracts import Features
from bot.db import Database
from bot.ical import STAMP_PLACEHOLDER, restamp, write_calendar
from bot.web import WebRequest, WebResponse

PREFIX = "calendar"
PRODID = "-//Attaché//Calendar feed//EN"
DEADLINE_SCOPES = ("mine", "all", "none")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FeedOptions:
    all_roundtables: bool = False
    deadlines: str = "mine"


@dataclass(frozen=True, slots=True)
class Subscription:
    token: str | None  # the new token (shown once); None when an existing feed was kept
    options: FeedOptions
    created: bool


class CalendarFeeds:
    def __init__(self, db: Database, features: Features, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.features = features
        self.clock = clock

    @staticmethod
    def path(guild_id: int, token: str) -> str:
        return f"{PREFIX}/{guild_id}/{token}.ics"

    async def options(self, guild_id: int, user_id: int) -> FeedOptions | None:
        row = await self.db.fetchone(
            "SELECT all_roundtables, deadlines FROM calendar_feeds WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return None if row is None else FeedOptions(bool(row["all_roundtables"]), row["deadlines"])

    async def subscribe(self, guild_id: int, user_id: int, *, all_roundtables: bool | None = None,
                        deadlines: str | None = None) -> Subscription:
        """A new feed (with a token to show), or the member's feed with the options given changed."""
        if deadlines is not None and deadlines not in DEADLINE_SCOPES:
            raise ValueError(deadlines)
        now_ms = to_ms(self.clock())
        async with self.db.transaction():
            current = await self.options(guild_id, user_id)
            base = current or FeedOptions()
            opts = FeedOptions(
                all_roundtables if all_roundtables is not None else base.all_roundtables,
                deadlines if deadlines is not None else base.deadlines,
            )
            token = None
            if current is None:
                token = secrets.token_urlsafe(32)
                await self.db.execute(
                    "INSERT INTO calendar_feeds (guild_id, user_id, token_hash, all_roundtables, deadlines, "
                    "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    (guild_id, user_id, token_hash(token), int(opts.all_roundtables), opts.deadlines, now_ms),
                )
            elif opts != current:
                await self.db.execute(
                    "UPDATE calendar_feeds SET all_roundtables = ?, deadlines = ? "
                    "WHERE guild_id = ? AND user_id = ?",
                    (int(opts.all_roundtables), opts.deadlines, guild_id, user_id),
                )
            if current is None or opts != current:
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=user_id,
                    action="calendar.subscribe" if current is None else "calendar.options",
                    entity="calendar_feed", entity_id=user_id,
                    changes={"all_roundtables": opts.all_roundtables, "deadlines": opts.deadlines},
                )
        return Subscription(token, opts, current is None)

    async def reset(self, guild_id: int, user_id: int) -> Subscription:
        """Revoke the member's feed address and issue a new one (a feed with default options if none)."""
        token = secrets.token_urlsafe(32)
        now_ms = to_ms(self.clock())
        async with self.db.transaction():
            current = await self.options(guild_id, user_id)
            await self.db.execute(
                "INSERT INTO calendar_feeds (guild_id, user_id, token_hash, created_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET token_hash = excluded.token_hash, "
                "created_ms = excluded.created_ms",
                (guild_id, user_id, token_hash(token), now_ms),
            )
            await audit.record(self.db, guild_id=guild_id, actor_id=user_id, action="calendar.reset",
                               entity="calendar_feed", entity_id=user_id, changes={})
        return Subscription(token, current or FeedOptions(), current is None)

    async def events(self, guild_id: int, user_id: int, opts: FeedOptions) -> list[Event]:
        events: list[Event] = []
        rts = self.features.roundtable_calendar
        if rts is not None:
            events += await rts.feed_events(guild_id, user_id, everything=opts.all_roundtables,
                                            stamp=STAMP_PLACEHOLDER)
        mous = self.features.agreement_calendar
        if mous is not None and opts.deadlines != "none":
            owner = None if opts.deadlines == "all" else user_id
            events += await mous.deadline_events(guild_id, owner, stamp=STAMP_PLACEHOLDER, reader_id=user_id)
        return events

    async def serve(self, request: WebRequest) -> WebResponse:
        """GET /calendar/<guild id>/<token>.ics (bot/web.py's handler for this feature's prefix)."""
        guild_text, _, name = request.path.partition("/")
        token = name.removesuffix(".ics")
        well_formed = (guild_text.isascii() and guild_text.isdigit() and len(guild_text) <= 20
                       and name.endswith(".ics") and 20 <= len(token) <= 100 and set(token) <= _TOKEN_CHARS)
        if not well_formed:
            return _not_found()
        guild_id = int(guild_text)
        row = await self.db.fetchone(
            "SELECT user_id, all_roundtables, deadlines, content_hash, modified_ms FROM calendar_feeds "
            "WHERE guild_id = ? AND token_hash = ?",
            (guild_id, token_hash(token)),
        )
        if row is None:
            return _not_found()
        now = self.clock()
        opts = FeedOptions(bool(row["all_roundtables"]), row["deadlines"])
        events = await self.events(guild_id, row["user_id"], opts)
        body, digest = await asyncio.to_thread(_render, events, now)  # CPU work, off the event loop
        modified = from_ms(row["modified_ms"]) if row["modified_ms"] is not None else None
        if digest != row["content_hash"] or modified is None:
            modified = now.replace(microsecond=0)
            await self.db.execute(
                "UPDATE calendar_feeds SET content_hash = ?, modified_ms = ? "
                "WHERE guild_id = ? AND token_hash = ?",
                (digest, to_ms(modified), guild_id, token_hash(token)),
            )
        etag = f'"{digest[:40]}"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
                   "Cache-Control": "private, no-cache"}
        if _not_modified(request, etag, modified):
            return WebResponse(304, headers=headers)
        headers["Content-Type"] = "text/calendar; charset=utf-8"
        headers["Content-Disposition"] = 'inline; filename="attache.ics"'
        return WebResponse(200, restamp(body, modified), headers)


def _render(events: list[Event], now: datetime) -> tuple[bytes, str]:
    body = write_calendar(events, prodid=PRODID, name="Attaché", now=now)
    return body, hashlib.sha256(body).hexdigest()


def _not_found() -> WebResponse:
    return WebResponse(404, b"No such calendar feed.", {"Content-Type": "text/plain; charset=utf-8"})


def _not_modified(request: WebRequest, etag: str, modified: datetime) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return etag in tags or "*" in tags
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified <= since
    return False

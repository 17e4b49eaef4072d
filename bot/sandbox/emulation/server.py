"""A loopback fake of Discord's HTTP API and gateway that discord.py's own code talks to."""

# The helpers take timeout= on purpose: a test waits on the bot with a bounded, per-call limit.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import mimetypes
import re
import secrets
import socket
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yarl
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from . import limits
from .gateway import (
    INTENT_GUILD_PRESENCES,
    INTENT_MESSAGE_CONTENT,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE_UPDATE,
    Connection,
    Session,
    intent_allows,
)
from .models import Channel, Guild, Member, Perm, Role, Snowflakes, User, iso
from .ratelimit import ChannelRateLimits
from .results import FLAG_LOADING, InteractionResult, StoredFile
from .waiting import FakeDiscordTimeout, Notifier

log = logging.getLogger(__name__)

API_PREFIX_RE = re.compile(r"^/api(?:/v\d+)?(?=/)")
NONCE_WINDOW_S = 5 * 60  # Discord dedupes enforce_nonce messages for "a few minutes"
ACK_DEADLINE_S = 3.0  # an interaction must be acknowledged within 3 s
TOKEN_LIFETIME_S = 15 * 60.0  # its token then works for followups and edits for 15 minutes

JsonDict = dict[str, Any]


@dataclass
class RecordedRequest:
    method: str
    path: str  # relative to the API base, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any
    files: list[StoredFile] = field(default_factory=list)
    status: int = 0

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float | None
    code: int | None
    message: str | None
    is_global: bool = False
    skip: int = 0  # matching requests to let through first

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and bool(self.pattern.search(path))


@dataclass
class _Req:
    request: web.Request
    method: str
    path: str
    params: dict[str, str]
    body: Any
    files: dict[str, StoredFile]
    query: Mapping[str, str]

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true", "yes")


Handler = Callable[[_Req], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # content-type must be exactly "application/json" (no charset): discord.py compares it verbatim
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json", headers=headers
    )


def _error(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: JsonDict = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json(body, status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _obj_id(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    if isinstance(value, Mapping):
        return int(value["id"])
    return int(value.id)


class FakeDiscord:
    """A fake Discord (REST + gateway) on 127.0.0.1, for end-to-end tests through discord.py.

    Use ``async with FakeDiscord() as fake:`` (starts the server and points discord.py at it) or the
    ``fake_discord`` pytest fixture. See the package docstring for an overview.
    """

    def __init__(
        self,
        *,
        bot_name: str = "Attaché",
        token: str | None = None,
        heartbeat_interval_ms: int = 41250,
        default_timeout: float = 10.0,
        strict: bool = False,
        ack_deadline: float | None = ACK_DEADLINE_S,
        enforce_ack_deadline: bool = False,
        disallowed_intents: int = 0,
        shards: int = 1,
        max_concurrency: int = 1,
        rate_limits: bool = False,
    ) -> None:
        self.ids = Snowflakes()
        # What GET /gateway/bot recommends (`shards`) and allows (`max_concurrency` IDENTIFYs per 5 s).
        # Like Discord, a client may IDENTIFY with any `[shard_id, shard_count]`: each guild then lives on
        # shard `(guild_id >> 22) % shard_count`, and its events go to that shard's session only.
        self.recommended_shards = shards
        self.max_concurrency = max_concurrency
        # Discord's per-channel pace for creating messages (ratelimit.py); off by default so tests run fast.
        self.rate_limits: ChannelRateLimits | None = ChannelRateLimits() if rate_limits else None
        self.application_id = self.ids.next()
        self.bot_user = User(id=self.application_id, name=bot_name, bot=True)
        self.app_owner = User(id=self.ids.next(), name="app-owner")
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user, self.app_owner.id: self.app_owner}
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.default_timeout = default_timeout
        # Discord's "now" (scheduled events in the past, nonce windows): the wall clock, unless a test or the
        # sandbox moves time for the bot and points this at the same clock.
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        self.strict = strict
        self.ack_deadline = ack_deadline
        self.enforce_ack_deadline = enforce_ack_deadline
        self.disallowed_intents = disallowed_intents
        self.application_flags = (1 << 15) | (1 << 19) | (1 << 23)

        self.guilds: dict[int, Guild] = {}
        self.dm_channels: dict[int, Channel] = {}  # user id -> DM channel
        self.threads: dict[int, Channel] = {}
        self.deleted_channels: set[int] = set()
        self.left_guilds: set[int] = set()  # guilds the bot was removed from (remove_bot_from_guild)
        self.scheduled_events: dict[int, JsonDict] = {}
        self.deleted_scheduled_events: dict[int, JsonDict] = {}
        self.global_commands: list[JsonDict] = []
        self.guild_commands: dict[int, list[JsonDict]] = {}
        self.sync_calls: list[int | None] = []  # guild id, or None for a global sync

        self.requests: list[RecordedRequest] = []
        self.unhandled: list[str] = []
        self.violations: list[str] = []
        self.faults_triggered: list[str] = []
        # Called with (interaction, callback body) when an interaction callback is accepted, before
        # the bot gets the answer: a test can look at the bot's state at the moment it acknowledged.
        self.on_interaction_callback: Callable[[InteractionResult, JsonDict], None] | None = None
        # Called with each new channel or DM message (not ephemeral responses) as it is stored: a benchmark
        # can time deliveries without polling thousands of channels.
        self.on_message: Callable[[JsonDict], None] | None = None
        # Called (no arguments) after every change the fake records: the sandbox page listens here.
        self.change_listeners: list[Callable[[], None]] = []
        self.token_lifetime = TOKEN_LIFETIME_S
        self.identify_payloads: list[JsonDict] = []
        self.presence_updates: list[JsonDict] = []
        self.identify_count = 0
        self.resume_count = 0
        self.gateway_connections = 0
        self.gateway_queries: list[dict[str, str]] = []

        self._messages: dict[int, JsonDict] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._deleted_messages: dict[int, JsonDict] = {}
        self._files: dict[int, StoredFile] = {}
        self._interactions: dict[str, InteractionResult] = {}
        self._original_owner: dict[
            int, InteractionResult
        ] = {}  # message id -> interaction whose @original it is
        self._faults: list[Fault] = []
        self._sessions: dict[int, Session] = {}  # shard id (0 without sharding) -> its session
        self._shard_count = 1  # of the sessions above
        self._channel_index: dict[int, Channel] = {}  # lookup cache; a miss scans the guilds
        self._conns: list[Connection] = []
        self._invalidate_next_resume = False
        self._changed = Notifier()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._saved_base: str | None = None
        self._saved_gateway: yarl.URL | None = None
        self._setup_routes()

    # ================================================================ lifecycle

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        log.info("fake discord listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        for conn in list(self._conns):
            conn.close_soon(1001)
        for conn in list(self._conns):
            await conn.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def install(self) -> None:
        """Point discord.py at this fake (REST base and default gateway URL)."""
        self._saved_base = Route.BASE
        self._saved_gateway = DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.api_base
        # Client.connect() never calls GET /gateway/bot: it starts from DEFAULT_GATEWAY.
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def uninstall(self) -> None:
        if self._saved_base is not None:
            Route.BASE = self._saved_base
            self._saved_base = None
        if self._saved_gateway is not None:
            DiscordWebSocket.DEFAULT_GATEWAY = self._saved_gateway
            self._saved_gateway = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.install()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.uninstall()
        await self.stop()

    # ================================================================ world

    def add_guild(
        self,
        guild_id: int | None = None,
        *,
        name: str = "Test Guild",
        owner_id: int | None = None,
        bot_permissions: int = Perm.BOT_DEFAULT,
        channels: Sequence[str] = ("general",),
        announce: bool = True,
    ) -> Guild:
        """Add a guild with @everyone, the bot's role and member, an owner and text ``channels``.

        With ``announce=False`` nothing is sent yet: shape the guild (system channel, overwrites…), then
        ``add_bot_to_guild(guild)`` sends its GUILD_CREATE, as when the bot is invited (``on_guild_join``)."""
        gid = guild_id or self.ids.next()
        guild = Guild(self, gid, name, owner_id=0)
        # Build quietly, then announce the guild as one GUILD_CREATE.
        self.guilds[gid] = guild
        guild.bot_role = Role(
            id=self.ids.next(),
            guild_id=gid,
            name=self.bot_user.name,
            permissions=bot_permissions,
            position=250,
            managed=True,
        )
        guild.roles.append(guild.bot_role)
        for channel_name in channels:
            guild.channels.append(
                Channel(
                    id=self.ids.next(), name=channel_name, type=0, guild_id=gid, position=len(guild.channels)
                )
            )
        guild.members[self.bot_user.id] = Member(user=self.bot_user, guild=guild, roles=[guild.bot_role])
        owner = self.users.get(owner_id) if owner_id is not None else None
        if owner is None:
            uid = owner_id or self.ids.next()
            owner = self.users.setdefault(uid, User(id=uid, name="owner"))
        guild.members[owner.id] = Member(user=owner, guild=guild)
        guild.owner_id = owner.id
        if announce:
            self.emit("GUILD_CREATE", self._join_payload(guild))
        else:
            self.left_guilds.add(gid)  # not a member yet: a new session's READY does not list it
        return guild

    def add_user(
        self, name: str, *, user_id: int | None = None, dms_open: bool = True, bot: bool = False
    ) -> User:
        """A user who shares no guild with the bot (members are made with ``guild.add_member``)."""
        uid = user_id or self.ids.next()
        user = User(id=uid, name=name, dms_open=dms_open, bot=bot)
        self.users[uid] = user
        return user

    def get_guild(self, guild_id: int) -> Guild:
        return self.guilds[guild_id]

    def delete_channel(self, channel: Channel | int) -> None:
        """Delete a channel: posting there answers 404 Unknown Channel (10003)."""
        cid = _obj_id(channel)
        found = self._find_channel(cid, include_deleted=True)
        self.deleted_channels.add(cid)
        if found is not None:
            found.deleted = True
            if found.guild_id is not None:
                event = "THREAD_DELETE" if found.type in (10, 11, 12) else "CHANNEL_DELETE"
                self.emit(event, found.to_payload())

    def remove_bot_from_guild(self, guild: Guild | int) -> None:
        """The bot is kicked from (or leaves) a guild: GUILD_DELETE without ``unavailable``. Its channels
        then answer 403 Missing Access (50001), and a new session's READY no longer lists the guild."""
        gid = _obj_id(guild)
        self.left_guilds.add(gid)
        self.emit("GUILD_DELETE", {"id": str(gid)})

    def add_bot_to_guild(self, guild: Guild | int) -> None:
        """The bot is invited back into a guild it left: GUILD_CREATE (discord.py: ``on_guild_join``)."""
        gid = _obj_id(guild)
        self.left_guilds.discard(gid)
        self.emit("GUILD_CREATE", self._join_payload(self.guilds[gid]))

    def guild_outage(self, guild: Guild | int) -> None:
        """A Discord outage of one guild: GUILD_DELETE with ``unavailable: true`` (discord.py:
        ``on_guild_unavailable``). The bot is still a member; end it with ``end_guild_outage``."""
        self.emit("GUILD_DELETE", {"id": str(_obj_id(guild)), "unavailable": True})

    def end_guild_outage(self, guild: Guild | int) -> None:
        """The guild is back: GUILD_CREATE again (discord.py: ``on_guild_available``)."""
        self.emit("GUILD_CREATE", self._guild_create_payload(self.guilds[_obj_id(guild)]))

    def _find_channel(self, cid: int, *, include_deleted: bool = False) -> Channel | None:
        if cid in self.deleted_channels and not include_deleted:
            return None
        cached = self._channel_index.get(cid)
        if cached is not None and self.guilds.get(cached.guild_id or 0) is not None:
            return cached
        for guild in self.guilds.values():
            channel = guild.get_channel(cid)
            if channel is not None:
                self._channel_index[cid] = channel
                return channel
        for channel in self.dm_channels.values():
            if channel.id == cid:
                return channel
        return None

    def _guild_of(self, channel: Channel) -> Guild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def _bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot_user.id]

    def _guild_create_payload(self, guild: Guild) -> JsonDict:
        events = [e for e in self.scheduled_events.values() if int(e["guild_id"]) == guild.id]
        session = self._session_for_guild(guild.id)
        # Like Discord: without GUILD_PRESENCES only the bot itself (and voice members) come along;
        # member_count stays the real count, so discord.py chunks when it has GUILD_MEMBERS.
        only_bot = session is not None and not session.intents & INTENT_GUILD_PRESENCES
        return guild.to_payload(scheduled_events=events, only_member=self.bot_user.id if only_bot else None)

    # ================================================================ recorded state

    def _join_payload(self, guild: Guild) -> JsonDict:
        """GUILD_CREATE for a guild the bot just joined: like Discord, without ``unavailable`` (which
        discord.py reads as a join, ``on_guild_join``; ``unavailable: false`` is a guild coming back)."""
        data = self._guild_create_payload(guild)
        data.pop("unavailable", None)
        return data

    def get_message(self, message_id: int | str) -> JsonDict | None:
        return self._messages.get(int(message_id))

    def channel_messages(self, channel: Channel | int) -> list[JsonDict]:
        """Messages visible in a channel (oldest first; ephemeral responses are not in channels)."""
        ids = self._channel_messages.get(_obj_id(channel), [])
        return [self._messages[m] for m in ids]

    def dms(self, user: User | Member | int) -> list[JsonDict]:
        channel = self.dm_channels.get(_obj_id(user))
        return [] if channel is None else self.channel_messages(channel.id)

    def message_files(self, message: Mapping[str, Any]) -> list[StoredFile]:
        out: list[StoredFile] = []
        for attachment in message.get("attachments") or []:
            stored = self._files.get(int(attachment["id"]))
            if stored is not None:
                out.append(stored)
        return out

    def files(self, channel: Channel | int) -> list[StoredFile]:
        out: list[StoredFile] = []
        for message in self.channel_messages(channel):
            out.extend(self.message_files(message))
        return out

    @property
    def sync_count(self) -> int:
        return len(self.sync_calls)

    @property
    def intents(self) -> int | None:
        """Intents of the latest IDENTIFY."""
        return self.identify_payloads[-1].get("intents") if self.identify_payloads else None

    def commands_for(self, guild: Guild | int | None = None) -> list[JsonDict]:
        if guild is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(_obj_id(guild), []))

    def debug_hint(self) -> str:
        parts: list[str] = []
        if self.unhandled:
            parts.append(f"unhandled routes: {self.unhandled[-5:]}")
        if self.violations:
            parts.append(f"violations: {self.violations[-5:]}")
        recent = [repr(r) for r in self.requests[-6:]]
        if recent:
            parts.append(f"last requests: {recent}")
        return ("; " + "; ".join(parts)) if parts else ""

    def assert_clean(self) -> None:
        """Fail if the bot breached a limit or called a route the fake does not know."""
        problems = [f"violation: {v}" for v in self.violations] + [f"unhandled: {u}" for u in self.unhandled]
        if problems:
            raise AssertionError("fake discord saw problems:\n  " + "\n  ".join(problems))

    def mark(self) -> int:
        """A snowflake below every id created from now on (for ``wait_for_message(after=...)``)."""
        return self.ids.next()

    def _notify(self) -> None:
        self._changed.notify()
        for listener in list(self.change_listeners):
            try:
                listener()
            except Exception:
                log.exception("fake discord: a change listener failed")

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: Callable[[JsonDict], bool] | None = None,
        timeout: float | None = None,
        *,
        after: int | None = None,
    ) -> JsonDict:
        """Return the first message in ``channel`` (id > ``after``) matching ``predicate``, waiting for it."""
        cid = _obj_id(channel)

        def probe() -> JsonDict | None:
            for message in self.channel_messages(cid):
                if after is not None and int(message["id"]) <= after:
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        return await self._changed.wait_for(
            probe, timeout or self.default_timeout, lambda: f"a message in channel {cid}{self.debug_hint()}"
        )

    async def wait_for_dm(
        self,
        user: User | Member | int,
        predicate: Callable[[JsonDict], bool] | None = None,
        timeout: float | None = None,
    ) -> JsonDict:
        uid = _obj_id(user)
        await self._changed.wait_for(
            lambda: True if uid in self.dm_channels else None,
            timeout or self.default_timeout,
            lambda: f"a DM channel with {uid}{self.debug_hint()}",
        )
        return await self.wait_for_message(self.dm_channels[uid].id, predicate, timeout)

    # ================================================================ fault injection

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        *,
        code: int | None = None,
        message: str | None = None,
        is_global: bool = False,
        skip: int = 0,
    ) -> None:
        """After letting ``skip`` of them through, answer the next ``times`` requests matching ``method``
        ("*" for any) and ``path_regex``
        (searched in the path relative to the API base, e.g. ``r"/channels/\\d+/messages$"``) with
        ``status``. 429 carries ``retry_after`` (default 0.05 s) in the body and the rate-limit headers."""
        self._faults.append(
            Fault(
                method=method.upper(),
                pattern=re.compile(path_regex),
                status=status,
                remaining=times,
                retry_after=retry_after,
                code=code,
                message=message,
                is_global=is_global,
                skip=skip,
            )
        )

    def _fault_response(self, fault: Fault, method: str, path: str) -> web.Response:
        self.faults_triggered.append(f"{method} {path} -> {fault.status}")
        if fault.status == 429:
            retry_after = 0.05 if fault.retry_after is None else fault.retry_after
            headers = {
                "Retry-After": str(max(1, math.ceil(retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": "fake" + secrets.token_hex(8),
                "X-RateLimit-Scope": "global" if fault.is_global else "user",
                "Via": "1.1 google",  # without it discord.py treats a 429 as a Cloudflare ban
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": fault.message or "You are being rate limited.",
                "retry_after": retry_after,
                "global": fault.is_global,
                "code": fault.code or 0,
            }
            return _json(body, 429, headers)
        defaults = {
            403: (50013, "Missing Permissions"),
            404: (0, "404: Not Found"),
            500: (0, "500: Internal Server Error"),
            502: (0, "502: Bad Gateway"),
            503: (0, "503: Service Unavailable"),
        }
        code, text = defaults.get(fault.status, (0, f"{fault.status}: error"))
        return _error(fault.status, fault.code if fault.code is not None else code, fault.message or text)

    # ================================================================ HTTP plumbing

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.path
        prefix = API_PREFIX_RE.match(raw_path)
        path = raw_path[prefix.end() :] if prefix else raw_path
        method = request.method.upper()
        body, files = await self._read_body(request)
        record = RecordedRequest(
            method=method, path=path, query=dict(request.query), json=body, files=list(files.values())
        )
        self.requests.append(record)
        try:
            response = await self._dispatch_http(request, method, path, body, files, api=prefix is not None)
        except Exception:
            log.exception("fake discord: handler for %s %s crashed", method, path)
            response = _error(500, 0, "fake discord handler crashed")
        record.status = response.status
        log.debug("%s %s -> %s", method, path, response.status)
        self._notify()
        return response

    async def _dispatch_http(
        self,
        request: web.Request,
        method: str,
        path: str,
        body: Any,
        files: dict[str, StoredFile],
        *,
        api: bool,
    ) -> web.StreamResponse:
        if not api:
            match = re.match(r"^/attachments/(\d+)/[^/]+$", path)
            if method == "GET" and match:
                stored = self._files.get(int(match.group(1)))
                if stored is None:
                    return web.Response(status=404, text="not found")
                return web.Response(body=stored.data, content_type=stored.content_type)
            self.unhandled.append(f"{method} {path}")
            return _error(404, 0, "Unknown route")
        for fault in list(self._faults):
            if fault.matches(method, path):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return self._fault_response(fault, method, path)
        for route_method, regex, handler in self._routes:
            if route_method != method:
                continue
            match = regex.match(path)
            if match:
                req = _Req(request, method, path, match.groupdict(), body, files, request.query)
                return await handler(req)
        self.unhandled.append(f"{method} {path}")
        log.warning("fake discord: unhandled route %s %s", method, path)
        return _error(404, 0, "Unknown route")

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, StoredFile]]:
        files: dict[str, StoredFile] = {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body: Any = None
            for key, value in form.items():
                if key == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    data = value.file.read()
                    files[key] = StoredFile(
                        id=0,
                        filename=value.filename,
                        data=data,
                        content_type=value.content_type or "application/octet-stream",
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode("utf-8", "replace"), files

    def _breach(self, where: str, problems: Iterable[str]) -> web.Response | None:
        found = list(problems)
        for problem in found:
            self.violations.append(f"{where}: {problem}")
            log.warning("fake discord: limit breach in %s: %s", where, problem)
        if found and self.strict:
            return _error(400, 50035, "Invalid Form Body", {"_errors": [{"message": p} for p in found]})
        return None

    def _setup_routes(self) -> None:
        r = self._route
        r("GET", "/users/@me", self._get_me)
        r("GET", "/users/{user_id}", self._get_user)
        r("POST", "/users/@me/channels", self._create_dm)
        r("GET", "/oauth2/applications/@me", self._get_application)
        r("GET", "/applications/@me", self._get_application)
        r("GET", "/gateway", self._get_gateway)
        r("GET", "/gateway/bot", self._get_gateway)
        r("GET", "/applications/{app_id}/commands", self._get_commands)
        r("PUT", "/applications/{app_id}/commands", self._put_commands)
        r("POST", "/applications/{app_id}/commands", self._post_command)
        r("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands)
        r("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands)
        r("POST", "/applications/{app_id}/guilds/{guild_id}/commands", self._post_command)
        r("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback)
        r("POST", "/webhooks/{app_id}/{token}", self._webhook_execute)
        r("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_get)
        r("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_edit)
        r("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_delete)
        r("GET", "/channels/{channel_id}", self._get_channel)
        r("GET", "/channels/{channel_id}/messages", self._get_channel_messages)
        r("POST", "/channels/{channel_id}/messages", self._post_channel_message)
        r("GET", "/channels/{channel_id}/messages/{message_id}", self._get_channel_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_channel_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_channel_message)
        r("POST", "/channels/{channel_id}/typing", self._typing)
        r("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._create_thread)
        r("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._react)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._react)
        r("GET", "/guilds/{guild_id}", self._get_guild)
        r("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", self._get_guild_roles)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)
        r("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._member_role)
        r("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._member_role)
        r("GET", "/guilds/{guild_id}/scheduled-events", self._list_events)
        r("POST", "/guilds/{guild_id}/scheduled-events", self._create_event)
        r("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", self._get_event)
        r("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", self._edit_event)
        r("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", self._delete_event)

    # ================================================================ REST: users, app, gateway

    async def _get_me(self, req: _Req) -> web.Response:
        auth = req.request.headers.get("Authorization", "")
        if self.token is not None and auth != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        return _json(
            {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
        )

    async def _get_user(self, req: _Req) -> web.Response:
        user = self.users.get(int(req.params["user_id"]))
        if user is None:
            return _error(404, 10013, "Unknown User")
        return _json(user.to_payload())

    async def _get_application(self, req: _Req) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot_user.name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": self.application_flags,
                "owner": self.app_owner.to_payload(),
                "team": None,
                "bot": self.bot_user.to_payload(),
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "rpc_origins": [],
                "tags": [],
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, req: _Req) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    async def _create_dm(self, req: _Req) -> web.Response:
        body = req.body or {}
        try:
            uid = int(body.get("recipient_id") or "")
        except (TypeError, ValueError):
            return _error(400, 50035, "Invalid Form Body")
        user = self.users.get(uid)
        if user is None or user.id == self.bot_user.id:
            return _error(400, 50033, "Invalid Recipient(s)")
        channel = self.dm_channels.get(uid)
        if channel is None:
            channel = Channel(id=self.ids.next(), name=f"dm-{user.name}", type=1, recipient=user)
            self.dm_channels[uid] = channel
        return _json(channel.to_payload())

    # ================================================================ REST: application commands

    def _check_app(self, req: _Req) -> web.Response | None:
        if int(req.params["app_id"]) != self.application_id:
            return _error(404, 10002, "Unknown Application")
        return None

    def _command_store(self, req: _Req) -> list[JsonDict]:
        gid = req.params.get("guild_id")
        if gid is None:
            return self.global_commands
        return self.guild_commands.setdefault(int(gid), [])

    async def _get_commands(self, req: _Req) -> web.Response:
        return self._check_app(req) or _json(self._command_store(req))

    def _stored_command(
        self, data: Mapping[str, Any], old: Sequence[JsonDict], guild_id: int | None
    ) -> JsonDict:
        ctype = int(data.get("type") or 1)
        previous = next((c for c in old if c["name"] == data.get("name") and c["type"] == ctype), None)
        command: JsonDict = {
            "default_member_permissions": None,
            "contexts": None,
            "integration_types": [0],
            "nsfw": False,
            "description": "",
            **dict(data),
            "id": previous["id"] if previous else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "type": ctype,
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _put_commands(self, req: _Req) -> web.Response:
        if (bad := self._check_app(req)) is not None:
            return bad
        body = req.body if isinstance(req.body, list) else []
        gid = int(req.params["guild_id"]) if "guild_id" in req.params else None
        if gid is not None and gid not in self.guilds:
            return _error(403, 50001, "Missing Access")
        if (bad := self._breach(f"PUT {req.path}", limits.check_commands(body))) is not None:
            return bad
        store = self._command_store(req)
        new = [self._stored_command(c, store, gid) for c in body]
        store[:] = new
        self.sync_calls.append(gid)
        log.info(
            "fake discord: %s commands synced (%s)", len(new), "global" if gid is None else f"guild {gid}"
        )
        return _json(new)

    async def _post_command(self, req: _Req) -> web.Response:
        if (bad := self._check_app(req)) is not None:
            return bad
        body = req.body if isinstance(req.body, dict) else {}
        if (bad := self._breach(f"POST {req.path}", limits.check_commands([body]))) is not None:
            return bad
        store = self._command_store(req)
        gid = int(req.params["guild_id"]) if "guild_id" in req.params else None
        command = self._stored_command(body, store, gid)
        store[:] = [c for c in store if c["id"] != command["id"]] + [command]
        return _json(command, 201)

    async def wait_commands_synced(self, count: int = 1, timeout: float | None = None) -> None:
        """Wait until the bot bulk-overwrote its commands at least ``count`` times."""
        await self._changed.wait_for(
            lambda: True if self.sync_count >= count else None,
            timeout or self.default_timeout,
            lambda: f"{count} command sync(s) (seen {self.sync_count}){self.debug_hint()}",
        )

    # ================================================================ messages (shared)

    def _store_files(
        self, uploaded: Mapping[str, StoredFile], body: Mapping[str, Any]
    ) -> dict[str, JsonDict]:
        """Give uploaded ``files[n]`` parts ids; return attachment payloads keyed by ``n``."""
        described = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, Mapping)}
        out: dict[str, JsonDict] = {}
        for key, upload in uploaded.items():
            match = re.match(r"^files\[(\d+)\]$", key)
            index = match.group(1) if match else key
            meta = described.get(index, {})
            filename = str(meta.get("filename") or upload.filename)
            aid = self.ids.next()
            content_type = (
                mimetypes.guess_type(filename)[0]
                if upload.content_type == "application/octet-stream"
                else None
            ) or upload.content_type
            stored = StoredFile(
                id=aid,
                filename=filename,
                data=upload.data,
                content_type=content_type,
                description=meta.get("description"),
            )
            self._files[aid] = stored
            out[index] = self._attachment_payload(stored)
        return out

    def _attachment_payload(self, stored: StoredFile) -> JsonDict:
        url = f"{self.base_url}/attachments/{stored.id}/{urllib.parse.quote(stored.filename)}"
        data: JsonDict = {
            "id": str(stored.id),
            "filename": stored.filename,
            "size": len(stored.data),
            "url": url,
            "proxy_url": url,
            "content_type": stored.content_type,
        }
        if stored.description:
            data["description"] = stored.description
        return data

    def _message_limits(
        self, where: str, body: Mapping[str, Any], files: Mapping[str, StoredFile], *, create: bool
    ) -> web.Response | None:
        problems = limits.check_message_limits(
            body,
            files=len(files),
            file_bytes=sum(len(f.data) for f in files.values()),
            require_content=create,
        )
        return self._breach(where, problems)

    def _create_message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        files: Mapping[str, StoredFile],
        *,
        author: User | None = None,
        interaction: InteractionResult | None = None,
        extra_flags: int = 0,
    ) -> JsonDict:
        mid = self.ids.next()
        author = author or self.bot_user
        flags = int(body.get("flags") or 0) | extra_flags
        new_files = self._store_files(files, body)
        channel = self._find_channel(channel_id, include_deleted=True)
        message: JsonDict = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "type": 0,
            "content": body.get("content") or "",
            "author": author.to_payload(),
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": list(new_files.values()),
            "embeds": list(body.get("embeds") or []),
            "pinned": False,
            "flags": flags,
            "components": list(body.get("components") or []),
        }
        if channel is not None and channel.guild_id is not None:
            message["guild_id"] = str(channel.guild_id)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if body.get("poll"):
            message["poll"] = self._poll_payload(body["poll"])
        reference = body.get("message_reference")
        if isinstance(reference, Mapping) and reference.get("message_id"):
            message["type"] = 19
            message["message_reference"] = {"channel_id": str(channel_id), **dict(reference)}
        if interaction is not None:
            command_name = (interaction.payload.get("data") or {}).get("name")
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._interaction_user(interaction),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
                **({"name": command_name} if command_name and interaction.type == 2 else {}),
            }
            if interaction.type == 2 and message["type"] == 0:
                message["type"] = 20
        self._messages[mid] = message
        if not flags & limits.FLAG_EPHEMERAL:
            self._channel_messages.setdefault(channel_id, []).append(mid)
            self.emit("MESSAGE_CREATE", self._message_event(message))
            if self.on_message is not None:
                self.on_message(message)
        self._notify()
        return message

    def _poll_payload(self, poll: Mapping[str, Any]) -> JsonDict:
        """A created poll as Discord returns it: answers numbered from 1, an expiry, empty results."""
        hours = float(poll.get("duration") or 24)
        expiry = self.clock() + dt.timedelta(hours=hours)  # Discord's "now", as for scheduled events
        return {
            "question": dict(poll.get("question") or {}),
            "answers": [{"answer_id": i, "poll_media": dict(a.get("poll_media") or {})}
                        for i, a in enumerate(poll.get("answers") or [], start=1)],
            "expiry": expiry.isoformat(),
            "allow_multiselect": bool(poll.get("allow_multiselect")),
            "layout_type": int(poll.get("layout_type") or 1),
            "results": {"is_finalized": False, "answer_counts": []},
        }

    def _interaction_user(self, interaction: InteractionResult) -> JsonDict:
        member = interaction.payload.get("member")
        if isinstance(member, Mapping) and "user" in member:
            return dict(member["user"])
        return dict(interaction.payload.get("user") or {})

    def _message_event(self, message: JsonDict) -> JsonDict:
        data = dict(message)
        guild_id = message.get("guild_id")
        if guild_id is not None:
            guild = self.guilds.get(int(guild_id))
            member = guild.get_member(int(message["author"]["id"])) if guild else None
            if member is not None:
                data["member"] = member.to_payload(with_user=False)
        return data

    def _edit_message(
        self, message: JsonDict, body: Mapping[str, Any], files: Mapping[str, StoredFile]
    ) -> JsonDict:
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = list(body["embeds"] or [])
        if "components" in body:
            message["components"] = list(body["components"] or [])
        new_files = self._store_files(files, body)
        if "attachments" in body and body["attachments"] is not None:
            existing = {a["id"]: a for a in message.get("attachments") or []}
            kept: list[JsonDict] = []
            for item in body["attachments"]:
                key = str(item.get("id"))
                if key in existing:
                    kept.append(existing[key])
                elif key in new_files:
                    kept.append(new_files.pop(key))
            message["attachments"] = kept + list(new_files.values())
        elif new_files:
            message["attachments"] = list(message.get("attachments") or []) + list(new_files.values())
        if body.get("flags") is not None:
            keep = int(message.get("flags") or 0) & limits.FLAG_EPHEMERAL
            message["flags"] = keep | (int(body["flags"]) & ~limits.FLAG_EPHEMERAL & ~FLAG_LOADING)
        message["flags"] = int(message.get("flags") or 0) & ~FLAG_LOADING
        message["edited_timestamp"] = iso()
        if self._is_public(message):
            self.emit("MESSAGE_UPDATE", self._message_event(message))
        self._notify()
        return message

    def _is_public(self, message: Mapping[str, Any]) -> bool:
        return int(message["id"]) in self._channel_messages.get(int(message["channel_id"]), [])

    def _delete_message(self, message: JsonDict) -> None:
        mid = int(message["id"])
        public = self._is_public(message)
        cid = int(message["channel_id"])
        if public:
            self._channel_messages[cid].remove(mid)
            event: JsonDict = {"id": str(mid), "channel_id": str(cid)}
            if message.get("guild_id"):
                event["guild_id"] = message["guild_id"]
            self.emit("MESSAGE_DELETE", event)
        self._deleted_messages[mid] = self._messages.pop(mid)
        self._notify()

    # ================================================================ REST: channels and messages

    def _channel_or_error(self, cid: int) -> Channel | web.Response:
        channel = self._find_channel(cid)
        if channel is None or channel.deleted:
            return _error(404, 10003, "Unknown Channel")
        return channel

    def _channel_perm_error(self, channel: Channel, needed: int) -> web.Response | None:
        guild = self._guild_of(channel)
        if guild is None:
            return None
        if guild.id in self.left_guilds:
            return _error(403, 50001, "Missing Access")
        wanted = needed | Perm.VIEW_CHANNEL
        if self._bot_member(guild).permissions_in(channel) & wanted != wanted:
            return _error(403, 50013, "Missing Permissions")
        return None

    async def _get_channel(self, req: _Req) -> web.Response:
        channel = self._channel_or_error(int(req.params["channel_id"]))
        return channel if isinstance(channel, web.Response) else _json(channel.to_payload())

    async def _post_channel_message(self, req: _Req) -> web.Response:
        if self.rate_limits is not None:
            return await self.rate_limits.around(
                int(req.params["channel_id"]), lambda: self._create_channel_message(req))
        return await self._create_channel_message(req)

    async def _create_channel_message(self, req: _Req) -> web.Response:
        cid = int(req.params["channel_id"])
        channel = self._channel_or_error(cid)
        if isinstance(channel, web.Response):
            return channel
        if channel.type == 1:
            assert channel.recipient is not None
            if not channel.recipient.dms_open:
                return _error(403, 50007, "Cannot send messages to this user")
        else:
            needed = Perm.SEND_MESSAGES_IN_THREADS if channel.type in (10, 11, 12) else Perm.SEND_MESSAGES
            if req.files:
                needed |= Perm.ATTACH_FILES
            if (bad := self._channel_perm_error(channel, needed)) is not None:
                return bad
        body = req.body if isinstance(req.body, dict) else {}
        if (bad := self._message_limits(f"POST {req.path}", body, req.files, create=True)) is not None:
            return bad
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            now = self.clock()
            for existing in self.channel_messages(cid):
                if (
                    existing.get("nonce") == nonce
                    and existing["author"]["id"] == str(self.bot_user.id)
                    and (now - dt.datetime.fromisoformat(existing["timestamp"])).total_seconds()
                    < NONCE_WINDOW_S
                ):
                    log.info("fake discord: enforce_nonce %r matched message %s", nonce, existing["id"])
                    return _json(existing)
        return _json(self._create_message(cid, body, req.files))

    async def _get_channel_messages(self, req: _Req) -> web.Response:
        cid = int(req.params["channel_id"])
        channel = self._channel_or_error(cid)
        if isinstance(channel, web.Response):
            return channel
        oldest_first = self.channel_messages(cid)
        limit = int(req.query.get("limit", 50))
        if "before" in req.query:
            oldest_first = [m for m in oldest_first if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            oldest_first = [m for m in oldest_first if int(m["id"]) > int(req.query["after"])][:limit]
        return _json(list(reversed(oldest_first))[:limit])  # Discord answers newest first

    def _message_in_channel(self, req: _Req) -> JsonDict | web.Response:
        cid = int(req.params["channel_id"])
        channel = self._channel_or_error(cid)
        if isinstance(channel, web.Response):
            return channel
        message = self._messages.get(int(req.params["message_id"]))
        if message is None or int(message["channel_id"]) != cid:
            return _error(404, 10008, "Unknown Message")
        return message

    async def _get_channel_message(self, req: _Req) -> web.Response:
        message = self._message_in_channel(req)
        return message if isinstance(message, web.Response) else _json(message)

    async def _edit_channel_message(self, req: _Req) -> web.Response:
        message = self._message_in_channel(req)
        if isinstance(message, web.Response):
            return message
        if message["author"]["id"] != str(self.bot_user.id):
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body = req.body if isinstance(req.body, dict) else {}
        if (bad := self._message_limits(f"PATCH {req.path}", body, req.files, create=False)) is not None:
            return bad
        self._edit_message(message, body, req.files)
        owner = self._original_owner.get(int(message["id"]))
        if owner is not None:  # e.g. interaction.message.edit() after a deferred component update
            owner.edits.append(body)
            owner._notify()
        return _json(message)

    async def _delete_channel_message(self, req: _Req) -> web.Response:
        message = self._message_in_channel(req)
        if isinstance(message, web.Response):
            return message
        if message["author"]["id"] != str(self.bot_user.id):
            channel = self._find_channel(int(req.params["channel_id"]))
            if (
                channel is not None
                and (bad := self._channel_perm_error(channel, Perm.MANAGE_MESSAGES)) is not None
            ):
                return bad
        self._delete_message(message)
        return _no_content()

    async def _typing(self, req: _Req) -> web.Response:
        channel = self._channel_or_error(int(req.params["channel_id"]))
        return channel if isinstance(channel, web.Response) else _no_content()

    async def _react(self, req: _Req) -> web.Response:
        message = self._message_in_channel(req)
        return message if isinstance(message, web.Response) else _no_content()

    async def _create_thread(self, req: _Req) -> web.Response:
        message = self._message_in_channel(req)
        if isinstance(message, web.Response):
            return message
        channel = self._find_channel(int(req.params["channel_id"]))
        assert channel is not None
        guild = self._guild_of(channel)
        if guild is None or channel.type != 0:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if (bad := self._channel_perm_error(channel, Perm.CREATE_PUBLIC_THREADS)) is not None:
            return bad
        if message.get("thread"):
            return _error(400, 160004, "A thread has already been created for this message")
        body = req.body if isinstance(req.body, dict) else {}
        name = body.get("name")
        problems: list[str] = []
        if not isinstance(name, str) or not 1 <= len(name) <= limits.MAX_THREAD_NAME:
            problems.append(f"thread name must be 1..{limits.MAX_THREAD_NAME} characters, got {name!r}")
        duration = body.get("auto_archive_duration") or 1440
        if duration not in (60, 1440, 4320, 10080):
            problems.append(f"auto_archive_duration {duration!r} not in 60, 1440, 4320, 10080")
        if (bad := self._breach(f"POST {req.path}", problems)) is not None:
            return bad
        thread = Channel(
            id=int(message["id"]),  # a thread started from a message shares its id
            name=str(name or "thread")[:100],
            type=11,
            guild_id=guild.id,
            parent_id=channel.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=int(duration),
        )
        guild.channels.append(thread)
        self.threads[thread.id] = thread
        payload = thread.to_payload()
        message["thread"] = payload
        self.emit("THREAD_CREATE", {**payload, "newly_created": True})
        self._notify()
        return _json(payload, 201)

    # ================================================================ REST: guilds, roles, members

    def _guild_or_error(self, req: _Req) -> Guild | web.Response:
        guild = self.guilds.get(int(req.params["guild_id"]))
        return guild if guild is not None else _error(404, 10004, "Unknown Guild")

    async def _get_guild(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        data = guild.to_payload()
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
        ):
            data.pop(key, None)
        data["approximate_member_count"] = len(guild.members)
        data["approximate_presence_count"] = 0
        return _json(data)

    async def _get_guild_channels(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        return _json([c.to_payload() for c in guild.channels if not c.deleted and c.type not in (10, 11, 12)])

    async def _get_guild_roles(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        return guild if isinstance(guild, web.Response) else _json([r.to_payload() for r in guild.roles])

    async def _get_member(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        member = guild.get_member(int(req.params["user_id"]))
        return _error(404, 10007, "Unknown Member") if member is None else _json(member.to_payload())

    async def _member_role(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        member = guild.get_member(int(req.params["user_id"]))
        if member is None:
            return _error(404, 10007, "Unknown Member")
        role = guild.get_role(int(req.params["role_id"]))
        if role is None or role is guild.everyone:
            return _error(404, 10011, "Unknown Role")
        bot = self._bot_member(guild)
        if not bot.has(Perm.MANAGE_ROLES) or role.position >= bot.top_position or role.managed:
            return _error(403, 50013, "Missing Permissions")
        if req.method == "PUT":
            guild.add_member_role(member, role)
        else:
            guild.remove_member_role(member, role)
        self._notify()
        return _no_content()

    # ================================================================ REST: scheduled events

    def _event_problems(self, body: Mapping[str, Any], *, current: Mapping[str, Any] | None) -> list[str]:
        merged: dict[str, Any] = {**(current or {}), **body}
        problems: list[str] = []
        name = merged.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= limits.MAX_EVENT_NAME:
            problems.append(f"name must be 1..{limits.MAX_EVENT_NAME} characters, got {name!r}")
        description = merged.get("description")
        if description is not None and len(str(description)) > limits.MAX_EVENT_DESCRIPTION:
            problems.append(f"description length {len(str(description))} > {limits.MAX_EVENT_DESCRIPTION}")
        if merged.get("privacy_level") != 2:
            problems.append(f"privacy_level must be 2 (GUILD_ONLY), got {merged.get('privacy_level')!r}")
        entity_type = merged.get("entity_type")
        start_raw, end_raw = merged.get("scheduled_start_time"), merged.get("scheduled_end_time")
        try:
            start = dt.datetime.fromisoformat(str(start_raw)) if start_raw else None
            end = dt.datetime.fromisoformat(str(end_raw)) if end_raw else None
        except ValueError:
            return [*problems, f"bad ISO8601 time in {start_raw!r} / {end_raw!r}"]
        if start is None:
            problems.append("scheduled_start_time is required")
        elif start.tzinfo is None:
            problems.append(f"scheduled_start_time {start_raw!r} has no timezone")
        elif "scheduled_start_time" in body and start <= self.clock():
            problems.append(f"scheduled_start_time {start_raw!r} is in the past")
        if entity_type == 3:
            location = (merged.get("entity_metadata") or {}).get("location")
            if not isinstance(location, str) or not 1 <= len(location) <= limits.MAX_EVENT_LOCATION:
                problems.append(
                    f"external event needs entity_metadata.location 1..{limits.MAX_EVENT_LOCATION}"
                )
            if end is None:
                problems.append("external event needs scheduled_end_time")
            if merged.get("channel_id") is not None:
                problems.append("external event must have channel_id null")
        elif entity_type in (1, 2):
            if merged.get("channel_id") is None:
                problems.append("stage/voice event needs channel_id")
        else:
            problems.append(f"entity_type must be 1, 2 or 3, got {entity_type!r}")
        if start is not None and end is not None and start.tzinfo and end.tzinfo and end <= start:
            problems.append("scheduled_end_time must be after scheduled_start_time")
        return problems

    def _events_perm_error(self, guild: Guild, event: Mapping[str, Any] | None) -> web.Response | None:
        bot = self._bot_member(guild)
        if bot.has(Perm.MANAGE_EVENTS):
            return None
        if bot.has(Perm.CREATE_EVENTS) and (
            event is None or event.get("creator_id") == str(self.bot_user.id)
        ):
            return None
        return _error(403, 50013, "Missing Permissions")

    def add_scheduled_event(self, guild: Guild, name: str = "Member event") -> JsonDict:
        """A scheduled event someone else made (a member), in 30 days: it takes one of the guild's
        `limits.MAX_GUILD_SCHEDULED_EVENTS` slots."""
        eid = self.ids.next()
        start = self.clock() + dt.timedelta(days=30)
        event: JsonDict = {
            "id": str(eid),
            "guild_id": str(guild.id),
            "channel_id": None,
            "creator_id": None,
            "name": name,
            "description": None,
            "scheduled_start_time": start.isoformat(),
            "scheduled_end_time": (start + dt.timedelta(hours=1)).isoformat(),
            "privacy_level": 2,
            "status": 1,
            "entity_type": 3,
            "entity_id": None,
            "entity_metadata": {"location": "Town hall"},
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
        }
        self.scheduled_events[eid] = event
        return event

    async def _list_events(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        return _json([e for e in self.scheduled_events.values() if e["guild_id"] == str(guild.id)])

    async def _create_event(self, req: _Req) -> web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        if (bad := self._events_perm_error(guild, None)) is not None:
            return bad
        body = req.body if isinstance(req.body, dict) else {}
        problems = self._event_problems(body, current=None)
        if (bad := self._breach(f"POST {req.path}", problems)) is not None:
            return bad
        uncompleted = [
            e
            for e in self.scheduled_events.values()
            if e["guild_id"] == str(guild.id) and e.get("status") in (1, 2)
        ]
        if len(uncompleted) >= limits.MAX_GUILD_SCHEDULED_EVENTS:
            return _error(
                400,
                30038,
                "Maximum number of uncompleted guild scheduled events reached "
                f"({limits.MAX_GUILD_SCHEDULED_EVENTS})",
            )
        eid = self.ids.next()
        event: JsonDict = {
            "id": str(eid),
            "guild_id": str(guild.id),
            "channel_id": body.get("channel_id"),
            "creator_id": str(self.bot_user.id),
            "creator": self.bot_user.to_payload(),
            "name": body.get("name"),
            "description": body.get("description"),
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": 1,
            "entity_type": body.get("entity_type"),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        self.scheduled_events[eid] = event
        self.emit("GUILD_SCHEDULED_EVENT_CREATE", event)
        self._notify()
        return _json(event)

    def _event_or_error(self, req: _Req) -> tuple[Guild, JsonDict] | web.Response:
        guild = self._guild_or_error(req)
        if isinstance(guild, web.Response):
            return guild
        event = self.scheduled_events.get(int(req.params["event_id"]))
        if event is None or event["guild_id"] != str(guild.id):
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        return guild, event

    async def _get_event(self, req: _Req) -> web.Response:
        found = self._event_or_error(req)
        return found if isinstance(found, web.Response) else _json(found[1])

    async def _edit_event(self, req: _Req) -> web.Response:
        found = self._event_or_error(req)
        if isinstance(found, web.Response):
            return found
        guild, event = found
        if (bad := self._events_perm_error(guild, event)) is not None:
            return bad
        body = req.body if isinstance(req.body, dict) else {}
        problems = self._event_problems(body, current=event)
        status = body.get("status")
        if status is not None and status not in (1, 2, 3, 4):
            problems.append(f"status {status!r} is not 1..4")
        if (bad := self._breach(f"PATCH {req.path}", problems)) is not None:
            return bad
        editable = (
            "channel_id",
            "entity_metadata",
            "name",
            "privacy_level",
            "scheduled_start_time",
            "scheduled_end_time",
            "description",
            "entity_type",
            "status",
            "recurrence_rule",
        )
        event.update({k: v for k, v in body.items() if k in editable})
        self.emit("GUILD_SCHEDULED_EVENT_UPDATE", event)
        self._notify()
        return _json(event)

    async def _delete_event(self, req: _Req) -> web.Response:
        found = self._event_or_error(req)
        if isinstance(found, web.Response):
            return found
        guild, event = found
        if (bad := self._events_perm_error(guild, event)) is not None:
            return bad
        del self.scheduled_events[int(event["id"])]
        self.deleted_scheduled_events[int(event["id"])] = event
        self.emit("GUILD_SCHEDULED_EVENT_DELETE", event)
        self._notify()
        return _no_content()

    # ================================================================ REST: interactions

    async def _interaction_callback(self, req: _Req) -> web.Response:
        res = self._interactions.get(req.params["token"])
        if res is None or str(res.id) != req.params["interaction_id"]:
            return _error(404, 10062, "Unknown interaction")
        if res.callback is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = req.body if isinstance(req.body, dict) else {}
        where = f"POST /interactions/{res.id}/<token>/callback"
        delay = asyncio.get_running_loop().time() - res.created_at
        if self.ack_deadline is not None and delay > self.ack_deadline:
            self.violations.append(f"{where}: acknowledged after {delay:.2f}s > {self.ack_deadline}s")
            if self.enforce_ack_deadline:
                return _error(404, 10062, "Unknown interaction")
        ctype = body.get("type")
        data = body.get("data") or {}
        problems = limits.check_interaction_callback(body)
        if ctype in (4, 7):
            file_bytes = sum(len(f.data) for f in req.files.values())
            problems = limits.check_message_limits(
                data, files=len(req.files), file_bytes=file_bytes, require_content=ctype == 4
            )
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(res.type, set())
        if ctype not in allowed:
            problems.append(f"callback type {ctype!r} is not valid for an interaction of type {res.type}")
        if ctype in (6, 7) and res.source_message_id is None:
            problems.append(f"callback type {ctype} needs a message (the interaction has none)")
        if (bad := self._breach(where, problems)) is not None:
            return bad
        if ctype not in allowed or (ctype in (6, 7) and res.source_message_id is None):
            return _error(400, 50035, "Invalid Form Body")
        if self.on_interaction_callback is not None:
            self.on_interaction_callback(res, body)
        res.callback = body
        res.callback_delay = delay
        message: JsonDict | None = None
        channel_id = int(res.payload["channel_id"])
        if ctype == 4:
            message = self._create_message(channel_id, data, req.files, interaction=res)
            res.original_id = int(message["id"])
        elif ctype == 5:
            flags = int(data.get("flags") or 0) & limits.FLAG_EPHEMERAL
            message = self._create_message(
                channel_id, {"content": "", "flags": flags}, {}, interaction=res, extra_flags=FLAG_LOADING
            )
            res.original_id = int(message["id"])
        elif ctype in (6, 7):
            res.original_id = res.source_message_id
            message = self.get_message(res.source_message_id or 0)
            if ctype == 7 and message is not None:
                self._edit_message(message, data, req.files)
        if res.original_id is not None:
            self._original_owner[res.original_id] = res
        log.debug("fake discord: interaction %s answered with callback type %s", res.id, ctype)
        res._notify()
        self._notify()
        if not req.flag("with_response"):
            return _no_content()
        response: JsonDict = {
            "interaction": {
                "id": str(res.id),
                "type": res.type,
                "response_message_loading": ctype == 5,
                "response_message_ephemeral": bool(
                    int((message or {}).get("flags") or 0) & limits.FLAG_EPHEMERAL
                ),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = message["id"]
            if ctype in (4, 5, 7):
                response["resource"] = {"type": ctype, "message": message}
        return _json(response)

    def _webhook_interaction(self, req: _Req) -> InteractionResult | web.Response:
        res = self._interactions.get(req.params["token"])
        if res is None or int(req.params["app_id"]) != self.application_id:
            return _error(404, 10015, "Unknown Webhook")
        if res.callback is None:
            return _error(
                404, 10015, "Unknown Webhook"
            )  # no followups before the interaction is acknowledged
        age = asyncio.get_running_loop().time() - res.created_at
        if age > self.token_lifetime:  # like Discord: the token is dead after 15 minutes
            self.violations.append(f"interaction {res.id}: token used {age:.0f}s after the interaction "
                                   f"(Discord allows {self.token_lifetime:.0f}s)")
            return _error(401, 50027, "Invalid Webhook Token")
        return res

    def _webhook_message(self, req: _Req, res: InteractionResult) -> JsonDict | web.Response:
        raw = req.params["message_id"]
        mid = res.original_id if raw == "@original" else int(raw)
        if mid is None or (raw == "@original" and res.original_deleted):
            return _error(404, 10008, "Unknown Message")
        if mid != res.original_id and mid not in res.followup_ids:
            return _error(404, 10008, "Unknown Message")
        message = self.get_message(mid)
        return message if message is not None else _error(404, 10008, "Unknown Message")

    async def _webhook_execute(self, req: _Req) -> web.Response:
        res = self._webhook_interaction(req)
        if isinstance(res, web.Response):
            return res
        body = req.body if isinstance(req.body, dict) else {}
        where = f"POST /webhooks/{self.application_id}/<token>"
        if (bad := self._message_limits(where, body, req.files, create=True)) is not None:
            return bad
        message = self._create_message(int(res.payload["channel_id"]), body, req.files, interaction=res)
        res.followup_ids.append(int(message["id"]))
        res._notify()
        return _json(message) if req.flag("wait") else _no_content()

    async def _webhook_get(self, req: _Req) -> web.Response:
        res = self._webhook_interaction(req)
        if isinstance(res, web.Response):
            return res
        message = self._webhook_message(req, res)
        return message if isinstance(message, web.Response) else _json(message)

    async def _webhook_edit(self, req: _Req) -> web.Response:
        res = self._webhook_interaction(req)
        if isinstance(res, web.Response):
            return res
        message = self._webhook_message(req, res)
        if isinstance(message, web.Response):
            return message
        body = req.body if isinstance(req.body, dict) else {}
        where = f"PATCH /webhooks/{self.application_id}/<token>/messages/{req.params['message_id']}"
        if (bad := self._message_limits(where, body, req.files, create=False)) is not None:
            return bad
        self._edit_message(message, body, req.files)
        if int(message["id"]) == res.original_id:
            res.edits.append(body)
        else:
            res.followup_edits.append(body)
        res._notify()
        return _json(message)

    async def _webhook_delete(self, req: _Req) -> web.Response:
        res = self._webhook_interaction(req)
        if isinstance(res, web.Response):
            return res
        message = self._webhook_message(req, res)
        if isinstance(message, web.Response):
            return message
        if int(message["id"]) == res.original_id:
            res.original_deleted = True
        self._delete_message(message)
        res._notify()
        return _no_content()

    # ================================================================ gateway

    def shard_of(self, guild: Guild | int | None, shard_count: int | None = None) -> int:
        """The shard a guild's events go to, with `shard_count` shards (default: the bot's current count);
        events without a guild (DMs) go to shard 0."""
        if guild is None:
            return 0
        return (_obj_id(guild) >> 22) % (shard_count or self._shard_count)

    def _session_for_guild(self, guild_id: int | None) -> Session | None:
        return self._sessions.get(self.shard_of(guild_id))

    @staticmethod
    def _event_guild(event: str, data: JsonDict) -> int | None:
        gid = data.get("guild_id")
        if gid is None and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
            gid = data.get("id")
        return int(gid) if gid else None

    def listening(self, event: str, guild_id: int | None) -> bool:
        """Whether `emit` would send `event` of this guild anywhere (a session whose intents want it)."""
        session = self._session_for_guild(guild_id)
        return session is not None and intent_allows(session.intents, event, {"guild_id": guild_id})

    def emit(self, event: str, data: JsonDict) -> None:
        """Send a dispatch event to the gateway session of the guild's shard (buffered for RESUME while
        disconnected); events without a guild (DMs) go to shard 0, like Discord."""
        session = self._session_for_guild(self._event_guild(event, data))
        if session is None:
            return
        if not intent_allows(session.intents, event, data):
            return
        _, frame = session.next_frame(event, data)
        conn = session.conn
        if conn is not None and conn.alive and conn.mode != "hello":
            conn.send_raw(frame)

    @property
    def _session(self) -> Session | None:
        """Shard 0's session (the only one without sharding)."""
        return self._sessions.get(0)

    @property
    def shard_count(self) -> int:
        """The shard count of the bot's sessions (1 without sharding)."""
        return self._shard_count

    def _live_connection(self, shard_id: int = 0) -> Connection | None:
        session = self._sessions.get(shard_id)
        if session is None or session.conn is None or not session.conn.alive:
            return None
        return session.conn

    def _is_ready(self) -> bool | None:
        """Every shard identified (or resumed) and processed its READY and GUILD_CREATEs."""
        for shard_id in range(self._shard_count):
            conn = self._live_connection(shard_id)
            if conn is None or not conn.ready:
                return None
        return True

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the bot identified (or resumed) and processed READY and every GUILD_CREATE."""
        await self._changed.wait_for(
            self._is_ready, timeout or self.default_timeout, lambda: f"the bot to connect{self.debug_hint()}"
        )

    async def sync_gateway(self, timeout: float | None = None) -> None:
        """Return once the bot has processed every dispatch sent so far, on every shard (uses a requested
        heartbeat)."""
        await self.wait_ready(timeout)
        for shard_id in range(self._shard_count):
            conn = self._live_connection(shard_id)
            session = self._sessions.get(shard_id)
            assert conn is not None and session is not None
            target = session.seq
            conn.send_json({"op": OP_HEARTBEAT, "d": None})
            await self._changed.wait_for(
                _caught_up(conn, target),
                timeout or self.default_timeout,
                f"the bot to process gateway seq {target} on shard {shard_id}",
            )

    async def drop_gateway(
        self, *, resumable: bool = True, code: int = 4000, wait: bool = True, timeout: float | None = None,
        shard_id: int = 0,
    ) -> str:
        """Close the bot's websocket (of ``shard_id``). discord.py reconnects and RESUMEs (or, with
        ``resumable=False``, gets INVALID_SESSION and IDENTIFYs afresh). With ``wait`` return
        "resumed"/"identified" once done."""
        conn = self._live_connection(shard_id)
        if conn is None:
            raise RuntimeError("the bot is not connected")
        resumes, identifies = self.resume_count, self.identify_count
        self._invalidate_next_resume = not resumable
        conn.ready = False
        conn.close_soon(code)
        self._notify()
        if not wait:
            return "dropped"

        def probe() -> str | None:
            if self._is_ready() is None:
                return None
            if self.identify_count > identifies:
                return "identified"
            if self.resume_count > resumes:
                return "resumed"
            return None

        return await self._changed.wait_for(
            probe, timeout or self.default_timeout, lambda: f"the bot to reconnect{self.debug_hint()}"
        )

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_connections += 1
        self.gateway_queries.append(dict(request.query))
        conn = Connection(ws, dict(request.query), self.gateway_connections)
        self._conns.append(conn)
        log.info("fake discord: gateway connection #%s %s", conn.number, dict(request.query))
        if request.query.get("encoding", "json") != "json":
            conn.close_soon(4002)
        conn.send_json({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        conn.close_soon(4002)
                        continue
                    self._on_gateway_payload(conn, payload)
                elif msg.type == WSMsgType.BINARY:
                    log.warning("fake discord: binary gateway frame ignored")
                    conn.close_soon(4002)
        finally:
            conn.closed = True
            conn.ready = False
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._conns.remove(conn)
            await conn.shutdown()
            log.info("fake discord: gateway connection #%s closed (%s)", conn.number, ws.close_code)
            self._notify()
        return ws

    def _on_gateway_payload(self, conn: Connection, payload: JsonDict) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            if isinstance(data, int):
                conn.client_seq = data
            conn.send_json({"op": OP_HEARTBEAT_ACK})
            if (
                not conn.ready
                and conn.ready_target is not None
                and (conn.client_seq or 0) >= conn.ready_target
            ):
                conn.ready = True
                log.info("fake discord: bot ready on gateway connection #%s (%s)", conn.number, conn.mode)
        elif op == OP_IDENTIFY:
            self._identify(conn, data or {})
        elif op == OP_RESUME:
            self._resume(conn, data or {})
        elif op == OP_REQUEST_GUILD_MEMBERS:
            self._request_members(conn, data or {})
        elif op == OP_PRESENCE_UPDATE:
            self.presence_updates.append(data or {})
        elif op == OP_VOICE_STATE_UPDATE:
            pass
        else:
            log.warning("fake discord: unknown gateway op %r", op)
        self._notify()

    def _identify(self, conn: Connection, data: JsonDict) -> None:
        self.identify_payloads.append({k: v for k, v in data.items() if k != "token"})
        if self.token is not None and data.get("token") != self.token:
            conn.close_soon(4004)
            return
        intents = int(data.get("intents") or 0)
        if intents & self.disallowed_intents:
            conn.close_soon(4014)
            return
        shard = data.get("shard")
        shard_id, shard_count = 0, 1
        if shard is not None:
            try:
                shard_id, shard_count = int(shard[0]), int(shard[1])
                if not 0 <= shard_id < shard_count:
                    raise ValueError(shard)
            except (TypeError, ValueError, IndexError):
                conn.close_soon(4010)  # Invalid shard
                return
        if shard_count != self._shard_count:
            # A new shard count: every guild moves, so every session of the old layout ends.
            for old_session in self._sessions.values():
                if old_session.conn is not None and old_session.conn is not conn:
                    old_session.conn.close_soon(4000)
            self._sessions = {}
            self._shard_count = shard_count
        old = self._sessions.get(shard_id)
        if old is not None and old.conn is not None and old.conn is not conn:
            old.conn.close_soon(4000)
        session = Session(id=secrets.token_hex(16), intents=intents, shard=shard)
        self._sessions[shard_id] = session
        session.conn = conn
        conn.session = session
        conn.mode = "identified"
        self.identify_count += 1
        mine = [
            g for g in self.guilds.values() if g.id not in self.left_guilds and self.shard_of(g) == shard_id
        ]
        ready: JsonDict = {
            "v": 10,
            "user": {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        if shard is not None:
            ready["shard"] = shard
        _, frame = session.next_frame("READY", ready)
        conn.send_raw(frame)
        for guild in mine:
            # GUILD_CREATE at startup arrives whatever the intents
            _, frame = session.next_frame("GUILD_CREATE", self._guild_create_payload(guild))
            conn.send_raw(frame)
        self._request_ready_ack(conn, session)

    def _resume(self, conn: Connection, data: JsonDict) -> None:
        session = next((s for s in self._sessions.values() if s.id == data.get("session_id")), None)
        seq = data.get("seq") or 0
        oldest = session.buffer[0][0] if session is not None and session.buffer else 0
        if (
            session is None
            or self._invalidate_next_resume
            or data.get("session_id") != session.id
            or (self.token is not None and data.get("token") != self.token)
            or (session.buffer and seq < oldest - 1)
        ):
            self._invalidate_next_resume = False
            log.info("fake discord: RESUME refused, sending INVALID_SESSION")
            conn.send_json({"op": OP_INVALID_SESSION, "d": False})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close_soon(4000)
        session.conn = conn
        conn.session = session
        conn.mode = "resumed"
        replay = [frame for s, frame in session.buffer if s > seq]
        for frame in replay:
            conn.send_raw(frame)
        self.resume_count += 1
        log.info("fake discord: RESUME of %s from seq %s, replaying %s events", session.id, seq, len(replay))
        _, frame = session.next_frame("RESUMED", {})
        conn.send_raw(frame)
        self._request_ready_ack(conn, session)

    def _request_ready_ack(self, conn: Connection, session: Session) -> None:
        # Ask for a heartbeat; its sequence tells us the bot has processed everything up to here.
        conn.ready_target = session.seq
        conn.send_json({"op": OP_HEARTBEAT, "d": None})

    def _request_members(self, conn: Connection, data: JsonDict) -> None:
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or conn.session is None:
            return
        members = list(guild.members.values())
        not_found: list[str] = []
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            not_found = [str(u) for u in wanted if u not in guild.members]
            members = [m for m in members if m.id in wanted]
        elif data.get("query"):
            members = [m for m in members if m.name.lower().startswith(str(data["query"]).lower())]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JsonDict = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": not_found,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        _, frame = conn.session.next_frame("GUILD_MEMBERS_CHUNK", chunk)
        conn.send_raw(frame)

    # ================================================================ driving the bot like a user

    def _resolve_guild(self, guild: Guild | int | None) -> Guild | None:
        if guild is None or isinstance(guild, Guild):
            return guild
        return self.guilds[int(guild)]

    def _resolve_actor(self, guild: Guild | None, who: Member | User | int) -> Member | User:
        if isinstance(who, Member | User):
            if guild is not None and isinstance(who, User):
                member = guild.get_member(who.id)
                if member is None:
                    raise LookupError(f"user {who.id} is not a member of {guild!r}")
                return member
            return who
        if guild is not None:
            member = guild.get_member(int(who))
            if member is None:
                raise LookupError(f"user {who} is not a member of {guild!r}")
            return member
        return self.users[int(who)]

    def _resolve_channel(
        self, guild: Guild | None, actor: Member | User, channel: Channel | int | None
    ) -> Channel:
        if channel is None:
            if guild is not None:
                return guild.default_channel
            user = actor.user if isinstance(actor, Member) else actor
            dm = self.dm_channels.get(user.id)
            if dm is None:
                dm = Channel(id=self.ids.next(), name=f"dm-{user.name}", type=1, recipient=user)
                self.dm_channels[user.id] = dm
            return dm
        if isinstance(channel, Channel):
            return channel
        found = self._find_channel(int(channel), include_deleted=True)
        if found is None:
            raise LookupError(f"no channel {channel}")
        return found

    def _channel_payload_for(self, channel: Channel, actor: Member | User) -> JsonDict:
        data = channel.to_payload()
        if isinstance(actor, Member):
            data["permissions"] = str(actor.permissions_in(channel))
        return data

    async def _send_interaction(
        self,
        itype: int,
        data: JsonDict,
        guild: Guild | None,
        actor: Member | User,
        channel: Channel,
        *,
        message: JsonDict | None = None,
        locale: str = "en-US",
    ) -> InteractionResult:
        await self.wait_ready()
        iid = self.ids.next()
        token = "fake_" + secrets.token_hex(32)
        payload: JsonDict = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": limits.ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
            "channel": self._channel_payload_for(channel, actor),
        }
        if guild is not None:
            assert isinstance(actor, Member)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                # like Discord: both computed in the channel, with its permission overwrites
                member=actor.to_payload(with_permissions=True, channel=channel),
                app_permissions=str(self._bot_member(guild).permissions_in(channel)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            user = actor.user if isinstance(actor, Member) else actor
            payload.update(
                user=user.to_payload(),
                app_permissions=str(Perm.EVERYONE_DEFAULT),
                authorizing_integration_owners={"0": str(user.id)},
                context=1,
            )
        if message is not None:
            payload["message"] = message
        res = InteractionResult(
            self,
            interaction_id=iid,
            token=token,
            interaction_type=itype,
            payload=payload,
            created_at=asyncio.get_running_loop().time(),
        )
        if message is not None:
            res.source_message_id = int(message["id"])
        self._interactions[token] = res
        self.emit("INTERACTION_CREATE", payload)
        return res

    async def _finish(self, res: InteractionResult, timeout: float | None, wait: bool) -> InteractionResult:
        if not wait:
            return res
        await res.wait_for_response(timeout)
        if res.callback_type == 5:
            await res.wait_for_message(timeout)
        return res

    def find_command(self, name: str, guild: Guild | int | None = None) -> tuple[JsonDict, bool]:
        """The synced command called ``name`` (first word): guild commands first, then global ones."""
        if guild is not None:
            for command in self.guild_commands.get(_obj_id(guild), []):
                if command["name"] == name and command["type"] == 1:
                    return command, True
        for command in self.global_commands:
            if command["name"] == name and command["type"] == 1:
                return command, False
        known = sorted(
            {c["name"] for c in self.global_commands} | {c["name"] for c in self.commands_for(guild)}
        )
        raise LookupError(f"no synced slash command {name!r}; synced: {known}")

    async def invoke(
        self,
        guild: Guild | int | None,
        member: Member | User | int,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel: Channel | int | None = None,
        attachments: Mapping[str, tuple[str, bytes]] | None = None,
        locale: str = "en-US",
        timeout: float | None = None,
        wait: bool = True,
    ) -> InteractionResult:
        """Run ``/name`` ("cmd", "cmd sub" or "cmd group sub") as ``member``, like the Discord client.

        Option values are checked and typed from the synced schema; users/members, channels, roles
        go into ``resolved``; ``attachments={"opt": ("a.csv", b"...")}`` are served by the fake.
        Returns once the bot answered (for a deferral: once it edited or followed up)."""
        g = self._resolve_guild(guild)
        actor = self._resolve_actor(g, member)
        where = self._resolve_channel(g, actor, channel)
        data = self._command_data(g, name, dict(options or {}), dict(attachments or {}), focused=None)
        res = await self._send_interaction(2, data, g, actor, where, locale=locale)
        return await self._finish(res, timeout, wait)

    async def autocomplete(
        self,
        guild: Guild | int | None,
        member: Member | User | int,
        name: str,
        focused: str,
        value: str = "",
        options: Mapping[str, Any] | None = None,
        *,
        channel: Channel | int | None = None,
        locale: str = "en-US",
        timeout: float | None = None,
    ) -> list[JsonDict]:
        """Type ``value`` into option ``focused`` of ``/name``; return the choices the bot offered."""
        g = self._resolve_guild(guild)
        actor = self._resolve_actor(g, member)
        where = self._resolve_channel(g, actor, channel)
        data = self._command_data(g, name, dict(options or {}), {}, focused=(focused, value))
        res = await self._send_interaction(4, data, g, actor, where, locale=locale)
        await res.wait_for_response(timeout)
        return res.choices

    def _command_data(
        self,
        guild: Guild | None,
        name: str,
        options: dict[str, Any],
        attachments: dict[str, tuple[str, bytes]],
        *,
        focused: tuple[str, str] | None,
    ) -> JsonDict:
        parts = name.split()
        if not parts:
            raise ValueError("empty command name")
        command, guild_scoped = self.find_command(parts[0], guild)
        data: JsonDict = {"id": command["id"], "name": command["name"], "type": 1}
        if guild_scoped and guild is not None:
            data["guild_id"] = str(guild.id)
        schema: list[JsonDict] = list(command.get("options") or [])
        container = data
        for part in parts[1:]:
            sub = next((o for o in schema if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                subs = [o["name"] for o in schema if o["type"] in (1, 2)]
                raise LookupError(f"/{' '.join(parts)}: no subcommand {part!r}; has {subs}")
            node: JsonDict = {"type": sub["type"], "name": sub["name"], "options": []}
            container["options"] = [node]
            container = node
            schema = list(sub.get("options") or [])
        if any(o["type"] in (1, 2) for o in schema):
            subs = [o["name"] for o in schema if o["type"] in (1, 2)]
            raise LookupError(f"/{' '.join(parts)} needs a subcommand: {subs}")
        resolved: JsonDict = {}
        values: list[JsonDict] = []
        known = {o["name"]: o for o in schema}
        for key in list(options) + list(attachments):
            if key not in known:
                raise LookupError(f"/{name}: no option {key!r}; has {sorted(known)}")
        for opt in schema:
            oname = opt["name"]
            if focused is not None and oname == focused[0]:
                values.append({"type": opt["type"], "name": oname, "value": focused[1], "focused": True})
                continue
            if oname in attachments:
                value: Any = attachments[oname]
            elif oname in options:
                value = options[oname]
            else:
                if opt.get("required") and focused is None:
                    raise ValueError(f"/{name}: required option {oname!r} missing")
                continue
            values.append(
                {"type": opt["type"], "name": oname, "value": self._option_value(guild, opt, value, resolved)}
            )
        if focused is not None and focused[0] not in known:
            raise LookupError(f"/{name}: no option {focused[0]!r} to focus; has {sorted(known)}")
        container["options"] = values
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(self, guild: Guild | None, opt: JsonDict, value: Any, resolved: JsonDict) -> Any:
        otype = opt["type"]
        oname = opt["name"]
        if otype in (3, 4, 10):
            cast: Any = {3: str, 4: int, 10: float}[otype]
            if otype == 4 and isinstance(value, float) and not value.is_integer():
                raise ValueError(f"option {oname!r} is an integer, got {value!r}")
            typed = cast(value)
            choices = opt.get("choices")
            if choices and typed not in [c["value"] for c in choices]:
                raise ValueError(f"option {oname!r}: {typed!r} is not one of {[c['value'] for c in choices]}")
            if otype == 3:
                if opt.get("min_length") is not None and len(typed) < opt["min_length"]:
                    raise ValueError(f"option {oname!r}: shorter than {opt['min_length']}")
                if opt.get("max_length") is not None and len(typed) > opt["max_length"]:
                    raise ValueError(f"option {oname!r}: longer than {opt['max_length']}")
            else:
                if opt.get("min_value") is not None and typed < opt["min_value"]:
                    raise ValueError(f"option {oname!r}: {typed} < min_value {opt['min_value']}")
                if opt.get("max_value") is not None and typed > opt["max_value"]:
                    raise ValueError(f"option {oname!r}: {typed} > max_value {opt['max_value']}")
            return typed
        if otype == 5:
            return bool(value)
        if otype == 6 or (otype == 9 and not isinstance(value, Role)):
            return self._resolve_user_option(guild, value, resolved)
        if otype == 8 or otype == 9:
            if guild is None:
                raise ValueError(f"option {oname!r}: roles need a guild")
            role = value if isinstance(value, Role) else guild.get_role(_obj_id(value))
            if role is None:
                raise LookupError(f"option {oname!r}: no role {value!r} in {guild!r}")
            resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
            return str(role.id)
        if otype == 7:
            channel = (
                value
                if isinstance(value, Channel)
                else self._find_channel(_obj_id(value), include_deleted=True)
            )
            if channel is None:
                raise LookupError(f"option {oname!r}: no channel {value!r}")
            allowed = opt.get("channel_types")
            if allowed and channel.type not in allowed:
                raise ValueError(f"option {oname!r}: channel type {channel.type} not in {allowed}")
            data = channel.to_payload()
            bot = self._bot_member(guild) if guild is not None else None
            data["permissions"] = str(bot.permissions if bot else 0)
            resolved.setdefault("channels", {})[str(channel.id)] = data
            return str(channel.id)
        if otype == 11:
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(f"attachment option {oname!r} takes (filename, bytes)")
            filename, blob = value
            aid = self.ids.next()
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            stored = StoredFile(id=aid, filename=filename, data=bytes(blob), content_type=content_type)
            self._files[aid] = stored
            resolved.setdefault("attachments", {})[str(aid)] = {
                **self._attachment_payload(stored),
                "ephemeral": True,
            }
            return str(aid)
        raise ValueError(f"option {oname!r}: unsupported option type {otype}")

    def _resolve_user_option(self, guild: Guild | None, value: Any, resolved: JsonDict) -> str:
        if isinstance(value, Member):
            user, member = value.user, value
        else:
            found = value if isinstance(value, User) else self.users.get(_obj_id(value))
            if found is None:
                raise LookupError(f"no user {value!r}")
            user = found
            member = guild.get_member(user.id) if guild is not None else None  # type: ignore[assignment]
        resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
        if member is not None:
            resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                with_user=False, with_permissions=True
            )
        return str(user.id)

    # -- components -----------------------------------------------------------

    def _target_message(self, message: JsonDict | InteractionResult | int | str) -> JsonDict:
        if isinstance(message, InteractionResult):
            found = message.message
            if found is None:
                raise LookupError(f"{message!r} has no message to interact with")
            mid: int | str = found["id"]
        elif isinstance(message, Mapping):
            mid = message["id"]
        else:
            mid = message
        current = self.get_message(mid)
        if current is None:
            raise LookupError(f"message {mid} does not exist (deleted?)")
        return current

    @staticmethod
    def _find_component(message: JsonDict, custom_id: str) -> JsonDict:
        found: list[JsonDict] = []
        ids: list[str] = []

        def walk(items: Iterable[JsonDict]) -> None:
            for item in items:
                if item.get("custom_id") is not None:
                    ids.append(item["custom_id"])
                    if item["custom_id"] == custom_id:
                        found.append(item)
                walk(item.get("components") or [])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(message.get("components") or [])
        if not found:
            raise LookupError(f"message {message['id']} has no component {custom_id!r}; it has {ids}")
        if found[0].get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot use it")
        return found[0]

    def _component_context(
        self, guild: Guild | int | None, member: Member | User | int, message: JsonDict
    ) -> tuple[Guild | None, Member | User, Channel]:
        g = self._resolve_guild(guild)
        if g is None and message.get("guild_id"):
            g = self.guilds.get(int(message["guild_id"]))
        actor = self._resolve_actor(g, member)
        channel = self._resolve_channel(g, actor, int(message["channel_id"]))
        return g, actor, channel

    async def click(
        self,
        guild: Guild | int | None,
        member: Member | User | int,
        message: JsonDict | InteractionResult | int | str,
        custom_id: str,
        *,
        locale: str = "en-US",
        timeout: float | None = None,
        wait: bool = True,
    ) -> InteractionResult:
        """Press the button ``custom_id`` on a message the bot posted (MESSAGE_COMPONENT, type 3);
        ``locale`` is the member's Discord client language."""
        current = self._target_message(message)
        component = self._find_component(current, custom_id)
        if component.get("type") != 2:
            raise ValueError(f"component {custom_id!r} is type {component.get('type')}, not a button")
        g, actor, channel = self._component_context(guild, member, current)
        data = {"custom_id": custom_id, "component_type": 2}
        res = await self._send_interaction(
            3, data, g, actor, channel, message=json.loads(json.dumps(current)), locale=locale
        )
        return await self._finish(res, timeout, wait)

    async def select(
        self,
        guild: Guild | int | None,
        member: Member | User | int,
        message: JsonDict | InteractionResult | int | str,
        custom_id: str,
        values: Sequence[Any],
        *,
        locale: str = "en-US",
        timeout: float | None = None,
        wait: bool = True,
    ) -> InteractionResult:
        """Pick ``values`` in the select ``custom_id`` (MESSAGE_COMPONENT): a string select (type 3) takes
        option values; a role (6) or channel (8) select takes roles / channels (or their ids), sent as
        ids with their ``resolved`` data like Discord; a channel select's ``channel_types`` is enforced."""
        current = self._target_message(message)
        component = self._find_component(current, custom_id)
        ctype = component.get("type")
        if ctype not in (3, 6, 8):
            raise ValueError(f"component {custom_id!r} is type {ctype}, not a string, role or channel select")
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        g, actor, channel = self._component_context(guild, member, current)
        data: JsonDict = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            offered = [o["value"] for o in component.get("options") or []]
            unknown = [v for v in values if v not in offered]
            if unknown:
                raise ValueError(f"select {custom_id!r} offers {offered}, not {unknown}")
            data["values"] = list(values)
        else:
            resolved: JsonDict = {}
            option = {"type": 8 if ctype == 6 else 7, "name": custom_id,
                      "channel_types": component.get("channel_types")}
            data["values"] = [self._option_value(g, option, value, resolved) for value in values]
            data["resolved"] = resolved
        res = await self._send_interaction(
            3, data, g, actor, channel, message=json.loads(json.dumps(current)), locale=locale
        )
        return await self._finish(res, timeout, wait)

    async def submit_modal(
        self,
        guild: Guild | int | None,
        member: Member | User | int,
        modal: JsonDict | InteractionResult,
        values: Mapping[str, str | Sequence[str]],
        *,
        channel: Channel | int | None = None,
        locale: str = "en-US",
        timeout: float | None = None,
        wait: bool = True,
    ) -> InteractionResult:
        """Fill in and submit a modal the bot opened (MODAL_SUBMIT, type 5).

        ``modal`` is ``res.modal`` or the InteractionResult itself (then the source message and
        channel carry over). Text inputs take a str, selects a list of values."""
        source_message: JsonDict | None = None
        if isinstance(modal, InteractionResult):
            origin = modal
            if origin.modal is None:
                raise ValueError(f"{origin!r} did not open a modal")
            if channel is None:
                channel = int(origin.payload["channel_id"])
            if origin.source_message_id is not None:
                source_message = self.get_message(origin.source_message_id)
            modal_data: JsonDict = origin.modal
        else:
            modal_data = dict(modal)
        g = self._resolve_guild(guild)
        actor = self._resolve_actor(g, member)
        where = self._resolve_channel(g, actor, channel)
        used: set[str] = set()
        components = [self._echo_modal_component(c, values, used) for c in modal_data.get("components") or []]
        unknown = set(values) - used
        if unknown:
            raise LookupError(f"modal {modal_data.get('custom_id')!r} has no inputs {sorted(unknown)}")
        data = {"custom_id": modal_data["custom_id"], "components": components}
        res = await self._send_interaction(5, data, g, actor, where, message=source_message, locale=locale)
        return await self._finish(res, timeout, wait)

    def _echo_modal_component(
        self, component: JsonDict, values: Mapping[str, str | Sequence[str]], used: set[str]
    ) -> JsonDict:
        ctype = component.get("type")
        out: JsonDict = {"type": ctype}
        if component.get("id") is not None:
            out["id"] = component["id"]
        if ctype == 1:
            out["components"] = [self._echo_input(c, values, used) for c in component.get("components") or []]
        elif ctype == 18:
            out["component"] = self._echo_input(component["component"], values, used)
        return out

    @staticmethod
    def _echo_input(
        component: JsonDict, values: Mapping[str, str | Sequence[str]], used: set[str]
    ) -> JsonDict:
        ctype = component.get("type")
        custom_id = component.get("custom_id")
        out: JsonDict = {"type": ctype, "custom_id": custom_id}
        if component.get("id") is not None:
            out["id"] = component["id"]
        given = values.get(custom_id) if custom_id is not None else None
        if custom_id is not None and custom_id in values:
            used.add(custom_id)
        if ctype == 4:
            text = (component.get("value") or "") if given is None else given
            if not isinstance(text, str):
                raise ValueError(f"text input {custom_id!r} takes a str")
            if component.get("required", True) and not text:
                raise ValueError(f"text input {custom_id!r} is required")
            if text and component.get("min_length") and len(text) < component["min_length"]:
                raise ValueError(
                    f"text input {custom_id!r}: shorter than min_length {component['min_length']}"
                )
            max_length = component.get("max_length") or limits.MAX_TEXT_INPUT_LENGTH
            if len(text) > max_length:
                raise ValueError(f"text input {custom_id!r}: longer than max_length {max_length}")
            out["value"] = text
        elif isinstance(given, bool):
            out["value"] = given
        else:
            picked = [] if given is None else ([given] if isinstance(given, str) else list(given))
            if ctype == 3:
                offered = [o["value"] for o in component.get("options") or []]
                bad = [v for v in picked if v not in offered]
                if bad:
                    raise ValueError(f"select {custom_id!r} offers {offered}, not {bad}")
            out["values"] = picked
        return out

    # -- users writing messages -----------------------------------------------

    def post_user_message(
        self, guild: Guild | int | None, member: Member | User | int, channel: Channel | int, content: str
    ) -> JsonDict:
        """A user posts ``content`` (MESSAGE_CREATE; content hidden without the MESSAGE_CONTENT intent)."""
        g = self._resolve_guild(guild)
        actor = self._resolve_actor(g, member)
        user = actor.user if isinstance(actor, Member) else actor
        where = self._resolve_channel(g, actor, channel)
        mid = self.ids.next()
        message: JsonDict = {
            "id": str(mid),
            "channel_id": str(where.id),
            "type": 0,
            "content": content,
            "author": user.to_payload(),
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
            "components": [],
        }
        if g is not None:
            message["guild_id"] = str(g.id)
        self._messages[mid] = message
        self._channel_messages.setdefault(where.id, []).append(mid)
        event = self._message_event(message)
        session = self._session_for_guild(g.id if g is not None else None)
        mentions_bot = f"<@{self.bot_user.id}>" in content
        if (
            session is not None
            and not session.intents & INTENT_MESSAGE_CONTENT
            and not mentions_bot
            and g is not None
        ):
            event["content"] = ""
        self.emit("MESSAGE_CREATE", event)
        self._notify()
        return message


def _caught_up(conn: Connection, target: int) -> Callable[[], bool | None]:
    return lambda: True if (conn.client_seq or 0) >= target or not conn.alive else None


__all__ = ["FakeDiscord", "FakeDiscordTimeout", "RecordedRequest"]

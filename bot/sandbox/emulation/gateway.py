"""Gateway plumbing: one websocket connection and one resumable session."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

# Gateway opcodes
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Intent bits, and which dispatch events need which intent.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16

_EVENT_INTENTS: dict[str, int] = {
    "GUILD_CREATE": INTENT_GUILDS,
    "GUILD_UPDATE": INTENT_GUILDS,
    "GUILD_ROLE_CREATE": INTENT_GUILDS,
    "GUILD_ROLE_UPDATE": INTENT_GUILDS,
    "GUILD_ROLE_DELETE": INTENT_GUILDS,
    "CHANNEL_CREATE": INTENT_GUILDS,
    "CHANNEL_UPDATE": INTENT_GUILDS,
    "CHANNEL_DELETE": INTENT_GUILDS,
    "THREAD_CREATE": INTENT_GUILDS,
    "THREAD_UPDATE": INTENT_GUILDS,
    "THREAD_DELETE": INTENT_GUILDS,
    "GUILD_MEMBER_ADD": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": INTENT_GUILD_MEMBERS,
    "GUILD_SCHEDULED_EVENT_CREATE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": INTENT_GUILD_SCHEDULED_EVENTS,
}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}

SESSION_BUFFER = 5000  # dispatches kept for RESUME replay


def intent_allows(intents: int, event: str, data: dict[str, Any]) -> bool:
    if event in _MESSAGE_EVENTS:
        needed = INTENT_GUILD_MESSAGES if data.get("guild_id") else INTENT_DIRECT_MESSAGES
        return bool(intents & needed)
    flag = _EVENT_INTENTS.get(event)
    return flag is None or bool(intents & flag)


@dataclass
class Session:
    id: str
    intents: int
    shard: list[int] | None = None
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=SESSION_BUFFER))
    conn: Connection | None = None

    def next_frame(self, event: str, data: dict[str, Any]) -> tuple[int, str]:
        self.seq += 1
        frame = json.dumps({"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data})
        self.buffer.append((self.seq, frame))
        return self.seq, frame


class Connection:
    """One accepted websocket. Frames go out through a single writer task, in order."""

    _CLOSE = object()

    def __init__(self, ws: web.WebSocketResponse, query: dict[str, str], number: int) -> None:
        self.ws = ws
        self.query = query
        self.number = number
        self.session: Session | None = None
        self.mode = "hello"  # hello -> identified | resumed
        self.ready = False  # the client has processed READY+GUILD_CREATEs (or RESUMED)
        self.ready_target: int | None = None
        self.client_seq: int | None = None
        self.heartbeats = 0
        self.closed = False
        self._closing = False
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._writer: asyncio.Task[None] = asyncio.create_task(
            self._write_loop(), name=f"fakediscord-gw-{number}"
        )

    def __repr__(self) -> str:
        return f"<gateway connection #{self.number} mode={self.mode} ready={self.ready}>"

    @property
    def alive(self) -> bool:
        return not self.closed and not self.ws.closed

    def send_json(self, payload: dict[str, Any]) -> None:
        self.send_raw(json.dumps(payload))

    def send_raw(self, frame: str) -> None:
        if self.alive:
            self._queue.put_nowait(frame)

    def close_soon(self, code: int) -> None:
        """Close after the frames already queued went out."""
        self._queue.put_nowait((self._CLOSE, code))

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, tuple) and item and item[0] is self._CLOSE:
                self.closed = True
                self._closing = True
                with contextlib.suppress(Exception):
                    await self.ws.close(code=int(item[1]), message=b"closed by fakediscord")
                return
            if self.ws.closed:
                continue
            try:
                await self.ws.send_str(str(item))
            except (ConnectionResetError, RuntimeError) as exc:
                log.debug("gateway #%s: send failed: %s", self.number, exc)

    async def shutdown(self) -> None:
        self.closed = True
        if self._closing:
            # let our own close handshake finish instead of cutting the transport
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

"""Discord's per-channel rate limit on creating messages, for the fake (opt-in: `rate_limits=True`).

Discord lets a bot create about 5 messages per 5 seconds in one channel (DM channels included). Like
Discord, every answer of `POST /channels/{id}/messages` carries the bucket's state in `X-RateLimit-*`
headers (limit, remaining, reset, reset-after, bucket hash, scope); once the window's 5 are used, a further
request gets 429 with `retry_after` (and `Retry-After`, `Via`), until the window resets 5 s after its first
request. discord.py's own rate-limit handling reads these headers and waits before the 6th request (or
after a 429), so a bot that posts too fast simply goes at Discord's pace, as it would in production.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

BUCKET_HASH = "fakechannelmessages0001"


@dataclass(slots=True)
class _Window:
    resets_at: float
    used: int


class ChannelRateLimits:
    """Fixed windows per channel: `limit` message creations per `per` seconds."""

    def __init__(self, limit: int = 5, per: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.per = per
        self.clock = clock
        self.limited: list[int] = []  # channel ids of the requests answered 429
        self._windows: dict[int, _Window] = {}

    def _window(self, channel_id: int) -> _Window:
        now = self.clock()
        w = self._windows.get(channel_id)
        if w is None or now >= w.resets_at:
            w = _Window(now + self.per, 0)
            self._windows[channel_id] = w
        return w

    def _headers(self, w: _Window) -> dict[str, str]:
        after = max(0.0, w.resets_at - self.clock())
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - w.used)),
            "X-RateLimit-Reset": f"{time.time() + after:.3f}",
            "X-RateLimit-Reset-After": f"{after:.3f}",
            "X-RateLimit-Bucket": BUCKET_HASH,
        }

    async def around(self, channel_id: int, handler: Callable[[], Awaitable[web.Response]]) -> web.Response:
        """Answer 429 when the channel's window is used up, else run the request and add the headers."""
        w = self._window(channel_id)
        if w.used >= self.limit:
            self.limited.append(channel_id)
            after = max(0.0, w.resets_at - self.clock())
            headers = self._headers(w) | {
                "Retry-After": str(max(1, math.ceil(after))),
                "X-RateLimit-Scope": "user",
                "Via": "1.1 google",  # without it discord.py treats a 429 as a Cloudflare ban
            }
            body = {"message": "You are being rate limited.", "retry_after": round(after, 3), "global": False}
            return web.json_response(body, status=429, headers=headers)
        w.used += 1
        response = await handler()
        response.headers.update(self._headers(w))
        return response

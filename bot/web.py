"""The bot's small HTTP endpoint (aiohttp), off unless `[web]` is configured: features serve read-only
resources under a path prefix of their own (the live calendar feeds under `/calendar/`).

Contract:
- `create_bot` builds one `WebServer` when the config has `[web]` (`bot.web`, else None); it starts
  after the extensions have loaded and stops first when the bot closes. A feature registers a handler for
  its prefix in `cog_load` (`route`) and removes it in `cog_unload` (`unroute`); requests are dispatched
  at request time, so a reloaded feature takes its prefix back without a restart.
- Handlers are framework-free: they take a `WebRequest` (the path after the prefix, the headers) and return
  a `WebResponse`; only GET and HEAD are served (405 otherwise); an unknown path is 404; a handler that
  raises is logged and answered 500 with no detail.
- No access log: feed URLs carry secrets, which must not land in log files.
- It listens where `[web] listen` says (put it behind a TLS reverse proxy); `public_url(path)` is the
  address members are given.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from bot.config import WebConfig

log = logging.getLogger(__name__)

__all__ = ["Handler", "WebRequest", "WebResponse", "WebServer"]


@dataclass(frozen=True, slots=True)
class WebRequest:
    method: str
    path: str  # after the handler's prefix, e.g. "123/abc.ics"
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class WebResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[WebRequest], Awaitable[WebResponse]]


class WebServer:
    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self._routes: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the bound port once started

    def route(self, prefix: str, handler: Handler) -> None:
        """Serve every path under `/<prefix>/` with this handler."""
        self._routes[prefix.strip("/")] = handler

    def unroute(self, prefix: str) -> None:
        self._routes.pop(prefix.strip("/"), None)

    def public_url(self, path: str) -> str:
        return f"{self.config.public_url}/{path.lstrip('/')}"

    @property
    def local_url(self) -> str:
        """Where this process listens (tests fetch from here)."""
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.config.port
        log.info("calendar feeds listening on %s:%s (public address %s)", self.config.host, self.port,
                 self.config.public_url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, headers={"Allow": "GET, HEAD"})
        prefix, _, rest = request.match_info["tail"].partition("/")
        handler = self._routes.get(prefix)
        if handler is None:
            return web.Response(status=404, text="Not found")
        try:
            answer = await handler(WebRequest(request.method, rest, request.headers))
        except Exception:
            log.exception("web handler for /%s/ failed", prefix)
            return web.Response(status=500, text="Internal error")
        # aiohttp sends no body for HEAD, and none with a 304
        return web.Response(status=answer.status, body=answer.body if answer.status != 304 else None,
                            headers=dict(answer.headers))

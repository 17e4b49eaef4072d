"""The sandbox page's server (aiohttp): the static page, a small JSON API over `Sandbox`, and a websocket that
says "something changed" so the page refreshes what it shows. Plain HTML/CSS/JS from bot/sandbox/static/,
no build step, nothing from the network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox import demo
from bot.sandbox.clock import ClockError
from bot.sandbox.emulation.limits import FLAG_EPHEMERAL
from bot.sandbox.emulation.results import FLAG_LOADING
from bot.sandbox.session import ActionError, Sandbox

log = logging.getLogger(__name__)

SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)


class Sockets:
    """The pages connected for live updates."""

    def __init__(self) -> None:
        self.open: set[web.WebSocketResponse] = set()


SOCKETS_KEY: web.AppKey[Sockets] = web.AppKey("sockets", Sockets)
STATIC = resources.files("bot.sandbox") / "static"
CONTENT_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _int(raw: Any, what: str) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise ActionError(f"{what} must be a number.") from None


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (ActionError, ClockError) as exc:
        return _json({"ok": False, "error": str(exc)}, status=400)
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        return _json({"ok": False, "error": f"Bad request: {exc}"}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    data = await request.json()
    if not isinstance(data, dict):
        raise ActionError("Send a JSON object.")
    return data


def box(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


# -- static ------------------------------------------------------------------------------------
async def static_file(request: web.Request) -> web.Response:
    name = request.match_info.get("name") or "index.html"
    if "/" in name or name.startswith("."):
        raise web.HTTPNotFound()
    item = STATIC / name
    if not item.is_file():
        raise web.HTTPNotFound()
    suffix = "." + name.rsplit(".", 1)[-1]
    return web.Response(
        body=item.read_bytes(),
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


# -- reading -----------------------------------------------------------------------------------
def _message_view(sb: Sandbox, message: dict[str, Any]) -> dict[str, Any]:
    flags = int(message.get("flags") or 0)
    attachments = [
        {
            "id": a["id"],
            "filename": a.get("filename"),
            "content_type": a.get("content_type"),
            "size": a.get("size"),
            "url": f"/api/files/{message['id']}/{a['id']}/{a.get('filename')}",
        }
        for a in message.get("attachments") or []
    ]
    return {
        "id": message["id"],
        "author": {
            "id": message["author"]["id"],
            "name": message["author"].get("global_name") or message["author"].get("username"),
            "bot": bool(message["author"].get("bot")),
        },
        "content": message.get("content") or "",
        "embeds": message.get("embeds") or [],
        "components": message.get("components") or [],
        "attachments": attachments,
        "ephemeral": bool(flags & FLAG_EPHEMERAL),
        "loading": bool(flags & FLAG_LOADING),
        "edited": message.get("edited_timestamp") is not None,
        "at": sb.seen_at(int(message["id"])) or message.get("timestamp"),
        "command": sb.command_of(int(message["id"]))
        or (message.get("interaction_metadata") or {}).get("name"),
        "command_user": ((message.get("interaction_metadata") or {}).get("user") or {}).get("global_name"),
    }


async def world(request: web.Request) -> web.Response:
    """Who and what is in the demo server, and the commands the bot synced."""
    sb = box(request)
    fake = sb.fake_or_fail()
    guild = sb.guild_or_fail()
    return _json(
        {
            "guild": {"id": str(guild.id), "name": guild.name},
            "members": [
                {"id": str(m.id), "name": m.name, "label": m.label, "role": m.role} for m in demo.MEMBERS
            ],
            "roles": [{"id": str(r.id), "name": r.name} for r in guild.roles if r.name != "@everyone"],
            "commands": fake.commands_for(None),
            "bot": {"id": str(fake.bot_user.id), "name": fake.bot_user.name},
            "seed": sb.seed_report,
        }
    )


async def view(request: web.Request) -> web.Response:
    """What one member sees: the channels (with threads and their DMs), one channel's messages, the clock and
    every breach of Discord's limits the emulation detected."""
    sb = box(request)
    fake = sb.fake_or_fail()
    guild = sb.guild_or_fail()
    member_id = _int(request.query.get("member") or demo.member("sandiego").id, "member")
    sb.member(member_id)
    channels: list[dict[str, str | None]] = []
    for channel in guild.text_channels:
        channels.append({"id": str(channel.id), "name": channel.name, "kind": "text", "parent": None})
    for thread in fake.threads.values():
        if not thread.deleted and thread.guild_id == guild.id:
            channels.append(
                {
                    "id": str(thread.id),
                    "name": thread.name,
                    "kind": "thread",
                    "parent": str(thread.parent_id) if thread.parent_id else None,
                }
            )
    dm = sb.dm_channel_of(member_id)
    if dm is not None:
        channels.append({"id": str(dm.id), "name": "Attaché (direct messages)", "kind": "dm", "parent": None})
    raw_channel = request.query.get("channel")
    channel_id = _int(raw_channel, "channel") if raw_channel else demo.channel("general").id
    known = {int(str(c["id"])) for c in channels}
    if channel_id not in known:
        channel_id = demo.channel("general").id
    now = sb.clock()
    events = [
        {
            "id": str(e["id"]),
            "name": e.get("name"),
            "start": e.get("scheduled_start_time"),
            "status": e.get("status"),
            "location": (e.get("entity_metadata") or {}).get("location"),
        }
        for e in fake.scheduled_events.values()
        if str(e.get("guild_id")) == str(guild.id)
    ]
    return _json(
        {
            "events": sorted(events, key=lambda e: str(e["start"])),
            "version": sb.version,
            "member": str(member_id),
            "channel": str(channel_id),
            "channels": channels,
            "messages": [_message_view(sb, m) for m in sb.messages(member_id, channel_id)],
            "clock": {"now": now.isoformat(), "offset_s": sb.clock.offset.total_seconds()},
            "violations": list(fake.violations) + [f"unknown route: {u}" for u in fake.unhandled],
        }
    )


async def download(request: web.Request) -> web.Response:
    sb = box(request)
    fake = sb.fake_or_fail()
    message = fake.get_message(_int(request.match_info["message_id"], "message"))
    if message is None:
        raise web.HTTPNotFound()
    wanted = _int(request.match_info["attachment_id"], "attachment")
    for stored in fake.message_files(message):
        if stored.id == wanted:
            disposition = "inline" if stored.content_type.startswith("image/") else "attachment"
            return web.Response(
                body=stored.data,
                content_type=stored.content_type,
                headers={"Content-Disposition": f'{disposition}; filename="{stored.filename}"'},
            )
    raise web.HTTPNotFound()


# -- acting ------------------------------------------------------------------------------------
async def invoke(request: web.Request) -> web.Response:
    data = await _body(request)
    files = {k: (str(v["filename"]), str(v["data"])) for k, v in (data.get("files") or {}).items()}
    result = await box(request).invoke(
        _int(data["member"], "member"),
        _int(data["channel"], "channel"),
        str(data["name"]),
        dict(data.get("options") or {}),
        files,
    )
    return _json(result)


async def autocomplete(request: web.Request) -> web.Response:
    data = await _body(request)
    choices = await box(request).autocomplete(
        _int(data["member"], "member"),
        _int(data["channel"], "channel"),
        str(data["name"]),
        str(data["focused"]),
        str(data.get("value") or ""),
        dict(data.get("options") or {}),
    )
    return _json({"ok": True, "choices": choices})


async def component(request: web.Request) -> web.Response:
    data = await _body(request)
    sb = box(request)
    member, message = _int(data["member"], "member"), _int(data["message"], "message")
    if data.get("values") is not None:
        result = await sb.select(member, message, str(data["custom_id"]), [str(v) for v in data["values"]])
    else:
        result = await sb.click(member, message, str(data["custom_id"]))
    return _json(result)


async def modal(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await box(request).submit_modal(
        _int(data["member"], "member"), str(data["key"]), dict(data.get("values") or {})
    )
    return _json(result)


async def say(request: web.Request) -> web.Response:
    data = await _body(request)
    box(request).say(_int(data["member"], "member"), _int(data["channel"], "channel"), str(data["text"]))
    return _json({"ok": True})


async def clock(request: web.Request) -> web.Response:
    data = await _body(request)
    sb = box(request)
    if data.get("minutes") is not None:
        now = await sb.move_clock(delta=timedelta(minutes=float(data["minutes"])))
    elif data.get("to"):
        try:
            when = datetime.fromisoformat(str(data["to"]))
        except ValueError:
            raise ActionError("Give the date as 2026-12-24T09:00 with its zone.") from None
        now = await sb.move_clock(to=when)
    else:
        raise ActionError("Say how far to move the clock.")
    await asyncio.sleep(0)
    return _json({"ok": True, "now": now.isoformat()})


async def reset(request: web.Request) -> web.Response:
    await box(request).reset()
    _broadcast(request.app)
    return _json({"ok": True})


# -- live updates ------------------------------------------------------------------------------
async def socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    sockets = request.app[SOCKETS_KEY].open
    sockets.add(ws)
    try:
        await ws.send_json({"type": "changed", "version": box(request).version})
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        sockets.discard(ws)
    return ws


def _broadcast(app: web.Application) -> None:
    version = app[SANDBOX_KEY].version
    for ws in list(app[SOCKETS_KEY].open):
        if not ws.closed:
            task = asyncio.ensure_future(ws.send_json({"type": "changed", "version": version}))
            task.add_done_callback(_quiet)


def _quiet(task: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
        task.result()


def make_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[errors], client_max_size=16 * 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app[SOCKETS_KEY] = Sockets()
    pending: dict[str, asyncio.Handle | None] = {"handle": None}

    def changed() -> None:  # many changes in one burst: one message to the page
        if pending["handle"] is None:
            loop = asyncio.get_running_loop()

            def fire() -> None:
                pending["handle"] = None
                _broadcast(app)

            pending["handle"] = loop.call_later(0.05, fire)

    sandbox.listeners.append(changed)
    app.router.add_get("/", static_file)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/api/world", world)
    app.router.add_get("/api/view", view)
    app.router.add_get("/api/files/{message_id}/{attachment_id}/{filename}", download)
    app.router.add_post("/api/invoke", invoke)
    app.router.add_post("/api/autocomplete", autocomplete)
    app.router.add_post("/api/component", component)
    app.router.add_post("/api/modal", modal)
    app.router.add_post("/api/say", say)
    app.router.add_post("/api/clock", clock)
    app.router.add_post("/api/reset", reset)
    app.router.add_get("/api/ws", socket)
    return app

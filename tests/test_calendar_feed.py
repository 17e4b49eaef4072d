"""Live calendar feeds end to end: /calendar subscribe and reset through discord.py and the fake Discord,
then the feed fetched over real HTTP from the bot's web endpoint and read with `icalendar`."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from icalendar import Calendar
from multidict import CIMultiDict

from bot.config import WebConfig
from bot.sandbox.emulation import FakeDiscord, Member
from bot.web import WebRequest, WebResponse, WebServer
from tests.e2e import World, start_world

WEB = {"listen": "127.0.0.1:0", "public_url": "https://attache.example"}
URL = re.compile(r"https://attache\.example(/calendar/\d+/[A-Za-z0-9_-]+\.ics)")


async def subscribe(w: World, member: Member, **options: Any) -> str:
    res = await w.fake.invoke(w.guild, member, "calendar subscribe", options)
    assert res.ephemeral, res.text
    m = URL.search(res.text)
    assert m, res.text
    assert f"webcal://attache.example{m.group(1)}" in res.text
    return m.group(1)


async def fetch(w: World, path: str, **headers: str) -> tuple[int, bytes, CIMultiDict[str]]:
    assert w.bot.web is not None
    async with aiohttp.ClientSession() as http, http.get(w.bot.web.local_url + path, headers=headers) as r:
        return r.status, await r.read(), CIMultiDict(r.headers)  # header names case-insensitive


def uids(body: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(body)
    return {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}


async def schedule(w: World, member: Member, title: str, where: str) -> int:
    start = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%d 10:00")
    res = await w.fake.invoke(w.guild, member, "roundtable schedule", {
        "title": title, "when": start, "timezone": "Europe/Paris", "repeat": "weekly", "where": where})
    assert "Scheduled" in res.text, res.text
    m = re.search(r"#(\d+)", res.text)
    assert m, res.text
    return int(m.group(1))


async def add_mou(w: World, member: Member, title: str) -> int:
    res = await w.fake.invoke(w.guild, member, "mou add", {
        "kind": "mou", "title": title, "city_a": "Seoul, KR", "city_b": "Paris, FR", "signed": "2025-05-01",
        "expires": "2031-05-01"})
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(w.guild, member, res, {"mou_add_summary": "Culture exchanges"})
    m = re.search(r"#(\d+)\*\* recorded", done.content)
    assert m, done.text
    return int(m.group(1))


async def test_feed_over_http(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    async with start_world(fake_discord, tmp_path, config_overrides={"web": WEB}) as w:
        fake, gid = w.fake, w.guild.id
        heat = await schedule(w, w.alice, "Heat plans", "https://meet.example/heat, Hôtel de Ville")
        bobs = await schedule(w, w.bob, "Bob's port talks", "https://meet.example/bob-secret")
        res = await fake.invoke(w.guild, w.carol, "roundtable rsvp", {"id": heat, "response": "going"})
        assert "going" in res.text.lower(), res.text
        mou = await add_mou(w, w.carol, "Seoul–Paris culture")

        carol_path = await subscribe(w, w.carol)
        status, body, headers = await fetch(w, carol_path)
        assert status == 200 and headers["Content-Type"].startswith("text/calendar")
        assert headers["ETag"] and headers["Last-Modified"] and "no-cache" in headers["Cache-Control"]
        events = uids(body)
        assert f"roundtable-{gid}-{heat}@attache" in events  # she is going
        assert f"roundtable-{gid}-{bobs}@attache" not in events  # she is not
        heat_ev = events[f"roundtable-{gid}-{heat}@attache"]
        assert "https://meet.example/heat" in str(heat_ev["DESCRIPTION"])  # going: she may see the link
        assert str(heat_ev["DTSTART"].params["TZID"]) == "Europe/Paris" and "RRULE" in heat_ev
        assert any(u.startswith(f"mou-{gid}-{mou}-expiry-") for u in events)  # she owns it
        text = body.decode()
        assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT") and "RDATE" not in text

        # conditional requests: 304 without a body while nothing changed
        status, again, _ = await fetch(w, carol_path, **{"If-None-Match": headers["ETag"]})
        assert status == 304 and again == b""
        status, _, _ = await fetch(w, carol_path, **{"If-Modified-Since": headers["Last-Modified"]})
        assert status == 304
        status, same, same_headers = await fetch(w, carol_path)
        assert status == 200 and same == body and same_headers["ETag"] == headers["ETag"]

        # a change in Attaché shows at the next poll
        res = await fake.invoke(w.guild, w.alice, "roundtable edit",
                                {"id": heat, "title": "Heat action plans"})
        assert "Updated" in res.text, res.text
        status, changed, changed_headers = await fetch(w, carol_path, **{"If-None-Match": headers["ETag"]})
        assert status == 200 and changed_headers["ETag"] != headers["ETag"]
        assert str(uids(changed)[f"roundtable-{gid}-{heat}@attache"]["SUMMARY"]) == "Heat action plans"

        # another member's feed shows nothing of carol's, and carol's nothing of bob's
        bob_path = await subscribe(w, w.bob)
        status, bob_body, _ = await fetch(w, bob_path)
        bob_events = uids(bob_body)
        assert status == 200 and f"roundtable-{gid}-{bobs}@attache" in bob_events
        assert f"roundtable-{gid}-{heat}@attache" not in bob_events
        assert not any(u.startswith(f"mou-{gid}-{mou}-") for u in bob_events)

        # options: every roundtable of the server, without links she may not see
        res = await fake.invoke(w.guild, w.carol, "calendar subscribe", {"all_roundtables": True})
        assert "already have a calendar feed" in res.text and not URL.search(res.text)
        status, all_body, _ = await fetch(w, carol_path)
        all_events = uids(all_body)
        assert f"roundtable-{gid}-{bobs}@attache" in all_events and b"bob-secret" not in all_body

        # only a hash of the token is stored
        token = carol_path.rsplit("/", 1)[1].removesuffix(".ics")
        stored = await w.bot.db.fetchval(
            "SELECT token_hash FROM calendar_feeds WHERE guild_id = ? AND user_id = ?", (gid, w.carol.id))
        assert stored == hashlib.sha256(token.encode()).hexdigest()
        assert not await w.bot.db.fetchval(
            "SELECT COUNT(*) FROM calendar_feeds WHERE token_hash = ? OR content_hash = ?", (token, token))

        # a feed is per server: the same token under another server's id is unknown
        status, _, _ = await fetch(w, carol_path.replace(f"/{gid}/", f"/{gid + 1}/"))
        assert status == 404

        # reset: the old address is revoked at once, the new one works
        res = await fake.invoke(w.guild, w.carol, "calendar reset", {})
        m = URL.search(res.text)
        assert m and m.group(1) != carol_path, res.text
        status, gone, _ = await fetch(w, carol_path)
        assert status == 404 and b"VCALENDAR" not in gone
        status, fresh, _ = await fetch(w, m.group(1))
        assert status == 200 and f"roundtable-{gid}-{heat}@attache" in uids(fresh)

        # /privacy forget-me deletes the feed: its address stops working
        res = await fake.invoke(w.guild, w.carol, "privacy forget-me", {})
        done = await fake.click(w.guild, w.carol, res, res.custom_ids[0])
        if done.callback_type == 7:  # "working on it" in place, then the result
            await done.wait_for_edit()
        status, _, _ = await fetch(w, m.group(1))
        assert status == 404
        assert not await w.bot.db.fetchval(
            "SELECT COUNT(*) FROM calendar_feeds WHERE guild_id = ? AND user_id = ?", (gid, w.carol.id))

        # malformed and unknown paths
        unknown = f"/calendar/{gid}/" + "A" * 43
        for path in ("/calendar/x/y.ics", "/calendar/1/short.ics", "/nothing", unknown, unknown + ".ics"):
            status, _, _ = await fetch(w, path)
            assert status == 404, path
        fake.assert_clean()


async def test_feeds_off_without_web_config(started_bot: World) -> None:
    w = started_bot
    res = await w.fake.invoke(w.guild, w.carol, "calendar subscribe", {})
    assert res.ephemeral and "server owner hasn't enabled calendar feeds" in res.text
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM calendar_feeds") == 0
    res = await w.fake.invoke(w.guild, w.carol, "calendar reset", {})
    assert "hasn't enabled" in res.text
    res = await w.fake.invoke(w.guild, w.carol, "calendar subscribe", {}, locale="fr")
    assert res.ephemeral and "Les flux d'agenda ne sont pas activés sur ce serveur" in res.text
    w.fake.assert_clean()


async def test_web_endpoint_serves_get_and_head_only_and_hides_failures() -> None:
    server = WebServer(WebConfig(host="127.0.0.1", port=0, public_url="https://attache.example"))
    seen: list[WebRequest] = []

    async def ok(request: WebRequest) -> WebResponse:
        seen.append(request)
        return WebResponse(200, b"hello", {"Content-Type": "text/plain"})

    async def broken(request: WebRequest) -> WebResponse:
        raise RuntimeError("secret detail")

    server.route("ok", ok)
    server.route("/broken/", broken)
    await server.start()
    try:
        assert server.port and server.public_url("/ok/x") == "https://attache.example/ok/x"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.local_url}/ok/a/b.ics") as r:
                assert r.status == 200 and await r.read() == b"hello"
            async with http.head(f"{server.local_url}/ok/a") as r:
                assert r.status == 200 and await r.read() == b""
            async with http.post(f"{server.local_url}/ok/a") as r:
                assert r.status == 405
            async with http.get(f"{server.local_url}/broken/x") as r:
                assert r.status == 500 and b"secret" not in await r.read()
            server.unroute("ok")
            async with http.get(f"{server.local_url}/ok/a") as r:
                assert r.status == 404
        assert [(q.method, q.path) for q in seen] == [("GET", "a/b.ics"), ("HEAD", "a")]
    finally:
        await server.stop()


async def test_calendar_replies_in_french_and_spanish(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    async with start_world(fake_discord, tmp_path, config_overrides={"web": WEB}) as w:
        fake = w.fake
        res = await fake.invoke(w.guild, w.alice, "calendar subscribe", {"deadlines": "all"}, locale="fr")
        assert res.ephemeral, res.text
        assert res.content.startswith("📅 Votre flux d'agenda privé pour ce serveur :"), res.text
        assert "**S'abonner** (Apple Calendar, Outlook) : `webcal://attache.example/calendar/" in res.text
        assert "Échéances des accords : tous les accords de ce serveur." in res.text
        again = await fake.invoke(w.guild, w.alice, "calendar subscribe", {}, locale="es-ES")
        assert again.content.startswith("Ya tiene un calendario suscrito en este servidor"), again.text
        assert "Plazos de los acuerdos: " in again.text
        reset = await fake.invoke(w.guild, w.alice, "calendar reset", {}, locale="es-ES")
        assert reset.content.startswith("📅 La nueva dirección de su calendario suscrito"), reset.text
        english = await fake.invoke(w.guild, w.bob, "calendar subscribe", {})
        assert english.content.startswith("📅 Your private calendar feed for this server:")
        fake.assert_clean()

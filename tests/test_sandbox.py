"""`attache sandbox` without a browser: the guard, the clock, the CLI's refusals, and the page's API walked
end to end over real HTTP (aiohttp's test client) against the real bot on the emulation."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.__main__ import main
from bot.sandbox import demo
from bot.sandbox.clock import ClockError, SandboxClock
from bot.sandbox.guard import SandboxRefused, check_database, delete_database, has_marker
from bot.sandbox.session import Sandbox
from bot.sandbox.web import make_app

SOFIA = str(demo.member("sandiego").id)
MOD = str(demo.member("moderator").id)
NIA = str(demo.member("newcomer").id)
GENERAL = str(demo.channel("general").id)
REVIEW = str(demo.channel("review").id)
ANNOUNCEMENTS = str(demo.channel("announcements").id)


# -- the guard and the clock (no bot) -------------------------------------------------------------
def test_guard_refuses_the_production_database(tmp_path: Path) -> None:
    prod = tmp_path / "attache.db"
    with pytest.raises(SandboxRefused, match="attache run"):
        check_database(prod, prod)  # even before it exists
    assert check_database(tmp_path / "sandbox.db", prod) is False


def test_guard_refuses_an_unmarked_database_and_never_deletes_it(tmp_path: Path) -> None:
    other = tmp_path / "mine.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.commit()
    con.close()
    with pytest.raises(SandboxRefused, match="not made by"):
        check_database(other, tmp_path / "attache.db")
    with pytest.raises(SandboxRefused):
        delete_database(other)
    assert other.exists() and not has_marker(other)
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(SandboxRefused):
        check_database(tmp_path / "notes.txt", tmp_path / "attache.db")


def test_cli_refuses_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('database_path = "live.db"\n')
    assert main(["sandbox", "--db", "live.db", "--no-browser"]) == 2
    assert "attache run" in capsys.readouterr().err
    (tmp_path / "plain.db").write_bytes(b"")
    sqlite3.connect(tmp_path / "plain.db").execute("CREATE TABLE t (x)").connection.commit()
    assert main(["sandbox", "--db", "plain.db", "--fresh", "--no-browser"]) == 2
    assert (tmp_path / "plain.db").exists()  # --fresh never deletes a database the sandbox did not make


def test_clock_only_moves_forward() -> None:
    clock = SandboxClock()
    before = clock()
    after = clock.advance(timedelta(hours=1))
    assert after - before >= timedelta(hours=1)
    with pytest.raises(ClockError):
        clock.advance(timedelta(minutes=-5))
    with pytest.raises(ClockError):
        clock.move_to(before)
    with pytest.raises(ClockError):
        clock.move_to(datetime(2030, 1, 1))  # noqa: DTZ001 - no zone, on purpose
    target = clock() + timedelta(days=3)
    assert abs((clock.move_to(target) - target).total_seconds()) < 1


# -- the page's API, end to end -------------------------------------------------------------------
@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    sandbox = Sandbox(db_path=tmp_path / "sandbox.db")
    await sandbox.start()
    test_client: TestClient[Any, Any] = TestClient(TestServer(make_app(sandbox)))
    await test_client.start_server()
    try:
        yield test_client
    finally:
        await test_client.close()
        await sandbox.stop()


async def post(client: TestClient[Any, Any], path: str, body: dict[str, Any], status: int = 200) -> Any:
    resp = await client.post(path, json=body)
    data = await resp.json()
    assert resp.status == status, data
    return data


async def view(client: TestClient[Any, Any], member: str, channel: str) -> Any:
    resp = await client.get("/api/view", params={"member": member, "channel": channel})
    assert resp.status == 200
    return await resp.json()


async def wait_view(
    client: TestClient[Any, Any], member: str, channel: str, ok: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15.0
    while True:
        messages = (await view(client, member, channel))["messages"]
        if ok(messages):
            return messages
        assert time.monotonic() < deadline, f"not seen in time; last messages: {messages[-3:]}"
        await asyncio.sleep(0.1)


def text_of(message: dict[str, Any]) -> str:
    parts = [message["content"]]
    for embed in message["embeds"]:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in message["components"]:
        for item in row.get("components", []):
            if item.get("type") == 2 and item.get("custom_id"):
                out[item.get("label", "")] = item["custom_id"]
    return out


MODAL_TEXT = {
    "title": "Night buses for shift workers across the border",
    "summary": "Shift workers could not get home after midnight; two cities ran a joint night bus line.",
    "approach": "Both transit agencies share the route, the fares and a single timetable.",
    "results": "1,200 riders a night after six months.",
    "lessons": "Agree on fares first.",
}


async def test_main_path_through_the_page_api(client: TestClient[Any, Any]) -> None:
    world = await (await client.get("/api/world")).json()
    assert world["guild"]["name"] == "City Diplomacy Network (sandbox)"
    assert {c["name"] for c in world["commands"]} >= {"practice", "roundtable", "mou", "profile"}
    assert any("sample practices" in line for line in world["seed"])
    page = await client.get("/")
    assert page.status == 200 and "Attaché sandbox" in await page.text()
    assert (await client.get("/static/app.js")).status == 200
    assert (await client.get("/static/../guard.py")).status == 404

    # the bot's own autocomplete
    found = await post(
        client,
        "/api/autocomplete",
        {
            "member": SOFIA,
            "channel": GENERAL,
            "name": "practice share",
            "focused": "city",
            "value": "San D",
            "options": {},
        },
    )
    assert any("San Diego" in c["name"] for c in found["choices"])

    # a liaison shares a practice through the modal
    opened = await post(
        client,
        "/api/invoke",
        {
            "member": SOFIA,
            "channel": GENERAL,
            "name": "practice share",
            "options": {"city": "San Diego", "topic": "economy"},
        },
    )
    modal = opened["modal"]
    ids = [
        c["custom_id"] for row in modal["components"] for c in row.get("components", [row.get("component")])
    ]
    assert "title" in ids
    sent = await post(
        client,
        "/api/modal",
        {"member": SOFIA, "key": modal["key"], "values": {k: v for k, v in MODAL_TEXT.items() if k in ids}},
    )
    assert sent["ok"]
    mine = await wait_view(client, SOFIA, GENERAL, lambda ms: any(m["ephemeral"] for m in ms))
    assert any(m["ephemeral"] for m in mine)
    others = (await view(client, NIA, GENERAL))["messages"]
    assert not any(m["ephemeral"] for m in others)  # ephemeral answers are the member's own

    # the moderator approves from the review card
    cards = await wait_view(
        client, MOD, REVIEW, lambda ms: any(MODAL_TEXT["title"] in text_of(m) for m in ms)
    )
    card = next(m for m in cards if MODAL_TEXT["title"] in text_of(m))
    assert "Approve" in buttons(card)
    refused = await post(
        client,
        "/api/component",
        {"member": SOFIA, "message": card["id"], "custom_id": buttons(card)["Approve"]},
    )
    assert refused["ok"]  # the bot answers the liaison with an ephemeral refusal, not an approval
    await post(
        client,
        "/api/component",
        {"member": MOD, "message": card["id"], "custom_id": buttons(card)["Approve"]},
    )
    await wait_view(client, MOD, ANNOUNCEMENTS, lambda ms: any(MODAL_TEXT["title"] in text_of(m) for m in ms))
    decided = await wait_view(client, MOD, REVIEW, lambda ms: any("Approved by" in text_of(m) for m in ms))
    assert all(":r>" not in text_of(m) for m in decided)  # Discord timestamp styles are case-sensitive

    # anyone finds it
    await post(
        client,
        "/api/invoke",
        {"member": NIA, "channel": GENERAL, "name": "practice search", "options": {"query": "night buses"}},
    )
    found = await wait_view(
        client, NIA, GENERAL, lambda ms: any(m["ephemeral"] and "Night buses" in text_of(m) for m in ms)
    )
    assert next(m for m in found if "Night buses" in text_of(m))["command"] == "practice search"

    # the newcomer answers Going on the sample roundtable's card
    shown = await wait_view(client, NIA, ANNOUNCEMENTS, lambda ms: any("Going" in buttons(m) for m in ms))
    rt = next(m for m in shown if "Going" in buttons(m))
    await post(
        client, "/api/component", {"member": NIA, "message": rt["id"], "custom_id": buttons(rt)["Going"]}
    )
    card_now = await wait_view(
        client,
        NIA,
        ANNOUNCEMENTS,
        lambda ms: any("Going **4**" in text_of(m) for m in ms if m["id"] == rt["id"]),
    )
    answered = [m for m in card_now if m["ephemeral"] and "You're going" in m["content"]]
    assert answered and not any(m["loading"] for m in card_now)  # the followup replaced "thinking…"

    # the clock moves past the reminder; the reminder is posted
    clock = (await view(client, NIA, GENERAL))["clock"]
    now = datetime.fromisoformat(clock["now"])
    start = (now + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    moved = await post(client, "/api/clock", {"to": (start - timedelta(minutes=10)).isoformat()})
    assert datetime.fromisoformat(moved["now"]) >= start - timedelta(minutes=10, seconds=1)
    reminders = await wait_view(
        client,
        NIA,
        ANNOUNCEMENTS,
        lambda ms: any("Climate adaptation" in text_of(m) and NIA in text_of(m) for m in ms),
    )
    alarms = [m for m in reminders if "⏰" in m["content"]]
    assert len(alarms) == 2  # 24 h and 15 min before: the clock stopped at each, none was late or skipped
    assert datetime.fromisoformat(alarms[0]["at"]) < start - timedelta(hours=23)
    assert (await post(client, "/api/clock", {"minutes": -15}, status=400))["error"]

    # attachments download from the page: the roundtable's calendar file
    await post(
        client,
        "/api/invoke",
        {"member": NIA, "channel": GENERAL, "name": "roundtable ics", "options": {"id": 1}},
    )
    with_file = await wait_view(client, NIA, GENERAL, lambda ms: any(m["attachments"] for m in ms))
    attachment = next(a for m in with_file for a in m["attachments"])
    assert attachment["filename"].endswith(".ics")
    download = await client.get(attachment["url"])
    assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]
    assert (await download.text()).startswith("BEGIN:VCALENDAR")

    # the sample roundtable is mirrored in the server's Events tab, which the page lists
    events = (await view(client, NIA, GENERAL))["events"]
    assert [e["name"] for e in events] == ["Climate adaptation peer exchange (sample)"]

    # violations the emulation saw are part of the view (none on this path)
    assert (await view(client, NIA, GENERAL))["violations"] == []


async def test_bad_requests_get_clear_errors(client: TestClient[Any, Any]) -> None:
    missing = await post(
        client,
        "/api/invoke",
        {"member": SOFIA, "channel": GENERAL, "name": "practice share", "options": {"city": "Paris"}},
        status=400,
    )
    assert "topic" in missing["error"]
    stranger = await post(
        client,
        "/api/invoke",
        {"member": "12345", "channel": GENERAL, "name": "help", "options": {}},
        status=400,
    )
    assert "demo server" in stranger["error"]
    assert (await post(client, "/api/modal", {"member": SOFIA, "key": "nope", "values": {}}, status=400))[
        "error"
    ]
    assert (
        await post(client, "/api/say", {"member": SOFIA, "channel": GENERAL, "text": "x" * 2001}, status=400)
    )["error"]
    await post(client, "/api/say", {"member": SOFIA, "channel": GENERAL, "text": "Hello, network!"})
    messages = (await view(client, NIA, GENERAL))["messages"]
    assert messages[-1]["content"] == "Hello, network!" and messages[-1]["author"]["name"] == "Sofia Ramirez"


async def test_reset_returns_to_the_seed(client: TestClient[Any, Any], tmp_path: Path) -> None:
    await post(client, "/api/say", {"member": SOFIA, "channel": GENERAL, "text": "before the reset"})
    await post(client, "/api/clock", {"minutes": 60 * 24})
    await post(client, "/api/reset", {})
    after = await view(client, SOFIA, GENERAL)
    assert after["messages"] == []
    assert after["clock"]["offset_s"] == 0
    assert has_marker(tmp_path / "sandbox.db")
    world = await (await client.get("/api/world")).json()
    assert any("sample practices" in line for line in world["seed"])
    assert datetime.fromisoformat(after["clock"]["now"]) - datetime.now(UTC) < timedelta(minutes=1)


def test_the_page_ships_in_the_wheel() -> None:
    """Every static file of the page matches a package-data pattern (the wheel carries only those)."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    static = root / "bot" / "sandbox" / "static"
    files = sorted(p.relative_to(static.parent).as_posix() for p in static.iterdir())
    assert {"static/index.html", "static/app.js", "static/app.css"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(name, pat) for pat in patterns["bot.sandbox"]), name


async def test_the_cli_serves_the_page_and_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    """`attache sandbox` as a real process: ready line, the page over HTTP, a clean stop on Ctrl+C (SIGINT),
    and a second start on the same database that does not seed again."""
    import signal
    import socket
    import sys

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    async def run_once() -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "sandbox",
            "--no-browser",
            "--port",
            str(port),
            "--db",
            "demo.db",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert proc.stdout is not None
        seen = ""
        try:
            async with asyncio.timeout(120):
                while "ready at" not in seen:
                    line = await proc.stdout.readline()
                    assert line, f"the sandbox stopped before it was ready:\n{seen}"
                    seen += line.decode()
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/") as resp:
                    assert resp.status == 200 and "Attaché sandbox" in await resp.text()
                async with http.get(f"http://127.0.0.1:{port}/api/world") as resp:
                    assert (await resp.json())["guild"]["name"] == demo.GUILD_NAME
        finally:
            proc.send_signal(signal.SIGINT)
            rest, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, seen + rest.decode()
        return seen

    first = await run_once()
    assert "Sample data:" in first and f"http://127.0.0.1:{port}/" in first
    assert has_marker(tmp_path / "demo.db")
    second = await run_once()
    assert "Sample data:" not in second  # the same database: seeded once

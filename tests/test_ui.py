"""The interaction kernel: the one paginator (bot.paging), base views, and command decorators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from discord import app_commands

from bot.sandbox.emulation import FakeDiscord
from tests.e2e import World, start_world

JsonDict = dict[str, Any]


@pytest_asyncio.fixture
async def probe_world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    async with start_world(fake_discord, tmp_path,
                           extensions=["cogs.settings", "cogs.meta", "tests.paging_probe"]) as w:
        yield w


def button(message: JsonDict, label: str) -> JsonDict:
    for row in message.get("components") or []:
        for c in row.get("components") or []:
            if c.get("type") == 2 and c.get("label") == label:
                return c
    raise LookupError(f"no button {label!r} in {message.get('components')}")


def footer(message: JsonDict) -> str:
    return str(((message.get("embeds") or [{}])[0].get("footer") or {}).get("text", ""))


async def press(w: World, msg_id: str, label: str) -> JsonDict:
    current = w.fake.get_message(msg_id) or {}
    await w.fake.click(w.guild, w.alice, current, button(current, label)["custom_id"])
    return w.fake.get_message(msg_id) or {}


async def test_paginator_starts_on_a_deferred_interaction(probe_world: World) -> None:
    """A command that acknowledged first (deferred "thinking…") can still answer with a paginator:
    the first page arrives as the followup, and its buttons page in place."""
    w = probe_world
    res = await w.fake.invoke(w.guild, w.alice, "probe deferred")
    assert res.deferred and res.ephemeral
    msg = res.message or {}
    assert "row 0" in str(msg.get("embeds")) and footer(msg) == "probe · Page 1/2+"
    msg = await press(w, msg["id"], "Next ›")
    assert "row 10" in str(msg["embeds"]) and footer(msg) == "probe · Page 2/3+"
    msg = await press(w, msg["id"], "Next ›")
    assert "row 20" in str(msg["embeds"]) and footer(msg) == "probe · Page 3/3"
    assert button(msg, "Next ›").get("disabled") and button(msg, "»").get("disabled")
    msg = await press(w, msg["id"], "«")
    assert "row 0" in str(msg["embeds"]) and footer(msg) == "probe · Page 1/3"
    w.fake.assert_clean()


async def test_paginator_with_an_unknown_page_count(probe_world: World) -> None:
    """A source fetched one page at a time: "Page 1/2+" until the end is seen; » goes as far as is
    known; a list that shrank meanwhile lands on the last page there is; another member can't page."""
    w = probe_world
    probe: Any = w.bot.get_cog("Probe")
    res = await w.fake.invoke(w.guild, w.alice, "probe fresh")
    assert not res.deferred and res.callback_type == 4
    msg = res.message or {}
    assert footer(msg) == "probe · Page 1/2+" and probe.fetches == [0]
    assert button(msg, "‹ Prev").get("disabled") and not button(msg, "Next ›").get("disabled")
    msg = await press(w, msg["id"], "»")  # the count is open: as far as is known
    assert footer(msg) == "probe · Page 2/3+" and "row 10" in str(msg["embeds"])
    msg = await press(w, msg["id"], "»")
    assert footer(msg) == "probe · Page 3/3" and "row 24" in str(msg["embeds"])
    # someone else's buttons
    other = await w.fake.click(w.guild, w.bob, msg, button(msg, "«")["custom_id"])
    assert "someone else" in str(other.callback)
    # the list shrinks to one page while it is shown: ‹ from page 3 asks for page 2, which is gone
    probe.rows = probe.rows[:5]
    msg = await press(w, msg["id"], "‹ Prev")
    assert footer(msg) == "probe" and "row 4" in str(msg["embeds"]) and "row 10" not in str(msg["embeds"])
    assert button(msg, "Next ›").get("disabled") and button(msg, "«").get("disabled")
    w.fake.assert_clean()


async def test_roundtable_list_pages_one_query_at_a_time(started_bot: World) -> None:
    from datetime import UTC, datetime, timedelta

    w = started_bot
    cog: Any = w.bot.get_cog("Roundtables")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    for i in range(12):
        await cog.svc.create(
            w.guild.id, w.alice.id, title=f"Meeting {i:02d}", start=start + timedelta(hours=i), tz="UTC"
        )
    res = await w.fake.invoke(w.guild, w.bob, "roundtable list")
    msg = res.message or {}
    assert "Meeting 00" in str(msg["embeds"]) and footer(msg).endswith("Page 1/2+")
    msg = await press_as(w, w.bob, msg["id"], "Next ›")
    assert "Meeting 11" in str(msg["embeds"]) and footer(msg).endswith("Page 2/2")
    w.fake.assert_clean()


async def press_as(w: World, member: Any, msg_id: str, label: str) -> JsonDict:
    current = w.fake.get_message(msg_id) or {}
    await w.fake.click(w.guild, member, current, button(current, label)["custom_id"])
    return w.fake.get_message(msg_id) or {}


def _subcommands(w: World) -> list[app_commands.Command[Any, ..., Any]]:
    return [
        c for c in w.bot.tree.walk_commands() if isinstance(c, app_commands.Command) and c.parent is not None
    ]


async def test_no_default_permissions_below_top_level(started_bot: World) -> None:
    """Discord reads default_member_permissions on top-level commands only: on a subcommand it does
    nothing, so it must not be there (it reads as a protection that isn't one)."""
    subs = _subcommands(started_bot)
    assert subs
    assert [c.qualified_name for c in subs if c.default_permissions is not None] == []

"""Per-member cooldowns on expensive commands (hardening issue: "Discord faults" → cooldowns).

For each expensive command: `rate` uses within the window work, the next one is refused with an
ephemeral "Slow down: you can use this again <t:…:R>" naming the right moment, another member is not
affected, and the member can use it again once the window has passed. Discord stamps each
interaction with its time (the snowflake id, which discord.py's cooldown reads), so the test moves
the fake's snowflake clock instead of sleeping.
"""

from __future__ import annotations

import re
import time
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.checks import EXPORT_LIMIT, FINDTIME_LIMIT, ICS_LIMIT, SEARCH_LIMIT
from bot.sandbox.emulation import models
from tests.e2e import World

SLOW_DOWN = re.compile(r"Slow down: you can use this again <t:(\d+):R>\.")


class SnowflakeClock:
    """Shifts the time the fake stamps on new ids (interactions, messages) by `offset` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def snowclock(monkeypatch: pytest.MonkeyPatch) -> Iterator[SnowflakeClock]:
    clock = SnowflakeClock()
    monkeypatch.setattr(models, "time", types.SimpleNamespace(time=clock.time))
    yield clock


async def prepare(w: World, command: str) -> dict[str, Any]:
    """Options for one use of `command` (creating what it needs first)."""
    if command == "roundtable ics":
        start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
        res = await w.fake.invoke(
            w.guild,
            w.alice,
            "roundtable schedule",
            {"title": "Calendar", "when": start.strftime("%Y-%m-%d %H:%M"), "timezone": "UTC"},
        )
        rt_id = await w.bot.db.fetchval("SELECT MAX(id) FROM roundtables WHERE guild_id = ?", (w.guild.id,))
        assert rt_id, res.text
        return {"id": rt_id}
    return {
        "practice search": {"query": "flooding"},
        "practice export": {"format": "csv"},
        "mou export": {"format": "csv"},
        "mou ics": {},
        "calendar subscribe": {},
        "calendar reset": {},
        "network export": {"what": "networks"},
        "roundtable findtime": {"cities": "Europe/Paris; America/New_York", "within_days": 3},
    }[command]


CASES = [
    ("practice search", SEARCH_LIMIT, "member"),
    ("practice export", EXPORT_LIMIT, "moderator"),
    ("mou export", EXPORT_LIMIT, "moderator"),
    ("network export", EXPORT_LIMIT, "moderator"),
    ("roundtable findtime", FINDTIME_LIMIT, "member"),
    ("roundtable ics", ICS_LIMIT, "member"),
    ("mou ics", ICS_LIMIT, "member"),
    ("calendar subscribe", ICS_LIMIT, "member"),
    ("calendar reset", ICS_LIMIT, "member"),
]


@pytest.mark.parametrize("command, limit, who", CASES, ids=[c[0].replace(" ", "-") for c in CASES])
async def test_expensive_command_cooldown_per_member(
    started_bot: World, snowclock: SnowflakeClock, command: str, limit: tuple[int, float], who: str
) -> None:
    w = started_bot
    fake = w.fake
    rate, per = limit
    first, other = (w.mod, w.admin) if who == "moderator" else (w.bob, w.carol)
    options = await prepare(w, command)

    for i in range(rate):
        res = await fake.invoke(w.guild, first, command, options)
        assert res.ephemeral or res.callback is not None
        assert "Slow down" not in res.text, (i, res.text)

    before = time.time()
    res = await fake.invoke(w.guild, first, command, options)
    assert res.ephemeral, res.text
    m = SLOW_DOWN.search(res.text)
    assert m, res.text
    assert before < int(m.group(1)) <= before + per + 2  # names the moment the window ends
    assert not res.files

    # another member is not affected
    res = await fake.invoke(w.guild, other, command, options)
    assert "Slow down" not in res.text, res.text

    # a non-moderator refused by the permission check does not use up a moderator-only command's turns
    if who == "moderator":
        res = await fake.invoke(w.guild, w.alice, command, options)
        assert "Only moderators" in res.text, res.text

    # after the window, the first member can use it again
    snowclock.offset += per + 1
    res = await fake.invoke(w.guild, first, command, options)
    assert "Slow down" not in res.text, res.text
    fake.assert_clean()


async def test_cooldown_scale_zero_turns_cooldowns_off(started_bot: World) -> None:
    w = started_bot
    w.bot.cooldown_scale = 0
    for _ in range(SEARCH_LIMIT[0] + 3):
        res = await w.fake.invoke(w.guild, w.bob, "practice search", {"query": "x"})
        assert "Slow down" not in res.text, res.text


async def test_cooldown_is_per_server(started_bot: World) -> None:
    """The same member in a second server has their own turns."""
    w = started_bot
    fake = w.fake
    g2 = fake.add_guild(name="Second")
    g2.add_text_channel("general")
    bob2 = g2.add_member(w.bob.id)
    await fake.sync_gateway()
    for _ in range(FINDTIME_LIMIT[0]):
        await fake.invoke(w.guild, w.bob, "roundtable findtime", {"cities": "Asia/Seoul; Europe/Paris"})
    res = await fake.invoke(w.guild, w.bob, "roundtable findtime", {"cities": "Asia/Seoul; Europe/Paris"})
    assert SLOW_DOWN.search(res.text), res.text
    res = await fake.invoke(g2, bob2, "roundtable findtime", {"cities": "Asia/Seoul; Europe/Paris"})
    assert "Slow down" not in res.text and "Best times" in res.text, res.text


def test_member_cooldowns_count_per_member_and_sweep_expired_buckets() -> None:
    """The bucket book behind `expensive`: `rate` uses per `per` seconds per (server, member); a bucket
    older than `per` is dropped by the next sweep (at most one sweep per `per` seconds), so the book holds
    only the members active in the last `per` seconds."""
    from bot.checks import MemberCooldowns

    book = MemberCooldowns(2, 10.0)
    assert book.hit((1, 7), 100.0) is None and book.hit((1, 7), 101.0) is None
    retry = book.hit((1, 7), 102.0)
    assert retry is not None and 7.0 < retry <= 8.0  # the first of the two uses frees up at 110
    assert book.hit((2, 7), 102.0) is None  # another server: its own bucket
    assert book.hit((1, 8), 102.0) is None  # another member
    for k in range(1000):
        book.hit((3, k), 103.0)
    assert len(book) == 1003
    assert book.hit((4, 1), 120.0) is None  # a sweep: every bucket last used before 110 is gone
    assert len(book) == 1
    assert book.hit((1, 7), 120.0) is None  # a fresh bucket after the wait
    assert book.hit((1, 7), 121.0, scale=0) is None  # scale 0: no limit

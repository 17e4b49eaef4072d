"""The cost of one request and the limits per member (issue 11, "Trust"), end to end.

* No single input holds the event loop: an impossible or huge RRULE is refused quickly while
  another member's command is answered at once.
* Creations (roundtables, practices, agreements, milestones) are limited per member, per server
  and per kind (`bot/limits.py`); moderators are exempt; the refusal says when to try again.
* The Events-tab mirror never uses more than the server's share of its 100 scheduled-event slots.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e import World
from tests.fakediscord import InteractionResult

OTHER_BOUND = 0.3  # seconds: another member's answer while a hostile rule is being refused
BAD_BOUND = 1.0  # seconds: the hostile rule's own (error) answer
HOSTILE_RULES = (
    "FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=4;COUNT=500",
    "FREQ=WEEKLY;BYWEEKNO=53;BYDAY=MO;BYMONTH=6",
    "FREQ=DAILY;BYYEARDAY=366;BYMONTH=1",
)


def _when(days: int = 5) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%d %H:%M")


def _is_error(res: InteractionResult) -> bool:
    return res.ephemeral and any(int(e.get("color") or 0) == 0xC53030 for e in res.embeds)


@pytest.mark.parametrize("rule", HOSTILE_RULES)
async def test_impossible_rrule_never_holds_the_loop(started_bot: World, rule: str) -> None:
    w = started_bot
    # warm up: the first command of a fresh bot pays one-off costs (imports, caches)
    await w.fake.invoke(w.guild, w.bob, "roundtable list", {}, timeout=5)
    bad = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": "Never", "when": _when(), "timezone": "UTC", "repeat": rule}, wait=False)
    await asyncio.sleep(0.01)  # the bot is now working on the bad rule
    other = await w.fake.invoke(w.guild, w.bob, "roundtable list", {}, timeout=5)
    await bad.wait_for_response(5)
    assert other.callback_delay is not None and other.callback_delay < OTHER_BOUND, other.callback_delay
    assert bad.callback_delay is not None and bad.callback_delay < BAD_BOUND, bad.callback_delay
    assert _is_error(bad), bad.text
    assert "RRULE" in bad.text, bad.text
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM roundtables") == 0
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_rare_but_real_rule_is_accepted(started_bot: World) -> None:
    """Bounding the expansion must not refuse a rule that does happen within the horizon: 29 February."""
    w = started_bot
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": "Leap day", "when": _when(), "timezone": "UTC",
                               "repeat": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"}, timeout=5)
    assert not _is_error(res), res.text
    start = await w.bot.db.fetchval("SELECT next_start_s FROM roundtables")
    first = datetime.fromtimestamp(start, UTC)
    assert (first.month, first.day) == (2, 29)

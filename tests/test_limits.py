"""The cost of one request and the limits per member (issue 11, "Trust"), end to end.

* No single input holds the event loop: an impossible or huge RRULE is refused quickly while
  another member's command is answered at once.
* Creations (roundtables, practices, agreements, milestones) are limited per member, per server
  and per kind (`bot/limits.py`); moderators are exempt; the refusal says when to try again.
* The Events-tab mirror never uses more than the server's share of its 100 scheduled-event slots.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import create_bot
from bot.limits import GUILD_EVENT_SLOTS
from bot.sandbox.emulation import FakeDiscord, Guild, InteractionResult, Member, run_bot
from tests.e2e import World, configure, populate, start_world

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
    bad = await w.fake.invoke(
        w.guild,
        w.alice,
        "roundtable schedule",
        {"title": "Never", "when": _when(), "timezone": "UTC", "repeat": rule},
        wait=False,
    )
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


# -- creations per member ------------------------------------------------------------------------
async def _schedule(w: World, member: Member, n: int, guild: Guild | None = None) -> InteractionResult:
    return await w.fake.invoke(
        guild or w.guild,
        member,
        "roundtable schedule",
        {"title": f"Budget talk {n}", "when": _when(3 + n), "timezone": "UTC"},
        timeout=5,
    )


def _retry_at(res: InteractionResult) -> int:
    m = re.search(r"<t:(\d+):R>", res.text)
    assert m, res.text
    return int(m.group(1))


async def test_eleventh_roundtable_in_an_hour_is_refused_per_member_and_server(started_bot: World) -> None:
    w = started_bot
    db = w.bot.db
    for n in range(10):
        res = await _schedule(w, w.alice, n)
        assert not _is_error(res), res.text
    res = await _schedule(w, w.alice, 10)
    assert _is_error(res), res.text
    assert "10 roundtables in the last hour" in res.text
    retry = _retry_at(res)
    assert 0 < retry - datetime.now(UTC).timestamp() <= 3600
    assert await db.fetchval("SELECT COUNT(*) FROM roundtables WHERE host_id = ?", (w.alice.id,)) == 10
    # per member: bob is not limited by alice; a moderator is never limited
    assert not _is_error(await _schedule(w, w.bob, 0))
    for n in range(11):
        res = await _schedule(w, w.mod, n)
        assert not _is_error(res), res.text
    # per server: the same member in another server starts from zero
    parts2 = populate(w.fake, name="Second Network Office")
    alice2 = parts2["guild"].add_member(user_id=w.alice.id)
    await w.fake.sync_gateway()
    await configure(w.bot, parts2)
    res = await _schedule(w, alice2, 0, parts2["guild"])
    assert not _is_error(res), res.text
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_limit_is_per_kind_and_the_setting_changes_it(started_bot: World) -> None:
    w = started_bot
    fake, db = w.fake, w.bot.db
    for kind in ("practice", "agreement", "milestone"):
        res = await fake.invoke(w.guild, w.admin, "settings creation-limit", {"kind": kind, "per_hour": 1})
        assert not _is_error(res), res.text
    res = await fake.invoke(
        w.guild, w.admin, "settings creation-limit", {"kind": "roundtable", "per_hour": 2}
    )
    assert not _is_error(res), res.text

    # agreements: one per hour now; the second is refused before its form opens
    res = await fake.invoke(
        w.guild,
        w.alice,
        "mou add",
        {
            "kind": "mou",
            "title": "Twinning",
            "city_a": "Seoul, KR",
            "city_b": "Paris, FR",
            "expires": "2031-01-01",
        },
    )
    assert res.modal is not None, res.text
    done = await fake.submit_modal(w.guild, w.alice, res, {})
    await done.wait_for_message()
    aid = await db.fetchval("SELECT MAX(id) FROM mou_agreements")
    assert aid
    res = await fake.invoke(
        w.guild,
        w.alice,
        "mou add",
        {"kind": "mou", "title": "Again", "city_a": "Seoul, KR", "city_b": "Paris, FR"},
    )
    assert res.modal is None and _is_error(res), res.text
    assert "1 agreements in the last hour" in res.text

    # milestones are counted apart from agreements (per kind)
    res = await fake.invoke(w.guild, w.alice, "mou milestone add", {"id": aid, "date": "2030-01-01",
                                                                    "description": "Report"})
    assert not _is_error(res), res.text
    res = await fake.invoke(w.guild, w.alice, "mou milestone add", {"id": aid, "date": "2030-02-01",
                                                                    "description": "Visit"})
    assert _is_error(res) and "<t:" in res.text, res.text
    assert await db.fetchval("SELECT COUNT(*) FROM mou_milestones") == 1

    # practices: two forms opened while under the limit; the second save is refused, nothing saved
    forms = [
        await fake.invoke(w.guild, w.alice, "practice share", {"city": "Lyon, FR", "topic": "resilience"})
        for _ in range(2)
    ]
    assert all(f.modal is not None for f in forms), [f.text for f in forms]
    values = [
        {
            "title": t,
            "summary": "Storms flooded the old town.",
            "approach": "Parking strips became gardens.",
            "results": "",
            "lessons": "",
        }
        for t in ("Rain gardens", "Night buses for shift workers")
    ]
    first = await fake.submit_modal(w.guild, w.alice, forms[0], values[0])
    await first.wait_for_message()
    second = await fake.submit_modal(w.guild, w.alice, forms[1], values[1])
    await second.wait_for_message()
    assert "1 practices in the last hour" in second.text, second.text
    assert await db.fetchval("SELECT COUNT(*) FROM practices") == 1
    res = await fake.invoke(w.guild, w.alice, "practice share", {"city": "Lyon, FR", "topic": "resilience"})
    assert res.modal is None and _is_error(res), res.text

    # roundtables: the setting made it 2
    assert not _is_error(await _schedule(w, w.alice, 0))
    assert not _is_error(await _schedule(w, w.alice, 1))
    assert _is_error(await _schedule(w, w.alice, 2))
    # 0 turns the limit off
    await fake.invoke(w.guild, w.admin, "settings creation-limit", {"kind": "roundtable", "per_hour": 0})
    assert not _is_error(await _schedule(w, w.alice, 3))
    show = await fake.invoke(w.guild, w.admin, "settings show", {})
    assert "roundtables no limit" in show.text and "practices 1/h" in show.text, show.text
    assert fake.violations == [] and fake.unhandled == []


async def test_limit_counts_survive_a_restart(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    async with start_world(fake_discord, tmp_path) as w:
        await w.fake.invoke(
            w.guild, w.admin, "settings creation-limit", {"kind": "roundtable", "per_hour": 1}
        )
        assert not _is_error(await _schedule(w, w.alice, 0))
    async with run_bot(fake_discord, create_bot(w.config)) as bot2:
        await fake_discord.sync_gateway()
        res = await fake_discord.invoke(w.guild, w.alice, "roundtable schedule",
                                        {"title": "Again", "when": _when(9), "timezone": "UTC"}, timeout=5)
        assert _is_error(res) and "<t:" in res.text, res.text
        assert await bot2.db.fetchval("SELECT COUNT(*) FROM roundtables") == 1


# -- the Events-tab share ---------------------------------------------------------------------------
async def test_event_mirror_keeps_to_its_share_of_slots(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    res = await fake.invoke(w.guild, w.admin, "settings event-slots", {"count": 2})
    assert not _is_error(res), res.text
    for n in range(3):
        res = await _schedule(w, w.mod, n)
        assert not _is_error(res), res.text
    events = [e for e in fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]
    assert len(events) == 2
    rows = await w.bot.db.fetchall("SELECT id, event_id FROM roundtables ORDER BY id")
    assert len(rows) == 3 and rows[-1]["event_id"] is None  # created, just not mirrored
    show = await fake.invoke(w.guild, w.admin, "settings show", {})
    assert "**full**" in show.text and "at most 2 of the server's 100" in show.text, show.text
    # a freed slot is used again
    res = await fake.invoke(w.guild, w.admin, "settings event-slots", {"count": 3})
    assert not _is_error(res), res.text
    assert not _is_error(await _schedule(w, w.mod, 3))
    assert len([e for e in fake.scheduled_events.values() if e["guild_id"] == str(w.guild.id)]) == 3
    assert fake.violations == [] and fake.unhandled == []


async def test_server_with_all_100_events_taken_still_gets_its_roundtable(
    started_bot: World, caplog: pytest.LogCaptureFixture
) -> None:
    w = started_bot
    for n in range(GUILD_EVENT_SLOTS):
        w.fake.add_scheduled_event(w.guild, f"Member event {n}")
    res = await _schedule(w, w.mod, 0)
    assert not _is_error(res), res.text
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM roundtables") == 1
    assert len(w.fake.scheduled_events) == GUILD_EVENT_SLOTS  # the fake refused the 101st (30038)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and not r.name.startswith("tests.")]

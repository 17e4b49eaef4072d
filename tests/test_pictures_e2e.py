"""Pictures end to end through discord.py and the fake Discord: each picture arrives as a PNG attachment
with alt text (the attachment's description) beside its text version; findtime's "Post as poll" posts a
native poll with the listed slots, and refuses any member but the one who ran findtime."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from PIL import Image

from bot.sandbox.emulation import FakeDiscord
from bot.sandbox.emulation.results import InteractionResult
from cogs.mous import planning as P
from cogs.mous.service import Actor
from tests.e2e import MovableClock, World, mou_service, start_world
from tests.test_practices_e2e import approve_by_command, share


@pytest_asyncio.fixture
async def pic_world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    clock = MovableClock()
    clock.jump_to(datetime(2026, 1, 5, 6, 10, tzinfo=UTC))  # a Monday morning (UTC)
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock) as w:
        w.extra["clock"] = clock
        w.bot.cooldown_scale = 0  # several findtimes in a row
        yield w


def png_of(res: InteractionResult) -> tuple[Image.Image, str]:
    files = [f for f in res.files if f.filename.endswith(".png")]
    assert len(files) == 1, [f.filename for f in res.files]
    image = Image.open(io.BytesIO(files[0].data))
    assert image.format == "PNG" and image.width <= 1600
    assert files[0].description, "every picture carries alt text"
    return image, files[0].description


def poll_of(message: dict[str, Any]) -> dict[str, Any]:
    poll = message.get("poll")
    assert isinstance(poll, dict), message
    return poll


async def test_findtime_grid_poll_and_refusal(pic_world: World) -> None:
    w = pic_world
    fake = w.fake
    opts = {"cities": "Europe/Paris; America/New_York; Asia/Riyadh", "within_days": 7}
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime", opts, channel=w.general)
    assert res.ephemeral and "Best times" in res.text and "<t:" in res.text  # the text version stays
    image, alt = png_of(res)
    assert image.height >= 3 * 30 and "Paris" in alt and "Riyadh" in alt and "1. " in alt
    assert res.embed is not None and res.embed["image"]["url"] == "attachment://findtime.png"
    # Riyadh's weekend is Friday-Saturday: no slot on a Friday (in Riyadh); its Sunday is a working day
    # but New York's and Paris's is not, so no Sunday either.
    assert "Fri " not in alt.split("Best slots")[1]
    message = res.message
    assert message is not None
    poll_button = next(c["custom_id"] for row in message["components"] for c in row["components"])

    # Bob cannot press Alice's button; nothing is posted.
    before = len(fake.channel_messages(w.general))
    refused = await fake.click(w.guild, w.bob, message, poll_button)
    assert refused.ephemeral and "someone else" in refused.text
    assert len(fake.channel_messages(w.general)) == before

    done = await fake.click(w.guild, w.alice, message, poll_button)
    followup = await done.wait_for_followup()
    assert "Poll posted" in str(followup.get("content")) and done.callback_type == 7  # button disabled
    assert all(c.get("disabled") for row in done.callback_data["components"] for c in row["components"])
    posted = fake.channel_messages(w.general)[before:]
    assert len(posted) == 1
    poll = poll_of(posted[0])
    answers = [a["poll_media"]["text"] for a in poll["answers"]]
    slot_lines = alt.split("Best slots, outlined and numbered: ")[1].rstrip(".").split("; ")
    assert answers == slot_lines[: len(answers)] and 1 <= len(answers) <= 10
    assert all(len(a) <= 55 for a in answers) and "When should we meet?" in poll["question"]["text"]
    assert "<t:" in posted[0]["content"]  # the same slots in everyone's own time
    # the button is disabled on the answer now: one poll per findtime
    current = fake.get_message(int(message["id"]))
    assert current is not None
    assert all(c.get("disabled") for row in current["components"] for c in row["components"])
    fake.assert_clean()


async def test_findtime_hours_and_early_late(pic_world: World) -> None:
    w = pic_world
    fake = w.fake
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Asia/Seoul; America/Los_Angeles", "duration": "3h"})
    assert "No common working time" in res.text and "allow_early_late" in res.text
    assert not res.message or not res.message.get("components")  # no poll without slots
    png_of(res)  # the grid still shows why
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Asia/Seoul; America/Los_Angeles", "duration": "3h",
                             "allow_early_late": True})
    assert "Best times" in res.text and "early or late" in res.text
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Asia/Seoul; Europe/Paris", "hours": "18-09"})
    assert res.ephemeral and "start before they end" in res.text and not res.files
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Asia/Seoul; Europe/Paris", "hours": "nine to five"})
    assert "24-hour" in res.text
    res = await fake.invoke(w.guild, w.alice, "roundtable findtime",
                            {"cities": "Europe/Paris; Europe/London", "hours": "08:30-12", "within_days": 2})
    assert "08:30–12:00" in res.text
    fake.assert_clean()


async def test_practice_stats_chart_and_map(pic_world: World) -> None:
    w = pic_world
    fake, bot = w.fake, w.bot
    first = await share(w, w.alice, "Rain gardens in Lyon")
    await approve_by_command(w, first)
    res = await fake.invoke(w.guild, w.carol, "practice stats")
    assert res.ephemeral and "approved practice" in res.text  # the text version stays
    files = {f.filename: f for f in res.files}
    assert set(files) == {"library-chart.png", "library-map.png"}
    chart = Image.open(io.BytesIO(files["library-chart.png"].data))
    world = Image.open(io.BytesIO(files["library-map.png"].data))
    assert chart.size == (1416, 560) and world.size == (1440, 676)  # three panels; the 1:110m map at 1400 px
    assert "gaps" in str(files["library-chart.png"].description).lower()
    assert "1 city with approved practices" in str(files["library-map.png"].description)
    # Asked again with nothing changed: the cached pictures, nothing drawn.
    drawn = bot.pictures.drawn
    again = await fake.invoke(w.guild, w.bob, "practice stats")
    assert bot.pictures.drawn == drawn
    assert {f.data for f in again.files} == {f.data for f in files.values()}
    # A second approved practice changes what both pictures show: both are drawn again, and differ.
    second = await share(w, w.bob, "Cool roofs for schools",
                         options={"city": "Seville, ES", "topic": "climate"})
    await approve_by_command(w, second)
    after = await fake.invoke(w.guild, w.bob, "practice stats")
    assert bot.pictures.drawn == drawn + 2
    new = {f.filename: f.data for f in after.files}
    assert all(new[name] != files[name].data for name in files)
    fake.assert_clean()


async def test_mou_upcoming_timeline(pic_world: World) -> None:
    w = pic_world
    fake = w.fake
    svc = mou_service(w.bot)
    res = await fake.invoke(w.guild, w.alice, "mou upcoming", {})
    assert "Nothing is due" in res.text and not res.files  # nothing to draw
    today = P.local_today(w.extra["clock"](), "UTC")
    a = await svc.create(w.guild.id, Actor(w.alice.id), kind="mou", title="Séville–Lyon coopération",
                         parties=["Lyon", "Seville"], signed=(today - timedelta(days=300)).isoformat(),
                         expires=(today + timedelta(days=50)).isoformat(), notice_days=30)
    await svc.add_milestone(w.guild.id, Actor(w.alice.id), a.id, (today + timedelta(days=10)).isoformat(),
                            "Joint report")
    res = await fake.invoke(w.guild, w.alice, "mou upcoming", {"days": 60})
    assert "Séville" in res.text and "<t:" in res.text  # the text list stays
    image, alt = png_of(res)
    assert image.width == 1400 and image.height == 116 + 26 + 56
    assert f"#{a.id} Séville–Lyon coopération" in alt and "notice deadline" in alt and "1 milestone" in alt
    fake.assert_clean()

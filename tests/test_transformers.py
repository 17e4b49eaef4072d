"""bot.transformers: `when`, `zone` and `city` options parsed before the callback runs; their errors reach
the one error funnel, ephemeral, in the parser's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from discord import app_commands

import bot.app as app_module
from bot.interactions import describe_error
from bot.places import PlaceRef, Places
from bot.sandbox.emulation import FakeDiscord
from bot.timeparse import TimeParseError
from bot.transformers import City, Moment, When, Zone, parse_timestamp_markup
from tests.e2e import MovableClock, World, start_world

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TS = 1796212800  # 2026-12-02 12:00 UTC


def interaction(
    *, options: dict[str, Any] | None = None, server_zone: str = "UTC", features: Any = None
) -> Any:
    """The parts of an interaction a transformer reads (options typed so far, the bot's clock and
    settings)."""

    async def get(guild_id: int) -> Any:
        return SimpleNamespace(timezone=server_zone)

    async def zone_of(guild_id: int) -> str:
        return server_zone

    # The bot always carries `features` (create_bot); without the directory its places have no provider.
    client = SimpleNamespace(
        clock=lambda: NOW,
        scheduler=SimpleNamespace(clock=lambda: NOW),
        settings=SimpleNamespace(get=get),
        features=features if features is not None else SimpleNamespace(places=Places(zone_of)),
    )
    return SimpleNamespace(namespace=SimpleNamespace(**(options or {})), client=client, guild_id=1,
                           user=SimpleNamespace(id=2))


@pytest.mark.parametrize("text", [f"<t:{TS}>", f"<t:{TS}:F>", f"  <t:{TS}:R> ", f"<t:{TS}:d>"])
def test_timestamp_markup(text: str) -> None:
    assert parse_timestamp_markup(text) == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_timestamp_markup_only_whole_and_in_range() -> None:
    assert parse_timestamp_markup("tomorrow 9am") is None
    assert parse_timestamp_markup(f"at <t:{TS}:F> please") is None
    assert parse_timestamp_markup(f"<t:{TS}:X>") is None  # not a Discord style
    with pytest.raises(TimeParseError, match="outside 1970"):
        parse_timestamp_markup("<t:9999999999999>")


async def test_when_reads_markup_and_text_in_the_option_zone() -> None:
    w = When()
    got = await w.transform(interaction(options={"timezone": "asia/seoul"}), f"<t:{TS}:F>")
    assert got == Moment(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), ZoneInfo("Asia/Seoul"))
    got = await w.transform(interaction(options={"timezone": "Asia/Seoul"}), "2026-12-03 09:00")
    assert got.at == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    # no timezone option: the default (member's, here the server's) zone
    got = await w.transform(interaction(server_zone="America/New_York"), "2026-12-03 09:00")
    assert got.at == datetime(2026, 12, 3, 14, 0, tzinfo=UTC) and got.zone.key == "America/New_York"
    # relative times use the bot's clock, not the wall clock
    got = await w.transform(interaction(), "in 2 hours")
    assert got.at == NOW + timedelta(hours=2)


async def test_when_custom_default_zone() -> None:
    async def planned(_: Any) -> str:
        return "Europe/Paris"

    got = await When(default_zone=planned).transform(interaction(), "2026-12-03 09:00")
    assert got.at == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


async def test_when_refuses_a_dst_gap_and_an_unknown_zone() -> None:
    with pytest.raises(TimeParseError, match="doesn't exist"):
        await When().transform(interaction(options={"timezone": "Europe/Paris"}), "2030-03-31 02:30")
    with pytest.raises(TimeParseError, match="Unknown time zone"):
        await When().transform(interaction(options={"timezone": "Mars/Olympus"}), "2030-03-31 10:00")


async def test_zone() -> None:
    assert await Zone().transform(interaction(), "europe/paris") == "Europe/Paris"
    with pytest.raises(TimeParseError, match="Unknown time zone"):
        await Zone().transform(interaction(), "Mars/Olympus")
    with pytest.raises(TimeParseError):
        await Zone().transform(interaction(), "-")
    assert await Zone(clearable=True).transform(interaction(), "-") == ""
    # one ranking: common zones first, spaces match underscores
    choices = await Zone().autocomplete(interaction(), "los ang")
    assert choices[0].value == "America/Los_Angeles" and len(choices) <= 25


def test_transformer_errors_read_as_the_parser_said() -> None:
    inner = TimeParseError("Unknown time zone “Mars/Olympus”.")
    err = app_commands.TransformerError("Mars/Olympus", 3, Zone())
    err.__cause__ = inner
    assert describe_error(err) == (str(inner), True)


async def test_city_keeps_the_text_and_suggests_the_places_cities() -> None:
    assert await City().transform(interaction(), "  São   Paulo ") == "São Paulo"
    assert await City().autocomplete(interaction(), "par") == []  # no places facade: no choices

    class Provider:
        async def city_choices(self, query: str, *, guild_id: int, limit: int = 25) -> list[PlaceRef]:
            return [PlaceRef(7, "Paris", "FR", "Europe/Paris", "Paris, FR")]

    async def server_zone(_: int) -> str:
        return "UTC"

    features = SimpleNamespace(places=Places(server_zone, Provider()))  # type: ignore[arg-type]
    choices = await City().autocomplete(interaction(features=features), "par")
    assert [(c.name, c.value) for c in choices] == [("Paris, FR", "7")]


# -- end to end ---------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def rt_world(fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> AsyncIterator[World]:
    monkeypatch.setattr(
        app_module, "discover_extensions", lambda: ["cogs.settings", "cogs.meta", "cogs.roundtables"]
    )
    clock = MovableClock()
    clock.jump_to(NOW)
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock) as w:
        yield w


async def test_schedule_and_edit_take_discord_timestamp_markup(rt_world: World) -> None:
    w = rt_world
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": "Markup", "when": f"<t:{TS}:F>", "timezone": "Europe/Paris"})
    assert res.ephemeral and f"<t:{TS}:F>" in res.text and "planned in Europe/Paris" in res.text, res.text
    rt = (await w.bot.get_cog("Roundtables").svc.list_upcoming(w.guild.id))[0]  # type: ignore[union-attr]
    assert rt.start == datetime.fromtimestamp(TS, UTC) and rt.tz == "Europe/Paris"
    # edit: a typed time without a zone is in the planned zone (Paris, UTC+1 in December)
    res = await w.fake.invoke(w.guild, w.alice, "roundtable edit", {"id": rt.id, "when": "2026-12-03 15:00"})
    assert res.ephemeral and "Updated" in res.text, res.text
    moved = await w.bot.get_cog("Roundtables").svc.get(w.guild.id, rt.id)  # type: ignore[union-attr]
    assert moved.start == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    res = await w.fake.invoke(w.guild, w.alice, "roundtable edit", {"id": rt.id, "when": f"<t:{TS + 3600}>"})
    moved = await w.bot.get_cog("Roundtables").svc.get(w.guild.id, rt.id)  # type: ignore[union-attr]
    assert moved.start == datetime.fromtimestamp(TS + 3600, UTC)
    # refusals: ephemeral, in the parser's words, nothing saved
    for options, needle in (
        ({"title": "Nowhere", "when": f"<t:{TS}>", "timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"title": "Far", "when": "<t:9999999999999:F>"}, "outside 1970"),
        ({"title": "Gap", "when": "2030-03-31 02:30", "timezone": "Europe/Paris"}, "doesn't exist"),
    ):
        res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule", options)
        assert res.ephemeral and needle in str(res.embeds), (options, res.embeds)
    res = await w.fake.invoke(w.guild, w.alice, "roundtable edit", {"id": 999999, "when": "2026-12-05 10:00"})
    assert res.ephemeral and "Something went wrong" not in str(res.embeds), res.embeds
    assert len(await w.bot.get_cog("Roundtables").svc.list_upcoming(w.guild.id)) == 1  # type: ignore[union-attr]
    w.fake.assert_clean()

"""/settings show names the time zone in effect, also while the server has none of its own."""

from __future__ import annotations

from pathlib import Path

from bot.app import create_bot
from bot.sandbox.emulation import FakeDiscord, run_bot
from tests.e2e import configure, make_config, populate


def _zone_field(res: object) -> str:
    embed = getattr(res, "embed", None)
    assert embed is not None, getattr(res, "text", "")
    values = [f["value"] for f in embed["fields"] if f["name"] == "Time zone"]
    assert len(values) == 1
    return str(values[0])


async def test_settings_show_names_the_zone_in_effect(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    fake = fake_discord
    parts = populate(fake)
    bot = create_bot(make_config(tmp_path, default_timezone="America/Mexico_City"))
    async with run_bot(fake, bot):
        await fake.wait_commands_synced()
        await configure(bot, parts)
        guild, admin = parts["guild"], parts["admin"]
        res = await fake.invoke(guild, admin, "settings show")
        assert _zone_field(res) == "America/Mexico_City (the bot's default)"
        res = await fake.invoke(guild, admin, "settings timezone", options={"zone": "Europe/Lisbon"})
        assert "Europe/Lisbon" in res.text
        res = await fake.invoke(guild, admin, "settings show")
        assert _zone_field(res) == "Europe/Lisbon"
        assert fake.violations == []
        assert fake.unhandled == []

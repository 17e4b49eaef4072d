"""Structural checks: every extension loads offline, and its commands fit Discord's rules."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from discord import app_commands

from bot.app import create_bot, discover_extensions
from bot.config import Config
from bot.embeds import CUSTOM_ID_MAX
from bot.errors import Conflict, InvalidInput
from bot.interactions import describe_error
from tests.fakediscord import check_commands


async def test_every_extension_loads_and_commands_fit(config: Config, tmp_path: Path) -> None:
    bot = create_bot(config)
    await bot.db.connect()
    await bot.db.migrate()
    try:
        for ext in discover_extensions():
            await bot.load_extension(ext)
        payload = bot.command_payload()
        assert check_commands(payload) == []
        names = [c["name"] for c in payload]
        assert len(names) == len(set(names)) <= 100
        assert {"help", "settings", "audit"} <= set(names)

        def walk(options: list[dict]) -> None:
            for opt in options:
                assert 1 <= len(opt["description"]) <= 100, opt["name"]
                assert re.fullmatch(r"[-_\w]{1,32}", opt["name"]) and opt["name"] == opt["name"].lower()
                assert len(opt.get("choices") or []) <= 25
                walk(opt.get("options") or [])

        for cmd in payload:
            assert 1 <= len(cmd["description"]) <= 100
            assert len(cmd.get("options") or []) <= 25
            walk(cmd.get("options") or [])
        # persistent buttons: templates are namespaced and leave room for ids
        for item_cls in bot._connection._view_store._dynamic_items:  # pattern -> class
            pattern = item_cls.pattern if hasattr(item_cls, "pattern") else item_cls
            assert len(pattern) < 200
        # every command belongs to a cog with a help title
        for cog in bot.cogs.values():
            if cog.get_app_commands():
                assert getattr(cog, "feature_title", None), cog.qualified_name
        # the hash is stable for the same tree
        assert bot.command_hash() == bot.command_hash()
    finally:
        for ext in list(bot.extensions):
            await bot.unload_extension(ext)
        await bot.db.close()


def test_dynamic_item_custom_ids_fit() -> None:
    # A custom id produced by the largest realistic ids stays under Discord's 100 characters.
    big = str(2**63)
    assert len(f"pr:rv:{big}:{big}:ap") <= CUSTOM_ID_MAX
    assert len(f"rt:rsvp:{big}:{big}:going") <= CUSTOM_ID_MAX


def test_error_descriptions() -> None:
    msg, expected = describe_error(app_commands.CommandInvokeError(SimpleNamespace(name="x"), InvalidInput("Title too long.")))  # type: ignore[arg-type]
    assert expected and msg == "Title too long."
    msg, expected = describe_error(Conflict("Already approved by mod 2 minutes ago."))
    assert expected and "Already approved" in msg
    msg, expected = describe_error(RuntimeError("boom"))
    assert not expected

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.db import Database
from tests.e2e import bot_factory, fake, started_bot  # noqa: F401 - fixtures
from tests.fakediscord.fixtures import fake_discord  # noqa: F401 - fixture


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(
        {"database_path": "attache.db", "sync_commands": "global", "log_level": "DEBUG", "default_timezone": "UTC"},
        base_dir=tmp_path,
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "test.db")
    await database.connect()
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()

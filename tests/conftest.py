from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.db import Database
from tests.e2e import bot_factory, fake, started_bot  # noqa: F401 - fixtures
from tests.fakediscord_fixtures import fake_discord  # noqa: F401 - fixture


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(
        {
            "database_path": "attache.db",
            "sync_commands": "global",
            "log_level": "DEBUG",
            "default_timezone": "UTC",
        },
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


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated and seeded once per session (the gazetteer takes a second or more)."""
    from cogs.directory.service import DirectoryService

    path = tmp_path_factory.mktemp("seeded") / "template.db"

    async def build() -> None:
        db = Database(path)
        await db.connect()
        await db.migrate()
        await DirectoryService(db).seed()
        await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await db.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def seeded_db(seeded_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh copy of the seeded template for one test."""
    target = tmp_path / "seeded.db"
    shutil.copyfile(seeded_template, target)
    database = Database(target)
    await database.connect()
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()

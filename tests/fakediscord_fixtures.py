"""pytest fixtures for the fake Discord. In tests/conftest.py:

from tests.fakediscord_fixtures import fake_discord  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.sandbox.emulation.server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with discord.py pointed at it (Route.BASE and the gateway URL restored after).

    Close your bot before the test ends: the fixture stops the server on teardown."""
    fake = FakeDiscord()
    async with fake:
        yield fake

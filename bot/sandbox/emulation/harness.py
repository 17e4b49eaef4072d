"""Run a discord.py client against the fake for the length of a test."""

# The helpers take timeout= on purpose: a test waits on the bot with a bounded, per-call limit.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import discord

from .server import FakeDiscord
from .waiting import FakeDiscordTimeout

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound=discord.Client)


async def _no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
    return None


@contextlib.asynccontextmanager
async def run_bot(
    fake: FakeDiscord,
    bot: ClientT,
    *,
    token: str = "fake-token",
    wait_ready: bool = True,
    fast: bool = True,
    timeout: float | None = None,
) -> AsyncIterator[ClientT]:
    """Start ``bot`` (``bot.start(token)`` in a task), wait until it is ready, close it on exit.

    With ``fast`` (default) two discord.py waits meant for the real Discord are shortened on this
    bot instance: ``guild_ready_timeout`` (2 s of silence after the last GUILD_CREATE before
    ``on_ready``) becomes 0.05 s, and ``before_identify_hook`` no longer sleeps 5 s before a
    re-IDENTIFY. If the bot's start-up fails, the failure is raised here instead of a timeout.
    """
    limit = timeout or fake.default_timeout
    if fast:
        bot._connection.guild_ready_timeout = 0.05  # private, but the public kwarg is only set in __init__
        bot.before_identify_hook = _no_identify_delay  # type: ignore[method-assign]
    task = asyncio.create_task(bot.start(token), name="fakediscord-bot")
    try:
        if wait_ready:
            await _race(task, fake.wait_ready(limit), limit)
            await _race(task, bot.wait_until_ready(), limit)
        yield bot
    finally:
        ready_task = getattr(bot._connection, "_ready_task", None)
        if ready_task is not None:
            # Client.close() leaves the READY delay running; it would then dispatch on a closed client.
            ready_task.cancel()
        await bot.close()
        try:
            await asyncio.wait_for(task, limit)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise


async def _race(task: asyncio.Task[None], waiter: Awaitable[object], timeout: float) -> None:
    fut = asyncio.ensure_future(waiter)
    try:
        done, _ = await asyncio.wait({task, fut}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if fut in done:
            fut.result()
            return
        if task in done:
            exc = task.exception()
            raise FakeDiscordTimeout(f"the bot stopped before it was ready: {exc!r}") from exc
        raise FakeDiscordTimeout(f"timed out after {timeout:.1f}s waiting for the bot to be ready")
    finally:
        if not fut.done():
            fut.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fut

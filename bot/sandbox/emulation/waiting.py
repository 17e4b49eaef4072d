"""A tiny "something changed" notifier: wait until a predicate over the fake's state holds."""

# The helpers take timeout= on purpose: a test waits on the bot with a bounded, per-call limit.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class FakeDiscordTimeout(AssertionError):
    """The bot did not do what a helper waited for in time (an AssertionError, so pytest shows it plainly)."""


class Notifier:
    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_for(
        self, probe: Callable[[], T | None], timeout: float, what: Callable[[], str] | str
    ) -> T:
        """Return ``probe()`` as soon as it is not None; raise FakeDiscordTimeout after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = probe()
            if value is not None:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                text = what() if callable(what) else what
                raise FakeDiscordTimeout(f"timed out after {timeout:.1f}s waiting for {text}")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass

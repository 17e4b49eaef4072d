"""One running sandbox: the Discord emulation with the demo server, the real bot connected to it through
discord.py's own HTTP and gateway code, and what a person does in the page (act as a member, run commands,
press buttons, fill modals, move the clock, reset).

The page never calls the bot: it acts on the emulation exactly as the Discord client does (an interaction to
the bot's gateway), and reads what the bot sent back. Ephemeral answers are kept per (member, channel) so a
member sees only their own, as in Discord. Messages live in memory: after a restart the data is still in the
sandbox database, the channels start empty."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import AttacheBot, create_bot
from bot.clock import from_ms, to_ms
from bot.config import Config, parse_config
from bot.db import Database
from bot.sandbox import demo
from bot.sandbox.clock import SandboxClock
from bot.sandbox.emulation import (
    Channel,
    FakeDiscord,
    FakeDiscordTimeout,
    Guild,
    InteractionResult,
    Member,
    Perm,
    run_bot,
)
from bot.sandbox.emulation.limits import FLAG_EPHEMERAL
from bot.sandbox.emulation.results import FLAG_LOADING
from bot.sandbox.guard import MARK_SQL, MARKER_KEY, MARKER_VALUE, delete_database
from bot.sandbox.seed import after_start, seed

log = logging.getLogger(__name__)

CLOCK_KEY = "sandbox.clock_offset_s"
MAX_CLOCK_STEPS = 500  # due jobs run one due time after another while the clock moves
ANSWER_TIMEOUT = 10.0  # seconds the page waits for the bot's first answer to an interaction


class ActionError(Exception):
    """What the Discord client itself would refuse (a missing required option, a disabled button…)."""


@dataclass
class Tracked:
    member_id: int
    channel_id: int
    result: InteractionResult


@dataclass
class Sandbox:
    """The emulation, the demo server and the bot, started together and stopped together."""

    db_path: Path
    default_timezone: str = "Europe/Paris"
    clock: SandboxClock = field(default_factory=SandboxClock)
    fake: FakeDiscord | None = None
    bot: AttacheBot | None = None
    guild: Guild | None = None
    seed_report: list[str] = field(default_factory=list)
    start_report: list[str] = field(default_factory=list)
    version: int = 0
    listeners: list[Callable[[], None]] = field(default_factory=list)
    _tracked: list[Tracked] = field(default_factory=list)
    _modals: dict[str, InteractionResult] = field(default_factory=dict)
    _seen_at: dict[int, str] = field(default_factory=dict)
    _command_of: dict[int, str] = field(default_factory=dict)  # message id -> "practice search"
    _bot_cm: contextlib.AbstractAsyncContextManager[AttacheBot] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # -- lifecycle ---------------------------------------------------------------------------
    def config(self) -> Config:
        return parse_config(
            {
                "database_path": str(self.db_path),
                "sync_commands": "global",
                "default_timezone": self.default_timezone,
                "log_level": "INFO",
            },
            base_dir=Path.cwd(),
        )

    async def prepare_database(self) -> None:
        """Create (marked, migrated, seeded) or reopen the sandbox database; restore the clock."""
        db = Database(self.db_path, clock=self.clock)
        await db.connect()
        try:
            await db.migrate()
            await db.execute(MARK_SQL, (MARKER_KEY, MARKER_VALUE))
            stored = await db.fetchval("SELECT value FROM meta WHERE key = ?", (CLOCK_KEY,))
            if stored is not None:
                self.clock.offset = max(timedelta(), timedelta(seconds=float(stored)))
            self.seed_report = await seed(db, self.clock, default_timezone=self.default_timezone)
        finally:
            await db.close()

    async def start(self) -> None:
        await self.prepare_database()
        fake = FakeDiscord(bot_name="Attaché")
        fake.clock = self.clock  # Discord's "now" (events in the past, nonce windows) moves with the bot's
        await fake.start()
        fake.install()
        self.fake = fake
        self.guild = build_demo_server(fake)
        fake.change_listeners.append(self._changed)
        bot = create_bot(self.config(), clock=self.clock)
        bot.force_sync = True  # the emulation starts with no commands: always sync
        self._bot_cm = run_bot(fake, bot, timeout=60.0)
        self.bot = await self._bot_cm.__aenter__()
        await fake.wait_commands_synced(timeout=60.0)
        self.start_report = await after_start(self.bot)
        self._changed()
        log.info("sandbox: the bot is connected to the emulation (%d commands)", len(fake.commands_for()))

    async def stop(self) -> None:
        if self._bot_cm is not None:
            cm, self._bot_cm = self._bot_cm, None
            try:
                await cm.__aexit__(None, None, None)
            except Exception:
                log.exception("sandbox: the bot did not stop cleanly")
        if self.fake is not None:
            fake, self.fake = self.fake, None
            fake.uninstall()
            await fake.stop()
        self.bot = None
        self.guild = None
        self._tracked.clear()
        self._modals.clear()
        self._seen_at.clear()
        self._command_of.clear()

    async def reset(self) -> None:
        """Back to the seed: a new database, a new emulation, the clock at the wall clock."""
        async with self._lock:
            await self.stop()
            delete_database(self.db_path)
            self.clock.offset = timedelta()
            await self.start()

    # -- change feed -------------------------------------------------------------------------
    def _changed(self) -> None:
        self.version += 1
        self._stamp_new_messages()
        for listener in list(self.listeners):
            listener()

    def _stamp_new_messages(self) -> None:
        """Remember the sandbox time each message appeared at (the page shows it; the emulation keeps wall
        time, which the moved clock would contradict)."""
        now = self.clock().isoformat()
        for channel_id in self.all_channel_ids():
            for message in self.fake_or_fail().channel_messages(channel_id):
                self._seen_at.setdefault(int(message["id"]), now)
        for item in self._tracked:
            path = command_path(item.result.payload) if item.result.type == 2 else None
            for message in item.result.all_messages:
                self._seen_at.setdefault(int(message["id"]), now)
                if path:
                    self._command_of[int(message["id"])] = path

    # -- the world, as the page sees it ------------------------------------------------------
    def fake_or_fail(self) -> FakeDiscord:
        if self.fake is None or self.guild is None:
            raise ActionError("The sandbox is restarting; try again in a moment.")
        return self.fake

    def guild_or_fail(self) -> Guild:
        self.fake_or_fail()
        assert self.guild is not None
        return self.guild

    def all_channel_ids(self) -> list[int]:
        fake = self.fake
        if fake is None or self.guild is None:
            return []
        ids = [c.id for c in self.guild.text_channels]
        ids += [t.id for t in fake.threads.values() if not t.deleted]
        ids += [c.id for c in fake.dm_channels.values()]
        return ids

    def member(self, member_id: int) -> Member:
        found = self.guild_or_fail().get_member(member_id)
        if found is None or member_id not in {m.id for m in demo.MEMBERS}:
            raise ActionError("Pick a member of the demo server to act as.")
        return found

    def channel(self, channel_id: int) -> Channel:
        fake = self.fake_or_fail()
        for channel in self.guild_or_fail().text_channels:
            if channel.id == channel_id:
                return channel
        thread = fake.threads.get(channel_id)
        if thread is not None and not thread.deleted:
            return thread
        for dm in fake.dm_channels.values():
            if dm.id == channel_id:
                return dm
        raise ActionError("That channel does not exist (any more).")

    def dm_channel_of(self, member_id: int) -> Channel | None:
        return self.fake_or_fail().dm_channels.get(member_id)

    def messages(self, member_id: int, channel_id: int) -> list[dict[str, Any]]:
        """What `member_id` sees in a channel: its messages plus their own ephemeral answers, oldest first."""
        fake = self.fake_or_fail()
        found: dict[int, dict[str, Any]] = {int(m["id"]): m for m in fake.channel_messages(channel_id)}
        for item in self._tracked:
            if item.member_id != member_id or item.channel_id != channel_id:
                continue
            answered = bool(item.result.followup_ids)
            for message in item.result.all_messages:
                flags = int(message.get("flags") or 0)
                if flags & FLAG_LOADING and answered:
                    continue  # like Discord: the first followup takes the place of "thinking…"
                if flags & FLAG_EPHEMERAL:
                    found[int(message["id"])] = message
        return [found[k] for k in sorted(found)]

    def seen_at(self, message_id: int) -> str | None:
        return self._seen_at.get(message_id)

    def command_of(self, message_id: int) -> str | None:
        """The full command ("practice search") a response answers, as Discord shows above it."""
        return self._command_of.get(message_id)

    # -- acting ------------------------------------------------------------------------------
    def _where(self, member_id: int, channel_id: int) -> tuple[Guild | None, Member | int, Channel]:
        channel = self.channel(channel_id)
        member = self.member(member_id)
        if channel.guild_id is None:  # a DM: the member acts as a user, outside the server
            return None, member.id, channel
        return self.guild_or_fail(), member, channel

    async def _answered(self, res: InteractionResult, member_id: int, channel_id: int) -> dict[str, Any]:
        self._tracked.append(Tracked(member_id, channel_id, res))
        try:
            await res.wait_for_response(ANSWER_TIMEOUT)
        except FakeDiscordTimeout:
            return {"ok": False, "error": "The bot did not answer within 10 seconds (see the violations)."}
        finally:
            self._changed()
        if res.modal is not None:
            key = str(res.id)
            self._modals[key] = res
            return {"ok": True, "modal": {"key": key, **res.modal}}
        return {"ok": True}

    async def invoke(
        self,
        member_id: int,
        channel_id: int,
        name: str,
        options: Mapping[str, Any],
        files: Mapping[str, tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        guild, actor, channel = self._where(member_id, channel_id)
        if guild is None:
            raise ActionError("Commands run in the server's channels; DMs only show what the bot sent you.")
        attachments = {k: (name_, base64.b64decode(data)) for k, (name_, data) in (files or {}).items()}
        try:
            res = await self.fake_or_fail().invoke(
                guild, actor, name, dict(options), channel=channel, attachments=attachments, wait=False
            )
        except (LookupError, ValueError) as exc:
            raise ActionError(str(exc)) from exc
        return await self._answered(res, member_id, channel.id)

    async def autocomplete(
        self, member_id: int, channel_id: int, name: str, focused: str, value: str, options: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        guild, actor, channel = self._where(member_id, channel_id)
        if guild is None:
            return []
        try:
            return await self.fake_or_fail().autocomplete(
                guild, actor, name, focused, value, dict(options), channel=channel, timeout=ANSWER_TIMEOUT
            )
        except (LookupError, ValueError) as exc:
            raise ActionError(str(exc)) from exc

    async def click(self, member_id: int, message_id: int, custom_id: str) -> dict[str, Any]:
        return await self._component(member_id, message_id, custom_id, None)

    async def select(
        self, member_id: int, message_id: int, custom_id: str, values: list[str]
    ) -> dict[str, Any]:
        return await self._component(member_id, message_id, custom_id, values)

    async def _component(
        self, member_id: int, message_id: int, custom_id: str, values: list[str] | None
    ) -> dict[str, Any]:
        fake = self.fake_or_fail()
        message = fake.get_message(message_id)
        if message is None:
            raise ActionError("That message is gone.")
        guild, actor, channel = self._where(member_id, int(message["channel_id"]))
        try:
            if values is None:
                res = await fake.click(guild, actor, message_id, custom_id, wait=False)
            else:
                res = await fake.select(guild, actor, message_id, custom_id, values, wait=False)
        except (LookupError, ValueError) as exc:
            raise ActionError(str(exc)) from exc
        return await self._answered(res, member_id, channel.id)

    async def submit_modal(self, member_id: int, key: str, values: Mapping[str, Any]) -> dict[str, Any]:
        origin = self._modals.get(key)
        if origin is None:
            raise ActionError("That form was already sent or has expired.")
        fake = self.fake_or_fail()
        channel_id = int(origin.payload["channel_id"])
        guild, actor, channel = self._where(member_id, channel_id)
        try:
            res = await fake.submit_modal(guild, actor, origin, dict(values), channel=channel, wait=False)
        except (LookupError, ValueError) as exc:
            raise ActionError(str(exc)) from exc
        self._modals.pop(key, None)
        return await self._answered(res, member_id, channel.id)

    def say(self, member_id: int, channel_id: int, text: str) -> None:
        guild, actor, channel = self._where(member_id, channel_id)
        if guild is None:
            raise ActionError("The bot does not read DMs; use the server's channels.")
        if not text.strip():
            raise ActionError("Type something first.")
        if len(text) > 2000:
            raise ActionError(f"Discord allows 2000 characters in a message; this one has {len(text)}.")
        self.fake_or_fail().post_user_message(guild, actor, channel, text)

    async def move_clock(self, *, delta: timedelta | None = None, to: datetime | None = None) -> datetime:
        """Move "now" forward, stopping at each job due on the way so it runs on time, as if the hours had
        passed (a reminder reached a day late would rightly be skipped as stale by the bot)."""
        async with self._lock:
            bot = self.bot
            if bot is None:
                raise ActionError("The sandbox is restarting; try again in a moment.")
            if delta is not None:
                target = self.clock() + delta
            elif to is not None:
                target = to
            else:
                raise ActionError("Say how far to move the clock.")
            check = SandboxClock(self.clock.offset)
            check.move_to(target)  # the same refusals (backwards, too far) before anything moves
            for _ in range(MAX_CLOCK_STEPS):
                due_ms = await bot.db.fetchval(
                    "SELECT MIN(due_ms) FROM jobs WHERE status = 'pending' AND due_ms <= ?", (to_ms(target),)
                )
                if due_ms is None:
                    break
                step = from_ms(int(due_ms))
                if step > self.clock():
                    self.clock.move_to(step)
                await bot.scheduler.run_due(self.clock())
                self._changed()
            if target > self.clock():
                self.clock.move_to(target)
            await bot.db.execute(MARK_SQL, (CLOCK_KEY, str(self.clock.offset.total_seconds())))
            bot.scheduler.wake()
            self._changed()
            return self.clock()


def command_path(payload: Mapping[str, Any]) -> str:
    """ "practice search" from an application-command interaction's data (subcommand groups included)."""
    data = payload.get("data") or {}
    parts = [str(data.get("name", ""))]
    options = data.get("options") or []
    while options and options[0].get("type") in (1, 2):
        parts.append(str(options[0]["name"]))
        options = options[0].get("options") or []
    return " ".join(parts)


def build_demo_server(fake: FakeDiscord) -> Guild:
    """The demo server in the emulation, with the fixed ids of bot/sandbox/demo.py."""
    guild = fake.add_guild(demo.GUILD_ID, name=demo.GUILD_NAME, channels=())
    for ch in demo.CHANNELS:
        guild.add_text_channel(ch.name, topic=ch.topic, channel_id=ch.id)
    moderators = guild.add_role("Moderators", permissions=0, role_id=demo.MOD_ROLE_ID)
    managers = guild.add_role("Server managers", permissions=Perm.MANAGE_GUILD, role_id=demo.MANAGER_ROLE_ID)
    for person in demo.MEMBERS:
        roles = {"admin": [managers], "moderator": [moderators]}.get(person.role, [])
        guild.add_member(person.id, name=person.name, roles=list(roles))
    return guild


@contextlib.asynccontextmanager
async def running(db_path: Path) -> AsyncIterator[Sandbox]:
    """A started sandbox, stopped on exit (tests and the CLI)."""
    box = Sandbox(db_path=db_path)
    await box.start()
    try:
        yield box
    finally:
        await box.stop()

"""The composition root: `create_bot(config)` builds the bot with no network I/O."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import pkgutil
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot import retention
from bot.clock import Clock, system_clock, to_ms
from bot.config import Config
from bot.contracts import Features
from bot.db import Database, ProcessLock
from bot.embeds import CONTENT_MAX, clip, fit_embeds
from bot.i18n import LANGUAGE_KEY, N_, Languages, Msg, language_name, render
from bot.i18n import preload as preload_catalogs
from bot.interactions import NO_MENTIONS, AttacheTree
from bot.limits import SPECS as LIMIT_SPECS
from bot.limits import CreationLimits
from bot.pictures import PictureService
from bot.places import Places
from bot.scheduler import ErrorClass, Job, PermanentJobError, Scheduler, SkipJob
from bot.settings import SettingsService
from bot.translator import CatalogTranslator
from bot.web import WebServer

log = logging.getLogger(__name__)

# (name, value) lines for /settings show; a Msg value is shown in the reader's language
StatusProvider = Callable[[discord.Guild], Awaitable[Sequence[tuple[str, "str | Msg"]]]]
GuildHook = Callable[[int], Awaitable[object]]
GuildJoinHook = Callable[[discord.Guild], Awaitable[object]]


RATE_LIMIT_SWEEP_EVERY = 60.0  # seconds
# How long a thread may hold the GIL while another waits for it (see setup_hook; the default is 5 ms)
GIL_SWITCH_INTERVAL = 0.0005


def throttle_rate_limit_sweep(http: Any, every: float = RATE_LIMIT_SWEEP_EVERY) -> bool:
    """discord.py's HTTP client keeps a rate-limit bucket per route and channel, and each time it meets a new
    one (once it holds 256) it walks all of them to drop those idle for 300 s. A bot that posts in 2,500
    channels (a reminder in every server at 09:00) meets 2,500 new buckets in a row: millions of checks on
    the event loop. Since only buckets idle for five minutes go, walking at most once a minute drops the
    same ones. Returns False (and changes nothing) if discord.py no longer has that method."""
    sweep = getattr(http, "_try_clear_expired_ratelimits", None)
    if not callable(sweep):
        log.warning("discord.py's HTTP client has no rate-limit sweep to throttle; left as it is")
        return False
    last = [float("-inf")]

    def throttled() -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            sweep()

    http._try_clear_expired_ratelimits = throttled
    return True


def discover_extensions() -> list[str]:
    """Every feature package under cogs/ that defines setup(); meta and settings first."""
    names = [f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if m.ispkg]
    order = {"cogs.settings": 0, "cogs.meta": 1}
    return sorted(names, key=lambda n: (order.get(n, 2), n))


def classify_discord_error(exc: BaseException) -> ErrorClass:
    """Discord 429/5xx and network errors are worth retrying; 4xx (gone, forbidden, bad) is not."""
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429 or exc.status >= 500:
            return "retry"
        return "fail"
    if isinstance(exc, discord.InvalidData | discord.ClientException):
        return "fail"
    return "retry"


class AttacheBot(commands.Bot):
    # Multiplies the window of every `bot.checks.expensive` cooldown; 0 turns them off (benchmarks).
    cooldown_scale: float = 1.0

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        scheduler_clock: Clock | None = None,
        extensions: Sequence[str] | None = None,
    ) -> None:
        """`clock` is the one source of "now" for the scheduler and every service (`scheduler_clock` is
        its older name, kept for tests)."""
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and guild metadata; no privileged intents
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=AttacheTree,
            max_messages=None,
            chunk_guilds_at_startup=False,
            **self._gateway_options(config),
        )
        self.config = config
        self.clock: Clock = clock or scheduler_clock or system_clock
        self.db = Database(config.database_path, clock=self.clock)
        self.process_lock = ProcessLock(config.database_path)
        self.scheduler = Scheduler(
            self.db,
            batch_size=config.scheduler.batch_size,
            per_target_batch=config.scheduler.per_target_batch,
            max_attempts=config.scheduler.max_attempts,
            concurrency=config.scheduler.concurrency,
            classify_error=classify_discord_error,
            clock=self.clock,
        )
        self.settings = SettingsService(self.db, default_timezone=config.default_timezone, clock=self.clock)
        # What features offer each other (bot/contracts.py): each feature's cog fills its slot in cog_load and
        # empties it in cog_unload; a slot left None (feature not loaded) degrades cleanly.
        self.features = Features(places=Places(server_zone=self._server_zone))
        # Images drawn on a worker thread, cached until their data changes (bot/pictures.py).
        self.pictures = PictureService()
        self.status_providers: list[StatusProvider] = []
        # async fn(guild_id): what a feature re-plans when the bot is back in a server it had left
        self.guild_return_hooks: list[GuildHook] = []
        # async fn(guild): what a feature does when the bot is added to a server (after the return hooks)
        self.guild_join_hooks: list[GuildJoinHook] = []
        self._command_ids: dict[str, int] | None = None  # top-level command name -> id, once known
        # creations per member and the Events-tab share (bot/limits.py), one mechanism for every feature
        self.limits = CreationLimits(self.db, self.settings, clock=self.clock)
        for spec in LIMIT_SPECS:
            self.settings.register(spec)
        # the live calendar feeds' HTTP endpoint (bot/web.py), only with `[web]` in the config
        self.web: WebServer | None = WebServer(config.web) if config.web is not None else None
        # the language of posts (the server's) and DMs (the recipient's); replies: bot.translator
        self.languages = Languages(self.db, self.settings, guild_locale=self._guild_locale, clock=self.clock)
        self.extensions_to_load = list(extensions) if extensions is not None else None
        self.force_sync = False
        self.synced: bool | None = None  # None: not attempted; False: unchanged; True: synced
        self.scheduler.register("core.post", self._post_job)
        self.scheduler.register("core.dm", self._dm_job)
        self.settings.on_change.append(self._language_changed)
        self.scheduler.register(MAINTENANCE_KIND, self._maintenance_job)

    def _gateway_options(self, config: Config) -> dict[str, Any]:
        """Extra discord.Client options for the gateway connection(s); none for one unsharded connection."""
        return {}

    async def _server_zone(self, guild_id: int) -> str:
        return (await self.settings.get(guild_id)).timezone

    def _guild_locale(self, guild_id: int) -> str | None:
        guild = self.get_guild(guild_id)
        return guild.preferred_locale.value if guild is not None else None

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Remember the member's client language (DMs to them follow it); written only when it changed."""
        try:
            await self.languages.remember(interaction.guild_id, interaction.user.id, interaction.locale.value)
        except Exception:
            log.exception("could not store the language of user %s", interaction.user.id)

    # -- lifecycle -----------------------------------------------------------------------
    def _tune_discord_http(self) -> None:
        """The kernel's one reach into discord.py's HTTP client (see throttle_rate_limit_sweep)."""
        throttle_rate_limit_sweep(self.http)

    async def setup_hook(self) -> None:
        self._tune_discord_http()
        self.process_lock.acquire()
        await self.db.connect()
        before, after = await self.db.migrate()
        if before != after:
            log.info("database migrated from version %d to %d", before, after)
        log.info("languages: %s", ", ".join(await asyncio.to_thread(preload_catalogs)))
        await self.tree.set_translator(CatalogTranslator())  # before any sync: localizations
        exts = self.extensions_to_load if self.extensions_to_load is not None else discover_extensions()
        for ext in exts:
            await self.load_extension(ext)
            log.info("loaded extension %s", ext)
        await self.scheduler.start()
        if self.web is not None:
            await self.web.start()
        await self.ensure_maintenance()
        await self.sync_commands_if_needed(force=self.force_sync)
        # What is loaded by now (modules, commands, cogs, caches) lives as long as the process: move it
        # out of the cyclic collector's reach, or every full collection walks it again — a pause of the
        # event loop that grows with what is loaded (bench/practices.py showed 80–190 ms stalls).
        gc.collect()
        gc.freeze()
        # The event loop gives up the GIL on every socket send and receive; a search thread that takes it
        # meanwhile (Python between its SQLite statements: query words, highlights) kept it up to the
        # default 5 ms before the loop had it back, for each of the loop's system calls. At 0.5 ms the
        # loop waits at most that (bench/practices.py: p99 of 20 searches at once 15-30% lower).
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)

    async def on_ready(self) -> None:
        """Every server has arrived (each shard's GUILD_CREATEs): its guilds, channels, roles and members
        live as long as the process too. Move them out of the collector's reach like the start-up's: with
        2,500 servers of 200 members, each full collection walked half a million objects, a pause of a
        few hundred milliseconds in the middle of members' commands and reminder bursts."""
        gc.freeze()
        log.info("ready: %d servers; %d objects kept out of the cyclic collector", len(self.guilds),
                 gc.get_freeze_count())

    async def close(self) -> None:
        try:
            if self.web is not None:
                try:
                    await self.web.stop()
                except Exception:
                    log.exception("could not stop the web endpoint cleanly")
            await self.scheduler.stop()
        finally:
            try:
                await self.languages.flush()
            except Exception:
                log.exception("could not store the members' languages at shutdown")
            try:
                await super().close()
            finally:
                await self.db.close()
                self.pictures.close()
                self.process_lock.release()

    # -- command sync --------------------------------------------------------------------
    async def command_payload(self) -> list[dict[str, Any]]:
        """The commands as they are synced: with their localizations when a translator is set."""
        translator = self.tree.translator
        if translator is None:
            payload = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        else:
            payload = [await c.get_translated_payload(self.tree, translator)
                       for c in self.tree.get_commands()]
        return sorted(payload, key=lambda d: d["name"])

    async def command_hash(self) -> str:
        """A hash of the synced payload, localizations included: a changed translation is synced."""
        blob = json.dumps(await self.command_payload(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    async def sync_commands_if_needed(self, *, force: bool = False) -> bool:
        mode = self.config.sync_commands
        if mode == "off" and not force:
            self.synced = False
            return False
        guild_id = self.config.sync_guild_id
        key = f"command_hash:{guild_id or 'global'}"
        digest = await self.command_hash()
        stored = await self.db.fetchval("SELECT value FROM meta WHERE key = ?", (key,))
        if stored == digest and not force:
            log.info("command tree unchanged since the last sync; not syncing")
            self.synced = False
            return False
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        self._command_ids = {c.name: c.id for c in synced}
        await self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON "
            "CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, digest),
        )
        log.info(
            "synced %d application commands (%s)", len(synced), f"guild {guild_id}" if guild_id else "global"
        )
        self.synced = True
        return True

    async def command_ids(self) -> dict[str, int]:
        """{top-level command name: its id on Discord} for command mentions (`</practice search:ID>`):
        from the last sync, else fetched once; {} when Discord can't be asked (mentions fall back to text)."""
        if self._command_ids is None:
            guild_id = self.config.sync_guild_id
            try:
                fetched = await self.tree.fetch_commands(
                    guild=discord.Object(id=guild_id) if guild_id else None
                )
            except discord.HTTPException:
                log.warning("could not fetch the application commands' ids", exc_info=True)
                return {}
            self._command_ids = {c.name: c.id for c in fetched}
        return self._command_ids

    # -- delivery ------------------------------------------------------------------------
    async def post(
        self,
        channel_id: int,
        content: str | Msg | None = None,
        *,
        embeds: Sequence[discord.Embed] = (),
        view: discord.ui.View | None = None,
        nonce: str | None = None,
        allowed_mentions: discord.AllowedMentions = NO_MENTIONS,
        guild_id: int | None = None,
        files: Sequence[discord.File] = (),
        poll: discord.Poll | None = None,
    ) -> discord.Message:
        """Send to a channel by id (no cache needed), within Discord's limits. Pass guild_id when the
        returned message will be used for guild-only actions such as opening a thread. A `Msg` is written
        in the server's language (`guild_id`'s; English without one)."""
        channel = self.get_partial_messageable(channel_id, guild_id=guild_id)
        kwargs: dict[str, Any] = {"allowed_mentions": allowed_mentions}
        if isinstance(content, Msg):
            content = render(await self.languages.for_guild(guild_id), content)
        if content:
            kwargs["content"] = clip(content, CONTENT_MAX)
        if embeds:
            kwargs["embeds"] = fit_embeds(list(embeds))
        if view is not None:
            kwargs["view"] = view
        if nonce is not None:
            kwargs["nonce"] = nonce
        if files:
            kwargs["files"] = list(files)
        if poll is not None:
            kwargs["poll"] = poll
        return await channel.send(**kwargs)

    async def dm(
        self, user_id: int, content: str | Msg | None = None, *, embeds: Sequence[discord.Embed] = (),
        nonce: str | None = None, view: discord.ui.View | None = None, guild_id: int | None = None,
    ) -> bool:
        """DM a user; False when their DMs are closed (403), never raises for that. A `Msg` is written in
        the recipient's language (their last interaction in `guild_id`, else that server's language)."""
        if isinstance(content, Msg):
            content = render(await self.languages.for_member(guild_id, user_id), content)
        try:
            user = self.get_user(user_id) or await self.fetch_user(user_id)
            channel = user.dm_channel or await user.create_dm()
            kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
            if content:
                kwargs["content"] = clip(content, CONTENT_MAX)
            if embeds:
                kwargs["embeds"] = fit_embeds(list(embeds))
            if nonce is not None:
                kwargs["nonce"] = nonce
            if view is not None:
                kwargs["view"] = view
            await channel.send(**kwargs)
            return True
        except discord.Forbidden:
            log.info("DM to user %s refused (DMs closed)", user_id)
            return False
        except discord.NotFound:
            log.info("DM to user %s failed: unknown user", user_id)
            return False

    @staticmethod
    def job_message(payload: dict[str, Any]) -> str | Msg:
        """A job's text: payload['msg'] (a message id, filled from payload['fmt'] in the reader's language
        when it is sent) or payload['content'] (sent as it is)."""
        if payload.get("msg"):
            return Msg(str(payload["msg"]), **dict(payload.get("fmt") or {}))
        return str(payload.get("content", ""))

    async def _post_job(self, job: Job) -> None:
        """Generic `core.post` job: post the payload's text (`job_message`) to the target channel, a
        message id in the server's language as it is when the post goes out."""
        if job.target is None or not job.target.isdigit():
            raise PermanentJobError(Msg(N_("a post job without a channel")))
        try:
            await self.post(int(job.target), self.job_message(job.payload), nonce=job.nonce,
                            guild_id=job.guild_id)
        except discord.NotFound as exc:
            raise PermanentJobError(Msg(N_("channel {channel} not found (deleted?)"),
                                          channel=f"<#{job.target}>")) from exc
        except discord.Forbidden as exc:
            raise PermanentJobError(Msg(N_("no permission to post in channel {channel}"),
                                          channel=f"<#{job.target}>")) from exc

    async def _dm_job(self, job: Job) -> None:
        """Generic `core.dm` job: DM payload['user'] the payload's text (`job_message`), a message id in the
        recipient's language; skipped when their DMs are closed."""
        user_id = int(job.payload.get("user") or 0)
        if user_id <= 0:
            raise PermanentJobError(Msg(N_("a DM job without a recipient")))
        if not await self.dm(user_id, self.job_message(job.payload), nonce=job.nonce, guild_id=job.guild_id):
            raise SkipJob(Msg(N_("{user} does not take DMs"), user=f"<@{user_id}>"))

    async def _language_changed(self, guild_id: int, key: str) -> None:
        """The server's language changed: say so in the announcements channel, in the new language."""
        if key != LANGUAGE_KEY:
            return
        gs = await self.settings.get(guild_id)
        if not gs.announcements_channel_id:
            return
        lang = self.languages.for_settings(gs)
        now = self.clock()
        key = f"core:language:{to_ms(now)}"
        await self.scheduler.schedule(
            "core.post", now, guild_id=guild_id, target=str(gs.announcements_channel_id), dedupe_key=key,
            payload={"msg": LANGUAGE_NOTICE, "fmt": {"language": language_name(lang, lang)}},
        )
        await self.scheduler.run_now(guild_id, key)


    # -- servers joined and left; daily maintenance --------------------------------------------
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server (GUILD_DELETE without `unavailable`; an outage dispatches
        guild_unavailable instead and changes nothing): cancel its jobs, post nothing more there."""
        try:
            await self.scheduler.guild_left(guild.id)
        except Exception:
            log.exception("could not record leaving guild %s", guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._guild_back(guild)
        for hook in list(self.guild_join_hooks):  # e.g. the welcome message (cogs/onboarding)
            try:
                await hook(guild)
            except Exception:
                log.exception("guild join hook failed for guild %s", guild.id)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._guild_back(guild)  # added back while the bot was offline

    async def _guild_back(self, guild: discord.Guild) -> None:
        try:
            if not await self.scheduler.guild_returned(guild.id):
                return
            for hook in list(self.guild_return_hooks):  # what features re-plan at start-up, for this server
                await hook(guild.id)
        except Exception:
            log.exception("could not resume guild %s", guild.id)

    async def ensure_maintenance(self, after: datetime | None = None) -> None:
        """Keep one pending daily maintenance job (retention pruning, purge of departed servers)."""
        now = after or self.clock()
        due = (now + timedelta(days=1)).replace(hour=MAINTENANCE_HOUR_UTC, minute=17, second=0, microsecond=0)
        if after is None and await self.scheduler.pending(MAINTENANCE_GUILD, "core:maintenance:"):
            return
        await self.scheduler.schedule(MAINTENANCE_KIND, due, guild_id=MAINTENANCE_GUILD,
                                      dedupe_key=f"core:maintenance:{due.date().isoformat()}")

    async def run_maintenance(self, now: datetime | None = None) -> None:
        """Prune finished jobs and old audit rows; purge servers left longer than the grace period."""
        now = now or self.clock()
        cfg = self.config.retention
        await retention.prune(self.db, now, jobs_days=cfg.jobs_days, audit_days=cfg.audit_days)
        for gid in await retention.departures_due(self.db, now, cfg.departed_guild_days):
            if self.get_guild(gid) is not None:  # back in the server: not a departure any more
                await self.scheduler.guild_returned(gid)
                continue
            await retention.purge_guild(self.db, gid)
            self.scheduler.forget_departed(gid)

    async def _maintenance_job(self, job: Job) -> None:
        try:
            await self.run_maintenance()
        finally:
            await self.ensure_maintenance(after=self.clock())


IDENTIFY_INTERVAL_S = 5.0  # Discord: `max_concurrency` IDENTIFYs per 5 s, one per rate-limit bucket


class ShardedAttacheBot(AttacheBot, commands.AutoShardedBot):
    """The same bot on discord.py's AutoShardedBot: every shard's gateway connection in this one process
    (config `shards = "auto"` or a count). Everything else (database, scheduler, features) is shared: a
    shard only decides which websocket a server's events arrive on."""

    def __init__(self, config: Config, **kwargs: Any) -> None:
        self._identify_concurrency: int | None = None
        self._identify_locks: dict[int, asyncio.Lock] = {}
        self._identified_at: dict[int, float] = {}
        super().__init__(config, **kwargs)

    def _gateway_options(self, config: Config) -> dict[str, Any]:
        # shard_count None: ask Discord (GET /gateway/bot) for its recommendation
        return {"shard_count": config.shard_count}

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Pace IDENTIFYs as Discord asks: `max_concurrency` per 5 s, shard `i` in bucket
        `i % max_concurrency`. (discord.py's default sleeps 5 s before every IDENTIFY but the first, so
        a bot allowed 16 at once would still start its shards one by one.)"""
        if self._identify_concurrency is None:
            self._identify_concurrency = max(1, (await self.fetch_session_start_limits()).max_concurrency)
        bucket = (shard_id or 0) % self._identify_concurrency
        lock = self._identify_locks.setdefault(bucket, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            last = self._identified_at.get(bucket)
            if last is not None:
                wait = last + IDENTIFY_INTERVAL_S - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._identified_at[bucket] = loop.time()


MAINTENANCE_KIND = "core.maintenance"
LANGUAGE_NOTICE = N_(
    "From now on, Attaché posts in this server in {language}. Each member still gets replies in "
    "their own Discord language."
)
MAINTENANCE_GUILD = 0  # not a server: installation-wide jobs
MAINTENANCE_HOUR_UTC = 3


def create_bot(config: Config, *, clock: Clock | None = None, scheduler_clock: Clock | None = None,
               extensions: Sequence[str] | None = None) -> AttacheBot:
    """Build the bot. No network or disk I/O happens until `start()`. `clock` (default: the wall clock) is
    the one "now" of the scheduler and every service; `extensions` limits the features loaded. With
    `shards` in the config the bot is a `ShardedAttacheBot` (discord.py's AutoShardedBot)."""
    cls = ShardedAttacheBot if config.sharded else AttacheBot
    return cls(config, clock=clock, scheduler_clock=scheduler_clock, extensions=extensions)

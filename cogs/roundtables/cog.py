"""/roundtable: schedule meetings across time zones, RSVP, remind, export to calendars.

Why this file is over 700 lines: it is the Discord side of one feature whose commands share live state
with its delivery (the per-guild announcement refreshers, the background notices, the Events-tab mirror
and the reminder/notice job handlers all read and update the same announcement messages). The rules and
SQL are in service.py, recurrence in recurrence.py, rendering in embeds.py; what remains here is glue,
and splitting the delivery into a mixin would only spread that shared state over two files."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    EXPORT_LIMIT,
    FINDTIME_LIMIT,
    ICS_LIMIT,
    creation_limit,
    expensive,
    is_moderator,
    manage_guild_only,
)
from bot.embeds import CONTENT_MAX, choice_name, clip, md, md_line, one_line
from bot.errors import InvalidInput, NotFound
from bot.i18n import N_, Msg, nt, render, t
from bot.interactions import NO_MENTIONS, acknowledge, acknowledge_first, reply
from bot.member_names import lookup_for
from bot.paging import FetchedPages, Paginator
from bot.scheduler import Job, PermanentJobError, SkipJob
from bot.settings import SettingSpec, setup_hint
from bot.timeparse import (
    discord_ts,
    from_unix,
    local_times_line,
    parse_date,
    parse_duration,
    to_unix,
    zone_label,
)
from bot.transformers import Moment, When, ZoneOption
from bot.translator import lang_for_interaction
from bot.ui import picture_file, upload
from cogs.roundtables import embeds as E
from cogs.roundtables.findtime import DAY_END, DAY_START, Slot, find_slots, parse_hours, place_weekend
from cogs.roundtables.ics import RoundtableFeed, build_ics
from cogs.roundtables.pictures import draw_findtime, grid_data, shown_days
from cogs.roundtables.service import (
    ADVANCE_KIND,
    DEFAULT_OFFSETS,
    NOTIFY_KIND,
    OFFSETS_KEY,
    REMINDER_KIND,
    ChangeResult,
    Counts,
    Occurrence,
    Roundtable,
    RoundtableService,
    is_stale,
    offset_label,
    render_offsets,
    validate_offsets,
)
from cogs.roundtables.views import FindtimePollView, PollPoster, RsvpButton, calendar_view, rsvp_view

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

MIRROR_RETRY = timedelta(hours=1)
MIRROR_OFF_REASON = N_(
    "Discord refused to create the event: I lack the **Manage Events** permission. Roundtables still work; "
    "grant the permission and I'll mirror the next change (retrying at most hourly)."
)
PAGE_SIZE = 10
POLL_HOURS_MAX = 168  # a findtime poll stays open until the first slot, at most a week
REPEAT_CHOICES = [
    (N_("once (no repeat)"), "none"),
    (N_("weekly"), "weekly"),
    (N_("every 2 weeks"), "biweekly"),
    (N_("monthly, same weekday position (e.g. first Tuesday)"), "monthly"),
    (N_("monthly, last weekday of the month (e.g. last Friday)"), "monthly-last"),
]
LIST_TITLE = {"past": N_("Past roundtables"), "mine": N_("Your upcoming roundtables"),
              "upcoming": N_("Upcoming roundtables")}
LIST_EMPTY = {"past": N_("No past roundtables yet."),
              "mine": N_("You're not hosting or attending any upcoming roundtable."),
              "upcoming": N_("No upcoming roundtables. Start one with `/roundtable schedule`.")}


def _sub_nonce(nonce: str, extra: str) -> str:
    return hashlib.blake2b(f"{nonce}:{extra}".encode(), digest_size=12).hexdigest()[:25]


def _cog(interaction: discord.Interaction[Any]) -> Roundtables:
    cog = interaction.client.get_cog("Roundtables")
    if cog is None:
        raise RuntimeError("the roundtables cog is not loaded")
    return cast("Roundtables", cog)


async def _schedule_zone(interaction: discord.Interaction[Any]) -> str:
    """`/roundtable schedule`: a time without a `timezone` is in the member's zone, else the server's."""
    assert interaction.guild_id is not None
    return await _cog(interaction)._member_zone(interaction.guild_id, interaction.user.id)


async def _planned_zone(interaction: discord.Interaction[Any]) -> str:
    """`/roundtable edit`: a new time without a `timezone` is in the roundtable's planned zone."""
    assert interaction.guild_id is not None
    rt = await _cog(interaction).svc.get(interaction.guild_id, int(interaction.namespace.id))
    return rt.tz


def _change_notice(lang: str, *, title: str, changes: Sequence[str], next_when: str | None) -> str:
    """Those going are told what an edit changed, in `lang`."""
    what = E.change_names(lang, changes)
    if next_when:
        return t(lang, "✏️ **{title}** was updated ({what}). Next meeting: {when}.", title=title, what=what,
                 when=next_when)
    return t(lang, "✏️ **{title}** was updated ({what}).", title=title, what=what)


def _mention_chunks(ids: Sequence[int], head: str, limit: int = CONTENT_MAX) -> list[tuple[str, list[int]]]:
    """Split mentions over as many messages as needed; each (content, ids mentioned in it)."""
    out: list[tuple[str, list[int]]] = []
    cur = head
    cur_ids: list[int] = []
    for uid in ids:
        piece = ("" if cur.endswith("\n") else " ") + f"<@{uid}>"
        if len(cur) + len(piece) > limit:
            out.append((cur, cur_ids))
            cur, cur_ids = "…", []
        cur += piece
        cur_ids.append(uid)
    out.append((cur, cur_ids))
    return out


@app_commands.guild_only()
class Roundtables(
    commands.GroupCog, group_name="roundtable", group_description="Roundtables across time zones"
):
    feature_title = "Roundtables"

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.svc = RoundtableService(bot.db, bot.scheduler, settings=bot.settings, clock=bot.clock)
        self.feed = RoundtableFeed(self.svc, language=bot.languages.for_member)
        self._dirty: set[int] = set()
        self._refreshers: dict[int, asyncio.Task[None]] = {}
        self._bg: set[asyncio.Task[Any]] = set()
        self._mirror_locks: dict[int, asyncio.Lock] = {}
        super().__init__()

    # ------------------------------------------------------------------ lifecycle
    async def cog_load(self) -> None:
        self.bot.settings.register(
            SettingSpec(
                OFFSETS_KEY, N_("Roundtable reminders"), list(DEFAULT_OFFSETS), validate_offsets,
                render_offsets,
            )
        )
        self.bot.scheduler.register(REMINDER_KIND, self.on_reminder, stale=self._reminder_stale)
        self.bot.scheduler.register(ADVANCE_KIND, self.on_advance)
        self.bot.scheduler.register(NOTIFY_KIND, self.on_notify)
        self.bot.add_dynamic_items(RsvpButton)
        self.bot.status_providers.append(self.status_lines)
        self.bot.features.roundtable_calendar = self.feed  # members' live calendar feeds

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister(REMINDER_KIND)
        self.bot.scheduler.unregister(ADVANCE_KIND)
        self.bot.scheduler.unregister(NOTIFY_KIND)
        self.bot.remove_dynamic_items(RsvpButton)
        if self.status_lines in self.bot.status_providers:
            self.bot.status_providers.remove(self.status_lines)
        if self.bot.features.roundtable_calendar is self.feed:
            self.bot.features.roundtable_calendar = None
        for task in list(self._refreshers.values()) + list(self._bg):
            task.cancel()

    async def wait_idle(self) -> None:
        """Tests/bench: wait for announcement refreshes and notifications in flight."""
        while self._refreshers or self._bg:
            await asyncio.gather(*self._refreshers.values(), *self._bg, return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:
                log.exception("roundtable notification failed")

        task = asyncio.create_task(guarded())
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    # ------------------------------------------------------------------ helpers
    async def _member_zone(self, guild_id: int, user_id: int) -> str:
        """The member's zone from their profile, else the server's (bot/places.py)."""
        return await self.bot.features.places.member_zone(guild_id, user_id)

    async def _local_line(self, rt: Roundtable, occ: Occurrence | None, lang: str) -> str | None:
        if occ is None:
            return None
        return local_times_line(occ.start, await self._local_places(rt, occ), reference_zone=rt.tz, lang=lang)

    async def _local_places(self, rt: Roundtable, occ: Occurrence) -> list[tuple[str, str]]:
        """Where the host and those going are (their profiles' places), else the planned zone: at most 25."""
        places: list[tuple[str, str]] = []
        known = self.bot.features.places
        if known.provider is not None:  # without the directory nobody has a place: skip the query
            going = await self.svc.going_ids(rt.guild_id, rt.id, occ.key)
            places = await known.member_places(rt.guild_id, [rt.host_id, *going[:60]])
        if not places:
            places = [(zone_label(rt.tz), rt.tz)]
        return places[:25]

    async def _announce_channel(self, guild_id: int, fallback: int | None = None) -> int | None:
        return (await self.bot.settings.get(guild_id)).announcements_channel_id or fallback

    async def _is_mod(self, interaction: discord.Interaction[Any]) -> bool:
        return await is_moderator(interaction)

    async def _announcement(self, rt: Roundtable) -> tuple[discord.Embed, discord.ui.View]:
        """The announcement and its buttons, in the server's language (a post)."""
        lang = await self.bot.languages.for_guild(rt.guild_id)
        occ = await self.svc.next_occurrence(rt) if rt.status == "scheduled" else None
        counts = await self.svc.counts(rt.guild_id, rt.id, occ.key) if occ else Counts()
        embed = E.announcement_embed(rt, occ, counts, await self._local_line(rt, occ, lang), lang=lang)
        return embed, rsvp_view(rt.id, occ.key_s if occ else None, calendar=(rt, occ) if occ else None,
                                lang=lang)

    async def post_announcement(self, rt: Roundtable, channel_id: int) -> discord.Message:
        embed, view = await self._announcement(rt)
        msg = await self.bot.post(channel_id, embeds=[embed], view=view)
        await self.svc.set_message(rt.guild_id, rt.id, channel_id, msg.id)
        return msg

    def request_refresh(self, guild_id: int, rt_id: int) -> None:
        """Coalesced, ordered edits of the announcement: many presses → few edits, last one fresh."""
        self._dirty.add(rt_id)
        if rt_id in self._refreshers:
            return
        task = asyncio.create_task(self._refresh_loop(guild_id, rt_id))
        self._refreshers[rt_id] = task
        task.add_done_callback(lambda _t: self._refreshers.pop(rt_id, None))

    async def _refresh_loop(self, guild_id: int, rt_id: int) -> None:
        while rt_id in self._dirty:
            self._dirty.discard(rt_id)
            try:
                await self.update_announcement(guild_id, rt_id)
            except Exception:
                log.exception("could not refresh the announcement of roundtable %s", rt_id)

    async def update_announcement(self, guild_id: int, rt_id: int) -> None:
        rt = await self.svc.get(guild_id, rt_id)
        if not rt.channel_id or not rt.message_id:
            return
        embed, view = await self._announcement(rt)
        msg = self.bot.get_partial_messageable(rt.channel_id).get_partial_message(rt.message_id)
        try:
            await msg.edit(embeds=[embed], view=view, allowed_mentions=NO_MENTIONS)
        except discord.NotFound:
            log.info("announcement of roundtable %s was deleted; not editing it", rt_id)
            await self.svc.set_message(guild_id, rt_id, None, None)

    # ------------------------------------------------------------------ Events-tab mirror
    async def sync_mirror(self, rt: Roundtable) -> None:
        # one mirror change at a time per server, so the event-slot share can't be overrun by a race
        lock = self._mirror_locks.setdefault(rt.guild_id, asyncio.Lock())
        async with lock:
            await self._sync_mirror(rt)

    async def _sync_mirror(self, rt: Roundtable) -> None:
        guild = self.bot.get_guild(rt.guild_id)
        if guild is None:
            return
        off = await self.svc.mirror_off_reason(rt.guild_id)
        now = self.svc.now()
        if off is not None and now - off[1] < MIRROR_RETRY:
            return
        occ = await self.svc.next_occurrence(rt) if rt.status == "scheduled" else None
        try:
            if occ is None or occ.start <= now + timedelta(minutes=1):
                if rt.event_id:
                    try:
                        await (await self._scheduled_event(guild, rt.event_id)).delete()
                    except discord.NotFound:
                        pass
                    await self.svc.set_event(rt.guild_id, rt.id, None)
                return
            location = rt.place or (rt.link if rt.link and rt.link_public else None)
            lang = await self.bot.languages.for_guild(rt.guild_id)
            location = location or (
                t(lang, "Online (link for those going)") if rt.format != "in-person"
                else t(lang, "To be announced")
            )
            rsvp_hint = t(
                lang, "RSVP with the buttons in the announcement or /roundtable rsvp {id}.", id=rt.id)
            description = clip(md(rt.agenda) + "\n\n" + rsvp_hint, 1000).strip()
            name, location = one_line(rt.title, 100), clip(location, 100)
            event_id = rt.event_id
            if event_id:
                try:
                    await (await self._scheduled_event(guild, event_id)).edit(
                        name=name,
                        description=description,
                        start_time=occ.start,
                        end_time=occ.end,
                        entity_type=discord.EntityType.external,
                        privacy_level=discord.PrivacyLevel.guild_only,
                        location=location,
                    )
                except discord.NotFound:
                    event_id = None
                except discord.Forbidden:
                    raise
                except discord.HTTPException:
                    # e.g. the previous occurrence's event already ended: make a fresh one
                    try:
                        await (await self._scheduled_event(guild, event_id)).delete()
                    except discord.HTTPException:
                        pass
                    event_id = None
            if not event_id:
                share = await self.bot.limits.event_slots(rt.guild_id)
                if await self.svc.mirrored_count(rt.guild_id, exclude_id=rt.id) >= share:
                    log.info("guild %s: the Events-tab share (%d) is used; roundtable %s is not mirrored",
                             rt.guild_id, share, rt.id)
                    if rt.event_id:
                        await self.svc.set_event(rt.guild_id, rt.id, None)
                    return
                created = await guild.create_scheduled_event(
                    name=name, description=description, start_time=occ.start, end_time=occ.end,
                    entity_type=discord.EntityType.external, privacy_level=discord.PrivacyLevel.guild_only,
                    location=location,
                )
                await self.svc.set_event(rt.guild_id, rt.id, created.id)
            if off is not None:
                await self.svc.set_mirror_off(rt.guild_id, None)
        except discord.Forbidden:
            log.info("guild %s: no Manage Events permission; the Events-tab mirror is off", rt.guild_id)
            await self.svc.set_mirror_off(rt.guild_id, MIRROR_OFF_REASON)
        except discord.HTTPException:
            log.warning("could not mirror roundtable %s as a scheduled event", rt.id, exc_info=True)

    @staticmethod
    async def _scheduled_event(guild: discord.Guild, event_id: int) -> discord.ScheduledEvent:
        """The mirrored event, to edit or delete it: from discord.py's cache (filled when the server
        becomes available; editing needs only the ids), else fetched. discord.NotFound when it's gone."""
        event = guild.get_scheduled_event(event_id)
        return event if event is not None else await guild.fetch_scheduled_event(event_id, with_counts=False)

    async def status_lines(self, guild: discord.Guild) -> list[tuple[str, str]]:
        """`/settings show`: a line about the Events-tab mirror. The name is a catalog id (shown in the
        reader's language); the value is written in the server's language, since a status provider is
        given only the guild."""
        lang = await self.bot.languages.for_guild(guild.id)
        off = await self.svc.mirror_off_reason(guild.id)
        share = await self.bot.limits.event_slots(guild.id)
        used = await self.svc.mirrored_count(guild.id)
        if off is None and used >= share:
            value = t(lang, "**full**: {used} of the {share} scheduled events the bot may use (out of the "
                            "server's 100) are taken; new roundtables are still created but not shown in the "
                            "Events tab (`/settings event-slots` changes the share)", used=used, share=share)
        elif off is None:
            value = t(lang, "on: the next meeting of each roundtable shows in the server's Events tab "
                            "({used} of {share} event slots used)", used=used, share=share)
        else:
            value = t(lang, "**off** since {when}: {reason}", when=discord_ts(off[1], "f"),
                      reason=t(lang, off[0]))
        return [(N_("Roundtable events mirror"), value)]

    # ------------------------------------------------------------------ notifications
    async def notify_going(
        self, rt: Roundtable, user_ids: Sequence[int], head: Callable[[str], str], *,
        nonce: str | None = None, dm_text: Callable[[str], str] | None = None,
        fallback_channel: int | None = None,
    ) -> None:
        """Channel post (in the server's language) mentioning only these members, plus DMs (each in the
        recipient's language) to those who opted in. `head` and `dm_text` write the text in a language."""
        if not user_ids:
            return
        channel_id = await self._announce_channel(rt.guild_id, rt.channel_id or fallback_channel)
        if channel_id:
            text = head(await self.bot.languages.for_guild(rt.guild_id))
            for i, (content, ids) in enumerate(_mention_chunks(list(user_ids), text)):
                mentions = discord.AllowedMentions(
                    users=[discord.Object(u) for u in ids], everyone=False, roles=False, replied_user=False
                )
                await self.bot.post(
                    channel_id,
                    content,
                    allowed_mentions=mentions,
                    nonce=None if nonce is None else (nonce if i == 0 else _sub_nonce(nonce, str(i))),
                )
        if dm_text:
            await self._dm_opted(rt, user_ids, dm_text, nonce)

    async def _dm_opted(self, rt: Roundtable, user_ids: Sequence[int], text: Callable[[str], str],
                        nonce: str | None,
                        view: Callable[[str], discord.ui.View | None] | None = None) -> int:
        """DM those who opted in, each in their own language: `text` and `view` build the message and its
        buttons in a language."""
        opted = await self.svc.dm_opted_in(rt.guild_id, user_ids)
        sent = 0
        for uid in user_ids:
            if uid not in opted or not await self.bot.features.places.dm_ok(rt.guild_id, uid):
                continue
            lang = await self.bot.languages.for_member(rt.guild_id, uid)
            body = text(lang)
            if await self.bot.dm(uid, body, nonce=None if nonce is None else _sub_nonce(nonce, f"dm{uid}"),
                                 view=view(lang) if view else None):
                sent += 1
        return sent

    async def tell_promoted(
        self, rt: Roundtable, occ_start: datetime, user_ids: Sequence[int], job: Job
    ) -> None:
        title, when = md_line(rt.title, 100), discord_ts(occ_start, "F")
        for uid in user_ids:
            lang = await self.bot.languages.for_member(rt.guild_id, uid)
            text = t(lang, "🎉 A place opened up: you're now **going** to **{title}** on {when}.",
                     title=title, when=when)
            if rt.link:
                text += "\n" + t(lang, "Meeting link: {link}", link=clip(rt.link, 500))
            occ = Occurrence(occ_start, occ_start, occ_start + rt.duration)
            if await self.bot.dm(uid, text, nonce=job.nonce_for(f"promoted:dm:{uid}"),
                                 view=calendar_view(rt, occ, with_link=True, lang=lang)):
                continue
            channel_id = await self._announce_channel(rt.guild_id, rt.channel_id)
            if channel_id:
                member = f"<@{uid}>"
                await self.bot.post(
                    channel_id,
                    nonce=job.nonce_for(f"promoted:channel:{uid}"),
                    content=Msg("{member} a place opened up: you're now going to **{title}** on {when}. "
                                "Press **Going** again on the announcement to see the link.",
                                member=member, title=title, when=when),
                    guild_id=rt.guild_id,
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(uid)], everyone=False, roles=False
                    ),
                )

    # ------------------------------------------------------------------ scheduler jobs
    @staticmethod
    def _reminder_stale(job: Job, now: datetime) -> bool:
        start = from_unix(int(job.payload.get("start", 0)))
        return is_stale(int(job.payload.get("offset", 0)), start, job.original_due_at, now)

    async def on_reminder(self, job: Job) -> None:
        try:
            rt = await self.svc.get(job.guild_id, int(job.payload["rt"]))
        except NotFound:
            raise SkipJob(Msg(N_("the roundtable was deleted"))) from None
        if rt.status != "scheduled":
            raise SkipJob(Msg(N_("roundtable #{id} is cancelled or finished"), id=rt.id))
        occ = await self.svc.occurrence(rt, from_unix(int(job.payload["occ"])))
        if occ is None:
            raise SkipJob(Msg(N_("that meeting was cancelled")))
        if to_unix(occ.start) != int(job.payload.get("start", 0)):
            raise SkipJob(Msg(N_("that meeting moved; its reminders were rescheduled")))
        going = await self.svc.going_ids(rt.guild_id, rt.id, occ.key)
        channel_id = await self._announce_channel(rt.guild_id, rt.channel_id)
        if channel_id is None:
            raise PermanentJobError(Msg(N_("no announcements channel set ({hint})"),
                                        hint=setup_hint("announcements_channel_id")))
        lang = await self.bot.languages.for_guild(rt.guild_id)
        head = E.reminder_text(rt, occ, "", lang=lang)
        if not going:
            head += " " + t(lang, "Nobody has said they're going yet.")
        try:
            for i, (content, ids) in enumerate(
                _mention_chunks(going, head + "\n") if going else [(head, [])]
            ):
                await self.bot.post(
                    channel_id,
                    content,
                    nonce=job.nonce if i == 0 else _sub_nonce(job.nonce, str(i)),
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(u) for u in ids],
                        everyone=False,
                        roles=False,
                        replied_user=False,
                    ),
                    # the channel is public: its buttons carry the link only when the link is public
                    view=calendar_view(rt, occ, with_link=False, lang=lang) if i == 0 else None,
                )
        except (discord.NotFound, discord.Forbidden) as exc:
            raise PermanentJobError(Msg(N_("cannot post in channel {channel}: {error}"),
                                        channel=f"<#{channel_id}>", error=str(exc))) from exc
        if going:
            places = await self._local_places(rt, occ)

            def dm_text(lang: str) -> str:
                local = local_times_line(occ.start, places, reference_zone=rt.tz, lang=lang)
                return E.reminder_dm(rt, occ, local, lang=lang)

            await self._dm_opted(
                rt, going, dm_text, job.nonce,
                view=lambda lang: calendar_view(rt, occ, with_link=True, lang=lang),
            )

    async def on_notify(self, job: Job) -> None:
        """Tell those going about an edit or a cancel, and those promoted from the waitlist (enqueued in
        the change's transaction). Every send has its own nonce, so a resend after a crash is dropped."""
        try:
            rt = await self.svc.get(job.guild_id, int(job.payload["rt"]))
        except NotFound:
            raise SkipJob(Msg(N_("the roundtable was deleted"))) from None
        p = job.payload
        going = [int(u) for u in p.get("going") or []]
        changes = [str(c) for c in p.get("changes") or []]
        occ_start = from_unix(int(p["occ"])) if p.get("occ") is not None else None
        try:
            if going:
                title = md_line(rt.title, 100)
                head: Callable[[str], str]
                if "cancelled" in changes:
                    nxt = None if p.get("whole", True) else await self.svc.next_occurrence(rt)
                    if p.get("whole", True):
                        msg = Msg("❌ **{title}** has been cancelled.", title=title)
                    elif occ_start is None:
                        msg = Msg("❌ The next meeting of **{title}** is cancelled.", title=title)
                    elif nxt:
                        msg = Msg("❌ The {when} meeting of **{title}** is cancelled. "
                                  "The next one is {next}.",
                                   when=discord_ts(occ_start, "F"), title=title,
                                   next=discord_ts(nxt.start, "F"))
                    else:
                        msg = Msg("❌ The {when} meeting of **{title}** is cancelled.",
                                  when=discord_ts(occ_start, "F"), title=title)
                    head = functools.partial(render, text=msg)
                else:
                    nxt = await self.svc.next_occurrence(rt)
                    head = functools.partial(_change_notice, title=title, changes=changes,
                                             next_when=discord_ts(nxt.start, "F") if nxt else None)
                await self.notify_going(rt, going, head, nonce=job.nonce, dm_text=head,
                                        fallback_channel=p.get("channel"))
            promoted = [int(u) for u in p.get("promoted") or []]
            if promoted and p.get("promoted_occ") is not None:
                await self.tell_promoted(rt, from_unix(int(p["promoted_occ"])), promoted, job)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise PermanentJobError(Msg(N_("cannot tell those going about roundtable #{id}: {error}"),
                                        id=rt.id, error=str(exc))) from exc

    def _notify_now(self, guild_id: int, key: str | None) -> None:
        """Deliver a notice the change enqueued, now, in the background (the dispatcher has it otherwise)."""
        if key is not None:
            self._spawn(self.bot.scheduler.run_now(guild_id, key))

    async def on_advance(self, job: Job) -> None:
        rt = await self.svc.advance(job.guild_id, int(job.payload["rt"]), int(job.payload["occ"]))
        if rt is None:
            raise SkipJob(Msg(N_("nothing to advance (edited, cancelled or already advanced)")))
        try:
            await self.update_announcement(rt.guild_id, rt.id)
        except discord.HTTPException:
            log.warning("could not update the announcement of roundtable %s", rt.id, exc_info=True)
        await self.sync_mirror(await self.svc.get(rt.guild_id, rt.id))

    # ------------------------------------------------------------------ RSVP path (buttons + command)
    async def handle_rsvp(
        self, interaction: discord.Interaction[Any], rt_id: int, response: str, *, occ_s: int | None = None
    ) -> None:
        if interaction.guild_id is None:
            raise InvalidInput(N_("Roundtables live in servers."))
        await acknowledge(interaction)  # the RSVP buttons come here too
        res = await self.svc.rsvp(
            interaction.guild_id, rt_id, interaction.user.id, response,
            occ_key=None if occ_s is None else from_unix(occ_s),
        )
        if res.changed:
            self.request_refresh(interaction.guild_id, rt_id)
        self._notify_now(interaction.guild_id, res.notice_key)
        lang = lang_for_interaction(interaction)
        going = res.status == "going"
        view = calendar_view(res.roundtable, res.occurrence, with_link=True, lang=lang) if going else None
        await reply(interaction, E.rsvp_reply(res.roundtable, res.occurrence, res.status,
                                              res.waitlist_position, res.changed, lang=lang), view=view)

    # ------------------------------------------------------------------ autocomplete
    async def rt_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        rts = await self.svc.search(interaction.guild_id, current, limit=25)
        lang = lang_for_interaction(interaction)
        tags = {"cancelled": f" ({t(lang, 'cancelled')})", "done": f" ({t(lang, 'finished')})"}
        out = []
        for rt in rts:
            when = rt.next_start or rt.last_start or rt.start
            tag = tags.get(rt.status, "")
            out.append(app_commands.Choice(
                name=choice_name(f"#{rt.id} {rt.title} — {when:%Y-%m-%d %H:%M} UTC{tag}"), value=rt.id
            ))
        return out

    async def repeat_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        cur = current.strip()
        lang = lang_for_interaction(interaction)
        named = [(t(lang, n), v) for n, v in REPEAT_CHOICES]
        out = [app_commands.Choice(name=choice_name(n), value=v)
               for n, v in named if cur.lower() in n.lower()]
        if cur and "=" in cur:
            out.insert(0, app_commands.Choice(name=choice_name(f"RRULE: {cur}"), value=cur[:100]))
        return out[:25]

    # ------------------------------------------------------------------ commands
    @acknowledge_first()
    @app_commands.command(name="schedule", description="Schedule a roundtable (one-off or recurring)")
    @app_commands.describe(
        title="Title (up to 100 characters)",
        when="Start, e.g. `2026-12-03 15:00`, `next tuesday 9am` (in the time zone below)",
        timezone="IANA zone the time is in (default: your profile's, then the server's)",
        duration="Length, e.g. `90m` or `1h30` (5 min to 12 h; default 1 h)",
        format="Virtual, in person or hybrid",
        where="Meeting link and/or place, e.g. `https://meet.example/x, City Hall room 4`",
        capacity="Places (a waitlist opens when full)",
        repeat="weekly, every 2 weeks, monthly, monthly-last, or an RRULE like FREQ=WEEKLY;BYDAY=TU,TH",
        agenda="Topic and agenda (up to 2,000 characters)",
        occurrences="For a series: stop after this many meetings",
        until="For a series: last date, e.g. 2027-06-30",
        public_link="Show the meeting link to everyone (default: only to those going)",
    )
    @app_commands.choices(format=[app_commands.Choice(name=n, value=v) for n, v in
                                  ((N_("Virtual"), "virtual"), (N_("In person"), "in-person"),
                                   (N_("Hybrid"), "hybrid"))])
    @app_commands.autocomplete(repeat=repeat_autocomplete)
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        title: app_commands.Range[str, 1, 100],
        when: app_commands.Transform[Moment, When(default_zone=_schedule_zone)],
        timezone: ZoneOption | None = None,
        duration: app_commands.Range[str, 1, 40] | None = None,
        format: str = "virtual",
        where: app_commands.Range[str, 1, 500] | None = None,
        capacity: app_commands.Range[int, 1, 10000] | None = None,
        repeat: app_commands.Range[str, 1, 300] | None = None,
        agenda: app_commands.Range[str, 1, 2000] | None = None,
        occurrences: app_commands.Range[int, 1, 500] | None = None,
        until: app_commands.Range[str, 1, 40] | None = None,
        public_link: bool = False,
    ) -> None:
        assert interaction.guild_id is not None
        gid = interaction.guild_id
        zone, start = when.zone, when.at
        now = self.svc.now()
        minutes = self._minutes(duration) if duration else 60
        until_date = parse_date(until, today=now.astimezone(zone).date()) if until else None
        async with creation_limit(interaction, "roundtable"):
            rt = await self.svc.create(
                gid,
                interaction.user.id,
                title=title,
                start=start,
                tz=zone.key,
                duration_min=minutes,
                format=format,
                where=where,
                capacity=capacity,
                repeat=repeat,
                agenda=agenda,
                count=occurrences,
                until=until_date,
                link_public=public_link,
            )
        lang = lang_for_interaction(interaction)
        channel_id = await self._announce_channel(gid, interaction.channel_id)
        posted = ""
        if channel_id and channel_id == interaction.channel_id and not await self._announce_channel(gid):
            posted = " " + t(lang, "No announcements channel is set, so it is announced here "
                                   "({hint} picks one).",
                             hint=render(lang, setup_hint("announcements_channel_id")))
        channel = f"<#{channel_id}>"
        if channel_id:
            try:
                msg = await self.post_announcement(rt, channel_id)
                posted = " " + t(lang, "Announced in {channel} ({link}).", channel=channel,
                                 link=msg.jump_url) + posted
            except discord.HTTPException as exc:
                log.warning("could not announce roundtable %s: %s", rt.id, exc)
                posted = " " + t(lang, "I couldn't post the announcement in {channel} ({error}); check my "
                                       "permissions there.", channel=channel,
                                 error=exc.text or exc.status)
        await self.sync_mirror(await self.svc.get(gid, rt.id))
        rt = await self.svc.get(gid, rt.id)
        occ = await self.svc.next_occurrence(rt)
        first = discord_ts(occ.start, "F") if occ else discord_ts(rt.start, "F")
        repeat_shown = md_line(rt.repeat_in(lang), 300)
        text = t(lang, "Scheduled **{title}** for {first} ({repeat}, planned in {zone}).",
                 title=E.title_line(rt), first=first, repeat=repeat_shown, zone=rt.tz) + posted
        if rt.link and not rt.link_public:
            text += "\n" + t(lang, "The meeting link is shown only to members who answer Going.")
        await reply(interaction, text)

    @staticmethod
    def _minutes(text: str) -> int:
        td = parse_duration(text)
        minutes = int(td.total_seconds() // 60)
        if td.total_seconds() % 60:
            raise InvalidInput(N_("Give the duration in whole minutes."))
        if not 5 <= minutes <= 720:
            raise InvalidInput(
                Msg("A roundtable lasts from {min} minutes to {max} hours (you gave {given} minutes).",
                    min=5, max=12, given=minutes)
            )
        return minutes

    @app_commands.command(name="list", description="Upcoming, past, or your roundtables")
    @app_commands.describe(when="Which roundtables to list")
    @app_commands.choices(when=[app_commands.Choice(name=n, value=n) for n in ("upcoming", "past", "mine")])
    async def list_cmd(self, interaction: discord.Interaction[Any], when: str = "upcoming") -> None:
        assert interaction.guild_id is not None
        gid, uid = interaction.guild_id, interaction.user.id
        lang = lang_for_interaction(interaction)
        title = t(lang, LIST_TITLE.get(when, LIST_TITLE["upcoming"]))

        async def fetch(page: int) -> tuple[discord.Embed | None, bool]:
            offset = page * PAGE_SIZE
            if when == "past":
                rts = await self.svc.list_past(gid, limit=PAGE_SIZE + 1, offset=offset)
            elif when == "mine":
                rts = await self.svc.list_mine(gid, uid, limit=PAGE_SIZE + 1, offset=offset)
            else:
                rts = await self.svc.list_upcoming(gid, limit=PAGE_SIZE + 1, offset=offset)
            if not rts:
                return None, False
            has_next = len(rts) > PAGE_SIZE
            rts = rts[:PAGE_SIZE]
            counts = await self.svc.going_counts(gid, rts) if when != "past" else {}
            return E.list_page(title, rts, counts, past=when == "past", lang=lang), has_next

        source = FetchedPages(fetch)
        if await source.first() is None:
            await reply(interaction, t(lang, LIST_EMPTY.get(when, LIST_EMPTY["upcoming"])))
            return
        await Paginator(source, uid).start(interaction)

    @app_commands.command(name="show", description="A roundtable's details and attendees")
    @app_commands.describe(id="The roundtable")
    @app_commands.autocomplete(id=rt_autocomplete)
    async def show(self, interaction: discord.Interaction[Any], id: int) -> None:
        assert interaction.guild_id is not None
        rt = await self.svc.get(interaction.guild_id, id)
        occ = await self.svc.next_occurrence(rt) if rt.status == "scheduled" else None
        upcoming = (
            await self.svc.occurrences(rt, limit=5) if rt.recurring and rt.status == "scheduled" else []
        )
        attendees = await self.svc.attendees(rt.guild_id, rt.id, occ.key) if occ else []
        mine = next((a.status for a in attendees if a.user_id == interaction.user.id), None)
        notes = await self.svc.notes(rt.guild_id, rt.id)
        lang = lang_for_interaction(interaction)
        embed = E.show_embed(rt, occ, upcoming, attendees, notes, await self._local_line(rt, occ, lang),
                             show_link=mine == "going" or interaction.user.id == rt.host_id, lang=lang)
        await reply(interaction, embed=embed)

    @acknowledge_first()
    @app_commands.command(name="rsvp", description="Answer for the next meeting of a roundtable")
    @app_commands.describe(id="The roundtable", response="Your answer")
    @app_commands.autocomplete(id=rt_autocomplete)
    @app_commands.choices(response=[app_commands.Choice(name=n, value=v) for n, v in
                                    (("Going", "going"), ("Maybe", "maybe"), ("Can't go", "declined"))])
    async def rsvp(self, interaction: discord.Interaction[Any], id: int, response: str) -> None:
        await self.handle_rsvp(interaction, id, response)

    @acknowledge_first()
    @app_commands.command(
        name="edit", description="Host or moderator: change a roundtable (notifies those going)"
    )
    @app_commands.describe(
        id="The roundtable",
        when="New start (in the time zone below or the planned one)",
        timezone="IANA zone",
        duration="New length",
        where="New link and/or place",
        capacity="New capacity (0 = no limit)",
        agenda="New agenda",
        title="New title",
        occurrence="For a series: only the next meeting, or all",
        public_link="Show the link to everyone",
    )
    @app_commands.autocomplete(id=rt_autocomplete)
    @app_commands.choices(occurrence=[app_commands.Choice(name=n, value=v) for n, v in
                                      ((N_("only the next meeting"), "this"),
                                       (N_("the whole series"), "all"))])
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        id: int,
        when: app_commands.Transform[Moment, When(default_zone=_planned_zone)] | None = None,
        timezone: ZoneOption | None = None,
        duration: app_commands.Range[str, 1, 40] | None = None,
        where: app_commands.Range[str, 1, 500] | None = None,
        capacity: app_commands.Range[int, 0, 10000] | None = None,
        agenda: app_commands.Range[str, 1, 2000] | None = None,
        title: app_commands.Range[str, 1, 100] | None = None,
        occurrence: str = "all",
        public_link: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        gid = interaction.guild_id
        start = when.at if when else None
        minutes = self._minutes(duration) if duration else None
        res = await self.svc.edit(
            gid, id, interaction.user.id, is_moderator=await self._is_mod(interaction), start=start,
            tz=timezone, duration_min=minutes, where=where, capacity=capacity, agenda=agenda, title=title,
            link_public=public_link, scope=occurrence, notify_channel=interaction.channel_id,
        )
        await self._after_change(res, interaction)
        lang = lang_for_interaction(interaction)
        await reply(interaction, nt(lang, "Updated **{title}** ({what}). {n} member going was notified.",
                                    "Updated **{title}** ({what}). {n} members going were notified.",
                                    len(res.going), title=E.title_line(res.roundtable),
                                    what=E.change_names(lang, res.changes)))

    async def _after_change(self, res: ChangeResult, interaction: discord.Interaction[Any]) -> None:
        rt = res.roundtable
        self.request_refresh(rt.guild_id, rt.id)
        await self.sync_mirror(rt)
        self._notify_now(rt.guild_id, res.notice_key)

    @acknowledge_first()
    @app_commands.command(
        name="cancel", description="Host or moderator: cancel the next meeting or the whole series"
    )
    @app_commands.describe(id="The roundtable", occurrence="Only the next meeting, or all")
    @app_commands.autocomplete(id=rt_autocomplete)
    @app_commands.choices(occurrence=[app_commands.Choice(name=n, value=v) for n, v in
                                      ((N_("only the next meeting"), "this"),
                                       (N_("the whole roundtable"), "all"))])
    async def cancel(self, interaction: discord.Interaction[Any], id: int, occurrence: str = "all") -> None:
        assert interaction.guild_id is not None
        res = await self.svc.cancel(interaction.guild_id, id, interaction.user.id,
                                    is_moderator=await self._is_mod(interaction), scope=occurrence,
                                    notify_channel=interaction.channel_id)
        await self._after_change(res, interaction)
        lang, n, title = lang_for_interaction(interaction), len(res.going), E.title_line(res.roundtable)
        if res.whole_series:
            text = nt(lang, "Cancelled the whole roundtable **{title}**; {n} member going was notified and "
                            "its "
                            "reminders are off.",
                      "Cancelled the whole roundtable **{title}**; {n} members going were notified and its "
                      "reminders are off.", n, title=title)
        else:
            text = nt(lang, "Cancelled the next meeting of **{title}**; {n} member going was notified and "
                            "its "
                            "reminders are off.",
                      "Cancelled the next meeting of **{title}**; {n} members going were notified and its "
                      "reminders are off.", n, title=title)
        await reply(interaction, text)

    @acknowledge_first()
    @app_commands.command(name="notes", description="Host or moderator: store and post the meeting's summary")
    @app_commands.describe(id="The roundtable", text="Summary / notes (up to 4,000 characters)")
    @app_commands.autocomplete(id=rt_autocomplete)
    async def notes(
        self, interaction: discord.Interaction[Any], id: int, text: app_commands.Range[str, 1, 4000]
    ) -> None:
        assert interaction.guild_id is not None
        rt, note, occ_start = await self.svc.add_notes(
            interaction.guild_id, id, interaction.user.id, text, is_moderator=await self._is_mod(interaction)
        )
        channel_id = await self._announce_channel(rt.guild_id, rt.channel_id or interaction.channel_id)
        lang, title = lang_for_interaction(interaction), E.title_line(rt)
        text = t(lang, "Notes saved for **{title}**.", title=title)
        channel = f"<#{channel_id}>"
        if channel_id:
            post_lang = await self.bot.languages.for_guild(rt.guild_id)
            try:
                await self.bot.post(channel_id, embeds=[E.notes_embed(rt, note, occ_start, lang=post_lang)])
                text = t(lang, "Notes saved for **{title}** and posted in {channel}.", title=title,
                         channel=channel)
            except discord.HTTPException as exc:
                text = t(lang, "Notes saved for **{title}**; I couldn't post them in {channel} ({error}).",
                         title=title, channel=channel, error=exc.status)
        await reply(interaction, text)

    @app_commands.command(
        name="attendees", description="Host or moderator: every answer to every meeting, as CSV"
    )
    @app_commands.describe(id="The roundtable")
    @app_commands.autocomplete(id=rt_autocomplete)
    @expensive(*EXPORT_LIMIT)
    async def attendees(self, interaction: discord.Interaction[Any], id: int) -> None:
        assert interaction.guild_id is not None
        is_mod = await self._is_mod(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        rt, n, data = await self.svc.attendee_export(interaction.guild_id, id, interaction.user.id,
                                                     is_moderator=is_mod, names=lookup_for(interaction.guild))
        lang = lang_for_interaction(interaction)
        if not n:
            await reply(interaction, t(lang, "Nobody has answered **{title}** yet.", title=E.title_line(rt)))
            return
        await reply(interaction, nt(lang, "{n} answer to **{title}** (CSV).",
                                    "{n} answers to **{title}** (CSV).",
                                    n, title=E.title_line(rt)),
                    file=upload(f"roundtable-{rt.id}-attendees.csv", data))

    @app_commands.command(name="ics", description="Download a calendar file (.ics) for a roundtable")
    @app_commands.describe(id="The roundtable")
    @app_commands.autocomplete(id=rt_autocomplete)
    @expensive(*ICS_LIMIT)
    async def ics(self, interaction: discord.Interaction[Any], id: int) -> None:
        assert interaction.guild_id is not None
        rt = await self.svc.get(interaction.guild_id, id)
        occ = await self.svc.next_occurrence(rt)
        going = occ is not None and (
            await self.svc.status_of(rt.guild_id, rt.id, occ.key, interaction.user.id)) == "going"
        data = build_ics(
            rt,
            await self.svc.overrides(rt),
            include_link=going or interaction.user.id == rt.host_id,
            now=self.svc.now(),
            lang=lang_for_interaction(interaction),
        )
        file = upload(f"roundtable-{rt.id}.ics", data)
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Calendar file for **{title}** (import it in Google Calendar, Outlook or "
                                   "Apple Calendar).", title=E.title_line(rt)), file=file)

    @app_commands.command(name="findtime", description="Find times when every city is within working hours")
    @app_commands.describe(
        cities="2–10 cities or IANA zones, separated by `;` (or commas), e.g. `Seoul; Paris; Los Angeles`",
        duration="Meeting length (default 1 h)", within_days="How many days ahead to look (default 14)",
        hours="Working hours in every city, 24-hour clock (default 09-18), e.g. `08:30-17:00`",
        allow_early_late="Also offer times up to 2 hours before or after the working hours",
    )
    @expensive(*FINDTIME_LIMIT)
    async def findtime(
        self,
        interaction: discord.Interaction[Any],
        cities: app_commands.Range[str, 1, 500],
        duration: app_commands.Range[str, 1, 40] | None = None,
        within_days: app_commands.Range[int, 1, 30] = 14,
        hours: app_commands.Range[str, 1, 20] | None = None,
        allow_early_late: bool = False,
    ) -> None:
        assert interaction.guild_id is not None
        parts = [p.strip() for p in (cities.split(";") if ";" in cities else cities.split(",")) if p.strip()]
        if not 2 <= len(parts) <= 10:
            raise InvalidInput(
                N_("Give two to ten cities or time zones, separated by `;`, e.g. `Seoul; Paris`."))
        window = parse_hours(hours) if hours else (DAY_START, DAY_END)
        found = [await self.bot.features.places.resolve_place_country(p, guild_id=interaction.guild_id)
                 for p in parts]
        minutes = self._minutes(duration) if duration else 60
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.svc.now()
        weekends = [place_weekend(zone, country) for _label, zone, country in found]
        places = [(label, zone) for label, zone, _country in found]
        slots = find_slots([tz for _, tz in places], duration=timedelta(minutes=minutes), now=now,
                           within_days=within_days, weekends=weekends, hours=window,
                           allow_early_late=allow_early_late)
        lang = lang_for_interaction(interaction)
        grid = grid_data(
            [(E.findtime_row_label(label, zone), zone, w)
             for (label, zone), w in zip(places, weekends, strict=True)],
            slots, now=now, within_days=within_days, hours=window,
            title=E.findtime_picture_title(places, lang=lang),
            subtitle=E.findtime_picture_subtitle(window, within_days, shown_days(within_days), lang=lang),
            alt=E.findtime_alt(places, slots, shown_days(within_days), window, lang=lang),
            legend=E.findtime_legend(lang=lang),
        )
        picture = await self.bot.pictures.render(
            f"findtime:{interaction.user.id}", interaction.guild_id, grid, draw_findtime
        )
        embed = E.findtime_embed(
            places, slots, minutes, within_days, hours=window, early_late=allow_early_late, lang=lang
        )
        embed.set_image(url=f"attachment://{picture.filename}")
        view = None
        if slots:
            view = FindtimePollView(interaction.user.id, self._poll_poster(places, slots[:10]), lang=lang)
        await reply(interaction, embed=embed, file=picture_file(picture), view=view)

    def _poll_poster(self, places: Sequence[tuple[str, str]], slots: Sequence[Slot]) -> PollPoster:
        """What "Post as poll" does: the top slots as a Discord poll in the channel, open until the first
        slot begins (at least an hour, at most a week)."""

        async def post(interaction: discord.Interaction[Any]) -> str:
            assert interaction.guild_id is not None and interaction.channel_id is not None
            until_first = min(s.start for s in slots) - self.svc.now()
            hours = max(1, min(POLL_HOURS_MAX, int(until_first.total_seconds() // 3600)))
            lang = await self.bot.languages.for_guild(interaction.guild_id)  # a post: the server's language
            poll = discord.Poll(
                question=E.poll_question(places, lang=lang), duration=timedelta(hours=hours), multiple=True
            )
            for answer in E.poll_answers(slots, lang=lang):
                poll.add_answer(text=answer)
            try:
                await self.bot.post(interaction.channel_id,
                                    E.poll_content(slots, interaction.user.id, lang=lang),
                                    poll=poll, guild_id=interaction.guild_id)
            except discord.Forbidden as exc:
                raise InvalidInput(N_("I can't post a poll in this channel (I need Send Messages and Send "
                                      "Polls here). Ask a moderator, or run findtime in another "
                                      "channel.")) from exc
            return E.poll_posted(interaction.channel_id, hours, lang=lang_for_interaction(interaction))

        return post

    @acknowledge_first()
    @app_commands.command(name="reminders", description="Turn roundtable reminder DMs on or off for you")
    @app_commands.describe(state="on: DM me before meetings I'm going to; off: channel reminders only")
    @app_commands.choices(state=[app_commands.Choice(name=n, value=n) for n in ("on", "off")])
    async def reminders(self, interaction: discord.Interaction[Any], state: str) -> None:
        assert interaction.guild_id is not None
        await self.svc.set_reminders(interaction.guild_id, interaction.user.id, state == "on")
        lang = lang_for_interaction(interaction)
        offs = ", ".join(offset_label(o) for o in await self.svc.offsets(interaction.guild_id))
        if state == "on":
            await reply(
                interaction,
                t(lang, "Reminder DMs are **on**: I'll DM you {times} before meetings you're going to "
                        "(make sure your DMs from server members are open).", times=offs),
            )
        else:
            await reply(
                interaction,
                t(lang, "Reminder DMs are **off**. You'll still be mentioned in the channel reminder."),
            )

    @acknowledge_first()
    @app_commands.command(
        name="reminder-times", description="Server admins: when reminders go out (e.g. `24h, 15m`)"
    )
    @app_commands.describe(times="One to four times before the start, e.g. `24h, 15m` or `2d, 1h`")
    @manage_guild_only()
    async def reminder_times(
        self, interaction: discord.Interaction[Any], times: app_commands.Range[str, 1, 100]
    ) -> None:
        assert interaction.guild_id is not None
        mins: list[int] = []
        for part in times.replace(";", ",").split(","):
            if part.strip():
                mins.append(int(parse_duration(part.strip()).total_seconds() // 60))
        await self.bot.settings.set(interaction.guild_id, OFFSETS_KEY, mins, actor_id=interaction.user.id)
        n = 0
        for rt in await self.svc.list_upcoming(interaction.guild_id, limit=10_000):
            await self.svc.reschedule_jobs(rt)
            n += 1
        lang = lang_for_interaction(interaction)
        offs = ", ".join(offset_label(o) for o in await self.svc.offsets(interaction.guild_id))
        await reply(
            interaction, nt(lang, "Reminders now go out {times} before each meeting "
                                  "({n} roundtable rescheduled).",
                            "Reminders now go out {times} before each meeting ({n} roundtables rescheduled).",
                            n, times=offs)
        )

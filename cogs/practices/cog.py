"""/practice: share, curate, search and show best practices.

Why this file is over 700 lines: it is the Discord side of fourteen subcommands plus the decision
notices and announcements they enqueue; every rule, query and piece of text lives elsewhere (library.py,
ranking.py, embeds.py, views.py). Each command is a few lines of parse, check, call and draw."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    EXPORT_LIMIT,
    SEARCH_LIMIT,
    check_creation,
    creation_limit,
    expensive,
    guild_only_check,
    is_moderator,
    moderator_only,
    require_moderator,
)
from bot.embeds import choice_name, clip, make_embed
from bot.errors import InvalidInput, NotFound, UserFacingError, Value
from bot.export import Column, json_records, member_ids, write_csv, write_json
from bot.i18n import N_, Msg, nt, render, t
from bot.interactions import NO_MENTIONS, acknowledge, acknowledge_first, reply
from bot.member_names import member_names
from bot.paging import paginate
from bot.retention import FORMER_MEMBER
from bot.scheduler import Job, PermanentJobError, SkipJob, reason_text
from bot.settings import setup_hint
from bot.translator import lang_for_interaction
from bot.ui import Confirm, picture_file, upload
from cogs.practices import embeds as draw
from cogs.practices.glossary import load_default as load_glossary
from cogs.practices.pictures import draw_chart, draw_map
from cogs.practices.service import (
    ANNOUNCE_KIND,
    NOTICE_KIND,
    OPEN_STATUSES,
    TOPICS,
    Draft,
    Meta,
    Practice,
    PracticeService,
    SearchFilters,
    announce_key,
    clean_text,
    notice_key,
    parse_links,
    parse_sdgs,
    parse_topics,
    topic_id,
    topic_key,
    validate_draft,
    validate_meta,
)
from cogs.practices.stemming import LANGUAGE_NAMES, LANGUAGES, locale_language
from cogs.practices.views import (
    CityPick,
    PracticeModal,
    QueuePaginator,
    ReviewButton,
    VoteButton,
    city_modal,
    review_view,
    search_paginator,
    vote_view,
)

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

_MENTION = re.compile(r"^\s*<@!?([0-9]{15,19})>\s*(?:[,;:-]\s*(.*))?$", re.S)  # a snowflake fits in int64
# Read-only connections that serve /practice search in parallel (one per core, at most 4).
SEARCH_READERS = min(4, os.cpu_count() or 2)

CITY_AS_TYPED = N_("The city is kept as you typed it (it isn't in the directory).")
# What a job the decision enqueued says when it can't deliver (the moderator reads it in their language;
# the scheduler keeps the English text).
NO_REVIEW_CHANNEL_TO_REACH = Msg(
    "I couldn't reach the submitter: their DMs are closed and there is no review channel ({hint}).",
    hint=setup_hint("review_channel_id"))
SUBMITTER_UNREACHABLE = Msg("I couldn't reach the submitter (DMs closed, review channel unavailable).")
NO_ANNOUNCEMENTS_CHANNEL = Msg("No announcements channel is set, so it was not announced ({hint}).",
                               hint=setup_hint("announcements_channel_id"))
ANNOUNCEMENT_REFUSED = Msg(
    "I couldn't post the announcement (check my permissions in the announcements channel).")
# How a job run at once went, per job: (still sending, Discord refused for now).
DELIVERY_NOTES = {
    "notice": (N_("I'm sending the submitter's notice in the background."),
               N_("Discord didn't take the submitter's notice yet; I'll retry it shortly.")),
    "announcement": (N_("I'm sending the announcement in the background."),
                     N_("Discord didn't take the announcement yet; I'll retry it shortly.")),
}


def job_note(lang: str, detail: object) -> str:
    """A job's result or the reason it did not deliver, in `lang` (a known reason is translated)."""
    if isinstance(detail, Msg):
        return render(lang, detail)
    return reason_text(lang, str(detail or ""))


def _member_mention_or_text(text: str | None) -> tuple[int | None, str | None]:
    if not text or not text.strip():
        return None, None
    m = _MENTION.match(text)
    if m and int(m.group(1)) < 2**63:
        return int(m.group(1)), (m.group(2) or "").strip() or None
    if text.strip().isascii() and text.strip().isdigit() and 15 <= len(text.strip()) <= 19 \
            and int(text.strip()) < 2**63:
        return int(text.strip()), None
    return None, text.strip()


@app_commands.guild_only()
class Practices(commands.GroupCog, group_name="practice", group_description="The best-practice library"):
    feature_title = "Best practices"

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.service = PracticeService(bot.db, clock=bot.clock, scheduler=bot.scheduler)
        super().__init__()

    async def cog_load(self) -> None:
        await self.service.open_readers(SEARCH_READERS)
        await self.service.keep_vocabulary_loaded()  # "did you mean" without a scan per misspelling
        await asyncio.to_thread(load_glossary)  # read once, off the event loop; searches use it from memory
        self.bot.features.practices = self.service  # the city card counts approved practices
        self.bot.add_dynamic_items(ReviewButton, VoteButton)
        self.bot.status_providers.append(self._status)
        self.bot.scheduler.register(NOTICE_KIND, self._notice_job)
        self.bot.scheduler.register(ANNOUNCE_KIND, self._announce_job)

    async def cog_unload(self) -> None:
        await self.service.stop_vocabulary()
        await self.service.close_readers()
        self.bot.remove_dynamic_items(ReviewButton, VoteButton)
        self.bot.scheduler.unregister(NOTICE_KIND)
        self.bot.scheduler.unregister(ANNOUNCE_KIND)
        if self.bot.features.practices is self.service:
            self.bot.features.practices = None
        if self._status in self.bot.status_providers:
            self.bot.status_providers.remove(self._status)

    async def _status(self, guild: discord.Guild) -> list[tuple[str, str | Msg]]:
        open_n = len(await self.service.queue(guild.id))
        gs = await self.bot.settings.get(guild.id)
        line = (Msg("{n} waiting for review", n=open_n) if gs.review_channel_id is not None
                else Msg("{n} waiting for review · no review channel set ({hint})", n=open_n,
                         hint=setup_hint("review_channel_id")))
        return [(N_("Best practices"), line)]

    # -- helpers -----------------------------------------------------------------------------
    async def _city(self, guild_id: int, text: str) -> tuple[int | None, str, str | None, str]:
        """(city_id, name, country, note): the directory's city, else the text as typed (bot/places.py);
        the note is a catalog id ("" when there is nothing to say)."""
        places = self.bot.features.places
        ref = await places.resolve_city(clean_text(text), guild_id=guild_id)
        note = CITY_AS_TYPED if not ref.known and places.provider is not None else ""
        return ref.city_id, ref.name, ref.country, note

    async def _network(self, guild_id: int, text: str | None) -> tuple[int | None, str | None]:
        if not text or not text.strip():
            return None, None
        networks = self.bot.features.networks
        if networks is not None:
            try:
                net = await networks.find_network(text, guild_id=guild_id)
                return net.id, net.name
            except NotFound:
                pass
        return None, text.strip()

    async def _meta(self, interaction: discord.Interaction[Any], *, city: str, topic: str, sdgs: str | None,
                    network: str | None, year: int | None, contact: str | None, links: str | None,
                    language: str | None) -> tuple[Meta, str]:
        assert interaction.guild_id is not None
        city_id, city_name, country, note = await self._city(interaction.guild_id, city)
        net_id, net_name = await self._network(interaction.guild_id, network)
        contact_id, contact_text = _member_mention_or_text(contact)
        meta = Meta(
            city_name=city_name, city_id=city_id, country=country, topics=parse_topics(topic),
            sdgs=parse_sdgs(sdgs), network_id=net_id, network_name=net_name, year_started=year,
            contact_user_id=contact_id, contact_text=contact_text, links=parse_links(links),
            language=language or locale_language(interaction.locale.value),
        )
        # Check every option now, before the member types the long texts.
        return validate_meta(meta, now=self.bot.clock()), note

    async def _post_review_card(self, guild: discord.Guild, p: Practice, lang: str, *,
                                resubmitted: bool = False) -> str:
        """Post the review card (in the server's language); returns a note for the submitter (in `lang`)."""
        gs = await self.bot.settings.get(guild.id)
        if gs.review_channel_id is None:
            return t(lang, "Moderators have no review channel yet, so they will find it with "
                           "`/practice queue` (an admin sets one with {hint}).",
                     hint=render(lang, setup_hint("review_channel_id")))
        similar = await self.service.similar(guild.id, p.title, city_id=p.city_id, city_name=p.city_name,
                                             exclude_id=p.id)
        server = await self.bot.languages.for_guild(guild.id)
        try:
            msg = await self.bot.post(gs.review_channel_id, embeds=[draw.review_card(
                p, similar=similar, resubmitted=resubmitted, lang=server)], view=review_view(p, server))
        except discord.HTTPException:
            log.warning(
                "could not post review card for practice %s in guild %s", p.id, guild.id, exc_info=True
            )
            return t(lang, "I couldn't post it in the review channel; moderators will find it with "
                           "`/practice queue`.")
        await self.service.set_review_message(guild.id, p.id, msg.channel.id, msg.id)
        return t(lang, "Moderators have been notified in the review channel.")

    # -- decisions ---------------------------------------------------------------------------
    async def run_decision(self, interaction: discord.Interaction[Any], practice_id: int, action: str, *,
                           reason: str | None, version: int | None) -> None:
        assert interaction.guild is not None
        await require_moderator(interaction)
        await acknowledge(interaction)  # buttons and reason forms come here too
        p = await self.service.decide(interaction.guild.id, practice_id, actor_id=interaction.user.id,
                                      action=action, reason=reason, expected_version=version)
        lang = lang_for_interaction(interaction)
        notes = await self.after_decision(interaction.guild, p, lang)
        await reply(interaction, t(lang, "Practice #{id} is now **{status}**. {notes}", id=p.id,
                                   status=draw.status_label(p.status, lang), notes=notes).strip())

    async def after_decision(self, guild: discord.Guild, p: Practice, lang: str) -> str:
        """Update the review card (in the server's language), then deliver what the decision enqueued (the
        submitter's notice, the announcement of an approval) at once. Returns notes for the moderator, in
        `lang`."""
        if p.review_channel_id and p.review_message_id:
            server = await self.bot.languages.for_guild(guild.id)
            try:
                await self.bot.get_partial_messageable(p.review_channel_id).get_partial_message(
                    p.review_message_id).edit(embeds=[draw.decided_card(p, server)], view=None,
                                              allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                log.info("could not update review card of practice %s", p.id, exc_info=True)
        notes = [
            await self._deliver_now(guild.id, notice_key(p.id, p.version), "notice", lang)
            if p.submitter_id != FORMER_MEMBER
            else t(lang, "Its submitter is a former member, so nobody was told.")
        ]
        if p.status == "approved":
            key = announce_key(p.id, p.version)
            notes.append(await self._deliver_now(guild.id, key, "announcement", lang))
        return " ".join(n for n in notes if n)

    async def _deliver_now(self, guild_id: int, key: str, what: str, lang: str) -> str:
        """Run a job the decision enqueued now; a note saying how it went (in `lang`)."""
        outcome = await self.bot.scheduler.run_now(guild_id, key)
        sending, later = DELIVERY_NOTES[what]
        if outcome is None:
            return t(lang, sending)
        status, detail = outcome
        if status == "retry":
            return t(lang, later)
        return job_note(lang, detail)

    async def _decided(self, job: Job) -> Practice:
        try:
            p = await self.service.get(job.guild_id, int(job.payload["practice"]))
        except NotFound:
            raise SkipJob(Msg(N_("the practice no longer exists"))) from None
        if p.version != int(job.payload["version"]):
            raise SkipJob(Msg(N_("the practice changed again since this decision")))
        return p

    async def _notice_job(self, job: Job) -> Msg:
        """Tell the submitter the decision: by DM, else with a mention in the review channel."""
        p = await self._decided(job)
        guild = self.bot.get_guild(job.guild_id)
        name = guild.name if guild is not None else None
        theirs = await self.bot.languages.for_member(job.guild_id, p.submitter_id)
        text = draw.decision_message(p, name, theirs)
        if await self.bot.dm(p.submitter_id, text, nonce=job.nonce_for(f"dm:{p.submitter_id}")):
            return Msg("The submitter was told by DM.")
        target = (await self.bot.settings.get(job.guild_id)).review_channel_id
        if not target:
            raise SkipJob(NO_REVIEW_CHANNEL_TO_REACH)
        server = await self.bot.languages.for_guild(job.guild_id)
        try:
            await self.bot.post(
                target,
                f"<@{p.submitter_id}> {draw.decision_message(p, name, server)}",
                nonce=job.nonce_for(f"channel:{target}"),
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[discord.Object(p.submitter_id)]
                ),
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            raise PermanentJobError(SUBMITTER_UNREACHABLE) from exc
        return Msg("The submitter's DMs are closed, so I mentioned them in the review channel.")

    async def _announce_job(self, job: Job) -> Msg:
        """Announce an approved practice in the announcements channel, with a thread for questions."""
        p = await self._decided(job)
        if p.announce_message_id:  # posted and recorded before the process stopped
            posted_in = f"<#{p.announce_channel_id}>"
            return Msg("Announced in {channel}.", channel=posted_in)
        channel_id = (await self.bot.settings.get(job.guild_id)).announcements_channel_id
        if channel_id is None:
            raise SkipJob(NO_ANNOUNCEMENTS_CHANNEL)
        server = await self.bot.languages.for_guild(job.guild_id)
        try:
            msg = await self.bot.post(channel_id, embeds=[draw.announcement_embed(p, server)],
                                      view=vote_view(p.id, lang=server),
                                      nonce=job.nonce_for(f"channel:{channel_id}"))
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("announcement of practice %s failed", p.id, exc_info=True)
            raise PermanentJobError(ANNOUNCEMENT_REFUSED) from exc
        thread_id: int | None = None
        posted_in = f"<#{channel_id}>"
        note = Msg("Announced in {channel}.", channel=posted_in)
        try:
            # bot.post() sends through a PartialMessageable without guild info, and discord.py refuses
            # to open a thread on such a message: address the same message with its guild attached.
            anchor = self.bot.get_partial_messageable(
                msg.channel.id, guild_id=job.guild_id
            ).get_partial_message(msg.id)
            try:
                thread: discord.abc.Messageable = await anchor.create_thread(
                    name=clip(f"#{p.id} {' '.join(p.title.split())}", 100), auto_archive_duration=10080)
            except discord.HTTPException as exc:
                if exc.code != 160004:  # not "a thread has already been created for this message" (a resend)
                    raise
                thread = self.bot.get_partial_messageable(msg.id, guild_id=job.guild_id)  # it shares the id
            thread_id = msg.id
            contact = f"<@{p.contact_user_id}>" if p.contact_user_id else draw.contact_line(p, server)
            await thread.send(t(server, "Questions about this practice? Ask here. Contact: {contact}",
                                contact=contact),
                              allowed_mentions=NO_MENTIONS, nonce=job.nonce_for("thread"))
        except discord.HTTPException:
            log.info("could not open a thread on the announcement of practice %s", p.id, exc_info=True)
            note = Msg("Announced in {channel}. I couldn't open a thread on it "
                       "(missing Create Public Threads?).", channel=posted_in)
        await self.service.set_announcement(job.guild_id, p.id, msg.channel.id, msg.id, thread_id)
        return note

    # -- votes -------------------------------------------------------------------------------
    async def _refresh_votes(
        self, interaction: discord.Interaction[Any], practice_id: int, note: str
    ) -> None:
        assert interaction.guild_id is not None
        p = await self.service.get(interaction.guild_id, practice_id)
        counts = await self.service.counts(interaction.guild_id, practice_id)
        msg = interaction.message
        if msg is not None and interaction.response.type in (
            None,
            discord.InteractionResponseType.deferred_message_update,
        ):
            # the pressed message keeps its language: a post (the announcement, a public /practice show) the
            # server's, an answer only its reader sees the reader's
            announced = msg.id == p.announce_message_id
            lang = (lang_for_interaction(interaction) if msg.flags.ephemeral and not announced
                    else await self.bot.languages.for_guild(interaction.guild_id))
            embed = (draw.announcement_embed(p, lang) if announced
                     else draw.practice_embed(p, counts, lang=lang))
            view = vote_view(practice_id, counts, lang)
            if interaction.response.is_done():  # acknowledged before the write: edit the pressed message
                await interaction.edit_original_response(embed=embed, view=view)
            else:
                await interaction.response.edit_message(embed=embed, view=view)
            await interaction.followup.send(note, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await reply(interaction, note)
            if msg is not None:
                lang = await self.bot.languages.for_guild(interaction.guild_id)
                try:
                    await msg.edit(view=vote_view(practice_id, counts, lang))
                except discord.HTTPException:
                    log.debug("could not refresh vote counts", exc_info=True)

    @acknowledge_first(update=True)
    async def vote_useful(self, interaction: discord.Interaction[Any], practice_id: int) -> None:
        assert interaction.guild_id is not None
        added, counts = await self.service.endorse(interaction.guild_id, practice_id, interaction.user.id)
        lang = lang_for_interaction(interaction)
        note = (t(lang, "Thanks: marked as useful.") if added else
                t(lang, "You already marked this practice as useful.")) + " " + \
            nt(lang, "{n} member found it useful.", "{n} members found it useful.", counts.useful)
        await self._refresh_votes(interaction, practice_id, note)

    async def vote_adopt(self, interaction: discord.Interaction[Any], practice_id: int) -> None:
        assert interaction.guild_id is not None
        gid = interaction.guild_id
        lang = lang_for_interaction(interaction)
        existing = await self.service.adoption_of(gid, practice_id, interaction.user.id)
        if existing:
            await reply(interaction, t(lang, "You already recorded that {city} adopted it.",
                                       city=draw.md_line(existing, 100)))
            return
        await self.service.require_approved(gid, practice_id)
        city = await self.bot.features.places.member_city(gid, interaction.user.id)
        if city is not None:
            await acknowledge(interaction, update=True)
            added, counts = await self.service.adopt(
                gid,
                practice_id,
                interaction.user.id,
                city_id=city.city_id,
                city_name=city.name,
                country=city.country,
            )
            await self._refresh_votes(interaction, practice_id, nt(
                lang, "Recorded: {city} adopted it (from your profile). {n} adoption so far.",
                "Recorded: {city} adopted it (from your profile). {n} adoptions so far.", counts.adopted,
                city=draw.md_line(city.label, 100)))
            return
        known = await self.service.known_cities(gid, "", limit=25)
        if known:
            await reply(interaction,
                        t(lang, "Which city adopted it? (Set your city in your profile to skip this.)"),
                        view=CityPick(self, practice_id, interaction.user.id, known, lang))
        else:
            await interaction.response.send_modal(city_modal(self, practice_id, lang))

    @acknowledge_first()
    async def record_adoption(
        self, interaction: discord.Interaction[Any], practice_id: int, city: str
    ) -> None:
        assert interaction.guild_id is not None
        city_id, name, country, _ = await self._city(interaction.guild_id, city)
        added, counts = await self.service.adopt(interaction.guild_id, practice_id, interaction.user.id,
                                                 city_id=city_id, city_name=name, country=country)
        where = draw.md_line(f"{name}, {country}" if country else name, 100)
        lang = lang_for_interaction(interaction)
        text = (t(lang, "Recorded: {city} adopted practice #{id}.", city=where, id=practice_id) if added
                else t(lang, "You had already recorded an adoption of this practice."))
        so_far = nt(lang, "{n} adoption so far.", "{n} adoptions so far.", counts.adopted)
        await reply(interaction, f"{text} {so_far}")

    # -- commands: sharing and editing ------------------------------------------------------
    @app_commands.command(name="share", description="Share a practice from your city (opens a form)")
    @app_commands.describe(
        city="The city where it was done", topic="One or more topics, comma-separated",
        sdgs="SDG numbers, e.g. 11, 13", network="Related network (optional)", year="Year it started",
        contact="A member (@mention) or a name and role", links="Up to 5 http(s) links, space-separated",
        language="Language of the material (default: your Discord language)",
    )
    @guild_only_check()
    async def share(
        self, interaction: discord.Interaction[Any], city: app_commands.Range[str, 1, 100],
        topic: app_commands.Range[str, 1, 200], sdgs: app_commands.Range[str, 1, 80] | None = None,
        network: app_commands.Range[str, 1, 120] | None = None,
        year: app_commands.Range[int, 1800, 2200] | None = None,
        contact: app_commands.Range[str, 1, 200] | None = None,
        links: app_commands.Range[str, 1, 1500] | None = None,
        language: app_commands.Range[str, 1, 35] | None = None,
    ) -> None:
        await check_creation(interaction, "practice")
        meta, note = await self._meta(
            interaction,
            city=city,
            topic=topic,
            sdgs=sdgs,
            network=network,
            year=year,
            contact=contact,
            links=links,
            language=language,
        )

        async def submitted(inter: discord.Interaction[Any], draft: Draft) -> None:
            await self._share_submitted(inter, draft, meta, note)

        lang = lang_for_interaction(interaction)
        await interaction.response.send_modal(
            PracticeModal(heading=t(lang, "Share a practice"), on_done=submitted, lang=lang))

    async def _share_submitted(self, interaction: discord.Interaction[Any], draft: Draft, meta: Meta,
                               note: str) -> None:
        assert interaction.guild is not None
        lang = lang_for_interaction(interaction)
        d = validate_draft(draft)
        # another member's practices still under review stay hidden from a member who is not a moderator
        viewer = None if await is_moderator(interaction) else interaction.user.id
        similar = await self.service.similar(interaction.guild.id, d.title, city_id=meta.city_id,
                                             city_name=meta.city_name, viewer_id=viewer)
        target = interaction
        if similar:
            lines = "\n".join(f"• #{p.id} {draw.md_line(p.title, 120)} ({draw.status_label(p.status, lang)})"
                              for p in similar)
            view = Confirm(interaction.user.id, yes=t(lang, "Go on, it's different"), lang=lang)
            await interaction.response.send_message(
                embed=make_embed(
                    t(lang, "Possible duplicates"),
                    t(lang, "These practices from {city} look similar:\n{lines}\n\nSave yours anyway?",
                      city=draw.md_line(meta.city_name, 100), lines=lines),
                ),
                view=view,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            view.message = await interaction.original_response()  # so a timeout disables the buttons
            await view.wait()
            if view.value is not True or view.interaction is None:
                if view.interaction is not None:
                    await view.interaction.response.edit_message(
                        content=t(lang, "Stopped: nothing was saved."), embed=None, view=None)
                return
            target = view.interaction
            await target.response.edit_message(content=t(lang, "Saving…"), embed=None, view=None)
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        async with creation_limit(interaction, "practice"):
            p = await self.service.submit(interaction.guild.id, interaction.user.id, d, meta)
        review_note = await self._post_review_card(interaction.guild, p, lang)
        notes = " ".join(n for n in (review_note, t(lang, note) if note else "") if n)
        await reply(
            target,
            t(lang, "Thanks! Practice **#{id}** “{title}” is saved and waiting for review. {notes} "
                    "You can follow it with `/practice mine`.", id=p.id, title=draw.md_line(p.title, 150),
              notes=notes),
        )

    @app_commands.command(
        name="edit", description="Edit a practice (submitter while not approved; moderators)"
    )
    @app_commands.describe(id="The practice", city="New city", topic="New topics, comma-separated",
                           sdgs="New SDGs", network="New network", year="New start year",
                           contact="New contact", links="New links (replace all)", language="New language")
    @guild_only_check()
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        id: int,
        city: app_commands.Range[str, 1, 100] | None = None,
        topic: app_commands.Range[str, 1, 200] | None = None,
        sdgs: app_commands.Range[str, 1, 80] | None = None,
        network: app_commands.Range[str, 1, 120] | None = None,
        year: app_commands.Range[int, 1800, 2200] | None = None,
        contact: app_commands.Range[str, 1, 200] | None = None,
        links: app_commands.Range[str, 1, 1500] | None = None,
        language: app_commands.Range[str, 1, 35] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        p = await self.service.get(interaction.guild_id, id)
        mod = await is_moderator(interaction)
        self.service.check_can_edit(p, interaction.user.id, is_moderator=mod)
        meta: Meta | None = None
        note = ""
        if any(v is not None for v in (city, topic, sdgs, network, year, contact, links, language)):
            c_id, c_name, c_country, note = (await self._city(interaction.guild_id, city)) if city else (
                p.city_id, p.city_name, p.country, "")
            n_id, n_name = (await self._network(interaction.guild_id, network)) if network else (
                p.network_id, p.network_name)
            k_id, k_text = (
                _member_mention_or_text(contact) if contact else (p.contact_user_id, p.contact_text)
            )
            meta = validate_meta(
                Meta(
                    city_name=c_name,
                    city_id=c_id,
                    country=c_country,
                    topics=parse_topics(topic) if topic else p.topics,
                    sdgs=parse_sdgs(sdgs) if sdgs else p.sdgs,
                    network_id=n_id,
                    network_name=n_name,
                    year_started=year if year is not None else p.year_started,
                    contact_user_id=k_id,
                    contact_text=k_text,
                    links=parse_links(links) if links else p.links,
                    language=language or p.language,
                ),
                now=self.bot.clock(),
            )
        version = p.version

        async def still_allowed(inter: discord.Interaction[Any]) -> None:
            """The right to edit, checked again when the form is submitted (it stays open 30 minutes)."""
            assert inter.guild_id is not None
            now = await self.service.get(inter.guild_id, id)
            self.service.check_can_edit(now, inter.user.id, is_moderator=await is_moderator(inter))

        @acknowledge_first()
        async def submitted(inter: discord.Interaction[Any], draft: Draft) -> None:
            assert inter.guild is not None
            lang = lang_for_interaction(inter)
            new, resubmitted = await self.service.edit(inter.guild.id, id, actor_id=inter.user.id,
                                                       is_moderator=await is_moderator(inter), draft=draft,
                                                       meta=meta, expected_version=version)
            extra = ""
            server = await self.bot.languages.for_guild(inter.guild.id)
            if resubmitted:
                extra = t(lang, "It is back in the review queue.") + " " + await self._post_review_card(
                    inter.guild, new, lang, resubmitted=True)
            elif new.is_open and new.review_channel_id and new.review_message_id:
                # keep the card's buttons on the current version, so they decide what the moderator reads
                try:
                    await self.bot.get_partial_messageable(new.review_channel_id).get_partial_message(
                        new.review_message_id).edit(
                            embeds=[draw.review_card(new, edited=True, lang=server)],
                            view=review_view(new, server), allowed_mentions=NO_MENTIONS)
                except discord.HTTPException:
                    log.info("could not refresh the review card of practice %s", new.id, exc_info=True)
            elif new.status == "approved" and new.announce_channel_id and new.announce_message_id:
                try:
                    await self.bot.get_partial_messageable(new.announce_channel_id).get_partial_message(
                        new.announce_message_id).edit(embeds=[draw.announcement_embed(new, server)])
                except discord.HTTPException:
                    log.info("could not update announcement of practice %s", new.id, exc_info=True)
            done = " ".join(n for n in (t(lang, "Practice #{id} updated.", id=new.id), extra,
                                        t(lang, note) if note else "") if n)
            await reply(inter, done)

        lang = lang_for_interaction(interaction)
        await interaction.response.send_modal(
            PracticeModal(
                heading=t(lang, "Edit practice #{id}", id=p.id), on_done=submitted, draft=p.draft,
                guard=still_allowed, lang=lang,
            )
        )

    # -- commands: moderation ---------------------------------------------------------------
    @app_commands.command(name="queue", description="Moderators: practices waiting for review, oldest first")
    @moderator_only()
    async def queue(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        items = await self.service.queue(interaction.guild_id)
        lang = lang_for_interaction(interaction)
        if not items:
            await reply(interaction, t(lang, "The review queue is empty. 🎉"))
            return
        pages = [draw.review_card(p, lang=lang) for p in items]
        await QueuePaginator(pages, items, interaction.user.id).start(interaction)

    @acknowledge_first()
    @app_commands.command(name="approve", description="Moderators: approve a practice")
    @app_commands.describe(id="The practice")
    @moderator_only()
    async def approve(self, interaction: discord.Interaction[Any], id: int) -> None:
        await self.run_decision(interaction, id, "approve", reason=None, version=None)

    @acknowledge_first()
    @app_commands.command(name="reject", description="Moderators: reject a practice, with a reason")
    @app_commands.describe(id="The practice", reason="Why (the submitter reads it)")
    @moderator_only()
    async def reject(self, interaction: discord.Interaction[Any], id: int,
                     reason: app_commands.Range[str, 1, 1000]) -> None:
        await self.run_decision(interaction, id, "reject", reason=reason, version=None)

    @acknowledge_first()
    @app_commands.command(name="request-changes", description="Moderators: ask the submitter for changes")
    @app_commands.describe(id="The practice", reason="What should change (the submitter reads it)")
    @moderator_only()
    async def request_changes(self, interaction: discord.Interaction[Any], id: int,
                              reason: app_commands.Range[str, 1, 1000]) -> None:
        await self.run_decision(interaction, id, "request_changes", reason=reason, version=None)

    @acknowledge_first()
    @app_commands.command(
        name="duplicate", description="Moderators: close a practice as a duplicate of another"
    )
    @app_commands.describe(id="The duplicate", of="The original that stays")
    @moderator_only()
    async def duplicate(self, interaction: discord.Interaction[Any], id: int, of: int) -> None:
        assert interaction.guild is not None
        p = await self.service.mark_duplicate(interaction.guild.id, id, of, actor_id=interaction.user.id)
        lang = lang_for_interaction(interaction)
        notes = await self.after_decision(interaction.guild, p, lang)
        await reply(interaction, t(lang, "Practice #{id} is closed as a duplicate of #{original}. {notes}",
                                   id=p.id, original=of, notes=notes).strip())

    @acknowledge_first()
    @app_commands.command(
        name="archive", description="Moderators: take an approved practice out of the library"
    )
    @app_commands.describe(id="The practice")
    @moderator_only()
    async def archive(self, interaction: discord.Interaction[Any], id: int) -> None:
        assert interaction.guild_id is not None
        p = await self.service.archive(interaction.guild_id, id, actor_id=interaction.user.id)
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Practice #{id} “{title}” is archived: it no longer shows in search.",
                                   id=p.id, title=draw.md_line(p.title, 150)))

    @app_commands.command(name="export", description="Moderators: the approved library as a CSV or JSON file")
    @app_commands.describe(format="csv or json")
    @expensive(*EXPORT_LIMIT)
    @moderator_only()
    async def export(
        self, interaction: discord.Interaction[Any], format: Literal["csv", "json"] = "csv"
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        rows = await self.service.export_rows(interaction.guild_id)
        lang = lang_for_interaction(interaction)
        if not rows:
            await reply(interaction, t(lang, "The library has no approved practice to export yet."))
            return
        names = await member_names(interaction.guild, member_ids(rows, PRACTICE_COLUMNS)) \
            if interaction.guild is not None else {}
        file = upload(f"practices-{interaction.guild_id}.{format}", export_bytes(rows, format, names))
        await reply(interaction, nt(lang, "{n} approved practice.", "{n} approved practices.", len(rows)),
                    file=file)

    # -- commands: everyone ----------------------------------------------------------------------
    @app_commands.command(name="search", description="Search the approved practices")
    @app_commands.describe(query="Words to look for (typos are forgiven)", topic="Only this topic",
                           sdg="Only this SDG", city="Only this city", network="Only this network",
                           language="Only practices written in this language")
    @app_commands.choices(topic=[app_commands.Choice(name=t, value=t) for t in TOPICS],
                          language=[app_commands.Choice(name=LANGUAGE_NAMES[code], value=code)
                                    for code in LANGUAGES])
    @expensive(*SEARCH_LIMIT)
    @guild_only_check()
    async def search(
        self, interaction: discord.Interaction[Any], query: app_commands.Range[str, 1, 200] | None = None,
        topic: str | None = None, sdg: app_commands.Range[int, 1, 17] | None = None,
        city: app_commands.Range[str, 1, 100] | None = None,
        network: app_commands.Range[str, 1, 120] | None = None, language: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        filters = SearchFilters(topic=topic, sdg=sdg, language=language)
        if city:
            c_id, c_name, _, _ = await self._city(interaction.guild_id, city)
            filters = replace(filters, city_id=c_id, city_name=c_name)
        if network:
            n_id, n_name = await self._network(interaction.guild_id, network)
            filters = replace(filters, network_id=n_id, network_name=n_name)
        result = await self.service.search(interaction.guild_id, query, filters)
        lang = lang_for_interaction(interaction)
        if not result.hits:
            await reply(interaction, draw.no_results_message(query, result, lang))
            return
        await search_paginator(self.service, result, query, interaction.user.id, lang).start(interaction)

    @app_commands.command(name="show", description="Show a practice in full, with Useful / Adopted buttons")
    @app_commands.describe(
        id="The practice", public="Post it in the channel for everyone (default: only you)"
    )
    @guild_only_check()
    async def show(self, interaction: discord.Interaction[Any], id: int, public: bool = False) -> None:
        assert interaction.guild_id is not None
        p = await self.service.get(interaction.guild_id, id)
        if (
            p.status != "approved"
            and p.submitter_id != interaction.user.id
            and not await is_moderator(interaction)
        ):
            raise NotFound(N_("Practice #{id} is not in the library (it may be under review or archived)."),
                           id=Value(str(id)))
        counts = await self.service.counts(interaction.guild_id, id)
        shown = public and p.status == "approved"
        lang = (await self.bot.languages.for_guild(interaction.guild_id) if shown
                else lang_for_interaction(interaction))
        view = vote_view(p.id, counts, lang) if p.status == "approved" else None
        await reply(interaction, embed=draw.practice_embed(p, counts, lang=lang), view=view,
                    ephemeral=not (public and p.status == "approved"))

    @app_commands.command(name="mine", description="Your submissions and their status")
    @guild_only_check()
    async def mine(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        items = await self.service.mine(interaction.guild_id, interaction.user.id)
        lang = lang_for_interaction(interaction)
        if not items:
            await reply(interaction, t(lang, "You haven't shared a practice yet. Use `/practice share`."))
            return
        await paginate(interaction, draw.list_pages(t(lang, "Your practices"), items, lang=lang))

    @app_commands.command(
        name="stats", description="What the library holds by topic, SDG, country and region"
    )
    @guild_only_check()
    async def stats(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        gid, name = interaction.guild.id, interaction.guild.name
        lang = lang_for_interaction(interaction)
        s = await self.service.stats(gid)
        where = await self.service.library_map(gid)
        pictures = self.bot.pictures
        # one cached picture per language (English keeps the plain kind): members reading in different
        # languages don't redraw each other's
        suffix = "" if lang == "en" else f":{lang}"
        chart = await pictures.render(f"practice-chart{suffix}", gid, draw.stats_chart_data(s, name, lang),
                                      draw_chart)
        world = await pictures.render(f"practice-map{suffix}", gid, draw.stats_map_data(where, name, lang),
                                      draw_map)
        await reply(interaction, embed=draw.stats_embed(s, name, lang),
                    files=[picture_file(chart), picture_file(world)])

    # -- autocomplete ---------------------------------------------------------------------------
    async def _id_choices(self, interaction: discord.Interaction[Any], current: str,
                          statuses: tuple[str, ...] | None) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        # titles under review, rejected or archived: only the submitter's own, unless a moderator asks
        viewer = None if await is_moderator(interaction) else interaction.user.id
        rows = await self.service.autocomplete(
            interaction.guild_id, current, statuses=statuses, viewer_id=viewer
        )
        lang = lang_for_interaction(interaction)
        return [app_commands.Choice(name=choice_name(f"#{pid} {title} ({draw.status_label(st, lang)})"),
                                    value=pid) for pid, title, st in rows]

    @approve.autocomplete("id")
    @reject.autocomplete("id")
    @request_changes.autocomplete("id")
    async def open_id_autocomplete(self, interaction: discord.Interaction[Any],
                                   current: str) -> list[app_commands.Choice[int]]:
        return await self._id_choices(interaction, current, OPEN_STATUSES)

    @show.autocomplete("id")
    @archive.autocomplete("id")
    async def approved_id_autocomplete(self, interaction: discord.Interaction[Any],
                                       current: str) -> list[app_commands.Choice[int]]:
        return await self._id_choices(interaction, current, ("approved",))

    @edit.autocomplete("id")
    @duplicate.autocomplete("id")
    @duplicate.autocomplete("of")
    async def any_id_autocomplete(self, interaction: discord.Interaction[Any],
                                  current: str) -> list[app_commands.Choice[int]]:
        return await self._id_choices(interaction, current, None)

    @share.autocomplete("city")
    @search.autocomplete("city")
    @edit.autocomplete("city")
    async def city_autocomplete(self, interaction: discord.Interaction[Any],
                                current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        places = self.bot.features.places
        if places.provider is not None:
            cities = await places.city_choices(current, guild_id=interaction.guild_id, limit=25)
            return [app_commands.Choice(name=choice_name(c.label), value=str(c.city_id)) for c in cities]
        names = await self.service.known_cities(interaction.guild_id, current)
        return [app_commands.Choice(name=choice_name(n), value=n[:100]) for n in names]

    @share.autocomplete("network")
    @search.autocomplete("network")
    @edit.autocomplete("network")
    async def network_autocomplete(self, interaction: discord.Interaction[Any],
                                   current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        networks = self.bot.features.networks
        if networks is not None:
            try:
                nets = await networks.network_choices(current, guild_id=interaction.guild_id, limit=25)
            except UserFacingError:
                return []
            return [app_commands.Choice(name=choice_name(n.label), value=str(n.id)) for n in nets]
        names = await self.service.known_networks(interaction.guild_id, current)
        return [app_commands.Choice(name=choice_name(n), value=n[:100]) for n in names]

    @share.autocomplete("topic")
    @edit.autocomplete("topic")
    async def topic_autocomplete(self, interaction: discord.Interaction[Any],
                                 current: str) -> list[app_commands.Choice[str]]:
        """Topics by their names in the member's language; the value lists their ids (what parse_topics reads
        best), after those already chosen (typed by id or by name in any language)."""
        lang = lang_for_interaction(interaction)
        head, _, last = current.rpartition(",")
        chosen = [(topic_id(x), x.strip()) for x in head.split(",") if x.strip()]
        ids = [tid or raw for tid, raw in chosen]
        names = [t(lang, tid) if tid else raw for tid, raw in chosen]
        typed = topic_key(last)
        out = []
        for topic in TOPICS:
            local = t(lang, topic)
            if topic in ids or (typed and typed not in topic_key(local) and typed not in topic):
                continue
            value = ", ".join([*ids, topic])
            if len(value) <= 100:
                out.append(app_commands.Choice(name=choice_name(", ".join([*names, local])), value=value))
        return out[:25]


PRACTICE_COLUMNS: list[Column | str] = [
    "id", "title", "summary", "approach", "results", "lessons", "city", "city_id", "country",
    "topics", "sdgs", "network", "network_id", "year_started", Column("contact_user_id", "member"),
    "contact", "links", "language", Column("submitter_id", "member"), "approved_at", "useful", "adopted",
]


def export_bytes(rows: list[dict[str, Any]], fmt: str, names: dict[int, str] | None = None) -> bytes:
    """UTF-8 file bytes, one row per practice; topics/SDGs/links as lists (JSON) or `;`-joined (CSV).

    CSV through the shared writer (bot.export: formulas neutralised, ids as text, names beside them);
    JSON with Discord ids as strings."""
    if fmt == "json":
        return write_json(json_records(PRACTICE_COLUMNS, rows, names=names))
    if fmt != "csv":
        raise InvalidInput(N_("Export format is csv or json."))
    return write_csv(PRACTICE_COLUMNS, rows, names=names)

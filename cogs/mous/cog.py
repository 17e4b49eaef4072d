"""/mou: agreements between cities, their renewals, milestones and reminders (thin glue)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    EXPORT_LIMIT,
    ICS_LIMIT,
    check_creation,
    creation_limit,
    expensive,
    is_moderator,
    moderator_only,
)
from bot.embeds import choice_name, make_embed, md_line, one_line
from bot.fanout import Deliveries, message_nonce
from bot.i18n import N_, Msg, format_list, format_number, nt, render, t, weekday_name
from bot.interactions import acknowledge_first, reply
from bot.member_names import lookup_for
from bot.paging import paginate
from bot.scheduler import Job, PermanentJobError, SkipJob
from bot.settings import setup_hint
from bot.translator import lang_for_interaction
from bot.ui import picture_file, upload
from cogs.mous import embeds as E
from cogs.mous import planning as P
from cogs.mous.ics import DeadlineFeed, build_ics
from cogs.mous.pictures import draw_timeline
from cogs.mous.service import (
    KIND_LABELS,
    OWNER_NOTICE_KIND,
    SETTING_SPECS,
    Actor,
    MouService,
    ReminderContext,
)
from cogs.mous.views import AddModal, LeaveOwnerButton, owner_notice_view

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

TIMELINE_MIN_DAYS = 90  # the timeline shows at least the coming three months
DIGEST_TIMELINE_DAYS = 90  # the digest's timeline: what expires in the next 90 days, as the digest lists

KIND_CHOICES = [app_commands.Choice(name=KIND_LABELS[k], value=k) for k in P.KINDS]
STATUS_CHOICES = [app_commands.Choice(name=s, value=s) for s in P.STATUSES]
SETTABLE_STATUS = [
    app_commands.Choice(name=s, value=s) for s in P.STATUSES if s not in ("renewed", "terminated")
]
ESIGN_CHOICES = [app_commands.Choice(name=s, value=s) for s in P.ESIGN_STATUSES]
MODE_CHOICES = [app_commands.Choice(name=s, value=s) for s in P.SIGNATURE_MODES]
DAY_CHOICES = [app_commands.Choice(name=d.title(), value=i) for i, d in enumerate(P.WEEKDAYS)]


def stale_reminder(job: Job, now: Any) -> bool:
    """A reminder more than a day late (the bot was down) is skipped rather than posted late."""
    return bool(now - job.original_due_at > P.STALE_AFTER)


@app_commands.guild_only()
class Mous(
    commands.GroupCog, group_name="mou", group_description="Agreements between cities: MOUs, sister cities"
):
    feature_title = "MOU tracker"

    party = app_commands.Group(name="party", description="Parties (cities) to an agreement")
    milestone = app_commands.Group(name="milestone", description="Milestones of an agreement")
    owner = app_commands.Group(name="owner", description="Members responsible for an agreement")

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.svc = MouService(bot.db, bot.scheduler, bot.settings, places=bot.features.places)
        self.feed = DeadlineFeed(self.svc, language=bot.languages.for_member)
        self.deliveries = Deliveries(bot.db, clock=bot.clock)
        self._startup: asyncio.Task[None] | None = None
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.features.agreements = self.svc  # the city card lists this server's agreements
        self.bot.features.agreement_calendar = self.feed  # deadlines in members' live calendar feeds
        self.bot.guild_return_hooks.append(self.svc.guild_returned)
        for spec in SETTING_SPECS:
            self.bot.settings.register(spec)
        self.bot.scheduler.register_batch(P.REMIND_KIND, self._remind_batch, stale=stale_reminder)
        self.bot.scheduler.register(P.STATUS_KIND, self._status_job)
        self.bot.scheduler.register(P.DIGEST_KIND, self._digest_job)
        self.bot.scheduler.register(OWNER_NOTICE_KIND, self._owner_notice_job)
        self.bot.add_dynamic_items(LeaveOwnerButton)
        self.bot.status_providers.append(self._status_lines)
        self.bot.settings.on_change.append(self._settings_changed)
        # Start-up: correct statuses the scheduler skipped while down and re-plan every agreement
        # against the pending jobs. In the background, so a large server does not delay login;
        # handlers load fresh state, and scheduling is an idempotent upsert, so overlap is safe.
        self._startup = asyncio.create_task(self._startup_replan(), name="mou-startup-replan")

    async def _settings_changed(self, guild_id: int, key: str) -> None:
        """The server's zone or announcements channel moved: re-plan its reminders."""
        if key in ("timezone", "announcements_channel_id") and await self.svc.has_agreements(guild_id):
            await self.svc.replan_guild(guild_id, reconcile=False)

    async def _startup_replan(self) -> None:
        try:
            stats = await self.svc.replan_all()
            log.info(
                "mou: start-up plan: %d agreements, %d re-planned (%d unchanged since their last plan); "
                "%d jobs scheduled, %d cancelled; %d status changes",
                stats.agreements,
                stats.extra.get("replanned", 0),
                stats.extra.get("skipped", 0),
                stats.scheduled,
                stats.cancelled,
                stats.status_changes,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("mou: start-up re-planning failed; reminders will be re-planned on the next change")

    async def cog_unload(self) -> None:
        if self._settings_changed in self.bot.settings.on_change:
            self.bot.settings.on_change.remove(self._settings_changed)
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
        for kind in (P.REMIND_KIND, P.STATUS_KIND, P.DIGEST_KIND, OWNER_NOTICE_KIND):
            self.bot.scheduler.unregister(kind)
        self.bot.remove_dynamic_items(LeaveOwnerButton)
        if self._status_lines in self.bot.status_providers:
            self.bot.status_providers.remove(self._status_lines)
        if self.bot.features.agreements is self.svc:
            self.bot.features.agreements = None
        if self.bot.features.agreement_calendar is self.feed:
            self.bot.features.agreement_calendar = None
        if self.svc.guild_returned in self.bot.guild_return_hooks:
            self.bot.guild_return_hooks.remove(self.svc.guild_returned)

    # -- helpers -------------------------------------------------------------------------
    async def actor(self, interaction: discord.Interaction[Any]) -> Actor:
        return Actor(interaction.user.id, await is_moderator(interaction))

    @staticmethod
    def gid(interaction: discord.Interaction[Any]) -> int:
        assert interaction.guild_id is not None
        return interaction.guild_id

    async def _status_lines(self, guild: discord.Guild) -> list[tuple[str, str]]:
        n = await self.svc.tracked_count(guild.id)
        jobs = await self.bot.scheduler.pending(guild.id, "mou:digest:")
        lang = await self.bot.languages.for_guild(guild.id)
        nxt = f"<t:{int(jobs[0].due_at.timestamp())}:f>" if jobs else t(lang, "not scheduled")
        return [(t(lang, "MOU tracker"),
                 nt(lang, "{n} agreement tracked · next digest {next}",
                    "{n} agreements tracked · next digest {next}", n, next=nxt))]

    # -- autocomplete ---------------------------------------------------------------------
    async def id_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        rows = await self.svc.search(interaction.guild_id, current)
        lang = lang_for_interaction(interaction)
        return [app_commands.Choice(name=choice_name(f"#{i} {title} ({t(lang, s)})"), value=i)
                for i, title, s in rows]

    async def city_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        pairs = await self.svc.search_cities(interaction.guild_id, current)
        return [
            app_commands.Choice(name=choice_name(label), value=value[:100]) for label, value in pairs[:25]
        ]

    # -- add ------------------------------------------------------------------------------
    @app_commands.command(name="add", description="Record an agreement between cities (a form follows)")
    @app_commands.describe(
        kind="Kind of agreement",
        title="Short title (up to 150 characters)",
        city_a="First city",
        city_b="Second city",
        signed="Date signed (YYYY-MM-DD, “in 2 weeks”…)",
        expires="Expiry date; leave out for open-ended",
        notice_days="Renewal notice period in days (default 90)",
        owner="Member responsible (default: you)",
    )
    @app_commands.choices(kind=KIND_CHOICES)
    async def add(
        self, interaction: discord.Interaction[Any], kind: app_commands.Choice[str],
        title: app_commands.Range[str, 1, 150], city_a: app_commands.Range[str, 1, 100],
        city_b: app_commands.Range[str, 1, 100], signed: app_commands.Range[str, 1, 40] | None = None,
        expires: app_commands.Range[str, 1, 40] | None = None,
        notice_days: app_commands.Range[int, 0, 3650] | None = None, owner: discord.Member | None = None,
    ) -> None:
        gid = self.gid(interaction)
        await check_creation(interaction, "agreement")
        prepared = await self.svc.prepare_create(gid, kind=kind.value, title=title, parties=[city_a, city_b],
                                                 signed=signed, expires=expires, notice_days=notice_days)
        owners = [owner.id] if owner is not None else [interaction.user.id]
        actor = await self.actor(interaction)

        async def submit(inter: discord.Interaction[Any], summary: str, focus: str, links: str) -> None:
            async with creation_limit(inter, "agreement"):
                a = await self.svc.create_prepared(gid, actor, prepared, owner_ids=owners, summary=summary,
                                                   focus_areas=focus, links=links)
            detail = await self.svc.detail(gid, a.id)
            lang = lang_for_interaction(inter)
            await reply(
                inter,
                t(lang, "Agreement **#{id}** recorded. Reminders are planned; add more parties with "
                        "`/mou party add {id}` and milestones with `/mou milestone add {id}`.", id=a.id),
                embed=E.detail_embed(detail, lang),
            )

        lang = lang_for_interaction(interaction)
        await interaction.response.send_modal(
            AddModal(t(lang, "Agreement: {title}", title=one_line(title, 30)), submit, lang)
        )

    add.autocomplete("city_a")(city_autocomplete)
    add.autocomplete("city_b")(city_autocomplete)

    # -- party ----------------------------------------------------------------------------
    @acknowledge_first()
    @party.command(name="add", description="Add a further party (city) to an agreement")
    @app_commands.describe(id="Agreement", city="City to add", ours="This city is ours")
    async def party_add(self, interaction: discord.Interaction[Any], id: int,
                        city: app_commands.Range[str, 1, 100], ours: bool = False) -> None:
        p = await self.svc.add_party(
            self.gid(interaction), await self.actor(interaction), id, city, ours=ours
        )
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "{city} added to agreement #{id} as party {position}.",
                                   city=md_line(p.label, 100), id=id, position=p.position))

    @acknowledge_first()
    @party.command(name="set", description="Mark a party as ours, or record its e-signature status")
    @app_commands.describe(id="Agreement", party="Party number or city name", ours="This city is ours",
                           esign="E-signature status of this party")
    @app_commands.choices(esign=ESIGN_CHOICES)
    async def party_set(self, interaction: discord.Interaction[Any], id: int,
                        party: app_commands.Range[str, 1, 100], ours: bool | None = None,
                        esign: app_commands.Choice[str] | None = None) -> None:
        p = await self.svc.set_party(
            self.gid(interaction),
            await self.actor(interaction),
            id,
            party,
            ours=ours,
            esign=esign.value if esign else None,
        )
        lang = lang_for_interaction(interaction)
        text = (
            t(lang, "Party {position} ({city}) of #{id}: ours, e-signature {esign}.", position=p.position,
              city=md_line(p.label, 100), id=id, esign=t(lang, p.esign_status))
            if p.is_ours else
            t(lang, "Party {position} ({city}) of #{id}: partner, e-signature {esign}.", position=p.position,
              city=md_line(p.label, 100), id=id, esign=t(lang, p.esign_status))
        )
        await reply(interaction, text)

    party_add.autocomplete("id")(id_autocomplete)
    party_add.autocomplete("city")(city_autocomplete)
    party_set.autocomplete("id")(id_autocomplete)

    # -- list / show ---------------------------------------------------------------------
    @app_commands.command(name="list", description="List agreements, soonest deadline first")
    @app_commands.describe(city="Only agreements with this city", status="Only this status",
                           expiring_within_days="Only those expiring within this many days",
                           owner="Only those this member owns")
    @app_commands.choices(status=STATUS_CHOICES)
    async def list_(
        self,
        interaction: discord.Interaction[Any],
        city: app_commands.Range[str, 1, 100] | None = None,
        status: app_commands.Choice[str] | None = None,
        expiring_within_days: app_commands.Range[int, 1, 3650] | None = None,
        owner: discord.Member | None = None,
    ) -> None:
        gid = self.gid(interaction)
        rows, total = await self.svc.list_agreements(
            gid,
            city=city,
            status=status.value if status else None,
            expiring_within_days=expiring_within_days,
            owner_id=owner.id if owner else None,
        )
        cfg = await self.svc.config(gid)
        today = P.local_today(self.svc.now(), cfg.zone)
        lang = lang_for_interaction(interaction)
        pages = E.list_pages(rows, total, today, cfg.zone, t(lang, "Agreements"), lang)
        await paginate(interaction, pages)

    list_.autocomplete("city")(city_autocomplete)

    @app_commands.command(
        name="show", description="Show an agreement: parties, dates, milestones, owners, history"
    )
    @app_commands.describe(id="Agreement")
    async def show(self, interaction: discord.Interaction[Any], id: int) -> None:
        detail = await self.svc.detail(self.gid(interaction), id)
        await reply(interaction, embed=E.detail_embed(detail, lang_for_interaction(interaction)))

    show.autocomplete("id")(id_autocomplete)

    # -- update / renew / terminate ------------------------------------------------------
    @acknowledge_first()
    @app_commands.command(name="update", description="Change an agreement (only the fields you give)")
    @app_commands.describe(
        id="Agreement",
        status="New status (the allowed moves are checked)",
        expires="New expiry date, or “none”",
        notice_days="Renewal notice period in days",
        auto_renew="Renews automatically at expiry",
        title="New title",
        kind="New kind",
        signed="Date signed",
        effective="Date it takes effect",
        signature_mode="Wet ink, e-signature or both",
        focus_areas="Departments or focus areas",
        summary="New summary (up to 2,000 characters)",
        links="Document links, separated by spaces",
    )
    @app_commands.choices(status=SETTABLE_STATUS, kind=KIND_CHOICES, signature_mode=MODE_CHOICES)
    async def update(
        self,
        interaction: discord.Interaction[Any],
        id: int,
        status: app_commands.Choice[str] | None = None,
        expires: app_commands.Range[str, 1, 40] | None = None,
        notice_days: app_commands.Range[int, 0, 3650] | None = None,
        auto_renew: bool | None = None,
        title: app_commands.Range[str, 1, 150] | None = None,
        kind: app_commands.Choice[str] | None = None,
        signed: app_commands.Range[str, 1, 40] | None = None,
        effective: app_commands.Range[str, 1, 40] | None = None,
        signature_mode: app_commands.Choice[str] | None = None,
        focus_areas: app_commands.Range[str, 0, 300] | None = None,
        summary: app_commands.Range[str, 0, 2000] | None = None,
        links: app_commands.Range[str, 0, 2000] | None = None,
    ) -> None:
        gid = self.gid(interaction)
        a, changes = await self.svc.update(
            gid,
            await self.actor(interaction),
            id,
            status=status.value if status else None,
            expires=expires,
            notice_days=notice_days,
            auto_renew=auto_renew,
            title=title,
            kind=kind.value if kind else None,
            signed=signed,
            effective=effective,
            signature_mode=signature_mode.value if signature_mode else None,
            focus_areas=focus_areas,
            summary=summary,
            links=links,
        )
        lang = lang_for_interaction(interaction)
        if not changes:
            await reply(interaction, t(lang, "Nothing changed on #{id}: give at least one new value.", id=id))
            return
        names = ", ".join(E.field_name(lang, k) for k in changes)
        await reply(
            interaction,
            t(lang, "Agreement #{id} updated ({fields}). Status: **{status}**; reminders re-planned.",
              id=id, fields=names, status=t(lang, a.status)),
        )

    update.autocomplete("id")(id_autocomplete)

    @acknowledge_first()
    @app_commands.command(name="renew", description="Renew an agreement: a new term with a new expiry")
    @app_commands.describe(id="Agreement", new_expiry="New expiry date (YYYY-MM-DD or “in 5 years”)")
    async def renew(self, interaction: discord.Interaction[Any], id: int,
                    new_expiry: app_commands.Range[str, 1, 40]) -> None:
        gid = self.gid(interaction)
        a = await self.svc.renew(gid, await self.actor(interaction), id, new_expiry)
        zone = (await self.svc.config(gid)).zone
        await reply(
            interaction,
            t(lang_for_interaction(interaction),
              "Agreement #{id} renewed: term {term} runs to {day}. "
              "The old term's reminders were cancelled and new ones planned.",
              id=id, term=a.term, day=E.day(a.expires_on, zone)),
        )

    renew.autocomplete("id")(id_autocomplete)

    @acknowledge_first()
    @app_commands.command(name="terminate", description="Terminate an agreement (cancels its reminders)")
    @app_commands.describe(id="Agreement", reason="Why it ends")
    async def terminate(self, interaction: discord.Interaction[Any], id: int,
                        reason: app_commands.Range[str, 1, 500]) -> None:
        await self.svc.terminate(self.gid(interaction), await self.actor(interaction), id, reason)
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Agreement #{id} is terminated; its reminders are cancelled.", id=id))

    terminate.autocomplete("id")(id_autocomplete)

    # -- activity and milestones ----------------------------------------------------------
    @acknowledge_first()
    @app_commands.command(
        name="log", description="Log an activity on an agreement (a visit, a call, a project)"
    )
    @app_commands.describe(id="Agreement", text="What happened", date="When (default today)")
    async def log_(
        self,
        interaction: discord.Interaction[Any],
        id: int,
        text: app_commands.Range[str, 1, 1000],
        date: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        gid = self.gid(interaction)
        act = await self.svc.log_activity(gid, await self.actor(interaction), id, text, date)
        zone = (await self.svc.config(gid)).zone
        await reply(interaction, t(lang_for_interaction(interaction), "Logged on #{id} for {day}.", id=id,
                                   day=E.day(act.happened_on, zone, relative=False)))

    log_.autocomplete("id")(id_autocomplete)

    @acknowledge_first()
    @milestone.command(name="add", description="Add a milestone (an exchange, a report due…) with its date")
    @app_commands.describe(id="Agreement", date="When it is due", description="What is due")
    async def milestone_add(self, interaction: discord.Interaction[Any], id: int,
                            date: app_commands.Range[str, 1, 40],
                            description: app_commands.Range[str, 1, 300]) -> None:
        gid = self.gid(interaction)
        async with creation_limit(interaction, "milestone"):
            m = await self.svc.add_milestone(gid, await self.actor(interaction), id, date, description)
        zone = (await self.svc.config(gid)).zone
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Milestone `#{milestone}` added to #{id} for {day}; "
                                   "the owners will be reminded on the day.",
                                   milestone=m.id, id=id, day=E.day(m.due_on, zone)))

    @acknowledge_first()
    @milestone.command(name="done", description="Mark a milestone as done")
    @app_commands.describe(id="Agreement", milestone="Milestone")
    async def milestone_done(self, interaction: discord.Interaction[Any], id: int, milestone: int) -> None:
        m = await self.svc.done_milestone(self.gid(interaction), await self.actor(interaction), id, milestone)
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Milestone `#{milestone}` of #{id} marked done: {description}.",
                                   milestone=m.id, id=id, description=md_line(m.description, 200)))

    milestone_add.autocomplete("id")(id_autocomplete)
    milestone_done.autocomplete("id")(id_autocomplete)

    @milestone_done.autocomplete("milestone")
    async def milestone_autocomplete(self, interaction: discord.Interaction[Any],
                                     current: str) -> list[app_commands.Choice[int]]:
        aid = getattr(interaction.namespace, "id", None)
        if interaction.guild_id is None or not isinstance(aid, int):
            return []
        ms = [m for m in await self.svc.milestones(interaction.guild_id, aid) if not m.done]
        cur = current.strip().lower()
        return [
            app_commands.Choice(
                name=choice_name(f"#{m.id} {m.due_on.isoformat()} {m.description}"), value=m.id
            )
            for m in ms
            if not cur or cur in m.description.lower() or cur in str(m.id)
        ][:25]

    # -- owners ---------------------------------------------------------------------------
    @acknowledge_first()
    @owner.command(name="add", description="Add a member responsible for an agreement")
    @app_commands.describe(id="Agreement", member="Member to add")
    async def owner_add(self, interaction: discord.Interaction[Any], id: int, member: discord.Member) -> None:
        owners = await self.svc.add_owner(self.gid(interaction), await self.actor(interaction), id, member.id)
        await reply(interaction, t(lang_for_interaction(interaction), "Owners of #{id}: {owners}", id=id,
                                   owners=" ".join(f"<@{o}>" for o in owners)))

    @acknowledge_first()
    @owner.command(name="remove", description="Remove a member from an agreement's owners")
    @app_commands.describe(id="Agreement", member="Member to remove")
    async def owner_remove(
        self, interaction: discord.Interaction[Any], id: int, member: discord.Member
    ) -> None:
        owners = await self.svc.remove_owner(
            self.gid(interaction), await self.actor(interaction), id, member.id
        )
        await reply(interaction, t(lang_for_interaction(interaction), "Owners of #{id}: {owners}", id=id,
                                   owners=" ".join(f"<@{o}>" for o in owners)))

    owner_add.autocomplete("id")(id_autocomplete)
    owner_remove.autocomplete("id")(id_autocomplete)

    # -- reminders ------------------------------------------------------------------------
    @acknowledge_first()
    @app_commands.command(
        name="remind", description="Set reminder offsets (days before expiry) for an agreement"
    )
    @app_commands.describe(id="Agreement", offsets="e.g. 180,90,30,7 — or “default” for the server default")
    async def remind(self, interaction: discord.Interaction[Any], id: int,
                     offsets: app_commands.Range[str, 1, 100]) -> None:
        got = await self.svc.set_offsets(self.gid(interaction), await self.actor(interaction), id, offsets)
        lang = lang_for_interaction(interaction)
        text = (
            t(lang, "Reminders for #{id}: {offsets} days before expiry. Re-planned.", id=id,
              offsets=format_list(lang, [format_number(lang, o) for o in got]))
            if got else t(lang, "Reminders for #{id}: the server default. Re-planned.", id=id)
        )
        await reply(interaction, text)

    remind.autocomplete("id")(id_autocomplete)

    @app_commands.command(name="upcoming", description="Everything due soon across all agreements")
    @app_commands.describe(days="Window in days (default 30)")
    async def upcoming(self, interaction: discord.Interaction[Any],
                       days: app_commands.Range[int, 1, 3650] = 30) -> None:
        gid = self.gid(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        cfg = await self.svc.config(gid)
        today = P.local_today(self.svc.now(), cfg.zone)
        items, total = await self.svc.upcoming(gid, days, today=today)
        lang = lang_for_interaction(interaction)
        files = []
        if items:
            timeline = await self.svc.timeline(gid, max(days, TIMELINE_MIN_DAYS), today=today)
            picture = await self.bot.pictures.render(
                "mou-timeline", gid, E.timeline_data(timeline, lang), draw_timeline
            )
            files.append(picture_file(picture))
        await paginate(interaction, E.upcoming_pages(items, days, today, cfg.zone, total, lang), files=files)

    # -- export / ics ----------------------------------------------------------------------
    @app_commands.command(name="export", description="Moderators: download every agreement as CSV or JSON")
    @app_commands.describe(format="File format")
    @app_commands.choices(
        format=[app_commands.Choice(name="CSV", value="csv"), app_commands.Choice(name="JSON", value="json")]
    )
    @expensive(*EXPORT_LIMIT)
    @moderator_only()
    async def export(self, interaction: discord.Interaction[Any], format: app_commands.Choice[str]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        name, data = await self.svc.export(
            self.gid(interaction), format.value, names=lookup_for(interaction.guild)
        )
        lang = lang_for_interaction(interaction)
        await reply(interaction, t(lang, "Here is every agreement of this server."), file=upload(name, data))

    @app_commands.command(name="ics", description="A calendar file (.ics) of every deadline and milestone")
    @app_commands.describe(mine="Only agreements you own")
    @expensive(*ICS_LIMIT)
    async def ics(self, interaction: discord.Interaction[Any], mine: bool = False) -> None:
        gid = self.gid(interaction)
        items = await self.svc.deadlines(gid, owner_id=interaction.user.id if mine else None)
        lang = lang_for_interaction(interaction)
        if not items:
            text = (t(lang, "There are no deadlines to put in a calendar among yours.") if mine
                    else t(lang, "There are no deadlines to put in a calendar."))
            await reply(interaction, text)
            return
        data = build_ics(gid, items, now=self.svc.now(),
                         guild_name=interaction.guild.name if interaction.guild else "", lang=lang)
        await reply(interaction, nt(lang, "{n} deadline. Import this file into your calendar.",
                                    "{n} deadlines. Import this file into your calendar.", len(items)),
                    file=upload("agreements.ics", data))

    # -- settings -------------------------------------------------------------------------
    @acknowledge_first()
    @app_commands.command(
        name="settings", description="Moderators: reminder hour, default offsets, weekly digest"
    )
    @app_commands.describe(
        reminder_hour="Hour (server time) reminders are posted",
        default_offsets="Days before expiry, e.g. 180,90,30,7",
        digest_day="Day of the weekly digest",
        digest_hour="Hour (server time) of the weekly digest",
        dormant_months="Months without activity before an agreement counts as dormant",
    )
    @app_commands.choices(digest_day=DAY_CHOICES)
    @moderator_only()
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        reminder_hour: app_commands.Range[int, 0, 23] | None = None,
        default_offsets: app_commands.Range[str, 1, 100] | None = None,
        digest_day: app_commands.Choice[int] | None = None,
        digest_hour: app_commands.Range[int, 0, 23] | None = None,
        dormant_months: app_commands.Range[int, 1, 60] | None = None,
    ) -> None:
        gid = self.gid(interaction)
        values: dict[str, Any] = {}
        if reminder_hour is not None:
            values["mou_reminder_hour"] = reminder_hour
        if default_offsets is not None:
            values["mou_remind_offsets"] = default_offsets
        if digest_day is not None:
            values["mou_digest_day"] = digest_day.value
        if digest_hour is not None:
            values["mou_digest_hour"] = digest_hour
        if dormant_months is not None:
            values["mou_dormant_months"] = dormant_months
        for spec in SETTING_SPECS:  # validate all before writing any
            if spec.key in values:
                values[spec.key] = spec.validate(values[spec.key])
        for key, value in values.items():
            await self.bot.settings.set(gid, key, value, actor_id=interaction.user.id)
        if values:
            await self.svc.replan_guild(gid, reconcile=False)
        gs = await self.bot.settings.get(gid)
        lang = lang_for_interaction(interaction)
        lines = []
        for s in SETTING_SPECS:
            value = gs.get(s.key, s.default)
            shown = (weekday_name(lang, int(value)) if s.key == "mou_digest_day"
                     else render(lang, s.render(value)))
            lines.append(f"{render(lang, s.label)}: **{shown}**")
        lines.append(t(lang, "Server time zone: **{zone}** (`/settings timezone`)", zone=gs.timezone))
        ch = gs.announcements_channel_id
        lines.append(
            t(lang, "Posts go to: {channel}", channel="<#" + str(ch) + ">") if ch
            else t(lang, "Posts go to: no announcements channel set ({hint})",
                   hint=render(lang, setup_hint("announcements_channel_id")))
        )
        title = t(lang, "MOU tracker settings updated") if values else t(lang, "MOU tracker settings")
        await reply(interaction, embed=make_embed(title, "\n".join(lines)))

    # -- scheduled jobs ---------------------------------------------------------------------
    async def _remind_batch(self, jobs: list[Job]) -> dict[int, BaseException | None]:
        """The reminders of one server due in the same minute: combined into as few channel posts as fit
        (each reminder names only its owners; a post pings exactly the owners of its reminders) and, for
        each owner who accepts DMs, as few DMs. Each (reminder, destination) is recorded right after the
        message that carried it (bot/fanout.py), so a retry or a restart sends only what is missing."""
        gid = jobs[0].guild_id
        outcomes: dict[int, BaseException | None] = {}
        items: list[tuple[Job, ReminderContext]] = []
        for job in jobs:
            ctx = await self.svc.reminder_context(gid, job.payload)
            if isinstance(ctx, Msg):
                outcomes[job.id] = SkipJob(ctx)
            else:
                items.append((job, ctx))
        if not items:
            return outcomes
        items.sort(key=lambda it: (it[1].agreement.id, it[0].dedupe_key))  # the same order on every attempt
        cfg = await self.svc.config(gid)
        owners = sorted({o for _, ctx in items for o in ctx.owners})
        nonces = [job.nonce_for("post") for job, _ in items]
        nonces += [job.nonce_for(f"dm:{o}") for job, ctx in items for o in ctx.owners]
        sent = await self.deliveries.sent(gid, nonces)
        delivered = {job.id for job, _ in items if job.nonce_for("post") in sent}
        delivered |= {job.id for job, ctx in items
                      if any(job.nonce_for(f"dm:{o}") in sent for o in ctx.owners)}
        channel_error: list[str] = []

        errors: dict[int, BaseException] = {}  # reminders a send failed for: retried (or failed) alone

        async def deliver(dest: str, todo: list[tuple[Job, ReminderContext]], send: Any, lang: str) -> None:
            for msg in E.reminder_messages([c for _, c in todo], channel=dest == "post", lang=lang):
                group = [todo[i][0] for i in msg.indices]
                item_nonces = [j.nonce_for(dest) for j in group]
                nonce = group[0].nonce_for(dest) if len(group) == 1 else message_nonce(dest, item_nonces)
                if dest == "post" and len(group) == 1:
                    nonce = group[0].nonce  # as a lone reminder always was
                try:
                    if not await send(msg, nonce):
                        return
                except Exception as exc:  # noqa: BLE001 - this message and the rest of this destination
                    for j, _ in todo[msg.indices[0]:]:  # messages keep the order of `todo`
                        errors.setdefault(j.id, exc)
                    log.warning("mou reminders (guild %s): a combined send to %s failed: %s", gid, dest, exc)
                    return
                await self.deliveries.record(gid, item_nonces)
                delivered.update(j.id for j in group)

        async def post(msg: E.ReminderMessage, nonce: str) -> bool:
            assert cfg.channel_id is not None
            mentions = discord.AllowedMentions(everyone=False, roles=False, replied_user=False,
                                               users=[discord.Object(id=o) for o in msg.owners])
            try:
                await self.bot.post(cfg.channel_id, msg.content, embeds=msg.embeds, nonce=nonce,
                                    allowed_mentions=mentions)
            except (discord.NotFound, discord.Forbidden) as exc:
                channel_error.append(str(exc))
                log.warning("mou reminders (guild %s): cannot post in announcements channel %s: %s", gid,
                            cfg.channel_id, exc)
                return False
            return True

        async def to_owner(uid: int) -> None:
            if not await self.svc.dm_ok(gid, uid):
                return
            todo = [(j, c) for j, c in items if uid in c.owners and j.nonce_for(f"dm:{uid}") not in sent]

            async def dm(msg: E.ReminderMessage, nonce: str) -> bool:
                return await self.bot.dm(uid, msg.content, embeds=msg.embeds, nonce=nonce)

            if todo:
                await deliver(f"dm:{uid}", todo, dm, await self.bot.languages.for_member(gid, uid))

        tasks = [to_owner(uid) for uid in owners]
        if cfg.channel_id is not None:
            todo = [(j, c) for j, c in items if j.nonce_for("post") not in sent]
            if todo:
                tasks.append(deliver("post", todo, post, await self.bot.languages.for_guild(gid)))
        await asyncio.gather(*tasks)
        await self.deliveries.prune(gid)
        for job, _ in items:
            if job.id in errors:  # retried: what was recorded is not sent again
                outcomes[job.id] = errors[job.id]
            elif job.id in delivered:
                outcomes[job.id] = None
            elif channel_error:
                outcomes[job.id] = PermanentJobError(Msg(
                    N_("announcements channel {channel}: {error}"), channel=f"<#{cfg.channel_id}>",
                    error=channel_error[0]))
            else:
                outcomes[job.id] = SkipJob(Msg(
                    N_("no announcements channel set and no owner accepts DMs ({hint})"),
                    hint=setup_hint("announcements_channel_id")))
        return outcomes

    async def _owner_notice_job(self, job: Job) -> None:
        """DM a member who was made an owner, with a button to remove themselves; nothing if DMs are
        closed."""
        ctx = await self.svc.owner_notice(job.guild_id, job.payload)
        if isinstance(ctx, Msg):
            raise SkipJob(ctx)
        a, uid, by = ctx
        guild = self.bot.get_guild(job.guild_id)
        lang = await self.bot.languages.for_member(job.guild_id, uid)
        fmt = {"by": f"<@{by}>", "id": a.id, "title": md_line(a.title, 150)}
        text = (
            t(lang, "{by} made you an owner of agreement #{id} “{title}” in **{server}**: you will be "
                    "reminded of its deadlines. `/mou show {id}` has the details. Not yours to follow? "
                    "Remove yourself below.", server=md_line(guild.name, 100), **fmt)
            if guild is not None else
            t(lang, "{by} made you an owner of agreement #{id} “{title}”: you will be "
                    "reminded of its deadlines. `/mou show {id}` has the details. Not yours to follow? "
                    "Remove yourself below.", **fmt)
        )
        view = owner_notice_view(job.guild_id, a.id, uid, lang)
        if not await self.bot.dm(uid, text, nonce=job.nonce, view=view):
            raise SkipJob(Msg(N_("the new owner's DMs are closed")))

    async def _status_job(self, job: Job) -> None:
        new = await self.svc.apply_status_job(job.guild_id, job.payload)
        if new is not None:
            log.info(
                "mou: agreement %s of guild %s is now %s", job.payload.get("agreement_id"), job.guild_id, new
            )

    async def _digest_job(self, job: Job) -> None:
        gid = job.guild_id
        # Keep the weekly chain going first (and correct statuses / re-plan, cheap when nothing changed).
        await self.svc.replan_guild(gid)
        if self.svc.now() - job.original_due_at > P.STALE_AFTER:
            raise SkipJob(Msg(N_("digest more than a day late; the next one is scheduled")))
        cfg = await self.svc.config(gid)
        if cfg.channel_id is None:
            raise SkipJob(Msg(N_("no announcements channel set ({hint})"),
                              hint=setup_hint("announcements_channel_id")))
        dg = await self.svc.digest(gid)
        if dg.empty:
            return  # nothing to report: no post
        lang = await self.bot.languages.for_guild(gid)
        embeds = E.digest_embeds(dg, cfg.zone, cfg.dormant_months, lang)
        timeline = await self.svc.timeline(gid, DIGEST_TIMELINE_DAYS, today=dg.today)
        files = []
        if timeline.rows:
            picture = await self.bot.pictures.render(
                "mou-digest", gid, E.timeline_data(timeline, lang), draw_timeline
            )
            files.append(picture_file(picture))
        try:
            await self.bot.post(
                cfg.channel_id, t(lang, E.DIGEST_HEADING), embeds=embeds, nonce=job.nonce, files=files
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            raise PermanentJobError(Msg(N_("announcements channel {channel}: {error}"),
                                        channel=f"<#{cfg.channel_id}>", error=str(exc))) from exc




"""/profile, /whois, /city, /network and /directory: thin glue over DirectoryService."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import EXPORT_LIMIT, expensive, manage_guild_only, moderator_only, role_grant_problem
from bot.contracts import AgreementLine
from bot.embeds import COLOUR_OK, choice_name, make_embed, md_line
from bot.errors import InvalidInput
from bot.interactions import acknowledge_first, reply
from bot.paging import paginate
from bot.settings import SettingSpec
from bot.transformers import Zone, ZoneOption
from bot.ui import upload
from cogs.directory import embeds as render
from cogs.directory.service import (
    CATEGORIES,
    FOCUS_TOPICS,
    SCOPES,
    DirectoryService,
    ImportRejected,
)

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

VERIFIED_ROLE_KEY = "verified_role_id"
IMPORT_MAX_BYTES = 2_000_000
DOCUMENTED_FETCH = 25  # documented (seed) agreements fetched for a city card; the rest are counted
TRACKED_FETCH = 30  # this server's tracked agreements fetched for a city card ("30+" beyond)


def _role_id(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise InvalidInput("Expected a role id.")
    return v


def _gid(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise InvalidInput("This command only works inside a server.")
    return interaction.guild_id


class Directory(commands.Cog):
    feature_title = "Directory: cities, networks and who represents whom"

    profile = app_commands.Group(name="profile", description="Your directory profile", guild_only=True)
    city = app_commands.Group(name="city", description="Cities in the directory", guild_only=True)
    network = app_commands.Group(name="network", description="Transnational city networks", guild_only=True)
    directory = app_commands.Group(
        name="directory",
        description="Directory upkeep (moderators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_messages=True),
    )

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.svc = DirectoryService(bot.db, clock=bot.clock)

    async def cog_load(self) -> None:
        # What the directory offers other features (bot/places.py, bot/contracts.py).
        self.bot.features.provide_places(self.svc)
        self.bot.features.networks = self.svc
        self.bot.features.profiles = self.svc
        self.bot.settings.register(SettingSpec(
            VERIFIED_ROLE_KEY, "Verified representative role", None, _role_id,
            lambda v: f"<@&{v}>" if v else "not set (verification grants no role)",
        ))
        self.bot.status_providers.append(self._status)
        report = await self.svc.ensure_seeded()
        if report is not None and report.unresolved:
            log.warning("directory seed: %d unresolved rows", len(report.unresolved))

    async def cog_unload(self) -> None:
        features = self.bot.features
        if features.places.provider is self.svc:
            features.provide_places(None)
        if features.networks is self.svc:
            features.networks = None
        if features.profiles is self.svc:
            features.profiles = None
        if self._status in self.bot.status_providers:
            self.bot.status_providers.remove(self._status)

    async def _status(self, guild: discord.Guild) -> list[tuple[str, str]]:
        n, v = await self.svc.profile_counts(guild.id)
        return [
            ("Directory", f"{n} profiles, {v} verified · {await self.svc.gazetteer_size():,} cities known")
        ]

    # -- autocomplete ---------------------------------------------------------------------------
    async def city_autocomplete(self, interaction: discord.Interaction[Any], current: str
                                ) -> list[app_commands.Choice[str]]:
        cities = await self.svc.search_cities(current, guild_id=interaction.guild_id, limit=25)
        return [app_commands.Choice(name=choice_name(c.choice_label), value=str(c.id)) for c in cities]

    async def member_city_autocomplete(self, interaction: discord.Interaction[Any], current: str
                                       ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        cities = await self.svc.search_member_cities(interaction.guild_id, current, limit=25)
        return [app_commands.Choice(name=choice_name(c.label), value=str(c.id)) for c in cities]

    async def network_autocomplete(self, interaction: discord.Interaction[Any], current: str
                                   ) -> list[app_commands.Choice[str]]:
        nets = await self.svc.search_networks(current, 25, guild_id=interaction.guild_id)
        return [app_commands.Choice(name=choice_name(n.display), value=str(n.id)) for n in nets]

    async def focus_autocomplete(self, interaction: discord.Interaction[Any], current: str
                                 ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in FOCUS_TOPICS if current.casefold() in t][:25]

    # -- /profile -------------------------------------------------------------------------------
    @acknowledge_first()
    @profile.command(
        name="set", description="Set your city, title, office, languages, expertise or time zone"
    )
    @app_commands.describe(
        city="The city you represent or work for", title="Your title (up to 100 characters)",
        office="Your office or department (up to 100 characters)", languages="Languages you work in",
        expertise="Topics you know well", timezone="Your time zone, if not your city's (IANA name)",
        dms="Whether Attaché may send you DMs (reminders, notices)",
    )
    async def profile_set(
        self,
        interaction: discord.Interaction[Any],
        city: str | None = None,
        title: app_commands.Range[str, 1, 100] | None = None,
        office: app_commands.Range[str, 1, 100] | None = None,
        languages: app_commands.Range[str, 1, 200] | None = None,
        expertise: app_commands.Range[str, 1, 200] | None = None,
        timezone: app_commands.Transform[str, Zone(clearable=True)] | None = None,
        dms: bool | None = None,
    ) -> None:
        p = await self.svc.set_profile(
            _gid(interaction),
            interaction.user.id,
            city=city,
            title=title,
            office=office,
            languages=languages,
            expertise=expertise,
            timezone=timezone,
            dm_ok=dms,
        )
        note = ""
        if city is not None and p.city is not None and not p.verified:
            note = "\nYour claim to represent this city shows as unverified until a moderator verifies it."
        if city is not None and not p.verified:  # a new city resets the verification: the role follows it
            note += await self._drop_verified_role(interaction, interaction.user)
        await reply(interaction, f"Profile saved.{note}",
                    embed=render.profile_embed(p, interaction.user.display_name, self.bot.clock()))

    profile_set.autocomplete("city")(city_autocomplete)

    @profile.command(name="show", description="Show your profile or another member's")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile_show(
        self, interaction: discord.Interaction[Any], member: discord.Member | None = None
    ) -> None:
        target = member or interaction.user
        p = await self.svc.get_profile(_gid(interaction), target.id)
        if p is None:
            who = (
                "You have" if target.id == interaction.user.id else f"{md_line(target.display_name, 80)} has"
            )
            await reply(interaction, f"{who} no directory profile yet. Create one with `/profile set`.")
            return
        await reply(interaction, embed=render.profile_embed(p, target.display_name, self.bot.clock()))

    @acknowledge_first()
    @profile.command(name="clear", description="Delete your directory profile from this server")
    async def profile_clear(self, interaction: discord.Interaction[Any]) -> None:
        gid = _gid(interaction)
        if not await self.svc.clear_profile(gid, interaction.user.id):
            await reply(interaction, "You have no directory profile here; nothing to delete.")
            return
        extra = await self._drop_verified_role(interaction, interaction.user)  # no claim left, no role
        await reply(
            interaction,
            "Your directory profile here is deleted: city, title, office, languages, expertise, "
            f"time zone and DM preference.{extra}",
        )

    @acknowledge_first()
    @profile.command(
        name="verify", description="Moderators: verify (or withdraw) a member's claim to represent their city"
    )
    @app_commands.describe(member="The member", withdraw="Withdraw an earlier verification instead")
    @moderator_only()
    async def profile_verify(self, interaction: discord.Interaction[Any], member: discord.Member,
                             withdraw: bool = False) -> None:
        if not withdraw:
            await self._check_verified_role(interaction)
        p = await self.svc.verify_profile(_gid(interaction), member.id, actor_id=interaction.user.id,
                                          verified=not withdraw)
        assert p.city is not None
        extra = await self._set_verified_role(interaction, member, grant=not withdraw)
        verb = "no longer verified" if withdraw else "verified"
        await reply(
            interaction,
            f"{member.mention} is {verb} as representing **{md_line(p.city.label, 150)}**.{extra}",
        )

    async def _check_verified_role(self, interaction: discord.Interaction[Any]) -> None:
        """Before granting: the configured role must still be safe to hand out (its permissions or
        position may have changed since `/directory verified-role`). Refuses, changing nothing."""
        guild = interaction.guild
        if guild is None:
            return
        role_id = (await self.bot.settings.get(guild.id)).get(VERIFIED_ROLE_KEY)
        if not role_id:
            return
        role = guild.get_role(role_id)
        if role is None:
            raise InvalidInput(
                f"The verified-representative role (<@&{role_id}>) no longer exists. Nothing was "
                "changed; ask an admin to pick another with `/directory verified-role`."
            )
        problem = role_grant_problem(role, me=guild.me)
        if problem is not None:
            raise InvalidInput(
                f"I won't verify anyone with that role now: {problem} Nothing was changed; an admin "
                "can fix it with `/directory verified-role`."
            )

    async def _drop_verified_role(
        self, interaction: discord.Interaction[Any], member: discord.abc.User
    ) -> str:
        """Take the verified role from a member whose claim is no longer verified (if they hold it)."""
        if interaction.guild is None or not isinstance(member, discord.Member):
            return ""
        role_id = (await self.bot.settings.get(interaction.guild.id)).get(VERIFIED_ROLE_KEY)
        if not role_id or member.get_role(role_id) is None:
            return ""
        return await self._set_verified_role(interaction, member, grant=False)

    async def _set_verified_role(self, interaction: discord.Interaction[Any], member: discord.abc.User,
                                 *, grant: bool) -> str:
        if interaction.guild is None or not isinstance(member, discord.Member):
            return ""
        role_id = (await self.bot.settings.get(interaction.guild.id)).get(VERIFIED_ROLE_KEY)
        if not role_id:
            return ""
        role = discord.Object(id=role_id)
        try:
            if grant:
                await member.add_roles(role, reason=f"Directory verification by {interaction.user}")
            else:
                await member.remove_roles(role, reason="Directory verification withdrawn or profile cleared")
        except discord.HTTPException:
            log.info("could not change the verified role %s on %s", role_id, member.id, exc_info=True)
            return (
                f"\nI could not {'give' if grant else 'remove'} the <@&{role_id}> role: I need Manage Roles "
                "and a role above it."
            )
        return f"\nRole <@&{role_id}> {'given' if grant else 'removed'}."

    # -- /whois ---------------------------------------------------------------------------------
    @app_commands.command(name="whois", description="Members who represent a city, with title and office")
    @app_commands.describe(city="The city")
    @app_commands.guild_only()
    async def whois(self, interaction: discord.Interaction[Any], city: str) -> None:
        gid = _gid(interaction)
        c = await self.svc.resolve_city(city, guild_id=gid)
        members = await self.svc.members_in_city(gid, c.id)
        lines = [render.profile_line(p) for p in members]
        pages = render.pages(f"Who represents {md_line(c.label, 150)}", lines,
                             empty=f"Nobody here has set {md_line(c.name, 100)} as their city yet.")
        await paginate(interaction, pages)

    whois.autocomplete("city")(member_city_autocomplete)

    # -- /city ----------------------------------------------------------------------------------
    @city.command(name="show", description="A city: local time, networks, agreements, members here")
    @app_commands.describe(city="The city")
    async def city_show(self, interaction: discord.Interaction[Any], city: str) -> None:
        gid = _gid(interaction)
        c = await self.svc.resolve_city(city, guild_id=gid)
        memberships = await self.svc.city_memberships(gid, c.id, limit=25)
        total = await self.svc.count_city_memberships(gid, c.id)
        members = await self.svc.members_in_city(gid, c.id)
        documented = await self.svc.seed_agreements_for(c, limit=DOCUMENTED_FETCH)
        n_documented = (await self.svc.count_seed_agreements(c) if len(documented) >= DOCUMENTED_FETCH
                        else len(documented))
        features = self.bot.features
        tracked: list[AgreementLine] | None = None  # None: the MOU tracker is not loaded
        if features.agreements is not None:
            tracked = await features.agreements.city_agreements(gid, c.id, c.name, limit=TRACKED_FETCH + 1)
        capped = tracked is not None and len(tracked) > TRACKED_FETCH
        practices = None  # None: the practice library is not loaded
        if features.practices is not None:
            practices = await features.practices.approved_count_for_city(gid, c.id, c.name)
        await reply(interaction, embed=render.city_embed(
            c, self.svc.country_name(c.country), self.bot.clock(), memberships, documented,
            tracked[:TRACKED_FETCH] if tracked is not None else None, members, practices,
            total_networks=total, total_documented=n_documented, tracked_capped=capped))

    city_show.autocomplete("city")(city_autocomplete)

    @acknowledge_first()
    @city.command(name="add", description="Moderators: add a city the gazetteer lacks (this server only)")
    @app_commands.describe(name="City name", country="Country (two-letter code or name)",
                           timezone="IANA time zone, e.g. Africa/Lagos", region="State, province or region")
    @moderator_only()
    async def city_add(self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 100],
                       country: app_commands.Range[str, 2, 60], timezone: ZoneOption,
                       region: app_commands.Range[str, 1, 100] | None = None) -> None:
        c = await self.svc.add_city(_gid(interaction), interaction.user.id, name, country, timezone, region)
        await reply(
            interaction, f"Added **{md_line(c.label, 150)}** ({c.timezone}) to this server's directory."
        )

    # -- /network -------------------------------------------------------------------------------
    @network.command(name="list", description="Networks in the directory, optionally by focus or scope")
    @app_commands.describe(focus="Only networks with this focus topic", scope="global, regional or national")
    @app_commands.choices(scope=[app_commands.Choice(name=s, value=s) for s in SCOPES])
    async def network_list(self, interaction: discord.Interaction[Any], focus: str | None = None,
                           scope: str | None = None) -> None:
        nets = await self.svc.list_networks(_gid(interaction), focus=focus, scope=scope)
        lines = [render.network_line(n) for n in nets]
        what = md_line(" · ".join(x for x in (focus, scope) if x), 100)
        pages = render.pages(f"Networks{f' ({what})' if what else ''} — {len(nets)}", lines,
                             empty="No network matches.")
        await paginate(interaction, pages)

    network_list.autocomplete("focus")(focus_autocomplete)

    @network.command(name="show", description="A network: description, founding, HQ, focus, member cities")
    @app_commands.describe(network="The network (name or acronym)")
    async def network_show(self, interaction: discord.Interaction[Any], network: str) -> None:
        gid = _gid(interaction)
        net = await self.svc.resolve_network(network, guild_id=gid)
        members = await self.svc.network_members(gid, net.id, limit=20)
        total = await self.svc.count_network_members(gid, net.id)
        present = await self.svc.members_present(gid, net.id)
        hq = f"{net.hq_city}, {net.hq_country}" if net.hq_city else None
        await reply(interaction, embed=render.network_embed(net, hq, members, total, present))

    network_show.autocomplete("network")(network_autocomplete)

    @network.command(name="members", description="Member cities of a network, optionally in one country")
    @app_commands.describe(network="The network", country="Only this country (code or name)")
    async def network_members(self, interaction: discord.Interaction[Any], network: str,
                              country: app_commands.Range[str, 2, 60] | None = None) -> None:
        gid = _gid(interaction)
        net = await self.svc.resolve_network(network, guild_id=gid)
        members = await self.svc.network_members(gid, net.id, country=country)
        lines = [render.member_city_line(m) for m in members]
        title = f"{md_line(net.display, 200)} — members" + (
            f" in {md_line(country.upper() if len(country) == 2 else country, 60)}" if country else "")
        pages = render.pages(title, lines, empty="No member cities recorded.",
                             footer="A sample from dated public sources, plus this server's additions.")
        await paginate(interaction, pages)

    network_members.autocomplete("network")(network_autocomplete)

    @network.command(name="shared", description="Networks two cities both belong to")
    @app_commands.describe(city_a="First city", city_b="Second city")
    async def network_shared(self, interaction: discord.Interaction[Any], city_a: str, city_b: str) -> None:
        gid = _gid(interaction)
        a = await self.svc.resolve_city(city_a, guild_id=gid)
        b = await self.svc.resolve_city(city_b, guild_id=gid)
        shared = await self.svc.shared_networks(gid, a.id, b.id)
        lines = [render.shared_line(net, a, ma, b, mb) for net, ma, mb in shared]
        pages = render.pages(f"Networks shared by {md_line(a.label, 100)} and {md_line(b.label, 100)}", lines,
                             empty="No shared network recorded (seed data plus this server's additions).")
        await paginate(interaction, pages)

    network_shared.autocomplete("city_a")(city_autocomplete)
    network_shared.autocomplete("city_b")(city_autocomplete)

    @network.command(name="overlap", description="Cities that belong to both networks")
    @app_commands.describe(network_a="First network", network_b="Second network")
    async def network_overlap(
        self, interaction: discord.Interaction[Any], network_a: str, network_b: str
    ) -> None:
        gid = _gid(interaction)
        na = await self.svc.resolve_network(network_a, guild_id=gid)
        nb = await self.svc.resolve_network(network_b, guild_id=gid)
        cities = await self.svc.overlap(gid, na.id, nb.id)
        pages = render.pages(
            f"In both {md_line(na.display, 100)} and {md_line(nb.display, 100)}",
            [f"• {md_line(c.label, 150)}" for c in cities],
            empty="No city is recorded in both.",
        )
        await paginate(interaction, pages)

    network_overlap.autocomplete("network_a")(network_autocomplete)
    network_overlap.autocomplete("network_b")(network_autocomplete)

    @acknowledge_first()
    @network.command(name="add", description="Moderators: add a network to this server's directory")
    @app_commands.describe(
        name="Full name",
        acronym="Acronym",
        founded="Year founded",
        focus="Topics separated by ; (e.g. climate;water)",
        scope="global, regional or national",
        website="Official website (https://…)",
        hq="Headquarters city",
        source="Where this comes from",
    )
    @app_commands.choices(scope=[app_commands.Choice(name=s, value=s) for s in SCOPES])
    @moderator_only()
    async def network_add(
        self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 200],
        acronym: app_commands.Range[str, 1, 30] | None = None,
        founded: app_commands.Range[int, 1800, 2100] | None = None,
        focus: app_commands.Range[str, 1, 200] | None = None, scope: str | None = None,
        website: app_commands.Range[str, 1, 300] | None = None, hq: str | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        net = await self.svc.add_network(
            _gid(interaction),
            interaction.user.id,
            name=name,
            acronym=acronym,
            founded_year=founded,
            focus=focus,
            scope=scope,
            website=website,
            hq_city=hq,
            source=source,
        )
        await reply(
            interaction,
            f"Added **{md_line(net.display, 200)}** (id `{net.slug}`) to this server's directory.",
        )

    network_add.autocomplete("hq")(city_autocomplete)

    @acknowledge_first()
    @network.command(
        name="add-member", description="Moderators: record a city's membership of a network (this server)"
    )
    @app_commands.describe(
        network="The network",
        city="The city",
        since="Year joined",
        role="Category of membership",
        source="Where this comes from (URL or title)",
        left="Year it left, if it did",
    )
    @app_commands.choices(role=[app_commands.Choice(name=c, value=c) for c in CATEGORIES])
    @moderator_only()
    async def network_add_member(
        self,
        interaction: discord.Interaction[Any],
        network: str,
        city: str,
        since: app_commands.Range[int, 1800, 2100] | None = None,
        role: str | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
        left: app_commands.Range[int, 1800, 2100] | None = None,
    ) -> None:
        gid = _gid(interaction)
        net = await self.svc.resolve_network(network, guild_id=gid)
        c = await self.svc.resolve_city(city, guild_id=gid)
        m = await self.svc.add_membership(
            gid, interaction.user.id, net, c, since=since, category=role, source=source, left=left
        )
        bits = render.membership_bits(m)
        await reply(interaction, f"Recorded **{md_line(c.label, 150)}** in **{md_line(net.display, 200)}**"
                                 + (f" ({bits})" if bits else "") + " for this server.")

    network_add_member.autocomplete("network")(network_autocomplete)
    network_add_member.autocomplete("city")(city_autocomplete)

    @acknowledge_first()
    @network.command(name="remove-member", description="Moderators: remove a membership this server recorded")
    @app_commands.describe(network="The network", city="The city")
    @moderator_only()
    async def network_remove_member(
        self, interaction: discord.Interaction[Any], network: str, city: str
    ) -> None:
        gid = _gid(interaction)
        net = await self.svc.resolve_network(network, guild_id=gid)
        c = await self.svc.resolve_city(city, guild_id=gid)
        await self.svc.remove_membership(gid, interaction.user.id, net, c)
        await reply(
            interaction,
            f"Removed **{md_line(c.label, 150)}** from **{md_line(net.display, 200)}** in this server.",
        )

    network_remove_member.autocomplete("network")(network_autocomplete)
    network_remove_member.autocomplete("city")(member_city_autocomplete)

    @acknowledge_first()
    @network.command(name="import", description="Moderators: import networks or memberships from a CSV file")
    @app_commands.describe(file="CSV with the columns of /network export (networks or memberships)")
    @moderator_only()
    async def network_import(self, interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
        gid = _gid(interaction)
        if file.size > IMPORT_MAX_BYTES:
            raise InvalidInput(
                f"That file is {file.size:,} bytes; the limit is {IMPORT_MAX_BYTES:,}. Split it."
            )
        data = await file.read()
        kind = self.svc.detect_kind(data)
        try:
            if kind == "networks":
                res = await self.svc.import_networks(data, guild_id=gid, actor_id=interaction.user.id)
            else:
                res = await self.svc.import_memberships(data, guild_id=gid, actor_id=interaction.user.id)
        except ImportRejected as exc:
            report = "\n".join(str(e) for e in exc.errors)
            await reply(interaction, embed=make_embed("Import rejected — nothing was written", exc.message),
                        file=upload("import-errors.txt", report))
            return
        await reply(
            interaction,
            embed=make_embed(
                "Import done",
                f"{res.kind.title()}: {res.created} added, {res.updated} updated (this server only).",
                colour=COLOUR_OK,
            ),
        )

    @network.command(name="export", description="Moderators: download networks or memberships as CSV")
    @app_commands.describe(what="Which table (default: networks)")
    @app_commands.choices(what=[app_commands.Choice(name="networks", value="networks"),
                                app_commands.Choice(name="memberships", value="memberships")])
    @expensive(*EXPORT_LIMIT)
    @moderator_only()
    async def network_export(self, interaction: discord.Interaction[Any], what: str = "networks") -> None:
        gid = _gid(interaction)
        text = await (
            self.svc.export_memberships(gid) if what == "memberships" else self.svc.export_networks(gid)
        )
        rows = max(0, text.count("\n") - 1)
        await reply(
            interaction,
            f"{rows} {what} (the shared seed plus this server's additions), in the import format.",
            file=upload(f"{what}.csv", text),
        )

    # -- /directory -----------------------------------------------------------------------------
    @directory.command(
        name="gaps", description="Moderators: profiles without a place, cities without a verified member"
    )
    @moderator_only()
    async def directory_gaps(self, interaction: discord.Interaction[Any]) -> None:
        gaps = await self.svc.gaps(_gid(interaction))
        await paginate(interaction, render.gaps_pages(gaps))

    @acknowledge_first()
    @directory.command(name="verified-role", description="Set the role given to verified representatives")
    @app_commands.describe(role="The role (leave empty to stop granting one)")
    @manage_guild_only()
    async def directory_verified_role(self, interaction: discord.Interaction[Any],
                                      role: discord.Role | None = None) -> None:
        if role is not None and interaction.guild is not None:
            admin = interaction.user if isinstance(interaction.user, discord.Member) else None
            problem = role_grant_problem(role, me=interaction.guild.me, admin=admin)
            if problem is not None:
                raise InvalidInput(f"{problem} The verified role is unchanged.")
        await self.bot.settings.set(_gid(interaction), VERIFIED_ROLE_KEY, role.id if role else None,
                                    actor_id=interaction.user.id)
        await reply(interaction, f"Verified representatives will get {role.mention}." if role else
                    "Verification no longer grants a role.")

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
from bot.i18n import N_, Msg, format_number, nt, t
from bot.interactions import acknowledge_first, reply
from bot.paging import paginate
from bot.settings import SettingSpec
from bot.transformers import Zone, ZoneOption
from bot.translator import lang_for_interaction
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
        raise InvalidInput(N_("Expected a role id."))
    return v


def _gid(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise InvalidInput(N_("This command only works inside a server."))
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
            VERIFIED_ROLE_KEY, N_("Verified representative role"), None, _role_id,
            lambda v: f"<@&{v}>" if v else N_("not set (verification grants no role)"),
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

    async def _status(self, guild: discord.Guild) -> list[tuple[str, str | Msg]]:
        n, v = await self.svc.profile_counts(guild.id)
        return [(N_("Directory"), Msg("{profiles} profiles, {verified} verified · {cities} cities known",
                                      profiles=n, verified=v, cities=await self.svc.gazetteer_size()))]

    # -- autocomplete ---------------------------------------------------------------------------
    async def city_autocomplete(self, interaction: discord.Interaction[Any], current: str
                                ) -> list[app_commands.Choice[str]]:
        cities = await self.svc.search_cities(current, guild_id=interaction.guild_id, limit=25)
        lang = lang_for_interaction(interaction)
        return [app_commands.Choice(name=choice_name(c.choice_label(lang)), value=str(c.id)) for c in cities]

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
        lang = lang_for_interaction(interaction)
        lines = [t(lang, "Profile saved.")]
        if city is not None and p.city is not None and not p.verified:
            lines.append(t(lang, "Your claim to represent this city shows as unverified until a moderator "
                                 "verifies it."))
        if city is not None and not p.verified:  # a new city resets the verification: the role follows it
            lines.append(await self._drop_verified_role(interaction, interaction.user))
        await reply(interaction, "\n".join(x for x in lines if x),
                    embed=render.profile_embed(p, interaction.user.display_name, self.bot.clock(), lang))

    profile_set.autocomplete("city")(city_autocomplete)

    @profile.command(name="show", description="Show your profile or another member's")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile_show(
        self, interaction: discord.Interaction[Any], member: discord.Member | None = None
    ) -> None:
        lang = lang_for_interaction(interaction)
        target = member or interaction.user
        p = await self.svc.get_profile(_gid(interaction), target.id)
        if p is None:
            if target.id == interaction.user.id:
                await reply(interaction, t(lang, "You have no directory profile yet. Create one with "
                                                 "`/profile set`."))
            else:
                await reply(interaction, t(lang, "{member} has no directory profile yet. Create one with "
                                                 "`/profile set`.", member=md_line(target.display_name, 80)))
            return
        await reply(interaction, embed=render.profile_embed(p, target.display_name, self.bot.clock(), lang))

    @acknowledge_first()
    @profile.command(name="clear", description="Delete your directory profile from this server")
    async def profile_clear(self, interaction: discord.Interaction[Any]) -> None:
        gid = _gid(interaction)
        lang = lang_for_interaction(interaction)
        if not await self.svc.clear_profile(gid, interaction.user.id):
            await reply(interaction, t(lang, "You have no directory profile here; nothing to delete."))
            return
        extra = await self._drop_verified_role(interaction, interaction.user)  # no claim left, no role
        done = t(lang, "Your directory profile here is deleted: city, title, office, languages, expertise, "
                       "time zone and DM preference.")
        await reply(interaction, "\n".join(x for x in (done, extra) if x))

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
        lang = lang_for_interaction(interaction)
        city = md_line(p.city.label, 150)
        done = (t(lang, "{member} is no longer verified as representing **{city}**.", member=member.mention,
                  city=city) if withdraw else
                t(lang, "{member} is verified as representing **{city}**.", member=member.mention, city=city))
        await reply(interaction, "\n".join(x for x in (done, extra) if x))

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
        lang = lang_for_interaction(interaction)
        if role is None:
            raise InvalidInput(t(
                lang, "The verified-representative role ({role}) no longer exists. Nothing was changed; ask "
                      "an admin to pick another with `/directory verified-role`.", role=f"<@&{role_id}>"))
        problem = role_grant_problem(role, me=guild.me, lang=lang)
        if problem is not None:
            raise InvalidInput(t(
                lang, "I won't verify anyone with that role now: {problem} Nothing was changed; an admin can "
                      "fix it with `/directory verified-role`.", problem=problem))

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
        lang = lang_for_interaction(interaction)
        mention = f"<@&{role_id}>"
        try:
            if grant:
                await member.add_roles(role, reason=f"Directory verification by {interaction.user}")
            else:
                await member.remove_roles(role, reason="Directory verification withdrawn or profile cleared")
        except discord.HTTPException:
            log.info("could not change the verified role %s on %s", role_id, member.id, exc_info=True)
            if grant:
                return t(lang, "I could not give the {role} role: I need Manage Roles and a role above it.",
                         role=mention)
            return t(lang, "I could not remove the {role} role: I need Manage Roles and a role above it.",
                     role=mention)
        return (t(lang, "Role {role} given.", role=mention) if grant
                else t(lang, "Role {role} removed.", role=mention))

    # -- /whois ---------------------------------------------------------------------------------
    @app_commands.command(name="whois", description="Members who represent a city, with title and office")
    @app_commands.describe(city="The city")
    @app_commands.guild_only()
    async def whois(self, interaction: discord.Interaction[Any], city: str) -> None:
        gid = _gid(interaction)
        c = await self.svc.resolve_city(city, guild_id=gid)
        members = await self.svc.members_in_city(gid, c.id)
        lang = lang_for_interaction(interaction)
        lines = [render.profile_line(p, lang) for p in members]
        pages = render.pages(t(lang, "Who represents {city}", city=md_line(c.label, 150)), lines,
                             empty=t(lang, "Nobody here has set {city} as their city yet.",
                                     city=md_line(c.name, 100)))
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
        lang = lang_for_interaction(interaction)
        await reply(interaction, embed=render.city_embed(
            c, render.country(lang, c.country, self.svc.country_name(c.country)), self.bot.clock(),
            memberships, documented, tracked[:TRACKED_FETCH] if tracked is not None else None, members,
            practices, total_networks=total, total_documented=n_documented, tracked_capped=capped, lang=lang))

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
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Added **{city}** ({zone}) to this server's directory.",
                                   city=md_line(c.label, 150), zone=c.timezone))

    # -- /network -------------------------------------------------------------------------------
    @network.command(name="list", description="Networks in the directory, optionally by focus or scope")
    @app_commands.describe(focus="Only networks with this focus topic", scope="global, regional or national")
    @app_commands.choices(scope=[app_commands.Choice(name=s, value=s) for s in SCOPES])
    async def network_list(self, interaction: discord.Interaction[Any], focus: str | None = None,
                           scope: str | None = None) -> None:
        nets = await self.svc.list_networks(_gid(interaction), focus=focus, scope=scope)
        lang = lang_for_interaction(interaction)
        lines = [render.network_line(n, lang) for n in nets]
        what = md_line(" · ".join(x for x in (focus, scope) if x), 100)
        n = format_number(lang, len(nets))
        title = (t(lang, "Networks ({filter}) — {n}", filter=what, n=n) if what
                 else t(lang, "Networks — {n}", n=n))
        pages = render.pages(title, lines, empty=t(lang, "No network matches."))
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
        await reply(interaction, embed=render.network_embed(net, hq, members, total, present,
                                                            lang_for_interaction(interaction)))

    network_show.autocomplete("network")(network_autocomplete)

    @network.command(name="members", description="Member cities of a network, optionally in one country")
    @app_commands.describe(network="The network", country="Only this country (code or name)")
    async def network_members(self, interaction: discord.Interaction[Any], network: str,
                              country: app_commands.Range[str, 2, 60] | None = None) -> None:
        gid = _gid(interaction)
        net = await self.svc.resolve_network(network, guild_id=gid)
        members = await self.svc.network_members(gid, net.id, country=country)
        lang = lang_for_interaction(interaction)
        lines = [render.member_city_line(m, lang) for m in members]
        name = md_line(net.display, 200)
        title = (t(lang, "{network} — members in {country}", network=name,
                   country=md_line(country.upper() if len(country) == 2 else country, 60)) if country
                 else t(lang, "{network} — members", network=name))
        pages = render.pages(title, lines, empty=t(lang, "No member cities recorded."),
                             footer=t(lang, "A sample from dated public sources, plus this server's "
                                            "additions."))
        await paginate(interaction, pages)

    network_members.autocomplete("network")(network_autocomplete)

    @network.command(name="shared", description="Networks two cities both belong to")
    @app_commands.describe(city_a="First city", city_b="Second city")
    async def network_shared(self, interaction: discord.Interaction[Any], city_a: str, city_b: str) -> None:
        gid = _gid(interaction)
        a = await self.svc.resolve_city(city_a, guild_id=gid)
        b = await self.svc.resolve_city(city_b, guild_id=gid)
        shared = await self.svc.shared_networks(gid, a.id, b.id)
        lang = lang_for_interaction(interaction)
        lines = [render.shared_line(net, a, ma, b, mb, lang) for net, ma, mb in shared]
        pages = render.pages(t(lang, "Networks shared by {a} and {b}", a=md_line(a.label, 100),
                               b=md_line(b.label, 100)), lines,
                             empty=t(lang, "No shared network recorded (seed data plus this server's "
                                           "additions)."))
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
        lang = lang_for_interaction(interaction)
        pages = render.pages(
            t(lang, "In both {a} and {b}", a=md_line(na.display, 100), b=md_line(nb.display, 100)),
            [f"• {md_line(c.label, 150)}" for c in cities],
            empty=t(lang, "No city is recorded in both."),
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
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Added **{network}** (id `{id}`) to this server's directory.",
                                   network=md_line(net.display, 200), id=net.slug))

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
        lang = lang_for_interaction(interaction)
        bits = render.membership_bits(m, lang)
        city, name = md_line(c.label, 150), md_line(net.display, 200)
        await reply(interaction, t(lang, "Recorded **{city}** in **{network}** ({details}) for this server.",
                                   city=city, network=name, details=bits) if bits else
                    t(lang, "Recorded **{city}** in **{network}** for this server.", city=city, network=name))

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
        await reply(interaction, t(lang_for_interaction(interaction),
                                   "Removed **{city}** from **{network}** in this server.",
                                   city=md_line(c.label, 150), network=md_line(net.display, 200)))

    network_remove_member.autocomplete("network")(network_autocomplete)
    network_remove_member.autocomplete("city")(member_city_autocomplete)

    @acknowledge_first()
    @network.command(name="import", description="Moderators: import networks or memberships from a CSV file")
    @app_commands.describe(file="CSV with the columns of /network export (networks or memberships)")
    @moderator_only()
    async def network_import(self, interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
        gid = _gid(interaction)
        lang = lang_for_interaction(interaction)
        if file.size > IMPORT_MAX_BYTES:
            raise InvalidInput(t(lang, "That file is {size} bytes; the limit is {limit}. Split it.",
                                 size=format_number(lang, file.size),
                                 limit=format_number(lang, IMPORT_MAX_BYTES)))
        data = await file.read()
        kind = self.svc.detect_kind(data)
        try:
            if kind == "networks":
                res = await self.svc.import_networks(data, guild_id=gid, actor_id=interaction.user.id)
            else:
                res = await self.svc.import_memberships(data, guild_id=gid, actor_id=interaction.user.id)
        except ImportRejected as exc:
            report = render.import_report(exc, lang)
            await reply(interaction, embed=make_embed(t(lang, "Import rejected — nothing was written"),
                                                      render.import_rejected(exc, lang)),
                        file=upload("import-errors.txt", report))
            return
        what = (t(lang, "Networks") if res.kind == "networks" else t(lang, "Memberships"))
        await reply(
            interaction,
            embed=make_embed(
                t(lang, "Import done"),
                t(lang, "{what}: {created} added, {updated} updated (this server only).", what=what,
                  created=format_number(lang, res.created), updated=format_number(lang, res.updated)),
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
        lang = lang_for_interaction(interaction)
        shown = (nt(lang, "{n} membership (the shared seed plus this server's additions), in the import "
                          "format.", "{n} memberships (the shared seed plus this server's additions), in the "
                                     "import format.", rows) if what == "memberships" else
                 nt(lang, "{n} network (the shared seed plus this server's additions), in the import "
                          "format.", "{n} networks (the shared seed plus this server's additions), in the "
                                     "import format.", rows))
        await reply(interaction, shown, file=upload(f"{what}.csv", text))

    # -- /directory -----------------------------------------------------------------------------
    @directory.command(
        name="gaps", description="Moderators: profiles without a place, cities without a verified member"
    )
    @moderator_only()
    async def directory_gaps(self, interaction: discord.Interaction[Any]) -> None:
        gaps = await self.svc.gaps(_gid(interaction))
        await paginate(interaction, render.gaps_pages(gaps, lang_for_interaction(interaction)))

    @acknowledge_first()
    @directory.command(name="verified-role", description="Set the role given to verified representatives")
    @app_commands.describe(role="The role (leave empty to stop granting one)")
    @manage_guild_only()
    async def directory_verified_role(self, interaction: discord.Interaction[Any],
                                      role: discord.Role | None = None) -> None:
        lang = lang_for_interaction(interaction)
        if role is not None and interaction.guild is not None:
            admin = interaction.user if isinstance(interaction.user, discord.Member) else None
            problem = role_grant_problem(role, me=interaction.guild.me, admin=admin, lang=lang)
            if problem is not None:
                raise InvalidInput(problem + " " + t(lang, "The verified role is unchanged."))
        await self.bot.settings.set(_gid(interaction), VERIFIED_ROLE_KEY, role.id if role else None,
                                    actor_id=interaction.user.id)
        await reply(interaction, t(lang, "Verified representatives will get {role}.", role=role.mention)
                    if role else t(lang, "Verification no longer grants a role."))

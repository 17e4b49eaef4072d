"""/help (everyone) and /audit (moderators)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import audit
from bot.checks import (
    EVERYONE,
    EXPORT_LIMIT,
    MANAGER,
    MODERATOR,
    command_right,
    member_rights,
    moderator_only,
)
from bot.embeds import chunk_lines, make_embed, md_line, member_ref
from bot.errors import InvalidInput
from bot.i18n import ENGLISH, N_, nt, t
from bot.interactions import reply
from bot.member_names import lookup_for
from bot.paging import paginate
from bot.timeparse import discord_ts
from bot.translator import lang_for_interaction
from bot.ui import upload
from cogs.meta.embeds import HelpEntry, HelpOption, command_embed, help_pages

if TYPE_CHECKING:
    from bot.app import AttacheBot

ENTITY_CHOICES = [
    "settings",
    "practice",
    "roundtable",
    "rsvp",
    "profile",
    "network",
    "membership",
    "city",
    "agreement",
]


OPTION_KINDS: dict[discord.AppCommandOptionType, str] = {
    discord.AppCommandOptionType.string: N_("text"),
    discord.AppCommandOptionType.integer: N_("whole number"),
    discord.AppCommandOptionType.number: N_("number"),
    discord.AppCommandOptionType.boolean: N_("True/False"),
    discord.AppCommandOptionType.user: N_("member"),
    discord.AppCommandOptionType.channel: N_("channel"),
    discord.AppCommandOptionType.role: N_("role"),
    discord.AppCommandOptionType.mentionable: N_("member or role"),
    discord.AppCommandOptionType.attachment: N_("file"),
}

# Sample values for the generated example of `/help command:`, by option name, then by type.
SAMPLE_BY_NAME: dict[str, str] = {
    "city": "Seoul",
    "city_a": "Seoul",
    "city_b": "Paris",
    "cities": N_("Seoul; Paris; Nairobi"),
    "zone": "Europe/Paris",
    "timezone": "Europe/Paris",
    "query": N_("flood resilience"),
    "id": "12",
    "when": "2026-03-10 15:00",
    "title": N_("Coastal resilience exchange"),
    "network": "ICLEI",
    "network_a": "ICLEI",
    "network_b": "C40",
    "name": "Lisbon",
    "country": "PT",
    "reason": N_("Add the results"),
    "text": N_("We agreed on a joint pilot"),
    "date": "2026-06-01",
    "new_expiry": "2030-12-31",
    "offsets": "180,90,30",
    "description": N_("Joint festival"),
    "times": "24h, 15m",
    "of": "7",
}
SAMPLE_BY_TYPE: dict[discord.AppCommandOptionType, str] = {
    discord.AppCommandOptionType.string: "text",
    discord.AppCommandOptionType.integer: "1",
    discord.AppCommandOptionType.number: "1.5",
    discord.AppCommandOptionType.boolean: "True",
    discord.AppCommandOptionType.user: "@member",
    discord.AppCommandOptionType.channel: "#general",
    discord.AppCommandOptionType.role: "@Curators",
    discord.AppCommandOptionType.mentionable: "@member",
    discord.AppCommandOptionType.attachment: "(attach a file)",
}
WHO = {EVERYONE: N_("everyone"), MODERATOR: N_("moderators"), MANAGER: N_("members with Manage Server")}


def _sample(param: app_commands.Parameter, lang: str) -> str:
    if param.choices:
        return str(param.choices[0].value)
    if param.type is discord.AppCommandOptionType.integer and param.min_value is not None:
        return str(max(int(param.min_value), 1))
    return t(lang, SAMPLE_BY_NAME.get(param.name, SAMPLE_BY_TYPE.get(param.type, "text")))


def example(command: app_commands.Command[Any, ..., Any], lang: str = ENGLISH) -> str:
    """`command.extras["example"]` when the feature wrote one, else the command with sample values for
    its required options (in `lang`; option names stay English)."""
    given = command.extras.get("example")
    if isinstance(given, str) and given:
        return given
    parts = [f"/{command.qualified_name}"]
    parts += [f"{p.display_name}:{_sample(p, lang)}" for p in command.parameters if p.required]
    return " ".join(parts)


def help_entries(
    bot: commands.Bot, ids: dict[str, int], rights: set[str], lang: str = ENGLISH
) -> list[tuple[str, list[HelpEntry]]]:
    """(feature title, entries) for every cog, in load order: the commands a member with `rights` may
    use, with a clickable mention when the command's id is known; texts in `lang` (the English title and
    descriptions are message ids; command and option names stay English)."""
    sections: list[tuple[str, list[HelpEntry]]] = []
    for cog in bot.cogs.values():
        title = t(lang, getattr(cog, "feature_title", None) or cog.qualified_name.title())
        entries: list[HelpEntry] = []
        for cmd in cog.walk_app_commands():
            if not isinstance(cmd, app_commands.Command):
                continue
            right = command_right(cmd)
            if right not in rights:
                continue
            root = cmd.root_parent.name if cmd.root_parent is not None else cmd.name
            mention = f"</{cmd.qualified_name}:{ids[root]}>" if root in ids else f"`/{cmd.qualified_name}`"
            options = tuple(
                HelpOption(
                    p.display_name,
                    t(lang, p.description),
                    p.required,
                    t(lang, OPTION_KINDS.get(p.type, N_("value"))),
                    tuple(t(lang, c.name) for c in p.choices),
                )
                for p in cmd.parameters
            )
            entries.append(
                HelpEntry(
                    cmd.qualified_name,
                    t(lang, cmd.description),
                    mention,
                    title,
                    options,
                    example(cmd, lang),
                    t(lang, WHO[right]),
                )
            )
        if entries:
            sections.append((title, entries))
    return sections


def _export_cooldown(interaction: discord.Interaction[Any]) -> app_commands.Cooldown | None:
    """The export cooldown (bot.checks.EXPORT_LIMIT) for `/audit file:True`; browsing is not limited."""
    scale = float(getattr(interaction.client, "cooldown_scale", 1.0))
    if scale <= 0 or not getattr(interaction.namespace, "file", False):
        return None
    rate, per = EXPORT_LIMIT
    return app_commands.Cooldown(rate, per * scale)


class Meta(commands.Cog):
    feature_title = "Help and audit"

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self._help_cache: dict[tuple[Any, ...], list[tuple[str, list[HelpEntry]]]] = {}

    async def _entries(self, interaction: discord.Interaction[Any]) -> list[tuple[str, list[HelpEntry]]]:
        """The help of the loaded commands for this member's rights, in their language. Built once per
        (language, rights, command ids, loaded features): the tree only changes when features load."""
        ids = await self.bot.command_ids()
        rights = frozenset(await member_rights(interaction))
        lang = lang_for_interaction(interaction)
        key = (lang, rights, tuple(sorted(ids.items())), tuple(self.bot.cogs),
               len(self.bot.tree.get_commands()))
        cached = self._help_cache.get(key)
        if cached is None:
            if len(self._help_cache) >= 64:
                self._help_cache.clear()
            cached = self._help_cache[key] = help_entries(self.bot, ids, set(rights), lang)
        return cached

    @app_commands.command(name="help", description="The commands you can use, grouped by feature")
    @app_commands.describe(command="One command's options and an example")
    async def help(self, interaction: discord.Interaction[Any], command: str | None = None) -> None:
        lang = lang_for_interaction(interaction)
        sections = await self._entries(interaction)
        if command is None:
            await paginate(interaction, help_pages(sections, lang))
            return
        wanted = " ".join(command.strip().lstrip("/").lower().split())
        for _, entries in sections:
            for entry in entries:
                if entry.path == wanted:
                    await reply(interaction, embed=command_embed(entry, lang))
                    return
        known = any(c.qualified_name == wanted for c in self.bot.tree.walk_commands())
        if known:
            raise InvalidInput(
                t(
                    lang,
                    "`/{command}` is not one you can use here: it is for moderators or "
                    "members with Manage Server. `/help` lists yours.",
                    command=wanted,
                )
            )
        raise InvalidInput(
            t(
                lang,
                "There is no command “/{command}”. Pick one from the list, or run `/help` for all of yours.",
                command=md_line(wanted, 60),
            )
        )

    @help.autocomplete("command")
    async def help_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        cur = " ".join(current.strip().lstrip("/").lower().split())
        paths = [e.path for _, entries in await self._entries(interaction) for e in entries]
        ranked = [p for p in paths if p.startswith(cur)]
        ranked += [p for p in paths if cur in p and not p.startswith(cur)]
        return [app_commands.Choice(name=f"/{p}", value=p) for p in ranked[:25]]

    @app_commands.command(name="audit", description="Moderators: who changed what, newest first")
    @app_commands.describe(
        member="Only this member's actions",
        entity="Only this kind of record",
        file="Download the matching entries as a CSV file (up to 50,000)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.checks.dynamic_cooldown(_export_cooldown, key=lambda i: (i.guild_id, i.user.id))
    @moderator_only()
    async def audit_log(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        entity: str | None = None,
        file: bool = False,
    ) -> None:
        assert interaction.guild_id is not None
        lang = lang_for_interaction(interaction)
        nothing = (
            t(lang, "No audit entries match. Try without a filter.")
            if member or entity
            else t(lang, "No audit entries match.")
        )
        if file:
            await interaction.response.defer(ephemeral=True, thinking=True)
            n, data = await audit.export_csv(
                self.bot.db,
                interaction.guild_id,
                actor_id=member.id if member else None,
                entity=entity,
                names=lookup_for(interaction.guild),
            )
            if not n:
                await reply(interaction, nothing)
                return
            await reply(
                interaction,
                nt(lang, "{n} audit entry, newest first (CSV).", "{n} audit entries, newest first (CSV).", n),
                file=upload(f"audit-{interaction.guild_id}.csv", data),
            )
            return
        rows = await audit.entries(
            self.bot.db,
            interaction.guild_id,
            actor_id=member.id if member else None,
            entity=entity,
            limit=500,
        )
        if not rows:
            await reply(interaction, nothing)
            return
        lines = []
        for e in rows:
            detail = ", ".join(f"{k}={md_line(str(v), 60)}" for k, v in list(e.changes.items())[:4])
            lines.append(
                f"{discord_ts(e.at, 'f')} {member_ref(e.actor_id, missing='Attaché')} "
                f"**{e.action}** {e.entity}"
                + (f" #{md_line(e.entity_id, 40)}" if e.entity_id else "")
                + (f" — {detail}" if detail else "")
            )
        title = t(lang, "Audit log")
        pages = [make_embed(title, chunk) for chunk in chunk_lines(lines, limit=3900, per_page=15)]
        await paginate(interaction, pages)

    @audit_log.autocomplete("entity")
    async def entity_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        kinds = await audit.entity_kinds(self.bot.db, interaction.guild_id)
        options = sorted(set(kinds) | set(ENTITY_CHOICES))
        cur = current.lower()
        return [app_commands.Choice(name=k, value=k) for k in options if cur in k][:25]

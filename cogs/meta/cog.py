"""/help (everyone) and /audit (moderators)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import audit
from bot.checks import EXPORT_LIMIT, moderator_only
from bot.embeds import chunk_lines, make_embed, md_line, member_ref
from bot.i18n import ENGLISH, nt, t
from bot.interactions import reply
from bot.member_names import lookup_for
from bot.paging import paginate
from bot.timeparse import discord_ts
from bot.translator import lang_for_interaction
from bot.ui import upload

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


def help_sections(bot: commands.Bot, lang: str = ENGLISH) -> list[tuple[str, list[str]]]:
    """(feature title, ['`/cmd sub` — description', ...]) for every cog, in load order, in `lang` (the
    English title and descriptions are message ids; command and option names stay English)."""
    sections: list[tuple[str, list[str]]] = []
    for cog in bot.cogs.values():
        lines: list[str] = []
        for cmd in cog.walk_app_commands():
            if isinstance(cmd, app_commands.Command):
                params = " ".join(
                    f"{p.display_name}" if p.required else f"[{p.display_name}]" for p in cmd.parameters
                )
                usage = f"`/{cmd.qualified_name}{(' ' + params) if params else ''}`"
                lines.append(f"{usage} — {t(lang, cmd.description)}")
        if lines:
            title = getattr(cog, "feature_title", None) or cog.qualified_name.title()
            sections.append((t(lang, title), lines))
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

    @app_commands.command(name="help", description="List Attaché's commands, grouped by feature")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        lang = lang_for_interaction(interaction)
        pages: list[discord.Embed] = []
        for title, lines in help_sections(self.bot, lang):
            for i, chunk in enumerate(chunk_lines(lines, limit=3900)):
                pages.append(
                    make_embed(
                        t(lang, "Attaché help — {feature}", feature=title) + (f" ({i + 1})" if i else ""),
                        chunk,
                        footer=t(lang, "Options in [brackets] are optional. "
                                       "Times show in your own time zone."),
                    )
                )
        await paginate(interaction, pages)

    @app_commands.command(name="audit", description="Moderators: who changed what, newest first")
    @app_commands.describe(member="Only this member's actions", entity="Only this kind of record",
                           file="Download the matching entries as a CSV file (up to 50,000)")
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
        nothing = t(lang, "No audit entries match. Try without a filter.") if member or entity else t(
            lang, "No audit entries match.")
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
            await reply(interaction, nt(lang, "{n} audit entry, newest first (CSV).",
                                        "{n} audit entries, newest first (CSV).", n),
                        file=upload(f"audit-{interaction.guild_id}.csv", data))
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

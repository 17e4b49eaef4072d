"""/privacy: a member takes their data back from this server (thin glue; rules in service.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import make_embed
from bot.interactions import NO_MENTIONS
from bot.ui import Confirm
from cogs.privacy.service import Preview, PrivacyService

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

VERIFIED_ROLE_KEY = "verified_role_id"  # the directory's setting (cogs/directory/cog.py)


def preview_text(p: Preview) -> str:
    lines = [
        "This deletes, **in this server only** and for good:",
        f"• your directory profile{'' if p.profile else ' (you have none)'}",
        f"• your roundtable RSVPs ({p.rsvps}) and reminder "
        f"preference{'' if p.reminder_prefs else ' (none set)'}",
        f"• your agreement ownerships ({p.ownerships}), and your “useful” and “adopted” marks",
        f"• your practice submissions that were not published ({p.submissions})",
        "• your calendar feed address, if you have one (it stops working)",
        "• the values you entered, as recorded in the audit log (the log keeps that a change was made)",
        "",
        f"What you shared with the library ({p.practices_kept} practice(s)) stays, shown as shared by "
        "“a former member”; a moderator can archive it. "
        "Roundtables you host stay, hosted by “a former member”.",
        "Other servers are not affected.",
    ]
    return "\n".join(lines)


@app_commands.guild_only()
class Privacy(commands.GroupCog, group_name="privacy", group_description="Your data in this server"):
    feature_title = "Privacy"

    def __init__(self, bot: AttacheBot) -> None:
        self.bot = bot
        self.svc = PrivacyService(bot.db, bot.scheduler)
        super().__init__()

    @app_commands.command(name="forget-me", description="Delete your data in this server (asks first)")
    async def forget_me(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        gid, uid = interaction.guild_id, interaction.user.id
        preview = await self.svc.preview(gid, uid)
        view = Confirm(uid, yes="Forget me here", no="Keep my data")
        view.yes_button.style = discord.ButtonStyle.danger
        await interaction.response.send_message(
            embed=make_embed("Forget me in this server?", preview_text(preview)), view=view, ephemeral=True,
            allowed_mentions=NO_MENTIONS)
        view.message = await interaction.original_response()  # so a timeout disables the buttons
        await view.wait()
        if view.value is not True or view.interaction is None:
            if view.interaction is not None:
                await view.interaction.response.edit_message(
                    content="Nothing was deleted.", embed=None, view=None
                )
            return
        done = view.interaction
        await done.response.edit_message(content="Forgetting you in this server…", embed=None, view=None)
        profiles = self.bot.features.profiles  # None: the directory is not loaded
        verified = profiles is not None and await profiles.profile_verified(gid, uid)
        result = await self.svc.forget(gid, uid, remove_profile=profiles.clear_profile if profiles else None)
        extra = ""
        if verified:
            extra = await self._remove_verified_role(interaction)
        await done.edit_original_response(
            content=f"Done: {result.own_rows} record(s) of yours were deleted here and the audit log no "
            f"longer holds what you entered. {result.practices_kept} practice(s) you shared stay in the "
            f"library, shown as shared by “a former member”.{extra}",
            allowed_mentions=NO_MENTIONS,
        )

    async def _remove_verified_role(self, interaction: discord.Interaction[Any]) -> str:
        member = interaction.user
        if interaction.guild_id is None or not isinstance(member, discord.Member):
            return ""
        role_id = (await self.bot.settings.get(interaction.guild_id)).get(VERIFIED_ROLE_KEY)
        if not role_id:
            return ""
        try:
            await member.remove_roles(discord.Object(id=role_id), reason="Member asked to be forgotten")
        except discord.HTTPException:
            log.info("could not remove the verified role %s from a forgotten member", role_id, exc_info=True)
            return f" I could not remove the <@&{role_id}> role: a moderator can."
        return f" The <@&{role_id}> role was removed."

"""/privacy: a member takes their data back from this server (thin glue; rules in service.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import make_embed
from bot.i18n import ENGLISH, nt, t
from bot.interactions import NO_MENTIONS
from bot.translator import lang_for_interaction
from bot.ui import Confirm
from cogs.privacy.service import Preview, PrivacyService

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

VERIFIED_ROLE_KEY = "verified_role_id"  # the directory's setting (cogs/directory/cog.py)


def preview_text(p: Preview, lang: str = ENGLISH) -> str:
    lines = [
        t(lang, "This deletes, **in this server only** and for good:"),
        (t(lang, "• your directory profile") if p.profile
         else t(lang, "• your directory profile (you have none)")),
        nt(lang, "• your roundtable RSVPs ({n})", "• your roundtable RSVPs ({n})", p.rsvps),
        (t(lang, "• your reminder preference") if p.reminder_prefs
         else t(lang, "• your reminder preference (none set)")),
        nt(lang, "• your agreement ownership ({n}), and your “useful” and “adopted” marks",
           "• your agreement ownerships ({n}), and your “useful” and “adopted” marks", p.ownerships),
        nt(lang, "• your practice submission that was not published ({n})",
           "• your practice submissions that were not published ({n})", p.submissions),
        t(lang, "• your calendar feed address, if you have one (it stops working)"),
        t(lang, "• the values you entered, as recorded in the audit log "
                "(the log keeps that a change was made)"),
        "",
        nt(lang, "What you shared with the library ({n} practice) stays, shown as shared by "
                 "“a former member”; a moderator can archive it.",
           "What you shared with the library ({n} practices) stays, shown as shared by "
           "“a former member”; a moderator can archive it.", p.practices_kept),
        t(lang, "Roundtables you host stay, hosted by “a former member”."),
        t(lang, "Other servers are not affected."),
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
        lang = lang_for_interaction(interaction)
        preview = await self.svc.preview(gid, uid)
        view = Confirm(uid, yes=t(lang, "Forget me here"), no=t(lang, "Keep my data"))
        view.yes_button.style = discord.ButtonStyle.danger
        await interaction.response.send_message(
            embed=make_embed(t(lang, "Forget me in this server?"), preview_text(preview, lang)), view=view,
            ephemeral=True, allowed_mentions=NO_MENTIONS)
        view.message = await interaction.original_response()  # so a timeout disables the buttons
        await view.wait()
        if view.value is not True or view.interaction is None:
            if view.interaction is not None:
                await view.interaction.response.edit_message(
                    content=t(lang, "Nothing was deleted."), embed=None, view=None
                )
            return
        done = view.interaction
        await done.response.edit_message(content=t(lang, "Forgetting you in this server…"), embed=None,
                                         view=None)
        profiles = self.bot.features.profiles  # None: the directory is not loaded
        verified = profiles is not None and await profiles.profile_verified(gid, uid)
        await self.bot.languages.flush()  # a language noted but not yet written is deleted with the rest
        result = await self.svc.forget(gid, uid, remove_profile=profiles.clear_profile if profiles else None)
        extra = ""
        if verified:
            extra = await self._remove_verified_role(interaction, lang)
        self.bot.languages.forget(gid, uid)
        deleted = nt(lang, "Done: {n} record of yours was deleted here and the audit log no longer holds "
                           "what you entered.",
                     "Done: {n} records of yours were deleted here and the audit log no longer holds "
                     "what you entered.", result.own_rows)
        kept = nt(lang, "{n} practice you shared stays in the library, shown as shared by “a former member”.",
                  "{n} practices you shared stay in the library, shown as shared by “a former member”.",
                  result.practices_kept)
        await done.edit_original_response(content=f"{deleted} {kept}{extra}", allowed_mentions=NO_MENTIONS)

    async def _remove_verified_role(self, interaction: discord.Interaction[Any], lang: str) -> str:
        member = interaction.user
        if interaction.guild_id is None or not isinstance(member, discord.Member):
            return ""
        role_id = (await self.bot.settings.get(interaction.guild_id)).get(VERIFIED_ROLE_KEY)
        if not role_id:
            return ""
        role = f"<@&{role_id}>"
        try:
            await member.remove_roles(discord.Object(id=role_id), reason="Member asked to be forgotten")
        except discord.HTTPException:
            log.info("could not remove the verified role %s from a forgotten member", role_id, exc_info=True)
            return " " + t(lang, "I could not remove the {role} role: a moderator can.", role=role)
        return " " + t(lang, "The {role} role was removed.", role=role)

"""The modal that follows `/mou add` (summary, focus areas, document links); the new owner's button."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.embeds import md_line
from bot.errors import PermissionDenied
from bot.i18n import ENGLISH, N_, t
from bot.interactions import NO_MENTIONS, acknowledge_first, handle_error
from bot.translator import lang_for_interaction
from bot.ui import BaseModal
from cogs.mous.service import FOCUS_MAX, SUMMARY_MAX

if TYPE_CHECKING:
    from cogs.mous.cog import Mous

log = logging.getLogger(__name__)

Submit = Callable[[discord.Interaction[Any], str, str, str], Awaitable[None]]


class AddModal(BaseModal):
    """Nothing is written until it is submitted; everything else was validated before it opened.
    Anyone may record an agreement, so no right is re-checked on submit (guard=None)."""

    def __init__(self, title: str, on_submit: Submit, lang: str = ENGLISH) -> None:
        super().__init__(title=title, timeout=900, guard=None)
        self._submit = on_submit
        self.summary: discord.ui.TextInput[AddModal] = discord.ui.TextInput(
            label=t(lang, "Summary"),
            custom_id="mou_add_summary",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=SUMMARY_MAX,
            placeholder=t(lang, "What the agreement covers, in a few sentences"),
        )
        self.focus: discord.ui.TextInput[AddModal] = discord.ui.TextInput(
            label=t(lang, "Departments or focus areas"),
            custom_id="mou_add_focus",
            style=discord.TextStyle.short,
            required=False,
            max_length=FOCUS_MAX,
            placeholder=t(lang, "e.g. culture, youth exchange, climate"),
        )
        self.links: discord.ui.TextInput[AddModal] = discord.ui.TextInput(
            label=t(lang, "Document links (one per line)"),
            custom_id="mou_add_links",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=2000,
            placeholder="https://…",
        )
        for field in (self.summary, self.focus, self.links):
            self.add_item(field)

    @acknowledge_first()
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self._submit(
            interaction, self.summary.value or "", self.focus.value or "", self.links.value or ""
        )


class LeaveOwnerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"mou:unown:(?P<g>\d{1,20}):(?P<a>\d{1,19}):(?P<u>\d{1,20})",
):
    """"Remove me as owner" on the DM that tells a member they were made an owner. Persistent (works after a
    restart); the server, agreement and member are in the custom id, and every press is checked against the
    database: the presser must be that member, and still an owner of that agreement of that server."""

    def __init__(self, guild_id: int, agreement_id: int, user_id: int, lang: str = ENGLISH) -> None:
        super().__init__(discord.ui.Button(label=t(lang, "Remove me as owner"),
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"mou:unown:{guild_id}:{agreement_id}:{user_id}"))
        self.guild_id = guild_id
        self.agreement_id = agreement_id
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LeaveOwnerButton:
        return cls(int(match["g"]), int(match["a"]), int(match["u"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.user.id != self.user_id:
                raise PermissionDenied(
                    N_("This button is for the member who was made an owner; only they can use it.")
                )
            cog: Mous | None = interaction.client.get_cog("Mous")
            if cog is None:
                raise RuntimeError("the MOU tracker is not loaded")
            a = await cog.svc.leave_as_owner(self.guild_id, self.agreement_id, interaction.user.id)
            lang = lang_for_interaction(interaction)
            await interaction.response.send_message(
                t(lang, "You are no longer an owner of agreement #{id} “{title}”.", id=a.id,
                  title=md_line(a.title, 150)),
                ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as exc:  # noqa: BLE001 - every error goes through the shared funnel
            await handle_error(interaction, exc)


def owner_notice_view(guild_id: int, agreement_id: int, user_id: int, lang: str = ENGLISH) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(LeaveOwnerButton(guild_id, agreement_id, user_id, lang))
    return view

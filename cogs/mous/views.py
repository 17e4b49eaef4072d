"""The modal that follows `/mou add`: summary, focus areas and document links."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.interactions import acknowledge_first
from bot.ui import BaseModal
from cogs.mous.service import FOCUS_MAX, SUMMARY_MAX

log = logging.getLogger(__name__)

Submit = Callable[[discord.Interaction[Any], str, str, str], Awaitable[None]]


class AddModal(BaseModal):
    """Nothing is written until it is submitted; everything else was validated before it opened.
    Anyone may record an agreement, so no right is re-checked on submit (guard=None)."""

    summary: discord.ui.TextInput[AddModal] = discord.ui.TextInput(
        label="Summary", custom_id="mou_add_summary", style=discord.TextStyle.paragraph, required=False, max_length=SUMMARY_MAX,
        placeholder="What the agreement covers, in a few sentences",
    )
    focus: discord.ui.TextInput[AddModal] = discord.ui.TextInput(
        label="Departments or focus areas", custom_id="mou_add_focus", style=discord.TextStyle.short, required=False, max_length=FOCUS_MAX,
        placeholder="e.g. culture, youth exchange, climate",
    )
    links: discord.ui.TextInput[AddModal] = discord.ui.TextInput(
        label="Links to documents (one per line)", custom_id="mou_add_links", style=discord.TextStyle.paragraph, required=False,
        max_length=2000, placeholder="https://…",
    )

    def __init__(self, title: str, on_submit: Submit) -> None:
        super().__init__(title=title, timeout=900, guard=None)
        self._submit = on_submit

    @acknowledge_first()
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self._submit(interaction, self.summary.value or "", self.focus.value or "", self.links.value or "")

"""The welcome message's persistent **Set up** button, the setup view and the time-zone form.

Rights are checked when used: the button, every select and the form's submission run
`bot.checks.require_manager` (Manage Server from the member's roles, server-wide)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import require_manager
from bot.interactions import handle_error
from bot.timeparse import search_zones
from bot.ui import BaseModal, BaseView, persistent_view, run_guard

if TYPE_CHECKING:
    from cogs.onboarding.cog import Onboarding

OTHER_ZONE = "other"  # the time-zone select's "Another zone…" value: opens the form
ZONE_OPTIONS = 24  # common zones offered in the select (the 25th option is "Another zone…")


def _cog(interaction: discord.Interaction[Any]) -> Onboarding:
    cog = interaction.client.get_cog("Onboarding")
    if cog is None:
        raise RuntimeError("the onboarding cog is not loaded")
    return cog


class SetupButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"onb:setup"):
    """**Set up** on the welcome message; works after restarts. Manage Server only, checked on press."""

    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Set up", style=discord.ButtonStyle.primary,
                                           custom_id="onb:setup", emoji="⚙️"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SetupButton:
        return cls()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return await run_guard(interaction, require_manager)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _cog(interaction).open_setup(interaction)
        except Exception as exc:  # noqa: BLE001 - every error goes through the funnel
            await handle_error(interaction, exc)


def welcome_view() -> discord.ui.View:
    return persistent_view(SetupButton())


class SetupView(BaseView):
    """Channel selects (announcements, review), the moderator role and the time zone; each choice is
    saved at once and the message shows the new checklist. Its author only, Manage Server re-checked on
    every choice."""

    def __init__(self, author_id: int) -> None:
        # Under 15 minutes: the /setup answer can still be edited (disabled) when the view times out.
        super().__init__(author_id, timeout=840, guard=require_manager)
        zones = search_zones("", limit=ZONE_OPTIONS)
        self.zone.options = [discord.SelectOption(label=z, value=z) for z in zones] + [
            discord.SelectOption(label="Another zone…", value=OTHER_ZONE,
                                 description="Type any IANA time zone, e.g. America/Tijuana")
        ]

    @discord.ui.select(cls=discord.ui.ChannelSelect, custom_id="onb:ann", row=0,
                       placeholder="1. Announcements channel…",
                       channel_types=[discord.ChannelType.text, discord.ChannelType.news])
    async def announcements(
        self, interaction: discord.Interaction[Any], select: discord.ui.ChannelSelect[Any]
    ) -> None:
        await _cog(interaction).choose(interaction, "announcements_channel_id", select.values[0].id)

    @discord.ui.select(cls=discord.ui.ChannelSelect, custom_id="onb:rev", row=1,
                       placeholder="2. Review channel…",
                       channel_types=[discord.ChannelType.text, discord.ChannelType.news])
    async def review(
        self, interaction: discord.Interaction[Any], select: discord.ui.ChannelSelect[Any]
    ) -> None:
        await _cog(interaction).choose(interaction, "review_channel_id", select.values[0].id)

    @discord.ui.select(cls=discord.ui.RoleSelect, custom_id="onb:mod", row=2,
                       placeholder="3. Moderator role…")
    async def moderators(
        self, interaction: discord.Interaction[Any], select: discord.ui.RoleSelect[Any]
    ) -> None:
        await _cog(interaction).choose_role(interaction, select.values[0])

    @discord.ui.select(cls=discord.ui.Select, custom_id="onb:tz", row=3, placeholder="4. Time zone…",
                       options=[discord.SelectOption(label="UTC")])
    async def zone(self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]) -> None:
        if select.values[0] == OTHER_ZONE:
            await interaction.response.send_modal(ZoneModal())
            return
        await _cog(interaction).choose(interaction, "timezone", select.values[0])


class ZoneModal(BaseModal):
    """Any IANA zone, typed; validated on submit (unknown names get suggestions)."""

    name: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="IANA time zone", custom_id="onb:zone",
        placeholder="e.g. America/Tijuana, Asia/Seoul, Africa/Nairobi",
        min_length=1, max_length=64,
    )

    def __init__(self) -> None:
        super().__init__(title="Server time zone", timeout=900, guard=require_manager)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).choose(interaction, "timezone", self.name.value)

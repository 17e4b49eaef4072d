"""The welcome message's persistent **Set up** button, the setup view and the time-zone form.

Rights are checked when used: the button, every select and the form's submission run
`bot.checks.require_manager` (Manage Server from the member's roles, server-wide). Labels are in the
language of whoever reads them: the welcome's button in the server's, the setup view in its author's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import require_manager
from bot.i18n import ENGLISH, N_, available_languages, language_name, t
from bot.interactions import handle_error
from bot.timeparse import search_zones
from bot.translator import lang_for_interaction
from bot.ui import BaseModal, BaseView, persistent_view, run_guard

if TYPE_CHECKING:
    from cogs.onboarding.cog import Onboarding

OTHER_ZONE = "other"  # the time-zone select's "Another zone…" value: opens the form
AUTOMATIC = "auto"  # the language select's "Automatic" value: the server's Discord language
ZONE_OPTIONS = 24  # common zones offered in the select (the 25th option is "Another zone…")
SET_UP = N_("Set up")


def _cog(interaction: discord.Interaction[Any]) -> Onboarding:
    cog = interaction.client.get_cog("Onboarding")
    if cog is None:
        raise RuntimeError("the onboarding cog is not loaded")
    return cog


class SetupButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"onb:setup"):
    """**Set up** on the welcome message; works after restarts. Manage Server only, checked on press."""

    def __init__(self, lang: str = ENGLISH) -> None:
        super().__init__(discord.ui.Button(label=t(lang, SET_UP)[:80], style=discord.ButtonStyle.primary,
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


def welcome_view(lang: str = ENGLISH) -> discord.ui.View:
    return persistent_view(SetupButton(lang))


def language_options(lang: str, chosen: str | None) -> list[discord.SelectOption]:
    """Each language under its own name (how a member finds theirs), then Automatic."""
    return [
        *(discord.SelectOption(label=language_name(code), value=code, default=code == chosen)
          for code in available_languages()),
        discord.SelectOption(label=t(lang, "Automatic (the server's Discord language)")[:100],
                             value=AUTOMATIC, default=chosen is None),
    ]


class SetupView(BaseView):
    """Channel selects (announcements, review), the moderator role, the time zone and the language of
    posts; each choice is saved at once and the message shows the new checklist. Its author only, Manage
    Server re-checked on every choice. Labels in `lang` (the author's)."""

    def __init__(self, author_id: int, lang: str = ENGLISH, language: str | None = None) -> None:
        # Under 15 minutes: the /setup answer can still be edited (disabled) when the view times out.
        super().__init__(author_id, timeout=840, guard=require_manager)
        zones = search_zones("", limit=ZONE_OPTIONS)
        self.zone.options = [discord.SelectOption(label=z, value=z) for z in zones] + [
            discord.SelectOption(label=t(lang, "Another zone…")[:100], value=OTHER_ZONE,
                                 description=t(lang, "Type any IANA time zone, e.g. America/Tijuana")[:100])
        ]
        self.language.options = language_options(lang, language)
        for select, text in ((self.announcements, N_("1. Announcements channel…")),
                             (self.review, N_("2. Review channel…")),
                             (self.moderators, N_("3. Moderator role…")),
                             (self.zone, N_("4. Time zone…")),
                             (self.language, N_("Language of posts (optional)…"))):
            select.placeholder = t(lang, text)[:150]

    @discord.ui.select(cls=discord.ui.ChannelSelect, custom_id="onb:ann", row=0,
                       channel_types=[discord.ChannelType.text, discord.ChannelType.news])
    async def announcements(
        self, interaction: discord.Interaction[Any], select: discord.ui.ChannelSelect[Any]
    ) -> None:
        await _cog(interaction).choose(interaction, "announcements_channel_id", select.values[0].id)

    @discord.ui.select(cls=discord.ui.ChannelSelect, custom_id="onb:rev", row=1,
                       channel_types=[discord.ChannelType.text, discord.ChannelType.news])
    async def review(
        self, interaction: discord.Interaction[Any], select: discord.ui.ChannelSelect[Any]
    ) -> None:
        await _cog(interaction).choose(interaction, "review_channel_id", select.values[0].id)

    @discord.ui.select(cls=discord.ui.RoleSelect, custom_id="onb:mod", row=2)
    async def moderators(
        self, interaction: discord.Interaction[Any], select: discord.ui.RoleSelect[Any]
    ) -> None:
        await _cog(interaction).choose_role(interaction, select.values[0])

    @discord.ui.select(cls=discord.ui.Select, custom_id="onb:tz", row=3,
                       options=[discord.SelectOption(label="UTC")])
    async def zone(self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]) -> None:
        if select.values[0] == OTHER_ZONE:
            await interaction.response.send_modal(ZoneModal(lang_for_interaction(interaction)))
            return
        await _cog(interaction).choose(interaction, "timezone", select.values[0])

    @discord.ui.select(cls=discord.ui.Select, custom_id="onb:lang", row=4,
                       options=[discord.SelectOption(label=ENGLISH)])
    async def language(self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]) -> None:
        value = select.values[0]
        await _cog(interaction).choose_language(interaction, None if value == AUTOMATIC else value)


class ZoneModal(BaseModal):
    """Any IANA zone, typed; validated on submit (unknown names get suggestions)."""

    def __init__(self, lang: str = ENGLISH) -> None:
        super().__init__(title=t(lang, "Server time zone")[:45], timeout=900, guard=require_manager)
        self.name: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=t(lang, "IANA time zone")[:45], custom_id="onb:zone", min_length=1, max_length=64,
            placeholder=t(lang, "e.g. America/Tijuana, Asia/Seoul, Africa/Nairobi")[:100],
        )
        self.add_item(self.name)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).choose(interaction, "timezone", self.name.value)

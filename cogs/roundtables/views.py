"""Persistent Going / Maybe / Can't go buttons (DynamicItem: they work after a restart)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.interactions import NO_MENTIONS, handle_error
from bot.ui import BaseView

if TYPE_CHECKING:
    from cogs.roundtables.cog import Roundtables

CHOICES = {"going": ("Going", discord.ButtonStyle.success), "maybe": ("Maybe", discord.ButtonStyle.secondary),
           "no": ("Can't go", discord.ButtonStyle.danger)}
RESPONSE_OF = {"going": "going", "maybe": "maybe", "no": "declined"}


class RsvpButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rt:rsvp:(?P<id>\d{1,19}):(?P<occ>\d{1,12}):(?P<choice>going|maybe|no)",
):
    def __init__(self, rt_id: int, occ_s: int, choice: str, *, disabled: bool = False) -> None:
        label, style = CHOICES[choice]
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"rt:rsvp:{rt_id}:{occ_s}:{choice}",
                              disabled=disabled)
        )
        self.rt_id = rt_id
        self.occ_s = occ_s
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RsvpButton:
        return cls(int(match["id"]), int(match["occ"]), match["choice"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog: Roundtables | None = interaction.client.get_cog("Roundtables")
        try:
            if cog is None:
                raise RuntimeError("roundtables cog not loaded")
            await cog.handle_rsvp(interaction, self.rt_id, RESPONSE_OF[self.choice], occ_s=self.occ_s)
        except Exception as exc:  # noqa: BLE001 - every error goes through the shared funnel
            await handle_error(interaction, exc)


def rsvp_view(rt_id: int, occ_s: int | None) -> discord.ui.View:
    """Buttons for the announcement of one occurrence; an empty view when there is none."""
    view = discord.ui.View(timeout=None)
    if occ_s is not None:
        for choice in ("going", "maybe", "no"):
            view.add_item(RsvpButton(rt_id, occ_s, choice))
    return view


PageFetcher = Callable[[int], Awaitable[tuple[discord.Embed | None, bool]]]


class ListPager(BaseView):
    """Prev/Next through a list fetched one page at a time (so 10,000 roundtables cost one page)."""

    def __init__(self, author_id: int, fetch: PageFetcher, *, timeout: float = 300) -> None:
        super().__init__(author_id, timeout=timeout)
        self.fetch = fetch
        self.page = 0
        self.has_next = False

    def _sync(self) -> None:
        self.prev.disabled = self.page == 0
        self.next.disabled = not self.has_next

    async def start(self, interaction: discord.Interaction[Any], embed: discord.Embed, has_next: bool) -> None:
        self.has_next = has_next
        self._sync()
        view = self if has_next else discord.utils.MISSING
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)
        if has_next:
            self.message = await interaction.original_response()
        else:
            self.stop()

    async def _show(self, interaction: discord.Interaction[Any], page: int) -> None:
        embed, has_next = await self.fetch(page)
        if embed is None:
            self.has_next = False
            self._sync()
            await interaction.response.edit_message(view=self)
            return
        self.page, self.has_next = page, has_next
        self._sync()
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="‹ Prev", style=discord.ButtonStyle.secondary)
    async def prev(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._show(interaction, max(0, self.page - 1))

    @discord.ui.button(label="Next ›", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self.page + 1)

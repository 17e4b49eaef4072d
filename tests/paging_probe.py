"""A test-only extension: /probe commands that page through a list the way features do, including from an
interaction that was already acknowledged (deferred) before the paginator starts. Loaded by
tests/test_ui.py."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import make_embed
from bot.paging import FetchedPages, Paginator


class Probe(commands.GroupCog, group_name="probe", group_description="Test-only paging probes"):
    def __init__(self) -> None:
        self.rows = [f"row {i}" for i in range(25)]  # a test may shrink it
        self.fetches: list[int] = []
        super().__init__()

    async def fetch(self, page: int) -> tuple[discord.Embed | None, bool]:
        """Ten rows a page, fetched one page at a time (like /roundtable list): the count is unknown."""
        self.fetches.append(page)
        rows = self.rows[page * 10:page * 10 + 11]
        if not rows:
            return None, False
        return make_embed("Rows", "\n".join(rows[:10]), footer="probe"), len(rows) > 10

    @app_commands.command(name="deferred", description="Acknowledge first, then page")
    async def deferred(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await Paginator(FetchedPages(self.fetch), interaction.user.id).start(interaction)

    @app_commands.command(name="fresh", description="Page without acknowledging first")
    async def fresh(self, interaction: discord.Interaction[Any]) -> None:
        await Paginator(FetchedPages(self.fetch), interaction.user.id).start(interaction)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Probe())

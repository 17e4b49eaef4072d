"""Base view (author lock, right re-checked on use, polite timeout, error funnel), base modal, paginator
and confirm prompt.

Rights are checked when they are USED: a view, modal or persistent button that does something only a
moderator / owner may do carries a `Guard` (bot.checks), run by `run_guard` on every press and every
submit. A member who lost the role since the form opened is refused, ephemerally, and nothing runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord

from bot.checks import Guard
from bot.embeds import fit_embeds
from bot.interactions import NO_MENTIONS, handle_error

log = logging.getLogger(__name__)


async def run_guard(interaction: discord.Interaction[Any], guard: Guard | None) -> bool:
    """Run a form's or button's right check for this use; on refusal answer ephemerally (through the
    error funnel) and return False, so the action does not run."""
    if guard is None:
        return True
    try:
        await guard(interaction)
    except Exception as exc:  # noqa: BLE001 - a refusal (or a failing check) is answered, never run
        await handle_error(interaction, exc)
        return False
    return True


class BaseView(discord.ui.View):
    """A view only its author may use, which disables itself on timeout. `guard` (bot.checks.Guard)
    is re-checked on every press: a right lost since the view opened refuses the press."""

    def __init__(self, author_id: int | None, *, timeout: float | None = 180, guard: Guard | None = None) -> None:
        super().__init__(timeout=timeout)
        self.author_id = author_id
        self.guard = guard
        self.message: discord.Message | discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if self.author_id is not None and interaction.user.id != self.author_id:
            await interaction.response.send_message(
                "These buttons belong to someone else's command. Run it yourself to get your own.",
                ephemeral=True,
            )
            return False
        return await run_guard(interaction, self.guard)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException:
                log.debug("could not disable a timed-out view", exc_info=True)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_error(interaction, error)


class BaseModal(discord.ui.Modal):
    """A modal whose `guard` (bot.checks.Guard) is re-checked when it is submitted (a moderator's form
    stays open up to 30 minutes), with errors through the shared funnel. Every modal derives from it;
    a modal anyone may submit passes `guard=None`."""

    def __init__(self, *, title: str, timeout: float | None, guard: Guard | None) -> None:
        super().__init__(title=title[:45], timeout=timeout)
        self.guard = guard

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return await run_guard(interaction, self.guard)

    # `item` is never passed to a modal; it makes the signature fit discord.py's BaseView.on_error too.
    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any] | None = None, /
    ) -> None:
        await handle_error(interaction, error)


Page = discord.Embed


def label_page(page: Page, label: str) -> Page:
    """Add a page label ("Page 2/5") after the page's footer text, and fit the embed to Discord's limits."""
    footer = page.footer.text
    page.set_footer(text=f"{footer} · {label}" if footer else label)
    fit_embeds([page])
    return page


class Paginator(BaseView):
    """Buttons to page through embeds; only the invoker can page."""

    def __init__(self, pages: Sequence[Page], author_id: int, *, timeout: float = 300) -> None:
        super().__init__(author_id, timeout=timeout)
        if not pages:
            raise ValueError("Paginator needs at least one page")
        self.pages = list(pages)
        self.index = 0
        for i, page in enumerate(self.pages):
            if len(self.pages) > 1:
                label_page(page, f"Page {i + 1}/{len(self.pages)}")
            else:
                fit_embeds([page])
        self._sync()

    def _sync(self) -> None:
        self.first.disabled = self.prev.disabled = self.index == 0
        self.next.disabled = self.last.disabled = self.index >= len(self.pages) - 1

    async def start(self, interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
        view = self if len(self.pages) > 1 else discord.utils.MISSING
        if interaction.response.is_done():
            msg = await interaction.followup.send(
                embed=self.pages[0], view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, wait=True
            )
            self.message = msg
        else:
            await interaction.response.send_message(
                embed=self.pages[0], view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
            )
            self.message = await interaction.original_response()
        if len(self.pages) <= 1:
            self.stop()

    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label="«", style=discord.ButtonStyle.secondary)
    async def first(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = 0
        await self._show(interaction)

    @discord.ui.button(label="‹ Prev", style=discord.ButtonStyle.secondary)
    async def prev(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="Next ›", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)

    @discord.ui.button(label="»", style=discord.ButtonStyle.secondary)
    async def last(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = len(self.pages) - 1
        await self._show(interaction)


class Confirm(BaseView):
    """Yes / No prompt. `await view.wait()` then read `view.value` (None on timeout)."""

    def __init__(self, author_id: int, *, yes: str = "Go on", no: str = "Stop", timeout: float = 120) -> None:
        super().__init__(author_id, timeout=timeout)
        self.value: bool | None = None
        self.interaction: discord.Interaction[Any] | None = None
        self.yes_button.label = yes[:80]
        self.no_button.label = no[:80]

    @discord.ui.button(label="Go on", style=discord.ButtonStyle.success)
    async def yes_button(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.value = True
        self.interaction = interaction
        self.stop()

    @discord.ui.button(label="Stop", style=discord.ButtonStyle.secondary)
    async def no_button(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.value = False
        self.interaction = interaction
        self.stop()

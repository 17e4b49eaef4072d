"""The one paginator: buttons (« ‹ › ») over a `PageSource`.

A source knows how many pages it has (`count()`: exact, or "at least n" shown as "3+"), renders page
`i` on demand (`get_page`), and may learn its exact count when asked (`complete`, e.g. the practice
search ranks the rest of its hits). The `Paginator` labels every page it shows ("Page 2/5", "Page 1/3+",
`page_label`), is locked to its author, times out (disabling its buttons), re-checks an optional guard on
every press (bot.ui.BaseView), and starts on a fresh or an already acknowledged (deferred) interaction.

    await Paginator(StaticPages(embeds), interaction.user.id).start(interaction)
    await Paginator(FetchedPages(fetch), interaction.user.id).start(interaction)  # one page per query
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.checks import Guard
from bot.embeds import fit_embeds
from bot.i18n import ENGLISH, t
from bot.interactions import NO_MENTIONS
from bot.translator import lang_for_interaction
from bot.ui import BaseView

log = logging.getLogger(__name__)

Page = discord.Embed


@dataclass(frozen=True, slots=True)
class PageCount:
    """`pages` pages exist; when not `exact`, there may be more (shown as "3+")."""

    pages: int
    exact: bool = True

    @property
    def single(self) -> bool:
        return self.exact and self.pages <= 1


def page_label(index: int, count: PageCount, lang: str = ENGLISH) -> str:
    """The one page label: "Page 2/5", or "Page 1/3+" while the count is open (in `lang`)."""
    total = f"{count.pages}{'' if count.exact else '+'}"
    return t(lang, "Page {page}/{pages}", page=index + 1, pages=total)


def label_page(page: Page, label: str) -> Page:
    """Add a page label after the page's footer text, and fit the embed to Discord's limits."""
    footer = page.footer.text
    page.set_footer(text=f"{footer} · {label}" if footer else label)
    fit_embeds([page])
    return page


class PageSource(Protocol):
    """What a paginator pages through."""

    def count(self) -> PageCount:
        """The pages known now (it may grow or shrink after `get_page` or `complete`)."""
        ...

    async def get_page(self, index: int) -> Page | None:
        """Page `index` (unlabelled; the paginator labels a copy), or None when there is no such page."""
        ...

    async def complete(self) -> bool:
        """Learn the exact count (the » button asks before jumping); False when this source can't."""
        ...


class StaticPages:
    """A list of ready embeds."""

    def __init__(self, pages: Sequence[Page]) -> None:
        if not pages:
            raise ValueError("a paginator needs at least one page")
        self.pages = list(pages)

    def count(self) -> PageCount:
        return PageCount(len(self.pages))

    async def get_page(self, index: int) -> Page | None:
        return self.pages[index] if 0 <= index < len(self.pages) else None

    async def complete(self) -> bool:
        return True


PageFetcher = Callable[[int], Awaitable[tuple[Page | None, bool]]]


class FetchedPages:
    """Pages fetched one at a time: `fetch(i)` returns (page or None, whether a next page exists), so a
    list of 10,000 rows costs one page per press. The count stays open ("2+") until the last page is seen."""

    def __init__(self, fetch: PageFetcher) -> None:
        self.fetch = fetch
        self._known = 1
        self._exact = False
        self._ahead: dict[int, Page] = {}

    def count(self) -> PageCount:
        return PageCount(self._known, self._exact)

    async def get_page(self, index: int) -> Page | None:
        if index in self._ahead:
            return self._ahead.pop(index)
        if index < 0:
            return None
        page, has_next = await self.fetch(index)
        if page is None:  # the list shrank: what we saw before this index is all there is
            self._known, self._exact = max(1, min(self._known, index)), True
            return None
        if has_next:
            if not (self._exact and self._known >= index + 2):
                self._known, self._exact = max(self._known, index + 2), False
        else:
            self._known, self._exact = index + 1, True
        return page

    async def first(self) -> Page | None:
        """Fetch page 0 now (to answer "nothing to list" instead of a paginator); the paginator reuses it."""
        page = await self.get_page(0)
        if page is not None:
            self._ahead[0] = page
        return page

    async def complete(self) -> bool:
        return self._exact


class Paginator(BaseView):
    """« ‹ › » through a `PageSource`; only `author_id` can page. Extra buttons (rows 1+) of a subclass
    keep the view shown even for one page."""

    NAV_BUTTONS = 4

    def __init__(self, source: PageSource, author_id: int, *, timeout: float = 300,
                 guard: Guard | None = None) -> None:
        super().__init__(author_id, timeout=timeout, guard=guard)
        self.source = source
        self.index = 0
        self._origin: discord.Interaction[Any] | None = None
        self.lang = ENGLISH  # the author's language, from the interaction that starts the paginator

    def set_language(self, lang: str) -> None:
        """Label the pages and the buttons in `lang` (`start` does it from the member's client)."""
        self.lang = lang
        self.prev.label = t(lang, "‹ Prev")
        self.next.label = t(lang, "Next ›")

    # -- state ------------------------------------------------------------------------------------
    def _sync(self) -> None:
        count = self.source.count()
        at_end = self.index >= count.pages - 1
        self.first.disabled = self.prev.disabled = self.index == 0
        self.next.disabled = count.exact and at_end
        self.last.disabled = count.exact and at_end

    def _labelled(self, page: Page) -> Page:
        count = self.source.count()
        shown = page.copy()
        if count.single:
            fit_embeds([shown])
            return shown
        return label_page(shown, page_label(self.index, count, self.lang))

    @property
    def _has_extras(self) -> bool:
        return len(self.children) > self.NAV_BUTTONS

    # -- sending ----------------------------------------------------------------------------------
    async def start(self, interaction: discord.Interaction[Any], *, ephemeral: bool = True,
                    files: Sequence[discord.File] = ()) -> None:
        """Answer with the first page: a response, or a followup when the interaction was already
        acknowledged (deferred), in the member's language. The view is left out when there is nothing to
        press. `files` (a picture of the whole list) go with the first page and stay while the pages turn."""
        self.set_language(lang_for_interaction(interaction))
        page = await self.source.get_page(0)
        if page is None:
            raise ValueError("a paginator needs at least one page")
        embed = self._labelled(page)
        self._sync()
        show = self._has_extras or not self.source.count().single
        view: discord.ui.View = self if show else discord.utils.MISSING
        if interaction.response.is_done():
            self.message = await interaction.followup.send(embed=embed, view=view, ephemeral=ephemeral,
                                                           allowed_mentions=NO_MENTIONS, wait=True,
                                                           files=list(files))
        else:
            # No GET of the sent message: the timeout edits it through the interaction token (valid 15 min).
            await interaction.response.send_message(embed=embed, view=view, ephemeral=ephemeral,
                                                    allowed_mentions=NO_MENTIONS, files=list(files))
            self._origin = interaction
        if not show:
            self.stop()

    async def on_timeout(self) -> None:
        if self._origin is None:
            await super().on_timeout()
            return
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        try:
            await self._origin.edit_original_response(view=self)
        except discord.HTTPException:
            log.debug("could not disable a timed-out paginator", exc_info=True)

    async def go(self, interaction: discord.Interaction[Any], target: int, *, to_last: bool = False) -> None:
        """Show page `target` (or the true last page), editing the pressed message."""
        if to_last and not self.source.count().exact:
            await self.source.complete()
        if to_last:
            target = self.source.count().pages - 1
        target = max(0, target)
        page = await self.source.get_page(target)
        if page is None:  # past the end (the list shrank): the last page there is
            target = max(0, min(target, self.source.count().pages - 1))
            page = await self.source.get_page(target)
        if page is not None:
            self.index = target
        self._sync()
        kwargs: dict[str, Any] = {"view": self}
        if page is not None:
            kwargs["embed"] = self._labelled(page)
        if interaction.response.is_done():
            await interaction.edit_original_response(**kwargs)
        else:
            await interaction.response.edit_message(**kwargs)

    # -- buttons ----------------------------------------------------------------------------------
    @discord.ui.button(label="«", style=discord.ButtonStyle.secondary)
    async def first(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self.go(interaction, 0)

    @discord.ui.button(label="‹ Prev", style=discord.ButtonStyle.secondary)
    async def prev(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self.go(interaction, self.index - 1)

    @discord.ui.button(label="Next ›", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self.go(interaction, self.index + 1)

    @discord.ui.button(label="»", style=discord.ButtonStyle.secondary)
    async def last(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self.go(interaction, 0, to_last=True)


async def paginate(
    interaction: discord.Interaction[Any], pages: Sequence[Page], *, ephemeral: bool = True,
    files: Sequence[discord.File] = (),
) -> None:
    """Answer with ready pages (the common case)."""
    paginator = Paginator(StaticPages(pages), interaction.user.id)
    await paginator.start(interaction, ephemeral=ephemeral, files=files)

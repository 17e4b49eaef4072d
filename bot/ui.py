"""Base view (author lock, right re-checked on use, polite timeout, error funnel), base modal, persistent
views and the confirm prompt (the paginator is bot.paging).

Rights are checked when they are USED: a view, modal or persistent button that does something only a
moderator / owner may do carries a `Guard` (bot.checks), run by `run_guard` on every press and every
submit. A member who lost the role since the form opened is refused, ephemerally, and nothing runs."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from bot.checks import Guard
from bot.export import pack
from bot.i18n import ENGLISH, N_, t
from bot.interactions import handle_error
from bot.pictures import Picture
from bot.translator import lang_for_interaction

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

    def __init__(
        self, author_id: int | None, *, timeout: float | None = 180, guard: Guard | None = None
    ) -> None:
        super().__init__(timeout=timeout)
        self.author_id = author_id
        self.guard = guard
        self.message: discord.Message | discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if self.author_id is not None and interaction.user.id != self.author_id:
            await interaction.response.send_message(
                t(lang_for_interaction(interaction),
                  "These buttons belong to someone else's command. Run it yourself to get your own."),
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
        self,
        interaction: discord.Interaction[Any],
        error: Exception,
        item: discord.ui.Item[Any] | None = None,
        /,
    ) -> None:
        await handle_error(interaction, error)


def persistent_view(*items: discord.ui.Item[Any]) -> BaseView:
    """A view of persistent buttons (DynamicItems whose custom ids carry their context): no author, no
    timeout; each item checks its own right on use (`run_guard`)."""
    view = BaseView(None, timeout=None)
    for item in items:
        view.add_item(item)
    return view


def upload(filename: str, data: bytes | str, *, limit: int | None = None) -> discord.File:
    """The attachment of an export or a generated file (bot.export.pack: UTF-8, gzipped above the upload
    limit, a clear refusal when even that does not fit). The one place a discord.File is built."""
    packed = pack(filename, data, limit=limit)
    return discord.File(io.BytesIO(packed.data), filename=packed.filename)


def picture_file(picture: Picture) -> discord.File:
    """An image (bot.pictures) as an attachment, its alt text as the attachment's description."""
    return discord.File(io.BytesIO(picture.png), filename=picture.filename, description=picture.alt)


class Confirm(BaseView):
    """Yes / No prompt. `await view.wait()` then read `view.value` (None on timeout). `yes`/`no` are
    shown as given (already in the member's language); the default labels are translated into `lang`."""

    def __init__(self, author_id: int, *, yes: str | None = None, no: str | None = None, timeout: float = 120,
                 lang: str = ENGLISH) -> None:
        super().__init__(author_id, timeout=timeout)
        self.value: bool | None = None
        self.interaction: discord.Interaction[Any] | None = None
        self.yes_button.label = (yes if yes is not None else t(lang, "Go on"))[:80]
        self.no_button.label = (no if no is not None else t(lang, "Stop"))[:80]

    @discord.ui.button(label=N_("Go on"), style=discord.ButtonStyle.success)
    async def yes_button(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.value = True
        self.interaction = interaction
        self.stop()

    @discord.ui.button(label=N_("Stop"), style=discord.ButtonStyle.secondary)
    async def no_button(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.value = False
        self.interaction = interaction
        self.stop()

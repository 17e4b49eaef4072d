"""Persistent Going / Maybe / Can't go buttons (DynamicItem: they work after a restart), the
"Google Calendar" / "Outlook" link buttons of one meeting, and the findtime answer's "Post as poll" button."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.calendar_links import CalendarEvent, google_url, outlook_url
from bot.i18n import ENGLISH, N_, t
from bot.interactions import handle_error
from bot.translator import lang_for_interaction
from bot.ui import BaseView, persistent_view

if TYPE_CHECKING:
    from cogs.roundtables.cog import Roundtables
    from cogs.roundtables.service import Occurrence, Roundtable

CHOICES = {"going": (N_("Going"), discord.ButtonStyle.success),
           "maybe": (N_("Maybe"), discord.ButtonStyle.secondary),
           "no": (N_("Can't go"), discord.ButtonStyle.danger)}
RESPONSE_OF = {"going": "going", "maybe": "maybe", "no": "declined"}


class RsvpButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rt:rsvp:(?P<id>\d{1,19}):(?P<occ>\d{1,12}):(?P<choice>going|maybe|no)",
):
    """The label is in the language of the message it is on (the server's, for an announcement)."""

    def __init__(self, rt_id: int, occ_s: int, choice: str, *, disabled: bool = False,
                 lang: str = ENGLISH) -> None:
        label, style = CHOICES[choice]
        super().__init__(
            discord.ui.Button(label=t(lang, label), style=style,
                              custom_id=f"rt:rsvp:{rt_id}:{occ_s}:{choice}",
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


def calendar_event(rt: Roundtable, occ: Occurrence, *, with_link: bool, lang: str = ENGLISH) -> CalendarEvent:
    """What an add-to-calendar link carries. The meeting link only `with_link` (those going, or a public
    link): the public announcement's buttons never hold a link shown only to those going."""
    link = rt.link if rt.link and (with_link or rt.link_public) else None
    # the link first: a long agenda is what gets cut to fit the URL, never the link
    details = [t(lang, "Meeting link: {link}", link=link) if link else "",
               t(lang, "Roundtable #{id} (Attaché)", id=rt.id), rt.agenda or ""]
    return CalendarEvent(
        title=rt.title, start=occ.start, end=occ.end, details="\n\n".join(d for d in details if d),
        location=rt.place or link or "", location_whole=not rt.place and link is not None,
    )


def calendar_buttons(rt: Roundtable, occ: Occurrence, *, with_link: bool, row: int | None = None,
                     lang: str = ENGLISH) -> list[discord.ui.Button[Any]]:
    ev = calendar_event(rt, occ, with_link=with_link, lang=lang)
    return [discord.ui.Button(label=t(lang, "Google Calendar"), url=google_url(ev), row=row),
            discord.ui.Button(label=t(lang, "Outlook"), url=outlook_url(ev), row=row)]


def calendar_view(rt: Roundtable, occ: Occurrence | None, *, with_link: bool, lang: str = ENGLISH
                  ) -> discord.ui.View | None:
    """The two link buttons alone (the Going reply, reminders); None when there is no meeting."""
    if occ is None or rt.status != "scheduled":
        return None
    return persistent_view(*calendar_buttons(rt, occ, with_link=with_link, lang=lang))


def rsvp_view(rt_id: int, occ_s: int | None, *, calendar: tuple[Roundtable, Occurrence] | None = None,
              lang: str = ENGLISH) -> discord.ui.View:
    """Buttons for the announcement of one occurrence (with its public add-to-calendar links); an empty
    view when there is none."""
    if occ_s is None:
        return persistent_view()
    links = calendar_buttons(*calendar, with_link=False, row=1, lang=lang) if calendar is not None else []
    buttons = (RsvpButton(rt_id, occ_s, choice, lang=lang) for choice in ("going", "maybe", "no"))
    return persistent_view(*buttons,
                           *links)


PollPoster = Callable[[discord.Interaction[Any]], Awaitable[str]]


class FindtimePollView(BaseView):
    """"Post as poll" under a findtime answer: only the member who ran findtime may press it (the author
    lock of BaseView, checked on every press). It posts once, then shows itself disabled."""

    def __init__(self, author_id: int, post: PollPoster, *, timeout: float = 900,
                 lang: str = ENGLISH) -> None:
        super().__init__(author_id, timeout=timeout)
        self._post = post
        self.posted = False
        self.post_poll.label = t(lang, "Post as poll")

    @discord.ui.button(label=N_("Post as poll"), style=discord.ButtonStyle.primary,
                       custom_id="rt:findtime:poll")
    async def post_poll(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self.posted:
            await interaction.response.send_message(
                t(lang_for_interaction(interaction), "This poll is already posted."), ephemeral=True)
            return
        done = await self._post(interaction)  # raises (shown through the error funnel) when it cannot post
        self.posted = True
        button.disabled = True
        await interaction.response.edit_message(view=self)
        await interaction.followup.send(done, ephemeral=True)

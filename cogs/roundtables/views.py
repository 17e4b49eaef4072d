"""Persistent Going / Maybe / Can't go buttons (DynamicItem: they work after a restart), and the
"Google Calendar" / "Outlook" link buttons of one meeting."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.calendar_links import CalendarEvent, google_url, outlook_url
from bot.interactions import handle_error
from bot.ui import persistent_view

if TYPE_CHECKING:
    from cogs.roundtables.cog import Roundtables
    from cogs.roundtables.service import Occurrence, Roundtable

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


def calendar_event(rt: Roundtable, occ: Occurrence, *, with_link: bool) -> CalendarEvent:
    """What an add-to-calendar link carries. The meeting link only `with_link` (those going, or a public
    link): the public announcement's buttons never hold a link shown only to those going."""
    link = rt.link if rt.link and (with_link or rt.link_public) else None
    # the link first: a long agenda is what gets cut to fit the URL, never the link
    details = [f"Meeting link: {link}" if link else "", f"Roundtable #{rt.id} (Attaché)", rt.agenda or ""]
    return CalendarEvent(
        title=rt.title, start=occ.start, end=occ.end, details="\n\n".join(d for d in details if d),
        location=rt.place or link or "", location_whole=not rt.place and link is not None,
    )


def calendar_buttons(rt: Roundtable, occ: Occurrence, *, with_link: bool, row: int | None = None
                     ) -> list[discord.ui.Button[Any]]:
    ev = calendar_event(rt, occ, with_link=with_link)
    return [discord.ui.Button(label="Google Calendar", url=google_url(ev), row=row),
            discord.ui.Button(label="Outlook", url=outlook_url(ev), row=row)]


def calendar_view(rt: Roundtable, occ: Occurrence | None, *, with_link: bool) -> discord.ui.View | None:
    """The two link buttons alone (the Going reply, reminders); None when there is no meeting."""
    if occ is None or rt.status != "scheduled":
        return None
    return persistent_view(*calendar_buttons(rt, occ, with_link=with_link))


def rsvp_view(rt_id: int, occ_s: int | None, *, calendar: tuple[Roundtable, Occurrence] | None = None
              ) -> discord.ui.View:
    """Buttons for the announcement of one occurrence (with its public add-to-calendar links); an empty
    view when there is none."""
    if occ_s is None:
        return persistent_view()
    links = calendar_buttons(*calendar, with_link=False, row=1) if calendar is not None else []
    return persistent_view(*(RsvpButton(rt_id, occ_s, choice) for choice in ("going", "maybe", "no")), *links)

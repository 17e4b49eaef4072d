"""Modals and buttons of the library. Persistent buttons are DynamicItems whose custom ids carry
the practice id (and, for review actions, the version the moderator saw)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import Guard, require_moderator
from bot.i18n import ENGLISH, N_, t
from bot.interactions import handle_error
from bot.paging import PageCount, Paginator, StaticPages
from bot.translator import lang_for_interaction
from bot.ui import BaseModal, BaseView, persistent_view, run_guard
from cogs.practices import embeds as render
from cogs.practices.service import (
    APPROACH_MAX,
    LESSONS_MAX,
    PAGE_SIZE,
    REASON_MAX,
    RESULTS_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Counts,
    Draft,
    Practice,
    PracticeService,
    SearchResult,
)

if TYPE_CHECKING:
    from cogs.practices.cog import Practices

log = logging.getLogger(__name__)

DraftCallback = Callable[[discord.Interaction[Any], Draft], Awaitable[None]]
TextCallback = Callable[[discord.Interaction[Any], str], Awaitable[None]]

ACTIONS = {"ap": "approve", "ch": "request_changes", "rj": "reject"}


def _cog(interaction: discord.Interaction[Any]) -> Practices:
    cog = interaction.client.get_cog("Practices")
    if cog is None:
        raise RuntimeError("the practices cog is not loaded")
    return cog


class PracticeModal(BaseModal):
    """Title, summary, approach, results, lessons (Discord allows five inputs of <= 4,000).
    `guard` re-checks the right to edit when it is submitted (None: sharing, open to everyone).
    `heading` is already in the member's language; the labels are put in `lang`."""

    def __init__(self, *, heading: str, on_done: DraftCallback, draft: Draft | None = None,
                 guard: Guard | None = None, lang: str = ENGLISH) -> None:
        super().__init__(title=heading[:45], timeout=1800, guard=guard)
        self.on_done = on_done
        d = draft
        self.f_title: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="title", label=t(lang, "Title")[:45], max_length=TITLE_MAX,
            default=d.title if d else None,
            placeholder=t(lang, "Cool roofs on every school")[:100])
        self.f_summary: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="summary", label=t(lang, "Summary: the problem and context")[:45],
            style=discord.TextStyle.paragraph, max_length=SUMMARY_MAX, default=d.summary if d else None)
        self.f_approach: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="approach", label=t(lang, "Approach: what was done")[:45],
            style=discord.TextStyle.paragraph, max_length=APPROACH_MAX, default=d.approach if d else None)
        self.f_results: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="results", label=t(lang, "Results and evidence")[:45],
            style=discord.TextStyle.paragraph, max_length=RESULTS_MAX, required=False,
            default=(d.results or None) if d else None)
        self.f_lessons: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="lessons",
            label=t(lang, "Lessons: what another city must know")[:45],
            style=discord.TextStyle.paragraph,
            max_length=LESSONS_MAX,
            required=False,
            default=(d.lessons or None) if d else None,
        )
        for item in (self.f_title, self.f_summary, self.f_approach, self.f_results, self.f_lessons):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.on_done(interaction, Draft(
            self.f_title.value, self.f_summary.value, self.f_approach.value, self.f_results.value or "",
            self.f_lessons.value or "",
        ))


class TextModal(BaseModal):
    """One text question (a reason: `guard=require_moderator`; a city: no guard)."""

    def __init__(self, *, heading: str, label: str, on_done: TextCallback, max_length: int = REASON_MAX,
                 paragraph: bool = True, placeholder: str | None = None, guard: Guard | None = None) -> None:
        super().__init__(title=heading[:45], timeout=900, guard=guard)
        self.on_done = on_done
        self.answer: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="answer", label=label[:45],
            style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
            max_length=max_length, placeholder=placeholder[:100] if placeholder else None)
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.on_done(interaction, self.answer.value)


REASON_HEADINGS = {"request_changes": N_("Request changes — #{id}"), "reject": N_("Reject — #{id}")}


async def ask_reason(interaction: discord.Interaction[Any], practice_id: int, action: str,
                     version: int | None) -> None:
    lang = lang_for_interaction(interaction)
    heading = t(lang, REASON_HEADINGS[action], id=practice_id)

    async def done(inter: discord.Interaction[Any], reason: str) -> None:
        await _cog(inter).run_decision(inter, practice_id, action, reason=reason, version=version)

    await interaction.response.send_modal(
        TextModal(
            heading=heading,
            label=t(lang, "Reason (the submitter reads it)"),
            on_done=done,
            placeholder=t(lang, "What should change, or why it doesn't fit the library"),
            guard=require_moderator,
        )
    )


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"pr:rv:(?P<id>\d{1,20}):(?P<v>\d{1,9}):(?P<act>ap|ch|rj)"):
    """Approve / Request changes / Reject on a review card (labelled in the server's language); survives
    restarts."""

    STYLES = {
        "ap": (N_("Approve"), discord.ButtonStyle.success),
        "ch": (N_("Request changes"), discord.ButtonStyle.primary),
        "rj": (N_("Reject"), discord.ButtonStyle.danger),
    }

    def __init__(self, practice_id: int, version: int, act: str, lang: str = ENGLISH) -> None:
        label, style = self.STYLES[act]
        super().__init__(
            discord.ui.Button(label=t(lang, label)[:80], style=style,
                              custom_id=f"pr:rv:{practice_id}:{version}:{act}")
        )
        self.practice_id = practice_id
        self.version = version
        self.act = act

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ReviewButton:
        return cls(int(match["id"]), int(match["v"]), match["act"])

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return await run_guard(interaction, require_moderator)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            cog = _cog(interaction)
            action = ACTIONS[self.act]
            if action == "approve":
                await cog.run_decision(
                    interaction, self.practice_id, action, reason=None, version=self.version
                )
            else:
                await ask_reason(interaction, self.practice_id, action, self.version)
        except Exception as exc:  # noqa: BLE001 - every error goes through the funnel
            await handle_error(interaction, exc)


def review_view(p: Practice, lang: str = ENGLISH) -> discord.ui.View:
    return persistent_view(*(ReviewButton(p.id, p.version, act, lang) for act in ("ap", "ch", "rj")))


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"pr:vote:(?P<id>\d{1,20}):(?P<kind>useful|adopt)"):
    """Useful / Adopted in my city: counted once per member; survives restarts."""

    def __init__(self, practice_id: int, kind: str, count: int | None = None, lang: str = ENGLISH) -> None:
        if count is None:
            label = t(lang, "Useful") if kind == "useful" else t(lang, "Adopted in my city")
        elif kind == "useful":
            label = t(lang, "Useful ({n})", n=count)
        else:
            label = t(lang, "Adopted in my city ({n})", n=count)
        super().__init__(discord.ui.Button(
            label=label[:80], emoji="👍" if kind == "useful" else "🏙️",
            style=discord.ButtonStyle.secondary, custom_id=f"pr:vote:{practice_id}:{kind}"))
        self.practice_id = practice_id
        self.kind = kind

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["id"]), match["kind"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            cog = _cog(interaction)
            if self.kind == "useful":
                await cog.vote_useful(interaction, self.practice_id)
            else:
                await cog.vote_adopt(interaction, self.practice_id)
        except Exception as exc:  # noqa: BLE001 - every error goes through the funnel
            await handle_error(interaction, exc)


def vote_view(practice_id: int, counts: Counts | None = None, lang: str = ENGLISH) -> discord.ui.View:
    return persistent_view(VoteButton(practice_id, "useful", counts.useful if counts else None, lang),
                           VoteButton(practice_id, "adopt", counts.adopted if counts else None, lang))


class QueuePaginator(Paginator):
    """The moderation queue, one practice per page, with the review actions for the page shown. Every
    press re-checks the moderator right (the queue stays open 15 minutes)."""

    def __init__(self, pages: Sequence[discord.Embed], practices: Sequence[Practice], author_id: int) -> None:
        self.practices = list(practices)
        super().__init__(StaticPages(pages), author_id, timeout=900, guard=require_moderator)

    def set_language(self, lang: str) -> None:
        super().set_language(lang)
        self.approve.label = t(lang, "Approve")[:80]
        self.changes.label = t(lang, "Request changes")[:80]
        self.reject.label = t(lang, "Reject")[:80]

    def _current(self) -> Practice:
        return self.practices[self.index]

    @discord.ui.button(label=N_("Approve"), style=discord.ButtonStyle.success, row=1)
    async def approve(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        p = self._current()
        await _cog(interaction).run_decision(interaction, p.id, "approve", reason=None, version=p.version)

    @discord.ui.button(label=N_("Request changes"), style=discord.ButtonStyle.primary, row=1)
    async def changes(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        p = self._current()
        await ask_reason(interaction, p.id, "request_changes", p.version)

    @discord.ui.button(label=N_("Reject"), style=discord.ButtonStyle.danger, row=1)
    async def reject(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        p = self._current()
        await ask_reason(interaction, p.id, "reject", p.version)


class CityPick(BaseView):
    """Ask which city adopted a practice when the member's profile has none: a select of the
    cities already known here, plus a button to type another. Only its author may answer."""

    def __init__(self, cog: Practices, practice_id: int, author_id: int, cities: Sequence[str],
                 lang: str = ENGLISH) -> None:
        super().__init__(author_id, timeout=300)
        self.cog = cog
        self.practice_id = practice_id
        if cities:
            select: discord.ui.Select[Any] = discord.ui.Select(
                placeholder=t(lang, "Your city")[:150],
                options=[discord.SelectOption(label=c[:100], value=c[:100])
                         for c in list(dict.fromkeys(cities))[:25]])
            select.callback = self._picked  # type: ignore[method-assign]
            self.select = select
            self.add_item(select)
        other: discord.ui.Button[Any] = discord.ui.Button(
            label=t(lang, "Another city…")[:80], style=discord.ButtonStyle.secondary
        )
        other.callback = self._other  # type: ignore[method-assign]
        self.add_item(other)

    async def _picked(self, interaction: discord.Interaction[Any]) -> None:
        await self.cog.record_adoption(interaction, self.practice_id, self.select.values[0])

    async def _other(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(city_modal(self.cog, self.practice_id,
                                                         lang_for_interaction(interaction)))


def city_modal(cog: Practices, practice_id: int, lang: str = ENGLISH) -> TextModal:
    async def done(inter: discord.Interaction[Any], text: str) -> None:
        await cog.record_adoption(inter, practice_id, text)

    return TextModal(heading=t(lang, "Which city adopted it?"), label=t(lang, "Your city (e.g. Lyon, FR)"),
                     on_done=done, max_length=100, paragraph=False)


class SearchPages:
    """Search results as a page source, five hits a page. A page is rendered (and its snippets
    computed) when it is first shown, so answering the search renders one page, not ten. While the
    search is answered with its first page only, the count is open ("Page 1/2+"); showing a page past
    them, or jumping to the last, ranks the rest (`PracticeService.complete`)."""

    def __init__(self, service: PracticeService, result: SearchResult, query: str | None,
                 lang: str = ENGLISH) -> None:
        self.service = service
        self.result = result
        self.query = query
        self.lang = lang
        self._pages: dict[int, discord.Embed] = {0: render.search_page(result, query, 0, lang)}

    def count(self) -> PageCount:
        known = max(1, render.search_page_count(self.result))
        return PageCount(known) if self.result.complete else PageCount(known + 1, exact=False)

    async def complete(self) -> bool:
        if not self.result.complete:
            self.result = await self.service.complete(self.result)
            self._pages = {}  # every footer's result count changes
        return True

    async def get_page(self, index: int) -> discord.Embed | None:
        if not self.result.complete and index >= render.search_page_count(self.result):
            await self.complete()
        if not 0 <= index < max(1, render.search_page_count(self.result)):
            return None
        start = index * PAGE_SIZE
        if any(not h.snippet for h in self.result.hits[start:start + PAGE_SIZE]):
            self.result = await self.service.with_snippets(self.result, start)
            self._pages.pop(index, None)
        if index not in self._pages:
            self._pages[index] = render.search_page(self.result, self.query, index, self.lang)
        return self._pages[index]


def search_paginator(service: PracticeService, result: SearchResult, query: str | None,
                     author_id: int, lang: str = ENGLISH) -> Paginator:
    return Paginator(SearchPages(service, result, query, lang), author_id, timeout=600)

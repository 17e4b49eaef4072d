"""Places: cities and time zones, as every feature sees them.

The kernel declares what a feature may ask about places (`PlaceProvider`, implemented by the directory
feature) and offers one facade, `Places`, that every feature uses. `Places` works without the directory too:
then a city is kept as typed ("Name" or "Name, CC"), zones come from the IANA database, and a member's zone
is the server's. So "resolve a city, else keep the free text" and "search zones" exist once, here.
No discord import."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.errors import InvalidInput, NotFound
from bot.i18n import N_, Msg
from bot.text import md_line
from bot.timeparse import TimeParseError, get_zone, search_zones, zone_label

log = logging.getLogger(__name__)

CITY_TEXT_MAX = 100
_CC_SUFFIX = re.compile(r"^(.*?),\s*([A-Za-z]{2})$")


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A city as other features store and show it: `city_id` is None when the text was kept as typed."""

    city_id: int | None
    name: str
    country: str | None  # ISO 3166-1 alpha-2, when known
    timezone: str | None  # IANA, when known
    label: str  # "Paris, FR"; unambiguous where the directory can tell

    @property
    def known(self) -> bool:
        return self.city_id is not None


class PlaceProvider(Protocol):
    """What the directory feature provides to the kernel (wired in `create_bot`)."""

    async def find_city(self, text: str, *, guild_id: int) -> PlaceRef:
        """The city the text names (ids, "Name", "Name, CC", "Name, Region"); NotFound when none;
        InvalidInput (naming the candidates) when it is ambiguous."""
        ...

    async def city_choices(self, query: str, *, guild_id: int, limit: int = 25) -> list[PlaceRef]:
        """Autocomplete: cities for a query, best first (typos forgiven)."""
        ...

    async def member_zone(self, guild_id: int, user_id: int) -> str | None:
        """The zone in the member's profile (or their city's), None when unknown."""
        ...

    async def member_places(self, guild_id: int, user_ids: Sequence[int]) -> list[tuple[str, str]]:
        """(place label, zone) of these members, distinct, for "local times" lines."""
        ...

    async def member_city(self, guild_id: int, user_id: int) -> PlaceRef | None:
        """The city in the member's profile, None when they set none."""
        ...

    async def dm_ok(self, guild_id: int, user_id: int) -> bool:
        """False when the member's profile declines DMs."""
        ...


ServerZone = Callable[[int], Awaitable[str]]


class Places:
    """The one way features resolve and search places. `provider` is None when the directory is not loaded."""

    def __init__(self, server_zone: ServerZone, provider: PlaceProvider | None = None) -> None:
        self._server_zone = server_zone
        self.provider = provider

    # -- cities ---------------------------------------------------------------------------------
    async def resolve_city(self, text: str, *, guild_id: int) -> PlaceRef:
        """A directory city, else the text as typed ("Name" or "Name, CC"). Ambiguity is an error."""
        raw = " ".join((text or "").split())
        if not raw:
            raise InvalidInput(N_("Name a city."))
        if len(raw) > CITY_TEXT_MAX:
            raise InvalidInput(Msg(N_("A city name is at most {limit} characters."), limit=CITY_TEXT_MAX))
        if self.provider is not None:
            try:
                return await self.provider.find_city(raw, guild_id=guild_id)
            except NotFound:
                pass
        return free_text_city(raw)

    async def city_choices(self, query: str, *, guild_id: int, limit: int = 25) -> list[PlaceRef]:
        if self.provider is None:
            return []
        try:
            return await self.provider.city_choices(query, guild_id=guild_id, limit=limit)
        except Exception:
            log.exception("city search failed")
            return []

    # -- zones ----------------------------------------------------------------------------------
    @staticmethod
    def zone_choices(query: str, limit: int = 25) -> list[str]:
        """IANA zones for a query, one ranking everywhere (common zones first)."""
        return search_zones(query, limit)

    async def resolve_place_or_zone(self, text: str, *, guild_id: int) -> tuple[str, str]:
        """(label, IANA zone) for a city of the directory or a zone name. Otherwise the directory's own
        error (ambiguous city, or unknown with "did you mean"), else NotFound naming what to type."""
        label, zone, _country = await self.resolve_place_country(text, guild_id=guild_id)
        return label, zone

    async def resolve_place_country(self, text: str, *, guild_id: int) -> tuple[str, str, str | None]:
        """`resolve_place_or_zone` with the place's country (ISO 3166-1 alpha-2) when the directory
        knows the city; None for a zone name."""
        city_error: Exception | None = None
        if self.provider is not None:
            try:
                ref = await self.provider.find_city(text, guild_id=guild_id)
                if ref.timezone:
                    return ref.name, ref.timezone, ref.country
            except (NotFound, InvalidInput) as exc:
                city_error = exc
        try:
            zone = get_zone(text)
            return zone_label(zone), zone.key, None
        except TimeParseError:
            pass
        found = search_zones(text, 1)  # a zone's city part as people write it: "Los Angeles"
        if found and zone_label(found[0]).lower() == " ".join(text.split()).lower():
            return zone_label(found[0]), found[0], None
        if city_error is not None:
            raise city_error
        raise NotFound(Msg(N_("I don't know the city or time zone “{text}”. "
                              "Use an IANA zone such as `Asia/Seoul`, or a city name."),
                           text=md_line(text, 60)))

    async def member_zone(self, guild_id: int, user_id: int) -> str:
        """The member's zone from their profile, else the server's."""
        if self.provider is not None:
            try:
                zone = await self.provider.member_zone(guild_id, user_id)
                if zone:
                    return zone
            except Exception:
                log.exception("member zone lookup failed; using the server's zone")
        return await self._server_zone(guild_id)

    async def member_places(self, guild_id: int, user_ids: Sequence[int]) -> list[tuple[str, str]]:
        if self.provider is None:
            return []
        try:
            return list(await self.provider.member_places(guild_id, user_ids))
        except Exception:
            log.exception("member places lookup failed")
            return []

    async def member_city(self, guild_id: int, user_id: int) -> PlaceRef | None:
        """The city in the member's profile; None without one (or without the directory)."""
        if self.provider is None:
            return None
        return await self.provider.member_city(guild_id, user_id)

    async def dm_ok(self, guild_id: int, user_id: int) -> bool:
        if self.provider is None:
            return True
        try:
            return await self.provider.dm_ok(guild_id, user_id)
        except Exception:
            log.exception("profile lookup failed; assuming DMs are welcome")
            return True


def free_text_city(raw: str) -> PlaceRef:
    """A city kept as typed: "Name, CC" keeps the country code."""
    m = _CC_SUFFIX.match(raw)
    if m and m.group(1).strip():
        name, cc = m.group(1).strip(), m.group(2).upper()
        return PlaceRef(None, name, cc, None, f"{name}, {cc}")
    return PlaceRef(None, raw, None, None, raw)

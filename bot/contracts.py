"""What features offer each other: small typed protocols, and the registry `Features` that `create_bot`
creates and each feature fills when it loads (and empties when it unloads). A feature that is not loaded
leaves its slot None, and every user of that slot degrades cleanly. Features never import each other's
modules; they import this module. No discord import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from icalendar import Event

from bot.places import PlaceProvider, Places


@dataclass(frozen=True, slots=True)
class AgreementLine:
    """One agreement involving a city, as the city card shows it (data, not markup)."""

    id: int
    kind: str  # "mou", "sister_city", …
    kind_label: str  # "MOU", "Sister cities", …
    status: str
    partners: Sequence[str]  # the other parties' city names
    expires_on: date | None
    zone: str  # the server's zone, for rendering the expiry as a Discord timestamp


@dataclass(frozen=True, slots=True)
class NetworkRef:
    id: int
    name: str
    label: str  # "Full name (ACRONYM)", for autocomplete


class CityAgreements(Protocol):
    """Offered by the MOU tracker."""

    async def city_agreements(self, guild_id: int, city_id: int | None, city_name: str,
                              limit: int = 10) -> list[AgreementLine]: ...


class CityPractices(Protocol):
    """Offered by the best-practice library."""

    async def approved_count_for_city(self, guild_id: int, city_id: int | None, city_name: str) -> int: ...


class NetworkLookup(Protocol):
    """Offered by the directory."""

    async def find_network(self, text: str, *, guild_id: int) -> NetworkRef:
        """The network the text names; NotFound when none."""
        ...

    async def network_choices(self, query: str, *, guild_id: int, limit: int = 25) -> list[NetworkRef]:
        """Autocomplete: networks for a query, best first."""
        ...


class MemberProfiles(Protocol):
    """Offered by the directory: what /privacy forget-me needs of a member's profile."""

    async def profile_verified(self, guild_id: int, user_id: int) -> bool:
        """True when the member has a profile whose claim a moderator verified."""
        ...

    async def clear_profile(self, guild_id: int, user_id: int) -> bool:
        """Delete the member's profile (inside the caller's transaction); False when there was none."""
        ...


class RoundtableCalendar(Protocol):
    """Offered by roundtables: a member's part of their live calendar feed."""

    async def feed_events(self, guild_id: int, user_id: int, *, everything: bool, stamp: datetime
                          ) -> list[Event]:
        """The VEVENTs (series with their moved meetings) of the roundtables the member hosts or answered
        Going to, or of every roundtable of the server when `everything`; the meeting link only where
        the member may see it. Cancelled ones stay a while, marked CANCELLED, so calendars drop them."""
        ...


class AgreementCalendar(Protocol):
    """Offered by the MOU tracker: agreement deadlines for a member's live calendar feed."""

    async def deadline_events(self, guild_id: int, owner_id: int | None, *, stamp: datetime,
                              reader_id: int | None = None) -> list[Event]:
        """All-day VEVENTs of the deadlines of the agreements this member owns (every agreement: None), their
        texts in the language of the feed's reader (`reader_id`, default the owner: the member's language,
        else the server's)."""
        ...


@dataclass
class Features:
    """The registry of cross-feature capabilities. `places` always exists (it works without the directory)."""

    places: Places
    networks: NetworkLookup | None = None
    profiles: MemberProfiles | None = None
    agreements: CityAgreements | None = None
    practices: CityPractices | None = None
    roundtable_calendar: RoundtableCalendar | None = None
    agreement_calendar: AgreementCalendar | None = None

    def provide_places(self, provider: PlaceProvider | None) -> None:
        self.places.provider = provider

"""The directory: cities (offline gazetteer + guild additions), networks, memberships, profiles.

No discord import. Global reference rows (gazetteer, seed) have guild_id NULL; everything a
server adds carries its guild_id, and every query shows the seed plus that guild's rows only.

This module is the facade: `DirectoryService` is the last of a chain of parts, one sub-domain per
module, each building on the one before (a part calls only methods of the parts below it):
  records.py    value objects, limits, pure helpers and CSV row parsers;
  gazetteer.py  the gazetteer cache, countries, seeding the reference data (GazetteerService);
  cities.py     city search and resolution, a server's added cities (CityService);
  profiles.py   member profiles (ProfileService);
  networks.py   networks and memberships (NetworkService);
  imports.py    CSV import and export (ImportService).
Every name those modules define for callers is importable from here as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.clock import Clock, system_clock
from bot.contracts import NetworkRef
from bot.db import Database
from bot.places import PlaceRef
from cogs.directory.gazetteer import (
    GAZETTEER_FORMAT,
    gazetteer_cache,
    gazetteer_id,
    load_admin1_names,
)
from cogs.directory.imports import (
    ImportService,
    _write_csv,
)
from cogs.directory.records import (
    _CITY_COLS,
    ADMIN1_NAMES,
    CATEGORIES,
    CUSTOM_CITY_BASE,
    FOCUS_TOPICS,
    IMPORT_MAX_ROWS,
    LIST_MAX,
    MEMBERSHIP_COLUMNS,
    MEMBERSHIP_REQUIRED,
    NETWORK_COLUMNS,
    NETWORK_REQUIRED,
    OFFICE_MAX,
    SCOPES,
    SEED_DIR,
    STATUSES,
    TITLE_MAX,
    City,
    Gaps,
    ImportRejected,
    ImportResult,
    Membership,
    Network,
    Profile,
    RowError,
    SeedAgreement,
    SeedReport,
    _city,
    check_zone,
    normalise,
)

__all__ = [  # what callers import from here
    "ADMIN1_NAMES",
    "CATEGORIES",
    "CUSTOM_CITY_BASE",
    "City",
    "FOCUS_TOPICS",
    "GAZETTEER_FORMAT",
    "Gaps",
    "IMPORT_MAX_ROWS",
    "ImportRejected",
    "ImportResult",
    "LIST_MAX",
    "MEMBERSHIP_COLUMNS",
    "MEMBERSHIP_REQUIRED",
    "Membership",
    "NETWORK_COLUMNS",
    "NETWORK_REQUIRED",
    "Network",
    "OFFICE_MAX",
    "Profile",
    "RowError",
    "SCOPES",
    "SEED_DIR",
    "STATUSES",
    "SeedAgreement",
    "SeedReport",
    "TITLE_MAX",
    "_CITY_COLS",
    "_city",
    "_write_csv",
    "check_zone",
    "gazetteer_cache",
    "gazetteer_id",
    "load_admin1_names",
    "normalise",
]


class DirectoryService(ImportService):
    """The directory of one installation: reference data shared by every server, plus each server's own."""

    def __init__(self, db: Database, *, seed_dir: Path = SEED_DIR, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock  # the bot's one clock (bot/clock.py)
        self._fuzzy_keys = None
        self._gazetteer_count = None
        self.seed_dir = seed_dir
        self._countries: dict[str, str] | None = None  # normalised name/iso3/iso2 -> iso2
        self._country_names: dict[str, str] = {}
        self._networks: dict[int | None, list[tuple[Network, str, str]]] | None = None
        self._vocab: dict[int | None, dict[str, list[Any]]] = {}  # word -> network indexes; "^x" -> words
        self._member_city_cache: dict[int, list[tuple[City, str, int]]] = {}


    # -- what the directory offers other features (bot/places.py, bot/contracts.py) --------------
    # PlaceProvider, NetworkLookup and MemberProfiles; the cog registers this service in bot.features.
    async def find_city(self, text: str, *, guild_id: int) -> PlaceRef:
        return _place_ref(await self.resolve_city(text, guild_id=guild_id))

    async def city_choices(self, query: str, *, guild_id: int, limit: int = 25) -> list[PlaceRef]:
        return [_place_ref(c) for c in await self.search_cities(query, guild_id=guild_id, limit=limit)]

    async def member_places(self, guild_id: int, user_ids: Sequence[int]) -> list[tuple[str, str]]:
        return await self.places_for(guild_id, user_ids)

    async def member_city(self, guild_id: int, user_id: int) -> PlaceRef | None:
        profile = await self.get_profile(guild_id, user_id)
        return _place_ref(profile.city) if profile is not None and profile.city is not None else None

    async def dm_ok(self, guild_id: int, user_id: int) -> bool:
        """False only when the member's profile declines DMs."""
        value = await self.db.fetchval("SELECT dm_ok FROM profiles WHERE guild_id = ? AND user_id = ?",
                                       (guild_id, user_id))
        return value is None or bool(value)

    async def profile_verified(self, guild_id: int, user_id: int) -> bool:
        profile = await self.get_profile(guild_id, user_id)
        return profile is not None and profile.verified

    async def find_network(self, text: str, *, guild_id: int) -> NetworkRef:
        return _network_ref(await self.resolve_network(text, guild_id=guild_id))

    async def network_choices(self, query: str, *, guild_id: int, limit: int = 25) -> list[NetworkRef]:
        return [_network_ref(n) for n in await self.search_networks(query, limit, guild_id=guild_id)]


def _place_ref(city: City) -> PlaceRef:
    return PlaceRef(city.id, city.name, city.country, city.timezone, city.label)


def _network_ref(net: Network) -> NetworkRef:
    return NetworkRef(net.id, net.name, net.display)

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

from pathlib import Path
from typing import Any

from bot.db import Database
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
    search_zones,
)

__all__ = [  # what callers import from here
    "ADMIN1_NAMES", "CATEGORIES", "CUSTOM_CITY_BASE", "City", "FOCUS_TOPICS", "GAZETTEER_FORMAT", "Gaps", "IMPORT_MAX_ROWS", "ImportRejected", "ImportResult", "LIST_MAX", "MEMBERSHIP_COLUMNS", "MEMBERSHIP_REQUIRED", "Membership", "NETWORK_COLUMNS", "NETWORK_REQUIRED", "Network", "OFFICE_MAX", "Profile", "RowError", "SCOPES", "SEED_DIR", "STATUSES", "SeedAgreement", "SeedReport", "TITLE_MAX", "_CITY_COLS", "_city", "_write_csv", "check_zone", "gazetteer_cache", "gazetteer_id", "load_admin1_names", "normalise", "search_zones",
]


class DirectoryService(ImportService):
    """The directory of one installation: reference data shared by every server, plus each server's own."""

    def __init__(self, db: Database, *, seed_dir: Path = SEED_DIR) -> None:
        self.db = db
        self.seed_dir = seed_dir
        self._countries: dict[str, str] | None = None  # normalised name/iso3/iso2 -> iso2
        self._country_names: dict[str, str] = {}
        self._networks: dict[int | None, list[tuple[Network, str, str]]] | None = None
        self._vocab: dict[int | None, dict[str, list[Any]]] = {}  # word -> network indexes; "^x" -> words
        self._member_city_cache: dict[int, list[tuple[City, str, int]]] = {}


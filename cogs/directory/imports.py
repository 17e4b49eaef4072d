"""CSV import and export of networks and memberships: row validation with every error reported at
once (`ImportRejected`), one transaction per import, the shared CSV writer. No discord import."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from bot import audit
from bot.clock import to_ms
from bot.errors import InvalidInput, NotFound
from bot.export import unneutralise, write_csv
from bot.i18n import N_, Msg
from bot.text import md_line
from cogs.directory.networks import (
    NetworkService,
)
from cogs.directory.records import (
    IMPORT_MAX_ROWS,
    MEMBERSHIP_COLUMNS,
    MEMBERSHIP_REQUIRED,
    NETWORK_COLUMNS,
    NETWORK_REQUIRED,
    ImportRejected,
    ImportResult,
    RowError,
    RowProblem,
    _csv_text,
    _parse_membership_row,
    _parse_network_row,
    normalise,
)

log = logging.getLogger(__name__)


class ImportService(NetworkService):
    """Bulk CSV in and out."""

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
        raise InvalidInput(N_(
            "I can't tell what this file holds. Networks need the columns `slug,name,…` and memberships "
            "`city,country_iso2,network_slug,…` (see `/network export` for the exact format)."))

    @staticmethod
    def _rows(
        data: bytes | str, required: Sequence[str], known: Sequence[str]
    ) -> list[tuple[int, dict[str, str]]]:
        text = _csv_text(data)
        reader = csv.DictReader(io.StringIO(text))
        try:  # reading the header row parses CSV too (a lone "\r" in it is a csv.Error)
            header = [h.strip() for h in (reader.fieldnames or [])]
        except csv.Error as exc:
            raise InvalidInput(Msg("The file is not valid CSV in its header row: {error}.",
                                   error=str(exc))) from exc
        missing = [c for c in required if c not in header]
        if missing:
            raise InvalidInput(Msg("The header row lacks the column(s) {missing}. Expected: {known}.",
                                   missing=", ".join(missing), known=", ".join(known)))
        unknown = [c for c in header if c and c not in known]
        if unknown:
            raise InvalidInput(Msg("Unknown column(s) {unknown}. Allowed: {known}.",
                                   unknown=", ".join(unknown[:5]), known=", ".join(known)))
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
                    raise InvalidInput(Msg("Too many rows: at most {n} per file.", n=IMPORT_MAX_ROWS))
        except csv.Error as exc:
            raise InvalidInput(Msg("The file is not valid CSV near line {line}: {error}.",
                                   line=reader.line_num, error=str(exc))) from exc
        if not out:
            raise InvalidInput(N_("The file has a header but no rows."))
        return out

    async def import_networks(
        self, data: bytes | str, *, guild_id: int | None, actor_id: int | None
    ) -> ImportResult:
        """Validate every row; write all or nothing. guild_id None = global (CLI)."""
        rows = self._rows(data, NETWORK_REQUIRED, NETWORK_COLUMNS)
        errors: list[RowError] = []
        clean_rows: list[tuple[dict[str, Any], int | None]] = []
        seen: set[str] = set()
        gid = guild_id if guild_id is not None else -1
        for line, row in rows:
            try:
                c = _parse_network_row(row)
            except RowProblem as exc:
                errors.append(RowError(line, exc.msg))
                continue
            if c["slug"] in seen:
                errors.append(RowError(line, Msg("slug `{slug}` appears twice in the file", slug=c["slug"])))
                continue
            seen.add(c["slug"])
            if guild_id is not None and await self.db.fetchval(
                    "SELECT 1 FROM networks WHERE slug = ? AND guild_id IS NULL", (c["slug"],)):
                errors.append(RowError(line, Msg("slug `{slug}` is a shared seed network; use another slug",
                                                 slug=c["slug"])))
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
                        "UPDATE networks SET name = ?, acronym = ?, founded_year = ?, hq_city = ?, "
                        "hq_country = ?, hq_city_id = ?, focus = ?, scope = ?, website = ?, member_count = "
                        "?, member_count_year = ?, source = ?, notes = ?, updated_ms = ? WHERE id = ?",
                        (
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
                            to_ms(self.clock()),
                            existing,
                        ),
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
            except RowProblem as exc:
                errors.append(RowError(line, exc.msg))
                continue
            net = index.get(m["network_slug"])
            if net is None:
                errors.append(RowError(line, Msg("unknown network_slug “{slug}”",
                                                 slug=md_line(m["network_slug"], 60))))
                continue
            city_id: int | None = None
            if m["member_kind"] == "city":
                try:
                    city = await self.resolve_city(f"{m['city']}, {m['country']}", guild_id=guild_id)
                except NotFound:
                    errors.append(RowError(line, Msg(
                        "city “{city}” is not in the directory (a moderator can add it with `/city add`)",
                        city=md_line(m["city"], 60))))
                    continue
                except InvalidInput:
                    errors.append(RowError(line, Msg("city “{city}” could be several cities in {country}",
                                                     city=md_line(m["city"], 60),
                                                     country=md_line(m["country"], 10))))
                    continue
                if city.country != m["country"]:
                    errors.append(RowError(line, Msg("city {city} is not in {country}",
                                                     city=md_line(m["city"], 60),
                                                     country=md_line(m["country"], 10))))
                    continue
                city_id = city.id
            k = (net.id, city_id if city_id is not None else normalise(m["city"]), m["country"])
            if k in seen:
                errors.append(RowError(line, Msg("the same city and network appear twice in the file")))
                continue
            seen.add(k)
            clean_rows.append((m, net.id, city_id))
        if errors:
            raise ImportRejected(errors, len(rows))
        created = updated = 0
        now = to_ms(self.clock())
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
                    if (
                        existing is None
                        and city_id is not None
                        and await self.db.fetchval(
                            "SELECT 1 FROM memberships WHERE guild_id "
                            "IS NULL AND network_id = ? AND city_id = ?",
                            (net_id, city_id),
                        )
                    ):
                        continue  # already in the shared seed
                if existing:
                    await self.db.execute(
                        "UPDATE memberships SET category = ?, joined_year = ?, left_year = ?, status = ?, "
                        "source = ?, as_of = ?, notes = ? WHERE id = ?",
                        (
                            m["category"],
                            m["joined_year"],
                            m["left_year"],
                            m["status"],
                            m["source"],
                            m["as_of"],
                            m["notes"],
                            existing,
                        ),
                    )
                    updated += 1
                else:
                    await self.db.execute(
                        "INSERT INTO memberships (guild_id, seed_key, network_id, city_id, member_name, "
                        "country, member_kind, category, joined_year, left_year, status, source, as_of, "
                        "notes, origin, created_by, created_ms) VALUES (?, "
                        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            guild_id,
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
                            "guild" if guild_id is not None else "seed",
                            actor_id,
                            now,
                        ),
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


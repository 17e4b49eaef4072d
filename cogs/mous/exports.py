"""MOU export: one record per agreement, as CSV (bot.export's writer) or JSON; the upload (gzipped above the
limit) is bot.export.pack. No discord import."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from bot.errors import InvalidInput
from bot.export import NameLookup, id_text, write_csv, write_json
from bot.i18n import N_
from cogs.mous.records import (
    AGREEMENT_COLUMNS,
    MouParts,
    _agreement,
    _milestone,
    _party,
)

log = logging.getLogger(__name__)


class ExportsMixin(MouParts):
    """The tracker's export."""

    # -- export ------------------------------------------------------------------------------
    async def export_records(self, guild_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT * FROM mou_agreements WHERE guild_id = ? ORDER BY id", (guild_id,)
        )
        parties = await self.db.fetchall(
            "SELECT * FROM mou_parties WHERE guild_id = ? ORDER BY agreement_id, position", (guild_id,)
        )
        owners = await self.db.fetchall("SELECT agreement_id, user_id FROM mou_owners WHERE guild_id = ? "
                                        "ORDER BY agreement_id, added_ms", (guild_id,))
        mss = await self.db.fetchall(
            "SELECT * FROM mou_milestones WHERE guild_id = ? ORDER BY agreement_id, due_on, id", (guild_id,)
        )
        by: dict[int, dict[str, list[Any]]] = {}
        for p in parties:
            pp = _party(p)
            by.setdefault(p["agreement_id"], {}).setdefault("parties", []).append(
                {"city": pp.city_name, "country": pp.country, "city_id": pp.city_id, "ours": pp.is_ours,
                 "esign": pp.esign_status})
        for o in owners:
            by.setdefault(o["agreement_id"], {}).setdefault("owners", []).append(o["user_id"])
        for m in mss:
            mm = _milestone(m)
            by.setdefault(m["agreement_id"], {}).setdefault("milestones", []).append(
                {"id": mm.id, "date": mm.due_on.isoformat(), "description": mm.description, "done": mm.done,
                 "done_by": mm.done_by})
        out = []
        for r in rows:
            a = _agreement(r)
            d = asdict(a)
            for k, v in list(d.items()):
                if isinstance(v, date | datetime):
                    d[k] = v.isoformat()
                elif isinstance(v, tuple):
                    d[k] = list(v)
            extra = by.get(a.id, {})
            d["parties"] = extra.get("parties", [])
            d["owners"] = extra.get("owners", [])
            d["milestones"] = extra.get("milestones", [])
            out.append(d)
        return out

    async def export(self, guild_id: int, fmt: str, names: NameLookup | None = None) -> tuple[str, bytes]:
        """(file name, bytes) of every agreement of the guild (the upload, gzipped when large, is
        bot.export.pack).

        CSV through the shared writer (bot.export); `names` looks up the display names of the owners
        and of whoever marked milestones done (ids are written as text beside them)."""
        records = await self.export_records(guild_id)
        wanted = {int(o) for d in records for o in d["owners"]}
        wanted |= {int(m["done_by"]) for d in records for m in d["milestones"] if m["done_by"]}
        known = await names(wanted) if names is not None and wanted else {}
        if fmt == "json":
            for d in records:
                d["guild_id"] = id_text(d["guild_id"])
                d["created_by"] = id_text(d["created_by"]) if d["created_by"] else None
                d["owner_names"] = [known.get(int(o)) for o in d["owners"]]
                d["owners"] = [id_text(o) for o in d["owners"]]
                for m in d["milestones"]:
                    m["done_by"] = id_text(m["done_by"]) if m["done_by"] else None
            data = write_json(records)
            name = "agreements.json"
        elif fmt == "csv":
            rows = [
                {
                    **{
                        k: d[k]
                        for k in (
                            "id",
                            "kind",
                            "title",
                            "status",
                            "signed_on",
                            "effective_on",
                            "expires_on",
                            "notice_days",
                            "notice_on",
                            "term",
                            "signature_mode",
                            "focus_areas",
                            "last_activity_on",
                            "summary",
                        )
                    },
                    "parties": "; ".join(
                        (f"{p['city']}, {p['country']}" if p["country"] else p["city"])
                        + (" (ours)" if p["ours"] else "")
                        for p in d["parties"]
                    ),
                    "auto_renew": int(d["auto_renew"]),
                    "owner_ids": d["owners"],
                    "links": " ".join(d["links"]),
                    "open_milestones": sum(1 for m in d["milestones"] if not m["done"]),
                    "milestones": "; ".join(
                        f"{m['date']} {'[done] ' if m['done'] else ''}{m['description']}"
                        for m in d["milestones"]
                    ),
                }
                for d in records
            ]
            data = write_csv(AGREEMENT_COLUMNS, rows, names=known)
            name = "agreements.csv"
        else:
            raise InvalidInput(N_("Export format is `csv` or `json`."))
        return name, data


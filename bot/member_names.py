"""Display names of members for exports, looked up without the privileged Server Members intent."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import discord

from bot.export import NameLookup

log = logging.getLogger(__name__)

QUERY_BATCH = 100  # Discord's limit of user_ids per Request Guild Members (op 8)
MAX_LOOKUPS = 1000  # at most 10 gateway requests per export; the rest stay "unknown member"



async def member_names(guild: discord.Guild, ids: Iterable[int]) -> dict[int, str]:
    """{user id: display name} for the members among `ids` who are still in the guild.

    The cache first, then Request Guild Members by user id (allowed without the members intent), at
    most MAX_LOOKUPS ids. Members who left are simply absent (the export writes "unknown member")."""
    wanted = sorted(set(ids))
    names: dict[int, str] = {}
    missing: list[int] = []
    for uid in wanted:
        m = guild.get_member(uid)
        if m is not None:
            names[uid] = m.display_name
        else:
            missing.append(uid)
    for start in range(0, min(len(missing), MAX_LOOKUPS), QUERY_BATCH):
        batch = missing[start:start + QUERY_BATCH]
        try:
            found = await guild.query_members(user_ids=batch, limit=len(batch), cache=False)
        except (TimeoutError, discord.ClientException, discord.HTTPException) as exc:
            log.warning("member names for an export of guild %s: %s", guild.id, exc)
            break
        for m in found:
            names[m.id] = m.display_name
    return names


def lookup_for(guild: discord.Guild | None) -> NameLookup:
    """A name lookup bound to a guild (an empty one outside a guild)."""
    async def lookup(ids: Iterable[int]) -> dict[int, str]:
        return await member_names(guild, ids) if guild is not None else {}
    return lookup

"""Agreement owners: adding (with the new owner's notice as a scheduler job), leaving, removing. No
discord import."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.clock import to_ms
from bot.errors import InvalidInput, Mention, NotFound, PermissionDenied
from bot.i18n import N_, Msg
from cogs.mous.records import (
    MAX_OWNERS,
    OWNER_NOTICE_KIND,
    Actor,
    Agreement,
    MouParts,
)

log = logging.getLogger(__name__)


class OwnersMixin(MouParts):
    """Who owns (may edit, is reminded about) an agreement."""

    async def add_owner(
        self, guild_id: int, actor: Actor, agreement_id: int, user_id: int
    ) -> tuple[int, ...]:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        owners = await self.owners(guild_id, agreement_id)
        if user_id in owners:
            raise InvalidInput(Msg(N_("{member} already owns agreement #{id}."), id=agreement_id),
                               member=Mention(user_id))
        if len(owners) >= MAX_OWNERS:
            raise InvalidInput(Msg(N_("An agreement can have at most {max} owners."), max=MAX_OWNERS))
        async with self.db.transaction():
            now = self.now()
            await self.db.execute(
                "INSERT INTO mou_owners (guild_id, agreement_id, "
                "user_id, added_ms, added_by) VALUES (?, ?, ?, ?, ?)",
                (guild_id, agreement_id, user_id, to_ms(now), actor.id),
            )
            await self._audit(guild_id, actor.id, "mou.owner.add", agreement_id, {"owner": user_id})
            await self._notify_new_owner(guild_id, agreement_id, user_id, actor.id, now)
        return await self.owners(guild_id, agreement_id)

    async def _notify_new_owner(self, guild_id: int, agreement_id: int, user_id: int, actor_id: int,
                                now: datetime) -> None:
        """Tell a member someone else made them an owner: a DM job, in the transaction of the write (so it
        survives a crash right after the commit; its nonce keeps it to one DM)."""
        if user_id == actor_id:
            return
        await self.scheduler.schedule(
            OWNER_NOTICE_KIND, now, guild_id=guild_id,
            dedupe_key=f"mou:{agreement_id}:owner:{user_id}:{to_ms(now)}",
            payload={"agreement_id": agreement_id, "user": user_id, "by": actor_id})

    async def owner_notice(self, guild_id: int, payload: dict[str, Any]) -> tuple[Agreement, int, int] | Msg:
        """(agreement, new owner, who added them) for an owner notice job, or why it no longer matters."""
        aid, uid = int(payload.get("agreement_id", 0)), int(payload.get("user", 0))
        try:
            a = await self.get(guild_id, aid)
        except NotFound:
            return Msg(N_("agreement #{id} is gone"), id=aid)
        if uid not in await self.owners(guild_id, aid):
            return Msg(N_("no longer an owner"))
        if not await self.dm_ok(guild_id, uid):
            return Msg(N_("the owner's profile declines DMs"))
        return a, uid, int(payload.get("by", 0))

    async def leave_as_owner(self, guild_id: int, agreement_id: int, user_id: int) -> Agreement:
        """The "Remove me as owner" button: only an owner of this agreement of this server may use it, for
        themselves. Unlike `/mou owner remove` it may leave the agreement without an owner (a moderator then
        adds one): nobody has to stay responsible for what someone else gave them."""
        async with self.db.transaction():
            a = await self.get(guild_id, agreement_id)
            n = await self.db.execute(
                "DELETE FROM mou_owners WHERE guild_id = ? AND agreement_id = ? AND user_id = ?",
                (guild_id, agreement_id, user_id))
            if not n:
                raise PermissionDenied(Msg(
                    N_("You are not an owner of agreement #{id}, so there is nothing to remove you from."),
                    id=agreement_id,
                ))
            await self._audit(guild_id, user_id, "mou.owner.leave", agreement_id, {"owner": user_id})
        return a

    async def remove_owner(
        self, guild_id: int, actor: Actor, agreement_id: int, user_id: int
    ) -> tuple[int, ...]:
        await self.get(guild_id, agreement_id)
        await self.ensure_can_edit(guild_id, agreement_id, actor)
        owners = await self.owners(guild_id, agreement_id)
        if user_id not in owners:
            raise InvalidInput(Msg(N_("{member} is not an owner of agreement #{id}."), id=agreement_id),
                               member=Mention(user_id))
        if len(owners) == 1:
            raise InvalidInput(N_("An agreement needs at least one owner: add the new owner first."))
        async with self.db.transaction():
            await self.db.execute(
                "DELETE FROM mou_owners WHERE guild_id = ? AND agreement_id = ? AND user_id = ?",
                (guild_id, agreement_id, user_id),
            )
            await self._audit(guild_id, actor.id, "mou.owner.remove", agreement_id, {"owner": user_id})
        return await self.owners(guild_id, agreement_id)


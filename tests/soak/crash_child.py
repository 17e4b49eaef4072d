"""Child process for tests/test_crash_atomicity.py: approve practices and press RSVP buttons on the
database file as fast as it can, until the parent SIGKILLs it.

    python -m tests.soak.crash_child DB GUILD_ID ROUNDTABLE_ID MODERATOR_ID USER_ID[,USER_ID...] SEED
"""

from __future__ import annotations

import asyncio
import random
import sys

from bot.db import Database
from bot.errors import UserFacingError
from cogs.practices.service import PracticeService
from cogs.roundtables.service import RoundtableService


async def main(path: str, guild_id: int, rt_id: int, mod_id: int, users: list[int], seed: int) -> None:
    rng = random.Random(seed)
    db = Database(path)
    await db.connect()
    practices = PracticeService(db)
    roundtables = RoundtableService(db)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True:
        pid = await db.fetchval(
            "SELECT id FROM practices WHERE guild_id = ? AND status = 'pending' ORDER BY id LIMIT 1",
            (guild_id,),
        )
        if pid is not None:
            await practices.decide(guild_id, pid, actor_id=mod_id, action="approve")
        try:
            await roundtables.rsvp(
                guild_id, rt_id, rng.choice(users), rng.choice(("going", "going", "maybe", "declined"))
            )
        except UserFacingError:
            pass


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], int(a[1]), int(a[2]), int(a[3]), [int(u) for u in a[4].split(",")], int(a[5])))

"""Child process for tests/test_backup_live.py: submit practices (one transaction each, through the
service) as fast as it can and log each committed id with the time the commit returned.

    python -m tests.soak.writer_child DB GUILD_ID LOG_FILE
"""

from __future__ import annotations

import asyncio
import sys
import time

from bot.db import Database
from cogs.practices.service import Draft, Meta, PracticeService


async def main(path: str, guild_id: int, log_file: str) -> None:
    db = Database(path)
    await db.connect()
    svc = PracticeService(db)
    with open(log_file, "a", encoding="utf-8") as log:  # noqa: ASYNC230 - a child process, nothing else runs
        i = 0
        while True:
            i += 1
            p = await svc.submit(
                guild_id, 42, Draft(f"Live practice {i}", "Written while a backup runs.", "x " * 1500),
                Meta(city_name="Porto", topics=("culture",)),
            )
            # the id is committed before this line is written: a reader trusting the log never over-claims
            log.write(f"{p.id} {time.time():.6f}\n")
            log.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))

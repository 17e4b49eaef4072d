"""Combined deliveries: many due items (reminders) to one destination in as few messages as fit.

A channel can take about five posts every five seconds, so a day's reminders for one channel (all due at
the server's reminder hour) go out combined. This module holds the two parts that are not Discord
rendering:

* `pack` (pure): greedy packing of rendered item texts into messages within Discord's limits (up to 10
  embeds, 4,096 characters per embed description, 6,000 characters of embed text per message) and at
  most `owners_max` distinct members to ping per message (Discord's `allowed_mentions.users` takes 100,
  and the pings must fit the 2,000-character content). The order of the items is kept, so the same
  items pack the same way on every attempt.
* `Deliveries`: the durable record of which item went to which destination (table `job_sends`, keyed
  by the item's `Job.nonce_for(destination)`), written right after each message is accepted.

How a combined send stays exactly once (with the scheduler's batch kinds, bot/scheduler.py):
* a message fails part-way through a batch (HTTP error): the messages before it are recorded, the batch
  is retried, and the retry sends only what is not recorded (nothing twice, nothing lost);
* the process dies between a send and its record: at start-up the jobs run again, the recorded items
  are left out, and the rest packs into the same messages as before (same items, same order), so the
  message that was sent but not recorded goes out with the same nonce and Discord drops it
  (`enforce_nonce`, a few minutes' window). The nonce of a message is derived from its items' nonces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock, system_clock, to_ms
from bot.db import Database

BLOCK_MAX = 4000  # one embed description (Discord: 4,096)
BLOCKS_MAX = 10  # embeds per message
TOTAL_MAX = 5600  # embed text per message (Discord: 6,000), leaving room for a title and a footer
OWNERS_MAX = 80  # members pinged by one message: 80 mentions fit the content with a header line
SEP = "\n\n"
KEEP = timedelta(days=7)  # how long a send is remembered (the scheduler skips what is a day late)


@dataclass(frozen=True, slots=True)
class Pack:
    """One message: the indices of its items, its embed descriptions, and the members its items name."""

    indices: tuple[int, ...]
    blocks: tuple[str, ...]
    owners: tuple[int, ...]


def pack(texts: Sequence[str], owners: Sequence[Sequence[int]] | None = None, *,
         block_max: int = BLOCK_MAX, blocks_max: int = BLOCKS_MAX, total_max: int = TOTAL_MAX,
         owners_max: int = OWNERS_MAX) -> list[Pack]:
    """Pack item texts (each at most `block_max` characters) into as few messages as fit, in order."""
    out: list[Pack] = []
    idx: list[int] = []
    blocks: list[str] = []
    who: dict[int, None] = {}
    total = 0

    def flush() -> None:
        nonlocal idx, blocks, who, total
        if idx:
            out.append(Pack(tuple(idx), tuple(blocks), tuple(who)))
        idx, blocks, who, total = [], [], {}, 0

    for i, text in enumerate(texts):
        text = text[:block_max]
        mine = list(dict.fromkeys(owners[i])) if owners is not None else []
        join = bool(blocks) and len(blocks[-1]) + len(SEP) + len(text) <= block_max
        grow = len(text) + (len(SEP) if join else 0)
        if idx:
            count = len(who) + sum(1 for o in mine if o not in who)
            if count > owners_max or total + grow > total_max or (not join and len(blocks) >= blocks_max):
                flush()
                join, grow = False, len(text)
        if join:
            blocks[-1] = blocks[-1] + SEP + text
        else:
            blocks.append(text)
        total += grow
        idx.append(i)
        for o in mine:
            who.setdefault(o, None)
    flush()
    return out


def message_nonce(destination: str, item_nonces: Iterable[str]) -> str:
    """The nonce of a combined message (<= 25 characters): the same items to the same destination give
    the same nonce."""
    raw = destination + "|" + ",".join(item_nonces)
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()[:25]


class Deliveries:
    """Which item went to which destination (`job_sends`), one guild at a time."""

    def __init__(self, db: Database, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def sent(self, guild_id: int, nonces: Sequence[str]) -> set[str]:
        """The item nonces among `nonces` already delivered."""
        found: set[str] = set()
        for start in range(0, len(nonces), 500):
            chunk = list(nonces[start:start + 500])
            rows = await self.db.fetchall(
                "SELECT nonce FROM job_sends WHERE guild_id = ? AND nonce IN "
                f"({', '.join('?' * len(chunk))})", (guild_id, *chunk))
            found.update(str(r[0]) for r in rows)
        return found

    async def record(self, guild_id: int, nonces: Sequence[str], *, at: datetime | None = None) -> None:
        """Record item nonces as delivered (call right after the message that carried them)."""
        ms = to_ms(at or self.clock())
        await self.db.executemany(
            "INSERT INTO job_sends (nonce, guild_id, sent_ms) VALUES (?, ?, ?) "
            "ON CONFLICT (nonce) DO NOTHING",
            [(n, guild_id, ms) for n in nonces])

    async def prune(self, guild_id: int, *, keep: timedelta = KEEP) -> int:
        """Forget sends older than `keep` (their jobs are long finished)."""
        return await self.db.execute(
            "DELETE FROM job_sends WHERE guild_id = ? AND sent_ms < ?",
            (guild_id, to_ms(self.clock() - keep)))

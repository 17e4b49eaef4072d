"""The floor of bench/startup.py: the least a discord.py bot process does to serve one command here.

It imports discord.py, opens the same SQLite database and reads one row, logs in and connects to the
same (fake) gateway, and answers `/ping`: no feature, no scheduler, no migrations. Started like the bot
(`DISCORD_TOKEN`, ATTACHE_DISCORD_API_BASE / ATTACHE_DISCORD_GATEWAY on loopback).

    python bench/_floor_bot.py DATABASE_PATH
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import discord
from discord import app_commands

from bot.__main__ import _point_at_test_discord


async def main(db_path: str) -> None:
    _point_at_test_discord()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.execute("SELECT value FROM meta LIMIT 1").fetchall()
    client = discord.Client(intents=discord.Intents.none(), max_messages=None, chunk_guilds_at_startup=False)
    tree = app_commands.CommandTree(client)

    @tree.command(name="ping", description="ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()
    loop.add_signal_handler(signal.SIGTERM, lambda: closing.add(loop.create_task(client.close())))
    async with client:
        await client.start(os.environ["DISCORD_TOKEN"])
    conn.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

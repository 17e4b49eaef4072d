"""The real `attache run` process against the fake Discord: start, answer, stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.sandbox.emulation import FakeDiscord
from tests.e2e import populate

ROOT = Path(__file__).resolve().parent.parent


async def test_attache_run_process_end_to_end(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    parts = populate(fake_discord)
    cfg = tmp_path / "config.toml"
    cfg.write_text('database_path = "bot.db"\nlog_level = "INFO"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(
        DISCORD_TOKEN="fake-token",
        ATTACHE_DISCORD_API_BASE=fake_discord.api_base,
        ATTACHE_DISCORD_GATEWAY=fake_discord.gateway_url,
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(cfg), "run",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake_discord.wait_ready(timeout=30)
        await fake_discord.wait_commands_synced(timeout=30)
        res = await fake_discord.invoke(parts["guild"], parts["alice"], "help", timeout=15)
        assert res.ephemeral and res.embeds
        # a second process on the same database refuses at once
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(cfg), "run",
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 3 and b"Another Attach" in err
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
    assert b"fake-token" not in out  # the token is never logged
    fake_discord.assert_clean()

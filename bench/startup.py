"""Start-up benchmark (issue 16): from process start to "serving", and the bot process's peak memory.

The bot runs as deployed (`python -m bot run`, its own process) against the fake Discord in this process,
on a database with 100,000 practices, 10,000 roundtables with 200,000 RSVPs, 20,000 agreements with
100,000 milestones and the gazetteer, all in one server (the seeding code of bench/practices.py,
bench/roundtables.py and bench/mous.py). "Serving" is reached when the bot has processed READY and
every GUILD_CREATE (the fake knows from the heartbeat sequence), every cog is loaded (setup_hook runs
before the gateway connects) and the first command, `/practice search`, has been answered.

Figures (each the median of `--runs` restarts; each restart starts from a fresh copy of the cached database,
so every run sees the same unchanged data, as after a plain restart):
  * serving_s:  process start → first command answered;
  * rss_mb:     the bot process's peak resident memory (VmHWM), read once start-up work that goes on in the
                background after serving (MOU re-planning, the search vocabulary) has settled;
  * floor:      the same measures for bench/_floor_bot.py: a discord.py process that opens the same
                database, connects to the same gateway and answers `/ping`, with no feature: what any start
                of a discord.py bot costs on this machine.

The seeded database is cached under /tmp (attache-bench-startup-<schema>.db, about a minute to build);
`--fresh` rebuilds it. The first (unmeasured) run syncs the commands with the fake and seeds the
gazetteer into the copy that later runs start from.

    python bench/startup.py            # 3 measured runs; ends with RESULT {json}
    python bench/startup.py --runs 5 --fresh
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import mous as mous_bench  # noqa: E402
from bench import practices as practices_bench  # noqa: E402
from bench import roundtables as roundtables_bench  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.sandbox.emulation import FakeDiscord, Guild  # noqa: E402

GUILD = practices_bench.GUILD  # the generated practices belong to this server
PRACTICES = 100_000
ROUNDTABLES, RSVPS = 10_000, 200_000
AGREEMENTS, MILESTONES = 20_000, 100_000
SCHEMA = "v1-" + practices_bench.SCHEMA_VERSION  # bump when a migration changes what is seeded
TARGET_SERVING_S, TARGET_RSS_MB = 2.0, 120.0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def vm_hwm_mb(pid: int) -> float:
    """Peak resident set size of a process (Linux /proc), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settle(pid: int, *, quiet_s: float = 1.0, limit_s: float = 60.0) -> float:
    """Wait until the process has used almost no CPU for `quiet_s` (background start-up work done)."""
    t0 = time.perf_counter()
    last = cpu_s(pid)
    while time.perf_counter() - t0 < limit_s:
        await asyncio.sleep(quiet_s)
        now = cpu_s(pid)
        if now - last < 0.05 * quiet_s:
            break
        last = now
    return time.perf_counter() - t0


async def build(path: Path) -> None:
    """100k practices (bench/practices.py), 10k roundtables + 200k RSVPs (bench/roundtables.py), 20k
    agreements + 100k milestones (bench/mous.py), all in server GUILD."""
    t = time.perf_counter()
    await practices_bench.build(path, PRACTICES)  # creates and migrates the database
    db = Database(path)
    await db.connect()
    hosts = list(range(20_000_000, 20_000_400))
    await roundtables_bench.seed(db, GUILD, hosts, ROUNDTABLES, RSVPS)
    await db.close()
    mous_bench.generate(path, GUILD, hosts[:3], AGREEMENTS, MILESTONES)
    print(f"  built the start-up database in {time.perf_counter() - t:.1f}s -> {path}")


async def ensure_db(fresh: bool) -> Path:
    path = Path(f"/tmp/attache-bench-startup-{SCHEMA}.db")
    if fresh or not path.exists():  # noqa: ASYNC240 - a benchmark, nothing else runs
        practices_bench._remove(path)
        await build(path)
    return path


class BotProcess:
    """`python -m bot run` against the fake, as deployed (config file, DISCORD_TOKEN, the two test-only
    loopback overrides)."""

    def __init__(self, fake: FakeDiscord, workdir: Path, db_path: Path, *, extra_config: str = "",
                 sync: bool = False, floor: bool = False) -> None:
        self.fake, self.workdir, self.db_path = fake, workdir, db_path
        self.extra_config, self.sync, self.floor = extra_config, sync, floor
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0.0

    async def start(self) -> None:
        cfg = self.workdir / "config.toml"
        cfg.write_text(f'database_path = "{self.db_path}"\nlog_level = "WARNING"\n{self.extra_config}',
                       encoding="utf-8")
        # As deployed: bytecode is cached (an installed package has its .pyc files), so a start does not
        # recompile every module.
        env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "PYTHONDONTWRITEBYTECODE")}
        env.update(DISCORD_TOKEN="bench-token", ATTACHE_DISCORD_API_BASE=self.fake.api_base,
                   ATTACHE_DISCORD_GATEWAY=self.fake.gateway_url, PYTHONPATH=str(ROOT))
        args = [sys.executable, "-m", "bot", "--config", str(cfg), "run"] + (["--sync"] if self.sync else [])
        if self.floor:
            args = [sys.executable, str(ROOT / "bench" / "_floor_bot.py"), str(self.db_path)]
        self.started = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *args, cwd=self.workdir, env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def wait_ready(self, limit_s: float = 300) -> float:
        assert self.proc is not None
        waiter = asyncio.ensure_future(self.fake.wait_ready(timeout=limit_s))
        died = asyncio.ensure_future(self.proc.wait())
        done, _ = await asyncio.wait({waiter, died}, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            err = await self.proc.stderr.read() if self.proc.stderr else b""
            tail = err.decode(errors="replace")[-2000:]
            raise RuntimeError(f"the bot exited ({self.proc.returncode}): {tail}")
        died.cancel()
        waiter.result()
        return time.perf_counter() - self.started

    async def stop(self) -> str:
        if self.proc is None:
            return ""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.proc.communicate(), 120)
        text = err.decode(errors="replace")
        if self.proc.returncode not in (0, None):
            print(f"  the bot exited with {self.proc.returncode}: {text[-1500:]}")
        return text


async def one_run(fake: FakeDiscord, guild: Guild, member: Any, cached: Path, tmp: Path, *,
                  sync: bool = False, floor: bool = False) -> dict[str, float]:
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=tmp))
    db_copy = run_dir / "attache.db"
    shutil.copyfile(cached, db_copy)
    bot = BotProcess(fake, run_dir, db_copy, sync=sync, floor=floor)
    try:
        await bot.start()
        ready_s = await bot.wait_ready()
        if floor:
            res = await fake.invoke(guild, member, "ping")
        else:
            res = await fake.invoke(guild, member, "practice search", options={"query": "climate"})
        assert res.callback is not None, res
        serving_s = time.perf_counter() - bot.started
        rss_serving = vm_hwm_mb(bot.pid)
        settle_s = await settle(bot.pid)
        rss = vm_hwm_mb(bot.pid)
    finally:
        await bot.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    return {"ready_s": ready_s, "serving_s": serving_s, "rss_serving_mb": rss_serving, "rss_mb": rss,
            "settle_s": settle_s}


def floor_commands(fake: FakeDiscord) -> None:
    """The floor bot's one command (see bench/_floor_bot.py), registered with the fake directly."""
    fake.global_commands.append({
        "id": str(fake.ids.next()), "application_id": str(fake.application_id), "name": "ping",
        "description": "ping", "type": 1, "options": [], "version": "1",
        "default_member_permissions": None, "contexts": None, "integration_types": [0], "nsfw": False,
    })


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached database")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    cached = await ensure_db(args.fresh)
    size_mb = practices_bench._size_mb(cached)
    print(f"start-up: {PRACTICES:,} practices, {ROUNDTABLES:,} roundtables / {RSVPS:,} RSVPs, "
          f"{AGREEMENTS:,} agreements / {MILESTONES:,} milestones, the gazetteer; database {size_mb:.0f} MB; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="attache-bench-startup-") as tmp_s:
        tmp = Path(tmp_s)
        async with FakeDiscord(default_timeout=300) as fake:
            guild = fake.add_guild(GUILD, name="Bench", channels=("general", "announcements"))
            members = iter([guild.add_member(name=f"m{i}") for i in range(4 * args.runs + 4)])
            # Unmeasured first start: syncs the commands with this fake, seeds the gazetteer, plans the jobs.
            # Its database becomes the start point of every measured run (unchanged data, a plain restart).
            warm_dir = tmp / "warm"
            warm_dir.mkdir()
            shutil.copyfile(cached, warm_dir / "attache.db")
            warm = BotProcess(fake, warm_dir, warm_dir / "attache.db", sync=True)
            t = time.perf_counter()
            await warm.start()
            await warm.wait_ready()
            await fake.wait_commands_synced(timeout=120)
            await settle(warm.pid)
            await warm.stop()
            print(f"  first start (gazetteer seeded, jobs planned, commands synced): "
                  f"{time.perf_counter() - t:.1f}s")
            start_db = warm_dir / "attache.db"
            runs = [await one_run(fake, guild, next(members), start_db, tmp) for _ in range(args.runs)]
            floor_commands(fake)
            floors = [await one_run(fake, guild, next(members), start_db, tmp, floor=True)
                      for _ in range(args.runs)]
            fake.assert_clean()
    print(f"{'':<8} {'ready':>8} {'serving':>9} {'RSS at serving':>15} {'peak RSS':>9} {'settled after':>14}")
    for name, rows in (("bot", runs), ("floor", floors)):
        for r in rows:
            print(f"{name:<8} {r['ready_s']:>7.2f}s {r['serving_s']:>8.2f}s {r['rss_serving_mb']:>12.0f} MB "
                  f"{r['rss_mb']:>6.0f} MB {r['settle_s']:>12.1f}s")
    serving = statistics.median(r["serving_s"] for r in runs)
    rss = max(r["rss_mb"] for r in runs)
    floor_serving = statistics.median(r["serving_s"] for r in floors)
    floor_rss = max(r["rss_mb"] for r in floors)
    ok_serving = "OK" if serving <= TARGET_SERVING_S else "MISSED"
    ok_rss = "OK" if rss <= TARGET_RSS_MB else "MISSED"
    print(f"serving {serving:.2f}s (target <= {TARGET_SERVING_S}s: {ok_serving}), peak RSS {rss:.0f} MB "
          f"(target <= {TARGET_RSS_MB:.0f} MB: {ok_rss}); floor {floor_serving:.2f}s, {floor_rss:.0f} MB")
    print("RESULT " + json.dumps({
        "serving_s": round(serving, 3), "rss_mb": round(rss, 1),
        "floor_serving_s": round(floor_serving, 3), "floor_rss_mb": round(floor_rss, 1),
        "runs": args.runs, "practices": PRACTICES, "roundtables": ROUNDTABLES, "rsvps": RSVPS,
        "agreements": AGREEMENTS, "milestones": MILESTONES,
    }))


if __name__ == "__main__":
    asyncio.run(main())

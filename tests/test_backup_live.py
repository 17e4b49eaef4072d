"""`attache db backup` while another process writes continuously (one transaction per practice
submitted, through the service): every backup finishes, passes `attache db check` when used as the
database, and holds every row whose commit returned before the backup started. The backups go to file
names SQLite would parse as URI syntax (`#`, `?`, `%`, spaces, non-ASCII, a folder that does not exist yet).

The database is grown past 1,024 pages first: a stepwise backup (the old `pages=1024`) restarted on
every commit by the writer and never finished.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

from bot.db import Database, sqlite_uri
from cogs.practices.service import Draft, Meta, PracticeService

ROOT = Path(__file__).resolve().parent.parent
GUILD = 2002
BACKUPS = 4


def _committed_before(log: Path, t: float) -> set[int]:
    out = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, ts = line.split()
        if float(ts) < t:
            out.add(int(pid))
    return out


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def _cli(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_backup_while_writing_holds_every_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "attache.db"
    db = Database(path)
    await db.connect()
    await db.migrate()
    svc = PracticeService(db)
    async with db.transaction():
        for i in range(700):
            await svc.submit(
                GUILD,
                41,
                Draft(f"Seed practice {i}", "Before the backups.", "y " * 1900, "z " * 700, "w " * 700),
                Meta(city_name="Lyon", topics=("climate",)),
            )
    pages = await db.fetchval("PRAGMA page_count")
    await db.close()
    assert pages > 1024
    (tmp_path / "config.toml").write_text('database_path = "attache.db"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ATTACHE_CONFIG", None)
    log = tmp_path / "committed.log"
    log.touch()
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.soak.writer_child",
        str(path),
        str(GUILD),
        str(log),
        cwd=tmp_path,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    results = []
    try:
        while not log.read_text(encoding="utf-8"):
            assert writer.returncode is None, await writer.stderr.read() if writer.stderr else b""
            await asyncio.sleep(0.05)
        for k in range(BACKUPS):
            await asyncio.sleep(0.3)
            name = f"backups #{k}?/sauvegarde été%20 #{k}.db"
            target = tmp_path / name
            started = time.time()
            committed = _committed_before(log, started)
            t0 = time.monotonic()
            rc, out = await _cli(env, tmp_path, "db", "backup", name)
            took = time.monotonic() - t0
            assert rc == 0, out
            assert "integrity ok" in out, out
            # restore = use the backup as the database: `attache db check` on it
            cfg = tmp_path / f"restore-{k}.toml"
            cfg.write_text(f'database_path = "{name}"\n', encoding="utf-8")
            rc, out = await _cli(env, tmp_path, "--config", str(cfg), "db", "check")
            assert rc == 0 and "integrity: ok" in out, out
            rc, out = await _cli(env, tmp_path, "db", "check", name)
            assert rc == 0 and "integrity: ok" in out, out
            assert _names(target.parent) == [target.name]  # one self-contained file, no -wal/-shm
            conn = sqlite3.connect(sqlite_uri(target, mode="ro"), uri=True)
            try:
                ids = {r[0] for r in conn.execute("SELECT id FROM practices WHERE guild_id = ?", (GUILD,))}
                audits = {
                    int(r[0])
                    for r in conn.execute(
                        "SELECT entity_id FROM audit WHERE guild_id = ? AND action = 'practice.submit'",
                        (GUILD,),
                    )
                }
                revs = {r[0] for r in conn.execute(
                    "SELECT practice_id FROM practice_revisions WHERE guild_id = ?", (GUILD,))}
            finally:
                conn.close()
            missing = committed - ids
            assert not missing, f"backup {k} lacks committed practices {sorted(missing)[:10]}"
            assert set(range(1, 701)) <= ids
            assert ids == audits == revs  # whole transactions only
            results.append((len(committed), len(ids), took))
        assert writer.returncode is None  # still writing all along
        strays = [
            n
            for n in _names(tmp_path)
            if not n.startswith(("attache.db", "backups #", "restore-", "committed.log", "config.toml"))
        ]
        assert strays == [], strays
    finally:
        if writer.returncode is None:
            writer.send_signal(signal.SIGKILL)
        await writer.wait()
    total = len(log.read_text(encoding="utf-8").splitlines())
    print(f"\nlive backup: {BACKUPS} backups while {total} practices were written; "  # noqa: T201 - the counts go into docs/reliability.md
          + "; ".join(f"#{k}: {c} committed before start, {n - 700} in backup, {t:.1f} s"
                      for k, (c, n, t) in enumerate(results)))
